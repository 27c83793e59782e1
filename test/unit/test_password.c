/* test_password.c - lib/password.c: hashes written by Debian's mosquitto_passwd 2.0.11 verify
 * (test/vectors/passwd/), our own hashes have Mosquitto's shape and verify, and malformed hash
 * strings are refused. */
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "password_valid.h"
#include "unit.h"

/* The hash stored for user in a vector file (malloc'd), or NULL. */
static char *vector_hash(const char *file, const char *user)
{
    size_t len, ulen = strlen(user);
    uint8_t *raw = unit_read_vector(file, &len);
    char *text = malloc(len + 1), *line, *save = NULL, *found = NULL;

    CU_ASSERT_FATAL(text != NULL);
    memcpy(text, raw, len);
    text[len] = '\0';
    free(raw);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, user, ulen) == 0 && line[ulen] == ':') {
            found = strdup(line + ulen + 1);
            break;
        }
    }
    free(text);
    return found;
}

static const struct {
    const char *user, *password;
} debian_users[] = {
    { "alice", "secret" },
    { "bob", "pw2" },
    { "carol", "colon:and space" },
    { "dave", "gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac" },
    { "erin", "another-sha512" },
    { "frank", "x" },
    { "user.with-dots@x", "a-very-long-password-0123456789-0123456789-0123456789-0123456789-"
                          "0123456789-0123456789-0123456789-0123456789-0123456789" },
};

static void test_debian_vectors_verify(void)
{
    for (size_t i = 0; i < sizeof(debian_users) / sizeof(debian_users[0]); i++) {
        char *h = vector_hash("passwd/debian-2.0.11.pw", debian_users[i].user);

        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_TRUE(pw_hash_valid(h));
        CU_ASSERT_TRUE(pw_verify(h, debian_users[i].password));
        CU_ASSERT_FALSE(pw_verify(h, "wrong"));
        CU_ASSERT_FALSE(pw_verify(h, ""));
        free(h);
    }
}

static void test_debian_vectors_near_misses(void)
{
    char *alice = vector_hash("passwd/debian-2.0.11.pw", "alice");
    char *bob = vector_hash("passwd/debian-2.0.11.pw", "bob");

    CU_ASSERT_PTR_NOT_NULL_FATAL(alice);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bob);
    CU_ASSERT_FALSE(pw_verify(alice, "Secret"));
    CU_ASSERT_FALSE(pw_verify(alice, "secret "));
    CU_ASSERT_FALSE(pw_verify(alice, "secre"));
    CU_ASSERT_FALSE(pw_verify(bob, "pw2\n"));
    CU_ASSERT_FALSE(pw_verify(alice, "pw2"));   /* someone else's password */
    CU_ASSERT_FALSE(pw_verify(bob, "secret"));
    free(alice);
    free(bob);
}

static void test_debian_empty_password(void)
{
    char *h = vector_hash("passwd/debian-2.0.11-empty.pw", "nopass");

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_TRUE(pw_verify(h, ""));
    CU_ASSERT_FALSE(pw_verify(h, " "));
    free(h);
}

/* Counts '$'-separated fields and checks the base64 lengths Mosquitto writes: a 12-byte salt is
 * 16 characters, a 64-byte digest 88 (with "==" padding). */
static void check_shape(const char *h, const char *prefix, int fields)
{
    const char *salt, *digest;
    int dollars = 0;

    CU_ASSERT_EQUAL(strncmp(h, prefix, strlen(prefix)), 0);
    for (const char *p = h; *p; p++)
        dollars += *p == '$';
    CU_ASSERT_EQUAL(dollars, fields);
    digest = strrchr(h, '$') + 1;
    salt = digest - 2;
    while (salt > h && *salt != '$')
        salt--;
    salt++;
    CU_ASSERT_EQUAL((size_t)(digest - 1 - salt), 16u);
    CU_ASSERT_EQUAL(strlen(digest), 88u);
    CU_ASSERT_EQUAL(strcmp(digest + 86, "=="), 0);
}

static void test_hash_pbkdf2_roundtrip(void)
{
    char h[256], h2[256];

    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512_PBKDF2, PW_DEFAULT_ITERATIONS, "secret", h, sizeof(h)));
    check_shape(h, "$7$101$", 4);
    CU_ASSERT_TRUE(pw_verify(h, "secret"));
    CU_ASSERT_FALSE(pw_verify(h, "secreT"));
    /* A fresh salt every time. */
    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512_PBKDF2, PW_DEFAULT_ITERATIONS, "secret", h2,
                                 sizeof(h2)));
    CU_ASSERT_NOT_EQUAL(strcmp(h, h2), 0);
    CU_ASSERT_TRUE(pw_verify(h2, "secret"));
}

static void test_hash_pbkdf2_iterations(void)
{
    char h[256];

    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512_PBKDF2, 1000, "pw", h, sizeof(h)));
    check_shape(h, "$7$1000$", 4);
    CU_ASSERT_TRUE(pw_verify(h, "pw"));
    /* The iteration count is part of the hash: changing it breaks verification. */
    h[3] = '2';
    CU_ASSERT_TRUE(pw_hash_valid(h));
    CU_ASSERT_FALSE(pw_verify(h, "pw"));
    CU_ASSERT_FALSE(pw_hash(PW_SHA512_PBKDF2, 0, "pw", h, sizeof(h)));
    CU_ASSERT_FALSE(pw_hash(PW_SHA512_PBKDF2, -1, "pw", h, sizeof(h)));
}

