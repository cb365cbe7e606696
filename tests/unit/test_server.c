/* test_server.c - the job server: admission order and answers, nonce only consumed on admission,
 * the queue bound, workers running telemetry jobs to completion, MAX_JOBS honoured, results let go
 * by the memory's byte bound answered from the SQLite store (unknown ids still unknown), and an
 * admission that runs out of memory leaving the signature usable (this binary is linked with
 * -Wl,--wrap=calloc, see tests/meson.build, to fail the one allocation that matters). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "jobs/server.h"
#include "jobs/stats.h"
#include "metrics.h"
#include "store/store.h"
#include "tee/platform.h"

#include "job_fixtures.h"

#define SELF "11111111-1111-4111-8111-111111111111"

/* ---- allocation failure (-Wl,--wrap=calloc) ----
 * While armed, the first calloc of one object whose size lies in (fail_above, fail_above + 256]
 * fails. The result table's entry for a job is one calloc of a small header plus the job's quote:
 * a quote of a length nothing else in the admission path allocates singles that entry out. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

static atomic_size_t fail_above;
static atomic_int calloc_failures;

void *__wrap_calloc(size_t n, size_t size)
{
    size_t above = atomic_load(&fail_above);
    if (above && n == 1 && size > above && size <= above + 256 &&
        atomic_compare_exchange_strong(&fail_above, &above, 0)) {
        atomic_fetch_add(&calloc_failures, 1);
        return NULL;
    }
    return __real_calloc(n, size);
}

static void fail_next_calloc_above(size_t size)
{
    atomic_store(&calloc_failures, 0);
    atomic_store(&fail_above, size);
}

/* The result table's clock: real time plus an offset a test may move forward. */
static atomic_long clock_offset;

static time_t fixture_now(void)
{
    return time(NULL) + (time_t)atomic_load(&clock_offset);
}

struct fixture {
    struct config cfg;
    struct results *results;
    struct platform platform;
    struct store *store;
    char dir[64];
    struct stats *stats;
    json_t *caps;
    char *caps_text;
    struct job_server *server;
};

/* fixture_new_bounded: a job server on a SQLite store whose result table holds at most
 * result_bytes bytes of outcomes (RESULT_CACHE_MAX_BYTES). */
static struct fixture *fixture_new_bounded(unsigned max_jobs, unsigned queue_max,
                                           size_t result_bytes)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->cfg.max_jobs = max_jobs;
    f->cfg.job_queue_max = queue_max;
    f->cfg.job_timeout_s = 30;
    f->cfg.job_signature_max_age_s = 3600;
    atomic_store(&clock_offset, 0);
    f->results = results_new(100, result_bytes, 600, fixture_now);
    strcpy(f->dir, "/tmp/tw-server-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->cfg.data_dir = f->dir;
    f->cfg.standalone = true;
    f->cfg.result_cache_max_size = 100;
    f->cfg.result_cache_max_age_s = 600;
    char perr[256];
    assert_int_equal(platform_open(&f->platform, &f->cfg, perr, sizeof perr), 0);
    f->store = store_open(&f->platform, false, perr, sizeof perr);
    assert_non_null(f->store);
    f->stats = stats_new(SELF);
    f->caps = registry_capabilities(&f->cfg);
    f->caps_text = json_dumps(f->caps, JSON_COMPACT);
    struct job_server_deps deps = { &f->cfg, f->results, f->store, f->stats, f->caps, SELF,
                                    f->caps_text };
    char err[128];
    f->server = jobserver_start(&deps, err, sizeof err);
    assert_non_null(f->server);
    return f;
}

static struct fixture *fixture_new(unsigned max_jobs, unsigned queue_max)
{
    return fixture_new_bounded(max_jobs, queue_max, SIZE_MAX);
}

static void fixture_free(struct fixture *f)
{
    jobserver_stop(f->server);
    json_decref(f->caps);
    free(f->caps_text);
    stats_free(f->stats);
    store_close(f->store);
    platform_close(&f->platform);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    results_free(f->results);
    free(f);
}

