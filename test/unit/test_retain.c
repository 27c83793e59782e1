/* test_retain.c - the retained-message store: set, replace, clear with pruning, references, and
 * filter lookups compared with a brute-force matcher over random topics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retain.h"
#include "retain_debug.h"
#include "unit.h"

static struct msg *mk(const char *topic, const char *payload)
{
    struct msg *m = msg_new(topic, strlen(topic), payload, strlen(payload), NULL, 0, 1, true);

    CU_ASSERT_FATAL(m != NULL);
    return m;
}

/* Stores topic=payload and drops our reference, so the store holds the only one. */
static void put(struct retain *r, const char *topic, const char *payload)
{
    struct msg *m = mk(topic, payload);

    CU_ASSERT_EQUAL(retain_set(r, m), 0);
    msg_unref(m);
}

struct found {
    const char *topics[64];
    size_t n;
};

static void collect(void *ctx, struct msg *m)
{
    struct found *f = ctx;

    CU_ASSERT_FATAL(f->n < 64);
    f->topics[f->n++] = m->topic;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Topics found for filter, sorted and joined with spaces: "a/b a/c". */
static const char *lookup(struct retain *r, const char *filter)
{
    static char out[1024];
    struct found f = { .n = 0 };

    retain_match(r, filter, strlen(filter), collect, &f);
    qsort(f.topics, f.n, sizeof(f.topics[0]), cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < f.n; i++) {
        if (i > 0)
            strcat(out, " ");
        strcat(out, f.topics[i]);
    }
    return out;
}

static void test_wildcards(void)
{
    static const char *topics[] = { "a", "a/b", "a/c", "a/b/c", "a/", "a//b", "b", "$SYS/x",
                                    "$SYS/y/z", "/x", "ab" };
    static const struct {
        const char *filter, *want;
    } cases[] = {
        { "a/b", "a/b" },
        { "a/b/c", "a/b/c" },
        { "a/x", "" },
        { "a/+", "a/ a/b a/c" },
        { "a/#", "a a/ a//b a/b a/b/c a/c" },
        { "a/b/#", "a/b a/b/c" },
        { "+", "a ab b" },
        { "+/+", "/x a/ a/b a/c" },
        { "+/b", "a/b" },
        { "+/+/+", "a//b a/b/c" },
        { "a/+/b", "a//b" },
        { "#", "/x a a/ a//b a/b a/b/c a/c ab b" },
        { "+/#", "/x a a/ a//b a/b a/b/c a/c ab b" },
        { "$SYS/#", "$SYS/x $SYS/y/z" },
        { "$SYS/+", "$SYS/x" },
        { "$SYS/+/z", "$SYS/y/z" },
        { "+/x", "/x" },          /* not $SYS/x */
        { "/+", "/x" },
        { "", "" },
        { "c/#", "" },
    };
    struct retain *r = retain_new();

    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        put(r, topics[i], "v");
    CU_ASSERT_EQUAL(retain_count(r), sizeof(topics) / sizeof(topics[0]));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = lookup(r, cases[i].filter);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "\nfilter \"%s\": got \"%s\" want \"%s\"\n", cases[i].filter, got,
                    cases[i].want);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
    }
    retain_free(r);
}

static void test_set_clear(void)
{
    struct retain *r = retain_new();
    struct msg *m1 = mk("a/b/c", "one"), *m2 = mk("a/b/c", "two"), *clear = mk("a/b/c", "");
    struct found f = { .n = 0 };

    CU_ASSERT_EQUAL(retain_set(r, m1), 0);
    CU_ASSERT_EQUAL(m1->refs, 2);
    CU_ASSERT_EQUAL(retain_count(r), 1);
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 3);
    CU_ASSERT_EQUAL(retain_set(r, m2), 0); /* replaces: the old one's reference is dropped */
    CU_ASSERT_EQUAL(m1->refs, 1);
    CU_ASSERT_EQUAL(m2->refs, 2);
    CU_ASSERT_EQUAL(retain_count(r), 1);
    retain_match(r, "a/b/c", 5, collect, &f);
    CU_ASSERT_EQUAL(f.n, 1);
    put(r, "a", "parent");
    put(r, "a/b/c/d", "child");
    CU_ASSERT_EQUAL(retain_count(r), 3);
    CU_ASSERT_EQUAL(retain_set(r, clear), 0);
    CU_ASSERT_EQUAL(m2->refs, 1);
    CU_ASSERT_EQUAL(retain_count(r), 2);
    CU_ASSERT_STRING_EQUAL(lookup(r, "#"), "a a/b/c/d");
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 4); /* a/b/c stays: a/b/c/d hangs below it */
    CU_ASSERT_EQUAL(retain_set(r, clear), 0);  /* clearing twice is harmless */
    CU_ASSERT_EQUAL(retain_count(r), 2);
    put(r, "a/b/c/d", "");
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 1);
    put(r, "a", "");
    put(r, "never/set", "");
    CU_ASSERT_EQUAL(retain_count(r), 0);
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 0);
    CU_ASSERT_STRING_EQUAL(lookup(r, "#"), "");

    /* retain_free drops the store's references, not ours. */
    CU_ASSERT_EQUAL(retain_set(r, m1), 0);
    CU_ASSERT_EQUAL(m1->refs, 2);
    retain_free(r);
    CU_ASSERT_EQUAL(m1->refs, 1);
    msg_unref(m1);
    msg_unref(m2);
    msg_unref(clear);
    retain_free(NULL);
}

