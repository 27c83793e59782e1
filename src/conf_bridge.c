/* conf_bridge.c - the `connection` sections of mosquitto.conf: the parsers of the bridge options
 * that need more than a typed setter (addresses, topic lines with their remapping, versions,
 * start types, restart timeouts, Mosquitto's clamped numbers), the checks once a file is read,
 * and freeing. Wording and limits follow Mosquitto 2.1.2 (recorded in test_bridge_config.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_opts.h"
#include "err.h"
#include "topic.h"

static struct bridge_conf *current(struct conf_parse *p)
{
    return &p->c->bridges[p->c->parse_bridge];
}

static void bridge_defaults(struct bridge_conf *b)
{
    memset(b, 0, sizeof(*b));
    b->protocol_version = 4;
    b->local_clean = -1;
    b->keepalive = 60;
    b->idle_timeout = 60;
    b->threshold = 10;
    b->restart_base = 5;
    b->restart_cap = 30;
    b->try_private = true;
    b->notifications = true;
    b->attempt_unsubscribe = true;
    b->outgoing_retain = true;
    b->max_topic_alias = 10;
    b->receive_maximum = 65535;
}

int conf_opt_connection(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct conf *c = p->c;
    struct bridge_conf *grown;
    char *name;
    int rc;

    (void)o;
    if ((rc = conf_one_value(p, args, &name)) != ERR_OK)
        return rc;
    for (size_t i = 0; i < c->bridge_count; i++) {
        if (strcmp(c->bridges[i].name, name) == 0)
            return conf_fail(p, ERR_CONF, "Error: Duplicate bridge name '%s'.", name);
    }
    if ((grown = realloc(c->bridges, (c->bridge_count + 1) * sizeof(*grown))) == NULL)
        return conf_nomem(p);
    c->bridges = grown;
    bridge_defaults(&grown[c->bridge_count]);
    if ((grown[c->bridge_count].name = strdup(name)) == NULL)
        return conf_nomem(p);
    grown[c->bridge_count].file = p->file;
    grown[c->bridge_count].line = p->line;
    c->parse_bridge = (int)c->bridge_count++;
    return ERR_OK;
}

/* "host", "host:port", "[v6]:port" or a bare IPv6 address (which Mosquitto cannot take). */
static int parse_one_address(struct conf_parse *p, char *s, struct bridge_addr *a)
{
    char *colon = strrchr(s, ':');
    char *host = s;
    long long port = 1883;

    if (s[0] == '[' && (colon == NULL || colon[-1] != ']')) {
        char *end = strchr(s, ']');
        if (end == NULL || end[1] != '\0')
            return conf_fail(p, ERR_CONF, "Error: Invalid bridge address '%s'.", s);
        *end = '\0';
        host = s + 1;
        colon = NULL;
    } else if (s[0] == '[') {
        colon[-1] = '\0';
        host = s + 1;
    } else if (colon != NULL && strchr(s, ':') != colon) {
        colon = NULL; /* several colons and no brackets: an IPv6 address without a port */
    }
    if (colon != NULL) {
        *colon = '\0';
        if (!conf_parse_number(colon + 1, &port))
            port = 0;
        if (port <= 0 || port > 65535)
            return conf_fail(p, ERR_CONF, "Error: Invalid bridge port value (%lld).", port);
    }
    if (host[0] == '\0')
        return conf_fail(p, ERR_CONF, "Error: Empty address value in configuration.");
    if ((a->host = strdup(host)) == NULL)
        return conf_nomem(p);
    a->port = (uint16_t)port;
    return ERR_OK;
}