static enum result_state wait_finished(struct results *r, const char *uid, struct result_view *v)
{
    for (int i = 0; i < 500; i++) {
        enum result_state s = results_get(r, uid, v);
        if (s == RESULT_DONE || s == RESULT_FAILED)
            return s;
        result_view_free(v);
        usleep(10000);
    }
    return RESULT_UNKNOWN;
}

static void test_telemetry_job_runs(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2, 10);
    struct job j;
    make_job(&j, "telemetry", "quote-1", SELF);
    char uid[37];
    struct err e = { 0 };
    assert_int_equal(jobserver_admit(f->server, &j, uid, &e), 0);
    assert_null(j.type);    /* ownership taken */
    struct result_view v = { 0 };
    assert_int_equal(wait_finished(f->results, uid, &v), RESULT_DONE);
    assert_string_equal(v.quote, "quote-1");
    json_t *doc = json_loads(v.data, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "worker_id")), SELF);
    assert_string_equal(json_string_value(json_object_get(doc, "worker_version")), "beta");
    json_decref(doc);
    result_view_free(&v);
    fixture_free(f);
}

static void expect_refusal(struct fixture *f, struct job *j, int http, const char *msg)
{
    char uid[37];
    struct err e = { 0 };
    assert_int_equal(jobserver_admit(f->server, j, uid, &e), -1);
    assert_int_equal(e.http, http);
    if (!strstr(e.msg, msg))
        fail_msg("\"%s\" lacks \"%s\"", e.msg, msg);
    job_clear(j);
}

static void test_refusals_do_not_consume_the_nonce(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 10);
    struct job j;
    make_job(&j, "nope", "q", SELF);
    expect_refusal(f, &j, 400, "unknown job type: nope");
    make_job(&j, "telemetry", "q", SELF);
    free(j.target_worker);
    j.target_worker = strdup("someone-else");
    expect_refusal(f, &j, 403, "this job is not for this worker");
    make_job(&j, "telemetry", "q", SELF);
    j.issued_at = time(NULL) - 7200;
    expect_refusal(f, &j, 400, "expired");
    make_job(&j, "telemetry", "q", SELF);
    j.issued_at = time(NULL) + 3600;
    expect_refusal(f, &j, 400, "future");
    /* the same quote is still admissible once */
    make_job(&j, "telemetry", "q", SELF);
    char uid[37];
    struct err e = { 0 };
    assert_int_equal(jobserver_admit(f->server, &j, uid, &e), 0);
    make_job(&j, "telemetry", "q", SELF);
    expect_refusal(f, &j, 409, "job already executed");
    fixture_free(f);
}

static void test_whitelist(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    char *items[] = { "miner-a", "miner-b" };
    assert_true(jobserver_whitelisted(&cfg, SELF, "web", "anyone"));
    cfg.miners_white_list.items = items;
    cfg.miners_white_list.count = 2;
    assert_true(jobserver_whitelisted(&cfg, SELF, "web", "miner-b"));
    assert_false(jobserver_whitelisted(&cfg, SELF, "web", "miner-c"));
    assert_false(jobserver_whitelisted(&cfg, SELF, "web", ""));
    assert_false(jobserver_whitelisted(&cfg, SELF, "web", SELF));
    assert_true(jobserver_whitelisted(&cfg, SELF, "telemetry", "stranger"));
    cfg.standalone = true;
    assert_true(jobserver_whitelisted(&cfg, SELF, "web", SELF));
    assert_false(jobserver_whitelisted(&cfg, SELF, "web", "miner-a"));
}

static void test_queue_full_is_503_and_keeps_the_nonce(void **state)
{
    (void)state;
    /* no worker can drain: stop the threads by using a server whose queue we fill faster than a
     * single worker runs; with capacity 1 and a burst the 503 must appear */
    struct fixture *f = fixture_new(1, 1);
    char uid[37];
    struct err e = { 0 };
    int refused = 0;
    char quote[32];
    for (int i = 0; i < 2000 && !refused; i++) {
        struct job j;
        snprintf(quote, sizeof quote, "burst-%d", i);
        make_job(&j, "telemetry", quote, SELF);
        err_clear(&e);
        if (jobserver_admit(f->server, &j, uid, &e) < 0) {
            assert_int_equal(e.http, 429);     /* the clients' load: 503 on the wire */
            refused = 1;
            job_clear(&j);
            assert_int_equal(store_nonce_seen(f->store, quote, strlen(quote), time(NULL)), 0);
            /* once the queue drains, the same signature is accepted */
            int ok = -1;
            for (int k = 0; k < 500 && ok < 0; k++) {
                make_job(&j, "telemetry", quote, SELF);
                err_clear(&e);
                ok = jobserver_admit(f->server, &j, uid, &e);
                if (ok < 0) {
                    assert_int_equal(e.http, 429);
                    job_clear(&j);
                    usleep(2000);
                }
            }
            assert_int_equal(ok, 0);
        }
    }
    assert_true(refused);
    fixture_free(f);
}

