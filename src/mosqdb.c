/* mosqdb.c - decoder of mosquitto.db chunks (layout in doc/persistence.md). Chunk headers and
 * lengths are big-endian; store ids, the CFG chunk's id and expiry times are in the writing
 * machine's byte order, little-endian on every machine Debian's and our builds ran on. */
#include "mosqdb.h"

#include <string.h>

static const uint8_t magic[MOSQDB_MAGIC_LEN] = { 0x00, 0xB5, 0x00, 'm', 'o', 's', 'q', 'u',
                                                 'i',  't',  't',  'o', ' ', 'd', 'b' };

struct cur {
    const uint8_t *p;
    size_t len, pos;
    bool ok;
};

static const uint8_t *take(struct cur *c, size_t n)
{
    const uint8_t *p;

    if (!c->ok || c->len - c->pos < n) {
        c->ok = false;
        return NULL;
    }
    p = c->p + c->pos;
    c->pos += n;
    return p;
}

static uint8_t u8(struct cur *c)
{
    const uint8_t *p = take(c, 1);
    return p != NULL ? p[0] : 0;
}

static uint16_t u16(struct cur *c)
{
    const uint8_t *p = take(c, 2);
    return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t u32(struct cur *c)
{
    const uint8_t *p = take(c, 4);
    return p != NULL ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                     : 0;
}

static uint64_t le64(struct cur *c)
{
    const uint8_t *p = take(c, 8);
    uint64_t v = 0;

    for (int i = 7; p != NULL && i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static struct mosqdb_bytes bytes(struct cur *c, size_t n)
{
    const uint8_t *p = take(c, n);
    return (struct mosqdb_bytes){ p, p != NULL ? (uint32_t)n : 0 };
}

/* Properties at the end of a chunk: a variable byte integer length, then that many bytes. */
static struct mosqdb_bytes props(struct cur *c)
{
    uint32_t n = 0;
    int shift = 0;

    if (c->pos == c->len)
        return (struct mosqdb_bytes){ NULL, 0 };
    for (int i = 0; i < 4; i++) {
        uint8_t b = u8(c);
        n |= (uint32_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return bytes(c, n);
    }
    c->ok = false;
    return (struct mosqdb_bytes){ NULL, 0 };
}

int mosqdb_header(const uint8_t *p, size_t len, const char **why)
{
    if (len < MOSQDB_HEADER_LEN || memcmp(p, magic, sizeof(magic)) != 0) {
        *why = "not a mosquitto.db file";
        return -1;
    }
    if (((uint32_t)p[19] << 24 | (uint32_t)p[20] << 16 | (uint32_t)p[21] << 8 | p[22]) !=
        MOSQDB_VERSION) {
        *why = "unsupported mosquitto.db version (only version 6, Mosquitto 2.x)";
        return -1;
    }
    return 0;
}

static void msg_store(struct cur *c, struct mosqdb_rec *r)
{
    uint32_t plen;
    uint16_t idlen, ulen, tlen;

    r->store_id = le64(c);
    r->expiry = (int64_t)le64(c);
    plen = u32(c);
    r->mid = u16(c);
    idlen = u16(c);
    ulen = u16(c);
    tlen = u16(c);
    r->port = u16(c);
    r->qos = u8(c);
    r->retain = u8(c);
    r->client_id = bytes(c, idlen);
    r->username = bytes(c, ulen);
    r->topic = bytes(c, tlen);
    r->payload = bytes(c, plen);
    r->props = props(c);
}

static void client_msg(struct cur *c, struct mosqdb_rec *r)
{
    uint16_t idlen;
    uint8_t rd;

    r->store_id = le64(c);
    r->mid = u16(c);
    idlen = u16(c);
    r->qos = u8(c);
    r->state = u8(c);
    rd = u8(c);
    r->direction = u8(c);
    r->retain = (rd >> 4) & 1;  /* seen: 0x01 on a message sent once before (dup) */
    r->dup = rd & 1;
    r->client_id = bytes(c, idlen);
    r->props = props(c);
}

static void client(struct cur *c, struct mosqdb_rec *r)
{
    uint16_t idlen, ulen;

    r->expiry = (int64_t)le64(c);
    r->expiry_interval = u32(c);
    r->mid = u16(c);
    idlen = u16(c);
    r->port = u16(c);
    ulen = u16(c);
    (void)take(c, 4); /* padding */
    r->client_id = bytes(c, idlen);
    r->username = bytes(c, ulen);
}

static void sub(struct cur *c, struct mosqdb_rec *r)
{
    uint16_t idlen, tlen;

    r->identifier = u32(c);
    idlen = u16(c);
    tlen = u16(c);
    r->qos = u8(c);
    r->options = u8(c);
    (void)take(c, 2); /* padding */
    r->client_id = bytes(c, idlen);
    r->topic = bytes(c, tlen);
}

int mosqdb_next(const uint8_t *p, size_t len, struct mosqdb_rec *r, size_t *used,
                const char **why)
{
    struct cur c;
    uint32_t type, clen;

    if (len == 0)
        return 0;
    if (len < 8) {
        *why = "truncated chunk header";
        return -1;
    }
    type = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    clen = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    if (clen > len - 8) {
        *why = "chunk runs past the end of the file";
        return -1;
    }
    memset(r, 0, sizeof(*r));
    r->type = type;
    c = (struct cur){ p + 8, clen, 0, true };
    switch (type) {
    case MOSQDB_CFG:
        r->store_id = le64(&c);
        r->shutdown = u8(&c);
        c.pos = c.len; /* db id size and padding */
        break;
    case MOSQDB_MSG_STORE:
        msg_store(&c, r);
        break;
    case MOSQDB_CLIENT_MSG:
        client_msg(&c, r);
        break;
    case MOSQDB_RETAIN:
        r->store_id = le64(&c);
        break;
    case MOSQDB_SUB:
        sub(&c, r);
        break;
    case MOSQDB_CLIENT:
        client(&c, r);
        break;
    default:
        c.pos = c.len; /* a chunk type we do not know: skipped */
        break;
    }
    if (!c.ok || c.pos != c.len || r->qos > 2) {
        *why = "malformed chunk";
        return -1;
    }
    *used = 8 + (size_t)clen;
    return 1;
}
