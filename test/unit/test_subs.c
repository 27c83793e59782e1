/* test_subs.c - the subscription tree: a table of filters against topics, shared groups, replace
 * and remove with pruning, and a randomized comparison with a brute-force matcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subs.h"
#include "subs_debug.h"
#include "topic.h"
#include "unit.h"

#define MAXF 6

/* --- collecting matches --- */

struct hit {
    const void *owner;
    uint8_t options;
    uint32_t identifier;
    bool shared;
};

struct hits {
    struct hit v[4096];
    size_t n;
};

static void collect(void *ctx, const struct subscriber *s, bool shared)
{
    struct hits *h = ctx;

    CU_ASSERT_FATAL(h->n < sizeof(h->v) / sizeof(h->v[0]));
    h->v[h->n].owner = s->owner;
    h->v[h->n].options = s->options;
    h->v[h->n].identifier = s->identifier;
    h->v[h->n].shared = shared;
    h->n++;
}

static void match(struct subs *t, const char *topic, struct hits *h)
{
    h->n = 0;
    subs_match(t, topic, strlen(topic), collect, h);
}

static int add(struct subs *t, const char *f, void *owner, uint8_t opt, uint32_t id)
{
    bool existed;

    return subs_add(t, f, strlen(f), owner, opt, id, &existed) == 0 ? (int)existed : -1;
}

/* --- the table: filter i is subscribed by owner i; mask says which must match, once each --- */

struct tcase {
    const char *filters[MAXF];
    const char *topic;
    unsigned mask;
};

static const struct tcase cases[] = {
    { { "a/b/c" }, "a/b/c", 1 },
    { { "a/b/c" }, "a/b", 0 },
    { { "a/b" }, "a/b/c", 0 },
    { { "a/+/c" }, "a/b/c", 1 },
    { { "a/+/c" }, "a/b/d", 0 },
    { { "a/+" }, "a/b/c", 0 },
    { { "a/#" }, "a", 1 },
    { { "a/#" }, "a/b/c", 1 },
    { { "a/#" }, "ab", 0 },
    { { "a/b/#" }, "a", 0 },
    { { "#" }, "a", 1 },
    { { "#" }, "a/b/c", 1 },
    { { "#" }, "$SYS/x", 0 },
    { { "#" }, "$", 0 },
    { { "+/x" }, "$SYS/x", 0 },
    { { "+" }, "$SYS", 0 },
    { { "+/#" }, "$SYS", 0 },
    { { "$SYS/#" }, "$SYS/broker/uptime", 1 },
    { { "$SYS/#" }, "$SYS", 1 },
    { { "$SYS/+/uptime" }, "$SYS/broker/uptime", 1 },
    { { "a/+/#" }, "a/$x/y", 1 },   /* '$' matters at the first level only */
    { { "+/#" }, "a", 1 },          /* '+' takes "a", '#' matches its parent */
    { { "+" }, "a/b", 0 },
    { { "+/+" }, "a/b", 1 },
    { { "+/+" }, "a", 0 },
    { { "+/+" }, "/b", 1 },         /* empty first level */
    { { "/+" }, "/b", 1 },
    { { "+" }, "/b", 0 },
    { { "a//b" }, "a//b", 1 },
    { { "a/+/b" }, "a//b", 1 },
    { { "a/b" }, "a//b", 0 },
    { { "a/+" }, "a/", 1 },
    { { "a/#" }, "a/", 1 },
    { { "a" }, "a/", 0 },
    { { "#" }, "/", 1 },
    { { "+/+" }, "/", 1 },
    { { "/" }, "/", 1 },
    { { "A/b" }, "a/b", 0 },
    { { "sport/tennis/player1/#" }, "sport/tennis/player1", 1 },
    { { "sport/tennis/player1/#" }, "sport/tennis/player1/ranking/wimbledon", 1 },
    { { "sport/+" }, "sport", 0 },
    { { "sport/+" }, "sport/", 1 },
    { { "a/+/+/d/#" }, "a/b/c/d", 1 },
    { { "+/x" }, "\xc3\xbc/x", 1 },
    { { "a/b", "a/+", "a/#", "#", "+/b", "b/#" }, "a/b", 0x1f },
    { { "a/b", "a/+", "a/#", "#", "+/b", "b/#" }, "b/b", 0x38 },
    { { "a/b", "a/+", "a/#", "#", "+/b", "b/#" }, "c", 0x08 },
    { { "$SYS/#", "#", "+/broker", "$SYS/broker", "+/+" }, "$SYS/broker", 0x09 },
    { { "a/b/c", "a/b/c/#", "a/+/c", "+/+/+", "+/+/+/+", "#" }, "a/b/c", 0x2f },
    { { "x/+/z", "x/y/+", "+/y/z", "x/#", "x/y/z/#", "+/+/z/+" }, "x/y/z", 0x1f },
    { { "a/b", "a/bc", "ab", "a/b/" }, "a/b", 0x01 },
    { { "a/b", "a/bc", "ab", "a/b/" }, "a/b/", 0x08 },
    { { "$share" }, "$share", 1 },  /* too short to be shared: a plain level */
    { { "$share/g" }, "$share/g", 1 },
    { { "$share//a" }, "$share//a", 1 }, /* empty group: odd input, kept as a plain filter */
    { { "a/#/b" }, "a/x/b", 0 },    /* invalid: the caller rejects it; we just must not crash */
    { { "a/#/b" }, "a/#/b", 1 },
    { { "a+/b" }, "a+/b", 1 },
};

