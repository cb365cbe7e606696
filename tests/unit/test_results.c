/* test_results.c - job states, LRU eviction, expiry with a fake clock, sweep, counts, threads, the
 * byte bound (outcomes leaving memory, in store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/results.h"

static time_t fake_now = 1000;

static time_t fake_clock(void)
{
    return fake_now;
}

/* uid_of writes a canonical uid text that encodes n. */
static void uid_of(unsigned n, char out[37])
{
    snprintf(out, 37, "%08x-0000-4000-8000-%012x", n, n * 7u);
}

static void add(struct results *r, unsigned n)
{
    char uid[37], quote[32];
    uid_of(n, uid);
    int len = snprintf(quote, sizeof quote, "quote-%u", n);
    assert_int_equal(results_add_queued(r, uid, quote, (size_t)len), 0);
}

static void finish_ok(struct results *r, unsigned n)
{
    char uid[37], data[32];
    uid_of(n, uid);
    int len = snprintf(data, sizeof data, "data-%u", n);
    assert_int_equal(results_finish(r, uid, data, (size_t)len, NULL, NULL), 0);
}

static enum result_state state_of(struct results *r, unsigned n)
{
    char uid[37];
    uid_of(n, uid);
    return results_get(r, uid, NULL);
}

static void assert_counts(struct results *r, size_t finished, size_t pending)
{
    size_t f = 99, p = 99;
    results_counts(r, &f, &p, NULL);
    assert_int_equal(f, finished);
    assert_int_equal(p, pending);
}

static int reset_clock(void **state)
{
    (void)state;
    fake_now = 1000;
    return 0;
}

static void test_lifecycle_done(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    char uid[37];
    uid_of(1, uid);
    assert_int_equal(results_add_queued(r, uid, "the-quote", 9), 0);
    assert_counts(r, 0, 1);

    struct result_view v;
    assert_int_equal(results_get(r, uid, &v), RESULT_QUEUED);
    assert_int_equal(v.state, RESULT_QUEUED);
    assert_int_equal(v.quote_len, 9);
    assert_string_equal(v.quote, "the-quote");
    assert_null(v.data);
    assert_null(v.error);
    result_view_free(&v);

    results_set_running(r, uid);
    assert_int_equal(results_get(r, uid, NULL), RESULT_RUNNING);
    assert_counts(r, 0, 1);

    assert_int_equal(results_finish(r, uid, "{\"a\":1}", 7, "cursor-2", NULL), 0);
    assert_counts(r, 1, 0);
    assert_int_equal(results_get(r, uid, &v), RESULT_DONE);
    assert_int_equal(v.data_len, 7);
    assert_memory_equal(v.data, "{\"a\":1}", 8);      /* NUL-terminated too */
    assert_string_equal(v.next_cursor, "cursor-2");
    assert_string_equal(v.quote, "the-quote");
    assert_null(v.error);
    result_view_free(&v);
    assert_null(v.quote);

    results_set_running(r, uid);                  /* a finished job stays finished */
    assert_int_equal(results_get(r, uid, NULL), RESULT_DONE);
    results_free(r);
}

static void test_lifecycle_failed(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    char uid[37];
    uid_of(2, uid);
    assert_int_equal(results_add_queued(r, uid, "q", 1), 0);
    assert_int_equal(results_finish(r, uid, "ignored", 7, "ignored", "unknown job type: x"), 0);
    struct result_view v;
    assert_int_equal(results_get(r, uid, &v), RESULT_FAILED);
    assert_string_equal(v.error, "unknown job type: x");
    assert_null(v.data);
    assert_null(v.next_cursor);
    assert_string_equal(v.quote, "q");
    result_view_free(&v);
    assert_counts(r, 1, 0);
    results_free(r);
}

