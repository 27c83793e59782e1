/* subs.c - the subscription tree: one node per filter level, children hashed by level, '+' and
 * '#' children held directly, $share groups at their filter's node. Knows nothing of sockets or
 * queues: deliver.c decides what to send to whom. Callbacks of subs_match must not add or remove
 * subscriptions on the tree being walked (collect the receivers first). */
#include "subs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "levels.h"
#include "subs_debug.h"

enum kind { KIND_ROOT, KIND_LEVEL, KIND_PLUS, KIND_HASH };

/* Subscribers of one node or one shared group. Past SUBLIST_INDEX_MIN entries an owner index
 * (open addressing, position + 1, 0 = empty) keeps add/remove O(1): a broadcast filter may have
 * a subscriber per connected client. */
struct sublist {
    struct subscriber *v;
    uint32_t n, cap;
    uint32_t *idx;
    uint32_t icap; /* power of two, or 0 without an index */
};

#define SUBLIST_INDEX_MIN 16u

struct group {
    char *name; /* owned */
    uint32_t name_len;
    uint32_t rr; /* next member to receive */
    struct sublist members;
};

struct node {
    struct levels_entry e; /* our key in the parent's table (KIND_LEVEL only) */
    struct node *parent;
    struct levels kids;
    struct node *plus, *hash;
    struct sublist subs;
    struct group *groups;
    uint32_t ngroups;
    uint8_t kind;
    char name[]; /* the level, NUL-terminated */
};

struct subs {
    struct node *root;
    size_t count; /* subscriptions, shared members included */
    size_t shared; /* of which shared-group members */
    size_t nodes; /* excluding the root */
};

/* --- sublist --- */

static uint32_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;

    return (uint32_t)(x >> 32);
}

static void index_put(struct sublist *l, uint32_t pos)
{
    uint32_t mask = l->icap - 1, i = ptr_hash(l->v[pos].owner) & mask;

    while (l->idx[i] != 0)
        i = (i + 1) & mask;
    l->idx[i] = pos + 1;
}

/* Slot holding owner's position, or icap if absent. */
static uint32_t index_slot(const struct sublist *l, const void *owner)
{
    uint32_t mask = l->icap - 1, i = ptr_hash(owner) & mask;

    for (; l->idx[i] != 0; i = (i + 1) & mask) {
        if (l->v[l->idx[i] - 1].owner == owner)
            return i;
    }
    return l->icap;
}

/* Backward-shift deletion: linear probing without tombstones, so churn never degrades lookups. */
static void index_del_slot(struct sublist *l, uint32_t i)
{
    uint32_t mask = l->icap - 1, j = i;

    for (;;) {
        j = (j + 1) & mask;
        if (l->idx[j] == 0)
            break;
        uint32_t home = ptr_hash(l->v[l->idx[j] - 1].owner) & mask;
        /* Move j's entry into the hole at i unless its home lies cyclically in (i, j]. */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            l->idx[i] = l->idx[j];
            i = j;
        }
    }
    l->idx[i] = 0;
}

/* Rebuilds the index at icap slots (0 drops it). On ENOMEM the old index stays valid. */
static int index_rebuild(struct sublist *l, uint32_t icap)
{
    uint32_t *idx = NULL;

    if (icap != 0 && (idx = calloc(icap, sizeof(*idx))) == NULL)
        return -1;
    free(l->idx);
    l->idx = idx;
    l->icap = icap;
    for (uint32_t p = 0; icap != 0 && p < l->n; p++)
        index_put(l, p);
    return 0;
}

static int64_t sublist_find(const struct sublist *l, const void *owner)
{
    if (l->idx != NULL) {
        uint32_t i = index_slot(l, owner);
        return i == l->icap ? -1 : (int64_t)l->idx[i] - 1;
    }
    for (uint32_t p = 0; p < l->n; p++) {
        if (l->v[p].owner == owner)
            return p;
    }
    return -1;
}

static int sublist_append(struct sublist *l, const struct subscriber *s)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap == 0 ? 2 : l->cap * 2;
        struct subscriber *v;

        if (l->cap > UINT32_MAX / 4 || (v = realloc(l->v, cap * sizeof(*v))) == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    /* Keep the load at or under one half; below the threshold a scan is cheaper than hashing. */
    if (l->n + 1 >= SUBLIST_INDEX_MIN && (l->n + 1) * 2 > l->icap) {
        if (index_rebuild(l, l->icap == 0 ? SUBLIST_INDEX_MIN * 4 : l->icap * 2) != 0)
            return -1;
    }
    l->v[l->n] = *s;
    if (l->idx != NULL)
        index_put(l, l->n);
    l->n++;
    return 0;
}

