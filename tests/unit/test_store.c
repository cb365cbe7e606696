/* test_store.c - the SQLite store: schema, admission and replay, completion, recovery scans,
 * pruning, sealing of rows, and refusal of corrupt, foreign or newer databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <stdbool.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "store/store.h"
#include "tee/platform.h"

#define UID1 "11111111-1111-4111-8111-111111111111"
#define UID2 "22222222-2222-4222-8222-222222222222"
#define UID3 "33333333-3333-4333-8333-333333333333"

static pthread_t main_thread;

struct fx {
    char dir[64];
    struct config cfg;
    struct platform platform;
    struct store *store;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/tw-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->cfg.data_dir = f->dir;
    f->cfg.standalone = true;
    char err[256];
    assert_int_equal(platform_open(&f->platform, &f->cfg, err, sizeof err), 0);
    f->store = store_open(&f->platform, false, err, sizeof err);
    if (!f->store)
        fail_msg("store_open: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->store);
    platform_close(&f->platform);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    store_close(f->store);
    char err[256];
    f->store = store_open(&f->platform, true, err, sizeof err);
    if (!f->store)
        fail_msg("reopen: %s", err);
}

static int count_jobs(void *ctx, const char *uid, const char *json, size_t len)
{
    char *seen = ctx;                   /* the first character of each uid, in order */
    size_t n = strlen(seen);
    seen[n] = uid[0];
    seen[n + 1] = '\0';
    assert_int_equal(strlen(json), len);
    assert_non_null(strstr(json, "\"type\""));
    return 0;
}

static int count_any(void *ctx, const char *uid, const char *json, size_t len)
{
    (void)ctx, (void)uid, (void)json, (void)len;
    return 0;
}

static void test_admit_replay_and_expiry(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    assert_int_equal(store_admit(f->store, "q1", 2, now + 100, UID1, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "q1", 2, now + 100, UID2, job, strlen(job)), 0);
    assert_int_equal(store_nonce_seen(f->store, "q1", 2, now), 1);
    assert_int_equal(store_nonce_seen(f->store, "q2", 2, now), 0);
    /* an expired nonce may be admitted again */
    assert_int_equal(store_admit(f->store, "old", 3, now - 1, UID2, job, strlen(job)), 1);
    assert_int_equal(store_nonce_seen(f->store, "old", 3, now), 0);
    assert_int_equal(store_admit(f->store, "old", 3, now + 100, UID3, job, strlen(job)), 1);
    struct store_counts c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.jobs, 3);
    assert_int_equal(c.nonces, 2);
    /* survives a reopen, in admission order */
    reopen(f);
    char seen[8] = "";
    assert_int_equal(store_each_job(f->store, count_jobs, seen), 3);
    assert_string_equal(seen, "123");
    assert_int_equal(store_nonce_seen(f->store, "q1", 2, now), 1);
}

/* Rebuilds the results and nonces of the closed store as schema version 3 had them (results keyed
 * by uid with an index on finished; nonces keyed by digest with an index on expires), with the same
 * rows, then runs `more` (SQL) and sets the schema version to `version`. */
static void rewrite_as_v3(struct fx *f, const char *more, int version)
{
    store_close(f->store);
    f->store = NULL;
    char path[128], sql[2048];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE);
    snprintf(sql, sizeof sql,
        "BEGIN;"
        "CREATE TABLE results_v3(uid TEXT PRIMARY KEY, finished INTEGER NOT NULL,"
        "                        blob BLOB NOT NULL);"
        "INSERT INTO results_v3 SELECT uid, finished, blob FROM results ORDER BY uid;"
        "DROP TABLE results;"
        "ALTER TABLE results_v3 RENAME TO results;"
        "CREATE INDEX results_finished ON results(finished);"
        "CREATE TABLE nonces_v3(digest BLOB PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO nonces_v3 SELECT digest, rowid >> 24 FROM nonces;"
        "DROP TABLE nonces;"
        "ALTER TABLE nonces_v3 RENAME TO nonces;"
        "CREATE INDEX nonces_expires ON nonces(expires);"
        "%s"
        "UPDATE meta SET value = '%d' WHERE key = 'schema_version';"
        "COMMIT;", more, version);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("rewrite_as_v3: %s", msg);
    sqlite3_close(db);
    reopen(f);
}

