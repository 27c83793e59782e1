/* test_proxy_v1.c - unit tests of the PROXY v1 decoder (proxy_v1.c): real HAProxy captures,
 * every prefix and byte change of them, Mosquitto's 22 bad lines (semantics reference §4, §8)
 * and the spec's edge cases. Policy (what proxy.c does with the result) is tested elsewhere. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_decode.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static void check_sane(const uint8_t *buf, size_t len, enum dec r, const struct proxy_info *in,
                       size_t used, const char *why)
{
    CU_ASSERT(r == DEC_NEED_MORE || r == DEC_DONE || r == DEC_ERROR);
    if (r != DEC_DONE) {
        CU_ASSERT_EQUAL(used, 0);
        CU_ASSERT(r == DEC_NEED_MORE || why != NULL);
        return;
    }
    CU_ASSERT(used >= 15 && used <= len && used <= PROXY_V1_MAX_LINE);
    CU_ASSERT(buf[used - 2] == '\r' && buf[used - 1] == '\n');
    CU_ASSERT_EQUAL(in->version, 1);
    CU_ASSERT(!in->local && !in->has_ssl && !in->has_crc);
    if (in->has_addr) {
        int f = in->src.ss_family;

        CU_ASSERT(f == AF_INET || f == AF_INET6);
        CU_ASSERT_EQUAL(in->dst.ss_family, f);
    }
}

/* Decodes an exact-size copy of p[0..n), so ASan reports any read past n. */
static enum dec decode(const void *p, size_t n, struct proxy_info *in, size_t *used,
                       const char **why)
{
    uint8_t *q = unit_copy(p, n);
    enum dec r = proxy_v1_decode(q, n, in, used, why);

    check_sane(q, n, r, in, *used, *why);
    free(q);
    return r;
}

static enum dec dec_str(const char *s, struct proxy_info *in, size_t *used)
{
    const char *why;

    return decode(s, strlen(s), in, used, &why);
}

/* Every proper prefix of a good line waits for more. */
static void assert_prefixes_wait(const char *line)
{
    size_t n = strlen(line);

    for (size_t cut = 0; cut < n; cut++) {
        struct proxy_info in;
        size_t used;
        const char *why;

        CU_ASSERT_EQUAL(decode(line, cut, &in, &used, &why), DEC_NEED_MORE);
    }
}

/* A bad line is an error, and its prefixes wait until they can no longer become valid, then
 * stay errors: refusing early never refuses a line that could still be good. */
static void assert_bad(const char *line)
{
    size_t n = strlen(line);
    bool failed = false;

    for (size_t cut = 0; cut <= n; cut++) {
        struct proxy_info in;
        size_t used;
        const char *why;
        enum dec r = decode(line, cut, &in, &used, &why);

        CU_ASSERT(r != DEC_DONE);
        if (failed)
            CU_ASSERT_EQUAL(r, DEC_ERROR);
        failed = r == DEC_ERROR;
    }
    if (!failed)
        fprintf(stderr, "\naccepted bad line: %s\n", line);
    CU_ASSERT(failed);
}

/* ---- real HAProxy captures -------------------------------------------------------------- */

struct vec {
    const char *name;
    size_t header_len, total_len; /* "header_bytes", "captured_bytes" */
    bool has_addr;
    int family;
    const char *src, *dst;
    uint16_t sport, dport;
};

/* Expected values copied from each vector's .json. */
static const struct vec vecs[] = {
    {"v1-tcp4", 44, 65, true, AF_INET, "127.0.0.2", "127.0.0.1", 31980, 31892},
    {"v1-tcp6", 32, 53, true, AF_INET6, "::1", "::1", 31981, 31893},
    {"v1-unix-frontend", 15, 36, false, 0, NULL, NULL, 0, 0}, /* "PROXY UNKNOWN\r\n" */
    {"check-v1", 44, 44, true, AF_INET, "127.0.0.1", "127.0.0.1", 59938, 31943},
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
        CU_ASSERT_EQUAL(in.version, 1);
        CU_ASSERT_EQUAL(in.has_addr, v->has_addr);
        if (v->has_addr) {
            CU_ASSERT_EQUAL(in.src.ss_family, v->family);
            CU_ASSERT(unit_addr_is(&in.src, v->src, v->sport));
            CU_ASSERT(unit_addr_is(&in.dst, v->dst, v->dport));
        }
        for (size_t cut = 0; cut < v->header_len; cut++)
            CU_ASSERT_EQUAL(decode(b, cut, &in, &used, &why), DEC_NEED_MORE);
        for (size_t cut = v->header_len; cut <= len; cut++) {
            CU_ASSERT_EQUAL(decode(b, cut, &in, &used, &why), DEC_DONE);
            CU_ASSERT_EQUAL(used, v->header_len);
        }
        free(b);
    }
}

