/* store_sqlite.c - the SQLite backend of store.h: one worker, DATA_DIR/tee-worker.db (or the
 * path after "sqlite:" in STORE_URL).
 *
 * Schema (version 1):
 *   meta(key PRIMARY KEY, value)            schema_version
 *   jobs(seq INTEGER PRIMARY KEY, uid UNIQUE, blob)   accepted, unfinished; seq = admission order
 *   results(uid PRIMARY KEY, finished, blob)          finished jobs, newest kept
 *   nonces(digest PRIMARY KEY, expires) WITHOUT ROWID seen quotes (16-byte SHA-256 prefix)
 * Schema version 2 adds:
 *   secrets(name PRIMARY KEY, blob)                   the key ring, the worker id
 * Schema version 3 rebuilds jobs as jobs(uid PRIMARY KEY, seq, blob) WITHOUT ROWID: one B-tree
 *   instead of a table, a uid index and sqlite_sequence, so an admission writes one page of it, not
 *   three; seq (admission order) comes from a counter kept in memory, max(seq) + 1 at open.
 * Schema version 4 makes the two growing tables append at their right edge, so that a commit
 *   rewrites the same few hot pages instead of scattering into indexes (WAL bytes per job halved):
 *   results(rowid, uid, finished, blob), no index: rowid is the order of completion; age and count
 *     bounds delete a prefix of rowids (finished follows rowid to within a batch).
 *   nonces(rowid, digest) + UNIQUE index nonces_digest: rowid = expires << 24 | n, so the expiry
 *     travels in the index entry (replay look-ups read the index alone) and pruning deletes a
 *     prefix of rowids (rowid < now << 24).
 * Blobs are sealed with platform_seal_bytes under the store key, one AAD label per table.
 * A result is looked up by uid (store_lookup) only when the job server's memory let it go for its
 * byte bound: there being no uid index, among the rows finished near the time the memory has for
 * it (found by bisecting rowids), and failing that by a scan of results from the newest row back.
 * One writer thread commits what waits: admissions handed over with store_admit_async (at once:
 * their HTTP answers wait for the commit; an instant job's comes with its result row instead of
 * its job row) and finished jobs (every few ms), in one transaction,
 * so concurrent admissions share a commit, a WAL write and, with DURABILITY=full, an fsync.
 * Migrations are an array of SQL scripts: version N runs scripts[N-1] inside one transaction. */
#include "store/store_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock_after.h"
#include "util/crypto.h"
#include <sqlite3.h>

#include "cpu_affinity.h"
#include "log.h"
#include "store/sqlite_walbuf.h"
#include "tee/platform.h"
#include "tee/seal.h"

#define LABEL_JOB "tee-worker store job v1"
#define LABEL_RESULT "tee-worker store result v1"
#define NONCE_DIGEST_LEN 16

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE jobs(seq INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,"
    "                  blob BLOB NOT NULL);"
    "CREATE TABLE results(uid TEXT PRIMARY KEY, finished INTEGER NOT NULL, blob BLOB NOT NULL);"
    "CREATE INDEX results_finished ON results(finished);"
    "CREATE TABLE nonces(digest BLOB PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX nonces_expires ON nonces(expires);",
    /* 2 */
    "CREATE TABLE secrets(name TEXT PRIMARY KEY, blob BLOB NOT NULL);",
    /* 3 */
    "CREATE TABLE jobs_v3(uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, blob BLOB NOT NULL)"
    "  WITHOUT ROWID;"
    "INSERT INTO jobs_v3(uid, seq, blob) SELECT uid, seq, blob FROM jobs;"
    "DROP TABLE jobs;"
    "ALTER TABLE jobs_v3 RENAME TO jobs;",
    /* 4 */
    "CREATE TABLE results_v4(uid TEXT NOT NULL, finished INTEGER NOT NULL, blob BLOB NOT NULL);"
    "INSERT INTO results_v4(uid, finished, blob)"
    "  SELECT uid, finished, blob FROM results ORDER BY finished, rowid;"
    "DROP TABLE results;"
    "ALTER TABLE results_v4 RENAME TO results;"
    /* The old index on expires yields the order without a sort; the new index is built at the
     * end, by one sort (in temporary files, see prepare_all): 2M nonces take 9 s, with a peak
     * VmRSS of 11 MB. Expiries outside 0..2^38 cannot be made (issued_at is checked) and are not
     * carried over. */
    "CREATE TABLE nonces_v4(digest BLOB NOT NULL);"
    "INSERT INTO nonces_v4(rowid, digest)"
    "  SELECT (expires << 24) + row_number() OVER (PARTITION BY expires ORDER BY digest) - 1,"
    "         digest"
    "  FROM nonces WHERE expires BETWEEN 0 AND 274877906943 ORDER BY expires, digest;"
    "DROP TABLE nonces;"
    "ALTER TABLE nonces_v4 RENAME TO nonces;"
    "CREATE UNIQUE INDEX nonces_digest ON nonces(digest);",
};
#define MIGRATION_COUNT (sizeof migrations / sizeof migrations[0])

/* A nonce's rowid: its expiry (seconds) in the high bits, a count of the nonces with the same
 * expiry in the low NONCE_SEQ_BITS (16M per second, far above any admission rate). */
#define NONCE_SEQ_BITS 24
#define NONCE_EXPIRES_MAX ((1LL << 38) - 1)     /* year 10680: clamps absurd expiries */

