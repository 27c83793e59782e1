/* deliver.c - fan-out: from one message to every matching session, with the QoS downgrade, the
 * per-session inflight window and queue, and the acknowledgements that move them on. Writes
 * packets into the clients' output buffers; client.c flushes them once per loop iteration. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bridge.h"
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "persist.h"
#include "property.h"
#include "retain.h"
#include "subs.h"

#define QOS0_OUT_LIMIT (8u << 20) /* a subscriber this far behind loses QoS 0 messages */
#define BP_OUT_HIGH (1u << 20)    /* output waiting for one subscriber that pauses publishers */
/* A stalled session's queue is moved to its output only while less than this waits there, so
 * what it cannot take stays in the queue, where max_queued_messages/bytes bound it. */
#define STALLED_OUT_MAX (64u << 10)
/* Payloads from this size on are not copied into each receiver's output: it points at the
 * shared message until written (client_out_ref). Smaller ones are cheaper to copy. */
#define SHARED_PAYLOAD_MIN 1024

/* Back-pressure, and its bound.
 *
 * A publisher is paused while one of its receivers is behind (queue or output above a
 * high-water mark) so that a receiver that is merely slower than the flood loses nothing.
 * A receiver that makes no progress (no acknowledgement, nothing written to its socket) for
 * backpressure_timeout seconds while behind, or that reaches its queue limits, is "stalled":
 * it no longer pauses anybody, and Mosquitto's rules apply to it alone (QoS 0 and QoS 1/2
 * queued up to max_queued_messages/bytes, the rest dropped, counted and logged once). The
 * episode ends once it has caught up completely. */

/* Queue length at which an online subscriber counts as behind: its publishers are paused
 * (back-pressure) long before max_queued_messages would make us drop. */
static uint32_t bp_queue_high(void)
{
    int m = broker.conf->max_queued_messages;

    return m > 1 ? (uint32_t)m / 2 : m == 1 ? 1u : 1000u;
}

static void pump(struct session *s, struct client *c);

static void stall(struct session *s, const char *why)
{
    if (s->stalled)
        return;
    s->stalled = true;
    log_info("Client %s %s: publishers no longer wait for it.", s->id, why);
    if (s->behind) {
        s->behind = false;
        if (broker.paused_head != NULL)
            broker.resume_pending = true;
    }
}

/* One message not delivered to s: counted in $SYS, logged once per episode (Mosquitto's line). */
static void drop(struct session *s)
{
    broker.stats.msgs_dropped++;
    if (!s->dropping) {
        s->dropping = true;
        log_notice("Outgoing messages are being dropped for client %s.", s->id);
    }
}

/* Marks an online session that is behind; the caller then pauses the publisher. */
static void check_behind(struct session *s)
{
    struct client *c = s->client;

    if (c == NULL || s->stalled || broker.conf->backpressure_timeout == 0)
        return;
    if (s->queue.count < bp_queue_high() && client_out_pending(c) < BP_OUT_HIGH)
        return;
    if (!s->behind) {
        s->behind = true;
        client_progress(c); /* the bound counts from here */
    } else if (now_ms() - c->progress_at > (int64_t)broker.conf->backpressure_timeout * 1000) {
        stall(s, "made no progress");
        return;
    }
    broker.congested = true;
}

void deliver_check_stalled(struct session *s, int64_t now)
{
    if (s->behind && s->client != NULL &&
        now - s->client->progress_at > (int64_t)broker.conf->backpressure_timeout * 1000)
        stall(s, "made no progress");
}

void deliver_caught_up(struct session *s)
{
    struct client *c = s->client;

    if (s->stalled) {
        if (c != NULL && c->stage == STAGE_MQTT)
            pump(s, c); /* its output drained: the queue may move on */
        /* Over once everything it was owed is out: it counts for back-pressure again. */
        if (c == NULL || (s->queue.count == 0 && client_out_pending(c) < BP_OUT_HIGH / 2)) {
            s->stalled = false;
            s->dropping = false;
        }
        return;
    }
    if (!s->behind)
        return;
    if (c == NULL ||
        (s->queue.count < bp_queue_high() / 2 + 1 && client_out_pending(c) < BP_OUT_HIGH / 2)) {
        s->behind = false;
        if (broker.paused_head != NULL)
            broker.resume_pending = true;
    }
}

struct match;
static struct buf scratch_props; /* reused by send_publish for subscription identifiers */

