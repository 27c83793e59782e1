/* password.c - the hash strings of Mosquitto password files ("$7$" PBKDF2-HMAC-SHA512 and "$6$"
 * SHA-512 of password || salt), on OpenSSL. Knows nothing of files or usernames: auth.c reads
 * password files, apps/passwd writes them. */
#include "password.h"
#include "password_valid.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define PW_SALT_LEN 12        /* what Mosquitto writes */
#define PW_MAX_SALT 64        /* what we accept when reading (others' tools may differ) */
#define PW_DIGEST_LEN 64      /* SHA-512 */

struct pw_parsed {
    enum pw_type type;
    int iterations;
    uint8_t salt[PW_MAX_SALT];
    size_t salt_len;
    uint8_t digest[PW_DIGEST_LEN];
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding into out (NUL-terminated). Returns the length, or 0 if out is
 * too small. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
    size_t need = (n + 2) / 3 * 4, o = 0;

    if (need + 1 > outlen)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;

        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char c)
{
    const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

    return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Strict decoder: whole groups of four, '=' only as the last one or two characters. */
static bool b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t o = 0;

    if (n == 0 || n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;

        for (int k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64_value(in[i + k])) < 0) {
                return false;          /* bad character, or data after '=' */
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        size_t take = 3 - (size_t)pad;

        if (o + take > cap)
            return false;
        out[o++] = (uint8_t)(w >> 16);
        if (take > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (take > 2)
            out[o++] = (uint8_t)w;
    }
    *outlen = o;
    return true;
}

/* Parses "$6$salt$hash" or "$7$iter$salt$hash". Fields are split on '$'; base64 never
 * contains '$', so a stray one makes a field fail to decode. */
static bool pw_parse(const char *hash, struct pw_parsed *p)
{
    const char *s, *d;
    size_t len;

    if (hash == NULL || hash[0] != '$' || (hash[1] != '6' && hash[1] != '7') || hash[2] != '$')
        return false;
    p->type = hash[1] == '6' ? PW_SHA512 : PW_SHA512_PBKDF2;
    s = hash + 3;
    p->iterations = 0;
    if (p->type == PW_SHA512_PBKDF2) {
        long v = 0;

        if (*s < '0' || *s > '9')
            return false;
        for (; *s >= '0' && *s <= '9'; s++) {
            v = v * 10 + (*s - '0');
            if (v > INT_MAX)
                return false;
        }
        if (*s++ != '$' || v < 1)
            return false;
        p->iterations = (int)v;
    }
    d = strchr(s, '$');
    if (d == NULL || !b64_decode(s, (size_t)(d - s), p->salt, sizeof(p->salt), &p->salt_len))
        return false;
    d++;
    if (!b64_decode(d, strlen(d), p->digest, sizeof(p->digest), &len) || len != PW_DIGEST_LEN)
        return false;
    return true;
}

static bool pw_digest(enum pw_type type, int iterations, const char *password,
                      const uint8_t *salt, size_t salt_len, uint8_t out[PW_DIGEST_LEN])
{
    size_t plen = strlen(password);

    if (plen > INT_MAX)
        return false;
    if (type == PW_SHA512_PBKDF2) {
        return PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len, iterations,
                                 EVP_sha512(), PW_DIGEST_LEN, out) == 1;
    }
    if (type != PW_SHA512)
        return false;

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int outl = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, password, plen) == 1 &&
              EVP_DigestUpdate(ctx, salt, salt_len) == 1 &&
              EVP_DigestFinal_ex(ctx, out, &outl) == 1 && outl == PW_DIGEST_LEN;

    EVP_MD_CTX_free(ctx);
    return ok;
}

bool pw_hash(enum pw_type type, int iterations, const char *password, char *out, size_t outlen)
{
    uint8_t salt[PW_SALT_LEN], digest[PW_DIGEST_LEN];
    char salt64[32], digest64[96];
    int n;
    bool ok = false;

    if (password == NULL || out == NULL || (type != PW_SHA512 && type != PW_SHA512_PBKDF2))
        return false;
    if (type == PW_SHA512_PBKDF2 && iterations < 1)
        return false;
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        !pw_digest(type, iterations, password, salt, sizeof(salt), digest))
        goto out;
    if (b64_encode(salt, sizeof(salt), salt64, sizeof(salt64)) == 0 ||
        b64_encode(digest, sizeof(digest), digest64, sizeof(digest64)) == 0)
        goto out;
    if (type == PW_SHA512_PBKDF2)
        n = snprintf(out, outlen, "$7$%d$%s$%s", iterations, salt64, digest64);
    else
        n = snprintf(out, outlen, "$6$%s$%s", salt64, digest64);
    ok = n > 0 && (size_t)n < outlen;
out:
    OPENSSL_cleanse(digest, sizeof(digest));
    if (!ok && outlen > 0)
        out[0] = '\0';
    return ok;
}

bool pw_verify(const char *hash, const char *password)
{
    struct pw_parsed p;
    uint8_t digest[PW_DIGEST_LEN];
    bool ok;

    if (password == NULL || !pw_parse(hash, &p))
        return false;
    ok = pw_digest(p.type, p.iterations, password, p.salt, p.salt_len, digest) &&
         CRYPTO_memcmp(digest, p.digest, PW_DIGEST_LEN) == 0;
    OPENSSL_cleanse(digest, sizeof(digest));
    return ok;
}

bool pw_hash_valid(const char *hash)
{
    struct pw_parsed p;

    return pw_parse(hash, &p);
}