static void test_table(void)
{
    static char owners[MAXF];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct subs *t = subs_new();
        static struct hits h;
        unsigned got = 0;
        size_t nf = 0;

        CU_ASSERT_FATAL(t != NULL);
        for (; nf < MAXF && cases[c].filters[nf] != NULL; nf++)
            CU_ASSERT_EQUAL(add(t, cases[c].filters[nf], &owners[nf], 1, (uint32_t)nf + 1), 0);
        CU_ASSERT_EQUAL(subs_count(t), nf);
        match(t, cases[c].topic, &h);
        for (size_t i = 0; i < h.n; i++) {
            size_t o = (size_t)((const char *)h.v[i].owner - owners);
            CU_ASSERT(o < nf);
            CU_ASSERT_EQUAL(h.v[i].identifier, o + 1);
            CU_ASSERT_FALSE(h.v[i].shared);
            if (got & (1u << o))
                CU_FAIL("filter matched twice");
            got |= 1u << o;
        }
        if (got != cases[c].mask)
            fprintf(stderr, "\ncase %zu: topic \"%s\": got 0x%x want 0x%x\n", c, cases[c].topic,
                    got, cases[c].mask);
        CU_ASSERT_EQUAL(got, cases[c].mask);
        for (size_t i = 0; i < nf; i++)
            CU_ASSERT_TRUE(subs_remove(t, cases[c].filters[i], strlen(cases[c].filters[i]),
                                       &owners[i]));
        CU_ASSERT_EQUAL(subs_count(t), 0);
        CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
        subs_free(t);
    }
}

/* --- replace, remove, prune --- */

static void test_replace(void)
{
    struct subs *t = subs_new();
    static struct hits h;
    int a, b;

    CU_ASSERT_EQUAL(add(t, "a/b", &a, 1, 5), 0);
    CU_ASSERT_EQUAL(add(t, "a/b", &b, 0, 0), 0);
    CU_ASSERT_EQUAL(add(t, "a/b", &a, 2, 7), 1); /* existed: replaced in place */
    CU_ASSERT_EQUAL(subs_count(t), 2);
    match(t, "a/b", &h);
    CU_ASSERT_EQUAL_FATAL(h.n, 2);
    for (size_t i = 0; i < h.n; i++) {
        if (h.v[i].owner == &a) {
            CU_ASSERT_EQUAL(h.v[i].options, 2);
            CU_ASSERT_EQUAL(h.v[i].identifier, 7);
        }
    }
    /* The same owner on two overlapping filters gets two calls; the caller merges. */
    CU_ASSERT_EQUAL(add(t, "a/+", &a, 1, 9), 0);
    match(t, "a/b", &h);
    CU_ASSERT_EQUAL(h.n, 3);
    /* A shared and a plain subscription to the same filter are different subscriptions. */
    CU_ASSERT_EQUAL(add(t, "$share/g/a/b", &a, 1, 0), 0);
    CU_ASSERT_EQUAL(add(t, "$share/g/a/b", &a, 0, 3), 1);
    CU_ASSERT_EQUAL(subs_count(t), 4);
    subs_free(t);
}

