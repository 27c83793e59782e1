/* buf.h - growable byte buffer (output queues, encoders) and a bounds-checked read cursor
 * (decoders). The cursor never reads past its end: every getter returns false instead. */
#ifndef BUF_H
#define BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data; /* owned; NULL while cap == 0 */
    size_t len;    /* bytes in use, from data[0] */
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);                         /* frees storage, back to empty */
bool buf_reserve(struct buf *b, size_t extra);        /* room for len + extra; false on ENOMEM */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_put_u8(struct buf *b, uint8_t v);
bool buf_put_u16(struct buf *b, uint16_t v);          /* big-endian */
bool buf_put_u32(struct buf *b, uint32_t v);          /* big-endian */
bool buf_put_varint(struct buf *b, uint32_t v);       /* false also if v > MQTT_MAX_REMAINING */
bool buf_put_str(struct buf *b, const void *p, size_t n); /* u16 length + bytes; n <= 65535 */
void buf_consume(struct buf *b, size_t n);            /* drop n bytes from the front */
void buf_shrink(struct buf *b, size_t keep_cap);      /* release memory if empty and cap > keep */

/* Bytes borrowed from a packet or a buffer; not NUL-terminated. */
struct mqtt_bin {
    const uint8_t *p;
    uint32_t len;
};

/* Read cursor over [p, p + len). */
struct rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
}
static inline size_t rd_left(const struct rd *r) { return r->len - r->pos; }

bool rd_u8(struct rd *r, uint8_t *v);
bool rd_u16(struct rd *r, uint16_t *v);
bool rd_u32(struct rd *r, uint32_t *v);
bool rd_varint(struct rd *r, uint32_t *v);            /* rejects non-minimal 5-byte forms */
bool rd_bin(struct rd *r, struct mqtt_bin *out);      /* u16 length + bytes */
bool rd_bytes(struct rd *r, size_t n, struct mqtt_bin *out);

/* Decodes a variable byte integer at p[0..len): DONE (value, *used), NEED_MORE, or ERROR (more
 * than 4 bytes). Used by the framer on partial input. Returns an enum dec. */
int varint_decode(const uint8_t *p, size_t len, uint32_t *value, size_t *used);
size_t varint_size(uint32_t v);                       /* 1..4 */

#endif
