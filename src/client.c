/* client.c - one connection: its buffers, reading big and writing big through its transport
 * (xprt.h: tcp, tls, ws), the stage machine (PROXY -> TLS -> WS adoption -> CONNECT -> MQTT)
 * and closing. Packet meaning lives in handle_*.c; bytes on the socket are the transport's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge.h"
#include "persist.h"
#include "broker.h"
#include "err.h"
#include "log.h"
#include "packet.h"
#include "property.h"
#include "tls.h"
#include "ws.h"

#define READ_CHUNK 65536             /* free space guaranteed before each read */
#define READ_BUDGET (1024 * 1024)    /* bytes read per wake-up before others get a turn */
#define OUT_HIGH_WATER (4u << 20)    /* stop reading a client whose replies pile up */
#define PAUSED_IN_LIMIT (256u << 10) /* input kept from a paused publisher; then TCP holds it */
#define CONNECT_TIMEOUT_MS 30000     /* a connection must send CONNECT within this */
#define OUT_IOV 64                   /* iovecs per write: segments, then c->out */
/* Output is written at the end of the loop iteration, in big writes; but one read can fan out
 * into far more than that for each receiver (a 1 MB read to 1000 subscribers), so a receiver
 * with this much waiting is written to at once, which keeps what waits small. */
#define OUT_WRITE_NOW (64u << 10)
#define SEAL_COPY_MAX 4096           /* c->out up to this is copied when sealed, else moved */

/* One piece of a connection's output, ahead of c->out. Large payloads are not copied into each
 * receiver's buffer: the segment points into the shared, reference-counted message until the
 * bytes are written. What was encoded in c->out before such a payload is sealed into a segment
 * of its own, so the order on the wire is the order of encoding. */
struct oseg {
    struct oseg *next;
    struct msg *m;                   /* reference on the message p points into, or NULL */
    uint8_t *own;                    /* owned storage p points into (a moved c->out), or NULL */
    const uint8_t *p;                /* first unwritten byte */
    size_t len;                      /* unwritten bytes */
    uint8_t data[];                  /* a small c->out, copied */
};

const char *client_name(const struct client *c)
{
    /* Before CONNECT names the client, Mosquitto 2.1 names it by its address (2.0: <unknown>). */
    return c->id != NULL ? c->id : c->address != NULL ? c->address : "<unknown>";
}

void client_set_address_str(struct client *c, const char *s, size_t len, uint16_t port)
{
    char *p = c->address_buf;

    if (c->address != NULL && c->address != c->address_buf)
        free(c->address);
    if (len >= sizeof(c->address_buf)) {
        p = malloc(len + 1);
        if (p == NULL) { /* keep what fits rather than lose the connection */
            p = c->address_buf;
            len = sizeof(c->address_buf) - 1;
        }
    }
    memcpy(p, s, len);
    p[len] = '\0';
    c->address = p;
    c->port = port;
}

void client_set_address(struct client *c, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "<unknown>";

    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        client_set_address_str(c, host, strlen(host), ntohs(in->sin_port));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        client_set_address_str(c, host, strlen(host), ntohs(in6->sin6_port));
        break;
    }
    case AF_UNIX: {
        /* An accepted unix peer has no name of its own: show the listener's path. */
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        const char *path = un->sun_path;
        size_t len = strnlen(un->sun_path, sizeof(un->sun_path));
        if (len == 0 && c->listener != NULL && c->listener->conf->unix_path != NULL) {
            path = c->listener->conf->unix_path;
            len = strlen(path);
        }
        client_set_address_str(c, path, len, 0);
        break;
    }
    default:
        client_set_address_str(c, host, strlen(host), 0);
    }
}

static void set_events(struct client *c, unsigned events);
static void client_register(struct client *c, unsigned events);
static void client_read(struct client *c);
static void unlink_paused(struct client *c);
static void own_input(struct client *c);
static void on_poll(uv_poll_t *h, int status, int events);

