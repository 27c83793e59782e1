/* bench.c - mqtt_bench, a loopback MQTT 3.1.1 / 5.0 load generator: throughput, latency, loss,
 * connection storms and idle connections, with the broker's CPU and RSS read from /proc; plain
 * TCP or TLS (--tls CAFILE, with session resumption by ticket for storms: --tls-resume).
 * One thread, one epoll loop, non-blocking sockets; not an MQTT client library. */
#include "bench_stats.h"
#include "bench_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BATCH         32            /* messages encoded per publisher per loop turn */
#define OUT_HIGH      (256 * 1024)  /* stop encoding while this much waits for the socket */
#define READ_CHUNK    (64 * 1024)
#define MAX_PENDING   64            /* handshakes in flight: keeps the listen backlog sane */

struct opts {
    const char *host, *port, *sub_port, *topic, *sub_topic, *label;
    int npub, nsub, qos, version, topics, inflight, storm_par, keepalive;
    size_t size;
    uint64_t count;
    double duration, rate, drain;
    int connections, storm;
    bool idle, json, persistent_sub;
    bool reconnect;               /* --reconnect: survive a broker restart (QoS 0 and 1) */
    pid_t broker;
    const char *tls_ca;           /* --tls: CA file; NULL = plain TCP */
    bool tls_resume;              /* --tls-resume: offer the last session's ticket */
};

enum role { ROLE_PUB, ROLE_SUB, ROLE_IDLE, ROLE_STORM };
enum cstate { CS_CONNECTING, CS_TLS, CS_CONNACK, CS_SUBACK, CS_READY, CS_CLOSING, CS_CLOSED };

struct cbuf {
    uint8_t *p;        /* owned */
    size_t off, len, cap;
};

struct conn {
    int fd;
    SSL *ssl;                     /* owned; NULL on plain TCP */
    uint32_t events;   /* the epoll mask currently registered */
    enum role role;
    enum cstate st;
    int id;
    struct cbuf in, out;
    /* publisher */
    uint64_t sent, quota, recv_e2e;
    uint32_t inflight, win;
    uint16_t next_pid;
    uint64_t *pid_used;           /* owned, 65536 bits; QoS > 0 only */
    uint32_t *pid_seq;            /* owned, [65536]: the message each id carries (--reconnect) */
    uint64_t retry_at;            /* --reconnect: when to connect again after a loss; 0 = no */
    double fanout;                /* deliveries per message, for the QoS 0 window */
    bool done_sending;
    /* subscriber */
    char *filter;                 /* owned */
    struct bench_stream *streams; /* owned, one per publisher */
    uint64_t recv;
};

static bool have_count;           /* --count given: publish exactly that many */

static struct opts o = {
    .host = "127.0.0.1", .port = "1883", .topic = "bench/%d", .sub_topic = NULL,
    .label = "run", .npub = 1, .nsub = 1, .qos = 0, .version = 4, .topics = 1,
    .inflight = 0, .storm_par = 32, .keepalive = 60, .size = 64, .count = 0,
    .duration = 0, .rate = 0, .drain = 2.0,
};

static struct {
    int ep;
    struct sockaddr_storage addr, sub_addr; /* sub_addr: --sub-port (a bridged broker) */
    socklen_t addrlen, sub_addrlen;
    bool loopback4;
    unsigned src_next;
    struct conn *pubs, *subs;
    char **topic_str;             /* [ntopic_ids] */
    size_t *topic_len;
    uint64_t *sent_topic;         /* [ntopic_ids] */
    int ntopic_ids;
    bool topic_per_pub;           /* the pattern has %d: ids are pub * topics + t */
    uint8_t *match;               /* [nsub][ntopic_ids] */
    struct bench_hist hist;
    uint64_t unique, dups, reordered, rejected, acked, reconnects;
    uint64_t now;                 /* when the current epoll round returned */
    uint64_t t_start, t_pub_end, last_delivery, last_progress;
    bool stalled;
    int errors;
    int tls_resumed;              /* handshakes the broker resumed from a ticket */
} g;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "mqtt_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);

    if (!p)
        die("out of memory");
    return p;
}

static void cbuf_reserve(struct cbuf *b, size_t n)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->cap - b->len >= n)
        return;
    if (b->off) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= n)
            return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p)
        die("out of memory");
    b->cap = cap;
}

static void cbuf_free(struct cbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static void set_events(struct conn *c, uint32_t ev)
{
    if (c->fd < 0 || ev == c->events)
        return;
    if (epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &(struct epoll_event){ .events = ev,
                                                                     .data.ptr = c }) == -1)
        die("epoll_ctl: %s", strerror(errno));
    c->events = ev;
}

static SSL_CTX *tls_ctx;
static SSL_SESSION *tls_session;  /* the newest resumable session (--tls-resume) */

/* send()/recv() through TLS when the connection has it: same return convention (-1 with errno
 * EAGAIN when OpenSSL wants the socket again, 0 at the peer's end of stream). */
static ssize_t io_send(struct conn *c, const void *p, size_t n)
{
    size_t done = 0;
    int e;

    if (c->ssl == NULL)
        return send(c->fd, p, n, MSG_NOSIGNAL);
    if (SSL_write_ex(c->ssl, p, n, &done) == 1)
        return (ssize_t)done;
    e = SSL_get_error(c->ssl, 0);
    ERR_clear_error();
    errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

static ssize_t io_recv(struct conn *c, void *p, size_t n)
{
    size_t got = 0;
    int e;

    if (c->ssl == NULL)
        return recv(c->fd, p, n, 0);
    if (SSL_read_ex(c->ssl, p, n, &got) == 1)
        return (ssize_t)got;
    e = SSL_get_error(c->ssl, 0);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    return 0; /* close_notify, EOF or a TLS failure: the connection is over */
}

static void conn_close(struct conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);   /* closing removes it from the epoll set */
    c->fd = -1;
    c->st = CS_CLOSED;
    cbuf_free(&c->in);
    cbuf_free(&c->out);
}

