/* bench_wire.h - the few MQTT 3.1.1 / 5.0 packets the load generator speaks, encoded and
 * decoded by hand so the benchmark does not depend on the library it measures. Client side
 * only; not a validating parser: a broker under test is trusted to send well-formed packets. */
#ifndef BENCH_WIRE_H
#define BENCH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    BW_CONNECT = 1, BW_CONNACK = 2, BW_PUBLISH = 3, BW_PUBACK = 4, BW_PUBREC = 5,
    BW_PUBREL = 6, BW_PUBCOMP = 7, BW_SUBSCRIBE = 8, BW_SUBACK = 9, BW_PINGREQ = 12,
    BW_PINGRESP = 13, BW_DISCONNECT = 14
};

/* Payload header every benchmark PUBLISH carries; the rest of the payload is padding. */
struct bench_wire_stamp {
    uint64_t ts_ns;   /* CLOCK_MONOTONIC at encode time */
    uint32_t pub;     /* publisher index */
    uint32_t seq;     /* per-publisher sequence number, from 0 */
};
#define BENCH_WIRE_STAMP_LEN 16

/* Each encoder writes into out, which must hold bench_wire_*_len() bytes; returns bytes written. */
size_t bench_wire_connect_len(const char *client_id, int version);
/* clean false: a persistent session (3.1.1; what a broker with persistence must journal). */
size_t bench_wire_connect(uint8_t *out, const char *client_id, int version, uint16_t keepalive,
                          bool clean);
size_t bench_wire_subscribe_len(const char *filter, int version);
size_t bench_wire_subscribe(uint8_t *out, uint16_t pid, const char *filter, int qos, int version);
size_t bench_wire_publish_len(size_t topic_len, size_t payload_len, int qos, int version);
/* The payload is the stamp followed by pad bytes up to payload_len (>= BENCH_WIRE_STAMP_LEN). */
size_t bench_wire_publish(uint8_t *out, const char *topic, size_t topic_len, size_t payload_len,
                          int qos, uint16_t pid, int version, const struct bench_wire_stamp *st);
/* PUBACK, PUBREC, PUBREL (flags 2 set here), PUBCOMP: always the 4-byte short form. */
size_t bench_wire_ack(uint8_t *out, int type, uint16_t pid);
size_t bench_wire_disconnect(uint8_t *out);

/* Frames one packet at buf[0..len): 1 and *total (header + body) when complete, 0 when more
 * bytes are needed, -1 on a malformed remaining length. *hdr is the fixed-header size. */
int bench_wire_frame(const uint8_t *buf, size_t len, size_t *total, size_t *hdr);

/* A decoded inbound PUBLISH; pointers borrow from the packet. */
struct bench_wire_pub {
    int qos;
    uint16_t pid;
    const uint8_t *payload;
    size_t payload_len;
};
/* body = the packet after its fixed header. Returns 0 or -1 if it does not fit. */
int bench_wire_parse_publish(uint8_t flags, const uint8_t *body, size_t len, int version,
                             struct bench_wire_pub *out);
/* CONNACK: return code (3.1.1) or reason code (5.0); *recv_max from the v5 property, else 0. */
int bench_wire_parse_connack(const uint8_t *body, size_t len, int version, uint32_t *recv_max);
/* Ack-type packet: *pid and the v5 reason code (0 when absent). Returns 0 or -1. */
int bench_wire_parse_ack(const uint8_t *body, size_t len, uint16_t *pid, uint8_t *reason);

/* SUBACK: the first granted QoS or failure code (>= 0x80), or -1 if malformed. */
int bench_wire_parse_suback(const uint8_t *body, size_t len, int version);

/* MQTT topic-filter match with + and #; no $-topic special case (the benchmark never uses one). */
int bench_wire_match(const char *filter, const char *topic);

#endif
