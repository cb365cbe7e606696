/* server.c - admission and worker threads (see server.h).
 *
 * A queued item is a heap `struct queued_job` holding the job and its uid. Workers pop, mark the
 * job running, run its kind with a deadline, and store the outcome in the result table. The only
 * shared locks are the queue's and the result table's; kinds run without any.
 *
 * Job threads are started as jobs arrive, up to MAX_JOBS, and then kept: one at start, another
 * whenever a job is queued and there are more queued jobs than threads waiting for one
 * (add_workers). An idle worker thus holds one thread's stack and buffers, not MAX_JOBS.
 *
 * An instant kind (kind.h) is not queued: with a local store, the admitting thread runs it and
 * hands the store its outcome with the admission (one commit records the nonce and the result).
 *
 * With a local store (SQLite) /job/add queues the job here. With a shared store (Redis, a fleet)
 * /job/add only stores it; a feeder thread takes jobs from the store (store_take) whenever a job
 * thread is free - never more than MAX_JOBS at once, so no worker hoards jobs the others could
 * run - and queues them here; the result goes back to the store for every worker to answer.
 *
 * /job/status (jobserver_lookup) reads the result table first; the store is asked for an id
 * unknown here with a shared store, and with any store for an id whose result left memory for
 * RESULT_CACHE_MAX_BYTES (RESULT_IN_STORE): an id unknown to a local store is answered from
 * memory alone. */
#include "jobs/server.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cpu_affinity.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "jobs/queue.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "log.h"
#include "metrics.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/memdup.h"
#include "util/uuid_util.h"

struct queued_job {
    struct job job;
    char uid[37];
};

struct job_server {
    struct job_server_deps deps;
    struct queue *queue;
    pthread_t *threads;
    size_t thread_count;            /* started; grows under spawn_lock up to MAX_JOBS */
    size_t waiting;                 /* threads in queue_pop (atomic) */
    pthread_mutex_t spawn_lock;
    bool spawn_failed_logged;
    /* shared store only: the feeder and the count of jobs taken and not finished */
    bool shared;
    pthread_t feeder;
    bool feeder_started;
    pthread_mutex_t slots_lock;
    pthread_cond_t slot_free;
    size_t in_flight;
    bool stopping;
    bool closing;   /* jobserver_stop: queued jobs are left to the store (atomic) */
};

#define FEED_WAIT_MS 1000

static void add_workers(struct job_server *s);

static void queued_job_free(void *item)
{
    struct queued_job *q = item;
    job_clear(&q->job);
    free(q);
}

/* run_kind runs job's kind into out (out->err set on failure) before a deadline of
 * JOB_TIMEOUT_SECONDS from now; *seconds is how long it ran. */
static void run_kind(struct job_server *s, const char *uid, const struct job *job,
                     double *seconds, struct job_result *out)
{
    const struct config *cfg = s->deps.cfg;
    struct job_ctx ctx = {
        .cfg = cfg,
        .stats = s->deps.stats,
        .worker_id = s->deps.worker_id,
        .capabilities = s->deps.capabilities,
        .capabilities_text = s->deps.capabilities_text,
    };
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ctx.deadline = start;
    ctx.deadline.tv_sec += cfg->job_timeout_s;

    const struct job_kind *kind = registry_find(cfg, job->type);
    if (!kind)
        err_set(&out->err, 500, "unknown job type: %.64s", job->type);
    else if (kind->run(job, &ctx, out) < 0 && !out->err.http)
        err_set(&out->err, 500, "job failed without a reason (job type %s)", kind->type);
    if (!out->err.http && job_ctx_remaining_ms(&ctx) == 0)
        err_set(&out->err, 504, "job timed out after %u seconds", cfg->job_timeout_s);
    clock_gettime(CLOCK_MONOTONIC, &end);
    *seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;

    if (out->next_cursor && strlen(out->next_cursor) > JOB_MAX_CURSOR) {
        log_job(LOG_WARN, uid, job->type, "next cursor of %zu bytes dropped (longer than %d)",
                strlen(out->next_cursor), JOB_MAX_CURSOR);
        free(out->next_cursor);
        out->next_cursor = NULL;
    }
    char too_large[160];
    if (!out->err.http && store_result_too_large(job->quote_len, out->data_len, out->next_cursor,
                                                 too_large, sizeof too_large))
        err_set(&out->err, 500, "%s", too_large);   /* in memory as in the store */
}