/* Every value at every position of the line, on an exact-size header-only buffer. */
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
                r = proxy_v1_decode(q, n, &in, &used, &why);
                check_sane(q, n, r, &in, used, why);
                if (pos < 6 && val != b[pos])
                    CU_ASSERT_EQUAL(r, DEC_ERROR); /* "PROXY " is fixed */
                if (r == DEC_DONE)
                    CU_ASSERT_EQUAL(used, n);
            }
            q[pos] = b[pos];
        }
        free(q);
        free(b);
    }
}

/* ---- good lines ------------------------------------------------------------------------- */

static void test_upstream_success_lines(void)
{
    struct proxy_info in;
    size_t used;

    /* 21-proxy-v1-success, three lines. */
    CU_ASSERT_EQUAL(dec_str("PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n", &in, &used),
                    DEC_DONE);
    CU_ASSERT_EQUAL(used, 42);
    CU_ASSERT(in.has_addr);
    CU_ASSERT(unit_addr_is(&in.src, "192.0.2.5", 6275));
    CU_ASSERT(unit_addr_is(&in.dst, "127.0.0.1", 1234));
    CU_ASSERT_EQUAL(((struct sockaddr_in *)&in.src)->sin_port, htons(6275)); /* network order */
    CU_ASSERT_EQUAL(dec_str("PROXY TCP6 2001:db8:506:708:900::1 ::1 6275 1234\r\n", &in, &used),
                    DEC_DONE);
    CU_ASSERT(unit_addr_is(&in.src, "2001:db8:506:708:900::1", 6275));
    CU_ASSERT(unit_addr_is(&in.dst, "::1", 1234));
    CU_ASSERT_EQUAL(dec_str("PROXY UNKNOWN \r\n", &in, &used), DEC_DONE); /* with a space */
    CU_ASSERT_EQUAL(used, 16);
    CU_ASSERT(!in.has_addr);
    assert_prefixes_wait("PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n");
    assert_prefixes_wait("PROXY TCP6 2001:db8:506:708:900::1 ::1 6275 1234\r\n");
    assert_prefixes_wait("PROXY UNKNOWN \r\n");
}

static void test_unknown(void)
{
    static const char *good[] = {
        "PROXY UNKNOWN\r\n",                      /* what HAProxy sends; upstream refused it */
        "PROXY UNKNOWN \r\n",
        "PROXY UNKNOWN ffff:f:f:f:f:f:f:ffff ffff:f:f:f:f:f:f:ffff 65535 65535\r\n",
        "PROXY UNKNOWN whatever  junk\tand 0 zeros 999999\r\n", /* ignored, however wrong */
    };
    struct proxy_info in;
    size_t used;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CU_ASSERT_EQUAL(dec_str(good[i], &in, &used), DEC_DONE);
        CU_ASSERT_EQUAL(used, strlen(good[i]));
        CU_ASSERT(!in.has_addr);
        assert_prefixes_wait(good[i]);
    }
    assert_bad("PROXY UNKNOWNX\r\n");
    assert_bad("PROXY UNKNOWN\tx\r\n");
    assert_bad("PROXY unknown\r\n");
}

