/* sys.c - the $SYS/broker/... topics, published (retained, QoS 1, as 2.1.2) at start and then
 * every sys_interval seconds when their value changed, with Mosquitto 2.1's names and order;
 * plus the PROXY counters, which are ours. Nothing with sys_interval 0. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "retain.h"
#include "subs.h"
#include "hmap.h"
#include "msg.h"

#define SYS_MAX_TOPICS 80

struct sys_value {
    char topic[96];
    char value[64];
};

static struct sys_value last[SYS_MAX_TOPICS];
static size_t nlast;

/* Load averages: exponentially decaying per-minute rates over 1, 5 and 15 minutes. */
struct load {
    const char *name;
    const uint64_t *counter;
    uint64_t prev;
    double avg[3];
};

static struct load loads[] = {
    { "messages/received", &broker.stats.msgs_received, 0, { 0 } },
    { "messages/sent", &broker.stats.msgs_sent, 0, { 0 } },
    { "publish/received", &broker.stats.pub_msgs_received, 0, { 0 } },
    { "publish/sent", &broker.stats.pub_msgs_sent, 0, { 0 } },
    { "publish/dropped", &broker.stats.msgs_dropped, 0, { 0 } },
    { "bytes/received", &broker.stats.bytes_received, 0, { 0 } },
    { "bytes/sent", &broker.stats.bytes_sent, 0, { 0 } },
    { "connections", &broker.stats.connections_total, 0, { 0 } },
    { "sockets", &broker.stats.connections_total, 0, { 0 } },
};

static int64_t last_tick_ms;

/* Plain counters, published as they are. */
static const struct {
    const char *topic;
    const uint64_t *value;
} counters[] = {
    { "$SYS/broker/clients/expired", &broker.stats.clients_expired },
    { "$SYS/broker/messages/stored", &msg_store.count },
    { "$SYS/broker/messages/received", &broker.stats.msgs_received },
    { "$SYS/broker/messages/sent", &broker.stats.msgs_sent },
    { "$SYS/broker/store/messages/count", &msg_store.count },
    { "$SYS/broker/store/messages/bytes", &msg_store.bytes },
    { NULL, NULL }, /* subscription counts and heap, in 2.1.2's order */
    { "$SYS/broker/bytes/received", &broker.stats.bytes_received },
    { "$SYS/broker/bytes/sent", &broker.stats.bytes_sent },
    { "$SYS/broker/publish/messages/received", &broker.stats.pub_msgs_received },
    { "$SYS/broker/publish/messages/sent", &broker.stats.pub_msgs_sent },
    { "$SYS/broker/publish/messages/dropped", &broker.stats.msgs_dropped },
    { "$SYS/broker/publish/bytes/received", &broker.stats.pub_bytes_received },
    { "$SYS/broker/publish/bytes/sent", &broker.stats.pub_bytes_sent },
    { "$SYS/broker/packet/out/count", &broker.stats.msgs_sent },
    { "$SYS/broker/packet/out/bytes", &broker.stats.bytes_sent },
    /* ours: what the PROXY stage did */
    { "$SYS/broker/proxy/headers/accepted", &broker.stats.proxy_accepted },
    { "$SYS/broker/proxy/rejected/corrupt", &broker.stats.proxy_corrupt },
    { "$SYS/broker/proxy/rejected/not_tls", &broker.stats.proxy_not_tls },
    { "$SYS/broker/proxy/rejected/no_certificate", &broker.stats.proxy_no_cert },
    { "$SYS/broker/proxy/rejected/not_allowed", &broker.stats.proxy_not_allowed },
    { "$SYS/broker/proxy/health_checks", &broker.stats.proxy_health },
    { "$SYS/broker/proxy/timeouts", &broker.stats.proxy_timeouts },
};

void sys_publish_str(const char *topic, const char *value, bool retain)
{
    /* The retained values at QoS 1, as 2.1.2 keeps them; log lines at QoS 0. */
    struct msg *m = msg_new(topic, strlen(topic), value, strlen(value), NULL, 0, retain ? 1 : 0,
                            retain);

    if (m == NULL)
        return;
    deliver_publish(m, NULL);
    msg_unref(m);
}

