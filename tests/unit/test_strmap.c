/*
 * test_strmap.c: the engine's hash index (daemon/strmap.c). A lookup yields
 * exactly the values added under a key and not deleted, through any mix of
 * adds and deletes; the same key may hold several values; reserved room
 * means adds that cannot fail; deleted slots are reclaimed, so churn does
 * not grow the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

/* Values of one key, in any order. */
static int values_of(const struct strmap *m, const char *key, void **out, int max)
{
    struct strmap_iter it;
    int n = 0;
    for (void *v = strmap_first(m, key, &it); v; v = strmap_next(m, &it)) {
        assert_true(n < max);
        out[n++] = v;
    }
    return n;
}

static bool holds(void **vals, int n, const void *v)
{
    for (int i = 0; i < n; i++)
        if (vals[i] == v)
            return true;
    return false;
}

static void empty_map_finds_nothing(void **state)
{
    struct strmap m;
    strmap_init(&m, 42);
    struct strmap_iter it;
    assert_null(strmap_first(&m, "ACDEFHJ", &it));
    assert_null(strmap_next(&m, &it));
    assert_false(strmap_del(&m, "ACDEFHJ", &m));
    assert_int_equal(strmap_count(&m), 0);
    strmap_free(&m);
    assert_null(strmap_first(&m, "", &it));
}

static void keys_find_their_values_and_deletes_take_one_entry(void **state)
{
    struct strmap m;
    strmap_init(&m, 7);
    int a, b, c;
    assert_int_equal(strmap_add(&m, "ACDEFHJ", &a), 0);
    assert_int_equal(strmap_add(&m, "KLMNPRT", &b), 0);
    assert_int_equal(strmap_add(&m, "ACDEFHJ", &c), 0); /* a second value */
    assert_int_equal(strmap_count(&m), 3);
    void *got[4];
    assert_int_equal(values_of(&m, "ACDEFHJ", got, 4), 2);
    assert_true(holds(got, 2, &a) && holds(got, 2, &c));
    assert_int_equal(values_of(&m, "KLMNPRT", got, 4), 1);
    assert_ptr_equal(got[0], &b);
    assert_int_equal(values_of(&m, "ACDEFH", got, 4), 0);
    assert_int_equal(values_of(&m, "", got, 4), 0);
    /* by key and value: the wrong value or key deletes nothing */
    assert_false(strmap_del(&m, "ACDEFHJ", &b));
    assert_false(strmap_del(&m, "KLMNPRT", &a));
    assert_true(strmap_del(&m, "ACDEFHJ", &a));
    assert_false(strmap_del(&m, "ACDEFHJ", &a));
    assert_int_equal(values_of(&m, "ACDEFHJ", got, 4), 1);
    assert_ptr_equal(got[0], &c);
    assert_int_equal(strmap_count(&m), 2);
    strmap_free(&m);
    assert_int_equal(strmap_count(&m), 0);
    /* usable again after free */
    assert_int_equal(strmap_add(&m, "KLMNPRT", &b), 0);
    assert_int_equal(values_of(&m, "KLMNPRT", got, 4), 1);
    strmap_free(&m);
}

/* Random adds and deletes against a plain list of (key, value) pairs. */
#define NKEYS 400
#define NVALS 8
#define MAXLIVE (NKEYS * NVALS)

static void random_adds_and_deletes_match_a_plain_list(void **state)
{
    static char keys[NKEYS][32];
    static int vals[NKEYS][NVALS];  /* vals[k][j]: the j-th value of key k */
    static bool live[NKEYS][NVALS]; /* is it in the map? */
    for (int k = 0; k < NKEYS; k++)
        snprintf(keys[k], sizeof(keys[k]), k % 2 ? "tok-%d-%d" : "%d", k, k * 7919);
    struct strmap m;
    strmap_init(&m, 0x5eed);
    srand(12345);
    size_t n_live = 0;
    for (int op = 0; op < 200000; op++) {
        int k = rand() % NKEYS, j = rand() % NVALS;
        if (live[k][j]) {
            assert_true(strmap_del(&m, keys[k], &vals[k][j]));
            live[k][j] = false;
            n_live--;
        } else if (rand() % 3) { /* more adds than deletes: the table grows */
            assert_int_equal(strmap_add(&m, keys[k], &vals[k][j]), 0);
            live[k][j] = true;
            n_live++;
        }
        assert_int_equal(strmap_count(&m), n_live);
        if (op % 1000 == 999) {
            for (int kk = 0; kk < NKEYS; kk++) {
                void *got[MAXLIVE];
                int n = values_of(&m, keys[kk], got, MAXLIVE), want = 0;
                for (int jj = 0; jj < NVALS; jj++)
                    if (live[kk][jj]) {
                        want++;
                        assert_true(holds(got, n, &vals[kk][jj]));
                    }
                /* No other key's values: a 64-bit collision among 400 keys
                 * would be a 1-in-10^14 accident, so this is a bug. */
                assert_int_equal(n, want);
            }
        }
    }
    /* the table is sized by what it holds, not by what it once held */
    assert_true(m.cap <= 8 * (n_live > 8 ? n_live : 8));
    strmap_free(&m);
}

static void reserved_room_adds_without_allocating(void **state)
{
    struct strmap m;
    strmap_init(&m, 1);
    assert_int_equal(strmap_reserve(&m, 100), 0);
    const struct strmap_slot *slots = m.slots;
    size_t cap = m.cap;
    static int v[100];
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(strmap_reserve(&m, 100 - (size_t)i), 0);
        assert_int_equal(strmap_add(&m, key, &v[i]), 0);
    }
    assert_ptr_equal(m.slots, slots);
    assert_int_equal(m.cap, cap);
    assert_int_equal(strmap_reserve(&m, SIZE_MAX), -1); /* absurd: refused, unchanged */
    assert_ptr_equal(m.slots, slots);
    assert_int_equal(strmap_count(&m), 100);
    strmap_free(&m);
}

static void churn_reclaims_deleted_slots(void **state)
{
    struct strmap m;
    strmap_init(&m, 99);
    static int v[32];
    char key[16];
    /* sessions come and go: never more than 32 live, a million in all */
    for (int i = 0; i < 1000000; i++) {
        snprintf(key, sizeof(key), "s%d", i);
        assert_int_equal(strmap_add(&m, key, &v[i % 32]), 0);
        if (i >= 31) {
            snprintf(key, sizeof(key), "s%d", i - 31);
            assert_true(strmap_del(&m, key, &v[(i - 31) % 32]));
        }
    }
    assert_int_equal(strmap_count(&m), 31);
    assert_true(m.cap <= 128);
    assert_true(m.dead < m.cap / 2);
    void *got[2];
    assert_int_equal(values_of(&m, "s999999", got, 2), 1);
    assert_ptr_equal(got[0], &v[999999 % 32]);
    assert_int_equal(values_of(&m, "s999968", got, 2), 0);
    strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_map_finds_nothing),
        cmocka_unit_test(keys_find_their_values_and_deletes_take_one_entry),
        cmocka_unit_test(random_adds_and_deletes_match_a_plain_list),
        cmocka_unit_test(reserved_room_adds_without_allocating),
        cmocka_unit_test(churn_reclaims_deleted_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