/* address / addresses: one or more "host[:port]", separated by spaces or commas. */
int conf_opt_bridge_address(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b;
    char *tok;

    (void)o;
    if (p->c->parse_bridge < 0)
        return conf_fail(p, ERR_CONF, "Error: The '%s' option requires a bridge to be defined "
                         "first.", p->keyword);
    b = current(p);
    if (b->naddrs > 0)
        return conf_fail(p, ERR_CONF,
                         "Error: Invalid bridge configuration, 'address' only allowed once.");
    for (char *s = args; *s != '\0'; s++) {
        if (*s == ',')
            *s = ' ';
    }
    while ((tok = conf_next_token(&args)) != NULL) {
        struct bridge_addr *grown = realloc(b->addrs, (b->naddrs + 1) * sizeof(*grown));
        int rc;
        if (grown == NULL)
            return conf_nomem(p);
        b->addrs = grown;
        if ((rc = parse_one_address(p, tok, &grown[b->naddrs])) != ERR_OK)
            return rc;
        b->naddrs++;
    }
    if (b->naddrs == 0)
        return conf_fail(p, ERR_CONF, "Error: Empty address value in configuration.");
    return ERR_OK;
}

/* A prefix may not hold wildcards: it is glued to every topic that crosses the bridge. */
static bool prefix_ok(const char *s)
{
    return strchr(s, '+') == NULL && strchr(s, '#') == NULL;
}

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);

    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static const char *unquote(const char *s)
{
    return strcmp(s, "\"\"") == 0 ? "" : s;
}

static void topic_free(struct bridge_topic *t)
{
    free(t->local_filter);
    free(t->remote_filter);
    free(t->local_prefix);
    free(t->remote_prefix);
}

static bool same_topic(const struct bridge_topic *a, const struct bridge_topic *b)
{
    return a->dir == b->dir && strcmp(a->local_filter, b->local_filter) == 0
        && strcmp(a->remote_filter, b->remote_filter) == 0;
}

/* The next word of a topic line, where '#' is a wildcard and not the start of a comment. */
static char *word(char **s)
{
    char *t = *s, *e;

    while (*t == ' ' || *t == '\t')
        t++;
    if (*t == '\0')
        return NULL;
    e = t;
    while (*e != '\0' && *e != ' ' && *e != '\t')
        e++;
    if (*e != '\0')
        *e++ = '\0';
    *s = e;
    return t;
}

