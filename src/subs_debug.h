/* subs_debug.h - introspection of the subscription tree for unit tests; not for the broker. */
#ifndef SUBS_DEBUG_H
#define SUBS_DEBUG_H

#include <stddef.h>

#include "subs.h"

size_t subs_debug_nodes(const struct subs *t); /* tree nodes, the root not counted */

#endif
