/* msg.c - reference-counted application messages: one allocation per PUBLISH holding topic,
 * payload and forwarded properties, shared by every queue and the retained store. Does not
 * check topics or properties: the packet decoders did that. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

struct msg_store_stats msg_store;

struct msg *msg_new(const char *topic, size_t topic_len, const void *payload, size_t len,
                    const void *props, size_t props_len, uint8_t qos, bool retain)
{
    struct msg *m;
    size_t size = sizeof(*m) + topic_len + 1;

    /* The header's field widths are the wire limits; anything larger is a caller bug. */
    if (topic_len > UINT16_MAX || len > UINT32_MAX || props_len > UINT32_MAX)
        return NULL;
    if (len > SIZE_MAX - size || props_len > SIZE_MAX - size - len) /* 32-bit size_t */
        return NULL;
    size += len + props_len;
    if ((m = malloc(size)) == NULL)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->refs = 1;
    msg_store.count++;
    msg_store.bytes += len;
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)topic_len;
    m->payload_len = (uint32_t)len;
    m->props_len = (uint32_t)props_len;
    m->topic = (char *)m->data;
    m->payload = m->data + topic_len + 1;
    m->props = m->payload + len;
    if (topic_len > 0)
        memcpy(m->topic, topic, topic_len);
    m->topic[topic_len] = '\0';
    if (len > 0)
        memcpy(m->payload, payload, len);
    if (props_len > 0)
        memcpy(m->props, props, props_len);
    return m;
}

void msg_unref(struct msg *m)
{
    if (m == NULL || --m->refs > 0)
        return;
    msg_store.count--;
    msg_store.bytes -= m->payload_len;
    free(m->source_id);
    free(m->source_user);
    free(m);
}
