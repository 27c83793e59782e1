/* test_proxy_v2.c - unit tests of the PROXY v2 decoder (proxy_v2.c) and CRC32C: real HAProxy
 * captures, every prefix and byte flip of them, and one hand-built header per row of the
 * semantics reference (§3, §8). Policy (require_tls, CN use) is tested with proxy.c, not here. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_decode.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* ---- helpers ---------------------------------------------------------------------------- */

struct hdr {
    uint8_t b[1024];
    size_t n;
};

/* Starts a header: signature, ver|cmd, fam|transport and a declared length fixed later by
 * hdr_end() (or left as given when the test wants a lie). */
static void hdr_start(struct hdr *h, uint8_t vc, uint8_t fam)
{
    memcpy(h->b, sig, 12);
    h->b[12] = vc;
    h->b[13] = fam;
    h->b[14] = h->b[15] = 0;
    h->n = 16;
}

static void put(struct hdr *h, const void *p, size_t n)
{
    memcpy(h->b + h->n, p, n);
    h->n += n;
}

static void put8(struct hdr *h, uint8_t v)
{
    h->b[h->n++] = v;
}

static void put16(struct hdr *h, uint16_t v)
{
    put8(h, (uint8_t)(v >> 8));
    put8(h, (uint8_t)v);
}

static void put32(struct hdr *h, uint32_t v)
{
    put16(h, (uint16_t)(v >> 16));
    put16(h, (uint16_t)v);
}

static void put_tlv(struct hdr *h, uint8_t type, const void *v, uint16_t n)
{
    put8(h, type);
    put16(h, n);
    put(h, v, n);
}

static void put_str_tlv(struct hdr *h, uint8_t type, const char *s)
{
    put_tlv(h, type, s, (uint16_t)strlen(s));
}

static void set_len(struct hdr *h, uint16_t declared)
{
    h->b[14] = (uint8_t)(declared >> 8);
    h->b[15] = (uint8_t)declared;
}

static void hdr_end(struct hdr *h)
{
    set_len(h, (uint16_t)(h->n - 16));
}

/* The upstream tests' IPv4 block: 192.0.2.5:6275 -> 0.0.0.0:0. */
static void put_test_v4(struct hdr *h)
{
    static const uint8_t a[12] = {192, 0, 2, 5, 0, 0, 0, 0, 0x18, 0x83, 0x00, 0x00};

    put(h, a, sizeof(a));
}

/* The decoder's structural promises, whatever the input. */
static void check_sane(const uint8_t *buf, size_t len, enum dec r, const struct proxy_info *in,
                       size_t used, const char *why)
{
    const struct proxy_str *strs[] = {&in->ssl_version, &in->ssl_cipher, &in->ssl_cn,
                                      &in->ssl_sig_alg, &in->ssl_key_alg, &in->alpn,
                                      &in->authority, &in->unique_id, &in->netns};

    CU_ASSERT(r == DEC_NEED_MORE || r == DEC_DONE || r == DEC_ERROR);
    if (r == DEC_ERROR) {
        CU_ASSERT_PTR_NOT_NULL(why);
        CU_ASSERT_EQUAL(used, 0);
        return;
    }
    if (r == DEC_NEED_MORE) {
        CU_ASSERT_EQUAL(used, 0);
        return;
    }
    CU_ASSERT_EQUAL(in->version, 2);
    CU_ASSERT(used >= 16 && used <= len);
    CU_ASSERT(used <= 16 + PROXY_V2_MAX_VARIABLE);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i]->p == NULL) {
            CU_ASSERT_EQUAL(strs[i]->len, 0);
            continue;
        }
        CU_ASSERT(strs[i]->p >= buf + 16 && strs[i]->p + strs[i]->len <= buf + used);
    }
    if (in->local)
        CU_ASSERT(!in->has_addr && !in->has_ssl);
    if (in->has_addr) {
        int f = in->src.ss_family;

        CU_ASSERT(f == AF_INET || f == AF_INET6 || f == AF_UNIX);
        CU_ASSERT_EQUAL(in->dst.ss_family, f);
        if (f == AF_UNIX) {
            const struct sockaddr_un *s = (const struct sockaddr_un *)&in->src;
            const struct sockaddr_un *d = (const struct sockaddr_un *)&in->dst;

            CU_ASSERT_PTR_NOT_NULL(memchr(s->sun_path, 0, sizeof(s->sun_path)));
            CU_ASSERT_PTR_NOT_NULL(memchr(d->sun_path, 0, sizeof(d->sun_path)));
        }
    }
}

