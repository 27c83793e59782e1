/* packet_publish.c - PUBLISH and its acknowledgements PUBACK / PUBREC / PUBREL / PUBCOMP, all
 * versions. Syntax only: topic aliases, ACLs and the QoS flows live in src/handle_publish.c. */
#include "packet.h"
#include "property.h"
#include "topic.h"
#include "wire.h"

#define PF_RETAIN 0x01
#define PF_QOS_SHIFT 1
#define PF_DUP 0x08

enum topic_check { TOPIC_OK, TOPIC_BAD_UTF8, TOPIC_WILDCARD };

/* Byte classes for the topic scan: 0 plain ASCII, 1 control character, 2 wildcard, 3 the
 * start of a multi-byte sequence. A table keeps the common all-ASCII topic at one load and one
 * test per byte: this runs for every PUBLISH. */
#define TC_CTRL 1
#define TC_WILD 2
#define TC_HIGH 3
#define R4(x) x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
static const uint8_t topic_class[256] = {
    R16(TC_CTRL), R16(TC_CTRL),                                  /* 0x00..0x1f */
    0, 0, 0, TC_WILD, 0, 0, 0, 0, 0, 0, 0, TC_WILD, 0, 0, 0, 0,  /* 0x20..0x2f: '#' '+' */
    R16(0), R16(0), R16(0), R16(0), R16(0),                      /* 0x30..0x7f, fixed below */
    R16(TC_HIGH), R16(TC_HIGH), R16(TC_HIGH), R16(TC_HIGH),      /* 0x80..0xff */
    R16(TC_HIGH), R16(TC_HIGH), R16(TC_HIGH), R16(TC_HIGH),
};

/* One pass over the usual all-ASCII topic does both the UTF-8 and the wildcard check. */
static enum topic_check publish_topic_check(const uint8_t *t, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t c = t[i];
        uint8_t k = topic_class[c];

        if (k == 0 && c != 0x7f)
            continue;
        if (k == TC_HIGH) {
            /* '+' and '#' never occur inside a multi-byte sequence, so memchr is exact. */
            if (!utf8_valid(t + i, len - i))
                return TOPIC_BAD_UTF8;
            if (memchr(t + i, '+', len - i) || memchr(t + i, '#', len - i))
                return TOPIC_WILDCARD;
            return TOPIC_OK;
        }
        if (k == TC_WILD)
            return TOPIC_WILDCARD;
        return TOPIC_BAD_UTF8; /* control characters, 0x7f included */
    }
    return TOPIC_OK;
}

uint8_t mqtt_decode_publish(const struct mqtt_frame *f, uint8_t version, struct mqtt_publish *m)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    bool v5 = version == MQTT_V5;
    enum topic_check tc;
    uint8_t rc;

    m->qos = (f->flags >> PF_QOS_SHIFT) & 3;
    m->dup = f->flags & PF_DUP;
    m->retain = f->flags & PF_RETAIN;
    m->packet_id = 0;
    m->topic.p = m->props.p = m->payload.p = NULL;
    m->topic.len = m->props.len = m->payload.len = 0;
    if (f->type != MQTT_PUBLISH)
        return RC_PROTOCOL_ERROR;
    if (m->qos == 3)
        return RC_MALFORMED_PACKET;
    if (m->qos == 0 && m->dup) /* MQTT-3.3.1-2; 2.1.2: 0x81 (publish/v5/dup-on-qos0) */
        return RC_MALFORMED_PACKET;
    if (!wire_bin(&p, end, &m->topic))
        return RC_MALFORMED_PACKET;
    tc = publish_topic_check(m->topic.p, m->topic.len);
    if (tc == TOPIC_BAD_UTF8)
        return RC_MALFORMED_PACKET;
    if (tc == TOPIC_WILDCARD) /* MQTT-3.3.2-2; 2.1.2: 0x81 (publish/v5/wildcard-topic-hash) */
        return RC_MALFORMED_PACKET;
    if (m->qos > 0) {
        if (!wire_u16(&p, end, &m->packet_id))
            return RC_MALFORMED_PACKET;
        if (m->packet_id == 0) /* MQTT-2.2.1-3 */
            return RC_PROTOCOL_ERROR;
    }
    if (v5 && (rc = mqtt_props_read(&p, end, MQTT_PUBLISH, false, &m->props)) != RC_SUCCESS)
        return rc;
    if (m->topic.len == 0) {
        struct mqtt_prop alias;

        /* An empty topic means "use the alias" (MQTT 5 3.3.2.3.4); older versions have none. */
        if (!v5)
            return RC_MALFORMED_PACKET;
        if (!mqtt_props_find(m->props, PROP_TOPIC_ALIAS, &alias))
            return RC_PROTOCOL_ERROR;
    }
    m->payload.p = p;
    m->payload.len = (uint32_t)(end - p);
    return RC_SUCCESS;
}

