/* proxy_v1.c - pure decoder for the text PROXY protocol v1 line ("PROXY TCP4 a b sp dp\r\n").
 * Spec-strict (single spaces, no leading zeros, 107 bytes max) except that port 0 is refused as
 * Mosquitto's tests require. No I/O, no allocation, no logging: proxy.c applies the policy. */
#include "proxy_decode.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define V1_MAX_TEXT (PROXY_V1_MAX_LINE - 2) /* the line without its CRLF */
#define V6_MAX_TEXT 45                      /* longest IPv6 text, with a dotted-quad tail */

/* A bounded view of the line being parsed. partial: the bytes stop because more have not
 * arrived yet, so running out is a reason to wait, not an error. */
struct cur {
    const uint8_t *p;
    size_t n;
    size_t i;
    bool partial;
};

/* The token at the cursor, up to the next space or the end of the bytes; *open is set when it
 * may still grow (it touches the end of a partial buffer). */
static void token(struct cur *c, const uint8_t **t, size_t *tn, bool *open)
{
    size_t start = c->i;

    while (c->i < c->n && c->p[c->i] != ' ')
        c->i++;
    *t = c->p + start;
    *tn = c->i - start;
    *open = c->i == c->n && c->partial;
}

/* After a field: NEED_MORE if the bytes end here in a partial buffer, DONE if a single space
 * follows (and is consumed), ERROR otherwise. */
static enum dec expect_space(struct cur *c, const char **why)
{
    if (c->i == c->n) {
        if (c->partial)
            return DEC_NEED_MORE;
        *why = "missing field";
        return DEC_ERROR;
    }
    c->i++; /* token() stopped on a space */
    return DEC_DONE;
}

static const char *check_v4(const uint8_t *t, size_t n, bool open, struct in_addr *out)
{
    uint8_t oct[4];
    unsigned dots = 0, digits = 0, val = 0;

    for (size_t i = 0; i < n; i++) {
        if (t[i] >= '0' && t[i] <= '9') {
            if (digits > 0 && val == 0)
                return "leading zero in IPv4 address"; /* would read as octal elsewhere */
            val = val * 10 + (unsigned)(t[i] - '0');
            if (++digits > 3 || val > 255)
                return "IPv4 octet out of range";
        } else if (t[i] == '.') {
            if (digits == 0 || dots == 3)
                return "bad IPv4 address";
            oct[dots++] = (uint8_t)val;
            digits = val = 0;
        } else {
            return "bad IPv4 address";
        }
    }
    if (open)
        return NULL;
    if (dots != 3 || digits == 0)
        return "bad IPv4 address";
    oct[3] = (uint8_t)val;
    memcpy(out, oct, 4); /* octets in wire order are network order */
    return NULL;
}

static const char *check_v6(const uint8_t *t, size_t n, bool open, struct in6_addr *out)
{
    char text[V6_MAX_TEXT + 1];

    if (n > V6_MAX_TEXT)
        return "bad IPv6 address";
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = t[i];

        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
              ch == ':' || ch == '.'))
            return "bad IPv6 address";
        if (i >= 2 && ch == ':' && t[i - 1] == ':' && t[i - 2] == ':')
            return "bad IPv6 address";
    }
    if (open)
        return NULL;
    memcpy(text, t, n);
    text[n] = '\0';
    if (inet_pton(AF_INET6, text, out) != 1)
        return "bad IPv6 address";
    return NULL;
}

/* Decimal 1..65535 without leading zeros; 0 is legal in the spec but Mosquitto refuses it. */
static const char *check_port(const uint8_t *t, size_t n, bool open, uint16_t *out)
{
    unsigned val = 0;

    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return "bad port";
        if (i == 0 && t[i] == '0')
            return "port 0 or leading zero";
        val = val * 10 + (unsigned)(t[i] - '0');
        if (i >= 5 || val > 65535)
            return "port out of range";
    }
    if (!open && n == 0)
        return "bad port";
    *out = (uint16_t)val;
    return NULL;
}

/* Is t[0..n) a prefix of word (open) or word itself (closed)? */
static bool is_word(const uint8_t *t, size_t n, bool open, const char *word)
{
    size_t wn = strlen(word);

    if (n > wn || memcmp(t, word, n) != 0)
        return false;
    return open || n == wn;
}