/* Decodes an exact-size copy of p[0..n), so ASan reports any read past n. */
static enum dec decode(const uint8_t *p, size_t n, struct proxy_info *in, size_t *used,
                       const char **why)
{
    uint8_t *q = unit_copy(p, n);
    enum dec r = proxy_v2_decode(q, n, in, used, why);

    check_sane(q, n, r, in, *used, *why);
    /* Borrowed strings must point into the caller's buffer: rebase them onto p for the test. */
    if (r == DEC_DONE) {
        struct proxy_str *strs[] = {&in->ssl_version, &in->ssl_cipher, &in->ssl_cn,
                                    &in->ssl_sig_alg, &in->ssl_key_alg, &in->alpn,
                                    &in->authority, &in->unique_id, &in->netns};

        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
            if (strs[i]->p != NULL)
                strs[i]->p = p + (strs[i]->p - q);
    }
    free(q);
    return r;
}

static enum dec dec_hdr(const struct hdr *h, struct proxy_info *in, size_t *used)
{
    const char *why;

    return decode(h->b, h->n, in, used, &why);
}

static bool str_is(struct proxy_str s, const char *want)
{
    if (want == NULL)
        return s.p == NULL && s.len == 0;
    return s.p != NULL && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static const char *unix_path(const struct sockaddr_storage *ss)
{
    return ((const struct sockaddr_un *)ss)->sun_path;
}

/* ---- CRC32C ----------------------------------------------------------------------------- */

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void test_crc32c(void)
{
    uint8_t data[1024];
    uint32_t x = 12345;

    CU_ASSERT_EQUAL(proxy_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u); /* RFC 3720 */
    CU_ASSERT_EQUAL(proxy_crc32c(data, 0), 0);
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    /* Every table entry is reached by the single bytes 0..255. */
    for (unsigned b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b;

        CU_ASSERT_EQUAL(proxy_crc32c(&one, 1), crc_bitwise(&one, 1));
    }
    for (size_t n = 0; n <= sizeof(data); n += 37)
        CU_ASSERT_EQUAL(proxy_crc32c(data, n), crc_bitwise(data, n));
}

/* ---- real HAProxy captures -------------------------------------------------------------- */

/* Expected values copied from each vector's .json (decode.py output). */
struct vec {
    const char *name;
    size_t header_len;                  /* "header_bytes" */
    size_t total_len;                   /* "captured_bytes": header + the CONNECT after it */
    bool local;
    int family;                         /* AF_INET / AF_INET6; 0 for LOCAL */
    const char *src, *dst;
    uint16_t sport, dport;
    bool has_ssl;
    uint8_t client;
    uint32_t verify;
    const char *version, *cn, *cipher, *sig_alg, *key_alg;
    const char *alpn, *authority, *unique_id;
    bool has_crc;
};

static const struct vec vecs[] = {
    {"check-v2", 16, 16, true, 0, NULL, NULL, 0, 0, false, 0, 0, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, false},
    /* LOCAL carrying an SSL TLV: skipped with the rest of the block. */
    {"check-v2-ssl-cn", 24, 24, true, 0, NULL, NULL, 0, 0, false, 0, 0, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, false},
    {"v2-unix-frontend", 16, 37, true, 0, NULL, NULL, 0, 0, false, 0, 0, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, false},
    {"v2-tcp-ipv4", 28, 49, false, AF_INET, "127.0.0.2", "127.0.0.1", 31970, 31883, false, 0, 0,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-tcp-ipv6", 52, 73, false, AF_INET6, "::1", "::1", 31971, 31884, false, 0, 0, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-tls-alpn-send-proxy-v2", 35, 56, false, AF_INET, "127.0.0.2", "127.0.0.1", 31985, 31900,
     false, 0, 0, NULL, NULL, NULL, NULL, NULL, "mqtt", NULL, NULL, false},
    {"v2-tls-server-cert-only", 46, 67, false, AF_INET, "127.0.0.2", "127.0.0.1", 31972, 31885,
     true, 0x01, 0, "TLSv1.3", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-mtls-ssl", 46, 67, false, AF_INET, "127.0.0.2", "127.0.0.1", 31973, 31886, true, 0x07, 0,
     "TLSv1.3", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-mtls-ssl-cn", 59, 80, false, AF_INET, "127.0.0.2", "127.0.0.1", 31974, 31887, true, 0x07,
     0, "TLSv1.3", "client-one", NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-mtls-ssl-cn-resumed", 59, 80, false, AF_INET, "127.0.0.2", "127.0.0.1", 31976, 31888,
     true, 0x05, 0, "TLSv1.3", "client-one", NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-optional-no-cert", 46, 67, false, AF_INET, "127.0.0.2", "127.0.0.1", 31979, 31891, true,
     0x01, 0, "TLSv1.3", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-optional-wrong-ca-ignore-err", 61, 82, false, AF_INET, "127.0.0.2", "127.0.0.1", 31978,
     31890, true, 0x07, 21, "TLSv1.3", "client-rogue", NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-ssl-cn-on-plain-frontend", 36, 57, false, AF_INET, "127.0.0.2", "127.0.0.1", 31984, 31899,
     true, 0x00, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"v2-mtls-all-tlvs", 172, 193, false, AF_INET, "127.0.0.2", "127.0.0.1", 31982, 31897, true,
     0x07, 0, "TLSv1.3", "client-one", "TLS_AES_256_GCM_SHA384", "RSA-SHA256", "RSA2048", "mqtt",
     "localhost", "a57273e3-6f2a-471d-90e5-154515a58143", true},
    {"v2-mtls-all-tlvs-tls12", 177, 198, false, AF_INET, "127.0.0.2", "127.0.0.1", 31983, 31898,
     true, 0x07, 0, "TLSv1.2", "client-one", "ECDHE-RSA-AES256-GCM-SHA384", "RSA-SHA256",
     "RSA2048", "mqtt", "localhost", "546be730-e088-48d2-a8b7-1603462bb781", true},
};
#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

static void test_vectors_decode(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &vecs[k];
        struct proxy_info in;
        size_t len, used;
        const char *why;
        uint8_t *b = unit_read_proxy_vector(v->name, &len);

        CU_ASSERT_EQUAL_FATAL(len, v->total_len);
        CU_ASSERT_EQUAL(decode(b, len, &in, &used, &why), DEC_DONE);
        CU_ASSERT_EQUAL(used, v->header_len); /* the CONNECT after it is not ours */
        CU_ASSERT_EQUAL(in.version, 2);
        CU_ASSERT_EQUAL(in.local, v->local);
        CU_ASSERT_EQUAL(in.has_addr, !v->local);
        if (!v->local) {
            CU_ASSERT_EQUAL(in.src.ss_family, v->family);
            CU_ASSERT(unit_addr_is(&in.src, v->src, v->sport));
            CU_ASSERT(unit_addr_is(&in.dst, v->dst, v->dport));
        }
        CU_ASSERT_EQUAL(in.has_ssl, v->has_ssl);
        CU_ASSERT_EQUAL(in.ssl_client, v->client);
        CU_ASSERT_EQUAL(in.ssl_verify, v->verify);
        CU_ASSERT(str_is(in.ssl_version, v->version));
        CU_ASSERT(str_is(in.ssl_cn, v->cn));
        CU_ASSERT(str_is(in.ssl_cipher, v->cipher));
        CU_ASSERT(str_is(in.ssl_sig_alg, v->sig_alg));
        CU_ASSERT(str_is(in.ssl_key_alg, v->key_alg));
        CU_ASSERT(str_is(in.alpn, v->alpn));
        CU_ASSERT(str_is(in.authority, v->authority));
        CU_ASSERT(str_is(in.unique_id, v->unique_id));
        CU_ASSERT(str_is(in.netns, NULL));
        CU_ASSERT_EQUAL(in.has_crc, v->has_crc);
        /* The header alone, exactly sized, decodes the same way. */
        CU_ASSERT_EQUAL(decode(b, v->header_len, &in, &used, &why), DEC_DONE);
        CU_ASSERT_EQUAL(used, v->header_len);
        free(b);
    }
}