static void test_binary_and_empty_data(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    char a[37], b[37];
    uid_of(3, a);
    uid_of(4, b);
    static const char bytes[] = { 'x', '\0', 'y', '\0', 'z' };
    assert_int_equal(results_add_queued(r, a, "", 0), 0);
    assert_int_equal(results_add_queued(r, b, "q\0q", 3), 0);
    assert_int_equal(results_finish(r, a, "", 0, NULL, NULL), 0);
    assert_int_equal(results_finish(r, b, bytes, sizeof bytes, NULL, NULL), 0);

    struct result_view v;
    assert_int_equal(results_get(r, a, &v), RESULT_DONE);
    assert_non_null(v.data);
    assert_int_equal(v.data_len, 0);
    assert_string_equal(v.data, "");
    assert_int_equal(v.quote_len, 0);
    assert_null(v.next_cursor);
    result_view_free(&v);

    assert_int_equal(results_get(r, b, &v), RESULT_DONE);
    assert_int_equal(v.data_len, sizeof bytes);
    assert_memory_equal(v.data, bytes, sizeof bytes);
    assert_int_equal(v.quote_len, 3);
    assert_memory_equal(v.quote, "q\0q", 3);
    result_view_free(&v);
    results_free(r);
}

static void test_unknown_and_malformed_uids(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    struct result_view v;
    memset(&v, 0x5a, sizeof v);
    assert_int_equal(results_get(r, "00000000-0000-4000-8000-000000000000", &v), RESULT_UNKNOWN);
    assert_int_equal(v.state, RESULT_UNKNOWN);
    assert_null(v.quote);
    assert_null(v.data);
    result_view_free(&v);

    assert_int_equal(results_get(r, "not-a-uid", &v), RESULT_UNKNOWN);
    assert_int_equal(results_get(r, "", NULL), RESULT_UNKNOWN);
    assert_int_equal(results_get(r, NULL, NULL), RESULT_UNKNOWN);
    assert_int_equal(results_get(r, "00000000-0000-4000-8000-0000000000000", NULL), RESULT_UNKNOWN);
    assert_int_equal(results_get(r, "00000000x0000-4000-8000-000000000000", NULL), RESULT_UNKNOWN);
    assert_int_equal(results_add_queued(r, "../../etc/passwd", "q", 1), -1);
    assert_int_equal(results_add_queued(r, "00000000-0000-4000-8000-00000000000g", "q", 1), -1);
    results_remove(r, "junk");
    results_set_running(r, "junk");
    assert_int_equal(results_finish(r, "junk", "d", 1, NULL, NULL), 0);
    assert_counts(r, 0, 0);
    results_free(r);
}

static void test_uid_case_does_not_matter(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    assert_int_equal(results_add_queued(r, "abcdef01-2345-4678-9abc-def012345678", "q", 1), 0);
    assert_int_equal(results_get(r, "ABCDEF01-2345-4678-9ABC-DEF012345678", NULL), RESULT_QUEUED);
    assert_int_equal(results_get(r, "abcdef01-2345-4678-9abc-def012345679", NULL), RESULT_UNKNOWN);
    results_free(r);
}

static void test_finish_of_unknown_uid_stores_nothing(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    finish_ok(r, 7);
    assert_int_equal(state_of(r, 7), RESULT_UNKNOWN);
    assert_counts(r, 0, 0);
    results_free(r);
}

static void test_lru_eviction_order_read_refreshes(void **state)
{
    (void)state;
    struct results *r = results_new(3, SIZE_MAX, 600, fake_clock);
    for (unsigned n = 1; n <= 5; n++)
        add(r, n);
    finish_ok(r, 1);
    finish_ok(r, 2);
    finish_ok(r, 3);
    assert_counts(r, 3, 2);

    /* newest first: 3 2 1 */
    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* 1 3 2 */
    finish_ok(r, 4);                                   /* 4 1 3, evicting 2 */
    assert_int_equal(state_of(r, 2), RESULT_UNKNOWN);
    assert_int_equal(state_of(r, 3), RESULT_DONE);     /* 3 4 1 */
    finish_ok(r, 5);                                   /* 5 3 4, evicting 1 */
    assert_int_equal(state_of(r, 1), RESULT_UNKNOWN);
    assert_int_equal(state_of(r, 3), RESULT_DONE);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_int_equal(state_of(r, 5), RESULT_DONE);
    assert_counts(r, 3, 0);
    results_free(r);
}

