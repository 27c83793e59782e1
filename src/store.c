/* store.c - encoder and decoder of the persistence store's records (doc/persistence.md). Every
 * integer is big-endian; every record carries its body length and a CRC32C over length, type and
 * body, so a torn write (length past the end of the file) and damage (checksum) are told apart.
 * Knows nothing of files or of the broker's objects. */
#include "store.h"

#include <string.h>

#include "proxy_decode.h" /* proxy_crc32c: the one CRC32C table of the project */

#define TARGET_SIZE 10u           /* sid(4) qos(1) retain(1) sub_id(4) */
#define PUB_FIXED 11u             /* flags(1) in_sid(4) in_pid(2) ntargets(4) */
#define PUB_HAS_BODY 1u
#define PUB_SET_RETAIN 2u
#define MSG_RETAIN 1u
#define MSG_HAS_USER 2u

static const char *const type_names[STORE__MAX] = {
    [STORE_PUBLISH] = "PUBLISH", [STORE_RETAIN] = "RETAIN", [STORE_SESSION] = "SESSION",
    [STORE_SESSION_DEL] = "SESSION_DEL", [STORE_SUB] = "SUB", [STORE_UNSUB] = "UNSUB",
    [STORE_FLIGHT] = "FLIGHT", [STORE_PUBREC] = "PUBREC", [STORE_DONE] = "DONE",
    [STORE_DROP] = "DROP", [STORE_INQ2] = "INQ2", [STORE_INQ2_DEL] = "INQ2_DEL",
    [STORE_WILL] = "WILL", [STORE_WILL_DEL] = "WILL_DEL",
};

const char *store_type_name(uint8_t type)
{
    return type > 0 && type < STORE__MAX ? type_names[type] : "?";
}

