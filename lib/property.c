/* property.c - MQTT 5 properties (spec 2.2.2.2): the identifier table with each value type and
 * the packets that may carry it, validation of a raw block, iteration and a builder. What a
 * property means to the broker is decided by its handlers, not here. */
#include "property.h"

#include "mqtt_protocol.h"
#include "topic.h"
#include "wire.h"

/* Bit (1 << packet type) per packet that may carry the property; bit 0 = will properties. */
#define W (1u << 0)
#define P(t) (1u << (t))
#define ALL_PACKETS                                                                            \
    (W | P(MQTT_CONNECT) | P(MQTT_CONNACK) | P(MQTT_PUBLISH) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | \
     P(MQTT_PUBREL) | P(MQTT_PUBCOMP) | P(MQTT_SUBSCRIBE) | P(MQTT_SUBACK) |                   \
     P(MQTT_UNSUBSCRIBE) | P(MQTT_UNSUBACK) | P(MQTT_DISCONNECT) | P(MQTT_AUTH))
#define REASON_STRING_PACKETS                                                                \
    (P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_PUBREL) | P(MQTT_PUBCOMP) |  \
     P(MQTT_SUBACK) | P(MQTT_UNSUBACK) | P(MQTT_DISCONNECT) | P(MQTT_AUTH))

/* Value rules beyond the type. */
enum check { CK_NONE, CK_BOOL, CK_NONZERO, CK_TOPIC };

struct prop_def {
    uint8_t known;
    uint8_t type;  /* enum mqtt_prop_type */
    uint8_t check; /* enum check */
    uint16_t where;
};

#define DEF(id, t, ck, w) [id] = { 1, t, ck, w }
static const struct prop_def prop_defs[64] = {
    DEF(PROP_PAYLOAD_FORMAT_INDICATOR, PROPT_BYTE, CK_BOOL, W | P(MQTT_PUBLISH)),
    DEF(PROP_MESSAGE_EXPIRY_INTERVAL, PROPT_U32, CK_NONE, W | P(MQTT_PUBLISH)),
    DEF(PROP_CONTENT_TYPE, PROPT_STRING, CK_NONE, W | P(MQTT_PUBLISH)),
    DEF(PROP_RESPONSE_TOPIC, PROPT_STRING, CK_TOPIC, W | P(MQTT_PUBLISH)),
    DEF(PROP_CORRELATION_DATA, PROPT_BINARY, CK_NONE, W | P(MQTT_PUBLISH)),
    DEF(PROP_SUBSCRIPTION_IDENTIFIER, PROPT_VARINT, CK_NONZERO,
        P(MQTT_PUBLISH) | P(MQTT_SUBSCRIBE)),
    DEF(PROP_SESSION_EXPIRY_INTERVAL, PROPT_U32, CK_NONE,
        P(MQTT_CONNECT) | P(MQTT_CONNACK) | P(MQTT_DISCONNECT)),
    DEF(PROP_ASSIGNED_CLIENT_IDENTIFIER, PROPT_STRING, CK_NONE, P(MQTT_CONNACK)),
    DEF(PROP_SERVER_KEEP_ALIVE, PROPT_U16, CK_NONE, P(MQTT_CONNACK)),
    DEF(PROP_AUTHENTICATION_METHOD, PROPT_STRING, CK_NONE,
        P(MQTT_CONNECT) | P(MQTT_CONNACK) | P(MQTT_AUTH)),
    DEF(PROP_AUTHENTICATION_DATA, PROPT_BINARY, CK_NONE,
        P(MQTT_CONNECT) | P(MQTT_CONNACK) | P(MQTT_AUTH)),
    DEF(PROP_REQUEST_PROBLEM_INFORMATION, PROPT_BYTE, CK_BOOL, P(MQTT_CONNECT)),
    DEF(PROP_WILL_DELAY_INTERVAL, PROPT_U32, CK_NONE, W),
    DEF(PROP_REQUEST_RESPONSE_INFORMATION, PROPT_BYTE, CK_BOOL, P(MQTT_CONNECT)),
    DEF(PROP_RESPONSE_INFORMATION, PROPT_STRING, CK_NONE, P(MQTT_CONNACK)),
    DEF(PROP_SERVER_REFERENCE, PROPT_STRING, CK_NONE, P(MQTT_CONNACK) | P(MQTT_DISCONNECT)),
    DEF(PROP_REASON_STRING, PROPT_STRING, CK_NONE, REASON_STRING_PACKETS),
    DEF(PROP_RECEIVE_MAXIMUM, PROPT_U16, CK_NONZERO, P(MQTT_CONNECT) | P(MQTT_CONNACK)),
    DEF(PROP_TOPIC_ALIAS_MAXIMUM, PROPT_U16, CK_NONE, P(MQTT_CONNECT) | P(MQTT_CONNACK)),
    /* Topic Alias 0 is left to the PUBLISH handler: it answers with Topic Alias invalid. */
    DEF(PROP_TOPIC_ALIAS, PROPT_U16, CK_NONE, P(MQTT_PUBLISH)),
    DEF(PROP_MAXIMUM_QOS, PROPT_BYTE, CK_BOOL, P(MQTT_CONNACK)),
    DEF(PROP_RETAIN_AVAILABLE, PROPT_BYTE, CK_BOOL, P(MQTT_CONNACK)),
    DEF(PROP_USER_PROPERTY, PROPT_PAIR, CK_NONE, ALL_PACKETS),
    DEF(PROP_MAXIMUM_PACKET_SIZE, PROPT_U32, CK_NONZERO, P(MQTT_CONNECT) | P(MQTT_CONNACK)),
    DEF(PROP_WILDCARD_SUB_AVAILABLE, PROPT_BYTE, CK_BOOL, P(MQTT_CONNACK)),
    DEF(PROP_SUBSCRIPTION_ID_AVAILABLE, PROPT_BYTE, CK_BOOL, P(MQTT_CONNACK)),
    DEF(PROP_SHARED_SUB_AVAILABLE, PROPT_BYTE, CK_BOOL, P(MQTT_CONNACK)),
};
#undef DEF

