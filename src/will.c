/* will.c - last will messages: published when a connection is lost without DISCONNECT or taken
 * over, after the v5 will delay if one was asked for (cancelled if the session comes back). */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "broker.h"
#include "log.h"
#include "persist.h"

struct delayed_will {
    struct delayed_will *next;
    char *session_id;       /* owned */
    struct msg *m;          /* one reference */
    int64_t at;             /* monotonic ms */
    struct auth **auth;     /* the listener's auth slot: SIGHUP may replace what it holds */
    char *username;         /* owned, may be NULL */
    uint32_t delay;         /* seconds, as asked (for the store) */
};

static struct delayed_will *delayed;

void will_set(struct client *c, struct msg *m, uint32_t delay)
{
    will_clear(c);
    c->will.m = m;
    c->will.delay = delay;
}

void will_clear(struct client *c)
{
    if (c->will.m != NULL)
        msg_unref(c->will.m);
    c->will.m = NULL;
}

static void publish_will(struct msg *m, struct auth *a, const char *id, const char *username)
{
    /* $SYS belongs to the broker: a will there is dropped, as 2.1.2 does (will/v5/will-topic-sys). */
    if (strncmp(m->topic, "$SYS/", 5) == 0 || strcmp(m->topic, "$SYS") == 0 ||
        !auth_check_acl(a, id, username, m->topic, ACL_WRITE))
        return;
    deliver_publish(m, NULL);
}

void will_send(struct client *c)
{
    struct msg *m = c->will.m;
    struct session *s = c->session;

    if (m == NULL)
        return;
    if (m->source_id == NULL && c->id != NULL)
        m->source_id = strdup(c->id);
    if (c->will.delay > 0 && s != NULL && s->persistent) {
        struct delayed_will *d = calloc(1, sizeof(*d));
        if (d != NULL) {
            uint32_t delay = c->will.delay;
            if (s->expiry_interval != UINT32_MAX && s->expiry_interval < delay)
                delay = s->expiry_interval;
            d->session_id = strdup(c->id);
            d->m = msg_ref(m);
            d->at = now_ms() + (int64_t)delay * 1000;
            d->auth = c->listener->auth;
            d->username = c->username ? strdup(c->username) : NULL;
            d->delay = delay;
            d->next = delayed;
            delayed = d;
            persist_will(d->session_id, d->username, m, d->at, delay);
            return;
        }
    }
    publish_will(m, *c->listener->auth, c->id, c->username);
}

static void delayed_free(struct delayed_will *d)
{
    msg_unref(d->m);
    free(d->session_id);
    free(d->username);
    free(d);
}

void will_cancel_delayed(const char *session_id)
{
    struct delayed_will **pp = &delayed;

    while (*pp != NULL) {
        struct delayed_will *d = *pp;
        if (strcmp(d->session_id, session_id) == 0) {
            *pp = d->next;
            persist_will_del(d->session_id);
            delayed_free(d);
        } else {
            pp = &d->next;
        }
    }
}

void will_tick(int64_t now)
{
    struct delayed_will **pp = &delayed;

    while (*pp != NULL) {
        struct delayed_will *d = *pp;
        if (now >= d->at) {
            *pp = d->next;
            publish_will(d->m, *d->auth, d->session_id, d->username);
            persist_will_del(d->session_id);
            delayed_free(d);
        } else {
            pp = &d->next;
        }
    }
}

void will_free_all(void)
{
    while (delayed != NULL) {
        struct delayed_will *d = delayed;
        delayed = d->next;
        delayed_free(d);
    }
}

void will_foreach(will_fn fn, void *ctx)
{
    for (struct delayed_will *d = delayed; d != NULL; d = d->next)
        fn(ctx, d->session_id, d->username, d->m, d->at, d->delay);
}

int will_restore(const char *id, const char *username, struct msg *m, int64_t at, uint32_t delay)
{
    struct delayed_will *d = calloc(1, sizeof(*d));

    if (d == NULL || (d->session_id = strdup(id)) == NULL ||
        (username != NULL && (d->username = strdup(username)) == NULL)) {
        if (d != NULL)
            free(d->session_id);
        free(d);
        msg_unref(m);
        return -1;
    }
    will_cancel_delayed(id); /* a later record for the same client replaces the earlier one */
    d->m = m;
    d->at = at;
    d->delay = delay;
    d->auth = &broker.auth;  /* the listener it came in on is not known after a restart */
    d->next = delayed;
    delayed = d;
    return 0;
}