static void test_limits(void)
{
    char line[200];
    struct proxy_info in;
    size_t used;
    const char *why;

    /* The longest TCP6 line: 104 bytes. */
    strcpy(line, "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
    CU_ASSERT_EQUAL(strlen(line), 104);
    CU_ASSERT_EQUAL(dec_str(line, &in, &used), DEC_DONE);
    CU_ASSERT(unit_addr_is(&in.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535));
    /* The longest TCP4 line: 56 bytes; ports at both ends of the range. */
    CU_ASSERT_EQUAL(dec_str("PROXY TCP4 255.255.255.255 255.255.255.255 65535 1\r\n", &in, &used),
                    DEC_DONE);
    CU_ASSERT(unit_addr_is(&in.dst, "255.255.255.255", 1));
    CU_ASSERT_EQUAL(dec_str("PROXY TCP4 0.0.0.0 10.0.100.9 1 65535\r\n", &in, &used), DEC_DONE);
    CU_ASSERT(unit_addr_is(&in.src, "0.0.0.0", 1));
    CU_ASSERT(unit_addr_is(&in.dst, "10.0.100.9", 65535));
    /* Exactly 107 bytes with CRLF: accepted. */
    memset(line, 'x', sizeof(line));
    memcpy(line, "PROXY UNKNOWN ", 14);
    memcpy(line + 105, "\r\n", 3);
    CU_ASSERT_EQUAL(strlen(line), 107);
    CU_ASSERT_EQUAL(dec_str(line, &in, &used), DEC_DONE);
    CU_ASSERT_EQUAL(used, 107);
    assert_prefixes_wait(line);
    /* 108 bytes with CRLF: too long, known as soon as 106 bytes hold no CR. */
    memcpy(line + 105, "x\r\n", 4);
    CU_ASSERT_EQUAL(strlen(line), 108);
    assert_bad(line);
    CU_ASSERT_EQUAL(decode(line, 106, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode(line, 105, &in, &used, &why), DEC_NEED_MORE);
    /* 107 bytes without CRLF. */
    memset(line + 14, 'x', 93);
    CU_ASSERT_EQUAL(decode(line, 107, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_STRING_EQUAL(why, "no CRLF within 107 bytes");
    /* IPv6 spellings inet_pton knows: mixed case, IPv4 tail. */
    CU_ASSERT_EQUAL(dec_str("PROXY TCP6 ::FFFF:192.0.2.5 FE80::1 6275 1234\r\n", &in, &used),
                    DEC_DONE);
    CU_ASSERT(unit_addr_is(&in.src, "::ffff:192.0.2.5", 6275));
    CU_ASSERT(unit_addr_is(&in.dst, "fe80::1", 1234));
}

/* ---- bad lines -------------------------------------------------------------------------- */

/* Mosquitto's 21-proxy-v1-bad, one connection each. */
static void test_upstream_bad_lines(void)
{
    static const char *bad[] = {
        "PROXY TCP3 192.0.2.5 127.0.0.1 6275 1234\r\n",          /* unknown protocol */
        ("PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234"              /* padded past the limit */
         "                                                                      \r\n"),
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275\r\n",                /* missing dport */
        "PROXY TCP4 192.0.2.5 127.0.0.1 1234\r\n",                /* missing sport */
        "PROXY TCP4 192.0.2.5 6275 1234\r\n",                     /* missing daddr */
        "PROXY TCP4 127.0.0.1 6275 1234\r\n",                     /* missing saddr */
        "PROXY TCP4 192.0.2.5 127.0.0.1 0 1234\r\n",              /* sport 0 */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 0\r\n",              /* dport 0 */
        "PROXY TCP4 192.0.2.5 127.0.0.1 65536 1234\r\n",          /* sport 65536 */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 65536\r\n",          /* dport 65536 */
        "PROXY TCP4 192.0.2.5 127.0.0.256 6275 1234\r\n",         /* daddr octet 256 */
        "PROXY TCP4 192.0.2.256 127.0.0.1 6275 1234\r\n",         /* saddr octet 256 */
        "PROXY TCP6 192.0.2.5 127.0.0.1 6275 1234\r\n",           /* IPv4 under TCP6 ... */
        "PROXY TCP6 192.0.2.5 127.0.0.1 6275\r\n",                /* ... and the same ten */
        "PROXY TCP6 192.0.2.5 127.0.0.1 1234\r\n",
        "PROXY TCP6 192.0.2.5 6275 1234\r\n",
        "PROXY TCP6 127.0.0.1 6275 1234\r\n",
        "PROXY TCP6 192.0.2.5 127.0.0.1 0 1234\r\n",
        "PROXY TCP6 192.0.2.5 127.0.0.1 6275 0\r\n",
        "PROXY TCP6 192.0.2.5 127.0.0.1 65536 1234\r\n",
        "PROXY TCP6 192.0.2.5 127.0.0.1 6275 65536\r\n",
        "PROXY TCP6 192.0.2.5 127.0.0.256 6275 1234\r\n",
    };

    CU_ASSERT_EQUAL(sizeof(bad) / sizeof(bad[0]), 22);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_bad(bad[i]);
}

/* Where we are stricter than upstream (semantics §9 #12) and other grammar violations. */
static void test_strict_grammar(void)
{
    static const char *bad[] = {
        "PROXY TCP4  192.0.2.5 127.0.0.1 6275 1234\r\n",         /* two spaces */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275  1234\r\n",
        "PROXY  TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 06275 1234\r\n",         /* leading zero in a port */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 01234\r\n",
        "PROXY TCP4 192.0.2.05 127.0.0.1 6275 1234\r\n",         /* leading zero in an octet */
        "PROXY TCP4 192.0.02.5 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234 \r\n",         /* trailing space */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234 80\r\n",       /* extra field */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 \r\n",              /* empty port */
        "PROXY TCP4 192.0.2 127.0.0.1 6275 1234\r\n",            /* three octets */
        "PROXY TCP4 192.0.2.5.1 127.0.0.1 6275 1234\r\n",        /* five octets */
        "PROXY TCP4 192..2.5 127.0.0.1 6275 1234\r\n",           /* empty octet */
        "PROXY TCP4 .192.0.2 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 192.0.2.5. 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 1920.0.2.5 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 192.0.2.5 ::1 6275 1234\r\n",                /* IPv6 under TCP4 */
        "PROXY TCP4 192.0.2.5 127.0.0.1 +6275 1234\r\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 99999\r\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234567\r\n",
        "PROXY TCP6 ::1 ::1:: 6275 1234\r\n",                    /* two "::" */
        "PROXY TCP6 :::1 ::1 6275 1234\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 6275 1234\r\n",        /* nine groups */
        "PROXY TCP6 12345::1 ::1 6275 1234\r\n",                 /* 5-digit group */
        "PROXY TCP6 [::1] ::1 6275 1234\r\n",                    /* brackets */
        "PROXY TCP6 fe80::1%eth0 ::1 6275 1234\r\n",             /* zone id */
        "PROXY TCP6 g::1 ::1 6275 1234\r\n",
        "PROXY TCP4\r\n",
        "PROXY TCP4 \r\n",
        "PROXY \r\n",
        "PROXY\r\n",
        "PROXY UDP4 192.0.2.5 127.0.0.1 6275 1234\r\n",
        "proxy TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n",          /* case matters */
        "PROXY tcp4 192.0.2.5 127.0.0.1 6275 1234\r\n",
        " PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\n",            /* bare LF */
        "PROXY UNKNOWN\n",
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\r\n",        /* CR without LF */
        "PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\rX",
        "PROXY UNKNOWN\rX\r\n",
        "PROXY TCP4 192.0.2.5\t127.0.0.1 6275 1234\r\n",
        "\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_bad(bad[i]);
}

/* Bytes that cannot start a v1 line are refused at the first byte. */
static void test_early_reject(void)
{
    static const uint8_t v2sig[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51};
    static const uint8_t connect[] = {0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T'};
    struct proxy_info in;
    size_t used;
    const char *why;

    CU_ASSERT_EQUAL(decode(v2sig, 1, &in, &used, &why), DEC_ERROR);  /* a v2 header */
    CU_ASSERT_EQUAL(decode(v2sig, sizeof(v2sig), &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode(connect, 1, &in, &used, &why), DEC_ERROR); /* MQTT CONNECT */
    CU_ASSERT_EQUAL(decode("PROXX", 5, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode("GET / HTTP/1.1", 3, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode("PROXY TCP5", 10, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode("PROXY TCP4 01", 13, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode("PROXY TCP4 1.2.3.4 5.6.7.8 0", 28, &in, &used, &why), DEC_ERROR);
    CU_ASSERT_EQUAL(decode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", 31, &in, &used, &why), DEC_ERROR);
    /* ... while a good prefix waits, including one ending on a CR. */
    CU_ASSERT_EQUAL(decode("", 0, &in, &used, &why), DEC_NEED_MORE);
    CU_ASSERT_EQUAL(decode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, &in, &used, &why),
                    DEC_NEED_MORE);
    CU_ASSERT_EQUAL(decode("PROXY UNKNOWN\r", 14, &in, &used, &why), DEC_NEED_MORE);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        {"captured vectors decode, every prefix waits", test_vectors_decode},
        {"every byte value at every position", test_vectors_every_byte_value},
        {"upstream success lines", test_upstream_success_lines},
        {"UNKNOWN with and without fields", test_unknown},
        {"107-byte limit and longest lines", test_limits},
        {"upstream 21-proxy-v1-bad lines", test_upstream_bad_lines},
        {"strict grammar", test_strict_grammar},
        {"refused at the first impossible byte", test_early_reject},
        {NULL, NULL},
    };

    unit_suite("proxy_v1", tests);
}