static void test_remove_prune(void)
{
    static const char *filters[] = { "a/b/c", "a/b", "a/+/c", "a/#", "#", "+", "+/+/+/+",
                                     "x//y/", "", "/", "$SYS/#", "$share/g/a/b/c",
                                     "$share/h/a/b/c", "$share/g/#", "a/b/c/d/e/f/g/h" };
    size_t nf = sizeof(filters) / sizeof(filters[0]);
    struct subs *t = subs_new();
    int o[3];

    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < nf; i++)
            for (int k = 0; k < 3; k++)
                CU_ASSERT_EQUAL(add(t, filters[i], &o[k], 0, 0), 0);
        CU_ASSERT_EQUAL(subs_count(t), nf * 3);
        CU_ASSERT(subs_debug_nodes(t) > 0);
        CU_ASSERT_FALSE(subs_remove(t, "a/b/c", 5, &round)); /* not subscribed */
        CU_ASSERT_FALSE(subs_remove(t, "a/b/x", 5, &o[0]));  /* no such filter */
        CU_ASSERT_FALSE(subs_remove(t, "$share/zz/a/b/c", 15, &o[0]));
        for (size_t i = nf; i-- > 0;)
            for (int k = 0; k < 3; k++)
                CU_ASSERT_TRUE(subs_remove(t, filters[i], strlen(filters[i]), &o[(k + round) % 3]));
        CU_ASSERT_FALSE(subs_remove(t, "a/b/c", 5, &o[0]));
        CU_ASSERT_EQUAL(subs_count(t), 0);
        CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
    }
    subs_free(t);
}

/* Many owners on one filter exercise the owner index (add, find, swap-remove). */
static void test_many_owners(void)
{
    enum { N = 3000 };
    static char owners[N];
    static unsigned char in[N];
    static struct hits h;
    struct subs *t = subs_new();
    size_t live = 0;

    srand(7);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(add(t, "bcast/+", &owners[i], 0, (uint32_t)i), 0);
        in[i] = 1;
    }
    live = N;
    for (int step = 0; step < 20000; step++) {
        int i = rand() % N;
        if (in[i]) {
            CU_ASSERT_TRUE(subs_remove(t, "bcast/+", 7, &owners[i]));
            in[i] = 0;
            live--;
        } else {
            CU_ASSERT_EQUAL(add(t, "bcast/+", &owners[i], 1, (uint32_t)i), 0);
            in[i] = 1;
            live++;
        }
        if (step % 2000 == 0) {
            int j = rand() % N;
            CU_ASSERT_EQUAL(add(t, "bcast/+", &owners[j], 2, (uint32_t)j), in[j] ? 1 : 0);
            if (!in[j]) {
                in[j] = 1;
                live++;
            }
        }
    }
    CU_ASSERT_EQUAL(subs_count(t), live);
    match(t, "bcast/x", &h);
    CU_ASSERT_EQUAL_FATAL(h.n, live);
    for (size_t k = 0; k < h.n; k++) {
        size_t i = (size_t)((const char *)h.v[k].owner - owners);
        CU_ASSERT_EQUAL(in[i], 1);
        CU_ASSERT_EQUAL(h.v[k].identifier, i);
        in[i] = 2; /* each owner exactly once */
    }
    for (int i = 0; i < N; i++) {
        CU_ASSERT_NOT_EQUAL(in[i], 1);
        if (in[i])
            CU_ASSERT_TRUE(subs_remove(t, "bcast/+", 7, &owners[i]));
    }
    CU_ASSERT_EQUAL(subs_count(t), 0);
    CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
    subs_free(t);
}

/* --- shared subscriptions --- */

