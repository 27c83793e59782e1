/* persist.c - the persistence service: one store file, an append-only journal of changes
 * written once per loop iteration before any acknowledgement leaves, snapshots that rewrite the
 * file with only the live state, the restore at start-up and the import of Mosquitto's
 * mosquitto.db. The byte format is store.c's; mosquitto.db is read by mosqdb.c. */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
#include "log.h"
#include "mosqdb.h"
#include "retain.h"
#include "store.h"
#include "subs.h"

#define STORE_SUFFIX ".journal"
#define COMPACT_MIN (64u << 20)   /* journal growth that triggers a snapshot, at least ... */
#define COMPACT_FACTOR 2u         /* ... or this many times the last snapshot */
#define WRITE_CHUNK (1u << 20)    /* snapshot write size */

bool persist_on;

static struct {
    int fd;
    char *path;                   /* our store */
    char *dir;                    /* persistence location, "" = current directory */
    struct buf pending;           /* records not yet written */
    struct buf post;              /* records made while a PUBLISH record is open */
    size_t pub_off;               /* open PUBLISH record in pending; SIZE_MAX = none */
    struct msg *pub_msg;          /* the message it describes, while open */
    int pub_depth;
    uint32_t in_sid;              /* publisher's QoS 2 id for the next PUBLISH record */
    uint16_t in_pid;
    uint64_t last_body_id;        /* message whose body the journal already holds */
    uint32_t next_sid;
    uint64_t size;                /* bytes in the file */
    uint64_t snapshot_size;       /* size right after the last snapshot */
    uint64_t changes;             /* records since the last snapshot */
    int64_t next_autosave;        /* monotonic ms */
    bool write_failed;            /* logged once until a write succeeds again */
} P = { .fd = -1, .pub_off = SIZE_MAX };

/* ---- clocks: the store keeps wall-clock seconds, the broker monotonic time ------------------ */

static int64_t mono_to_wall_s(int64_t mono_s)
{
    return mono_s == 0 ? 0 : (int64_t)time(NULL) + (mono_s - now_ms() / 1000);
}

static int64_t wall_to_mono_s(int64_t wall_s)
{
    return wall_s == 0 ? 0 : now_ms() / 1000 + (wall_s - (int64_t)time(NULL));
}

static struct store_str sstr(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return (struct store_str){ s != NULL ? s : "", (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n) };
}

static void msg_to_store(const struct msg *m, struct store_msg *sm)
{
    memset(sm, 0, sizeof(*sm));
    sm->id = m->seq;
    sm->expiry = mono_to_wall_s(m->expiry);
    sm->qos = m->qos;
    sm->retain = m->retain;
    sm->topic = (struct store_str){ m->topic, m->topic_len };
    sm->source_id = sstr(m->source_id);
    sm->source_user = sstr(m->source_user);
    sm->has_user = m->source_user != NULL;
    sm->payload = m->payload;
    sm->payload_len = m->payload_len;
    sm->props = m->props;
    sm->props_len = m->props_len;
}

