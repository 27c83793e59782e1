/* retain.h - retained messages, one per topic, found by topic filter on subscribe. */
#ifndef RETAIN_H
#define RETAIN_H

#include <stddef.h>

#include "msg.h"

struct retain;

struct retain *retain_new(void);
void retain_free(struct retain *r);           /* drops every message's reference */
/* Stores m for its topic (takes a reference), or clears the topic when m has an empty payload.
 * Returns 0 or -1 on ENOMEM. */
int retain_set(struct retain *r, struct msg *m);
/* Calls fn for every retained message whose topic matches filter (wildcards allowed; '$'
 * topics are not matched by a leading wildcard). The message is borrowed for the call. */
typedef void (*retain_fn)(void *ctx, struct msg *m);
void retain_match(struct retain *r, const char *filter, size_t len, retain_fn fn, void *ctx);
/* Calls fn for every retained message, '$' topics included (for snapshots). */
void retain_foreach(struct retain *r, retain_fn fn, void *ctx);
size_t retain_count(const struct retain *r);

#endif