struct client *client_new(int fd, struct listener *l, const struct sockaddr *sa, socklen_t len)
{
    struct client *c = calloc(1, sizeof(*c));
    int one = 1;

    (void)len;
    if (c == NULL)
        return NULL;
    c->poll = malloc(sizeof(*c->poll));
    if (c->poll == NULL) {
        free(c);
        return NULL;
    }
    xprt_tcp_init(&c->x, fd);
    c->listener = l;
    /* set_tcp_nodelay: our default is true (a difference from 2.1.2's false): writes are
     * batched once per loop iteration, so Nagle would only add delayed-ACK stalls. */
    if (sa->sa_family != AF_UNIX && broker.conf->set_tcp_nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    buf_init(&c->in);
    buf_init(&c->out);
    c->last_in = now_ms();
    client_set_address(c, sa);
    if (l->conf->proxy_version != 0) {
        /* The socket's peer is the proxy; the client's address comes with the header. */
        c->stage = STAGE_PROXY;
        c->deadline = c->last_in + (int64_t)l->conf->proxy_timeout * 1000;
    } else {
        if (l->tls_ctx != NULL) {
            c->stage = STAGE_TLS;
            c->deadline = c->last_in + TLS_HANDSHAKE_TIMEOUT_MS;
        } else {
            c->stage = STAGE_CONNECT;
            c->deadline = c->last_in + CONNECT_TIMEOUT_MS;
        }
        if (broker.conf->connection_messages)
            log_notice("New connection from %s:%u on port %u.", c->address, c->port, l->conf->port);
    }
    client_register(c, UV_READABLE);
    if (c->stage == STAGE_PROXY)
        proxy_on_accept(c, sa); /* may close c; it is freed later by libuv, so c stays valid */
    return c;
}

/* Links a new connection into the broker's lists and starts watching fd for events. */
static void client_register(struct client *c, unsigned events)
{
    uv_poll_init(broker.loop, c->poll, c->x.fd);
    c->poll->data = c;
    set_events(c, events);
    c->listener->clients++;
    c->next = broker.clients;
    if (broker.clients != NULL)
        broker.clients->prev = c;
    broker.clients = c;
    broker.nclients++;
    broker.stats.connections_total++;
}

struct client *client_new_outgoing(int fd, struct listener *l, struct bridge *b, const char *host,
                                   uint16_t port)
{
    struct client *c = calloc(1, sizeof(*c));

    if (c == NULL || (c->poll = malloc(sizeof(*c->poll))) == NULL) {
        free(c);
        return NULL;
    }
    xprt_tcp_init(&c->x, fd); /* TLS goes on top once connected, when the bridge asks for it */
    c->listener = l;
    c->bridge = b;
    buf_init(&c->in);
    buf_init(&c->out);
    c->last_in = now_ms();
    client_set_address_str(c, host, strlen(host), port);
    c->stage = STAGE_CONNECTING;
    client_register(c, UV_WRITABLE); /* writable = the connect finished, one way or the other */
    return c;
}

static void set_events(struct client *c, unsigned events)
{
    if (c->events == events || c->poll == NULL)
        return;
    c->events = events;
    if (events == 0)
        uv_poll_stop(c->poll);
    else
        uv_poll_start(c->poll, (int)events, on_poll);
}

/* What to wait for: input unless our replies pile up or a paused publisher has sent enough
 * for now (TCP then holds the rest back); output when a write could not finish. */
static void update_events(struct client *c)
{
    unsigned ev = 0;

    if (c->closing)
        return;
    if (c->oq_bytes + c->out.len <= OUT_HIGH_WATER &&
        !(c->paused && c->in.len >= PAUSED_IN_LIMIT))
        ev |= UV_READABLE;
    if (c->write_blocked || c->read_wants_write)
        ev |= UV_WRITABLE;
    set_events(c, ev);
}

size_t client_out_pending(const struct client *c)
{
    return c->oq_bytes + c->out.len + (c->ws != NULL ? ws_out_pending(c) : 0);
}

static bool has_output(const struct client *c)
{
    return c->oq_head != NULL || c->out.len > 0;
}

static void oseg_free(struct oseg *s)
{
    msg_unref(s->m);
    free(s->own);
    free(s);
}

static void oq_push(struct client *c, struct oseg *s)
{
    s->next = NULL;
    if (c->oq_tail != NULL)
        c->oq_tail->next = s;
    else
        c->oq_head = s;
    c->oq_tail = s;
    c->oq_bytes += s->len;
}

static void oq_clear(struct client *c)
{
    while (c->oq_head != NULL) {
        struct oseg *s = c->oq_head;
        c->oq_head = s->next;
        oseg_free(s);
    }
    c->oq_tail = NULL;
    c->oq_bytes = 0;
}

/* c->out as a segment; c->out is empty after. NULL if out of memory (c->out unchanged). */
static struct oseg *seal_out(struct client *c)
{
    struct oseg *s;

