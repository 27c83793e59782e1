/* handle_connect.c - CONNECT: version, client id rules, authentication (including the identity a
 * PROXY header vouches for), session takeover and resumption, the will, and the CONNACK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bridge.h"
#include "broker.h"
#include "log.h"
#include "packet.h"
#include "persist.h"
#include "property.h"
#include "tls.h"
#include "topic.h"

/* Mosquitto 2.1 prints the CONNECT protocol level (3 = 3.1, 4 = 3.1.1, 5 = 5.0); 2.0 printed its
 * internal numbers 1, 2, 5 (test/differential: connect/v311/clean records 2.1.2's "p4"). */
static int log_protocol(uint8_t version)
{
    return version;
}

static uint8_t v3_code(uint8_t rc)
{
    switch (rc) {
    case RC_SUCCESS: return CONNACK_ACCEPTED;
    case RC_UNSUPPORTED_PROTOCOL_VERSION: return CONNACK_REFUSED_PROTOCOL_VERSION;
    case RC_CLIENTID_NOT_VALID: return CONNACK_REFUSED_IDENTIFIER;
    case RC_BAD_USERNAME_OR_PASSWORD: return CONNACK_REFUSED_BAD_USERNAME_PASSWORD;
    case RC_NOT_AUTHORIZED: return CONNACK_REFUSED_NOT_AUTHORIZED;
    default: return CONNACK_REFUSED_SERVER_UNAVAILABLE;
    }
}

/* Refuses the connection with a CONNACK (v5: carrying props, may be NULL) and closes it. */
static int refuse_with(struct client *c, uint8_t version, uint8_t rc, const struct mqtt_bin *props,
                       const char *reason)
{
    uint8_t code = version == MQTT_V5 ? rc : v3_code(rc);

    mqtt_encode_connack(&c->out, version, false, code, props);
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending CONNACK to %s (0, %u)", client_name(c), code);
    client_close(c, reason);
    return -1;
}

static int refuse(struct client *c, uint8_t version, uint8_t rc, const char *reason)
{
    return refuse_with(c, version, rc, NULL, reason);
}

/* A CONNECT the decoder refused, answered as 2.1.2 does (test/differential connect/v5-prop/...,
 * connect/v5/invalid-utf8-id, connect/v5/will-*-topic): a v5 client with a property or will
 * topic fault gets a CONNACK with the reason code before the close (MQTT 5.0 4.13.1 allows
 * it), an invalid client identifier is 0x85 (3.x: closed), a wildcard in the will topic is
 * closed with 2.1.2's reader's wording; other faults (header, flags) close without a CONNACK. */
static int connect_undecodable(struct client *c, const struct mqtt_connect *ck, uint8_t rc)
{
    bool v5 = ck->version == MQTT_V5;

    switch (ck->fault) {
    case CONNECT_FAULT_PROPS: {
        const char *why = client_decode_reason(rc);
        if (v5)
            return refuse(c, MQTT_V5, rc, why);
        client_close(c, why);
        return -1;
    }
    case CONNECT_FAULT_CLIENT_ID:
        if (v5)
            return refuse(c, MQTT_V5, RC_CLIENTID_NOT_VALID, "client identifier not valid");
        client_close(c, "client identifier not valid");
        return -1;
    case CONNECT_FAULT_WILL_TOPIC:
        if (v5)
            return refuse(c, MQTT_V5, rc, "protocol error");
        break;
    case CONNECT_FAULT_WILL_WILDCARD:
        client_close(c, REASON_IO_PREFIX "Invalid input");
        return -1;
    default:
        break;
    }
    return client_protocol_error(c, rc, "protocol error"); /* no CONNACK: not connected yet */
}

/* The will's QoS, retain flag and size against the listener's max_qos, retain_available and
 * message_size_limit, before the client identifier is looked at (2.1.2 names the peer by
 * address here: will/v5/will-qos2-max-qos-1, will-retain-unavailable, oversize-will). 3.x
 * clients are closed without a CONNACK for QoS and retain, and get "not authorised" for size. */