static void sublist_del(struct sublist *l, uint32_t pos)
{
    uint32_t last = l->n - 1;

    if (l->idx != NULL) {
        index_del_slot(l, index_slot(l, l->v[pos].owner));
        if (pos != last) {
            uint32_t i = index_slot(l, l->v[last].owner);
            l->idx[i] = pos + 1;
        }
    }
    l->v[pos] = l->v[last];
    l->n--;
    if (l->n == 0) {
        free(l->v);
        free(l->idx);
        memset(l, 0, sizeof(*l));
        return;
    }
    if (l->idx != NULL && l->n < SUBLIST_INDEX_MIN / 2)
        (void)index_rebuild(l, 0);
    else if (l->idx != NULL && l->icap > SUBLIST_INDEX_MIN * 4 && l->n * 8 < l->icap)
        (void)index_rebuild(l, l->icap / 2);
    if (l->cap > 8 && l->n < l->cap / 4) {
        struct subscriber *v = realloc(l->v, (l->cap / 2) * sizeof(*v));
        if (v != NULL) {
            l->v = v;
            l->cap /= 2;
        }
    }
}

static void sublist_free(struct sublist *l)
{
    free(l->v);
    free(l->idx);
}

/* --- nodes --- */

static bool node_empty(const struct node *n)
{
    return n->subs.n == 0 && n->ngroups == 0 && n->kids.n == 0 && n->plus == NULL &&
           n->hash == NULL;
}

static void node_destroy(struct node *n)
{
    sublist_free(&n->subs);
    for (uint32_t g = 0; g < n->ngroups; g++) {
        free(n->groups[g].name);
        sublist_free(&n->groups[g].members);
    }
    free(n->groups);
    free(n->kids.b);
    free(n);
}

/* Frees empty nodes from n upwards, so the tree shrinks back as subscriptions leave. */
static void prune(struct subs *t, struct node *n)
{
    while (n->kind != KIND_ROOT && node_empty(n)) {
        struct node *parent = n->parent;

        if (n->kind == KIND_PLUS)
            parent->plus = NULL;
        else if (n->kind == KIND_HASH)
            parent->hash = NULL;
        else
            levels_remove(&parent->kids, &n->e);
        node_destroy(n);
        t->nodes--;
        n = parent;
    }
}

static struct node *node_new(struct node *parent, const char *s, size_t len, uint8_t kind)
{
    struct node *n = calloc(1, sizeof(*n) + len + 1);

    if (n == NULL)
        return NULL;
    memcpy(n->name, s, len);
    n->e.name = n->name;
    n->e.len = (uint32_t)len;
    n->parent = parent;
    n->kind = kind;
    return n;
}

/* One level of filter, [s, s+len); last tells whether it ends the filter, since only a final
 * '#' is a wildcard (anything else containing '#' is treated as a plain level). */
static struct node *child_get(struct subs *t, struct node *n, const char *s, size_t len, bool last,
                              bool create)
{
    struct node **slot = NULL, *c;
    uint32_t h;

    if (len == 1 && s[0] == '+')
        slot = &n->plus;
    else if (len == 1 && s[0] == '#' && last)
        slot = &n->hash;
    if (slot != NULL) {
        if (*slot == NULL && create) {
            *slot = node_new(n, s, len, slot == &n->plus ? KIND_PLUS : KIND_HASH);
            if (*slot != NULL)
                t->nodes++;
        }
        return *slot;
    }
    h = levels_hash(s, len);
    struct levels_entry *e = levels_find(&n->kids, s, len, h);
    if (e != NULL)
        return (struct node *)e;
    if (!create || (c = node_new(n, s, len, KIND_LEVEL)) == NULL)
        return NULL;
    c->e.hash = h;
    if (levels_insert(&n->kids, &c->e) != 0) {
        node_destroy(c);
        return NULL;
    }
    t->nodes++;
    return c;
}

/* Walks (and with create, builds) the path of filter. With create, NULL means ENOMEM and the
 * partial path has been pruned again. */
static struct node *path_get(struct subs *t, const char *f, size_t len, bool create)
{
    struct node *n = t->root;
    size_t off = 0;

