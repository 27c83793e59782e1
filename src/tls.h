/* tls.h - TLS on the broker's own listeners (OpenSSL 3): one context per listener, built at
 * start-up and rebuilt on SIGHUP, and the TLS stage of a connection (handshake, then the
 * certificate or PSK identity). The transport itself (xprt_tls ops, outgoing TLS for bridges)
 * is declared in xprt.h. */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>

struct client;
struct listener;
struct listener_conf;

/* True if connections to a listener with this configuration run our own TLS handshake:
 * certfile (or psk_hint). On a websockets listener the plaintext then goes to libwebsockets
 * (ws_tls.c), so the TLS facts are the same on both kinds. */
bool tls_listener_conf(const struct listener_conf *lc);

/* Builds (or shares with an earlier socket of the same listener line) l->tls_ctx. Logs
 * Mosquitto 2.1.2's error lines for an unreadable or mismatched file, prefixed with the
 * listener's FILE:LINE. Returns 0, or -1 (start-up must fail). Blocking file I/O. */
int tls_listener_init(struct listener *l);

/* SIGHUP: rebuilds every listener's context from its files. New connections use the new one;
 * established ones keep theirs (OpenSSL counts references). A listener whose new files fail
 * keeps its old context and an error is logged. Also rereads psk_file. */
void tls_reload(void);

/* Frees the contexts and the PSK table (at exit). */
void tls_cleanup(void);

/* The TLS stage of c (stage STAGE_TLS): starts or continues the non-blocking handshake on
 * c->x. On success c->x is the TLS transport, the identity (CN, subject or PSK identity, per
 * the listener's use_*_as_username) is in c->proxy_cn and c moves to STAGE_CONNECT. Returns 0
 * (done, or waiting: c->read_wants_write says for what), or -1 if c was closed (logged). */
int tls_stage(struct client *c);

/* The handshake deadline ran out (the stage's timer, client_check_timeouts). Closes c. */
void tls_timeout(struct client *c);

/* Logs "Client <id> negotiated <protocol> cipher <cipher>" (2.1.2 logs it once CONNECT is
 * accepted) if c runs our TLS; nothing otherwise. */
void tls_log_negotiated(const struct client *c);

/* --tls-keylog FILE: append NSS key log lines for every handshake (for Wireshark). */
int tls_set_keylog(const char *path);

#define TLS_HANDSHAKE_TIMEOUT_MS 10000 /* a handshake must finish within this */

#endif
