/* hmap.h - string-keyed hash map (open addressing, linear probing) for client ids and other
 * lookups by name. Keys are borrowed: the stored value must own them and outlive its entry. */
#ifndef HMAP_H
#define HMAP_H

#include <stdbool.h>
#include <stddef.h>

struct hmap;

struct hmap *hmap_new(void);
void hmap_free(struct hmap *h);                       /* values are not freed */
void *hmap_get(const struct hmap *h, const char *key);
int hmap_put(struct hmap *h, const char *key, void *value); /* replaces; -1 on ENOMEM */
void *hmap_del(struct hmap *h, const char *key);      /* returns the removed value or NULL */
size_t hmap_count(const struct hmap *h);
/* Iteration: *pos starts at 0; returns false at the end. Do not modify the map meanwhile. */
bool hmap_next(const struct hmap *h, size_t *pos, const char **key, void **value);

#endif
