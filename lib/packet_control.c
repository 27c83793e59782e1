/* packet_control.c - the small packets: PINGREQ / PINGRESP (empty), DISCONNECT (3.x empty, v5
 * reason + properties) and AUTH (v5 only). Syntax only; the handlers act on them. */
#include "packet.h"
#include "property.h"
#include "wire.h"

uint8_t mqtt_decode_empty(const struct mqtt_frame *f)
{
    if (f->type != MQTT_PINGREQ && f->type != MQTT_PINGRESP && f->type != MQTT_DISCONNECT)
        return RC_PROTOCOL_ERROR;
    return f->len == 0 ? RC_SUCCESS : RC_MALFORMED_PACKET;
}

/* Reason code then properties, where a remaining length of 0 means reason 0, no properties. */
static uint8_t reason_decode(const struct mqtt_frame *f, struct mqtt_reason *r, bool short_ok)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;

    r->reason = 0;
    r->props.p = NULL;
    r->props.len = 0;
    if (f->len == 0)
        return RC_SUCCESS;
    r->reason = *p++;
    /* DISCONNECT: "less than 2" means no property length (3.14.2.2); AUTH has no such case. */
    if (p == end)
        return short_ok ? RC_SUCCESS : RC_MALFORMED_PACKET;
    if ((rc = mqtt_props_read(&p, end, f->type, false, &r->props)) != RC_SUCCESS)
        return rc;
    return p == end ? RC_SUCCESS : RC_MALFORMED_PACKET;
}

uint8_t mqtt_decode_disconnect(const struct mqtt_frame *f, uint8_t version, struct mqtt_reason *d)
{
    d->reason = 0;
    d->props.p = NULL;
    d->props.len = 0;
    if (f->type != MQTT_DISCONNECT)
        return RC_PROTOCOL_ERROR;
    if (version < MQTT_V5)
        return f->len == 0 ? RC_SUCCESS : RC_MALFORMED_PACKET;
    return reason_decode(f, d, true);
}

uint8_t mqtt_decode_auth(const struct mqtt_frame *f, uint8_t version, struct mqtt_reason *a)
{
    uint8_t rc;

    a->reason = 0;
    a->props.p = NULL;
    a->props.len = 0;
    if (f->type != MQTT_AUTH || version < MQTT_V5) /* AUTH does not exist before MQTT 5 */
        return RC_PROTOCOL_ERROR;
    if ((rc = reason_decode(f, a, false)) != RC_SUCCESS)
        return rc;
    if (a->reason != RC_SUCCESS && a->reason != RC_CONTINUE_AUTHENTICATION &&
        a->reason != RC_REAUTHENTICATE)
        return RC_PROTOCOL_ERROR;
    return RC_SUCCESS;
}

bool mqtt_encode_empty(struct buf *b, uint8_t type)
{
    uint8_t *p = wire_begin(b, (uint8_t)(type << 4), 0);

    return p != NULL && wire_end(b, p);
}

/* v5 form shared by DISCONNECT and AUTH: omit what the spec lets us omit. */
static bool reason_encode(struct buf *b, uint8_t type, uint8_t reason,
                          const struct mqtt_bin *props)
{
    bool has_props = wire_props_len(props) > 0;
    size_t rem = has_props ? 1 + wire_props_size(props) : (reason ? 1 : 0);
    uint8_t *p = wire_begin(b, (uint8_t)(type << 4), rem);

    if (p == NULL)
        return false;
    if (rem) {
        *p++ = reason;
        if (has_props)
            p = wire_put_props(p, props);
    }
    return wire_end(b, p);
}

bool mqtt_encode_disconnect(struct buf *b, uint8_t version, uint8_t reason,
                            const struct mqtt_bin *props)
{
    if (version < MQTT_V5)
        return mqtt_encode_empty(b, MQTT_DISCONNECT);
    return reason_encode(b, MQTT_DISCONNECT, reason, props);
}

bool mqtt_encode_auth(struct buf *b, uint8_t reason, const struct mqtt_bin *props)
{
    /* A reason without properties still needs the property length, since AUTH has no
     * one-byte form. */
    bool has_props = wire_props_len(props) > 0;
    uint8_t *p;

    if (!has_props && reason == 0)
        return mqtt_encode_empty(b, MQTT_AUTH);
    if ((p = wire_begin(b, MQTT_AUTH << 4, 1 + wire_props_size(props))) == NULL)
        return false;
    *p++ = reason;
    p = wire_put_props(p, props);
    return wire_end(b, p);
}