    if (c->out.len <= SEAL_COPY_MAX) {
        if ((s = malloc(sizeof(*s) + c->out.len)) == NULL)
            return NULL;
        memcpy(s->data, c->out.data, c->out.len);
        *s = (struct oseg){ NULL, NULL, NULL, s->data, c->out.len };
        c->out.len = 0; /* the buffer stays for the next packets */
        return s;
    }
    if ((s = malloc(sizeof(*s))) == NULL)
        return NULL;
    *s = (struct oseg){ NULL, NULL, c->out.data, c->out.data, c->out.len };
    buf_init(&c->out);
    return s;
}

bool client_out_ref(struct client *c, struct msg *m, const uint8_t *p, size_t len)
{
    struct oseg *ref = malloc(sizeof(*ref)), *head = NULL;

    if (ref == NULL || (c->out.len > 0 && (head = seal_out(c)) == NULL)) {
        free(ref);
        return false;
    }
    *ref = (struct oseg){ NULL, msg_ref(m), NULL, p, len };
    if (head != NULL)
        oq_push(c, head);
    oq_push(c, ref);
    return true;
}

/* Drops the first n written bytes of c's output. */
static void out_consume(struct client *c, size_t n)
{
    while (n > 0 && c->oq_head != NULL) {
        struct oseg *s = c->oq_head;
        size_t k = n < s->len ? n : s->len;
        s->p += k;
        s->len -= k;
        c->oq_bytes -= k;
        n -= k;
        if (s->len == 0) {
            c->oq_head = s->next;
            if (c->oq_head == NULL)
                c->oq_tail = NULL;
            oseg_free(s);
        }
    }
    if (n > 0)
        buf_consume(&c->out, n);
}

void client_progress(struct client *c)
{
    c->progress_at = (int64_t)uv_now(broker.loop); /* the loop's clock: no system call */
}

/* True while c is a paused publisher: its packets, PINGREQ among them, may be waiting in TCP
 * or in c->in because of us. Its keep-alive then counts as satisfied (MQTT 3.1.2.10 asks the
 * client to send something, which it may well have done). A client that merely does not read
 * its replies gets no such favour. */
static bool input_held(const struct client *c)
{
    return c->paused;
}

static void client_free_memory(struct client *c)
{
    oq_clear(c);
    buf_free(&c->in);
    buf_free(&c->out);
    if (c->address != c->address_buf)
        free(c->address);
    free(c->poll);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct client *c = h->data;

    c->x.ops->free(&c->x);
    close(c->x.fd);
    client_free_memory(c);
    listener_fd_freed();
}

/* The one place output leaves: the segments, then c->out, as one iovec array per call of the
 * transport's writev, as much as the socket takes. Returns -1 if the connection failed. */
static int write_out(struct client *c)
{
    persist_flush(); /* what c->out acknowledges is in the store before it leaves */
    if (c->stage == STAGE_PROXY || c->stage == STAGE_TLS)
        return 0; /* nothing may go out before the transport is up */
    while (has_output(c)) {
        struct iovec iov[OUT_IOV];
        const struct oseg *s;
        int cnt = 0;
        ssize_t n;

        for (s = c->oq_head; s != NULL && cnt < OUT_IOV; s = s->next)
            iov[cnt++] = (struct iovec){ (void *)s->p, s->len };
        if (s == NULL && cnt < OUT_IOV && c->out.len > 0)
            iov[cnt++] = (struct iovec){ c->out.data, c->out.len };
        n = c->x.ops->writev(&c->x, iov, cnt);
        if (n > 0) {
            if (c->ws == NULL) /* ws.c counts what reaches the socket */
                broker.stats.bytes_sent += (uint64_t)n;
            out_consume(c, (size_t)n);
            client_progress(c);
            continue;
        }
        if (n == XPRT_AGAIN) {
            c->write_blocked = true;
            return 0;
        }
        return -1;
    }
    c->write_blocked = false;
    return 0;
}

static void unlink_flush(struct client *c)
{
    struct client **pp = &broker.flush_head;

    if (!c->want_flush)
        return;
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->flush_next;
    if (*pp == c)
        *pp = c->flush_next;
    c->want_flush = false;
}

void client_close(struct client *c, const char *reason)
{
    struct session *s = c->session;

    if (c->closing)
        return;
    c->closing = true;
    if (c->proxy_local && c->stage == STAGE_CONNECT && c->version == 0 && c->in.len == 0)
        reason = NULL; /* a proxy's health check that sent nothing after LOCAL: no line */
    if (reason != NULL && broker.conf->connection_messages) {
        if (reason[0] == '\0')
            log_notice("Client %s [%s:%u] disconnected.", client_name(c), c->address, c->port);
        else /* 2.1.2 ends a named socket-level cause without a full stop */
            log_notice("Client %s [%s:%u] disconnected: %s%s", client_name(c), c->address, c->port,
                       reason, strncmp(reason, REASON_IO_PREFIX, strlen(REASON_IO_PREFIX)) == 0
                                   ? "" : ".");
    }
    if (c->stage == STAGE_MQTT) {
        broker.nconnected--;
        if (!c->disconnect_sent)
            will_send(c);
    }
    will_clear(c);
    c->stage = STAGE_CLOSED;
    if (c->bridge != NULL) {
        bridge_on_close(c); /* the bridge keeps its session and decides when to reconnect */
    } else if (s != NULL) {
        s->client = NULL;
        c->session = NULL;
        deliver_caught_up(s); /* gone: whatever it held back may go on */
        if (!s->persistent) {
            session_free(s);
        } else {
            uint32_t exp = s->expiry_interval;
            if (c->version < 5 && broker.conf->persistent_client_expiration > 0)
                exp = (uint32_t)broker.conf->persistent_client_expiration;
            s->expire_at = exp == UINT32_MAX || exp == 0 ? 0 : now_ms() + (int64_t)exp * 1000;
            persist_session(s, c->version < MQTT_V5);
        }
    }
    (void)write_out(c); /* best effort: a CONNACK or DISCONNECT explaining the close */
    unlink_flush(c);
    unlink_paused(c);
    c->x.ops->shutdown(&c->x); /* TLS: close_notify; ws: nothing yet, ws_close() below */
    c->listener->clients--;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        broker.clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    broker.nclients--;
    if (!c->id_borrowed)
        free(c->id);
    c->id = NULL;
    free(c->username);
    free(c->auth_hash);
    if (c->password != NULL)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    c->username = NULL;
    free(c->proxy_cn);
    c->proxy_cn = NULL;
    if (c->out_aliases != NULL) {
        for (uint16_t i = 0; i < c->out_alias_n; i++)
            free(c->out_aliases[i]);
        free(c->out_aliases);
        c->out_aliases = NULL;
    }
    if (c->aliases != NULL) {
        for (uint16_t i = 0; i <= c->n_aliases; i++)
            free(c->aliases[i]);
        free(c->aliases);
        c->aliases = NULL;
    }
    if (c->ws != NULL) {
        ws_close(c); /* libwebsockets owns the socket; it calls client_ws_destroyed() */
        return;
    }
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, on_handle_closed);
}

