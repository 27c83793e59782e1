/* handle_control.c - PINGREQ, DISCONNECT and AUTH. */
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "property.h"

int handle_pingreq(struct client *c, const struct mqtt_frame *f)
{
    uint8_t rc = mqtt_decode_empty(f);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (log_on(LOG_T_DEBUG)) {
        log_debug("Received PINGREQ from %s", c->id);
        log_debug("Sending PINGRESP to %s", c->id);
    }
    mqtt_encode_empty(&c->out, MQTT_PINGRESP);
    broker.stats.msgs_sent++;
    client_want_flush(c);
    return 0;
}

int handle_disconnect(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_reason d;
    struct mqtt_prop p;
    uint8_t rc = mqtt_decode_disconnect(f, c->version, &d);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (log_on(LOG_T_DEBUG))
        log_debug("Received DISCONNECT from %s", c->id);
    if (c->version == MQTT_V5 && mqtt_props_find(d.props, PROP_SESSION_EXPIRY_INTERVAL, &p)) {
        /* A session that was not going to be kept cannot be made persistent now [MQTT-3.14.2-2]. */
        if (c->session->expiry_interval == 0 && p.num != 0)
            return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
        c->session->expiry_interval = p.num;
        c->session->persistent = p.num != 0;
    }
    /* Reason 0x04 asks for the will to be published even though the client said goodbye. */
    c->disconnect_sent = !(c->version == MQTT_V5 && d.reason == RC_DISCONNECT_WITH_WILL);
    client_close(c, "");
    return -1;
}

int handle_auth(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_reason a;
    uint8_t rc = mqtt_decode_auth(f, c->version, &a);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    /* No enhanced authentication method was agreed at CONNECT, so AUTH is out of place. */
    return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
}