/* outcome_of is what the store records of out. */
static struct store_outcome outcome_of(const struct job_result *out)
{
    return (struct store_outcome){
        .data = out->err.http ? NULL : (out->data ? out->data : ""),
        .data_len = out->data_len,
        .next_cursor = out->next_cursor,
        .error = out->err.http ? out->err.msg : NULL,
        .finished_at = time(NULL),
    };
}

/* keep_outcome logs a finished job, puts its outcome in the result table (taking out's data) and
 * counts it (it ran `seconds`). */
static void keep_outcome(struct job_server *s, const char *uid, const char *type,
                         struct job_result *out, double seconds)
{
    const char *error = out->err.http ? out->err.msg : NULL;
    if (error) {
        /* A job's error text often quotes what the client asked for (a URL, a query): at debug
         * level only, since the host reads an enclave's logs; its HTTP status at info. */
        log_job(LOG_INFO, uid, type, "failed (%d)", out->err.http);
        log_job(LOG_DEBUG, uid, type, "failed: %s", error);
    } else
        log_job(LOG_DEBUG, uid, type, "done, %zu bytes", out->data_len);
    results_finish_take(s->deps.results, uid, &out->data, out->data_len, out->next_cursor, error);
    metrics_job_finished(type, out->err.http, seconds);
    job_result_clear(out);
}

static void run_one(struct job_server *s, struct queued_job *q)
{
    results_set_running(s->deps.results, q->uid);
    struct job_result out = { 0 };
    double seconds = 0;
    run_kind(s, q->uid, &q->job, &seconds, &out);
    struct store_outcome o = outcome_of(&out);
    if (store_finish(s->deps.store, q->uid, q->job.quote, q->job.quote_len, o.data, o.data_len,
                     o.next_cursor, o.error, o.finished_at) < 0)
        log_error("job %s: the result could not be stored durably; it is served from memory",
                  q->uid);
    keep_outcome(s, q->uid, q->job.type, &out, seconds);
}

static void *worker_main(void *arg)
{
    struct job_server *s = arg;
    struct queued_job *q;
    pthread_setname_np(pthread_self(), "tw-job");
    cpu_affinity_unpin_self();  /* started by a thread HTTP_CPUS may pin: jobs use every CPU */
    for (;;) {
        __atomic_add_fetch(&s->waiting, 1, __ATOMIC_ACQ_REL);
        q = queue_pop(s->queue);
        __atomic_sub_fetch(&s->waiting, 1, __ATOMIC_ACQ_REL);
        if (!q)
            break;
        /* Once stopping, a queued job is not started: it is still in the store, and runs after
         * a restart (or, in a fleet, on the worker that takes it over). */
        if (!__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE))
            run_one(s, q);
        queued_job_free(q);
        if (s->shared) {
            pthread_mutex_lock(&s->slots_lock);
            s->in_flight--;
            pthread_cond_signal(&s->slot_free);
            pthread_mutex_unlock(&s->slots_lock);
        }
    }
    return NULL;
}

/* fail_unreadable finishes a stored job whose text is authentic (it opened) but unreadable as
 * failed, so it leaves the store's unfinished jobs instead of coming back at every take or
 * restart; in_memory also records the failure in the result cache, for /job/status. */
static void fail_unreadable(struct job_server *s, const char *uid, const struct err *e,
                            bool in_memory)
{
    log_error("job %s from the store is unreadable (%s); failed", uid, e->msg);
    char msg[sizeof e->msg + 40];
    snprintf(msg, sizeof msg, "job cannot be read: %s", e->msg);
    store_finish(s->deps.store, uid, "", 0, NULL, 0, NULL, msg, time(NULL));
    if (in_memory && results_add_queued(s->deps.results, uid, "", 0) == 0)
        results_finish(s->deps.results, uid, NULL, 0, NULL, msg);
}

enum { STORED_JOB_OK, STORED_JOB_UNREADABLE, STORED_JOB_NO_MEMORY };

/* read_stored_job turns a job text read back from the store (the fleet's stream or recovery)
 * into a queued job in *out. UNREADABLE when the uid or the text is not a job: the job is then
 * finished as failed (fail_unreadable, in_memory passed on). */