static struct auth *session_auth(const struct session *s)
{
    if (s->client != NULL)
        return *s->client->listener->auth;
    return broker.auth;
}

uint16_t session_next_pid(struct session *s)
{
    struct outmsg *head = s->inflight.head;

    /* Ids go round 1..65535 and the in-flight list is in the order they were given, so an id
     * can only still be in use if the sequence has come round to the oldest one: until then the
     * next id is free without looking (a scan per message cost 12 % of the CPU at a window of
     * 1000). */
    if (++s->last_pid == 0)
        s->last_pid = 1;
    if (head == NULL)
        return s->last_pid;
    if (!head->pid_lapped) {
        if (s->last_pid != head->pid)
            return s->last_pid;
        head->pid_lapped = true;
    }
    /* A slow message a whole lap behind, or ids from a restored store: skip those in use.
     * Each one the sequence meets is marked, so that once the head leaves, a successor that
     * is also a lap behind keeps the scan on (only the head is checked without it). */
    for (int tries = 0; tries < 65536; tries++) {
        struct outmsg *o;
        bool used = false;
        for (o = head; o != NULL; o = o->next) {
            if (o->pid == s->last_pid) {
                o->pid_lapped = true;
                used = true;
                break;
            }
        }
        if (!used)
            break;
        if (++s->last_pid == 0)
            s->last_pid = 1;
    }
    return s->last_pid;
}

void outlist_push(struct outlist *l, struct outmsg *o)
{
    o->next = NULL;
    if (l->tail != NULL)
        l->tail->next = o;
    else
        l->head = o;
    l->tail = o;
    l->count++;
    l->bytes += o->m->payload_len;
}

static struct outmsg *outlist_pop(struct outlist *l)
{
    struct outmsg *o = l->head;

    if (o == NULL)
        return NULL;
    l->head = o->next;
    if (l->head == NULL)
        l->tail = NULL;
    l->count--;
    l->bytes -= o->m->payload_len;
    return o;
}

/* Unlinks o, whose predecessor is prev (NULL if head). */
void outlist_unlink(struct outlist *l, struct outmsg *prev, struct outmsg *o)
{
    if (prev != NULL)
        prev->next = o->next;
    else
        l->head = o->next;
    if (l->tail == o)
        l->tail = prev;
    l->count--;
    l->bytes -= o->m->payload_len;
}

void outmsg_free(struct outmsg *o)
{
    msg_unref(o->m);
    free(o->more_ids);
    free(o);
}

void outlist_clear(struct outlist *l)
{
    struct outmsg *o;

    while ((o = outlist_pop(l)) != NULL)
        outmsg_free(o);
}

uint32_t deliver_expiry_left(const struct msg *m)
{
    int64_t left;

    if (m->expiry == 0)
        return 0;
    left = m->expiry - now_ms() / 1000;
    return left > 0 ? (uint32_t)left : 1u;
}

/* The outbound alias for topic, or 0 (none). *fresh tells whether the client does not know
 * it yet (the PUBLISH must then carry the topic). Like 2.1.2, aliases go to topics in order of
 * first use until the client's Topic Alias Maximum (capped by max_topic_alias_broker) is
 * reached; later topics are sent in full. Nothing is recorded here: see alias_commit(). */
static uint16_t alias_find(const struct client *c, const char *topic, bool *fresh)
{
    *fresh = false;
    if (c->out_alias_max == 0)
        return 0;
    for (uint16_t i = 0; i < c->out_alias_n; i++) {
        if (strcmp(c->out_aliases[i], topic) == 0)
            return (uint16_t)(i + 1);
    }
    if (c->out_alias_n >= c->out_alias_max)
        return 0;
    *fresh = true;
    return (uint16_t)(c->out_alias_n + 1);
}

/* Records a fresh alias once its PUBLISH was encoded. False on ENOMEM (then no alias). */
static bool alias_commit(struct client *c, const char *topic)
{
    char *t;

    if (c->out_aliases == NULL &&
        (c->out_aliases = calloc(c->out_alias_max, sizeof(*c->out_aliases))) == NULL)
        return false;
    if ((t = strdup(topic)) == NULL)
        return false;
    c->out_aliases[c->out_alias_n++] = t;
    return true;
}

/* The v5 properties of one outgoing copy: the publisher's, with the Message Expiry Interval
 * counted down, plus our subscription identifiers and topic alias. */
