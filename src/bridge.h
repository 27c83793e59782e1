/* bridge.h - outgoing MQTT bridges (`connection` sections): each bridge is a client of a remote
 * broker on the broker's own loop, with a local session that subscribes to its `out` topics and
 * publishes what arrives on its `in` topics, both remapped by the topic prefixes. */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bridge;
struct client;
struct mqtt_frame;
struct mqtt_bin;
struct buf;
struct conf;

/* Starts every configured bridge (after the listeners are open). Returns 0, or -1 after logging
 * why (out of memory). Connections are made asynchronously. */
int bridge_start_all(void);
/* Keep-alive pings, lazy start and idle stop. now in monotonic ms. */
void bridge_tick(int64_t now);
/* At shutdown, before the loop's handles are closed: stops timers and pending look-ups. */
void bridge_stop_all(void);
/* After the loop is closed: frees what bridge_start_all() made. */
void bridge_free_all(void);
/* SIGHUP: applies a new configuration's bridges as Mosquitto 2.1 does (new ones start, removed
 * ones stop, changed ones restart now or at their next reconnection, per bridge_reload_type).
 * The bridge_conf structs of fresh are moved out of it (fresh->bridges is emptied). */
void bridge_reload(struct conf *fresh);

/* client.c: the TCP connection of c (an outgoing bridge connection) is established. */
void bridge_on_connected(struct client *c);
/* client.c: a packet from the remote broker other than PUBLISH and its acknowledgements.
 * Returns 0, or -1 if c was closed. */
int bridge_dispatch(struct client *c, const struct mqtt_frame *f);
/* client.c: c is closing; detaches the local session and schedules what comes next. */
void bridge_on_close(struct client *c);

/* deliver.c: the remote topic for a local topic going out over b (borrowed, valid until the
 * next call); the topic itself when no `topic` line maps it. *len gets its length. */
const char *bridge_topic_out(struct bridge *b, const char *topic, size_t *len);
/* handle_publish.c: the local topic for a remote topic coming in over b (malloc'd, caller
 * frees), or NULL when no `in` topic line covers it (the message is dropped) or on ENOMEM. */
char *bridge_topic_in(struct bridge *b, const uint8_t *topic, size_t len);
bool bridge_outgoing_retain(const struct bridge *b);
/* The Receive Maximum the bridge's CONNECT announces (bridge_receive_maximum, 1..65535): the
 * remote may leave at most this many QoS 2 flows unfinished (MQTT 5.0 section 3.3.4). */
int bridge_receive_maximum(const struct bridge *b);
/* true if pid is the PUBACK of the bridge's own "1" state notification (sent at QoS 1 outside
 * the session's in-flight list), which it then forgets; false for any other id. */
bool bridge_own_ack(struct bridge *b, uint16_t pid);
/* deliver.c / handle_publish.c: ring protection on MQTT 5 bridge links. A message crossing a
 * bridge carries one user property per broker it left; a broker drops one that already names
 * it. */
bool bridge_props_seen(struct mqtt_bin props);
/* handle_connect.c: true if MQTT 5 CONNECT properties say the client is a bridge of ours. */
bool bridge_connect_props(struct mqtt_bin props);
/* Appends this broker's hop mark to out (raw property bytes). false on ENOMEM. */
bool bridge_props_mark(struct buf *out);
/* The messages a bridge has forwarded, for the log and $SYS. */
void bridge_count_traffic(struct bridge *b);

#endif
