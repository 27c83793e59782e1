/* persist_import.c - carries Mosquitto's mosquitto.db (2.0.x and 2.1.x, read by mosqdb.c) into
 * the broker's state on the first start with persistence: retained messages, persistent
 * sessions, their subscriptions, queued and in-flight messages, inbound QoS 2 ids. The file is
 * mapped read-only and never changed. persist.c then writes our own store from the result. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "hmap.h"
#include "idset.h"
#include "mosqdb.h"
#include "mqtt_protocol.h"
#include "persist.h"
#include "property.h"
#include "retain.h"
#include "subs.h"
#include "topic.h"

struct import {
    struct idset msgs;            /* store id -> struct msg (one reference held here) */
    struct msg **incoming;        /* inbound QoS 2 messages awaiting PUBREL: delivered at the end */
    size_t nincoming;
    struct persist_import_counts *n;
};

static char *cstr(struct mosqdb_bytes b)
{
    char *s = malloc((size_t)b.len + 1);

    if (s != NULL) {
        if (b.len > 0)
            memcpy(s, b.p, b.len);
        s[b.len] = '\0';
    }
    return s;
}

/* Debian's 2.0.11 writes a stale username length into some CLIENT chunks (seen: 768 bytes of
 * heap for a client that had none), so only a plausible name is kept. */
static bool plausible_name(struct mosqdb_bytes b)
{
    return b.len > 0 && b.len < 1024 && memchr(b.p, 0, b.len) == NULL &&
           utf8_valid(b.p, b.len);
}

static int msg_chunk(struct import *im, const struct mosqdb_rec *r)
{
    struct msg *m;
    void **slot;

    if (r->topic.len == 0 || r->store_id == 0)
        return 0;
    m = msg_new((const char *)r->topic.p, r->topic.len, r->payload.p, r->payload.len, r->props.p,
                r->props.len, r->qos, r->retain != 0);
    if (m == NULL || (slot = idset_slot(&im->msgs, r->store_id, true)) == NULL) {
        msg_unref(m);
        return -1;
    }
    if (r->expiry != 0) {
        int64_t left = r->expiry - (int64_t)time(NULL);
        m->expiry = now_ms() / 1000 + (left > 0 ? left : 0);
        if (m->expiry == 0)
            m->expiry = 1;
    }
    if (r->client_id.len > 0)
        m->source_id = cstr(r->client_id);
    if (plausible_name(r->username))
        m->source_user = cstr(r->username);
    m->seq = ++broker.msg_seq;
    msg_unref(*slot); /* a repeated store id: the later chunk wins */
    *slot = m;
    return 0;
}

static struct session *session_of(struct mosqdb_bytes id)
{
    char *s = cstr(id);
    struct session *ses = s != NULL ? session_find(s) : NULL;

    free(s);
    return ses;
}

static int client_chunk(struct import *im, const struct mosqdb_rec *r)
{
    char *id = cstr(r->client_id);
    struct session *s;

    if (id == NULL)
        return -1;
    if ((s = session_find(id)) == NULL && (s = session_new(id)) == NULL) {
        free(id);
        return -1;
    }
    free(id);
    s->persistent = true;
    s->expiry_interval = r->expiry_interval;
    s->last_pid = r->mid;
    free(s->username);
    s->username = plausible_name(r->username) ? cstr(r->username) : NULL;
    /* An expiry interval of "never" is what Mosquitto stores for 3.x sessions. */
    persist_session_offline(s, r->expiry, r->expiry_interval == UINT32_MAX);
    im->n->clients++;
    return 0;
}

static int sub_chunk(struct import *im, const struct mosqdb_rec *r)
{
    struct session *s = session_of(r->client_id);
    char *f;
    bool existed = false;
    int rc = 0;

    if (s == NULL || r->topic.len == 0)
        return 0;
    if ((f = cstr(r->topic)) == NULL)
        return -1;
    if (subs_add(broker.subs, f, r->topic.len, s, (uint8_t)(r->qos | r->options), r->identifier,
                 &existed) != 0)
        rc = -1;
    else if (!existed) {
        session_add_filter(s, f, r->topic.len);
        im->n->subscriptions++;
    }
    free(f);
    return rc;
}

static uint32_t sub_id_of(struct mosqdb_bytes props)
{
    struct mqtt_prop p;

    return mqtt_props_find((struct mqtt_bin){ props.p, props.len }, PROP_SUBSCRIPTION_IDENTIFIER,
                           &p)
               ? p.num
               : 0;
}