static int count_job(void *ctx, const char *uid, const char *json, size_t len)
{
    (void)uid;
    (void)json;
    (void)len;
    (*(int *)ctx)++;
    return 0;
}

/* Recovery queues the readable unfinished jobs again; one that opens but does not parse as a job
 * is finished as failed (in the store and in the result cache) instead of being dropped silently
 * and read again at every restart. */
static void test_recovery_requeues_and_fails_unreadable(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2, 10);
    const char *good = "22222222-2222-4222-8222-222222222222";
    const char *bad = "33333333-3333-4333-8333-333333333333";
    struct job j;
    make_job(&j, "telemetry", "quote-r", SELF);
    size_t len = 0;
    char *json = job_serialize(&j, &len);
    job_clear(&j);
    assert_non_null(json);
    time_t expires = time(NULL) + 3600;
    assert_int_equal(store_admit(f->store, "quote-r", 7, expires, good, json, len), STORE_ADMITTED);
    assert_int_equal(store_admit(f->store, "quote-x", 7, expires, bad, "{not a job", 10),
                     STORE_ADMITTED);
    assert_int_equal(store_admit(f->store, "quote-y", 7, expires, "short-uid", json, len),
                     STORE_ADMITTED);
    free(json);

    char err[128];
    assert_int_equal(jobserver_recover(f->server, err, sizeof err), 1);
    struct result_view v = { 0 };
    assert_int_equal(wait_finished(f->results, good, &v), RESULT_DONE);
    assert_string_equal(v.quote, "quote-r");
    result_view_free(&v);
    assert_int_equal(results_get(f->results, bad, &v), RESULT_FAILED);
    assert_non_null(strstr(v.error, "job cannot be read"));
    result_view_free(&v);

    /* all three have left the store's unfinished jobs: nothing comes back at the next start */
    assert_int_equal(store_flush(f->store), 0);
    int left = 0;
    assert_int_equal(store_each_job(f->store, count_job, &left), 0);
    assert_int_equal(left, 0);
    fixture_free(f);
}

/* A result restored at start-up keeps the age it had: it expires RESULT_CACHE_MAX_AGE_SECONDS
 * after its job finished, not after the restart (else every restart would extend its life). */
static void test_recovered_result_keeps_its_age(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 10);
    const char *uid = "44444444-4444-4444-8444-444444444444";
    assert_int_equal(store_finish(f->store, uid, "quote-old", 9, "{}", 2, NULL, NULL,
                                  time(NULL) - 590), 0);
    assert_int_equal(store_flush(f->store), 0);

    char err[128];
    assert_int_equal(jobserver_recover(f->server, err, sizeof err), 0);
    assert_int_equal(results_get(f->results, uid, NULL), RESULT_DONE);
    atomic_store(&clock_offset, 20);    /* 610 s after the job finished: past the 600 s bound */
    assert_int_equal(results_get(f->results, uid, NULL), RESULT_UNKNOWN);
    fixture_free(f);
}

/* ---- results the memory let go (RESULT_CACHE_MAX_BYTES), read back from the SQLite store ---- */

struct gate_probe {
    size_t seen;
    bool admit;
};

static bool probe_admit(void *ctx, size_t stored_len)
{
    struct gate_probe *p = ctx;
    p->seen = stored_len;
    return p->admit;
}

/* A result the byte bound pushed out of memory is answered from the store's results table while
 * the store keeps it, through the size gate; an id unknown in memory stays unknown (the store is
 * not asked), and one the store pruned since is unknown too. */