/* Remaining length of the PUBLISH, or SIZE_MAX if a field cannot be encoded. */
static size_t publish_rem(uint8_t version, const struct mqtt_publish *m)
{
    size_t rem;

    if (m->topic.len > 65535 || m->qos > 2)
        return SIZE_MAX;
    rem = 2 + (size_t)m->topic.len + (m->qos ? 2 : 0) + m->payload.len;
    if (version == MQTT_V5)
        rem += wire_props_size(&m->props);
    return rem;
}

size_t mqtt_publish_size(uint8_t version, const struct mqtt_publish *m)
{
    size_t rem = publish_rem(version, m);

    if (rem > MQTT_MAX_REMAINING)
        return 0;
    return 1 + varint_size((uint32_t)rem) + rem;
}

/* Writes everything before the payload at p (room reserved by the caller); returns the end. */
static inline uint8_t *put_head(uint8_t *p, uint8_t version, const struct mqtt_publish *m, size_t rem)
{
    uint8_t byte0 = MQTT_PUBLISH << 4 | (uint8_t)(m->qos << PF_QOS_SHIFT);

    if (m->dup)
        byte0 |= PF_DUP;
    if (m->retain)
        byte0 |= PF_RETAIN;
    *p++ = byte0;
    p = wire_put_varint(p, (uint32_t)rem);
    p = wire_put_str(p, &m->topic);
    if (m->qos)
        p = wire_put_u16(p, m->packet_id);
    if (version == MQTT_V5)
        p = wire_put_props(p, &m->props);
    return p;
}

bool mqtt_encode_publish(struct buf *b, uint8_t version, const struct mqtt_publish *m)
{
    size_t rem = publish_rem(version, m);

    if (rem > MQTT_MAX_REMAINING || !buf_reserve(b, 1 + varint_size((uint32_t)rem) + rem))
        return false;
    return wire_end(b, wire_put_bytes(put_head(b->data + b->len, version, m, rem), m->payload.p,
                                      m->payload.len));
}

bool mqtt_encode_publish_head(struct buf *b, uint8_t version, const struct mqtt_publish *m)
{
    size_t rem = publish_rem(version, m);

    if (rem > MQTT_MAX_REMAINING ||
        !buf_reserve(b, 1 + varint_size((uint32_t)rem) + rem - m->payload.len))
        return false;
    return wire_end(b, put_head(b->data + b->len, version, m, rem));
}

static bool is_ack_type(uint8_t type)
{
    return type >= MQTT_PUBACK && type <= MQTT_PUBCOMP;
}

uint8_t mqtt_decode_ack(const struct mqtt_frame *f, uint8_t version, struct mqtt_ack *a)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;

    a->packet_id = 0;
    a->reason = 0;
    a->props.p = NULL;
    a->props.len = 0;
    if (!is_ack_type(f->type))
        return RC_PROTOCOL_ERROR;
    if (f->len < 2 || (version < MQTT_V5 && f->len != 2))
        return RC_MALFORMED_PACKET;
    a->packet_id = (uint16_t)(p[0] << 8 | p[1]);
    p += 2;
    if (a->packet_id == 0)
        return version == MQTT_V5 ? RC_PROTOCOL_ERROR : RC_MALFORMED_PACKET;
    if (p == end) /* v5: reason 0 and no properties may be omitted */
        return RC_SUCCESS;
    a->reason = *p++;
    if (p == end)
        return RC_SUCCESS;
    if ((rc = mqtt_props_read(&p, end, f->type, false, &a->props)) != RC_SUCCESS)
        return rc;
    return p == end ? RC_SUCCESS : RC_MALFORMED_PACKET;
}

bool mqtt_encode_ack(struct buf *b, uint8_t type, uint8_t version, uint16_t packet_id,
                     uint8_t reason, const struct mqtt_bin *props)
{
    bool has_props = version == MQTT_V5 && wire_props_len(props) > 0;
    bool has_reason = version == MQTT_V5 && (reason != 0 || has_props);
    uint8_t *p;

    if (!is_ack_type(type))
        return false;
    p = wire_begin(b, (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0)),
                   2 + (has_reason ? 1 : 0) + (has_props ? wire_props_size(props) : 0));
    if (p == NULL)
        return false;
    p = wire_put_u16(p, packet_id);
    if (has_reason)
        *p++ = reason;
    if (has_props)
        p = wire_put_props(p, props);
    return wire_end(b, p);
}