static void test_vectors_every_prefix(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        struct proxy_info in;
        size_t len, used;
        const char *why;
        uint8_t *b = unit_read_proxy_vector(vecs[k].name, &len);

        for (size_t cut = 0; cut < vecs[k].header_len; cut++)
            CU_ASSERT_EQUAL(decode(b, cut, &in, &used, &why), DEC_NEED_MORE);
        for (size_t cut = vecs[k].header_len; cut <= len; cut++) {
            CU_ASSERT_EQUAL(decode(b, cut, &in, &used, &why), DEC_DONE);
            CU_ASSERT_EQUAL(used, vecs[k].header_len);
        }
        free(b);
    }
}

/* Every value at every header position: the decoder must stop cleanly, and may only wait
 * for more when the length field now claims more bytes than there are. */
static void test_vectors_every_byte_value(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        size_t len, n = vecs[k].header_len;
        uint8_t *b = unit_read_proxy_vector(vecs[k].name, &len);
        uint8_t *q = unit_copy(b, n);

        for (size_t pos = 0; pos < n; pos++) {
            for (unsigned val = 0; val < 256; val++) {
                struct proxy_info in;
                size_t used;
                const char *why;
                enum dec r;

                q[pos] = (uint8_t)val;
                r = proxy_v2_decode(q, n, &in, &used, &why);
                check_sane(q, n, r, &in, used, why);
                if (r == DEC_NEED_MORE)
                    CU_ASSERT(16u + (size_t)(q[14] << 8 | q[15]) > n);
                if (pos < 12 && val != sig[pos])
                    CU_ASSERT_EQUAL(r, DEC_ERROR);
            }
            q[pos] = b[pos];
        }
        free(q);
        free(b);
    }
}

