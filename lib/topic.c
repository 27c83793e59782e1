/* topic.c - MQTT UTF-8 validation, topic name and filter checks, filter matching and the
 * "$share/group/filter" split. Pure functions over borrowed bytes; the subscription tree is
 * src/subs.c, which uses these rules but not this matcher. */
#include "topic.h"

#include <stdint.h>
#include <string.h>

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN 7

/* Multi-byte sequences are rare in topics, so the ASCII loop runs first and only leaves it for
 * the slower per-sequence checks. */
bool utf8_valid(const void *p, size_t len)
{
    const uint8_t *s = p, *end = s + len;

    while (s < end) {
        uint8_t c = *s;

        if (c < 0x80) {
            /* U+0000..U+001F and U+007F are control characters. */
            if (c < 0x20 || c == 0x7f)
                return false;
            s++;
            continue;
        }
        if (c < 0xc2) /* stray continuation byte, or an overlong 2-byte lead (C0, C1) */
            return false;
        if (c < 0xe0) {
            if (end - s < 2 || (s[1] & 0xc0) != 0x80)
                return false;
            if (c == 0xc2 && s[1] < 0xa0) /* U+0080..U+009F: C1 control characters */
                return false;
            s += 2;
            continue;
        }
        if (c < 0xf0) {
            uint8_t lo = 0x80, hi = 0xbf;

            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* U+D800..U+DFFF: surrogates */
            if (end - s < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
                return false;
            s += 3;
            continue;
        }
        if (c < 0xf5) {
            uint8_t lo = 0x80, hi = 0xbf;

            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
            if (end - s < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
                (s[3] & 0xc0) != 0x80)
                return false;
            s += 4;
            continue;
        }
        return false; /* F5..FF never appear in UTF-8 */
    }
    return true;
}

bool topic_name_valid(const char *t, size_t len)
{
    if (len == 0 || len > 65535)
        return false;
    return memchr(t, '+', len) == NULL && memchr(t, '#', len) == NULL;
}

bool topic_filter_valid(const char *f, size_t len)
{
    size_t i;

    if (len == 0 || len > 65535)
        return false;
    for (i = 0; i < len; i++) {
        char c = f[i];

        if (c != '+' && c != '#')
            continue;
        /* A wildcard must fill its level: preceded by '/' (or the start) ... */
        if (i > 0 && f[i - 1] != '/')
            return false;
        if (c == '#')
            return i == len - 1; /* ... and '#' is the last character. */
        if (i + 1 < len && f[i + 1] != '/')
            return false;
    }
    return true;
}

bool topic_matches(const char *filter, size_t flen, const char *topic, size_t tlen)
{
    size_t fi = 0, ti = 0;

    /* MQTT-4.7.2-1: wildcards at the first level do not match "$SYS/..." and friends. */
    if (tlen > 0 && topic[0] == '$' && flen > 0 && (filter[0] == '+' || filter[0] == '#'))
        return false;
    for (;;) {
        /* Here fi and ti are at the start of a level. */
        if (fi < flen && filter[fi] == '#')
            return true;
        if (fi < flen && filter[fi] == '+') {
            fi++;
            while (ti < tlen && topic[ti] != '/')
                ti++;
        } else {
            while (fi < flen && filter[fi] != '/') {
                if (ti >= tlen || topic[ti] != filter[fi])
                    return false;
                fi++;
                ti++;
            }
            if (ti < tlen && topic[ti] != '/')
                return false;
        }
        if (fi >= flen)
            return ti >= tlen;
        if (ti >= tlen) /* "sport/#" also matches "sport" (MQTT-4.7.1-2) */
            return flen - fi == 2 && filter[fi + 1] == '#';
        fi++;
        ti++;
    }
}

bool topic_is_shared(const char *f, size_t len)
{
    return len >= SHARE_PREFIX_LEN && memcmp(f, SHARE_PREFIX, SHARE_PREFIX_LEN) == 0;
}

bool topic_share_split(const char *f, size_t len, const char **group, size_t *group_len,
                       const char **filter, size_t *filter_len)
{
    const char *g, *slash;
    size_t rest;

    if (!topic_is_shared(f, len))
        return false;
    g = f + SHARE_PREFIX_LEN;
    rest = len - SHARE_PREFIX_LEN;
    *group = g;
    *group_len = 0;
    *filter = g + rest;
    *filter_len = 0;
    slash = memchr(g, '/', rest);
    if (slash == NULL)
        return true;
    *filter = slash + 1;
    *filter_len = rest - (size_t)(slash - g) - 1;
    /* The group name is a single level without wildcards; the filter is a non-empty filter. */
    if (slash == g || memchr(g, '+', (size_t)(slash - g)) != NULL ||
        memchr(g, '#', (size_t)(slash - g)) != NULL ||
        !topic_filter_valid(*filter, *filter_len))
        return true;
    *group_len = (size_t)(slash - g);
    return true;
}

bool topic_share_valid(const char *f, size_t len)
{
    const char *g, *flt;
    size_t gl, fl;

    return topic_share_split(f, len, &g, &gl, &flt, &fl) && gl > 0;
}
