/* store_redis.c - the Redis backend of store.h: a fleet of workers behind one address.
 *
 * Keys (every name starts with STORE_REDIS_PREFIX, "tee-worker:" by default):
 *   <p>jobs             stream of accepted jobs: fields uid, job (the job sealed with the ring);
 *                       consumer group "workers", one consumer per worker (its worker id)
 *   <p>job:<uid>        the job's stream entry id while it waits or runs (status "queued")
 *   <p>result:<uid>     the finished job's result row sealed with the ring, EX RESULT_CACHE_MAX_AGE
 *   <p>nonce:<hex>      a seen quote (16-byte SHA-256 prefix), EX until its signature expires
 *                       plus STORE_CLOCK_SKEW_S (on every worker's clock)
 *   <p>withdrawn:<uid>  an admission whose answer was lost and that was undone (EX 1 h): should
 *                       the script still arrive, it records nothing
 * Nothing is written in clear: jobs and results are sealed with the ring keys every worker of the
 * fleet holds (SEALING_KEYS_FILE or the key broker), the job uid bound in as the salt.
 *
 * Admission is one Lua script (atomic, one round trip): refuse a seen nonce (a replay), refuse when the
 * stream holds JOB_QUEUE_MAX entries (503), else SET the nonce, XADD the job, SET job:<uid>.
 * When the connection fails after the script was sent, Redis may have run it: settle_admission
 * asks again and either keeps the job (a worker already took it: 200) or undoes it (503, and the
 * signature is free again), so a 503 never leaves a recorded job and a consumed nonce behind.
 * Delivery is at least once: a worker reads entries with XREADGROUP only when it has a free job
 * thread; an entry is acknowledged (XACK + XDEL, in the MULTI/EXEC that stores the result) only
 * once its result is stored. Entries of a worker that died are taken over with XAUTOCLAIM once idle
 * longer than JOB_TIMEOUT_SECONDS + STORE_REDIS_CLAIM_MARGIN_SECONDS; a worker that restarts
 * first re-reads the entries it had been given (XREADGROUP ... 0, which counts a delivery of
 * each); one whose connection failed while Redis may have been giving it entries re-reads them
 * with reread_script, which does not. An entry given out more than MAX_DELIVERIES times is failed
 * instead of run again (whatever stops every worker that runs it). Consumers of workers gone are
 * removed once idle long with nothing pending (sweep_consumers). Every answer read is bounded
 * (REDIS_REPLY_MAX, redis_conn.h): the feeder sizes its reads to fit (take_count). An entry no
 * read can take (larger than the bound: only a hostile or misconfigured server, or another program
 * writing into the stream, puts one there) fails the read that includes it; the re-read after the
 * failure measures entries in Redis, finds it without reading it, and fails its job instead of
 * retrying it forever in front of every job behind it (reread_script, skip_oversize).
 * So a job may run twice (a worker
 * dies after the job ran but before its result was stored); it is never lost once /job/add said
 * 200 - as far as the Redis server keeps what it acknowledged (appendonly yes, appendfsync always).
 * Results are written by one writer thread in MULTI/EXEC batches; while Redis is unreachable or
 * refuses the writes (maxmemory, a failed save) they wait in memory (bounded: the feeder takes no
 * new job meanwhile) and are retried. A status poll learns a result's length before reading it,
 * and reads no more than that, so the caller's size gate (the HTTP answer budget) can refuse the
 * result before a byte of it moves (rs_lookup). */
#include "store/store_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "log.h"
#include "store/redis_conn.h"
#include "store/redis_reply.h"
#include "util/clock_after.h"
#include "util/crypto.h"

#define LABEL_JOB "tee-worker redis job v1|"
#define LABEL_RESULT "tee-worker redis result v1|"
#define NONCE_DIGEST_LEN 16
#define REDIS_MAX_TEXT (2u * STORE_MAX_BLOB)   /* a sealed text is ~16/9 of its plaintext */
/* What one round trip may read (redis_conn.h): the largest answer is one sealed text (a result
 * read back for a status poll, or one job) or the entries of one read, which the feeder sizes to fit
 * (take_count); the margin covers keys, ids and framing. */
#define REDIS_REPLY_MAX ((size_t)REDIS_MAX_TEXT + 1024 * 1024)
#define ENTRY_FRAMING 512                      /* a read's bytes per entry beyond its job text */
#define JOB_TEXT_ASSUMED (64u * 1024)          /* sizes reads before any job was seen */
#define JOB_KEY_TTL_S (7 * 86400)              /* job:<uid> outlives any sane wait in the queue */
#define WRITE_BATCH_MAX 64
#define TAKE_MAX 64
#define MAX_DELIVERIES 5     /* a job given out more often than this is failed, not run again */

static const char admit_script[] =
    "if redis.call('EXISTS', KEYS[4]) == 1 then return -3 end "
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
    "if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[1]) then return -2 end "
    "redis.call('SET', KEYS[1], '1', 'EX', ARGV[2]) "
    "local id = redis.call('XADD', KEYS[2], '*', 'uid', ARGV[3], 'job', ARGV[4]) "
    "redis.call('SET', KEYS[3], id, 'EX', ARGV[5]) "
    "return 1";

/* withdraw_script settles an admission whose answer was lost (the connection failed after the
 * script was sent): it leaves a mark that makes the admission a no-op should it still arrive, and
 * if it did run, undoes it unless a worker already took the job (or finished it). Returns 1 when
 * the job stays admitted, 0 when nothing is recorded for it (the signature may come again). */
static const char withdraw_script[] =
    "redis.call('SET', KEYS[4], '1', 'EX', ARGV[2]) "
    "if redis.call('EXISTS', KEYS[5]) == 1 then return 1 end "
    "local id = redis.call('GET', KEYS[1]) "
    "if not id then return 0 end "
    "local p = redis.call('XPENDING', KEYS[2], ARGV[1], id, id, 1) "
    "if #p > 0 then return 1 end "
    "redis.call('XDEL', KEYS[2], id) redis.call('DEL', KEYS[1]) redis.call('DEL', KEYS[3]) "
    "return 0";

/* A job this worker took from the stream and has not finished yet. */
struct inflight {
    struct inflight *next;
    char uid[REDIS_UID_LEN + 1];
    char id[REDIS_ENTRY_ID_MAX + 1];
};

/* A finished job waiting for the writer. */
struct pending {
    struct pending *next;
    char uid[REDIS_UID_LEN + 1];
    char id[REDIS_ENTRY_ID_MAX + 1];   /* "" when the job was not taken from the stream */
    char *blob;                        /* the sealed result row */
    size_t blob_len;
    unsigned failures;                 /* batches holding it that Redis received and failed */
};

struct redis_store {
    struct store base;
    struct redis_pool *pool;
    struct store_sealer sealer;
    char prefix[REDIS_PREFIX_MAX + 1];
    char stream[REDIS_KEY_MAX];
    unsigned claim_after_s;
    unsigned result_ttl_s;
    size_t queue_max;
    size_t max_jobs;

    pthread_mutex_t lock;              /* inflight, and the feeder's state below */
    struct inflight *inflight;
    bool group_ready;
    bool own_pending_read;             /* the entries given to this consumer before a restart */
    char own_cursor[REDIS_ENTRY_ID_MAX + 1];  /* ... read up to this id */
    bool reread_after_loss;            /* ... are read again because an answer was lost */
    long long next_claim_ms;
    char claim_cursor[REDIS_ENTRY_ID_MAX + 1];
    long long next_sweep_ms;           /* the next look for consumers of workers gone */
    size_t job_text_seen;              /* the longest sealed job seen (admitted or read) */
    bool one_at_a_time;                /* the last read failed: read one entry until one works */

