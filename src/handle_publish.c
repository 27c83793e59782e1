/* handle_publish.c - inbound PUBLISH with its QoS 1/2 flows (PUBACK, PUBREC/PUBREL/PUBCOMP),
 * topic aliases, size limits and write ACLs. Routing to subscribers is deliver.c's. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bridge.h"
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "persist.h"
#include "property.h"
#include "topic.h"

/* The Receive Maximum c was told: the one announced in CONNACK (65535 when none is), or, on a
 * bridge's own connection, the one its CONNECT announced (bridge_receive_maximum). */
static uint32_t receive_maximum(const struct client *c)
{
    int m = c->bridge != NULL ? bridge_receive_maximum(c->bridge)
                              : broker.conf->max_inflight_messages;

    return m > 0 && m < 65535 ? (uint32_t)m : 65535u;
}

static const char *const ack_names[] = { [MQTT_PUBACK] = "PUBACK", [MQTT_PUBREC] = "PUBREC",
                                          [MQTT_PUBREL] = "PUBREL", [MQTT_PUBCOMP] = "PUBCOMP" };

static void send_ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending %s to %s (m%u, rc%u)", ack_names[type], c->id, pid, reason);
    mqtt_encode_ack(&c->out, type, c->version, pid, c->version == MQTT_V5 ? reason : 0, NULL);
    broker.stats.msgs_sent++;
    client_want_flush(c);
}

/* Resolves the v5 topic alias. *topic may be replaced by the stored name. Returns an RC. */
static uint8_t resolve_alias(struct client *c, struct mqtt_publish *p)
{
    struct mqtt_prop prop;
    uint16_t max = (uint16_t)c->listener->conf->max_topic_alias;
    uint16_t alias;

    if (c->version != MQTT_V5 || !mqtt_props_find(p->props, PROP_TOPIC_ALIAS, &prop))
        return p->topic.len > 0 ? 0 : RC_PROTOCOL_ERROR;
    alias = (uint16_t)prop.num;
    /* 0 is never valid [MQTT-3.3.2-8]: 2.1.2 calls it a protocol error (0x82) and keeps 0x94
     * for an alias above the maximum (publish/v5-prop/topic-alias-0, topic-alias-above-max) */
    if (alias == 0)
        return RC_PROTOCOL_ERROR;
    if (alias > max)
        return RC_TOPIC_ALIAS_INVALID;
    if (c->aliases == NULL) {
        c->aliases = calloc((size_t)max + 1, sizeof(char *));
        if (c->aliases == NULL)
            return RC_SERVER_UNAVAILABLE;
        c->n_aliases = max;
    }
    if (p->topic.len > 0) {
        char *t = malloc(p->topic.len + 1u);
        if (t == NULL)
            return RC_SERVER_UNAVAILABLE;
        memcpy(t, p->topic.p, p->topic.len);
        t[p->topic.len] = '\0';
        free(c->aliases[alias]);
        c->aliases[alias] = t;
        return 0;
    }
    if (c->aliases[alias] == NULL)
        return RC_PROTOCOL_ERROR;
    p->topic.p = (const uint8_t *)c->aliases[alias];
    p->topic.len = (uint32_t)strlen(c->aliases[alias]);
    return 0;
}

/* Properties forwarded to subscribers: all but the topic alias and subscription identifiers,
 * which belong to one connection, and a Message Expiry Interval of 0, which 2.1.2 drops (no
 * expiry: flow/expiry/zero). Returns raw bytes in *out (borrowed from p or from tmp). */
static struct mqtt_bin forward_props(const struct mqtt_publish *p, struct buf *tmp, int64_t *expiry)
{
    struct mqtt_prop_iter it;
    struct mqtt_prop prop;
    bool copy = false, zero_expiry = false;

    *expiry = 0;
    mqtt_props_iter(&it, p->props);
    while (mqtt_props_next(&it, &prop)) {
        if (prop.id == PROP_TOPIC_ALIAS || prop.id == PROP_SUBSCRIPTION_IDENTIFIER)
            copy = true;
        if (prop.id == PROP_MESSAGE_EXPIRY_INTERVAL) {
            if (prop.num > 0)
                *expiry = now_ms() / 1000 + prop.num;
            else
                zero_expiry = true;
        }
    }
    if (!copy && !zero_expiry)
        return p->props;
    mqtt_props_copy_except(tmp, p->props, PROP_TOPIC_ALIAS, PROP_SUBSCRIPTION_IDENTIFIER);
    if (zero_expiry) {
        struct buf all = *tmp;
        buf_init(tmp);
        mqtt_props_copy_except(tmp, (struct mqtt_bin){ all.data, (uint32_t)all.len },
                               PROP_MESSAGE_EXPIRY_INTERVAL, 0);
        buf_free(&all);
    }
    return (struct mqtt_bin){ tmp->data, (uint32_t)tmp->len };
}