enum stmt_id {
    ST_NONCE_FIND,
    ST_NONCE_LAST,
    ST_NONCE_INSERT,
    ST_NONCE_DROP,
    ST_NONCE_GET,
    ST_JOB_INSERT,
    ST_JOB_DELETE,
    ST_RESULT_PUT,
    ST_JOBS_ALL,
    ST_RESULTS_RECENT,
    ST_RESULTS_FIRST_KEPT,
    ST_RESULTS_LAST,
    ST_PRUNE_NONCES,
    ST_PRUNE_RESULTS,
    ST_SECRET_GET,
    ST_SECRET_PUT,
    ST_SECRET_ADD,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    /* The look-up's statements are prepared on its first use (lookup_stmt): it serves only results
     * memory let go for its byte bound, and a prepared statement holds 2-3 KiB of heap. */
    ST_RESULT_FIND,
    ST_FIRST_LAZY = ST_RESULT_FIND,
    ST_RESULT_FIND_WITHIN,
    ST_RESULT_AT_OR_AFTER,
    ST_RESULTS_FIRST,
    ST_RESULT_GET,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_NONCE_FIND] = "SELECT rowid FROM nonces WHERE digest = ?1",
    [ST_NONCE_LAST] = "SELECT rowid FROM nonces WHERE rowid BETWEEN ?1 AND ?2 "
                      "ORDER BY rowid DESC LIMIT 1",
    [ST_NONCE_INSERT] = "INSERT INTO nonces(rowid, digest) VALUES(?1, ?2)",
    [ST_NONCE_DROP] = "DELETE FROM nonces WHERE rowid = ?1",
    [ST_NONCE_GET] = "SELECT 1 FROM nonces WHERE digest = ?1 AND rowid >= ?2",
    [ST_JOB_INSERT] = "INSERT INTO jobs(uid, seq, blob) VALUES(?1, ?2, ?3)",
    [ST_JOB_DELETE] = "DELETE FROM jobs WHERE uid = ?1",
    /* a job finishes once (its row leaves jobs in the same transaction), so a plain insert */
    [ST_RESULT_PUT] = "INSERT INTO results(uid, finished, blob) VALUES(?1, ?2, ?3)",
    [ST_JOBS_ALL] = "SELECT uid, blob FROM jobs ORDER BY seq",
    [ST_RESULTS_RECENT] = "SELECT uid, finished, blob FROM (SELECT rowid AS r, uid, finished, blob "
                          "FROM results WHERE finished >= ?1 ORDER BY rowid DESC LIMIT ?2) "
                          "ORDER BY r",
    /* the oldest result young enough to keep: everything before it goes */
    [ST_RESULTS_FIRST_KEPT] = "SELECT rowid FROM results WHERE finished >= ?1 "
                              "ORDER BY rowid LIMIT 1",
    [ST_RESULTS_LAST] = "SELECT max(rowid) FROM results",
    /* results has no index on uid (schema 4): a look-up scans from the newest row back, and stops
     * at the first match; length() of a blob reads no overflow page */
    [ST_RESULT_FIND] = "SELECT rowid, length(blob) FROM results WHERE uid = ?1 "
                       "ORDER BY rowid DESC LIMIT 1",
    /* the same within a range of rowids, which SQLite reads alone (rowid is the table's key) */
    [ST_RESULT_FIND_WITHIN] = "SELECT rowid, length(blob) FROM results WHERE uid = ?1 "
                              "AND rowid >= ?2 AND rowid < ?3 ORDER BY rowid DESC LIMIT 1",
    [ST_RESULT_AT_OR_AFTER] = "SELECT finished FROM results WHERE rowid >= ?1 "
                              "ORDER BY rowid LIMIT 1",
    /* min() alone: with max() beside it, SQLite would read every row for them */
    [ST_RESULTS_FIRST] = "SELECT min(rowid) FROM results",
    [ST_RESULT_GET] = "SELECT finished, blob FROM results WHERE rowid = ?1",
    /* Pruning deletes in slices of PRUNE_SLICE rows, each its own transaction: a minute of
     * traffic (100k+ rows) at once made SQLite hold every key to delete in memory (+7 MB of heap
     * that stayed resident) and kept the writer waiting for the whole delete. Both tables are
     * pruned by a prefix of their rowids. */
    [ST_PRUNE_NONCES] = "DELETE FROM nonces WHERE rowid IN (SELECT rowid FROM nonces "
                        "WHERE rowid < ?1 ORDER BY rowid LIMIT ?2)",
    [ST_PRUNE_RESULTS] = "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results "
                         "WHERE rowid < ?1 ORDER BY rowid LIMIT ?2)",
    [ST_SECRET_GET] = "SELECT blob FROM secrets WHERE name = ?1",
    [ST_SECRET_PUT] = "INSERT OR REPLACE INTO secrets(name, blob) VALUES(?1, ?2)",
    [ST_SECRET_ADD] = "INSERT OR IGNORE INTO secrets(name, blob) VALUES(?1, ?2)",
    /* prepared once: sqlite3_exec would compile them again for every transaction */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

/* A finished job waiting for the batch writer. */
struct finished {
    struct finished *next;
    char uid[40];
    time_t finished_at;
    uint8_t *blob;
    size_t blob_len;
};

#define STORE_BATCH_MAX 256       /* commit at once when this many results wait */
#define STORE_BATCH_DELAY_MS 5    /* else at least this often */
/* When a commit fails (disk full, I/O error), its finished jobs wait for the next try, at most
 * this many of them and bytes; beyond that they are let go (their job rows stay, so they run
 * again after a restart). Tries are this far apart while commits fail, unless admissions come. */
#define STORE_RETRY_MAX_ROWS 10000
#define STORE_RETRY_MAX_BYTES (64u << 20)
#define STORE_RETRY_DELAY_MS 1000

struct sqlite_store {
    struct store base;
    sqlite3 *db;
    pthread_mutex_t lock;
    /* results of finished jobs, committed in batches by the writer thread */
    pthread_mutex_t batch_lock;
    pthread_cond_t batch_wake;
    pthread_cond_t batch_done;      /* the writer finished a batch */
    bool batch_writing;             /* the writer holds a batch it has not committed yet */
    pthread_t batch_thread;
    bool batch_started, batch_stop;
    struct finished *batch_head, *batch_tail;
    size_t batch_count;
    bool batch_failing;             /* the last commit of finished jobs failed: retry slowly */
    struct store_admission *adm_head, *adm_tail;   /* admissions for the writer's next commit */
    sqlite3_stmt *stmt[ST_COUNT];
    sqlite3_int64 next_seq;         /* admission order of the next job (under lock) */
    time_t error_logged;            /* errors are logged once a second at most (under lock) */
    unsigned long errors_unlogged;
    uint8_t key[32];
};

static void nonce_digest(const char *quote, size_t len, uint8_t out[NONCE_DIGEST_LEN])
{
    uint8_t full[CRYPTO_SHA256_LEN];
    crypto_sha256(quote, len, full);
    memcpy(out, full, NONCE_DIGEST_LEN);
}

