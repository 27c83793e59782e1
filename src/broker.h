/* broker.h - the broker's runtime objects: listeners, client connections, sessions, and the one
 * global broker state. Connections and sessions are separate: a persistent session outlives its
 * connection, and a takeover moves a session from one connection to the next. */
#ifndef BROKER_H
#define BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "buf.h"
#include "conf.h"
#include "msg.h"
#include "xprt.h"

struct auth;
struct oseg;
struct subs;
struct retain;
struct hmap;

struct listener {
    struct listener_conf *conf;    /* borrowed from broker.conf */
    int fd;
    uv_poll_t poll;
    int clients;                   /* open connections, for max_connections */
    uv_timer_t retry;              /* accept back-off: polling resumes when it fires */
    uint32_t backoff_ms;           /* current back-off; 0 = accepting normally */
    uint32_t failures;             /* accept failures in this episode */
    struct auth **auth;            /* &broker.auth, or &own_auth with per_listener_settings */
    struct auth *own_auth;         /* owned when per_listener_settings */
    struct ssl_ctx_st *tls_ctx;    /* one reference (tls.c); NULL without our own TLS */
    char name[160];                /* "port 1883" style, for logs */
};

enum client_stage {
    STAGE_CONNECTING,              /* outgoing (bridge): TCP connect in progress */
    STAGE_PROXY,                   /* waiting for the PROXY header */
    STAGE_TLS,                     /* TLS handshake (tls.c), after the header if any */
    STAGE_CONNECT,                 /* waiting for CONNECT (a bridge: for CONNACK) */
    STAGE_MQTT,                    /* connected */
    STAGE_CLOSED                   /* closing: no more input is processed */
};

/* One outgoing QoS 1/2 message, in flight or queued, or a queued QoS 0 message. */
struct outmsg {
    struct outmsg *next;
    struct msg *m;                 /* one reference */
    uint32_t *more_ids;            /* owned, 0-terminated: further subscription identifiers
                                    * of overlapping subscriptions; NULL = none */
    uint32_t sub_id;               /* MQTT 5 subscription identifier, 0 = none */
    uint16_t pid;                  /* 0 until it goes in flight (QoS > 0) */
    uint8_t qos;
    uint8_t state;                 /* enum out_state */
    bool retain;
    bool pid_lapped;               /* its pid did not come from session_next_pid's sequence
                                    * (restored, imported), or the sequence came round to it:
                                    * while it heads the in-flight list, ids are checked by a scan */
};

enum out_state { OUT_QUEUED, OUT_WAIT_PUBACK, OUT_WAIT_PUBREC, OUT_WAIT_PUBCOMP };

struct outlist {
    struct outmsg *head, *tail;
    uint32_t count;
    uint64_t bytes;
};

struct session {
    /* Laid out without padding holes: one per client, offline ones included. */
    char *id;                      /* owned */
    struct client *client;         /* NULL while offline */
    char **filters;                /* owned: subscribed filters, to leave the tree at the end */
    int64_t expire_at;             /* monotonic ms when offline; 0 = not scheduled */
    struct outlist inflight;       /* sent, awaiting ack; in order */
    struct outlist queue;          /* waiting for a slot in the inflight window */
    uint16_t *in_qos2;             /* incoming QoS 2 packet ids awaiting PUBREL */
    char *username;                /* owned: for ACL checks on delivery while offline */
    uint64_t mark_seq;             /* deliver.c: message seq this session was last matched for */
    uint32_t nfilters, cap_filters;
    uint32_t store_id;             /* persist.c: its id in the store; 0 = not stored */
    uint32_t expiry_interval;      /* v5 session expiry, seconds; UINT32_MAX = never */
    uint32_t n_in_qos2, cap_in_qos2;
    uint32_t mark_idx;             /* deliver.c: its index in that message's match list */
    uint16_t last_pid;
    bool persistent;               /* survives disconnection */
    bool bridge;                   /* a bridge's local session: ACLs do not apply */
    bool queue_all;                /* queue QoS 0 too while offline (lazy bridges count them) */
    bool behind;                   /* deliver.c: it paused publishers and has not caught up */
    bool stalled;                  /* deliver.c: no progress for backpressure_timeout, or at its
                                    * limits: publishers do not wait for it until it catches up */
    bool dropping;                 /* deliver.c: a drop was logged; cleared once it catches up */
};

struct will {
    struct msg *m;                 /* owned reference */
    uint32_t delay;                /* v5 will delay interval */
};

