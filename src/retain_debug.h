/* retain_debug.h - introspection of the retained-message tree for unit tests; not for the
 * broker. */
#ifndef RETAIN_DEBUG_H
#define RETAIN_DEBUG_H

#include <stddef.h>

#include "retain.h"

size_t retain_debug_nodes(const struct retain *r); /* tree nodes, the root not counted */

#endif