static inline const struct prop_def *prop_def(uint8_t id)
{
    return id < 64 && prop_defs[id].known ? &prop_defs[id] : NULL;
}

int mqtt_prop_type(uint8_t id)
{
    const struct prop_def *d = prop_def(id);

    return d ? d->type : -1;
}

/* Reads one property value of type t at *p. False if it runs past end. */
static bool prop_read(const uint8_t **p, const uint8_t *end, uint8_t t, struct mqtt_prop *out)
{
    const uint8_t *s = *p;
    uint16_t v16;

    switch (t) {
    case PROPT_BYTE:
        if (s >= end)
            return false;
        out->num = *s++;
        break;
    case PROPT_U16:
        if (!wire_u16(&s, end, &v16))
            return false;
        out->num = v16;
        break;
    case PROPT_U32:
        if (end - s < 4)
            return false;
        out->num = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
        s += 4;
        break;
    case PROPT_VARINT:
        if (!wire_varint(&s, end, &out->num))
            return false;
        break;
    case PROPT_STRING:
    case PROPT_BINARY:
        if (!wire_bin(&s, end, &out->bin))
            return false;
        break;
    case PROPT_PAIR:
        if (!wire_bin(&s, end, &out->key) || !wire_bin(&s, end, &out->bin))
            return false;
        break;
    default:
        return false;
    }
    *p = s;
    return true;
}

static _Thread_local bool dup_refused;

bool mqtt_props_take_duplicate(void)
{
    bool d = dup_refused;

    dup_refused = false;
    return d;
}

uint8_t mqtt_props_validate(struct mqtt_bin raw, uint8_t ptype, bool will)
{
    const uint8_t *p = raw.p, *end = raw.p + raw.len;
    uint32_t where = will ? W : (ptype < 16 ? P(ptype) : 0);
    uint64_t seen = 0;

    while (p < end) {
        uint8_t id = *p++;
        const struct prop_def *d = prop_def(id);
        struct mqtt_prop pr;

        /* Ids are varints, but every defined one fits one byte: a continuation bit is unknown.
         * Spec 2.2.2.2: an id not valid for the packet is a Malformed Packet. */
        if (d == NULL || !(d->where & where))
            return RC_MALFORMED_PACKET;
        if (!prop_read(&p, end, d->type, &pr))
            return RC_MALFORMED_PACKET;
        if (seen & ((uint64_t)1 << id)) {
            if (id != PROP_USER_PROPERTY &&
                !(id == PROP_SUBSCRIPTION_IDENTIFIER && ptype == MQTT_PUBLISH && !will)) {
                dup_refused = true;
                return RC_PROTOCOL_ERROR;
            }
        }
        seen |= (uint64_t)1 << id;
        switch (d->type) {
        case PROPT_STRING:
            if (!utf8_valid(pr.bin.p, pr.bin.len))
                return RC_MALFORMED_PACKET;
            break;
        case PROPT_PAIR:
            if (!utf8_valid(pr.key.p, pr.key.len) || !utf8_valid(pr.bin.p, pr.bin.len))
                return RC_MALFORMED_PACKET;
            break;
        default:
            break;
        }
        switch (d->check) {
        case CK_BOOL:
            if (pr.num > 1)
                return RC_PROTOCOL_ERROR;
            break;
        case CK_NONZERO:
            if (pr.num == 0)
                return RC_PROTOCOL_ERROR;
            break;
        case CK_TOPIC:
            if (!topic_name_valid((const char *)pr.bin.p, pr.bin.len))
                return RC_PROTOCOL_ERROR;
            break;
        default:
            break;
        }
    }
    return RC_SUCCESS;
}