int handle_publish(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_publish p;
    uint8_t rc = mqtt_decode_publish(f, c->version, &p);
    const struct listener_conf *lc = c->listener->conf;
    uint8_t ack = p.qos == 1 ? MQTT_PUBACK : MQTT_PUBREC;
    const char *mp = lc->mount_point;
    size_t mplen = mp ? strlen(mp) : 0;
    char stack_topic[256];
    char *topic = stack_topic;
    struct buf tmp;
    struct mqtt_bin props;
    struct mqtt_prop sid;
    int64_t expiry;
    struct msg *m;

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    /* 2.1.2's log wording (publish/v5/max-qos-1-listener, publish/v5/retain-unavailable) */
    if (p.qos > lc->max_qos)
        return client_protocol_error(c, RC_QOS_NOT_SUPPORTED,
                                     REASON_IO_PREFIX "Requested QoS not supported on server");
    if (p.retain && !broker.conf->retain_available)
        return client_protocol_error(c, RC_RETAIN_NOT_SUPPORTED,
                                     REASON_IO_PREFIX "Retain not supported");
    /* A Subscription Identifier is the server's to send [MQTT-3.3.4-6]. */
    if (c->version == MQTT_V5 && mqtt_props_find(p.props, PROP_SUBSCRIPTION_IDENTIFIER, &sid))
        return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
    rc = resolve_alias(c, &p);
    if (rc != 0)
        return client_protocol_error(c, rc, rc == RC_TOPIC_ALIAS_INVALID ? "topic alias invalid"
                                                                         : "protocol error");

    if (log_on(LOG_T_DEBUG))
        log_debug("Received PUBLISH from %s (d%d, q%d, r%d, m%u, '%.*s', ... (%u bytes))", c->id,
                  p.dup, p.qos, p.retain, p.packet_id, (int)p.topic.len, p.topic.p, p.payload.len);
    broker.stats.pub_msgs_received++;
    broker.stats.pub_bytes_received += p.payload.len;
    if (p.qos == 2 && session_has_in_qos2(c->session, p.packet_id)) {
        send_ack(c, MQTT_PUBREC, p.packet_id, 0); /* a resend: acknowledged, not delivered again */
        return 0;
    }
    if (p.qos == 2 && c->version == MQTT_V5 && c->session->n_in_qos2 >= receive_maximum(c)) {
        /* MQTT 5.0 3.3.4: more unfinished QoS 2 flows than the Receive Maximum we announced.
         * (QoS 1 is acknowledged at once, so it never counts.) 2.1.2 answers PUBREC 0x97 and
         * keeps the connection; the specification asks for DISCONNECT 0x93. 3.x has no
         * Receive Maximum: its flows are bounded by the 65535 packet identifiers. */
        return client_protocol_error(c, RC_RECEIVE_MAXIMUM_EXCEEDED, "receive maximum exceeded");
    }
    if (broker.conf->message_size_limit != 0 && p.payload.len > broker.conf->message_size_limit) {
        log_notice("Dropped too large PUBLISH from %s (d%d, q%d, r%d, m%u, '%.*s', ... (%u bytes))",
                   c->id, p.dup, p.qos, p.retain, p.packet_id, (int)p.topic.len, p.topic.p,
                   p.payload.len);
        broker.stats.msgs_dropped++;
        if (p.qos > 0)
            send_ack(c, ack, p.packet_id, RC_PACKET_TOO_LARGE);
        return 0;
    }
    if ((c->bridge != NULL || c->is_bridge) && c->version == MQTT_V5 && bridge_props_seen(p.props)) {
        /* It left this broker before: a ring brought it back. Acknowledge and stop it here. */
        log_debug("Dropped PUBLISH from %s: it already passed through this broker ('%.*s').",
                  c->id, (int)p.topic.len, p.topic.p);
        if (p.qos > 0)
            send_ack(c, ack, p.packet_id, 0);
        return 0;
    }
    if (c->bridge != NULL) {
        /* From the remote broker: our name for the topic, or nothing if no `in` line covers it */
        char *local = bridge_topic_in(c->bridge, p.topic.p, p.topic.len);
        if (local == NULL) {
            log_debug("Dropped PUBLISH from %s: no bridge topic maps '%.*s'.", c->id,
                      (int)p.topic.len, p.topic.p);
            if (p.qos > 0)
                send_ack(c, ack, p.packet_id, 0);
            return 0;
        }
        topic = strlen(local) + 1 > sizeof(stack_topic) ? local : stack_topic;
        if (topic == stack_topic) {
            memcpy(stack_topic, local, strlen(local) + 1);
            free(local);
        }
        p.topic.len = (uint32_t)strlen(topic);
        p.topic.p = (const uint8_t *)topic;
    } else {
        if (mplen + p.topic.len + 1 > sizeof(stack_topic) &&
            (topic = malloc(mplen + p.topic.len + 1u)) == NULL)
            return client_protocol_error(c, RC_SERVER_UNAVAILABLE, "out of memory");
        memcpy(topic, mp ? mp : "", mplen);
        memcpy(topic + mplen, p.topic.p, p.topic.len);
        topic[mplen + p.topic.len] = '\0';
    }

    /* $SYS belongs to the broker: 2.1.2 answers clients 0x87. A bridge (CONNECT marked as
     * one) still publishes its $SYS/broker/connection/... state here, as bridges do. */
    if (((strncmp(topic + mplen, "$SYS/", 5) == 0 || strcmp(topic + mplen, "$SYS") == 0) &&
         !c->is_bridge) ||
        !auth_check_acl(*c->listener->auth, c->id, c->username, topic, ACL_WRITE)) {
        log_debug("Denied PUBLISH from %s (d%d, q%d, r%d, m%u, '%s', ... (%u bytes))", c->id, p.dup,
                  p.qos, p.retain, p.packet_id, topic, p.payload.len);
        if (topic != stack_topic)
            free(topic);
        if (p.qos > 0)
            send_ack(c, ack, p.packet_id, RC_NOT_AUTHORIZED);
        return 0;
    }
    buf_init(&tmp);
    props = forward_props(&p, &tmp, &expiry);
    m = msg_new(topic, mplen + p.topic.len, p.payload.p, p.payload.len, props.p, props.len, p.qos,
                p.retain);
    buf_free(&tmp);
    if (topic != stack_topic)
        free(topic);
    if (m == NULL)
        return client_protocol_error(c, RC_SERVER_UNAVAILABLE, "out of memory");
    m->expiry = expiry;
    if (p.retain && broker.conf->check_retain_source) {
        /* Only a retained message outlives this call and needs to remember its publisher. */
        m->source_id = strdup(c->id);
        if (c->username != NULL)
            m->source_user = strdup(c->username);
    }
    if (p.qos == 2 && session_add_in_qos2(c->session, p.packet_id) != 0) {
        msg_unref(m);
        return client_protocol_error(c, RC_SERVER_UNAVAILABLE, "out of memory");
    }
    if (p.qos == 2)
        persist_inbound_qos2(c->session, p.packet_id); /* in the message's own record */
    broker.congested = false;
    size_t receivers = deliver_publish(m, c);
    msg_unref(m);
    if (broker.congested)
        client_pause(c); /* a receiver is behind: hold this publisher's next PUBLISH */
    /* 0x10 only on PUBACK: 2.1.2 answers a QoS 2 PUBLISH nobody receives with PUBREC 0x00. */
    if (p.qos > 0)
        send_ack(c, ack, p.packet_id,
                 receivers > 0 || p.qos == 2 ? 0 : RC_NO_MATCHING_SUBSCRIBERS);
    return 0;
}

int handle_puback(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_ack a;
    uint8_t rc = mqtt_decode_ack(f, c->version, &a);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (log_on(LOG_T_DEBUG))
        log_debug("Received %s from %s (Mid: %u, RC:%u)", ack_names[f->type], c->id, a.packet_id,
                  a.reason);
    deliver_ack(c, f->type, a.packet_id, a.reason);
    return 0;
}

int handle_pubrel(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_ack a;
    uint8_t rc = mqtt_decode_ack(f, c->version, &a);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (log_on(LOG_T_DEBUG))
        log_debug("Received PUBREL from %s (Mid: %u)", c->id, a.packet_id);
    bool known = session_remove_in_qos2(c->session, a.packet_id);
    if (known)
        persist_inq2_del(c->session, a.packet_id);
    send_ack(c, MQTT_PUBCOMP, a.packet_id, known ? 0 : RC_PACKET_ID_NOT_FOUND);
    return 0;
}
