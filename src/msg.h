/* msg.h - reference-counted application messages: one copy per PUBLISH however many
 * subscribers, retained store and queues receive it. */
#ifndef MSG_H
#define MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msg {
    uint32_t refs;
    uint8_t qos;              /* as published */
    bool retain;              /* as published */
    uint16_t topic_len;
    uint32_t payload_len;
    uint32_t props_len;       /* v5 properties to forward (raw), may be 0 */
    int64_t expiry;           /* absolute monotonic seconds; 0 = never */
    char *source_id;          /* owned: client id of the publisher ("" for the broker) */
    char *source_user;        /* owned, may be NULL */
    uint64_t seq;             /* broker-wide sequence number, for ordering */
    char *topic;              /* points into data, NUL-terminated */
    uint8_t *payload;         /* points into data */
    uint8_t *props;           /* points into data */
    uint8_t data[];           /* topic NUL payload props */
};

/* New message with 1 reference; copies topic, payload and props. NULL on ENOMEM. */
struct msg *msg_new(const char *topic, size_t topic_len, const void *payload, size_t len,
                    const void *props, size_t props_len, uint8_t qos, bool retain);
static inline struct msg *msg_ref(struct msg *m)
{
    m->refs++;
    return m;
}
void msg_unref(struct msg *m); /* frees on the last reference */

/* Messages alive (retained, queued, in flight) and their payload bytes, for $SYS. */
struct msg_store_stats {
    uint64_t count, bytes;
};
extern struct msg_store_stats msg_store;

#endif
