/* packet_subscribe.c - SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK for all versions. Entry
 * lists are validated once and then walked in place; filter wildcard rules and $share names are
 * judged by src/handle_subscribe.c with topic.h, since they earn a reason code, not a close. */
#include "packet.h"
#include "property.h"
#include "topic.h"
#include "wire.h"

/* Checks one subscription options byte. */
static uint8_t sub_options_check(uint8_t o, uint8_t version)
{
    if ((o & SUBOPT_QOS_MASK) == 3)
        return RC_MALFORMED_PACKET;
    if (version < MQTT_V5) /* 3.x: only the QoS bits exist (MQTT-3.8.3-4) */
        return (o & ~SUBOPT_QOS_MASK) ? RC_MALFORMED_PACKET : RC_SUCCESS;
    if (o & 0xc0) /* bits 6-7 reserved, MQTT-3.8.3-5 */
        return RC_MALFORMED_PACKET;
    if ((o & SUBOPT_RETAIN_HANDLING_MASK) >> SUBOPT_RETAIN_HANDLING_SHIFT == 3)
        return RC_PROTOCOL_ERROR;
    return RC_SUCCESS;
}

/* Packet id, v5 properties, then at least one entry: filter string (+ options byte). */
static uint8_t subscribe_decode(const struct mqtt_frame *f, uint8_t version, bool is_sub,
                                struct mqtt_subscribe *s)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;

    memset(s, 0, sizeof(*s));
    if (f->type != (is_sub ? MQTT_SUBSCRIBE : MQTT_UNSUBSCRIBE))
        return RC_PROTOCOL_ERROR;
    if (!wire_u16(&p, end, &s->packet_id))
        return RC_MALFORMED_PACKET;
    if (s->packet_id == 0) /* MQTT-2.2.1-3; 2.1.2: 0x81 (subscribe/v5/mid-0) */
        return RC_MALFORMED_PACKET;
    if (version == MQTT_V5 &&
        (rc = mqtt_props_read(&p, end, f->type, false, &s->props)) != RC_SUCCESS)
        return rc;
    s->entries.p = p;
    s->entries.len = (uint32_t)(end - p);
    while (p < end) {
        struct mqtt_bin filter;

        if (!wire_bin(&p, end, &filter) || !utf8_valid(filter.p, filter.len))
            return RC_MALFORMED_PACKET;
        if (is_sub) {
            if (p >= end)
                return RC_MALFORMED_PACKET;
            if ((rc = sub_options_check(*p++, version)) != RC_SUCCESS)
                return rc;
        }
        s->count++;
    }
    /* MQTT-3.8.3-3, MQTT-3.10.3-2. MQTT 3.1 has no such rule: 2.1.2 answers an empty 3.1
     * SUBSCRIBE with an empty SUBACK (subscribe/v31/no-topics). MQTT 5.0 3.8.3 / 3.10.3 call
     * it a Protocol Error (2.1.2 sends 0x81: a difference kept, README); 3.1.1 names no class
     * and 2.1.2 logs it as malformed (subscribe/v311/no-topics). */
    if (s->count == 0 && version != MQTT_V31)
        return version == MQTT_V5 ? RC_PROTOCOL_ERROR : RC_MALFORMED_PACKET;
    return RC_SUCCESS;
}

uint8_t mqtt_decode_subscribe(const struct mqtt_frame *f, uint8_t version,
                              struct mqtt_subscribe *s)
{
    return subscribe_decode(f, version, true, s);
}

uint8_t mqtt_decode_unsubscribe(const struct mqtt_frame *f, uint8_t version,
                                struct mqtt_subscribe *s)
{
    return subscribe_decode(f, version, false, s);
}

bool mqtt_sub_next(const struct mqtt_subscribe *s, bool is_sub, size_t *pos,
                   struct mqtt_sub_entry *e)
{
    const uint8_t *p, *end = s->entries.p + s->entries.len;

    if (*pos >= s->entries.len)
        return false;
    p = s->entries.p + *pos;
    if (!wire_bin(&p, end, &e->filter))
        return false;
    e->options = 0;
    if (is_sub) {
        if (p >= end)
            return false;
        e->options = *p++;
    }
    *pos = (size_t)(p - s->entries.p);
    return true;
}