/* Publishes topic if its value changed since the last tick. */
static void put(const char *topic, const char *fmt, unsigned long long v)
{
    char value[64];
    size_t i;

    snprintf(value, sizeof(value), fmt, v);
    for (i = 0; i < nlast; i++) {
        if (strcmp(last[i].topic, topic) == 0)
            break;
    }
    if (i == nlast) {
        if (nlast == SYS_MAX_TOPICS)
            return;
        snprintf(last[nlast].topic, sizeof(last[nlast].topic), "%s", topic);
        last[nlast++].value[0] = '\0';
    } else if (strcmp(last[i].value, value) == 0) {
        return;
    }
    snprintf(last[i].value, sizeof(last[i].value), "%s", value);
    sys_publish_str(topic, value, true);
}

static void put_double(const char *topic, double v)
{
    char value[64];

    snprintf(value, sizeof(value), "%.2f", v);
    sys_publish_str(topic, value, true);
}

static uint64_t heap_maximum;

/* Bytes the allocator has handed out and not had back (glibc's view of the heap). */
static uint64_t heap_current(void)
{
    struct mallinfo2 mi = mallinfo2();
    uint64_t now = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;

    if (now > heap_maximum)
        heap_maximum = now;
    return now;
}

void sys_init(void)
{
    last_tick_ms = now_ms();
    if (broker.conf->sys_interval <= 0)
        return;
    sys_publish_str("$SYS/broker/version", "mosquitto version " VERSION, true);
    sys_tick(); /* every topic from the start, as 2.1.2: a subscriber need not wait a tick */
}

void sys_tick(void)
{
    static const char *const spans[3] = { "1min", "5min", "15min" };
    static const double minutes[3] = { 1, 5, 15 };
    int64_t now = now_ms();
    double dt = (double)(now - last_tick_ms) / 1000.0;
    size_t sessions = hmap_count(broker.sessions);
    char topic[128];

    if (dt <= 0)
        dt = 1;
    last_tick_ms = now;
    put("$SYS/broker/uptime", "%llu seconds", (unsigned long long)(time(NULL) - broker.start_time));
    put("$SYS/broker/clients/connected", "%llu", broker.nconnected);
    put("$SYS/broker/clients/active", "%llu", broker.nconnected);
    put("$SYS/broker/clients/total", "%llu", sessions > broker.nconnected ? sessions : broker.nconnected);
    put("$SYS/broker/clients/disconnected", "%llu",
        sessions > broker.nconnected ? sessions - broker.nconnected : 0);
    put("$SYS/broker/clients/inactive", "%llu",
        sessions > broker.nconnected ? sessions - broker.nconnected : 0);
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        if (counters[i].topic != NULL) {
            put(counters[i].topic, "%llu", *counters[i].value);
            continue;
        }
        put("$SYS/broker/subscriptions/count", "%llu", subs_count(broker.subs));
        put("$SYS/broker/shared_subscriptions/count", "%llu", subs_shared_count(broker.subs));
        put("$SYS/broker/retained messages/count", "%llu", retain_count(broker.retain));
        put("$SYS/broker/heap/current", "%llu", heap_current());
        put("$SYS/broker/heap/maximum", "%llu", heap_maximum);
    }
    put("$SYS/broker/connections/socket/count", "%llu", broker.nclients);
    if (broker.stats.clients_maximum > 0) /* 2.1.2 publishes it from the first client on */
        put("$SYS/broker/clients/maximum", "%llu", broker.stats.clients_maximum);
    for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
        struct load *l = &loads[i];
        double per_min = (double)(*l->counter - l->prev) * 60.0 / dt;
        l->prev = *l->counter;
        for (int k = 0; k < 3; k++) {
            double decay = exp(-dt / (60.0 * minutes[k]));
            l->avg[k] = l->avg[k] * decay + per_min * (1.0 - decay);
            snprintf(topic, sizeof(topic), "$SYS/broker/load/%s/%s", l->name, spans[k]);
            put_double(topic, l->avg[k]);
        }
    }
}
