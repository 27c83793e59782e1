/* passwd.c - mosquitto_passwd: adds, updates, deletes and converts users in a Mosquitto password
 * file. Hashing is lib/password.c; this file is the command line, the prompt and a safe rewrite
 * of the file (temp file + rename, comments and blank lines kept). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"
#include "password_valid.h"

#define HASH_MAX 256

struct opts {
    bool create, delete, batch, upgrade;
    enum pw_type type;
    int iterations;
    const char *file, *user, *password;
};

/* The file as lines without their '\n'. */
struct lines {
    char **v;
    size_t n, cap;
};

static void usage(void)
{
    printf("mosquitto_passwd manages the password files of the mosquitto MQTT broker.\n"
           "\n"
           "Usage: mosquitto_passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c | -D] "
           "passwordfile username\n"
           "       mosquitto_passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c] -b "
           "passwordfile username password\n"
           "       mosquitto_passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] -U "
           "passwordfile\n"
           " -b : batch mode: the password is the last argument (it shows in ps and in your\n"
           "      shell history).\n"
           " -c : create the password file, replacing any existing one. '-' writes to stdout.\n"
           " -D : delete username from the file.\n"
           " -H : hash to use: sha512-pbkdf2 (the default) or sha512 (readable by\n"
           "      Mosquitto 1.6 and older).\n"
           " -I : PBKDF2 iterations for sha512-pbkdf2 (default %d).\n"
           " -U : hash every plain-text password in passwordfile (lines already hashed are\n"
           "      left alone).\n",
           PW_DEFAULT_ITERATIONS);
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Appends s (takes ownership). Returns -1 (and frees s) when out of memory. */
static int lines_push(struct lines *l, char *s)
{
    if (s == NULL)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            free(s);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static int lines_read(const char *path, struct lines *l)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "Error: Unable to open password file %s. %s.\n", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) != -1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lines_push(l, strdup(line)) != 0) {
            fprintf(stderr, "Error: Out of memory.\n");
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "Error: Unable to read password file %s. %s.\n", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static bool line_is_entry(const char *s)
{
    s += strspn(s, " \t");
    return *s != '\0' && *s != '#';
}

/* Length of the username of an entry line, or -1 if the line has no ':'. */
static long entry_user_len(const char *s)
{
    const char *c = strchr(s, ':');

    return c != NULL ? (long)(c - s) : -1;
}

static bool entry_is_user(const char *s, const char *user)
{
    long n = entry_user_len(s);

    return n >= 0 && (size_t)n == strlen(user) && memcmp(s, user, (size_t)n) == 0;
}

/* Every entry line must be "user:something", else the file is not one we should rewrite. */
static int lines_check(const struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (line_is_entry(l->v[i]) && entry_user_len(l->v[i]) < 0) {
            fprintf(stderr, "Error: Corrupt password file at line %zu.\n", i + 1);
            return -1;
        }
    }
    return 0;
}

/* Writes l to path through a temp file in the same directory and rename(), so a crash or a full
 * disk never leaves a half-written password file. Keeps an existing file's mode and owner. New
 * files get 0666 less the umask, as Mosquitto's tool does: a broker started as root reads the
 * file after dropping to its own user, so a root-only file would lock everyone out. Run with
 * umask 077 (or chmod afterwards) for a private file. */
static int lines_write(const char *path, const struct lines *l)
{
    char *real = realpath(path, NULL), *tmp = NULL;
    const char *target = real != NULL ? real : path; /* write through a symlink, not over it */
    struct stat st;
    bool exists = stat(target, &st) == 0;
    mode_t mask = umask(0);
    FILE *f = NULL;
    int fd = -1, rc = -1;

    umask(mask);

    if (asprintf(&tmp, "%s.tmpXXXXXX", target) == -1) {
        tmp = NULL;
        fprintf(stderr, "Error: Out of memory.\n");
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd == -1) {
        fprintf(stderr, "Error: Unable to open file %s for writing. %s.\n", path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, exists ? (st.st_mode & 07777) : (0666 & ~mask)) == -1 ||
        (f = fdopen(fd, "w")) == NULL)
        goto write_fail;
    fd = -1;
    if (exists && fchown(fileno(f), st.st_uid, st.st_gid) == -1) {
        /* Not ours to give away (not root): the file becomes ours, as any editor would do. */
    }
    for (size_t i = 0; i < l->n; i++) {
        if (fputs(l->v[i], f) == EOF || fputc('\n', f) == EOF)
            goto write_fail;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) == -1)
        goto write_fail;
    if (fclose(f) != 0) {
        f = NULL;
        goto write_fail;
    }
    f = NULL;
    if (rename(tmp, target) == -1)
        goto write_fail;
    rc = 0;
    goto out;