static int exec(struct sqlite_store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("store: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* log_db_error logs the database's last error, with the system's reason for an I/O error ("disk
 * I/O error (File too large)"), at most once a second: a full disk fails every commit, and each
 * would otherwise log a line. Called with lock held (or while the store is not yet shared). */
static void log_db_error(struct sqlite_store *s)
{
    time_t now = time(NULL);
    if (now == s->error_logged) {
        s->errors_unlogged++;
        return;
    }
    int code = sqlite3_extended_errcode(s->db) & 0xff;
    int sys = sqlite3_system_errno(s->db);
    char more[48] = "";
    if (s->errors_unlogged)
        snprintf(more, sizeof more, " (and %lu more errors)", s->errors_unlogged);
    if ((code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) && sys)
        log_error("store: %s (%s)%s", sqlite3_errmsg(s->db), strerror(sys), more);
    else
        log_error("store: %s%s", sqlite3_errmsg(s->db), more);
    s->error_logged = now;
    s->errors_unlogged = 0;
}

/* step_done runs a statement to completion and resets it. Returns 0 or -1. */
static int step_done(struct sqlite_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        log_db_error(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}


/* step_int runs a prepared statement for its first row's first column and resets it. Returns 1
 * (row, *out set), 0 (no row, or a NULL value) or -1 (error). */
static int step_int(struct sqlite_store *s, sqlite3_stmt *st, sqlite3_int64 *out)
{
    int rc = sqlite3_step(st);
    int got = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
        got = 1;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_db_error(s);
        got = -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return got;
}

/* txn runs BEGIN IMMEDIATE, COMMIT or ROLLBACK from its prepared statement. Returns 0 or -1. */
static int txn(struct sqlite_store *s, enum stmt_id id)
{
    return step_done(s, s->stmt[id]);
}

/* end_txn commits (commit true) or rolls back the open transaction. Returns 0 when it committed,
 * else -1 with the transaction gone: after a failed COMMIT, or a statement that failed on an I/O
 * error, SQLite may have rolled back already, and a second ROLLBACK would only log an error. */
static int end_txn(struct sqlite_store *s, bool commit)
{
    if (commit && txn(s, ST_COMMIT) == 0)
        return 0;
    if (!sqlite3_get_autocommit(s->db))
        txn(s, ST_ROLLBACK);
    return -1;
}

static void free_finished(struct finished *list)
{
    while (list) {
        struct finished *next = list->next;
        free(list->blob);
        free(list);
        list = next;
    }
}

static void *batch_writer(void *arg);
static void sq_close(struct store *base);
static int sq_flush(struct store *base);

/* ---- opening, checking, migrating ----------------------------------------------------- */

static int query_int(sqlite3 *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = -1;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int check_integrity(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    const char *verdict = NULL;
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        verdict = (const char *)sqlite3_column_text(st, 0);
    if (!verdict || strcmp(verdict, "ok") != 0) {
        snprintf(err, errlen, "database is corrupt or not a database (%s)",
                 verdict ? verdict : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int schema_version(sqlite3 *db, long long *version, char *err, size_t errlen)
{
    long long tables = 0;
    if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                  &tables) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (tables == 0) {
        long long any = 0;
        query_int(db, "SELECT count(*) FROM sqlite_master", &any);
        if (any > 0) {
            snprintf(err, errlen, "the database holds tables but is not a tee-worker store");
            return -1;
        }
        *version = 0;
        return 0;
    }
    if (query_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                  version) != SQLITE_OK || *version < 1) {
        snprintf(err, errlen, "the store has no valid schema version");
        return -1;
    }
    return 0;
}

static int migrate(struct sqlite_store *s, char *err, size_t errlen)
{
    long long version = 0;
    if (schema_version(s->db, &version, err, errlen) < 0)
        return -1;
    if (version > (long long)MIGRATION_COUNT) {
        snprintf(err, errlen, "the store has schema version %lld, newer than this worker (%zu)",
                 version, MIGRATION_COUNT);
        return -1;
    }
    for (long long v = version; v < (long long)MIGRATION_COUNT; v++) {
        char set[160];
        snprintf(set, sizeof set, "INSERT OR REPLACE INTO meta(key, value) "
                 "VALUES('schema_version', '%lld')", v + 1);
        if (exec(s, "BEGIN IMMEDIATE") < 0 ||
            (v == 0 && exec(s, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value)") < 0) ||
            exec(s, migrations[v]) < 0 || exec(s, set) < 0 || exec(s, "COMMIT") < 0) {
            exec(s, "ROLLBACK");
            snprintf(err, errlen, "migration to schema version %lld failed: %s", v + 1,
                     sqlite3_errmsg(s->db));
            return -1;
        }
        log_info("store: migrated to schema version %lld", v + 1);
    }
    return 0;
}

/* lock_exclusively: one process owns the database. An exclusive lock taken once saves the file
 * locking of every transaction (and the WAL index lives in heap memory, not a shared file), and a
 * second worker on the same DATA_DIR fails at start-up with "database is locked" instead of
 * recovering and running the same unfinished jobs. The mode is set before the database is first
 * read: the first read of a database already in WAL mode opens the WAL, and only a WAL opened in
 * this mode takes the exclusive lock at once (opened before, by the integrity check, it left the
 * database shared with a second worker until this one's first write, for ever after a restart
 * that writes nothing). The lock is taken here, by a first read, not left to the check. */
static int lock_exclusively(struct sqlite_store *s, char *err, size_t errlen)
{
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s, "PRAGMA locking_mode=EXCLUSIVE") < 0) {
        snprintf(err, errlen, "cannot lock the database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    long long ignored = 0;
    int rc = query_int(s->db, "SELECT count(*) FROM sqlite_master", &ignored);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        snprintf(err, errlen, "cannot lock the database: %s (another worker uses this DATA_DIR?)",
                 sqlite3_errstr(rc));
        return -1;
    }
    return 0;   /* any other failure is the integrity check's to report */
}

static int configure(struct sqlite_store *s, bool full, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    const char *mode = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    bool wal = mode && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
        snprintf(err, errlen, "cannot switch the database to WAL mode: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    /* A checkpoint every 4000 WAL pages (≈ 16 MB), not SQLite's 1000: each admission dirties a
     * leaf of the nonce index picked by a hash, so the pages a checkpoint copies into the database
     * are mostly distinct leaves, and a longer interval lets more admissions share each copy
     * (bench/README.md, eleventh session: about 5 % less CPU per job, fewer checkpoint stalls).
     * The size limit keeps the WAL file at its working size between checkpoints (a smaller one
     * would truncate it after each). */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA synchronous=%s; PRAGMA cache_size=-2048;"
             "PRAGMA journal_size_limit=20971520;"
             "PRAGMA wal_autocheckpoint=4000;",
             full ? "FULL" : "NORMAL");
    if (exec(s, pragmas) < 0) {
        snprintf(err, errlen, "cannot configure the database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

static int prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
    /* Temporary tables and sorts in memory from here on; migrations ran with SQLite's temporary
     * files, where the statement journal of a table copy (as large as the table) belongs. */
    if (exec(s, "PRAGMA temp_store=MEMORY") < 0) {
        snprintf(err, errlen, "cannot configure the database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    for (int i = 0; i < ST_FIRST_LAZY; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare statement %d: %s", i, sqlite3_errmsg(s->db));
            return -1;
        }
    long long last = 0;
    if (query_int(s->db, "SELECT coalesce(max(seq), 0) FROM jobs", &last) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the job order: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    s->next_seq = last + 1;
    return 0;
}

static const struct store_ops sqlite_ops;

struct store *store_sqlite_open(const struct platform *p, const char *file, bool full_durability,
                                char *err, size_t errlen)
{
    char path[4096];
    int n = file && *file ? snprintf(path, sizeof path, "%s", file)
                          : snprintf(path, sizeof path, "%s/%s", p->data_dir, STORE_FILE);
    if (n >= (int)sizeof path) {
        snprintf(err, errlen, "store path too long");
        return NULL;
    }
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->batch_lock, NULL);
    pthread_cond_init(&s->batch_wake, NULL);
    pthread_cond_init(&s->batch_done, NULL);
    platform_derive(p, PLATFORM_LABEL_STORE, s->key);
    char why[400] = "";
    /* WAL writes gathered per transaction (sqlite_walbuf.c); the default VFS if that fails */
    const char *vfs = walbuf_register() == SQLITE_OK ? WALBUF_VFS_NAME : NULL;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK)
        snprintf(why, sizeof why, "%s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    else if (lock_exclusively(s, why, sizeof why) == 0 &&
             check_integrity(s->db, why, sizeof why) == 0 &&
             configure(s, full_durability, why, sizeof why) == 0 &&
             migrate(s, why, sizeof why) == 0 && prepare_all(s, why, sizeof why) == 0) {
        /* quick_check read every page of the database into the page cache (up to cache_size):
         * not the working set of the job flow, which reads back the pages it needs */
        sqlite3_db_release_memory(s->db);
        if (pthread_create(&s->batch_thread, NULL, batch_writer, s) == 0) {
            s->batch_started = true;
            return &s->base;
        }
        snprintf(why, sizeof why, "cannot start the store writer thread");
    }
    snprintf(err, errlen, "store %s: %s", path, why);
    sq_close(&s->base);
    return NULL;
}

static void sq_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (!s)
        return;
    if (s->batch_started) {
        pthread_mutex_lock(&s->batch_lock);
        s->batch_stop = true;
        pthread_cond_signal(&s->batch_wake);
        pthread_mutex_unlock(&s->batch_lock);
        pthread_join(s->batch_thread, NULL);
        sq_flush(&s->base);
        if (s->batch_head)
            log_error("store: %zu finished jobs could not be written; they will run again after "
                      "a restart", s->batch_count);
        free_finished(s->batch_head);
    }
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->batch_lock);
    pthread_cond_destroy(&s->batch_wake);
    pthread_cond_destroy(&s->batch_done);
    crypto_wipe(s->key, sizeof s->key);
    free(s);
}

/* ---- sealing rows ---------------------------------------------------------------------- */

/* seal_row returns a new buffer of len + PLATFORM_SEALED_OVERHEAD bytes, or NULL. */
static uint8_t *seal_row(struct sqlite_store *s, const char *label, const void *pt, size_t len)
{
    uint8_t *out = malloc(len + PLATFORM_SEALED_OVERHEAD);
    if (out && platform_seal_bytes(s->key, label, pt, len, out) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* open_row returns the opened bytes (new buffer, NUL-terminated) or NULL when corrupt. A row may
 * hold up to STORE_MAX_BLOB bytes (result_row_encode), so its sealed blob up to the overhead more. */
static uint8_t *open_row(struct sqlite_store *s, const char *label, const void *blob, size_t len,
                         size_t *out_len)
{
    if (len < PLATFORM_SEALED_OVERHEAD || len > STORE_MAX_BLOB + PLATFORM_SEALED_OVERHEAD)
        return NULL;
    size_t n = len - PLATFORM_SEALED_OVERHEAD;
    uint8_t *out = malloc(n + 1);
    if (out && platform_open_bytes(s->key, label, blob, len, out) != 0) {
        free(out);
        return NULL;
    }
    if (out) {
        out[n] = '\0';
        *out_len = n;
    }
    return out;
}

/* ---- admission and completion ---------------------------------------------------------- */

/* nonce_rowid_floor is the smallest rowid of a nonce expiring at `expires` (clamped). */
static sqlite3_int64 nonce_rowid_floor(time_t expires)
{
    long long e = expires < 0 ? 0 : (long long)expires > NONCE_EXPIRES_MAX ? NONCE_EXPIRES_MAX
                                                                           : (long long)expires;
    return (sqlite3_int64)(e << NONCE_SEQ_BITS);
}

/* record_nonce records a nonce expiring at `expires` unless a live one has the same digest; one
 * that expired but is not pruned yet gives way. Returns STORE_ADMITTED, STORE_REPLAY or
 * STORE_ERROR. Inside the caller's transaction (lock held). */
static int record_nonce(struct sqlite_store *s, const uint8_t digest[NONCE_DIGEST_LEN],
                        time_t expires)
{
    sqlite3_int64 old = 0, now_floor = nonce_rowid_floor(time(NULL));
    sqlite3_stmt *find = s->stmt[ST_NONCE_FIND];
    sqlite3_bind_blob(find, 1, digest, NONCE_DIGEST_LEN, SQLITE_STATIC);
    int found = step_int(s, find, &old);
    if (found < 0)
        return STORE_ERROR;
    if (found && old >= now_floor)
        return STORE_REPLAY;
    if (found) {
        sqlite3_stmt *drop = s->stmt[ST_NONCE_DROP];
        sqlite3_bind_int64(drop, 1, old);
        if (step_done(s, drop) < 0)
            return STORE_ERROR;
    }
    sqlite3_int64 lo = nonce_rowid_floor(expires), last = 0;
    sqlite3_int64 hi = lo | ((1LL << NONCE_SEQ_BITS) - 1);
    sqlite3_stmt *q = s->stmt[ST_NONCE_LAST];
    sqlite3_bind_int64(q, 1, lo);
    sqlite3_bind_int64(q, 2, hi);
    int any = step_int(s, q, &last);
    if (any < 0)
        return STORE_ERROR;
    if (any && last == hi) {
        log_error("store: more than %lld admissions expire in the same second",
                  1LL << NONCE_SEQ_BITS);
        return STORE_ERROR;
    }
    sqlite3_stmt *ins = s->stmt[ST_NONCE_INSERT];
    sqlite3_bind_int64(ins, 1, any ? last + 1 : lo);
    sqlite3_bind_blob(ins, 2, digest, NONCE_DIGEST_LEN, SQLITE_STATIC);
    return step_done(s, ins) == 0 ? STORE_ADMITTED : STORE_ERROR;
}

/* put_result adds a finished job's sealed result row (lock held, inside a transaction). */
static int put_result(struct sqlite_store *s, const char *uid, time_t finished_at,
                      const uint8_t *blob, size_t blob_len)
{
    sqlite3_stmt *r = s->stmt[ST_RESULT_PUT];
    sqlite3_bind_text(r, 1, uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r, 2, (sqlite3_int64)finished_at);
    sqlite3_bind_blob(r, 3, blob, (int)blob_len, SQLITE_STATIC);
    return step_done(s, r);
}

/* record_admission records the nonce and, unless it is a replay, the job, inside the caller's
 * transaction (lock held). Returns an enum store_admit_result. */
static int record_admission(struct sqlite_store *s, const uint8_t digest[NONCE_DIGEST_LEN],
                            time_t nonce_expires, const char *uid, const uint8_t *blob,
                            size_t blob_len)
{
    int nonce = record_nonce(s, digest, nonce_expires);
    if (nonce != STORE_ADMITTED)
        return nonce;
    sqlite3_stmt *j = s->stmt[ST_JOB_INSERT];
    sqlite3_bind_text(j, 1, uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(j, 2, s->next_seq++);
    sqlite3_bind_blob(j, 3, blob, (int)blob_len, SQLITE_STATIC);
    return step_done(s, j) == 0 ? STORE_ADMITTED : STORE_ERROR;
}

/* record_async_admission records an admission handed to the writer: its nonce and its job, or
 * for one that came finished its result (lock held, inside a transaction). */
static int record_async_admission(struct sqlite_store *s, const struct store_admission *a)
{
    if (!a->finished)
        return record_admission(s, a->digest, a->nonce_expires, a->uid, a->blob, a->blob_len);
    int nonce = record_nonce(s, a->digest, a->nonce_expires);
    if (nonce != STORE_ADMITTED)
        return nonce;
    return put_result(s, a->uid, a->finished_at, a->blob, a->blob_len) == 0 ? STORE_ADMITTED
                                                                             : STORE_ERROR;
}

static int sq_admit(struct store *base, const char *quote, size_t quote_len, time_t nonce_expires,
                const char *uid, const char *job_json, size_t job_len)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    uint8_t digest[NONCE_DIGEST_LEN];
    nonce_digest(quote, quote_len, digest);
    uint8_t *blob = seal_row(s, LABEL_JOB, job_json, job_len);
    if (!blob)
        return -1;
    int result = STORE_ERROR;
    pthread_mutex_lock(&s->lock);
    if (txn(s, ST_BEGIN) == 0) {
        result = record_admission(s, digest, nonce_expires, uid, blob,
                                  job_len + PLATFORM_SEALED_OVERHEAD);
        if (end_txn(s, result == STORE_ADMITTED) < 0 && result == STORE_ADMITTED)
            result = STORE_ERROR;
    }
    pthread_mutex_unlock(&s->lock);
    free(blob);
    return result;
}

/* seal_result returns the sealed result row of a finished job (*blob_len bytes), or NULL (out of
 * memory, or too large for a row: result_row_encode). */
static uint8_t *seal_result(struct sqlite_store *s, const char *quote, size_t quote_len,
                            const char *data, size_t data_len, const char *next_cursor,
                            const char *error, size_t *blob_len)
{
    size_t len = 0;
    uint8_t *row = result_row_encode(quote, quote_len, data, data_len, next_cursor, error, &len);
    uint8_t *blob = row ? seal_row(s, LABEL_RESULT, row, len) : NULL;
    free(row);
    *blob_len = len + PLATFORM_SEALED_OVERHEAD;
    return blob;
}

/* seal_admission seals what an admission records: its job row, or the result row of one that
 * comes finished. Returns 0 or -1 (out of memory). */
static int seal_admission(struct sqlite_store *s, struct store_admission *a)
{
    const struct store_outcome *o = a->finished;
    if (!o) {
        a->blob = seal_row(s, LABEL_JOB, a->job_json, a->job_len);
        a->blob_len = a->job_len + PLATFORM_SEALED_OVERHEAD;
        return a->blob ? 0 : -1;
    }
    a->blob = seal_result(s, a->quote, a->quote_len, o->data, o->data_len, o->next_cursor,
                          o->error, &a->blob_len);
    a->finished_at = o->finished_at;
    return a->blob ? 0 : -1;
}

static int sq_admit_async(struct store *base, struct store_admission *a)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    nonce_digest(a->quote, a->quote_len, a->digest);
    if (seal_admission(s, a) < 0)
        return -1;
    a->next = NULL;
    a->result = STORE_ERROR;
    cpu_affinity_note_handoff();    /* the writer moves to this thread's core to answer it */
    pthread_mutex_lock(&s->batch_lock);
    bool open = !s->batch_stop;
    if (open) {
        if (s->adm_tail)
            s->adm_tail->next = a;
        else
            s->adm_head = a;
        s->adm_tail = a;
        pthread_cond_signal(&s->batch_wake);
    }
    pthread_mutex_unlock(&s->batch_lock);
    if (!open) {
        free(a->blob);
        a->blob = NULL;
        return -1;
    }
    return 0;
}

static int sq_nonce_seen(struct store *base, const char *quote, size_t quote_len, time_t now)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    uint8_t digest[NONCE_DIGEST_LEN];
    nonce_digest(quote, quote_len, digest);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->stmt[ST_NONCE_GET];
    sqlite3_bind_blob(st, 1, digest, sizeof digest, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, nonce_rowid_floor(now));
    int rc = sqlite3_step(st);
    int seen = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->lock);
    return seen;
}

static int sq_finish(struct store *base, const char *uid, const char *quote, size_t quote_len,
                 const char *data, size_t data_len, const char *next_cursor, const char *error,
                 time_t finished_at)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    size_t blob_len = 0;
    uint8_t *blob = seal_result(s, quote, quote_len, data, data_len, next_cursor, error,
                                &blob_len);
    struct finished *f = blob ? calloc(1, sizeof *f) : NULL;
    if (!f) {
        free(blob);
        return -1;
    }
    snprintf(f->uid, sizeof f->uid, "%s", uid);
    f->finished_at = finished_at;
    f->blob = blob;
    f->blob_len = blob_len;
    pthread_mutex_lock(&s->batch_lock);
    if (s->batch_tail)
        s->batch_tail->next = f;
    else
        s->batch_head = f;
    s->batch_tail = f;
    if (++s->batch_count >= STORE_BATCH_MAX && !s->batch_failing)
        pthread_cond_signal(&s->batch_wake);
    pthread_mutex_unlock(&s->batch_lock);
    return 0;
}

/* keep_for_retry puts the finished jobs of a failed commit back before those that came since,
 * within STORE_RETRY_MAX_ROWS and _BYTES, and lets the rest go. Returns whether commits were
 * already failing; *let_go is how many were let go. */
static bool keep_for_retry(struct sqlite_store *s, struct finished *list, size_t *let_go)
{
    pthread_mutex_lock(&s->batch_lock);
    size_t rows = s->batch_count, bytes = 0;
    for (struct finished *f = s->batch_head; f; f = f->next)
        bytes += f->blob_len;
    struct finished *kept = NULL, *last = NULL, *dropped = NULL;
    *let_go = 0;
    while (list) {
        struct finished *f = list;
        list = f->next;
        if (rows < STORE_RETRY_MAX_ROWS && bytes + f->blob_len <= STORE_RETRY_MAX_BYTES) {
            rows++;
            bytes += f->blob_len;
            f->next = NULL;
            if (last)
                last->next = f;
            else
                kept = f;
            last = f;
        } else {
            f->next = dropped;
            dropped = f;
            (*let_go)++;
        }
    }
    if (last) {
        last->next = s->batch_head;
        if (!s->batch_head)
            s->batch_tail = last;
        s->batch_head = kept;
        s->batch_count = rows;
    }
    bool was_failing = s->batch_failing;
    s->batch_failing = true;
    pthread_mutex_unlock(&s->batch_lock);
    free_finished(dropped);
    return was_failing;
}

/* written_again clears the failing state after a commit of finished jobs went through. */
static void written_again(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->batch_lock);
    bool was_failing = s->batch_failing;
    s->batch_failing = false;
    pthread_mutex_unlock(&s->batch_lock);
    if (was_failing)
        log_info("store: finished jobs are written again");
}

/* write_batch records a list of admissions and a list of finished jobs in one transaction, frees
 * the finished list (or, when the commit fails, keeps it for the writer's next try), and then
 * (lock released) calls each admission's done with its result. */
static int write_batch(struct sqlite_store *s, struct finished *list, struct store_admission *adm)
{
    int rc = -1;
    pthread_mutex_lock(&s->lock);
    if ((list || adm) && txn(s, ST_BEGIN) == 0) {
        rc = 0;
        for (struct store_admission *a = adm; a && rc == 0; a = a->next) {
            a->result = record_async_admission(s, a);
            if (a->result == STORE_ERROR)
                rc = -1;
        }
        for (struct finished *f = list; f && rc == 0; f = f->next) {
            sqlite3_stmt *d = s->stmt[ST_JOB_DELETE];
            sqlite3_bind_text(d, 1, f->uid, -1, SQLITE_STATIC);
            rc = (put_result(s, f->uid, f->finished_at, f->blob, f->blob_len) == 0 &&
                  step_done(s, d) == 0) ? 0 : -1;
        }
        rc = end_txn(s, rc == 0);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0 && list) {
        size_t let_go = 0;
        if (!keep_for_retry(s, list, &let_go))
            log_error("store: finished jobs could not be written; trying again every %d ms",
                      STORE_RETRY_DELAY_MS);
        if (let_go)
            log_error("store: %zu finished jobs are past the retry bound; they will run again "
                      "after a restart", let_go);
    } else if (list) {
        written_again(s);
        free_finished(list);
    }
    while (adm) {
        struct store_admission *next = adm->next;   /* done may free adm */
        if (rc < 0)
            adm->result = STORE_ERROR;
        free(adm->blob);
        adm->blob = NULL;
        adm->done(adm);
        adm = next;
    }
    return rc;
}

/* take_batch detaches the pending lists (caller holds batch_lock). */
static struct finished *take_batch(struct sqlite_store *s, struct store_admission **adm)
{
    struct finished *list = s->batch_head;
    s->batch_head = s->batch_tail = NULL;
    s->batch_count = 0;
    *adm = s->adm_head;
    s->adm_head = s->adm_tail = NULL;
    return list;
}

static int sq_flush(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    pthread_mutex_lock(&s->batch_lock);
    while (s->batch_writing)    /* a batch taken by the writer is committed before we return */
        pthread_cond_wait(&s->batch_done, &s->batch_lock);
    struct store_admission *adm = NULL;
    struct finished *list = take_batch(s, &adm);
    pthread_mutex_unlock(&s->batch_lock);
    return list || adm ? write_batch(s, list, adm) : 0;
}

static void *batch_writer(void *arg)
{
    struct sqlite_store *s = arg;
    pthread_setname_np(pthread_self(), "tw-store");
    cpu_affinity_pin_self("store's writer");    /* HTTP_CPUS: with the HTTP threads it answers */
    pthread_mutex_lock(&s->batch_lock);
    while (!s->batch_stop) {
        /* Admissions are written at once (their HTTP answers wait); results every few ms, or at
         * once when many wait, or with the next admissions. */
        if (!s->adm_head && (s->batch_count < STORE_BATCH_MAX || s->batch_failing)) {
            cond_wait_ms(&s->batch_wake, &s->batch_lock,
                         s->batch_failing ? STORE_RETRY_DELAY_MS : STORE_BATCH_DELAY_MS);
        }
        struct store_admission *adm = NULL;
        struct finished *list = take_batch(s, &adm);
        s->batch_writing = list || adm;
        pthread_mutex_unlock(&s->batch_lock);
        if (adm)
            cpu_affinity_follow();  /* WRITER_FOLLOWS_HTTP: next wake-up on the HTTP thread's core */
        if (list || adm)
            write_batch(s, list, adm);
        pthread_mutex_lock(&s->batch_lock);
        s->batch_writing = false;
        pthread_cond_broadcast(&s->batch_done);
    }
    pthread_mutex_unlock(&s->batch_lock);
    return NULL;
}

static void sq_release_memory(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_db_release_memory(s->db);
    pthread_mutex_unlock(&s->lock);
}

/* ---- recovery -------------------------------------------------------------------------- */

static long sq_each_job(struct store *base, store_job_fn fn, void *ctx)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_flush(&s->base);
    long count = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->stmt[ST_JOBS_ALL];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(st, 0);
        size_t plain_len = 0;
        uint8_t *plain = open_row(s, LABEL_JOB, sqlite3_column_blob(st, 1),
                                  (size_t)sqlite3_column_bytes(st, 1), &plain_len);
        if (!plain || !uid) {
            log_error("store: job %s cannot be opened (corrupt or sealed by another key)",
                      uid ? uid : "?");
            free(plain);
            count = -1;
            break;
        }
        int stop = fn(ctx, uid, (const char *)plain, plain_len);
        free(plain);
        count++;
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        count = -1;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    return count;
}

