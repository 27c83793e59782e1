/* test_store.c - the persistence store's byte format: every record type round-trips; a record
 * cut anywhere is NEED_MORE (torn), any flipped bit is ERROR (checksum), never a crash or an
 * over-read (each input is an exact-size copy for ASan); Mosquitto's mosquitto.db vector decodes
 * as the file the real broker wrote. */
#include <stdlib.h>
#include <string.h>

#include "mosqdb.h"
#include "store.h"
#include "unit.h"

static struct store_msg sample_msg(void)
{
    static const uint8_t props[] = { 0x03, 0x00, 0x01, 'x' }; /* content type "x" */
    struct store_msg m = {
        .id = 0x0102030405060708ULL, .expiry = 1796040000, .qos = 2, .retain = true,
        .has_user = true, .topic = { "a/b", 3 }, .source_id = { "cid", 3 },
        .source_user = { "user", 4 }, .payload = (const uint8_t *)"payload", .payload_len = 7,
        .props = props, .props_len = sizeof(props),
    };
    return m;
}

/* One of each record type, in a buffer. */
static void build_all(struct buf *b)
{
    struct store_msg m = sample_msg();
    struct store_str id = { "client", 6 }, user = { "u", 1 };
    struct store_target t1 = { 7, 1, false, 0 }, t2 = { 9, 2, true, 300 };
    size_t off;

    CU_ASSERT_FATAL((off = store_publish_begin(b, &m, true, true)) != SIZE_MAX);
    CU_ASSERT_TRUE(store_publish_target(b, &t1));
    CU_ASSERT_TRUE(store_publish_target(b, &t2));
    CU_ASSERT_TRUE(store_publish_end(b, off, 9, 4242));
    CU_ASSERT_TRUE(store_put_retain(b, &m));
    CU_ASSERT_TRUE(store_put_session(b, 9, &id, &user, true, 3600, 1796040001, 77,
                                     STORE_SESSION_V3));
    CU_ASSERT_TRUE(store_put_sid_pid(b, STORE_SESSION_DEL, 8, 0));
    CU_ASSERT_TRUE(store_put_sub(b, 9, "a/+", 3, 0x0d, 268435455));
    CU_ASSERT_TRUE(store_put_unsub(b, 9, "a/+", 3));
    CU_ASSERT_TRUE(store_put_flight(b, 9, m.id, 65535, 3));
    CU_ASSERT_TRUE(store_put_sid_pid(b, STORE_PUBREC, 9, 65535));
    CU_ASSERT_TRUE(store_put_sid_pid(b, STORE_DONE, 9, 65535));
    CU_ASSERT_TRUE(store_put_drop(b, 9, m.id));
    CU_ASSERT_TRUE(store_put_sid_pid(b, STORE_INQ2, 9, 5));
    CU_ASSERT_TRUE(store_put_sid_pid(b, STORE_INQ2_DEL, 9, 5));
    CU_ASSERT_TRUE(store_put_will(b, &id, &user, true, 1796040002, 30, &m));
    CU_ASSERT_TRUE(store_put_will_del(b, "client", 6));
    CU_ASSERT_FATAL((off = store_publish_begin(b, &m, false, false)) != SIZE_MAX);
    CU_ASSERT_TRUE(store_publish_end(b, off, 0, 0));
}

static void check_msg(const struct store_msg *m)
{
    CU_ASSERT_EQUAL(m->id, 0x0102030405060708ULL);
    CU_ASSERT_EQUAL(m->expiry, 1796040000);
    CU_ASSERT_EQUAL(m->qos, 2);
    CU_ASSERT_TRUE(m->retain);
    CU_ASSERT_TRUE(m->has_user);
    CU_ASSERT_EQUAL(m->topic.len, 3);
    CU_ASSERT_EQUAL(memcmp(m->topic.p, "a/b", 3), 0);
    CU_ASSERT_EQUAL(memcmp(m->source_user.p, "user", 4), 0);
    CU_ASSERT_EQUAL(m->payload_len, 7);
    CU_ASSERT_EQUAL(memcmp(m->payload, "payload", 7), 0);
    CU_ASSERT_EQUAL(m->props_len, 4);
}