static bool build_props(struct buf *props, const struct msg *m, uint32_t sub_id,
                        const uint32_t *more_ids, uint16_t alias)
{
    struct mqtt_bin all = { m->props, m->props_len };
    bool ok;

    props->len = 0;
    ok = mqtt_props_copy_except(props, all, PROP_MESSAGE_EXPIRY_INTERVAL, 0);
    if (ok && m->expiry != 0)
        ok = mqtt_props_add_num(props, PROP_MESSAGE_EXPIRY_INTERVAL, deliver_expiry_left(m));
    if (ok && sub_id != 0)
        ok = mqtt_props_add_num(props, PROP_SUBSCRIPTION_IDENTIFIER, sub_id);
    for (const uint32_t *id = more_ids; ok && id != NULL && *id != 0; id++)
        ok = mqtt_props_add_num(props, PROP_SUBSCRIPTION_IDENTIFIER, *id);
    if (ok && alias != 0)
        ok = mqtt_props_add_num(props, PROP_TOPIC_ALIAS, alias);
    return ok;
}

/* Encodes one PUBLISH for client c. Returns false if it could not be sent (too big for the
 * client's maximum packet size, or memory). */
static bool send_publish(struct client *c, struct msg *m, uint8_t qos, uint16_t pid, bool retain,
                         bool dup, uint32_t sub_id, const uint32_t *more_ids)
{
    struct buf *props = &scratch_props;
    const char *mp = c->listener->conf->mount_point;
    size_t mplen = mp ? strlen(mp) : 0;
    const char *topic = m->topic + mplen;
    bool fresh = false;
    uint16_t alias = c->version == MQTT_V5 ? alias_find(c, topic, &fresh) : 0;
    struct mqtt_publish p = {
        .qos = qos, .dup = dup, .retain = retain, .packet_id = pid,
        .topic = { (const uint8_t *)topic, (uint32_t)(m->topic_len - mplen) },
        .props = { m->props, m->props_len },
        .payload = { m->payload, m->payload_len },
    };

    bool link = c->version == MQTT_V5 && (c->bridge != NULL || c->is_bridge);

    if (c->bridge != NULL) {
        /* Our bridge to a remote broker: the remote's name for the topic, and its retain rule */
        size_t tlen;
        p.topic.p = (const uint8_t *)bridge_topic_out(c->bridge, m->topic, &tlen);
        p.topic.len = (uint32_t)tlen;
        p.retain = retain && bridge_outgoing_retain(c->bridge);
        bridge_count_traffic(c->bridge);
        alias = 0; /* a link we opened: the remote announced no Topic Alias Maximum to us */
        fresh = false;
    }
    if (c->version == MQTT_V5 && (sub_id != 0 || m->expiry != 0 || alias != 0 || link)) {
        if (!build_props(props, m, sub_id, more_ids, alias))
            return false;
        /* Leaving over a bridge link: mark the hop so that a ring drops it on its way back. */
        if (link && !bridge_props_mark(props))
            return false;
        p.props = (struct mqtt_bin){ props->data, (uint32_t)props->len };
        if (alias != 0 && !fresh)
            p.topic.len = 0; /* the client knows the alias: the topic is left out */
    }
    if (c->out_max_packet != 0 && mqtt_publish_size(c->version, &p) > c->out_max_packet) {
        /* 2.1.2's line (the size is the whole packet) */
        log_debug("Dropping too large outgoing PUBLISH for %s (%u bytes)", client_name(c),
                  (unsigned)mqtt_publish_size(c->version, &p));
        return false;
    }
    if (m->payload_len >= SHARED_PAYLOAD_MIN) {
        size_t mark = c->out.len;
        if (!mqtt_encode_publish_head(&c->out, c->version, &p))
            return false;
        if (!client_out_ref(c, m, m->payload, m->payload_len)) {
            c->out.len = mark;
            return false;
        }
    } else if (!mqtt_encode_publish(&c->out, c->version, &p)) {
        return false;
    }
    if (fresh && !alias_commit(c, topic)) {
        /* Sent with an alias we could not remember: the client would resolve later
         * alias-only PUBLISHes we cannot produce; stop aliasing for this connection. */
        c->out_alias_max = c->out_alias_n;
    }
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending PUBLISH to %s (d%d, q%d, r%d, m%u, '%.*s', ... (%u bytes))", c->id,
                  dup, qos, p.retain, pid, (int)p.topic.len, (const char *)p.topic.p,
                  m->payload_len);
    broker.stats.msgs_sent++;
    broker.stats.pub_msgs_sent++;
    broker.stats.pub_bytes_sent += m->payload_len;
    client_want_flush(c);
    return true;
}