static int read_stored_job(struct job_server *s, const char *uid, const char *json, size_t len,
                           bool in_memory, struct queued_job **out)
{
    struct queued_job *q = calloc(1, sizeof *q);
    if (!q)
        return STORED_JOB_NO_MEMORY;
    struct err e = { 0 };
    int parsed = strlen(uid) != 36 ? err_set(&e, 500, "the job id is not a UUID")
                                   : job_parse(json, len, &q->job, &e);
    if (parsed < 0) {
        free(q);
        fail_unreadable(s, uid, &e, in_memory);
        return STORED_JOB_UNREADABLE;
    }
    memcpy(q->uid, uid, 37);
    *out = q;
    return STORED_JOB_OK;
}

/* take_job receives one job from the shared store (feeder thread). Returns 0 when queued here.
 * A job that is queued or running here already is refused (1): the store may hand it back while
 * it runs (XAUTOCLAIM of an entry idle past the claim delay while a slow run goes on, or an entry
 * read again as its result is on its way to the store), and recording it again would reset the
 * running entry to queued and run the job a second time on another job thread. The check and the
 * add below need no common lock: only this thread adds entries on a shared store, and job threads
 * only move an entry from queued to running to finished. */
static int take_job(void *ctx, const char *uid, const char *json, size_t len)
{
    struct job_server *s = ctx;
    struct queued_job *q = NULL;
    enum result_state here = results_get(s->deps.results, uid, NULL);
    if (here == RESULT_QUEUED || here == RESULT_RUNNING) {
        log_warn("job %s: handed back by the store while it is %s here; not taken again", uid,
                 here == RESULT_QUEUED ? "queued" : "running");
        return 1;
    }
    /* not in memory: the fleet reads statuses from the store */
    int rc = read_stored_job(s, uid, json, len, false, &q);
    if (rc != STORED_JOB_OK)
        return rc == STORED_JOB_NO_MEMORY;
    if (results_add_queued(s->deps.results, q->uid, q->job.quote, q->job.quote_len) < 0) {
        queued_job_free(q);
        return 1;
    }
    pthread_mutex_lock(&s->slots_lock);
    s->in_flight++;
    pthread_mutex_unlock(&s->slots_lock);
    if (queue_push(s->queue, q) < 0) {
        results_remove(s->deps.results, q->uid);
        queued_job_free(q);
        pthread_mutex_lock(&s->slots_lock);
        s->in_flight--;
        pthread_mutex_unlock(&s->slots_lock);
        return 1;
    }
    add_workers(s);
    return 0;
}

static void *feeder_main(void *arg)
{
    struct job_server *s = arg;
    pthread_setname_np(pthread_self(), "tw-feeder");
    size_t max = s->deps.cfg->max_jobs;
    pthread_mutex_lock(&s->slots_lock);
    while (!s->stopping) {
        if (s->in_flight >= max) {
            pthread_cond_wait(&s->slot_free, &s->slots_lock);
            continue;
        }
        size_t free_slots = max - s->in_flight;
        pthread_mutex_unlock(&s->slots_lock);
        store_take(s->deps.store, s->deps.worker_id, free_slots, FEED_WAIT_MS, take_job, s);
        pthread_mutex_lock(&s->slots_lock);
    }
    pthread_mutex_unlock(&s->slots_lock);
    return NULL;
}

/* start_thread starts fn(s) on a thread of the job server's stack size. Returns pthread_create's
 * answer. */
static int start_thread(pthread_t *t, void *(*fn)(void *), struct job_server *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, JOBSERVER_THREAD_STACK);
    int rc = pthread_create(t, &attr, fn, s);
    pthread_attr_destroy(&attr);
    return rc;
}

/* start_worker starts one more job thread (spawn_lock held). Returns 0 or -1. */
static int start_worker(struct job_server *s)
{
    if (s->thread_count >= s->deps.cfg->max_jobs ||
        start_thread(&s->threads[s->thread_count], worker_main, s) != 0)
        return -1;
    __atomic_store_n(&s->thread_count, s->thread_count + 1, __ATOMIC_RELEASE);
    return 0;
}

/* add_workers, after a job was queued: starts threads, up to MAX_JOBS, until the jobs queued are
 * no more than the threads waiting for one. A thread that fails to start is logged once; the
 * threads there are run the jobs meanwhile (there is always at least one). */