write_fail:
    fprintf(stderr, "Error: Unable to write password file %s. %s.\n", path, strerror(errno));
    unlink(tmp);
out:
    if (f != NULL)
        fclose(f);
    if (fd != -1)
        close(fd);
    free(tmp);
    free(real);
    return rc;
}

/* Reads one line from stdin with echo off when it is a terminal. NULL on end of input. */
static char *prompt_line(const char *prompt)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    /* Echo goes off before the prompt shows, and nothing typed is flushed: whatever arrives
     * after the prompt is the answer, however fast it is typed (or pasted, or scripted). */
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    printf("%s", prompt);
    fflush(stdout);
    n = getline(&line, &cap, stdin);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
    else
        printf("\n");
    if (n == -1) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static void secret_free(char *s)
{
    if (s != NULL) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* The new password, from -b or typed twice. Returns 0, or the exit code. */
static int get_password(const struct opts *o, char **out)
{
    char *a, *b;

    if (o->batch) {
        *out = strdup(o->password);
        return *out != NULL ? 0 : 1;
    }
    a = prompt_line("Password: ");
    if (a == NULL || a[0] == '\0') {
        fprintf(stderr, "Error: Empty password.\n");
        secret_free(a);
        return 1;
    }
    b = prompt_line("Reenter password: ");
    if (b == NULL || strcmp(a, b) != 0) {
        fprintf(stderr, "Error: Passwords do not match.\n");
        secret_free(a);
        secret_free(b);
        return 2; /* as Debian's mosquitto_passwd 2.0 does */
    }
    secret_free(b);
    *out = a;
    return 0;
}

/* "user:hash" for password, malloc'd. */
static char *make_entry(const struct opts *o, const char *user, const char *password)
{
    char hash[HASH_MAX], *entry = NULL;

    if (!pw_hash(o->type, o->iterations, password, hash, sizeof(hash))) {
        fprintf(stderr, "Error: Unable to hash password.\n");
        return NULL;
    }
    if (asprintf(&entry, "%s:%s", user, hash) == -1) {
        fprintf(stderr, "Error: Out of memory.\n");
        return NULL;
    }
    return entry;
}

static int cmd_upgrade(const struct opts *o)
{
    struct lines l = { 0 };
    int rc = 1;

    if (lines_read(o->file, &l) != 0 || lines_check(&l) != 0)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        char *s = l.v[i], *colon = strchr(s, ':'), *entry;
        size_t len = strlen(s);

        /* Re-hashing a hash would lock that user out, so hashed lines stay as they are. */
        if (!line_is_entry(s) || pw_hash_valid(colon + 1))
            continue;
        *colon = '\0';
        entry = make_entry(o, s, colon + 1);
        if (entry == NULL)
            goto out;
        memset(s, 0, len); /* the plain-text password */
        free(s);
        l.v[i] = entry;
    }
    rc = lines_write(o->file, &l) == 0 ? 0 : 1;
out:
    lines_free(&l);
    return rc;
}

static int cmd_delete(const struct opts *o)
{
    struct lines l = { 0 };
    size_t kept = 0;
    int rc = 1;

    if (lines_read(o->file, &l) != 0 || lines_check(&l) != 0)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (line_is_entry(l.v[i]) && entry_is_user(l.v[i], o->user))
            free(l.v[i]);
        else
            l.v[kept++] = l.v[i];
    }
    if (kept == l.n) {
        fprintf(stderr, "Warning: User %s not found in password file.\n", o->user);
        goto out;
    }
    l.n = kept;
    rc = lines_write(o->file, &l) == 0 ? 0 : 1;
out:
    lines_free(&l);
    return rc;
}

