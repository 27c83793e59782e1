/* test_msg.c - reference-counted messages: one allocation laid out as topic NUL payload props,
 * copies of the caller's bytes, owned strings freed with the last reference. */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "unit.h"

static void test_layout(void)
{
    const uint8_t payload[] = { 0, 1, 2, 0xff };
    const uint8_t props[] = { 0x01, 0x01 };
    char topic[] = "a/b";
    struct msg *m = msg_new(topic, 3, payload, sizeof(payload), props, sizeof(props), 2, true);

    CU_ASSERT_FATAL(m != NULL);
    topic[0] = 'x'; /* copied, not borrowed */
    CU_ASSERT_EQUAL(m->refs, 1);
    CU_ASSERT_EQUAL(m->qos, 2);
    CU_ASSERT_TRUE(m->retain);
    CU_ASSERT_EQUAL(m->topic_len, 3);
    CU_ASSERT_STRING_EQUAL(m->topic, "a/b");
    CU_ASSERT_PTR_EQUAL(m->topic, (char *)m->data);
    CU_ASSERT_PTR_EQUAL(m->payload, m->data + 4);
    CU_ASSERT_PTR_EQUAL(m->props, m->data + 4 + sizeof(payload));
    CU_ASSERT_EQUAL(m->payload_len, sizeof(payload));
    CU_ASSERT_EQUAL(memcmp(m->payload, payload, sizeof(payload)), 0);
    CU_ASSERT_EQUAL(m->props_len, sizeof(props));
    CU_ASSERT_EQUAL(memcmp(m->props, props, sizeof(props)), 0);
    CU_ASSERT_EQUAL(m->expiry, 0);
    CU_ASSERT_EQUAL(m->seq, 0);
    CU_ASSERT_PTR_NULL(m->source_id);
    CU_ASSERT_PTR_NULL(m->source_user);
    msg_unref(m);
}

static void test_empty(void)
{
    struct msg *m = msg_new("t", 1, NULL, 0, NULL, 0, 0, false);

    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->payload_len, 0);
    CU_ASSERT_EQUAL(m->props_len, 0);
    CU_ASSERT_STRING_EQUAL(m->topic, "t");
    CU_ASSERT_FALSE(m->retain);
    msg_unref(m);
    m = msg_new("", 0, "", 0, NULL, 0, 0, false);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_STRING_EQUAL(m->topic, "");
    msg_unref(m);
    msg_unref(NULL);
}

static void test_limits(void)
{
    size_t n = 65536;
    char *big = malloc(n);
    struct msg *m;

    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'a', n);
    CU_ASSERT_PTR_NULL(msg_new(big, n, NULL, 0, NULL, 0, 0, false)); /* over the wire limit */
    m = msg_new(big, n - 1, big, n, NULL, 0, 0, false);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->topic_len, 65535);
    CU_ASSERT_EQUAL(strlen(m->topic), 65535);
    CU_ASSERT_EQUAL(m->payload[n - 1], 'a');
    msg_unref(m);
    free(big);
}

/* The owned strings go with the last reference; ASan reports a leak or double free if not. */
static void test_refs(void)
{
    struct msg *m = msg_new("t", 1, "p", 1, NULL, 0, 1, false);

    CU_ASSERT_FATAL(m != NULL);
    m->source_id = strdup("client-1");
    m->source_user = strdup("user");
    CU_ASSERT_PTR_EQUAL(msg_ref(m), m);
    msg_ref(m);
    CU_ASSERT_EQUAL(m->refs, 3);
    msg_unref(m);
    msg_unref(m);
    CU_ASSERT_EQUAL(m->refs, 1);
    CU_ASSERT_STRING_EQUAL(m->source_id, "client-1");
    msg_unref(m);

    m = msg_new("t", 1, "p", 1, NULL, 0, 1, false);
    CU_ASSERT_FATAL(m != NULL);
    m->source_id = strdup(""); /* the broker itself; no user */
    msg_unref(m);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "one allocation: topic NUL payload props", test_layout },
        { "empty payload and properties", test_empty },
        { "length limits", test_limits },
        { "references and owned strings", test_refs },
        { NULL, NULL },
    };

    unit_suite("msg", tests);
}