void client_ws_input(struct client *c, const void *p, size_t len)
{
    if (c->closing)
        return;
    if (!buf_append(&c->in, p, len)) {
        client_close(c, "out of memory");
        return;
    }
    broker.stats.bytes_received += len;
    client_process(c);
    if (!c->closing)
        ws_hold_input(c, c->paused && c->in.len >= PAUSED_IN_LIMIT);
    if (!c->closing && has_output(c))
        client_want_flush(c);
}

/* Why a peer's close ended the connection, in 2.1.2's words: "Success." (the text of errno 0,
 * which log watchers have matched for years) once a packet's fixed header had arrived and not
 * its body; "connection closed by client." between packets (connect/v5/truncated-connect). */
static const char *eof_reason(const struct client *c)
{
    for (size_t i = 1; i < c->in.len && i <= 4; i++)
        if ((c->in.data[i] & 0x80) == 0)
            return "Success";
    return "connection closed by client";
}

void client_ws_destroyed(struct client *c)
{
    if (!c->closing)
        client_close(c, "connection closed by client");
    client_free_memory(c);
    listener_fd_freed(); /* libwebsockets has closed the socket */
}

/* Our poll handle is gone but the socket now belongs to libwebsockets: keep the fd open. */
static void on_poll_released(uv_handle_t *h)
{
    free(h);
}