/* topic PATTERN [out|in|both [QOS [LOCAL_PREFIX [REMOTE_PREFIX]]]] */
int conf_opt_bridge_topic(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char *pat = word(&args), *dir = word(&args);
    char *qos = dir ? word(&args) : NULL;
    char *lp = qos ? word(&args) : NULL, *rp = lp ? word(&args) : NULL;
    struct bridge_topic t = { .dir = BRIDGE_OUT, .qos = 0 };
    struct bridge_conf *b;
    const char *pattern;
    long long n;

    (void)o;
    if (p->c->parse_bridge < 0)
        return conf_fail(p, ERR_CONF,
                         "Error: The 'topic' option requires a bridge to be defined first.");
    b = current(p);
    if (pat == NULL)
        return conf_fail(p, ERR_CONF, "Error: Empty 'topic' value in configuration.");
    pattern = unquote(pat);
    if (dir != NULL) {
        if (strcmp(dir, "out") == 0)
            t.dir = BRIDGE_OUT;
        else if (strcmp(dir, "in") == 0)
            t.dir = BRIDGE_IN;
        else if (strcmp(dir, "both") == 0)
            t.dir = BRIDGE_BOTH;
        else
            return conf_fail(p, ERR_CONF, "Error: Invalid bridge topic direction '%s'.", dir);
    }
    if (qos != NULL) {
        if (!conf_parse_number(qos, &n) || n < 0 || n > 2)
            return conf_fail(p, ERR_CONF, "Error: Invalid bridge QoS level '%s'.", qos);
        t.qos = (uint8_t)n;
    }
    lp = lp != NULL ? (char *)unquote(lp) : "";
    rp = rp != NULL ? (char *)unquote(rp) : "";
    if (pattern[0] == '\0' && (lp[0] == '\0' || rp[0] == '\0'))
        return conf_fail(p, ERR_CONF, "Error: Invalid bridge remapping.");
    if (!prefix_ok(lp))
        return conf_fail(p, ERR_CONF, "Error: Invalid bridge topic local prefix '%s'.", lp);
    if (!prefix_ok(rp))
        return conf_fail(p, ERR_CONF, "Error: Invalid bridge topic remote prefix '%s'.", rp);
    t.local_filter = concat(lp, pattern);
    t.remote_filter = concat(rp, pattern);
    t.local_prefix = strdup(lp);
    t.remote_prefix = strdup(rp);
    if (t.local_filter == NULL || t.remote_filter == NULL || t.local_prefix == NULL
        || t.remote_prefix == NULL) {
        topic_free(&t);
        return conf_nomem(p);
    }
    if (!topic_filter_valid(t.local_filter, strlen(t.local_filter))) {
        int rc = conf_fail(p, ERR_CONF, "Error: Invalid bridge topic local prefix and pattern "
                           "combination '%s'.", t.local_filter);
        topic_free(&t);
        return rc;
    }
    if (!topic_filter_valid(t.remote_filter, strlen(t.remote_filter))) {
        int rc = conf_fail(p, ERR_CONF, "Error: Invalid bridge topic remote prefix and pattern "
                           "combination '%s'.", t.remote_filter);
        topic_free(&t);
        return rc;
    }
    for (size_t i = 0; i < b->ntopics; i++) {
        if (same_topic(&b->topics[i], &t)) {
            conf_warn("Duplicate bridge topic '%s', skipping", pattern);
            topic_free(&t);
            return ERR_OK;
        }
    }
    struct bridge_topic *grown = realloc(b->topics, (b->ntopics + 1) * sizeof(*grown));
    if (grown == NULL) {
        topic_free(&t);
        return conf_nomem(p);
    }
    b->topics = grown;
    b->topics[b->ntopics++] = t;
    return ERR_OK;
}

