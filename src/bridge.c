/* bridge.c - outgoing bridges. A bridge is an MQTT client of a remote broker that runs on our
 * loop like any connection (client.c reads and writes it; deliver.c queues to its session), plus
 * what only a bridge does: name resolution and non-blocking connect, CONNECT/CONNACK as the
 * client, remote subscriptions, topic remapping, reconnection with Mosquitto's restart_timeout
 * (constant or decorrelated-jitter backoff) across `addresses`, start types, and the
 * $SYS/broker/connection/<id>/state notifications. It knows nothing of sockets after connect. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "bridge.h"
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "persist.h"
#include "property.h"
#include "subs.h"
#include "tls.h"
#include "topic.h"

/* Name of the user property that marks a hop on an MQTT 5 bridge link (ring protection). */
#define HOP_KEY "bridge-hop"
#define HOP_KEY_LEN (sizeof(HOP_KEY) - 1)
#define MAX_BRIDGE_CONNECT_S 30 /* a remote must answer CONNECT within this (or keep-alive) */
#define PRIMARY_PROBE_MS 5000   /* round_robin false, on a secondary: how often to try the main */

enum bstate {
    B_IDLE,        /* waiting for the restart timer, or (lazy) for enough queued messages */
    B_RESOLVING,   /* uv_getaddrinfo in flight */
    B_CONNECTING,  /* TCP connect or CONNACK pending: b->c is set */
    B_CONNECTED,
    B_STOPPED      /* start_type once after its connection ended, or removed by a reload */
};

struct bridge {
    struct bridge_conf *conf;   /* owned (moved out of the configuration it came from) */
    struct listener listener;   /* the policy its connection runs under: no mount point, ACLs off */
    struct listener_conf lconf;
    struct session *s;          /* local session (in broker.sessions); NULL once removed */
    struct client *c;           /* the connection, while there is one */
    char *remote_id;            /* owned: client id at the remote broker */
    char *state_topic;          /* owned: notification topic */
    uv_timer_t timer;           /* restart delay */
    uv_getaddrinfo_t *gai;      /* look-up in flight; its callback frees it */
    struct bridge_conf *pending; /* owned: a reloaded configuration for the next connection */
    struct probe *probe;        /* main-address probe in flight; it frees itself */
    struct ssl_ctx_st *tls_ctx; /* owned; built before the first TLS connection attempt */
    struct addrinfo *res;       /* owned (uv_freeaddrinfo): the current address's look-up */
    struct addrinfo *ai_next;   /* in res: what to try when the connect in progress fails */
    int64_t backoff_ms;         /* last jittered delay */
    int64_t last_traffic;       /* monotonic ms of the last PUBLISH either way (idle_timeout) */
    int64_t last_ping;
    int64_t primary_probe_at;   /* round_robin false, on a secondary: when to go back */
    size_t addr_idx;
    enum bstate state;
    bool connected_once;        /* the current connection reached CONNACK */
    bool attempted;             /* connect_now() ran before (for 2.1.2's log lines) */
    bool removed;               /* reload dropped it: free once its connection is gone */
    bool quick_restart;         /* reconnect at once (moving back to the main address) */
    uint16_t notify_pid;        /* packet id of the "1" notification awaiting PUBACK; 0 = none */
};

static struct bridge **bridges;
static size_t nbridges;
static struct auth *open_auth; /* no files: every ACL check passes (bridges bypass ACLs) */
static char hop_id[17];        /* this broker's mark on MQTT 5 bridge links */

static void connect_now(struct bridge *b);
static void probe_primary(struct bridge *b);
static void bridge_free(struct bridge *b);

/* ---- helpers ------------------------------------------------------------------------------ */

static char *dup_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, fmt, a, b);
    return s;
}

static const char *local_id(const struct bridge *b)
{
    return b->s != NULL ? b->s->id : "(none)";
}

static bool has_dir(const struct bridge_topic *t, enum bridge_dir d)
{
    return (t->dir & d) != 0;
}

/* Publishes the bridge's state locally, retained: "1" connected, "0" not. */
static void notify_local(struct bridge *b, bool up)
{
    struct msg *m;

    if (!b->conf->notifications || broker.shutting_down)
        return;
    m = msg_new(b->state_topic, strlen(b->state_topic), up ? "1" : "0", 1, NULL, 0, 1, true);
    if (m == NULL)
        return;
    deliver_publish(m, NULL);
    msg_unref(m);
}

/* ---- the remote side of the topic map ----------------------------------------------------- */

static char *scratch;
static size_t scratch_cap;

static bool scratch_fit(size_t n)
{
    if (n <= scratch_cap)
        return true;
    char *p = realloc(scratch, n);
    if (p == NULL)
        return false;
    scratch = p;
    scratch_cap = n;
    return true;
}

const char *bridge_topic_out(struct bridge *b, const char *topic, size_t *len)
{
    size_t tlen = strlen(topic);

    for (size_t i = 0; i < b->conf->ntopics; i++) {
        const struct bridge_topic *t = &b->conf->topics[i];
        size_t lp = strlen(t->local_prefix), rp = strlen(t->remote_prefix);
        if (!has_dir(t, BRIDGE_OUT)
            || !topic_matches(t->local_filter, strlen(t->local_filter), topic, tlen))
            continue;
        if (lp == 0 && rp == 0)
            break;
        if (!scratch_fit(rp + tlen - lp + 1))
            break;
        memcpy(scratch, t->remote_prefix, rp);
        memcpy(scratch + rp, topic + lp, tlen - lp + 1);
        *len = rp + tlen - lp;
        return scratch;
    }
    *len = tlen;
    return topic; /* unmapped (our own notifications) or no prefixes: as it is */
}

