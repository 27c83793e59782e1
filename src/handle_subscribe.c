/* handle_subscribe.c - SUBSCRIBE and UNSUBSCRIBE: filter checks, subscribe ACLs, the QoS granted,
 * and retained messages sent after the SUBACK. */
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "auth.h"
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "property.h"
#include "retain.h"
#include "subs.h"
#include "topic.h"

#define MAX_ENTRIES_ON_STACK 64

struct retained_ctx {
    struct session *s;
    uint8_t qos;
    uint32_t sub_id;
};

static void on_retained(void *ctx, struct msg *m)
{
    struct retained_ctx *rc = ctx;
    struct session *s = rc->s;
    uint8_t qos = m->qos < rc->qos ? m->qos : rc->qos;

    if (m->expiry != 0 && now_ms() / 1000 >= m->expiry)
        return;
    if (!auth_check_acl(*s->client->listener->auth, s->id, s->username, m->topic, ACL_READ))
        return;
    /* check_retain_source: the publisher must still be allowed to write what it retained. */
    if (broker.conf->check_retain_source && m->source_id != NULL &&
        !auth_check_acl(*s->client->listener->auth, m->source_id, m->source_user, m->topic,
                        ACL_WRITE))
        return;
    deliver_to_session(s, m, broker.conf->upgrade_outgoing_qos ? rc->qos : qos, true, rc->sub_id);
}

/* Prefixes the listener's mount point; returns a malloc'd NUL-terminated filter. */
static char *mounted(const struct client *c, struct mqtt_bin f)
{
    const char *mp = c->listener->conf->mount_point;
    size_t mplen = mp ? strlen(mp) : 0;
    char *s = malloc(mplen + f.len + 1u);

    if (s == NULL)
        return NULL;
    memcpy(s, mp ? mp : "", mplen);
    memcpy(s + mplen, f.p, f.len);
    s[mplen + f.len] = '\0';
    return s;
}

/* 0 for a valid filter, else the reason to drop the connection. A "$share/group" with no
 * filter after it is a protocol error [MQTT-4.8.2-2]; a bad group name or filter is malformed
 * (the codes 2.1.2 uses, see the filter-share scenarios of test/differential). */
static uint8_t filter_check(const char *f, size_t len)
{
    const char *group, *inner;
    size_t glen, ilen;

    if (!topic_is_shared(f, len))
        return len > 0 && topic_filter_valid(f, len) ? 0 : RC_MALFORMED_PACKET;
    topic_share_split(f, len, &group, &glen, &inner, &ilen);
    if (glen > 0)
        return 0;
    return memchr(group, '/', len - (size_t)(group - f)) == NULL ? RC_PROTOCOL_ERROR
                                                                 : RC_MALFORMED_PACKET;
}

