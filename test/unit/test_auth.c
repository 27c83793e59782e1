/* test_auth.c - src/auth.c and src/acl.c: password-file loading and its file:line errors, the
 * CONNECT decision table (allow_anonymous x password file x identity), acl_file parsing and a
 * table of ACL decisions. Files are written to a temp directory; errors are read from the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "auth.h"
#include "log.h"
#include "mqtt_protocol.h"
#include "unit.h"

#define DEBIAN_PW VECTOR_DIR "/passwd/debian-2.0.11.pw"

static char tmpdir[64];
static char last_error[2048];

/* Keeps the first error since last_error was cleared: the cause, not the "Error opening" after. */
static void capture(unsigned type, const char *line)
{
    if ((type & LOG_T_ERR) && last_error[0] == '\0')
        snprintf(last_error, sizeof(last_error), "%s", line);
}

/* Routes the log to capture() only, so expected errors do not clutter the test output. */
static int log_to_capture(void)
{
    struct conf c;

    memset(&c, 0, sizeof(c));
    c.log_dest = LOG_D_TOPIC;
    c.log_type = LOG_T_ALL;
    c.log_facility = -1;
    log_topic_hook = capture;
    return log_open(&c);
}

/* Writes text to tmpdir/name; returns the path (static buffer, valid until the next call). */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static struct auth *load(const char *pwfile, const char *aclfile)
{
    struct security_conf sec;

    memset(&sec, 0, sizeof(sec));
    sec.allow_anonymous = -1;
    sec.password_file = (char *)pwfile;
    sec.acl_file = (char *)aclfile;
    last_error[0] = '\0';
    return auth_load(&sec);
}

/* ---- password file ----------------------------------------------------------------------- */

static void test_pwfile_debian_loads(void)
{
    struct auth *a = load(DEBIAN_PW, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "alice", "secret", false), 0);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "bob", "pw2", false), 0);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "carol", "colon:and space", false), 0);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "erin", "another-sha512", false), 0);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "alice", "pw2", false), RC_NOT_AUTHORIZED);
    auth_free(a);
}

static void test_pwfile_comments_blank_crlf_duplicates(void)
{
    const char *pw = "# a comment\n"
                     "\n"
                     "   \n"
                     "  # indented comment\n"
                     "old:$6$PrZeZXskLRZHevTG$mIK6JoAmmvilPGclNTtFHB9Ydgg2vvj04pXHtMZSQ4oVG5ltWedCo"
                     "2fgDx/zX0awK7Clf8BesEfXfsLKgQWzrg==\r\n"
                     "old:$6$UVpCINFLDqmuRtqz$EiWNNPNJcz0L5yWRaTGVk3haHsz7ybGXC6A338NRgXd0VteVPnoFm"
                     "qAme8IwEKe+p6qYrIYbX0APZSBmFpCC3w==  \n";
    struct auth *a = load(write_file("ok.pw", pw), NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* The same user twice: the later line wins (bob's hash first, erin's second). */
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "old", "another-sha512", false), 0);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "old", "pw2", false), RC_NOT_AUTHORIZED);
    CU_ASSERT_EQUAL(last_error[0], '\0');
    auth_free(a);
}

/* 2.1.2's wording (recorded in test/differential/scenarios/acl.json, the acl/password
 * scenarios): the plugin's prefix, the quoted file, no line number. */
static const struct {
    const char *text;
    const char *words; /* expected in the message */
} pw_errors[] = {
    { "# c\n\nbob:$5$x$y\n", "Unable to decode line in password file" },
    { "ok:$6$PrZeZXskLRZHevTG$mIK6JoAmmvilPGclNTtFHB9Ydgg2vvj04pXHtMZSQ4oVG5ltWedCo2fgDx/zX0awK7Cl"
      "f8BesEfXfsLKgQWzrg==\nplain:text\n", "Unable to decode line in password file" },
    { ":$6$PrZeZXskLRZHevTG$mIK6JoAmmvilPGclNTtFHB9Ydgg2vvj04pXHtMZSQ4oVG5ltWedCo2fgDx/zX0awK7Cl"
      "f8BesEfXfsLKgQWzrg==\n", "Invalid line in password file" },
    { "\n\n\nu:\n", "Unable to decode line" },
    { "u:$7$0$c2FsdA==$aGFzaA==\n", "Unable to decode line" },
};