static int will_refused(struct client *c, const struct mqtt_connect *ck)
{
    static const char disallowed[] =
        "used disallowed feature (QoS too high, retain not supported, or bad AUTH method)";
    int max_qos = c->listener->conf->max_qos;

    if (!ck->will)
        return 0;
    if (ck->will_qos > max_qos || (ck->will_retain && !broker.conf->retain_available)) {
        if (c->version != MQTT_V5) {
            client_close(c, disallowed);
            return -1;
        }
        if (ck->will_qos > max_qos) {
            struct buf props;
            buf_init(&props);
            mqtt_props_add_num(&props, PROP_MAXIMUM_QOS, (uint32_t)max_qos);
            struct mqtt_bin pb = { props.data, (uint32_t)props.len };
            refuse_with(c, MQTT_V5, RC_QOS_NOT_SUPPORTED, &pb, disallowed);
            buf_free(&props);
            return -1;
        }
        return refuse(c, MQTT_V5, RC_RETAIN_NOT_SUPPORTED, disallowed);
    }
    if (broker.conf->message_size_limit != 0 &&
        ck->will_payload.len > broker.conf->message_size_limit)
        return refuse(c, c->version, c->version == MQTT_V5 ? RC_PACKET_TOO_LARGE : RC_NOT_AUTHORIZED,
                      "oversize payload");
    return 0;
}

static void log_connected(const struct client *c, bool clean, uint16_t keepalive)
{
    const char *kind = c->is_bridge ? "bridge" : "client";

    if (!broker.conf->connection_messages)
        return;
    if (c->username != NULL)
        log_notice("New %s connected from %s:%u as %s (p%d, c%d, k%u, u'%s').", kind, c->address,
                   c->port, c->id, log_protocol(c->version), clean ? 1 : 0, keepalive,
                   c->username);
    else
        log_notice("New %s connected from %s:%u as %s (p%d, c%d, k%u).", kind, c->address,
                   c->port, c->id, log_protocol(c->version), clean ? 1 : 0, keepalive);
}

static char *bin_strdup(struct mqtt_bin b)
{
    char *s = malloc(b.len + 1u);

    if (s == NULL)
        return NULL;
    memcpy(s, b.p, b.len);
    s[b.len] = '\0';
    return s;
}

static char *make_auto_id(const char *prefix)
{
    static const char hex[] = "0123456789ABCDEF";
    char uuid[37];
    FILE *f = fopen("/dev/urandom", "rb");
    uint8_t r[16] = { 0 };
    char *id;
    size_t n = 0;

    if (f != NULL) {
        if (fread(r, 1, sizeof(r), f) != sizeof(r))
            memset(r, 0, sizeof(r));
        fclose(f);
    }
    r[0] ^= (uint8_t)broker.auto_id_counter;
    r[1] ^= (uint8_t)(broker.auto_id_counter++ >> 8);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            uuid[n++] = '-';
        uuid[n++] = hex[r[i] >> 4];
        uuid[n++] = hex[r[i] & 15];
    }
    uuid[n] = '\0';
    id = malloc(strlen(prefix) + n + 1);
    if (id != NULL)
        sprintf(id, "%s%s", prefix, uuid);
    return id;
}

static bool prefix_allowed(char **prefixes, const char *id)
{
    if (prefixes == NULL)
        return true;
    for (; *prefixes != NULL; prefixes++) {
        if (strncmp(id, *prefixes, strlen(*prefixes)) == 0)
            return true;
    }
    return false;
}