/* Hands c's socket (and the bytes read so far) to libwebsockets. */
static int adopt_ws(struct client *c)
{
    own_input(c); /* libwebsockets keeps the bytes: they cannot stay in the shared buffer */
    if (c->closing)
        return -1;
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, on_poll_released);
    c->poll = NULL;
    c->events = 0;
    if (ws_adopt(c) != 0) {
        /* The socket is still ours: watch it again so the close takes the usual path. */
        c->poll = malloc(sizeof(*c->poll));
        if (c->poll == NULL || uv_poll_init(broker.loop, c->poll, c->x.fd) != 0)
            abort(); /* nothing sane is left to do with this connection */
        c->poll->data = c;
        client_close(c, "websocket adoption failed");
        return -1;
    }
    return 0;
}

void client_want_flush(struct client *c)
{
    if (c->out.len + c->oq_bytes >= OUT_WRITE_NOW && !c->write_blocked && !c->closing)
        (void)write_out(c); /* a failure shows again in the flush, which closes it */
    if (c->want_flush || c->closing)
        return;
    c->want_flush = true;
    c->flush_next = broker.flush_head;
    broker.flush_head = c;
}

static void flush_one(struct client *c)
{
    if (write_out(c) != 0) {
        client_close(c, "bad socket read/write");
        return;
    }
    /* A small drained buffer (a CONNACK, a PINGRESP) goes back at once: that is what keeps idle
     * connections cheap. A large one is a busy subscriber's and waits for the idle sweep. */
    if (c->out.len == 0 && c->out.cap <= 256)
        buf_free(&c->out);
    update_events(c);
    if (c->session != NULL)
        deliver_caught_up(c->session);
}

void client_flush_all(void)
{
    if (broker.resume_pending)
        client_resume_all();
    while (broker.flush_head != NULL) {
        struct client *c = broker.flush_head;
        broker.flush_head = c->flush_next;
        c->want_flush = false;
        if (c->read_more) {
            c->read_more = false;
            client_read(c);
            if (c->closing)
                continue;
        }
        flush_one(c);
    }
}

const char *client_decode_reason(uint8_t rc)
{
    if (mqtt_props_take_duplicate())
        return REASON_IO_PREFIX "Duplicate property in property list";
    return rc == RC_MALFORMED_PACKET ? "malformed packet" : "protocol error";
}

