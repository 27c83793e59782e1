/* bench_stats.c - histogram, stream bookkeeping and /proc readers for the load generator.
 * Pure bookkeeping: no sockets, no printing. */
#include "bench_stats.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int hist_index(uint64_t v)
{
    int e, idx;

    if (v < 128)
        return (int)v;
    e = 63 - __builtin_clzll(v);                 /* >= 7 */
    idx = 128 + (e - 7) * 64 + (int)((v >> (e - 6)) & 63);
    return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* Middle of bucket idx, the value a percentile inside it is reported as. */
static uint64_t hist_value(int idx)
{
    int e;
    uint64_t lo;

    if (idx < 128)
        return (uint64_t)idx;
    e = (idx - 128) / 64 + 7;
    lo = (uint64_t)(64 + (idx - 128) % 64) << (e - 6);
    return lo + ((uint64_t)1 << (e - 6)) / 2;
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
    h->n[hist_index(ns)]++;
    h->count++;
    if (ns > h->max)
        h->max = ns;
}

uint64_t bench_hist_pct(const struct bench_hist *h, double pct)
{
    uint64_t want, seen = 0;

    if (h->count == 0)
        return 0;
    want = (uint64_t)((double)h->count * pct / 100.0 + 0.5);
    if (want < 1)
        want = 1;
    for (int i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want)
            return hist_value(i) < h->max ? hist_value(i) : h->max;
    }
    return h->max;
}

#define WORDS (BENCH_STREAM_WINDOW / 64)

static int bit_test_set(uint64_t *bits, uint32_t seq)
{
    uint32_t i = seq % BENCH_STREAM_WINDOW;
    uint64_t m = (uint64_t)1 << (i % 64);
    int was = (bits[i / 64] & m) != 0;

    bits[i / 64] |= m;
    return was;
}

/* Clears the window bits of sequence numbers from..to (inclusive, fewer than a window apart)
 * a word at a time: a subscriber that sees every 1000th number of a publisher must not pay a
 * loop over the 999 it skips. */
static void clear_range(uint64_t *bits, uint32_t from, uint32_t to)
{
    while (from <= to) {
        uint32_t slot = from % BENCH_STREAM_WINDOW;
        uint32_t bit = slot % 64;
        uint32_t n = 64 - bit;                /* bits left in this word */
        uint64_t mask;

        if (to - from + 1 < n)
            n = to - from + 1;
        mask = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << bit;
        bits[slot / 64] &= ~mask;
        if (to - from < n)
            break;                            /* also stops before from wraps past UINT32_MAX */
        from += n;
    }
}

enum bench_seen bench_stream_add(struct bench_stream *s, uint32_t seq)
{
    if (!s->bits) {
        s->bits = calloc(WORDS, sizeof(uint64_t));
        if (!s->bits)
            abort();
        s->max_seq = seq;
        bit_test_set(s->bits, seq);
        s->unique++;
        return BENCH_SEEN_NEW;
    }
    if (seq > s->max_seq) {
        /* Slide the window: the slots of the sequence numbers skipped over become free. */
        if (seq - s->max_seq >= BENCH_STREAM_WINDOW)
            memset(s->bits, 0, WORDS * sizeof(uint64_t));
        else
            clear_range(s->bits, s->max_seq + 1, seq);
        s->max_seq = seq;
        bit_test_set(s->bits, seq);
        s->unique++;
        return BENCH_SEEN_NEW;
    }
    if (s->max_seq - seq >= BENCH_STREAM_WINDOW) {
        s->reordered++;
        s->unique++;
        return BENCH_SEEN_NEW;
    }
    if (bit_test_set(s->bits, seq)) {
        s->dup++;
        return BENCH_SEEN_DUP;
    }
    s->reordered++;
    s->unique++;
    return BENCH_SEEN_NEW;
}

void bench_stream_free(struct bench_stream *s)
{
    free(s->bits);
    s->bits = NULL;
}

/* Per-thread schedstat gives nanoseconds; /proc/PID/stat only has clock ticks (10 ms). */
int64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *de;
    int64_t total = 0;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (d) {
        while ((de = readdir(d))) {
            char p2[300];
            unsigned long long run;
            FILE *f;
            if (de->d_name[0] == '.')
                continue;
            snprintf(p2, sizeof(p2), "/proc/%d/task/%s/schedstat", (int)pid, de->d_name);
            f = fopen(p2, "r");
            if (!f)
                continue;
            if (fscanf(f, "%llu", &run) == 1) {
                total += (int64_t)run;
                found = 1;
            }
            fclose(f);
        }
        closedir(d);
    }
    if (found && total > 0)
        return total;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
    fclose(f);
    unsigned long long ut, st;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

long bench_proc_rss_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t fl = strlen(field);
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