static void add_workers(struct job_server *s)
{
    if (__atomic_load_n(&s->thread_count, __ATOMIC_ACQUIRE) >= s->deps.cfg->max_jobs)
        return;
    pthread_mutex_lock(&s->spawn_lock);
    while (!__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE) &&
           s->thread_count < s->deps.cfg->max_jobs &&
           queue_length(s->queue) > __atomic_load_n(&s->waiting, __ATOMIC_ACQUIRE)) {
        if (start_worker(s) < 0) {
            if (!s->spawn_failed_logged)
                log_warn("job server: cannot start job thread %zu of %u; running jobs on %zu",
                         s->thread_count + 1, s->deps.cfg->max_jobs, s->thread_count);
            s->spawn_failed_logged = true;
            break;
        }
    }
    pthread_mutex_unlock(&s->spawn_lock);
}

struct job_server *jobserver_start(const struct job_server_deps *deps, char *err, size_t errlen)
{
    struct job_server *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->deps = *deps;
    s->shared = store_shared(deps->store);
    pthread_mutex_init(&s->slots_lock, NULL);
    pthread_cond_init(&s->slot_free, NULL);
    pthread_mutex_init(&s->spawn_lock, NULL);
    size_t capacity = deps->cfg->job_queue_max;
    if (s->shared && capacity < deps->cfg->max_jobs)
        capacity = deps->cfg->max_jobs;   /* the fleet-wide bound is the store's */
    s->queue = queue_new(capacity);
    s->threads = calloc(deps->cfg->max_jobs, sizeof *s->threads);
    if (!s->queue || !s->threads)
        goto oom;
    pthread_mutex_lock(&s->spawn_lock);
    int started = start_worker(s);
    pthread_mutex_unlock(&s->spawn_lock);
    if (started < 0) {
        snprintf(err, errlen, "cannot start a job worker thread");
        jobserver_stop(s);
        return NULL;
    }
    if (s->shared) {
        if (start_thread(&s->feeder, feeder_main, s) != 0) {
            snprintf(err, errlen, "cannot start the job feeder thread");
            jobserver_stop(s);
            return NULL;
        }
        s->feeder_started = true;
    }
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
    if (s->feeder_started) {
        pthread_mutex_lock(&s->slots_lock);
        s->stopping = true;
        pthread_cond_signal(&s->slot_free);
        pthread_mutex_unlock(&s->slots_lock);
        pthread_join(s->feeder, NULL);
    }
    /* closing, under spawn_lock: no thread is started after this */
    pthread_mutex_lock(&s->spawn_lock);
    __atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->spawn_lock);
    if (s->queue)
        queue_close(s->queue);
    for (size_t i = 0; i < s->thread_count; i++)
        pthread_join(s->threads[i], NULL);
    if (s->queue)
        queue_free(s->queue, drop_queued);
    free(s->threads);
    pthread_mutex_destroy(&s->slots_lock);
    pthread_cond_destroy(&s->slot_free);
    pthread_mutex_destroy(&s->spawn_lock);
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
    if (job->issued_at > (int64_t)now + STORE_CLOCK_SKEW_S)
        return err_set(e, 400, "job signature is issued in the future");
    if ((int64_t)now - job->issued_at > (int64_t)max_age)
        return err_set(e, 400, "job signature expired (older than %u seconds)", max_age);
    return 0;
}

static time_t nonce_expiry(const struct job_server *s, const struct job *job, time_t now)
{
    return (job->issued_at ? (time_t)job->issued_at : now) +
           (time_t)s->deps.cfg->job_signature_max_age_s;
}

/* admit_shared stores the job for any worker of the fleet to take: the store checks the nonce
 * and the fleet-wide queue bound in the same step. */
static int admit_shared(struct job_server *s, struct job *job, time_t now, char uid[37],
                        struct err *e)
{
    char id[37];
    uuid_v4(id);
    job->timeout_ns = (int64_t)s->deps.cfg->job_timeout_s * 1000000000LL;
    size_t json_len = 0;
    char *json = job_serialize(job, &json_len);
    if (!json)
        return err_set(e, 500, "out of memory");
    int rc = store_admit(s->deps.store, job->quote, job->quote_len, nonce_expiry(s, job, now), id,
                         json, json_len);
    crypto_wipe(json, json_len);
    free(json);
    switch (rc) {
    case STORE_ADMITTED:
        memcpy(uid, id, 37);
        job_clear(job);
        return 0;
    case STORE_REPLAY:
        return err_set(e, 409, "job already executed");
    case STORE_FULL:
        return err_set(e, 429, "job queue is full (%u jobs across the fleet); retry later",
                       s->deps.cfg->job_queue_max);
    case STORE_UNAVAILABLE:
        return err_set(e, 503, "job store unavailable; retry later");
    default:
        return err_set(e, 500, "cannot record the job durably (storage error)");
    }
}