static void test_pwfile_errors_name_file_and_line(void)
{
    for (size_t i = 0; i < sizeof(pw_errors) / sizeof(pw_errors[0]); i++) {
        char where[300];
        const char *path = write_file("bad.pw", pw_errors[i].text);
        struct auth *a;

        snprintf(where, sizeof(where), "'%s'", path);
        last_error[0] = '\0';
        a = load(path, NULL);
        CU_ASSERT_PTR_NULL(a);
        auth_free(a);
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, "password-file: Error: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, where));
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, pw_errors[i].words));
        CU_ASSERT_EQUAL(auth_load_exit_code(), 3);
    }
}

static void test_pwfile_missing(void)
{
    char path[256];
    struct auth *a;

    snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
    last_error[0] = '\0';
    a = load(path, NULL);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_error, "password-file: Error: Unable to open pwfile"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_error, path));
    CU_ASSERT_EQUAL(auth_load_exit_code(), 13);
}

/* A line without a colon names nobody: both references skip it and start (config.json,
 * config/password-file-invalid-line), and nobody can log in with it. */
static void test_pwfile_line_without_colon_is_skipped(void)
{
    const char *pw = "justaname\n"
                     "old:$6$UVpCINFLDqmuRtqz$EiWNNPNJcz0L5yWRaTGVk3haHsz7ybGXC6A338NRgXd0VteVPnoFm"
                     "qAme8IwEKe+p6qYrIYbX0APZSBmFpCC3w==\n";
    struct auth *a;

    last_error[0] = '\0';
    a = load(write_file("nocolon.pw", pw), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(last_error[0], '\0');
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "justaname", "", false), RC_NOT_AUTHORIZED);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "justaname", "justaname", false),
                    RC_NOT_AUTHORIZED);
    CU_ASSERT_EQUAL(auth_check_connect(a, false, "old", "another-sha512", false), 0);
    auth_free(a);
}

/* ---- CONNECT decisions ------------------------------------------------------------------- */

enum { NO_PWFILE, PWFILE };
/* Mosquitto 2 refuses a wrong password like an anonymous client: "not authorised". */
#define BAD RC_NOT_AUTHORIZED
#define NOT_AUTH RC_NOT_AUTHORIZED

static const struct {
    int pwfile;
    bool anon;
    const char *user, *pass;
    bool identity;
    int rc;
} connect_table[] = {
    /* nobody says who they are */
    { NO_PWFILE, true, NULL, NULL, false, 0 },
    { NO_PWFILE, false, NULL, NULL, false, NOT_AUTH },
    { PWFILE, true, NULL, NULL, false, 0 },
    { PWFILE, false, NULL, NULL, false, NOT_AUTH },
    { PWFILE, false, NULL, "secret", false, NOT_AUTH },
    /* a username without a password file is anonymous (Mosquitto 2) */
    { NO_PWFILE, true, "alice", "anything", false, 0 },
    { NO_PWFILE, false, "alice", "secret", false, NOT_AUTH },
    { NO_PWFILE, false, "alice", NULL, false, NOT_AUTH },
    /* password file */
    { PWFILE, false, "alice", "secret", false, 0 },
    { PWFILE, true, "alice", "secret", false, 0 },
    { PWFILE, false, "alice", "wrong", false, BAD },
    { PWFILE, true, "alice", "wrong", false, BAD },       /* anonymous allowed, but not this */
    { PWFILE, false, "alice", NULL, false, BAD },
    { PWFILE, false, "alice", "", false, BAD },
    { PWFILE, false, "mallory", "secret", false, BAD },
    { PWFILE, true, "mallory", "secret", false, BAD },
    { PWFILE, false, "Alice", "secret", false, BAD },     /* usernames are case-sensitive */
    { PWFILE, false, "bob", "pw2", false, 0 },            /* $6$ */
    /* identity from a verified certificate: no password needed or checked */
    { PWFILE, false, "alice", NULL, true, 0 },
    { PWFILE, false, "alice", "wrong", true, 0 },
    { PWFILE, false, "cert-only", NULL, true, 0 },
    { NO_PWFILE, false, "cert-only", NULL, true, 0 },
    { NO_PWFILE, false, NULL, NULL, true, NOT_AUTH },     /* identity without a name */
};