/* Builds the will message from the CONNECT; returns an RC or 0. */
static uint8_t take_will(struct client *c, const struct mqtt_connect *ck)
{
    struct msg *m;
    uint32_t delay = 0;
    struct mqtt_prop p;
    const char *mp = c->listener->conf->mount_point;
    size_t mplen = mp ? strlen(mp) : 0;
    char *topic;

    if (!ck->will) /* (topic, QoS, retain and size were checked: will_refused()) */
        return 0;
    if (c->version == MQTT_V5 && mqtt_props_find(ck->will_props, PROP_WILL_DELAY_INTERVAL, &p))
        delay = p.num;
    topic = malloc(mplen + ck->will_topic.len + 1u);
    if (topic == NULL)
        return RC_SERVER_UNAVAILABLE;
    memcpy(topic, mp ? mp : "", mplen);
    memcpy(topic + mplen, ck->will_topic.p, ck->will_topic.len);
    topic[mplen + ck->will_topic.len] = '\0';
    {
        /* Forward the will's message properties, minus the will delay which is ours. */
        struct buf props;
        struct mqtt_prop_iter it;
        buf_init(&props);
        mqtt_props_iter(&it, ck->will_props);
        while (c->version == MQTT_V5 && mqtt_props_next(&it, &p)) {
            if (p.id == PROP_WILL_DELAY_INTERVAL)
                continue;
            if (p.id == PROP_USER_PROPERTY)
                mqtt_props_add_pair(&props, p.key.p, p.key.len, p.bin.p, p.bin.len);
            else if (mqtt_prop_type(p.id) == PROPT_STRING || mqtt_prop_type(p.id) == PROPT_BINARY)
                mqtt_props_add_bin(&props, p.id, p.bin.p, p.bin.len);
            else
                mqtt_props_add_num(&props, p.id, p.num);
        }
        m = msg_new(topic, mplen + ck->will_topic.len, ck->will_payload.p, ck->will_payload.len,
                    props.data, props.len, ck->will_qos, ck->will_retain);
        buf_free(&props);
    }
    free(topic);
    if (m == NULL)
        return RC_SERVER_UNAVAILABLE;
    if (mqtt_props_find(ck->will_props, PROP_MESSAGE_EXPIRY_INTERVAL, &p) && p.num > 0)
        m->expiry = now_ms() / 1000 + p.num;
    will_set(c, m, delay);
    return 0;
}

/* Reads the v5 CONNECT properties that change how we treat the client. */
static uint8_t read_connect_props(struct client *c, const struct mqtt_connect *ck,
                                  uint32_t *session_expiry)
{
    struct mqtt_prop p;

    *session_expiry = 0;
    c->out_recv_max = 65535;
    if (c->version != MQTT_V5)
        return 0;
    /* MQTT 5.0 3.1.2.11.10: Authentication Data without an Authentication Method. */
    if (mqtt_props_find(ck->props, PROP_AUTHENTICATION_DATA, &p) &&
        !mqtt_props_find(ck->props, PROP_AUTHENTICATION_METHOD, &p))
        return RC_PROTOCOL_ERROR;
    if (mqtt_props_find(ck->props, PROP_SESSION_EXPIRY_INTERVAL, &p))
        *session_expiry = p.num;
    if (mqtt_props_find(ck->props, PROP_RECEIVE_MAXIMUM, &p))
        c->out_recv_max = (uint16_t)p.num;
    if (mqtt_props_find(ck->props, PROP_MAXIMUM_PACKET_SIZE, &p))
        c->out_max_packet = p.num;
    if (mqtt_props_find(ck->props, PROP_TOPIC_ALIAS_MAXIMUM, &p)) {
        int cap = c->listener->conf->max_topic_alias_broker;
        c->out_alias_max = (uint16_t)(p.num < (uint32_t)cap ? p.num : (uint32_t)cap);
    }
    if (mqtt_props_find(ck->props, PROP_AUTHENTICATION_METHOD, &p))
        return RC_BAD_AUTHENTICATION_METHOD; /* no enhanced authentication in this build */
    return 0;
}

