/* store.h - the worker's durable state, behind one interface with two backends.
 *
 *   sqlite: (default)  DATA_DIR/tee-worker.db, one worker (store_sqlite.c)
 *   redis://host:port/db  a fleet of workers sharing queue, results and replay memory (store_redis.c)
 *
 * store_connect picks the backend from STORE_URL; the job server and the API speak only to the
 * functions below. What the backends keep:
 *   - accepted jobs not yet finished (sealed), in admission order;
 *   - results of finished jobs (sealed), for RESULT_CACHE_MAX_AGE_SECONDS;
 *   - seen nonces until their signature expires (as truncated SHA-256 digests);
 *   - sqlite only: the worker's secrets (key ring, worker id). A shared store keeps no secrets:
 *     each worker's stay sealed in its own DATA_DIR (store_secrets returns false).
 *
 * Guarantees: a job is stored before /job/add answers 200 (store_admit commits), and it leaves only
 * together with its result (store_finish). SQLite: with DURABILITY=normal a committed transaction
 * survives a crash or kill -9; DURABILITY=full also survives power loss. Redis: as durable as the
 * server's persistence (appendonly yes + appendfsync always for the same guarantee, README).
 *
 * Jobs of a local store (sqlite) are run by the worker that admitted them: the job server queues
 * them itself. Jobs of a shared store (store_shared) may run on any worker: the job server takes
 * them with store_take when it has a free thread.
 * Thread-safe. */
#ifndef TW_STORE_H
#define TW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct platform;
struct store;

#define STORE_FILE "tee-worker.db"
#define STORE_SCHEMA_VERSION 2
#define STORE_MAX_BLOB (64u * 1024 * 1024)
/* How far the clocks of a fleet's workers may differ. A shared store keeps a nonce this much
 * longer than asked (its expiry is counted on the admitting worker's clock, a signature's age on
 * each worker's own), and /job/add accepts an issued_at this far in the future. */
#define STORE_CLOCK_SKEW_S 300

/* Admission outcomes (store_admit). */
enum store_admit_result {
    STORE_ADMITTED = 1,
    STORE_REPLAY = 0,          /* the nonce is already recorded and not expired; nothing written */
    STORE_ERROR = -1,          /* storage error */
    STORE_FULL = -2,           /* shared store: JOB_QUEUE_MAX jobs wait fleet-wide */
    STORE_UNAVAILABLE = -3,    /* shared store: server unreachable (retry later) */
};

/* How a shared store seals what it writes: with keys every worker of the fleet holds (the key ring).
 * label binds the purpose and the job uid, so a blob copied under another name does not open.
 *   seal: a new NUL-terminated text (caller frees) or NULL
 *   open: 0 with *pt (new buffer, NUL-terminated) and *ptlen, or -1
 *   ready: true when a key is there to seal and open with */
struct store_sealer {
    char *(*seal)(void *ctx, const char *label, const uint8_t *pt, size_t len);
    int (*open)(void *ctx, const char *label, const char *text, size_t len, uint8_t **pt,
                size_t *ptlen);
    bool (*ready)(void *ctx);
    void *ctx;
};

/* What store_connect needs. */
struct store_params {
    const char *url;                 /* STORE_URL: "" or "sqlite:" or "sqlite:PATH" or "redis://..." */
    const struct platform *platform; /* DATA_DIR and the root key (sqlite) */
    bool full_durability;            /* DURABILITY=full (sqlite) */
    const char *redis_prefix;        /* STORE_REDIS_PREFIX: every key starts with it */
    unsigned claim_after_s;          /* redis: a job pending this long on a worker is taken over */
    unsigned result_ttl_s;           /* redis: RESULT_CACHE_MAX_AGE_SECONDS */
    size_t queue_max;                /* redis: JOB_QUEUE_MAX jobs waiting or running fleet-wide */
    size_t max_jobs;                 /* redis: MAX_JOBS (bounds results waiting to be written) */
    const struct store_sealer *sealer; /* redis: copied */
};

/* store_connect opens the store STORE_URL names. Returns NULL with err on failure; a Redis server
 * that does not answer is not a failure (the worker starts not ready and reconnects). */
