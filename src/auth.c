/* auth.c - who may connect: allow_anonymous, the password file (Mosquitto's "user:hash" lines)
 * and certificate identities; and the front of the ACL check (rules live in acl.c). A loaded
 * struct auth is never modified, so a reload builds a new one and swaps the pointer. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "hmap.h"
#include "log.h"
#include "mqtt_protocol.h"
#include "password.h"
#include "password_valid.h"

struct auth_user {
    char *name;                 /* owned; also the hmap key */
    char *hash;                 /* owned; checked by pw_hash_valid() at load */
};

struct auth {
    struct hmap *users;         /* username -> struct auth_user; NULL without a password file */
    struct acl *acl;            /* owned; NULL without an acl_file */
};

/* Verified against when the username is unknown, so that an unknown user costs as much time as
 * a wrong password and usernames cannot be probed by timing. */
static const char auth_dummy_hash[] =
    "$7$101$Ann/t5nJZftPc6x0$y8VJp6d4g5UQHHn0PcarzAVQ1+PqPfVuuTDHKOadChfqVa4+J4py9bUTTEKGk5pAjIERh"
    "mPXVxyLAzIAlYQirQ==";

static void users_free(struct hmap *users)
{
    size_t pos = 0;
    const char *key;
    void *value;

    if (users == NULL)
        return;
    while (hmap_next(users, &pos, &key, &value)) {
        struct auth_user *u = value;

        free(u->name);
        free(u->hash);
        free(u);
    }
    hmap_free(users);
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    users_free(a->users);
    acl_free(a->acl);
    free(a);
}

/* Adds (or, for a repeated username, replaces: the last line wins) one user. */
static int users_add(struct hmap *users, const char *name, const char *hash)
{
    struct auth_user *u = calloc(1, sizeof(*u)), *old;

    if (u == NULL || (u->name = strdup(name)) == NULL || (u->hash = strdup(hash)) == NULL)
        goto fail;
    old = hmap_get(users, name);
    if (hmap_put(users, u->name, u) != 0)
        goto fail;
    if (old != NULL) {
        free(old->name);
        free(old->hash);
        free(old);
    }
    return 0;
fail:
    if (u != NULL) {
        free(u->name);
        free(u->hash);
    }
    free(u);
    return -1;
}

/* One line without its line end. Returns 0, or -1 after logging. */
static int pwfile_line(struct hmap *users, char *line, const char *path, int lineno)
{
    char *colon, *p = line;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    (void)lineno;
    colon = strchr(line, ':');
    if (colon == NULL)
        return 0; /* both references skip it: nobody can log in with such a line */
    if (colon == line) {
        log_err("password-file: Error: Invalid line in password file '%s': %s", path, line);
        return -1;
    }
    *colon = '\0';
    if (!pw_hash_valid(colon + 1)) {
        log_err("password-file: Error: Unable to decode line in password file '%s'.", path);
        return -1;
    }
    if (users_add(users, line, colon + 1) != 0) {
        log_err("password-file: Error: Out of memory reading password file '%s'.", path);
        return -1;
    }
    return 0;
}

static int pwfile_line_cb(void *ctx, char *line, const char *path, int lineno)
{
    return pwfile_line(ctx, line, path, lineno);
}

static struct hmap *pwfile_load(const char *path)
{
    struct hmap *users = hmap_new();

    if (users == NULL) {
        log_err("Error: Out of memory reading password file \"%s\".", path);
        return NULL;
    }
    if (auth_read_lines(path, "pwfile", pwfile_line_cb, users) != 0) {
        users_free(users);
        return NULL;
    }
    return users;
}

struct auth *auth_load(const struct security_conf *sec)
{
    struct auth *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        log_err("Error: Out of memory.");
        return NULL;
    }
    if (sec == NULL)
        return a;
    if (sec->password_file != NULL && (a->users = pwfile_load(sec->password_file)) == NULL)
        goto fail;
    if (sec->acl_file != NULL && (a->acl = acl_load(sec->acl_file)) == NULL)
        goto fail;
    return a;
fail:
    auth_free(a);
    return NULL;
}

int auth_check_connect(const struct auth *a, bool allow_anonymous, const char *username,
                       const char *password, bool identity)
{
    const struct auth_user *u;

    if (username != NULL && identity)
        return 0; /* a verified certificate already said who this is */
    /* Without a password file a username proves nothing (Mosquitto 2): treat as anonymous. */
    if (username == NULL || a == NULL || a->users == NULL)
        return allow_anonymous ? 0 : RC_NOT_AUTHORIZED;
    /* A failed check is "not authorised", not "bad username or password": that is what
     * Mosquitto 2.0.11 answers (3.1.1 code 5, v5 0x87), verified against Debian's broker. */
    u = hmap_get(a->users, username);
    if (u == NULL) {
        (void)pw_verify(auth_dummy_hash, password != NULL ? password : "");
        return RC_NOT_AUTHORIZED;
    }
    if (password == NULL || !pw_verify(u->hash, password))
        return RC_NOT_AUTHORIZED;
    return 0;
}

bool auth_has_users(const struct auth *a)
{
    return a != NULL && a->users != NULL;
}

const char *auth_user_hash(const struct auth *a, const char *username)
{
    const struct auth_user *u;

    if (a == NULL || a->users == NULL || username == NULL)
        return NULL;
    u = hmap_get(a->users, username);
    return u != NULL ? u->hash : NULL;
}

bool auth_recheck(const struct auth *a, const char *username, const char *password, char **hash)
{
    const char *h = auth_user_hash(a, username);
    char *copy;

    if (h == NULL || password == NULL)
        return false;
    if (*hash != NULL && strcmp(h, *hash) == 0)
        return true;
    if (!pw_verify(h, password) || (copy = strdup(h)) == NULL)
        return false;
    free(*hash);
    *hash = copy;
    return true;
}

bool auth_check_acl(const struct auth *a, const char *clientid, const char *username,
                    const char *topic, int access)
{
    if (a == NULL || a->acl == NULL)
        return true;
    return acl_check(a->acl, clientid, username, topic, access);
}
