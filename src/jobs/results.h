/* results.h - the state of every job this worker accepted, and the results of finished ones.
 *
 * One hash table keyed by job uid. An entry is created "queued" at admission, becomes "running"
 * when a worker takes it and "done"/"failed" when it finishes. Finished entries are kept in LRU
 * order (a read refreshes), bounded by RESULT_CACHE_MAX_SIZE entries and RESULT_CACHE_MAX_AGE_SECONDS
 * since they finished; the oldest finished entries go first. The outcomes they hold (data, cursor,
 * error text, quote) are bounded by RESULT_CACHE_MAX_BYTES: beyond it the least recently used
 * outcomes leave memory, and their entries stay as "in store" (uid and quote only, still counted
 * and aged as finished) so that only those ids are looked up in the store. Queued/running entries
 * are never evicted (the queue bound limits them). Results are kept in clear inside the worker's
 * memory and sealed at read time, so each poll uses a fresh IV and the current newest key.
 * Thread-safe: one mutex, held only for the table operation. */
#ifndef TW_RESULTS_H
#define TW_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct results;

enum result_state {
    RESULT_UNKNOWN = 0,  /* never seen, expired or evicted */
    RESULT_QUEUED,
    RESULT_RUNNING,
    RESULT_DONE,         /* finished with data */
    RESULT_FAILED,       /* finished with an error text */
    RESULT_IN_STORE,     /* finished; its outcome left memory for the byte bound: ask the store */
};

struct result_blob;

/* What results_get hands out: copies the caller owns, and a reference to the data (release all
 * with result_view_free). */
struct result_view {
    enum result_state state;
    char *quote;        /* the job's quote (salt of the result), quote_len bytes + NUL */
    size_t quote_len;
    const char *data;   /* DONE: the job's data bytes (+ NUL), data_len bytes; read-only, shared */
    size_t data_len;
    struct result_blob *data_ref;   /* the reference that keeps data alive */
    char *error;        /* FAILED: the job error text */
    char *next_cursor;  /* DONE: may be NULL when the job has none */
    time_t finished_at; /* RESULT_IN_STORE: when the job finished (where the store looks first) */
};

/* results_new: max_size >= 1 finished entries, each kept max_age_s seconds, whose outcomes hold
 * at most max_bytes bytes (SIZE_MAX: no byte bound). now_fn returns the current time in seconds
 * (tests pass a fake clock; NULL = time(NULL)). */
struct results *results_new(size_t max_size, size_t max_bytes, unsigned max_age_s,
                            time_t (*now_fn)(void));
void results_free(struct results *r);

/* results_add_queued records uid (36-char text) as queued with its quote. Returns 0 or -1 on OOM. */
int results_add_queued(struct results *r, const char *uid, const char *quote, size_t quote_len);

/* results_remove drops uid whatever its state (used when admission is rolled back). */
void results_remove(struct results *r, const char *uid);

/* results_set_running marks uid running (no-op when unknown). */
void results_set_running(struct results *r, const char *uid);

/* results_finish stores the outcome of uid: on success data (data_len bytes, may be empty) and an
 * optional next_cursor; on failure error != NULL. The strings are copied. Evicts the oldest
 * finished entries beyond max_size, then moves the least recently used outcomes out of memory
 * beyond max_bytes (an outcome larger than max_bytes by itself leaves at once, alone). An unknown
 * uid (removed, evicted) stores nothing: its quote is gone. Returns 0 or -1 on OOM. */
int results_finish(struct results *r, const char *uid, const char *data, size_t data_len,
                   const char *next_cursor, const char *error);

/* results_finish_at is results_finish for a job that finished at `finished_at` (a result restored
 * from the store at start-up): its age counts from then, not from now (a later time counts as now). */
int results_finish_at(struct results *r, const char *uid, const char *data, size_t data_len,
                      const char *next_cursor, const char *error, time_t finished_at);

/* results_finish_take is results_finish taking the data instead of copying it: *data is a malloc'd
 * buffer of data_len bytes followed by a NUL. On success (0) *data is NULL (stored, or freed when
 * the uid is unknown); on failure (-1, OOM) it is left to the caller. With error != NULL, or
 * data or *data NULL (an empty result), nothing is taken. */
int results_finish_take(struct results *r, const char *uid, char **data, size_t data_len,
                        const char *next_cursor, const char *error);

/* results_get fills *out with copies for uid and returns its state (RESULT_UNKNOWN when absent or
 * expired; an expired entry is deleted). A read of a finished entry refreshes its LRU position
 * (not of one RESULT_IN_STORE: *out then holds the state only, the outcome is the store's).
 * out may be NULL to ask for the state only. */
enum result_state results_get(struct results *r, const char *uid, struct result_view *out);
void result_view_free(struct result_view *v);

/* results_forget_in_store deletes uid's entry if it is RESULT_IN_STORE: the store no longer has
 * its outcome (pruned, or never written), so the id is unknown (and answered so from memory). An
 * entry in any other state (finished again meanwhile) is left alone. */
void results_forget_in_store(struct results *r, const char *uid);

/* result_view_copy_data makes v's data a new copy of data (len bytes; a result read from the
 * shared store rather than this worker's table). Returns 0, or -1 on OOM (v unchanged). */
int result_view_copy_data(struct result_view *v, const char *data, size_t len);

/* results_sweep deletes every expired finished entry; returns how many. */
size_t results_sweep(struct results *r);

/* Counts for metrics: finished entries (RESULT_IN_STORE included), queued+running entries, and
 * the bytes the finished outcomes hold in memory (what max_bytes bounds). Any may be NULL. */
void results_counts(struct results *r, size_t *finished, size_t *pending, size_t *finished_bytes);

#endif