/* Username and password checks; sets c->username. Returns an RC or 0. */
static uint8_t authenticate(struct client *c, const struct mqtt_connect *ck)
{
    const struct listener_conf *lc = c->listener->conf;
    const struct security_conf *sec = conf_security(broker.conf, lc);
    char *password = NULL;
    int rc;

    if (c->listener->tls_ctx != NULL ? c->identity
                                     : lc->proxy_version == 2 && lc->use_identity_as_username) {
        /* A verified certificate (ours, or the one the proxy vouched for) or a PSK identity
         * names the client: CONNECT's credentials are ignored. No CN means nobody to
         * authenticate. */
        if (c->proxy_cn == NULL || c->proxy_cn[0] == '\0')
            return RC_BAD_USERNAME_OR_PASSWORD;
        c->username = strdup(c->proxy_cn);
        c->identity = true;
    } else if (c->listener->tls_ctx != NULL &&
               (lc->use_identity_as_username || lc->use_subject_as_username)) {
        return RC_BAD_USERNAME_OR_PASSWORD; /* asked for a certificate identity, got none */
    } else if (ck->has_username) {
        c->username = bin_strdup(ck->username);
        if (ck->has_password)
            password = bin_strdup(ck->password);
    }
    /* listener_allow_anonymous (2.1) wins over allow_anonymous for its listener */
    rc = auth_check_connect(*c->listener->auth,
                            lc->allow_anonymous >= 0 ? lc->allow_anonymous > 0
                                                     : sec->allow_anonymous > 0,
                            c->username, password, c->identity);
    if (rc == 0 && !c->identity && password != NULL) {
        const char *h = auth_user_hash(*c->listener->auth, c->username);
        if (h != NULL && (c->auth_hash = strdup(h)) == NULL)
            rc = RC_SERVER_UNAVAILABLE;
        else if (h != NULL) {
            c->password = password; /* kept for the check on reload */
            return 0;
        }
    }
    if (password != NULL)
        explicit_bzero(password, strlen(password));
    free(password);
    return (uint8_t)rc;
}

static void send_connack(struct client *c, bool present, const char *assigned, uint16_t ka_server)
{
    struct buf props;
    const struct listener_conf *lc = c->listener->conf;

    buf_init(&props);
    if (c->version == MQTT_V5) {
        /* 2.1.2's order, so that CONNACKs compare byte for byte. */
        if (ka_server != 0)
            mqtt_props_add_num(&props, PROP_SERVER_KEEP_ALIVE, ka_server);
        if (lc->max_topic_alias > 0)
            mqtt_props_add_num(&props, PROP_TOPIC_ALIAS_MAXIMUM, (uint32_t)lc->max_topic_alias);
        if (assigned != NULL)
            mqtt_props_add_bin(&props, PROP_ASSIGNED_CLIENT_IDENTIFIER, assigned, strlen(assigned));
        if (!broker.conf->retain_available)
            mqtt_props_add_num(&props, PROP_RETAIN_AVAILABLE, 0);
        if (broker.conf->max_packet_size != 0)
            mqtt_props_add_num(&props, PROP_MAXIMUM_PACKET_SIZE, broker.conf->max_packet_size);
        if (broker.conf->max_inflight_messages > 0 && broker.conf->max_inflight_messages < 65535)
            mqtt_props_add_num(&props, PROP_RECEIVE_MAXIMUM,
                               (uint32_t)broker.conf->max_inflight_messages);
        if (lc->max_qos < 2)
            mqtt_props_add_num(&props, PROP_MAXIMUM_QOS, (uint32_t)lc->max_qos);
    }
    struct mqtt_bin pb = { props.data, (uint32_t)props.len };
    mqtt_encode_connack(&c->out, c->version, c->version >= MQTT_V311 && present, 0,
                        props.len ? &pb : NULL);
    if (log_on(LOG_T_DEBUG))
        log_debug("Sending CONNACK to %s (%d, 0)", c->id, c->version >= MQTT_V311 && present);
    buf_free(&props);
}

/* An existing connection with the same client id is closed. Its will goes out at once, unless
 * it has a will delay: the new connection came before the delay ran out, which deletes the will
 * [MQTT-3.1.3-9] whether or not the session continues (2.1.2 publishes neither). */
static void take_over(struct session *s)
{
    struct client *old = s->client;

    if (old == NULL)
        return;
    if (old->will.delay > 0)
        will_clear(old);
    if (old->version == MQTT_V5)
        mqtt_encode_disconnect(&old->out, MQTT_V5, RC_SESSION_TAKEN_OVER, NULL);
    /* Detach first: closing must neither free nor schedule expiry of the session we take. */
    old->session = NULL;
    s->client = NULL;
    client_close(old, "session taken over");
}