static bool expired(const struct msg *m)
{
    return m->expiry != 0 && now_ms() / 1000 >= m->expiry;
}

static uint32_t window(const struct client *c)
{
    uint32_t w = broker.conf->max_inflight_messages > 0 ? (uint32_t)broker.conf->max_inflight_messages
                                                        : 65535u;
    if (c->out_recv_max != 0 && c->out_recv_max < w)
        w = c->out_recv_max;
    return w;
}

static bool window_open(const struct session *s)
{
    const struct client *c = s->client;

    if (s->inflight.count >= window(c))
        return false;
    if (broker.conf->max_inflight_bytes != 0 && s->inflight.bytes >= broker.conf->max_inflight_bytes)
        return false;
    return true;
}

/* Puts o in flight on the session's connection (o->qos > 0). */
static void start_flight(struct session *s, struct outmsg *o, bool dup)
{
    o->pid = session_next_pid(s);
    o->state = o->qos == 1 ? OUT_WAIT_PUBACK : OUT_WAIT_PUBREC;
    outlist_push(&s->inflight, o);
    persist_flight(s, o);
    if (!send_publish(s->client, o->m, o->qos, o->pid, o->retain, dup, o->sub_id, o->more_ids)) {
        /* Cannot ever be sent to this client: forget it rather than block the window. */
        struct outmsg *prev = NULL, *it;
        for (it = s->inflight.head; it != o; it = it->next)
            prev = it;
        outlist_unlink(&s->inflight, prev, o);
        persist_done(s, o->pid);
        outmsg_free(o);
        drop(s);
    }
}

static bool queue_full(const struct session *s)
{
    const struct conf *cf = broker.conf;

    if (cf->max_queued_messages > 0 && s->queue.count >= (uint32_t)cf->max_queued_messages)
        return true;
    if (cf->max_queued_bytes != 0 && s->queue.bytes >= cf->max_queued_bytes)
        return true;
    return false;
}

static uint32_t *ids_dup(const uint32_t *ids)
{
    size_t n = 0;
    uint32_t *copy;

    while (ids[n] != 0)
        n++;
    copy = malloc((n + 1) * sizeof(*copy));
    if (copy != NULL)
        memcpy(copy, ids, (n + 1) * sizeof(*copy));
    return copy;
}

/* Moves what the window (and, for a stalled session, its output limit) allows from the queue
 * to the connection. */
static void pump(struct session *s, struct client *c)
{
    struct outmsg *o;

    while (s->queue.head != NULL && (s->queue.head->qos == 0 || window_open(s))) {
        if (s->stalled && client_out_pending(c) >= STALLED_OUT_MAX)
            break; /* it takes its output slowly or not at all: the rest waits, counted */
        o = outlist_pop(&s->queue);
        if (expired(o->m)) {
            persist_drop(s, o);
            outmsg_free(o);
            continue;
        }
        if (o->qos == 0) {
            if (!send_publish(c, o->m, 0, 0, o->retain, false, o->sub_id, o->more_ids))
                drop(s);
            persist_drop(s, o);
            outmsg_free(o);
        } else {
            start_flight(s, o, false);
        }
    }
    if (s->queue.count == 0 && !s->stalled)
        s->dropping = false; /* an offline session's episode ends once it is delivered */
}

void deliver_to_session(struct session *s, struct msg *m, uint8_t qos, bool retain,
                        uint32_t sub_id)
{
    deliver_to_session_ids(s, m, qos, retain, sub_id, NULL);
}