/* Writes what it can; returns -1 when the connection failed. */
static int conn_flush(struct conn *c)
{
    struct cbuf *b = &c->out;

    while (b->off < b->len) {
        ssize_t n = io_send(c, b->p + b->off, b->len - b->off);
        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_events(c, EPOLLIN | EPOLLOUT);
                return 0;
            }
            if (errno == EINTR)
                continue;
            return -1;
        }
        b->off += (size_t)n;
    }
    b->off = b->len = 0;
    set_events(c, EPOLLIN);
    return 0;
}

/* --reconnect: a lost publisher or subscriber connects again this long after. */
#define RETRY_NS 20000000ull

static void conn_start(struct conn *c)
{
    int fd = socket(g.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd == -1)
        die("socket: %s (raise the open-file limit?)", strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (g.loopback4) {
        /* Spread source addresses over 127.0.0.0/8 so storms and 10k idle connections do not
         * run out of ephemeral ports; the port is picked at connect() time. */
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl(0x7f000001u + (g.src_next++ % 200));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
            die("bind: %s", strerror(errno));
    }
    bool other = c->role == ROLE_SUB && g.sub_addrlen > 0;
    if (connect(fd, (struct sockaddr *)(other ? &g.sub_addr : &g.addr),
                other ? g.sub_addrlen : g.addrlen) == -1 && errno != EINPROGRESS) {
        if (c->retry_at) {   /* the broker is not back yet: try again later */
            close(fd);
            c->retry_at = bench_now_ns() + RETRY_NS;
            return;
        }
        die("connect to %s:%s: %s", o.host, o.port, strerror(errno));
    }
    c->retry_at = 0;
    c->fd = fd;
    c->st = CS_CONNECTING;
    c->events = EPOLLOUT;
    if (epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLOUT,
                                                                  .data.ptr = c }) == -1)
        die("epoll_ctl: %s", strerror(errno));
}

static void client_id(char *buf, size_t len, const struct conn *c)
{
    static const char tag[] = { 'p', 's', 'i', 'x' };

    snprintf(buf, len, "bench-%c%d-%d", tag[c->role], c->id, (int)getpid());
}

static int send_connect(struct conn *c);

/* One step of the TLS handshake; sends CONNECT once it is done. -1 on failure. */
static int tls_step(struct conn *c)
{
    int r = SSL_do_handshake(c->ssl), e;

    if (r == 1) {
        g.tls_resumed += SSL_session_reused(c->ssl);
        return send_connect(c);
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_events(c, EPOLLIN);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        set_events(c, EPOLLOUT);
        return 0;
    }
    fprintf(stderr, "mqtt_bench: TLS handshake: %s\n",
            ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(
                ERR_peek_last_error()) : "failed");
    ERR_clear_error();
    return -1;
}

/* --tls-resume: OpenSSL hands each NewSessionTicket's session over here; the newest is offered
 * by the next connections. Copies everywhere: SSL_free() of a connection that sent no
 * close_notify marks the session it holds not resumable, and with one shared session object
 * only half to 3/4 of a storm's handshakes were resumed (now all but the first batch). */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    SSL_SESSION *copy = SSL_SESSION_dup(sess);

    (void)ssl;
    if (copy != NULL && SSL_SESSION_is_resumable(copy)) {
        SSL_SESSION_free(tls_session);
        tls_session = copy;
    } else {
        SSL_SESSION_free(copy);
    }
    return 0; /* the copy is ours; OpenSSL keeps its own reference */
}

/* The socket became writable while connecting: TCP is up, so start TLS or send CONNECT. */
static int conn_connected(struct conn *c)
{
    int err = 0;
    socklen_t l = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) == -1 || err) {
        if (o.reconnect && g.t_start)
            return -1;   /* the broker is restarting: retried without a word */
        fprintf(stderr, "mqtt_bench: connect to %s:%s: %s\n", o.host, o.port, strerror(err));
        return -1;
    }
    if (tls_ctx != NULL) {
        c->ssl = SSL_new(tls_ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
            die("SSL_new failed");
        SSL_set_connect_state(c->ssl);
        SSL_set_tlsext_host_name(c->ssl, "localhost");
        if (o.tls_resume && tls_session != NULL) {
            /* its own copy (see on_new_session) */
            SSL_SESSION *copy = SSL_SESSION_dup(tls_session);
            if (copy == NULL || SSL_set_session(c->ssl, copy) != 1)
                die("SSL_set_session failed");
            SSL_SESSION_free(copy);
        }
        c->st = CS_TLS;
        return tls_step(c);
    }
    return send_connect(c);
}

static int send_connect(struct conn *c)
{
    char id[64];

    client_id(id, sizeof(id), c);
    cbuf_reserve(&c->out, bench_wire_connect_len(id, o.version));
    c->out.len += bench_wire_connect(c->out.p + c->out.len, id, o.version,
                                     (uint16_t)o.keepalive, !(o.persistent_sub && c->role == ROLE_SUB));
    c->st = CS_CONNACK;
    return conn_flush(c);
}

static void append_ack(struct conn *c, int type, uint16_t pid)
{
    cbuf_reserve(&c->out, 4);
    c->out.len += bench_wire_ack(c->out.p + c->out.len, type, pid);
}

static void encode_publish(struct conn *c, uint32_t seq, uint16_t pid, bool dup);

/* After a reconnect: every unacknowledged message again, same id and payload, DUP set (MQTT
 * 3.1.1 section 4.4); the broker forgot the old connection, so nothing else is owed. */
static void resend_inflight(struct conn *c)
{
    for (uint32_t pid = 1; pid < 65536; pid++)
        if (c->pid_used[pid / 64] & ((uint64_t)1 << (pid % 64)))
            encode_publish(c, c->pid_seq[pid], (uint16_t)pid, true);
}

static void on_connack(struct conn *c, const uint8_t *body, size_t len)
{
    uint32_t recv_max;
    int rc = bench_wire_parse_connack(body, len, o.version, &recv_max);

    if (rc != 0)
        die("CONNACK refused (code %d) for client %d", rc, c->id);
    if (c->role == ROLE_SUB) {
        size_t n = bench_wire_subscribe_len(c->filter, o.version);
        cbuf_reserve(&c->out, n);
        c->out.len += bench_wire_subscribe(c->out.p + c->out.len, 1, c->filter, o.qos, o.version);
        c->st = CS_SUBACK;
        return;
    }
    if (c->role == ROLE_STORM) {
        cbuf_reserve(&c->out, 2);
        c->out.len += bench_wire_disconnect(c->out.p + c->out.len);
        c->st = CS_CLOSING;   /* the broker closes after DISCONNECT: wait for its FIN */
        return;
    }
    if (c->role == ROLE_PUB && o.qos > 0) {
        c->win = o.inflight > 0 ? (uint32_t)o.inflight : 65535;
        if (recv_max && c->win > recv_max)
            c->win = recv_max;   /* MQTT 5: exceeding Receive Maximum is a protocol error */
        if (c->inflight > 0)
            resend_inflight(c);
    }
    c->st = CS_READY;
}

