/* retain.c - retained messages in a tree of topic levels, so a subscribe visits only the
 * branches its filter can match instead of every retained topic. Holds a reference per message;
 * knows nothing of subscribers, expiry or persistence. Callbacks of retain_match must not call
 * retain_set on the store being walked. */
#include "retain.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "levels.h"
#include "retain_debug.h"

struct rnode {
    struct levels_entry e; /* our key in the parent's table */
    struct rnode *parent;  /* NULL for the root */
    struct levels kids;
    struct msg *m;         /* one reference, or NULL for an inner level */
    char name[];
};

struct retain {
    struct rnode *root;
    size_t count;
    size_t nodes; /* excluding the root */
};

/* Frame offset meaning "every message below this node": the rest of the filter was '#'. */
#define SUBTREE SIZE_MAX

static struct rnode *rnode_new(struct rnode *parent, const char *s, size_t len, uint32_t hash)
{
    struct rnode *n = calloc(1, sizeof(*n) + len + 1);

    if (n == NULL)
        return NULL;
    memcpy(n->name, s, len);
    n->e.name = n->name;
    n->e.len = (uint32_t)len;
    n->e.hash = hash;
    n->parent = parent;
    return n;
}

static void prune(struct retain *r, struct rnode *n)
{
    while (n->parent != NULL && n->m == NULL && n->kids.n == 0) {
        struct rnode *parent = n->parent;

        levels_remove(&parent->kids, &n->e);
        free(n);
        r->nodes--;
        n = parent;
    }
}

/* Node of topic, created along with its path when create is set. NULL: absent, or with create,
 * ENOMEM (the partial path is pruned again). */
static struct rnode *path_get(struct retain *r, const char *t, size_t len, bool create)
{
    struct rnode *n = r->root;
    size_t off = 0;

    for (;;) {
        const char *slash = memchr(t + off, '/', len - off);
        size_t end = slash != NULL ? (size_t)(slash - t) : len;
        uint32_t h = levels_hash(t + off, end - off);
        struct levels_entry *e = levels_find(&n->kids, t + off, end - off, h);
        struct rnode *c = (struct rnode *)e;

        if (c == NULL && create) {
            c = rnode_new(n, t + off, end - off, h);
            if (c != NULL && levels_insert(&n->kids, &c->e) != 0) {
                free(c);
                c = NULL;
            }
            if (c != NULL)
                r->nodes++;
        }
        if (c == NULL) {
            if (create)
                prune(r, n);
            return NULL;
        }
        n = c;
        if (slash == NULL)
            return n;
        off = end + 1;
    }
}

struct retain *retain_new(void)
{
    struct retain *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    if ((r->root = rnode_new(NULL, "", 0, 0)) == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

/* Without recursion: drained children join a work list threaded through their table links. */
void retain_free(struct retain *r)
{
    struct levels_entry *work = NULL;
    struct rnode *n;

    if (r == NULL)
        return;
    n = r->root;
    for (;;) {
        struct levels_entry *kids = levels_drain(&n->kids);

        while (kids != NULL) {
            struct levels_entry *next = kids->next;
            kids->next = work;
            work = kids;
            kids = next;
        }
        msg_unref(n->m);
        free(n);
        if (work == NULL)
            break;
        n = (struct rnode *)work;
        work = work->next;
    }
    free(r);
}

int retain_set(struct retain *r, struct msg *m)
{
    struct rnode *n;

    if (m->payload_len == 0) {
        n = path_get(r, m->topic, m->topic_len, false);
        if (n != NULL && n->m != NULL) {
            msg_unref(n->m);
            n->m = NULL;
            r->count--;
            prune(r, n);
        }
        return 0;
    }
    if ((n = path_get(r, m->topic, m->topic_len, true)) == NULL)
        return -1;
    if (n->m != NULL)
        msg_unref(n->m);
    else
        r->count++;
    n->m = msg_ref(m);
    return 0;
}

/* Pushes n's children; at the first level (n the root) skips '$' topics, which a leading
 * wildcard must not match [MQTT-4.7.2-1]. */
static void push_kids(struct levels_stack *st, const struct rnode *n, size_t off)
{
    for (uint32_t i = 0; i < n->kids.cap; i++) {
        for (struct levels_entry *e = n->kids.b[i]; e != NULL; e = e->next) {
            if (n->parent == NULL && e->len > 0 && e->name[0] == '$')
                continue;
            (void)levels_push(st, e, off);
        }
    }
}

void retain_match(struct retain *r, const char *filter, size_t len, retain_fn fn, void *ctx)
{
    struct levels_frame local[64];
    struct levels_stack st;

    levels_stack_init(&st, local, sizeof(local) / sizeof(local[0]));
    (void)levels_push(&st, r->root, 0);
    while (st.n > 0) {
        struct levels_frame fr = st.v[--st.n];
        struct rnode *n = fr.node;

        if (fr.off == SUBTREE) {
            if (n->m != NULL)
                fn(ctx, n->m);
            push_kids(&st, n, SUBTREE);
            continue;
        }
        if (fr.off > len) {
            if (n->m != NULL)
                fn(ctx, n->m);
            continue;
        }
        const char *lvl = filter + fr.off;
        const char *slash = memchr(lvl, '/', len - fr.off);
        size_t llen = slash != NULL ? (size_t)(slash - lvl) : len - fr.off;
        size_t next = fr.off + llen + 1;

        if (llen == 1 && lvl[0] == '#' && slash == NULL) {
            if (n->m != NULL) /* "a/#" also matches "a" */
                fn(ctx, n->m);
            push_kids(&st, n, SUBTREE);
        } else if (llen == 1 && lvl[0] == '+') {
            push_kids(&st, n, next);
        } else {
            struct levels_entry *e = levels_find(&n->kids, lvl, llen, levels_hash(lvl, llen));
            if (e != NULL)
                (void)levels_push(&st, e, next);
        }
    }
    levels_stack_done(&st);
}

void retain_foreach(struct retain *r, retain_fn fn, void *ctx)
{
    struct levels_frame local[64];
    struct levels_stack st;

    levels_stack_init(&st, local, sizeof(local) / sizeof(local[0]));
    (void)levels_push(&st, r->root, 0);
    while (st.n > 0) {
        struct rnode *n = st.v[--st.n].node;

        if (n->m != NULL)
            fn(ctx, n->m);
        for (uint32_t i = 0; i < n->kids.cap; i++) {
            for (struct levels_entry *e = n->kids.b[i]; e != NULL; e = e->next)
                (void)levels_push(&st, e, 0);
        }
    }
    levels_stack_done(&st);
}

size_t retain_count(const struct retain *r)
{
    return r->count;
}

size_t retain_debug_nodes(const struct retain *r)
{
    return r->nodes;
}
