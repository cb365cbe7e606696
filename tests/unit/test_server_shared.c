/* test_server_shared.c - the job server on a shared store (a fleet), against an in-memory fake of
 * the store interface: /job/add only stores the job; the feeder takes jobs only while a job thread
 * is free (never more than MAX_JOBS taken and unfinished); results go back to the store; a status
 * lookup falls back to the store (finished elsewhere, queued elsewhere, unknown, store down), whose
 * results pass the caller's size gate before they are read (refused: nothing copied out); the
 * store's admission answers map to 409 / 429 / 503 / 500; a job the store hands back while it still
 * runs here (a redelivery) is refused, not reset to queued and run a second time. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "store/store_backend.h"

#include "job_fixtures.h"

#define SELF "11111111-1111-4111-8111-111111111111"
#define ELSEWHERE "22222222-2222-4222-8222-222222222222"
#define WAITING "33333333-3333-4333-8333-333333333333"
#define NJOBS 64

struct fake_job {
    char uid[37];
    char *json;
    size_t len;
    bool taken;
};

struct fake_result {
    char uid[37];
    char *quote, *data, *error;
    size_t data_len;
};

struct fake {
    struct store base;
    pthread_mutex_t lock;
    struct fake_job jobs[NJOBS];
    size_t njobs;
    struct fake_result results[NJOBS];
    size_t nresults;
    bool force;                /* answer forced_admit instead of storing the job */
    int forced_admit;
    bool down;
    size_t taken_open, max_taken_open, max_asked;
    /* redelivery: fake_finish holds each finishing job while hold_finish; once one is held,
     * fake_take hands jobs[0] over again (once) and records fn's answer */
    pthread_cond_t changed;
    bool hold_finish, redeliver, redelivering, redelivered;
    size_t held;
    int redelivered_rc;
};

#define FAKE(b) ((struct fake *)(b))

static void fake_close(struct store *b)
{
    struct fake *f = FAKE(b);
    for (size_t i = 0; i < f->njobs; i++)
        free(f->jobs[i].json);
    for (size_t i = 0; i < f->nresults; i++) {
        free(f->results[i].quote);
        free(f->results[i].data);
        free(f->results[i].error);
    }
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->changed);
    free(f);
}

static int fake_admit(struct store *b, const char *quote, size_t quote_len, time_t expires,
                      const char *uid, const char *json, size_t len)
{
    (void)quote, (void)quote_len, (void)expires;
    struct fake *f = FAKE(b);
    if (f->force)
        return f->forced_admit;
    pthread_mutex_lock(&f->lock);
    assert_true(f->njobs < NJOBS);
    struct fake_job *j = &f->jobs[f->njobs++];
    memcpy(j->uid, uid, 37);
    j->json = strndup(json, len);
    j->len = len;
    pthread_mutex_unlock(&f->lock);
    return STORE_ADMITTED;
}

static int fake_nonce_seen(struct store *b, const char *q, size_t n, time_t now)
{
    (void)b, (void)q, (void)n, (void)now;
    fail_msg("a shared store's admission checks the nonce itself");
    return -1;
}

static void put_result(struct fake *f, const char *uid, const char *quote, const char *data,
                       size_t data_len, const char *error)
{
    struct fake_result *r = &f->results[f->nresults++];
    memcpy(r->uid, uid, 37);
    r->quote = strdup(quote);
    r->data = data ? strndup(data, data_len) : NULL;
    r->data_len = data_len;
    r->error = error ? strdup(error) : NULL;
}

