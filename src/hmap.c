/* hmap.c - see hmap.h. Deletion uses backward-shift so no tombstones accumulate. */
#include "hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 16 bytes a slot: the hash is recomputed when needed rather than stored, since the sessions
 * map holds one slot per client and idle connections are counted in bytes. */
struct slot {
    const char *key;
    void *value;
};

struct hmap {
    struct slot *slots;
    size_t cap;                                       /* power of two */
    size_t count;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;                         /* FNV-1a */

    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

struct hmap *hmap_new(void)
{
    struct hmap *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    h->cap = 16;
    h->slots = calloc(h->cap, sizeof(*h->slots));
    if (h->slots == NULL) {
        free(h);
        return NULL;
    }
    return h;
}

void hmap_free(struct hmap *h)
{
    if (h == NULL)
        return;
    free(h->slots);
    free(h);
}

static size_t find(const struct hmap *h, const char *key, uint32_t hash)
{
    size_t mask = h->cap - 1;
    size_t i = hash & mask;

    while (h->slots[i].key != NULL) {
        if (strcmp(h->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *hmap_get(const struct hmap *h, const char *key)
{
    size_t i = find(h, key, hash_str(key));

    return h->slots[i].key != NULL ? h->slots[i].value : NULL;
}

static int grow(struct hmap *h)
{
    struct slot *old = h->slots;
    size_t oldcap = h->cap;
    struct slot *slots = calloc(oldcap * 2, sizeof(*slots));

    if (slots == NULL)
        return -1;
    h->slots = slots;
    h->cap = oldcap * 2;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key != NULL)
            h->slots[find(h, old[i].key, hash_str(old[i].key))] = old[i];
    }
    free(old);
    return 0;
}

int hmap_put(struct hmap *h, const char *key, void *value)
{
    uint32_t hash = hash_str(key);
    size_t i;

    if ((h->count + 1) * 4 > h->cap * 3 && grow(h) != 0)
        return -1;
    i = find(h, key, hash);
    if (h->slots[i].key == NULL)
        h->count++;
    h->slots[i].key = key;
    h->slots[i].value = value;
    return 0;
}

void *hmap_del(struct hmap *h, const char *key)
{
    size_t mask = h->cap - 1;
    size_t i = find(h, key, hash_str(key));
    void *value;

    if (h->slots[i].key == NULL)
        return NULL;
    value = h->slots[i].value;
    h->slots[i].key = NULL;
    h->count--;
    /* Backward shift: move later entries of the probe run into the hole when that brings them
     * no further from their home slot. */
    for (size_t j = (i + 1) & mask; h->slots[j].key != NULL; j = (j + 1) & mask) {
        size_t home = hash_str(h->slots[j].key) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->slots[i] = h->slots[j];
            h->slots[j].key = NULL;
            i = j;
        }
    }
    return value;
}

size_t hmap_count(const struct hmap *h)
{
    return h->count;
}

bool hmap_next(const struct hmap *h, size_t *pos, const char **key, void **value)
{
    while (*pos < h->cap) {
        struct slot *s = &h->slots[(*pos)++];
        if (s->key != NULL) {
            *key = s->key;
            *value = s->value;
            return true;
        }
    }
    return false;
}
