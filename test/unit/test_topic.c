/* test_topic.c - unit tests for lib/topic.c: the MQTT UTF-8 table, topic name and filter rules,
 * a matching table with $SYS and wildcard edge cases, and $share splitting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"
#include "unit.h"

struct utf8_row {
    const char *name;
    const char *s;
    size_t len; /* 0: strlen */
    bool ok;
};

static const struct utf8_row utf8_rows[] = {
    { "empty", "", 0, true },
    { "ascii", "sensor/temp 1", 0, true },
    { "2-byte e-acute", "caf\xc3\xa9", 0, true },
    { "3-byte euro", "\xe2\x82\xac", 0, true },
    { "4-byte emoji", "\xf0\x9f\x98\x80", 0, true },
    { "U+00A0 first after C1", "\xc2\xa0", 0, true },
    { "U+D7FF below surrogates", "\xed\x9f\xbf", 0, true },
    { "U+E000 above surrogates", "\xee\x80\x80", 0, true },
    { "U+FFFF", "\xef\xbf\xbf", 0, true },
    { "U+10FFFF max", "\xf4\x8f\xbf\xbf", 0, true },
    { "U+0800 min 3-byte", "\xe0\xa0\x80", 0, true },
    { "U+10000 min 4-byte", "\xf0\x90\x80\x80", 0, true },
    { "U+0000", "a\0b", 3, false },
    { "U+0001", "\x01", 0, false },
    { "U+001F", "a\x1f", 0, false },
    { "U+007F DEL", "\x7f", 0, false },
    { "U+0080 C1", "\xc2\x80", 0, false },
    { "U+009F C1", "\xc2\x9f", 0, false },
    { "overlong NUL C0 80", "\xc0\x80", 0, false },
    { "overlong C1 BF", "\xc1\xbf", 0, false },
    { "overlong 3-byte slash", "\xe0\x80\xaf", 0, false },
    { "overlong 3-byte E0 9F", "\xe0\x9f\xbf", 0, false },
    { "overlong 4-byte", "\xf0\x8f\xbf\xbf", 0, false },
    { "surrogate D800", "\xed\xa0\x80", 0, false },
    { "surrogate DFFF", "\xed\xbf\xbf", 0, false },
    { "above U+10FFFF", "\xf4\x90\x80\x80", 0, false },
    { "F5 lead", "\xf5\x80\x80\x80", 0, false },
    { "FF byte", "\xff", 0, false },
    { "lone continuation", "\x80", 0, false },
    { "truncated 2-byte", "\xc3", 0, false },
    { "truncated 3-byte", "\xe2\x82", 0, false },
    { "truncated 4-byte", "\xf0\x9f\x98", 0, false },
    { "bad continuation", "\xc3\x28", 0, false },
    { "bad 3rd byte", "\xe2\x82\x28", 0, false },
    { "bad 4th byte", "\xf0\x9f\x98\x28", 0, false },
    { "5-byte form", "\xf8\x88\x80\x80\x80", 0, false },
};

static void test_utf8_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]); i++) {
        const struct utf8_row *r = &utf8_rows[i];
        size_t len = r->len ? r->len : strlen(r->s);
        uint8_t *p = unit_copy(r->s, len); /* exact size: ASan sees over-reads */

        CU_ASSERT_EQUAL(utf8_valid(p, len), r->ok);
        if (utf8_valid(p, len) != r->ok)
            fprintf(stderr, "utf8 row '%s' wrong\n", r->name);
        free(p);
    }
}

static bool name_ok(const char *s)
{
    return topic_name_valid(s, strlen(s));
}

static bool filter_ok(const char *s)
{
    return topic_filter_valid(s, strlen(s));
}

