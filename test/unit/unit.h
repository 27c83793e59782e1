/* unit.h - the shared main() of every CUnit program: each test_*.c defines unit_register(),
 * which adds its suites; unit.c runs them and exits non-zero on any failure. */
#ifndef UNIT_H
#define UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void unit_register(void);

/* Adds a suite with the given tests (NULL-terminated array of {name, fn}). */
struct unit_test {
    const char *name;
    CU_TestFunc fn;
};
void unit_suite(const char *name, const struct unit_test *tests);

/* Reads VECTOR_DIR/rel into a malloc'd buffer of exactly its size (so ASan catches over-reads);
 * *len gets the size. Aborts the program if the file cannot be read. */
uint8_t *unit_read_vector(const char *rel, size_t *len);
/* VECTOR_DIR/proxy/NAME.bin, as unit_read_vector(). */
uint8_t *unit_read_proxy_vector(const char *name, size_t *len);

/* Is ss the IPv4 or IPv6 address ip (text) with this port? */
struct sockaddr_storage;
bool unit_addr_is(const struct sockaddr_storage *ss, const char *ip, uint16_t port);

/* malloc'd string: unit repeated n times, then tail. */
char *unit_repeat(const char *unit, size_t n, const char *tail);
/* Reference topic matcher for differential tests: MQTT 5 section 4.7 read literally, at most
 * 16 levels. */
bool unit_brute_match(const char *filter, const char *topic);

/* malloc'd copy of exactly n bytes of p (n may be 0: returns a 1-byte allocation). */
uint8_t *unit_copy(const void *p, size_t n);

#endif
