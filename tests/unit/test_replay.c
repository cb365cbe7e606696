/* test_replay.c - the admitted-quote set: seen/record/forget, expiry with a fake clock, pruning,
 * memory per live entry, and concurrent records of the same quotes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/replay.h"

static time_t fake_now = 1000;

static time_t fake_clock(void)
{
    return fake_now;
}

static int reset_clock(void **state)
{
    (void)state;
    fake_now = 1000;
    return 0;
}

/* quote_of writes a quote shaped like the real ones (64 hex digits, '-', suffix) for n. */
static size_t quote_of(unsigned n, char out[96])
{
    return (size_t)snprintf(out, 96, "%064x-suffix%u", n * 2654435761u, n);
}

static int record_n(struct replay *rp, unsigned n, time_t expires)
{
    char q[96];
    size_t len = quote_of(n, q);
    return replay_record(rp, q, len, expires);
}

static bool seen_n(struct replay *rp, unsigned n)
{
    char q[96];
    size_t len = quote_of(n, q);
    return replay_seen(rp, q, len);
}

static void forget_n(struct replay *rp, unsigned n)
{
    char q[96];
    size_t len = quote_of(n, q);
    replay_forget(rp, q, len);
}

static void test_seen_record_forget(void **state)
{
    (void)state;
    struct replay *rp = replay_new(fake_clock);
    const char *q = "abc-123";
    assert_false(replay_seen(rp, q, 7));
    assert_int_equal(replay_record(rp, q, 7, 2000), 1);
    assert_true(replay_seen(rp, q, 7));
    assert_false(replay_seen(rp, q, 6));               /* a prefix is another quote */
    assert_int_equal(replay_record(rp, q, 7, 3000), 0); /* duplicate */
    assert_int_equal(replay_count(rp), 1);
    replay_forget(rp, q, 7);
    assert_false(replay_seen(rp, q, 7));
    assert_int_equal(replay_count(rp), 0);
    replay_forget(rp, q, 7);                           /* twice: no-op */
    assert_int_equal(replay_record(rp, q, 7, 2000), 1);
    assert_true(replay_seen(rp, q, 7));

    assert_int_equal(replay_record(rp, "", 0, 2000), 1); /* the empty quote is one slot too */
    assert_int_equal(replay_record(rp, "", 0, 2000), 0);
    assert_int_equal(replay_count(rp), 2);
    replay_free(rp);
}

static void test_expiry_with_fake_clock(void **state)
{
    (void)state;
    struct replay *rp = replay_new(fake_clock);
    assert_int_equal(record_n(rp, 1, 1010), 1);
    assert_int_equal(record_n(rp, 2, 1020), 1);
    fake_now = 1010;
    assert_true(seen_n(rp, 1));                        /* live through expires_at itself */
    assert_int_equal(record_n(rp, 1, 5000), 0);
    fake_now = 1011;
    assert_false(seen_n(rp, 1));
    assert_true(seen_n(rp, 2));
    assert_int_equal(replay_count(rp), 1);
    assert_int_equal(record_n(rp, 1, 1100), 1);        /* an expired quote may be recorded again */
    assert_true(seen_n(rp, 1));
    fake_now = 1021;
    assert_int_equal(replay_prune(rp), 1);
    assert_int_equal(replay_prune(rp), 0);
    assert_true(seen_n(rp, 1));
    assert_false(seen_n(rp, 2));
    replay_free(rp);
}

static void test_past_expiry_is_not_kept(void **state)
{
    (void)state;
    struct replay *rp = replay_new(fake_clock);
    assert_int_equal(record_n(rp, 1, 999), 1);
    assert_false(seen_n(rp, 1));
    assert_int_equal(replay_count(rp), 0);
    assert_int_equal(record_n(rp, 1, -5), 1);
    assert_int_equal(replay_prune(rp), 0);             /* nothing was stored */
    replay_free(rp);
}

static void test_far_expiry_is_clamped_not_lost(void **state)
{
    (void)state;
    struct replay *rp = replay_new(fake_clock);
    assert_int_equal(record_n(rp, 1, (time_t)1 << 40), 1);
    fake_now = (time_t)UINT32_MAX;
    assert_true(seen_n(rp, 1));
    replay_free(rp);
}

static void test_many_distinct_and_forget_half(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct replay *rp = replay_new(fake_clock);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(record_n(rp, n, 5000), 1);
    assert_int_equal(replay_count(rp), N);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(record_n(rp, n, 5000), 0);
    for (unsigned n = 0; n < N; n += 2)
        forget_n(rp, n);                               /* backward shifts through long runs */
    assert_int_equal(replay_count(rp), N / 2);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(seen_n(rp, n), n % 2 == 1);
    for (unsigned n = N; n < N + 1000; n++)
        assert_false(seen_n(rp, n));
    replay_free(rp);
}

