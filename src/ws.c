/* ws.c - websocket transport. Placeholder until the libwebsockets integration lands: the
 * configuration refuses `protocol websockets`, so none of these is reached. */
#include "ws.h"

#include "broker.h"

int ws_init(void)
{
    return 0;
}

void ws_shutdown(void)
{
}

int ws_adopt(struct client *c)
{
    (void)c;
    return -1;
}

int ws_write(struct client *c)
{
    c->out.len = 0;
    return -1;
}

void ws_close(struct client *c)
{
    client_ws_destroyed(c);
}
