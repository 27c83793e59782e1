/* fuzz_packet.c - libFuzzer target for lib/packet*.c and lib/property.c: frames the input and
 * runs every decoder, for every protocol version, on every frame's body. Whatever decodes is
 * encoded again and must decode again to the same encoding; any inconsistency abort()s. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "property.h"

#define CHECK(x)         \
    do {                 \
        if (!(x))        \
            abort();     \
    } while (0)

/* A validated property block must iterate to its very end. */
static void check_props(struct mqtt_bin raw)
{
    struct mqtt_prop_iter it;
    struct mqtt_prop pr;

    mqtt_props_iter(&it, raw);
    while (mqtt_props_next(&it, &pr))
        CHECK(mqtt_prop_type(pr.id) >= 0);
    CHECK(it.r.pos == raw.len);
}

/* Decodes f as packet type `type` in `version` and, if that succeeds, appends its encoding to
 * out. Returns false when the decoder refused the frame. */
static bool decode_encode(const struct mqtt_frame *f, uint8_t version, struct buf *out)
{
    switch (f->type) {
    case MQTT_CONNECT: {
        struct mqtt_connect c;

        if (mqtt_decode_connect(f, &c) != 0)
            return false;
        check_props(c.props);
        check_props(c.will_props);
        CHECK(mqtt_encode_connect(out, &c));
        return true;
    }
    case MQTT_CONNACK: {
        struct mqtt_connack c;

        if (mqtt_decode_connack(f, version, &c) != 0)
            return false;
        check_props(c.props);
        CHECK(mqtt_encode_connack(out, version, c.session_present, c.reason, &c.props));
        return true;
    }
    case MQTT_PUBLISH: {
        struct mqtt_publish p;
        size_t before = out->len;

        if (mqtt_decode_publish(f, version, &p) != 0)
            return false;
        check_props(p.props);
        CHECK(mqtt_encode_publish(out, version, &p));
        CHECK(out->len - before == mqtt_publish_size(version, &p));
        return true;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: {
        struct mqtt_ack a;

        if (mqtt_decode_ack(f, version, &a) != 0)
            return false;
        check_props(a.props);
        CHECK(mqtt_encode_ack(out, f->type, version, a.packet_id, a.reason, &a.props));
        return true;
    }
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        bool is_sub = f->type == MQTT_SUBSCRIBE;
        struct mqtt_subscribe s;
        struct mqtt_sub_entry *e;
        size_t pos = 0;
        uint32_t n = 0;

        if ((is_sub ? mqtt_decode_subscribe(f, version, &s)
                    : mqtt_decode_unsubscribe(f, version, &s)) != 0)
            return false;
        check_props(s.props);
        /* MQTT 3.1 brokers accept a SUBSCRIBE/UNSUBSCRIBE without topics (2.1.2 does:
         * differential subscribe/v31/no-topics); 3.1.1 and 5.0 require one [MQTT-3.8.3-3]. */
        CHECK(s.count > 0 || version == MQTT_V31);
        e = malloc((s.count > 0 ? s.count : 1) * sizeof(*e));
        CHECK(e != NULL);
        while (n < s.count && mqtt_sub_next(&s, is_sub, &pos, &e[n]))
            n++;
        CHECK(n == s.count && pos == s.entries.len);
        CHECK(is_sub ? mqtt_encode_subscribe(out, version, s.packet_id, &s.props, e, n)
                     : mqtt_encode_unsubscribe(out, version, s.packet_id, &s.props, e, n));
        free(e);
        return true;
    }
    case MQTT_SUBACK: {
        struct mqtt_suback s;

        if (mqtt_decode_suback(f, version, &s) != 0)
            return false;
        check_props(s.props);
        CHECK(mqtt_encode_suback(out, version, s.packet_id, &s.props, s.reasons.p,
                                 s.reasons.len));
        return true;
    }
    case MQTT_UNSUBACK: {
        struct mqtt_suback s;

        if (mqtt_decode_unsuback(f, version, &s) != 0)
            return false;
        check_props(s.props);
        CHECK(mqtt_encode_unsuback(out, version, s.packet_id, &s.props, s.reasons.p,
                                   s.reasons.len));
        return true;
    }
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        if (mqtt_decode_empty(f) != 0)
            return false;
        CHECK(mqtt_encode_empty(out, f->type));
        return true;
    case MQTT_DISCONNECT: {
        struct mqtt_reason d;

        if (mqtt_decode_disconnect(f, version, &d) != 0)
            return false;
        check_props(d.props);
        CHECK(mqtt_encode_disconnect(out, version, d.reason, &d.props));
        return true;
    }
    case MQTT_AUTH: {
        struct mqtt_reason a;

        if (mqtt_decode_auth(f, version, &a) != 0)
            return false;
        check_props(a.props);
        CHECK(mqtt_encode_auth(out, a.reason, &a.props));
        return true;
    }
    default:
        return false;
    }
}

/* x decoded: encode(x) must frame as one whole packet of the same type, decode again, and
 * encode to the same bytes (the encoding is a fixed point). */
static void round_trip(const struct mqtt_frame *f, uint8_t version)
{
    struct buf once, twice;
    struct mqtt_frame g;
    uint8_t reason;

    buf_init(&once);
    buf_init(&twice);
    if (decode_encode(f, version, &once)) {
        CHECK(mqtt_frame_decode(once.data, once.len, 0, &g, &reason) == DEC_DONE);
        CHECK(g.total == once.len && g.type == f->type);
        CHECK(decode_encode(&g, version, &twice));
        CHECK(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
    }
    buf_free(&once);
    buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct mqtt_frame f;
        uint8_t reason = 0, t, v;

        if (mqtt_frame_decode(data + off, size - off, 0, &f, &reason) != DEC_DONE)
            break;
        CHECK(f.total <= size - off && f.body + f.len == data + off + f.total);
        /* The body under every decoder, not only the one its type byte names. */
        for (t = MQTT_CONNECT; t <= MQTT_AUTH; t++) {
            struct mqtt_frame g = f;

            g.type = t;
            for (v = MQTT_V31; v <= MQTT_V5; v++)
                round_trip(&g, v);
        }
        off += f.total;
    }
    return 0;
}
