/* ws.c - websocket listeners: sockets accepted by listener.c are adopted by libwebsockets, which
 * runs on the broker's own libuv loop and does the HTTP upgrade and the framing. MQTT bytes go
 * both ways through client.c; this file knows nothing of packets. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h> /* before libwebsockets.h, which then declares its libuv parts */

#include <libwebsockets.h>

#include "broker.h"
#include "log.h"
#include "ws.h"
#include "xprt.h"

#define WS_TX_CHUNK (128u * 1024)       /* payload per frame: keeps lws' partial-write copy small */
#define WS_RX_PAUSE_AT (4u << 20)       /* stop reading a client whose replies pile up */
#define WS_HEADERS_SIZE 4096            /* upgrade requests with cookies exceed lws' 1024 */
#define WS_SHUTDOWN_GRACE_MS 1000       /* how long shutdown waits for close handshakes */
/* libwebsockets drops a connection whose upgrade request stalls after 10 s, which then looks
 * like the client's doing; with more than client.c's 30 s CONNECT deadline, that deadline
 * closes it first, with 2.1.2's "exceeded timeout" at 2.1.2's moment. */
#define WS_LWS_TIMEOUT_S 60
/* What libwebsockets may log, until websockets_log_level has a field in struct conf (the option
 * is parsed but ignored): errors and warnings, minus the line every readbuf adoption emits. */
#define WS_LOG_LEVELS (LLL_ERR | LLL_WARN)

/* One adopted connection. Lives from ws_adopt() until libwebsockets destroys the wsi (or, if it
 * never got one, until the kill timer runs); the struct client is freed at the same moment. */
struct ws_conn {
    struct client *c;
    struct lws *wsi;               /* NULL before instantiation and after WSI_DESTROY */
    uint8_t *q;                    /* output: q[start .. start + len), LWS_PRE free before it */
    size_t start, len, cap;
    bool adopting;                 /* inside the adopt call: c must outlive it */
    bool dead;                     /* lws is done with it; c still to be released */
    bool established;              /* the upgrade is complete: frames may be written */
    bool closing;                  /* ws_close() was called */
    bool killing;                  /* on the kill list */
    bool rx_paused;
    bool hold_input;               /* client.c: a paused publisher has sent enough for now */
    bool releasing;                /* handing c back to client.c: ignore its calls */
    const char *close_reason;      /* static; why we refused the upgrade, for the log */
    const char *tls_version;       /* static (OpenSSL's); NULL unless over our TLS (ws_tls.c) */
    const char *tls_cipher;
    struct ws_conn *kill_next;
    struct ws_conn *next, *prev;   /* every conn, for shutdown */
};

static const struct xprt_ops xprt_ws_ops; /* defined with its functions, below */

static struct {
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct ws_conn *pending;       /* being adopted: bound in NEW_CLIENT_INSTANTIATED */
    struct ws_conn *conns;
    size_t nconns;
    struct ws_conn *kill_head;     /* to close from outside any lws callback */
    uv_timer_t kill_timer;
} ws;

static void conn_unlink(struct ws_conn *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        ws.conns = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    ws.nconns--;
    if (w->killing) {
        struct ws_conn **pp = &ws.kill_head;
        while (*pp != NULL && *pp != w)
            pp = &(*pp)->kill_next;
        if (*pp == w)
            *pp = w->kill_next;
        w->killing = false;
    }
}

/* The end of a connection: c goes back to client.c, which closes it if needed and frees it. */
static void conn_release(struct ws_conn *w)
{
    struct client *c = w->c;

    conn_unlink(w);
    w->dead = true;
    w->releasing = true;           /* ws_write()/ws_close() from client_close() do nothing */
    if (w->close_reason != NULL && !c->closing)
        client_close(c, w->close_reason);
    client_ws_destroyed(c);
    free(w->q);
    free(w);
}

/* Closing from inside a libwebsockets callback sends no close frame under libuv (reference
 * websockets-on-libuv.md), so closes are done from this 0 ms timer. */