int handle_connect(struct client *c, const struct mqtt_frame *f)
{
    struct mqtt_connect ck;
    uint8_t rc = mqtt_decode_connect(f, &ck);
    const struct listener_conf *lc = c->listener->conf;
    const struct security_conf *sec = conf_security(broker.conf, lc);
    char *assigned = NULL;
    uint32_t session_expiry;
    uint16_t ka_server;
    struct session *s;
    bool present = false;

    if (rc == RC_UNSUPPORTED_PROTOCOL_VERSION) {
        log_info("Invalid protocol version %u in CONNECT from %s.", ck.version, c->address);
        /* "MQIsdp" is 3.1 whatever the level: 2.1.2 answers 3.x rc 1 (connect/protocol/MQIsdp-v5) */
        return refuse(c, ck.version == MQTT_V5 && !ck.mqisdp ? MQTT_V5 : MQTT_V311, rc,
                      "protocol error");
    }
    if (rc != 0)
        return connect_undecodable(c, &ck, rc);
    c->version = ck.version;
    c->clean = ck.clean;
    if (lc->accept_versions != 0 && !(lc->accept_versions & (1u << ck.version))) {
        /* accept_protocol_versions: 2.1.2 answers "unacceptable protocol version" (v5: 0x84)
         * and logs this reason. */
        return refuse(c, c->version, RC_UNSUPPORTED_PROTOCOL_VERSION,
                      "used disallowed feature (QoS too high, retain not supported, or bad AUTH "
                      "method)");
    }
    c->is_bridge = ck.bridge || (ck.version == MQTT_V5 && bridge_connect_props(ck.props));
    if (log_on(LOG_T_DEBUG))
        log_debug("Received CONNECT from %s:%u (p%d, c%d, k%u, id '%.*s')", c->address, c->port,
                  log_protocol(ck.version), ck.clean, ck.keepalive, (int)ck.client_id.len,
                  ck.client_id.p);
    rc = read_connect_props(c, &ck, &session_expiry);
    if (rc != 0)
        return refuse(c, c->version, rc,
                      rc == RC_PROTOCOL_ERROR ? "protocol error"
                      : "used disallowed feature (QoS too high, retain not supported, or bad AUTH "
                        "method)"); /* 2.1.2's wording for an unknown method */

    if (will_refused(c, &ck) != 0)
        return -1;

    /* Keep alive: v5 gets the server's value in CONNACK; 3.x clients asking for more than
     * max_keepalive (or for none when a maximum is set) are refused further down. */
    ka_server = 0;
    c->keepalive = ck.keepalive;
    bool ka_refused = false;
    if (broker.conf->max_keepalive < 65535 &&
        (ck.keepalive > broker.conf->max_keepalive || ck.keepalive == 0)) {
        ka_refused = c->version != MQTT_V5;
        c->keepalive = (uint16_t)broker.conf->max_keepalive;
        ka_server = c->keepalive;
    }

    /* Client identifier */
    if (ck.client_id.len == 0) {
        if (c->version == MQTT_V31 || (c->version == MQTT_V311 && !ck.clean))
            return refuse(c, c->version, RC_CLIENTID_NOT_VALID, "protocol error");
        /* Mosquitto answers v5 clients here with 0x80, not 0x85; 3.x get "identifier rejected". */
        if (!sec->allow_zero_length_clientid)
            return refuse(c, c->version,
                          c->version == MQTT_V5 ? RC_UNSPECIFIED : RC_CLIENTID_NOT_VALID,
                          "protocol error");
        c->id = make_auto_id(lc->auto_id_prefix ? lc->auto_id_prefix
                             : sec->auto_id_prefix ? sec->auto_id_prefix : "auto-");
        if (c->version == MQTT_V5)
            assigned = c->id;
    } else {
        c->id = bin_strdup(ck.client_id);
    }
    if (c->id == NULL)
        return refuse(c, c->version, RC_SERVER_UNAVAILABLE, "out of memory");
    if (!prefix_allowed(sec->clientid_prefixes, c->id)) {
        /* 2.1.2 names the peer by address here (connect/v311/clientid-prefixes-refused) */
        free(c->id);
        c->id = NULL;
        return refuse(c, c->version, RC_NOT_AUTHORIZED, "not authorised");
    }

    rc = authenticate(c, &ck);
    if (rc != 0)
        return refuse(c, c->version, rc, "not authorised");
    if (lc->use_username_as_clientid) {
        if (c->username == NULL)
            return refuse(c, c->version, RC_NOT_AUTHORIZED, "not authorised");
        free(c->id);
        c->id = strdup(c->username);
        assigned = NULL;
        if (c->id == NULL)
            return refuse(c, c->version, RC_SERVER_UNAVAILABLE, "out of memory");
    }
    if (ka_refused) {
        /* 2.1.2 logs the client as connected (with its own keep-alive), then answers "identifier
         * rejected" and closes (connect/v311/keepalive-above-max, max-keepalive-1-client-k0) */
        log_connected(c, ck.clean, ck.keepalive);
        return refuse(c, c->version, RC_CLIENTID_NOT_VALID, REASON_IO_PREFIX "Invalid input");
    }
    rc = take_will(c, &ck);
    if (rc != 0)
        return refuse(c, c->version, rc, "protocol error");

    /* Session: take over a live connection, resume or discard the stored state. */
    s = session_find(c->id);
    if (broker.conf->global_max_clients >= 0 && (s == NULL || s->client == NULL) &&
        broker.nconnected >= (size_t)broker.conf->global_max_clients) {
        /* A takeover keeps the count: only a client that adds one is refused. 2.1.2 answers
         * v5 with 0x89 and closes 3.x connections without a CONNACK. */
        will_clear(c);
        if (c->version != MQTT_V5) {
            client_close(c, "server busy (global_max_clients)");
            return -1;
        }
        return refuse(c, c->version, RC_SERVER_BUSY, "server busy (global_max_clients)");
    }
    if (s != NULL && s->bridge) /* one of our bridges' local session: not a client's to take */
        return refuse(c, c->version, RC_CLIENTID_NOT_VALID, "protocol error");
    will_cancel_delayed(c->id);
    if (s != NULL) {
        bool ended = s->client != NULL && !s->persistent;
        take_over(s);
        /* A session with expiry 0 (or a 3.x clean session) ended with its connection, even
         * when the new connection is what closed it: start fresh, session present 0. */
        if (ck.clean || ended) {
            session_free(s);
            s = NULL;
        } else {
            present = true;
        }
    }
    if (s == NULL && (s = session_new(c->id)) == NULL)
        return refuse(c, c->version, RC_SERVER_UNAVAILABLE, "out of memory");
    if (c->version == MQTT_V5) {
        s->persistent = session_expiry > 0;
        s->expiry_interval = session_expiry;
    } else {
        s->persistent = !ck.clean;
        s->expiry_interval = UINT32_MAX;
    }
    s->expire_at = 0;
    free(s->username);
    s->username = c->username ? strdup(c->username) : NULL;
    s->client = c;
    c->session = s;
    /* The session keeps the one copy of the id; the connection borrows it while attached. */
    free(c->id);
    c->id = s->id;
    c->id_borrowed = true;
    if (assigned != NULL)
        assigned = c->id;
    persist_session(s, c->version < MQTT_V5);

    c->stage = STAGE_MQTT;
    c->deadline = 0;
    broker.nconnected++;
    if (broker.nconnected > broker.stats.clients_maximum)
        broker.stats.clients_maximum = broker.nconnected;
    send_connack(c, present, assigned, ka_server);
    /* The keep-alive the client asked for, even when CONNACK set another: 2.1.2 logs that one
     * (connect/v5/keepalive-above-max, connect/v5/keepalive-0-with-max). */
    log_connected(c, ck.clean, ck.keepalive);
    tls_log_negotiated(c); /* after the connected line, as 2.1.2 */
    if (present)
        deliver_resume(s, true);
    client_want_flush(c);
    return 0;
}
