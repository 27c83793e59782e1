/* packet.h - MQTT framing and the decode/encode of every packet type, for 3.1, 3.1.1 and 5.0.
 * Decoders borrow: every struct mqtt_bin they fill points into the frame, valid as long as the
 * caller keeps those bytes. Decoders return 0 (RC_SUCCESS) or the MQTT 5 reason code that says
 * why the packet is unacceptable (RC_MALFORMED_PACKET, RC_PROTOCOL_ERROR, ...); they never read
 * past the frame and never allocate. Encoders append one whole packet to a struct buf and return
 * false only when memory runs out (or a length cannot be encoded). */
#ifndef PACKET_H
#define PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "mqtt_protocol.h"

struct mqtt_frame {
    uint8_t type;        /* enum mqtt_packet_type */
    uint8_t flags;       /* low nibble of the first byte */
    const uint8_t *body; /* borrowed: the variable header and payload */
    uint32_t len;        /* remaining length */
    uint32_t total;      /* fixed header + remaining length: bytes this frame uses */
};

/* Frames one packet at buf[0..len). DONE: *f filled (f->total bytes used). NEED_MORE: a valid
 * prefix. ERROR: *reason is RC_MALFORMED_PACKET (bad remaining length, type 0, reserved flag bits
 * wrong for the type) or RC_PACKET_TOO_LARGE (total size > max_size; max_size 0 = no limit).
 * The size check happens as soon as the remaining length is known, before the body arrives. */
enum dec mqtt_frame_decode(const uint8_t *buf, size_t len, uint32_t max_size,
                           struct mqtt_frame *f, uint8_t *reason);

/* Where mqtt_decode_connect() found the fault it returns: the broker answers (CONNACK or a
 * plain close) and logs differently for each, as Mosquitto 2.1.2 does. */
enum mqtt_connect_fault {
    CONNECT_FAULT_OTHER = 0,   /* header, flags, framing */
    CONNECT_FAULT_PROPS,       /* v5 CONNECT or will properties */
    CONNECT_FAULT_CLIENT_ID,   /* client identifier not valid UTF-8 (or holds U+0000) */
    CONNECT_FAULT_WILL_TOPIC,  /* will topic empty or not UTF-8 */
    CONNECT_FAULT_WILL_WILDCARD, /* will topic with '+' or '#' */
};

struct mqtt_connect {
    uint8_t version;          /* 3, 4 or 5; set before RC_UNSUPPORTED_PROTOCOL_VERSION too */
    bool mqisdp;              /* protocol name "MQIsdp" (3.1), whatever the level says */
    uint8_t fault;            /* enum mqtt_connect_fault, when the decode failed */
    bool bridge;              /* protocol level with 0x80: a Mosquitto bridge (try_private) */
    bool clean;               /* clean session (3.x) / clean start (5) */
    uint16_t keepalive;
    struct mqtt_bin props;    /* v5: raw property bytes (validated), without the length */
    struct mqtt_bin client_id;
    bool will;
    uint8_t will_qos;
    bool will_retain;
    struct mqtt_bin will_props; /* v5 */
    struct mqtt_bin will_topic;
    struct mqtt_bin will_payload;
    bool has_username, has_password;
    struct mqtt_bin username, password;
};

struct mqtt_connack {
    bool session_present;
    uint8_t reason;           /* 3.x return code or v5 reason code */
    struct mqtt_bin props;
};