void deliver_to_session_ids(struct session *s, struct msg *m, uint8_t qos, bool retain,
                            uint32_t sub_id, const uint32_t *more_ids)
{
    struct client *c = s->client;
    struct outmsg *o;
    bool online = c != NULL && c->stage == STAGE_MQTT;

    if (online && qos == 0 && !s->stalled) {
        if (client_out_pending(c) > QOS0_OUT_LIMIT) {
            stall(s, "reached its output limit");
            drop(s);
        } else if (!send_publish(c, m, 0, 0, retain, false, sub_id, more_ids)) {
            drop(s);
        } else {
            check_behind(s);
        }
        return;
    }
    if (!online && (!s->persistent
                    || (qos == 0 && !broker.conf->queue_qos0_messages && !s->queue_all)))
        return;
    if ((!online || s->stalled || !window_open(s) || s->queue.count > 0) && queue_full(s)) {
        if (online)
            stall(s, "reached its queue limit");
        drop(s);
        return;
    }
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        drop(s);
        return;
    }
    o->m = msg_ref(m);
    o->qos = qos;
    o->retain = retain;
    o->sub_id = sub_id;
    if (more_ids != NULL && more_ids[0] != 0 && (o->more_ids = ids_dup(more_ids)) == NULL) {
        free(o);
        broker.stats.msgs_dropped++;
        return;
    }
    persist_queued(s, o);
    if (online && !s->stalled && s->queue.count == 0 && window_open(s))
        start_flight(s, o, false);
    else
        outlist_push(&s->queue, o);
    if (online && s->stalled)
        pump(s, c);
    else if (online)
        check_behind(s);
}

void deliver_resume(struct session *s, bool resend)
{
    struct client *c = s->client;
    struct outmsg *o;

    if (c == NULL || c->stage != STAGE_MQTT)
        return;
    if (resend) {
        for (o = s->inflight.head; o != NULL; o = o->next) {
            if (o->state == OUT_WAIT_PUBCOMP) {
                mqtt_encode_ack(&c->out, MQTT_PUBREL, c->version, o->pid, 0, NULL);
                client_want_flush(c);
            } else {
                send_publish(c, o->m, o->qos, o->pid, o->retain, true, o->sub_id, o->more_ids);
            }
        }
    }
    pump(s, c);
}

void deliver_ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    struct session *s = c->session;
    struct outmsg *prev = NULL, *o;

    for (o = s->inflight.head; o != NULL; prev = o, o = o->next) {
        if (o->pid == pid)
            break;
    }
    if (type == MQTT_PUBREC) {
        if (o != NULL && o->state == OUT_WAIT_PUBREC && reason < 0x80) {
            o->state = OUT_WAIT_PUBCOMP;
            persist_pubrec(s, pid);
            mqtt_encode_ack(&c->out, MQTT_PUBREL, c->version, pid, 0, NULL);
            broker.stats.msgs_sent++;
            client_want_flush(c);
            return;
        }
        if (o == NULL || o->state != OUT_WAIT_PUBREC) {
            /* Unknown id: answer so the client can finish its flow, and warn as 2.1.2 does
             * (publish/v311/pubrec-unknown-mid). 2.1.2 answers a v5 client success; 0x92
             * Packet Identifier not found is MQTT 5.0's code for it (3.6.2.1), as for PUBREL. */
            if (o == NULL)
                log_warn("Warning: Received PUBREC from %s for an unknown packet identifier %u.",
                         client_name(c), pid);
            mqtt_encode_ack(&c->out, MQTT_PUBREL, c->version, pid,
                            c->version == MQTT_V5 ? RC_PACKET_ID_NOT_FOUND : 0, NULL);
            client_want_flush(c);
            return;
        }
    } else if (o == NULL || (type == MQTT_PUBACK && o->state != OUT_WAIT_PUBACK) ||
               (type == MQTT_PUBCOMP && o->state != OUT_WAIT_PUBCOMP)) {
        if (o == NULL && type == MQTT_PUBACK && c->bridge != NULL && bridge_own_ack(c->bridge, pid))
            return;
        log_debug("Client %s sent an acknowledgement for unknown packet id %u.", client_name(c), pid);
        return;
    }
    outlist_unlink(&s->inflight, prev, o);
    persist_done(s, pid);
    outmsg_free(o);
    client_progress(c);
    deliver_resume(s, false);
    deliver_caught_up(s);
}

/* One match of the current message; with allow_duplicate_messages false, merged per session
 * so overlapping subscriptions deliver once, at the highest QoS among them. */
struct match {
    struct session *s;
    uint32_t *more_ids;            /* owned, 0-terminated; NULL until a second identifier */
    uint32_t sub_id;
    uint8_t qos;
    bool rap;
};