static void on_sub_publish(struct conn *c, uint8_t flags, const uint8_t *body, size_t len,
                           uint64_t now)
{
    struct bench_wire_pub p;
    struct bench_wire_stamp st;

    if (bench_wire_parse_publish(flags, body, len, o.version, &p) == -1)
        die("malformed PUBLISH from the broker");
    if (p.qos == 1)
        append_ack(c, BW_PUBACK, p.pid);
    else if (p.qos == 2)
        append_ack(c, BW_PUBREC, p.pid);
    if (p.payload_len < BENCH_WIRE_STAMP_LEN)
        return;
    memcpy(&st.ts_ns, p.payload, 8);
    memcpy(&st.pub, p.payload + 8, 4);
    memcpy(&st.seq, p.payload + 12, 4);
    if (st.pub >= (uint32_t)o.npub)
        return;
    if (bench_stream_add(&c->streams[st.pub], st.seq) == BENCH_SEEN_DUP) {
        g.dups++;
        return;
    }
    c->recv++;
    g.unique++;
    g.pubs[st.pub].recv_e2e++;
    g.last_delivery = g.last_progress = now;
    bench_hist_add(&g.hist, now > st.ts_ns ? now - st.ts_ns : 0);
}

static void pid_release(struct conn *c, uint16_t pid)
{
    uint64_t m = (uint64_t)1 << (pid % 64);

    if (!c->pid_used || !(c->pid_used[pid / 64] & m))
        return;   /* not ours or already done: ignore rather than corrupt the window */
    c->pid_used[pid / 64] &= ~m;
    c->inflight--;
    g.acked++;
    g.last_progress = g.now;
}

static void on_packet(struct conn *c, uint8_t h, const uint8_t *body, size_t len, uint64_t now)
{
    uint16_t pid;
    uint8_t reason;
    int type = h >> 4;

    if (type == BW_CONNACK && c->st == CS_CONNACK) {
        on_connack(c, body, len);
    } else if (type == BW_SUBACK && c->st == CS_SUBACK) {
        int rc = bench_wire_parse_suback(body, len, o.version);
        if (rc < 0 || rc >= 0x80)
            die("SUBSCRIBE to \"%s\" refused (code %d)", c->filter, rc);
        c->st = CS_READY;
    } else if (type == BW_PUBLISH) {
        on_sub_publish(c, h & 0x0f, body, len, now);
    } else if (type == BW_PUBREL) {
        if (bench_wire_parse_ack(body, len, &pid, &reason) == 0)
            append_ack(c, BW_PUBCOMP, pid);
    } else if (type == BW_PUBACK || type == BW_PUBREC || type == BW_PUBCOMP) {
        if (bench_wire_parse_ack(body, len, &pid, &reason) == -1)
            die("malformed acknowledgement from the broker");
        if (reason >= 0x80) {
            g.rejected++;
            pid_release(c, pid);
        } else if (type == BW_PUBREC) {
            append_ack(c, BW_PUBREL, pid);
        } else {
            pid_release(c, pid);
        }
    }
}

/* Returns -1 when the peer closed or failed. */
static int conn_read(struct conn *c, uint64_t now)
{
    for (;;) {
        cbuf_reserve(&c->in, c->role == ROLE_SUB || c->role == ROLE_PUB ? READ_CHUNK : 512);
        size_t room = c->in.cap - c->in.len;
        ssize_t n = io_recv(c, c->in.p + c->in.len, room);
        if (n == 0)
            return -1;
        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->in.len += (size_t)n;
        size_t total, hdr;
        int r;
        while ((r = bench_wire_frame(c->in.p + c->in.off, c->in.len - c->in.off, &total,
                                     &hdr)) == 1) {
            const uint8_t *p = c->in.p + c->in.off;
            on_packet(c, p[0], p + hdr, total - hdr, now);
            c->in.off += total;
            if (c->st == CS_CLOSED)
                return -1;
        }
        if (r == -1)
            die("malformed packet from the broker");
        if ((size_t)n < room && c->ssl == NULL)
            break;   /* drained (TLS hands out one record per read: read until EAGAIN) */
    }
    return conn_flush(c);
}

/* ---- topics ---- */