struct store *store_connect(const struct store_params *params, char *err, size_t errlen);

/* store_open opens (creating or migrating) the SQLite store DATA_DIR/tee-worker.db. A corrupt,
 * foreign or unwritable database is an error with a clear message, never replaced. */
struct store *store_open(const struct platform *p, bool full_durability, char *err, size_t errlen);
void store_close(struct store *s);

/* store_shared: true when jobs admitted here may run on any worker (see the top). */
bool store_shared(struct store *s);

/* store_admit records the nonce (until nonce_expires) and the job in one transaction. Returns an
 * enum store_admit_result. */
int store_admit(struct store *s, const char *quote, size_t quote_len, time_t nonce_expires,
                const char *uid, const char *job_json, size_t job_len);

/* An admission handed to the store's writer (store_admit_async). The caller fills the fields above
 * the line, keeps the struct alive until done runs, and may free what it pointed to as soon as
 * store_admit_async returns. */
struct store_outcome {
    const char *data;           /* a success's bytes (data_len, may be empty), or NULL */
    size_t data_len;
    const char *next_cursor;    /* NULL: none */
    const char *error;          /* a failure's text, or NULL */
    time_t finished_at;
};

struct store_admission {
    const char *quote;
    size_t quote_len;
    time_t nonce_expires;
    char uid[37];
    const char *job_json;
    size_t job_len;
    /* A job that ran already (an instant kind, kind.h) comes with its outcome instead of its
     * text (job_json unused): its result is recorded with the nonce, and no job row is made. */
    const struct store_outcome *finished;
    /* done runs once, on the store's writer thread, after the commit that recorded the job (or
     * failed to): result is an enum store_admit_result. */
    void (*done)(struct store_admission *a);
    /* ---- the store's ---- */
    int result;
    struct store_admission *next;
    uint8_t digest[16];
    uint8_t *blob;              /* the sealed job row, or result row when finished */
    size_t blob_len;
    time_t finished_at;
};

/* store_admit_async records like store_admit, but in the writer's next commit, which it shares
 * with the other admissions and results waiting then (one commit and one WAL write for all, one
 * fsync with DURABILITY=full), and away from the caller's thread (a checkpoint stalls the writer,
 * not the HTTP thread). Returns 0 (a->done will run), or -1 when the store cannot (a shared
 * store, a store closing, out of memory): then call store_admit. */
int store_admit_async(struct store *s, struct store_admission *a);

/* store_admits_async: store_admit_async can succeed (a local store with a writer). */
bool store_admits_async(struct store *s);

/* store_nonce_seen: 1 when quote is recorded and not expired at now, 0 when not, -1 on error. */
int store_nonce_seen(struct store *s, const char *quote, size_t quote_len, time_t now);

/* store_finish stores the outcome of uid and removes the job, in one transaction, batched with the
 * other results finished meanwhile (one commit per batch, not per job). Until that commit the job
 * is still there: a crash in between runs the job again, nothing is lost. data/next_cursor on
 * success, error on failure (exactly one of data or error non-NULL). A result larger than a store
 * keeps (store_result_too_large) finishes the job as failed, with that error, instead of leaving
 * it to run again at every restart (or on every worker of a fleet). Returns 0, 1 when the job was
 * so finished as failed, or -1 on OOM. */
int store_finish(struct store *s, const char *uid, const char *quote, size_t quote_len,
                 const char *data, size_t data_len, const char *next_cursor, const char *error,
                 time_t finished_at);

/* store_result_too_large: true when a result of data_len bytes (with its quote and next_cursor,
 * which may be NULL) is larger than a store keeps (a row of STORE_MAX_BLOB bytes), with the error
 * the job finishes with instead in msg. */
bool store_result_too_large(size_t quote_len, size_t data_len, const char *next_cursor, char *msg,
                            size_t msglen);

/* store_flush commits the queued results now (tests, shutdown). Returns 0 or -1. */
int store_flush(struct store *s);

/* Recovery at start-up, and delivery of shared jobs. Callbacks return 0 to go on; store_take's
 * callback returns non-zero to refuse a job (not taken here: the store does not count it as one
 * of this worker's running jobs). */
