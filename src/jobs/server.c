/* server.c - admission and worker threads (see server.h).
 *
 * A queued item is a heap `struct queued_job` holding the job and its uid. Workers pop, mark the
 * job running, run its kind with a deadline, and store the outcome in the result table. The only
 * shared locks are the queue's and the result table's; kinds run without any. */
#include "jobs/server.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "jobs/queue.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "log.h"
#include "metrics.h"
#include "store/store.h"
#include "util/uuid_util.h"

struct queued_job {
    struct job job;
    char uid[37];
};

struct job_server {
    struct job_server_deps deps;
    struct queue *queue;
    pthread_t *threads;
    size_t thread_count;
};

static void queued_job_free(void *item)
{
    struct queued_job *q = item;
    job_clear(&q->job);
    free(q);
}

static void run_one(struct job_server *s, struct queued_job *q)
{
    const struct config *cfg = s->deps.cfg;
    results_set_running(s->deps.results, q->uid);
    struct job_result out = { 0 };
    struct job_ctx ctx = {
        .cfg = cfg,
        .stats = s->deps.stats,
        .worker_id = s->deps.worker_id,
        .capabilities = s->deps.capabilities,
    };
    clock_gettime(CLOCK_MONOTONIC, &ctx.deadline);
    ctx.deadline.tv_sec += cfg->job_timeout_s;

    const struct job_kind *kind = registry_find(cfg, q->job.type);
    if (!kind)
        err_set(&out.err, 500, "unknown job type: %.64s", q->job.type);
    else if (kind->run(&q->job, &ctx, &out) < 0 && !out.err.http)
        err_set(&out.err, 500, "job failed without a reason (job type %s)", kind->type);
    if (!out.err.http && job_ctx_remaining_ms(&ctx) == 0)
        err_set(&out.err, 504, "job timed out after %u seconds", cfg->job_timeout_s);

    const char *data = out.err.http ? NULL : (out.data ? out.data : "");
    const char *error = out.err.http ? out.err.msg : NULL;
    if (error)
        log_job(LOG_INFO, q->uid, q->job.type, "failed: %s", error);
    else
        log_job(LOG_DEBUG, q->uid, q->job.type, "done, %zu bytes", out.data_len);
    if (store_finish(s->deps.store, q->uid, q->job.quote, q->job.quote_len, data, out.data_len,
                     out.next_cursor, error, time(NULL)) < 0)
        log_error("job %s: the result could not be stored durably; it is served from memory",
                  q->uid);
    results_finish_take(s->deps.results, q->uid, &out.data, out.data_len, out.next_cursor, error);
    metrics_job_finished(q->job.type, out.err.http, &ctx.deadline, cfg->job_timeout_s);
    job_result_clear(&out);
}

static void *worker_main(void *arg)
{
    struct job_server *s = arg;
    struct queued_job *q;
    while ((q = queue_pop(s->queue)) != NULL) {
        run_one(s, q);
        queued_job_free(q);
    }
    return NULL;
}

struct job_server *jobserver_start(const struct job_server_deps *deps, char *err, size_t errlen)
{
    struct job_server *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->deps = *deps;
    s->queue = queue_new(deps->cfg->job_queue_max);
    s->threads = calloc(deps->cfg->max_jobs, sizeof *s->threads);
    if (!s->queue || !s->threads)
        goto oom;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (unsigned i = 0; i < deps->cfg->max_jobs; i++) {
        if (pthread_create(&s->threads[i], &attr, worker_main, s) != 0) {
            pthread_attr_destroy(&attr);
            snprintf(err, errlen, "cannot start job worker thread %u", i + 1);
            jobserver_stop(s);
            return NULL;
        }
        s->thread_count++;
    }
    pthread_attr_destroy(&attr);
    return s;
oom:
    snprintf(err, errlen, "out of memory starting the job server");
    jobserver_stop(s);
    return NULL;
}

static void drop_queued(void *item)
{
    queued_job_free(item);
}

void jobserver_stop(struct job_server *s)
{
    if (!s)
        return;
    if (s->queue)
        queue_close(s->queue);
    for (size_t i = 0; i < s->thread_count; i++)
        pthread_join(s->threads[i], NULL);
    if (s->queue)
        queue_free(s->queue, drop_queued);
    free(s->threads);
    free(s);
}

bool jobserver_whitelisted(const struct config *cfg, const char *self, const char *type,
                           const char *worker_id)
{
    if (strcmp(type, "telemetry") == 0 || cfg->miners_white_list.count == 0)
        return true;
    if (cfg->standalone)
        return strcmp(worker_id, self) == 0;
    return str_list_contains(&cfg->miners_white_list, worker_id);
}

static int check_age(const struct job_server *s, const struct job *job, time_t now, struct err *e)
{
    if (!job->issued_at)
        return 0;
    unsigned max_age = s->deps.cfg->job_signature_max_age_s;
    if (job->issued_at > (int64_t)now + 300)
        return err_set(e, 400, "job signature is issued in the future");
    if ((int64_t)now - job->issued_at > (int64_t)max_age)
        return err_set(e, 400, "job signature expired (older than %u seconds)", max_age);
    return 0;
}