/* Expands %d (client index) and %t (topic index) in pattern. Owned result. */
static char *expand(const char *pat, int d, int t)
{
    char buf[512];
    size_t n = 0;

    for (const char *p = pat; *p && n < sizeof(buf) - 16; p++) {
        if (p[0] == '%' && (p[1] == 'd' || p[1] == 't')) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%d", p[1] == 'd' ? d : t);
            p++;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = 0;
    char *s = strdup(buf);
    if (!s)
        die("out of memory");
    return s;
}

static int topic_id(int pub, int t)
{
    return g.topic_per_pub ? pub * o.topics + t : t;
}

/* Subscriber i takes the (i mod n)-th of the comma-separated filter patterns. */
static char *sub_filter(int i)
{
    const char *pats = o.sub_topic ? o.sub_topic : "bench/#";
    int n = 1, k;

    for (const char *p = pats; *p; p++)
        n += *p == ',';
    k = i % n;
    while (k--)
        pats = strchr(pats, ',') + 1;
    const char *end = strchr(pats, ',');
    size_t len = end ? (size_t)(end - pats) : strlen(pats);
    char *pat = strndup(pats, len);
    if (!pat)
        die("out of memory");
    char *f = expand(pat, i, 0);
    free(pat);
    return f;
}

static void topics_init(void)
{
    g.topic_per_pub = strstr(o.topic, "%d") != NULL;
    g.ntopic_ids = g.topic_per_pub ? o.npub * o.topics : o.topics;
    g.topic_str = xcalloc((size_t)g.ntopic_ids, sizeof(char *));
    g.topic_len = xcalloc((size_t)g.ntopic_ids, sizeof(size_t));
    g.sent_topic = xcalloc((size_t)g.ntopic_ids, sizeof(uint64_t));
    for (int p = 0; p < (g.topic_per_pub ? o.npub : 1); p++)
        for (int t = 0; t < o.topics; t++) {
            int id = topic_id(p, t);
            g.topic_str[id] = expand(o.topic, p, t);
            g.topic_len[id] = strlen(g.topic_str[id]);
        }
    g.match = xcalloc((size_t)o.nsub * (size_t)g.ntopic_ids, 1);
    for (int s = 0; s < o.nsub; s++)
        for (int id = 0; id < g.ntopic_ids; id++)
            g.match[(size_t)s * g.ntopic_ids + id] =
                (uint8_t)bench_wire_match(g.subs[s].filter, g.topic_str[id]);
    for (int p = 0; p < o.npub; p++) {
        uint64_t m = 0;
        for (int s = 0; s < o.nsub; s++)
            for (int t = 0; t < o.topics; t++)
                m += g.match[(size_t)s * g.ntopic_ids + topic_id(p, t)];
        g.pubs[p].fanout = (double)m / o.topics;
    }
}

static uint64_t expected_deliveries(void)
{
    uint64_t e = 0;

    for (int s = 0; s < o.nsub; s++)
        for (int id = 0; id < g.ntopic_ids; id++)
            if (g.match[(size_t)s * g.ntopic_ids + id])
                e += g.sent_topic[id];
    return e;
}

/* ---- publishing ---- */

static uint16_t pid_take(struct conn *c)
{
    for (;;) {
        uint16_t pid = c->next_pid++;
        if (pid == 0)
            continue;
        uint64_t m = (uint64_t)1 << (pid % 64);
        if (!(c->pid_used[pid / 64] & m)) {
            c->pid_used[pid / 64] |= m;
            return pid;
        }
    }
}

static bool pub_may_send(const struct conn *c, uint64_t now)
{
    if (c->done_sending || c->out.len - c->out.off > OUT_HIGH)
        return false;
    if (o.rate > 0) {
        double per_pub = o.rate / o.npub;
        if ((double)c->sent >= (double)(now - g.t_start) * 1e-9 * per_pub + 1)
            return false;
    }
    if (o.qos > 0)
        return c->inflight < c->win;
    if (o.inflight > 0 && c->fanout > 0)
        return (double)c->sent - (double)c->recv_e2e / c->fanout < o.inflight;
    return true;
}

/* Appends message seq of publisher c (its topic follows from seq) to c's output. */
static void encode_publish(struct conn *c, uint32_t seq, uint16_t pid, bool dup)
{
    int id = topic_id(c->id, (int)(seq % (uint64_t)o.topics));
    struct bench_wire_stamp st = { bench_now_ns(), (uint32_t)c->id, seq };
    size_t len = bench_wire_publish_len(g.topic_len[id], o.size, o.qos, o.version);

    cbuf_reserve(&c->out, len);
    size_t n = bench_wire_publish(c->out.p + c->out.len, g.topic_str[id], g.topic_len[id],
                                  o.size, o.qos, pid, o.version, &st);
    if (dup)
        c->out.p[c->out.len] |= 0x08;
    c->out.len += n;
}

static void conn_lost(struct conn *c);

/* Encodes up to BATCH messages and writes them; returns true if it stopped at BATCH only. */
static bool pub_fill(struct conn *c, uint64_t now)
{
    int n = 0;

    if (c->st != CS_READY)
        return false;
    if ((have_count && c->sent >= c->quota) ||
        (o.duration > 0 && now - g.t_start >= (uint64_t)(o.duration * 1e9)))
        c->done_sending = true;
    while (n < BATCH && pub_may_send(c, now) && !(have_count && c->sent >= c->quota)) {
        uint16_t pid = 0;

        if (o.qos > 0) {
            pid = pid_take(c);
            c->inflight++;
            if (c->pid_seq != NULL)
                c->pid_seq[pid] = (uint32_t)c->sent;
        }
        encode_publish(c, (uint32_t)c->sent, pid, false);
        g.sent_topic[topic_id(c->id, (int)(c->sent % (uint64_t)o.topics))]++;
        c->sent++;
        n++;
    }
    if (n) {
        g.last_progress = now;
        if (conn_flush(c) == -1)
            conn_lost(c);
    }
    return n == BATCH;
}

/* ---- the loop ---- */

/* True once per half keepalive: then every ready connection gets a PINGREQ, so long runs and
 * held idle connections are not dropped by the broker's keepalive check. */
static bool ping_time(uint64_t now)
{
    static uint64_t last;

    if (!last)
        last = now;
    if (o.keepalive == 0 || now - last < (uint64_t)o.keepalive * 500000000ull)
        return false;
    last = now;
    return true;
}

static void ping_all(struct conn *cs, int n)
{
    for (int i = 0; i < n; i++) {
        struct conn *c = &cs[i];
        if (c->st != CS_READY)
            continue;
        cbuf_reserve(&c->out, 2);
        c->out.p[c->out.len++] = BW_PINGREQ << 4;
        c->out.p[c->out.len++] = 0;
        if (conn_flush(c) == -1) {
            if (o.reconnect)
                conn_lost(c);
            else
                g.errors++;
        }
    }
}

/* A publisher's or subscriber's connection is gone: with --reconnect it connects again soon
 * (what it had in flight is sent again after CONNACK), otherwise the run cannot go on. */
static void conn_lost(struct conn *c)
{
    if (!o.reconnect)
        die("%s %d: connection closed by the broker", c->role == ROLE_PUB ? "publisher" :
            "subscriber", c->id);
    conn_close(c);
    c->retry_at = g.now + RETRY_NS;
    g.reconnects++;
}

/* --reconnect: starts the connections whose retry time has come. */
static void reconnect_due(struct conn *cs, int n, uint64_t now)
{
    for (int i = 0; i < n; i++)
        if (cs[i].st == CS_CLOSED && cs[i].retry_at && now >= cs[i].retry_at)
            conn_start(&cs[i]);
}

static void handle_event(struct conn *c, uint32_t ev, uint64_t now)
{
    if (c->st == CS_CONNECTING || c->st == CS_TLS) {
        if ((c->st == CS_CONNECTING ? conn_connected(c) : tls_step(c)) == 0)
            return;
        if (c->role != ROLE_STORM && c->role != ROLE_IDLE) {
            if (o.reconnect && g.t_start) {
                conn_lost(c);   /* refused: the broker is still restarting */
                return;
            }
            die("cannot connect");
        }
        g.errors++;
        conn_close(c);
        return;
    }
    if ((ev & EPOLLOUT) && conn_flush(c) == -1)
        goto lost;
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conn_read(c, now) == -1)
        goto lost;
    return;
lost:
    if (c->role == ROLE_STORM && c->st == CS_CLOSING) {
        conn_close(c);
        return;
    }
    if (c->role == ROLE_STORM || c->role == ROLE_IDLE) {
        g.errors++;
        conn_close(c);
        return;
    }
    conn_lost(c);
}