struct client {
    /* Pointers and 8-byte fields first, small ones last: this struct is most of what an idle
     * connection costs, so it is laid out without padding holes. */
    uv_poll_t *poll;               /* owned; freed in its close callback */
    struct listener *listener;
    struct buf in;
    struct oseg *oq_head, *oq_tail;/* output that goes before c->out, in order (client.c) */
    size_t oq_bytes;               /* unwritten bytes in oq_head..oq_tail */
    struct buf out;                /* the tail of the output: packets are encoded here */
    char *address;                 /* peer host or unix path: address_buf, or owned if long */
    char *id;                      /* NULL before CONNECT; owned until the session is attached,
                                    * then borrowed from session->id (one copy per client) */
    char *username;                /* owned; NULL if anonymous */
    char *auth_hash;               /* owned: the password-file hash it logged in with, or NULL */
    char *password;                /* owned, with auth_hash: to check it again on SIGHUP, as
                                    * 2.1.2 does; wiped when freed */
    int64_t last_in;               /* monotonic ms of the last packet read */
    int64_t progress_at;           /* monotonic ms of the last ack or write while its session
                                    * is behind (deliver.c's back-pressure bound) */
    int64_t deadline;              /* monotonic ms: PROXY/CONNECT must arrive before; 0 = none */
    struct session *session;
    struct will will;
    char *proxy_cn;                /* owned; NULL if none */
    char **aliases;                /* v5 inbound topic aliases, owned; index 1..max */
    char **out_aliases;            /* v5 outbound topic aliases, owned; [i] is alias i + 1 */
    struct ws_conn *ws;            /* websocket state (ws.c) once adopted; NULL on plain TCP */
    struct bridge *bridge;         /* outgoing bridge connection: its bridge; NULL if accepted */
    size_t scan_pos;               /* while paused: c->in before this holds no acks */
    struct client *paused_next;    /* broker.paused list */
    struct client *flush_next;
    struct client *next, *prev;    /* broker.clients */
    struct xprt x;                 /* transport: tcp, tls, or ws once adopted; owns no fd */
    unsigned events;               /* UV_READABLE / UV_WRITABLE currently requested */
    enum client_stage stage;
    uint32_t out_max_packet;       /* client's Maximum Packet Size (v5), 0 = none */
    uint16_t port;
    uint16_t keepalive;            /* seconds, as granted */
    uint16_t out_recv_max;         /* client's Receive Maximum: our inflight window */
    uint16_t n_aliases;
    uint16_t out_alias_max;        /* aliases we may send: min(client's, max_topic_alias_broker) */
    uint16_t out_alias_n;          /* aliases assigned so far (never reassigned, as 2.1.2) */
    uint8_t version;               /* 3, 4, 5 once CONNECT is read */
    uint8_t max_qos;
    bool clean;
    bool identity;                 /* username from a verified certificate */
    bool proxied;                  /* address came from a PROXY header */
    bool proxy_local;              /* PROXY v2 LOCAL: the proxy itself, socket addresses */
    bool proxy_tls, proxy_cert;    /* TLS facts from the PROXY header */
    bool want_flush;               /* on the flush list */
    bool write_blocked;            /* the last write hit EAGAIN: wait for writability */
    bool read_wants_write;         /* a TLS read needs the socket writable first */
    bool read_more;                /* the read budget ran out with input left in the transport */
    bool paused;                   /* back-pressure: its PUBLISHes wait (acks still flow) */
    bool disconnect_sent;          /* DISCONNECT received: no will */
    bool closing;
    bool id_borrowed;              /* id points at session->id */
    bool is_bridge;                /* the peer is a bridge (try_private): no echo, retain kept */
    char address_buf[46];          /* INET6_ADDRSTRLEN: any IP address fits */
};

struct stats {
    uint64_t msgs_received, msgs_sent, bytes_received, bytes_sent;
    uint64_t pub_msgs_received, pub_msgs_sent, pub_bytes_received, pub_bytes_sent;
    uint64_t msgs_dropped;
    uint64_t connections_total;     /* sockets accepted */
    uint64_t clients_expired;       /* sessions ended by their expiry */
    uint64_t clients_maximum;       /* most connections past CONNECT at one time */
    uint64_t proxy_accepted, proxy_corrupt, proxy_not_tls, proxy_no_cert, proxy_not_allowed;
    uint64_t proxy_health, proxy_timeouts;
};