typedef int (*store_job_fn)(void *ctx, const char *uid, const char *job_json, size_t job_len);
typedef int (*store_result_fn)(void *ctx, const char *uid, const char *quote, size_t quote_len,
                               const char *data, size_t data_len, const char *next_cursor,
                               const char *error, time_t finished_at);

/* store_each_job calls fn for every unfinished job in admission order (local stores; a shared
 * store delivers its jobs through store_take). Returns the count or -1. */
long store_each_job(struct store *s, store_job_fn fn, void *ctx);

/* store_each_result calls fn for the newest `limit` results finished at or after `since`, oldest
 * first (local stores; a shared store answers store_lookup instead). Returns the count or -1. */
long store_each_result(struct store *s, time_t since, size_t limit, store_result_fn fn, void *ctx);

/* store_take (shared stores) hands up to max jobs to fn, this worker being `consumer`: jobs this
 * consumer had taken before a restart first, then jobs another worker left pending longer than
 * claim_after_s, then new jobs, waiting up to wait_ms for one. A job is this worker's until
 * store_finish for its uid. Returns the number delivered (0 after wait_ms), or -1 when the store
 * is unavailable (after a pause, so a caller may loop). */
int store_take(struct store *s, const char *consumer, size_t max, int wait_ms, store_job_fn fn,
               void *ctx);

/* store_lookup's answers. */
enum store_lookup_result {
    STORE_LOOKUP_FINISHED = 2,     /* fn was called with the result */
    STORE_LOOKUP_PENDING = 1,      /* queued or running somewhere */
    STORE_LOOKUP_UNKNOWN = 0,
    STORE_LOOKUP_UNAVAILABLE = -1, /* store unreachable, or an answer it could not trust */
    STORE_LOOKUP_REFUSED = -2,     /* the size gate refused the result: nothing was read */
};

/* A lookup's size gate: before a store reads a finished result it calls admit with the
 * length of the stored text (what the read brings into memory, and no less than the result's
 * sealed answer: both are the same envelope, the stored one around more; a local store, whose
 * rows are binary, gives the length of its row sealed as an answer). admit false stops the
 * lookup before a byte of the result is read; true promises that many bytes, and the store reads
 * no more (a server sending more is an error). */
struct store_size_gate {
    bool (*admit)(void *ctx, size_t stored_len);
    void *ctx;
};

/* store_lookup looks uid up (a shared store: fleet-wide) and returns an enum store_lookup_result.
 * gate may be NULL (any size is read). A local store looks in its results only (never PENDING):
 * first among those finished within seconds of finished_near (when the job server's memory says
 * when the job finished, else 0), then by a scan of them all; the job server asks it only for
 * results its memory let go (RESULT_IN_STORE). */
int store_lookup(struct store *s, const char *uid, time_t finished_near,
                 const struct store_size_gate *gate, store_result_fn fn, void *ctx);

/* store_prune deletes expired nonces (expiry < now), results finished before result_since, and
 * results beyond the newest max_results (a shared store expires keys by TTL). Returns rows
 * deleted or -1. */
long store_prune(struct store *s, time_t now, time_t result_since, size_t max_results);

/* store_secrets fills out with the store's secrets table (the key ring, the worker id), sealed
 * under the store key with the secret's purpose and name as AAD. Returns false (out untouched)
 * when the store keeps no secrets (shared stores). */
struct secret_store;
bool store_secrets(struct store *s, struct secret_store *out);

/* store_health: 0 when the store answers, else -1 with the reason (for /readyz). */
int store_health(struct store *s, char *reason, size_t reasonlen);

/* Counts (metrics, tests); -1 where a backend cannot count. */
struct store_counts {
    long jobs, results, nonces;
};
int store_counts(struct store *s, struct store_counts *out);

/* store_release_memory gives back what the store caches and reads again on demand (SQLite's page
 * cache): start-up calls it once its reads (checks, recovery) are done, so that an idle worker
 * does not hold the pages they read. */
void store_release_memory(struct store *s);

#endif
