/* buf.c - growable byte buffer for encoders and output queues, and the bounds-checked read
 * cursor used by decoders, including the MQTT variable byte integer. No MQTT packet logic. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "mqtt_protocol.h"

#define BUF_MIN_CAP 64

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

bool buf_reserve(struct buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len)
        return false;
    need = b->len + extra;
    if (need <= b->cap)
        return true;
    /* Doubling keeps appends amortised O(1); the floor avoids tiny reallocations. */
    cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (!buf_reserve(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

bool buf_put_u8(struct buf *b, uint8_t v)
{
    if (!buf_reserve(b, 1))
        return false;
    b->data[b->len++] = v;
    return true;
}

bool buf_put_u16(struct buf *b, uint16_t v)
{
    if (!buf_reserve(b, 2))
        return false;
    b->data[b->len++] = (uint8_t)(v >> 8);
    b->data[b->len++] = (uint8_t)v;
    return true;
}

bool buf_put_u32(struct buf *b, uint32_t v)
{
    if (!buf_reserve(b, 4))
        return false;
    b->data[b->len++] = (uint8_t)(v >> 24);
    b->data[b->len++] = (uint8_t)(v >> 16);
    b->data[b->len++] = (uint8_t)(v >> 8);
    b->data[b->len++] = (uint8_t)v;
    return true;
}

bool buf_put_varint(struct buf *b, uint32_t v)
{
    if (v > MQTT_MAX_REMAINING || !buf_reserve(b, 4))
        return false;
    do {
        uint8_t byte = v & 0x7f;

        v >>= 7;
        if (v)
            byte |= 0x80;
        b->data[b->len++] = byte;
    } while (v);
    return true;
}

bool buf_put_str(struct buf *b, const void *p, size_t n)
{
    if (n > 65535 || !buf_reserve(b, 2 + n))
        return false;
    b->data[b->len++] = (uint8_t)(n >> 8);
    b->data[b->len++] = (uint8_t)n;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_shrink(struct buf *b, size_t keep_cap)
{
    if (b->len == 0 && b->cap > keep_cap)
        buf_free(b);
}

bool rd_u8(struct rd *r, uint8_t *v)
{
    if (rd_left(r) < 1)
        return false;
    *v = r->p[r->pos++];
    return true;
}

bool rd_u16(struct rd *r, uint16_t *v)
{
    const uint8_t *p;

    if (rd_left(r) < 2)
        return false;
    p = r->p + r->pos;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    r->pos += 2;
    return true;
}

bool rd_u32(struct rd *r, uint32_t *v)
{
    const uint8_t *p;

    if (rd_left(r) < 4)
        return false;
    p = r->p + r->pos;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    r->pos += 4;
    return true;
}

bool rd_varint(struct rd *r, uint32_t *v)
{
    size_t used;

    if (varint_decode(r->p + r->pos, rd_left(r), v, &used) != DEC_DONE)
        return false;
    r->pos += used;
    return true;
}

bool rd_bytes(struct rd *r, size_t n, struct mqtt_bin *out)
{
    if (rd_left(r) < n || n > UINT32_MAX)
        return false;
    out->p = r->p + r->pos;
    out->len = (uint32_t)n;
    r->pos += n;
    return true;
}

bool rd_bin(struct rd *r, struct mqtt_bin *out)
{
    uint16_t n;
    size_t save = r->pos;

    if (!rd_u16(r, &n))
        return false;
    if (!rd_bytes(r, n, out)) {
        r->pos = save;
        return false;
    }
    return true;
}

int varint_decode(const uint8_t *p, size_t len, uint32_t *value, size_t *used)
{
    uint32_t v = 0;
    size_t i;

    for (i = 0; i < 4; i++) {
        if (i >= len)
            return DEC_NEED_MORE;
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            /* MQTT 5 1.5.5: the minimum number of bytes; a zero last byte means padding. */
            if (i > 0 && p[i] == 0)
                return DEC_ERROR;
            *value = v;
            *used = i + 1;
            return DEC_DONE;
        }
    }
    return DEC_ERROR;
}

size_t varint_size(uint32_t v)
{
    if (v < 128u)
        return 1;
    if (v < 16384u)
        return 2;
    if (v < 2097152u)
        return 3;
    return 4;
}