int conf_opt_bridge_protocol(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    int *f = (int *)((char *)current(p) + o->offset);
    char *v;
    int rc;

    if ((rc = conf_one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (strcmp(v, "mqttv31") == 0)
        *f = 3;
    else if (strcmp(v, "mqttv311") == 0)
        *f = 4;
    else if (strcmp(v, "mqttv50") == 0)
        *f = 5;
    else
        return conf_fail(p, ERR_CONF, "Error: Invalid 'bridge_protocol_version' value (%s).", v);
    return ERR_OK;
}

int conf_opt_bridge_start_type(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b = current(p);
    char *v;
    int rc;

    (void)o;
    if ((rc = conf_one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (strcmp(v, "automatic") == 0)
        b->start_type = BRIDGE_START_AUTOMATIC;
    else if (strcmp(v, "lazy") == 0)
        b->start_type = BRIDGE_START_LAZY;
    else if (strcmp(v, "once") == 0)
        b->start_type = BRIDGE_START_ONCE;
    else
        return conf_fail(p, ERR_CONF, "Error: Invalid 'start_type' value in configuration (%s).",
                         v);
    return ERR_OK;
}

int conf_opt_bridge_reload_type(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char *v;
    int rc;

    (void)o;
    if ((rc = conf_one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (strcmp(v, "lazy") != 0 && strcmp(v, "immediate") != 0)
        return conf_fail(p, ERR_CONF,
                         "Error: Invalid 'bridge_reload_type' value in configuration (%s).", v);
    current(p)->reload_immediate = strcmp(v, "immediate") == 0;
    return ERR_OK;
}

/* Mosquitto reads the number with atoi(): a word counts as 0 and is then clamped. */
static long long atoi_like(const char *s)
{
    return strtoll(s, NULL, 10);
}

/* restart_timeout CONSTANT | BASE CAP */
int conf_opt_bridge_restart(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b = current(p);
    char *base = conf_next_token(&args), *cap = conf_next_token(&args);
    long long nb, nc;

    (void)o;
    if (base == NULL)
        return conf_fail(p, ERR_CONF, "Error: Empty 'restart_timeout' value in configuration.");
    nb = atoi_like(base);
    if (nb < 1) {
        conf_warn("restart_timeout interval too low, using 1 second.");
        nb = 1;
    }
    nc = 0;
    if (cap != NULL) {
        nc = atoi_like(cap);
        if (nc < nb)
            return conf_fail(p, ERR_CONF,
                             "Error: backoff cap is lower than the base in restart_timeout.");
    }
    b->restart_base = (int)(nb > 86400 * 365 ? 86400 * 365 : nb);
    b->restart_cap = (int)(nc > 86400 * 365 ? 86400 * 365 : nc);
    return ERR_OK;
}

/* The bridge's numeric options, each with Mosquitto's own limits and words. */
int conf_opt_bridge_number(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b = current(p);
    const char *k = o->keyword;
    char *v;
    long long n;
    int rc;

    if ((rc = conf_one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (!conf_parse_number(v, &n))
        return conf_fail(p, ERR_CONF, "Error: '%s' value not a number.", k);
    if (strcmp(k, "keepalive_interval") == 0) {
        if (n > 65535)
            return conf_fail(p, ERR_CONF, "Error: Bridge keepalive value too high.");
        if (n < 5) {
            conf_warn("keepalive interval too low, using 5 seconds.");
            n = 5;
        }
        b->keepalive = (int)n;
    } else if (strcmp(k, "threshold") == 0) {
        if (n < 1) {
            conf_warn("threshold too low, using 1 message.");
            n = 1;
        }
        b->threshold = n > 1000000000 ? 1000000000 : (int)n;
    } else if (strcmp(k, "idle_timeout") == 0) {
        if (n < 1) {
            conf_warn("idle_timeout interval too low, using 1 second.");
            n = 1;
        }
        b->idle_timeout = n > 86400 * 365 ? 86400 * 365 : (int)n;
    } else if (strcmp(k, "bridge_max_topic_alias") == 0) {
        if (n < 0 || n > 65535)
            return conf_fail(p, ERR_CONF,
                             "Error: bridge_max_topic_alias must be > 0 and <= 65535.");
        b->max_topic_alias = (int)n;
    } else if (strcmp(k, "bridge_receive_maximum") == 0) {
        if (n <= 0)
            return conf_fail(p, ERR_CONF, "Error: bridge_receive_maximum must be greater than 0.");
        if (n > 65535)
            return conf_fail(p, ERR_CONF, "Error: bridge_receive_maximum must be lower than 65535.");
        b->receive_maximum = (int)n;
    } else if (strcmp(k, "bridge_session_expiry_interval") == 0) {
        if (n < 0)
            return conf_fail(p, ERR_CONF,
                             "Error: bridge_session_expiry_interval must not be negative.");
        if (n > UINT32_MAX)
            return conf_fail(p, ERR_CONF,
                             "Error: 'bridge_session_expiry_interval' value out of range.");
        b->session_expiry = (uint32_t)n;
    } else if (strcmp(k, "bridge_max_packet_size") == 0) {
        /* Mosquitto takes any value; 0 or less means no limit, and MQTT allows no more. */
        b->max_packet_size = n <= 0 ? 0 : n > 268435460 ? 268435460 : (uint32_t)n;
    } else if (strcmp(k, "bridge_tcp_user_timeout") == 0) {
        b->tcp_user_timeout = n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : (int)n;
    }
    return ERR_OK;
}

int conf_opt_bridge_insecure(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b = current(p);
    int rc = conf_get_bool(p, args, &b->insecure);

    (void)o;
    if (rc == ERR_OK && b->insecure)
        conf_warn("Warning: Bridge '%s' using insecure mode.", b->name);
    return rc;
}

/* bridge_tcp_keepalive IDLE INTERVAL COUNT (seconds, seconds, probes) */
int conf_opt_bridge_tcp_keepalive(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct bridge_conf *b = current(p);
    long long v[3];

    (void)o;
    for (int i = 0; i < 3; i++) {
        char *t = conf_next_token(&args);
        if (t == NULL || !conf_parse_number(t, &v[i]) || v[i] < 1 || v[i] > 32767)
            return conf_fail(p, ERR_CONF, "Error: Invalid 'bridge_tcp_keepalive' value.");
    }
    b->tcp_ka_idle = (int)v[0];
    b->tcp_ka_interval = (int)v[1];
    b->tcp_ka_count = (int)v[2];
    return ERR_OK;
}

/* The first TLS option a bridge sets, or NULL. */
const char *conf_bridge_tls_option(const struct bridge_conf *b)
{
    if (b->cafile != NULL) return "bridge_cafile";
    if (b->capath != NULL) return "bridge_capath";
    if (b->certfile != NULL) return "bridge_certfile";
    if (b->keyfile != NULL) return "bridge_keyfile";
    if (b->identity != NULL) return "bridge_identity";
    if (b->psk != NULL) return "bridge_psk";
    if (b->tls_use_os_certs) return "bridge_tls_use_os_certs";
    if (b->alpn != NULL) return "bridge_alpn";
    if (b->tls_version != NULL) return "bridge_tls_version";
    if (b->ciphers != NULL) return "bridge_ciphers";
    if (b->ciphers_tls13 != NULL) return "bridge_ciphers_tls1.3";
    if (b->require_ocsp) return "bridge_require_ocsp";
    if (b->insecure) return "bridge_insecure";
    return NULL;
}

bool conf_bridge_uses_tls(const struct bridge_conf *b)
{
    /* As 2.1.2: a trust source or a PSK turns TLS on; the other bridge_* TLS options only
     * shape a TLS connection that one of these asked for. */
    return b->cafile != NULL || b->capath != NULL || b->tls_use_os_certs || b->identity != NULL;
}

int conf_bridges_validate(struct conf *c)
{
    for (size_t i = 0; i < c->bridge_count; i++) {
        const struct bridge_conf *b = &c->bridges[i];
        const char *tls;

        if (b->naddrs == 0)
            return conf_fail_at(NULL, 0, ERR_CONF,
                                "Error: Invalid bridge configuration: no remote addresses defined.");
        if (b->ntopics == 0)
            return conf_fail_at(NULL, 0, ERR_CONF,
                                "Error: Invalid bridge configuration: no topics defined.");
        if (b->identity != NULL && b->psk == NULL)
            return conf_fail_at(NULL, 0, ERR_CONF,
                                "Error: Invalid bridge configuration: missing bridge_psk.");
        if (b->psk != NULL && b->identity == NULL)
            return conf_fail_at(NULL, 0, ERR_CONF,
                                "Error: Invalid bridge configuration: missing bridge_identity.");
        if (b->identity != NULL && (b->cafile != NULL || b->capath != NULL))
            return conf_fail_at(b->file, b->line, ERR_CONF, "Error: 'bridge_identity': Cannot "
                                "use both certificate and identity encryption in a single "
                                "bridge.");
        /* 2.1.2 asks for a stapled OCSP response and checks it. We do not check OCSP
         * responses (signature, freshness, the certificate's status), and taking the option
         * without doing so would promise a revocation check that never happens. */
        if (b->require_ocsp)
            return conf_fail_at(b->file, b->line, ERR_NOT_SUPPORTED, "Error: Bridge '%s': "
                                "bridge_require_ocsp is not supported by this build (no OCSP "
                                "response checking); remove it or use a CRL on the remote "
                                "broker.", b->name);
        /* 2.1.2 connects in clear, silently; ours says so. */
        if ((tls = conf_bridge_tls_option(b)) != NULL && !conf_bridge_uses_tls(b))
            conf_warn("Warning: Bridge '%s': %s is set but no bridge_cafile, bridge_capath, "
                      "bridge_tls_use_os_certs or bridge_identity is: the connection is not "
                      "encrypted.", b->name, tls);
    }
    return ERR_OK;
}

void conf_bridges_free(struct conf *c)
{
    for (size_t i = 0; i < c->bridge_count; i++)
        conf_bridge_clear(&c->bridges[i]);
    free(c->bridges);
    c->bridges = NULL;
    c->bridge_count = 0;
}

void conf_bridge_clear(struct bridge_conf *b)
{
    {
        for (size_t j = 0; j < b->naddrs; j++)
            free(b->addrs[j].host);
        free(b->addrs);
        for (size_t j = 0; j < b->ntopics; j++)
            topic_free(&b->topics[j]);
        free(b->topics);
        free(b->name);
        free(b->remote_clientid);
        free(b->local_clientid);
        free(b->remote_username);
        free(b->remote_password);
        free(b->local_username);
        free(b->local_password);
        free(b->notification_topic);
        free(b->bind_address);
        free(b->cafile);
        free(b->capath);
        free(b->certfile);
        free(b->keyfile);
        free(b->tls_version);
        free(b->alpn);
        free(b->identity);
        free(b->psk);
        free(b->ciphers);
        free(b->ciphers_tls13);
    }
    memset(b, 0, sizeof(*b));
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool conf_bridge_equal(const struct bridge_conf *a, const struct bridge_conf *b)
{
#define SAME(f) (a->f == b->f)
#define SAME_STR(f) str_eq(a->f, b->f)
    if (!SAME(naddrs) || !SAME(ntopics))
        return false;
    for (size_t i = 0; i < a->naddrs; i++) {
        if (!str_eq(a->addrs[i].host, b->addrs[i].host) || a->addrs[i].port != b->addrs[i].port)
            return false;
    }
    for (size_t i = 0; i < a->ntopics; i++) {
        const struct bridge_topic *x = &a->topics[i], *y = &b->topics[i];
        if (x->dir != y->dir || x->qos != y->qos || !str_eq(x->local_filter, y->local_filter)
            || !str_eq(x->remote_filter, y->remote_filter)
            || !str_eq(x->local_prefix, y->local_prefix))
            return false;
    }
    return SAME_STR(name) && SAME(protocol_version) && SAME(clean) && SAME(local_clean)
        && SAME_STR(remote_clientid) && SAME_STR(local_clientid) && SAME_STR(remote_username)
        && SAME_STR(remote_password) && SAME_STR(local_username) && SAME_STR(local_password)
        && SAME(keepalive) && SAME(idle_timeout) && SAME(start_type) && SAME(threshold)
        && SAME(restart_base) && SAME(restart_cap) && SAME(round_robin) && SAME(try_private)
        && SAME(notifications) && SAME(notifications_local_only) && SAME_STR(notification_topic)
        && SAME(attempt_unsubscribe) && SAME(outgoing_retain) && SAME(max_packet_size)
        && SAME(max_topic_alias) && SAME(receive_maximum) && SAME(session_expiry)
        && SAME_STR(bind_address) && SAME(reload_immediate) && SAME(tcp_ka_idle)
        && SAME(tcp_ka_interval) && SAME(tcp_ka_count) && SAME(tcp_user_timeout)
        && SAME_STR(cafile) && SAME_STR(capath) && SAME_STR(certfile) && SAME_STR(keyfile)
        && SAME_STR(tls_version) && SAME_STR(alpn) && SAME_STR(identity) && SAME_STR(psk)
        && SAME_STR(ciphers) && SAME_STR(ciphers_tls13) && SAME(insecure)
        && SAME(require_ocsp) && SAME(tls_use_os_certs);
#undef SAME
#undef SAME_STR
}