/* A store of schema version 2 (jobs with an AUTOINCREMENT key and a uid index) is migrated to
 * version 3 with its jobs, their sealed rows and their order; jobs admitted after the migration
 * come after them. */
static void test_migrates_v2_jobs(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    assert_int_equal(store_admit(f->store, "a", 1, now + 100, UID2, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "b", 1, now + 100, UID3, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "c", 1, now + 100, UID1, job, strlen(job)), 1);
    rewrite_as_v3(f,
        "CREATE TABLE jobs_v2(seq INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,"
        "                     blob BLOB NOT NULL);"
        "INSERT INTO jobs_v2(seq, uid, blob) SELECT seq + 40, uid, blob FROM jobs;"
        "DROP TABLE jobs;"
        "ALTER TABLE jobs_v2 RENAME TO jobs;", 2);
    char seen[8] = "";
    assert_int_equal(store_each_job(f->store, count_jobs, seen), 3);
    assert_string_equal(seen, "231");
    assert_int_equal(store_admit(f->store, "d", 1, now + 100,
                                 "44444444-4444-4444-8444-444444444444", job, strlen(job)), 1);
    seen[0] = '\0';
    assert_int_equal(store_each_job(f->store, count_jobs, seen), 4);
    assert_string_equal(seen, "2314");
}

/* Admissions handed to the writer: each answered once, on the writer thread, after the commit. */
struct async_admission {
    struct store_admission a;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int *answered;
    int result;
    bool writer_thread;
};

static void async_done(struct store_admission *a)
{
    struct async_admission *x = (struct async_admission *)a;
    pthread_mutex_lock(x->lock);
    x->result = a->result;
    x->writer_thread = !pthread_equal(pthread_self(), main_thread);
    (*x->answered)++;
    pthread_cond_signal(x->cond);
    pthread_mutex_unlock(x->lock);
}

static void test_admit_async_shares_commits(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    int answered = 0;
    main_thread = pthread_self();
    assert_true(store_admits_async(f->store));
    static const char *const quotes[] = { "q1", "q2", "q1", "q3" };   /* q1 twice: a replay */
    static const char *const uids[] = { UID1, UID2, UID3, "44444444-4444-4444-8444-444444444444" };
    struct async_admission adm[4];
    for (int i = 0; i < 4; i++) {
        adm[i] = (struct async_admission){
            .a = { .quote = quotes[i], .quote_len = 2, .nonce_expires = now + 100,
                   .job_json = job, .job_len = strlen(job), .done = async_done },
            .lock = &lock, .cond = &cond, .answered = &answered, .result = 99,
        };
        strcpy(adm[i].a.uid, uids[i]);
        assert_int_equal(store_admit_async(f->store, &adm[i].a), 0);
    }
    pthread_mutex_lock(&lock);
    while (answered < 4)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    assert_int_equal(adm[0].result, STORE_ADMITTED);
    assert_int_equal(adm[1].result, STORE_ADMITTED);
    assert_int_equal(adm[2].result, STORE_REPLAY);
    assert_int_equal(adm[3].result, STORE_ADMITTED);
    for (int i = 0; i < 4; i++)
        assert_true(adm[i].writer_thread);
    /* recorded durably, in order; the replay left nothing */
    reopen(f);
    char seen[8] = "";
    assert_int_equal(store_each_job(f->store, count_jobs, seen), 3);
    assert_string_equal(seen, "124");
    assert_int_equal(store_nonce_seen(f->store, "q3", 2, now), 1);
    /* a store being closed still answers what it was handed */
    answered = 0;
    struct async_admission late = adm[0];
    late.a.quote = "q9";
    strcpy(late.a.uid, "55555555-5555-4555-8555-555555555555");
    assert_int_equal(store_admit_async(f->store, &late.a), 0);
    store_close(f->store);
    assert_int_equal(answered, 1);
    assert_int_equal(late.result, STORE_ADMITTED);
    char err[256];
    f->store = store_open(&f->platform, false, err, sizeof err);
    assert_non_null(f->store);
    seen[0] = '\0';
    assert_int_equal(store_each_job(f->store, count_jobs, seen), 4);
    assert_string_equal(seen, "1245");
}

struct collected {
    int n;
    char uids[4][37];
    char data[4][64];
    char error[4][64];
    char cursor[4][64];
};