static void test_result_out_of_memory_is_read_from_the_store(void **state)
{
    (void)state;
    struct fixture *f = fixture_new_bounded(1, 10, 1000);
    const char *old = "55555555-5555-4555-8555-555555555555";
    const char *young = "66666666-6666-4666-8666-666666666666";
    const char *unknown = "77777777-7777-4777-8777-777777777777";
    char data[601];
    memset(data, 'a', 600);
    data[600] = '\0';
    assert_int_equal(store_finish(f->store, old, "quote-old", 9, data, 600, "next-page", NULL,
                                  time(NULL) - 10), 0);
    memset(data, 'b', 600);
    assert_int_equal(store_finish(f->store, young, "quote-young", 11, data, 600, NULL, NULL,
                                  time(NULL) - 5), 0);
    assert_int_equal(store_flush(f->store), 0);
    char err[128];
    assert_int_equal(jobserver_recover(f->server, err, sizeof err), 0);
    assert_int_equal(results_get(f->results, old, NULL), RESULT_IN_STORE);   /* 1220 > 1000 */
    assert_int_equal(results_get(f->results, young, NULL), RESULT_DONE);

    struct result_view v = { 0 };
    struct gate_probe probe = { 0, true };
    const struct store_size_gate gate = { probe_admit, &probe };
    assert_int_equal(jobserver_lookup(f->server, old, &gate, &v), RESULT_DONE);
    assert_true(probe.seen > 600);
    assert_int_equal(v.quote_len, 9);
    assert_string_equal(v.quote, "quote-old");
    assert_int_equal(v.data_len, 600);
    assert_true(v.data[0] == 'a' && v.data[599] == 'a' && v.data[600] == '\0');
    assert_string_equal(v.next_cursor, "next-page");
    result_view_free(&v);

    probe = (struct gate_probe){ 0, false };
    assert_int_equal(jobserver_lookup(f->server, old, &gate, &v), JOBSERVER_LOOKUP_REFUSED);
    assert_true(probe.seen > 600);
    assert_null(v.quote);

    probe = (struct gate_probe){ 0, true };
    assert_int_equal(jobserver_lookup(f->server, young, &gate, &v), RESULT_DONE);
    assert_int_equal(probe.seen, 0);                   /* from memory: the gate is not asked */
    assert_true(v.data[0] == 'b');
    result_view_free(&v);
    assert_int_equal(jobserver_lookup(f->server, unknown, &gate, &v), RESULT_UNKNOWN);
    assert_int_equal(probe.seen, 0);
    assert_null(v.quote);

    /* the store keeps the newest result only: the old one is unknown everywhere */
    assert_true(store_prune(f->store, time(NULL), time(NULL) - 600, 1) >= 1);
    assert_int_equal(jobserver_lookup(f->server, old, &gate, &v), RESULT_UNKNOWN);
    assert_null(v.quote);
    /* and is dropped from memory: the next poll is answered there, without a scan of the store */
    assert_int_equal(results_get(f->results, old, NULL), RESULT_UNKNOWN);
    assert_int_equal(jobserver_lookup(f->server, old, &gate, &v), RESULT_UNKNOWN);
    fixture_free(f);
}

/* A job whose result is larger than the byte bound by itself is answered from the store as soon
 * as it is finished in memory, even before the store's writer committed it on its own. */
static void test_job_result_beyond_the_bound_is_read_from_the_store(void **state)
{
    (void)state;
    struct fixture *f = fixture_new_bounded(1, 10, 1);
    struct job j;
    make_job(&j, "telemetry", "quote-s", SELF);
    char uid[37];
    struct err e = { 0 };
    assert_int_equal(jobserver_admit(f->server, &j, uid, &e), 0);
    enum result_state here = RESULT_UNKNOWN;
    for (int i = 0; i < 500 && (here = results_get(f->results, uid, NULL)) != RESULT_IN_STORE; i++)
        usleep(10000);
    assert_int_equal(here, RESULT_IN_STORE);
    struct result_view v = { 0 };
    assert_int_equal(jobserver_lookup(f->server, uid, NULL, &v), RESULT_DONE);
    assert_string_equal(v.quote, "quote-s");
    json_t *doc = json_loads(v.data, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "worker_id")), SELF);
    json_decref(doc);
    result_view_free(&v);
    fixture_free(f);
}