struct broker {
    struct conf *conf;
    uv_loop_t *loop;
    struct listener *listeners;
    size_t nlisteners;
    struct client *clients;        /* every open connection */
    size_t nclients;               /* open connections */
    size_t nconnected;             /* connections past CONNECT */
    struct client *flush_head;     /* connections with output to write this iteration */
    struct client *paused_head;    /* publishers held back because a subscriber is behind */
    bool resume_pending;           /* a subscriber caught up: resume the paused publishers */
    bool congested;                /* set by deliver.c when a receiver is behind */
    struct hmap *sessions;         /* client id -> struct session */
    struct subs *subs;
    struct retain *retain;
    struct auth *auth;             /* global auth (not per listener) */
    struct stats stats;
    uint64_t msg_seq;
    int64_t start_ms;
    time_t start_time;
    uint64_t auto_id_counter;
    const char *conf_path;         /* for SIGHUP */
    bool shutting_down;
};

extern struct broker broker;

int64_t now_ms(void);              /* monotonic milliseconds */

/* listener.c */
int listener_open_all(void);
void listener_close_all(void);
void listener_free_all(void);
/* A descriptor was closed: listeners backing off for lack of descriptors try again now. */
void listener_fd_freed(void);

/* client.c */
struct client *client_new(int fd, struct listener *l, const struct sockaddr *sa, socklen_t len);
/* An outgoing connection (a bridge's) whose non-blocking connect() on fd is in progress; l is
 * the bridge's policy. host/port name the remote in log lines. NULL on ENOMEM (fd not closed). */
struct client *client_new_outgoing(int fd, struct listener *l, struct bridge *b, const char *host,
                                   uint16_t port);
/* Closes the connection: logs reason (NULL = silently), sends the will unless DISCONNECT was
 * received, detaches the session. The struct is freed once libuv releases the handle. */
void client_close(struct client *c, const char *reason);
void client_want_flush(struct client *c); /* queue for the before-sleep flush */
/* Bytes queued for c and not yet handed to the kernel (websocket frames included). */
size_t client_out_pending(const struct client *c);
/* Appends len bytes at p, which lie inside message m, to c's output after what c->out holds,
 * without copying them: c takes its own reference on m and drops it once they are written.
 * Returns false if out of memory (then nothing was appended). */
bool client_out_ref(struct client *c, struct msg *m, const uint8_t *p, size_t len);
/* c took some of its output or acknowledged a message: for the back-pressure bound. */
void client_progress(struct client *c);
void client_flush_all(void);
/* Back-pressure: hold c's PUBLISHes until subscribers catch up (client_resume_all). */
void client_pause(struct client *c);
void client_resume_all(void);
void client_set_address(struct client *c, const struct sockaddr *sa);
void client_set_address_str(struct client *c, const char *s, size_t len, uint16_t port);
const char *client_name(const struct client *c); /* id, else address, else "<unknown>" */
void client_check_timeouts(int64_t now);
/* For ws.c: bytes unwrapped from websocket frames, fed to the MQTT stage. */
void client_ws_input(struct client *c, const void *p, size_t len);
/* For ws.c: libwebsockets is done with the connection (WSI_DESTROY): close if still open and
 * free the struct. */
void client_ws_destroyed(struct client *c);
/* Handles every complete frame in c->in according to c->stage. */
void client_process(struct client *c);

/* proxy.c: PROXY stage. proxy_read_limit: how many bytes may be read without crossing the end
 * of the header, for listeners whose next stage takes the raw socket (TLS); 0 = no limit. */
size_t proxy_read_limit(struct client *c);
/* proxy.c: PROXY stage. Returns 0 when more input is needed or the header was accepted
 * (c->stage advanced); -1 when the connection was closed. */
int proxy_process(struct client *c);
void proxy_closed(struct client *c);
/* Checks proxy_protocol_allow_from for a new connection; -1 if refused (and closed). */
int proxy_on_accept(struct client *c, const struct sockaddr *peer);   /* peer closed before the header was complete */
void proxy_timeout(struct client *c);  /* proxy_protocol_timeout expired */

/* handle_*.c: packet handlers. Return 0, or -1 when the connection was closed. */
struct mqtt_frame;
int handle_connect(struct client *c, const struct mqtt_frame *f);
int handle_publish(struct client *c, const struct mqtt_frame *f);
int handle_puback(struct client *c, const struct mqtt_frame *f);   /* PUBACK/PUBREC/PUBCOMP */
int handle_pubrel(struct client *c, const struct mqtt_frame *f);
int handle_subscribe(struct client *c, const struct mqtt_frame *f);
int handle_unsubscribe(struct client *c, const struct mqtt_frame *f);
int handle_pingreq(struct client *c, const struct mqtt_frame *f);
int handle_disconnect(struct client *c, const struct mqtt_frame *f);
int handle_auth(struct client *c, const struct mqtt_frame *f);
/* Protocol violation: v5 DISCONNECT with rc, then close with the log reason. Returns -1. */
int client_protocol_error(struct client *c, uint8_t rc, const char *reason);
/* Mosquitto 2.1.2 logs some refusals as "bad socket read/write: <cause>" (no full stop), with
 * the cause its packet reader named: a repeated property, a will topic with a wildcard, a QoS or
 * retain flag the listener does not allow. */