    pthread_mutex_t write_lock;        /* the writer's list */
    pthread_cond_t write_wake;
    pthread_cond_t write_done;
    struct pending *head, *tail;
    struct pending *writing_list;      /* the batch being written (off the list meanwhile) */
    size_t pending_count;
    bool writing;
    bool refused;                      /* the last batch was refused by the server (logged) */
    bool stop;
    bool writer_started;
    pthread_t writer;
};

#define RS(base) ((struct redis_store *)(base))

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static void nonce_key(const struct redis_store *s, const char *quote, size_t len,
                      char out[REDIS_KEY_MAX])
{
    uint8_t full[CRYPTO_SHA256_LEN];
    crypto_sha256(quote, len, full);
    char hex[NONCE_DIGEST_LEN * 2 + 1];
    for (size_t i = 0; i < NONCE_DIGEST_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", full[i]);
    redis_key(out, REDIS_KEY_MAX, s->prefix, "nonce:", hex);
}

static void label_for(char *out, size_t outlen, const char *label, const char *uid)
{
    snprintf(out, outlen, "%s%s", label, uid);
}

/* note_job_text remembers the longest sealed job seen, which sizes the feeder's reads. */
static void note_job_text(struct redis_store *s, size_t len)
{
    size_t seen = __atomic_load_n(&s->job_text_seen, __ATOMIC_RELAXED);
    while (len > seen && !__atomic_compare_exchange_n(&s->job_text_seen, &seen, len, true,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* take_count: how many entries one read may ask for (at most max) so that its answer stays within
 * REDIS_REPLY_MAX with jobs as long as the longest seen; one after a failed read, which may have
 * been an answer over the bound (jobs longer than any seen), so that each entry gets through. */
static size_t take_count(struct redis_store *s, size_t max)
{
    if (s->one_at_a_time)
        return 1;
    size_t seen = __atomic_load_n(&s->job_text_seen, __ATOMIC_RELAXED);
    size_t per_entry = (seen > JOB_TEXT_ASSUMED ? seen : JOB_TEXT_ASSUMED) + ENTRY_FRAMING;
    size_t fits = (size_t)REDIS_MAX_TEXT / per_entry;
    return fits < 1 ? 1 : fits < max ? fits : max;
}

/* ---- admission ----------------------------------------------------------------------------- */

#define WITHDRAW_MARK_TTL_S 3600   /* far longer than a dead connection's command can linger */
#define CLOSE_FLUSH_WAIT_MS 5000   /* how long a stopping worker waits for Redis to take results */
#define SETTLE_WAIT_MS 3000        /* how long an admission waits for Redis to settle it */

/* pause_for_redis waits until the pool's reconnect back-off is over (100 ms at least), but not past
 * give_up (mono_ms). Returns false, without waiting, once give_up has passed. */
static bool pause_for_redis(struct redis_store *s, long long give_up)
{
    long long wait = 0, left = give_up - mono_ms();
    if (left <= 0)
        return false;
    redis_pool_may_connect(s->pool, &wait);
    wait = wait < 100 ? 100 : wait;
    sleep_ms((long)(wait < left ? wait : left));
    return true;
}

/* settle_admission decides an admission whose answer was lost: the script may have run. Until
 * Redis answers (SETTLE_WAIT_MS at most, through the reconnect back-off) it runs withdraw_script:
 * STORE_ADMITTED when the job stays (a worker has it already), else STORE_UNAVAILABLE with nothing
 * recorded, so the same signature can be sent again. If Redis does not answer in time the
 * admission stays undecided: logged, STORE_UNAVAILABLE. */
static int settle_admission(struct redis_store *s, const char *uid, const char *nkey,
                            const char *jkey, const char *ckey)
{
    char rkey[REDIS_KEY_MAX], mark_ttl[24], reason[256] = "no answer in time";
    redis_key(rkey, sizeof rkey, s->prefix, "result:", uid);
    snprintf(mark_ttl, sizeof mark_ttl, "%d", WITHDRAW_MARK_TTL_S);
    const char *argv[] = { "EVAL", withdraw_script, "5", jkey, s->stream, nkey, ckey, rkey,
                           REDIS_GROUP, mark_ttl };
    size_t lens[10];
    for (size_t i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    long long give_up = mono_ms() + SETTLE_WAIT_MS;
    do {
        long long wait = 0;
        if (redis_pool_may_connect(s->pool, &wait)) {
            redisReply *r = redis_pool_command(s->pool, reason, sizeof reason, 10, argv, lens);
            if (r && r->type == REDIS_REPLY_INTEGER && (r->integer == 0 || r->integer == 1)) {
                int rc = r->integer == 1 ? STORE_ADMITTED : STORE_UNAVAILABLE;
                freeReplyObject(r);
                log_warn("job %s: redis's answer to the admission was lost; %s", uid,
                         rc == STORE_ADMITTED ? "it was recorded and a worker has it: admitted"
                                              : "withdrawn, nothing recorded");
                return rc;
            }
            if (r)
                snprintf(reason, sizeof reason, "unexpected reply: %.200s",
                         r->type == REDIS_REPLY_ERROR ? r->str : "not 0 or 1");
            freeReplyObject(r);
        }
    } while (pause_for_redis(s, give_up));   /* the back-off a failure armed, 100 ms at least */
    log_error("job %s: redis's answer to the admission was lost and redis could not be asked "
              "again (%s): answered 503, but the job may have been recorded (it then runs, and "
              "the same signature is refused as a replay)", uid, reason);
    return STORE_UNAVAILABLE;
}

static int rs_admit(struct store *base, const char *quote, size_t quote_len, time_t nonce_expires,
                    const char *uid, const char *job_json, size_t job_len)
{
    struct redis_store *s = RS(base);
    char label[96];
    label_for(label, sizeof label, LABEL_JOB, uid);
    char *sealed = s->sealer.seal(s->sealer.ctx, label, (const uint8_t *)job_json, job_len);
    if (!sealed)
        return STORE_ERROR;
    size_t sealed_len = strlen(sealed);
    if (sealed_len > REDIS_MAX_TEXT) {   /* no worker would read it back */
        log_error("store: job %s refused: %zu bytes sealed, more than the %u a worker reads from "
                  "redis", uid, sealed_len, REDIS_MAX_TEXT);
        free(sealed);
        return STORE_ERROR;
    }
    note_job_text(s, sealed_len);
    char nkey[REDIS_KEY_MAX], jkey[REDIS_KEY_MAX];
    nonce_key(s, quote, quote_len, nkey);
    redis_key(jkey, sizeof jkey, s->prefix, "job:", uid);
    time_t ttl = nonce_expires - time(NULL) + STORE_CLOCK_SKEW_S;   /* other workers' clocks */
    if (ttl < 1)
        ttl = 1;
    char qmax[24], nttl[24], jttl[24];
    snprintf(qmax, sizeof qmax, "%zu", s->queue_max);
    snprintf(nttl, sizeof nttl, "%lld", (long long)ttl);
    snprintf(jttl, sizeof jttl, "%d", JOB_KEY_TTL_S);
    char ckey[REDIS_KEY_MAX];
    redis_key(ckey, sizeof ckey, s->prefix, "withdrawn:", uid);
    const char *argv[] = { "EVAL", admit_script, "4", nkey, s->stream, jkey, ckey, qmax, nttl,
                           uid, sealed, jttl };
    size_t lens[12];
    for (size_t i = 0; i < 12; i++)
        lens[i] = i == 10 ? sealed_len : strlen(argv[i]);
    char reason[256];
    bool sent = false;
    redisReply *r = redis_pool_command_sent(s->pool, reason, sizeof reason, 12, argv, lens, &sent);
    free(sealed);
    if (!r)
        return sent ? settle_admission(s, uid, nkey, jkey, ckey) : STORE_UNAVAILABLE;
    int rc = STORE_UNAVAILABLE;
    if (r->type == REDIS_REPLY_INTEGER && (r->integer == 1 || r->integer == 0 || r->integer == -2))
        rc = r->integer == 1 ? STORE_ADMITTED : r->integer == 0 ? STORE_REPLAY : STORE_FULL;
    else
        log_error("store: admission refused by redis: %.200s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
    freeReplyObject(r);
    return rc;
}

static int rs_nonce_seen(struct store *base, const char *quote, size_t quote_len, time_t now)
{
    (void)now;
    struct redis_store *s = RS(base);
    char nkey[REDIS_KEY_MAX], reason[256];
    nonce_key(s, quote, quote_len, nkey);
    const char *argv[] = { "EXISTS", nkey };
    size_t lens[] = { 6, strlen(nkey) };
    redisReply *r = redis_pool_command(s->pool, reason, sizeof reason, 2, argv, lens);
    int seen = redis_reply_ok(r, REDIS_REPLY_INTEGER) ? (r->integer > 0) : -1;
    freeReplyObject(r);
    return seen;
}

/* ---- completion: the writer ---------------------------------------------------------------- */

static bool take_inflight(struct redis_store *s, const char *uid, char id[REDIS_ENTRY_ID_MAX + 1])
{
    pthread_mutex_lock(&s->lock);
    struct inflight **link = &s->inflight;
    while (*link && strcmp((*link)->uid, uid) != 0)
        link = &(*link)->next;
    struct inflight *f = *link;
    bool found = f != NULL;
    if (f) {
        *link = f->next;
        memcpy(id, f->id, REDIS_ENTRY_ID_MAX + 1);
    }
    pthread_mutex_unlock(&s->lock);
    free(f);
    return found;
}

static int rs_finish(struct store *base, const char *uid, const char *quote, size_t quote_len,
                     const char *data, size_t data_len, const char *next_cursor, const char *error,
                     time_t finished_at)
{
    (void)finished_at;
    struct redis_store *s = RS(base);
    size_t len = 0;
    uint8_t *row = result_row_encode(quote, quote_len, data, data_len, next_cursor, error, &len);
    if (!row)
        return -1;
    char label[96];
    label_for(label, sizeof label, LABEL_RESULT, uid);
    char *sealed = s->sealer.seal(s->sealer.ctx, label, row, len);
    crypto_wipe(row, len);
    free(row);
    struct pending *p = sealed ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        free(sealed);
        return -1;
    }
    snprintf(p->uid, sizeof p->uid, "%s", uid);
    if (!take_inflight(s, uid, p->id))
        p->id[0] = '\0';
    p->blob = sealed;
    p->blob_len = strlen(sealed);
    pthread_mutex_lock(&s->write_lock);
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->pending_count++;
    pthread_cond_signal(&s->write_wake);
    pthread_mutex_unlock(&s->write_lock);
    return 0;
}

static void free_pending(struct pending *p)
{
    while (p) {
        struct pending *next = p->next;
        free(p->blob);
        free(p);
        p = next;
    }
}

/* Arguments of one batch: MULTI, per job SET/XACK/XDEL/DEL, EXEC. */
#define CMDS_PER_JOB 4
struct batch_args {
    const char *argv[CMDS_PER_JOB][6];
    size_t lens[CMDS_PER_JOB][6];
    char rkey[REDIS_KEY_MAX], jkey[REDIS_KEY_MAX];
};

/* A batch Redis received and failed this often (closed the connection on it, or refused it for
 * a reason that is not a passing state) is written one result at a time; a result failing alone
 * ISOLATED_TRIES_MAX times is given up: its job stays pending and runs again (and is abandoned
 * after MAX_DELIVERIES), instead of holding up every result behind it forever. */
#define BATCH_FAILURES_SPLIT 2
#define ISOLATED_TRIES_MAX 5

/* transient_refusal: Redis refused for a passing state (out of memory, a failed save, loading,
 * a read-only replica during a failover, a busy script), not for what was sent. */
static bool transient_refusal(const redisReply *r)
{
    static const char *const passing[] = { "OOM", "MISCONF", "LOADING", "READONLY", "BUSY",
                                           "TRYAGAIN", "MASTERDOWN", "NOREPLICAS", "NOAUTH" };
    if (!r || r->type != REDIS_REPLY_ERROR || !r->str)
        return false;
    for (size_t i = 0; i < sizeof passing / sizeof passing[0]; i++) {
        size_t n = strlen(passing[i]);
        if (strncmp(r->str, passing[i], n) == 0 && (r->str[n] == ' ' || r->str[n] == '\0'))
            return true;
    }
    return false;
}

/* write_batch stores list in one MULTI/EXEC. Returns 0 when written; nothing is written on
 * failure and the caller keeps the list: -1 the server is unreachable, -2 it refused the
 * transaction for a passing state (EXECABORT after OOM under maxmemory, MISCONF after a failed
 * save, a read-only replica...), -3 it received the batch and failed it otherwise (closed the
 * connection on it, timed out, or refused it for what it holds). */
static int write_batch(struct redis_store *s, struct pending *list, size_t count)
{
    size_t ncmd = 2 + count * CMDS_PER_JOB;
    struct redis_cmd *cmds = calloc(ncmd, sizeof *cmds);
    struct batch_args *args = calloc(count, sizeof *args);
    redisReply **replies = calloc(ncmd, sizeof *replies);
    if (!cmds || !args || !replies) {
        free(cmds);
        free(args);
        free(replies);
        return -1;
    }
    static const char *const multi[] = { "MULTI" }, *const exec[] = { "EXEC" };
    static const size_t multi_len[] = { 5 }, exec_len[] = { 4 };
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%u", s->result_ttl_s);
    size_t k = 0;
    cmds[k++] = (struct redis_cmd){ 1, (const char **)multi, multi_len };
    size_t i = 0;
    for (struct pending *p = list; p && i < count; p = p->next, i++) {
        struct batch_args *a = &args[i];
        redis_key(a->rkey, sizeof a->rkey, s->prefix, "result:", p->uid);
        redis_key(a->jkey, sizeof a->jkey, s->prefix, "job:", p->uid);
        const char *set[] = { "SET", a->rkey, p->blob, "EX", ttl };
        const char *ack[] = { "XACK", s->stream, REDIS_GROUP, p->id };
        const char *del[] = { "XDEL", s->stream, p->id };
        const char *djob[] = { "DEL", a->jkey };
        const char **src[CMDS_PER_JOB] = { set, ack, del, djob };
        int argc[CMDS_PER_JOB] = { 5, 4, 3, 2 };
        int used = p->id[0] ? CMDS_PER_JOB : 2;   /* no stream entry: SET and DEL only */
        for (int c = 0; c < CMDS_PER_JOB; c++) {
            int which = used == 2 && c == 1 ? 3 : c;
            if (c >= used)
                break;
            for (int j = 0; j < argc[which]; j++) {
                a->argv[c][j] = src[which][j];
                a->lens[c][j] = which == 0 && j == 2 ? p->blob_len : strlen(src[which][j]);
            }
            cmds[k++] = (struct redis_cmd){ argc[which], a->argv[c], a->lens[c] };
        }
    }
    cmds[k++] = (struct redis_cmd){ 1, (const char **)exec, exec_len };
    char reason[256];
    bool sent = false;
    int rc = redis_pool_run_sent(s->pool, REDIS_SLOT_WRITER, k, cmds, replies, reason,
                                 sizeof reason, &sent);
    if (rc < 0 && sent) {
        log_error("store: writing %zu results failed (%s)", count, reason);
        rc = -3;
    }
    if (rc == 0) {
        redisReply *r = replies[k - 1];
        if (!redis_reply_ok(r, REDIS_REPLY_ARRAY)) {
            /* the reason is the first refused command's (OOM ...), else EXEC's own */
            const redisReply *why = r;
            for (size_t j = 0; j + 1 < k; j++)
                if (replies[j] && replies[j]->type == REDIS_REPLY_ERROR) {
                    why = replies[j];
                    break;
                }
            bool passing = transient_refusal(why);
            if (!passing || !s->refused)
                log_error("store: %zu results refused by redis (%.200s); kept in memory and "
                          "written again %s", count,
                          why && why->type == REDIS_REPLY_ERROR ? why->str : "no EXEC",
                          passing ? "every second" : "(a few times)");
            s->refused = passing;
            rc = passing ? -2 : -3;
        } else {
            if (s->refused)
                log_info("store: redis accepts results again");
            s->refused = false;
            for (size_t j = 0; j < r->elements; j++)
                if (r->element[j] && r->element[j]->type == REDIS_REPLY_ERROR)
                    log_error("store: a result command failed: %.200s", r->element[j]->str);
        }
    }
    for (size_t j = 0; j < k; j++)
        freeReplyObject(replies[j]);
    free(cmds);
    free(args);
    free(replies);
    return rc;
}

/* write_some takes up to WRITE_BATCH_MAX results off the list and writes them (caller holds
 * write_lock; it is released during the write). Returns 0, or write_batch's failure (-1
 * unreachable, -2 refused for a passing state, -3 failed): the results are back at the head of
 * the list, but for a result -3 gave up on (then 0). */
static int write_some(struct redis_store *s)
{
    while (s->writing)   /* one batch at a time (the writer, or rs_flush) */
        pthread_cond_wait(&s->write_done, &s->write_lock);
    struct pending *list = s->head, *last = NULL;
    size_t count = 0;
    size_t max = list && list->failures >= BATCH_FAILURES_SPLIT ? 1 : WRITE_BATCH_MAX;
    for (struct pending *p = list; p && count < max; p = p->next) {
        last = p;
        count++;
    }
    if (!count)
        return 0;
    s->head = last->next;
    if (!s->head)
        s->tail = NULL;
    last->next = NULL;
    s->writing = true;
    s->writing_list = list;
    pthread_mutex_unlock(&s->write_lock);
    int rc = write_batch(s, list, count);
    pthread_mutex_lock(&s->write_lock);
    s->writing = false;
    s->writing_list = NULL;
    if (rc == -3) {
        for (struct pending *p = list; p; p = p->next)
            p->failures++;
        if (count == 1 && list->failures >= BATCH_FAILURES_SPLIT + ISOLATED_TRIES_MAX) {
            log_error("job %s: redis fails every write of its result (%zu bytes sealed); given "
                      "up, the job stays pending and runs again", list->uid, list->blob_len);
            s->pending_count--;
            free_pending(list);
            pthread_cond_broadcast(&s->write_done);
            return 0;
        }
    }
    if (rc < 0) {
        last->next = s->head;
        s->head = list;
        if (!s->tail)
            s->tail = last;
    } else {
        s->pending_count -= count;
        free_pending(list);
    }
    pthread_cond_broadcast(&s->write_done);
    return rc;
}

static void *writer_main(void *arg)
{
    struct redis_store *s = arg;
    pthread_setname_np(pthread_self(), "tw-redis");
    pthread_mutex_lock(&s->write_lock);
    while (!s->stop) {
        if (!s->head) {
            pthread_cond_wait(&s->write_wake, &s->write_lock);
            continue;
        }
        int rc = write_some(s);
        if (rc < 0) {
            /* unreachable or failed: the pool's back-off paces the retries; refused: once a second */
            cond_wait_ms(&s->write_wake, &s->write_lock, rc == -2 ? 1000 : 200);
        }
    }
    pthread_mutex_unlock(&s->write_lock);
    return NULL;
}

static int rs_flush(struct store *base)
{
    struct redis_store *s = RS(base);
    int rc = 0;
    pthread_mutex_lock(&s->write_lock);
    while (s->writing)
        pthread_cond_wait(&s->write_done, &s->write_lock);
    while (s->head && rc == 0)
        rc = write_some(s);
    pthread_mutex_unlock(&s->write_lock);
    return rc;
}

/* ---- delivery -------------------------------------------------------------------------------- */

static int ensure_group(struct redis_store *s, char *reason, size_t reasonlen)
{
    if (s->group_ready)
        return 0;
    const char *argv[] = { "XGROUP", "CREATE", s->stream, REDIS_GROUP, "0", "MKSTREAM" };
    size_t lens[6];
    for (size_t i = 0; i < 6; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = redis_pool_command(s->pool, reason, reasonlen, 6, argv, lens);
    if (!r)
        return -1;
    bool ok = r->type != REDIS_REPLY_ERROR || strncmp(r->str, "BUSYGROUP", 9) == 0;
    if (!ok)
        snprintf(reason, reasonlen, "XGROUP CREATE: %.200s", r->str);
    freeReplyObject(r);
    s->group_ready = ok;
    return ok ? 0 : -1;
}

/* ack_away acknowledges and deletes an entry that holds no job (deleted meanwhile, malformed). */
static void ack_away(struct redis_store *s, const char *id)
{
    char reason[256];
    const char *ack[] = { "XACK", s->stream, REDIS_GROUP, id };
    const char *del[] = { "XDEL", s->stream, id };
    size_t ack_len[] = { 4, strlen(s->stream), strlen(REDIS_GROUP), strlen(id) };
    size_t del_len[] = { 4, strlen(s->stream), strlen(id) };
    struct redis_cmd cmds[] = { { 4, ack, ack_len }, { 3, del, del_len } };
    redisReply *replies[2];
    if (redis_pool_run(s->pool, REDIS_SLOT_FEEDER, 2, cmds, replies, reason, sizeof reason) == 0) {
        freeReplyObject(replies[0]);
        freeReplyObject(replies[1]);
    }
}

/* delivery_counts asks how often each entry has been given out (one XPENDING per entry, in one
 * round trip); counts[i] is -1 when the entry is no longer pending (acknowledged since it was
 * read) and stays 0 when the answer is missing or malformed. */
static void delivery_counts(struct redis_store *s, const struct redis_entry *e, int n,
                            long long *counts)
{
    struct redis_cmd cmds[TAKE_MAX];
    const char *argv[TAKE_MAX][6];
    size_t lens[TAKE_MAX][6];
    redisReply *replies[TAKE_MAX];
    for (int i = 0; i < n; i++) {
        counts[i] = 0;
        const char *a[6] = { "XPENDING", s->stream, REDIS_GROUP, e[i].id, e[i].id, "1" };
        for (int j = 0; j < 6; j++) {
            argv[i][j] = a[j];
            lens[i][j] = strlen(a[j]);
        }
        cmds[i] = (struct redis_cmd){ 6, argv[i], lens[i] };
    }
    char reason[256];
    if (redis_pool_run(s->pool, REDIS_SLOT_FEEDER, (size_t)n, cmds, replies, reason,
                       sizeof reason) < 0)
        return;
    for (int i = 0; i < n; i++) {
        const redisReply *r = replies[i];
        if (redis_reply_ok(r, REDIS_REPLY_ARRAY) && r->elements == 1 && r->element[0] &&
            r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4 &&
            r->element[0]->element[3] && r->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
            counts[i] = r->element[0]->element[3]->integer;
        else if (redis_reply_ok(r, REDIS_REPLY_ARRAY) && r->elements == 0)
            counts[i] = -1;
        freeReplyObject(replies[i]);
    }
}

static void add_inflight(struct redis_store *s, struct inflight *f, const struct redis_entry *e)
{
    memcpy(f->uid, e->uid, sizeof f->uid);
    memcpy(f->id, e->id, sizeof f->id);
    pthread_mutex_lock(&s->lock);
    f->next = s->inflight;
    s->inflight = f;
    pthread_mutex_unlock(&s->lock);
}

/* fail_entry finishes the job of entry e failed with msg, without running it: its result says
 * why, and the writer removes the entry with it (as for any job finished). */
static void fail_entry(struct redis_store *s, const struct redis_entry *e, const char *msg)
{
    struct inflight *f = calloc(1, sizeof *f);
    if (!f)
        return;
    add_inflight(s, f, e);
    if (rs_finish(&s->base, e->uid, "", 0, NULL, 0, NULL, msg, time(NULL)) < 0) {
        char id[REDIS_ENTRY_ID_MAX + 1];
        take_inflight(s, e->uid, id);
    }
}

/* abandon fails a job given out more than MAX_DELIVERIES times: every worker that took it stopped
 * before finishing it, so running it again would likely stop the next one too. */
static void abandon(struct redis_store *s, const struct redis_entry *e, long long count)
{
    char msg[200];
    snprintf(msg, sizeof msg, "job abandoned: given to workers %lld times and none finished it "
             "(each stopped while running it)", count);
    log_error("job %s: %s", e->uid, msg);
    fail_entry(s, e, msg);
}

/* held_here: the job runs here, or its result waits for the writer (listed, or being written). */
static bool held_here(struct redis_store *s, const char *uid)
{
    pthread_mutex_lock(&s->lock);
    const struct inflight *f = s->inflight;
    while (f && strcmp(f->uid, uid) != 0)
        f = f->next;
    pthread_mutex_unlock(&s->lock);
    if (f)
        return true;
    bool found = false;
    pthread_mutex_lock(&s->write_lock);
    for (const struct pending *lists[] = { s->head, s->writing_list }, **l = lists;
         l < lists + 2 && !found; l++)
        for (const struct pending *p = *l; p && !found; p = p->next)
            found = strcmp(p->uid, uid) == 0;
    pthread_mutex_unlock(&s->write_lock);
    return found;
}

/* skip_oversize removes an entry too large for any worker to read (reread_script measured it in
 * Redis). Admission refuses such a job, so only a hostile or misconfigured server, or another
 * program writing into the stream, puts one there; left in place, every read including it would
 * fail on the reply bound and hold up every job behind it. Its job, when the entry names one
 * (its uid, read server-side) that is not running here, finishes failed with a result saying
 * why, for /job/status; else the entry is acknowledged away and its job, if any, stays unknown. */
static void skip_oversize(struct redis_store *s, const struct redis_entry *e)
{
    bool known = e->uid[0] && !held_here(s, e->uid);
    log_error("store: stream entry %s (job %s) holds %lld bytes in %lld fields, more than a "
              "worker reads in one answer (%zu bytes, %d fields): %s, not read", e->id,
              e->uid[0] ? e->uid : "unknown", e->stored_bytes, e->stored_fields,
              (size_t)REDIS_MAX_TEXT + ENTRY_FRAMING, REDIS_REPLY_ARRAY_MAX,
              known ? "its job is failed" : "acknowledged away");
    if (!known) {
        ack_away(s, e->id);
        return;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "job too large to be read: its stream entry in redis holds %lld "
             "bytes in %lld fields, more than the %zu bytes a worker reads", e->stored_bytes,
             e->stored_fields, (size_t)REDIS_MAX_TEXT + ENTRY_FRAMING);
    fail_entry(s, e, msg);
}

/* deliver opens each entry and hands it to fn. redelivered: the entries were given out before
 * (taken over, or re-read after a restart), so their delivery counts are checked first. Returns
 * the number handed over. */
static int deliver(struct redis_store *s, const struct redis_entry *e, int n, bool redelivered,
                   store_job_fn fn, void *ctx)
{
    /* An entry given out before is skipped when its job runs here or its result waits here, or
     * when it is no longer pending: the writer stores a result and acknowledges its entry in one
     * transaction, then drops it from its list, so a result written between the read and
     * held_here is seen as acknowledged by delivery_counts, asked after held_here. */
    bool held[TAKE_MAX] = { false };
    long long counts[TAKE_MAX] = { 0 };
    if (redelivered && n > 0) {
        for (int i = 0; i < n; i++)
            held[i] = !e[i].oversize && e[i].job && held_here(s, e[i].uid);
        delivery_counts(s, e, n, counts);
    }
    int given = 0;
    for (int i = 0; i < n; i++) {
        if (e[i].oversize) {
            skip_oversize(s, &e[i]);
            continue;
        }
        if (held[i] || (redelivered && e[i].job && counts[i] < 0))
            continue;   /* this consumer's pending entries read again: it has, or had, this one */
        if (!e[i].job) {
            log_warn("store: stream entry %s holds no readable job; acknowledged away", e[i].id);
            ack_away(s, e[i].id);
            continue;
        }
        if (counts[i] > MAX_DELIVERIES) {
            abandon(s, &e[i], counts[i]);
            continue;
        }
        char label[96];
        label_for(label, sizeof label, LABEL_JOB, e[i].uid);
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (s->sealer.open(s->sealer.ctx, label, e[i].job, e[i].job_len, &plain, &plain_len) < 0) {
            log_error("job %s: cannot be opened with this worker's keys (SEALING_KEYS_FILE or the "
                      "key ring differs across the fleet?); left for another worker", e[i].uid);
            continue;
        }
        struct inflight *f = calloc(1, sizeof *f);
        if (f) {
            add_inflight(s, f, &e[i]);
            if (fn(ctx, e[i].uid, (const char *)plain, plain_len) == 0) {
                given++;
            } else {
                char id[REDIS_ENTRY_ID_MAX + 1];
                take_inflight(s, e[i].uid, id);
            }
        }
        crypto_wipe(plain, plain_len);
        free(plain);
    }
    return given;
}

/* What a read of the feeder asks for. */
enum read_kind {
    READ_NEW,          /* XREADGROUP ... >: entries never given out */
    READ_OWN,          /* XREADGROUP ... <cursor>: this consumer's pending entries, after a start */
    READ_OWN_AGAIN,    /* reread_script: the same, after an answer was lost */
    READ_CLAIM,        /* XAUTOCLAIM: entries left idle by a worker that stopped */
};

/* reread_script returns this consumer's pending entries with ids above a cursor (ARGV[3]), up to
 * ARGV[4], as XREADGROUP would ([[id, fields or nil], ...]) but without counting a delivery: Redis
 * raises an entry's delivery count each time XREADGROUP reads it from the history, and after a
 * lost answer the entries read again were not given out again (most run here already, the rest
 * were in the answer that was lost). Their idle time is reset as XREADGROUP does (XCLAIM ...
 * RETRYCOUNT with the count they had, JUSTID), so no other worker takes them over meanwhile.
 *
 * Its answer stays within the connection's reply bound, whatever the stream holds. It measures
 * each entry server-side: its fields' bytes plus RESP framing, counted as 16 bytes per field
 * ("$", up to 10 digits, two CRLFs) and 128 per entry (its arrays and id), upper bounds. An entry
 * over ARGV[6] bytes, or with more than ARGV[7] fields (the reader's array bound), is not sent
 * but described in ~256 bytes: [id, nil, bytes, fields, uid] (its uid field when at most 36 bytes,
 * else ""). It stops before an entry that would take the answer past ARGV[5] bytes (the next call
 * goes on from there). This is how an entry too large for any read is found without a byte of it
 * moving: a read that includes it (XREADGROUP, XAUTOCLAIM) fails on the bound after Redis gave
 * the entry to this consumer, and every read whose answer is lost is followed by this one
 * (read_entries). */
#define REREAD_MARGIN (64 * 1024)   /* the answer's own array, beyond what the script counts */
static const char reread_script[] =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], '(' .. ARGV[3], '+', ARGV[4], ARGV[2]) "
    "local budget, entry_max, fields_max = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]) "
    "local out, used = {}, 0 "
    "for _, e in ipairs(p) do "
    "  local r = redis.call('XRANGE', KEYS[1], e[1], e[1]) "
    "  local item, size = {e[1], false}, 128 "
    "  if #r == 1 then "
    "    local f, bytes = r[1][2], 0 "
    "    for j = 1, #f do bytes = bytes + #f[j] end "
    "    size = 128 + bytes + 16 * #f "
    "    if size > entry_max or #f > fields_max then "
    "      local uid = '' "
    "      for j = 1, #f - 1, 2 do "
    "        if f[j] == 'uid' and #f[j + 1] <= 36 then uid = f[j + 1] end "
    "      end "
    "      item, size = {e[1], false, bytes, #f, uid}, 256 "
    "    else "
    "      item = r[1] "
    "    end "
    "  end "
    "  if #out > 0 and used + size > budget then break end "
    "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, e[1], 'RETRYCOUNT', e[4], 'JUSTID') "
    "  used = used + size "
    "  out[#out + 1] = item "
    "end "
    "return out";

/* parse_read reads the answer of a read of that kind into entries (next: XAUTOCLAIM's cursor). */
static int parse_read(enum read_kind kind, const redisReply *r, struct redis_entry *entries,
                      size_t max, char next[REDIS_ENTRY_ID_MAX + 1], char *err, size_t errlen)
{
    switch (kind) {
    case READ_CLAIM:
        return redis_parse_autoclaim(r, entries, max, REDIS_MAX_TEXT, next, err, errlen);
    case READ_OWN_AGAIN:
        if (r && r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "%.*s", (int)(r->len > 200 ? 200 : r->len), r->str);
            return -1;
        }
        return redis_parse_reread(r, entries, max, REDIS_MAX_TEXT, err, errlen);
    default:
        return redis_parse_read(r, entries, max, REDIS_MAX_TEXT, err, errlen);
    }
}

/* read_entries runs one read of the feeder on its connection and delivers what it returns. */
static int read_entries(struct redis_store *s, enum read_kind kind, int argc, const char **argv,
                        size_t max, store_job_fn fn, void *ctx)
{
    size_t lens[16];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    struct redis_cmd cmd = { argc, argv, lens };
    redisReply *r = NULL;
    char reason[256];
    bool sent = false;
    if (redis_pool_run_sent(s->pool, REDIS_SLOT_FEEDER, 1, &cmd, &r, reason, sizeof reason,
                            &sent) < 0) {
        /* Redis may have given entries to this consumer in the answer that was lost: read this
         * consumer's pending entries again (those running here are skipped) rather than leave
         * them idle until they may be taken over. */
        if (sent) {
            s->own_pending_read = false;
            s->reread_after_loss = true;
            snprintf(s->own_cursor, sizeof s->own_cursor, "0-0");
        }
        s->one_at_a_time = true;
        return -1;
    }
    s->one_at_a_time = false;
    struct redis_entry entries[TAKE_MAX];
    char err[256], next[REDIS_ENTRY_ID_MAX + 1];
    int n = parse_read(kind, r, entries, max, next, err, sizeof err);
    for (int i = 0; i < n; i++)
        if (entries[i].job)
            note_job_text(s, entries[i].job_len);
    if (n < 0) {
        if (strncmp(err, "NOGROUP", 7) == 0)
            s->group_ready = false;   /* the server lost the group (restarted without AOF?) */
        log_error("store: %s: %s", kind == READ_OWN_AGAIN ? "reading pending entries again"
                                                          : argv[0], err);
    } else {
        if (kind == READ_OWN || kind == READ_OWN_AGAIN) {
            if (n > 0) {
                memcpy(s->own_cursor, entries[n - 1].id, sizeof s->own_cursor);
            } else {
                s->own_pending_read = true;   /* every entry given before was read */
                s->reread_after_loss = false;
            }
        }
        if (kind == READ_CLAIM) {
            memcpy(s->claim_cursor, next, sizeof s->claim_cursor);
            if (n > 0)
                log_info("store: took over %d job(s) left pending by a worker that stopped", n);
        }
        n = deliver(s, entries, n, kind != READ_NEW, fn, ctx);
    }
    freeReplyObject(r);
    return n;
}

/* ---- consumers of workers gone ---------------------------------------------------------- */

/* Each worker id ever used leaves a consumer in the group; Redis never removes one. A consumer
 * with no pending entry and idle CONSUMER_IDLE_FACTOR claim delays (its worker is gone: a live one
 * reads every few seconds) is removed, SWEEP_MAX per pass, a pass per claim delay. A consumer with
 * pending entries never is (they are jobs to take over; removing it would drop them from the
 * group's pending list): the script checks again, atomically, right before removing each. Were
 * a consumer removed that still runs, nothing is lost: its next read creates it again. */
#define CONSUMER_IDLE_FACTOR 4
#define SWEEP_MAX 256

static const char delconsumers_script[] =
    "local n = 0 "
    "for i = 2, #ARGV do "
    "  if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[i]) == 0 then "
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[i]) n = n + 1 "
    "  end "
    "end "
    "return n";

static void sweep_consumers(struct redis_store *s, const char *self)
{
    long long now = mono_ms();
    if (now < s->next_sweep_ms)
        return;
    s->next_sweep_ms = now + (long long)s->claim_after_s * 1000;
    const char *info[] = { "XINFO", "CONSUMERS", s->stream, REDIS_GROUP };
    size_t info_lens[] = { 5, 9, strlen(s->stream), strlen(REDIS_GROUP) };
    struct redis_cmd cmd = { 4, info, info_lens };
    redisReply *r = NULL;
    char reason[256], err[256];
    if (redis_pool_run(s->pool, REDIS_SLOT_FEEDER, 1, &cmd, &r, reason, sizeof reason) < 0)
        return;
    struct redis_consumer *gone = calloc(SWEEP_MAX, sizeof *gone);
    const char **argv = calloc(5 + SWEEP_MAX, sizeof *argv);   /* EVAL script 1 key group names */
    size_t *lens = calloc(5 + SWEEP_MAX, sizeof *lens);
    long long idle_min = (long long)s->claim_after_s * 1000 * CONSUMER_IDLE_FACTOR;
    int n = gone && argv && lens ? redis_parse_idle_consumers(r, self, idle_min, gone, SWEEP_MAX,
                                                              err, sizeof err)
                                 : 0;
    freeReplyObject(r);
    if (n < 0)
        log_warn("store: looking for consumers of workers gone: %s", err);
    if (n > 0) {
        argv[0] = "EVAL";
        argv[1] = delconsumers_script;
        argv[2] = "1";
        argv[3] = s->stream;
        argv[4] = REDIS_GROUP;
        for (int i = 0; i < 5; i++)
            lens[i] = strlen(argv[i]);
        for (int i = 0; i < n; i++) {
            argv[5 + i] = gone[i].name;
            lens[5 + i] = gone[i].len;
        }
        cmd = (struct redis_cmd){ 5 + n, argv, lens };
        if (redis_pool_run(s->pool, REDIS_SLOT_FEEDER, 1, &cmd, &r, reason, sizeof reason) == 0) {
            if (redis_reply_ok(r, REDIS_REPLY_INTEGER)) {
                if (r->integer > 0)
                    log_info("store: removed %lld consumer(s) of workers gone from the group (idle "
                             "over %lld s, nothing pending)", r->integer, idle_min / 1000);
            } else {
                log_warn("store: removing consumers of workers gone: %.200s",
                         r && r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            }
            freeReplyObject(r);
        }
    }
    free(gone);
    free(argv);
    free(lens);
}

static int rs_take(struct store *base, const char *consumer, size_t max, int wait_ms,
                   store_job_fn fn, void *ctx)
{
    struct redis_store *s = RS(base);
    if (max > TAKE_MAX)
        max = TAKE_MAX;
    if (max == 0 || !s->sealer.ready(s->sealer.ctx)) {
        sleep_ms(wait_ms < 200 ? wait_ms : 200);
        return 0;
    }
    pthread_mutex_lock(&s->write_lock);
    size_t unwritten = s->pending_count;
    pthread_mutex_unlock(&s->write_lock);
    if (unwritten >= s->max_jobs) {   /* results wait for Redis: take nothing more meanwhile */
        sleep_ms(100);
        return 0;
    }
    char reason[256];
    if (ensure_group(s, reason, sizeof reason) < 0) {
        sleep_ms(200);
        return -1;
    }
    sweep_consumers(s, consumer);
    max = take_count(s, max);
    char count[24], block[24], idle[24];
    snprintf(count, sizeof count, "%zu", max);
    snprintf(block, sizeof block, "%d", wait_ms);
    snprintf(idle, sizeof idle, "%llu", (unsigned long long)s->claim_after_s * 1000ull);
    int n;
    if (!s->own_pending_read) {
        /* Pending entries of this consumer with ids above the cursor: each is read once. After
         * a start, reading them counts a delivery (they run again); after a lost answer, not. */
        const char *argv[] = { "XREADGROUP", "GROUP", REDIS_GROUP, consumer, "COUNT", count,
                               "STREAMS", s->stream, s->own_cursor };
        char budget[24], entry_max[24], fields_max[24];
        snprintf(budget, sizeof budget, "%zu", REDIS_REPLY_MAX - REREAD_MARGIN);
        snprintf(entry_max, sizeof entry_max, "%zu", (size_t)REDIS_MAX_TEXT + ENTRY_FRAMING);
        snprintf(fields_max, sizeof fields_max, "%d", REDIS_REPLY_ARRAY_MAX);
        const char *again[] = { "EVAL", reread_script, "1", s->stream, REDIS_GROUP, consumer,
                                s->own_cursor, count, budget, entry_max, fields_max };
        n = s->reread_after_loss ? read_entries(s, READ_OWN_AGAIN, 11, again, max, fn, ctx)
                                 : read_entries(s, READ_OWN, 9, argv, max, fn, ctx);
        if (n > 0)
            log_info("store: %d job(s) given to this worker earlier (before a restart, or in an "
                     "answer that was lost) run again", n);
        if (n < 0)
            sleep_ms(200);
        if (!s->own_pending_read)
            return n;
    }
    long long now = mono_ms();
    if (now >= s->next_claim_ms) {
        const char *argv[] = { "XAUTOCLAIM", s->stream, REDIS_GROUP, consumer, idle,
                               s->claim_cursor, "COUNT", count };
        n = read_entries(s, READ_CLAIM, 8, argv, max, fn, ctx);
        if (n < 0) {
            sleep_ms(200);
            return -1;
        }
        if (strcmp(s->claim_cursor, "0-0") == 0) {
            unsigned period = s->claim_after_s / 4;
            period = period < 1 ? 1 : period > 15 ? 15 : period;
            s->next_claim_ms = now + (long long)period * 1000;
        }
        if (n > 0)
            return n;
    }
    const char *argv[] = { "XREADGROUP", "GROUP", REDIS_GROUP, consumer, "COUNT", count, "BLOCK",
                           block, "STREAMS", s->stream, ">" };
    n = read_entries(s, READ_NEW, 11, argv, max, fn, ctx);
    if (n < 0)
        sleep_ms(200);
    return n;
}

/* ---- status ---------------------------------------------------------------------------------- */

/* A status poll reads a finished result in two round trips. First its length (STRLEN) and the
 * existence of the job's key (EXISTS: the job's text may be as long as the result, and both texts
 * in one answer would go past the connection's reply bound, which holds one sealed text), so that
 * the caller's size gate can refuse the result before a byte of it moves. Then, once admitted, at
 * most that many bytes: GETRANGE 0 len-1 and STRLEN again, in one MULTI/EXEC (atomic), read
 * within len + RESULT_READ_FRAMING bytes, so that a server sending more than it announced is cut
 * off there (the connection fails as for any reply over the bound). A result deleted in between
 * (expired) is missing, as if the first answer had not seen it; one that changed length (a job
 * run twice writes its result again) is not used: the poll answers "unavailable" and the next one
 * reads the new length. */
#define RESULT_READ_FRAMING 256   /* MULTI's, GETRANGE's, STRLEN's and EXEC's bytes besides the text */

/* result_length asks for the length of rkey's text (0: no result; an empty text is none either)
 * and whether jkey exists. Returns 0, or -1 when Redis cannot be asked or answers oddly. */
static int result_length(struct redis_store *s, const char *rkey, const char *jkey,
                         long long *stored, bool *job_known)
{
    const char *length[] = { "STRLEN", rkey }, *exists[] = { "EXISTS", jkey };
    size_t length_lens[] = { 6, strlen(rkey) }, exists_lens[] = { 6, strlen(jkey) };
    const struct redis_cmd cmds[2] = { { 2, length, length_lens }, { 2, exists, exists_lens } };
    redisReply *replies[2] = { NULL, NULL };
    char reason[256];
    if (redis_pool_run(s->pool, REDIS_SLOT_ANY, 2, cmds, replies, reason, sizeof reason) < 0)
        return -1;
    int rc = -1;
    if (redis_reply_ok(replies[0], REDIS_REPLY_INTEGER) && replies[0]->integer >= 0 &&
        redis_reply_ok(replies[1], REDIS_REPLY_INTEGER)) {
        *stored = replies[0]->integer;
        *job_known = replies[1]->integer > 0;
        rc = 0;
    } else {
        log_error("store: unexpected reply to STRLEN or EXISTS");
    }
    freeReplyObject(replies[0]);
    freeReplyObject(replies[1]);
    return rc;
}

/* read_result reads rkey's text, announced `len` bytes long, taking no more than that: 1 with
 * *text (EXEC's answer, caller frees; the text is its first element), 0 when it is gone, -1 when
 * Redis cannot be asked, or its answer does not match what it announced. */
static int read_result(struct redis_store *s, const char *uid, const char *rkey, size_t len,
                       redisReply **text)
{
    char last[24];
    snprintf(last, sizeof last, "%zu", len - 1);
    const char *multi[] = { "MULTI" }, *range[] = { "GETRANGE", rkey, "0", last },
               *length[] = { "STRLEN", rkey }, *exec[] = { "EXEC" };
    size_t multi_len[] = { 5 }, range_lens[] = { 8, strlen(rkey), 1, strlen(last) },
           length_lens[] = { 6, strlen(rkey) }, exec_len[] = { 4 };
    const struct redis_cmd cmds[4] = { { 1, multi, multi_len }, { 4, range, range_lens },
                                       { 2, length, length_lens }, { 1, exec, exec_len } };
    redisReply *replies[4] = { NULL, NULL, NULL, NULL };
    char reason[256];
    if (redis_pool_run_within(s->pool, REDIS_SLOT_ANY, 4, cmds, len + RESULT_READ_FRAMING,
                              replies, reason, sizeof reason) < 0)
        return -1;   /* logged by the pool (a reply over the bound included) */
    for (size_t k = 0; k < 3; k++)
        freeReplyObject(replies[k]);
    redisReply *r = replies[3];
    const redisReply *got = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0]
                                                                                  : NULL;
    const redisReply *now = got ? r->element[1] : NULL;
    int rc = -1;
    if (!got || !now || got->type != REDIS_REPLY_STRING || now->type != REDIS_REPLY_INTEGER) {
        log_error("store: unexpected reply reading result %s: %.200s", uid,
                  r && r->type == REDIS_REPLY_ERROR ? r->str : "not GETRANGE's and STRLEN's");
    } else if ((size_t)got->len > len) {
        log_error("store: redis sent %zu bytes of result %s where %zu were asked: not used",
                  (size_t)got->len, uid, len);
    } else if (got->len == 0 && now->integer == 0) {
        rc = 0;
    } else if (now->integer < 0 || (unsigned long long)now->integer != (size_t)got->len) {
        log_warn("store: result %s changed while read (%lld bytes, %zu announced): not used, "
                 "the next lookup reads it again", uid, now->integer, len);
    } else {
        rc = 1;
    }
    if (rc == 1)
        *text = r;
    else
        freeReplyObject(r);
    return rc;
}

static int rs_lookup(struct store *base, const char *uid, time_t finished_near,
                     const struct store_size_gate *gate, store_result_fn fn, void *ctx)
{
    (void)finished_near;    /* read by key */
    struct redis_store *s = RS(base);
    char rkey[REDIS_KEY_MAX], jkey[REDIS_KEY_MAX];
    redis_key(rkey, sizeof rkey, s->prefix, "result:", uid);
    redis_key(jkey, sizeof jkey, s->prefix, "job:", uid);
    long long stored = 0;
    bool job_known = false;
    if (result_length(s, rkey, jkey, &stored, &job_known) < 0)
        return STORE_LOOKUP_UNAVAILABLE;
    int missing = job_known ? STORE_LOOKUP_PENDING : STORE_LOOKUP_UNKNOWN;
    if (stored == 0)
        return missing;
    if (stored > REDIS_MAX_TEXT) {
        log_warn("store: result %s is %lld bytes, more than the %u a worker reads; unknown", uid,
                 stored, REDIS_MAX_TEXT);
        return missing;
    }
    if (gate && !gate->admit(gate->ctx, (size_t)stored))
        return STORE_LOOKUP_REFUSED;
    redisReply *text = NULL;
    int got = read_result(s, uid, rkey, (size_t)stored, &text);
    if (got <= 0)
        return got < 0 ? STORE_LOOKUP_UNAVAILABLE : missing;
    char label[96];
    label_for(label, sizeof label, LABEL_RESULT, uid);
    uint8_t *row = NULL;
    size_t row_len = 0;
    const redisReply *t = text->element[0];
    int opened = s->sealer.open(s->sealer.ctx, label, t->str, (size_t)t->len, &row, &row_len);
    freeReplyObject(text);   /* done with before the result is copied out */
    int rc;
    if (opened == 0 && result_row_deliver(uid, time(NULL), row, row_len, fn, ctx) >= 0) {
        rc = STORE_LOOKUP_FINISHED;
    } else {
        log_warn("store: result %s cannot be opened (another fleet's keys?); unknown", uid);
        rc = STORE_LOOKUP_UNKNOWN;
    }
    if (row)
        crypto_wipe(row, row_len);
    free(row);
    return rc;
}

static int rs_health(struct store *base, char *reason, size_t reasonlen)
{
    struct redis_store *s = RS(base);
    if (redis_pool_health(s->pool, reason, reasonlen) < 0)
        return -1;
    snprintf(reason, reasonlen, "ok");
    return 0;
}

static int rs_counts(struct store *base, struct store_counts *out)
{
    struct redis_store *s = RS(base);
    out->jobs = out->results = out->nonces = -1;
    const char *argv[] = { "XLEN", s->stream };
    size_t lens[] = { 4, strlen(s->stream) };
    char reason[256];
    redisReply *r = redis_pool_command(s->pool, reason, sizeof reason, 2, argv, lens);
    int rc = -1;
    if (redis_reply_ok(r, REDIS_REPLY_INTEGER)) {
        out->jobs = (long)r->integer;
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

/* ---- opening and closing --------------------------------------------------------------------- */

static void rs_close(struct store *base)
{
    struct redis_store *s = RS(base);
    if (s->writer_started) {
        pthread_mutex_lock(&s->write_lock);
        s->stop = true;
        pthread_cond_signal(&s->write_wake);
        pthread_mutex_unlock(&s->write_lock);
        pthread_join(s->writer, NULL);
        /* Results not written yet: Redis gets CLOSE_FLUSH_WAIT_MS to take them (it may be
         * restarting), else their jobs run again on another worker. */
        long long give_up = mono_ms() + CLOSE_FLUSH_WAIT_MS;
        int rc = rs_flush(base);
        if (rc < 0 && s->head)
            log_warn("store: waiting up to %d s for redis to store %zu results",
                     CLOSE_FLUSH_WAIT_MS / 1000, s->pending_count);
        while (rc < 0 && s->head && pause_for_redis(s, give_up))
            rc = rs_flush(base);
        if (rc < 0 && s->head)
            log_warn("store: %zu results could not be written before exit; their jobs stay "
                     "pending and another worker runs them again", s->pending_count);
    }
    free_pending(s->head);
    while (s->inflight) {
        struct inflight *next = s->inflight->next;
        free(s->inflight);
        s->inflight = next;
    }
    redis_pool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->write_lock);
    pthread_cond_destroy(&s->write_wake);
    pthread_cond_destroy(&s->write_done);
    free(s);
}

static const struct store_ops redis_ops = {
    .name = "redis",
    .shared = true,
    .close = rs_close,
    .admit = rs_admit,
    .nonce_seen = rs_nonce_seen,
    .finish = rs_finish,
    .flush = rs_flush,
    .take = rs_take,
    .lookup = rs_lookup,
    .health = rs_health,
    .counts = rs_counts,
};

struct store *store_redis_open(const struct store_params *params, char *err, size_t errlen)
{
    struct redis_url url;
    if (redis_url_parse(params->url, &url, err, errlen) < 0)
        return NULL;
    const char *prefix = params->redis_prefix ? params->redis_prefix : "tee-worker:";
    if (!redis_prefix_valid(prefix)) {
        snprintf(err, errlen, "STORE_REDIS_PREFIX: expected 1 to %d printable characters without "
                 "spaces", REDIS_PREFIX_MAX);
        crypto_wipe(&url, sizeof url);
        return NULL;
    }
    if (!params->sealer || !params->sealer->seal || !params->sealer->open ||
        !params->sealer->ready) {
        snprintf(err, errlen, "the redis store needs the key ring to seal with");
        crypto_wipe(&url, sizeof url);
        return NULL;
    }
    struct redis_store *s = calloc(1, sizeof *s);
    if (s)
        s->pool = redis_pool_new(&url, 3000 + 1000, REDIS_REPLY_MAX);
    char url_host[sizeof url.host];
    memcpy(url_host, url.host, sizeof url_host);
    int url_port = url.port, url_db = url.db;
    bool has_password = url.password[0] != '\0';
    crypto_wipe(&url, sizeof url);
    if (!s || !s->pool) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &redis_ops;
    s->sealer = *params->sealer;
    snprintf(s->prefix, sizeof s->prefix, "%s", prefix);
    redis_key(s->stream, sizeof s->stream, s->prefix, REDIS_STREAM, NULL);
    s->claim_after_s = params->claim_after_s ? params->claim_after_s : 60;
    s->result_ttl_s = params->result_ttl_s ? params->result_ttl_s : 600;
    s->queue_max = params->queue_max ? params->queue_max : 10000;
    s->max_jobs = params->max_jobs ? params->max_jobs : 10;
    snprintf(s->claim_cursor, sizeof s->claim_cursor, "0-0");
    snprintf(s->own_cursor, sizeof s->own_cursor, "0-0");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_cond_init(&s->write_wake, NULL);
    pthread_cond_init(&s->write_done, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the store writer thread");
        rs_close(&s->base);
        return NULL;
    }
    s->writer_started = true;
    log_info("store: redis %s:%d db %d%s, keys prefixed \"%s\", jobs taken over after %u s idle",
             url_host, url_port, url_db, has_password ? " (AUTH)" : "", s->prefix, s->claim_after_s);
    char reason[256];
    if (ensure_group(s, reason, sizeof reason) < 0)
        log_warn("store: %s; the worker starts not ready and keeps trying", reason);
    return &s->base;
}