uint32_t store_crc32c(const uint8_t *p, size_t len)
{
    return proxy_crc32c(p, len);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static bool put_u64(struct buf *b, uint64_t v)
{
    return buf_put_u32(b, (uint32_t)(v >> 32)) && buf_put_u32(b, (uint32_t)v);
}

static bool rd_u64(struct rd *r, uint64_t *v)
{
    uint32_t hi, lo;

    if (!rd_u32(r, &hi) || !rd_u32(r, &lo))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static bool rd_str(struct rd *r, struct store_str *s)
{
    struct mqtt_bin b;

    if (!rd_bin(r, &b))
        return false;
    s->p = (const char *)b.p;
    s->len = (uint16_t)b.len;
    return true;
}

static bool rd_bin32(struct rd *r, const uint8_t **p, uint32_t *len)
{
    struct mqtt_bin b;

    if (!rd_u32(r, len) || !rd_bytes(r, *len, &b))
        return false;
    *p = b.p;
    return true;
}

void store_put_header(struct buf *b)
{
    uint8_t h[STORE_HEADER_LEN];

    memcpy(h, STORE_MAGIC, 8);
    set32(h + 8, STORE_VERSION);
    set32(h + 12, store_crc32c(h, 12));
    buf_append(b, h, sizeof(h));
}

enum dec store_header_check(const uint8_t *p, size_t len, const char **why)
{
    size_t n = len < 8 ? len : 8;

    if (memcmp(p, STORE_MAGIC, n) != 0) {
        *why = "not a store file (bad magic)";
        return DEC_ERROR;
    }
    if (len < STORE_HEADER_LEN)
        return DEC_NEED_MORE;
    if (get32(p + 12) != store_crc32c(p, 12)) {
        *why = "header checksum mismatch";
        return DEC_ERROR;
    }
    if (get32(p + 8) != STORE_VERSION) {
        *why = "unsupported store version";
        return DEC_ERROR;
    }
    return DEC_DONE;
}

/* Starts a record: reserves the head, returns its offset (SIZE_MAX on ENOMEM). */
static size_t rec_begin(struct buf *b, uint8_t type)
{
    size_t off = b->len;

    if (!buf_put_u32(b, 0) || !buf_put_u32(b, 0) || !buf_put_u8(b, type))
        return SIZE_MAX;
    return off;
}

/* Fills in length and checksum of the record at off, which runs to the end of b. */
static bool rec_end(struct buf *b, size_t off, bool ok)
{
    uint8_t *h;
    size_t body;

    if (!ok || off == SIZE_MAX)
        return false;
    h = b->data + off;
    body = b->len - off - STORE_REC_HEAD;
    if (body > STORE_MAX_BODY)
        return false;
    set32(h, (uint32_t)body);
    /* CRC over length, type and body: the crc field itself is skipped. */
    uint32_t crc = store_crc32c(h, 4);
    crc = proxy_crc32c_update(crc, h + 8, b->len - off - 8);
    set32(h + 4, crc);
    return true;
}

static bool put_msg(struct buf *b, const struct store_msg *m)
{
    uint8_t fl = (uint8_t)((m->retain ? MSG_RETAIN : 0) | (m->has_user ? MSG_HAS_USER : 0));

    return put_u64(b, m->id) && put_u64(b, (uint64_t)m->expiry) && buf_put_u8(b, m->qos) &&
           buf_put_u8(b, fl) && buf_put_str(b, m->topic.p, m->topic.len) &&
           buf_put_str(b, m->source_id.p, m->source_id.len) &&
           buf_put_str(b, m->source_user.p, m->source_user.len) &&
           buf_put_u32(b, m->payload_len) && buf_append(b, m->payload, m->payload_len) &&
           buf_put_u32(b, m->props_len) && buf_append(b, m->props, m->props_len);
}

static bool rd_msg(struct rd *r, struct store_msg *m)
{
    uint64_t exp;
    uint8_t fl;

    if (!rd_u64(r, &m->id) || !rd_u64(r, &exp) || !rd_u8(r, &m->qos) || !rd_u8(r, &fl) ||
        !rd_str(r, &m->topic) || !rd_str(r, &m->source_id) || !rd_str(r, &m->source_user) ||
        !rd_bin32(r, &m->payload, &m->payload_len) || !rd_bin32(r, &m->props, &m->props_len))
        return false;
    m->expiry = (int64_t)exp;
    m->retain = (fl & MSG_RETAIN) != 0;
    m->has_user = (fl & MSG_HAS_USER) != 0;
    return m->qos <= 2 && (fl & ~(MSG_RETAIN | MSG_HAS_USER)) == 0;
}

bool store_put_retain(struct buf *b, const struct store_msg *m)
{
    size_t off = rec_begin(b, STORE_RETAIN);

    return rec_end(b, off, off != SIZE_MAX && put_msg(b, m));
}

bool store_put_will(struct buf *b, const struct store_str *id, const struct store_str *user,
                    bool has_user, int64_t at, uint32_t delay, const struct store_msg *m)
{
    size_t off = rec_begin(b, STORE_WILL);

    return rec_end(b, off, off != SIZE_MAX && buf_put_str(b, id->p, id->len) &&
                               buf_put_u8(b, has_user) && buf_put_str(b, user->p, user->len) &&
                               put_u64(b, (uint64_t)at) && buf_put_u32(b, delay) && put_msg(b, m));
}

bool store_put_session(struct buf *b, uint32_t sid, const struct store_str *id,
                       const struct store_str *user, bool has_user, uint32_t expiry_interval,
                       int64_t expire_at, uint16_t last_pid, uint8_t flags)
{
    size_t off = rec_begin(b, STORE_SESSION);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && buf_put_u8(b, flags) &&
                               buf_put_u32(b, expiry_interval) &&
                               put_u64(b, (uint64_t)expire_at) && buf_put_u16(b, last_pid) &&
                               buf_put_u8(b, has_user) && buf_put_str(b, id->p, id->len) &&
                               buf_put_str(b, user->p, user->len));
}

bool store_put_sub(struct buf *b, uint32_t sid, const char *filter, size_t len, uint8_t options,
                   uint32_t identifier)
{
    size_t off = rec_begin(b, STORE_SUB);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && buf_put_u8(b, options) &&
                               buf_put_u32(b, identifier) && buf_put_str(b, filter, len));
}