static int client_msg_chunk(struct import *im, const struct mosqdb_rec *r)
{
    struct session *s = session_of(r->client_id);
    void **slot = idset_slot(&im->msgs, r->store_id, false);
    struct outmsg *o;

    if (s == NULL || slot == NULL || *slot == NULL)
        return 0; /* a reference to something the file does not hold: nothing to carry over */
    if (r->direction == 0) {
        /* Inbound QoS 2 between PUBREC and PUBREL: remember the id so the client's PUBREL is
         * answered, and let the message reach subscribers that do not hold it yet. */
        struct msg **v = realloc(im->incoming, (im->nincoming + 1) * sizeof(*v));
        if (v == NULL || session_add_in_qos2(s, r->mid) != 0) {
            if (v != NULL)
                im->incoming = v;
            return -1;
        }
        im->incoming = v;
        im->incoming[im->nincoming++] = msg_ref(*slot);
        return 0;
    }
    if ((o = calloc(1, sizeof(*o))) == NULL)
        return -1;
    o->m = msg_ref(*slot);
    o->qos = r->qos;
    o->retain = r->retain != 0;
    o->sub_id = sub_id_of(r->props);
    switch (r->state) {
    case MOSQDB_MS_WAIT_PUBACK:
        o->state = OUT_WAIT_PUBACK;
        break;
    case MOSQDB_MS_WAIT_PUBREC:
        o->state = OUT_WAIT_PUBREC;
        break;
    case MOSQDB_MS_RESEND_PUBREL:
    case MOSQDB_MS_WAIT_PUBCOMP:
        o->state = OUT_WAIT_PUBCOMP;
        break;
    default:
        o->state = OUT_QUEUED;
        break;
    }
    if (o->state != OUT_QUEUED && o->qos > 0) {
        o->pid = r->mid;
        o->pid_lapped = true;
        outlist_push(&s->inflight, o);
    } else {
        o->state = OUT_QUEUED;
        outlist_push(&s->queue, o);
    }
    im->n->client_msgs++;
    return 0;
}

static int retain_chunk(struct import *im, const struct mosqdb_rec *r)
{
    void **slot = idset_slot(&im->msgs, r->store_id, false);

    if (slot == NULL || *slot == NULL)
        return 0;
    if (retain_set(broker.retain, *slot) != 0)
        return -1;
    im->n->retained++;
    return 0;
}

/* Walks the chunks; pass 1 takes messages and clients, pass 2 what refers to them, so the
 * order of chunks in the file does not matter. */
static int walk(struct import *im, const uint8_t *p, size_t len, int pass, char *err,
                size_t errlen)
{
    size_t pos = MOSQDB_HEADER_LEN;

    for (;;) {
        struct mosqdb_rec r;
        size_t used;
        const char *why;
        int rc = mosqdb_next(p + pos, len - pos, &r, &used, &why), ok = 0;

        if (rc == 0)
            return 0;
        if (rc < 0) {
            snprintf(err, errlen, "%s at byte %zu", why, pos);
            return -1;
        }
        if (pass == 1 && r.type == MOSQDB_MSG_STORE)
            ok = msg_chunk(im, &r);
        else if (pass == 1 && r.type == MOSQDB_CLIENT)
            ok = client_chunk(im, &r);
        else if (pass == 2 && r.type == MOSQDB_SUB)
            ok = sub_chunk(im, &r);
        else if (pass == 2 && r.type == MOSQDB_CLIENT_MSG)
            ok = client_msg_chunk(im, &r);
        else if (pass == 2 && r.type == MOSQDB_RETAIN)
            ok = retain_chunk(im, &r);
        if (ok != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pos += used;
    }
}

/* Delivers the inbound QoS 2 messages to sessions that do not already hold them. */
static void deliver_incoming(struct import *im)
{
    for (size_t i = 0; i < im->nincoming; i++) {
        struct msg *m = im->incoming[i];
        size_t pos = 0;
        const char *key;
        void *value;
        bool held = false;

        while (hmap_next(broker.sessions, &pos, &key, &value) && !held) {
            const struct session *s = value;
            for (const struct outmsg *o = s->queue.head; o != NULL && !held; o = o->next)
                held = o->m == m;
            for (const struct outmsg *o = s->inflight.head; o != NULL && !held; o = o->next)
                held = o->m == m;
        }
        if (!held)
            deliver_publish(m, NULL);
        msg_unref(m);
    }
    free(im->incoming);
}

int persist_import_mosquitto(const char *path, struct persist_import_counts *n, char *err,
                             size_t errlen)
{
    struct import im = { .n = n };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *map;
    const char *why;
    int rc = -1;

    memset(n, 0, sizeof(*n));
    if (fd == -1 || fstat(fd, &st) == -1) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd != -1)
            close(fd);
        return -1;
    }
    map = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                         : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "%s", st.st_size > 0 ? strerror(errno) : "empty file");
        return -1;
    }
    if (mosqdb_header(map, (size_t)st.st_size, &why) != 0)
        snprintf(err, errlen, "%s", why);
    else if (walk(&im, map, (size_t)st.st_size, 1, err, errlen) == 0 &&
             walk(&im, map, (size_t)st.st_size, 2, err, errlen) == 0)
        rc = 0;
    munmap(map, (size_t)st.st_size);
    deliver_incoming(&im);
    for (size_t i = 0; i < im.msgs.cap; i++) {
        if (im.msgs.keys[i] != 0)
            msg_unref(im.msgs.vals[i]);
    }
    idset_clear(&im.msgs);
    return rc;
}