    for (;;) {
        const char *slash = memchr(f + off, '/', len - off);
        size_t end = slash != NULL ? (size_t)(slash - f) : len;
        struct node *c = child_get(t, n, f + off, end - off, slash == NULL, create);

        if (c == NULL) {
            if (create)
                prune(t, n);
            return NULL;
        }
        n = c;
        if (slash == NULL)
            return n;
        off = end + 1;
    }
}

/* "$share/GROUP/FILTER" with a non-empty group and filter; anything else is a plain filter. */
static bool share_split(const char *f, size_t len, const char **g, size_t *glen, const char **ff,
                        size_t *flen)
{
    const char *slash;

    if (len < 7 || memcmp(f, "$share/", 7) != 0)
        return false;
    slash = memchr(f + 7, '/', len - 7);
    if (slash == NULL || slash == f + 7 || slash == f + len - 1)
        return false;
    *g = f + 7;
    *glen = (size_t)(slash - *g);
    *ff = slash + 1;
    *flen = len - (size_t)(*ff - f);
    return true;
}

static struct group *group_find(struct node *n, const char *g, size_t glen)
{
    for (uint32_t i = 0; i < n->ngroups; i++) {
        if (n->groups[i].name_len == glen && memcmp(n->groups[i].name, g, glen) == 0)
            return &n->groups[i];
    }
    return NULL;
}

static struct group *group_add(struct node *n, const char *g, size_t glen)
{
    struct group *v = realloc(n->groups, (n->ngroups + 1) * sizeof(*v));
    char *name;

    if (v == NULL)
        return NULL;
    n->groups = v;
    if ((name = malloc(glen + 1)) == NULL)
        return NULL;
    memcpy(name, g, glen);
    name[glen] = '\0';
    v = &n->groups[n->ngroups++];
    memset(v, 0, sizeof(*v));
    v->name = name;
    v->name_len = (uint32_t)glen;
    return v;
}

static void group_del(struct node *n, struct group *g)
{
    free(g->name);
    sublist_free(&g->members);
    *g = n->groups[--n->ngroups];
    if (n->ngroups == 0) {
        free(n->groups);
        n->groups = NULL;
    }
}

/* --- API --- */

