/* ws_tls.c - websockets over the broker's own TLS. tls.c runs the handshake exactly as on an
 * MQTT listener (after the PROXY header, if any); then the decrypted stream is relayed through
 * a socketpair whose other end libwebsockets adopts as a plain websocket connection.
 *
 * Why a relay rather than libwebsockets' own TLS: Debian's libwebsockets 4.1 can only adopt a
 * descriptor, not a stream someone else decrypts, and with its TLS the identity, subject,
 * verify result, handshake deadline, log lines and SIGHUP contexts would have a second
 * implementation with other answers. This way they are tls.c's, for every listener. The cost
 * is a copy each way (another when a side is slow) and two more descriptors per connection;
 * an idle relay holds no buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "broker.h"
#include "ws.h"

#define RELAY_BUF 16384        /* one TLS record of plaintext each way */
#define RELAY_DRAIN_MS 5000    /* after libwebsockets closed its end, the client has this long
                                * to take the rest (its close frame) before we hang up */

struct ws_relay {
    struct xprt x;             /* TLS over the client's socket; the relay owns x.fd */
    int pfd;                   /* our end of the socketpair */
    uv_poll_t net, pair;
    uv_timer_t drain;
    uint8_t *up, *down;        /* bytes on their way (NULL when none): up, decrypted from the
                                * client for libwebsockets; down, the other way. A scratch
                                * buffer during a pass, an owned copy if they have to wait. */
    size_t up_off, up_len;
    size_t down_off, down_len;
    uint8_t up_want, down_want;/* what the last TLS read / write is waiting for */
    bool net_eof;              /* the client's stream ended (or failed): nothing more to read */
    bool pair_eof;             /* libwebsockets closed its end */
    bool pair_shut;            /* we told libwebsockets the client is gone (SHUT_WR) */
    bool done;
    int handles;               /* open uv handles; freed when the last close callback runs */
    struct ws_relay *next, *prev; /* every relay, for shutdown */
};

static struct ws_relay *relays;
/* Most bytes pass straight through (the other side takes them at once), so they are read into
 * these, shared by every relay; only what has to wait is copied. An idle relay holds no
 * buffer. */
static uint8_t scratch_up[RELAY_BUF], scratch_down[RELAY_BUF];

/* Forgets *buf once it is empty. */
static void drop(uint8_t **buf, const uint8_t *scratch)
{
    if (*buf != scratch)
        free(*buf);
    *buf = NULL;
}

/* Gives bytes still waiting in a scratch buffer a copy of their own, before the next relay uses
 * it. False if out of memory. */
static bool keep(uint8_t **buf, size_t *off, size_t len, const uint8_t *scratch)
{
    uint8_t *own;

    if (*buf != scratch)
        return true;
    if (len == 0) {
        *buf = NULL;
        return true;
    }
    if ((own = malloc(len)) == NULL)
        return false;
    memcpy(own, *buf + *off, len);
    *buf = own;
    *off = 0;
    return true;
}

static void relay_run(struct ws_relay *r);

static void on_relay_closed(uv_handle_t *h)
{
    struct ws_relay *r = h->data;

    if (--r->handles == 0)
        free(r);
}

/* Tears r down: TLS close_notify if graceful, both descriptors closed, memory freed once libuv
 * has let go of the handles. Closing our pair end is what tells libwebsockets, if it still
 * holds its end, that the client is gone. */
static void relay_end(struct ws_relay *r, bool graceful)
{
    if (r->done)
        return;
    r->done = true;
    if (graceful)
        r->x.ops->shutdown(&r->x);
    uv_poll_stop(&r->net);
    uv_poll_stop(&r->pair);
    uv_timer_stop(&r->drain);
    uv_close((uv_handle_t *)&r->net, on_relay_closed);
    uv_close((uv_handle_t *)&r->pair, on_relay_closed);
    uv_close((uv_handle_t *)&r->drain, on_relay_closed);
    close(r->pfd);
    drop(&r->up, scratch_up);
    drop(&r->down, scratch_down);
    r->x.ops->free(&r->x);
    close(r->x.fd);
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        relays = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    listener_fd_freed();
}

static void on_drain_timeout(uv_timer_t *t)
{
    relay_end(t->data, false); /* the client does not read: drop the rest */
}

static void set_poll(uv_poll_t *p, int events, uv_poll_cb cb)
{
    if (events == 0)
        uv_poll_stop(p);
    else
        uv_poll_start(p, events, cb);
}

static void on_net(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events; /* the reads and writes find out what happened */
    relay_run(p->data);
}

/* Waits for what the relay can use: input only where there is room for it, so a slow reader
 * on either side holds the other back (TCP and the socketpair keep the rest). */
