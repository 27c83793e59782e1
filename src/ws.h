/* ws.h - websocket listeners: sockets accepted by listener.c (after the PROXY header, if any)
 * are handed to libwebsockets, which runs on the broker's own libuv loop. MQTT bytes unwrapped
 * from frames go back to client.c through client_ws_input(). */
#ifndef WS_H
#define WS_H

#include <stdbool.h>
#include <stddef.h>

struct client;

/* Creates the libwebsockets context on broker.loop if any listener uses protocol websockets.
 * Returns 0, or -1 after logging why. */
int ws_init(void);
/* Destroys the context; call before the final uv_run of shutdown. */
void ws_shutdown(void);
/* Takes over c->x.fd (our poll handle is already released) together with the bytes in c->in,
 * which are the start of the HTTP upgrade, and makes c->x the websocket transport (writes
 * queue binary frames). Returns 0, or -1 if libwebsockets refused it. */
int ws_adopt(struct client *c);
/* Back-pressure: stop (hold) or resume reading frames from a paused publisher, as client.c
 * stops polling a TCP socket. Output back-pressure is tracked separately. */
void ws_hold_input(struct client *c, bool hold);
/* Bytes framed or waiting to be framed for c and not yet written to its socket. */
size_t ws_out_pending(const struct client *c);
/* Broker-side close: libwebsockets closes the socket (with a close frame) and later calls
 * client_ws_destroyed(c). */
void ws_close(struct client *c);

#endif