/* admit_checks: the checks every admission passes before anything is reserved or written. */
static int admit_checks(const struct job_server *s, const struct job *job, time_t now,
                        struct err *e)
{
    if (!registry_check(s->deps.cfg, job, e))
        return -1;
    if (check_age(s, job, now, e) < 0)
        return -1;
    if (job->target_worker[0] && strcmp(job->target_worker, s->deps.worker_id) != 0)
        return err_set(e, 403, "this job is not for this worker");
    if (!jobserver_whitelisted(s->deps.cfg, s->deps.worker_id, job->type, job->worker_id))
        return err_set(e, 403, "this job is not from a whitelisted miner");
    return 0;
}

/* refuse_full makes e the refusal of a job the queue has no room for: the full queue's 429, or,
 * for a quote already recorded (at now), the replay's 409, which comes first in the order of the
 * checks (server.h): a replay told "retry later" would only be sent again. The store is read only
 * on this path (a store that cannot say leaves the 429). */
static void refuse_full(struct job_server *s, const struct job *job, time_t now, struct err *e)
{
    if (store_nonce_seen(s->deps.store, job->quote, job->quote_len, now) == 1)
        err_set(e, 409, "job already executed");
    else
        err_set(e, 429, "job queue is full (%zu jobs); retry later", queue_capacity(s->queue));
}

/* admit_reserve moves the job into a new queued job with a fresh uid and records the uid as queued
 * in the result table. Unless the job is instant (run at once, kind.h), it also takes a queue slot
 * and puts the job's text in *json (to be freed). Returns the queued job, or NULL with e (job left
 * to the caller). A replayed quote is refused later, by the store, in the transaction that would
 * record it (or here, when the queue is full: refuse_full): everything that can fail for want of
 * memory is done before, since once the store has consumed the nonce a failure here would lose
 * the job and refuse the client's retry with the same signature as a replay. */
static struct queued_job *admit_reserve(struct job_server *s, struct job *job, bool instant,
                                        time_t now, char **json, size_t *json_len,
                                        struct err *e)
{
    struct queued_job *q = calloc(1, sizeof *q);
    if (!q) {
        err_set(e, 500, "out of memory");
        return NULL;
    }
    if (!instant && queue_reserve(s->queue) < 0) {
        free(q);
        refuse_full(s, job, now, e);
        return NULL;
    }
    uuid_v4(q->uid);
    job->timeout_ns = (int64_t)s->deps.cfg->job_timeout_s * 1000000000LL;
    if (!instant)
        *json = job_serialize(job, json_len);
    if ((!instant && !*json) ||
        results_add_queued(s->deps.results, q->uid, job->quote, job->quote_len) < 0) {
        if (*json)
            crypto_wipe(*json, *json_len);
        free(*json);
        *json = NULL;
        if (!instant)
            queue_unreserve(s->queue);
        free(q);
        err_set(e, 500, "out of memory");
        return NULL;
    }
    q->job = *job;
    memset(job, 0, sizeof *job);
    return q;
}

/* An instant job run before its admission is recorded: what it produced, kept until then. */
struct ran_job {
    struct job_result out;
    double seconds;                 /* how long it ran (its metric: not the wait for the commit) */
    struct store_outcome outcome;   /* what the store records, pointing into out */
};

/* admit_complete queues q once the store answered `admitted` (enum store_admit_result), or, for
 * an instant job that ran already (ran), keeps its outcome; when the store refused, gives the
 * slot and the result entry back. Nothing here can fail once the store has admitted the job.
 * Returns 0, or -1 with e. q is taken either way. */
