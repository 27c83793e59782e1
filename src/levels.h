/* levels.h - private to subs.c and retain.c: a chained hash table of one tree node's children,
 * keyed by a topic level string, with the entry embedded in the child (no allocation per entry),
 * plus a small growable stack for walking a tree without recursion. Not a general map. */
#ifndef LEVELS_H
#define LEVELS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Embedded in each child node; name points at the node's own copy of its level. */
struct levels_entry {
    struct levels_entry *next; /* bucket chain; free for other lists once out of a table */
    const char *name;
    uint32_t len;
    uint32_t hash;
};

struct levels {
    struct levels_entry **b; /* NULL until the first child */
    uint32_t n;
    uint32_t cap;            /* power of two */
};

#define LEVELS_MIN_CAP 4u

/* FNV-1a: levels are short, so a byte loop beats anything needing setup. */
static inline uint32_t levels_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static inline struct levels_entry *levels_find(const struct levels *t, const char *s, size_t len,
                                               uint32_t hash)
{
    struct levels_entry *e;

    if (t->n == 0)
        return NULL;
    for (e = t->b[hash & (t->cap - 1)]; e != NULL; e = e->next) {
        if (e->hash == hash && e->len == len && memcmp(e->name, s, len) == 0)
            return e;
    }
    return NULL;
}

static inline int levels_resize(struct levels *t, uint32_t cap)
{
    struct levels_entry **nb = calloc(cap, sizeof(*nb));

    if (nb == NULL)
        return -1;
    for (uint32_t i = 0; i < t->cap; i++) {
        struct levels_entry *e = t->b[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            e->next = nb[e->hash & (cap - 1)];
            nb[e->hash & (cap - 1)] = e;
        }
    }
    free(t->b);
    t->b = nb;
    t->cap = cap;
    return 0;
}

/* Inserts e (name, len and hash already set; not present yet). Returns 0 or -1 on ENOMEM. */
static inline int levels_insert(struct levels *t, struct levels_entry *e)
{
    uint32_t i;

    if (t->b == NULL || t->n >= t->cap) {
        if (t->cap > UINT32_MAX / 2)
            return -1;
        if (levels_resize(t, t->b == NULL ? LEVELS_MIN_CAP : t->cap * 2) != 0)
            return -1;
    }
    i = e->hash & (t->cap - 1);
    e->next = t->b[i];
    t->b[i] = e;
    t->n++;
    return 0;
}

/* Unlinks e, which must be in t. Releases the bucket array with the last entry and shrinks a
 * mostly empty one, so memory follows churn down; a failed shrink keeps the larger array. */
static inline void levels_remove(struct levels *t, struct levels_entry *e)
{
    struct levels_entry **pp = &t->b[e->hash & (t->cap - 1)];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    e->next = NULL;
    if (--t->n == 0) {
        free(t->b);
        t->b = NULL;
        t->cap = 0;
    } else if (t->cap > LEVELS_MIN_CAP && t->n < t->cap / 8) {
        (void)levels_resize(t, t->cap / 4 < LEVELS_MIN_CAP ? LEVELS_MIN_CAP : t->cap / 4);
    }
}

/* Empties t and returns its entries chained through next (for tearing a tree down). */
static inline struct levels_entry *levels_drain(struct levels *t)
{
    struct levels_entry *head = NULL;

    for (uint32_t i = 0; i < t->cap; i++) {
        struct levels_entry *e = t->b[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            e->next = head;
            head = e;
        }
    }
    free(t->b);
    t->b = NULL;
    t->n = t->cap = 0;
    return head;
}

/* Work stack for tree walks: a topic may have 32768 levels, too deep to recurse safely. Starts
 * in the caller's frame and moves to the heap only for unusually deep or wide walks. */
struct levels_frame {
    void *node;
    size_t off;
};

struct levels_stack {
    struct levels_frame *v;
    size_t n, cap;
    struct levels_frame *local;
};

static inline void levels_stack_init(struct levels_stack *s, struct levels_frame *local, size_t n)
{
    s->v = s->local = local;
    s->n = 0;
    s->cap = n;
}

/* Returns -1 (and drops the frame) on ENOMEM: a walk then misses that branch rather than fail
 * as a whole, since its callers have no way to report an error. */
static inline int levels_push(struct levels_stack *s, void *node, size_t off)
{
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        struct levels_frame *v;

        if (s->v == s->local) {
            v = malloc(cap * sizeof(*v));
            if (v != NULL)
                memcpy(v, s->v, s->n * sizeof(*v));
        } else {
            v = realloc(s->v, cap * sizeof(*v));
        }
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].node = node;
    s->v[s->n].off = off;
    s->n++;
    return 0;
}

static inline void levels_stack_done(struct levels_stack *s)
{
    if (s->v != s->local)
        free(s->v);
}

#endif