/* One epoll round: waits up to timeout_ms and dispatches what is ready. */
static uint64_t poll_once(int timeout_ms, int tfd)
{
    struct epoll_event ev[256];
    int n = epoll_wait(g.ep, ev, 256, timeout_ms);
    uint64_t now = g.now = bench_now_ns();

    if (n == -1 && errno != EINTR)
        die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        if (ev[i].data.ptr == NULL) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof(ticks)) == -1) { /* nothing: level-triggered */ }
            continue;
        }
        handle_event(ev[i].data.ptr, ev[i].events, now);
    }
    return now;
}

static double cpu_self_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* Opens conns[0..n) with at most MAX_PENDING handshakes in flight; returns when all are ready. */
static void open_all(struct conn **list, int n, int tfd)
{
    int started = 0, ready;
    uint64_t deadline = bench_now_ns() + 60ull * 1000000000ull;

    for (;;) {
        int pending = 0;
        ready = 0;
        for (int i = 0; i < started; i++) {
            if (list[i]->st == CS_READY)
                ready++;
            else if (list[i]->st == CS_CLOSED)
                die("connection %d closed during the handshake", i);
            else
                pending++;
        }
        if (ready == n)
            return;
        while (pending < MAX_PENDING && started < n) {
            conn_start(list[started++]);
            pending++;
        }
        if (poll_once(100, tfd) > deadline)
            die("timed out: %d of %d connections ready", ready, n);
    }
}

static struct conn **conn_list(void)
{
    struct conn **l = xcalloc((size_t)(o.npub + o.nsub), sizeof(*l));
    int n = 0;

    for (int i = 0; i < o.nsub; i++)
        l[n++] = &g.subs[i];
    for (int i = 0; i < o.npub; i++)
        l[n++] = &g.pubs[i];
    return l;
}

static void print_json_str(const char *k, const char *v)
{
    printf("\"%s\":\"", k);
    for (; *v; v++)
        printf(*v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
    printf("\",");
}

/* ---- modes ---- */

static void disconnect_all(struct conn *cs, int n)
{
    for (int i = 0; i < n; i++) {
        struct conn *c = &cs[i];
        if (c->fd < 0)
            continue;
        if (c->st == CS_READY) {
            cbuf_reserve(&c->out, 2);
            c->out.len += bench_wire_disconnect(c->out.p + c->out.len);
            conn_flush(c);   /* best effort: the run is over */
        }
        conn_close(c);
    }
}

static bool pubs_finished(void)
{
    for (int i = 0; i < o.npub; i++) {
        struct conn *c = &g.pubs[i];
        if (!c->done_sending || c->inflight || c->out.len > c->out.off)
            return false;
    }
    return true;
}

struct window {
    uint64_t t;
    double self_cpu;
    int64_t broker_ns;
};

static void window_mark(struct window *w, uint64_t now)
{
    w->t = now;
    w->self_cpu = cpu_self_s();
    w->broker_ns = o.broker ? bench_proc_cpu_ns(o.broker) : -1;
}

static void pct_pair(const struct window *a, const struct window *b, double *self, double *brk)
{
    double wall = (double)(b->t - a->t) * 1e-9;

    *self = wall > 0 ? 100.0 * (b->self_cpu - a->self_cpu) / wall : 0;
    *brk = wall > 0 && a->broker_ns >= 0 && b->broker_ns >= 0
               ? 100.0 * (double)(b->broker_ns - a->broker_ns) * 1e-9 / wall : -1;
}

static int tfd_open(void)
{
    int tfd;
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };
    double gap = o.rate > 0 ? 1e9 * o.npub / o.rate : 0;

    if (o.rate <= 0)
        return -1;
    /* About one message per publisher per tick (10 k msgs/s: 100 us), not bursts; but no
     * finer than 100 us, where the wake-ups would cost more than the sending. */
    gap = gap < 100000 ? 100000 : gap > 1000000 ? 1000000 : gap;
    its.it_interval.tv_nsec = its.it_value.tv_nsec = (long)gap;
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd == -1 || timerfd_settime(tfd, 0, &its, NULL) == -1)
        die("timerfd: %s", strerror(errno));
    if (epoll_ctl(g.ep, EPOLL_CTL_ADD, tfd, &(struct epoll_event){ .events = EPOLLIN,
                                                                   .data.ptr = NULL }) == -1)
        die("epoll_ctl: %s", strerror(errno));
    return tfd;
}

static void throughput_setup(void)
{
    g.pubs = xcalloc((size_t)o.npub, sizeof(struct conn));
    g.subs = xcalloc((size_t)o.nsub, sizeof(struct conn));
    for (int i = 0; i < o.nsub; i++) {
        struct conn *c = &g.subs[i];
        c->fd = -1;
        c->role = ROLE_SUB;
        c->id = i;
        c->filter = sub_filter(i);
        c->streams = xcalloc((size_t)o.npub, sizeof(struct bench_stream));
    }
    for (int i = 0; i < o.npub; i++) {
        struct conn *c = &g.pubs[i];
        c->fd = -1;
        c->role = ROLE_PUB;
        c->id = i;
        c->quota = o.count / (uint64_t)o.npub + ((uint64_t)i < o.count % (uint64_t)o.npub);
        if (o.qos > 0)
            c->pid_used = xcalloc(65536 / 64, sizeof(uint64_t));
        if (o.qos > 0 && o.reconnect)
            c->pid_seq = xcalloc(65536, sizeof(uint32_t));
    }
    topics_init();
}