static void test_shared_round_robin(void)
{
    struct subs *t = subs_new();
    static struct hits h;
    int g1, g2, g3, h1, plain;
    int got[3] = { 0 };
    const void *prev = NULL;

    CU_ASSERT_EQUAL(add(t, "$share/g/a/+", &g1, 1, 0), 0);
    CU_ASSERT_EQUAL(add(t, "$share/g/a/+", &g2, 1, 0), 0);
    CU_ASSERT_EQUAL(add(t, "$share/g/a/+", &g3, 1, 0), 0);
    CU_ASSERT_EQUAL(add(t, "$share/h/a/#", &h1, 1, 0), 0);
    CU_ASSERT_EQUAL(add(t, "a/b", &plain, 1, 0), 0);
    CU_ASSERT_EQUAL(subs_count(t), 5);
    for (int i = 0; i < 9; i++) {
        int nshared = 0, nplain = 0, nh = 0;

        match(t, "a/b", &h);
        CU_ASSERT_EQUAL(h.n, 3);
        for (size_t k = 0; k < h.n; k++) {
            if (h.v[k].owner == &plain) {
                CU_ASSERT_FALSE(h.v[k].shared);
                nplain++;
                continue;
            }
            CU_ASSERT_TRUE(h.v[k].shared);
            nshared++;
            if (h.v[k].owner == &h1) {
                nh++;
                continue;
            }
            CU_ASSERT(h.v[k].owner != prev); /* rotates */
            prev = h.v[k].owner;
            got[h.v[k].owner == &g1 ? 0 : h.v[k].owner == &g2 ? 1 : 2]++;
        }
        CU_ASSERT_EQUAL(nplain, 1);
        CU_ASSERT_EQUAL(nshared, 2);
        CU_ASSERT_EQUAL(nh, 1);
    }
    CU_ASSERT_EQUAL(got[0], 3);
    CU_ASSERT_EQUAL(got[1], 3);
    CU_ASSERT_EQUAL(got[2], 3);

    /* Group "g" does not match "a" ('+' needs a level); "h" does via "a/#". */
    match(t, "a", &h);
    CU_ASSERT_EQUAL_FATAL(h.n, 1);
    CU_ASSERT_PTR_EQUAL(h.v[0].owner, &h1);

    /* After members leave, the rest share everything. */
    CU_ASSERT_TRUE(subs_remove(t, "$share/g/a/+", 12, &g2));
    CU_ASSERT_FALSE(subs_remove(t, "$share/g/a/+", 12, &g2));
    CU_ASSERT_FALSE(subs_remove(t, "a/+", 3, &g1)); /* the plain filter is not the shared one */
    memset(got, 0, sizeof(got));
    for (int i = 0; i < 4; i++) {
        match(t, "a/x", &h);
        CU_ASSERT_EQUAL(h.n, 2);
        for (size_t k = 0; k < h.n; k++) {
            if (h.v[k].owner == &g1)
                got[0]++;
            else if (h.v[k].owner == &g3)
                got[2]++;
            else
                CU_ASSERT_PTR_EQUAL(h.v[k].owner, &h1);
        }
    }
    CU_ASSERT_EQUAL(got[0], 2);
    CU_ASSERT_EQUAL(got[2], 2);
    CU_ASSERT_TRUE(subs_remove(t, "$share/g/a/+", 12, &g1));
    CU_ASSERT_TRUE(subs_remove(t, "$share/g/a/+", 12, &g3));
    CU_ASSERT_TRUE(subs_remove(t, "$share/h/a/#", 12, &h1));
    CU_ASSERT_TRUE(subs_remove(t, "a/b", 3, &plain));
    CU_ASSERT_EQUAL(subs_count(t), 0);
    CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
    /* '$' topics and shared wildcards: the same first-level rule. */
    CU_ASSERT_EQUAL(add(t, "$share/g/#", &g1, 0, 0), 0);
    match(t, "$SYS/x", &h);
    CU_ASSERT_EQUAL(h.n, 0);
    match(t, "x", &h);
    CU_ASSERT_EQUAL(h.n, 1);
    subs_free(t); /* frees the remaining group */
}

/* --- deep and odd input --- */

