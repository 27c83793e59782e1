/* ws.h - websocket listeners: sockets accepted by listener.c (after the PROXY header, if any)
 * are handed to libwebsockets, which runs on the broker's own libuv loop. MQTT bytes unwrapped
 * from frames go back to client.c through client_ws_input(). */
#ifndef WS_H
#define WS_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct xprt;
struct ws_relay;

/* Creates the libwebsockets context on broker.loop if any listener uses protocol websockets.
 * Returns 0, or -1 after logging why. */
int ws_init(void);
/* Destroys the context; call before the final uv_run of shutdown. */
void ws_shutdown(void);
/* Takes over c->x.fd (our poll handle is already released) together with the bytes in c->in,
 * which are the start of the HTTP upgrade, and makes c->x the websocket transport (writes
 * queue binary frames). If c->x is TLS (tls.c's handshake is done), libwebsockets gets the
 * plaintext through a relay (ws_tls.c) instead. Returns 0, or -1 if nothing was taken over
 * (c->x unchanged, the socket still the caller's). */
int ws_adopt(struct client *c);
/* Back-pressure: stop (hold) or resume reading frames from a paused publisher, as client.c
 * stops polling a TCP socket. Output back-pressure is tracked separately. */
void ws_hold_input(struct client *c, bool hold);
/* Bytes framed or waiting to be framed for c and not yet written to its socket. */
size_t ws_out_pending(const struct client *c);
/* Broker-side close: libwebsockets closes the socket (with a close frame) and later calls
 * client_ws_destroyed(c). */
void ws_close(struct client *c);
/* The protocol and cipher c negotiated (static strings, for the "negotiated" log line) if it
 * is a websocket over our TLS; false otherwise. */
bool ws_tls_negotiated(const struct client *c, const char **version, const char **cipher);

/* ---- ws_tls.c: for ws.c ---- */

/* Moves the TLS transport *x (handshake done) into a new relay, which owns its socket from
 * now on, and makes *x plain TCP over the other end of a socketpair, for libwebsockets to
 * adopt. The relay ends by itself once either side is closed. Returns it, or NULL (errno;
 * *x unchanged). */
struct ws_relay *ws_tls_relay(struct xprt *x);
/* Starts moving bytes; call once libwebsockets has adopted the other end. */
void ws_tls_relay_run(struct ws_relay *r);
/* True while a relay is open (shutdown waits a moment for them to deliver close frames). */
bool ws_tls_relays_open(void);
/* At shutdown, after libwebsockets is gone: drops every relay still open. */
void ws_tls_relay_close_all(void);

#endif