static int collect(void *ctx, const char *uid, const char *quote, size_t quote_len,
                   const char *data, size_t data_len, const char *next_cursor, const char *error,
                   time_t finished_at)
{
    (void)finished_at;
    struct collected *c = ctx;
    assert_true(c->n < 4);
    assert_int_equal(quote_len, strlen(quote));
    strcpy(c->uids[c->n], uid);
    snprintf(c->data[c->n], 64, "%.*s", (int)data_len, data ? data : "-");
    snprintf(c->error[c->n], 64, "%s", error ? error : "-");
    snprintf(c->cursor[c->n], 64, "%s", next_cursor ? next_cursor : "-");
    c->n++;
    return 0;
}

/* An admission that comes finished (an instant job) records its nonce and its result in one
 * commit, and no job row: nothing for recovery to run again. Its replay is refused and adds no
 * second result. */
static void test_finished_admission_records_the_result_not_the_job(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    int answered = 0;
    main_thread = pthread_self();
    const struct store_outcome done = { .data = "{\"doc\":1}", .data_len = 9,
                                        .next_cursor = "next", .finished_at = now - 2 };
    const struct store_outcome failed = { .error = "boom", .finished_at = now - 1 };
    static const char *const quotes[] = { "qa", "qb", "qa" };      /* qa twice: a replay */
    static const char *const uids[] = { UID1, UID2, UID3 };
    const struct store_outcome *outcomes[] = { &done, &failed, &done };
    struct async_admission adm[3];
    for (int i = 0; i < 3; i++) {
        adm[i] = (struct async_admission){
            .a = { .quote = quotes[i], .quote_len = 2, .nonce_expires = now + 100,
                   .finished = outcomes[i], .done = async_done },
            .lock = &lock, .cond = &cond, .answered = &answered, .result = 99,
        };
        strcpy(adm[i].a.uid, uids[i]);
        assert_int_equal(store_admit_async(f->store, &adm[i].a), 0);
    }
    pthread_mutex_lock(&lock);
    while (answered < 3)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    assert_int_equal(adm[0].result, STORE_ADMITTED);
    assert_int_equal(adm[1].result, STORE_ADMITTED);
    assert_int_equal(adm[2].result, STORE_REPLAY);
    reopen(f);
    assert_int_equal(store_each_job(f->store, count_any, NULL), 0);
    assert_int_equal(store_nonce_seen(f->store, "qa", 2, now), 1);
    assert_int_equal(store_nonce_seen(f->store, "qb", 2, now), 1);
    struct collected got = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, collect, &got), 2);
    assert_string_equal(got.uids[0], UID1);
    assert_string_equal(got.data[0], "{\"doc\":1}");
    assert_string_equal(got.cursor[0], "next");
    assert_string_equal(got.error[0], "-");
    assert_string_equal(got.uids[1], UID2);
    assert_string_equal(got.error[1], "boom");
}

/* Start-up's reads (checks, recovery) fill SQLite's page cache; store_release_memory gives those
 * pages back, so that an idle worker does not hold them. */
static void test_release_memory_gives_the_page_cache_back(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    char job[2048];
    memset(job, 'j', sizeof job - 1);
    job[sizeof job - 1] = '\0';
    for (int i = 0; i < 200; i++) {     /* some hundred pages of jobs */
        char quote[16], uid[37];
        snprintf(quote, sizeof quote, "q%d", i);
        snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012d", i);
        assert_int_equal(store_admit(f->store, quote, strlen(quote), now + 100, uid, job,
                                     strlen(job)), 1);
    }
    reopen(f);
    assert_int_equal(store_each_job(f->store, count_any, NULL), 200);   /* read them all */
    sqlite3_int64 before = sqlite3_memory_used();
    store_release_memory(f->store);
    sqlite3_int64 after = sqlite3_memory_used();
    if (before - after < 100 * 1024)
        fail_msg("the page cache kept %lld of %lld bytes", (long long)after, (long long)before);
}