int jobserver_admit(struct job_server *s, struct job *job, char uid[37], struct err *e)
{
    if (!registry_check(s->deps.cfg, job, e))
        return -1;
    time_t now = time(NULL);
    if (check_age(s, job, now, e) < 0)
        return -1;
    if (job->target_worker[0] && strcmp(job->target_worker, s->deps.worker_id) != 0)
        return err_set(e, 403, "this job is not for this worker");
    if (!jobserver_whitelisted(s->deps.cfg, s->deps.worker_id, job->type, job->worker_id))
        return err_set(e, 403, "this job is not from a whitelisted miner");
    if (store_nonce_seen(s->deps.store, job->quote, job->quote_len, now) == 1)
        return err_set(e, 409, "job already executed");

    struct queued_job *q = calloc(1, sizeof *q);
    if (!q)
        return err_set(e, 500, "out of memory");
    if (queue_reserve(s->queue) < 0) {
        free(q);
        return err_set(e, 503, "job queue is full (%zu jobs); retry later",
                       queue_capacity(s->queue));
    }
    time_t expires = (job->issued_at ? (time_t)job->issued_at : now) +
                     (time_t)s->deps.cfg->job_signature_max_age_s;
    uuid_v4(q->uid);
    job->timeout_ns = (int64_t)s->deps.cfg->job_timeout_s * 1000000000LL;
    size_t json_len = 0;
    char *json = job_serialize(job, &json_len);
    int admitted = json ? store_admit(s->deps.store, job->quote, job->quote_len, expires, q->uid,
                                      json, json_len)
                        : -1;
    free(json);
    if (admitted <= 0) {
        queue_unreserve(s->queue);
        free(q);
        return admitted == 0 ? err_set(e, 409, "job already executed")
                             : err_set(e, 500, "cannot record the job durably (storage error)");
    }
    if (results_add_queued(s->deps.results, q->uid, job->quote, job->quote_len) < 0) {
        store_drop_job(s->deps.store, q->uid);
        queue_unreserve(s->queue);
        free(q);
        return err_set(e, 500, "out of memory");
    }
    q->job = *job;
    memset(job, 0, sizeof *job);
    memcpy(uid, q->uid, 37);
    queue_push_reserved(s->queue, q);
    return 0;
}

size_t jobserver_queue_length(struct job_server *s)
{
    return queue_length(s->queue);
}

size_t jobserver_queue_capacity(struct job_server *s)
{
    return queue_capacity(s->queue);
}

/* ---- recovery after a restart ----------------------------------------------------------- */

struct recovered {
    struct queued_job **items;
    size_t count, cap;
};

static int collect_job(void *ctx, const char *uid, const char *json, size_t len)
{
    struct recovered *r = ctx;
    struct err e = { 0 };
    struct queued_job *q = calloc(1, sizeof *q);
    if (!q)
        return 1;
    if (strlen(uid) != 36 || job_parse(json, len, &q->job, &e) < 0) {
        log_error("recovery: job %s is unreadable (%s); dropped", uid, e.msg);
        free(q);
        return 0;
    }
    memcpy(q->uid, uid, 37);
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct queued_job **grown = realloc(r->items, cap * sizeof *grown);
        if (!grown) {
            queued_job_free(q);
            return 1;
        }
        r->items = grown;
        r->cap = cap;
    }
    r->items[r->count++] = q;
    return 0;
}

static int restore_result(void *ctx, const char *uid, const char *quote, size_t quote_len,
                          const char *data, size_t data_len, const char *next_cursor,
                          const char *error, time_t finished_at)
{
    (void)finished_at;
    struct results *results = ctx;
    if (results_add_queued(results, uid, quote, quote_len) == 0)
        results_finish(results, uid, data, data_len, next_cursor, error);
    return 0;
}

/* requeue pushes a recovered job, waiting for room: workers are already draining the queue. */
static void requeue(struct job_server *s, struct queued_job *q)
{
    results_add_queued(s->deps.results, q->uid, q->job.quote, q->job.quote_len);
    while (queue_push(s->queue, q) < 0) {
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
}

long jobserver_recover(struct job_server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->deps.cfg;
    time_t since = time(NULL) - (time_t)cfg->result_cache_max_age_s;
    long results = store_each_result(s->deps.store, since, cfg->result_cache_max_size,
                                     restore_result, s->deps.results);
    struct recovered r = { 0 };
    long jobs = store_each_job(s->deps.store, collect_job, &r);
    if (results < 0 || jobs < 0) {
        for (size_t i = 0; i < r.count; i++)
            queued_job_free(r.items[i]);
        free(r.items);
        snprintf(err, errlen, "cannot read the store for recovery (see the log)");
        return -1;
    }
    for (size_t i = 0; i < r.count; i++)
        requeue(s, r.items[i]);
    free(r.items);
    if (results || r.count)
        log_info("recovery: %ld results restored, %zu unfinished jobs queued again", results,
                 r.count);
    return (long)r.count;
}
