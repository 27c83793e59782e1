/* test_buf.c - unit tests for lib/buf.c: the growable buffer, the read cursor and the variable
 * byte integer (limits, minimal form, partial input), plus err_str. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mqtt_protocol.h"
#include "unit.h"

static void test_buf_grow_and_consume(void)
{
    struct buf b;
    size_t i;

    buf_init(&b);
    CU_ASSERT_PTR_NULL(b.data);
    for (i = 0; i < 1000; i++)
        CU_ASSERT_TRUE(buf_put_u8(&b, (uint8_t)i));
    CU_ASSERT_EQUAL(b.len, 1000);
    CU_ASSERT_TRUE(b.cap >= 1000);
    buf_consume(&b, 10);
    CU_ASSERT_EQUAL(b.len, 990);
    CU_ASSERT_EQUAL(b.data[0], 10);
    CU_ASSERT_EQUAL(b.data[989], (uint8_t)999);
    buf_shrink(&b, 0); /* not empty: keeps its memory */
    CU_ASSERT_PTR_NOT_NULL(b.data);
    buf_consume(&b, 5000);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_shrink(&b, 1 << 20); /* under the keep size: kept */
    CU_ASSERT_PTR_NOT_NULL(b.data);
    buf_shrink(&b, 16);
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.cap, 0);
    CU_ASSERT_TRUE(buf_put_u8(&b, 1));
    CU_ASSERT_FALSE(buf_reserve(&b, SIZE_MAX)); /* len + extra overflows: refused, not wrapped */
    CU_ASSERT_EQUAL(b.len, 1);
    buf_free(&b);
}

static void test_buf_put_forms(void)
{
    static const uint8_t want[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03,
                                    'a',  'b',  'c',  0x7f, 0x80, 0x01, 0xff, 0xff, 0xff,
                                    0x7f, 'x',  'y' };
    struct buf b;

    buf_init(&b);
    CU_ASSERT_TRUE(buf_put_u8(&b, 0xab));
    CU_ASSERT_TRUE(buf_put_u16(&b, 0x1234));
    CU_ASSERT_TRUE(buf_put_u32(&b, 0xdeadbeef));
    CU_ASSERT_TRUE(buf_put_str(&b, "abc", 3));
    CU_ASSERT_TRUE(buf_put_varint(&b, 127));
    CU_ASSERT_TRUE(buf_put_varint(&b, 128));
    CU_ASSERT_TRUE(buf_put_varint(&b, MQTT_MAX_REMAINING));
    CU_ASSERT_FALSE(buf_put_varint(&b, MQTT_MAX_REMAINING + 1));
    CU_ASSERT_TRUE(buf_append(&b, "xy", 2));
    CU_ASSERT_TRUE(buf_append(&b, NULL, 0));
    CU_ASSERT_EQUAL(b.len, sizeof(want));
    CU_ASSERT_EQUAL(memcmp(b.data, want, sizeof(want)), 0);
    {
        char *big = calloc(1, 65536);

        CU_ASSERT_FALSE(buf_put_str(&b, big, 65536));
        CU_ASSERT_TRUE(buf_put_str(&b, big, 65535));
        free(big);
    }
    buf_free(&b);
}

static void test_rd_getters(void)
{
    static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x02, 'h', 'i',
                                  0x00, 0x05, 'x' };
    uint8_t *p = unit_copy(in, sizeof(in));
    struct rd r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    struct mqtt_bin bin;

    rd_init(&r, p, sizeof(in));
    CU_ASSERT_TRUE(rd_u8(&r, &v8));
    CU_ASSERT_EQUAL(v8, 1);
    CU_ASSERT_TRUE(rd_u16(&r, &v16));
    CU_ASSERT_EQUAL(v16, 0x0203);
    CU_ASSERT_TRUE(rd_u32(&r, &v32));
    CU_ASSERT_EQUAL(v32, 0x04050607);
    CU_ASSERT_TRUE(rd_bin(&r, &bin));
    CU_ASSERT_EQUAL(bin.len, 2);
    CU_ASSERT_EQUAL(memcmp(bin.p, "hi", 2), 0);
    /* Declared length 5, one byte present: fails and leaves the cursor alone. */
    CU_ASSERT_FALSE(rd_bin(&r, &bin));
    CU_ASSERT_EQUAL(rd_left(&r), 3);
    CU_ASSERT_FALSE(rd_u32(&r, &v32));
    CU_ASSERT_FALSE(rd_bytes(&r, 4, &bin));
    CU_ASSERT_TRUE(rd_bytes(&r, 3, &bin));
    CU_ASSERT_EQUAL(rd_left(&r), 0);
    CU_ASSERT_FALSE(rd_u8(&r, &v8));
    CU_ASSERT_FALSE(rd_u16(&r, &v16));
    free(p);
}