static void test_finish_moves_job_to_results(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    assert_int_equal(store_admit(f->store, "a", 1, now + 100, UID1, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "b", 1, now + 100, UID2, job, strlen(job)), 1);
    assert_int_equal(store_finish(f->store, UID1, "a", 1, "{\"ok\":1}", 8, "cur", NULL, now - 5), 0);
    assert_int_equal(store_finish(f->store, UID2, "b", 1, NULL, 0, NULL, "boom", now), 0);
    struct store_counts c;
    store_counts(f->store, &c);
    assert_int_equal(c.jobs, 0);
    assert_int_equal(c.results, 2);
    reopen(f);
    struct collected got = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, collect, &got), 2);
    assert_string_equal(got.uids[0], UID1);     /* oldest first */
    assert_string_equal(got.data[0], "{\"ok\":1}");
    assert_string_equal(got.cursor[0], "cur");
    assert_string_equal(got.error[0], "-");
    assert_string_equal(got.uids[1], UID2);
    assert_string_equal(got.error[1], "boom");
    /* since and limit */
    struct collected newest = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 1, collect, &newest), 1);
    assert_string_equal(newest.uids[0], UID2);
    struct collected recent = { 0 };
    assert_int_equal(store_each_result(f->store, now - 1, 10, collect, &recent), 1);
}

/* The largest result a store accepts (a row of STORE_MAX_BLOB bytes) is read back after a restart:
 * its job row left the store in the same commit, so a result stored but refused on reading is lost. */
static int count_largest(void *ctx, const char *uid, const char *quote, size_t quote_len,
                         const char *data, size_t data_len, const char *next_cursor,
                         const char *error, time_t finished_at)
{
    (void)uid, (void)quote, (void)quote_len, (void)next_cursor, (void)error, (void)finished_at;
    size_t *len = ctx;
    *len = data ? data_len : 0;
    return 0;
}

static void test_largest_result_survives_a_restart(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    assert_int_equal(store_admit(f->store, "a", 1, now + 100, UID1, "{}", 2), STORE_ADMITTED);
    size_t data_len = STORE_MAX_BLOB - 13 - 1;      /* row: flag, three lengths, quote "a", data */
    char *data = malloc(data_len);
    assert_non_null(data);
    memset(data, 'x', data_len);
    assert_int_equal(store_finish(f->store, UID1, "a", 1, data, data_len, NULL, NULL, now), 0);
    free(data);
    assert_int_equal(store_flush(f->store), 0);
    reopen(f);
    size_t got = 0;
    assert_int_equal(store_each_result(f->store, now - 60, 10, count_largest, &got), 1);
    assert_int_equal(got, data_len);
}

/* A result one byte larger than that cannot be stored: its job finishes as failed, saying why,
 * and leaves the store with it. Refused with the job left in place, it ran again at every
 * restart, and was never stored. */
static void test_result_too_large_finishes_the_job_failed(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    assert_int_equal(store_admit(f->store, "a", 1, now + 100, UID1, "{}", 2), STORE_ADMITTED);
    size_t data_len = STORE_MAX_BLOB - 13 - 1 + 1;
    char *data = malloc(data_len);
    assert_non_null(data);
    memset(data, 'x', data_len);
    char msg[160];
    assert_false(store_result_too_large(1, data_len - 1, NULL, msg, sizeof msg));
    assert_true(store_result_too_large(1, data_len, NULL, msg, sizeof msg));
    assert_true(store_result_too_large(1, data_len - 1, "c", msg, sizeof msg));
    assert_int_equal(store_finish(f->store, UID1, "a", 1, data, data_len, NULL, NULL, now), 1);
    free(data);
    assert_int_equal(store_flush(f->store), 0);
    reopen(f);
    struct collected got = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, collect, &got), 1);
    assert_string_equal(got.uids[0], UID1);
    assert_non_null(strstr(got.error[0], "job result too large to keep: 67108851 bytes"));
    char jobs[8] = "";
    assert_int_equal(store_each_job(f->store, count_jobs, jobs), 0);
}

/* set_file_size_limit sets this process's soft RLIMIT_FSIZE: with 0 every write to a file fails
 * (EFBIG, SIGXFSZ ignored), which is how a full disk looks to SQLite. */
