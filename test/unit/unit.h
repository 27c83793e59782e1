/* unit.h - the shared main() of every CUnit program: each test_*.c defines unit_register(),
 * which adds its suites; unit.c runs them and exits non-zero on any failure. */
#ifndef UNIT_H
#define UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
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
/* malloc'd copy of exactly n bytes of p (n may be 0: returns a 1-byte allocation). */
uint8_t *unit_copy(const void *p, size_t n);

#endif