static void test_refinish_replaces_and_refreshes(void **state)
{
    (void)state;
    struct results *r = results_new(2, SIZE_MAX, 600, fake_clock);
    add(r, 1);
    add(r, 2);
    add(r, 3);
    finish_ok(r, 1);
    finish_ok(r, 2);
    char uid[37];
    uid_of(1, uid);
    assert_int_equal(results_finish(r, uid, NULL, 0, NULL, "second outcome"), 0);
    assert_counts(r, 2, 1);
    finish_ok(r, 3);                                   /* 2 is now the oldest */
    assert_int_equal(state_of(r, 2), RESULT_UNKNOWN);
    struct result_view v;
    assert_int_equal(results_get(r, uid, &v), RESULT_FAILED);
    assert_string_equal(v.error, "second outcome");
    assert_null(v.data);
    result_view_free(&v);
    results_free(r);
}

static void test_pending_never_evicted(void **state)
{
    (void)state;
    struct results *r = results_new(2, SIZE_MAX, 10, fake_clock);
    for (unsigned n = 1; n <= 10; n++)
        add(r, n);
    char uid[37];
    uid_of(6, uid);
    results_set_running(r, uid);
    for (unsigned n = 1; n <= 5; n++)
        finish_ok(r, n);
    assert_counts(r, 2, 5);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_int_equal(state_of(r, 5), RESULT_DONE);
    assert_int_equal(state_of(r, 6), RESULT_RUNNING);
    fake_now += 100000;                                /* age does not touch pending entries */
    assert_int_equal(results_sweep(r), 2);
    for (unsigned n = 7; n <= 10; n++)
        assert_int_equal(state_of(r, n), RESULT_QUEUED);
    assert_int_equal(state_of(r, 6), RESULT_RUNNING);
    assert_counts(r, 0, 5);
    results_free(r);
}

static void test_max_age_since_finish(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 10, fake_clock);
    add(r, 1);
    add(r, 2);
    fake_now = 100;
    finish_ok(r, 1);
    fake_now = 105;
    finish_ok(r, 2);
    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* a read does not extend the age */
    fake_now = 110;
    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* exactly max age: still there */
    fake_now = 111;
    assert_int_equal(state_of(r, 1), RESULT_UNKNOWN);  /* older than max age: gone */
    assert_counts(r, 1, 0);                            /* and deleted by that read */
    assert_int_equal(state_of(r, 2), RESULT_DONE);
    fake_now = 116;
    struct result_view v;
    assert_int_equal(results_get(r, "00000002-0000-4000-8000-00000000000e", &v), RESULT_UNKNOWN);
    assert_null(v.data);
    assert_counts(r, 0, 0);
    results_free(r);
}

static void test_sweep_removes_only_expired(void **state)
{
    (void)state;
    struct results *r = results_new(100, SIZE_MAX, 50, fake_clock);
    for (unsigned n = 0; n < 20; n++) {
        add(r, n);
        fake_now = 1000 + n * 10;
        finish_ok(r, n);
    }
    add(r, 100);
    fake_now = 1000 + 95;                              /* finished at <= 1040 are > 50 s old */
    assert_int_equal(results_sweep(r), 5);
    assert_counts(r, 15, 1);
    assert_int_equal(results_sweep(r), 0);
    for (unsigned n = 0; n < 5; n++)
        assert_int_equal(state_of(r, n), RESULT_UNKNOWN);
    for (unsigned n = 5; n < 20; n++)
        assert_int_equal(state_of(r, n), RESULT_DONE);
    fake_now = 1000 + 190 + 51;
    assert_int_equal(results_sweep(r), 15);
    assert_counts(r, 0, 1);
    assert_int_equal(state_of(r, 100), RESULT_QUEUED);
    results_free(r);
}

