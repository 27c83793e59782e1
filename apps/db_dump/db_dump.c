/* db_dump.c - mosquitto_db_dump: prints a persistence file, ours (mosquitto.db.journal) or
 * Mosquitto's own mosquitto.db, one line per record, for users and for the tests. Read-only.
 *
 *   mosquitto_db_dump [--stats] FILE
 *
 * Exit status: 0 the whole file was read; 1 it could not be opened or is not a store; 2 it ends
 * in a torn record (a crash mid-write; the broker drops it at start); 3 it is damaged. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mosqdb.h"
#include "store.h"

static bool stats_only;
static size_t counts[STORE__MAX > 7 ? STORE__MAX : 7];

/* Prints bytes as a quoted string, escaping what is not printable ASCII. */
static void quoted(const void *p, size_t n)
{
    const unsigned char *s = p;

    putchar('"');
    for (size_t i = 0; i < n && i < 64; i++) {
        if (s[i] == '"' || s[i] == '\\')
            printf("\\%c", s[i]);
        else if (s[i] >= 0x20 && s[i] < 0x7f)
            putchar(s[i]);
        else
            printf("\\x%02x", s[i]);
    }
    if (n > 64)
        printf("...");
    putchar('"');
}

static void print_msg(const struct store_msg *m)
{
    printf(" id=%" PRIu64 " topic=", m->id);
    quoted(m->topic.p, m->topic.len);
    printf(" qos=%u retain=%d expiry=%" PRId64 " payload=%" PRIu32 ":", m->qos, m->retain,
           m->expiry, m->payload_len);
    quoted(m->payload, m->payload_len);
    printf(" props=%" PRIu32 " source=", m->props_len);
    quoted(m->source_id.p, m->source_id.len);
    if (m->has_user) {
        printf(" source_user=");
        quoted(m->source_user.p, m->source_user.len);
    }
}

static void print_rec(size_t off, const struct store_rec *r)
{
    counts[r->type]++;
    if (stats_only)
        return;
    printf("@%zu %s", off, store_type_name(r->type));
    switch (r->type) {
    case STORE_PUBLISH:
        if (r->has_body)
            print_msg(&r->msg);
        else
            printf(" id=%" PRIu64 " (body above)", r->msg.id);
        printf(" set_retain=%d in_sid=%" PRIu32 " in_pid=%u targets=[", r->set_retain, r->in_sid,
               r->in_pid);
        for (uint32_t i = 0; i < r->ntargets; i++) {
            struct store_target t;
            store_target_at(r, i, &t);
            printf("%s%" PRIu32 "/q%u/r%d/s%" PRIu32, i ? " " : "", t.sid, t.qos, t.retain,
                   t.sub_id);
        }
        printf("]");
        break;
    case STORE_RETAIN:
        print_msg(&r->msg);
        break;
    case STORE_WILL:
        printf(" client=");
        quoted(r->id.p, r->id.len);
        printf(" due=%" PRId64 " delay=%" PRIu32, r->expire_at, r->identifier);
        print_msg(&r->msg);
        break;
    case STORE_SESSION:
        printf(" sid=%" PRIu32 " client=", r->sid);
        quoted(r->id.p, r->id.len);
        if (r->has_user) {
            printf(" username=");
            quoted(r->user.p, r->user.len);
        }
        printf(" expiry_interval=%" PRIu32 " expires=%" PRId64 " last_pid=%u v3=%d",
               r->expiry_interval, r->expire_at, r->last_pid, (r->flags & STORE_SESSION_V3) != 0);
        break;
    case STORE_SUB:
    case STORE_UNSUB:
        printf(" sid=%" PRIu32 " filter=", r->sid);
        quoted(r->filter.p, r->filter.len);
        if (r->type == STORE_SUB)
            printf(" qos=%u options=0x%02x identifier=%" PRIu32, r->options & 3u,
                   r->options & ~3u, r->identifier);
        break;
    case STORE_FLIGHT:
        printf(" sid=%" PRIu32 " id=%" PRIu64 " pid=%u state=%s", r->sid, r->msg_id, r->pid,
               r->state == 1 ? "wait_puback" : r->state == 2 ? "wait_pubrec" : "wait_pubcomp");
        break;
    case STORE_DROP:
        printf(" sid=%" PRIu32 " id=%" PRIu64, r->sid, r->msg_id);
        break;
    case STORE_WILL_DEL:
        printf(" client=");
        quoted(r->id.p, r->id.len);
        break;
    default:
        printf(" sid=%" PRIu32 " pid=%u", r->sid, r->pid);
        break;
    }
    putchar('\n');
}

static int dump_ours(const uint8_t *p, size_t len)
{
    const char *why = NULL;
    size_t pos = STORE_HEADER_LEN;

    if (store_header_check(p, len, &why) != DEC_DONE) {
        fprintf(stderr, "Error: %s.\n", why != NULL ? why : "file shorter than its header");
        return why != NULL ? 1 : 2;
    }
    if (!stats_only)
        printf("store version %u, %zu bytes\n", STORE_VERSION, len);
    while (pos < len) {
        struct store_rec r;
        size_t used;
        enum dec d = store_decode(p + pos, len - pos, &r, &used, &why);

        if (d == DEC_NEED_MORE) {
            printf("torn record at byte %zu: %zu bytes to the end of the file\n", pos, len - pos);
            return 2;
        }
        if (d == DEC_ERROR) {
            printf("damaged at byte %zu: %s\n", pos, why);
            return 3;
        }
        print_rec(pos, &r);
        pos += used;
    }
    if (stats_only) {
        for (int t = 1; t < STORE__MAX; t++)
            printf("%s: %zu\n", store_type_name((uint8_t)t), counts[t]);
    }
    return 0;
}