char *bridge_topic_in(struct bridge *b, const uint8_t *topic, size_t len)
{
    for (size_t i = 0; i < b->conf->ntopics; i++) {
        const struct bridge_topic *t = &b->conf->topics[i];
        size_t lp = strlen(t->local_prefix), rp = strlen(t->remote_prefix);
        char *out;
        if (!has_dir(t, BRIDGE_IN)
            || !topic_matches(t->remote_filter, strlen(t->remote_filter), (const char *)topic,
                              len))
            continue;
        if ((out = malloc(lp + len - rp + 1)) == NULL)
            return NULL;
        memcpy(out, t->local_prefix, lp);
        memcpy(out + lp, topic + rp, len - rp);
        out[lp + len - rp] = '\0';
        b->last_traffic = now_ms();
        return out;
    }
    return NULL;
}

bool bridge_outgoing_retain(const struct bridge *b)
{
    return b->conf->outgoing_retain;
}

bool bridge_own_ack(struct bridge *b, uint16_t pid)
{
    if (pid == 0 || pid != b->notify_pid)
        return false;
    b->notify_pid = 0;
    return true;
}

int bridge_receive_maximum(const struct bridge *b)
{
    return b->conf->receive_maximum;
}

void bridge_count_traffic(struct bridge *b)
{
    b->last_traffic = now_ms();
}

bool bridge_props_seen(struct mqtt_bin props)
{
    struct mqtt_prop_iter it;
    struct mqtt_prop p;

    mqtt_props_iter(&it, props);
    while (mqtt_props_next(&it, &p)) {
        if (p.id == PROP_USER_PROPERTY && p.key.len == HOP_KEY_LEN
            && memcmp(p.key.p, HOP_KEY, HOP_KEY_LEN) == 0 && p.bin.len == strlen(hop_id)
            && memcmp(p.bin.p, hop_id, p.bin.len) == 0)
            return true;
    }
    return false;
}

bool bridge_connect_props(struct mqtt_bin props)
{
    struct mqtt_prop_iter it;
    struct mqtt_prop p;

    mqtt_props_iter(&it, props);
    while (mqtt_props_next(&it, &p)) {
        if (p.id == PROP_USER_PROPERTY && p.key.len == HOP_KEY_LEN
            && memcmp(p.key.p, HOP_KEY, HOP_KEY_LEN) == 0)
            return true;
    }
    return false;
}

bool bridge_props_mark(struct buf *out)
{
    return mqtt_props_add_pair(out, HOP_KEY, HOP_KEY_LEN, hop_id, strlen(hop_id));
}

/* ---- connecting --------------------------------------------------------------------------- */

/* restart_timeout: a constant, or Mosquitto's "decorrelated jitter" between base and cap. */
static int64_t restart_delay(struct bridge *b)
{
    int64_t base = (int64_t)b->conf->restart_base * 1000, cap = (int64_t)b->conf->restart_cap * 1000;
    int64_t hi;

    if (cap == 0)
        return base;
    hi = (b->backoff_ms > 0 ? b->backoff_ms : base) * 3; /* 2.1.2: the first from [base, 3 base] */
    if (hi > cap)
        hi = cap;
    b->backoff_ms = hi > base ? base + (int64_t)(random() % (hi - base + 1)) : base;
    return b->backoff_ms;
}

static void on_restart_timer(uv_timer_t *t)
{
    struct bridge *b = t->data;

    if (b->state == B_IDLE)
        connect_now(b);
}

static int set_identity(struct bridge *b);

static void apply_pending(struct bridge *b)
{
    log_notice("Bridge %s: applying the reloaded configuration.", b->conf->name);
    conf_bridge_clear(b->conf);
    free(b->conf);
    tls_ctx_free(b->tls_ctx); /* rebuilt from the new files at the next attempt */
    b->tls_ctx = NULL;
    b->conf = b->pending;
    b->pending = NULL;
    b->addr_idx = b->conf->naddrs - 1; /* the caller moves on to the first address */
    if (set_identity(b) != 0) {
        log_err("Error: Bridge %s: out of memory applying the new configuration.",
                b->conf->name);
        b->removed = true;
    }
}

/* A connection attempt ended (refused, failed, or a connection that was up went down). */
static void schedule_next(struct bridge *b)
{
    const struct bridge_conf *bc = b->conf;

    b->c = NULL;
    if (broker.shutting_down)
        return;
    if (b->removed) {
        b->state = B_STOPPED;
        return;
    }
    if (b->pending != NULL) {
        /* A reloaded configuration takes effect at this reconnection (bridge_reload_type). */
        apply_pending(b);
        bc = b->conf;
    }
    /* The next address, whatever happened: a dead main address is tried again in turn. */
    b->addr_idx = (b->addr_idx + 1) % bc->naddrs;
    if (bc->start_type == BRIDGE_START_ONCE) {
        b->state = B_STOPPED;
        return;
    }
    b->state = B_IDLE;
    if (bc->start_type == BRIDGE_START_LAZY && b->connected_once)
        return; /* waits for threshold messages again */
    if (b->quick_restart) {
        uv_timer_start(&b->timer, on_restart_timer, 0, 0);
    } else {
        int64_t delay = restart_delay(b);
        /* 2.1.2 prints this (information) for the backoff form of restart_timeout only */
        if (bc->restart_cap != 0)
            log_info("Bridge %s next backoff will be %lld ms", bc->name, (long long)delay);
        uv_timer_start(&b->timer, on_restart_timer, (uint64_t)delay, 0);
    }
    b->quick_restart = false;
}

