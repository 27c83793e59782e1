/* bench_stats.h - what the load generator measures: a latency histogram, per-stream loss,
 * duplicate and reordering tracking, and the broker's CPU time and RSS read from /proc.
 * No sockets here. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdint.h>
#include <sys/types.h>

/* Log-linear histogram of nanoseconds: 64 linear steps per power of two (~1.6 % error). */
#define BENCH_HIST_BUCKETS (128 + 40 * 64)
struct bench_hist {
    uint64_t n[BENCH_HIST_BUCKETS];
    uint64_t count;
    uint64_t max;
};
void bench_hist_add(struct bench_hist *h, uint64_t ns);
uint64_t bench_hist_pct(const struct bench_hist *h, double pct);   /* pct in [0,100] */

/* One (subscriber, publisher) stream. Duplicates are found within the last
 * BENCH_STREAM_WINDOW sequence numbers; an older arrival counts as reordered only. */
#define BENCH_STREAM_WINDOW 4096
struct bench_stream {
    uint64_t *bits;      /* owned; NULL until the first message */
    uint32_t max_seq;
    uint64_t unique, dup, reordered;
};
enum bench_seen { BENCH_SEEN_NEW, BENCH_SEEN_DUP };
enum bench_seen bench_stream_add(struct bench_stream *s, uint32_t seq);
void bench_stream_free(struct bench_stream *s);

/* /proc readers for a broker pid: -1 / 0 when unavailable. */
int64_t bench_proc_cpu_ns(pid_t pid);  /* user+system time of all threads */
long bench_proc_rss_kb(pid_t pid, const char *field);   /* "VmRSS" or "VmHWM" */

uint64_t bench_now_ns(void);           /* CLOCK_MONOTONIC */

#endif