static void relay_poll(struct ws_relay *r)
{
    int net = 0, pair = 0;

    if (!r->net_eof && r->up_len == 0)
        net |= r->up_want == XPRT_WANT_WRITE ? UV_WRITABLE : UV_READABLE;
    if (r->down_len > 0)
        net |= r->down_want == XPRT_WANT_READ ? UV_READABLE : UV_WRITABLE;
    if (r->up_len > 0)
        pair |= UV_WRITABLE;
    if (!r->pair_eof && r->down_len == 0)
        pair |= UV_READABLE;
    set_poll(&r->net, net, on_net);
    set_poll(&r->pair, pair, on_net);
}

static bool again(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Moves bytes both ways until neither side can take or give more now. Everything is tried on
 * each pass, not only what the poll reported: OpenSSL may hold decrypted bytes the socket no
 * longer shows. */
static void relay_run(struct ws_relay *r)
{
    bool moved = true;

    while (moved && !r->done) {
        ssize_t n;

        moved = false;
        if (r->up_len == 0 && !r->net_eof) {
            r->up = scratch_up;
            n = r->x.ops->read(&r->x, r->up, RELAY_BUF);
            if (n > 0) {
                r->up_off = 0;
                r->up_len = (size_t)n;
                moved = true;
            } else if (n == XPRT_AGAIN) {
                r->up_want = r->x.want;
            } else {
                r->net_eof = true; /* close_notify, EOF or a TLS error: the client is gone */
                moved = true;
            }
        }
        if (r->up_len > 0) {
            n = send(r->pfd, r->up + r->up_off, r->up_len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                r->up_off += (size_t)n;
                r->up_len -= (size_t)n;
                if (r->up_len == 0)
                    drop(&r->up, scratch_up);
                moved = true;
            } else if (n == -1 && !again()) {
                r->up_len = 0; /* libwebsockets has let go: what it did not take is moot */
                drop(&r->up, scratch_up);
                r->net_eof = true;
                moved = true;
            }
        }
        if (r->net_eof && r->up_len == 0 && !r->pair_shut) {
            shutdown(r->pfd, SHUT_WR); /* libwebsockets reads the end and closes the client */
            r->pair_shut = true;
        }
        if (r->down_len == 0 && !r->pair_eof) {
            r->down = scratch_down;
            n = recv(r->pfd, r->down, RELAY_BUF, MSG_DONTWAIT);
            if (n > 0) {
                r->down_off = 0;
                r->down_len = (size_t)n;
                moved = true;
            } else if (n == 0 || !again()) {
                r->pair_eof = true;
                uv_timer_start(&r->drain, on_drain_timeout, RELAY_DRAIN_MS, 0);
                moved = true;
            }
        }
        if (r->down_len > 0) {
            struct iovec iov = { r->down + r->down_off, r->down_len };
            /* After XPRT_AGAIN the same bytes are offered again, as OpenSSL requires (from
             * another address, which the listener's SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
             * allows). */
            n = r->x.ops->writev(&r->x, &iov, 1);
            if (n > 0) {
                r->down_off += (size_t)n;
                r->down_len -= (size_t)n;
                if (r->down_len == 0)
                    drop(&r->down, scratch_down);
                moved = true;
            } else if (n == XPRT_AGAIN) {
                r->down_want = r->x.want;
            } else {
                r->down_len = 0; /* the client is gone: nobody to tell the rest */
                drop(&r->down, scratch_down);
                r->net_eof = true;
                r->pair_eof = true;
                moved = true;
            }
        }
        if (r->pair_eof && r->down_len == 0) {
            relay_end(r, !r->net_eof);
            return;
        }
    }
    if (r->done)
        return;
    if (!keep(&r->up, &r->up_off, r->up_len, scratch_up) ||
        !keep(&r->down, &r->down_off, r->down_len, scratch_down)) {
        relay_end(r, false); /* out of memory: this connection goes, the others stay */
        return;
    }
    relay_poll(r);
}

struct ws_relay *ws_tls_relay(struct xprt *x)
{
    struct ws_relay *r;
    int sp[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == -1)
        return NULL;
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        close(sp[0]);
        close(sp[1]);
        return NULL;
    }
    r->x = *x;
    r->pfd = sp[0];
    /* The client's poll handle was stopped before the hand-over, so its fd is free to watch. */
    uv_poll_init(broker.loop, &r->net, r->x.fd);
    uv_poll_init(broker.loop, &r->pair, r->pfd);
    uv_timer_init(broker.loop, &r->drain);
    r->net.data = r->pair.data = r->drain.data = r;
    r->handles = 3;
    r->next = relays;
    if (relays != NULL)
        relays->prev = r;
    relays = r;
    xprt_tcp_init(x, sp[1]);
    return r;
}

void ws_tls_relay_run(struct ws_relay *r)
{
    relay_run(r); /* OpenSSL may hold bytes that followed the upgrade: no poll reports them */
}

bool ws_tls_relays_open(void)
{
    return relays != NULL;
}

void ws_tls_relay_close_all(void)
{
    while (relays != NULL)
        relay_end(relays, false);
}