struct mqtt_publish {
    uint8_t qos;
    bool dup, retain;
    struct mqtt_bin topic;    /* may be empty in v5 when a topic alias is used */
    uint16_t packet_id;       /* 0 for QoS 0 */
    struct mqtt_bin props;
    struct mqtt_bin payload;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP (and the shape of UNSUBACK/SUBACK without the list). */
struct mqtt_ack {
    uint16_t packet_id;
    uint8_t reason;           /* 0 when absent */
    struct mqtt_bin props;
};

/* SUBSCRIBE / UNSUBSCRIBE: the entries stay raw; walk them with mqtt_sub_next(). */
struct mqtt_subscribe {
    uint16_t packet_id;
    struct mqtt_bin props;
    struct mqtt_bin entries;  /* validated list */
    uint32_t count;           /* number of entries, >= 1 */
};

struct mqtt_sub_entry {
    struct mqtt_bin filter;   /* valid UTF-8, not checked for wildcard rules */
    uint8_t options;          /* SUBSCRIBE: QoS + v5 option bits; UNSUBSCRIBE: 0 */
};

/* SUBACK / UNSUBACK: one reason code per entry. */
struct mqtt_suback {
    uint16_t packet_id;
    struct mqtt_bin props;
    struct mqtt_bin reasons;
};

/* DISCONNECT and AUTH. */
struct mqtt_reason {
    uint8_t reason;
    struct mqtt_bin props;
};

uint8_t mqtt_decode_connect(const struct mqtt_frame *f, struct mqtt_connect *c);
uint8_t mqtt_decode_connack(const struct mqtt_frame *f, uint8_t version, struct mqtt_connack *c);
uint8_t mqtt_decode_publish(const struct mqtt_frame *f, uint8_t version, struct mqtt_publish *p);
uint8_t mqtt_decode_ack(const struct mqtt_frame *f, uint8_t version, struct mqtt_ack *a);
uint8_t mqtt_decode_subscribe(const struct mqtt_frame *f, uint8_t version,
                              struct mqtt_subscribe *s);
uint8_t mqtt_decode_unsubscribe(const struct mqtt_frame *f, uint8_t version,
                                struct mqtt_subscribe *s);
uint8_t mqtt_decode_suback(const struct mqtt_frame *f, uint8_t version, struct mqtt_suback *s);
uint8_t mqtt_decode_unsuback(const struct mqtt_frame *f, uint8_t version, struct mqtt_suback *s);
uint8_t mqtt_decode_disconnect(const struct mqtt_frame *f, uint8_t version, struct mqtt_reason *d);
uint8_t mqtt_decode_auth(const struct mqtt_frame *f, uint8_t version, struct mqtt_reason *a);
/* PINGREQ / PINGRESP: remaining length must be 0. */
uint8_t mqtt_decode_empty(const struct mqtt_frame *f);

/* Walks a validated SUBSCRIBE/UNSUBSCRIBE entry list; *pos starts at 0. is_sub selects the
 * SUBSCRIBE form (filter + options byte). Returns false at the end. */
bool mqtt_sub_next(const struct mqtt_subscribe *s, bool is_sub, size_t *pos,
                   struct mqtt_sub_entry *e);

/* Encoders. props may be NULL (no properties); for version < 5 props are ignored. */
bool mqtt_encode_connect(struct buf *b, const struct mqtt_connect *c);
bool mqtt_encode_connack(struct buf *b, uint8_t version, bool session_present, uint8_t reason,
                         const struct mqtt_bin *props);
bool mqtt_encode_publish(struct buf *b, uint8_t version, const struct mqtt_publish *p);
/* The same PUBLISH without its payload bytes (the remaining length counts them): the caller
 * sends p->payload.len bytes of payload right after, e.g. straight from a shared message. */
bool mqtt_encode_publish_head(struct buf *b, uint8_t version, const struct mqtt_publish *p);
/* type is MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL or MQTT_PUBCOMP. In v5 the reason code and
 * properties are omitted when reason == 0 and there are none, as the spec allows. */
bool mqtt_encode_ack(struct buf *b, uint8_t type, uint8_t version, uint16_t packet_id,
                     uint8_t reason, const struct mqtt_bin *props);
/* entries: count filters with their options (options ignored when !is_sub). */
bool mqtt_encode_subscribe(struct buf *b, uint8_t version, uint16_t packet_id,
                           const struct mqtt_bin *props, const struct mqtt_sub_entry *entries,
                           uint32_t count);
bool mqtt_encode_unsubscribe(struct buf *b, uint8_t version, uint16_t packet_id,
                             const struct mqtt_bin *props, const struct mqtt_sub_entry *entries,
                             uint32_t count);
bool mqtt_encode_suback(struct buf *b, uint8_t version, uint16_t packet_id,
                        const struct mqtt_bin *props, const uint8_t *reasons, uint32_t count);
/* In 3.x UNSUBACK has no reason codes; reasons is ignored there. */
bool mqtt_encode_unsuback(struct buf *b, uint8_t version, uint16_t packet_id,
                          const struct mqtt_bin *props, const uint8_t *reasons, uint32_t count);
bool mqtt_encode_empty(struct buf *b, uint8_t type); /* PINGREQ, PINGRESP, 3.x DISCONNECT */
/* v5: reason + props (both omitted when 0 / none); 3.x: an empty DISCONNECT. */
bool mqtt_encode_disconnect(struct buf *b, uint8_t version, uint8_t reason,
                            const struct mqtt_bin *props);
bool mqtt_encode_auth(struct buf *b, uint8_t reason, const struct mqtt_bin *props);

/* Size in bytes of the PUBLISH that mqtt_encode_publish() would produce. */
size_t mqtt_publish_size(uint8_t version, const struct mqtt_publish *p);

#endif
