/* mosqdb.h - Mosquitto's own persistence file (mosquitto.db, database version 6, as written by
 * Mosquitto 2.0 and 2.1): a pure reader for the dump tool and the import at start-up. The byte
 * layout was learnt from files the real brokers wrote (doc/persistence.md), not from their code.
 * No broker state, no files, no logging here: persist_import.c applies what this reads. */
#ifndef MOSQDB_H
#define MOSQDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOSQDB_MAGIC_LEN 15          /* "\0\xB5\0mosquitto db" */
#define MOSQDB_HEADER_LEN 23         /* magic, crc (4, written as 0), db version (4) */
#define MOSQDB_VERSION 6u

enum mosqdb_chunk {
    MOSQDB_CFG = 1, MOSQDB_MSG_STORE = 2, MOSQDB_CLIENT_MSG = 3, MOSQDB_RETAIN = 4,
    MOSQDB_SUB = 5, MOSQDB_CLIENT = 6
};

/* Mosquitto's message states, as numbers in CLIENT_MSG chunks. */
enum mosqdb_state {
    MOSQDB_MS_PUBLISH_QOS0 = 1, MOSQDB_MS_PUBLISH_QOS1 = 2, MOSQDB_MS_WAIT_PUBACK = 3,
    MOSQDB_MS_PUBLISH_QOS2 = 4, MOSQDB_MS_WAIT_PUBREC = 5, MOSQDB_MS_RESEND_PUBREL = 6,
    MOSQDB_MS_WAIT_PUBREL = 7, MOSQDB_MS_RESEND_PUBCOMP = 8, MOSQDB_MS_WAIT_PUBCOMP = 9,
    MOSQDB_MS_SEND_PUBREC = 10, MOSQDB_MS_QUEUED = 11
};

struct mosqdb_bytes {
    const uint8_t *p;                /* borrowed from the file's bytes; not NUL-terminated */
    uint32_t len;
};

/* One chunk, decoded. Which fields are set depends on type. */
struct mosqdb_rec {
    uint32_t type;
    uint64_t store_id;               /* MSG_STORE, CLIENT_MSG, RETAIN; CFG: last db id */
    int64_t expiry;                  /* MSG_STORE: unix seconds, 0 = never; CLIENT: session
                                      * expiry time, unix seconds, 0 = none */
    uint32_t expiry_interval;        /* CLIENT: seconds; UINT32_MAX = never */
    uint16_t mid;                    /* MSG_STORE: publisher's id; CLIENT_MSG: packet id;
                                      * CLIENT: last packet id */
    uint16_t port;                   /* MSG_STORE: source port; CLIENT: listener port */
    uint8_t qos, retain;             /* MSG_STORE, CLIENT_MSG (retain: retain flag), SUB (qos) */
    uint8_t dup;                     /* CLIENT_MSG */
    uint8_t state, direction;        /* CLIENT_MSG: enum mosqdb_state; 1 = to the client */
    uint8_t options;                 /* SUB: MQTT 5 option bits (no local, RAP, handling) */
    uint8_t shutdown;                /* CFG: 1 if written at a clean shutdown */
    uint32_t identifier;             /* SUB: subscription identifier */
    struct mosqdb_bytes client_id;   /* CLIENT_MSG, CLIENT, SUB; MSG_STORE: source id */
    struct mosqdb_bytes username;    /* CLIENT; MSG_STORE: source username */
    struct mosqdb_bytes topic;       /* MSG_STORE, SUB (the filter) */
    struct mosqdb_bytes payload;     /* MSG_STORE */
    struct mosqdb_bytes props;       /* MSG_STORE, CLIENT_MSG: MQTT 5 properties without their
                                      * length prefix; len 0 = none */
};

/* Checks the file header at p[0..len): 0, or -1 with a static reason in *why. */
int mosqdb_header(const uint8_t *p, size_t len, const char **why);
/* Decodes the chunk at p[0..len): 1 with *used set, 0 at the end of input, -1 on a damaged or
 * truncated chunk (*why static). Unknown chunk types come back with only type set. */
int mosqdb_next(const uint8_t *p, size_t len, struct mosqdb_rec *r, size_t *used,
                const char **why);

#endif
