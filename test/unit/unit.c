/* unit.c - main() for the CUnit programs; see unit.h. */
#include "unit.h"

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