static int fake_finish(struct store *b, const char *uid, const char *quote, size_t quote_len,
                       const char *data, size_t data_len, const char *cursor, const char *error,
                       time_t at)
{
    (void)quote_len, (void)cursor, (void)at;
    struct fake *f = FAKE(b);
    pthread_mutex_lock(&f->lock);
    if (f->hold_finish) {
        f->held++;
        pthread_cond_broadcast(&f->changed);
        while (f->hold_finish)
            pthread_cond_wait(&f->changed, &f->lock);
    }
    put_result(f, uid, quote, data, data_len, error);
    f->taken_open--;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int fake_flush(struct store *b)
{
    (void)b;
    return 0;
}

static int fake_take(struct store *b, const char *consumer, size_t max, int wait_ms,
                     store_job_fn fn, void *ctx)
{
    struct fake *f = FAKE(b);
    assert_string_equal(consumer, SELF);
    int given = 0;
    pthread_mutex_lock(&f->lock);
    if (max > f->max_asked)
        f->max_asked = max;
    for (size_t i = 0; i < f->njobs && (size_t)given < max; i++) {
        struct fake_job *j = &f->jobs[i];
        if (j->taken)
            continue;
        j->taken = true;
        f->taken_open++;
        if (f->taken_open > f->max_taken_open)
            f->max_taken_open = f->taken_open;
        pthread_mutex_unlock(&f->lock);
        assert_int_equal(fn(ctx, j->uid, j->json, j->len), 0);
        pthread_mutex_lock(&f->lock);
        given++;
    }
    if (f->redeliver && f->held && !f->redelivering) {
        struct fake_job *j = &f->jobs[0];   /* running here, held in fake_finish */
        f->redelivering = true;
        pthread_mutex_unlock(&f->lock);
        int rc = fn(ctx, j->uid, j->json, j->len);
        pthread_mutex_lock(&f->lock);
        f->redelivered_rc = rc;
        f->redelivered = true;
        pthread_cond_broadcast(&f->changed);
    }
    pthread_mutex_unlock(&f->lock);
    if (!given)
        usleep((useconds_t)(wait_ms < 5 ? wait_ms : 5) * 1000);
    return given;
}

/* fake_lookup: the "stored length" shown to the gate is the data's (the error's) length. */
static int fake_lookup(struct store *b, const char *uid, time_t finished_near,
                       const struct store_size_gate *gate, store_result_fn fn, void *ctx)
{
    (void)finished_near;
    struct fake *f = FAKE(b);
    if (f->down)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nresults && rc == 0; i++) {
        struct fake_result *r = &f->results[i];
        if (strcmp(r->uid, uid) != 0)
            continue;
        size_t stored = r->error ? strlen(r->error) : r->data_len;
        if (gate && !gate->admit(gate->ctx, stored)) {
            rc = STORE_LOOKUP_REFUSED;
            break;
        }
        fn(ctx, uid, r->quote, strlen(r->quote), r->error ? NULL : r->data, r->data_len, NULL,
           r->error, time(NULL));
        rc = 2;
    }
    for (size_t i = 0; i < f->njobs && rc == 0; i++)
        if (strcmp(f->jobs[i].uid, uid) == 0)
            rc = 1;
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int fake_counts(struct store *b, struct store_counts *out)
{
    (void)b;
    out->jobs = out->results = out->nonces = -1;
    return 0;
}

static const struct store_ops fake_ops = {
    .name = "fake", .shared = true, .close = fake_close, .admit = fake_admit,
    .nonce_seen = fake_nonce_seen, .finish = fake_finish, .flush = fake_flush,
    .take = fake_take, .lookup = fake_lookup, .counts = fake_counts,
};

struct fixture {
    struct config cfg;
    struct results *results;
    struct fake *store;
    struct stats *stats;
    json_t *caps;
    struct job_server *server;
};

static struct fixture *fixture_new(unsigned max_jobs)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->cfg.max_jobs = max_jobs;
    fx->cfg.job_queue_max = 1;          /* the fleet-wide bound is the store's, not this */
    fx->cfg.job_timeout_s = 30;
    fx->cfg.job_signature_max_age_s = 3600;
    fx->cfg.standalone = true;
    fx->results = results_new(100, SIZE_MAX, 600, NULL);
    fx->store = calloc(1, sizeof *fx->store);
    fx->store->base.ops = &fake_ops;
    pthread_mutex_init(&fx->store->lock, NULL);
    pthread_cond_init(&fx->store->changed, NULL);
    fx->stats = stats_new(SELF);
    fx->caps = registry_capabilities(&fx->cfg);
    struct job_server_deps deps = { &fx->cfg, fx->results, &fx->store->base, fx->stats, fx->caps,
                                    SELF, NULL /* telemetry reports {} */ };
    char err[128];
    fx->server = jobserver_start(&deps, err, sizeof err);
    assert_non_null(fx->server);
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    jobserver_stop(fx->server);
    json_decref(fx->caps);
    stats_free(fx->stats);
    store_close(&fx->store->base);
    results_free(fx->results);
    free(fx);
}

