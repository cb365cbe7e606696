/* store.h - the worker's durable state in one SQLite database (DATA_DIR/tee-worker.db, WAL).
 *
 * Tables: accepted jobs not yet finished (sealed), finished results (sealed), seen nonces with
 * their expiry, the worker's secrets (key ring, worker id; sealed), and a schema version. Nothing else in the worker speaks SQL. Sealing uses a key
 * derived from the platform root key (PLATFORM_LABEL_STORE), so the database file reveals no job,
 * result or nonce (nonces are kept as truncated SHA-256 digests).
 *
 * Guarantees: a job is in the database before /job/add answers 200 (store_admit commits), and it
 * leaves only in the same transaction that stores its result (store_finish, batched). With DURABILITY=normal
 * (WAL, synchronous=NORMAL) a committed transaction survives a crash or kill -9 of the process;
 * DURABILITY=full (synchronous=FULL) also survives power loss, at the cost of an fsync per commit.
 * Thread-safe: one connection behind one mutex; statements are prepared once. */
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

/* store_open opens (creating or migrating) DATA_DIR/tee-worker.db. A corrupt, foreign or
 * unwritable database is an error with a clear message, never replaced. */
struct store *store_open(const struct platform *p, bool full_durability, char *err, size_t errlen);
void store_close(struct store *s);

/* store_admit records the nonce (until nonce_expires) and the job in one transaction.
 * Returns 1 when admitted, 0 when the nonce is already recorded and not expired (nothing
 * written), -1 on a storage error. */
int store_admit(struct store *s, const char *quote, size_t quote_len, time_t nonce_expires,
                const char *uid, const char *job_json, size_t job_len);

/* store_nonce_seen: 1 when quote is recorded and not expired at now, 0 when not, -1 on error. */
int store_nonce_seen(struct store *s, const char *quote, size_t quote_len, time_t now);

/* store_finish queues the outcome of uid for the batch writer, which stores it and removes the
 * job row in one transaction, together with the other results finished in the same few
 * milliseconds (one commit per batch, not per job). Until that commit the job row is still there:
 * a crash in between runs the job again after the restart, nothing is lost. data/next_cursor on
 * success, error on failure (exactly one of data or error non-NULL). Returns 0, or -1 on OOM. */
int store_finish(struct store *s, const char *uid, const char *quote, size_t quote_len,
                 const char *data, size_t data_len, const char *next_cursor, const char *error,
                 time_t finished_at);

/* store_flush commits the queued results now (tests, shutdown). Returns 0 or -1. */
int store_flush(struct store *s);

/* store_drop_job removes a job row (admission rolled back). */
void store_drop_job(struct store *s, const char *uid);

/* Recovery at start-up. Callbacks return 0 to go on. */
typedef int (*store_job_fn)(void *ctx, const char *uid, const char *job_json, size_t job_len);
typedef int (*store_result_fn)(void *ctx, const char *uid, const char *quote, size_t quote_len,
                               const char *data, size_t data_len, const char *next_cursor,
                               const char *error, time_t finished_at);

/* store_each_job calls fn for every unfinished job in admission order. Returns the count or -1. */
long store_each_job(struct store *s, store_job_fn fn, void *ctx);

/* store_each_result calls fn for the newest `limit` results finished at or after `since`, oldest
 * first. Returns the count or -1. */
long store_each_result(struct store *s, time_t since, size_t limit, store_result_fn fn, void *ctx);

/* store_prune deletes expired nonces (expiry < now), results finished before result_since, and
 * results beyond the newest max_results. Returns rows deleted or -1. */
long store_prune(struct store *s, time_t now, time_t result_since, size_t max_results);

/* store_secrets fills out with the store's secrets table (the key ring, the worker id), sealed
 * under the store key with the secret's purpose and name as AAD. */
struct secret_store;
void store_secrets(struct store *s, struct secret_store *out);

/* Row counts (metrics, tests). */
struct store_counts {
    long jobs, results, nonces;
};
int store_counts(struct store *s, struct store_counts *out);

#endif