uint8_t mqtt_props_read(const uint8_t **p, const uint8_t *end, uint8_t ptype, bool will,
                        struct mqtt_bin *out)
{
    uint32_t n;
    uint8_t rc;

    if (!wire_varint(p, end, &n) || (uint32_t)(end - *p) < n)
        return RC_MALFORMED_PACKET;
    out->p = *p;
    out->len = n;
    if (n && (rc = mqtt_props_validate(*out, ptype, will)) != RC_SUCCESS)
        return rc;
    *p += n;
    return RC_SUCCESS;
}

void mqtt_props_iter(struct mqtt_prop_iter *it, struct mqtt_bin raw)
{
    rd_init(&it->r, raw.p, raw.len);
}

bool mqtt_props_next(struct mqtt_prop_iter *it, struct mqtt_prop *out)
{
    const uint8_t *p, *end;
    const struct prop_def *d;

    if (rd_left(&it->r) == 0)
        return false;
    p = it->r.p + it->r.pos;
    end = it->r.p + it->r.len;
    d = prop_def(*p);
    out->id = *p++;
    out->num = 0;
    out->bin.p = out->key.p = NULL;
    out->bin.len = out->key.len = 0;
    /* Stops at anything unreadable, so an unvalidated block cannot be walked out of bounds. */
    if (d == NULL || !prop_read(&p, end, d->type, out)) {
        it->r.pos = it->r.len;
        return false;
    }
    it->r.pos = (size_t)(p - it->r.p);
    return true;
}

bool mqtt_props_find(struct mqtt_bin raw, uint8_t id, struct mqtt_prop *out)
{
    struct mqtt_prop_iter it;

    mqtt_props_iter(&it, raw);
    while (mqtt_props_next(&it, out))
        if (out->id == id)
            return true;
    return false;
}

bool mqtt_props_add_num(struct buf *b, uint8_t id, uint32_t v)
{
    const struct prop_def *d = prop_def(id);

    if (d == NULL)
        return false;
    switch (d->type) {
    case PROPT_BYTE:
        return v <= 0xff && buf_put_u8(b, id) && buf_put_u8(b, (uint8_t)v);
    case PROPT_U16:
        return v <= 0xffff && buf_put_u8(b, id) && buf_put_u16(b, (uint16_t)v);
    case PROPT_U32:
        return buf_put_u8(b, id) && buf_put_u32(b, v);
    case PROPT_VARINT:
        return v <= MQTT_MAX_REMAINING && buf_put_u8(b, id) && buf_put_varint(b, v);
    default:
        return false;
    }
}

bool mqtt_props_add_bin(struct buf *b, uint8_t id, const void *p, size_t n)
{
    const struct prop_def *d = prop_def(id);

    if (d == NULL || (d->type != PROPT_STRING && d->type != PROPT_BINARY) || n > 65535)
        return false;
    return buf_reserve(b, 3 + n) && buf_put_u8(b, id) && buf_put_str(b, p, n);
}

bool mqtt_props_add_pair(struct buf *b, const void *k, size_t kn, const void *v, size_t vn)
{
    if (kn > 65535 || vn > 65535 || !buf_reserve(b, 5 + kn + vn))
        return false;
    return buf_put_u8(b, PROP_USER_PROPERTY) && buf_put_str(b, k, kn) && buf_put_str(b, v, vn);
}

bool mqtt_props_copy_except(struct buf *b, struct mqtt_bin raw, uint8_t skip1, uint8_t skip2)
{
    struct mqtt_prop_iter it;
    struct mqtt_prop p;
    bool ok = true;

    mqtt_props_iter(&it, raw);
    while (ok && mqtt_props_next(&it, &p)) {
        int type = mqtt_prop_type(p.id);
        if (p.id == skip1 || p.id == skip2)
            continue;
        if (p.id == PROP_USER_PROPERTY)
            ok = mqtt_props_add_pair(b, p.key.p, p.key.len, p.bin.p, p.bin.len);
        else if (type == PROPT_STRING || type == PROPT_BINARY)
            ok = mqtt_props_add_bin(b, p.id, p.bin.p, p.bin.len);
        else
            ok = mqtt_props_add_num(b, p.id, p.num);
    }
    return ok;
}
