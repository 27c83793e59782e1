/* test_hmap.c - the string map behind sessions and ACL users: random inserts, replacements and
 * deletions checked against a plain array, so backward-shift deletion cannot lose an entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "unit.h"

#define KEYS 3000

static void test_random_against_model(void)
{
    static char keys[KEYS][16];
    static int present[KEYS]; /* the model: 0 absent, else the stored value */
    struct hmap *h = hmap_new();
    size_t count = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    srand(7);
    for (int i = 0; i < KEYS; i++)
        snprintf(keys[i], sizeof(keys[i]), "client-%d", i * 7919 % 100003);
    for (int step = 0; step < 200000; step++) {
        int k = rand() % KEYS;
        if (rand() % 3 != 0) {
            int v = step + 1;
            CU_ASSERT_EQUAL(hmap_put(h, keys[k], &present[k]), 0);
            if (present[k] == 0)
                count++;
            present[k] = v;
        } else {
            void *got = hmap_del(h, keys[k]);
            CU_ASSERT_PTR_EQUAL(got, present[k] ? &present[k] : NULL);
            if (present[k] != 0)
                count--;
            present[k] = 0;
        }
        if (step % 997 == 0) {
            for (int i = 0; i < KEYS; i++)
                CU_ASSERT_PTR_EQUAL(hmap_get(h, keys[i]), present[i] ? &present[i] : NULL);
        }
    }
    CU_ASSERT_EQUAL(hmap_count(h), count);
    {
        size_t pos = 0, seen = 0;
        const char *key;
        void *value;
        while (hmap_next(h, &pos, &key, &value)) {
            int idx = (int)((int *)value - present);
            CU_ASSERT_STRING_EQUAL(key, keys[idx]);
            CU_ASSERT(present[idx] != 0);
            seen++;
        }
        CU_ASSERT_EQUAL(seen, count);
    }
    hmap_free(h);
}

static void test_missing_and_empty(void)
{
    struct hmap *h = hmap_new();

    CU_ASSERT_PTR_NULL(hmap_get(h, "nobody"));
    CU_ASSERT_PTR_NULL(hmap_del(h, "nobody"));
    CU_ASSERT_EQUAL(hmap_put(h, "", h), 0); /* the empty string is a key like any other */
    CU_ASSERT_PTR_EQUAL(hmap_get(h, ""), h);
    CU_ASSERT_EQUAL(hmap_count(h), 1);
    hmap_free(h);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "random operations against a model", test_random_against_model },
        { "missing keys, empty key", test_missing_and_empty },
        { NULL, NULL },
    };
    unit_suite("hmap", tests);
}