/* src addr, dst addr, src port, dst port, each followed by one space but the last. */
static enum dec parse_fields(struct cur *c, int af, struct proxy_info *out, const char **why)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->src, *d4 = (struct sockaddr_in *)&out->dst;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->src;
    struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&out->dst;
    uint16_t port[2] = {0, 0};

    for (int f = 0; f < 4; f++) {
        const uint8_t *t;
        size_t tn;
        bool open;
        enum dec r;

        token(c, &t, &tn, &open);
        if (f < 2 && af == AF_INET)
            *why = check_v4(t, tn, open, f == 0 ? &s4->sin_addr : &d4->sin_addr);
        else if (f < 2)
            *why = check_v6(t, tn, open, f == 0 ? &s6->sin6_addr : &d6->sin6_addr);
        else
            *why = check_port(t, tn, open, &port[f - 2]);
        if (*why != NULL)
            return DEC_ERROR;
        if (open)
            return DEC_NEED_MORE;
        if (f == 3)
            break;
        if ((r = expect_space(c, why)) != DEC_DONE)
            return r;
    }
    if (c->i != c->n) {
        *why = "extra field after destination port";
        return DEC_ERROR;
    }
    out->src.ss_family = out->dst.ss_family = (sa_family_t)af;
    if (af == AF_INET) {
        s4->sin_port = htons(port[0]);
        d4->sin_port = htons(port[1]);
    } else {
        s6->sin6_port = htons(port[0]);
        d6->sin6_port = htons(port[1]);
    }
    out->has_addr = true;
    return DEC_DONE;
}

/* The line p[0..n) without CRLF. DONE: valid and complete; NEED_MORE: a valid prefix of a
 * line (only when partial); ERROR: no continuation can make it valid. */
static enum dec parse_line(const uint8_t *p, size_t n, bool partial, struct proxy_info *out,
                           const char **why)
{
    static const char magic[] = "PROXY ";
    struct cur c = {p, n, 0, partial};
    size_t mn = sizeof(magic) - 1;
    const uint8_t *t;
    size_t tn;
    bool open;
    enum dec r;

    if (memcmp(p, magic, n < mn ? n : mn) != 0) {
        *why = "not a PROXY v1 header";
        return DEC_ERROR;
    }
    if (n < mn) {
        *why = partial ? NULL : "missing protocol";
        return partial ? DEC_NEED_MORE : DEC_ERROR;
    }
    c.i = mn;
    token(&c, &t, &tn, &open);
    if (is_word(t, tn, open, "UNKNOWN")) {
        /* The sender could not describe the client: whatever follows a space is ignored. */
        return open || partial ? DEC_NEED_MORE : DEC_DONE;
    }
    if (is_word(t, tn, open, "TCP4") || is_word(t, tn, open, "TCP6")) {
        if (open)
            return DEC_NEED_MORE;
        if ((r = expect_space(&c, why)) != DEC_DONE)
            return r;
        return parse_fields(&c, t[3] == '4' ? AF_INET : AF_INET6, out, why);
    }
    *why = "unknown protocol";
    return DEC_ERROR;
}

enum dec proxy_v1_decode(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used,
                         const char **why)
{
    size_t lim = len < V1_MAX_TEXT + 1 ? len : V1_MAX_TEXT + 1;
    size_t i;
    enum dec r;

    memset(out, 0, sizeof(*out));
    *used = 0;
    *why = NULL;
    out->version = 1;
    /* The CR may sit at index V1_MAX_TEXT at the latest, or the line exceeds 107 bytes. */
    for (i = 0; i < lim && buf[i] != '\r' && buf[i] != '\n'; i++)
        ;
    if (i < lim && buf[i] == '\n') {
        *why = "LF without CR";
        return DEC_ERROR;
    }
    if (i == lim) {
        if (len > V1_MAX_TEXT) {
            *why = "no CRLF within 107 bytes";
            return DEC_ERROR;
        }
        return parse_line(buf, len, true, out, why);
    }
    if (i + 1 < len && buf[i + 1] != '\n') {
        *why = "CR without LF";
        return DEC_ERROR;
    }
    r = parse_line(buf, i, false, out, why);
    if (r != DEC_DONE)
        return r;
    if (i + 1 == len) { /* the line is good; only its LF is missing */
        memset(out, 0, sizeof(*out));
        out->version = 1;
        return DEC_NEED_MORE;
    }
    *used = i + 2;
    return DEC_DONE;
}