static int admit_complete(struct job_server *s, struct queued_job *q, struct ran_job *ran,
                          int admitted, struct err *e)
{
    if (admitted == STORE_ADMITTED && ran) {
        keep_outcome(s, q->uid, q->job.type, &ran->out, ran->seconds);
        queued_job_free(q);
        return 0;
    }
    if (admitted == STORE_ADMITTED) {
        queue_push_reserved(s->queue, q);
        add_workers(s);
        return 0;
    }
    if (admitted == STORE_REPLAY)
        err_set(e, 409, "job already executed");
    else
        err_set(e, 500, "cannot record the job durably (storage error)");
    results_remove(s->deps.results, q->uid);
    if (ran)
        job_result_clear(&ran->out);
    else
        queue_unreserve(s->queue);
    queued_job_free(q);
    return -1;
}

int jobserver_admit(struct job_server *s, struct job *job, char uid[37], struct err *e)
{
    time_t now = time(NULL);
    if (admit_checks(s, job, now, e) < 0)
        return -1;
    if (s->shared)
        return admit_shared(s, job, now, uid, e);
    time_t expires = nonce_expiry(s, job, now);
    char *json = NULL;
    size_t json_len = 0;
    struct queued_job *q = admit_reserve(s, job, false, now, &json, &json_len, e);
    if (!q)
        return -1;
    int admitted = store_admit(s->deps.store, q->job.quote, q->job.quote_len, expires, q->uid,
                               json, json_len);
    crypto_wipe(json, json_len);
    free(json);
    memcpy(uid, q->uid, 37);                    /* read by the caller only on success */
    return admit_complete(s, q, NULL, admitted, e);   /* on failure the job went with q */
}

bool jobserver_admits_async(const struct job_server *s)
{
    return !s->shared && store_admits_async(s->deps.store);
}

/* An admission waiting for the store's writer. */
struct pending_admit {
    struct store_admission a;       /* first: the store hands it back */
    struct job_server *s;
    struct queued_job *q;
    struct ran_job ran;             /* an instant job's outcome (a.finished set) */
    jobserver_admitted_fn done;
    void *ctx;
};

static void admitted_async(struct store_admission *a)
{
    struct pending_admit *p = (struct pending_admit *)a;
    struct err e = { 0 };
    char uid[37];
    memcpy(uid, p->q->uid, sizeof uid);
    int rc = admit_complete(p->s, p->q, a->finished ? &p->ran : NULL, a->result, &e);
    p->done(p->ctx, rc == 0 ? uid : NULL, &e);
    free(p);
}

void jobserver_admit_async(struct job_server *s, struct job *job, jobserver_admitted_fn done,
                           void *ctx)
{
    struct err e = { 0 };
    if (!jobserver_admits_async(s)) {       /* jobserver_admit makes the checks */
        char uid[37];
        int rc = jobserver_admit(s, job, uid, &e);
        job_clear(job);
        done(ctx, rc == 0 ? uid : NULL, &e);
        return;
    }
    time_t now = time(NULL);
    if (admit_checks(s, job, now, &e) < 0) {
        job_clear(job);
        done(ctx, NULL, &e);
        return;
    }
    /* An instant kind runs here, now, and is recorded finished: it never waits in the queue
     * behind jobs that may take minutes, and no job thread is woken for it. */
    const struct job_kind *kind = registry_find(s->deps.cfg, job->type);
    bool instant = kind && kind->instant;
    struct pending_admit *p = calloc(1, sizeof *p);
    char *json = NULL;
    size_t json_len = 0;
    struct queued_job *q = p ? admit_reserve(s, job, instant, now, &json, &json_len, &e)
                             : NULL;
    if (!q) {
        if (!p)
            err_set(&e, 500, "out of memory");
        free(p);
        job_clear(job);
        done(ctx, NULL, &e);
        return;
    }
    p->s = s;
    p->q = q;
    p->done = done;
    p->ctx = ctx;
    p->a.quote = q->job.quote;
    p->a.quote_len = q->job.quote_len;
    p->a.nonce_expires = nonce_expiry(s, &q->job, now);
    memcpy(p->a.uid, q->uid, sizeof p->a.uid);
    p->a.job_json = json;
    p->a.job_len = json_len;
    p->a.done = admitted_async;
    if (instant) {
        run_kind(s, q->uid, &q->job, &p->ran.seconds, &p->ran.out);
        p->ran.outcome = outcome_of(&p->ran.out);
        p->a.finished = &p->ran.outcome;
    }
    if (store_admit_async(s->deps.store, &p->a) < 0) {
        /* the store is closing, or out of memory: write the job here (an instant job's outcome
         * only the writer records: refused) */
        p->a.result = instant ? STORE_ERROR
                              : store_admit(s->deps.store, q->job.quote, q->job.quote_len,
                                            p->a.nonce_expires, q->uid, json, json_len);
        admitted_async(&p->a);
    }
    if (json)
        crypto_wipe(json, json_len);
    free(json);
}