static char *str_dup(struct store_str s)
{
    char *p = malloc((size_t)s.len + 1);

    if (p != NULL) {
        memcpy(p, s.p, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* A new message from its stored form (1 reference); NULL on ENOMEM. */
static struct msg *msg_from_store(const struct store_msg *sm)
{
    struct msg *m = msg_new(sm->topic.p, sm->topic.len, sm->payload, sm->payload_len, sm->props,
                            sm->props_len, sm->qos, sm->retain);

    if (m == NULL)
        return NULL;
    m->seq = sm->id;
    m->expiry = wall_to_mono_s(sm->expiry);
    if (sm->expiry != 0 && m->expiry <= 0)
        m->expiry = 1; /* already expired: keep it "in the past", not "never" */
    if (sm->source_id.len > 0)
        m->source_id = str_dup(sm->source_id);
    if (sm->has_user)
        m->source_user = str_dup(sm->source_user);
    if (sm->id > broker.msg_seq)
        broker.msg_seq = sm->id;
    return m;
}

/* ---- the journal ---------------------------------------------------------------------------- */

static bool stored(const struct session *s)
{
    return persist_on && s != NULL && s->persistent && s->store_id != 0;
}

/* The buffer a record goes to: after the open PUBLISH record, if there is one. */
static struct buf *out(void)
{
    P.changes++;
    return P.pub_off != SIZE_MAX ? &P.post : &P.pending;
}

static void journal_failed(struct buf *b, size_t len)
{
    b->len = len;
    log_err("Error: out of memory writing to the persistence journal.");
}

/* Appends one record made by the expression put (which writes to b) to the journal; on
 * ENOMEM drops what it wrote and logs. */
#define JOURNAL(b, put)                                                                           \
    do {                                                                                          \
        struct buf *b = out();                                                                    \
        size_t len_ = b->len;                                                                     \
        if (!(put))                                                                               \
            journal_failed(b, len_);                                                              \
    } while (0)

void persist_publish_begin(struct msg *m)
{
    if (!persist_on || P.pub_depth++ > 0)
        return;
    P.pub_msg = m;
}

void persist_inbound_qos2(struct session *s, uint16_t pid)
{
    if (!stored(s))
        return;
    P.in_sid = s->store_id;
    P.in_pid = pid;
}

static bool retain_kept(const struct msg *m)
{
    /* $SYS is the broker's own, rebuilt at start. */
    return m->retain && strncmp(m->topic, "$SYS", 4) != 0;
}

/* Opens the PUBLISH record of the current message in pending. */
static bool open_publish(void)
{
    struct store_msg sm;

    if (P.pub_off != SIZE_MAX)
        return true;
    msg_to_store(P.pub_msg, &sm);
    P.pub_off = store_publish_begin(&P.pending, &sm, true, retain_kept(P.pub_msg));
    if (P.pub_off == SIZE_MAX)
        return false;
    P.last_body_id = sm.id;
    P.changes++;
    return true;
}

/* A one-target PUBLISH: the message went to one session outside deliver_publish() (retained
 * messages on subscribe), or in a nested delivery. */
static void single_target(struct buf *b, const struct msg *m, const struct store_target *t)
{
    struct store_msg sm;
    size_t len = b->len, off;

    msg_to_store(m, &sm);
    off = store_publish_begin(b, &sm, sm.id != P.last_body_id, false);
    if (off == SIZE_MAX || !store_publish_target(b, t) || !store_publish_end(b, off, 0, 0)) {
        journal_failed(b, len);
        return;
    }
    P.last_body_id = sm.id;
}

void persist_queued(struct session *s, const struct outmsg *o)
{
    struct store_target t;

    if (!stored(s))
        return;
    t = (struct store_target){ s->store_id, o->qos, o->retain, o->sub_id };
    if (P.pub_msg == o->m && P.pub_depth == 1) {
        size_t len = P.pending.len;
        if (!open_publish() || !store_publish_target(&P.pending, &t))
            journal_failed(&P.pending, len);
        return;
    }
    single_target(out(), o->m, &t);
}

void persist_publish_end(struct msg *m)
{
    if (!persist_on || --P.pub_depth > 0)
        return;
    if (P.pub_off == SIZE_MAX && (P.in_sid != 0 || retain_kept(m)) && !open_publish())
        journal_failed(&P.pending, P.pending.len);
    if (P.pub_off != SIZE_MAX &&
        !store_publish_end(&P.pending, P.pub_off, P.in_sid, P.in_pid))
        journal_failed(&P.pending, P.pub_off);
    P.pub_off = SIZE_MAX;
    P.pub_msg = NULL;
    P.in_sid = 0;
    P.in_pid = 0;
    if (P.post.len > 0) {
        if (!buf_append(&P.pending, P.post.data, P.post.len))
            log_err("Error: out of memory writing to the persistence journal.");
        P.post.len = 0;
    }
}

void persist_flight(struct session *s, const struct outmsg *o)
{
    if (stored(s))
        JOURNAL(b, store_put_flight(b, s->store_id, o->m->seq, o->pid, o->qos == 1 ? 1 : 2));
}

static void put_sid_pid(uint8_t type, struct session *s, uint16_t pid)
{
    if (stored(s))
        JOURNAL(b, store_put_sid_pid(b, type, s->store_id, pid));
}

void persist_pubrec(struct session *s, uint16_t pid)
{
    put_sid_pid(STORE_PUBREC, s, pid);
}

void persist_done(struct session *s, uint16_t pid)
{
    put_sid_pid(STORE_DONE, s, pid);
}

void persist_inq2_del(struct session *s, uint16_t pid)
{
    put_sid_pid(STORE_INQ2_DEL, s, pid);
}

void persist_drop(struct session *s, const struct outmsg *o)
{
    if (stored(s))
        JOURNAL(b, store_put_drop(b, s->store_id, o->m->seq));
}

static bool put_session(struct buf *b, const struct session *s, bool v3)
{
    struct store_str id = sstr(s->id), user = sstr(s->username);
    int64_t exp = 0;

    if (s->client == NULL && s->expire_at != 0)
        exp = (int64_t)time(NULL) + (s->expire_at - now_ms()) / 1000;
    return store_put_session(b, s->store_id, &id, &user, s->username != NULL, s->expiry_interval,
                             exp, s->last_pid, v3 ? STORE_SESSION_V3 : 0);
}

void persist_session(struct session *s, bool v3)
{
    if (!persist_on || s == NULL || !s->persistent)
        return;
    if (s->store_id == 0)
        s->store_id = P.next_sid++;
    JOURNAL(b, put_session(b, s, v3));
}

void persist_session_del(struct session *s)
{
    if (!persist_on || s->store_id == 0)
        return;
    JOURNAL(b, store_put_sid_pid(b, STORE_SESSION_DEL, s->store_id, 0));
    s->store_id = 0;
}

void persist_sub(struct session *s, const char *filter, uint8_t options, uint32_t identifier)
{
    if (stored(s))
        JOURNAL(b, store_put_sub(b, s->store_id, filter, strlen(filter), options, identifier));
}

void persist_unsub(struct session *s, const char *filter)
{
    if (stored(s))
        JOURNAL(b, store_put_unsub(b, s->store_id, filter, strlen(filter)));
}

static bool put_will(struct buf *b, const char *id, const char *username, const struct msg *m,
                     int64_t at, uint32_t delay)
{
    struct store_str sid = sstr(id), user = sstr(username);
    struct store_msg sm;

    msg_to_store(m, &sm);
    return store_put_will(b, &sid, &user, username != NULL,
                          (int64_t)time(NULL) + (at - now_ms()) / 1000, delay, &sm);
}

void persist_will(const char *id, const char *username, const struct msg *m, int64_t at,
                  uint32_t delay)
{
    if (persist_on)
        JOURNAL(b, put_will(b, id, username, m, at, delay));
}

void persist_will_del(const char *id)
{
    if (persist_on)
        JOURNAL(b, store_put_will_del(b, id, strlen(id)));
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void persist_flush(void)
{
    if (P.pending.len == 0 || P.fd == -1)
        return;
    /* Never inside an open PUBLISH record: its length is not known yet. deliver.c does not
     * write to sockets while delivering, so this only guards against a future caller. */
    if (P.pub_off != SIZE_MAX)
        return;
    if (write_all(P.fd, P.pending.data, P.pending.len) == -1 ||
        (broker.conf->persistence_sync && fdatasync(P.fd) == -1)) {
        if (!P.write_failed)
            log_err("Error: Unable to write to the persistence store %s: %s.", P.path,
                    strerror(errno));
        P.write_failed = true;
        /* A partial write leaves a torn record: the next good write must start after a
         * snapshot, so force one at the next tick. */
        P.next_autosave = 0;
        P.changes++;
        return;
    }
    P.write_failed = false;
    P.size += P.pending.len;
    P.pending.len = 0;
    if (P.size - P.snapshot_size > COMPACT_MIN &&
        P.size > COMPACT_FACTOR * P.snapshot_size)
        persist_snapshot("compaction");
}

/* ---- snapshots ------------------------------------------------------------------------------ */

struct snap {
    int fd;
    struct buf b;
    bool failed;
    size_t retained, sessions, messages;
    struct idset bodies;          /* message ids whose body is already in the snapshot */
};

static void snap_drain(struct snap *sn, bool all)
{
    if (sn->failed || (!all && sn->b.len < WRITE_CHUNK))
        return;
    if (write_all(sn->fd, sn->b.data, sn->b.len) == -1)
        sn->failed = true;
    sn->b.len = 0;
}

static void snap_retained(void *ctx, struct msg *m)
{
    struct snap *sn = ctx;
    struct store_msg sm;

    if (!retain_kept(m))
        return;
    msg_to_store(m, &sm);
    if (!store_put_retain(&sn->b, &sm))
        sn->failed = true;
    sn->retained++;
    snap_drain(sn, false);
}

static void snap_outmsg(struct snap *sn, const struct session *s, const struct outmsg *o)
{
    struct store_target t = { s->store_id, o->qos, o->retain, o->sub_id };
    struct store_msg sm;
    void **seen = idset_slot(&sn->bodies, o->m->seq, true);
    bool body = seen == NULL || *seen == NULL;
    size_t off;

    if (seen != NULL)
        *seen = (void *)1;
    msg_to_store(o->m, &sm);
    off = store_publish_begin(&sn->b, &sm, body, false);
    if (off == SIZE_MAX || !store_publish_target(&sn->b, &t) ||
        !store_publish_end(&sn->b, off, 0, 0))
        sn->failed = true;
    if (o->state != OUT_QUEUED) {
        if (!store_put_flight(&sn->b, s->store_id, o->m->seq, o->pid, o->qos == 1 ? 1 : 2) ||
            (o->state == OUT_WAIT_PUBCOMP &&
             !store_put_sid_pid(&sn->b, STORE_PUBREC, s->store_id, o->pid)))
            sn->failed = true;
    }
    sn->messages++;
}

static void snap_session(struct snap *sn, struct session *s)
{
    if (!s->persistent)
        return;
    if (s->store_id == 0)
        s->store_id = P.next_sid++; /* imported, or kept before persistence was on */
    if (!put_session(&sn->b, s, s->client != NULL && s->client->version < 5))
        sn->failed = true;
    for (uint32_t i = 0; i < s->nfilters; i++) {
        struct subscriber sub;
        const char *f = s->filters[i];
        if (subs_get(broker.subs, f, strlen(f), s, &sub) &&
            !store_put_sub(&sn->b, s->store_id, f, strlen(f), sub.options, sub.identifier))
            sn->failed = true;
    }
    for (uint32_t i = 0; i < s->n_in_qos2; i++) {
        if (!store_put_sid_pid(&sn->b, STORE_INQ2, s->store_id, s->in_qos2[i]))
            sn->failed = true;
    }
    for (const struct outmsg *o = s->inflight.head; o != NULL; o = o->next)
        snap_outmsg(sn, s, o);
    for (const struct outmsg *o = s->queue.head; o != NULL; o = o->next)
        snap_outmsg(sn, s, o);
    sn->sessions++;
    snap_drain(sn, false);
}

static void snap_will(void *ctx, const char *id, const char *username, const struct msg *m,
                      int64_t at, uint32_t delay)
{
    struct snap *sn = ctx;

    if (!put_will(&sn->b, id, username, m, at, delay))
        sn->failed = true;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir[0] != '\0' ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd != -1) {
        (void)fsync(fd);
        close(fd);
    }
}

static int open_append(void)
{
    struct stat st;

    if (P.fd != -1)
        close(P.fd);
    P.fd = open(P.path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (P.fd == -1 || fstat(P.fd, &st) == -1) {
        log_err("Error: Unable to open persistence store %s: %s.", P.path, strerror(errno));
        return -1;
    }
    P.size = (uint64_t)st.st_size;
    return 0;
}

/* Writes the whole state to path (a new file). Returns 0 or -1 with errno set. */
static int write_snapshot(const char *path, struct snap *sn)
{
    size_t pos = 0;
    const char *key;
    void *value;

    sn->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sn->fd == -1)
        return -1;
    store_put_header(&sn->b);
    if (broker.retain != NULL)
        retain_foreach(broker.retain, snap_retained, sn);
    while (hmap_next(broker.sessions, &pos, &key, &value))
        snap_session(sn, value);
    will_foreach(snap_will, sn);
    snap_drain(sn, true);
    idset_clear(&sn->bodies);
    buf_free(&sn->b);
    if (sn->failed || fdatasync(sn->fd) == -1) {
        int e = errno;
        close(sn->fd);
        unlink(path);
        errno = e ? e : ENOMEM;
        return -1;
    }
    return close(sn->fd);
}

int persist_snapshot(const char *why)
{
    struct snap sn = { .fd = -1 };
    size_t n;
    char *tmp;
    int64_t t0 = now_ms();

    if (!persist_on)
        return 0;
    n = strlen(P.path) + 5;
    if ((tmp = malloc(n)) == NULL)
        return -1;
    snprintf(tmp, n, "%s.new", P.path);
    if (strcmp(why, "compaction") != 0 && strcmp(why, "autosave") != 0)
        log_notice("Saving in-memory database to %s.", P.path);
    if (write_snapshot(tmp, &sn) == -1 || rename(tmp, P.path) == -1) {
        log_err("Error saving in-memory database to %s: %s.", P.path, strerror(errno));
        free(tmp);
        return -1;
    }
    free(tmp);
    sync_dir(P.dir);
    /* The snapshot holds everything the pending records describe. */
    P.pending.len = 0;
    P.last_body_id = 0;
    if (open_append() == -1) {
        persist_on = false;
        return -1;
    }
    P.snapshot_size = P.size;
    P.changes = 0;
    P.write_failed = false;
    log_debug("Snapshot (%s): %zu retained messages, %zu sessions, %zu queued messages, "
              "%llu bytes in %lld ms.", why, sn.retained, sn.sessions, sn.messages,
              (unsigned long long)P.size, (long long)(now_ms() - t0));
    return 0;
}

void persist_tick(int64_t now)
{
    const struct conf *cf = broker.conf;

    if (!persist_on)
        return;
    if (P.pending.len == 0 && P.pending.cap > (1u << 20))
        buf_free(&P.pending); /* a burst's buffer goes back once the burst is over */
    if (P.write_failed && P.changes > 0 && now >= P.next_autosave) {
        persist_snapshot("recovery");
        P.next_autosave = now + 5000;
        return;
    }
    if (cf->autosave_interval <= 0)
        return;
    if (cf->autosave_on_changes) {
        if (P.changes >= (uint64_t)cf->autosave_interval)
            persist_snapshot("autosave");
        return;
    }
    if (now >= P.next_autosave) {
        if (P.changes > 0)
            persist_snapshot("autosave");
        P.next_autosave = now + (int64_t)cf->autosave_interval * 1000;
    }
}

void persist_close(void)
{
    if (P.fd != -1)
        close(P.fd);
    P.fd = -1;
    persist_on = false;
    buf_free(&P.pending);
    buf_free(&P.post);
    free(P.path);
    free(P.dir);
    P.path = P.dir = NULL;
}

/* ---- restore -------------------------------------------------------------------------------- */

struct restore {
    struct idset sids;            /* store id -> session */
    struct idset msgs;            /* message id -> struct msg (one reference held here) */
    size_t retained, sessions, subs, queued;
};

static struct session *r_session(struct restore *rs, uint32_t sid)
{
    void **v = idset_slot(&rs->sids, sid, false);
    return v != NULL ? *v : NULL;
}

static struct outmsg *find_queued(struct session *s, uint64_t id, struct outmsg **prev)
{
    *prev = NULL;
    for (struct outmsg *o = s->queue.head; o != NULL; *prev = o, o = o->next) {
        if (o->m->seq == id)
            return o;
    }
    return NULL;
}

static struct outmsg *find_flight(struct session *s, uint16_t pid, struct outmsg **prev)
{
    *prev = NULL;
    for (struct outmsg *o = s->inflight.head; o != NULL; *prev = o, o = o->next) {
        if (o->pid == pid)
            return o;
    }
    return NULL;
}

static int r_publish(struct restore *rs, const struct store_rec *r)
{
    void **slot = idset_slot(&rs->msgs, r->msg.id, r->has_body);
    struct msg *m;

    if (slot == NULL)
        return r->has_body ? -1 : 0; /* a body-less reference to a message we never saw */
    if (*slot == NULL && (*slot = msg_from_store(&r->msg)) == NULL)
        return -1;
    m = *slot;
    if (r->set_retain && retain_set(broker.retain, m) != 0)
        return -1;
    for (uint32_t i = 0; i < r->ntargets; i++) {
        struct store_target t;
        struct session *s;
        struct outmsg *o;

        store_target_at(r, i, &t);
        if ((s = r_session(rs, t.sid)) == NULL)
            continue;
        if ((o = calloc(1, sizeof(*o))) == NULL)
            return -1;
        o->m = msg_ref(m);
        o->qos = t.qos;
        o->retain = t.retain;
        o->sub_id = t.sub_id;
        outlist_push(&s->queue, o);
    }
    if (r->in_sid != 0) {
        struct session *s = r_session(rs, r->in_sid);
        if (s != NULL && session_add_in_qos2(s, r->in_pid) != 0)
            return -1;
    }
    return 0;
}

static int r_session_rec(struct restore *rs, const struct store_rec *r)
{
    char *id = str_dup(r->id);
    struct session *s;
    void **slot;

    if (id == NULL)
        return -1;
    s = session_find(id);
    if (s == NULL) {
        s = session_new(id);
        rs->sessions++;
    }
    free(id);
    if (s == NULL || (slot = idset_slot(&rs->sids, r->sid, true)) == NULL)
        return -1;
    *slot = s;
    s->store_id = r->sid;
    s->persistent = true;
    s->expiry_interval = r->expiry_interval;
    s->last_pid = r->last_pid;
    free(s->username);
    s->username = r->has_user ? str_dup(r->user) : NULL;
    persist_session_offline(s, r->expire_at, (r->flags & STORE_SESSION_V3) != 0);
    if (r->sid >= P.next_sid)
        P.next_sid = r->sid + 1;
    return 0;
}

void persist_session_offline(struct session *s, int64_t expire_wall, bool v3)
{
    if (expire_wall != 0) {
        int64_t left = expire_wall - (int64_t)time(NULL);
        s->expire_at = now_ms() + (left > 0 ? left * 1000 : 0);
    } else {
        /* It was connected when the broker stopped: it disconnected now. */
        uint32_t exp = s->expiry_interval;
        if (v3 && broker.conf->persistent_client_expiration > 0)
            exp = (uint32_t)broker.conf->persistent_client_expiration;
        s->expire_at = exp == UINT32_MAX || exp == 0 ? 0 : now_ms() + (int64_t)exp * 1000;
    }
}

static int r_sub(struct restore *rs, const struct store_rec *r, bool add)
{
    struct session *s = r_session(rs, r->sid);
    char *f;
    bool existed = false;

    if (s == NULL)
        return 0;
    if ((f = str_dup(r->filter)) == NULL)
        return -1;
    if (add) {
        if (subs_add(broker.subs, f, r->filter.len, s, r->options, r->identifier, &existed) != 0) {
            free(f);
            return -1;
        }
        if (!existed) {
            session_add_filter(s, f, r->filter.len);
            rs->subs++;
        }
    } else if (subs_remove(broker.subs, f, r->filter.len, s)) {
        session_remove_filter(s, f, r->filter.len);
        rs->subs--;
    }
    free(f);
    return 0;
}

static void r_flight(struct restore *rs, const struct store_rec *r)
{
    struct session *s = r_session(rs, r->sid);
    struct outmsg *o, *prev;

    if (s == NULL)
        return;
    if (r->type == STORE_FLIGHT) {
        if ((o = find_queued(s, r->msg_id, &prev)) == NULL)
            return;
        outlist_unlink(&s->queue, prev, o);
        o->pid = r->pid;
        o->state = r->state == 1 ? OUT_WAIT_PUBACK : r->state == 2 ? OUT_WAIT_PUBREC
                                                                   : OUT_WAIT_PUBCOMP;
        o->pid_lapped = true;
        outlist_push(&s->inflight, o);
        s->last_pid = r->pid;
    } else if (r->type == STORE_DROP) {
        if ((o = find_queued(s, r->msg_id, &prev)) != NULL) {
            outlist_unlink(&s->queue, prev, o);
            outmsg_free(o);
        }
    } else if ((o = find_flight(s, r->pid, &prev)) != NULL) {
        if (r->type == STORE_PUBREC) {
            o->state = OUT_WAIT_PUBCOMP;
        } else {
            outlist_unlink(&s->inflight, prev, o);
            outmsg_free(o);
        }
    }
}

static int r_will(const struct store_rec *r)
{
    struct msg *m = msg_from_store(&r->msg);
    char *id = str_dup(r->id), *user = r->has_user ? str_dup(r->user) : NULL;
    int64_t left = r->expire_at - (int64_t)time(NULL);
    int rc = -1;

    if (m != NULL && id != NULL)
        rc = will_restore(id, user, m, now_ms() + (left > 0 ? left * 1000 : 0), r->identifier);
    else
        msg_unref(m);
    free(id);
    free(user);
    return rc;
}

static int apply(struct restore *rs, const struct store_rec *r)
{
    struct session *s;

    switch (r->type) {
    case STORE_PUBLISH:
        return r_publish(rs, r);
    case STORE_RETAIN: {
        struct msg *m = msg_from_store(&r->msg);
        int rc = m != NULL ? retain_set(broker.retain, m) : -1;
        msg_unref(m);
        return rc;
    }
    case STORE_SESSION:
        return r_session_rec(rs, r);
    case STORE_SESSION_DEL:
        if ((s = r_session(rs, r->sid)) != NULL) {
            *idset_slot(&rs->sids, r->sid, false) = NULL;
            session_free(s);
        }
        return 0;
    case STORE_SUB:
    case STORE_UNSUB:
        return r_sub(rs, r, r->type == STORE_SUB);
    case STORE_FLIGHT:
    case STORE_PUBREC:
    case STORE_DONE:
    case STORE_DROP:
        r_flight(rs, r);
        return 0;
    case STORE_INQ2:
        return (s = r_session(rs, r->sid)) != NULL ? session_add_in_qos2(s, r->pid) : 0;
    case STORE_INQ2_DEL:
        if ((s = r_session(rs, r->sid)) != NULL)
            session_remove_in_qos2(s, r->pid);
        return 0;
    case STORE_WILL:
        return r_will(r);
    case STORE_WILL_DEL: {
        char *id = str_dup(r->id);
        if (id != NULL)
            will_cancel_delayed(id);
        free(id);
        return 0;
    }
    default:
        return 0;
    }
}

static void restore_done(struct restore *rs)
{
    size_t pos = 0;
    const char *key;
    void *value;

    for (size_t i = 0; i < rs->msgs.cap; i++) {
        if (rs->msgs.keys[i] != 0)
            msg_unref(rs->msgs.vals[i]);
    }
    idset_clear(&rs->msgs);
    idset_clear(&rs->sids);
    rs->queued = 0;
    while (hmap_next(broker.sessions, &pos, &key, &value)) {
        struct session *s = value;
        rs->queued += s->inflight.count + s->queue.count;
    }
    rs->retained = retain_count(broker.retain);
}

enum load_result { LOAD_OK, LOAD_TORN, LOAD_DAMAGED, LOAD_FAILED };

/* Applies the records of the store at P.path. *valid: bytes up to the last good record.
 * *why: what was wrong (static). */
static enum load_result load(struct restore *rs, size_t *valid, const char **why)
{
    int fd = open(P.path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *map;
    size_t len, pos;
    enum load_result res = LOAD_OK;

    *valid = 0;
    *why = NULL;
    if (fd == -1 || fstat(fd, &st) == -1) {
        *why = strerror(errno);
        if (fd != -1)
            close(fd);
        return LOAD_FAILED;
    }
    len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        *why = "empty file";
        return LOAD_TORN; /* created, then the broker stopped before the header was written */
    }
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        *why = strerror(errno);
        return LOAD_FAILED;
    }
    (void)madvise(map, len, MADV_SEQUENTIAL);
    switch (store_header_check(map, len, why)) {
    case DEC_NEED_MORE:
        *why = "file shorter than its header";
        munmap(map, len);
        return LOAD_TORN;
    case DEC_ERROR:
        munmap(map, len);
        return LOAD_DAMAGED;
    case DEC_DONE:
        break;
    }
    pos = STORE_HEADER_LEN;
    while (pos < len) {
        struct store_rec r;
        size_t used;
        enum dec d = store_decode(map + pos, len - pos, &r, &used, why);

        if (d == DEC_NEED_MORE) {
            res = LOAD_TORN;
            *why = "incomplete last record";
            break;
        }
        if (d == DEC_ERROR) {
            /* A bad checksum in the very last record is a write the crash cut short, like a
             * short one: its length reaches the end of the file. */
            uint32_t body = (uint32_t)map[pos] << 24 | (uint32_t)map[pos + 1] << 16 |
                            (uint32_t)map[pos + 2] << 8 | map[pos + 3];
            res = (uint64_t)pos + STORE_REC_HEAD + body == len ? LOAD_TORN : LOAD_DAMAGED;
            break;
        }
        if (apply(rs, &r) != 0) {
            *why = "out of memory";
            res = LOAD_FAILED;
            break;
        }
        pos += used;
    }
    *valid = pos;
    munmap(map, len);
    return res;
}

/* ---- start-up ------------------------------------------------------------------------------- */

static char *join(const char *dir, const char *file, const char *suffix)
{
    size_t n = strlen(dir) + strlen(file) + strlen(suffix) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s%s%s%s", dir, dir[0] != '\0' && dir[strlen(dir) - 1] != '/' ? "/" : "",
                 file, suffix);
    return p;
}

static const char *user_name(void)
{
    struct passwd *pw = getpwuid(geteuid());
    return pw != NULL ? pw->pw_name : "?";
}

/* The location must exist and be writable by the user the broker runs as. */
static int check_location(void)
{
    const char *d = P.dir[0] != '\0' ? P.dir : ".";
    struct stat st;

    if (stat(d, &st) == -1 || !S_ISDIR(st.st_mode) || access(d, W_OK | X_OK) == -1) {
        int e = errno;
        if (e == 0 || (e != EACCES && stat(d, &st) == 0 && !S_ISDIR(st.st_mode)))
            e = ENOTDIR;
        log_err("Error: Unable to use persistence location %s as user %s (uid %d): %s.", d,
                user_name(), (int)geteuid(), strerror(e));
        return -1;
    }
    return 0;
}

static int create_store(void)
{
    struct snap sn = { .fd = -1 };
    size_t n = strlen(P.path) + 5;
    char *tmp = malloc(n);
    int rc = -1;

    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.new", P.path);
    if (write_snapshot(tmp, &sn) == 0 && rename(tmp, P.path) == 0) {
        sync_dir(P.dir);
        rc = open_append();
    } else {
        log_err("Error: Unable to create persistence store %s as user %s: %s.", P.path,
                user_name(), strerror(errno));
    }
    free(tmp);
    if (rc == 0)
        P.snapshot_size = P.size;
    return rc;
}

static void log_restored(const struct restore *rs, const char *from, int64_t t0)
{
    /* The first four are Mosquitto 2.1.2's own lines after reading mosquitto.db. */
    log_info("Restored %zu retained messages", rs->retained);
    log_info("Restored %zu clients", rs->sessions);
    log_info("Restored %zu subscriptions", rs->subs);
    log_info("Restored %zu client messages", rs->queued);
    log_notice("Restored state from %s in %lld ms.", from, (long long)(now_ms() - t0));
}

/* Our store exists: replay it. Returns 0 or -1 (refuse to start). */
static int restore_ours(void)
{
    struct restore rs = { 0 };
    size_t valid;
    const char *why;
    int64_t t0 = now_ms();
    enum load_result res = load(&rs, &valid, &why);

    restore_done(&rs);
    switch (res) {
    case LOAD_OK:
        break;
    case LOAD_TORN:
        log_warn("Warning: Persistence store %s ends in a torn record at byte %zu (%s): the "
                 "broker stopped while writing it. Dropped it.", P.path, valid, why);
        if (truncate(P.path, (off_t)valid) == -1) {
            log_err("Error: Unable to truncate %s: %s.", P.path, strerror(errno));
            return -1;
        }
        if (valid < STORE_HEADER_LEN) {
            log_restored(&rs, P.path, t0);
            return create_store();
        }
        break;
    case LOAD_FAILED:
        log_err("Error: Unable to read persistence store %s: %s.", P.path, why);
        return -1;
    case LOAD_DAMAGED: {
        char aside[4096];
        snprintf(aside, sizeof(aside), "%s.damaged-%lld", P.path, (long long)time(NULL));
        if (!broker.conf->persistence_allow_damaged) {
            log_err("Error: Persistence store %s is damaged at byte %zu (%s). Not starting; the "
                    "file is left as it is. Set persistence_allow_damaged true to start with "
                    "what it holds before that point (the file is then moved aside).",
                    P.path, valid, why);
            return -1;
        }
        if (rename(P.path, aside) == -1) {
            log_err("Error: Unable to move damaged persistence store %s to %s: %s.", P.path,
                    aside, strerror(errno));
            return -1;
        }
        log_err("Persistence store %s is damaged at byte %zu (%s): moved it to %s and "
                "started with the %zu bytes before the damage (persistence_allow_damaged).",
                P.path, valid, why, aside, valid);
        log_restored(&rs, aside, t0);
        return create_store();
    }
    }
    log_restored(&rs, P.path, t0);
    if (open_append() == -1)
        return -1;
    P.snapshot_size = P.size;
    return 0;
}

/* No store of ours but Mosquitto's file: import it into a new store, keep the original. */
static int import_mosquitto(const char *db)
{
    struct persist_import_counts n;
    int64_t t0 = now_ms();
    char err[256];

    if (persist_import_mosquitto(db, &n, err, sizeof(err)) != 0) {
        log_err("Error: Unable to import Mosquitto persistence file %s: %s.", db, err);
        return -1;
    }
    log_notice("Imported Mosquitto persistence file %s (left unchanged): %zu retained messages, "
               "%zu clients, %zu subscriptions, %zu client messages in %lld ms.", db, n.retained,
               n.clients, n.subscriptions, n.client_msgs, (long long)(now_ms() - t0));
    return create_store();
}

int persist_init(void)
{
    const struct conf *cf = broker.conf;
    const char *loc = cf->persistence_location;
    char *mosq = NULL;
    int rc;

    if (!cf->persistence)
        return 0;
    /* Our addition: the variable Mosquitto's container images set, when the config names no
     * location (Mosquitto 2.1.2 itself does not read it). */
    if (loc == NULL || loc[0] == '\0')
        loc = getenv("MOSQUITTO_PERSISTENCE_LOCATION");
    P.dir = strdup(loc != NULL ? loc : "");
    P.path = P.dir != NULL ? join(P.dir, cf->persistence_file, STORE_SUFFIX) : NULL;
    mosq = P.dir != NULL ? join(P.dir, cf->persistence_file, "") : NULL;
    P.next_sid = 1;
    if (P.path == NULL || mosq == NULL) {
        free(mosq);
        return -1;
    }
    if (check_location() != 0) {
        free(mosq);
        return -1;
    }
    if (access(P.path, F_OK) == 0)
        rc = restore_ours();
    else if (access(mosq, F_OK) == 0)
        rc = import_mosquitto(mosq);
    else
        rc = create_store();
    free(mosq);
    if (rc != 0)
        return -1;
    persist_on = true;
    P.next_autosave = now_ms() + (int64_t)cf->autosave_interval * 1000;
    return 0;
}