int handle_subscribe(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_subscribe sub;
    struct mqtt_sub_entry e;
    uint8_t rc = mqtt_decode_subscribe(f, c->version, &sub);
    uint8_t stack_codes[2 * MAX_ENTRIES_ON_STACK];
    uint8_t *codes = stack_codes; /* [0, count): reason codes; [count, 2 count): 1 = new */
    uint8_t *fresh;
    uint32_t sub_id = 0;
    struct mqtt_prop prop;
    size_t pos = 0;
    uint32_t i = 0;
    struct session *s = c->session;

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (log_on(LOG_T_DEBUG))
        log_debug("Received SUBSCRIBE from %s", c->id);
    if (c->version == MQTT_V5 && mqtt_props_find(sub.props, PROP_SUBSCRIPTION_IDENTIFIER, &prop))
        sub_id = prop.num;
    if (sub.count > MAX_ENTRIES_ON_STACK && (codes = malloc(2 * (size_t)sub.count)) == NULL)
        return client_protocol_error(c, RC_SERVER_UNAVAILABLE, "out of memory");
    fresh = codes + sub.count;

    /* First pass: decide every entry, so a bad filter in 3.x drops the connection before
     * anything changed. */
    while (mqtt_sub_next(&sub, true, &pos, &e)) {
        uint8_t bad = filter_check((const char *)e.filter.p, e.filter.len);

        if (bad != 0) {
            /* Mosquitto drops the connection for any version rather than refusing one entry. */
            if (codes != stack_codes)
                free(codes);
            log_info("Invalid subscription string from %s, disconnecting.", c->id);
            return client_protocol_error(c, bad, bad == RC_MALFORMED_PACKET ? "malformed packet"
                                                                            : "protocol error");
        }
        if (topic_is_shared((const char *)e.filter.p, e.filter.len) && (e.options & SUBOPT_NO_LOCAL)) {
            if (codes != stack_codes)
                free(codes);
            return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
        }
        codes[i++] = 0;
    }
    pos = 0;
    i = 0;
    while (mqtt_sub_next(&sub, true, &pos, &e)) {
        uint8_t qos = e.options & SUBOPT_QOS_MASK;
        uint8_t granted;
        bool existed = false;
        char *filter;

        fresh[i] = 0;
        if (codes[i] != 0) {
            i++;
            continue;
        }
        filter = mounted(c, e.filter);
        if (filter == NULL) {
            codes[i++] = RC_UNSPECIFIED;
            continue;
        }
        if (log_on(LOG_T_DEBUG))
            log_debug("\t%s (QoS %u)", filter, qos);
        log_printf(LOG_T_SUBSCRIBE, "%s %u %s", c->id, qos, filter);
        /* No ACL check here: acl_file rules are applied to each message delivered (read
         * access), and Mosquitto (2.0.11 and 2.1.2) grants the subscription itself, so a client
         * does not fail on a filter it may only partly read (test/differential acl scenarios). */
        granted = qos < c->listener->conf->max_qos ? qos : (uint8_t)c->listener->conf->max_qos;
        uint8_t opts = (uint8_t)((e.options & ~SUBOPT_QOS_MASK) | granted);
        /* A bridge (try_private) gets nothing it sent back, and retain flags as published. */
        if (c->is_bridge && !topic_is_shared(filter, strlen(filter)))
            opts |= SUBOPT_NO_LOCAL | SUBOPT_RETAIN_AS_PUBLISHED;
        if (subs_add(broker.subs, filter, strlen(filter), s, opts, sub_id, &existed) != 0) {
            codes[i++] = c->version == MQTT_V5 ? RC_UNSPECIFIED : 0x80;
            free(filter);
            continue;
        }
        if (!existed)
            session_add_filter(s, filter, strlen(filter));
        persist_sub(s, filter, (uint8_t)((e.options & ~SUBOPT_QOS_MASK) | granted), sub_id);
        fresh[i] = !existed;
        codes[i++] = granted;
        free(filter);
    }
    mqtt_encode_suback(&c->out, c->version, sub.packet_id, NULL, codes, sub.count);
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending SUBACK to %s", c->id);
    broker.stats.msgs_sent++;
    client_want_flush(c);

    /* Retained messages go after the SUBACK. */
    pos = 0;
    i = 0;
    while (mqtt_sub_next(&sub, true, &pos, &e)) {
        uint8_t handling = (e.options & SUBOPT_RETAIN_HANDLING_MASK) >> SUBOPT_RETAIN_HANDLING_SHIFT;
        uint8_t code = codes[i];
        bool is_new = fresh[i++];
        char *filter;

        /* handling 1: only when the subscription did not exist before; 2: never. */
        if (code >= 0x80 || handling == 2 || (handling == 1 && !is_new) ||
            topic_is_shared((const char *)e.filter.p, e.filter.len))
            continue;
        filter = mounted(c, e.filter);
        if (filter == NULL)
            continue;
        struct retained_ctx rctx = { s, code, sub_id };
        retain_match(broker.retain, filter, strlen(filter), on_retained, &rctx);
        free(filter);
    }
    if (codes != stack_codes)
        free(codes);
    return 0;
}

int handle_unsubscribe(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_subscribe uns;
    struct mqtt_sub_entry e;
    uint8_t rc = mqtt_decode_unsubscribe(f, c->version, &uns);
    uint8_t stack_codes[MAX_ENTRIES_ON_STACK];
    uint8_t *codes = stack_codes;
    size_t pos = 0;
    uint32_t i = 0;

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    if (uns.count > MAX_ENTRIES_ON_STACK && (codes = malloc(uns.count)) == NULL)
        return client_protocol_error(c, RC_SERVER_UNAVAILABLE, "out of memory");
    if (log_on(LOG_T_DEBUG))
        log_debug("Received UNSUBSCRIBE from %s", c->id);
    /* An invalid filter closes the connection as malformed, before anything is removed
     * (2.1.2: subscribe/v5/unsubscribe-invalid-filter, DISCONNECT 0x81). */
    while (mqtt_sub_next(&uns, false, &pos, &e)) {
        if (filter_check((const char *)e.filter.p, e.filter.len) != 0) {
            if (codes != stack_codes)
                free(codes);
            return client_protocol_error(c, RC_MALFORMED_PACKET, "malformed packet");
        }
    }
    pos = 0;
    while (mqtt_sub_next(&uns, false, &pos, &e)) {
        char *filter = mounted(c, e.filter);
        if (filter == NULL) {
            codes[i++] = RC_UNSPECIFIED;
            continue;
        }
        log_printf(LOG_T_UNSUBSCRIBE, "%s %s", c->id, filter);
        bool had = subs_remove(broker.subs, filter, strlen(filter), c->session);
        if (had) {
            session_remove_filter(c->session, filter, strlen(filter));
            persist_unsub(c->session, filter);
        }
        codes[i++] = had ? RC_SUCCESS : RC_NO_SUBSCRIPTION_EXISTED;
        free(filter);
    }
    mqtt_encode_unsuback(&c->out, c->version, uns.packet_id, NULL, codes, uns.count);
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending UNSUBACK to %s", c->id);
    broker.stats.msgs_sent++;
    client_want_flush(c);
    if (codes != stack_codes)
        free(codes);
    return 0;
}
