/* test_packet.c - unit tests for lib/packet*.c: framing, and every packet type for MQTT 3.1,
 * 3.1.1 and 5.0: round trips, prefixes and shortened bodies (exact-size copies, so ASan sees any
 * over-read), byte flips, and a table of malformed packets with the reason each must earn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "property.h"
#include "unit.h"

#define BIN(s) ((struct mqtt_bin){ (const uint8_t *)(s), (uint32_t)(sizeof(s) - 1) })
#define MAX_ENTRIES 64

/* ---- helpers ---- */

/* Decodes a frame with the decoder for its type and encodes the result again into b. Returns
 * the decoder's reason code (and leaves b alone when it is not 0). */
static uint8_t reencode(const struct mqtt_frame *f, uint8_t version, struct buf *b)
{
    uint8_t rc;
    bool ok = false;

    switch (f->type) {
    case MQTT_CONNECT: {
        struct mqtt_connect c;

        if ((rc = mqtt_decode_connect(f, &c)) == 0)
            ok = mqtt_encode_connect(b, &c);
        break;
    }
    case MQTT_CONNACK: {
        struct mqtt_connack c;

        if ((rc = mqtt_decode_connack(f, version, &c)) == 0)
            ok = mqtt_encode_connack(b, version, c.session_present, c.reason, &c.props);
        break;
    }
    case MQTT_PUBLISH: {
        struct mqtt_publish p;

        if ((rc = mqtt_decode_publish(f, version, &p)) == 0) {
            size_t before = b->len;

            struct buf split;

            ok = mqtt_encode_publish(b, version, &p);
            CU_ASSERT_EQUAL(b->len - before, mqtt_publish_size(version, &p));
            /* Head then payload (the broker sends payloads from the shared message) makes
             * the same bytes. */
            buf_init(&split);
            CU_ASSERT_TRUE(mqtt_encode_publish_head(&split, version, &p));
            CU_ASSERT_TRUE(buf_append(&split, p.payload.p, p.payload.len));
            CU_ASSERT_TRUE(ok && split.len == b->len - before &&
                           memcmp(split.data, b->data + before, split.len) == 0);
            buf_free(&split);
        }
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: {
        struct mqtt_ack a;

        if ((rc = mqtt_decode_ack(f, version, &a)) == 0)
            ok = mqtt_encode_ack(b, f->type, version, a.packet_id, a.reason, &a.props);
        break;
    }
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        bool is_sub = f->type == MQTT_SUBSCRIBE;
        struct mqtt_subscribe s;
        struct mqtt_sub_entry e[MAX_ENTRIES];
        size_t pos = 0;
        uint32_t n = 0;

        rc = is_sub ? mqtt_decode_subscribe(f, version, &s) : mqtt_decode_unsubscribe(f, version, &s);
        if (rc != 0)
            break;
        while (n < MAX_ENTRIES && mqtt_sub_next(&s, is_sub, &pos, &e[n]))
            n++;
        CU_ASSERT_EQUAL(n, s.count);
        ok = is_sub ? mqtt_encode_subscribe(b, version, s.packet_id, &s.props, e, n)
                    : mqtt_encode_unsubscribe(b, version, s.packet_id, &s.props, e, n);
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: {
        struct mqtt_suback s;

        if (f->type == MQTT_SUBACK) {
            if ((rc = mqtt_decode_suback(f, version, &s)) == 0)
                ok = mqtt_encode_suback(b, version, s.packet_id, &s.props, s.reasons.p,
                                        s.reasons.len);
        } else if ((rc = mqtt_decode_unsuback(f, version, &s)) == 0) {
            ok = mqtt_encode_unsuback(b, version, s.packet_id, &s.props, s.reasons.p,
                                      s.reasons.len);
        }
        break;
    }
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        if ((rc = mqtt_decode_empty(f)) == 0)
            ok = mqtt_encode_empty(b, f->type);
        break;
    case MQTT_DISCONNECT: {
        struct mqtt_reason d;

        if ((rc = mqtt_decode_disconnect(f, version, &d)) == 0)
            ok = mqtt_encode_disconnect(b, version, d.reason, &d.props);
        break;
    }
    case MQTT_AUTH: {
        struct mqtt_reason a;

        if ((rc = mqtt_decode_auth(f, version, &a)) == 0)
            ok = mqtt_encode_auth(b, a.reason, &a.props);
        break;
    }
    default:
        return RC_PROTOCOL_ERROR;
    }
    if (rc == 0)
        CU_ASSERT_TRUE(ok);
    return rc;
}

/* Frames p[0..len) which must be exactly one packet; decodes (and re-encodes) it. */
static uint8_t decode_exact(const uint8_t *in, size_t len, uint8_t version, struct buf *out)
{
    uint8_t *p = unit_copy(in, len), reason = 0xff, rc;
    struct mqtt_frame f;
    enum dec d = mqtt_frame_decode(p, len, 0, &f, &reason);

    CU_ASSERT_EQUAL(d, DEC_DONE);
    if (d != DEC_DONE) {
        free(p);
        return 0xfe;
    }
    CU_ASSERT_EQUAL(f.total, len);
    rc = reencode(&f, version, out);
    free(p);
    return rc;
}

/* Writes a fixed header for type/flags with remaining length rem and the body after it. */
static size_t make_frame(uint8_t *dst, uint8_t byte0, const uint8_t *body, uint32_t rem)
{
    struct buf b;
    size_t n;

    buf_init(&b);
    if (!buf_put_u8(&b, byte0) || !buf_put_varint(&b, rem) || !buf_append(&b, body, rem))
        abort();
    n = b.len;
    memcpy(dst, b.data, n);
    buf_free(&b);
    return n;
}

/* ---- samples: one valid packet of each kind, built with the encoders ---- */

struct sample {
    char name[64];
    uint8_t version;
    struct buf bytes;
    bool all_cuts_fail; /* every shortened body must be rejected */
};

#define MAX_SAMPLES 128
static struct sample samples[MAX_SAMPLES];
static size_t nsamples;

static struct buf *sample_new(const char *name, uint8_t version, bool all_cuts_fail)
{
    struct sample *s;

    if (nsamples == MAX_SAMPLES)
        abort();
    s = &samples[nsamples++];
    snprintf(s->name, sizeof(s->name), "%s v%u", name, version);
    s->version = version;
    s->all_cuts_fail = all_cuts_fail;
    buf_init(&s->bytes);
    return &s->bytes;
}

static struct buf props_buf(int which)
{
    struct buf b;
    bool ok = true;

    buf_init(&b);
    switch (which) {
    case MQTT_CONNECT:
        ok = mqtt_props_add_num(&b, PROP_SESSION_EXPIRY_INTERVAL, 3600) &&
             mqtt_props_add_num(&b, PROP_RECEIVE_MAXIMUM, 20) &&
             mqtt_props_add_pair(&b, "k", 1, "v", 1);
        break;
    case 0: /* will */
        ok = mqtt_props_add_num(&b, PROP_WILL_DELAY_INTERVAL, 5) &&
             mqtt_props_add_bin(&b, PROP_CONTENT_TYPE, "text/plain", 10);
        break;
    case MQTT_CONNACK:
        ok = mqtt_props_add_bin(&b, PROP_ASSIGNED_CLIENT_IDENTIFIER, "auto-1", 6) &&
             mqtt_props_add_num(&b, PROP_MAXIMUM_QOS, 1) &&
             mqtt_props_add_num(&b, PROP_TOPIC_ALIAS_MAXIMUM, 10);
        break;
    case MQTT_PUBLISH:
        ok = mqtt_props_add_num(&b, PROP_PAYLOAD_FORMAT_INDICATOR, 1) &&
             mqtt_props_add_num(&b, PROP_MESSAGE_EXPIRY_INTERVAL, 60) &&
             mqtt_props_add_bin(&b, PROP_RESPONSE_TOPIC, "re/ply", 6) &&
             mqtt_props_add_bin(&b, PROP_CORRELATION_DATA, "\x00\x01", 2) &&
             mqtt_props_add_num(&b, PROP_SUBSCRIPTION_IDENTIFIER, 1) &&
             mqtt_props_add_num(&b, PROP_SUBSCRIPTION_IDENTIFIER, 200000) &&
             mqtt_props_add_pair(&b, "a", 1, "b", 1);
        break;
    case MQTT_UNSUBSCRIBE: /* user properties only */
        ok = mqtt_props_add_pair(&b, "u", 1, "n", 1);
        break;
    case MQTT_SUBSCRIBE:
        ok = mqtt_props_add_num(&b, PROP_SUBSCRIPTION_IDENTIFIER, 5) &&
             mqtt_props_add_pair(&b, "x", 1, "y", 1);
        break;
    case MQTT_DISCONNECT:
        ok = mqtt_props_add_num(&b, PROP_SESSION_EXPIRY_INTERVAL, 0) &&
             mqtt_props_add_bin(&b, PROP_REASON_STRING, "bye", 3);
        break;
    case MQTT_AUTH:
        ok = mqtt_props_add_bin(&b, PROP_AUTHENTICATION_METHOD, "SCRAM", 5) &&
             mqtt_props_add_bin(&b, PROP_AUTHENTICATION_DATA, "\x01\x02\x03", 3);
        break;
    default: /* acks, SUBACK, UNSUBACK */
        ok = mqtt_props_add_bin(&b, PROP_REASON_STRING, "why", 3) &&
             mqtt_props_add_pair(&b, "k", 1, "", 0);
        break;
    }
    if (!ok)
        abort();
    return b;
}

static struct mqtt_bin as_bin(const struct buf *b)
{
    return (struct mqtt_bin){ b->data, (uint32_t)b->len };
}

static void samples_connect(uint8_t v)
{
    struct buf cp = props_buf(MQTT_CONNECT), wp = props_buf(0), cap = props_buf(MQTT_CONNACK);
    struct mqtt_connect c;
    struct mqtt_bin cpb = as_bin(&cp), capb = as_bin(&cap);

    memset(&c, 0, sizeof(c));
    c.version = v;
    c.clean = true;
    c.keepalive = 60;
    c.client_id = BIN("client-1");
    if (!mqtt_encode_connect(sample_new("connect minimal", v, true), &c))
        abort();

    c.clean = false;
    c.keepalive = 0xffff;
    c.props = cpb;
    c.will = true;
    c.will_qos = 1;
    c.will_retain = true;
    c.will_props = as_bin(&wp);
    c.will_topic = BIN("will/t\xc3\xa9");
    c.will_payload = BIN("bye\0\xff");
    c.has_username = c.has_password = true;
    c.username = BIN("user");
    c.password = BIN("p\0w");
    if (!mqtt_encode_connect(sample_new("connect full", v, true), &c))
        abort();

    c.client_id = BIN("");
    c.will = false;
    c.will_qos = 0;
    c.will_retain = false;
    c.has_username = v != MQTT_V5; /* MQTT 5 allows a password alone */
    if (!mqtt_encode_connect(sample_new("connect password", v, true), &c))
        abort();

    if (!mqtt_encode_connack(sample_new("connack", v, true), v, true, 0, &capb) ||
        !mqtt_encode_connack(sample_new("connack refused", v, true), v, false, 5, NULL))
        abort();
    buf_free(&cp);
    buf_free(&wp);
    buf_free(&cap);
}

static void samples_publish(uint8_t v)
{
    static uint8_t big[300];
    struct buf pp = props_buf(MQTT_PUBLISH), alias;
    struct mqtt_publish m;

    memset(&m, 0, sizeof(m));
    m.topic = BIN("a/b");
    m.payload = BIN("hello");
    if (!mqtt_encode_publish(sample_new("publish qos0", v, false), v, &m))
        abort();
    m.qos = 1;
    m.dup = m.retain = true;
    m.packet_id = 7;
    m.payload = BIN("");
    m.props = as_bin(&pp);
    if (!mqtt_encode_publish(sample_new("publish qos1 empty", v, true), v, &m))
        abort();
    m.qos = 2;
    m.dup = false;
    m.packet_id = 65535;
    m.topic = BIN("\xe2\x82\xac/x");
    memset(big, 0x5a, sizeof(big));
    m.payload = (struct mqtt_bin){ big, sizeof(big) };
    if (!mqtt_encode_publish(sample_new("publish qos2 big", v, false), v, &m))
        abort();
    if (v == MQTT_V5) {
        buf_init(&alias);
        if (!mqtt_props_add_num(&alias, PROP_TOPIC_ALIAS, 3))
            abort();
        m.topic = BIN("");
        m.props = as_bin(&alias);
        m.payload = BIN("");
        if (!mqtt_encode_publish(sample_new("publish alias", v, true), v, &m))
            abort();
        buf_free(&alias);
    }
    buf_free(&pp);
}

static void samples_acks(uint8_t v)
{
    struct buf ap = props_buf(MQTT_PUBACK);
    struct mqtt_bin apb = as_bin(&ap);
    uint8_t t;

    for (t = MQTT_PUBACK; t <= MQTT_PUBCOMP; t++) {
        char name[32];

        snprintf(name, sizeof(name), "ack%u", t);
        if (!mqtt_encode_ack(sample_new(name, v, true), t, v, 1, 0, NULL) ||
            !mqtt_encode_ack(sample_new(name, v, v < MQTT_V5), t, v, 0x1234, 0x10, NULL) ||
            !mqtt_encode_ack(sample_new(name, v, v < MQTT_V5), t, v, 0xffff, 0x80, &apb))
            abort();
    }
    buf_free(&ap);
}

static void samples_subscribe(uint8_t v)
{
    struct buf sp = props_buf(MQTT_SUBSCRIBE), up = props_buf(MQTT_UNSUBSCRIBE);
    struct buf kp = props_buf(MQTT_SUBACK);
    struct mqtt_bin spb = as_bin(&sp), upb = as_bin(&up), kpb = as_bin(&kp);
    struct mqtt_sub_entry e[3] = {
        { BIN("a/+"), 1 },
        { BIN("#"), v == MQTT_V5 ? 0x2e : 2 },
        { BIN("$share/g/x/\xc3\xa9"), 0 },
    };
    static const uint8_t codes[] = { 1, 0x80, 0 };

    /* MQTT 3.1 allows an empty entry list (2.1.2 answers an empty SUBACK / UNSUBACK,
     * test/differential subscribe/v31/no-topics), so a cut after the packet id is legal there. */
    if (!mqtt_encode_subscribe(sample_new("subscribe 1", v, v != MQTT_V31), v, 10, &spb, e, 1) ||
        !mqtt_encode_subscribe(sample_new("subscribe 3", v, false), v, 11, &spb, e, 3) ||
        !mqtt_encode_unsubscribe(sample_new("unsubscribe 1", v, v != MQTT_V31), v, 12, &upb, e, 1) ||
        !mqtt_encode_unsubscribe(sample_new("unsubscribe 3", v, false), v, 13, &upb, e, 3) ||
        !mqtt_encode_suback(sample_new("suback 1", v, true), v, 10, &kpb, codes, 1) ||
        !mqtt_encode_suback(sample_new("suback 3", v, false), v, 11, &kpb, codes, 3) ||
        !mqtt_encode_unsuback(sample_new("unsuback 1", v, true), v, 12, &kpb, codes + 2, 1) ||
        !mqtt_encode_unsuback(sample_new("unsuback 3", v, v < MQTT_V5), v, 13, &kpb,
                              (const uint8_t[]){ 0, 0x11, 0x87 }, 3))
        abort();
    buf_free(&sp);
    buf_free(&up);
    buf_free(&kp);
}

static void samples_control(uint8_t v)
{
    struct buf dp = props_buf(MQTT_DISCONNECT), xp = props_buf(MQTT_AUTH);
    struct mqtt_bin dpb = as_bin(&dp), xpb = as_bin(&xp);

    if (!mqtt_encode_empty(sample_new("pingreq", v, true), MQTT_PINGREQ) ||
        !mqtt_encode_empty(sample_new("pingresp", v, true), MQTT_PINGRESP) ||
        !mqtt_encode_disconnect(sample_new("disconnect", v, true), v, 0, NULL))
        abort();
    if (v == MQTT_V5 &&
        (!mqtt_encode_disconnect(sample_new("disconnect reason", v, false), v, 0x8e, NULL) ||
         !mqtt_encode_disconnect(sample_new("disconnect props", v, false), v, 0x04, &dpb) ||
         !mqtt_encode_auth(sample_new("auth", v, false), 0x18, &xpb) ||
         !mqtt_encode_auth(sample_new("auth success", v, true), 0, NULL) ||
         !mqtt_encode_auth(sample_new("auth reason only", v, false), 0x19, NULL)))
        abort();
    buf_free(&dp);
    buf_free(&xp);
}

static int samples_init(void)
{
    uint8_t v;

    for (v = MQTT_V31; v <= MQTT_V5; v++) {
        samples_connect(v);
        samples_publish(v);
        samples_acks(v);
        samples_subscribe(v);
        samples_control(v);
    }
    return 0;
}

static int samples_clean(void)
{
    size_t i;

    for (i = 0; i < nsamples; i++)
        buf_free(&samples[i].bytes);
    nsamples = 0;
    return 0;
}

/* ---- tests over all samples ---- */

static void test_samples_round_trip(void)
{
    size_t i;

    CU_ASSERT_TRUE(nsamples > 80);
    for (i = 0; i < nsamples; i++) {
        struct sample *s = &samples[i];
        struct buf out;
        uint8_t rc;

        buf_init(&out);
        rc = decode_exact(s->bytes.data, s->bytes.len, s->version, &out);
        CU_ASSERT_EQUAL(rc, 0);
        /* decode then encode gives back the very same bytes */
        CU_ASSERT_EQUAL(out.len, s->bytes.len);
        if (rc != 0 || out.len != s->bytes.len ||
            memcmp(out.data, s->bytes.data, out.len) != 0) {
            CU_FAIL("round trip");
            fprintf(stderr, "round trip failed: %s (rc 0x%02x)\n", s->name, rc);
        }
        buf_free(&out);
    }
}

static void test_samples_frame_prefixes(void)
{
    size_t i, cut;

    for (i = 0; i < nsamples; i++) {
        struct sample *s = &samples[i];

        for (cut = 0; cut < s->bytes.len; cut++) {
            uint8_t *p = unit_copy(s->bytes.data, cut), reason = 0;
            struct mqtt_frame f;

            CU_ASSERT_EQUAL(mqtt_frame_decode(p, cut, 0, &f, &reason), DEC_NEED_MORE);
            free(p);
        }
    }
}

/* The same body cut short but framed as complete: rejected, or (where a shorter form is
 * legal, such as fewer entries or a shorter payload) decoded to exactly those bytes. */
static void test_samples_short_bodies(void)
{
    size_t i;
    uint32_t cut;

    for (i = 0; i < nsamples; i++) {
        struct sample *s = &samples[i];
        struct mqtt_frame whole;
        uint8_t reason;

        if (mqtt_frame_decode(s->bytes.data, s->bytes.len, 0, &whole, &reason) != DEC_DONE) {
            CU_FAIL("sample does not frame");
            continue;
        }
        for (cut = 0; cut < whole.len; cut++) {
            uint8_t *tmp = malloc(cut + 5), *p, rc;
            size_t n = make_frame(tmp, s->bytes.data[0], whole.body, cut);
            struct buf out;

            p = unit_copy(tmp, n);
            free(tmp);
            buf_init(&out);
            rc = decode_exact(p, n, s->version, &out);
            if (rc == 0) {
                if (s->all_cuts_fail) {
                    CU_FAIL("short body accepted");
                    fprintf(stderr, "%s: body cut to %u accepted\n", s->name, cut);
                }
                CU_ASSERT_EQUAL(out.len, n);
                CU_ASSERT_TRUE(out.len == n && memcmp(out.data, p, n) == 0);
            }
            buf_free(&out);
            free(p);
        }
    }
}

/* Every byte of every sample replaced by a few values: an error or a packet that encodes back
 * to something that decodes again. Never a crash. */
static void test_samples_byte_flips(void)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
    size_t i, at, k;

    for (i = 0; i < nsamples; i++) {
        struct sample *s = &samples[i];

        for (at = 0; at < s->bytes.len; at++) {
            for (k = 0; k < sizeof(vals); k++) {
                uint8_t *p = unit_copy(s->bytes.data, s->bytes.len), reason;
                struct mqtt_frame f;
                struct buf out;

                p[at] = vals[k];
                buf_init(&out);
                if (mqtt_frame_decode(p, s->bytes.len, 0, &f, &reason) == DEC_DONE &&
                    reencode(&f, s->version, &out) == 0) {
                    struct mqtt_frame g;
                    struct buf again;

                    buf_init(&again);
                    CU_ASSERT_EQUAL(mqtt_frame_decode(out.data, out.len, 0, &g, &reason),
                                    DEC_DONE);
                    CU_ASSERT_EQUAL(reencode(&g, s->version, &again), 0);
                    buf_free(&again);
                }
                buf_free(&out);
                free(p);
            }
        }
    }
}