static void test_deep(void)
{
    enum { D = 20000 };
    struct subs *t = subs_new();
    static struct hits h;
    char *plus = unit_repeat("+/", D, "+");   /* D + 1 levels */
    char *topic = unit_repeat("a/", D, "a");
    char *lit = unit_repeat("a/", D, "#");
    int o1, o2;

    CU_ASSERT_EQUAL(add(t, plus, &o1, 0, 0), 0);
    CU_ASSERT_EQUAL(add(t, lit, &o2, 0, 0), 0);
    match(t, topic, &h);
    CU_ASSERT_EQUAL(h.n, 2);
    match(t, topic + 2, &h); /* one level fewer: only lit's '#' matching its parent */
    CU_ASSERT_EQUAL(h.n, 1);
    CU_ASSERT_TRUE(subs_remove(t, plus, strlen(plus), &o1));
    /* Freeing a deep tree must not recurse. */
    subs_free(t);
    t = subs_new();
    CU_ASSERT_EQUAL(add(t, topic, &o1, 0, 0), 0);
    subs_free(t);
    free(plus);
    free(topic);
    free(lit);

    /* A '+' branch pending at every level of a long literal path: the walk's stack must grow
     * past its in-frame start. */
    t = subs_new();
    for (size_t k = 0; k < 100; k++) {
        char *f = unit_repeat("a/", k, "+/#");
        CU_ASSERT_EQUAL(add(t, f, &o1, 0, (uint32_t)k), 0);
        free(f);
    }
    topic = unit_repeat("a/", 99, "a");
    match(t, topic, &h);
    CU_ASSERT_EQUAL(h.n, 100);
    free(topic);
    subs_free(t);

    /* Odd input never crashes: empty filter and topic, bytes of every value. */
    t = subs_new();
    char odd[256];
    for (int i = 0; i < 256; i++)
        odd[i] = (char)i;
    CU_ASSERT_EQUAL(add(t, "", &o1, 0, 0), 0);
    bool existed;
    CU_ASSERT_EQUAL(subs_add(t, odd, sizeof(odd), &o1, 0, 0, &existed), 0);
    h.n = 0;
    subs_match(t, "", 0, collect, &h);
    CU_ASSERT_EQUAL(h.n, 1);
    h.n = 0;
    subs_match(t, odd, sizeof(odd), collect, &h);
    CU_ASSERT_EQUAL(h.n, 1);
    CU_ASSERT_TRUE(subs_remove(t, odd, sizeof(odd), &o1));
    CU_ASSERT_TRUE(subs_remove(t, "", 0, &o1));
    CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
    subs_free(t);
    subs_free(NULL);
}

/* --- randomized comparison with a brute-force matcher --- */

static const char *const alphabet[] = { "a", "b", "c", "", "$s", "ab" };
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

static void random_topic(char *out, bool wild)
{
    int depth = 1 + rand() % 5;

    out[0] = '\0';
    for (int i = 0; i < depth; i++) {
        int r = rand() % (wild ? NALPHA + 3 : NALPHA);
        const char *lvl = r < (int)NALPHA ? alphabet[r] : r == (int)NALPHA + 2 ? "#" : "+";

        if (i > 0)
            strcat(out, "/");
        /* '$' words only at the first level of topics, like real ones ($SYS); anywhere else too */
        strcat(out, lvl);
        if (lvl[0] == '#')
            break;
    }
}

struct model_sub {
    char filter[64]; /* may be "$share/gN/..." */
    const char *match_filter;
    int owner;
    bool live;
};