int client_protocol_error(struct client *c, uint8_t rc, const char *reason)
{
    if (c->version == MQTT_V5 && c->stage == STAGE_MQTT)
        mqtt_encode_disconnect(&c->out, MQTT_V5, rc, NULL);
    client_close(c, reason);
    return -1;
}

static int dispatch(struct client *c, const struct mqtt_frame *f)
{
    if (c->stage == STAGE_MQTT) {
        switch (f->type) { /* the message flows are the same whichever side connected */
        case MQTT_PUBLISH: return handle_publish(c, f);
        case MQTT_PUBACK:
        case MQTT_PUBREC:
        case MQTT_PUBCOMP: return handle_puback(c, f);
        case MQTT_PUBREL: return handle_pubrel(c, f);
        default: break;
        }
    }
    if (c->bridge != NULL)
        return bridge_dispatch(c, f); /* we are the client here: the other packets differ */
    if (c->stage == STAGE_CONNECT) {
        if (f->type != MQTT_CONNECT) {
            client_close(c, "protocol error");
            return -1;
        }
        return handle_connect(c, f);
    }
    switch (f->type) {
    case MQTT_SUBSCRIBE: return handle_subscribe(c, f);
    case MQTT_UNSUBSCRIBE: return handle_unsubscribe(c, f);
    case MQTT_PINGREQ: return handle_pingreq(c, f);
    case MQTT_DISCONNECT: return handle_disconnect(c, f);
    case MQTT_AUTH:
        if (c->version == MQTT_V5)
            return handle_auth(c, f);
        break;
    default: break;
    }
    return client_protocol_error(c, RC_PROTOCOL_ERROR, "protocol error");
}

static uint32_t max_in_packet(void)
{
    uint32_t m = broker.conf->max_packet_size;
    return m != 0 ? m : MQTT_MAX_PACKET;
}

/* While c is paused its PUBLISH, PUBREL, SUBSCRIBE... wait in order, but acknowledgements of
 * what we sent it are independent of them and must flow: otherwise a client that both
 * publishes and subscribes could never drain its own queue. Takes them out of c->in from off
 * on. Returns -1 if c was closed. */
static int process_acks_only(struct client *c, size_t off, uint32_t max_size)
{
    size_t pos = c->scan_pos > off ? c->scan_pos : off;

    while (!c->closing) {
        struct mqtt_frame f;
        uint8_t reason = 0;
        enum dec d = pos < c->in.len ? mqtt_frame_decode(c->in.data + pos, c->in.len - pos,
                                                         max_size, &f, &reason)
                                     : DEC_NEED_MORE;
        if (d != DEC_DONE) {
            c->scan_pos = pos; /* an error is reported when the frame's turn comes */
            return 0;
        }
        if (f.type != MQTT_PUBACK && f.type != MQTT_PUBREC && f.type != MQTT_PUBCOMP &&
            f.type != MQTT_PINGREQ) {
            pos += f.total;
            continue;
        }
        if (dispatch(c, &f) != 0)
            return -1;
        memmove(c->in.data + pos, c->in.data + pos + f.total, c->in.len - pos - f.total);
        c->in.len -= f.total;
    }
    return -1;
}

void client_pause(struct client *c)
{
    if (c->paused || c->closing)
        return;
    c->paused = true;
    c->paused_next = broker.paused_head;
    broker.paused_head = c;
}

static void unlink_paused(struct client *c)
{
    struct client **pp = &broker.paused_head;

    if (!c->paused)
        return;
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->paused_next;
    if (*pp == c)
        *pp = c->paused_next;
    c->paused = false;
}

void client_resume_all(void)
{
    struct client *list = broker.paused_head;

    broker.paused_head = NULL;
    broker.resume_pending = false;
    while (list != NULL) {
        struct client *c = list;
        list = c->paused_next;
        c->paused = false;
        if (c->closing)
            continue;
        client_process(c); /* may pause it again at once */
        update_events(c);
        if (!c->closing && c->ws != NULL)
            ws_hold_input(c, c->paused && c->in.len >= PAUSED_IN_LIMIT);
        if (!c->closing && has_output(c))
            client_want_flush(c);
    }
}

