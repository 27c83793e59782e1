/* xprt.h - the transport of one connection: a small table of operations (read, writev,
 * shutdown, pending, free) over a non-blocking socket, for plain TCP (xprt_tcp.c), TLS through
 * OpenSSL (tls.c) and websockets, where libwebsockets owns the socket (ws.c). The connection's
 * stage machine (client.c: PROXY -> TLS -> WS -> MQTT) and the bridge's outgoing connections
 * call these and never read(), write() or SSL_*() themselves. Knows nothing of MQTT.
 *
 * Readiness stays with the caller's libuv poll handle: an operation that cannot go on says
 * which readiness it waits for in x->want (a TLS read may need the socket writable). */
#ifndef XPRT_H
#define XPRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define XPRT_AGAIN ((ssize_t)-2) /* nothing now: wait for x->want, then call again */
#define XPRT_ERR ((ssize_t)-1)   /* failed: errno, or x->why for TLS; the connection is done */

enum xprt_want { XPRT_WANT_READ = 1, XPRT_WANT_WRITE = 2 };

struct xprt;

struct xprt_ops {
    const char *name; /* "tcp", "tls", "ws": for log lines */
    /* Reads up to len bytes into buf. Returns > 0 bytes, 0 at the peer's orderly end of stream
     * (TLS: close_notify or a bare EOF), XPRT_AGAIN or XPRT_ERR. */
    ssize_t (*read)(struct xprt *x, void *buf, size_t len);
    /* Writes from iov[0..iovcnt) in order, as much as the socket takes now. Returns the bytes
     * taken (> 0), XPRT_AGAIN (nothing taken) or XPRT_ERR. TLS: after XPRT_AGAIN the caller
     * must offer the same first bytes again (OpenSSL's retry rule): our output buffers only
     * grow at the tail, so they do. Small iovecs are packed into full TLS records. */
    ssize_t (*writev)(struct xprt *x, const struct iovec *iov, int iovcnt);
    /* Best-effort orderly end (TLS close_notify, then shutdown(2)); never blocks. */
    void (*shutdown)(struct xprt *x);
    /* Bytes already received and decrypted inside the transport: readable without waiting for
     * the socket (after a read stopped early, e.g. for a read budget). */
    size_t (*pending)(const struct xprt *x);
    /* Frees the transport state; does not close x->fd (the poll handle's owner does). */
    void (*free)(struct xprt *x);
};

struct xprt {
    const struct xprt_ops *ops; /* never NULL once set up: &xprt_tcp_ops by default */
    void *ctx;                  /* transport state: SSL * for TLS; NULL for tcp */
    int fd;
    uint8_t want;               /* enum xprt_want, valid after XPRT_AGAIN */
    const char *why;            /* static reason after XPRT_ERR, NULL = see errno */
};

extern const struct xprt_ops xprt_tcp_ops;

/* Sets x up as plain TCP over fd (not owned). */
void xprt_tcp_init(struct xprt *x, int fd);

/* Starts a non-blocking connect to host:port (name or address; the first address that
 * connects or is in progress wins). Returns the socket, or -1 with *why set (static string or
 * gai_strerror()). Wait for writability, then call xprt_connect_result(). For bridges. */
int xprt_tcp_connect(const char *host, uint16_t port, const char **why);
/* 0 once the connect started by xprt_tcp_connect() completed, else the errno it failed with. */
int xprt_connect_result(int fd);

/* ---- TLS (tls.c) ---- */

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

/* What a TLS client (a bridge) asks for; strings are borrowed for the call only. Mirrors the
 * bridge_* options of mosquitto.conf(5). */
struct tls_client_opts {
    const char *cafile, *capath;      /* trust anchors; neither = use_os_certs or nothing */
    const char *certfile, *keyfile;   /* our client certificate (PEM), both or neither */
    const char *tls_version;          /* "tlsv1.3" | "tlsv1.2" | "tlsv1.1"; NULL = 1.2 and up */
    const char *ciphers;              /* TLS <= 1.2 cipher list; NULL = OpenSSL's default */
    const char *ciphers_tls13;        /* TLS 1.3 cipher suites; NULL = default */
    const char *alpn;                 /* one protocol name (bridge_alpn); NULL = none */
    const char *psk_identity;         /* bridge_identity: PSK instead of certificates */
    const char *psk_hex;              /* bridge_psk: the key as hex digits */
    bool insecure;                    /* bridge_insecure: no host name check */
    bool use_os_certs;                /* bridge_tls_use_os_certs: the system store too */
};

/* Builds a client context from o. Returns it (free with tls_ctx_free()), or NULL after logging
 * 2.1.2's lines: "Error: Unable to load CA certificates, check bridge_cafile "F"." and the like,
 * then OpenSSL's reasons. Blocking file I/O (a few small files): bridges build it once, before
 * their first connection attempt, and again after a reload. */
struct ssl_ctx_st *tls_client_ctx_new(const struct tls_client_opts *o);
void tls_ctx_free(struct ssl_ctx_st *ctx); /* NULL is fine */

/* Puts TLS on x (set up by xprt_tcp_init on a connected socket) as a client: SNI and, unless
 * the context is insecure, the certificate's host name checked against host. Returns 0, or -1
 * (out of memory). Then drive xprt_handshake() from the poll callback. */
int xprt_tls_client_init(struct xprt *x, struct ssl_ctx_st *ctx, const char *host);

enum xprt_hs { XPRT_HS_DONE, XPRT_HS_AGAIN, XPRT_HS_ERROR };

/* Advances the TLS handshake of x (client or server side) without blocking. AGAIN: wait for
 * x->want. ERROR: x->why is a static reason for the log line (with OpenSSL's own reason,
 * Mosquitto-style, from tls_last_error()). */
enum xprt_hs xprt_handshake(struct xprt *x);

/* Negotiated protocol and cipher ("TLSv1.3", "TLS_AES_256_GCM_SHA384") after DONE. */
const char *xprt_tls_version(const struct xprt *x);
const char *xprt_tls_cipher(const struct xprt *x);

#endif
