/* idset.h - a map from non-zero 64-bit ids to pointers (open addressing), for the persistence
 * code's short-lived lookups: message and session ids while restoring, importing or writing a
 * snapshot. Not for the broker's long-lived state. Zero-initialise a struct idset to start. */
#ifndef IDSET_H
#define IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset {
    uint64_t *keys;               /* owned; 0 = empty slot, so id 0 cannot be stored */
    void **vals;                  /* owned; the values themselves are the caller's */
    size_t cap, n;
};

/* The value slot of id k (k != 0). With create, a missing one is added holding NULL; NULL is
 * returned when k is absent (without create) or on ENOMEM. */
void **idset_slot(struct idset *s, uint64_t k, bool create);
void idset_clear(struct idset *s);  /* frees the table, back to empty */

#endif