static void test_prune_keeps_live_entries(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct replay *rp = replay_new(fake_clock);
    for (unsigned n = 0; n < N; n++)                   /* interleave: short and long lives */
        assert_int_equal(record_n(rp, n, n % 3 == 0 ? 1100 : 1200), 1);
    fake_now = 1150;
    size_t short_lived = (N + 2) / 3;
    assert_int_equal(replay_count(rp), N - short_lived);
    assert_int_equal(replay_prune(rp), short_lived);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(seen_n(rp, n), n % 3 != 0);
    fake_now = 1201;
    assert_int_equal(replay_prune(rp), N - short_lived);
    assert_int_equal(replay_count(rp), 0);
    assert_true(replay_table_bytes(rp) <= 64 * 24);    /* shrunk back to the minimum */
    replay_free(rp);
}

/* 200k admissions, 100 a second, each kept 500 s: about 50k live at any time. The table must be
 * pruned as it fills, so it stays sized for the live entries, not for everything ever seen. */
static void test_churn_keeps_table_small(void **state)
{
    (void)state;
    enum { TOTAL = 200000, PER_SECOND = 100, LIFETIME = 500 };
    struct replay *rp = replay_new(fake_clock);
    size_t largest = 0;
    for (unsigned n = 0; n < TOTAL; n++) {
        if (n % PER_SECOND == 0)
            fake_now++;
        assert_int_equal(record_n(rp, n, fake_now + LIFETIME), 1);
        size_t bytes = replay_table_bytes(rp);
        if (bytes > largest)
            largest = bytes;
    }
    size_t live = replay_count(rp);
    assert_true(live >= 50000 && live <= 50100);
    /* about 50k live at 20 bytes a slot and 1.5 slots per live entry after each rebuild: 1.5 MB;
     * without pruning, 200k entries would need 200k / 0.85 slots = 4.7 MB */
    print_message("churn: %zu live, largest table %zu bytes\n", live, largest);
    assert_true(largest <= 1600000);
    for (unsigned n = TOTAL - 1000; n < TOTAL; n++)
        assert_true(seen_n(rp, n));
    for (unsigned n = 0; n < 1000; n++)
        assert_false(seen_n(rp, n));
    assert_int_equal(record_n(rp, TOTAL - 1, fake_now + LIFETIME), 0);
    replay_free(rp);
}

static void test_100k_live_nonces_stay_under_4mb(void **state)
{
    (void)state;
    struct replay *rp = replay_new(fake_clock);
    for (unsigned n = 0; n < 100000; n++)
        assert_int_equal(record_n(rp, n, 1000 + 86400), 1);
    assert_int_equal(replay_count(rp), 100000);
    size_t bytes = replay_table_bytes(rp);
    print_message("100k live nonces: %zu bytes (%.1f per entry)\n", bytes, bytes / 100000.0);
    assert_true(bytes <= 3100000);
    replay_free(rp);
}

/* ---- threads: every quote admitted exactly once ------------------------------------------ */

#define THREADS 3
#define SHARED_QUOTES 5000

struct recorder {
    struct replay *rp;
    time_t expires;
    int recorded;
    int failures;
};

static void *record_all(void *arg)
{
    struct recorder *r = arg;
    for (unsigned n = 0; n < SHARED_QUOTES; n++) {
        int rc = record_n(r->rp, n, r->expires);
        if (rc == 1)
            r->recorded++;
        else if (rc != 0)
            r->failures++;
        if (!seen_n(r->rp, n))
            r->failures++;
    }
    return NULL;
}

static void test_concurrent_records_admit_once(void **state)
{
    (void)state;
    struct replay *rp = replay_new(NULL);               /* real clock */
    time_t expires = time(NULL) + 3600;
    struct recorder args[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct recorder){ .rp = rp, .expires = expires };
        assert_int_equal(pthread_create(&t[i], NULL, record_all, &args[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
        total += args[i].recorded;
    }
    assert_int_equal(total, SHARED_QUOTES);            /* each quote admitted by one thread */
    assert_int_equal(replay_count(rp), SHARED_QUOTES);
    replay_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_seen_record_forget, reset_clock),
        cmocka_unit_test_setup(test_expiry_with_fake_clock, reset_clock),
        cmocka_unit_test_setup(test_past_expiry_is_not_kept, reset_clock),
        cmocka_unit_test_setup(test_far_expiry_is_clamped_not_lost, reset_clock),
        cmocka_unit_test_setup(test_many_distinct_and_forget_half, reset_clock),
        cmocka_unit_test_setup(test_prune_keeps_live_entries, reset_clock),
        cmocka_unit_test_setup(test_churn_keeps_table_small, reset_clock),
        cmocka_unit_test_setup(test_100k_live_nonces_stay_under_4mb, reset_clock),
        cmocka_unit_test_setup(test_concurrent_records_admit_once, reset_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
