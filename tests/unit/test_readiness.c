/* test_readiness.c - the sliding window: minimum samples, threshold, recovery as time passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/readiness.h"

static time_t fake_now = 1000000;
static time_t clock_fn(void) { return fake_now; }

static void test_one_error_on_an_idle_window_is_not_unhealthy(void **state)
{
    (void)state;
    struct readiness *r = readiness_new(20, 0.95, clock_fn);
    readiness_record(r, true);
    struct readiness_snapshot s;
    readiness_snapshot(r, &s);
    assert_true(s.healthy);
    assert_int_equal(s.errors, 1);
    assert_true(s.error_rate == 1.0);
    assert_int_equal(s.window_start, fake_now - 600);
    readiness_free(r);
}

static void test_threshold_and_recovery(void **state)
{
    (void)state;
    struct readiness *r = readiness_new(20, 0.95, clock_fn);
    struct readiness_snapshot s;
    for (int i = 0; i < 19; i++)
        readiness_record(r, true);
    readiness_record(r, false);
    readiness_snapshot(r, &s);
    assert_false(s.healthy);    /* 19/20 = 0.95 >= threshold */
    readiness_record(r, false);
    readiness_snapshot(r, &s);
    assert_true(s.healthy);     /* 19/21 < 0.95 */
    for (int i = 0; i < 100; i++)
        readiness_record(r, true);
    readiness_snapshot(r, &s);
    assert_false(s.healthy);
    fake_now += 300;            /* still inside the window */
    readiness_snapshot(r, &s);
    assert_false(s.healthy);
    fake_now += 301;            /* the errors slid out: healthy without new traffic */
    readiness_snapshot(r, &s);
    assert_true(s.healthy);
    assert_int_equal(s.errors + s.successes, 0);
    readiness_free(r);
}

static void test_buckets_are_reused_not_summed(void **state)
{
    (void)state;
    struct readiness *r = readiness_new(1, 0.5, clock_fn);
    readiness_record(r, true);
    fake_now += 600;            /* same bucket slot, a whole window later */
    readiness_record(r, false);
    struct readiness_snapshot s;
    readiness_snapshot(r, &s);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.successes, 1);
    assert_true(s.healthy);
    readiness_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_error_on_an_idle_window_is_not_unhealthy),
        cmocka_unit_test(test_threshold_and_recovery),
        cmocka_unit_test(test_buckets_are_reused_not_summed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