static void throughput_report(const struct window *w0, const struct window *w1, uint64_t end)
{
    uint64_t sent = 0, exp = expected_deliveries();
    uint64_t lost = exp > g.unique ? exp - g.unique : 0;
    double self, brk, span = (double)((g.last_delivery ? g.last_delivery : end) - g.t_start) * 1e-9;
    double rate = span > 0 ? (double)g.unique / span : 0;
    long rss = o.broker ? bench_proc_rss_kb(o.broker, "VmRSS") : -1;
    double brk_ns_msg = g.unique && w0->broker_ns >= 0
                            ? (double)(w1->broker_ns - w0->broker_ns) / (double)g.unique : -1;
    bool fail = (o.qos > 0 && (lost || g.rejected)) || (o.qos == 2 && g.dups);

    for (int i = 0; i < o.npub; i++)
        sent += g.pubs[i].sent;
    pct_pair(w0, w1, &self, &brk);
    printf("%s: %d pub -> %d sub, QoS %d, %zu B, MQTT %s\n", o.label, o.npub, o.nsub, o.qos,
           o.size, o.version == 5 ? "5.0" : "3.1.1");
    printf("  published %llu, delivered %llu of %llu expected in %.3f s: %.0f msgs/s\n",
           (unsigned long long)sent, (unsigned long long)g.unique, (unsigned long long)exp, span,
           rate);
    printf("  latency us: p50 %.1f  p99 %.1f  p999 %.1f  max %.1f\n",
           bench_hist_pct(&g.hist, 50) / 1e3, bench_hist_pct(&g.hist, 99) / 1e3,
           bench_hist_pct(&g.hist, 99.9) / 1e3, g.hist.max / 1e3);
    printf("  lost %llu  duplicates %llu  reordered %llu  rejected %llu%s\n",
           (unsigned long long)lost, (unsigned long long)g.dups,
           (unsigned long long)g.reordered, (unsigned long long)g.rejected,
           g.stalled ? "  (publishing stalled)" : "");
    printf("  CPU while publishing: mqtt_bench %.1f %%, broker %.1f %%", self, brk);
    if (brk_ns_msg >= 0)
        printf(" (%.0f ns/msg), broker RSS %ld kB", brk_ns_msg, rss);
    printf("\n");
    if (fail)
        printf("  FAIL: %s\n", o.qos == 2 && g.dups ? "QoS 2 duplicates" : "QoS 1/2 messages lost");
    if (o.json) {
        printf("{");
        print_json_str("mode", "throughput");
        print_json_str("label", o.label);
        printf("\"pub\":%d,\"sub\":%d,\"qos\":%d,\"size\":%zu,\"published\":%llu,"
               "\"delivered\":%llu,\"expected\":%llu,\"seconds\":%.4f,\"msgs_per_s\":%.1f,"
               "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,"
               "\"lost\":%llu,\"dup\":%llu,\"reordered\":%llu,\"rejected\":%llu,"
               "\"self_cpu_pct\":%.1f,\"broker_cpu_pct\":%.1f,\"broker_ns_per_msg\":%.0f,"
               "\"broker_rss_kb\":%ld,\"reconnects\":%llu,\"stalled\":%s,\"ok\":%s}\n",
               o.npub, o.nsub, o.qos, o.size, (unsigned long long)sent,
               (unsigned long long)g.unique, (unsigned long long)exp, span, rate,
               bench_hist_pct(&g.hist, 50) / 1e3, bench_hist_pct(&g.hist, 99) / 1e3,
               bench_hist_pct(&g.hist, 99.9) / 1e3, g.hist.max / 1e3, (unsigned long long)lost,
               (unsigned long long)g.dups, (unsigned long long)g.reordered,
               (unsigned long long)g.rejected, self, brk, brk_ns_msg, rss,
               (unsigned long long)g.reconnects, g.stalled ? "true" : "false", fail ? "false" : "true");
    }
    fflush(stdout);
    exit(fail ? 1 : 0);
}

static void run_throughput(void)
{
    struct conn **list;
    struct window w0, w1 = { 0 };
    uint64_t now, drain = (uint64_t)(o.drain * 1e9);
    int tfd;

    throughput_setup();
    tfd = tfd_open();
    list = conn_list();
    open_all(list, o.npub + o.nsub, tfd);
    now = g.now = bench_now_ns();
    g.t_start = g.last_progress = now;
    window_mark(&w0, now);
    for (;;) {
        bool busy = false;
        if (!g.t_pub_end) {
            for (int i = 0; i < o.npub; i++)
                busy |= pub_fill(&g.pubs[i], now);
            if (pubs_finished()) {
                g.t_pub_end = now;
                window_mark(&w1, now);
            } else if (now - g.last_progress > drain) {
                g.stalled = true;   /* a lost QoS 0 message can pin the window shut */
                g.t_pub_end = now;
                window_mark(&w1, now);
            }
        }
        if (g.t_pub_end) {
            uint64_t quiet_since = g.last_delivery > g.t_pub_end ? g.last_delivery : g.t_pub_end;
            if (g.unique >= expected_deliveries() || now - quiet_since > drain)
                break;
        }
        now = poll_once(busy ? 0 : 10, tfd);
        if (o.reconnect) {
            reconnect_due(g.pubs, o.npub, now);
            reconnect_due(g.subs, o.nsub, now);
        }
        if (ping_time(now)) {
            ping_all(g.subs, o.nsub);
            ping_all(g.pubs, o.npub);
        }
    }
    for (int s = 0; s < o.nsub; s++)
        for (int p = 0; p < o.npub; p++)
            g.reordered += g.subs[s].streams[p].reordered;
    disconnect_all(g.pubs, o.npub);
    disconnect_all(g.subs, o.nsub);
    if (tfd >= 0)
        close(tfd);
    free(list);
    throughput_report(&w0, &w1, now);
}