static void test_round_trip(void)
{
    struct buf b;
    struct store_rec r;
    struct store_target t;
    size_t pos = 0, used, n = 0;
    const char *why;
    static const uint8_t want[] = { STORE_PUBLISH, STORE_RETAIN, STORE_SESSION,
        STORE_SESSION_DEL, STORE_SUB, STORE_UNSUB, STORE_FLIGHT, STORE_PUBREC, STORE_DONE,
        STORE_DROP, STORE_INQ2, STORE_INQ2_DEL, STORE_WILL, STORE_WILL_DEL, STORE_PUBLISH };

    buf_init(&b);
    build_all(&b);
    while (pos < b.len) {
        CU_ASSERT_EQUAL_FATAL(store_decode(b.data + pos, b.len - pos, &r, &used, &why), DEC_DONE);
        CU_ASSERT_EQUAL_FATAL(r.type, want[n]);
        switch (n) {
        case 0:
            check_msg(&r.msg);
            CU_ASSERT_TRUE(r.has_body && r.set_retain);
            CU_ASSERT_EQUAL(r.in_sid, 9);
            CU_ASSERT_EQUAL(r.in_pid, 4242);
            CU_ASSERT_EQUAL_FATAL(r.ntargets, 2);
            store_target_at(&r, 1, &t);
            CU_ASSERT(t.sid == 9 && t.qos == 2 && t.retain && t.sub_id == 300);
            break;
        case 1:
            check_msg(&r.msg);
            break;
        case 2:
            CU_ASSERT(r.sid == 9 && r.expiry_interval == 3600 && r.expire_at == 1796040001 &&
                      r.last_pid == 77 && r.flags == STORE_SESSION_V3 && r.has_user);
            CU_ASSERT_EQUAL(memcmp(r.id.p, "client", 6), 0);
            break;
        case 4:
            CU_ASSERT(r.options == 0x0d && r.identifier == 268435455 && r.filter.len == 3);
            break;
        case 6:
            CU_ASSERT(r.msg_id == 0x0102030405060708ULL && r.pid == 65535 && r.state == 3);
            break;
        case 12:
            check_msg(&r.msg);
            CU_ASSERT(r.expire_at == 1796040002 && r.identifier == 30);
            break;
        case 14:
            CU_ASSERT(!r.has_body && r.msg.id == 0x0102030405060708ULL && r.ntargets == 0);
            break;
        }
        pos += used;
        n++;
    }
    CU_ASSERT_EQUAL(n, sizeof(want));
    buf_free(&b);
}

static void test_cut_anywhere_is_need_more(void)
{
    struct buf b;
    struct store_rec r;
    size_t pos = 0, used;
    const char *why;

    buf_init(&b);
    build_all(&b);
    while (pos < b.len) {
        size_t full;
        CU_ASSERT_EQUAL_FATAL(store_decode(b.data + pos, b.len - pos, &r, &used, &why), DEC_DONE);
        full = used;
        for (size_t cut = 0; cut < full; cut++) {
            uint8_t *p = unit_copy(b.data + pos, cut);
            CU_ASSERT_EQUAL(store_decode(p, cut, &r, &used, &why), DEC_NEED_MORE);
            free(p);
        }
        pos += full;
    }
    buf_free(&b);
}