/* ---- out of memory recording the job's result entry ---- */

#define LONG_QUOTE_LEN 700

struct async_answer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool answered;
    char uid[37];
    struct err e;
};

static void async_answered(void *ctx, const char *uid, const struct err *e)
{
    struct async_answer *a = ctx;
    pthread_mutex_lock(&a->lock);
    if (uid)
        memcpy(a->uid, uid, sizeof a->uid);
    else
        a->e = *e;
    a->answered = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

/* admit_once admits a telemetry job with quote, through the writer (async) or not; returns 0 with
 * uid, or -1 with e. */
static int admit_once(struct fixture *f, const char *quote, bool async, char uid[37],
                      struct err *e)
{
    struct job j;
    make_job(&j, "telemetry", quote, SELF);
    if (!async) {
        int rc = jobserver_admit(f->server, &j, uid, e);
        job_clear(&j);
        return rc;
    }
    struct async_answer a = { .lock = PTHREAD_MUTEX_INITIALIZER,
                              .cond = PTHREAD_COND_INITIALIZER };
    jobserver_admit_async(f->server, &j, async_answered, &a);
    pthread_mutex_lock(&a.lock);
    while (!a.answered)
        pthread_cond_wait(&a.cond, &a.lock);
    pthread_mutex_unlock(&a.lock);
    pthread_mutex_destroy(&a.lock);
    pthread_cond_destroy(&a.cond);
    memcpy(uid, a.uid, 37);
    *e = a.e;
    return a.e.http ? -1 : 0;
}

/* A telemetry job (an instant kind) admitted through the store's writer is finished by the time
 * its admission is answered: it never waits for a job thread, takes no queue slot, and the store
 * holds its result, not an unfinished job. */
static void test_instant_job_is_finished_when_admitted(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 10);
    char uid[37];
    struct err e = { 0 };
    if (admit_once(f, "instant-1", true, uid, &e) < 0)
        fail_msg("refused: %d %s", e.http, e.msg);
    struct result_view v = { 0 };
    assert_int_equal(results_get(f->results, uid, &v), RESULT_DONE);
    assert_string_equal(v.quote, "instant-1");
    json_t *doc = json_loads(v.data, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "worker_id")), SELF);
    json_decref(doc);
    result_view_free(&v);
    assert_int_equal(jobserver_queue_length(f->server), 0);
    /* the commit that answered holds the result, and there never was an unfinished job (a queued
     * job's result would come with a later commit, STORE_BATCH_DELAY_MS on) */
    struct store_counts c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.results, 1);
    assert_int_equal(c.jobs, 0);
    /* its signature is spent */
    err_clear(&e);
    assert_int_equal(admit_once(f, "instant-1", true, uid, &e), -1);
    assert_int_equal(e.http, 409);
    fixture_free(f);
}

/* slow_answered answers like async_answered after holding the store's writer (which calls it)
 * for 400 ms, as a slow disk's commit would. */
static void slow_answered(void *ctx, const char *uid, const struct err *e)
{
    usleep(400 * 1000);
    async_answered(ctx, uid, e);
}