static long sq_each_result(struct store *base, time_t since, size_t limit, store_result_fn fn, void *ctx)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_flush(&s->base);
    long count = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->stmt[ST_RESULTS_RECENT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(st, 0);
        time_t finished = (time_t)sqlite3_column_int64(st, 1);
        size_t row_len = 0;
        uint8_t *row = open_row(s, LABEL_RESULT, sqlite3_column_blob(st, 2),
                                (size_t)sqlite3_column_bytes(st, 2), &row_len);
        int answer = (row && uid) ? result_row_deliver(uid, finished, row, row_len, fn, ctx) : -1;
        free(row);
        if (answer < 0) {
            log_warn("store: result %s cannot be opened; skipped", uid ? uid : "?");
            continue;
        }
        count++;
        if (answer)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        count = -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->lock);
    return count;
}

/* ---- look-up --------------------------------------------------------------------------- */

/* lookup_stmt: statement id of the look-up, prepared on first use. Caller holds s->lock. NULL
 * (logged) when it cannot be prepared. */
static sqlite3_stmt *lookup_stmt(struct sqlite_store *s, enum stmt_id id)
{
    if (!s->stmt[id] && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                           &s->stmt[id], NULL) != SQLITE_OK) {
        log_db_error(s);
        s->stmt[id] = NULL;
    }
    return s->stmt[id];
}