/* fill_view copies a result the store found into a result_view. */
static int fill_view(void *ctx, const char *uid, const char *quote, size_t quote_len,
                     const char *data, size_t data_len, const char *next_cursor, const char *error,
                     time_t finished_at)
{
    (void)uid, (void)finished_at;
    struct result_view *v = ctx;
    v->quote = memdup_z(quote, quote_len);  /* the quote may hold NUL bytes: copy all of it */
    v->quote_len = quote_len;
    if (error) {
        v->state = RESULT_FAILED;
        v->error = strdup(error);
    } else {
        v->state = RESULT_DONE;
        (void)result_view_copy_data(v, data, data_len);   /* NULL data on OOM: checked below */
        v->next_cursor = next_cursor ? strdup(next_cursor) : NULL;
    }
    bool ok = v->quote && (error ? v->error != NULL : v->data != NULL) &&
              (!next_cursor || error || v->next_cursor);
    return ok ? 0 : -1;
}

int jobserver_lookup(struct job_server *s, const char *uid, const struct store_size_gate *gate,
                     struct result_view *out)
{
    enum result_state state = results_get(s->deps.results, uid, out);
    if (state != RESULT_IN_STORE && (state != RESULT_UNKNOWN || !s->shared))
        return (int)state;
    time_t finished_near = state == RESULT_IN_STORE ? out->finished_at : 0;
    memset(out, 0, sizeof *out);
    int rc = store_lookup(s->deps.store, uid, finished_near, gate, fill_view, out);
    if (rc == STORE_LOOKUP_FINISHED && out->state != RESULT_UNKNOWN && out->quote)
        return (int)out->state;
    result_view_free(out);   /* a copy that ran out of memory, or nothing */
    /* an outcome the memory let go that the store no longer has: forgotten, so that polling the
     * id again costs no store look-up (a scan of its results, in SQLite) */
    if (state == RESULT_IN_STORE && rc == STORE_LOOKUP_UNKNOWN)
        results_forget_in_store(s->deps.results, uid);
    switch (rc) {
    case STORE_LOOKUP_REFUSED: return JOBSERVER_LOOKUP_REFUSED;
    case STORE_LOOKUP_PENDING: return RESULT_QUEUED;
    case STORE_LOOKUP_FINISHED:
    case STORE_LOOKUP_UNKNOWN: return RESULT_UNKNOWN;
    default: return JOBSERVER_LOOKUP_UNAVAILABLE;
    }
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
    struct job_server *server;
    struct queued_job **items;
    size_t count, cap;
};

static int collect_job(void *ctx, const char *uid, const char *json, size_t len)
{
    struct recovered *r = ctx;
    struct queued_job *q = NULL;
    int rc = read_stored_job(r->server, uid, json, len, true, &q);
    if (rc != STORED_JOB_OK)
        return rc == STORED_JOB_NO_MEMORY;
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
    struct results *results = ctx;
    if (results_add_queued(results, uid, quote, quote_len) == 0)
        results_finish_at(results, uid, data, data_len, next_cursor, error, finished_at);
    return 0;
}

/* requeue queues a stored job at start-up, beyond JOB_QUEUE_MAX if need be: they were all
 * accepted, maybe under a larger bound, and waiting for room here would hold start-up (and
 * SIGTERM) until the excess had run. Only out of memory makes it wait. */
static void requeue(struct job_server *s, struct queued_job *q)
{
    results_add_queued(s->deps.results, q->uid, q->job.quote, q->job.quote_len);
    while (queue_push_beyond(s->queue, q) < 0) {
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    add_workers(s);
}

long jobserver_recover(struct job_server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->deps.cfg;
    time_t since = time(NULL) - (time_t)cfg->result_cache_max_age_s;
    long results = store_each_result(s->deps.store, since, cfg->result_cache_max_size,
                                     restore_result, s->deps.results);
    struct recovered r = { .server = s };
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
