/* ws.h - websocket listeners: sockets accepted by listener.c (after the PROXY header, if any)
 * are handed to libwebsockets, which runs on the broker's own libuv loop. MQTT bytes unwrapped
 * from frames go back to client.c through client_ws_input(). */
#ifndef WS_H
#define WS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct client;

/* Creates the libwebsockets context on broker.loop if any listener uses protocol websockets.
 * Returns 0, or -1 after logging why. */
int ws_init(void);
/* Destroys the context; call before the final uv_run of shutdown. */
void ws_shutdown(void);
/* Takes over c->fd (our poll handle is already released) together with the bytes in c->in,
 * which are the start of the HTTP upgrade. Returns 0, or -1 if libwebsockets refused it. */
int ws_adopt(struct client *c);
/* Queues iov[0..n) for binary frames and asks for writability. Returns the bytes taken (all of
 * them; dropped if the connection is already gone), or -1 with errno = ENOMEM. */
ssize_t ws_writev(struct client *c, const struct iovec *iov, int n);
/* Back-pressure: stop (hold) or resume reading frames from a paused publisher, as client.c
 * stops polling a TCP socket. Output back-pressure is tracked separately. */
void ws_hold_input(struct client *c, bool hold);
/* Bytes framed or waiting to be framed for c and not yet written to its socket. */
size_t ws_out_pending(const struct client *c);
/* Broker-side close: libwebsockets closes the socket (with a close frame) and later calls
 * client_ws_destroyed(c). */
void ws_close(struct client *c);

#endif
