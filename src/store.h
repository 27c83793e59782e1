/* store.h - the byte format of our persistence store (doc/persistence.md): a file header and
 * checksummed, length-prefixed records. Pure: encodes into a struct buf, decodes from bytes; no
 * files, no broker state, no logging. persist.c does the I/O, apps/db_dump prints records. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mqtt_protocol.h" /* enum dec */

#define STORE_MAGIC "MQPPSTOR"
#define STORE_VERSION 1u
#define STORE_HEADER_LEN 16u   /* magic(8) version(4) crc32c of the first 12 bytes(4) */
#define STORE_REC_HEAD 9u      /* body length(4) crc32c(4) type(1) */
#define STORE_MAX_BODY (300u << 20) /* larger than any message we accept: a bigger length is garbage */

enum store_type {
    STORE_PUBLISH = 1,  /* a message, the sessions it was queued for, the retained store, the
                         * publisher's QoS 2 packet id: one record, so a torn write loses all */
    STORE_RETAIN,       /* a retained message (snapshot form) */
    STORE_SESSION,      /* session created or updated */
    STORE_SESSION_DEL,
    STORE_SUB,          /* subscription added or replaced */
    STORE_UNSUB,
    STORE_FLIGHT,       /* a queued message went in flight with a packet id */
    STORE_PUBREC,       /* in-flight QoS 2 message acknowledged by PUBREC: awaits PUBCOMP */
    STORE_DONE,         /* in-flight message finished (PUBACK, PUBCOMP or dropped) */
    STORE_DROP,         /* queued message removed without going in flight */
    STORE_INQ2,         /* inbound QoS 2 packet id awaiting PUBREL (snapshot form) */
    STORE_INQ2_DEL,     /* PUBREL received for it */
    STORE_WILL,         /* a delayed will is pending */
    STORE_WILL_DEL,     /* ... and was sent or cancelled */
    STORE__MAX
};

const char *store_type_name(uint8_t type); /* "PUBLISH", ...; "?" when unknown */

struct store_str {
    const char *p;     /* borrowed, not NUL-terminated */
    uint16_t len;
};

struct store_msg {
    uint64_t id;                     /* broker-wide message sequence number */
    int64_t expiry;                  /* unix seconds; 0 = never */
    uint8_t qos;
    bool retain;
    bool has_user;
    struct store_str topic, source_id, source_user;
    const uint8_t *payload;
    uint32_t payload_len;
    const uint8_t *props;            /* MQTT 5 properties as on the wire, without length */
    uint32_t props_len;
};

struct store_target {
    uint32_t sid;                    /* session's store id */
    uint8_t qos;
    bool retain;                     /* the retain flag this session receives */
    uint32_t sub_id;                 /* subscription identifier, 0 = none */
};

#define STORE_SESSION_V3 1u          /* flags: MQTT 3.x session (persistent_client_expiration) */

/* One decoded record. Which fields mean something depends on type (see enum store_type and
 * doc/persistence.md); strings and bytes point into the decoded buffer. */
struct store_rec {
    uint8_t type;
    struct store_msg msg;            /* PUBLISH (when has_body), RETAIN, WILL */
    bool has_body;                   /* PUBLISH: false = message given earlier with this id */
    bool set_retain;                 /* PUBLISH: also the topic's retained message */
    uint32_t in_sid;                 /* PUBLISH: publisher's session for in_pid; 0 = none */
    uint16_t in_pid;
    uint32_t ntargets;               /* PUBLISH: read them with store_target_at() */
    const uint8_t *targets;
    uint32_t sid;                    /* SESSION .. INQ2_DEL */
    struct store_str id, user;       /* SESSION: client id, username; WILL: client id, username */
    bool has_user;
    uint32_t expiry_interval;        /* SESSION: seconds, UINT32_MAX = never */
    int64_t expire_at;               /* SESSION: unix seconds it expires while offline, 0 = none;
                                      * WILL: unix seconds it is due */
    uint16_t last_pid;               /* SESSION */
    uint8_t flags;                   /* SESSION: STORE_SESSION_* */
    struct store_str filter;         /* SUB, UNSUB */
    uint8_t options;                 /* SUB: QoS and MQTT 5 option bits */
    uint32_t identifier;             /* SUB: subscription identifier; WILL: delay seconds */
    uint64_t msg_id;                 /* FLIGHT, DROP */
    uint16_t pid;                    /* FLIGHT, PUBREC, DONE, INQ2, INQ2_DEL */
    uint8_t state;                   /* FLIGHT: 1 awaits PUBACK, 2 PUBREC, 3 PUBCOMP */
};

/* File header. store_header_check: DONE if buf starts with a valid header of our version,
 * NEED_MORE if it is a valid prefix of one, ERROR otherwise (*why: static text). */
void store_put_header(struct buf *b);
enum dec store_header_check(const uint8_t *p, size_t len, const char **why);

/* Decodes the record at p[0..len). DONE: *used bytes form the record. NEED_MORE: p holds a
 * prefix of a record whose end is past len (a torn write when at the end of a file). ERROR:
 * checksum mismatch, unknown type or inconsistent fields; *why is a static string. Never reads
 * past len, never allocates. */
enum dec store_decode(const uint8_t *p, size_t len, struct store_rec *r, size_t *used,
                      const char **why);
/* The i-th target of a decoded PUBLISH (i < r->ntargets). */
void store_target_at(const struct store_rec *r, uint32_t i, struct store_target *t);

/* Encoders: append one complete record to b. false on ENOMEM (b may then hold a partial
 * record: the caller drops b->len back to where it was). */
bool store_put_retain(struct buf *b, const struct store_msg *m);
bool store_put_will(struct buf *b, const struct store_str *id, const struct store_str *user,
                    bool has_user, int64_t at, uint32_t delay, const struct store_msg *m);
bool store_put_session(struct buf *b, uint32_t sid, const struct store_str *id,
                       const struct store_str *user, bool has_user, uint32_t expiry_interval,
                       int64_t expire_at, uint16_t last_pid, uint8_t flags);
bool store_put_sub(struct buf *b, uint32_t sid, const char *filter, size_t len, uint8_t options,
                   uint32_t identifier);
bool store_put_unsub(struct buf *b, uint32_t sid, const char *filter, size_t len);
bool store_put_flight(struct buf *b, uint32_t sid, uint64_t msg_id, uint16_t pid, uint8_t state);
/* SESSION_DEL, PUBREC, DONE, INQ2, INQ2_DEL: a session id and a packet id (0 for SESSION_DEL). */
bool store_put_sid_pid(struct buf *b, uint8_t type, uint32_t sid, uint16_t pid);
bool store_put_drop(struct buf *b, uint32_t sid, uint64_t msg_id);
bool store_put_will_del(struct buf *b, const char *id, size_t len);

/* PUBLISH is built in three steps so targets can be added while fanning out:
 * begin (returns the record's offset in b, or SIZE_MAX on ENOMEM), add targets, end. m is
 * written in full when with_body, else only its id. */
size_t store_publish_begin(struct buf *b, const struct store_msg *m, bool with_body,
                           bool set_retain);
bool store_publish_target(struct buf *b, const struct store_target *t);
bool store_publish_end(struct buf *b, size_t off, uint32_t in_sid, uint16_t in_pid);

uint32_t store_crc32c(const uint8_t *p, size_t len);

#endif