static void test_remove_any_state(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    for (unsigned n = 1; n <= 4; n++)
        add(r, n);
    char uid[37];
    uid_of(2, uid);
    results_set_running(r, uid);
    finish_ok(r, 3);
    finish_ok(r, 4);
    assert_counts(r, 2, 2);
    for (unsigned n = 1; n <= 3; n++) {
        uid_of(n, uid);
        results_remove(r, uid);
        assert_int_equal(state_of(r, n), RESULT_UNKNOWN);
    }
    assert_counts(r, 1, 0);
    results_remove(r, uid);                            /* twice: no-op */
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    uid_of(4, uid);
    results_remove(r, uid);
    assert_counts(r, 0, 0);
    add(r, 4);                                         /* the uid can come back */
    assert_int_equal(state_of(r, 4), RESULT_QUEUED);
    results_free(r);
}

static void test_add_existing_uid_replaces(void **state)
{
    (void)state;
    struct results *r = results_new(10, SIZE_MAX, 60, fake_clock);
    add(r, 1);
    finish_ok(r, 1);
    char uid[37];
    uid_of(1, uid);
    assert_int_equal(results_add_queued(r, uid, "new", 3), 0);
    assert_counts(r, 0, 1);
    struct result_view v;
    assert_int_equal(results_get(r, uid, &v), RESULT_QUEUED);
    assert_string_equal(v.quote, "new");
    assert_null(v.data);
    result_view_free(&v);
    results_free(r);
}

static void test_many_entries_grow_the_table(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct results *r = results_new(N / 2, SIZE_MAX, 60, fake_clock);
    for (unsigned n = 0; n < N; n++)
        add(r, n);
    for (unsigned n = 0; n < N; n += 2)
        finish_ok(r, n);
    assert_counts(r, N / 2, N / 2);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(state_of(r, n), n % 2 ? RESULT_QUEUED : RESULT_DONE);
    for (unsigned n = 1; n < N; n += 2)
        finish_ok(r, n);                               /* pushes out the first half */
    assert_counts(r, N / 2, 0);
    for (unsigned n = 0; n < N; n++)
        assert_int_equal(state_of(r, n), n % 2 ? RESULT_DONE : RESULT_UNKNOWN);
    results_free(r);
}

static void test_zero_max_size_means_one(void **state)
{
    (void)state;
    struct results *r = results_new(0, SIZE_MAX, 60, NULL);       /* real clock */
    add(r, 1);
    add(r, 2);
    finish_ok(r, 1);
    finish_ok(r, 2);
    assert_counts(r, 1, 0);
    assert_int_equal(state_of(r, 2), RESULT_DONE);
    results_free(r);
}

/* ---- threads ----------------------------------------------------------------------------- */

#define THREADS 3
#define JOBS_PER_THREAD 2000

struct worker_arg {
    struct results *r;
    unsigned first;
    int failures;
};

static void *job_cycle(void *arg)
{
    struct worker_arg *w = arg;
    for (unsigned n = w->first; n < w->first + JOBS_PER_THREAD; n++) {
        char uid[37];
        uid_of(n, uid);
        if (results_add_queued(w->r, uid, "q", 1) != 0)
            w->failures++;
        results_set_running(w->r, uid);
        if (results_get(w->r, uid, NULL) != RESULT_RUNNING)
            w->failures++;
        if (results_finish(w->r, uid, "d", 1, NULL, NULL) != 0)
            w->failures++;
        struct result_view v;
        enum result_state s = results_get(w->r, uid, &v);
        if (s != RESULT_DONE && s != RESULT_UNKNOWN)   /* another thread may have evicted it */
            w->failures++;
        result_view_free(&v);
        if (n % 100 == 0)
            results_sweep(w->r);
    }
    return NULL;
}