static void run_storm(void)
{
    int par = o.storm_par < o.storm ? o.storm_par : o.storm;
    struct conn *slots = xcalloc((size_t)par, sizeof(struct conn));
    int started = 0, finished = 0;
    struct window w0, w1;
    double self, brk, secs;

    for (int i = 0; i < par; i++) {
        slots[i].st = CS_CLOSED;
        slots[i].role = ROLE_IDLE;
    }
    window_mark(&w0, bench_now_ns());
    while (finished < o.storm) {
        for (int i = 0; i < par; i++) {
            struct conn *c = &slots[i];
            if (c->st != CS_CLOSED)
                continue;
            if (c->role == ROLE_STORM)
                finished++;   /* this slot's previous connection is done */
            c->role = ROLE_IDLE;   /* an empty slot, so it is counted once */
            if (started < o.storm) {
                memset(c, 0, sizeof(*c));
                c->role = ROLE_STORM;
                c->id = started++;
                conn_start(c);
            }
        }
        if (finished < o.storm && poll_once(100, -1) > w0.t + 120ull * 1000000000ull)
            die("storm timed out: %d of %d connections done (does the broker close after "
                "DISCONNECT?)", finished, o.storm);
    }
    window_mark(&w1, bench_now_ns());
    pct_pair(&w0, &w1, &self, &brk);
    secs = (double)(w1.t - w0.t) * 1e-9;
    double per = w0.broker_ns >= 0 ? (double)(w1.broker_ns - w0.broker_ns) / o.storm / 1e3 : -1;
    printf("%s: storm of %d connections (%d at a time): %.0f conn/s, errors %d", o.label,
           o.storm, par, o.storm / secs, g.errors);
    if (tls_ctx != NULL)
        printf(", TLS resumed %d", g.tls_resumed);
    printf("\n");
    printf("  broker CPU %.1f us per connection (%.1f %%), mqtt_bench CPU %.1f %%\n", per, brk,
           self);
    if (o.json) {
        printf("{");
        print_json_str("mode", "storm");
        print_json_str("label", o.label);
        printf("\"connections\":%d,\"seconds\":%.4f,\"conn_per_s\":%.1f,\"errors\":%d,"
               "\"broker_cpu_us_per_conn\":%.2f,\"broker_cpu_pct\":%.1f,\"self_cpu_pct\":%.1f,"
               "\"tls_resumed\":%d,\"ok\":%s}\n", o.storm, secs, o.storm / secs, g.errors, per,
               brk, self, g.tls_resumed,
               g.errors ? "false" : "true");
    }
    free(slots);
    exit(g.errors ? 1 : 0);
}

static void run_idle(void)
{
    struct conn *cs = xcalloc((size_t)o.connections, sizeof(struct conn));
    struct conn **list = xcalloc((size_t)o.connections, sizeof(*list));
    long rss0 = o.broker ? bench_proc_rss_kb(o.broker, "VmRSS") : -1, rss1;
    struct window w0, w1;
    double self, brk, per_conn, cpu_per;
    uint64_t until;

    for (int i = 0; i < o.connections; i++) {
        cs[i].fd = -1;
        cs[i].role = ROLE_IDLE;
        cs[i].id = i;
        list[i] = &cs[i];
    }
    window_mark(&w0, bench_now_ns());
    open_all(list, o.connections, -1);
    window_mark(&w1, bench_now_ns());
    /* Let the broker finish whatever it does after CONNACK before RSS is read. */
    until = bench_now_ns() + 500000000ull;
    while (bench_now_ns() < until)
        poll_once(50, -1);
    rss1 = o.broker ? bench_proc_rss_kb(o.broker, "VmRSS") : -1;
    pct_pair(&w0, &w1, &self, &brk);
    per_conn = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) * 1024.0 / o.connections : -1;
    cpu_per = w0.broker_ns >= 0
                  ? (double)(w1.broker_ns - w0.broker_ns) / o.connections / 1e3 : -1;
    printf("%s: %d idle connections open in %.2f s, errors %d\n", o.label, o.connections,
           (double)(w1.t - w0.t) * 1e-9, g.errors);
    printf("  broker RSS %ld -> %ld kB: %.0f bytes per connection; broker CPU %.1f us per "
           "connect\n", rss0, rss1, per_conn, cpu_per);
    if (o.duration > 0) {
        until = bench_now_ns() + (uint64_t)(o.duration * 1e9);
        while (bench_now_ns() < until)
            if (ping_time(poll_once(100, -1)))
                ping_all(cs, o.connections);
    }
    if (o.json) {
        printf("{");
        print_json_str("mode", "idle");
        print_json_str("label", o.label);
        printf("\"connections\":%d,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
               "\"rss_bytes_per_conn\":%.1f,\"broker_cpu_us_per_conn\":%.2f,\"errors\":%d,"
               "\"ok\":%s}\n", o.connections, rss0, rss1, per_conn, cpu_per, g.errors,
               g.errors ? "false" : "true");
    }
    fflush(stdout);
    disconnect_all(cs, o.connections);
    free(list);
    free(cs);
    exit(g.errors ? 1 : 0);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mqtt_bench [options]\n"
        "  --host H --port P        broker address (127.0.0.1:1883)\n"
        "  --sub-port P             subscribers use this port instead (a bridged broker)\n"
        "  --pub N --sub N          publishers and subscribers (1, 1)\n"
        "  --qos Q --size BYTES     QoS 0-2 for publish and subscribe; payload >= 16 (64)\n"
        "  --topic PAT              publish topic; %%d = publisher, %%t = topic index (bench/%%d)\n"
        "  --topics K               each publisher rotates over K topics (%%t = 0..K-1)\n"
        "  --sub-topic P1[,P2..]    subscriber i uses pattern i mod n; %%d = subscriber (bench/#)\n"
        "  --count N | --duration S messages in total, or seconds of publishing (5 s)\n"
        "  --rate R                 messages/s over all publishers (unlimited)\n"
        "  --inflight W             per publisher: unacknowledged QoS 1/2 messages, or QoS 0\n"
        "                           messages sent but not yet delivered\n"
        "  --drain S                quiet time that ends a run or declares a stall (2)\n"
        "  --mqtt-version 4|5       protocol level (4)\n"
        "  --keepalive S            keepalive sent in CONNECT (60)\n"
        "  --persistent-sub         subscribers connect with clean session false (3.1.1)\n"
        "  --reconnect              a lost publisher or subscriber connects again (the broker\n"
        "                           was restarted); publishers resend what was not acknowledged\n"
        "                           (QoS 0 and 1), so lost = acknowledged but never delivered\n"
        "  --connections N --idle   open N idle connections, report broker RSS per connection\n"
        "  --storm N                N x (connect, CONNECT, CONNACK, DISCONNECT), broker CPU each\n"
        "  --storm-parallel N       storm connections at a time (32)\n"
        "  --broker-pid PID         read the broker's CPU time and RSS from /proc\n"
        "  --tls CAFILE             connect with TLS, checking the broker against CAFILE\n"
        "  --tls-resume             storms: resume the previous session (ticket) each time\n"
        "  --label NAME --json      name the run; add one JSON result line\n"
        "Exit status: 0 ok, 1 QoS 1/2 loss, QoS 2 duplicate or connection errors, 2 usage or\n"
        "setup failure.\n");
}

