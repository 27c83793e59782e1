/* packet_connect.c - CONNECT and CONNACK for MQTT 3.1, 3.1.1 and 5.0: wire syntax only.
 * Whether a client id, a will or credentials are acceptable is src/handle_connect.c's call. */
#include "packet.h"
#include "property.h"
#include "topic.h"
#include "wire.h"

#define CF_RESERVED 0x01
#define CF_CLEAN 0x02
#define CF_WILL 0x04
#define CF_WILL_QOS_SHIFT 3
#define CF_WILL_RETAIN 0x20
#define CF_PASSWORD 0x40
#define CF_USERNAME 0x80

/* Mosquitto bridges (try_private) set this bit in the protocol level. */
#define LEVEL_BRIDGE_BIT 0x80

static bool str_ok(const struct mqtt_bin *s)
{
    return utf8_valid(s->p, s->len);
}

/* Protocol name and level. Sets c->version to the level read once the name is known. */
static uint8_t connect_protocol(const uint8_t **p, const uint8_t *end, struct mqtt_connect *c)
{
    struct mqtt_bin name;
    uint8_t level;
    bool v31;

    c->version = 0;
    if (!wire_bin(p, end, &name))
        return RC_MALFORMED_PACKET;
    if (name.len == 4 && memcmp(name.p, "MQTT", 4) == 0)
        v31 = false;
    else if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0)
        v31 = c->mqisdp = true;
    else
        return RC_PROTOCOL_ERROR;
    if (*p >= end)
        return RC_MALFORMED_PACKET;
    c->bridge = (**p & LEVEL_BRIDGE_BIT) != 0;
    level = *(*p)++ & (uint8_t)~LEVEL_BRIDGE_BIT;
    c->version = level;
    if (v31 ? level != MQTT_V31 : (level != MQTT_V311 && level != MQTT_V5))
        return RC_UNSUPPORTED_PROTOCOL_VERSION;
    return RC_SUCCESS;
}

static uint8_t connect_flags(uint8_t fl, struct mqtt_connect *c)
{
    c->clean = fl & CF_CLEAN;
    c->will = fl & CF_WILL;
    c->will_qos = (fl >> CF_WILL_QOS_SHIFT) & 3;
    c->will_retain = fl & CF_WILL_RETAIN;
    c->has_username = fl & CF_USERNAME;
    c->has_password = fl & CF_PASSWORD;
    if (c->version == MQTT_V31) {
        /* MQTT 3.1 defines neither rule: Mosquitto 2.1.2 accepts a 3.1 CONNECT with the
         * reserved bit set or with will QoS/retain but no will (test/differential:
         * connect/v31/reserved-flag, will-qos-no-will, will-retain-no-will). */
        if (!c->will)
            c->will_qos = 0, c->will_retain = false;
        if (c->will_qos == 3 || (c->has_password && !c->has_username))
            return RC_MALFORMED_PACKET; /* 2.1.2 closes both (connect/v31/password-no-username) */
        return RC_SUCCESS;
    }
    if (fl & CF_RESERVED) /* MQTT-3.1.2-3 */
        return RC_MALFORMED_PACKET;
    if (c->will_qos == 3 || (!c->will && (c->will_qos || c->will_retain)))
        return RC_MALFORMED_PACKET;
    /* 3.1.1 MQTT-3.1.2-22 (3.1 likewise); MQTT 5 allows a password alone. */
    if (c->version < MQTT_V5 && c->has_password && !c->has_username)
        return RC_MALFORMED_PACKET;
    return RC_SUCCESS;
}

static uint8_t connect_payload(const uint8_t **p, const uint8_t *end, struct mqtt_connect *c)
{
    uint8_t rc;

    if (!wire_bin(p, end, &c->client_id))
        return RC_MALFORMED_PACKET;
    if (!str_ok(&c->client_id)) {
        c->fault = CONNECT_FAULT_CLIENT_ID;
        return RC_CLIENTID_NOT_VALID;
    }
    if (c->will) {
        if (c->version == MQTT_V5 &&
            (rc = mqtt_props_read(p, end, MQTT_CONNECT, true, &c->will_props)) != RC_SUCCESS) {
            c->fault = CONNECT_FAULT_PROPS;
            return rc;
        }
        if (!wire_bin(p, end, &c->will_topic))
            return RC_MALFORMED_PACKET;
        if (!str_ok(&c->will_topic) || c->will_topic.len == 0) {
            c->fault = CONNECT_FAULT_WILL_TOPIC;
            return c->version == MQTT_V5 ? RC_PROTOCOL_ERROR : RC_MALFORMED_PACKET;
        }
        if (!topic_name_valid((const char *)c->will_topic.p, c->will_topic.len)) {
            c->fault = CONNECT_FAULT_WILL_WILDCARD;
            return c->version == MQTT_V5 ? RC_TOPIC_NAME_INVALID : RC_MALFORMED_PACKET;
        }
        if (!wire_bin(p, end, &c->will_payload))
            return RC_MALFORMED_PACKET;
    }
    if (c->has_username && (!wire_bin(p, end, &c->username) || !str_ok(&c->username)))
        return RC_MALFORMED_PACKET;
    if (c->has_password && !wire_bin(p, end, &c->password))
        return RC_MALFORMED_PACKET;
    return *p == end ? RC_SUCCESS : RC_MALFORMED_PACKET;
}

