/* bench_wire.c - hand-rolled client-side MQTT encoding for the load generator (see the header).
 * Kept separate from lib/ on purpose: a benchmark that shares the code it measures cannot catch
 * that code producing or accepting the wrong bytes. */
#include "bench_wire.h"

#include <string.h>

static size_t varint_len(size_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;

    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put_str(uint8_t *p, const char *s, size_t len)
{
    put_u16(p, (uint16_t)len);
    memcpy(p + 2, s, len);
    return len + 2;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads a variable byte integer at p[0..len); returns its size or 0 if cut or too long. */
static size_t get_varint(const uint8_t *p, size_t len, size_t *v)
{
    size_t val = 0;

    for (size_t i = 0; i < 4 && i < len; i++) {
        val |= (size_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = val;
            return i + 1;
        }
    }
    return 0;
}

static size_t connect_body_len(const char *client_id, int version)
{
    /* protocol name, level, flags, keepalive, [props], client id */
    return 6 + 1 + 1 + 2 + (version == 5 ? 1 : 0) + 2 + strlen(client_id);
}

size_t bench_wire_connect_len(const char *client_id, int version)
{
    size_t body = connect_body_len(client_id, version);

    return 1 + varint_len(body) + body;
}

size_t bench_wire_connect(uint8_t *out, const char *client_id, int version, uint16_t keepalive,
                          bool clean)
{
    size_t body = connect_body_len(client_id, version);
    size_t n = 0;

    out[n++] = BW_CONNECT << 4;
    n += put_varint(out + n, body);
    n += put_str(out + n, "MQTT", 4);
    out[n++] = (uint8_t)version;
    out[n++] = clean ? 0x02 : 0x00; /* each run's ids are new: no session to resume */
    n += put_u16(out + n, keepalive);
    if (version == 5)
        out[n++] = 0;  /* no properties: session expiry 0, default receive maximum */
    n += put_str(out + n, client_id, strlen(client_id));
    return n;
}

size_t bench_wire_subscribe_len(const char *filter, int version)
{
    size_t body = 2 + (version == 5 ? 1 : 0) + 2 + strlen(filter) + 1;

    return 1 + varint_len(body) + body;
}

size_t bench_wire_subscribe(uint8_t *out, uint16_t pid, const char *filter, int qos, int version)
{
    size_t body = 2 + (version == 5 ? 1 : 0) + 2 + strlen(filter) + 1;
    size_t n = 0;

    out[n++] = BW_SUBSCRIBE << 4 | 0x02;
    n += put_varint(out + n, body);
    n += put_u16(out + n, pid);
    if (version == 5)
        out[n++] = 0;
    n += put_str(out + n, filter, strlen(filter));
    out[n++] = (uint8_t)qos;
    return n;
}

static size_t publish_body_len(size_t topic_len, size_t payload_len, int qos, int version)
{
    return 2 + topic_len + (qos ? 2 : 0) + (version == 5 ? 1 : 0) + payload_len;
}

size_t bench_wire_publish_len(size_t topic_len, size_t payload_len, int qos, int version)
{
    size_t body = publish_body_len(topic_len, payload_len, qos, version);

    return 1 + varint_len(body) + body;
}

size_t bench_wire_publish(uint8_t *out, const char *topic, size_t topic_len, size_t payload_len,
                          int qos, uint16_t pid, int version, const struct bench_wire_stamp *st)
{
    size_t n = 0;

    out[n++] = (uint8_t)(BW_PUBLISH << 4 | qos << 1);
    n += put_varint(out + n, publish_body_len(topic_len, payload_len, qos, version));
    n += put_str(out + n, topic, topic_len);
    if (qos)
        n += put_u16(out + n, pid);
    if (version == 5)
        out[n++] = 0;
    /* Native byte order: only this process writes and reads the stamp. */
    memcpy(out + n, &st->ts_ns, 8);
    memcpy(out + n + 8, &st->pub, 4);
    memcpy(out + n + 12, &st->seq, 4);
    memset(out + n + BENCH_WIRE_STAMP_LEN, 'x', payload_len - BENCH_WIRE_STAMP_LEN);
    return n + payload_len;
}

size_t bench_wire_ack(uint8_t *out, int type, uint16_t pid)
{
    out[0] = (uint8_t)(type << 4 | (type == BW_PUBREL ? 0x02 : 0));
    out[1] = 2;
    put_u16(out + 2, pid);
    return 4;
}

size_t bench_wire_disconnect(uint8_t *out)
{
    out[0] = BW_DISCONNECT << 4;
    out[1] = 0;
    return 2;
}

int bench_wire_frame(const uint8_t *buf, size_t len, size_t *total, size_t *hdr)
{
    size_t rl, vl;

    if (len < 2)
        return 0;
    vl = get_varint(buf + 1, len - 1, &rl);
    if (vl == 0)
        return len - 1 >= 4 ? -1 : 0;
    *hdr = 1 + vl;
    *total = *hdr + rl;
    return len >= *total ? 1 : 0;
}

/* Skips a v5 property block at p[0..len); returns the bytes it took or 0 if it does not fit. */
static size_t skip_props(const uint8_t *p, size_t len)
{
    size_t plen, vl = get_varint(p, len, &plen);

    if (vl == 0 || plen > len - vl)
        return 0;
    return vl + plen;
}

int bench_wire_parse_publish(uint8_t flags, const uint8_t *body, size_t len, int version,
                             struct bench_wire_pub *out)
{
    size_t n, tl;

    if (len < 2)
        return -1;
    tl = get_u16(body);
    n = 2 + tl;
    out->qos = (flags >> 1) & 3;
    out->pid = 0;
    if (out->qos) {
        if (n + 2 > len)
            return -1;
        out->pid = get_u16(body + n);
        n += 2;
    }
    if (version == 5) {
        size_t pl = n < len ? skip_props(body + n, len - n) : 0;
        if (pl == 0)
            return -1;
        n += pl;
    }
    if (n > len)
        return -1;
    out->payload = body + n;
    out->payload_len = len - n;
    return 0;
}

/* Finds Receive Maximum (0x21) in a v5 property list; leaves *v alone when absent. */
static void find_recv_max(const uint8_t *p, size_t len, uint32_t *v)
{
    size_t plen, i, vl = get_varint(p, len, &plen);

    if (vl == 0 || plen > len - vl)
        return;
    p += vl;
    for (i = 0; i < plen;) {
        uint8_t id = p[i++];
        size_t x, l;
        switch (id) {
        case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
            i += 1;
            break;
        case 0x21:
            if (i + 2 <= plen)
                *v = get_u16(p + i);
            i += 2;
            break;
        case 0x13: case 0x22: case 0x23:
            i += 2;
            break;
        case 0x02: case 0x11: case 0x18: case 0x27:
            i += 4;
            break;
        case 0x0b:
            l = get_varint(p + i, plen - i, &x);
            if (l == 0)
                return;
            i += l;
            break;
        case 0x26:   /* string pair: two length-prefixed strings */
            if (i + 2 > plen)
                return;
            i += 2 + get_u16(p + i);
            /* fall through - the value is one more string */
        default:     /* every other property is one length-prefixed string or blob */
            if (i + 2 > plen)
                return;
            i += 2 + get_u16(p + i);
            break;
        }
    }
}

int bench_wire_parse_connack(const uint8_t *body, size_t len, int version, uint32_t *recv_max)
{
    *recv_max = 0;
    if (len < 2)
        return -1;
    if (version == 5 && len > 2)
        find_recv_max(body + 2, len - 2, recv_max);
    return body[1];
}

int bench_wire_parse_ack(const uint8_t *body, size_t len, uint16_t *pid, uint8_t *reason)
{
    if (len < 2)
        return -1;
    *pid = get_u16(body);
    *reason = len > 2 ? body[2] : 0;
    return 0;
}

int bench_wire_parse_suback(const uint8_t *body, size_t len, int version)
{
    size_t n = 2;

    if (len < 3)
        return -1;
    if (version == 5) {
        size_t pl = skip_props(body + 2, len - 2);
        if (pl == 0)
            return -1;
        n += pl;
    }
    return n < len ? body[n] : -1;
}

int bench_wire_match(const char *f, const char *t)
{
    for (;;) {
        if (*f == '#')
            return 1;
        if (*f == '+') {
            while (*t && *t != '/')
                t++;
            f++;
        } else {
            while (*f && *f != '/' && *f == *t) {
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/'))
                return 0;
        }
        if (!*f && !*t)
            return 1;
        if (*f != '/' || *t != '/') {
            /* "a/#" also matches "a": the filter may end in "/#" once the topic is done */
            return !*t && f[0] == '/' && f[1] == '#' && !f[2];
        }
        f++;
        t++;
    }
}
