/* packet.c - MQTT framing: fixed header, remaining length, reserved flag bits and the maximum
 * packet size. It only finds packet boundaries; the packet_*.c files decode the bodies. */
#include "packet.h"

/* Fixed-header flags each type must carry (MQTT 2.1.3); PUBLISH (0xff) is checked later. */
static const uint8_t frame_flags[16] = {
    [MQTT_CONNECT] = 0x0, [MQTT_CONNACK] = 0x0, [MQTT_PUBLISH] = 0xff, [MQTT_PUBACK] = 0x0,
    [MQTT_PUBREC] = 0x0, [MQTT_PUBREL] = 0x2, [MQTT_PUBCOMP] = 0x0, [MQTT_SUBSCRIBE] = 0x2,
    [MQTT_SUBACK] = 0x0, [MQTT_UNSUBSCRIBE] = 0x2, [MQTT_UNSUBACK] = 0x0, [MQTT_PINGREQ] = 0x0,
    [MQTT_PINGRESP] = 0x0, [MQTT_DISCONNECT] = 0x0, [MQTT_AUTH] = 0x0,
};

enum dec mqtt_frame_decode(const uint8_t *buf, size_t len, uint32_t max_size,
                           struct mqtt_frame *f, uint8_t *reason)
{
    uint8_t type, flags, want;
    uint32_t rem = 0;
    size_t i, avail;

    if (len == 0)
        return DEC_NEED_MORE;
    type = buf[0] >> 4;
    flags = buf[0] & 0x0f;
    want = frame_flags[type];
    /* Type 0 is reserved: reject it (and bad flags) on the first byte. */
    if (type == 0 || (want != 0xff && flags != want)) {
        *reason = RC_MALFORMED_PACKET;
        return DEC_ERROR;
    }
    /* The remaining length, inline: this runs once per packet on every connection. */
    avail = len - 1 < 4 ? len - 1 : 4;
    for (i = 0;; i++) {
        uint8_t byte;

        if (i == 4) {
            *reason = RC_MALFORMED_PACKET;
            return DEC_ERROR;
        }
        if (i >= avail)
            return DEC_NEED_MORE;
        byte = buf[1 + i];
        rem |= (uint32_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (i > 0 && byte == 0) { /* non-minimal (MQTT 5 1.5.5) */
                *reason = RC_MALFORMED_PACKET;
                return DEC_ERROR;
            }
            break;
        }
    }
    f->total = (uint32_t)(1 + i + 1) + rem;
    if (max_size && f->total > max_size) {
        *reason = RC_PACKET_TOO_LARGE;
        return DEC_ERROR;
    }
    if (len < f->total)
        return DEC_NEED_MORE;
    f->type = type;
    f->flags = flags;
    f->body = buf + 2 + i;
    f->len = rem;
    return DEC_DONE;
}