static void set_file_size_limit(rlim_t soft)
{
    struct rlimit r;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &r), 0);
    r.rlim_cur = soft;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static void test_failed_commits_keep_finished_jobs_for_the_next_try(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    assert_int_equal(store_admit(f->store, "a", 1, now + 100, UID1, "{}", 2), STORE_ADMITTED);
    assert_int_equal(store_admit(f->store, "b", 1, now + 100, UID2, "{}", 2), STORE_ADMITTED);
    struct rlimit was;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    set_file_size_limit(0);
    /* The disk is full: an admission fails and records nothing, finished jobs wait. */
    assert_int_equal(store_admit(f->store, "c", 1, now + 100, UID3, "{}", 2), STORE_ERROR);
    assert_int_equal(store_finish(f->store, UID1, "a", 1, "{\"ok\":1}", 8, NULL, NULL, now), 0);
    assert_int_equal(store_flush(f->store), -1);
    assert_int_equal(store_flush(f->store), -1);
    /* Space again: the kept result is written by the next try, and the refused admission's nonce
     * was never recorded, so the same job can be admitted now. */
    set_file_size_limit(was.rlim_cur);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(store_flush(f->store), 0);
    struct store_counts c;
    store_counts(f->store, &c);
    assert_int_equal(c.jobs, 1);
    assert_int_equal(c.results, 1);
    assert_int_equal(c.nonces, 2);
    assert_int_equal(store_admit(f->store, "c", 1, now + 100, UID3, "{}", 2), STORE_ADMITTED);
    reopen(f);
    struct collected got = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, collect, &got), 1);
    assert_string_equal(got.uids[0], UID1);
    assert_string_equal(got.data[0], "{\"ok\":1}");
}

/* A quote may hold NUL bytes (a Go quote's digest byte 0x00): the result row gives back all of its
 * bytes, since they salt the sealed result. */
static int quote_bytes(void *ctx, const char *uid, const char *quote, size_t quote_len,
                       const char *data, size_t data_len, const char *next_cursor,
                       const char *error, time_t finished_at)
{
    (void)uid, (void)data, (void)data_len, (void)next_cursor, (void)error, (void)finished_at;
    char *seen = ctx;                   /* "<len>:" then the bytes */
    int n = snprintf(seen, 16, "%zu:", quote_len);
    memcpy(seen + n, quote, quote_len);
    return 0;
}

static void test_quote_with_nul_bytes_round_trips(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    static const char quote[] = "\xef\xbf\xbd\0g\0-q";
    const char *job = "{\"type\":\"telemetry\"}";
    assert_int_equal(store_admit(f->store, quote, sizeof quote - 1, now + 100, UID1, job,
                                 strlen(job)), 1);
    assert_int_equal(store_finish(f->store, UID1, quote, sizeof quote - 1, "{}", 2, NULL, NULL,
                                  now), 0);
    reopen(f);
    char seen[64] = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, quote_bytes, &seen), 1);
    assert_string_equal(seen, "8:\xef\xbf\xbd");
    assert_memory_equal(seen + 2, quote, sizeof quote - 1);
}

/* admit_and_finish runs n jobs through the store: job i has uid "0000000i-1111-...", a nonce that
 * expired 10 s ago for i < expired (else in 100 s), and finished at now - n + i. */
static void admit_and_finish(struct fx *f, int n, int expired, time_t now)
{
    char uid[37], quote[16];
    for (int i = 0; i < n; i++) {
        snprintf(uid, sizeof uid, "%08d-1111-4111-8111-111111111111", i);
        snprintf(quote, sizeof quote, "n%d", i);
        time_t expires = i < expired ? now - 10 : now + 100;
        assert_int_equal(store_admit(f->store, quote, strlen(quote), expires, uid, "{}", 2), 1);
        assert_int_equal(store_finish(f->store, uid, quote, strlen(quote), "x", 1, NULL, NULL,
                                      now - n + i), 0);
    }
}

/* check_prune runs n jobs (admit_and_finish), prunes with results kept since now - since_ago and
 * at most max_results of them, and checks what is left and the count deleted. Returns its now. */
static time_t check_prune(struct fx *f, int n, int expired, time_t since_ago, size_t max_results,
                          long nonces_left, long results_left)
{
    time_t now = time(NULL);
    admit_and_finish(f, n, expired, now);
    long deleted = store_prune(f->store, now, now - since_ago, max_results);
    struct store_counts c;
    store_counts(f->store, &c);
    assert_int_equal(c.nonces, nonces_left);
    assert_int_equal(c.results, results_left);
    assert_int_equal(deleted, (n - nonces_left) + (n - results_left));
    return now;
}

static void test_prune_bounds_rows(void **state)
{
    /* 30 nonces expired; results older than now-20 go (30 of them), then 10 newest are kept */
    check_prune(*state, 50, 30, 20, 10, 20, 10);
}