/* The declared length cut short (or grown) while the bytes stay: an exact buffer each time. */
static void test_vectors_truncated_length(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        size_t len, n = vecs[k].header_len;
        uint8_t *b = unit_read_proxy_vector(vecs[k].name, &len);

        for (size_t d = 0; d <= PROXY_V2_MAX_VARIABLE + 1; d++) {
            struct proxy_info in;
            size_t used, have = 16 + d < len ? 16 + d : len;
            const char *why;
            uint8_t *q = unit_copy(b, have);
            enum dec r;

            q[14] = (uint8_t)(d >> 8);
            q[15] = (uint8_t)d;
            r = proxy_v2_decode(q, have, &in, &used, &why);
            check_sane(q, have, r, &in, used, why);
            if (d > PROXY_V2_MAX_VARIABLE)
                CU_ASSERT_EQUAL(r, DEC_ERROR);
            if (r == DEC_DONE)
                CU_ASSERT_EQUAL(used, 16 + d);
            if (d + 16 == n)
                CU_ASSERT_EQUAL(r, DEC_DONE);
            free(q);
        }
        free(b);
    }
}

/* ---- §3.1: fixed part and address block ------------------------------------------------- */

static void test_signature_rejected_at_first_wrong_byte(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    const char *why;

    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    hdr_end(&h);
    for (size_t pos = 0; pos < 12; pos++) {
        uint8_t save = h.b[pos];

        h.b[pos] ^= 0x01;
        /* Only the bytes up to the wrong one have arrived, and that is enough to refuse. */
        CU_ASSERT_EQUAL(decode(h.b, pos + 1, &in, &used, &why), DEC_ERROR);
        CU_ASSERT_EQUAL(decode(h.b, h.n, &in, &used, &why), DEC_ERROR);
        h.b[pos] = save;
    }
    /* Upstream bad-header #1: last signature byte 0x0b. */
    h.b[11] = 0x0b;
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* An MQTT CONNECT or a v1 line on a v2 listener: the first byte says no. */
    CU_ASSERT_EQUAL(decode((const uint8_t *)"\x10", 1, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode((const uint8_t *)"P", 1, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode(h.b, 0, &in, &used, &why), DEC_NEED_MORE);
}

static void test_version_and_command(void)
{
    static const uint8_t bad_vc[] = {
        0x31, /* upstream bad-header #2: version 3 */
        0x11, /* version 1 in a binary header */
        0x01, 0xf1,
        0x23, /* upstream bad-header #3: command 3 */
        0x22, 0x2f,
    };
    struct hdr h;
    struct proxy_info in;
    size_t used;
    const char *why;

    for (size_t i = 0; i < sizeof(bad_vc); i++) {
        hdr_start(&h, bad_vc[i], 0x11);
        put_test_v4(&h);
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
        CU_ASSERT_EQUAL(decode(h.b, 13, &in, &used, &why), DEC_ERROR); /* known at byte 13 */
    }
}

static void test_proxy_ipv4(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;

    hdr_start(&h, 0x21, 0x11); /* v2 PROXY, TCP over IPv4 */
    put_test_v4(&h);           /* 192.0.2.5 -> 0.0.0.0, 6275 -> 0 (dport 0 is fine in v2) */
    hdr_end(&h);               /* length 12 */
    put(&h, "\x10\x00", 2);    /* the start of an MQTT CONNECT, not ours */
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 28);
    CU_ASSERT(in.has_addr && !in.local && !in.has_ssl && !in.has_crc);
    CU_ASSERT(unit_addr_is(&in.src, "192.0.2.5", 6275));
    CU_ASSERT(unit_addr_is(&in.dst, "0.0.0.0", 0));
    /* Ports are stored in network order. */
    CU_ASSERT_EQUAL(((struct sockaddr_in *)&in.src)->sin_port, htons(6275));
}

static void test_proxy_ipv6(void)
{
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x00, 0, 0, 0, 0, 0, 0x01};
    static const uint8_t dst[16] = {0};
    struct hdr h;
    struct proxy_info in;
    size_t used;

    hdr_start(&h, 0x21, 0x21); /* v2 PROXY, TCP over IPv6 */
    put(&h, src, 16);          /* 2001:db8:506:708:900::1 */
    put(&h, dst, 16);          /* :: */
    put16(&h, 6275);           /* source port */
    put16(&h, 0);              /* destination port */
    hdr_end(&h);               /* length 36 */
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 52);
    CU_ASSERT_EQUAL(in.src.ss_family, AF_INET6);
    CU_ASSERT(unit_addr_is(&in.src, "2001:db8:506:708:900::1", 6275));
    CU_ASSERT(unit_addr_is(&in.dst, "::", 0));
}