static void test_hash_sha512_roundtrip(void)
{
    char h[256];

    /* iterations means nothing for $6$ */
    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512, 0, "pw2", h, sizeof(h)));
    check_shape(h, "$6$", 3);
    CU_ASSERT_TRUE(pw_verify(h, "pw2"));
    CU_ASSERT_FALSE(pw_verify(h, "pw3"));
}

static void test_hash_empty_and_binary_passwords(void)
{
    char h[256];

    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512_PBKDF2, 101, "", h, sizeof(h)));
    CU_ASSERT_TRUE(pw_verify(h, ""));
    CU_ASSERT_FALSE(pw_verify(h, "x"));
    CU_ASSERT_TRUE_FATAL(pw_hash(PW_SHA512, 0, "\xff\x01:$#", h, sizeof(h)));
    CU_ASSERT_TRUE(pw_verify(h, "\xff\x01:$#"));
}

static void test_hash_small_buffer(void)
{
    char h[256];

    /* "$7$101$" + 16 + "$" + 88 = 112 characters, plus the NUL */
    CU_ASSERT_FALSE(pw_hash(PW_SHA512_PBKDF2, 101, "pw", h, 112));
    CU_ASSERT_EQUAL(h[0], '\0');
    CU_ASSERT_TRUE(pw_hash(PW_SHA512_PBKDF2, 101, "pw", h, 113));
    CU_ASSERT_EQUAL(strlen(h), 112u);
    CU_ASSERT_FALSE(pw_hash(PW_SHA512, 0, "pw", h, 10));
    CU_ASSERT_FALSE(pw_hash((enum pw_type)5, 0, "pw", h, sizeof(h)));
    CU_ASSERT_FALSE(pw_hash(PW_SHA512, 0, NULL, h, sizeof(h)));
}

static void test_verify_malformed(void)
{
    static const char *bad[] = {
        "",
        "plain",
        "$5$c2FsdA==$aGFzaA==",
        "$6$",
        "$6$c2FsdHNhbHRzYWx0",                               /* no digest field */
        "$6$$qrstuvwxyz",                                    /* empty salt */
        "$6$c2FsdA==$aGFzaA==",                              /* digest not 64 bytes */
        "$7$$c2FsdA==$aGFzaA==",                             /* empty iterations */
        "$7$0$c2FsdA==$aGFzaA==",                            /* zero iterations */
        "$7$-5$c2FsdA==$aGFzaA==",
        "$7$99999999999$c2FsdA==$aGFzaA==",                  /* overflows int */
        "$7$10x$c2FsdA==$aGFzaA==",
        "$7$101",
        "$7$101$c2FsdA==",
        "$7$101$c2F!dA==$aGFzaA==",                          /* not base64 */
        "$7$101$c2FsdA=$aGFzaA==",                           /* bad length */
        "$7$101$c2=sdA==$aGFzaA==",                          /* padding in the middle */
        "$7$101$c2FsdA==$aGFzaA==$extra",
        "$8$101$c2FsdA==$aGFzaA==",
        NULL,
    };

    for (size_t i = 0; bad[i] != NULL; i++) {
        CU_ASSERT_FALSE(pw_hash_valid(bad[i]));
        CU_ASSERT_FALSE(pw_verify(bad[i], ""));
        CU_ASSERT_FALSE(pw_verify(bad[i], "salt"));
    }
    CU_ASSERT_FALSE(pw_hash_valid(NULL));
    CU_ASSERT_FALSE(pw_verify(NULL, "x"));
}

static void test_verify_tampered_digest(void)
{
    char *h = vector_hash("passwd/debian-2.0.11.pw", "alice");
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    n = strlen(h);
    h[n - 4] = h[n - 4] == 'A' ? 'B' : 'A';   /* one bit of the digest */
    CU_ASSERT_TRUE(pw_hash_valid(h));
    CU_ASSERT_FALSE(pw_verify(h, "secret"));
    h[n - 1] = '\0';                           /* truncated: no longer base64 */
    CU_ASSERT_FALSE(pw_hash_valid(h));
    free(h);
}

static void test_verify_null_password(void)
{
    char *h = vector_hash("passwd/debian-2.0.11.pw", "bob");

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_FALSE(pw_verify(h, NULL));
    free(h);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "debian vectors verify", test_debian_vectors_verify },
        { "debian vectors near misses", test_debian_vectors_near_misses },
        { "debian empty password", test_debian_empty_password },
        { "pbkdf2 round trip", test_hash_pbkdf2_roundtrip },
        { "pbkdf2 iterations", test_hash_pbkdf2_iterations },
        { "sha512 round trip", test_hash_sha512_roundtrip },
        { "empty and binary passwords", test_hash_empty_and_binary_passwords },
        { "output buffer too small", test_hash_small_buffer },
        { "malformed hashes", test_verify_malformed },
        { "tampered digest", test_verify_tampered_digest },
        { "null password", test_verify_null_password },
        { NULL, NULL },
    };

    unit_suite("password", tests);
}