static void set_sockopts(const struct bridge_conf *bc, int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bc->tcp_ka_idle > 0) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &bc->tcp_ka_idle, sizeof(int));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &bc->tcp_ka_interval, sizeof(int));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &bc->tcp_ka_count, sizeof(int));
    }
    if (bc->tcp_user_timeout > 0)
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &bc->tcp_user_timeout, sizeof(int));
}

/* bridge_bind_address: a numeric address of the given family (no look-up on the loop). */
static int bind_source(const struct bridge_conf *bc, int fd, int family)
{
    struct addrinfo hints = { .ai_family = family, .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
    struct addrinfo *res = NULL;
    int rc;

    if (bc->bind_address == NULL)
        return 0;
    if (getaddrinfo(bc->bind_address, NULL, &hints, &res) != 0 || res == NULL) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    rc = bind(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return rc;
}

/* Starts a non-blocking connect to one resolved address; -1 with errno on failure. */
static int start_connect(struct bridge *b, const struct addrinfo *ai)
{
    const struct bridge_addr *a = &b->conf->addrs[b->addr_idx];
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err;

    if (fd == -1)
        return -1;
    set_sockopts(b->conf, fd);
    if (bind_source(b->conf, fd, ai->ai_family) == -1
        || (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS))
        goto fail;
    b->c = client_new_outgoing(fd, &b->listener, b, a->host, a->port);
    if (b->c == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    b->c->id = b->s->id; /* for log lines before CONNACK; the session is attached then */
    b->c->id_borrowed = true;
    b->c->deadline = now_ms() + (int64_t)MAX_BRIDGE_CONNECT_S * 1000;
    b->state = B_CONNECTING;
    b->connected_once = false;
    return 0;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct bridge *b = req->data;
    const struct addrinfo *ai;
    int err = 0;

    free(req);
    if (b == NULL) { /* stopped while the look-up ran */
        uv_freeaddrinfo(res);
        return;
    }
    b->gai = NULL;
    if (status < 0) {
        log_notice("Error creating bridge %s: unable to resolve %s: %s.", b->conf->name,
                   b->conf->addrs[b->addr_idx].host, uv_strerror(status));
        schedule_next(b);
        return;
    }
    /* Each resolved address in turn until a connect can start (an IPv6-only host, say); the
     * rest stay for a connect that fails later ("localhost" as ::1, then 127.0.0.1). */
    uv_freeaddrinfo(b->res);
    b->res = res;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (start_connect(b, ai) == 0)
            break;
        err = errno;
    }
    b->ai_next = ai != NULL ? ai->ai_next : NULL;
    if (ai == NULL) {
        log_notice("Error creating bridge %s: %s.", b->conf->name, strerror(err ? err : EINVAL));
        schedule_next(b);
    }
}

/* The TLS client context from the bridge_* options (blocking reads of a few small files, once
 * per configuration); NULL after the error lines. */
static struct ssl_ctx_st *tls_context(const struct bridge *b)
{
    const struct bridge_conf *bc = b->conf;
    struct tls_client_opts o = {
        .cafile = bc->cafile, .capath = bc->capath, .certfile = bc->certfile,
        .keyfile = bc->keyfile, .tls_version = bc->tls_version, .ciphers = bc->ciphers,
        .ciphers_tls13 = bc->ciphers_tls13, .alpn = bc->alpn, .psk_identity = bc->identity,
        .psk_hex = bc->psk, .insecure = bc->insecure, .use_os_certs = bc->tls_use_os_certs,
    };

    return tls_client_ctx_new(&o);
}

static void connect_now(struct bridge *b)
{
    const struct bridge_addr *a = &b->conf->addrs[b->addr_idx];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    char port[8];
    int rc;

    if (b->attempted && log_on(LOG_T_DEBUG)) {
        /* 2.1.2 renews its local subscriptions, and says so, before every attempt; ours stay
         * in place, but the lines keep logs comparable. */
        for (size_t i = 0; i < b->conf->ntopics; i++) {
            if (has_dir(&b->conf->topics[i], BRIDGE_OUT))
                log_debug("Bridge %s doing local SUBSCRIBE on topic %s", local_id(b),
                          b->conf->topics[i].local_filter);
        }
    }
    b->attempted = true;
    log_notice("Connecting bridge %s (%s:%u)", b->conf->name, a->host, a->port);
    if (conf_bridge_uses_tls(b->conf) && b->tls_ctx == NULL && (b->tls_ctx = tls_context(b)) == NULL) {
        /* 2.1.2 tries again with its backoff: the files may be fixed in the meantime. */
        log_warn("Warning: Unable to connect bridge %s.", b->conf->name);
        schedule_next(b);
        return;
    }
    snprintf(port, sizeof(port), "%u", a->port);
    if ((b->gai = malloc(sizeof(*b->gai))) == NULL) {
        schedule_next(b);
        return;
    }
    b->gai->data = b;
    b->state = B_RESOLVING;
    rc = uv_getaddrinfo(broker.loop, b->gai, on_resolved, a->host, port, &hints);
    if (rc != 0) {
        free(b->gai);
        b->gai = NULL;
        log_notice("Error creating bridge %s: %s.", b->conf->name, uv_strerror(rc));
        schedule_next(b);
    }
}

/* ---- going back to the main address (round_robin false) ----------------------------------- */

/* A plain TCP connect to the main address while the bridge runs on a secondary one: when it
 * answers, the bridge moves back; when not, it stays and asks again later. */
struct probe {
    uv_getaddrinfo_t gai;
    uv_tcp_t tcp;
    uv_connect_t req;
    struct bridge *b;           /* NULL once the bridge stopped caring */
    bool tcp_started;
};

static void probe_closed(uv_handle_t *h)
{
    free(h->data);
}

static void probe_done(struct probe *pr, bool up)
{
    struct bridge *b = pr->b;

    if (!uv_is_closing((uv_handle_t *)&pr->tcp))
        uv_close((uv_handle_t *)&pr->tcp, probe_closed);
    if (b == NULL)
        return;
    b->probe = NULL;
    b->primary_probe_at = now_ms() + PRIMARY_PROBE_MS;
    if (!up || b->state != B_CONNECTED || b->c == NULL)
        return;
    log_notice("Bridge %s: the main address answers again, moving back to it.", b->conf->name);
    b->addr_idx = b->conf->naddrs - 1; /* schedule_next() moves on to 0 */
    b->quick_restart = true;
    b->c->disconnect_sent = true;
    mqtt_encode_disconnect(&b->c->out, b->c->version, 0, NULL);
    client_close(b->c, "returning to the main address");
}

static void probe_connected(uv_connect_t *req, int status)
{
    probe_done(req->data, status == 0);
}

static void probe_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct probe *pr = req->data;

    if (status < 0 || pr->b == NULL) {
        if (pr->b != NULL)
            pr->b->probe = NULL;
        uv_freeaddrinfo(res);
        free(pr);
        return;
    }
    uv_tcp_init(broker.loop, &pr->tcp);
    pr->tcp.data = pr;
    pr->req.data = pr;
    pr->tcp_started = true;
    if (uv_tcp_connect(&pr->req, &pr->tcp, res->ai_addr, probe_connected) != 0)
        probe_done(pr, false);
    uv_freeaddrinfo(res);
}

static void probe_primary(struct bridge *b)
{
    const struct bridge_addr *a = &b->conf->addrs[0];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct probe *pr = calloc(1, sizeof(*pr));
    char port[8];

    b->primary_probe_at = now_ms() + PRIMARY_PROBE_MS;
    if (pr == NULL)
        return;
    pr->b = b;
    pr->gai.data = pr;
    snprintf(port, sizeof(port), "%u", a->port);
    if (uv_getaddrinfo(broker.loop, &pr->gai, probe_resolved, a->host, port, &hints) != 0) {
        free(pr);
        return;
    }
    b->probe = pr;
}

/* ---- the MQTT conversation ---------------------------------------------------------------- */

void bridge_on_connected(struct client *c)
{
    struct bridge *b = c->bridge;
    if (b->tls_ctx != NULL && c->x.ops == &xprt_tcp_ops) {
        /* TLS first; client.c drives the handshake and calls us again once it is done. The
         * certificate must name the address we connected to (unless bridge_insecure). */
        if (xprt_tls_client_init(&c->x, b->tls_ctx, b->conf->addrs[b->addr_idx].host) != 0) {
            client_close(c, "out of memory");
            return;
        }
        c->stage = STAGE_TLS;
        c->deadline = now_ms() + TLS_HANDSHAKE_TIMEOUT_MS;
        return;
    }

    const struct bridge_conf *bc = b->conf;
    bool will = bc->notifications && !bc->notifications_local_only;
    struct buf props, wprops;
    struct mqtt_connect ck = {
        .version = (uint8_t)bc->protocol_version,
        .bridge = bc->try_private && bc->protocol_version < MQTT_V5,
        .clean = bc->clean,
        .keepalive = (uint16_t)bc->keepalive,
        .client_id = { (const uint8_t *)b->remote_id, (uint32_t)strlen(b->remote_id) },
        .will = will, .will_qos = 1, .will_retain = true,
        .will_topic = { (const uint8_t *)b->state_topic, (uint32_t)strlen(b->state_topic) },
        .will_payload = { (const uint8_t *)"0", 1 },
    };

    buf_init(&props);
    buf_init(&wprops);
    if (bc->remote_username != NULL) {
        ck.has_username = true;
        ck.username = (struct mqtt_bin){ (const uint8_t *)bc->remote_username,
                                         (uint32_t)strlen(bc->remote_username) };
    }
    if (bc->remote_password != NULL) {
        ck.has_password = true;
        ck.password = (struct mqtt_bin){ (const uint8_t *)bc->remote_password,
                                         (uint32_t)strlen(bc->remote_password) };
    }
    if (ck.version == MQTT_V5) {
        if (bc->session_expiry > 0)
            mqtt_props_add_num(&props, PROP_SESSION_EXPIRY_INTERVAL, bc->session_expiry);
        if (bc->receive_maximum < 65535)
            mqtt_props_add_num(&props, PROP_RECEIVE_MAXIMUM, (uint32_t)bc->receive_maximum);
        /* bridge_max_packet_size limits what we send, not what we accept: 2.1.2 does not put
         * it in CONNECT (recorded in test_bridge_options.py). */
        if (bc->max_topic_alias > 0)
            mqtt_props_add_num(&props, PROP_TOPIC_ALIAS_MAXIMUM, (uint32_t)bc->max_topic_alias);
        /* MQTT 5 has no bridge bit: this tells a broker of ours that we are one (ring
         * protection); others ignore a user property. */
        mqtt_props_add_pair(&props, HOP_KEY, HOP_KEY_LEN, hop_id, strlen(hop_id));
        ck.props = (struct mqtt_bin){ props.data, (uint32_t)props.len };
        ck.will_props = (struct mqtt_bin){ wprops.data, 0 };
    }
    c->version = ck.version;
    c->keepalive = ck.keepalive;
    c->last_in = now_ms();
    b->last_ping = c->last_in;
    log_debug("Bridge %s sending CONNECT", b->remote_id);
    if (!mqtt_encode_connect(&c->out, &ck))
        client_close(c, "out of memory");
    else
        client_want_flush(c);
    buf_free(&props);
    buf_free(&wprops);
}

static const char *connack_text(uint8_t version, uint8_t rc)
{
    if (version < MQTT_V5) {
        switch (rc) {
        case CONNACK_REFUSED_PROTOCOL_VERSION: return "unacceptable protocol version";
        case CONNACK_REFUSED_IDENTIFIER: return "identifier rejected";
        case CONNACK_REFUSED_SERVER_UNAVAILABLE: return "broker unavailable";
        case CONNACK_REFUSED_BAD_USERNAME_PASSWORD: return "bad user name or password";
        case CONNACK_REFUSED_NOT_AUTHORIZED: return "not authorised";
        default: return "unknown reason";
        }
    }
    switch (rc) {
    case RC_NOT_AUTHORIZED: return "not authorised";
    case RC_BAD_USERNAME_OR_PASSWORD: return "bad user name or password";
    case RC_CLIENTID_NOT_VALID: return "identifier rejected";
    case RC_UNSUPPORTED_PROTOCOL_VERSION: return "unacceptable protocol version";
    case RC_SERVER_UNAVAILABLE: return "broker unavailable";
    case RC_SERVER_BUSY: return "server busy";
    case RC_BANNED: return "banned";
    default: return "refused";
    }
}

/* Remote SUBSCRIBE for the `in` topics, UNSUBSCRIBE for `out`-only ones (what an earlier
 * persistent session may still hold), and the "1" notification. */
static void send_subscriptions(struct bridge *b, struct client *c)
{
    const struct bridge_conf *bc = b->conf;

    if (bc->notifications && !bc->notifications_local_only) {
        struct mqtt_publish p = {
            .qos = 1, .retain = true, .packet_id = b->notify_pid = session_next_pid(b->s),
            .topic = { (const uint8_t *)b->state_topic, (uint32_t)strlen(b->state_topic) },
            .payload = { (const uint8_t *)"1", 1 },
        };
        mqtt_encode_publish(&c->out, c->version, &p);
    }
    for (size_t i = 0; i < bc->ntopics; i++) {
        const struct bridge_topic *t = &bc->topics[i];
        struct mqtt_sub_entry e = {
            { (const uint8_t *)t->remote_filter, (uint32_t)strlen(t->remote_filter) }, t->qos };
        uint16_t mid = session_next_pid(b->s);
        if (has_dir(t, BRIDGE_IN)) {
            /* v5: no-local (loop prevention) and retain-as-published, as Mosquitto sends. */
            if (c->version == MQTT_V5)
                e.options |= SUBOPT_NO_LOCAL | SUBOPT_RETAIN_AS_PUBLISHED;
            log_debug("Bridge %s sending SUBSCRIBE (Mid: %u, Topic: %s, QoS: %u, Options: 0x%02x)",
                      local_id(b), mid, t->remote_filter, t->qos, e.options & ~SUBOPT_QOS_MASK);
            mqtt_encode_subscribe(&c->out, c->version, mid, NULL, &e, 1);
        } else if (bc->attempt_unsubscribe) {
            log_debug("Bridge %s sending UNSUBSCRIBE (Mid: %u, Topic: %s)", local_id(b), mid,
                      t->remote_filter);
            mqtt_encode_unsubscribe(&c->out, c->version, mid, NULL, &e, 1);
        }
    }
}

static int on_connack(struct client *c, const struct mqtt_frame *f)
{
    struct bridge *b = c->bridge;
    struct session *s = b->s;
    struct mqtt_connack ack;
    struct mqtt_prop p;
    uint8_t rc = mqtt_decode_connack(f, c->version, &ack);

    if (rc != 0)
        return client_protocol_error(c, rc, client_decode_reason(rc));
    log_debug("Received CONNACK on connection %s.", local_id(b));
    if (ack.reason != 0) {
        log_notice("Connection Refused: %s", connack_text(c->version, ack.reason));
        client_close(c, connack_text(c->version, ack.reason));
        return -1;
    }
    c->out_recv_max = 65535;
    /* bridge_max_packet_size, on every protocol version: larger messages are not sent to the
     * remote (deliver.c drops them); a v5 remote's own limit wins when it is smaller. */
    c->out_max_packet = b->conf->max_packet_size;
    if (c->version == MQTT_V5) {
        if (mqtt_props_find(ack.props, PROP_RECEIVE_MAXIMUM, &p))
            c->out_recv_max = (uint16_t)p.num;
        if (mqtt_props_find(ack.props, PROP_MAXIMUM_PACKET_SIZE, &p)
            && (c->out_max_packet == 0 || p.num < c->out_max_packet))
            c->out_max_packet = p.num;
        if (mqtt_props_find(ack.props, PROP_SERVER_KEEP_ALIVE, &p))
            c->keepalive = (uint16_t)p.num;
    }
    /* The local session is this connection's from now on. */
    s->client = c;
    c->session = s;
    c->id = s->id;
    c->id_borrowed = true;
    c->stage = STAGE_MQTT;
    c->deadline = 0;
    broker.nconnected++;
    b->state = B_CONNECTED;
    b->connected_once = true;
    b->backoff_ms = 0;
    b->last_traffic = now_ms();
    if (b->addr_idx != 0 && !b->conf->round_robin)
        b->primary_probe_at = now_ms() + PRIMARY_PROBE_MS;
    send_subscriptions(b, c);
    notify_local(b, true);
    deliver_resume(s, true); /* in-flight messages again (DUP), then the queue */
    client_want_flush(c);
    return 0;
}

int bridge_dispatch(struct client *c, const struct mqtt_frame *f)
{
    if (c->stage == STAGE_CONNECT) {
        if (f->type == MQTT_CONNACK)
            return on_connack(c, f);
        return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
    }
    switch (f->type) { /* PUBLISH and its acknowledgements: client.c, as for any client */
    case MQTT_SUBACK:
        log_debug("Received SUBACK from %s", c->id);
        return 0;
    case MQTT_UNSUBACK:
        log_debug("Received UNSUBACK from %s", c->id);
        return 0;
    case MQTT_PINGRESP:
        return 0;
    case MQTT_DISCONNECT:
        client_close(c, "disconnected by the remote broker");
        return -1;
    default:
        return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
    }
}

/* The TCP connect to one resolved address failed: the next one, if any. true if one started. */
static bool connect_next_resolved(struct bridge *b)
{
    while (b->ai_next != NULL && !b->removed && !broker.shutting_down) {
        const struct addrinfo *ai = b->ai_next;
        b->ai_next = ai->ai_next;
        if (start_connect(b, ai) == 0)
            return true;
    }
    return false;
}

void bridge_on_close(struct client *c)
{
    struct bridge *b = c->bridge;
    struct session *s = c->session;
    bool tcp_failed = c->stage == STAGE_CONNECTING;

    c->bridge = NULL;
    b->c = NULL;
    if (tcp_failed && connect_next_resolved(b))
        return;
    if (s != NULL) {
        s->client = NULL;
        c->session = NULL;
        deliver_caught_up(s);
        /* local_cleansession true: what was queued for the remote goes with the connection. */
        if (!s->persistent) {
            outlist_clear(&s->inflight);
            outlist_clear(&s->queue);
        }
    }
    if (b->state == B_CONNECTED)
        notify_local(b, false);
    schedule_next(b);
}

/* ---- life cycle --------------------------------------------------------------------------- */

static void make_hop_id(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[8] = { 0 };
    FILE *f = fopen("/dev/urandom", "rb");

    if (f != NULL) {
        if (fread(r, 1, sizeof(r), f) != sizeof(r))
            memset(r, 0, sizeof(r));
        fclose(f);
    }
    r[0] ^= (unsigned char)getpid();
    for (int i = 0; i < 8; i++) {
        hop_id[2 * i] = hex[r[i] >> 4];
        hop_id[2 * i + 1] = hex[r[i] & 15];
    }
    hop_id[16] = '\0';
    srandom((unsigned)(r[1] << 8 | r[2]) ^ (unsigned)getpid());
}

/* The local session: subscribed to every `out` topic, with no-local so that what the bridge
 * itself brings in is never sent back the way it came. */
static int make_session(struct bridge *b, const char *lid)
{
    const struct bridge_conf *bc = b->conf;
    bool persistent = (bc->local_clean == -1 ? !bc->clean : !bc->local_clean)
                      || bc->start_type == BRIDGE_START_LAZY;
    struct session *s = session_find(lid);

    /* A session of that id restored from the store keeps what it had queued and in flight
     * (persistence on, local_cleansession false); anything else starts afresh. */
    if (s != NULL && (!persistent || s->client != NULL)) {
        session_free(s);
        s = NULL;
    }
    if (s != NULL) {
        while (s->nfilters > 0) { /* the subscriptions come from the configuration alone */
            char *f = s->filters[s->nfilters - 1];
            subs_remove(broker.subs, f, strlen(f), s);
            persist_unsub(s, f);
            session_remove_filter(s, f, strlen(f));
        }
    } else if ((s = session_new(lid)) == NULL) {
        return -1;
    }
    s->bridge = true;
    s->queue_all = bc->start_type == BRIDGE_START_LAZY;
    s->persistent = persistent;
    s->expiry_interval = UINT32_MAX;
    s->expire_at = 0;
    free(s->username);
    s->username = NULL;
    if (bc->local_username != NULL && (s->username = strdup(bc->local_username)) == NULL)
        return -1;
    persist_session(s, false);
    for (size_t i = 0; i < bc->ntopics; i++) {
        const struct bridge_topic *t = &bc->topics[i];
        bool existed = false;
        if (!has_dir(t, BRIDGE_OUT))
            continue;
        log_debug("Bridge %s doing local SUBSCRIBE on topic %s", lid, t->local_filter);
        if (subs_add(broker.subs, t->local_filter, strlen(t->local_filter), s,
                     (uint8_t)(t->qos | SUBOPT_NO_LOCAL | SUBOPT_RETAIN_AS_PUBLISHED), 0,
                     &existed) != 0)
            return -1;
        if (!existed)
            session_add_filter(s, t->local_filter, strlen(t->local_filter));
        persist_sub(s, t->local_filter, (uint8_t)(t->qos | SUBOPT_NO_LOCAL
                                                  | SUBOPT_RETAIN_AS_PUBLISHED), 0);
    }
    b->s = s;
    return 0;
}

/* Ids, notification topic, connection policy and local session from b->conf (at start, and
 * when a reloaded configuration takes over). Returns 0 or -1 (out of memory). */
static int set_identity(struct bridge *b)
{
    const struct bridge_conf *bc = b->conf;
    char host[256] = "localhost";
    char *lid = NULL;
    int rc = -1;

    free(b->remote_id);
    free(b->state_topic);
    b->state_topic = NULL;
    gethostname(host, sizeof(host) - 1);
    b->remote_id = bc->remote_clientid != NULL ? strdup(bc->remote_clientid)
                                               : dup_printf("%s.%s", host, bc->name);
    if (b->remote_id != NULL)
        lid = bc->local_clientid != NULL ? strdup(bc->local_clientid)
                                         : dup_printf("%s%s", "local.", b->remote_id);
    if (b->remote_id != NULL)
        b->state_topic = bc->notification_topic != NULL
            ? strdup(bc->notification_topic)
            : dup_printf("%s%s/state", "$SYS/broker/connection/", b->remote_id);
    /* The connection's policy: what a listener would decide for a client. */
    b->lconf.max_qos = 2;
    b->lconf.max_topic_alias = bc->max_topic_alias;
    b->lconf.max_connections = -1;
    b->lconf.port = bc->addrs[0].port;
    b->listener.conf = &b->lconf;
    b->listener.fd = -1;
    b->listener.auth = &open_auth;
    snprintf(b->listener.name, sizeof(b->listener.name), "bridge %s", bc->name);
    if (lid != NULL && b->state_topic != NULL) {
        if (b->s != NULL && strcmp(b->s->id, lid) != 0 && b->s->client == NULL) {
            session_free(b->s); /* renamed: the old local session goes */
            b->s = NULL;
        }
        rc = make_session(b, lid);
    }
    free(lid);
    return rc;
}

static struct bridge *bridge_new(struct bridge_conf *bc)
{
    struct bridge *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->conf = bc;
    if (set_identity(b) != 0) {
        bridge_free(b);
        return NULL;
    }
    uv_timer_init(broker.loop, &b->timer);
    b->timer.data = b;
    return b;
}

static void start(struct bridge *b)
{
    notify_local(b, false);
    if (b->conf->start_type == BRIDGE_START_LAZY)
        b->state = B_IDLE;
    else
        connect_now(b);
}

int bridge_start_all(void)
{
    struct conf *cf = broker.conf;

    make_hop_id();
    if (cf->bridge_count == 0)
        return 0;
    if (open_auth == NULL
        && (open_auth = auth_load(&(struct security_conf){ .allow_anonymous = 1 })) == NULL)
        return -1;
    bridges = calloc(cf->bridge_count, sizeof(*bridges));
    if (bridges == NULL)
        return -1;
    for (size_t i = 0; i < cf->bridge_count; i++) {
        /* The bridge owns its settings from here on: a reload can replace them one by one. */
        struct bridge_conf *bc = malloc(sizeof(*bc));
        if (bc == NULL)
            return -1;
        *bc = cf->bridges[i];
        memset(&cf->bridges[i], 0, sizeof(cf->bridges[i]));
        if ((bridges[i] = bridge_new(bc)) == NULL) {
            log_err("Error: Unable to start bridge %s: out of memory.", bc->name);
            return -1;
        }
        nbridges++;
    }
    for (size_t i = 0; i < nbridges; i++)
        start(bridges[i]);
    return 0;
}

void bridge_tick(int64_t now)
{
    for (size_t i = 0; i < nbridges; i++) {
        struct bridge *b = bridges[i];
        struct client *c = b->c;
        const struct bridge_conf *bc = b->conf;

        if (b->state == B_IDLE && bc->start_type == BRIDGE_START_LAZY && b->s != NULL
            && b->s->queue.count + b->s->inflight.count >= (uint32_t)bc->threshold
            && !uv_is_active((uv_handle_t *)&b->timer)) {
            connect_now(b);
            continue;
        }
        if (b->state != B_CONNECTED || c == NULL)
            continue;
        if (c->keepalive > 0 && now - b->last_ping >= (int64_t)c->keepalive * 1000) {
            mqtt_encode_empty(&c->out, MQTT_PINGREQ);
            client_want_flush(c);
            b->last_ping = now;
        }
        if (bc->start_type == BRIDGE_START_LAZY && b->s->queue.count == 0
            && b->s->inflight.count == 0
            && now - b->last_traffic >= (int64_t)bc->idle_timeout * 1000) {
            log_notice("Bridge %s has been idle for %d seconds, disconnecting.", bc->name,
                       bc->idle_timeout);
            c->disconnect_sent = true;
            mqtt_encode_disconnect(&c->out, c->version, 0, NULL);
            client_close(c, "idle timeout");
            continue;
        }
        if (!bc->round_robin && b->addr_idx != 0 && b->primary_probe_at != 0
            && now >= b->primary_probe_at && b->probe == NULL)
            probe_primary(b);
    }
}

void bridge_stop_all(void)
{
    for (size_t i = 0; i < nbridges; i++) {
        struct bridge *b = bridges[i];
        if (b->gai != NULL) {
            b->gai->data = NULL; /* the callback frees it and does nothing else */
            uv_cancel((uv_req_t *)b->gai);
            b->gai = NULL;
        }
        uv_timer_stop(&b->timer);
        if (b->probe != NULL) {
            struct probe *pr = b->probe;
            pr->b = NULL;
            b->probe = NULL;
            if (pr->tcp_started)
                uv_close((uv_handle_t *)&pr->tcp, probe_closed);
            else
                uv_cancel((uv_req_t *)&pr->gai);
        }
    }
}

static void bridge_free(struct bridge *b)
{
    uv_freeaddrinfo(b->res);
    tls_ctx_free(b->tls_ctx);
    if (b->conf != NULL)
        conf_bridge_clear(b->conf);
    free(b->conf);
    if (b->pending != NULL)
        conf_bridge_clear(b->pending);
    free(b->pending);
    free(b->remote_id);
    free(b->state_topic);
    free(b);
}

void bridge_free_all(void)
{
    for (size_t i = 0; i < nbridges; i++)
        bridge_free(bridges[i]);
    free(bridges);
    bridges = NULL;
    nbridges = 0;
    auth_free(open_auth);
    open_auth = NULL;
    free(scratch);
    scratch = NULL;
    scratch_cap = 0;
}

/* Ends b's connection now (a reload): DISCONNECT, then the usual close path. */
static void drop_connection(struct bridge *b, const char *why)
{
    struct client *c = b->c;

    if (c == NULL)
        return;
    log_debug("Bridge %s sending DISCONNECT", local_id(b));
    c->disconnect_sent = true;
    if (c->stage == STAGE_MQTT)
        mqtt_encode_disconnect(&c->out, c->version, 0, NULL);
    client_close(c, why);
}

static void remove_bridge(struct bridge *b)
{
    log_notice("Bridge %s removed by the reloaded configuration.", b->conf->name);
    b->removed = true;
    uv_timer_stop(&b->timer);
    if (b->gai != NULL) {
        b->gai->data = NULL;
        uv_cancel((uv_req_t *)b->gai);
        b->gai = NULL;
    }
    drop_connection(b, "bridge removed");
    b->state = B_STOPPED;
    if (b->s != NULL && b->s->client == NULL) {
        session_free(b->s);
        b->s = NULL;
    }
}

/* A changed section: now (bridge_reload_type immediate) or at the next reconnection (lazy). */
static void change_bridge(struct bridge *b, struct bridge_conf *bc)
{
    if (b->pending != NULL) {
        conf_bridge_clear(b->pending);
        free(b->pending);
    }
    b->pending = bc;
    if (!bc->reload_immediate && (b->state == B_CONNECTED || b->state == B_CONNECTING
                                  || b->state == B_RESOLVING))
        return; /* lazy: schedule_next() applies it */
    if (b->c != NULL) {
        b->quick_restart = true;
        drop_connection(b, "bridge reloaded");
    } else if (b->state == B_IDLE || b->state == B_STOPPED) {
        uv_timer_stop(&b->timer);
        apply_pending(b);
        b->addr_idx = 0;
        b->state = B_IDLE;
        if (!b->removed && b->conf->start_type != BRIDGE_START_LAZY)
            connect_now(b);
    }
    /* B_RESOLVING with immediate: the look-up's connection is dropped when it comes */
}

void bridge_reload(struct conf *fresh)
{
    size_t n = nbridges;

    for (size_t i = 0; i < n; i++) {
        struct bridge *b = bridges[i];
        struct bridge_conf *nc = NULL;
        if (b->removed)
            continue;
        for (size_t j = 0; j < fresh->bridge_count; j++) {
            if (fresh->bridges[j].name != NULL && strcmp(fresh->bridges[j].name, b->conf->name) == 0)
                nc = &fresh->bridges[j];
        }
        if (nc == NULL) {
            remove_bridge(b);
        } else if (!conf_bridge_equal(b->pending != NULL ? b->pending : b->conf, nc)) {
            struct bridge_conf *bc = malloc(sizeof(*bc));
            if (bc == NULL)
                continue;
            *bc = *nc;
            memset(nc, 0, sizeof(*nc));
            change_bridge(b, bc);
        } else {
            conf_bridge_clear(nc); /* unchanged: marks it as handled */
        }
    }
    for (size_t j = 0; j < fresh->bridge_count; j++) {
        struct bridge_conf *nc = &fresh->bridges[j], *bc;
        struct bridge **grown;
        if (nc->name == NULL)
            continue;
        if ((bc = malloc(sizeof(*bc))) == NULL
            || (grown = realloc(bridges, (nbridges + 1) * sizeof(*grown))) == NULL) {
            free(bc);
            continue;
        }
        bridges = grown;
        *bc = *nc;
        memset(nc, 0, sizeof(*nc));
        if (open_auth == NULL
            && (open_auth = auth_load(&(struct security_conf){ .allow_anonymous = 1 })) == NULL) {
            conf_bridge_clear(bc);
            free(bc);
            continue;
        }
        if ((bridges[nbridges] = bridge_new(bc)) == NULL) {
            log_err("Error: Unable to start bridge: out of memory.");
            continue;
        }
        log_notice("Bridge %s added by the reloaded configuration.", bc->name);
        start(bridges[nbridges++]);
    }
}