static void test_unspec_and_dgram_families(void)
{
    static const uint8_t bad_fam[] = {0x12, 0x22, 0x32, 0x10, 0x13, 0x01, 0x41, 0x20, 0xff};
    struct hdr h;
    struct proxy_info in;
    size_t used;
    const char *why;

    /* Upstream bad-header #4: PROXY + UNSPEC with a 12-byte block. */
    hdr_start(&h, 0x21, 0x00);
    put_test_v4(&h);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    CU_ASSERT_EQUAL(decode(h.b, 14, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_STRING_EQUAL(why, "unsupported address family");
    /* PROXY + UNSPEC, length 0. */
    hdr_start(&h, 0x21, 0x00);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* UDP / unix datagram and invalid nibbles, for both commands. */
    for (size_t i = 0; i < sizeof(bad_fam); i++) {
        hdr_start(&h, 0x21, bad_fam[i]);
        put_test_v4(&h);
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
        h.b[12] = 0x20;
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    }
}

static void test_local(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    const char *why;
    uint8_t ssl[5] = {0, 0, 0, 0, 0};

    /* HAProxy's health check: LOCAL, UNSPEC, length 0 (upstream 21-proxy-v2-local). */
    hdr_start(&h, 0x20, 0x00);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 16);
    CU_ASSERT(in.local && !in.has_addr);
    /* LOCAL + UNSPEC carrying an (empty) SSL TLV: skipped with the block. */
    hdr_start(&h, 0x20, 0x00);
    put_tlv(&h, 0x20, ssl, 5);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 24);
    CU_ASSERT(in.local && !in.has_ssl);
    /* LOCAL + IPv4 block: the addresses describe nobody (upstream used them; we do not). */
    hdr_start(&h, 0x20, 0x11);
    put_test_v4(&h);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 28);
    CU_ASSERT(in.local && !in.has_addr);
    /* LOCAL + IPv4 with a block too short for IPv4 and garbage TLVs: still only skipped. */
    hdr_start(&h, 0x20, 0x11);
    put(&h, "\xff\xff\xff", 3);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    /* LOCAL must still wait for its whole block. */
    CU_ASSERT_EQUAL(decode(h.b, h.n - 1, &in, &used, &why), DEC_NEED_MORE);
}

static void test_block_too_short(void)
{
    static const struct {
        uint8_t fam;
        uint16_t len;
    } rows[] = {
        {0x11, 11}, /* upstream bad-header #5: IPv4 with length 11 */
        {0x11, 0},  /* #6: IPv4 with length 0 */
        {0x21, 11}, /* #7: IPv6 with length 11 */
        {0x21, 0},  /* #8: IPv6 with length 0 */
        {0x31, 0},  /* #9: unix with length 0 */
        {0x21, 35}, /* one byte short of the IPv6 block */
    };
    struct proxy_info in;
    size_t used;
    const char *why;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct hdr h;

        hdr_start(&h, 0x21, rows[i].fam);
        memset(h.b + 16, 0x07, rows[i].len);
        h.n += rows[i].len;
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
        /* Refused as soon as the length field is there, before the block arrives. */
        CU_ASSERT_EQUAL(decode(h.b, 16, &in, &used, &why), DEC_ERROR);
    }
}

static void test_length_cap(void)
{
    static const uint8_t fams[] = {0x11, 0x21, 0x31};
    struct proxy_info in;
    size_t used;
    const char *why;
    struct hdr h;

    /* Upstream 21-proxy-v2-long-tlv: 501 bytes of 'a' for IPv4, IPv6 and unix. */
    for (size_t i = 0; i < sizeof(fams); i++) {
        hdr_start(&h, 0x21, fams[i]);
        memset(h.b + 16, 'a', 501);
        h.n += 501;
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
        CU_ASSERT_EQUAL(decode(h.b, 16, &in, &used, &why), DEC_ERROR); /* before the block */
        CU_ASSERT_STRING_EQUAL(why, "header too long");
    }
    /* Exactly 500: IPv4 block (12) + NOOP TLV (3 + 485). */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put8(&h, 0x04);
    put16(&h, 485);
    memset(h.b + h.n, 0, 485);
    h.n += 485;
    hdr_end(&h);
    CU_ASSERT_EQUAL(h.n, 516);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 516);
    CU_ASSERT(unit_addr_is(&in.src, "192.0.2.5", 6275));
    /* LOCAL is capped too. */
    hdr_start(&h, 0x20, 0x00);
    set_len(&h, 501);
    CU_ASSERT_EQUAL(decode(h.b, 16, &in, &used, &why), DEC_ERROR);
    /* Upstream 21-proxy-v2-lost-connection: declares 15, sends 12: wait (the caller times out). */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    set_len(&h, 15);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_NEED_MORE);
}

/* ---- §3.4: AF_UNIX ---------------------------------------------------------------------- */

static void test_unix_short_form(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    char path[120];

    /* Upstream 21-proxy-v2-unix: length 5, block "/path". */
    hdr_start(&h, 0x21, 0x31);
    put(&h, "/path", 5);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 21);
    CU_ASSERT(in.has_addr);
    CU_ASSERT_EQUAL(in.src.ss_family, AF_UNIX);
    CU_ASSERT_STRING_EQUAL(unix_path(&in.src), "/path");
    CU_ASSERT_EQUAL(in.dst.ss_family, AF_UNIX);
    CU_ASSERT_STRING_EQUAL(unix_path(&in.dst), "");
    /* The path stops at the first NUL; what follows is not parsed as TLVs. */
    hdr_start(&h, 0x21, 0x31);
    put(&h, "/p\0\xff\xff", 5);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_STRING_EQUAL(unix_path(&in.src), "/p");
    /* 107 bytes fit sun_path with its NUL; 108 without a NUL do not. */
    memset(path, 'p', sizeof(path));
    hdr_start(&h, 0x21, 0x31);
    put(&h, path, 107);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(strlen(unix_path(&in.src)), 107);
    hdr_start(&h, 0x21, 0x31);
    put(&h, path, 108);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
}

