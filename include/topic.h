/* topic.h - MQTT UTF-8 rules, topic name and filter checks, filter matching, $share parsing. */
#ifndef TOPIC_H
#define TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* MQTT UTF-8: well-formed, no U+0000, no surrogates, no control characters U+0001..U+001F and
 * U+007F..U+009F (as Mosquitto rejects them). */
bool utf8_valid(const void *p, size_t len);

/* Topic name for PUBLISH: 1..65535 bytes, no '+' or '#'. UTF-8 is checked separately. */
bool topic_name_valid(const char *t, size_t len);
/* Topic filter: '+' alone in its level, '#' alone and last. */
bool topic_filter_valid(const char *f, size_t len);
/* Does filter match topic? Leading wildcard never matches a topic starting with '$'. */
bool topic_matches(const char *filter, size_t flen, const char *topic, size_t tlen);
/* "$share/GROUP/FILTER": true and *group / *filter set (borrowed) when f is a shared
 * subscription; false otherwise. Returns true with *group_len 0 for malformed share names so the
 * caller can reject them: check topic_share_valid(). */
bool topic_is_shared(const char *f, size_t len);
bool topic_share_split(const char *f, size_t len, const char **group, size_t *group_len,
                       const char **filter, size_t *filter_len);
/* True when f is a shared subscription whose group and filter are both well-formed. */
bool topic_share_valid(const char *f, size_t len);

#endif
