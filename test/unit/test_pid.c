/* test_pid.c - session_next_pid: outgoing packet ids go round 1..65535 and never repeat one
 * still in flight (MQTT 5 section 2.2.1), without scanning the in-flight list per message. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "msg.h"
#include "unit.h"

/* What main.c defines and the broker library expects of its program. */
struct broker broker;
int64_t now_ms(void)
{
    return 0;
}

static struct msg *shared_msg;

/* Puts a message with this id at the tail of s's in-flight list, as start_flight does. */
static struct outmsg *fly(struct session *s, uint16_t pid, bool restored)
{
    struct outmsg *o = calloc(1, sizeof(*o));

    CU_ASSERT_FATAL(o != NULL);
    o->m = msg_ref(shared_msg);
    o->qos = 1;
    o->pid = pid;
    o->pid_lapped = restored;
    outlist_push(&s->inflight, o);
    return o;
}

static void land(struct session *s, struct outmsg *o)
{
    struct outmsg *prev = NULL, *it;

    for (it = s->inflight.head; it != o; it = it->next)
        prev = it;
    outlist_unlink(&s->inflight, prev, o);
    msg_unref(o->m);
    free(o);
}

static void clear(struct session *s)
{
    while (s->inflight.head != NULL)
        land(s, s->inflight.head);
}

static void setup(void)
{
    if (shared_msg == NULL)
        shared_msg = msg_new("t", 1, (const uint8_t *)"x", 1, NULL, 0, 1, false);
    CU_ASSERT_FATAL(shared_msg != NULL);
}

static void test_sequence_and_wrap(void)
{
    struct session s;

    setup();
    memset(&s, 0, sizeof(s));
    CU_ASSERT_EQUAL(session_next_pid(&s), 1);
    CU_ASSERT_EQUAL(session_next_pid(&s), 2);
    s.last_pid = 65534;
    CU_ASSERT_EQUAL(session_next_pid(&s), 65535);
    CU_ASSERT_EQUAL(session_next_pid(&s), 1); /* 0 is not a packet id */
}

/* One slow message while 65535 others come and go: its id is skipped a lap later. */
static void test_slow_head_skipped(void)
{
    struct session s;
    uint16_t slow;

    setup();
    memset(&s, 0, sizeof(s));
    slow = session_next_pid(&s);
    fly(&s, slow, false);
    for (int i = 0; i < 65534; i++)
        CU_ASSERT_NOT_EQUAL_FATAL(session_next_pid(&s), slow);
    CU_ASSERT_EQUAL(session_next_pid(&s), slow + 1);
    clear(&s);
}

/* Three slow ones, 5, 10 and 20: the sequence comes round past 5 and 10 and stops at 15, then
 * 5 leaves. 10 now leads the list but the sequence meets 20 first: it must still skip it. */
static void test_lapped_successor_skipped(void)
{
    struct session s;
    struct outmsg *x = NULL;
    uint16_t p;

    setup();
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 20; i++) {
        p = session_next_pid(&s);
        if (p == 5 || p == 10 || p == 20) {
            struct outmsg *o = fly(&s, p, false);
            if (p == 5)
                x = o;
        }
    }
    do {
        p = session_next_pid(&s);
        CU_ASSERT_FATAL(p != 5 && p != 10 && p != 20);
    } while (p != 15);
    land(&s, x);
    CU_ASSERT_EQUAL(session_next_pid(&s), 16);
    CU_ASSERT_EQUAL(session_next_pid(&s), 17);
    CU_ASSERT_EQUAL(session_next_pid(&s), 18);
    CU_ASSERT_EQUAL(session_next_pid(&s), 19);
    CU_ASSERT_EQUAL(session_next_pid(&s), 21);
    clear(&s);
}

/* Ids from a restored store follow no order: every one of them is avoided. */
static void test_restored_ids_avoided(void)
{
    struct session s;

    setup();
    memset(&s, 0, sizeof(s));
    fly(&s, 7, true);
    fly(&s, 3, true);
    fly(&s, 4, true);
    s.last_pid = 2;
    CU_ASSERT_EQUAL(session_next_pid(&s), 5);
    fly(&s, 5, false);
    CU_ASSERT_EQUAL(session_next_pid(&s), 6);
    CU_ASSERT_EQUAL(session_next_pid(&s), 8);
    clear(&s);
    msg_unref(shared_msg);
    shared_msg = NULL;
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "ids go round 1..65535", test_sequence_and_wrap },
        { "a message a lap behind keeps its id", test_slow_head_skipped },
        { "a lap-behind successor keeps its id", test_lapped_successor_skipped },
        { "restored ids are avoided", test_restored_ids_avoided },
        { NULL, NULL },
    };

    unit_suite("pid", tests);
}
