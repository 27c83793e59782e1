/* persist.h - persistence: the store file (format in store.h, doc/persistence.md), the journal
 * that records each change before it is acknowledged, snapshots, restore, and the import of
 * Mosquitto's mosquitto.db. Every journal call is a no-op while persistence is off. */
#ifndef PERSIST_H
#define PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

struct session;
struct outmsg;

extern bool persist_on; /* persistence true and the store is open */

/* Start-up, after privileges are dropped and before the loop runs: checks the location, then
 * restores our store, or imports mosquitto.db, or starts a new store. Returns 0, or -1 when the
 * broker must not start (the reason is logged). Does nothing when persistence is false. */
int persist_init(void);
/* Writes the journal records made since the last call in one write() (and fdatasync with
 * persistence_sync). Called before any byte goes to a socket, so no acknowledgement leaves
 * before the state it acknowledges is in the store. */
void persist_flush(void);
void persist_tick(int64_t now);        /* autosave_interval, in seconds or changes */
/* Writes a complete snapshot (compaction) and continues the journal after it. why is for the
 * log ("shutdown", "SIGUSR1", ...). Returns 0 or -1 (logged). */
int persist_snapshot(const char *why);
void persist_close(void);              /* at exit, after the last snapshot */

/* Journal. A message delivered by deliver_publish() is one record (message, receiving
 * persistent sessions, retained store, publisher's QoS 2 id), built between begin and end. */
void persist_publish_begin(struct msg *m);
void persist_inbound_qos2(struct session *s, uint16_t pid); /* goes into the next PUBLISH */
void persist_queued(struct session *s, const struct outmsg *o);
void persist_publish_end(struct msg *m);
void persist_flight(struct session *s, const struct outmsg *o);  /* o got its packet id */
void persist_pubrec(struct session *s, uint16_t pid);
void persist_done(struct session *s, uint16_t pid);               /* left the inflight list */
void persist_drop(struct session *s, const struct outmsg *o);     /* left the queue unsent */
void persist_inq2_del(struct session *s, uint16_t pid);
/* Session created or changed (v3: an MQTT 3.x client, for persistent_client_expiration). */
void persist_session(struct session *s, bool v3);
void persist_session_del(struct session *s);
void persist_sub(struct session *s, const char *filter, uint8_t options, uint32_t identifier);
void persist_unsub(struct session *s, const char *filter);
/* A delayed will: due at `at` (monotonic ms). */
void persist_will(const char *id, const char *username, const struct msg *m, int64_t at,
                  uint32_t delay);
void persist_will_del(const char *id);

/* For persist.c and persist_import.c only. */
/* Sets s->expire_at for a session restored offline: expire_wall is when it expires (unix
 * seconds), 0 if it was connected when the broker stopped (then it disconnected now). */
void persist_session_offline(struct session *s, int64_t expire_wall, bool v3);
struct persist_import_counts {
    size_t retained, clients, subscriptions, client_msgs;
};
/* Imports Mosquitto's mosquitto.db at path into the broker's state; the file is only read.
 * Returns 0, or -1 with the reason in err. */
int persist_import_mosquitto(const char *path, struct persist_import_counts *n, char *err,
                             size_t errlen);

#endif