static void test_connect_table(void)
{
    struct auth *with = load(DEBIAN_PW, NULL), *without = load(NULL, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(with);
    CU_ASSERT_PTR_NOT_NULL_FATAL(without);
    for (size_t i = 0; i < sizeof(connect_table) / sizeof(connect_table[0]); i++) {
        const struct auth *a = connect_table[i].pwfile == PWFILE ? with : without;
        int rc = auth_check_connect(a, connect_table[i].anon, connect_table[i].user,
                                    connect_table[i].pass, connect_table[i].identity);

        if (rc != connect_table[i].rc)
            fprintf(stderr, "\nconnect row %zu: got %#x, want %#x\n", i, (unsigned)rc,
                    (unsigned)connect_table[i].rc);
        CU_ASSERT_EQUAL(rc, connect_table[i].rc);
    }
    auth_free(with);
    auth_free(without);
}

static void test_load_nothing(void)
{
    struct auth *a = load(NULL, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(auth_check_acl(a, "c", NULL, "any/topic", ACL_WRITE));
    CU_ASSERT_TRUE(auth_check_acl(a, "c", "u", "#", ACL_SUBSCRIBE));
    CU_ASSERT_TRUE(auth_check_acl(a, "c", "u", "$SYS/x", ACL_READ));
    auth_free(a);
    CU_ASSERT_TRUE(auth_check_acl(NULL, "c", "u", "x", ACL_READ));
    auth_free(NULL);
}

/* ---- ACL --------------------------------------------------------------------------------- */

static const char acl_text[] =
    "# anonymous clients\n"
    "topic read public/#\n"
    "topic write anon/in\n"
    "topic deny public/secret\n"
    "\n"
    "user alice\n"
    "topic readwrite alice/#\n"
    "topic read sensors/#\n"
    "topic deny sensors/secret/#\n"
    "topic read $SYS/#\n"
    "\n"
    "user bob\n"
    "topic write sensors/+/temp\n"
    "topic read foo bar\n"
    "\n"
    "user dave\n"
    "topic #\n"
    "\n"
    "user erin\n"
    "topic read +/status\n"
    "\n"
    "user alice\n"
    "topic write shared/alice\n"
    "\n"
    "pattern readwrite clients/%c/#\n"
    "pattern read users/%u/inbox\n"
    "pattern deny clients/%c/locked\n"
    "pattern write $SYS/broker/connection/%c/state\n"
    "pattern read lit/x%c\n";

#define R ACL_READ
#define W ACL_WRITE
#define S ACL_SUBSCRIBE

static const struct {
    const char *clientid, *user, *topic;
    int access;
    bool allowed;
} acl_table[] = {
    /* anonymous section */
    { "c1", NULL, "public/news", R, true },
    { "c1", NULL, "public/news", W, false },
    { "c1", NULL, "public/secret", R, false },           /* deny beats public/# */
    { "c1", NULL, "anon/in", W, true },
    { "c1", NULL, "anon/in", R, false },
    { "c1", NULL, "public/#", S, true },
    { "c1", NULL, "public/+/x", S, true },
    { "c1", NULL, "#", S, true },                       /* may deliver public/... */
    { "c1", NULL, "private/#", S, false },              /* could never deliver anything */
    { "c1", NULL, "+/news", S, true },
    { "c1", NULL, "public", S, true },                  /* "public/#" matches "public" */
    { "c1", NULL, "public/secret/#", S, true },         /* deny covers only public/secret */
    { "c1", NULL, "public/secret", S, false },
    { "c1", NULL, "anon/in", S, false },                 /* write does not allow subscribe */
    /* user sections */
    { "c1", "alice", "public/news", R, false },          /* anonymous rules are not hers */
    { "c1", "alice", "alice/x/y", W, true },
    { "c1", "alice", "alice", R, true },                 /* "alice/#" covers its parent */
    { "c1", "alice", "alicex", R, false },
    { "c1", "alice", "sensors/a/temp", R, true },
    { "c1", "alice", "sensors/a/temp", W, false },
    { "c1", "alice", "sensors/secret/x", R, false },
    { "c1", "alice", "sensors/+/temp", S, true },
    { "c1", "alice", "sensors/#", S, true },             /* delivery checks still deny secret */
    { "c1", "alice", "sensors/secret/+", S, false },
    { "c1", "alice", "sensors/secret/#", S, false },
    { "c1", "alice", "sensors/secret", S, false },       /* "x/#" also denies "x" */
    { "c1", "alice", "alice/x", R | W, true },
    { "c1", "alice", "sensors/a/temp", R | W, false },
    { "c1", "alice", "shared/alice", W, true },          /* second "user alice" section */
    { "c1", "bob", "sensors/x/temp", W, true },
    { "c1", "bob", "sensors/x/temp", R, false },
    { "c1", "bob", "sensors/x/temp", S, false },
    { "c1", "bob", "sensors/x/y/temp", W, false },
    { "c1", "bob", "foo bar", R, true },                 /* topic with a space */
    { "c1", "bob", "foo", R, false },
    { "c1", "nosection", "public/news", R, false },
    { "c1", "dave", "any/thing", R, true },
    { "c1", "dave", "#", S, true },
    { "c1", "erin", "x/status", R, true },
    { "c1", "erin", "x/y/status", R, false },
    { "c1", "erin", "+/status", S, true },
    { "c1", "erin", "#", S, true },
    { "c1", "erin", "x/y", S, false },
    /* $SYS needs explicit rules */
    { "c1", "dave", "$SYS/broker/load", R, false },      /* "#" does not reach $SYS */
    { "c1", "dave", "$SYS/#", S, false },
    { "c1", "erin", "$SYS/status", R, false },           /* nor does "+" */
    { "c1", "alice", "$SYS/broker/load", R, true },
    { "c1", "alice", "$SYS/#", S, true },
    { "c1", "alice", "$SYS/broker/load", W, false },
    { "c1", NULL, "$SYS/broker/load", R, false },
    /* patterns: %c and %u, for every client */
    { "c1", "carol", "clients/c1/a", W, true },
    { "c1", "carol", "clients/c1", R, true },
    { "c2", "carol", "clients/c1/a", W, false },
    { "c1", NULL, "clients/c1/x", R, true },             /* patterns apply to anonymous too */
    { "c1", "alice", "clients/c1/x", W, true },          /* and to users with a section */
    { "c1", "carol", "users/carol/inbox", R, true },
    { "c1", "carol", "users/dave/inbox", R, false },
    { "c1", NULL, "users/carol/inbox", R, false },       /* %u without a username */
    { "c1", "carol", "users/carol/inbox", W, false },
    { "c1", "carol", "clients/c1/locked", R, false },    /* pattern deny */
    { "c1", "carol", "clients/c1/locked", S, false },
    { "c1", "carol", "clients/c1/#", S, true },
    { "c1", "carol", "clients/+/#", S, true },          /* overlaps clients/c1/... */
    { "c1", "carol", "clients/#", S, true },
    { "c1", "carol", "clients/c2/#", S, false },
    { "c1", NULL, "$SYS/broker/connection/c1/state", W, true },
    { "c2", NULL, "$SYS/broker/connection/c1/state", W, false },
    { "c1", "carol", "lit/xc1", R, false },              /* %c must be a whole level */
    { "c1", "carol", "lit/x%c", R, true },
    /* a client id or username must not widen a pattern */
    { "+", "carol", "clients/+/x", S, false },
    { "+", "carol", "clients/+/x", R, false },
    { "#", NULL, "clients/#", S, false },
    { "a/b", "carol", "clients/a/b/x", W, false },
    { "c1", "+", "users/+/inbox", S, false },
    { "c1", "a/b", "users/a/b/inbox", R, false },
    { "c1", "", "users//inbox", R, false },
    { "", "carol", "clients//x", R, false },
    /* shared subscriptions are judged on their filter */
    { "c1", "carol", "$share/g/clients/c1/x", S, true },
    { "c1", "carol", "$share/g/clients/c2/x", S, false },
    { "c1", "dave", "$share/g/#", S, true },
    { "c1", "dave", "$share/g", S, false },
};

static void test_acl_table(void)
{
    struct auth *a = load(NULL, write_file("table.acl", acl_text));

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (size_t i = 0; i < sizeof(acl_table) / sizeof(acl_table[0]); i++) {
        bool got = auth_check_acl(a, acl_table[i].clientid, acl_table[i].user, acl_table[i].topic,
                                  acl_table[i].access);

        if (got != acl_table[i].allowed)
            fprintf(stderr, "\nacl row %zu (%s %s %s %d): got %d\n", i, acl_table[i].clientid,
                    acl_table[i].user ? acl_table[i].user : "(anon)", acl_table[i].topic,
                    acl_table[i].access, got);
        CU_ASSERT_EQUAL(got, acl_table[i].allowed);
    }
    auth_free(a);
}

static void test_acl_empty_file_denies_all(void)
{
    struct auth *a = load(NULL, write_file("empty.acl", "# nothing\n\n"));

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(auth_check_acl(a, "c", NULL, "a", ACL_READ));
    CU_ASSERT_FALSE(auth_check_acl(a, "c", "u", "a", ACL_WRITE));
    CU_ASSERT_FALSE(auth_check_acl(a, "c", "u", "a", ACL_SUBSCRIBE));
    auth_free(a);
}

static void test_acl_lenient_syntax(void)
{
    /* leading blanks, CRLF, extra blanks, a lone word that looks like an access type */
    const char *text = "   topic   read   a/b  \r\n"
                       "topic read\r\n"
                       "\tuser  x y\n"
                       "topic deny   z\n"
                       "topic z/#\n";
    struct auth *a = load(NULL, write_file("lenient.acl", text));

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(last_error[0], '\0');
    CU_ASSERT_TRUE(auth_check_acl(a, "c", NULL, "a/b", ACL_READ));
    CU_ASSERT_FALSE(auth_check_acl(a, "c", NULL, "a/b", ACL_WRITE));
    CU_ASSERT_TRUE(auth_check_acl(a, "c", NULL, "read", ACL_WRITE)); /* topic "read" */
    CU_ASSERT_TRUE(auth_check_acl(a, "c", "x y", "z/q", ACL_WRITE));
    CU_ASSERT_FALSE(auth_check_acl(a, "c", "x y", "z", ACL_READ));
    CU_ASSERT_FALSE(auth_check_acl(a, "c", "x", "z/q", ACL_READ));
    auth_free(a);
}

/* 2.1.2's wording: the quoted file, no line number (as config/acl-file-* record). */
static const struct {
    const char *text;
    const char *words;
} acl_errors[] = {
    { "topic\n", "Empty topic" },
    { "# c\n\npattern   \n", "Empty topic" },
    { "topic foo bar\n", "Invalid topic access type \"foo\"" },
    { "topic read a\nfrob x\n", "Invalid line" },
    { "user\n", "Missing username" },
    { "user   \n", "Missing username" },
    { "topic read a/#/b\n", "Invalid ACL topic" },
    { "topic read a+\n", "Invalid ACL topic" },
    { "pattern write x#\n", "Invalid ACL topic" },
    { "Topic read a\n", "Invalid line" },             /* keywords are case-sensitive */
};

static void test_acl_errors_name_file_and_line(void)
{
    for (size_t i = 0; i < sizeof(acl_errors) / sizeof(acl_errors[0]); i++) {
        char where[300];
        const char *path = write_file("bad.acl", acl_errors[i].text);
        struct auth *a;

        snprintf(where, sizeof(where), "acl_file \"%s\"", path);
        last_error[0] = '\0';
        a = load(NULL, path);
        CU_ASSERT_PTR_NULL(a);
        auth_free(a);
        if (strstr(last_error, where) == NULL || strstr(last_error, acl_errors[i].words) == NULL)
            fprintf(stderr, "\nacl error row %zu: got \"%s\"\n", i, last_error);
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, "Error: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, where));
        CU_ASSERT_PTR_NOT_NULL(strstr(last_error, acl_errors[i].words));
        CU_ASSERT_EQUAL(auth_load_exit_code(), 3);
    }
}

static void test_acl_missing_and_pwfile_error_fails_whole_load(void)
{
    char path[256];
    struct auth *a;

    snprintf(path, sizeof(path), "%s/no.acl", tmpdir);
    last_error[0] = '\0';
    a = load(NULL, path);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_error, "Unable to open acl_file"));
    CU_ASSERT_EQUAL(auth_load_exit_code(), 13);
    /* a good ACL does not rescue a bad password file, nor the other way round */
    /* write_file() returns one static buffer: one call per statement */
    snprintf(path, sizeof(path), "%s", write_file("bad2.pw", ":nouser\n"));
    a = load(path, write_file("good.acl", "topic a\n"));
    CU_ASSERT_PTR_NULL(a);
    a = load(DEBIAN_PW, write_file("bad2.acl", "topic foo bar\n"));
    CU_ASSERT_PTR_NULL(a);
}