static void test_random_differential(void)
{
    enum { NSUB = 2500, NOWN = 40, NTOPIC = 2000 };
    static struct model_sub m[NSUB];
    static char owners[NOWN];
    static struct hits h;
    static int per_key[NSUB];
    struct subs *t = subs_new();
    size_t live = 0;

    srand(12345);
    for (int i = 0; i < NSUB; i++) {
        char f[40];
        int group = rand() % 8; /* 0..1: shared in group g0/g1 */

        random_topic(f, true);
        if (f[0] == '\0') /* "$share/g0/" is invalid; the caller never passes it */
            group = 2;
        if (group < 2)
            snprintf(m[i].filter, sizeof(m[i].filter), "$share/g%d/%s", group, f);
        else
            snprintf(m[i].filter, sizeof(m[i].filter), "%s", f);
        m[i].match_filter = group < 2 ? m[i].filter + 10 : m[i].filter;
        m[i].owner = rand() % NOWN;
        /* A duplicate (filter, owner) replaces the earlier model entry. */
        for (int j = 0; j < i; j++) {
            if (m[j].live && m[j].owner == m[i].owner && strcmp(m[j].filter, m[i].filter) == 0) {
                m[j].live = false;
                live--;
            }
        }
        m[i].live = true;
        live++;
        bool existed;
        CU_ASSERT_EQUAL(subs_add(t, m[i].filter, strlen(m[i].filter), &owners[m[i].owner], 0,
                                 (uint32_t)i, &existed), 0);
    }
    /* Remove a third at random. */
    for (int i = 0; i < NSUB; i++) {
        if (m[i].live && rand() % 3 == 0) {
            CU_ASSERT_TRUE(subs_remove(t, m[i].filter, strlen(m[i].filter), &owners[m[i].owner]));
            m[i].live = false;
            live--;
        }
    }
    CU_ASSERT_EQUAL(subs_count(t), live);

    for (int n = 0; n < NTOPIC; n++) {
        char topic[40];
        size_t want_plain = 0, want_keys = 0;

        random_topic(topic, false);
        match(t, topic, &h);
        memset(per_key, 0, sizeof(per_key));
        for (size_t k = 0; k < h.n; k++) {
            uint32_t id = h.v[k].identifier;
            CU_ASSERT_FATAL(id < NSUB);
            CU_ASSERT(m[id].live);
            CU_ASSERT(unit_brute_match(m[id].match_filter, topic));
            CU_ASSERT_EQUAL(h.v[k].shared, m[id].match_filter != m[id].filter);
            CU_ASSERT_PTR_EQUAL(h.v[k].owner, &owners[m[id].owner]);
            /* Key of a shared group: its first live entry with the same filter text. */
            int key = (int)id;
            if (h.v[k].shared) {
                for (int j = 0; j < NSUB; j++) {
                    if (m[j].live && strcmp(m[j].filter, m[id].filter) == 0) {
                        key = j;
                        break;
                    }
                }
            }
            per_key[key]++;
        }
        for (int i = 0; i < NSUB; i++) {
            if (!m[i].live || !unit_brute_match(m[i].match_filter, topic))
                continue;
            if (m[i].match_filter == m[i].filter) {
                want_plain++;
                CU_ASSERT_EQUAL(per_key[i], 1);
                continue;
            }
            bool first = true;
            for (int j = 0; j < i; j++)
                if (m[j].live && strcmp(m[j].filter, m[i].filter) == 0)
                    first = false;
            if (first) {
                want_keys++;
                CU_ASSERT_EQUAL(per_key[i], 1); /* exactly one member per group */
            }
        }
        CU_ASSERT_EQUAL(h.n, want_plain + want_keys);
    }
    for (int i = 0; i < NSUB; i++) {
        if (m[i].live)
            CU_ASSERT_TRUE(subs_remove(t, m[i].filter, strlen(m[i].filter), &owners[m[i].owner]));
    }
    CU_ASSERT_EQUAL(subs_count(t), 0);
    CU_ASSERT_EQUAL(subs_debug_nodes(t), 0);
    subs_free(t);
}

/* The brute-force matcher above and lib/topic.c were written apart; they must agree on every
 * valid filter and topic the random test can produce. */
static void test_oracles_agree(void)
{
    srand(4242);
    for (int i = 0; i < 20000; i++) {
        char f[40], topic[40];

        random_topic(f, true);
        random_topic(topic, false);
        if (unit_brute_match(f, topic) != topic_matches(f, strlen(f), topic, strlen(topic)))
            fprintf(stderr, "\nfilter \"%s\" topic \"%s\": oracles differ\n", f, topic);
        CU_ASSERT_EQUAL(unit_brute_match(f, topic), topic_matches(f, strlen(f), topic, strlen(topic)));
    }
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "table of filters and topics", test_table },
        { "replace keeps one entry", test_replace },
        { "remove prunes to an empty tree", test_remove_prune },
        { "many owners on one filter", test_many_owners },
        { "shared groups round robin", test_shared_round_robin },
        { "deep and odd input", test_deep },
        { "random vs brute force", test_random_differential },
        { "brute force agrees with topic_matches", test_oracles_agree },
        { NULL, NULL },
    };

    unit_suite("subs", tests);
}