bool store_put_unsub(struct buf *b, uint32_t sid, const char *filter, size_t len)
{
    size_t off = rec_begin(b, STORE_UNSUB);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && buf_put_str(b, filter, len));
}

bool store_put_flight(struct buf *b, uint32_t sid, uint64_t msg_id, uint16_t pid, uint8_t state)
{
    size_t off = rec_begin(b, STORE_FLIGHT);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && put_u64(b, msg_id) &&
                               buf_put_u16(b, pid) && buf_put_u8(b, state));
}

bool store_put_sid_pid(struct buf *b, uint8_t type, uint32_t sid, uint16_t pid)
{
    size_t off = rec_begin(b, type);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && buf_put_u16(b, pid));
}

bool store_put_drop(struct buf *b, uint32_t sid, uint64_t msg_id)
{
    size_t off = rec_begin(b, STORE_DROP);

    return rec_end(b, off, off != SIZE_MAX && buf_put_u32(b, sid) && put_u64(b, msg_id));
}

bool store_put_will_del(struct buf *b, const char *id, size_t len)
{
    size_t off = rec_begin(b, STORE_WILL_DEL);

    return rec_end(b, off, off != SIZE_MAX && buf_put_str(b, id, len));
}

size_t store_publish_begin(struct buf *b, const struct store_msg *m, bool with_body,
                           bool set_retain)
{
    size_t off = rec_begin(b, STORE_PUBLISH);
    uint8_t fl = (uint8_t)((with_body ? PUB_HAS_BODY : 0) | (set_retain ? PUB_SET_RETAIN : 0));

    if (off == SIZE_MAX)
        return SIZE_MAX;
    /* in_sid, in_pid and the target count are filled in by store_publish_end(). */
    if (!buf_put_u8(b, fl) || !buf_put_u32(b, 0) || !buf_put_u16(b, 0) || !buf_put_u32(b, 0))
        return SIZE_MAX;
    if (!(with_body ? put_msg(b, m) : put_u64(b, m->id)))
        return SIZE_MAX;
    return off;
}

bool store_publish_target(struct buf *b, const struct store_target *t)
{
    return buf_put_u32(b, t->sid) && buf_put_u8(b, t->qos) && buf_put_u8(b, t->retain) &&
           buf_put_u32(b, t->sub_id);
}

bool store_publish_end(struct buf *b, size_t off, uint32_t in_sid, uint16_t in_pid)
{
    uint8_t *f = b->data + off + STORE_REC_HEAD;
    size_t msg_end;
    uint32_t n;

    /* The targets are the fixed-size tail after the message: count them from the message's
     * end, found by decoding the head of the body again. */
    struct rd r;
    struct store_msg m;
    rd_init(&r, f + PUB_FIXED, b->len - off - STORE_REC_HEAD - PUB_FIXED);
    if (f[0] & PUB_HAS_BODY) {
        if (!rd_msg(&r, &m))
            return false;
    } else if (!rd_u64(&r, &m.id)) {
        return false;
    }
    msg_end = r.pos;
    n = (uint32_t)((r.len - msg_end) / TARGET_SIZE);
    set32(f + 1, in_sid);
    f[5] = (uint8_t)(in_pid >> 8);
    f[6] = (uint8_t)in_pid;
    set32(f + 7, n);
    return rec_end(b, off, true);
}

void store_target_at(const struct store_rec *r, uint32_t i, struct store_target *t)
{
    const uint8_t *p = r->targets + (size_t)i * TARGET_SIZE;

    t->sid = get32(p);
    t->qos = p[4];
    t->retain = p[5] != 0;
    t->sub_id = get32(p + 6);
}