/* step_found steps st, bound to look for one result, and reads the (rowid, stored length) it
 * finds; resets st. Caller holds s->lock. Returns 1, 0 (none) or -1. */
static int step_found(struct sqlite_store *s, sqlite3_stmt *st, sqlite3_int64 *rowid,
                      size_t *stored)
{
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (found == 1) {
        *rowid = sqlite3_column_int64(st, 0);
        *stored = (size_t)sqlite3_column_int64(st, 1);
    } else if (found < 0)
        log_db_error(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

/* find_result: the rowid and stored length of uid's result. Returns 1, 0 (none) or -1. */
static int find_result(struct sqlite_store *s, const char *uid, sqlite3_int64 *rowid,
                       size_t *stored)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = lookup_stmt(s, ST_RESULT_FIND);
    int found = -1;
    if (st) {
        sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
        found = step_found(s, st, rowid, stored);
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* A result is looked for first among those finished within this many seconds of the time the
 * job server's memory has for it (which it took just after the store's, for the same job). */
#define LOOKUP_NEAR_SECONDS 5

/* first_row_from: the smallest x in [lo, hi] such that the first row at or after rowid x finished
 * at or after t (hi: past the last row), by bisection: finished times rise with rowids (to within
 * a batch, or a clock step: then the row may be missed, never misread). Caller holds s->lock.
 * Returns 0 or -1. */
static int first_row_from(struct sqlite_store *s, time_t t, sqlite3_int64 lo, sqlite3_int64 hi,
                          sqlite3_int64 *x)
{
    sqlite3_stmt *st = lookup_stmt(s, ST_RESULT_AT_OR_AFTER);
    if (!st)
        return -1;
    while (lo < hi) {
        sqlite3_int64 mid = lo + (hi - lo) / 2;
        sqlite3_bind_int64(st, 1, mid);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            log_db_error(s);
            sqlite3_reset(st);
            return -1;
        }
        bool from = rc == SQLITE_DONE || sqlite3_column_int64(st, 0) >= (sqlite3_int64)t;
        sqlite3_reset(st);
        if (from)
            hi = mid;
        else
            lo = mid + 1;
    }
    *x = lo;
    return 0;
}

/* find_result_near is find_result among the rows finished within LOOKUP_NEAR_SECONDS of t: a
 * bisection of rowids and a scan of those rows only, where find_result reads every row newer
 * than the one it looks for (all of them for a row that is gone). Returns 1, 0 (not there) or
 * -1. */
static int find_result_near(struct sqlite_store *s, const char *uid, time_t t,
                            sqlite3_int64 *rowid, size_t *stored)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_int64 first = 0, last = 0;
    sqlite3_stmt *first_st = lookup_stmt(s, ST_RESULTS_FIRST);
    int has_first = first_st ? step_int(s, first_st, &first) : -1;
    int has_last = has_first > 0 ? step_int(s, s->stmt[ST_RESULTS_LAST], &last) : has_first;
    bool any = has_first > 0 && has_last > 0;
    int found = has_first < 0 || has_last < 0 ? -1 : 0;
    sqlite3_int64 lo = 0, hi = 0;
    if (any && (first_row_from(s, t - LOOKUP_NEAR_SECONDS, first, last + 1, &lo) < 0 ||
                first_row_from(s, t + LOOKUP_NEAR_SECONDS + 1, lo, last + 1, &hi) < 0))
        found = -1;
    sqlite3_stmt *st = any && found == 0 && lo < hi ? lookup_stmt(s, ST_RESULT_FIND_WITHIN) : NULL;
    if (st) {
        sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, lo);
        sqlite3_bind_int64(st, 3, hi);
        found = step_found(s, st, rowid, stored);
    } else if (any && found == 0 && lo < hi)
        found = -1;
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* sq_lookup reads uid's result from the results table. The job server asks only for ids its
 * memory let go for RESULT_CACHE_MAX_BYTES (results.h), never for unknown ones, so the scan
 * find_result makes is not paid by every poll of a random id, and the memory's time for the job
 * (finished_near) narrows the search to the rows of that time first: a scan from the newest row
 * back costs ~0.1 us a row under the store's lock (1.4 s at 10M rows, RESULT_CACHE_MAX_SIZE's
 * bound), for every poll of an old result. A result still waiting for the writer is committed
 * first. The size gate sees, before the row is read, what the answer made of it takes: the row is
 * stored as binary, the answer seals (at most) its bytes as text. */