static void test_concurrent_use(void **state)
{
    (void)state;
    struct results *r = results_new(50, SIZE_MAX, 600, NULL);
    pthread_t t[THREADS];
    struct worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct worker_arg){ .r = r, .first = (unsigned)i * JOBS_PER_THREAD };
        assert_int_equal(pthread_create(&t[i], NULL, job_cycle, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    assert_counts(r, 50, 0);
    results_free(r);
}

/* results_finish_take stores the caller's buffer without copying it; views share it and keep it
 * alive after the entry is gone (evicted, overwritten, table freed). */
static void test_finish_take_and_shared_views(void **state)
{
    (void)state;
    struct results *r = results_new(1, SIZE_MAX, 60, fake_clock);
    char uid[37], other[37];
    uid_of(1, uid);
    uid_of(2, other);
    add(r, 1);
    char *data = strdup("{\"big\":true}");
    assert_non_null(data);
    const char *stored = data;
    assert_int_equal(results_finish_take(r, uid, &data, 12, "cur", NULL), 0);
    assert_null(data);
    struct result_view a, b;
    assert_int_equal(results_get(r, uid, &a), RESULT_DONE);
    assert_int_equal(results_get(r, uid, &b), RESULT_DONE);
    assert_ptr_equal(a.data, stored);               /* not copied, shared */
    assert_ptr_equal(b.data, stored);
    assert_int_equal(a.data_len, 12);
    assert_string_equal(a.next_cursor, "cur");
    result_view_free(&b);
    add(r, 2);                                      /* max_size 1: finishing 2 evicts 1 */
    finish_ok(r, 2);
    assert_int_equal(results_get(r, uid, NULL), RESULT_UNKNOWN);
    assert_string_equal(a.data, "{\"big\":true}");  /* the view still holds it */
    result_view_free(&a);

    /* An unknown uid: the buffer is freed, not leaked. */
    data = strdup("gone");
    assert_int_equal(results_finish_take(r, "00000009-0000-4000-8000-000000000009", &data, 4,
                                         NULL, NULL), 0);
    assert_null(data);
    /* An error or no data takes nothing. */
    add(r, 3);
    char *kept = strdup("kept");
    char uid3[37];
    uid_of(3, uid3);
    assert_int_equal(results_finish_take(r, uid3, &kept, 4, NULL, "failed"), 0);
    assert_non_null(kept);
    free(kept);
    assert_int_equal(results_get(r, uid3, &a), RESULT_FAILED);
    assert_string_equal(a.error, "failed");
    result_view_free(&a);
    char *none = NULL;
    add(r, 2);                                      /* evicted by 3 (max_size 1): queued again */
    assert_int_equal(results_finish_take(r, other, &none, 0, NULL, NULL), 0);
    assert_int_equal(results_get(r, other, &a), RESULT_DONE);
    assert_string_equal(a.data, "");
    assert_int_equal(results_get(r, other, &b), RESULT_DONE);
    results_free(r);                                /* views outlive the table */
    assert_string_equal(b.data, "");
    result_view_free(&a);
    result_view_free(&b);
}

/* ---- the byte bound (RESULT_CACHE_MAX_BYTES) ---- */

/* finish_sized finishes n with `size` bytes of data (its quote, "quote-N", adds 7 for N < 10). */
static void finish_sized(struct results *r, unsigned n, size_t size)
{
    char uid[37];
    uid_of(n, uid);
    char *data = malloc(size + 1);
    assert_non_null(data);
    memset(data, 'x', size);
    data[size] = '\0';
    assert_int_equal(results_finish(r, uid, data, size, NULL, NULL), 0);
    free(data);
}

static void assert_bytes(struct results *r, size_t want)
{
    size_t bytes = 99;
    results_counts(r, NULL, NULL, &bytes);
    assert_int_equal(bytes, want);
}

/* Beyond the byte bound the least recently used outcomes leave memory; their ids stay, "in store",
 * hold no outcome and are not refreshed by a read. */
static void test_byte_bound_lets_least_recently_used_go(void **state)
{
    (void)state;
    struct results *r = results_new(10, 100, 600, fake_clock);   /* each entry below: 7 + 30 */
    for (unsigned n = 1; n <= 4; n++)
        add(r, n);
    finish_sized(r, 1, 30);
    finish_sized(r, 2, 30);
    assert_bytes(r, 74);
    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* newest first: 1 2 */
    finish_sized(r, 3, 30);                            /* 3 1 2: 111 bytes, 2 goes */
    assert_int_equal(state_of(r, 2), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* 1 3 */
    assert_int_equal(state_of(r, 3), RESULT_DONE);     /* 3 1 */
    assert_counts(r, 3, 1);
    assert_bytes(r, 74);

    struct result_view v;
    char uid[37];
    uid_of(2, uid);
    assert_int_equal(results_get(r, uid, &v), RESULT_IN_STORE);
    assert_null(v.quote);
    assert_null(v.data);
    assert_null(v.error);
    result_view_free(&v);

    assert_int_equal(state_of(r, 1), RESULT_DONE);     /* 1 3 */
    finish_sized(r, 4, 30);                            /* 4 1 3: 3 goes */
    assert_int_equal(state_of(r, 3), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 1), RESULT_DONE);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_counts(r, 4, 0);
    assert_bytes(r, 74);

    /* a result larger than the bound by itself leaves memory at once, and alone */
    add(r, 5);
    finish_sized(r, 5, 200);
    assert_int_equal(state_of(r, 5), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_bytes(r, 74);
    results_free(r);
}

/* In-store entries count among the finished (RESULT_CACHE_MAX_SIZE) and go first, then the least
 * recently used held ones; they expire with their age. */
static void test_in_store_entries_count_and_expire(void **state)
{
    (void)state;
    struct results *r = results_new(3, 100, 60, fake_clock);
    for (unsigned n = 1; n <= 5; n++)
        add(r, n);
    finish_sized(r, 1, 30);
    finish_sized(r, 2, 30);
    finish_sized(r, 3, 30);                            /* 1 to store */
    assert_int_equal(state_of(r, 1), RESULT_IN_STORE);
    assert_counts(r, 3, 2);
    finish_sized(r, 4, 30);                            /* 4 finished: 1 deleted, then 2 to store */
    assert_int_equal(state_of(r, 1), RESULT_UNKNOWN);
    assert_int_equal(state_of(r, 2), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 3), RESULT_DONE);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_counts(r, 3, 1);
    assert_bytes(r, 74);
    fake_now += 61;
    assert_int_equal(results_sweep(r), 3);
    assert_int_equal(state_of(r, 2), RESULT_UNKNOWN);
    assert_counts(r, 0, 1);
    assert_bytes(r, 0);
    results_free(r);
}

/* A result larger than the byte bound by itself, finishing when RESULT_CACHE_MAX_SIZE entries are
 * finished already, stays known "in store": the least recently used entry makes room for it, not
 * the newest (which went to the store alone and was taken for the oldest in-store one). */
static void test_oversized_result_with_full_count_stays_known(void **state)
{
    (void)state;
    struct results *r = results_new(2, 100, 600, fake_clock);
    for (unsigned n = 1; n <= 4; n++)
        add(r, n);
    finish_sized(r, 1, 30);
    finish_sized(r, 2, 30);
    finish_sized(r, 3, 200);                           /* 1 deleted, 3 in store */
    assert_int_equal(state_of(r, 3), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 1), RESULT_UNKNOWN);
    assert_int_equal(state_of(r, 2), RESULT_DONE);
    assert_counts(r, 2, 1);
    assert_bytes(r, 37);
    finish_sized(r, 4, 200);                           /* 3 (in store, older) deleted */
    assert_int_equal(state_of(r, 4), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 3), RESULT_UNKNOWN);
    assert_int_equal(state_of(r, 2), RESULT_DONE);
    assert_counts(r, 2, 0);
    assert_bytes(r, 37);
    results_free(r);
}

