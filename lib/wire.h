/* wire.h - private to lib/: inline readers over a (pointer, end) pair and writers into memory
 * already reserved in a struct buf, shared by the packet_*.c codecs. Not a public interface. */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mqtt_protocol.h"

/* ---- readers: each checks the length first and advances *p only on success ---- */

static inline bool wire_u16(const uint8_t **p, const uint8_t *end, uint16_t *v)
{
    if (end - *p < 2)
        return false;
    *v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
    *p += 2;
    return true;
}

/* u16 length + bytes */
static inline bool wire_bin(const uint8_t **p, const uint8_t *end, struct mqtt_bin *out)
{
    size_t n;

    if (end - *p < 2)
        return false;
    n = (size_t)((*p)[0] << 8 | (*p)[1]);
    if ((size_t)(end - *p) - 2 < n)
        return false;
    out->p = *p + 2;
    out->len = (uint32_t)n;
    *p += 2 + n;
    return true;
}

/* Variable byte integer: at most 4 bytes, minimal form. */
static inline bool wire_varint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    size_t used;

    if (*p < end && !(**p & 0x80)) { /* the common one-byte case */
        *v = **p;
        (*p)++;
        return true;
    }
    if (varint_decode(*p, (size_t)(end - *p), v, &used) != DEC_DONE)
        return false;
    *p += used;
    return true;
}

/* ---- writers: the caller reserved room with wire_begin() ---- */

static inline uint8_t *wire_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *wire_put_varint(uint8_t *p, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7f;

        v >>= 7;
        if (v)
            byte |= 0x80;
        *p++ = byte;
    } while (v);
    return p;
}

static inline uint8_t *wire_put_bytes(uint8_t *p, const void *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

static inline uint8_t *wire_put_str(uint8_t *p, const struct mqtt_bin *s)
{
    return wire_put_bytes(wire_put_u16(p, (uint16_t)s->len), s->p, s->len);
}

static inline uint32_t wire_props_len(const struct mqtt_bin *props)
{
    return props ? props->len : 0;
}

/* Property length varint + raw properties. */
static inline size_t wire_props_size(const struct mqtt_bin *props)
{
    uint32_t n = wire_props_len(props);

    return varint_size(n) + n;
}

static inline uint8_t *wire_put_props(uint8_t *p, const struct mqtt_bin *props)
{
    uint32_t n = wire_props_len(props);

    p = wire_put_varint(p, n);
    return n ? wire_put_bytes(p, props->p, n) : p;
}

/* Reserves room for a whole packet with remaining length rem and writes its fixed header.
 * Returns where the variable header goes, or NULL if rem cannot be encoded or memory ran out.
 * Finish with wire_end() once exactly rem bytes are written. */
static inline uint8_t *wire_begin(struct buf *b, uint8_t byte0, size_t rem)
{
    uint8_t *p;

    if (rem > MQTT_MAX_REMAINING || !buf_reserve(b, 1 + varint_size((uint32_t)rem) + rem))
        return NULL;
    p = b->data + b->len;
    *p++ = byte0;
    return wire_put_varint(p, (uint32_t)rem);
}

static inline bool wire_end(struct buf *b, uint8_t *p)
{
    b->len = (size_t)(p - b->data);
    return true;
}

/* Reads a v5 property block (length varint + bytes) and validates it for ptype. Returns 0 or a
 * reason code. Defined in property.c. */
uint8_t mqtt_props_read(const uint8_t **p, const uint8_t *end, uint8_t ptype, bool will,
                        struct mqtt_bin *out);

#endif