static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {
        { "host", 1, 0, 'H' }, { "port", 1, 0, 'P' }, { "pub", 1, 0, 'p' },
        { "sub-port", 1, 0, 'O' },
        { "sub", 1, 0, 's' }, { "qos", 1, 0, 'q' }, { "size", 1, 0, 'z' },
        { "topic", 1, 0, 't' }, { "topics", 1, 0, 'K' }, { "sub-topic", 1, 0, 'T' },
        { "count", 1, 0, 'n' }, { "duration", 1, 0, 'd' }, { "rate", 1, 0, 'r' },
        { "inflight", 1, 0, 'w' }, { "drain", 1, 0, 'D' }, { "mqtt-version", 1, 0, 'V' },
        { "keepalive", 1, 0, 'k' }, { "connections", 1, 0, 'c' }, { "idle", 0, 0, 'i' },
        { "storm", 1, 0, 'S' }, { "storm-parallel", 1, 0, 'j' }, { "broker-pid", 1, 0, 'b' },
        { "label", 1, 0, 'l' }, { "json", 0, 0, 'J' }, { "tls", 1, 0, 'L' },
        { "tls-resume", 0, 0, 'R' }, { "persistent-sub", 0, 0, 'C' },
        { "reconnect", 0, 0, 'Y' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': o.host = optarg; break;
        case 'P': o.port = optarg; break;
        case 'O': o.sub_port = optarg; break;
        case 'p': o.npub = atoi(optarg); break;
        case 's': o.nsub = atoi(optarg); break;
        case 'q': o.qos = atoi(optarg); break;
        case 'z': o.size = (size_t)atol(optarg); break;
        case 't': o.topic = optarg; break;
        case 'K': o.topics = atoi(optarg); break;
        case 'T': o.sub_topic = optarg; break;
        case 'n': o.count = strtoull(optarg, NULL, 10); have_count = true; break;
        case 'd': o.duration = atof(optarg); break;
        case 'r': o.rate = atof(optarg); break;
        case 'w': o.inflight = atoi(optarg); break;
        case 'D': o.drain = atof(optarg); break;
        case 'V': o.version = atoi(optarg); break;
        case 'k': o.keepalive = atoi(optarg); break;
        case 'c': o.connections = atoi(optarg); break;
        case 'i': o.idle = true; break;
        case 'S': o.storm = atoi(optarg); break;
        case 'j': o.storm_par = atoi(optarg); break;
        case 'b': o.broker = (pid_t)atoi(optarg); break;
        case 'l': o.label = optarg; break;
        case 'J': o.json = true; break;
        case 'L': o.tls_ca = optarg; break;
        case 'R': o.tls_resume = true; break;
        case 'C': o.persistent_sub = true; break;
        case 'Y': o.reconnect = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc || o.npub < 0 || o.nsub < 0 || o.qos < 0 || o.qos > 2 ||
        o.size < BENCH_WIRE_STAMP_LEN || o.topics < 1 || (o.version != 4 && o.version != 5) ||
        o.storm_par < 1 || o.keepalive < 0 || o.keepalive > 65535 || o.drain <= 0 ||
        (o.reconnect && o.qos == 2)) {   /* QoS 2 would need its PUBREL state resent too */
        usage(stderr);
        exit(2);
    }
    if (o.idle && o.connections < 1)
        die("--idle needs --connections N");
    if (!have_count && o.duration <= 0)
        o.duration = 5;
    if (have_count)
        o.duration = 0;
}

static void resolve(void)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    int rc;

    if (o.sub_port != NULL) {
        rc = getaddrinfo(o.host, o.sub_port, &hints, &ai);
        if (rc != 0)
            die("%s:%s: %s", o.host, o.sub_port, gai_strerror(rc));
        memcpy(&g.sub_addr, ai->ai_addr, ai->ai_addrlen);
        g.sub_addrlen = ai->ai_addrlen;
        freeaddrinfo(ai);
    }
    rc = getaddrinfo(o.host, o.port, &hints, &ai);
    if (rc != 0)
        die("%s:%s: %s", o.host, o.port, gai_strerror(rc));
    memcpy(&g.addr, ai->ai_addr, ai->ai_addrlen);
    g.addrlen = ai->ai_addrlen;
    g.loopback4 = ai->ai_family == AF_INET &&
                  (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
    freeaddrinfo(ai);
}

int main(int argc, char **argv)
{
    struct rlimit rl;

    parse_args(argc, argv);
    resolve();
    signal(SIGPIPE, SIG_IGN);
    /* 10 000 idle connections need more descriptors than the usual soft limit of 1024. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (o.tls_ca != NULL) {
        tls_ctx = SSL_CTX_new(TLS_client_method());
        if (tls_ctx == NULL || SSL_CTX_load_verify_locations(tls_ctx, o.tls_ca, NULL) != 1)
            die("cannot load CA file %s", o.tls_ca);
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
        /* many idle connections: do not let the tool's own buffers dominate the machine */
        SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_CLIENT |
                                                    SSL_SESS_CACHE_NO_INTERNAL_STORE);
        if (o.tls_resume)
            SSL_CTX_sess_set_new_cb(tls_ctx, on_new_session);
    }
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep == -1)
        die("epoll_create1: %s", strerror(errno));
    if (o.storm > 0)
        run_storm();
    else if (o.idle)
        run_idle();
    else
        run_throughput();
    return 0;
}