/* Queued and running entries are not counted in the bytes and never leave for the bound. */
static void test_byte_bound_never_touches_pending(void **state)
{
    (void)state;
    struct results *r = results_new(10, 100, 600, fake_clock);
    for (unsigned n = 1; n <= 4; n++)
        add(r, n);
    char uid[37];
    uid_of(2, uid);
    results_set_running(r, uid);
    assert_bytes(r, 0);
    finish_sized(r, 1, 500);
    assert_int_equal(state_of(r, 1), RESULT_IN_STORE);
    assert_int_equal(state_of(r, 2), RESULT_RUNNING);
    assert_int_equal(state_of(r, 3), RESULT_QUEUED);
    assert_int_equal(state_of(r, 4), RESULT_QUEUED);
    assert_counts(r, 1, 3);
    assert_bytes(r, 0);
    results_free(r);
}

/* The bytes count what each finished outcome holds, through finish, take, re-finish, remove and
 * replacement; an in-store entry finished again holds its new outcome. */
static void test_byte_counts_follow_every_change(void **state)
{
    (void)state;
    struct results *r = results_new(10, 1000, 600, fake_clock);
    char uid[5][37];
    for (unsigned n = 1; n <= 4; n++) {
        add(r, n);
        uid_of(n, uid[n]);
    }
    assert_int_equal(results_finish(r, uid[1], "abcd", 4, "cursor", NULL), 0);
    assert_bytes(r, 7 + 4 + 6);
    assert_int_equal(results_finish(r, uid[2], NULL, 0, NULL, "an error"), 0);
    assert_bytes(r, 17 + 7 + 8);
    char *data = strdup("0123456789");
    assert_non_null(data);
    assert_int_equal(results_finish_take(r, uid[3], &data, 10, NULL, NULL), 0);
    assert_bytes(r, 32 + 7 + 10);
    assert_int_equal(results_finish(r, uid[1], "ab", 2, NULL, NULL), 0);  /* re-finished */
    assert_bytes(r, 49 - 17 + 7 + 2);
    results_remove(r, uid[2]);
    assert_bytes(r, 9 + 17);
    assert_int_equal(results_add_queued(r, uid[3], "q", 1), 0);           /* replaced */
    assert_bytes(r, 9);
    assert_counts(r, 1, 2);

    finish_sized(r, 4, 2000);                          /* alone beyond 1000: in store */
    assert_int_equal(state_of(r, 4), RESULT_IN_STORE);
    assert_bytes(r, 9);
    assert_int_equal(results_finish(r, uid[4], "xyz", 3, NULL, NULL), 0);
    assert_int_equal(state_of(r, 4), RESULT_DONE);
    assert_bytes(r, 9 + 10);
    finish_sized(r, 4, 2000);
    results_remove(r, uid[4]);
    assert_bytes(r, 9);
    assert_counts(r, 1, 1);
    results_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lifecycle_done, reset_clock),
        cmocka_unit_test_setup(test_lifecycle_failed, reset_clock),
        cmocka_unit_test_setup(test_binary_and_empty_data, reset_clock),
        cmocka_unit_test_setup(test_unknown_and_malformed_uids, reset_clock),
        cmocka_unit_test_setup(test_uid_case_does_not_matter, reset_clock),
        cmocka_unit_test_setup(test_finish_of_unknown_uid_stores_nothing, reset_clock),
        cmocka_unit_test_setup(test_lru_eviction_order_read_refreshes, reset_clock),
        cmocka_unit_test_setup(test_refinish_replaces_and_refreshes, reset_clock),
        cmocka_unit_test_setup(test_pending_never_evicted, reset_clock),
        cmocka_unit_test_setup(test_max_age_since_finish, reset_clock),
        cmocka_unit_test_setup(test_sweep_removes_only_expired, reset_clock),
        cmocka_unit_test_setup(test_remove_any_state, reset_clock),
        cmocka_unit_test_setup(test_add_existing_uid_replaces, reset_clock),
        cmocka_unit_test_setup(test_many_entries_grow_the_table, reset_clock),
        cmocka_unit_test_setup(test_zero_max_size_means_one, reset_clock),
        cmocka_unit_test_setup(test_concurrent_use, reset_clock),
        cmocka_unit_test_setup(test_finish_take_and_shared_views, reset_clock),
        cmocka_unit_test_setup(test_byte_bound_lets_least_recently_used_go, reset_clock),
        cmocka_unit_test_setup(test_in_store_entries_count_and_expire, reset_clock),
        cmocka_unit_test_setup(test_byte_bound_never_touches_pending, reset_clock),
        cmocka_unit_test_setup(test_oversized_result_with_full_count_stays_known, reset_clock),
        cmocka_unit_test_setup(test_byte_counts_follow_every_change, reset_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