static int sq_lookup(struct store *base, const char *uid, time_t finished_near,
                     const struct store_size_gate *gate, store_result_fn fn, void *ctx)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_flush(&s->base);
    sqlite3_int64 rowid = 0;
    size_t stored = 0;
    int found = finished_near > 0 ? find_result_near(s, uid, finished_near, &rowid, &stored) : 0;
    if (found == 0)     /* not among the rows of its time (or no time given): all of them */
        found = find_result(s, uid, &rowid, &stored);
    if (found <= 0)
        return found < 0 ? STORE_LOOKUP_UNAVAILABLE : STORE_LOOKUP_UNKNOWN;
    if (stored > STORE_MAX_BLOB + PLATFORM_SEALED_OVERHEAD) {
        log_warn("store: result %s is %zu bytes, more than a row holds; unknown", uid, stored);
        return STORE_LOOKUP_UNKNOWN;
    }
    if (gate && !gate->admit(gate->ctx, seal_sealed_len(stored)))
        return STORE_LOOKUP_REFUSED;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = lookup_stmt(s, ST_RESULT_GET);
    if (!st) {
        pthread_mutex_unlock(&s->lock);
        return STORE_LOOKUP_UNAVAILABLE;
    }
    sqlite3_bind_int64(st, 1, rowid);
    int rc = sqlite3_step(st);
    time_t finished = 0;
    uint8_t *row = NULL;
    size_t row_len = 0;
    if (rc == SQLITE_ROW) {
        finished = (time_t)sqlite3_column_int64(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        row = len <= stored ? open_row(s, LABEL_RESULT, sqlite3_column_blob(st, 1), len, &row_len)
                            : NULL;
    } else if (rc != SQLITE_DONE)
        log_db_error(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != SQLITE_ROW)   /* pruned since it was found */
        return rc == SQLITE_DONE ? STORE_LOOKUP_UNKNOWN : STORE_LOOKUP_UNAVAILABLE;
    int answer = row ? result_row_deliver(uid, finished, row, row_len, fn, ctx) : -1;
    if (row)
        crypto_wipe(row, row_len);
    free(row);
    if (answer < 0) {
        log_warn("store: result %s cannot be opened; unknown", uid);
        return STORE_LOOKUP_UNKNOWN;
    }
    return STORE_LOOKUP_FINISHED;
}