static int write_stdout(const struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        printf("%s\n", l->v[i]);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Adds or updates o->user; with -c the file holds only that user afterwards. */
static int cmd_set(const struct opts *o)
{
    struct lines l = { 0 };
    char *password = NULL, *entry = NULL;
    bool replaced = false;
    int rc;

    /* Read the existing file first, so a bad file fails before the user types anything. */
    if (!o->create && (lines_read(o->file, &l) != 0 || lines_check(&l) != 0)) {
        rc = 1;
        goto out;
    }
    rc = get_password(o, &password);
    if (rc != 0)
        goto out;
    rc = 1;
    entry = make_entry(o, o->user, password);
    if (entry == NULL)
        goto out;
    for (size_t i = 0; i < l.n && !replaced; i++) {
        if (line_is_entry(l.v[i]) && entry_is_user(l.v[i], o->user)) {
            free(l.v[i]);
            l.v[i] = entry;
            replaced = true;
        }
    }
    if (!replaced) {
        int pushed = lines_push(&l, entry); /* takes entry, even on failure */

        if (pushed != 0) {
            entry = NULL;
            fprintf(stderr, "Error: Out of memory.\n");
            goto out;
        }
    }
    entry = NULL;
    if (o->create && strcmp(o->file, "-") == 0)
        rc = write_stdout(&l);
    else
        rc = lines_write(o->file, &l) == 0 ? 0 : 1;
out:
    free(entry);
    secret_free(password);
    lines_free(&l);
    return rc;
}

/* Returns -1 to go on, or the exit code. Mirrors the order of checks of Mosquitto's tool so the
 * same mistakes get the same messages. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    int i;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-c") == 0) {
            o->create = true;
        } else if (strcmp(a, "-D") == 0) {
            o->delete = true;
        } else if (strcmp(a, "-b") == 0) {
            o->batch = true;
        } else if (strcmp(a, "-U") == 0) {
            o->upgrade = true;
        } else if (strcmp(a, "-H") == 0 || strcmp(a, "-I") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "Error: %s argument given but not enough other arguments.\n", a);
                return 1;
            }
            const char *v = argv[++i];

            if (a[1] == 'I') {
                char *end;
                long n = strtol(v, &end, 10);

                if (end == v || *end != '\0' || n <= 0 || n > INT_MAX) {
                    fprintf(stderr, "Error: Number of iterations must be > 0.\n");
                    return 1;
                }
                o->iterations = (int)n;
            } else if (strcmp(v, "sha512-pbkdf2") == 0) {
                o->type = PW_SHA512_PBKDF2;
            } else if (strcmp(v, "sha512") == 0) {
                o->type = PW_SHA512;
            } else {
                fprintf(stderr, "Error: Unknown hash type '%s'\n", v);
                return 1;
            }
        } else {
            usage();
            return 1;
        }
    }
    if (o->create && o->delete) {
        fprintf(stderr, "Error: -c and -D cannot be used together.\n");
        return 1;
    }
    if (o->create && o->upgrade) {
        fprintf(stderr, "Error: -c and -U cannot be used together.\n");
        return 1;
    }
    if (o->delete && o->batch) {
        fprintf(stderr, "Error: -b and -D cannot be used together.\n");
        return 1;
    }
    if (o->delete && o->upgrade) {
        fprintf(stderr, "Error: -D and -U cannot be used together.\n");
        return 1;
    }
    if (o->upgrade) {
        if (argc - i != 1) {
            fprintf(stderr, "Error: -U argument given but password file missing.\n");
            return 1;
        }
        o->file = argv[i];
        return -1;
    }
    if (argc - i != (o->batch ? 3 : 2)) {
        usage();
        return 1;
    }
    o->file = argv[i];
    o->user = argv[i + 1];
    o->password = o->batch ? argv[i + 2] : NULL;
    if (strchr(o->user, ':') != NULL) {
        fprintf(stderr, "Error: Username must not contain the ':' character.\n");
        return 1;
    }
    if (o->user[0] == '\0' || strpbrk(o->user, "\r\n") != NULL) {
        fprintf(stderr, "Error: Username must not be empty or contain a line break.\n");
        return 1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct opts o = { .type = PW_SHA512_PBKDF2, .iterations = PW_DEFAULT_ITERATIONS };
    int rc = parse_args(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (o.upgrade)
        return cmd_upgrade(&o);
    if (o.delete)
        return cmd_delete(&o);
    return cmd_set(&o);
}