struct varint_row {
    const char *name;
    uint8_t bytes[6];
    size_t len;
    int dec;
    uint32_t value;
    size_t used;
};

static const struct varint_row varint_rows[] = {
    { "zero", { 0x00 }, 1, DEC_DONE, 0, 1 },
    { "127", { 0x7f }, 1, DEC_DONE, 127, 1 },
    { "128", { 0x80, 0x01 }, 2, DEC_DONE, 128, 2 },
    { "16383", { 0xff, 0x7f }, 2, DEC_DONE, 16383, 2 },
    { "16384", { 0x80, 0x80, 0x01 }, 3, DEC_DONE, 16384, 3 },
    { "2097151", { 0xff, 0xff, 0x7f }, 3, DEC_DONE, 2097151, 3 },
    { "2097152", { 0x80, 0x80, 0x80, 0x01 }, 4, DEC_DONE, 2097152, 4 },
    { "max", { 0xff, 0xff, 0xff, 0x7f }, 4, DEC_DONE, MQTT_MAX_REMAINING, 4 },
    { "trailing ignored", { 0x05, 0xff }, 2, DEC_DONE, 5, 1 },
    { "empty", { 0 }, 0, DEC_NEED_MORE, 0, 0 },
    { "cut 1", { 0x80 }, 1, DEC_NEED_MORE, 0, 0 },
    { "cut 3", { 0xff, 0xff, 0xff }, 3, DEC_NEED_MORE, 0, 0 },
    { "fifth byte", { 0xff, 0xff, 0xff, 0xff, 0x01 }, 5, DEC_ERROR, 0, 0 },
    { "fifth cut", { 0x80, 0x80, 0x80, 0x80 }, 4, DEC_ERROR, 0, 0 },
    { "non-minimal 2", { 0x80, 0x00 }, 2, DEC_ERROR, 0, 0 },
    { "non-minimal 3", { 0xff, 0x80, 0x00 }, 3, DEC_ERROR, 0, 0 },
    { "non-minimal 4", { 0x81, 0x80, 0x80, 0x00 }, 4, DEC_ERROR, 0, 0 },
};

static void test_varint_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(varint_rows) / sizeof(varint_rows[0]); i++) {
        const struct varint_row *v = &varint_rows[i];
        uint8_t *p = unit_copy(v->bytes, v->len);
        uint32_t value = 0xdead;
        size_t used = 0;
        int got = varint_decode(p, v->len, &value, &used);
        struct rd r;

        CU_ASSERT_EQUAL(got, v->dec);
        if (got != v->dec)
            fprintf(stderr, "varint row %s: got %d\n", v->name, got);
        rd_init(&r, p, v->len);
        CU_ASSERT_EQUAL(rd_varint(&r, &value), v->dec == DEC_DONE);
        if (v->dec == DEC_DONE) {
            CU_ASSERT_EQUAL(value, v->value);
            CU_ASSERT_EQUAL(used, v->used);
            CU_ASSERT_EQUAL(r.pos, v->used);
        } else {
            CU_ASSERT_EQUAL(r.pos, 0);
        }
        free(p);
    }
}

static void test_varint_roundtrip(void)
{
    static const uint32_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152,
                                     MQTT_MAX_REMAINING };
    size_t i;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct buf b;
        uint32_t v;
        size_t used;

        buf_init(&b);
        CU_ASSERT_TRUE(buf_put_varint(&b, vals[i]));
        CU_ASSERT_EQUAL(b.len, varint_size(vals[i]));
        CU_ASSERT_EQUAL(varint_decode(b.data, b.len, &v, &used), DEC_DONE);
        CU_ASSERT_EQUAL(v, vals[i]);
        CU_ASSERT_EQUAL(used, b.len);
        buf_free(&b);
    }
}

static void test_err_str(void)
{
    CU_ASSERT_STRING_EQUAL(err_str(ERR_OK), "success");
    CU_ASSERT_STRING_EQUAL(err_str(ERR_MALFORMED), "malformed packet");
    CU_ASSERT_STRING_EQUAL(err_str(ERR_NOT_SUPPORTED), "not supported by this build");
    CU_ASSERT_STRING_EQUAL(err_str(-1), "unknown error");
    CU_ASSERT_STRING_EQUAL(err_str(ERR__COUNT), "unknown error");
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "buf grows and consumes", test_buf_grow_and_consume },
        { "buf put forms", test_buf_put_forms },
        { "rd getters stop at the end", test_rd_getters },
        { "varint table", test_varint_table },
        { "varint round trip", test_varint_roundtrip },
        { "err_str", test_err_str },
        { NULL, NULL },
    };

    unit_suite("buf", tests);
}
