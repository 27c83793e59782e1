/* mosqdb.h - Mosquitto's own persistence file (mosquitto.db, database version 6, as written by
 * Mosquitto 2.0 and 2.1): a reader for the dump tool and the import at start-up. Byte layout
 * learnt from files the real brokers wrote (doc/persistence.md); no Mosquitto code. */
#ifndef MOSQDB_H
#define MOSQDB_H

#include <stddef.h>

struct mosqdb_counts {
    size_t base_msgs, retained, clients, subscriptions, client_msgs;
};

/* Reads path and puts its retained messages, persistent sessions, subscriptions and queued
 * messages into the broker (broker.retain, broker.sessions, broker.subs). Returns 0, or -1 with
 * a reason in err. The file is opened read-only. */
int mosqdb_import(const char *path, struct mosqdb_counts *n, char *err, size_t errlen);

#endif