static void test_unix_spec_form(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    uint8_t block[216];

    /* 108-byte NUL-padded source path, 108-byte destination path, then TLVs. */
    memset(block, 0, sizeof(block));
    memcpy(block, "/run/client.sock", 16);
    memcpy(block + 108, "/run/broker.sock", 16);
    hdr_start(&h, 0x21, 0x31);
    put(&h, block, sizeof(block));
    put_str_tlv(&h, 0x02, "example.org"); /* AUTHORITY after the paths */
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 16 + 216 + 14);
    CU_ASSERT_STRING_EQUAL(unix_path(&in.src), "/run/client.sock");
    CU_ASSERT_STRING_EQUAL(unix_path(&in.dst), "/run/broker.sock");
    CU_ASSERT(str_is(in.authority, "example.org"));
    /* All-zero block (upstream rejected it by parsing the padding as TLVs): empty paths. */
    memset(block, 0, sizeof(block));
    hdr_start(&h, 0x21, 0x31);
    put(&h, block, sizeof(block));
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_STRING_EQUAL(unix_path(&in.src), "");
    /* A source path filling all 108 bytes has no NUL: refused. */
    memset(block, 'a', 108);
    hdr_start(&h, 0x21, 0x31);
    put(&h, block, sizeof(block));
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Same for the destination path. */
    memset(block, 0, sizeof(block));
    memset(block + 108, 'b', 108);
    hdr_start(&h, 0x21, 0x31);
    put(&h, block, sizeof(block));
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Spec form followed by a truncated TLV: corrupt, with the address already known. */
    memset(block, 0, sizeof(block));
    block[0] = '/';
    hdr_start(&h, 0x21, 0x31);
    put(&h, block, sizeof(block));
    put(&h, "\x04\x00", 2);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    CU_ASSERT(in.has_addr);
}

/* ---- §3.2: TLVs ------------------------------------------------------------------------- */

/* SSL TLV value: client bits, verify, then the given sub-TLV bytes. */
static void put_ssl(struct hdr *h, uint8_t client, uint32_t verify, const struct hdr *subs)
{
    size_t sn = subs != NULL ? subs->n : 0;

    put8(h, 0x20);
    put16(h, (uint16_t)(5 + sn));
    put8(h, client);
    put32(h, verify);
    if (sn > 0)
        put(h, subs->b, sn);
}