static void on_kill_timer(uv_timer_t *t)
{
    (void)t;
    while (ws.kill_head != NULL) {
        struct ws_conn *w = ws.kill_head;
        ws.kill_head = w->kill_next;
        w->killing = false;
        if (w->wsi == NULL) {
            conn_release(w);
            continue;
        }
        if (w->established)
            lws_close_reason(w->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        /* may destroy the wsi at once (WSI_DESTROY releases w), or after the close handshake */
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
}

static void schedule_kill(struct ws_conn *w)
{
    if (w->killing)
        return;
    w->killing = true;
    w->kill_next = ws.kill_head;
    ws.kill_head = w;
    uv_timer_start(&ws.kill_timer, on_kill_timer, 0, 0);
}

/* Appends p[0..n) to the output queue, keeping LWS_PRE bytes of room in front of it. */
static bool queue_append(struct ws_conn *w, const uint8_t *p, size_t n)
{
    if (w->q != NULL && w->start > LWS_PRE && w->start + w->len + n > w->cap) {
        /* what was sent before start is gone from lws' point of view: reuse the room */
        memmove(w->q + LWS_PRE, w->q + w->start, w->len);
        w->start = LWS_PRE;
    }
    if (w->q == NULL || w->start + w->len + n > w->cap) {
        size_t need = LWS_PRE + w->len + n, cap = w->cap ? w->cap : 4096;
        uint8_t *q;
        while (cap < need)
            cap *= 2;
        q = realloc(w->q, cap);
        if (q == NULL)
            return false;
        if (w->q == NULL)
            w->start = LWS_PRE;
        w->q = q;
        w->cap = cap;
    }
    memcpy(w->q + w->start + w->len, p, n);
    w->len += n;
    return true;
}

/* Writes one frame of queued output. Returns -1 to have libwebsockets drop the connection. */
static int on_writeable(struct ws_conn *w, struct lws *wsi)
{
    size_t n = w->len < WS_TX_CHUNK ? w->len : WS_TX_CHUNK;

    if (n == 0) {
        if (w->closing)
            schedule_kill(w); /* everything queued before the close is on its way */
        return 0;
    }
    /* lws_write() puts the frame header in the LWS_PRE bytes before the payload: those are
     * headroom or bytes already sent, never unsent data. */
    if (lws_write(wsi, w->q + w->start, n, LWS_WRITE_BINARY) < (int)n)
        return -1;
    broker.stats.bytes_sent += n;
    client_progress(w->c);
    w->start += n;
    w->len -= n;
    if (w->len == 0)
        w->start = LWS_PRE;
    if (w->rx_paused && w->len < WS_RX_PAUSE_AT / 2 && !w->hold_input) {
        w->rx_paused = false;
        lws_rx_flow_control(wsi, 1);
    }
    if (w->len > 0 || w->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_receive(struct ws_conn *w, const void *in, size_t len)
{
    struct client *c = w->c;

    if (w->closing || len == 0)
        return;
    /* Frames and MQTT packets do not line up (a 256 KB message comes in pieces): the framer in
     * client.c takes the payload as a byte stream, as it does on TCP. */
    client_ws_input(c, in, len);
}

/* websockets_origin: with a list, an Origin header must equal one entry; a request without
 * Origin (not from a browser) passes, as in 2.1.2. */
static bool origin_allowed(const struct client *c, struct lws *wsi)
{
    char **allowed = c->listener->conf->ws_origins;
    char origin[256];
    int n;

    if (allowed == NULL)
        return true;
    n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (n <= 0)
        return true;
    if (n >= (int)sizeof(origin) || lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
        return false;
    for (; *allowed != NULL; allowed++) {
        if (strcmp(*allowed, origin) == 0)
            return true;
    }
    return false;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct ws_conn *w = wsi != NULL ? lws_get_opaque_user_data(wsi) : NULL;

    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        if (ws.pending == NULL)
            return -1; /* not one of ours: we never let libwebsockets listen */
        w = ws.pending;
        ws.pending = NULL;
        w->wsi = wsi;
        lws_set_opaque_user_data(wsi, w);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (w != NULL && !origin_allowed(w->c, wsi)) {
            w->close_reason = "non-matching http origin"; /* 2.1.2's words; no HTTP answer */
            return -1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (w == NULL)
            return -1;
        w->established = true;
        if (w->closing)
            schedule_kill(w);
        else if (w->len > 0)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (w != NULL)
            on_receive(w, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return w != NULL ? on_writeable(w, wsi) : 0;
    case LWS_CALLBACK_HTTP:
        /* A plain HTTP request: there is no http_dir to serve from. */
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return -1;
    case LWS_CALLBACK_WSI_DESTROY:
        if (w == NULL)
            return 0;
        lws_set_opaque_user_data(wsi, NULL);
        w->wsi = NULL;
        if (w->adopting)
            w->dead = true; /* ws_adopt() finishes the job once its caller is safe */
        else
            conn_release(w);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* protocols[0] also gets the clients that ask for no subprotocol. */
static const struct lws_protocols ws_protocols[] = {
    { "mqtt", ws_callback, 0, 0, 0, NULL, 0 },
    { "mqttv3.1", ws_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void ws_log(int level, const char *line)
{
    size_t n = strlen(line);

    /* Every readbuf adoption logs "adopt_socket_readbuf: calling service" as an error. */
    if (strstr(line, "adopt_socket_readbuf") != NULL)
        return;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_printf(level & (LLL_ERR | LLL_WARN | LLL_NOTICE) ? LOG_T_WEBSOCKETS : LOG_T_DEBUG,
               "%.*s", (int)n, line);
}

int ws_init(void)
{
    struct lws_context_creation_info info;
    void *loops[1] = { broker.loop };
    bool wanted = false;

    for (size_t i = 0; i < broker.nlisteners; i++)
        if (broker.listeners[i].conf->protocol == PROTO_WEBSOCKETS)
            wanted = true;
    if (!wanted || ws.ctx != NULL)
        return 0;
    lws_set_log_level(WS_LOG_LEVELS, ws_log);
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* listener.c owns every listening socket */
    info.protocols = ws_protocols;
    info.gid = -1;
    info.uid = -1;
    info.max_http_header_data = WS_HEADERS_SIZE;
    info.timeout_secs = WS_LWS_TIMEOUT_S;
    info.timeout_secs_ah_idle = WS_LWS_TIMEOUT_S;
    ws.ctx = lws_create_context(&info);
    if (ws.ctx == NULL) {
        log_err("Error: Unable to create websockets context (is libwebsockets-evlib-uv "
                "installed?).");
        return -1;
    }
    info.vhost_name = "mqtt";
    ws.vhost = lws_create_vhost(ws.ctx, &info);
    if (ws.vhost == NULL) {
        log_err("Error: Unable to create websockets listener.");
        lws_context_destroy(ws.ctx);
        ws.ctx = NULL;
        return -1;
    }
    uv_timer_init(broker.loop, &ws.kill_timer);
    return 0;
}

int ws_adopt(struct client *c)
{
    struct ws_conn *w = calloc(1, sizeof(*w));
    struct buf http = c->in;
    struct ws_relay *relay = NULL;
    struct lws *wsi;

    if (w == NULL || ws.vhost == NULL) {
        free(w);
        return -1;
    }
    if ((w->tls_version = xprt_tls_version(&c->x)) != NULL) {
        w->tls_cipher = xprt_tls_cipher(&c->x);
        if ((relay = ws_tls_relay(&c->x)) == NULL) {
            free(w);
            return -1;
        }
    }
    w->c = c;
    w->adopting = true;
    c->ws = w;
    c->x.ops = &xprt_ws_ops;
    c->x.ctx = w;
    w->next = ws.conns;
    if (ws.conns != NULL)
        ws.conns->prev = w;
    ws.conns = w;
    ws.nconns++;
    /* The upgrade request so far is libwebsockets' now; c->in waits for unwrapped MQTT, which
     * may arrive during the adopt call itself. */
    buf_init(&c->in);
    ws.pending = w;
    wsi = lws_adopt_socket_vhost_readbuf(ws.vhost, c->x.fd, (const char *)http.data, http.len);
    ws.pending = NULL;
    buf_free(&http);
    if (relay != NULL)
        ws_tls_relay_run(relay);
    w->adopting = false;
    /* Whatever happened, the socket belongs to libwebsockets (it closes it on failure). */
    if (wsi == NULL && w->wsi != NULL)
        w->dead = true; /* defensive: NULL always comes with WSI_DESTROY once instantiated */
    if (w->dead || wsi == NULL) {
        w->wsi = NULL;
        w->dead = true;
        /* Released from the kill timer: the caller still uses c on its way out. */
        schedule_kill(w);
    }
    return 0;
}

/* The websocket transport: libwebsockets owns the socket and pushes input through
 * client_ws_input(), so reads find nothing; writes queue the bytes for binary frames, which go
 * out when libwebsockets reports the socket writable. */
static ssize_t ws_xprt_read(struct xprt *x, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    x->want = XPRT_WANT_READ;
    return XPRT_AGAIN;
}

static ssize_t ws_xprt_writev(struct xprt *x, const struct iovec *iov, int iovcnt)
{
    struct ws_conn *w = x->ctx;
    size_t total = 0;

    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (w == NULL || w->dead || w->wsi == NULL)
        return (ssize_t)total; /* nowhere to go any more: dropped */
    for (int i = 0; i < iovcnt; i++) {
        if (!queue_append(w, iov[i].iov_base, iov[i].iov_len)) {
            x->why = "out of memory";
            return XPRT_ERR;
        }
    }
    if (w->len > WS_RX_PAUSE_AT && !w->rx_paused) {
        w->rx_paused = true; /* back-pressure, as client.c does for TCP */
        lws_rx_flow_control(w->wsi, 0);
    }
    if (w->established)
        lws_callback_on_writable(w->wsi);
    return (ssize_t)total;
}

static void ws_xprt_shutdown(struct xprt *x)
{
    (void)x; /* ws_close() sends the close frame once client.c has let go of the client */
}

static size_t ws_xprt_pending(const struct xprt *x)
{
    (void)x;
    return 0;
}

static void ws_xprt_free(struct xprt *x)
{
    x->ctx = NULL; /* the ws_conn is freed with the wsi */
}

static const struct xprt_ops xprt_ws_ops = {
    "ws", ws_xprt_read, ws_xprt_writev, ws_xprt_shutdown, ws_xprt_pending, ws_xprt_free,
};

void ws_hold_input(struct client *c, bool hold)
{
    struct ws_conn *w = c->ws;

    if (w == NULL || w->dead || w->wsi == NULL || w->hold_input == hold)
        return;
    w->hold_input = hold;
    if (hold && !w->rx_paused) {
        w->rx_paused = true;
        lws_rx_flow_control(w->wsi, 0);
    } else if (!hold && w->rx_paused && w->len < WS_RX_PAUSE_AT / 2) {
        w->rx_paused = false;
        lws_rx_flow_control(w->wsi, 1);
    }
}

bool ws_tls_negotiated(const struct client *c, const char **version, const char **cipher)
{
    const struct ws_conn *w = c->ws;

    if (w == NULL || w->tls_version == NULL)
        return false;
    *version = w->tls_version;
    *cipher = w->tls_cipher;
    return true;
}

size_t ws_out_pending(const struct client *c)
{
    const struct ws_conn *w = c->ws;

    return w != NULL ? w->len : 0;
}

void ws_close(struct client *c)
{
    struct ws_conn *w = c->ws;

    if (w == NULL || w->releasing)
        return;
    w->closing = true;
    if (w->wsi != NULL && w->established && !w->dead)
        lws_callback_on_writable(w->wsi); /* drain the queue, then the kill timer closes */
    else
        schedule_kill(w);
}

static void on_grace_timer(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

void ws_shutdown(void)
{
    uv_timer_t grace;
    bool expired = false;

    if (ws.ctx == NULL)
        return;
    /* shutdown_broker() has closed every client: give the queued output, the close frames and
     * the peers' replies a moment, since lws_context_destroy() drops connections silently. */
    uv_timer_init(broker.loop, &grace);
    grace.data = &expired;
    uv_timer_start(&grace, on_grace_timer, WS_SHUTDOWN_GRACE_MS, 0);
    while ((ws.nconns > 0 || ws_tls_relays_open()) && !expired)
        uv_run(broker.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&grace, NULL);
    uv_close((uv_handle_t *)&ws.kill_timer, NULL);
    /* The first call drops what is left (WSI_DESTROY releases each) and closes the handles lws
     * keeps on our loop; once their close callbacks have run, the second call frees the
     * context (reference websockets-on-libuv.md: skipping it leaks). */
    lws_context_destroy(ws.ctx);
    for (int i = 0; i < 4; i++)
        uv_run(broker.loop, UV_RUN_NOWAIT);
    lws_context_destroy(ws.ctx);
    ws.ctx = NULL;
    ws_tls_relay_close_all(); /* after the wsis: their ends of the relays are closed */
    ws.vhost = NULL;
    while (ws.conns != NULL)
        conn_release(ws.conns); /* none expected: lws destroyed every wsi */
}