/* ---- pruning and counts ---------------------------------------------------------------- */

#define PRUNE_SLICE 2000

/* run_delete runs a slice delete until it deletes less than a slice, taking the lock per slice so
 * the writer gets in between. Returns the rows deleted or -1. */
static long run_delete(struct sqlite_store *s, enum stmt_id id, sqlite3_int64 arg)
{
    long total = 0;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        sqlite3_stmt *st = s->stmt[id];
        sqlite3_bind_int64(st, 1, arg);
        sqlite3_bind_int64(st, 2, PRUNE_SLICE);
        int rc = step_done(s, st);
        long n = rc < 0 ? -1 : sqlite3_changes(s->db);
        pthread_mutex_unlock(&s->lock);
        if (n < 0)
            return -1;
        total += n;
        if (n < PRUNE_SLICE)
            return total;
    }
}

/* results_cut is the first rowid of results to keep: none finished before `since`, at most
 * max_results of them. Results are in the order they finished, so the older ones are a prefix.
 * Returns 0 or -1. */
static int results_cut(struct sqlite_store *s, time_t since, size_t max_results,
                       sqlite3_int64 *cut)
{
    sqlite3_int64 last = 0, first_kept = 0;
    pthread_mutex_lock(&s->lock);
    int any = step_int(s, s->stmt[ST_RESULTS_LAST], &last);
    sqlite3_stmt *st = s->stmt[ST_RESULTS_FIRST_KEPT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    int kept = any > 0 ? step_int(s, st, &first_kept) : 0;
    pthread_mutex_unlock(&s->lock);
    if (any < 0 || kept < 0)
        return -1;
    *cut = 0;
    if (any == 0)
        return 0;
    /* rowids are max + 1 at insert and deleted only as a prefix, so the newest max_results rows
     * are those after last - max_results */
    sqlite3_int64 by_count = last - (sqlite3_int64)max_results + 1;
    sqlite3_int64 by_age = kept ? first_kept : last + 1;
    *cut = by_count > by_age ? by_count : by_age;
    return 0;
}

static long sq_prune(struct store *base, time_t now, time_t result_since, size_t max_results)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_flush(&s->base);
    long a = run_delete(s, ST_PRUNE_NONCES, nonce_rowid_floor(now));
    sqlite3_int64 cut = 0;
    long b = results_cut(s, result_since, max_results, &cut) < 0 ? -1
           : run_delete(s, ST_PRUNE_RESULTS, cut);
    return (a < 0 || b < 0) ? -1 : a + b;
}