static void test_upstream_tls_headers(void)
{
    struct hdr h, s;
    struct proxy_info in;
    size_t used;

    /* 21-proxy-v2-ssl-require-tls-success: AUTHORITY "pqrst", SSL 0x05 verify 0 TLSv1.3. */
    s.n = 0;
    put_str_tlv(&s, 0x21, "TLSv1.3");
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_str_tlv(&h, 0x02, "pqrst");
    put_ssl(&h, 0x05, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(str_is(in.authority, "pqrst"));
    CU_ASSERT(in.has_ssl);
    CU_ASSERT_EQUAL(in.ssl_client, 0x05);
    CU_ASSERT_EQUAL(in.ssl_verify, 0);
    CU_ASSERT(str_is(in.ssl_version, "TLSv1.3"));
    CU_ASSERT(str_is(in.ssl_cn, NULL));
    /* 21-proxy-v2-ssl-require-cert-failure (2): client 0x01, verify 1. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x01, 1, NULL);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(in.ssl_client, 0x01);
    CU_ASSERT_EQUAL(in.ssl_verify, 1);
    /* verify is big-endian over 4 bytes. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x07, 0x01020304u, NULL);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(in.ssl_verify, 0x01020304u);
    /* 21-proxy-v2-ssl-common-name-success: VERSION and CN "ppppppp". */
    s.n = 0;
    put_str_tlv(&s, 0x21, "TLSv1.3");
    put_str_tlv(&s, 0x22, "ppppppp");
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x05, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(str_is(in.ssl_cn, "ppppppp"));
    /* 21-proxy-v2-ssl-cipher: VERSION and CIPHER "pqrstuv". */
    s.n = 0;
    put_str_tlv(&s, 0x21, "TLSv1.3");
    put_str_tlv(&s, 0x23, "pqrstuv");
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x05, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(str_is(in.ssl_cipher, "pqrstuv"));
    CU_ASSERT(str_is(in.ssl_version, "TLSv1.3"));
}

static void test_corrupt_tlvs(void)
{
    struct hdr h, s;
    struct proxy_info in;
    size_t used;

    /* Upstream bad-header #10: SSL TLV of length 1 (needs >= 5). */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x20, "\x05", 1);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    CU_ASSERT(in.has_addr); /* the caller can log who sent it */
    CU_ASSERT(unit_addr_is(&in.src, "192.0.2.5", 6275));
    /* SSL value of 4 bytes: still too short. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x20, "\x05\x00\x00\x00", 4);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* #11: SSL TLV declaring 25 bytes with room for 1. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put8(&h, 0x20);
    put16(&h, 25);
    put8(&h, 0x05);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* #12: CIPHER sub-TLV declaring 10 bytes when 7 remain in the SSL TLV (and header). */
    s.n = 0;
    put8(&s, 0x23);
    put16(&s, 10);
    put(&s, "pqrstuv", 7);
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x05, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* A sub-TLV overrunning the SSL TLV while the header has room (an ALPN follows). */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put8(&h, 0x20);
    put16(&h, 5 + 3 + 2);     /* SSL value: 10 bytes */
    put8(&h, 0x05);           /* client */
    put32(&h, 0);             /* verify */
    put8(&h, 0x22);           /* CN ... */
    put16(&h, 9);             /* ... claims 9, only 2 are inside the SSL TLV */
    put(&h, "ab", 2);
    put_str_tlv(&h, 0x01, "mqttmqt"); /* 10 more header bytes the CN must not borrow */
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* A sub-TLV header cut by the end of the SSL TLV (1 or 2 stray bytes). */
    for (size_t stray = 1; stray <= 2; stray++) {
        hdr_start(&h, 0x21, 0x11);
        put_test_v4(&h);
        put8(&h, 0x20);
        put16(&h, (uint16_t)(5 + stray));
        put8(&h, 0x01);
        put32(&h, 0);
        put(&h, "\x21\x00", stray);
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    }
    /* One or two bytes left after the address block cannot hold a TLV header. */
    for (size_t stray = 1; stray <= 2; stray++) {
        hdr_start(&h, 0x21, 0x11);
        put_test_v4(&h);
        put(&h, "\x04\x00", stray);
        hdr_end(&h);
        CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    }
    /* A TLV value one byte past the header end. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put8(&h, 0x01);
    put16(&h, 5);
    put(&h, "mqtt", 4);
    hdr_end(&h);
    put8(&h, 't'); /* present in the buffer, but outside the declared header */
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
}

static void test_duplicates(void)
{
    struct hdr h, s;
    struct proxy_info in;
    size_t used;

    /* Two SSL TLVs: a second could contradict the first. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x00, 0, NULL);
    put_ssl(&h, 0x07, 0, NULL);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Two CN sub-TLVs. */
    s.n = 0;
    put_str_tlv(&s, 0x22, "alice");
    put_str_tlv(&s, 0x22, "admin");
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x07, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Two empty CNs are still two. */
    s.n = 0;
    put_tlv(&s, 0x22, "", 0);
    put_tlv(&s, 0x22, "", 0);
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_ssl(&h, 0x07, 0, &s);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Two ALPN TLVs (we refuse every repeated single-valued TLV). */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_str_tlv(&h, 0x01, "mqtt");
    put_str_tlv(&h, 0x01, "http");
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* Repeated NOOP and unknown types are fine. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x04, "", 0);
    put_tlv(&h, 0x04, "xy", 2);
    put_tlv(&h, 0xe0, "vendor", 6);
    put_tlv(&h, 0xe0, "vendor", 6);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
}

static void test_empty_cn_and_unknown_subtypes(void)
{
    struct hdr h, s;
    struct proxy_info in;
    size_t used;

    s.n = 0;
    put_str_tlv(&s, 0x21, "TLSv1.3");      /* VERSION */
    put_tlv(&s, 0x26, "x25519", 6);         /* SSL_GROUP: later spec, skipped */
    put_tlv(&s, 0x28, "\x30\x82", 2);       /* SSL_CLIENT_CERT: skipped */
    put_tlv(&s, 0x22, "", 0);               /* CN of length 0 */
    put_str_tlv(&s, 0x24, "RSA-SHA256");    /* SIG_ALG */
    put_str_tlv(&s, 0x25, "RSA2048");       /* KEY_ALG */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0xf0, "exp", 3);            /* experimental range: skipped */
    put_ssl(&h, 0x07, 0, &s);
    put_tlv(&h, 0xff, "", 0);               /* future range: skipped */
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(in.ssl_cn.len, 0);      /* the policy reads this as "no CN" */
    CU_ASSERT(str_is(in.ssl_version, "TLSv1.3"));
    CU_ASSERT(str_is(in.ssl_sig_alg, "RSA-SHA256"));
    CU_ASSERT(str_is(in.ssl_key_alg, "RSA2048"));
    CU_ASSERT(str_is(in.ssl_cipher, NULL));
}

static void test_unique_id_and_netns(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    char id[129];

    memset(id, 'i', sizeof(id));
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x05, id, 128);       /* UNIQUE_ID at its 128-byte maximum */
    put_str_tlv(&h, 0x30, "blue");    /* NETNS */
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(in.unique_id.len, 128);
    CU_ASSERT(str_is(in.netns, "blue"));
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x05, id, 129);       /* one byte over */
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
}