/* Pruning goes in slices (2000 rows per statement): more rows than a slice all go. */
static void test_prune_in_slices(void **state)
{
    struct fx *f = *state;
    time_t now = check_prune(f, 4500, 4500, 100000, 100, 0, 100);
    struct collected newest = { 0 };
    assert_int_equal(store_each_result(f->store, now - 1, 10, collect, &newest), 1);
    assert_string_equal(newest.uids[0], "00004499-1111-4111-8111-111111111111");
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* lookup_ms: the fastest of three look-ups of uid (finished_near as given), which must find it
 * with data "r<i>". */
static double lookup_ms(struct fx *f, const char *uid, time_t finished_near, int i)
{
    double best = 1e9;
    for (int n = 0; n < 3; n++) {
        struct collected c = { 0 };
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(store_lookup(f->store, uid, finished_near, NULL, collect, &c),
                         STORE_LOOKUP_FINISHED);
        double ms = ms_since(&t0);
        best = ms < best ? ms : best;
        char want[16];
        snprintf(want, sizeof want, "r%d", i);
        assert_int_equal(c.n, 1);
        assert_string_equal(c.uids[0], uid);
        assert_string_equal(c.data[0], want);
    }
    return best;
}

/* A look-up given the time its job finished reads the rows of that time only: with 100000 results
 * in the table (100 a second), the oldest and a middle one are found in a fraction of the time a
 * scan from the newest row back (the table has no uid index) takes to reach the middle one; a row finished out of order
 * (its clock stepped back) is still found, by the scan. */
static void test_lookup_reads_the_rows_of_its_time(void **state)
{
    struct fx *f = *state;
    const int n = 100000;
    time_t base = time(NULL) - 2000;
    char uid[37], data[16];
    for (int i = 0; i < n; i++) {
        snprintf(uid, sizeof uid, "%08d-2222-4222-8222-222222222222", i);
        snprintf(data, sizeof data, "r%d", i);
        assert_int_equal(store_finish(f->store, uid, "q", 1, data, strlen(data), NULL, NULL,
                                      base + i / 100), 0);
    }
    snprintf(uid, sizeof uid, "%08d-2222-4222-8222-222222222222", n);
    snprintf(data, sizeof data, "r%d", n);
    assert_int_equal(store_finish(f->store, uid, "q", 1, data, strlen(data), NULL, NULL, base),
                     0);                                 /* newest row, oldest time */
    assert_int_equal(store_flush(f->store), 0);

    double newest = lookup_ms(f, uid, base, n);
    snprintf(uid, sizeof uid, "%08d-2222-4222-8222-222222222222", n - 1);
    double newest_timed = lookup_ms(f, uid, base + (n - 1) / 100, n - 1);
    snprintf(uid, sizeof uid, "%08d-2222-4222-8222-222222222222", 0);
    double oldest = lookup_ms(f, uid, base, 0);
    snprintf(uid, sizeof uid, "%08d-2222-4222-8222-222222222222", 50000);
    double middle = lookup_ms(f, uid, base + 500, 50000);
    double full = lookup_ms(f, uid, 0, 50000);          /* no time: the scan */
    print_message("look-ups (ms): newest out of order %.3f, newest %.3f, oldest %.3f, middle %.3f,"
                  " middle by scan %.3f\n", newest, newest_timed, oldest, middle, full);
    /* relative to the scan in the same run (about 30x under valgrind, more natively): a bound on
     * rows read, not a speed claim, and it holds under the sanitizers and valgrind alike */
    if (!(oldest * 5 < full && middle * 5 < full))
        fail_msg("the look-ups by time read about as many rows as the scan");
}

/* finish_at admits and finishes one job (uid "0000000i-...", quote "qi") at `finished`. */
static void finish_at(struct fx *f, int i, time_t finished)
{
    char uid[37], quote[16];
    snprintf(uid, sizeof uid, "%08d-1111-4111-8111-111111111111", i);
    snprintf(quote, sizeof quote, "q%d", i);
    assert_int_equal(store_admit(f->store, quote, strlen(quote), finished + 1000, uid, "{}", 2), 1);
    assert_int_equal(store_finish(f->store, uid, quote, strlen(quote), "x", 1, NULL, NULL,
                                  finished), 0);
}

/* Results are pruned as a prefix of the order in which they finished: one whose clock went
 * backwards (finished "earlier" than the one before it) goes late, never early; the newest
 * max_results stay; a table emptied by pruning starts over and is bounded the same way. */
static void test_prune_results_in_completion_order(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    finish_at(f, 0, now - 100);
    finish_at(f, 1, now - 5);
    finish_at(f, 2, now - 100);         /* out of order: after a young one */
    finish_at(f, 3, now - 1);
    assert_int_equal(store_prune(f->store, now, now - 50, 10), 1);
    struct collected young = { 0 };
    assert_int_equal(store_each_result(f->store, now - 50, 10, collect, &young), 2);
    assert_string_equal(young.uids[0], "00000001-1111-4111-8111-111111111111");
    assert_string_equal(young.uids[1], "00000003-1111-4111-8111-111111111111");
    struct store_counts c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.results, 3);     /* the out-of-order one waits behind a young one */
    assert_int_equal(store_prune(f->store, now, now - 50, 1), 2);
    struct collected last = { 0 };
    assert_int_equal(store_each_result(f->store, now - 200, 10, collect, &last), 1);
    assert_string_equal(last.uids[0], "00000003-1111-4111-8111-111111111111");
    /* everything too old: the table empties, then fills again from rowid 1 */
    assert_int_equal(store_prune(f->store, now, now + 1, 10), 1);
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.results, 0);
    finish_at(f, 4, now);
    finish_at(f, 5, now);
    finish_at(f, 6, now);
    assert_int_equal(store_prune(f->store, now, now - 50, 2), 1);
    struct collected again = { 0 };
    assert_int_equal(store_each_result(f->store, now - 50, 10, collect, &again), 2);
    assert_string_equal(again.uids[0], "00000005-1111-4111-8111-111111111111");
    assert_string_equal(again.uids[1], "00000006-1111-4111-8111-111111111111");
}