static void test_name_and_filter(void)
{
    CU_ASSERT_TRUE(name_ok("a"));
    CU_ASSERT_TRUE(name_ok("/"));
    CU_ASSERT_TRUE(name_ok("$SYS/broker"));
    CU_ASSERT_TRUE(name_ok("a//b"));
    CU_ASSERT_FALSE(name_ok(""));
    CU_ASSERT_FALSE(name_ok("a/+"));
    CU_ASSERT_FALSE(name_ok("#"));
    CU_ASSERT_FALSE(name_ok("a/b#"));

    CU_ASSERT_TRUE(filter_ok("#"));
    CU_ASSERT_TRUE(filter_ok("+"));
    CU_ASSERT_TRUE(filter_ok("+/+"));
    CU_ASSERT_TRUE(filter_ok("a/+/b"));
    CU_ASSERT_TRUE(filter_ok("a/#"));
    CU_ASSERT_TRUE(filter_ok("/#"));
    CU_ASSERT_TRUE(filter_ok("+/#"));
    CU_ASSERT_TRUE(filter_ok("a//b"));
    CU_ASSERT_TRUE(filter_ok("/"));
    CU_ASSERT_FALSE(filter_ok(""));
    CU_ASSERT_FALSE(filter_ok("a#"));
    CU_ASSERT_FALSE(filter_ok("a/#/b"));
    CU_ASSERT_FALSE(filter_ok("#/"));
    CU_ASSERT_FALSE(filter_ok("a+"));
    CU_ASSERT_FALSE(filter_ok("+a"));
    CU_ASSERT_FALSE(filter_ok("a/b+/c"));
    CU_ASSERT_FALSE(filter_ok("##"));
    CU_ASSERT_FALSE(filter_ok("++"));
    {
        char *big = malloc(65536);

        memset(big, 'a', 65536);
        CU_ASSERT_TRUE(topic_name_valid(big, 65535));
        CU_ASSERT_FALSE(topic_name_valid(big, 65536));
        CU_ASSERT_TRUE(topic_filter_valid(big, 65535));
        CU_ASSERT_FALSE(topic_filter_valid(big, 65536));
        free(big);
    }
}

struct match_row {
    const char *filter;
    const char *topic;
    bool match;
};