/* Builds IPv4 + CRC32C (placed first, as HAProxy does) + ALPN, with a correct CRC. */
static void build_crc(struct hdr *h)
{
    uint32_t crc;

    hdr_start(h, 0x21, 0x11);
    put_test_v4(h);
    put_tlv(h, 0x03, "\0\0\0\0", 4);
    put_str_tlv(h, 0x01, "mqtt");
    hdr_end(h);
    crc = proxy_crc32c(h->b, h->n); /* computed with the value bytes zeroed */
    h->b[31] = (uint8_t)(crc >> 24);
    h->b[32] = (uint8_t)(crc >> 16);
    h->b[33] = (uint8_t)(crc >> 8);
    h->b[34] = (uint8_t)crc;
}

static void test_crc_tlv(void)
{
    struct hdr h;
    struct proxy_info in;
    size_t used;
    const char *why;

    build_crc(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(in.has_crc);
    CU_ASSERT(str_is(in.alpn, "mqtt"));
    /* Bytes after the header are not covered. */
    put(&h, "\x10\x13", 2);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(in.has_crc);
    /* Any changed byte, inside the CRC or elsewhere (here the ALPN text), is a mismatch. */
    build_crc(&h);
    h.b[34] ^= 0x01;
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    build_crc(&h);
    h.b[h.n - 1] = 'T';
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    build_crc(&h);
    h.b[16] = 10; /* the source address */
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_ERROR);
    /* A CRC32C TLV whose value is not 4 bytes. */
    for (uint16_t n = 0; n <= 8; n++) {
        if (n == 4)
            continue;
        hdr_start(&h, 0x21, 0x11);
        put_test_v4(&h);
        put_tlv(&h, 0x03, "\0\0\0\0\0\0\0\0", n);
        hdr_end(&h);
        CU_ASSERT_EQUAL(decode(h.b, h.n, &in, &used, &why), DEC_ERROR);
        CU_ASSERT_STRING_EQUAL(why, "bad CRC32C TLV length");
    }
    /* Two CRC32C TLVs. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    put_tlv(&h, 0x03, "\0\0\0\0", 4);
    put_tlv(&h, 0x03, "\0\0\0\0", 4);
    hdr_end(&h);
    CU_ASSERT_EQUAL(decode(h.b, h.n, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_STRING_EQUAL(why, "duplicate CRC32C TLV");
    /* No CRC TLV: has_crc stays false. */
    hdr_start(&h, 0x21, 0x11);
    put_test_v4(&h);
    hdr_end(&h);
    CU_ASSERT_EQUAL(dec_hdr(&h, &in, &used), DEC_DONE);
    CU_ASSERT(!in.has_crc);
}

/* A real capture with a CRC: a flipped byte after the fixed part is either caught by the CRC
 * or breaks the structure; only a flip of the CRC TLV's own type can pass, without a CRC. */
static void test_crc_real_capture(void)
{
    size_t len;
    uint8_t *b = unit_read_vector("proxy/v2-mtls-all-tlvs.bin", &len);

    for (size_t pos = 16; pos < 172; pos++) {
        struct proxy_info in;
        size_t used;
        const char *why;

        enum dec r;

        b[pos] ^= 0x80;
        r = decode(b, len, &in, &used, &why);
        CU_ASSERT(r == DEC_ERROR || (r == DEC_DONE && !in.has_crc && pos == 28));
        b[pos] ^= 0x80;
    }
    free(b);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        {"crc32c check value and table", test_crc32c},
        {"captured vectors decode as their JSON says", test_vectors_decode},
        {"every proper prefix needs more", test_vectors_every_prefix},
        {"every byte value at every position", test_vectors_every_byte_value},
        {"declared length cut or grown", test_vectors_truncated_length},
        {"signature refused at the first wrong byte", test_signature_rejected_at_first_wrong_byte},
        {"version and command", test_version_and_command},
        {"PROXY TCP4", test_proxy_ipv4},
        {"PROXY TCP6", test_proxy_ipv6},
        {"UNSPEC and datagram families", test_unspec_and_dgram_families},
        {"LOCAL", test_local},
        {"address block too short", test_block_too_short},
        {"500-byte cap", test_length_cap},
        {"unix short form", test_unix_short_form},
        {"unix spec form", test_unix_spec_form},
        {"upstream TLS headers", test_upstream_tls_headers},
        {"corrupt TLVs", test_corrupt_tlvs},
        {"duplicate TLVs", test_duplicates},
        {"empty CN, unknown sub-types", test_empty_cn_and_unknown_subtypes},
        {"unique id and netns", test_unique_id_and_netns},
        {"CRC32C TLV", test_crc_tlv},
        {"CRC32C over a real capture", test_crc_real_capture},
        {NULL, NULL},
    };

    unit_suite("proxy_v2", tests);
}