static size_t finished(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->nresults;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static void test_jobs_go_through_the_store(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(2);
    char uids[20][37];
    for (int i = 0; i < 20; i++) {
        struct job j;
        char quote[16];
        snprintf(quote, sizeof quote, "q%d", i);
        make_job(&j, "telemetry", quote, SELF);
        struct err e = { 0 };
        assert_int_equal(jobserver_admit(fx->server, &j, uids[i], &e), 0);
        assert_null(j.type);
    }
    for (int i = 0; i < 500 && finished(fx->store) < 20; i++)
        usleep(10000);
    assert_int_equal(finished(fx->store), 20);
    assert_true(fx->store->max_taken_open <= 2);   /* never more than MAX_JOBS at once */
    assert_true(fx->store->max_asked <= 2);
    for (int i = 0; i < 20; i++) {
        struct result_view v = { 0 };
        assert_int_equal(jobserver_lookup(fx->server, uids[i], NULL, &v), RESULT_DONE);
        assert_non_null(strstr(v.data, "worker_version"));
        result_view_free(&v);
    }
    fixture_free(fx);
}

/* fixture_with_result_elsewhere: one job thread, and a result ELSEWHERE in the store that another
 * worker finished ("data from another worker", quote "quote-x"). */
static struct fixture *fixture_with_result_elsewhere(void)
{
    struct fixture *fx = fixture_new(1);
    struct fake *f = fx->store;
    pthread_mutex_lock(&f->lock);
    put_result(f, ELSEWHERE, "quote-x", "data from another worker", 24, NULL);
    pthread_mutex_unlock(&f->lock);
    return fx;
}

static void test_lookup_falls_back_to_the_store(void **state)
{
    (void)state;
    struct fixture *fx = fixture_with_result_elsewhere();
    struct fake *f = fx->store;
    struct result_view v = { 0 };
    assert_int_equal(jobserver_lookup(fx->server, ELSEWHERE, NULL, &v), RESULT_DONE);
    assert_string_equal(v.quote, "quote-x");
    assert_int_equal(v.data_len, 24);
    assert_memory_equal(v.data, "data from another worker", 24);
    result_view_free(&v);

    pthread_mutex_lock(&f->lock);
    put_result(f, WAITING, "quote-y", NULL, 0, "it failed elsewhere");
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(jobserver_lookup(fx->server, WAITING, NULL, &v), RESULT_FAILED);
    assert_string_equal(v.error, "it failed elsewhere");
    result_view_free(&v);

    /* queued somewhere: the job is in the store, held by another worker */
    pthread_mutex_lock(&f->lock);
    struct fake_job *j = &f->jobs[f->njobs++];
    strcpy(j->uid, "44444444-4444-4444-8444-444444444444");
    j->json = strdup("not for this worker");
    j->taken = true;       /* held by "another worker": the feeder skips it */
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(jobserver_lookup(fx->server, "44444444-4444-4444-8444-444444444444", NULL, &v),
                     RESULT_QUEUED);
    assert_int_equal(jobserver_lookup(fx->server, "55555555-5555-4555-8555-555555555555", NULL, &v),
                     RESULT_UNKNOWN);
    f->down = true;
    assert_int_equal(jobserver_lookup(fx->server, "55555555-5555-4555-8555-555555555555", NULL, &v),
                     JOBSERVER_LOOKUP_UNAVAILABLE);
    assert_null(v.quote);
    fixture_free(fx);
}

/* A gate that admits sizes up to its limit and remembers what it was asked. */
struct size_gate_probe {
    size_t limit;
    size_t asked;
    int calls;
};

static bool probe_admit(void *ctx, size_t stored_len)
{
    struct size_gate_probe *p = ctx;
    p->asked = stored_len;
    p->calls++;
    return stored_len <= p->limit;
}

static void test_lookup_gate_refuses_before_the_result_is_read(void **state)
{
    (void)state;
    struct fixture *fx = fixture_with_result_elsewhere();
    struct size_gate_probe probe = { .limit = 23 };
    const struct store_size_gate gate = { probe_admit, &probe };
    struct result_view v = { 0 };
    assert_int_equal(jobserver_lookup(fx->server, ELSEWHERE, &gate, &v),
                     JOBSERVER_LOOKUP_REFUSED);
    assert_int_equal(probe.calls, 1);
    assert_int_equal(probe.asked, 24);
    assert_null(v.quote);          /* nothing copied out */
    assert_null(v.data);

    probe.limit = 24;              /* the budget has room now */
    assert_int_equal(jobserver_lookup(fx->server, ELSEWHERE, &gate, &v), RESULT_DONE);
    assert_int_equal(probe.calls, 2);
    assert_memory_equal(v.data, "data from another worker", 24);
    result_view_free(&v);

    /* a job this worker knows is answered from its own table: no store read, no gate */
    probe.limit = 0;
    assert_int_equal(results_add_queued(fx->results, SELF, "quote-s", 7), 0);
    assert_int_equal(jobserver_lookup(fx->server, SELF, &gate, &v), RESULT_QUEUED);
    assert_int_equal(probe.calls, 2);
    result_view_free(&v);
    fixture_free(fx);
}

static void test_admission_answers(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(1);
    static const struct { int store; int http; const char *text; } cases[] = {
        { STORE_REPLAY, 409, "job already executed" },
        { STORE_FULL, 429, "job queue is full" },
        { STORE_UNAVAILABLE, 503, "job store unavailable" },
        { STORE_ERROR, 500, "storage error" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx->store->force = true;
        fx->store->forced_admit = cases[i].store;
        struct job j;
        make_job(&j, "telemetry", "quote", SELF);
        char uid[37];
        struct err e = { 0 };
        assert_int_equal(jobserver_admit(fx->server, &j, uid, &e), -1);
        assert_int_equal(e.http, cases[i].http);
        assert_non_null(strstr(e.msg, cases[i].text));
        assert_non_null(j.type);   /* refused: the job stays the caller's */
        job_clear(&j);
    }
    fixture_free(fx);
}

/* The store may hand back a job this worker still runs (XAUTOCLAIM of an entry idle past the claim
 * delay, or a result being written as the entry is read again): the job server refuses it, so
 * the running job is neither reset to queued nor run a second time on a free job thread. */
static void test_job_handed_back_while_running_is_refused(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(2);
    struct fake *f = fx->store;
    pthread_mutex_lock(&f->lock);
    f->hold_finish = true;
    f->redeliver = true;
    pthread_mutex_unlock(&f->lock);
    struct job j;
    make_job(&j, "telemetry", "q-run", SELF);
    char uid[37];
    struct err e = { 0 };
    assert_int_equal(jobserver_admit(fx->server, &j, uid, &e), 0);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&f->lock);
    while (!f->redelivered)
        if (pthread_cond_timedwait(&f->changed, &f->lock, &until) != 0)
            break;
    bool redelivered = f->redelivered;
    int rc = f->redelivered_rc;
    pthread_mutex_unlock(&f->lock);
    /* still running (held in store_finish): the handed-back copy did not reset it to queued */
    struct result_view v = { 0 };
    enum result_state st = jobserver_lookup(fx->server, uid, NULL, &v);
    result_view_free(&v);
    usleep(100 * 1000);   /* a second run, had it been queued, reaches store_finish meanwhile */
    pthread_mutex_lock(&f->lock);
    size_t held = f->held;
    f->hold_finish = false;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    for (int i = 0; i < 500 && finished(f) < held; i++)
        usleep(10000);
    usleep(50 * 1000);
    assert_true(redelivered);
    assert_int_not_equal(rc, 0);              /* refused: not taken a second time */
    assert_int_equal(st, RESULT_RUNNING);
    assert_int_equal(held, 1);                /* one run only */
    assert_int_equal(finished(f), 1);

    /* the refusal took no job slot: the next job goes through */
    make_job(&j, "telemetry", "q-next", SELF);
    assert_int_equal(jobserver_admit(fx->server, &j, uid, &e), 0);
    for (int i = 0; i < 500 && finished(f) < 2; i++)
        usleep(10000);
    assert_int_equal(finished(f), 2);
    fixture_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_go_through_the_store),
        cmocka_unit_test(test_lookup_falls_back_to_the_store),
        cmocka_unit_test(test_lookup_gate_refuses_before_the_result_is_read),
        cmocka_unit_test(test_admission_answers),
        cmocka_unit_test(test_job_handed_back_while_running_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
