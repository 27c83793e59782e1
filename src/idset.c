/* idset.c - see idset.h. Linear probing, kept at most half full. */
#include "idset.h"

#include <stdlib.h>

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static int grow(struct idset *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    uint64_t *nk = calloc(ncap, sizeof(*nk));
    void **nv = calloc(ncap, sizeof(*nv));

    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->keys[i] == 0)
            continue;
        size_t j = mix(s->keys[i]) & (ncap - 1);
        while (nk[j] != 0)
            j = (j + 1) & (ncap - 1);
        nk[j] = s->keys[i];
        nv[j] = s->vals[i];
    }
    free(s->keys);
    free(s->vals);
    s->keys = nk;
    s->vals = nv;
    s->cap = ncap;
    return 0;
}

void **idset_slot(struct idset *s, uint64_t k, bool create)
{
    size_t i;

    if (k == 0 || (create && s->n * 2 >= s->cap && grow(s) != 0) || s->cap == 0)
        return NULL;
    i = mix(k) & (s->cap - 1);
    while (s->keys[i] != 0 && s->keys[i] != k)
        i = (i + 1) & (s->cap - 1);
    if (s->keys[i] == 0) {
        if (!create)
            return NULL;
        s->keys[i] = k;
        s->vals[i] = NULL;
        s->n++;
    }
    return &s->vals[i];
}

void idset_clear(struct idset *s)
{
    free(s->keys);
    free(s->vals);
    *s = (struct idset){ 0 };
}