static bool decode_publish(struct rd *r, struct store_rec *rec)
{
    uint8_t fl;
    struct mqtt_bin t;

    if (!rd_u8(r, &fl) || !rd_u32(r, &rec->in_sid) || !rd_u16(r, &rec->in_pid) ||
        !rd_u32(r, &rec->ntargets) || (fl & ~(PUB_HAS_BODY | PUB_SET_RETAIN)) != 0)
        return false;
    rec->has_body = (fl & PUB_HAS_BODY) != 0;
    rec->set_retain = (fl & PUB_SET_RETAIN) != 0;
    if (rec->has_body ? !rd_msg(r, &rec->msg) : !rd_u64(r, &rec->msg.id))
        return false;
    if (rec->set_retain && !rec->has_body)
        return false;
    if (rd_left(r) != (size_t)rec->ntargets * TARGET_SIZE ||
        !rd_bytes(r, rd_left(r), &t))
        return false;
    rec->targets = t.p;
    for (uint32_t i = 0; i < rec->ntargets; i++) {
        struct store_target tg;
        store_target_at(rec, i, &tg);
        if (tg.qos > 2 || t.p[i * TARGET_SIZE + 5] > 1)
            return false;
    }
    return true;
}

static bool decode_body(struct rd *r, struct store_rec *rec)
{
    uint8_t b8;
    uint64_t v64;

    switch (rec->type) {
    case STORE_PUBLISH:
        return decode_publish(r, rec);
    case STORE_RETAIN:
        return rd_msg(r, &rec->msg);
    case STORE_WILL:
        if (!rd_str(r, &rec->id) || !rd_u8(r, &b8) || !rd_str(r, &rec->user) || !rd_u64(r, &v64) ||
            !rd_u32(r, &rec->identifier) || !rd_msg(r, &rec->msg) || b8 > 1)
            return false;
        rec->has_user = b8;
        rec->expire_at = (int64_t)v64;
        return true;
    case STORE_SESSION:
        if (!rd_u32(r, &rec->sid) || !rd_u8(r, &rec->flags) || !rd_u32(r, &rec->expiry_interval) ||
            !rd_u64(r, &v64) || !rd_u16(r, &rec->last_pid) || !rd_u8(r, &b8) ||
            !rd_str(r, &rec->id) || !rd_str(r, &rec->user) || b8 > 1)
            return false;
        rec->has_user = b8;
        rec->expire_at = (int64_t)v64;
        return true;
    case STORE_SUB:
        return rd_u32(r, &rec->sid) && rd_u8(r, &rec->options) && rd_u32(r, &rec->identifier) &&
               rd_str(r, &rec->filter);
    case STORE_UNSUB:
        return rd_u32(r, &rec->sid) && rd_str(r, &rec->filter);
    case STORE_FLIGHT:
        return rd_u32(r, &rec->sid) && rd_u64(r, &rec->msg_id) && rd_u16(r, &rec->pid) &&
               rd_u8(r, &rec->state) && rec->state >= 1 && rec->state <= 3;
    case STORE_SESSION_DEL:
    case STORE_PUBREC:
    case STORE_DONE:
    case STORE_INQ2:
    case STORE_INQ2_DEL:
        return rd_u32(r, &rec->sid) && rd_u16(r, &rec->pid);
    case STORE_DROP:
        return rd_u32(r, &rec->sid) && rd_u64(r, &rec->msg_id);
    case STORE_WILL_DEL:
        return rd_str(r, &rec->id);
    default:
        return false;
    }
}

enum dec store_decode(const uint8_t *p, size_t len, struct store_rec *rec, size_t *used,
                      const char **why)
{
    uint32_t body;
    struct rd r;

    if (len < STORE_REC_HEAD)
        return DEC_NEED_MORE;
    body = get32(p);
    if (body > STORE_MAX_BODY) {
        *why = "record length out of range";
        return DEC_ERROR;
    }
    if (len - STORE_REC_HEAD < body)
        return DEC_NEED_MORE;
    uint32_t crc = proxy_crc32c_update(store_crc32c(p, 4), p + 8, (size_t)body + 1);
    if (crc != get32(p + 4)) {
        *why = "record checksum mismatch";
        return DEC_ERROR;
    }
    memset(rec, 0, sizeof(*rec));
    rec->type = p[8];
    rd_init(&r, p + STORE_REC_HEAD, body);
    if (!decode_body(&r, rec) || rd_left(&r) != 0) {
        *why = "malformed record";
        return DEC_ERROR;
    }
    *used = STORE_REC_HEAD + body;
    return DEC_DONE;
}