uint8_t mqtt_decode_connect(const struct mqtt_frame *f, struct mqtt_connect *c)
{
    const uint8_t *p = f->body, *end = f->body + f->len;
    uint8_t rc;

    memset(c, 0, sizeof(*c));
    if (f->type != MQTT_CONNECT)
        return RC_PROTOCOL_ERROR;
    if ((rc = connect_protocol(&p, end, c)) != RC_SUCCESS)
        return rc;
    if (end - p < 3)
        return RC_MALFORMED_PACKET;
    if ((rc = connect_flags(p[0], c)) != RC_SUCCESS)
        return rc;
    c->keepalive = (uint16_t)(p[1] << 8 | p[2]);
    p += 3;
    if (c->version == MQTT_V5 &&
        (rc = mqtt_props_read(&p, end, MQTT_CONNECT, false, &c->props)) != RC_SUCCESS) {
        c->fault = CONNECT_FAULT_PROPS;
        return rc;
    }
    return connect_payload(&p, end, c);
}

bool mqtt_encode_connect(struct buf *b, const struct mqtt_connect *c)
{
    bool v5 = c->version == MQTT_V5, v31 = c->version == MQTT_V31;
    size_t rem;
    uint8_t *p, fl = 0;

    if (c->version < MQTT_V31 || c->version > MQTT_V5 || c->client_id.len > 65535)
        return false;
    rem = (v31 ? 8 : 6) + 1 + 1 + 2 + 2 + c->client_id.len;
    if (v5)
        rem += wire_props_size(&c->props);
    if (c->will) {
        if (c->will_topic.len > 65535 || c->will_payload.len > 65535 || c->will_qos > 2)
            return false;
        rem += 4 + c->will_topic.len + c->will_payload.len;
        if (v5)
            rem += wire_props_size(&c->will_props);
        fl |= CF_WILL | (uint8_t)(c->will_qos << CF_WILL_QOS_SHIFT);
        if (c->will_retain)
            fl |= CF_WILL_RETAIN;
    }
    if (c->has_username) {
        if (c->username.len > 65535)
            return false;
        rem += 2 + c->username.len;
        fl |= CF_USERNAME;
    }
    if (c->has_password) {
        if (c->password.len > 65535)
            return false;
        rem += 2 + c->password.len;
        fl |= CF_PASSWORD;
    }
    if (c->clean)
        fl |= CF_CLEAN;
    if ((p = wire_begin(b, MQTT_CONNECT << 4, rem)) == NULL)
        return false;
    p = v31 ? wire_put_bytes(p, "\0\6MQIsdp", 8) : wire_put_bytes(p, "\0\4MQTT", 6);
    *p++ = (uint8_t)(c->version | (c->bridge ? LEVEL_BRIDGE_BIT : 0));
    *p++ = fl;
    p = wire_put_u16(p, c->keepalive);
    if (v5)
        p = wire_put_props(p, &c->props);
    p = wire_put_str(p, &c->client_id);
    if (c->will) {
        if (v5)
            p = wire_put_props(p, &c->will_props);
        p = wire_put_str(p, &c->will_topic);
        p = wire_put_str(p, &c->will_payload);
    }
    if (c->has_username)
        p = wire_put_str(p, &c->username);
    if (c->has_password)
        p = wire_put_str(p, &c->password);
    return wire_end(b, p);
}

uint8_t mqtt_decode_connack(const struct mqtt_frame *f, uint8_t version, struct mqtt_connack *c)
{
    const uint8_t *p = f->body, *end = f->body + f->len;

    memset(c, 0, sizeof(*c));
    if (f->type != MQTT_CONNACK)
        return RC_PROTOCOL_ERROR;
    if (f->len < 2 || (version < MQTT_V5 && f->len != 2))
        return RC_MALFORMED_PACKET;
    if (p[0] & 0xfe) /* only the session-present bit is defined */
        return RC_MALFORMED_PACKET;
    c->session_present = p[0] & 1;
    c->reason = p[1];
    p += 2;
    if (version == MQTT_V5) {
        uint8_t rc = mqtt_props_read(&p, end, MQTT_CONNACK, false, &c->props);

        if (rc != RC_SUCCESS)
            return rc;
        if (p != end)
            return RC_MALFORMED_PACKET;
    }
    return RC_SUCCESS;
}

bool mqtt_encode_connack(struct buf *b, uint8_t version, bool session_present, uint8_t reason,
                         const struct mqtt_bin *props)
{
    bool v5 = version == MQTT_V5;
    uint8_t *p = wire_begin(b, MQTT_CONNACK << 4, 2 + (v5 ? wire_props_size(props) : 0));

    if (p == NULL)
        return false;
    *p++ = session_present ? 1 : 0;
    *p++ = reason;
    if (v5)
        p = wire_put_props(p, props);
    return wire_end(b, p);
}