static int sq_counts(struct store *base, struct store_counts *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_flush(&s->base);
    long long v[3] = { -1, -1, -1 };    /* -1: the count could not be read */
    static const char *const sql[3] = {
        "SELECT count(*) FROM jobs", "SELECT count(*) FROM results", "SELECT count(*) FROM nonces",
    };
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    for (int i = 0; i < 3; i++)
        if (query_int(s->db, sql[i], &v[i]) != SQLITE_OK)
            rc = -1;
    pthread_mutex_unlock(&s->lock);
    out->jobs = (long)v[0];
    out->results = (long)v[1];
    out->nonces = (long)v[2];
    return rc;
}

/* ---- secrets --------------------------------------------------------------------------- */

/* The AAD of a secret binds its purpose and name: a row copied under another name fails to open. */
static void secret_aad(char *out, size_t outlen, const char *name, const char *label)
{
    snprintf(out, outlen, "tee-worker store secret v1|%s|%s", label, name);
}

static int secret_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                      char *err, size_t errlen)
{
    struct sqlite_store *s = ctx;
    char aad[256];
    secret_aad(aad, sizeof aad, name, label);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->stmt[ST_SECRET_GET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int found = 0;
    if (rc == SQLITE_ROW) {
        *data = open_row(s, aad, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                         len);
        found = *data ? 1 : -1;
        if (!*data)
            snprintf(err, errlen, "store secret %s cannot be opened (corrupt or another key)", name);
    } else if (rc != SQLITE_DONE) {
        found = -1;
        snprintf(err, errlen, "store secret %s: %s", name, sqlite3_errmsg(s->db));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->lock);
    return found;
}

static int secret_put(void *ctx, const char *name, const char *label, const uint8_t *data,
                      size_t len, bool replace, char *err, size_t errlen)
{
    struct sqlite_store *s = ctx;
    char aad[256];
    secret_aad(aad, sizeof aad, name, label);
    uint8_t *blob = seal_row(s, aad, data, len);
    if (!blob) {
        snprintf(err, errlen, "store secret %s: sealing failed", name);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->stmt[replace ? ST_SECRET_PUT : ST_SECRET_ADD];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, blob, (int)(len + PLATFORM_SEALED_OVERHEAD), SQLITE_STATIC);
    int rc = step_done(s, st);
    int changed = sqlite3_changes(s->db);
    if (rc < 0)
        snprintf(err, errlen, "store secret %s: %s", name, sqlite3_errmsg(s->db));
    pthread_mutex_unlock(&s->lock);
    crypto_wipe(blob, len + PLATFORM_SEALED_OVERHEAD);
    free(blob);
    if (rc < 0)
        return -1;
    return changed ? 0 : 1;
}

static bool sq_secrets(struct store *base, struct secret_store *out)
{
    out->get = secret_get;
    out->put = secret_put;
    out->ctx = base;
    return true;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .shared = false,
    .close = sq_close,
    .admit = sq_admit,
    .admit_async = sq_admit_async,
    .release_memory = sq_release_memory,
    .nonce_seen = sq_nonce_seen,
    .finish = sq_finish,
    .flush = sq_flush,
    .each_job = sq_each_job,
    .each_result = sq_each_result,
    .lookup = sq_lookup,
    .prune = sq_prune,
    .secrets = sq_secrets,
    .counts = sq_counts,
};
