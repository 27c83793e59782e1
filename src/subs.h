/* subs.h - the subscription tree: topic filters by level, '+' and '#', $share groups. Matching
 * costs time proportional to the topic's depth (children of a level are hashed), not to the
 * number of subscriptions. Knows nothing of clients beyond an opaque owner pointer. */
#ifndef SUBS_H
#define SUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct subs;               /* the tree */

struct subscriber {
    void *owner;           /* the subscribing session; opaque here */
    uint8_t options;       /* QoS and MQTT 5 option bits (SUBOPT_*) */
    uint32_t identifier;   /* MQTT 5 subscription identifier, 0 = none */
};

struct subs *subs_new(void);
void subs_free(struct subs *t);

/* Adds or replaces owner's subscription to filter (which may be "$share/group/f"). Returns 0,
 * or -1 on ENOMEM. *existed tells whether it replaced one (for retain handling 1). */
int subs_add(struct subs *t, const char *filter, size_t len, void *owner, uint8_t options,
             uint32_t identifier, bool *existed);
/* Removes owner's subscription to filter; true if there was one. */
bool subs_remove(struct subs *t, const char *filter, size_t len, void *owner);

/* Copies owner's subscription to filter into *out; false if it has none. */
bool subs_get(struct subs *t, const char *filter, size_t len, const void *owner,
              struct subscriber *out);

/* Calls fn once for each subscription matching topic. For a shared subscription group, only one
 * member of the group is chosen (round robin) per call. Non-shared subscriptions of the same
 * owner with several matching filters produce several calls (the caller merges them). */
typedef void (*subs_match_fn)(void *ctx, const struct subscriber *s, bool shared);
void subs_match(struct subs *t, const char *topic, size_t len, subs_match_fn fn, void *ctx);

size_t subs_count(const struct subs *t); /* total subscriptions, for $SYS */
size_t subs_shared_count(const struct subs *t); /* shared-group members among them */

#endif