/* Deep topics and wide levels: walks and teardown must not recurse, '#' must see everything. */
static void test_deep_wide(void)
{
    struct retain *r = retain_new();
    char *deep = unit_repeat("a/", 30000, "a"), *plus = unit_repeat("+/", 30000, "+");
    struct found f = { .n = 0 };
    char t[32];

    put(r, deep, "x");
    retain_match(r, plus, strlen(plus), collect, &f);
    CU_ASSERT_EQUAL(f.n, 1);
    f.n = 0;
    retain_match(r, "a/#", 3, collect, &f);
    CU_ASSERT_EQUAL(f.n, 1);
    for (int i = 0; i < 50; i++) {
        snprintf(t, sizeof(t), "w/%d", i);
        put(r, t, "y");
    }
    f.n = 0;
    retain_match(r, "w/+", 3, collect, &f);
    CU_ASSERT_EQUAL(f.n, 50);
    f.n = 0;
    retain_match(r, "#", 1, collect, &f);
    CU_ASSERT_EQUAL(f.n, 51);
    for (int i = 0; i < 50; i++) {
        snprintf(t, sizeof(t), "w/%d", i);
        put(r, t, "");
    }
    CU_ASSERT_EQUAL(retain_count(r), 1);
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 30001);
    retain_free(r); /* frees the 30001-deep chain */
    free(deep);
    free(plus);
}

/* --- randomized comparison with a brute-force matcher --- */

static const char *const alphabet[] = { "a", "b", "c", "", "$s" };
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

static void random_name(char *out, bool wild)
{
    int depth = 1 + rand() % 4;

    out[0] = '\0';
    for (int i = 0; i < depth; i++) {
        int r = rand() % (wild ? NALPHA + 3 : NALPHA);
        const char *lvl = r < (int)NALPHA ? alphabet[r] : r == (int)NALPHA + 2 ? "#" : "+";

        if (i > 0)
            strcat(out, "/");
        strcat(out, lvl);
        if (lvl[0] == '#')
            break;
    }
}

struct tally {
    struct msg **set; /* the model: which messages are stored */
    size_t n;
    size_t calls;
    const char *filter;
};

static void check_hit(void *ctx, struct msg *m)
{
    struct tally *t = ctx;
    size_t i;

    for (i = 0; i < t->n && t->set[i] != m; i++)
        ;
    CU_ASSERT(i < t->n); /* a message the model holds */
    CU_ASSERT(unit_brute_match(t->filter, m->topic));
    t->calls++;
}

static void test_random_differential(void)
{
    enum { NTOPIC = 300, NFILTER = 3000 };
    static struct msg *set[NTOPIC];
    struct retain *r = retain_new();
    struct tally t = { set, 0, 0, NULL };

    srand(99);
    for (int i = 0; i < NTOPIC; i++) {
        char topic[32];
        struct msg *m;
        size_t k;

        random_name(topic, false);
        m = mk(topic, rand() % 4 == 0 ? "" : "v");
        CU_ASSERT_EQUAL(retain_set(r, m), 0);
        for (k = 0; k < t.n && strcmp(set[k]->topic, topic) != 0; k++)
            ;
        if (k < t.n) { /* replaced or cleared */
            msg_unref(set[k]);
            set[k] = set[--t.n];
        }
        if (m->payload_len > 0)
            set[t.n++] = m;
        else
            msg_unref(m);
    }
    CU_ASSERT_EQUAL(retain_count(r), t.n);
    for (int i = 0; i < NFILTER; i++) {
        char filter[32];
        size_t want = 0;

        random_name(filter, true);
        t.filter = filter;
        t.calls = 0;
        retain_match(r, filter, strlen(filter), check_hit, &t);
        for (size_t k = 0; k < t.n; k++)
            want += unit_brute_match(filter, set[k]->topic);
        CU_ASSERT_EQUAL(t.calls, want); /* with check_hit: exactly the matching set */
    }
    for (size_t k = 0; k < t.n; k++) {
        struct msg *clear = mk(set[k]->topic, "");
        CU_ASSERT_EQUAL(retain_set(r, clear), 0);
        msg_unref(clear);
        CU_ASSERT_EQUAL(set[k]->refs, 1);
        msg_unref(set[k]);
    }
    CU_ASSERT_EQUAL(retain_count(r), 0);
    CU_ASSERT_EQUAL(retain_debug_nodes(r), 0);
    retain_free(r);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "wildcard lookups", test_wildcards },
        { "set, replace, clear, references", test_set_clear },
        { "deep and wide trees", test_deep_wide },
        { "random vs brute force", test_random_differential },
        { NULL, NULL },
    };

    unit_suite("retain", tests);
}