/* ---- the framer ---- */

struct frame_row {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    uint32_t max;
    enum dec want;
    uint8_t reason;   /* for DEC_ERROR */
    uint32_t total;   /* for DEC_DONE */
};

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct frame_row frame_rows[] = {
    { "empty", (const uint8_t *)"", 0, 0, DEC_NEED_MORE, 0, 0 },
    { "type byte only", B(0x30), 0, DEC_NEED_MORE, 0, 0 },
    { "pingreq", B(0xc0, 0x00), 0, DEC_DONE, 0, 2 },
    { "pingreq + next", B(0xc0, 0x00, 0xc0), 0, DEC_DONE, 0, 2 },
    { "type 0", B(0x00, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "type 0 alone", B(0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "connect flags 1", B(0x11, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "connack flags 8", B(0x28, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "puback flags 2", B(0x42, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pubrec flags 1", B(0x51, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pubrel flags 0", B(0x60, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pubrel flags 3", B(0x63, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pubrel flags 2", B(0x62, 0x00), 0, DEC_DONE, 0, 2 },
    { "pubcomp flags 2", B(0x72, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "subscribe flags 0", B(0x80, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "subscribe flags 2", B(0x82, 0x00), 0, DEC_DONE, 0, 2 },
    { "suback flags 2", B(0x92, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "unsubscribe flags 0", B(0xa0, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "unsubscribe flags 2", B(0xa2, 0x00), 0, DEC_DONE, 0, 2 },
    { "unsuback flags 1", B(0xb1, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pingreq flags 1", B(0xc1, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "pingresp flags 4", B(0xd4, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "disconnect flags 1", B(0xe1, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "auth flags 1", B(0xf1, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "publish any flags", B(0x3f, 0x00), 0, DEC_DONE, 0, 2 },
    { "rem 2 bytes", B(0x30, 0x80, 0x01), 0, DEC_NEED_MORE, 0, 0 },
    { "rem cut", B(0x30, 0x80), 0, DEC_NEED_MORE, 0, 0 },
    { "rem cut 3", B(0x30, 0xff, 0xff, 0xff), 0, DEC_NEED_MORE, 0, 0 },
    { "rem max", B(0x30, 0xff, 0xff, 0xff, 0x7f), 0, DEC_NEED_MORE, 0, 0 },
    { "rem 5 bytes", B(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), 0, DEC_ERROR, RC_MALFORMED_PACKET,
      0 },
    { "rem 5th cont", B(0x30, 0x80, 0x80, 0x80, 0x80), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "rem non-minimal", B(0xc0, 0x80, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET, 0 },
    { "rem non-minimal 4", B(0x30, 0x80, 0x80, 0x80, 0x00), 0, DEC_ERROR, RC_MALFORMED_PACKET,
      0 },
    { "too large early", B(0x30, 0x0a), 11, DEC_ERROR, RC_PACKET_TOO_LARGE, 0 },
    { "at the limit", B(0x30, 0x0a), 12, DEC_NEED_MORE, 0, 0 },
    { "huge vs limit", B(0x30, 0xff, 0xff, 0xff, 0x7f), 1 << 20, DEC_ERROR, RC_PACKET_TOO_LARGE,
      0 },
    { "limit exact", B(0x30, 0x01, 0x00), 3, DEC_DONE, 0, 3 },
    { "limit one under", B(0x30, 0x01, 0x00), 2, DEC_ERROR, RC_PACKET_TOO_LARGE, 0 },
};

static void test_frame_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(frame_rows) / sizeof(frame_rows[0]); i++) {
        const struct frame_row *r = &frame_rows[i];
        uint8_t *p = unit_copy(r->bytes, r->len), reason = 0;
        struct mqtt_frame f;
        enum dec d = mqtt_frame_decode(p, r->len, r->max, &f, &reason);

        CU_ASSERT_EQUAL(d, r->want);
        if (d == DEC_ERROR)
            CU_ASSERT_EQUAL(reason, r->reason);
        if (d == DEC_DONE) {
            CU_ASSERT_EQUAL(f.total, r->total);
            CU_ASSERT_EQUAL(f.type, r->bytes[0] >> 4);
            CU_ASSERT_EQUAL(f.flags, r->bytes[0] & 15);
            CU_ASSERT_PTR_EQUAL(f.body, p + r->total - f.len);
        }
        if (d != r->want)
            fprintf(stderr, "frame row '%s': got %d\n", r->name, d);
        free(p);
    }
}

/* ---- malformed packets, one per rule ---- */

struct bad_row {
    const char *name;
    uint8_t version;
    const uint8_t *bytes;
    size_t len;
    uint8_t rc;
};

#define MAL RC_MALFORMED_PACKET
#define PRO RC_PROTOCOL_ERROR
#define UNS RC_UNSUPPORTED_PROTOCOL_VERSION
/* CONNECT variable header prefixes */
#define MQTT4 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04
#define MQTT5 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05

static const struct bad_row bad_rows[] = {
    /* CONNECT */
    { "connect ok", 4, B(0x10, 12, MQTT4, 0x02, 0, 60, 0, 0), 0 },
    { "connect 3.1 ok", 3, B(0x10, 14, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 60, 0, 0), 0 },
    { "connect bridge bit", 4, B(0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 0x84, 2, 0, 60, 0, 0), 0 },
    { "connect reserved flag", 4, B(0x10, 12, MQTT4, 0x03, 0, 60, 0, 0), MAL },
    /* 3.1 has no rule for these: 2.1.2 accepts them (connect/v31/reserved-flag,
     * connect/v31/will-qos-no-will) */
    { "connect 3.1 reserved flag", 3,
      B(0x10, 14, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 3, 0, 60, 0, 0), 0 },
    { "connect 3.1 will qos w/o will", 3,
      B(0x10, 14, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x0a, 0, 60, 0, 0), 0 },
    { "connect garbage name", 4, B(0x10, 12, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 60, 0, 0), PRO },
    { "connect name cut", 4, B(0x10, 4, 0, 4, 'M', 'Q'), MAL },
    { "connect no level", 4, B(0x10, 6, 0, 4, 'M', 'Q', 'T', 'T'), MAL },
    { "connect MQTT level 3", 4, B(0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 60, 0, 0), UNS },
    { "connect MQTT level 6", 4, B(0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 0), UNS },
    { "connect MQIsdp level 4", 4,
      B(0x10, 14, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 4, 2, 0, 60, 0, 0), UNS },
    { "connect no flags", 4, B(0x10, 7, MQTT4), MAL },
    { "connect no keepalive", 4, B(0x10, 9, MQTT4, 0x02, 0), MAL },
    { "connect no client id", 4, B(0x10, 10, MQTT4, 0x02, 0, 60), MAL },
    { "connect will qos 3", 4, B(0x10, 12, MQTT4, 0x1e, 0, 60, 0, 0), MAL },
    { "connect will qos w/o will", 4, B(0x10, 12, MQTT4, 0x0a, 0, 60, 0, 0), MAL },
    { "connect will retain w/o will", 4, B(0x10, 12, MQTT4, 0x22, 0, 60, 0, 0), MAL },
    { "connect password w/o user 3.1.1", 4, B(0x10, 15, MQTT4, 0x42, 0, 60, 0, 0, 0, 1, 'p'),
      MAL },
    { "connect password w/o user 5", 5,
      B(0x10, 16, MQTT5, 0x42, 0, 60, 0, 0, 0, 0, 1, 'p'), 0 },
    /* 2.1.2: v5 CONNACK 0x85, 3.x closed, both logged "client identifier not valid"
     * (test/differential connect/v5/invalid-utf8-id, nul-in-id) */
    { "connect bad client id", 4, B(0x10, 14, MQTT4, 0x02, 0, 60, 0, 2, 0xc0, 0x80),
      RC_CLIENTID_NOT_VALID },
    { "connect client id nul", 4, B(0x10, 13, MQTT4, 0x02, 0, 60, 0, 1, 0x00),
      RC_CLIENTID_NOT_VALID },
    { "connect bad username", 4,
      B(0x10, 15, MQTT4, 0x82, 0, 60, 0, 0, 0, 1, 0x7f), MAL },
    { "connect username missing", 4, B(0x10, 12, MQTT4, 0x82, 0, 60, 0, 0), MAL },
    { "connect password missing", 4, B(0x10, 15, MQTT4, 0xc2, 0, 60, 0, 0, 0, 1, 'u'), MAL },
    { "connect trailing byte", 4, B(0x10, 13, MQTT4, 0x02, 0, 60, 0, 0, 0xff), MAL },
    { "connect will ok", 4, B(0x10, 18, MQTT4, 0x0e, 0, 60, 0, 0, 0, 1, 't', 0, 1, 'x'), 0 },
    { "connect will topic wildcard 3.1.1", 4,
      B(0x10, 18, MQTT4, 0x0e, 0, 60, 0, 0, 0, 1, '#', 0, 1, 'x'), MAL },
    { "connect will topic wildcard 5", 5,
      B(0x10, 20, MQTT5, 0x0e, 0, 60, 0, 0, 0, 0, 0, 1, '+', 0, 1, 'x'), RC_TOPIC_NAME_INVALID },
    { "connect will topic empty", 4, B(0x10, 17, MQTT4, 0x0e, 0, 60, 0, 0, 0, 0, 0, 1, 'x'),
      MAL },
    { "connect will topic bad utf8", 4,
      B(0x10, 19, MQTT4, 0x0e, 0, 60, 0, 0, 0, 2, 0xed, 0xa0, 0, 1, 'x'), MAL },
    { "connect will payload missing", 4, B(0x10, 15, MQTT4, 0x0e, 0, 60, 0, 0, 0, 1, 't'), MAL },
    { "connect v5 no props", 5, B(0x10, 12, MQTT5, 0x02, 0, 60, 0, 0), MAL },
    { "connect v5 props ok", 5, B(0x10, 16, MQTT5, 0x02, 0, 60, 3, 0x21, 0, 1, 0, 0), 0 },
    { "connect v5 topic alias prop", 5, B(0x10, 16, MQTT5, 0x02, 0, 60, 3, 0x23, 0, 1, 0, 0),
      MAL },
    { "connect v5 receive max 0", 5, B(0x10, 16, MQTT5, 0x02, 0, 60, 3, 0x21, 0, 0, 0, 0), PRO },
    { "connect v5 props overrun", 5, B(0x10, 14, MQTT5, 0x02, 0, 60, 9, 0x21, 0, 1), MAL },
    { "connect v5 will delay outside will", 5,
      B(0x10, 18, MQTT5, 0x02, 0, 60, 5, 0x18, 0, 0, 0, 1, 0, 0), MAL },
    { "connect v5 will props ok", 5,
      B(0x10, 25, MQTT5, 0x06, 0, 60, 0, 0, 0, 5, 0x18, 0, 0, 0, 1, 0, 1, 't', 0, 1, 'x'), 0 },
    { "connect v5 will props bad", 5,
      B(0x10, 22, MQTT5, 0x06, 0, 60, 0, 0, 0, 2, 0x01, 7, 0, 1, 't', 0, 1, 'x'), PRO },
    /* CONNACK */
    { "connack ok", 4, B(0x20, 2, 1, 0), 0 },
    { "connack long 3.1.1", 4, B(0x20, 3, 0, 0, 0), MAL },
    { "connack short", 4, B(0x20, 1, 0), MAL },
    { "connack flag bits", 4, B(0x20, 2, 2, 0), MAL },
    { "connack v5 no props", 5, B(0x20, 2, 0, 0), MAL },
    { "connack v5 trailing", 5, B(0x20, 4, 0, 0, 0, 0), MAL },
    { "connack v5 session expiry", 5, B(0x20, 8, 0, 0, 5, 0x11, 0, 0, 0, 9), 0 },
    { "connack v5 will delay", 5, B(0x20, 8, 0, 0, 5, 0x18, 0, 0, 0, 9), MAL },
    /* PUBLISH */
    { "publish ok", 4, B(0x30, 3, 0, 1, 'a'), 0 },
    { "publish qos 3", 4, B(0x36, 5, 0, 1, 'a', 0, 1), MAL },
    { "publish qos 3 v5", 5, B(0x36, 6, 0, 1, 'a', 0, 1, 0), MAL },
    { "publish qos0 dup", 4, B(0x38, 3, 0, 1, 'a'), MAL },
    { "publish qos0 dup v5", 5, B(0x38, 4, 0, 1, 'a', 0), MAL }, /* 2.1.2: DISCONNECT 0x81 */
    { "publish qos1 dup ok", 4, B(0x3a, 5, 0, 1, 'a', 0, 1), 0 },
    { "publish pid 0", 4, B(0x32, 5, 0, 1, 'a', 0, 0), PRO }, /* Mosquitto: protocol error */
    { "publish pid 0 v5", 5, B(0x34, 6, 0, 1, 'a', 0, 0, 0), PRO },
    { "publish pid missing", 4, B(0x32, 4, 0, 1, 'a', 0), MAL },
    /* 2.1.2: "malformed packet", v5 DISCONNECT 0x81 (publish/v5/wildcard-topic-plus) */
    { "publish topic #", 4, B(0x30, 3, 0, 1, '#'), MAL },
    { "publish topic + v5", 5, B(0x30, 6, 0, 3, 'a', '/', '+', 0), MAL },
    { "publish topic wildcard after utf8", 5, B(0x30, 6, 0, 3, 0xc3, 0xa9, '#', 0), MAL },
    { "publish topic empty", 4, B(0x30, 2, 0, 0), MAL },
    { "publish topic empty 3.1", 3, B(0x30, 2, 0, 0), MAL },
    { "publish topic empty v5", 5, B(0x30, 3, 0, 0, 0), PRO },
    { "publish alias v5", 5, B(0x30, 6, 0, 0, 3, 0x23, 0, 1), 0 },
    { "publish alias + topic v5", 5, B(0x30, 7, 0, 1, 'a', 3, 0x23, 0, 1), 0 },
    { "publish topic bad utf8", 4, B(0x30, 4, 0, 2, 0xc0, 0x80), MAL },
    { "publish topic control", 4, B(0x30, 3, 0, 1, 0x01), MAL },
    { "publish topic C1 control", 4, B(0x30, 4, 0, 2, 0xc2, 0x85), MAL },
    { "publish topic overrun", 4, B(0x30, 3, 0, 5, 'a'), MAL },
    { "publish v5 no props", 5, B(0x30, 3, 0, 1, 'a'), MAL },
    { "publish v5 props overrun", 5, B(0x30, 5, 0, 1, 'a', 4, 0x01), MAL },
    { "publish v5 session expiry prop", 5, B(0x30, 9, 0, 1, 'a', 5, 0x11, 0, 0, 0, 1), MAL },
    { "publish v5 payload format 2", 5, B(0x30, 6, 0, 1, 'a', 2, 0x01, 2), PRO },
    { "publish v5 topic alias twice", 5,
      B(0x30, 10, 0, 1, 'a', 6, 0x23, 0, 1, 0x23, 0, 2), PRO },
    { "publish v5 content type bad utf8", 5, B(0x30, 8, 0, 1, 'a', 4, 0x03, 0, 1, 0xff), MAL },
    /* acks */
    { "puback ok", 4, B(0x40, 2, 0, 1), 0 },
    { "puback 3 bytes 3.1.1", 4, B(0x40, 3, 0, 1, 0), MAL },
    { "puback 1 byte", 4, B(0x40, 1, 0), MAL },
    { "puback 1 byte v5", 5, B(0x40, 1, 0), MAL },
    { "puback empty", 3, B(0x40, 0), MAL },
    { "pubrec pid 0", 4, B(0x50, 2, 0, 0), MAL },
    { "pubcomp pid 0 v5", 5, B(0x70, 2, 0, 0), PRO },
    { "pubrel ok", 4, B(0x62, 2, 0, 1), 0 },
    { "pubrel v5 reason", 5, B(0x62, 3, 0, 1, 0x92), 0 },
    { "puback v5 props overrun", 5, B(0x40, 4, 0, 1, 0x10, 5), MAL },
    { "puback v5 trailing", 5, B(0x40, 5, 0, 1, 0, 0, 0xff), MAL },
    { "puback v5 topic alias prop", 5, B(0x40, 7, 0, 1, 0, 3, 0x23, 0, 1), MAL },
    { "pubrec v5 reason string", 5, B(0x50, 8, 0, 1, 0x80, 4, 0x1f, 0, 1, 'x'), 0 },
    /* SUBSCRIBE */
    { "subscribe ok", 4, B(0x82, 6, 0, 1, 0, 1, 'a', 1), 0 },
    { "subscribe no entries", 4, B(0x82, 2, 0, 1), MAL }, /* 2.1.2 logs malformed packet */
    { "subscribe no entries 3.1", 3, B(0x82, 2, 0, 1), 0 }, /* 2.1.2: empty SUBACK */
    { "subscribe no entries v5", 5, B(0x82, 3, 0, 1, 0), PRO },
    { "subscribe pid 0", 4, B(0x82, 6, 0, 0, 0, 1, 'a', 1), MAL },
    { "subscribe pid cut", 4, B(0x82, 1, 0), MAL },
    { "subscribe qos 3", 4, B(0x82, 6, 0, 1, 0, 1, 'a', 3), MAL },
    { "subscribe 3.1.1 option bits", 4, B(0x82, 6, 0, 1, 0, 1, 'a', 0x04), MAL },
    { "subscribe 3.1 option bits", 3, B(0x82, 6, 0, 1, 0, 1, 'a', 0x80), MAL },
    { "subscribe no options byte", 4, B(0x82, 5, 0, 1, 0, 1, 'a'), MAL },
    { "subscribe filter overrun", 4, B(0x82, 6, 0, 1, 0, 3, 'a', 1), MAL },
    { "subscribe filter bad utf8", 4, B(0x82, 7, 0, 1, 0, 2, 0xc3, 0x28, 1), MAL },
    { "subscribe second entry cut", 4, B(0x82, 8, 0, 1, 0, 1, 'a', 1, 0, 1), MAL },
    { "subscribe v5 options ok", 5, B(0x82, 7, 0, 1, 0, 0, 1, 'a', 0x2e), 0 },
    { "subscribe v5 bit 6", 5, B(0x82, 7, 0, 1, 0, 0, 1, 'a', 0x41), MAL },
    { "subscribe v5 bit 7", 5, B(0x82, 7, 0, 1, 0, 0, 1, 'a', 0x80), MAL },
    { "subscribe v5 retain handling 3", 5, B(0x82, 7, 0, 1, 0, 0, 1, 'a', 0x30), PRO },
    { "subscribe v5 qos 3", 5, B(0x82, 7, 0, 1, 0, 0, 1, 'a', 0x03), MAL },
    { "subscribe v5 sub id 0", 5, B(0x82, 9, 0, 1, 2, 0x0b, 0, 0, 1, 'a', 0), PRO },
    { "subscribe v5 no props", 5, B(0x82, 6, 0, 1, 0, 1, 'a', 1), MAL },
    /* UNSUBSCRIBE */
    { "unsubscribe ok", 4, B(0xa2, 5, 0, 1, 0, 1, 'a'), 0 },
    { "unsubscribe no entries", 4, B(0xa2, 2, 0, 1), MAL }, /* 2.1.2 logs malformed packet */
    { "unsubscribe no entries v5", 5, B(0xa2, 3, 0, 1, 0), PRO },
    { "unsubscribe filter overrun", 4, B(0xa2, 5, 0, 1, 0, 2, 'a'), MAL },
    { "unsubscribe half length", 4, B(0xa2, 6, 0, 1, 0, 1, 'a', 0), MAL },
    { "unsubscribe pid 0", 4, B(0xa2, 5, 0, 0, 0, 1, 'a'), MAL },
    { "unsubscribe v5 sub id", 5, B(0xa2, 8, 0, 1, 2, 0x0b, 1, 0, 1, 'a'), MAL },
    /* SUBACK / UNSUBACK */
    { "suback ok", 4, B(0x90, 4, 0, 1, 0x80, 2), 0 },
    { "suback no codes", 4, B(0x90, 2, 0, 1), PRO },
    { "suback bad code 3.1.1", 4, B(0x90, 3, 0, 1, 0x03), MAL },
    { "suback v5 code", 5, B(0x90, 4, 0, 1, 0, 0x97), 0 },
    { "suback v5 no codes", 5, B(0x90, 3, 0, 1, 0), PRO },
    { "unsuback ok", 4, B(0xb0, 2, 0, 1), 0 },
    { "unsuback long 3.1.1", 4, B(0xb0, 3, 0, 1, 0), MAL },
    { "unsuback short", 4, B(0xb0, 1, 0), MAL },
    { "unsuback v5 no codes", 5, B(0xb0, 3, 0, 1, 0), PRO },
    { "unsuback v5 ok", 5, B(0xb0, 4, 0, 1, 0, 0x11), 0 },
    /* PINGREQ / PINGRESP / DISCONNECT / AUTH */
    { "pingreq body", 4, B(0xc0, 1, 0), MAL },
    { "pingresp body", 5, B(0xd0, 1, 0), MAL },
    { "disconnect body 3.1.1", 4, B(0xe0, 1, 0), MAL },
    { "disconnect v5 reason", 5, B(0xe0, 1, 0x8e), 0 },
    { "disconnect v5 props overrun", 5, B(0xe0, 2, 0, 5), MAL },
    { "disconnect v5 trailing", 5, B(0xe0, 3, 0, 0, 0), MAL },
    { "disconnect v5 topic alias prop", 5, B(0xe0, 5, 0, 3, 0x23, 0, 1), MAL },
    { "disconnect v5 session expiry", 5, B(0xe0, 7, 0, 5, 0x11, 0, 0, 0, 0), 0 },
    { "auth 3.1.1", 4, B(0xf0, 0), PRO },
    { "auth v5 empty", 5, B(0xf0, 0), 0 },
    { "auth v5 reason only", 5, B(0xf0, 1, 0x18), MAL },
    { "auth v5 continue", 5, B(0xf0, 2, 0x18, 0), 0 },
    { "auth v5 bad reason", 5, B(0xf0, 2, 0x05, 0), PRO },
    { "auth v5 reason string", 5, B(0xf0, 6, 0x19, 4, 0x1f, 0, 1, 'x'), 0 },
    { "auth v5 session expiry", 5, B(0xf0, 7, 0x19, 5, 0x11, 0, 0, 0, 1), MAL },
};

static void test_bad_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        const struct bad_row *r = &bad_rows[i];
        struct buf out;
        uint8_t rc;

        /* every row is one exact frame with a one-byte remaining length */
        CU_ASSERT_EQUAL(r->bytes[1], r->len - 2);
        if (r->bytes[1] != r->len - 2)
            fprintf(stderr, "bad row '%s': length byte wrong\n", r->name);
        buf_init(&out);
        rc = decode_exact(r->bytes, r->len, r->version, &out);
        CU_ASSERT_EQUAL(rc, r->rc);
        if (rc != r->rc)
            fprintf(stderr, "bad row '%s': got 0x%02x want 0x%02x\n", r->name, rc, r->rc);
        buf_free(&out);
    }
}

/* ---- specific field checks ---- */

static struct mqtt_frame frame_of(const uint8_t *p, size_t len)
{
    struct mqtt_frame f;
    uint8_t reason;

    memset(&f, 0, sizeof(f));
    CU_ASSERT_EQUAL_FATAL(mqtt_frame_decode(p, len, 0, &f, &reason), DEC_DONE);
    return f;
}

static void test_connect_fields(void)
{
    static const uint8_t lvl3[] = { 0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 60, 0, 0 };
    static const uint8_t junk[] = { 0x10, 12, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 60, 0, 0 };
    static const uint8_t full[] = { 0x10, 34, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xf4, 0x01, 0x02,
                                    0, 2, 'i', 'd', 0, 3, 'w', '/', 't', 0, 2, 'h', 'i',
                                    0, 4, 'u', 's', 'e', 'r', 0, 3, 'p', 0, 'w' };
    struct mqtt_connect c;
    struct mqtt_frame f = frame_of(lvl3, sizeof(lvl3));

    CU_ASSERT_EQUAL(mqtt_decode_connect(&f, &c), RC_UNSUPPORTED_PROTOCOL_VERSION);
    CU_ASSERT_EQUAL(c.version, 3);
    f = frame_of(junk, sizeof(junk));
    CU_ASSERT_EQUAL(mqtt_decode_connect(&f, &c), RC_PROTOCOL_ERROR);
    f = frame_of(full, sizeof(full));
    CU_ASSERT_EQUAL_FATAL(mqtt_decode_connect(&f, &c), 0);
    CU_ASSERT_EQUAL(c.version, 4);
    CU_ASSERT_FALSE(c.clean);
    CU_ASSERT_EQUAL(c.keepalive, 0x0102);
    CU_ASSERT_TRUE(c.will && c.will_retain);
    CU_ASSERT_EQUAL(c.will_qos, 2);
    CU_ASSERT_EQUAL(c.client_id.len, 2);
    CU_ASSERT_EQUAL(memcmp(c.will_topic.p, "w/t", 3), 0);
    CU_ASSERT_EQUAL(memcmp(c.will_payload.p, "hi", 2), 0);
    CU_ASSERT_TRUE(c.has_username && c.has_password);
    CU_ASSERT_EQUAL(memcmp(c.username.p, "user", 4), 0);
    CU_ASSERT_EQUAL(c.password.len, 3);
    CU_ASSERT_EQUAL(c.props.len, 0);
}

static void test_publish_fields_and_size(void)
{
    static const uint8_t in[] = { 0x3b, 15, 0, 3, 'a', '/', 'b', 0x12, 0x34, 3, 0x23, 0, 9,
                                  'd', 'a', 't', 'a' };
    struct mqtt_frame f = frame_of(in, sizeof(in));
    struct mqtt_publish m;
    struct mqtt_prop pr;
    struct buf b;
    uint8_t v;

    CU_ASSERT_EQUAL(mqtt_decode_publish(&f, 5, &m), 0);
    CU_ASSERT_EQUAL(m.qos, 1);
    CU_ASSERT_TRUE(m.dup && m.retain);
    CU_ASSERT_EQUAL(m.packet_id, 0x1234);
    CU_ASSERT_EQUAL(m.topic.len, 3);
    CU_ASSERT_EQUAL(m.payload.len, 4);
    CU_ASSERT_EQUAL(memcmp(m.payload.p, "data", 4), 0);
    CU_ASSERT_TRUE(mqtt_props_find(m.props, PROP_TOPIC_ALIAS, &pr));
    CU_ASSERT_EQUAL(pr.num, 9);
    /* In 3.1.1 the same bytes are topic, id and a payload that starts with 3. */
    CU_ASSERT_EQUAL(mqtt_decode_publish(&f, 4, &m), 0);
    CU_ASSERT_EQUAL(m.payload.len, 8);
    for (v = MQTT_V31; v <= MQTT_V5; v++) {
        buf_init(&b);
        CU_ASSERT_TRUE(buf_put_u8(&b, 0xee)); /* encoders append */
        CU_ASSERT_TRUE(mqtt_encode_publish(&b, v, &m));
        CU_ASSERT_EQUAL(b.len - 1, mqtt_publish_size(v, &m));
        CU_ASSERT_EQUAL(b.data[0], 0xee);
        buf_free(&b);
    }
    m.topic.len = 65536;
    buf_init(&b);
    CU_ASSERT_FALSE(mqtt_encode_publish(&b, 4, &m));
    CU_ASSERT_EQUAL(b.len, 0);
    buf_free(&b);
}

static void test_wire_forms(void)
{
    struct buf b;
    struct mqtt_sub_entry e = { BIN("a"), 1 };
    struct buf rs;
    struct mqtt_bin rsb;

    buf_init(&rs);
    CU_ASSERT_TRUE(mqtt_props_add_bin(&rs, PROP_REASON_STRING, "x", 1));
    rsb = as_bin(&rs);
#define EXPECT(call, ...)                                                         \
    do {                                                                          \
        static const uint8_t want_[] = { __VA_ARGS__ };                           \
        buf_init(&b);                                                             \
        CU_ASSERT_TRUE(call);                                                     \
        CU_ASSERT_EQUAL(b.len, sizeof(want_));                                    \
        CU_ASSERT_TRUE(b.len == sizeof(want_) && memcmp(b.data, want_, b.len) == 0); \
        buf_free(&b);                                                             \
    } while (0)
    EXPECT(mqtt_encode_ack(&b, MQTT_PUBACK, 4, 5, 0x80, &rsb), 0x40, 2, 0, 5);
    EXPECT(mqtt_encode_ack(&b, MQTT_PUBREL, 5, 5, 0, NULL), 0x62, 2, 0, 5);
    EXPECT(mqtt_encode_ack(&b, MQTT_PUBREC, 5, 5, 0x10, NULL), 0x50, 3, 0, 5, 0x10);
    EXPECT(mqtt_encode_ack(&b, MQTT_PUBCOMP, 5, 5, 0, &rsb), 0x70, 8, 0, 5, 0, 4, 0x1f, 0, 1,
           'x');
    EXPECT(mqtt_encode_connack(&b, 4, true, 0, NULL), 0x20, 2, 1, 0);
    EXPECT(mqtt_encode_connack(&b, 5, false, 0x87, NULL), 0x20, 3, 0, 0x87, 0);
    EXPECT(mqtt_encode_subscribe(&b, 4, 1, NULL, &e, 1), 0x82, 6, 0, 1, 0, 1, 'a', 1);
    EXPECT(mqtt_encode_unsubscribe(&b, 5, 1, NULL, &e, 1), 0xa2, 6, 0, 1, 0, 0, 1, 'a');
    EXPECT(mqtt_encode_suback(&b, 3, 1, NULL, (const uint8_t *)"\x01", 1), 0x90, 3, 0, 1, 1);
    EXPECT(mqtt_encode_unsuback(&b, 4, 1, NULL, (const uint8_t *)"\x00", 1), 0xb0, 2, 0, 1);
    EXPECT(mqtt_encode_unsuback(&b, 5, 1, NULL, (const uint8_t *)"\x00", 1), 0xb0, 4, 0, 1, 0, 0);
    EXPECT(mqtt_encode_empty(&b, MQTT_PINGRESP), 0xd0, 0);
    EXPECT(mqtt_encode_disconnect(&b, 4, 0x8e, NULL), 0xe0, 0);
    EXPECT(mqtt_encode_disconnect(&b, 5, 0, NULL), 0xe0, 0);
    EXPECT(mqtt_encode_disconnect(&b, 5, 0x8e, NULL), 0xe0, 1, 0x8e);
    EXPECT(mqtt_encode_auth(&b, 0, NULL), 0xf0, 0);
    EXPECT(mqtt_encode_auth(&b, 0x18, NULL), 0xf0, 2, 0x18, 0);
#undef EXPECT
    buf_free(&rs);
}

static void test_sub_entries(void)
{
    static const uint8_t in[] = { 0x82, 12, 0, 7, 0, 1, 'a', 1, 0, 3, 'b', '/', '#', 0x2e };
    struct mqtt_frame f = frame_of(in, sizeof(in));
    struct mqtt_subscribe s;
    struct mqtt_sub_entry e;
    size_t pos = 0;

    CU_ASSERT_EQUAL(mqtt_decode_subscribe(&f, 4, &s), RC_MALFORMED_PACKET); /* 3.1.1: bits */
    CU_ASSERT_EQUAL(mqtt_decode_subscribe(&f, 5, &s), RC_MALFORMED_PACKET); /* v5: no props */
    {
        static const uint8_t v5[] = { 0x82, 13, 0, 7, 0, 0, 1, 'a', 1, 0, 3, 'b', '/', '#', 0x2e };
        struct mqtt_frame g = frame_of(v5, sizeof(v5));

        CU_ASSERT_EQUAL(mqtt_decode_subscribe(&g, 5, &s), 0);
        CU_ASSERT_EQUAL(s.packet_id, 7);
        CU_ASSERT_EQUAL(s.count, 2);
        CU_ASSERT_TRUE(mqtt_sub_next(&s, true, &pos, &e));
        CU_ASSERT_EQUAL(e.filter.len, 1);
        CU_ASSERT_EQUAL(e.options, 1);
        CU_ASSERT_TRUE(mqtt_sub_next(&s, true, &pos, &e));
        CU_ASSERT_EQUAL(e.filter.len, 3);
        CU_ASSERT_EQUAL(memcmp(e.filter.p, "b/#", 3), 0);
        CU_ASSERT_EQUAL(e.options, 0x2e);
        CU_ASSERT_FALSE(mqtt_sub_next(&s, true, &pos, &e));
    }
}

/* Decoders are given the frame's type; a frame of another type is refused, not misread. */
static void test_wrong_type(void)
{
    static const uint8_t in[] = { 0x40, 2, 0, 1 };
    struct mqtt_frame f = frame_of(in, sizeof(in));
    struct mqtt_connect c;
    struct mqtt_connack ca;
    struct mqtt_publish p;
    struct mqtt_subscribe s;
    struct mqtt_suback sa;
    struct mqtt_reason r;
    struct mqtt_ack a;

    CU_ASSERT_NOT_EQUAL(mqtt_decode_connect(&f, &c), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_connack(&f, 4, &ca), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_publish(&f, 4, &p), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_subscribe(&f, 4, &s), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_unsubscribe(&f, 4, &s), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_suback(&f, 4, &sa), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_unsuback(&f, 4, &sa), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_disconnect(&f, 4, &r), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_auth(&f, 5, &r), 0);
    CU_ASSERT_NOT_EQUAL(mqtt_decode_empty(&f), 0);
    CU_ASSERT_EQUAL(mqtt_decode_ack(&f, 4, &a), 0);
    CU_ASSERT_FALSE(mqtt_encode_ack(&(struct buf){ 0 }, MQTT_CONNECT, 4, 1, 0, NULL));
}

/* Test vectors on disk (test/vectors/mqtt/): captures that must decode. */
static void test_vectors(void)
{
    static const struct {
        const char *file;
        uint8_t version;
    } vecs[] = {
        { "mqtt/connect-v311.bin", 4 },
        { "mqtt/connect-v5-will.bin", 5 },
        { "mqtt/publish-v5-props.bin", 5 },
    };
    size_t i;

    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        size_t len;
        uint8_t *p = unit_read_vector(vecs[i].file, &len);
        struct buf out;

        buf_init(&out);
        CU_ASSERT_EQUAL(decode_exact(p, len, vecs[i].version, &out), 0);
        CU_ASSERT_TRUE(out.len == len && memcmp(out.data, p, len) == 0);
        buf_free(&out);
        free(p);
    }
}

void unit_register(void)
{
    static const struct unit_test sample_tests[] = {
        { "round trip, all types and versions", test_samples_round_trip },
        { "every prefix needs more", test_samples_frame_prefixes },
        { "shortened bodies", test_samples_short_bodies },
        { "byte flips", test_samples_byte_flips },
        { NULL, NULL },
    };
    static const struct unit_test tests[] = {
        { "framer table", test_frame_table },
        { "malformed table", test_bad_table },
        { "connect fields", test_connect_fields },
        { "publish fields and size", test_publish_fields_and_size },
        { "exact wire forms", test_wire_forms },
        { "subscribe entries", test_sub_entries },
        { "wrong frame type", test_wrong_type },
        { "capture vectors", test_vectors },
        { NULL, NULL },
    };
    CU_pSuite s = CU_add_suite("packet samples", samples_init, samples_clean);
    const struct unit_test *t;

    if (s == NULL)
        abort();
    for (t = sample_tests; t->name != NULL; t++)
        if (CU_add_test(s, t->name, t->fn) == NULL)
            abort();
    unit_suite("packet", tests);
}
