/* proxy_decode.h - what a PROXY protocol header says, and the two pure decoders that read it
 * (proxy_v1.c, proxy_v2.c). No I/O, no allocation, no logging: proxy.c applies the policy. */
#ifndef PROXY_DECODE_H
#define PROXY_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mqtt_protocol.h" /* enum dec */

#define PROXY_V1_MAX_LINE 107
#define PROXY_V2_HEADER_FIXED 16
#define PROXY_V2_MAX_VARIABLE 500 /* our cap on the part after the fixed 16 bytes */

/* PP2_TYPE_SSL client bits */
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

struct proxy_str {           /* borrowed from the decoded buffer; not NUL-terminated */
    const uint8_t *p;
    uint16_t len;
};

struct proxy_info {
    uint8_t version;         /* 1 or 2 */
    bool local;              /* v2 LOCAL command: a health check, no client behind it */
    bool has_addr;           /* false for v1 UNKNOWN and v2 UNSPEC: keep the socket's address */
    struct sockaddr_storage src; /* AF_INET / AF_INET6 with port, or AF_UNIX with sun_path */
    struct sockaddr_storage dst;
    /* v2 TLVs */
    bool has_ssl;            /* a PP2_TYPE_SSL TLV was present */
    uint8_t ssl_client;      /* its client bits */
    uint32_t ssl_verify;     /* its verify field (0 = verified) */
    struct proxy_str ssl_version, ssl_cipher, ssl_cn, ssl_sig_alg, ssl_key_alg;
    struct proxy_str alpn, authority, unique_id, netns;
    bool has_crc;            /* a CRC32C TLV was present and matched */
};

/* Decodes one PROXY v1 line at buf[0..len) into *out.
 * DONE: *used = bytes of the line including CRLF; later bytes are not ours.
 * NEED_MORE: a valid prefix, shorter than 107 bytes, without CRLF yet.
 * ERROR: *why is a static string for the log line. Never reads past len. */
enum dec proxy_v1_decode(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used,
                         const char **why);

/* Decodes one PROXY v2 header at buf[0..len) into *out; same contract as proxy_v1_decode().
 * TLV strings in *out point into buf. */
enum dec proxy_v2_decode(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used,
                         const char **why);

/* CRC32C (Castagnoli) of p[0..len), as the PP2_TYPE_CRC32C TLV uses. */
uint32_t proxy_crc32c(const uint8_t *p, size_t len);
/* Continues crc (a proxy_crc32c result) over p[0..len): crc of the concatenation. Also the
 * store's record checksum (store.c). */
uint32_t proxy_crc32c_update(uint32_t crc, const uint8_t *p, size_t len);

#endif