static const char *chunk_name(uint32_t t)
{
    static const char *const n[] = { "?", "CFG", "MSG_STORE", "CLIENT_MSG", "RETAIN", "SUB",
                                     "CLIENT" };
    return t < 7 ? n[t] : "?";
}

static void print_chunk(size_t off, const struct mosqdb_rec *r)
{
    counts[r->type < 7 ? r->type : 0]++;
    if (stats_only)
        return;
    printf("@%zu %s", off, chunk_name(r->type));
    switch (r->type) {
    case MOSQDB_CFG:
        printf(" last_db_id=%" PRIu64 " shutdown=%u", r->store_id, r->shutdown);
        break;
    case MOSQDB_MSG_STORE:
        printf(" store_id=%" PRIu64 " topic=", r->store_id);
        quoted(r->topic.p, r->topic.len);
        printf(" qos=%u retain=%u expiry=%" PRId64 " payload=%" PRIu32 ":", r->qos, r->retain,
               r->expiry, r->payload.len);
        quoted(r->payload.p, r->payload.len);
        printf(" props=%" PRIu32 " source=", r->props.len);
        quoted(r->client_id.p, r->client_id.len);
        printf(" source_mid=%u", r->mid);
        break;
    case MOSQDB_CLIENT_MSG:
        printf(" client=");
        quoted(r->client_id.p, r->client_id.len);
        printf(" store_id=%" PRIu64 " mid=%u qos=%u state=%u direction=%s dup=%u props=%" PRIu32,
               r->store_id, r->mid, r->qos, r->state, r->direction ? "out" : "in", r->dup,
               r->props.len);
        break;
    case MOSQDB_RETAIN:
        printf(" store_id=%" PRIu64, r->store_id);
        break;
    case MOSQDB_SUB:
        printf(" client=");
        quoted(r->client_id.p, r->client_id.len);
        printf(" filter=");
        quoted(r->topic.p, r->topic.len);
        printf(" qos=%u options=0x%02x identifier=%" PRIu32, r->qos, r->options, r->identifier);
        break;
    case MOSQDB_CLIENT:
        printf(" client=");
        quoted(r->client_id.p, r->client_id.len);
        printf(" username=");
        quoted(r->username.p, r->username.len);
        printf(" expiry_interval=%" PRIu32 " expiry_time=%" PRId64 " last_mid=%u",
               r->expiry_interval, r->expiry, r->mid);
        break;
    default:
        printf(" type=%" PRIu32 " (skipped)", r->type);
        break;
    }
    putchar('\n');
}

static int dump_mosquitto(const uint8_t *p, size_t len)
{
    const char *why;
    size_t pos = MOSQDB_HEADER_LEN;

    if (mosqdb_header(p, len, &why) != 0) {
        fprintf(stderr, "Error: %s.\n", why);
        return 1;
    }
    if (!stats_only)
        printf("mosquitto.db version %u, %zu bytes\n", MOSQDB_VERSION, len);
    for (;;) {
        struct mosqdb_rec r;
        size_t used;
        int rc = mosqdb_next(p + pos, len - pos, &r, &used, &why);

        if (rc == 0)
            break;
        if (rc < 0) {
            printf("damaged at byte %zu: %s\n", pos, why);
            return 3;
        }
        print_chunk(pos, &r);
        pos += used;
    }
    if (stats_only) {
        for (uint32_t t = 1; t < 7; t++)
            printf("%s: %zu\n", chunk_name(t), counts[t]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    struct stat st;
    uint8_t *map;
    int fd, rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stats") == 0)
            stats_only = true;
        else if (path == NULL && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (path == NULL) {
        fprintf(stderr, "Usage: mosquitto_db_dump [--stats] FILE\n"
                        "Prints a persistence file: ours (mosquitto.db.journal) or Mosquitto's "
                        "mosquitto.db.\n");
        return 1;
    }
    fd = open(path, O_RDONLY);
    if (fd == -1 || fstat(fd, &st) == -1) {
        fprintf(stderr, "Error: Unable to open %s: %s.\n", path, strerror(errno));
        return 1;
    }
    if (st.st_size == 0) {
        fprintf(stderr, "Error: %s is empty.\n", path);
        close(fd);
        return 2;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fprintf(stderr, "Error: Unable to read %s: %s.\n", path, strerror(errno));
        return 1;
    }
    if ((size_t)st.st_size >= 3 && map[0] == 0x00 && map[1] == 0xB5 && map[2] == 0x00)
        rc = dump_mosquitto(map, (size_t)st.st_size);
    else
        rc = dump_ours(map, (size_t)st.st_size);
    munmap(map, (size_t)st.st_size);
    return rc;
}