static void test_flipped_bit_is_error(void)
{
    struct buf b;
    struct store_rec r;
    size_t used, len;
    const char *why;

    buf_init(&b);
    build_all(&b);
    CU_ASSERT_EQUAL_FATAL(store_decode(b.data, b.len, &r, &used, &why), DEC_DONE);
    len = used; /* the first record: flip each of its bits in turn */
    for (size_t i = 0; i < len * 8; i++) {
        uint8_t *p = unit_copy(b.data, len);
        enum dec d;
        p[i / 8] ^= (uint8_t)(1u << (i % 8));
        d = store_decode(p, len, &r, &used, &why);
        /* A flip in the length field may make it look longer (NEED_MORE: torn) or out of
         * range; anything else must fail the checksum. */
        if (i < 32) {
            CU_ASSERT(d == DEC_NEED_MORE || d == DEC_ERROR);
        } else {
            CU_ASSERT_EQUAL(d, DEC_ERROR);
        }
        free(p);
    }
    buf_free(&b);
}

static void test_header(void)
{
    struct buf b;
    const char *why = NULL;

    buf_init(&b);
    store_put_header(&b);
    CU_ASSERT_EQUAL_FATAL(b.len, STORE_HEADER_LEN);
    CU_ASSERT_EQUAL(store_header_check(b.data, b.len, &why), DEC_DONE);
    CU_ASSERT_EQUAL(store_header_check(b.data, 5, &why), DEC_NEED_MORE);
    b.data[9] ^= 1; /* version field: checksum first */
    CU_ASSERT_EQUAL(store_header_check(b.data, b.len, &why), DEC_ERROR);
    b.data[0] = 'X';
    CU_ASSERT_EQUAL(store_header_check(b.data, b.len, &why), DEC_ERROR);
    CU_ASSERT_STRING_EQUAL(why, "not a store file (bad magic)");
    buf_free(&b);
}

static void test_mosquitto_2_1_2_vector(void)
{
    size_t len, pos = MOSQDB_HEADER_LEN, used;
    uint8_t *p = unit_read_vector("persist/mosquitto-2.1.2.db", &len);
    struct mosqdb_rec r;
    const char *why;
    size_t n[7] = { 0 };
    bool saw_sub_id = false;

    CU_ASSERT_EQUAL_FATAL(mosqdb_header(p, len, &why), 0);
    while (mosqdb_next(p + pos, len - pos, &r, &used, &why) == 1) {
        n[r.type < 7 ? r.type : 0]++;
        if (r.type == MOSQDB_SUB && r.identifier == 7) {
            saw_sub_id = true;
            CU_ASSERT(r.qos == 2 && r.options == 0x0c && r.topic.len == 3);
        }
        if (r.type == MOSQDB_CLIENT_MSG && r.direction == 0) {
            CU_ASSERT(r.mid == 33 && r.state == MOSQDB_MS_WAIT_PUBREL);
        }
        pos += used;
    }
    CU_ASSERT_EQUAL(pos, len);
    CU_ASSERT(n[MOSQDB_CFG] == 1 && n[MOSQDB_MSG_STORE] == 6 && n[MOSQDB_CLIENT_MSG] == 6 &&
              n[MOSQDB_RETAIN] == 2 && n[MOSQDB_SUB] == 4 && n[MOSQDB_CLIENT] == 3);
    CU_ASSERT_TRUE(saw_sub_id);
    /* Cut anywhere: the reader reports damage, never reads past the end. */
    for (size_t cut = MOSQDB_HEADER_LEN; cut < len; cut += 3) {
        uint8_t *q = unit_copy(p, cut);
        pos = MOSQDB_HEADER_LEN;
        int rc;
        while ((rc = mosqdb_next(q + pos, cut - pos, &r, &used, &why)) == 1)
            pos += used;
        CU_ASSERT(rc == -1 || pos == cut);
        free(q);
    }
    free(p);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "round trip of every record type", test_round_trip },
        { "a record cut anywhere is torn", test_cut_anywhere_is_need_more },
        { "a flipped bit fails the checksum", test_flipped_bit_is_error },
        { "file header", test_header },
        { "mosquitto.db 2.1.2 vector", test_mosquitto_2_1_2_vector },
        { NULL, NULL },
    };
    unit_suite("store", tests);
}