static int count_rows(struct fx *f, const char *sql)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Schema version 3 -> 4: results keep their rows in the order they finished (whatever their uids),
 * nonces keep their expiry (live ones still refuse a replay, expired ones are pruned), and the
 * indexes the new layout no longer needs are gone. */
static void test_migrates_v3_results_and_nonces(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    assert_int_equal(store_admit(f->store, "live1", 5, now + 100, UID1, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "live2", 5, now + 100, UID2, job, strlen(job)), 1);
    assert_int_equal(store_admit(f->store, "dead", 4, now - 10, UID3, job, strlen(job)), 1);
    assert_int_equal(store_finish(f->store, UID3, "dead", 4, "3", 1, NULL, NULL, now - 30), 0);
    assert_int_equal(store_finish(f->store, UID1, "live1", 5, "1", 1, NULL, NULL, now - 20), 0);
    assert_int_equal(store_finish(f->store, UID2, "live2", 5, "2", 1, NULL, NULL, now - 10), 0);
    rewrite_as_v3(f, "", 3);       /* the v3 results table holds them in uid order */
    struct collected got = { 0 };
    assert_int_equal(store_each_result(f->store, now - 60, 10, collect, &got), 3);
    assert_string_equal(got.uids[0], UID3);
    assert_string_equal(got.uids[1], UID1);
    assert_string_equal(got.uids[2], UID2);
    assert_int_equal(store_nonce_seen(f->store, "live1", 5, now), 1);
    assert_int_equal(store_nonce_seen(f->store, "live2", 5, now), 1);
    assert_int_equal(store_nonce_seen(f->store, "dead", 4, now), 0);
    assert_int_equal(store_admit(f->store, "live2", 5, now + 100, UID3, job, strlen(job)), 0);
    /* the expired nonce and the two results finished before now - 15 go */
    assert_int_equal(store_prune(f->store, now, now - 15, 10), 3);
    struct store_counts c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.nonces, 2);
    assert_int_equal(c.results, 1);
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(count_rows(f, "SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                   "AND name IN ('results_finished', 'nonces_expires')"), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM sqlite_master "
                                   "WHERE name = 'nonces_digest'"), 1);
    reopen(f);
}