void client_process(struct client *c)
{
    size_t off = 0;
    uint32_t max_size = max_in_packet();

    if (c->stage == STAGE_PROXY) {
        if (proxy_process(c) != 0 || c->stage == STAGE_PROXY)
            return;
    }
    if (c->ws == NULL && c->listener->conf->protocol == PROTO_WEBSOCKETS &&
        c->stage == STAGE_CONNECT) {
        /* The HTTP upgrade and the frames are libwebsockets' job; what it unwraps comes back
         * through client_ws_input(). With TLS, that is once the handshake is done (after a
         * PROXY header the TLS stage comes first; the header's stage left no bytes behind). */
        adopt_ws(c);
        return;
    }
    while ((c->stage == STAGE_CONNECT || c->stage == STAGE_MQTT) && !c->paused &&
           off < c->in.len) { /* (an empty buffer may have no storage at all) */
        struct mqtt_frame f;
        uint8_t reason = 0;
        enum dec d = mqtt_frame_decode(c->in.data + off, c->in.len - off, max_size, &f, &reason);
        if (d == DEC_NEED_MORE)
            break;
        if (d == DEC_ERROR && c->version == MQTT_V31 && c->in.data[off] == MQTT_PUBREL << 4) {
            /* MQTT 3.1 PUBREL with flags 0: 2.1.2 takes it as a PUBREL (test/differential
             * publish/v31/flags-on-pubrel-wrong). Rare: fixed here, on the error path. */
            c->in.data[off] |= 0x2;
            continue;
        }
        if (d == DEC_ERROR) {
            client_protocol_error(c, reason,
                                  reason == RC_PACKET_TOO_LARGE ? "oversize packet"
                                                                : "malformed packet");
            return;
        }
        c->last_in = now_ms();
        broker.stats.msgs_received++;
        off += f.total;
        if (dispatch(c, &f) != 0)
            return;
    }
    if (c->stage == STAGE_CLOSED)
        return;
    if (c->paused && process_acks_only(c, off, max_size) != 0)
        return;
    buf_consume(&c->in, off);
    c->scan_pos = c->scan_pos > off ? c->scan_pos - off : 0;
}

/* Reads everything the socket holds (up to a budget), then processes it. */
/* Reads land in one shared buffer whenever the connection has no partial packet waiting, and
 * are processed there: most reads end on a packet boundary, so most connections never own an
 * input buffer. Only a partial packet is copied into c->in. */
static uint8_t read_buf[READ_CHUNK];

/* Gives c its own copy of input still held in the shared buffer (or nothing, if none). */
static void own_input(struct client *c)
{
    struct buf heap;

    if (c->in.data != read_buf)
        return;
    buf_init(&heap);
    if (c->in.len > 0 && !buf_append(&heap, read_buf, c->in.len)) {
        c->in = heap;
        client_close(c, "out of memory");
        return;
    }
    c->in = heap;
}