static bool subscribe_encode(struct buf *b, uint8_t type, uint8_t version, uint16_t packet_id,
                             const struct mqtt_bin *props, const struct mqtt_sub_entry *entries,
                             uint32_t count)
{
    bool is_sub = type == MQTT_SUBSCRIBE;
    size_t rem = 2, i;
    uint8_t *p;

    if (version == MQTT_V5)
        rem += wire_props_size(props);
    for (i = 0; i < count; i++) {
        if (entries[i].filter.len > 65535)
            return false;
        rem += 2 + entries[i].filter.len + (is_sub ? 1 : 0);
    }
    if ((p = wire_begin(b, (uint8_t)(type << 4 | 2), rem)) == NULL)
        return false;
    p = wire_put_u16(p, packet_id);
    if (version == MQTT_V5)
        p = wire_put_props(p, props);
    for (i = 0; i < count; i++) {
        p = wire_put_str(p, &entries[i].filter);
        if (is_sub)
            *p++ = entries[i].options;
    }
    return wire_end(b, p);
}

bool mqtt_encode_subscribe(struct buf *b, uint8_t version, uint16_t packet_id,
                           const struct mqtt_bin *props, const struct mqtt_sub_entry *entries,
                           uint32_t count)
{
    return subscribe_encode(b, MQTT_SUBSCRIBE, version, packet_id, props, entries, count);
}

bool mqtt_encode_unsubscribe(struct buf *b, uint8_t version, uint16_t packet_id,
                             const struct mqtt_bin *props, const struct mqtt_sub_entry *entries,
                             uint32_t count)
{
    return subscribe_encode(b, MQTT_UNSUBSCRIBE, version, packet_id, props, entries, count);
}

/* 3.1.1 SUBACK return codes; anything else is reserved (MQTT-3.9.3-2). */
static bool suback_v3_code(uint8_t c)
{
    return c <= 2 || c == 0x80;
}

uint8_t mqtt_decode_suback(const struct mqtt_frame *f, uint8_t version, struct mqtt_suback *s)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;
    uint32_t i;

    memset(s, 0, sizeof(*s));
    if (f->type != MQTT_SUBACK)
        return RC_PROTOCOL_ERROR;
    if (!wire_u16(&p, end, &s->packet_id))
        return RC_MALFORMED_PACKET;
    if (version == MQTT_V5 &&
        (rc = mqtt_props_read(&p, end, MQTT_SUBACK, false, &s->props)) != RC_SUCCESS)
        return rc;
    s->reasons.p = p;
    s->reasons.len = (uint32_t)(end - p);
    if (s->reasons.len == 0)
        return RC_PROTOCOL_ERROR;
    if (version < MQTT_V5)
        for (i = 0; i < s->reasons.len; i++)
            if (!suback_v3_code(p[i]))
                return RC_MALFORMED_PACKET;
    return RC_SUCCESS;
}

uint8_t mqtt_decode_unsuback(const struct mqtt_frame *f, uint8_t version, struct mqtt_suback *s)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;

    memset(s, 0, sizeof(*s));
    if (f->type != MQTT_UNSUBACK)
        return RC_PROTOCOL_ERROR;
    if (!wire_u16(&p, end, &s->packet_id))
        return RC_MALFORMED_PACKET;
    if (version < MQTT_V5) /* 3.x: the packet id and nothing else */
        return p == end ? RC_SUCCESS : RC_MALFORMED_PACKET;
    if ((rc = mqtt_props_read(&p, end, MQTT_UNSUBACK, false, &s->props)) != RC_SUCCESS)
        return rc;
    s->reasons.p = p;
    s->reasons.len = (uint32_t)(end - p);
    return s->reasons.len ? RC_SUCCESS : RC_PROTOCOL_ERROR;
}

static bool suback_encode(struct buf *b, uint8_t type, uint8_t version, uint16_t packet_id,
                          const struct mqtt_bin *props, const uint8_t *reasons, uint32_t count)
{
    bool v5 = version == MQTT_V5;
    uint8_t *p;

    if (type == MQTT_UNSUBACK && !v5)
        count = 0;
    p = wire_begin(b, (uint8_t)(type << 4), 2 + (v5 ? wire_props_size(props) : 0) + count);
    if (p == NULL)
        return false;
    p = wire_put_u16(p, packet_id);
    if (v5)
        p = wire_put_props(p, props);
    p = wire_put_bytes(p, reasons, count);
    return wire_end(b, p);
}

bool mqtt_encode_suback(struct buf *b, uint8_t version, uint16_t packet_id,
                        const struct mqtt_bin *props, const uint8_t *reasons, uint32_t count)
{
    return suback_encode(b, MQTT_SUBACK, version, packet_id, props, reasons, count);
}

bool mqtt_encode_unsuback(struct buf *b, uint8_t version, uint16_t packet_id,
                          const struct mqtt_bin *props, const uint8_t *reasons, uint32_t count)
{
    return suback_encode(b, MQTT_UNSUBACK, version, packet_id, props, reasons, count);
}