static const struct match_row match_rows[] = {
    { "a", "a", true },
    { "a", "b", false },
    { "a", "ab", false },
    { "ab", "a", false },
    { "a/b", "a/b", true },
    { "a/b", "a/c", false },
    { "a/b", "a", false },
    { "a", "a/b", false },
    { "#", "a", true },
    { "#", "a/b/c", true },
    { "#", "/", true },
    { "#", "/a", true },
    { "a/#", "a", true }, /* MQTT-4.7.1-2: the parent level matches too */
    { "a/#", "a/", true },
    { "a/#", "a/b", true },
    { "a/#", "a/b/c", true },
    { "a/#", "ab", false },
    { "a/#", "b/a", false },
    { "a/b/#", "a", false },
    { "+", "a", true },
    { "+", "a/b", false },
    { "+", "/", false },
    { "+", "", true },
    { "+/+", "/", true },
    { "+/+", "a/b", true },
    { "+/+", "a", false },
    { "/+", "/a", true },
    { "/+", "a/b", false },
    { "+/b", "a/b", true },
    { "+/b", "a/c", false },
    { "a/+", "a/", true }, /* an empty level is a level */
    { "a/+", "a", false },
    { "a/+/c", "a/b/c", true },
    { "a/+/c", "a//c", true },
    { "a/+/c", "a/b/d", false },
    { "a/+/#", "a/b", true },
    { "a/+/#", "a/b/c/d", true },
    { "a/+/#", "a", false },
    { "+/#", "a", true },
    { "+/+/+", "a/b", false },
    { "a//b", "a//b", true },
    { "a//b", "a/b", false },
    { "/", "/", true },
    { "//", "/", false },
    /* $-topics are not matched by a wildcard in the first level (MQTT-4.7.2-1) */
    { "#", "$SYS/broker/uptime", false },
    { "+/broker/uptime", "$SYS/broker/uptime", false },
    { "+", "$SYS", false },
    { "+/#", "$SYS/x", false },
    { "$SYS/#", "$SYS/broker/uptime", true },
    { "$SYS/#", "$SYS", true },
    { "$SYS/+/uptime", "$SYS/broker/uptime", true },
    { "$SYS/broker/+", "$SYS/broker/uptime", true },
    { "$SYS", "$SYS", true },
    { "$SYS/#", "$SYSX/a", false },
    { "a/$SYS", "a/$SYS", true },
    { "a/+", "a/$x", true }, /* only the first level is special */
    { "#", "a/$SYS", true },
    { "sport/tennis/player1/#", "sport/tennis/player1", true },
    { "sport/tennis/player1/#", "sport/tennis/player1/ranking", true },
    { "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true },
    { "sport/+", "sport", false },
    { "sport/+", "sport/", true },
    { "café/+", "café/x", true },
};

static void test_match_table(void)
{
    size_t i, n = sizeof(match_rows) / sizeof(match_rows[0]);

    CU_ASSERT_TRUE(n >= 40);
    for (i = 0; i < n; i++) {
        const struct match_row *r = &match_rows[i];
        size_t fl = strlen(r->filter), tl = strlen(r->topic);
        char *f = (char *)unit_copy(r->filter, fl), *t = (char *)unit_copy(r->topic, tl);
        bool got = topic_matches(f, fl, t, tl);

        CU_ASSERT_EQUAL(got, r->match);
        if (got != r->match)
            fprintf(stderr, "match row %zu: '%s' vs '%s' gave %d\n", i, r->filter, r->topic, got);
        free(f);
        free(t);
    }
}

struct share_row {
    const char *in;
    bool shared;
    const char *group; /* NULL: malformed (group_len 0) */
    const char *filter;
};

static const struct share_row share_rows[] = {
    { "$share/g/a/b", true, "g", "a/b" },
    { "$share/group/#", true, "group", "#" },
    { "$share/g/+/x", true, "g", "+/x" },
    { "$share/g//", true, "g", "/" },
    { "$share/g/", true, NULL, NULL },    /* empty filter */
    { "$share/g", true, NULL, NULL },     /* no filter at all */
    { "$share/", true, NULL, NULL },      /* nothing */
    { "$share//a", true, NULL, NULL },    /* empty group */
    { "$share/g+/a", true, NULL, NULL },  /* wildcard in group */
    { "$share/g#/a", true, NULL, NULL },
    { "$share/g/a#", true, NULL, NULL },  /* invalid filter */
    { "$share", false, NULL, NULL },
    { "$sharex/g/a", false, NULL, NULL },
    { "share/g/a", false, NULL, NULL },
    { "a/b", false, NULL, NULL },
    { "$SHARE/g/a", false, NULL, NULL },
};

static void test_share_split(void)
{
    size_t i;

    for (i = 0; i < sizeof(share_rows) / sizeof(share_rows[0]); i++) {
        const struct share_row *r = &share_rows[i];
        size_t len = strlen(r->in), gl = 99, fl = 99;
        char *in = (char *)unit_copy(r->in, len);
        const char *g = NULL, *f = NULL;
        bool shared = topic_share_split(in, len, &g, &gl, &f, &fl);

        CU_ASSERT_EQUAL(shared, r->shared);
        CU_ASSERT_EQUAL(topic_is_shared(in, len), r->shared);
        CU_ASSERT_EQUAL(topic_share_valid(in, len), r->group != NULL);
        if (shared && r->group) {
            CU_ASSERT_EQUAL(gl, strlen(r->group));
            CU_ASSERT_EQUAL(memcmp(g, r->group, gl), 0);
            CU_ASSERT_EQUAL(fl, strlen(r->filter));
            CU_ASSERT_EQUAL(memcmp(f, r->filter, fl), 0);
        } else if (shared) {
            CU_ASSERT_EQUAL(gl, 0);
        }
        if (shared != r->shared || (r->shared && (gl == 0) != (r->group == NULL)))
            fprintf(stderr, "share row '%s' wrong\n", r->in);
        free(in);
    }
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "utf8 table", test_utf8_table },
        { "topic name and filter rules", test_name_and_filter },
        { "match table", test_match_table },
        { "share split", test_share_split },
        { NULL, NULL },
    };

    unit_suite("topic", tests);
}