static void test_rows_are_sealed(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *secret = "{\"type\":\"telemetry\",\"arguments\":{\"needle\":\"SECRET-ARG\"}}";
    assert_int_equal(store_admit(f->store, "quote-needle", 12, now + 9, UID1, secret,
                                 strlen(secret)), 1);
    assert_int_equal(store_finish(f->store, UID1, "quote-needle", 12, "RESULT-NEEDLE", 13, NULL,
                                  NULL, now), 0);
    store_close(f->store);
    f->store = NULL;
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE);
    snprintf(cmd, sizeof cmd, "cat %s %s-wal 2>/dev/null | grep -a -c -e SECRET-ARG -e "
             "RESULT-NEEDLE -e quote-needle", path, path);
    FILE *p = popen(cmd, "r");
    int hits = -1;
    assert_int_equal(fscanf(p, "%d", &hits), 1);
    pclose(p);
    assert_int_equal(hits, 0);
    /* another root key cannot read the rows */
    char other_dir[64];
    strcpy(other_dir, "/tmp/tw-store-other-XXXXXX");
    assert_non_null(mkdtemp(other_dir));
    struct config cfg = { .data_dir = other_dir, .standalone = true };
    struct platform other;
    char err[256];
    assert_int_equal(platform_open(&other, &cfg, err, sizeof err), 0);
    snprintf(cmd, sizeof cmd, "cp %s %s/", path, other_dir);
    assert_int_equal(system(cmd), 0);
    struct store *foreign = store_open(&other, false, err, sizeof err);
    assert_non_null(foreign);
    char seen[8] = "";
    assert_int_equal(store_each_job(foreign, count_jobs, seen), 0);
    struct collected got = { 0 };
    assert_int_equal(store_each_result(foreign, 0, 10, collect, &got), 0);
    store_close(foreign);
    platform_close(&other);
    snprintf(cmd, sizeof cmd, "rm -rf %s", other_dir);
    assert_int_equal(system(cmd), 0);
    reopen(f);
}

static void expect_open_fails(struct fx *f, const char *fragment)
{
    char err[512] = "";
    struct store *s = store_open(&f->platform, false, err, sizeof err);
    if (s) {
        store_close(s);
        fail_msg("store_open succeeded; expected \"%s\"", fragment);
    }
    if (!strstr(err, fragment))
        fail_msg("\"%s\" lacks \"%s\"", err, fragment);
}

static void test_refuses_bad_databases(void **state)
{
    struct fx *f = *state;
    store_close(f->store);
    f->store = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE);
    /* newer schema */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(f, "newer than this worker");
    /* foreign database */
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(f, "not a tee-worker store");
    /* garbage */
    FILE *g = fopen(path, "w");
    for (int i = 0; i < 4096; i++)
        fputc('x', g);
    fclose(g);
    char wal[140];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    expect_open_fails(f, "not a database");
    /* unusable path: a directory where the file should be */
    unlink(path);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_open_fails(f, STORE_FILE);
    rmdir(path);
    reopen(f);
}

/* Checkpoints keep the WAL bounded: through 3 000 admissions and results it stays near the
 * 4 000-frame checkpoint threshold (≈ 16.5 MB) instead of growing with every commit (≈ 60 MB here
 * without checkpoints), and everything reads back after a reopen. */
static void test_checkpoints_bound_the_wal(void **state)
{
    struct fx *f = *state;
    time_t now = time(NULL);
    const char *job = "{\"type\":\"telemetry\"}";
    char data[1500];
    memset(data, 'd', sizeof data);
    char wal[128];
    snprintf(wal, sizeof wal, "%s/tee-worker.db-wal", f->dir);
    off_t high = 0;
    for (int i = 0; i < 3000; i++) {
        char quote[32], uid[37];
        snprintf(quote, sizeof quote, "cq-%d", i);
        snprintf(uid, sizeof uid, "%08d-0000-4000-8000-000000000000", i);
        assert_int_equal(store_admit(f->store, quote, strlen(quote), now + 100, uid, job,
                                     strlen(job)), STORE_ADMITTED);
        assert_int_equal(store_finish(f->store, uid, quote, strlen(quote), data, sizeof data,
                                      NULL, NULL, now), 0);
        if (i % 50 == 49) {
            assert_int_equal(store_flush(f->store), 0);
            struct stat st;
            assert_int_equal(stat(wal, &st), 0);
            if (st.st_size > high)
                high = st.st_size;
        }
    }
    assert_true(high > 0);
    assert_true(high < 24 * 1024 * 1024);
    reopen(f);
    struct store_counts c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.jobs, 0);
    assert_int_equal(c.results, 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_admit_replay_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_moves_job_to_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_memory_gives_the_page_cache_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_largest_result_survives_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_too_large_finishes_the_job_failed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quote_with_nul_bytes_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_bounds_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_in_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_are_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_databases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_v2_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_v3_results_and_nonces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_results_in_completion_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admit_async_shares_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finished_admission_records_the_result_not_the_job,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_bound_the_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_reads_the_rows_of_its_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commits_keep_finished_jobs_for_the_next_try,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