#define REASON_IO_PREFIX "bad socket read/write: "
/* The disconnect reason logged for a packet whose decoder returned rc (an MQTT reason code),
 * with 2.1.2's wording: "malformed packet", "protocol error", or the named cause of a repeated
 * property. Call only after a decode failed: it consumes mqtt_props_take_duplicate(). */
const char *client_decode_reason(uint8_t rc);

/* session.c */
struct session *session_find(const char *id);
struct session *session_new(const char *id);
void session_free(struct session *s);  /* leaves the tree, drops queues */
void session_add_filter(struct session *s, const char *filter, size_t len);
bool session_remove_filter(struct session *s, const char *filter, size_t len);
void session_check_expiry(int64_t now);
/* Inbound QoS 2 packet ids between PUBLISH and PUBREL. add: 0, or -1 on ENOMEM. */
bool session_has_in_qos2(const struct session *s, uint16_t pid);
int session_add_in_qos2(struct session *s, uint16_t pid);
bool session_remove_in_qos2(struct session *s, uint16_t pid);
void session_free_all(void);

/* deliver.c */
/* Routes an application message to every matching subscriber (and the retained store if
 * m->retain). from is the publishing client (NULL for the broker itself). */
/* Returns the matching subscriptions, including those whose client the ACL does not let read
 * the message, and a publisher's own no-local subscription as one: what 2.1.2 acknowledges as
 * delivered. */
size_t deliver_publish(struct msg *m, struct client *from);
/* Queues/sends m to one session at the given QoS. */
void deliver_to_session(struct session *s, struct msg *m, uint8_t qos, bool retain,
                        uint32_t sub_id);
/* Same, with the identifiers of further overlapping subscriptions: more_ids is borrowed,
 * 0-terminated, may be NULL [MQTT-3.3.4-4]: one copy carries every identifier. */
void deliver_to_session_ids(struct session *s, struct msg *m, uint8_t qos, bool retain,
                            uint32_t sub_id, const uint32_t *more_ids);
/* Seconds left before m expires (at least 1), for the Message Expiry Interval property we send
 * [MQTT-3.3.2-6]; 0 if m never expires. */
uint32_t deliver_expiry_left(const struct msg *m);
/* Sends what fits in the inflight window (after reconnect or an ack). */
void deliver_resume(struct session *s, bool resend);
void deliver_ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason);
void outlist_clear(struct outlist *l);
void outlist_push(struct outlist *l, struct outmsg *o);    /* at the tail; takes o */
/* Unlinks o, whose predecessor is prev (NULL if head); o is the caller's again. */
void outlist_unlink(struct outlist *l, struct outmsg *prev, struct outmsg *o);
void outmsg_free(struct outmsg *o);                         /* drops its message reference */
void deliver_free(void);                             /* scratch buffers, at exit */
/* A session that paused publishers has drained enough: schedule resuming them. Also ends a
 * stalled session's episode once it has caught up. */
void deliver_caught_up(struct session *s);
/* Back-pressure bound, from the tick: a session behind with no progress for
 * backpressure_timeout stops holding publishers back. now: monotonic ms. */
void deliver_check_stalled(struct session *s, int64_t now);
uint16_t session_next_pid(struct session *s);

/* will.c */
void will_set(struct client *c, struct msg *m, uint32_t delay);
void will_send(struct client *c);
void will_clear(struct client *c);
void will_cancel_delayed(const char *session_id); /* the session reconnected in time */
void will_tick(int64_t now);
void will_free_all(void);
/* persist.c: each pending delayed will (due at monotonic ms), and putting one back at start-up
 * (m: takes the reference). */
typedef void (*will_fn)(void *ctx, const char *id, const char *username, const struct msg *m,
                        int64_t at, uint32_t delay);
void will_foreach(will_fn fn, void *ctx);
int will_restore(const char *id, const char *username, struct msg *m, int64_t at, uint32_t delay);

/* sys.c */
void sys_init(void);
void sys_tick(void);
void sys_publish_str(const char *topic, const char *value, bool retain);

#endif
