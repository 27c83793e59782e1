/* session.c - sessions by client id: creation, the filters each holds in the tree, expiry of
 * persistent sessions whose client stays away. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "hmap.h"
#include "log.h"
#include "persist.h"
#include "subs.h"

struct session *session_find(const char *id)
{
    return hmap_get(broker.sessions, id);
}

struct session *session_new(const char *id)
{
    struct session *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->id = strdup(id);
    if (s->id == NULL || hmap_put(broker.sessions, s->id, s) != 0) {
        free(s->id);
        free(s);
        return NULL;
    }
    return s;
}

void session_free(struct session *s)
{
    persist_session_del(s);
    if (hmap_get(broker.sessions, s->id) == s)
        hmap_del(broker.sessions, s->id);
    for (size_t i = 0; i < s->nfilters; i++) {
        subs_remove(broker.subs, s->filters[i], strlen(s->filters[i]), s);
        free(s->filters[i]);
    }
    free(s->filters);
    outlist_clear(&s->inflight);
    outlist_clear(&s->queue);
    free(s->in_qos2);
    free(s->username);
    if (s->client != NULL) {
        s->client->session = NULL;
        if (s->client->id_borrowed && s->client->id == s->id) {
            s->client->id = NULL;
            s->client->id_borrowed = false;
        }
    }
    free(s->id);
    free(s);
}

void session_add_filter(struct session *s, const char *filter, size_t len)
{
    char *f;

    if (s->nfilters == s->cap_filters) {
        size_t cap = s->cap_filters ? s->cap_filters * 2 : 4;
        char **v = realloc(s->filters, cap * sizeof(*v));
        if (v == NULL)
            return;
        s->filters = v;
        s->cap_filters = cap;
    }
    f = malloc(len + 1);
    if (f == NULL)
        return;
    memcpy(f, filter, len);
    f[len] = '\0';
    s->filters[s->nfilters++] = f;
}

bool session_remove_filter(struct session *s, const char *filter, size_t len)
{
    for (size_t i = 0; i < s->nfilters; i++) {
        if (strlen(s->filters[i]) == len && memcmp(s->filters[i], filter, len) == 0) {
            free(s->filters[i]);
            s->filters[i] = s->filters[--s->nfilters];
            return true;
        }
    }
    return false;
}

void session_check_expiry(int64_t now)
{
    size_t pos = 0;
    const char *key;
    void *value;
    struct session *expired = NULL;

    /* Collect first: freeing while iterating would reshuffle the map under us. */
    while (hmap_next(broker.sessions, &pos, &key, &value)) {
        struct session *s = value;
        if (s->client == NULL && s->expire_at != 0 && now >= s->expire_at) {
            s->client = (struct client *)expired; /* reuse the pointer as a list link */
            expired = s;
        }
    }
    while (expired != NULL) {
        struct session *s = expired;
        expired = (struct session *)s->client;
        s->client = NULL;
        log_notice("Expiring client %s due to timeout.", s->id);
        broker.stats.clients_expired++;
        session_free(s);
    }
}

void session_free_all(void)
{
    size_t pos = 0;
    const char *key;
    void *value;
    struct session *all = NULL;

    while (hmap_next(broker.sessions, &pos, &key, &value)) {
        struct session *s = value;
        s->client = (struct client *)all;
        all = s;
    }
    while (all != NULL) {
        struct session *s = all;
        all = (struct session *)s->client;
        s->client = NULL;
        session_free(s);
    }
}

bool session_has_in_qos2(const struct session *s, uint16_t pid)
{
    for (size_t i = 0; i < s->n_in_qos2; i++) {
        if (s->in_qos2[i] == pid)
            return true;
    }
    return false;
}

int session_add_in_qos2(struct session *s, uint16_t pid)
{
    if (session_has_in_qos2(s, pid))
        return 0;
    if (s->n_in_qos2 == s->cap_in_qos2) {
        size_t cap = s->cap_in_qos2 ? s->cap_in_qos2 * 2 : 8;
        uint16_t *p = realloc(s->in_qos2, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        s->in_qos2 = p;
        s->cap_in_qos2 = cap;
    }
    s->in_qos2[s->n_in_qos2++] = pid;
    return 0;
}

bool session_remove_in_qos2(struct session *s, uint16_t pid)
{
    for (size_t i = 0; i < s->n_in_qos2; i++) {
        if (s->in_qos2[i] == pid) {
            s->in_qos2[i] = s->in_qos2[--s->n_in_qos2];
            return true;
        }
    }
    return false;
}