static void test_reload_is_a_new_object(void)
{
    const char *path = write_file("reload.acl", "topic read a\n");
    struct auth *first = load(NULL, path), *second;

    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    path = write_file("reload.acl", "topic read b\n");
    second = load(NULL, path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    /* the old one keeps answering as loaded until the caller swaps and frees it */
    CU_ASSERT_TRUE(auth_check_acl(first, "c", NULL, "a", ACL_READ));
    CU_ASSERT_FALSE(auth_check_acl(first, "c", NULL, "b", ACL_READ));
    CU_ASSERT_TRUE(auth_check_acl(second, "c", NULL, "b", ACL_READ));
    CU_ASSERT_FALSE(auth_check_acl(second, "c", NULL, "a", ACL_READ));
    auth_free(first);
    auth_free(second);
}

static int suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_auth.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    return log_to_capture() == 0 ? 0 : -1;
}

static void suite_cleanup(void)
{
    static const char *names[] = { "ok.pw", "bad.pw", "bad2.pw", "table.acl", "empty.acl",
                                   "lenient.acl", "bad.acl", "good.acl", "bad2.acl",
                                   "reload.acl", NULL };
    char path[256];

    for (size_t i = 0; names[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    log_close();
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "password file from debian loads", test_pwfile_debian_loads },
        { "password file comments, blanks, CRLF, duplicates",
          test_pwfile_comments_blank_crlf_duplicates },
        { "password file errors name file:line", test_pwfile_errors_name_file_and_line },
        { "password file missing", test_pwfile_missing },
        { "password file line without colon skipped", test_pwfile_line_without_colon_is_skipped },
        { "connect decision table", test_connect_table },
        { "nothing configured allows everything", test_load_nothing },
        { "acl decision table", test_acl_table },
        { "acl empty file denies all", test_acl_empty_file_denies_all },
        { "acl lenient syntax", test_acl_lenient_syntax },
        { "acl errors name file:line", test_acl_errors_name_file_and_line },
        { "acl/password load errors fail the load",
          test_acl_missing_and_pwfile_error_fails_whole_load },
        { "reload builds a new object", test_reload_is_a_new_object },
        { NULL, NULL },
    };

    if (suite_init() != 0) {
        fprintf(stderr, "test_auth: cannot set up %s\n", tmpdir);
        exit(2);
    }
    atexit(suite_cleanup);
    unit_suite("auth", tests);
}