static void client_read(struct client *c)
{
    size_t total = 0;

    c->read_wants_write = false;

    while (total < READ_BUDGET && !c->closing) {
        ssize_t n;
        size_t space;

        if (c->stage == STAGE_TLS) {
            /* The handshake reads and writes the socket itself; once done, the records that
             * followed it are read below. */
            if (tls_stage(c) != 0)
                return;
            if (c->stage == STAGE_TLS)
                break;
            if (c->bridge != NULL) { /* our TLS client handshake is done: now CONNECT */
                bridge_on_connected(c);
                if (c->closing)
                    return;
                client_want_flush(c);
            }
        }

        if (c->in.len == 0) {
            buf_free(&c->in);
            c->in = (struct buf){ read_buf, 0, sizeof(read_buf) };
        } else if (!buf_reserve(&c->in, READ_CHUNK)) {
            client_close(c, "out of memory");
            return;
        }
        space = c->in.cap - c->in.len;
        if (c->stage == STAGE_PROXY) {
            size_t limit = proxy_read_limit(c); /* the TLS stage must find the socket exact */
            if (limit > 0 && limit < space)
                space = limit;
        }
        n = c->x.ops->read(&c->x, c->in.data + c->in.len, space);
        int err = errno;
        if (n > 0) {
            c->in.len += (size_t)n;
            total += (size_t)n;
            c->last_in = now_ms(); /* a paused publisher is alive even if its packets wait */
            broker.stats.bytes_received += (uint64_t)n;
            client_process(c);
            own_input(c);
            if ((size_t)n < space && c->x.ops == &xprt_tcp_ops)
                break; /* the socket is drained (TLS hands out one record per read) */
            continue;
        }
        own_input(c);
        if (n == XPRT_AGAIN) {
            c->read_wants_write = c->x.want == XPRT_WANT_WRITE;
            break;
        }
        if (c->closing)
            return;
        if (c->stage == STAGE_PROXY)
            proxy_closed(c); /* a proxy's layer-4 health check resets: not worth a line */
        else if (n == 0 || (c->x.why == NULL && err == ECONNRESET))
            client_close(c, eof_reason(c));
        else
            client_close(c, "bad socket read/write");
        return;
    }
    if (total >= READ_BUDGET && !c->closing && c->x.ops->pending(&c->x) > 0) {
        /* The transport holds decrypted input the poll handle cannot see: read it on the
         * next flush pass, after the others had their turn. */
        c->read_more = true;
        client_want_flush(c);
    }
    update_events(c);
}

/* An outgoing connect() finished: failed (close, the bridge retries) or ready for CONNECT. */
static void connect_done(struct client *c)
{
    int err = xprt_connect_result(c->x.fd);

    if (err != 0) {
        client_close(c, strerror(err));
        return;
    }
    c->stage = STAGE_CONNECT;
    bridge_on_connected(c);
    if (c->closing)
        return;
    if (c->stage == STAGE_TLS) {
        client_read(c); /* sends the ClientHello; then waits as the handshake asks */
        return;
    }
    flush_one(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct client *c = h->data;

    if (c->closing)
        return;
    if (c->stage == STAGE_CONNECTING) {
        connect_done(c);
        return;
    }
    if (status < 0 && !(events & UV_READABLE)) {
        client_read(c); /* read() reports the socket error and the stage decides what to say */
        return;
    }
    if (events & UV_WRITABLE) {
        flush_one(c);
        if (c->closing)
            return;
    }
    if ((events & UV_READABLE) || status < 0 || c->read_wants_write)
        client_read(c);
    if (!c->closing && has_output(c))
        client_want_flush(c);
}

void client_check_timeouts(int64_t now)
{
    struct client *c = broker.clients;

    while (c != NULL) {
        struct client *next = c->next;
        /* Buffers stay with busy connections between reads and flushes, and go back to the
         * allocator once a connection has nothing in them: idle ones cost no buffer memory. */
        if (c->in.len == 0)
            buf_free(&c->in);
        if (c->out.len == 0)
            buf_free(&c->out);
        if (c->stage == STAGE_PROXY && now >= c->deadline) {
            proxy_timeout(c);
        } else if (c->stage == STAGE_TLS && now >= c->deadline) {
            tls_timeout(c);
        } else if ((c->stage == STAGE_CONNECT || c->stage == STAGE_CONNECTING)
                   && now >= c->deadline) {
            client_close(c, "exceeded timeout");
        } else if (c->stage == STAGE_MQTT && c->keepalive > 0 && input_held(c)) {
            c->last_in = now; /* our pause, not its silence; a full period once we read again */
        } else if (c->stage == STAGE_MQTT && c->keepalive > 0 &&
                   now - c->last_in > (int64_t)c->keepalive * 1500) {
            client_close(c, "exceeded timeout");
        }
        if (!c->closing && c->session != NULL)
            deliver_check_stalled(c->session, now);
        c = next;
    }
}