/* Adds the identifier of one more overlapping subscription to x [MQTT-3.3.4-4]. */
static void match_add_id(struct match *x, uint32_t id)
{
    size_t n = 0;
    uint32_t *v;

    if (id == 0)
        return;
    if (x->sub_id == 0) {
        x->sub_id = id;
        return;
    }
    while (x->more_ids != NULL && x->more_ids[n] != 0)
        n++;
    v = realloc(x->more_ids, (n + 2) * sizeof(*v));
    if (v == NULL)
        return;
    v[n] = id;
    v[n + 1] = 0;
    x->more_ids = v;
}

struct match_ctx {
    struct msg *m;
    struct client *from;
    struct match *v;
    size_t n, cap;
    bool own_match; /* only the publisher's own no-local subscription matched */
};

static void on_match(void *ctx, const struct subscriber *sub, bool shared)
{
    struct match_ctx *mc = ctx;
    struct session *s = sub->owner;
    uint8_t qos = sub->options & SUBOPT_QOS_MASK;

    if ((sub->options & SUBOPT_NO_LOCAL) && !shared && mc->from != NULL && mc->from->session == s) {
        mc->own_match = true;
        return;
    }
    /* allow_duplicate_messages true (2.1.2's default): one copy per matching subscription,
     * each with its own QoS and identifier [MQTT-3.3.4-5]; false: one copy per session at the
     * highest QoS, carrying every identifier [MQTT-3.3.4-4]. */
    if (s->mark_seq == mc->m->seq && !broker.conf->allow_duplicate_messages) {
        struct match *x = &mc->v[s->mark_idx];
        if (qos > x->qos)
            x->qos = qos;
        match_add_id(x, sub->identifier);
        x->rap |= (sub->options & SUBOPT_RETAIN_AS_PUBLISHED) != 0;
        return;
    }
    if (mc->n == mc->cap) {
        size_t cap = mc->cap ? mc->cap * 2 : 64;
        struct match *v = realloc(mc->v, cap * sizeof(*v));
        if (v == NULL)
            return;
        mc->v = v;
        mc->cap = cap;
    }
    s->mark_seq = mc->m->seq;
    s->mark_idx = (uint32_t)mc->n;
    mc->v[mc->n++] = (struct match){ .s = s, .sub_id = sub->identifier, .qos = qos,
                                     .rap = (sub->options & SUBOPT_RETAIN_AS_PUBLISHED) != 0 };
}

static struct match_ctx mc; /* reused: the match list grows once, not per message */

size_t deliver_publish(struct msg *m, struct client *from)
{
    /* A log line written while delivering may itself be published (log_dest topic), which
     * re-enters here: only the outermost call uses the shared match list. */
    static int depth;
    struct match_ctx nested = { 0 };
    struct match_ctx *ctx = depth == 0 ? &mc : &nested;
    size_t receivers = 0;

    depth++;
    m->seq = ++broker.msg_seq;
    persist_publish_begin(m);
    if (m->retain && retain_set(broker.retain, m) != 0)
        log_err("Error: out of memory storing a retained message.");
    ctx->m = m;
    ctx->from = from;
    ctx->n = 0;
    ctx->own_match = false;
    subs_match(broker.subs, m->topic, m->topic_len, on_match, ctx);
    for (size_t i = 0; i < ctx->n; i++) {
        struct match *x = &ctx->v[i];
        struct session *s = x->s;
        uint8_t qos = broker.conf->upgrade_outgoing_qos ? x->qos : (m->qos < x->qos ? m->qos : x->qos);
        /* A subscriber the ACL does not let read it still counts as a match: the publisher's
         * PUBACK is a success, as 2.1.2's, and says nothing about other clients' rights. */
        if (s->bridge || auth_check_acl(session_auth(s), s->id, s->username, m->topic, ACL_READ))
            deliver_to_session_ids(s, m, qos, x->rap && m->retain, x->sub_id, x->more_ids);
        receivers++;
        free(x->more_ids);
        x->more_ids = NULL;
    }
    persist_publish_end(m);
    free(nested.v);
    depth--;
    /* A publisher's own no-local subscription counts as a match: 2.1.2 answers PUBACK success,
     * not 0x10 (subscribe/v5-opts/no-local-own-message). */
    return receivers > 0 || !ctx->own_match ? receivers : 1;
}

void deliver_free(void)
{
    free(mc.v);
    mc.v = NULL;
    mc.cap = 0;
    buf_free(&scratch_props);
}
