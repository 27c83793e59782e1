/* unit.c - main() for the CUnit programs; see unit.h. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void unit_suite(const char *name, const struct unit_test *tests)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);

    if (s == NULL) {
        fprintf(stderr, "cannot add suite %s\n", name);
        exit(2);
    }
    for (; tests->name != NULL; tests++) {
        if (CU_add_test(s, tests->name, tests->fn) == NULL) {
            fprintf(stderr, "cannot add test %s\n", tests->name);
            exit(2);
        }
    }
}

uint8_t *unit_read_vector(const char *rel, size_t *len)
{
    char path[4096];
    FILE *f;
    long n;
    uint8_t *p;

    snprintf(path, sizeof(path), "%s/%s", VECTOR_DIR, rel);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot read vector %s\n", path);
        exit(2);
    }
    p = malloc(n > 0 ? (size_t)n : 1);
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read vector %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

uint8_t *unit_read_proxy_vector(const char *name, size_t *len)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "proxy/%s.bin", name);
    return unit_read_vector(rel, len);
}

bool unit_addr_is(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    char text[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &s->sin_addr, text, sizeof(text));
        return strcmp(text, ip) == 0 && ntohs(s->sin_port) == port;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof(text));
        return strcmp(text, ip) == 0 && ntohs(s->sin6_port) == port;
    }
    return false;
}

char *unit_repeat(const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * n + tl + 1), *p = s;

    CU_ASSERT_FATAL(s != NULL);
    for (size_t i = 0; i < n; i++, p += ul)
        memcpy(p, unit, ul);
    memcpy(p, tail, tl + 1);
    return s;
}

static size_t split(const char *s, const char **lv, size_t *ll, size_t max)
{
    size_t n = 0;
    const char *p = s;

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

        if (n == max) /* the generators stay far below */
            abort();
        lv[n] = p;
        ll[n++] = len;
        if (slash == NULL)
            return n;
        p = slash + 1;
    }
}

/* MQTT 5 section 4.7, read literally, with no data structure at all. */
bool unit_brute_match(const char *filter, const char *topic)
{
    const char *fl[16], *tl[16];
    size_t fln[16], tln[16];
    size_t nf = split(filter, fl, fln, 16), nt = split(topic, tl, tln, 16);

    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    for (size_t i = 0; i < nf; i++) {
        if (fln[i] == 1 && fl[i][0] == '#')
            return true; /* also when i == nt: "a/#" matches "a" */
        if (i >= nt)
            return false;
        if (fln[i] == 1 && fl[i][0] == '+')
            continue;
        if (fln[i] != tln[i] || memcmp(fl[i], tl[i], fln[i]) != 0)
            return false;
    }
    return nf == nt;
}

uint8_t *unit_copy(const void *p, size_t n)
{
    uint8_t *q = malloc(n > 0 ? n : 1);

    if (q == NULL)
        abort();
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

int main(void)
{
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    unit_register();
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