struct subs *subs_new(void)
{
    struct subs *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    if ((t->root = node_new(NULL, "", 0, KIND_ROOT)) == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

/* Tears the tree down without recursion: freed nodes' children join a work list threaded
 * through their (now unused) table links. */
void subs_free(struct subs *t)
{
    struct levels_entry *work = NULL;
    struct node *n;

    if (t == NULL)
        return;
    n = t->root;
    for (;;) {
        struct levels_entry *kids = levels_drain(&n->kids);
        struct node *extra[2] = { n->plus, n->hash };

        while (kids != NULL) {
            struct levels_entry *next = kids->next;
            kids->next = work;
            work = kids;
            kids = next;
        }
        for (int i = 0; i < 2; i++) {
            if (extra[i] != NULL) {
                extra[i]->e.next = work;
                work = &extra[i]->e;
            }
        }
        node_destroy(n);
        if (work == NULL)
            break;
        n = (struct node *)work;
        work = work->next;
    }
    free(t);
}

int subs_add(struct subs *t, const char *filter, size_t len, void *owner, uint8_t options,
             uint32_t identifier, bool *existed)
{
    struct subscriber s = { owner, options, identifier };
    const char *g = NULL, *f = filter;
    size_t glen = 0, flen = len;
    bool shared = share_split(filter, len, &g, &glen, &f, &flen);
    struct node *n = path_get(t, f, flen, true);
    struct group *grp = NULL;
    struct sublist *l;
    int64_t pos;

    *existed = false;
    if (n == NULL)
        return -1;
    if (shared) {
        grp = group_find(n, g, glen);
        if (grp == NULL && (grp = group_add(n, g, glen)) == NULL) {
            prune(t, n);
            return -1;
        }
        l = &grp->members;
    } else {
        l = &n->subs;
    }
    pos = sublist_find(l, owner);
    if (pos >= 0) {
        l->v[pos] = s;
        *existed = true;
        return 0;
    }
    if (sublist_append(l, &s) != 0) {
        if (grp != NULL && l->n == 0)
            group_del(n, grp);
        prune(t, n);
        return -1;
    }
    t->count++;
    t->shared += grp != NULL;
    return 0;
}

/* Where owner's subscription to filter sits: its list, position, node and group (NULL when not
 * shared). Returns false if it has none. */
static bool locate(struct subs *t, const char *filter, size_t len, const void *owner,
                   struct sublist **l, int64_t *pos, struct node **n, struct group **grp)
{
    const char *g = NULL, *f = filter;
    size_t glen = 0, flen = len;
    bool shared = share_split(filter, len, &g, &glen, &f, &flen);

    *grp = NULL;
    if ((*n = path_get(t, f, flen, false)) == NULL)
        return false;
    if (shared) {
        if ((*grp = group_find(*n, g, glen)) == NULL)
            return false;
        *l = &(*grp)->members;
    } else {
        *l = &(*n)->subs;
    }
    return (*pos = sublist_find(*l, owner)) >= 0;
}

bool subs_remove(struct subs *t, const char *filter, size_t len, void *owner)
{
    struct node *n;
    struct group *grp;
    struct sublist *l;
    int64_t pos;

    if (!locate(t, filter, len, owner, &l, &pos, &n, &grp))
        return false;
    sublist_del(l, (uint32_t)pos);
    if (grp != NULL && l->n == 0)
        group_del(n, grp);
    t->count--;
    t->shared -= grp != NULL;
    prune(t, n);
    return true;
}

bool subs_get(struct subs *t, const char *filter, size_t len, const void *owner,
              struct subscriber *out)
{
    struct node *n;
    struct group *grp;
    struct sublist *l;
    int64_t pos;

    if (!locate(t, filter, len, owner, &l, &pos, &n, &grp))
        return false;
    *out = l->v[pos];
    return true;
}

static void emit(struct node *n, subs_match_fn fn, void *ctx) /* advances round robins */
{
    for (uint32_t i = 0; i < n->subs.n; i++)
        fn(ctx, &n->subs.v[i], false);
    for (uint32_t i = 0; i < n->ngroups; i++) {
        struct group *g = &n->groups[i];

        if (g->rr >= g->members.n)
            g->rr = 0;
        fn(ctx, &g->members.v[g->rr++], true);
    }
}

/* Depth-first over the branches the topic can take: the literal child and '+' at each level,
 * '#' wherever it hangs. off is where the next topic level starts; off > len means the topic is
 * used up. The stack holds at most one pending branch per level. */
#define EMIT_ONLY SIZE_MAX /* a frame whose node's subscribers match as they are ('#') */

void subs_match(struct subs *t, const char *topic, size_t len, subs_match_fn fn, void *ctx)
{
    struct levels_frame local[32];
    struct levels_stack st;
    /* [MQTT-4.7.2-1]: wildcards at the first level do not match topics starting with '$'. */
    bool dollar = len > 0 && topic[0] == '$';

    levels_stack_init(&st, local, sizeof(local) / sizeof(local[0]));
    (void)levels_push(&st, t->root, 0);
    while (st.n > 0) {
        struct levels_frame fr = st.v[--st.n];
        struct node *n = fr.node;
        bool wild = fr.off != 0 || !dollar;

        if (fr.off == EMIT_ONLY) {
            emit(n, fn, ctx);
            continue;
        }
        if (fr.off > len) {
            emit(n, fn, ctx);
            if (n->hash != NULL) /* "a/#" also matches "a" */
                emit(n->hash, fn, ctx);
            continue;
        }
        /* Order of the matches, as 2.1.2 delivers overlapping subscriptions: the literal level
         * first, then '+', then '#' (pushed first, so popped last). */
        if (n->hash != NULL && wild)
            (void)levels_push(&st, n->hash, EMIT_ONLY);
        const char *lvl = topic + fr.off;
        const char *slash = memchr(lvl, '/', len - fr.off);
        size_t llen = slash != NULL ? (size_t)(slash - lvl) : len - fr.off;
        size_t next = fr.off + llen + 1;
        if (n->plus != NULL && wild)
            (void)levels_push(&st, n->plus, next);
        struct levels_entry *e = levels_find(&n->kids, lvl, llen, levels_hash(lvl, llen));
        if (e != NULL)
            (void)levels_push(&st, e, next);
    }
    levels_stack_done(&st);
}

size_t subs_shared_count(const struct subs *t)
{
    return t->shared;
}

size_t subs_count(const struct subs *t)
{
    return t->count;
}

size_t subs_debug_nodes(const struct subs *t)
{
    return t->nodes;
}