static void wait_answer(struct async_answer *a)
{
    pthread_mutex_lock(&a->lock);
    while (!a->answered)
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

/* An instant job's time in tee_worker_job_duration_seconds is its run's, as any job's ("from a
 * job's start to its result"): not the wait for the writer's commit that records it, which a
 * slow disk (here a writer held 400 ms by the admission before) stretches. */
static void test_instant_job_time_is_its_run_not_the_commit(void **state)
{
    (void)state;
    metrics_reset();
    struct fixture *f = fixture_new(1, 10);
    struct job slow, quick;
    make_job(&slow, "telemetry", "held-1", SELF);
    make_job(&quick, "telemetry", "quick-2", SELF);
    struct async_answer a1 = { .lock = PTHREAD_MUTEX_INITIALIZER,
                               .cond = PTHREAD_COND_INITIALIZER };
    struct async_answer a2 = { .lock = PTHREAD_MUTEX_INITIALIZER,
                               .cond = PTHREAD_COND_INITIALIZER };
    jobserver_admit_async(f->server, &slow, slow_answered, &a1);
    jobserver_admit_async(f->server, &quick, async_answered, &a2);
    wait_answer(&a2);
    wait_answer(&a1);
    assert_int_equal(a1.e.http, 0);
    assert_int_equal(a2.e.http, 0);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    metrics_write_counters(out);
    fclose(out);
    const char *count = "tee_worker_job_duration_seconds_count{kind=\"telemetry\"} 2\n";
    assert_non_null(strstr(text, count));
    const char *sum_at = strstr(text, "tee_worker_job_duration_seconds_sum{kind=\"telemetry\"} ");
    assert_non_null(sum_at);
    double sum = strtod(strchr(sum_at, '}') + 2, NULL);
    free(text);
    if (sum >= 0.2)
        fail_msg("two telemetry jobs took %.3f s in all: the commit's wait was counted", sum);
    fixture_free(f);
    metrics_reset();
}

/* The job's entry in the result table could not be allocated: the admission is refused (500) and
 * leaves nothing behind - no job in the store, and above all not the nonce, or the client's retry
 * with the same signature would be refused as a replay and the job lost. */
static void check_oom_keeps_the_signature(bool async)
{
    struct fixture *f = fixture_new(1, 10);
    assert_true(jobserver_admits_async(f->server));    /* a local store: both paths exist */
    char quote[LONG_QUOTE_LEN + 1];
    memset(quote, async ? 'a' : 's', LONG_QUOTE_LEN);
    quote[LONG_QUOTE_LEN] = '\0';
    char uid[37];
    struct err e = { 0 };

    fail_next_calloc_above(LONG_QUOTE_LEN);
    assert_int_equal(admit_once(f, quote, async, uid, &e), -1);
    assert_int_equal(atomic_load(&calloc_failures), 1);
    fail_next_calloc_above(0);
    assert_int_equal(e.http, 500);
    assert_string_equal(e.msg, "out of memory");
    assert_int_equal(store_flush(f->store), 0);
    assert_int_equal(store_nonce_seen(f->store, quote, LONG_QUOTE_LEN, time(NULL)), 0);
    int left = 0;
    assert_int_equal(store_each_job(f->store, count_job, &left), 0);
    assert_int_equal(left, 0);
    assert_int_equal(jobserver_queue_length(f->server), 0);

    /* the same signature again, with memory: admitted and run */
    err_clear(&e);
    if (admit_once(f, quote, async, uid, &e) < 0)
        fail_msg("retry refused: %d %s", e.http, e.msg);
    struct result_view v = { 0 };
    assert_int_equal(wait_finished(f->results, uid, &v), RESULT_DONE);
    assert_int_equal(v.quote_len, LONG_QUOTE_LEN);
    result_view_free(&v);
    fixture_free(f);
}

static void test_oom_on_result_entry_keeps_the_signature(void **state)
{
    (void)state;
    check_oom_keeps_the_signature(false);
}

static void test_oom_on_result_entry_keeps_the_signature_async(void **state)
{
    (void)state;
    check_oom_keeps_the_signature(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_telemetry_job_runs),
        cmocka_unit_test(test_refusals_do_not_consume_the_nonce),
        cmocka_unit_test(test_whitelist),
        cmocka_unit_test(test_queue_full_is_503_and_keeps_the_nonce),
        cmocka_unit_test(test_recovery_requeues_and_fails_unreadable),
        cmocka_unit_test(test_recovered_result_keeps_its_age),
        cmocka_unit_test(test_result_out_of_memory_is_read_from_the_store),
        cmocka_unit_test(test_job_result_beyond_the_bound_is_read_from_the_store),
        cmocka_unit_test(test_oom_on_result_entry_keeps_the_signature),
        cmocka_unit_test(test_oom_on_result_entry_keeps_the_signature_async),
        cmocka_unit_test(test_instant_job_is_finished_when_admitted),
        cmocka_unit_test(test_instant_job_time_is_its_run_not_the_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
