/* results.c - job states, and finished results kept until too old or pushed out (see results.h).
 *
 * Every entry lives in a chained hash table keyed by the 16 bytes of its uid (the 36-character
 * text is parsed once; either hex case names the same job). The table doubles when it holds more
 * entries than buckets, so chains stay short whatever the number of pending jobs; it never
 * shrinks (its size follows the peak of pending + finished entries, both bounded).
 *
 * Finished entries holding their outcome (done or failed) are also on a doubly linked LRU list,
 * most recent first: a finish or a read moves the entry to the front. Each holds outcome_bytes
 * (data, cursor, error text, quote), summed in finished_bytes; while that sum is above max_bytes
 * the back of the list lets its outcome go and moves, as "in store", to a second list, oldest
 * last (an outcome larger than max_bytes by itself goes there at once, pushing no other out).
 * In-store entries are never refreshed, so they are all less recently used than the held ones:
 * when more than max_size entries are finished, the oldest in-store entry goes first, then the
 * back of the LRU list. Age is counted from the finish, not the last read, so a result polled
 * constantly still expires max_age_s seconds after its job ended; an entry is expired when it is
 * more than max_age_s seconds old. Expired entries are deleted when read (results_get) or swept
 * (results_sweep, which walks the finished lists only). Queued and running entries are never on
 * a list and never evicted.
 *
 * An entry and its quote are one allocation; the outcome strings are copied in by results_finish
 * (or taken, by results_finish_take) before the lock is taken, so the lock covers only pointer
 * moves. results_get copies the small strings under the lock (the caller may outlive the entry)
 * and shares the data, which is reference-counted. Every operation but results_sweep is O(1) expected. */
#include "jobs/results.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/memdup.h"
#include "util/uuid_util.h"

#define UID_BYTES 16
#define MIN_BUCKETS 16

struct result_entry {
    struct result_entry *chain;         /* next in the hash bucket */
    struct result_entry *newer, *older; /* list neighbours (finished entries only) */
    uint8_t uid[UID_BYTES];
    enum result_state state;
    time_t finished_at;
    struct result_blob *data;           /* DONE: shared with the views handed out */
    char *error;                        /* FAILED */
    char *next_cursor;                  /* DONE, optional */
    size_t outcome_bytes;               /* finished and held: counted in finished_bytes */
    size_t quote_len;
    char quote[];                       /* quote_len bytes + NUL */
};

/* A list of finished entries, newest first. */
struct entry_list {
    struct result_entry *newest, *oldest;
};

struct results {
    pthread_mutex_t lock;
    struct result_entry **buckets;
    size_t bucket_count;                /* a power of two */
    size_t entry_count;
    size_t finished_count;              /* held + in store */
    size_t finished_bytes;              /* outcome_bytes of the held entries */
    struct entry_list held;             /* LRU list of finished entries holding their outcome */
    struct entry_list in_store;         /* RESULT_IN_STORE entries, in the order they left */
    size_t max_size;
    size_t max_bytes;
    time_t max_age_s;
    time_t (*now_fn)(void);
};

/* ---- hash table -------------------------------------------------------------------------- */

static size_t bucket_of(const uint8_t uid[UID_BYTES], size_t bucket_count)
{
    uint64_t a, b;
    memcpy(&a, uid, 8);
    memcpy(&b, uid + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    return (size_t)(h >> 32) & (bucket_count - 1);
}

static struct result_entry **slot_of(struct results *r, const uint8_t uid[UID_BYTES])
{
    struct result_entry **link = &r->buckets[bucket_of(uid, r->bucket_count)];
    while (*link && memcmp((*link)->uid, uid, UID_BYTES) != 0)
        link = &(*link)->chain;
    return link;
}

static struct result_entry *find(struct results *r, const uint8_t uid[UID_BYTES])
{
    return *slot_of(r, uid);
}

/* grow_table doubles the bucket array; on OOM the table keeps working with longer chains. */
static void grow_table(struct results *r)
{
    size_t count = r->bucket_count * 2;
    struct result_entry **buckets = calloc(count, sizeof *buckets);
    if (!buckets)
        return;
    for (size_t i = 0; i < r->bucket_count; i++) {
        struct result_entry *e = r->buckets[i];
        while (e) {
            struct result_entry *next = e->chain;
            size_t b = bucket_of(e->uid, count);
            e->chain = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(r->buckets);
    r->buckets = buckets;
    r->bucket_count = count;
}

static void table_insert(struct results *r, struct result_entry *e)
{
    if (r->entry_count >= r->bucket_count)
        grow_table(r);
    size_t b = bucket_of(e->uid, r->bucket_count);
    e->chain = r->buckets[b];
    r->buckets[b] = e;
    r->entry_count++;
}

static void table_unlink(struct results *r, struct result_entry *e)
{
    struct result_entry **link = slot_of(r, e->uid);
    *link = e->chain;
    r->entry_count--;
}

/* ---- lists of finished entries ----------------------------------------------------------- */

static bool is_finished(const struct result_entry *e)
{
    return e->state == RESULT_DONE || e->state == RESULT_FAILED || e->state == RESULT_IN_STORE;
}

static struct entry_list *list_of(struct results *r, const struct result_entry *e)
{
    return e->state == RESULT_IN_STORE ? &r->in_store : &r->held;
}

static void list_unlink(struct entry_list *l, struct result_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void list_push_newest(struct entry_list *l, struct result_entry *e)
{
    e->newer = NULL;
    e->older = l->newest;
    if (l->newest)
        l->newest->newer = e;
    else
        l->oldest = e;
    l->newest = e;
}

/* unlink_finished takes a finished e off its list and out of the counts. */
static void unlink_finished(struct results *r, struct result_entry *e)
{
    list_unlink(list_of(r, e), e);
    r->finished_count--;
    r->finished_bytes -= e->outcome_bytes;
    e->outcome_bytes = 0;
}

/* ---- result data, shared -------------------------------------------------------------------
 *
 * A finished job's data can be large (a web crawl: a megabyte or more) and is read by every
 * /job/status poll. Entries and views share one reference-counted copy: a read takes a reference
 * under the lock instead of copying the bytes, and the last holder frees them. */

struct result_blob {
    atomic_size_t refs;
    size_t len;
    char *bytes;                        /* len bytes + NUL */
};

/* blob_take wraps bytes (malloc'd, len bytes + NUL); NULL on OOM (bytes then still the caller's). */
static struct result_blob *blob_take(char *bytes, size_t len)
{
    struct result_blob *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    b->bytes = bytes;
    return b;
}

static void blob_unref(struct result_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b->bytes);
        free(b);
    }
}

int result_view_copy_data(struct result_view *v, const char *data, size_t len)
{
    char *bytes = memdup_z(data, len);
    if (!bytes)
        return -1;
    struct result_blob *b = blob_take(bytes, len);
    if (!b) {
        free(bytes);
        return -1;
    }
    blob_unref(v->data_ref);
    v->data_ref = b;
    v->data = b->bytes;
    v->data_len = len;
    return 0;
}

/* ---- entries ----------------------------------------------------------------------------- */

static void free_outcome(struct result_entry *e)
{
    blob_unref(e->data);
    free(e->error);
    free(e->next_cursor);
    e->data = NULL;
    e->error = e->next_cursor = NULL;
}

/* delete_entry takes e out of the table (and the LRU list when finished) and frees it. */
static void delete_entry(struct results *r, struct result_entry *e)
{
    table_unlink(r, e);
    if (is_finished(e))
        unlink_finished(r, e);
    free_outcome(e);
    free(e);
}

static time_t now(const struct results *r)
{
    return r->now_fn ? r->now_fn() : time(NULL);
}

static bool is_expired(const struct results *r, const struct result_entry *e, time_t t)
{
    return is_finished(e) && t - e->finished_at > r->max_age_s;
}

/* move_to_store lets a held entry's outcome go: it stays finished, as RESULT_IN_STORE. */
static void move_to_store(struct results *r, struct result_entry *e)
{
    unlink_finished(r, e);
    free_outcome(e);
    e->state = RESULT_IN_STORE;
    list_push_newest(&r->in_store, e);
    r->finished_count++;
}

/* evict_beyond_max_size deletes the least recently used entries beyond max_size (in-store ones
 * first). The newest held entry is never one of them (max_size >= 1). */
static void evict_beyond_max_size(struct results *r)
{
    while (r->finished_count > r->max_size)
        delete_entry(r, r->in_store.oldest ? r->in_store.oldest : r->held.oldest);
}

/* evict_beyond_max_bytes lets the least recently used outcomes beyond max_bytes go. */
static void evict_beyond_max_bytes(struct results *r)
{
    while (r->finished_bytes > r->max_bytes && r->held.oldest)
        move_to_store(r, r->held.oldest);
}

/* ---- public API -------------------------------------------------------------------------- */

struct results *results_new(size_t max_size, size_t max_bytes, unsigned max_age_s,
                            time_t (*now_fn)(void))
{
    struct results *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->buckets = calloc(MIN_BUCKETS, sizeof *r->buckets);
    if (!r->buckets) {
        free(r);
        return NULL;
    }
    r->bucket_count = MIN_BUCKETS;
    r->max_size = max_size ? max_size : 1;
    r->max_bytes = max_bytes;
    r->max_age_s = (time_t)max_age_s;
    r->now_fn = now_fn;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void results_free(struct results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->bucket_count; i++) {
        struct result_entry *e = r->buckets[i];
        while (e) {
            struct result_entry *next = e->chain;
            free_outcome(e);
            free(e);
            e = next;
        }
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* results_add_queued: an uid already present is replaced (its old state and outcome dropped).
 * Text that is not a canonical uid cannot be stored and also returns -1. */
int results_add_queued(struct results *r, const char *uid, const char *quote, size_t quote_len)
{
    uint8_t key[UID_BYTES];
    if (!uuid_text_to_bytes(uid, key) || quote_len > SIZE_MAX - sizeof(struct result_entry) - 1)
        return -1;
    struct result_entry *e = calloc(1, sizeof *e + quote_len + 1);
    if (!e)
        return -1;
    memcpy(e->uid, key, UID_BYTES);
    e->state = RESULT_QUEUED;
    e->quote_len = quote_len;
    if (quote_len)
        memcpy(e->quote, quote, quote_len);

    pthread_mutex_lock(&r->lock);
    struct result_entry *old = find(r, key);
    if (old)
        delete_entry(r, old);
    table_insert(r, e);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

/* remove_entry drops uid's entry, whatever its state or only when it is in the store. */
static void remove_entry(struct results *r, const char *uid, bool only_in_store)
{
    uint8_t key[UID_BYTES];
    if (!uuid_text_to_bytes(uid, key))
        return;
    pthread_mutex_lock(&r->lock);
    struct result_entry *e = find(r, key);
    if (e && (!only_in_store || e->state == RESULT_IN_STORE))
        delete_entry(r, e);
    pthread_mutex_unlock(&r->lock);
}

void results_remove(struct results *r, const char *uid)
{
    remove_entry(r, uid, false);
}

/* results_set_running: only a queued entry moves; a finished one keeps its outcome. */
void results_set_running(struct results *r, const char *uid)
{
    uint8_t key[UID_BYTES];
    if (!uuid_text_to_bytes(uid, key))
        return;
    pthread_mutex_lock(&r->lock);
    struct result_entry *e = find(r, key);
    if (e && e->state == RESULT_QUEUED)
        e->state = RESULT_RUNNING;
    pthread_mutex_unlock(&r->lock);
}

/* An outcome copied outside the lock, ready to be moved into an entry. */
struct outcome {
    enum result_state state;
    struct result_blob *data;
    char *error;
    char *next_cursor;
    size_t bytes;               /* data, error and cursor (terminating NULs aside) */
};

static void outcome_free(struct outcome *o)
{
    blob_unref(o->data);
    free(o->error);
    free(o->next_cursor);
}

/* outcome_make fills o; *data (malloc'd, data_len bytes + NUL) is taken when data is not NULL,
 * else copy_from[0..data_len) is copied. On failure nothing is taken. */
static int outcome_make(struct outcome *o, char **data, const char *copy_from, size_t data_len,
                        const char *next_cursor, const char *error)
{
    memset(o, 0, sizeof *o);
    if (error) {
        o->state = RESULT_FAILED;
        o->error = strdup(error);
        o->bytes = strlen(error);
        return o->error ? 0 : -1;
    }
    o->state = RESULT_DONE;
    if (next_cursor && !(o->next_cursor = strdup(next_cursor)))
        return -1;
    char *bytes = data ? *data : memdup_z(copy_from, copy_from ? data_len : 0);
    o->data = bytes ? blob_take(bytes, data || copy_from ? data_len : 0) : NULL;
    if (!o->data) {
        if (!data)
            free(bytes);
        free(o->next_cursor);
        return -1;
    }
    if (data)
        *data = NULL;
    o->bytes = o->data->len + (next_cursor ? strlen(next_cursor) : 0);
    return 0;
}

/* move_outcome_in makes e finished with o's strings (now owned by e), newest in the LRU list,
 * finished at `finished_at` (0: now; never later than now). */
static void move_outcome_in(struct results *r, struct result_entry *e, struct outcome *o,
                            time_t finished_at)
{
    if (is_finished(e))
        unlink_finished(r, e);
    free_outcome(e);
    e->state = o->state;
    e->data = o->data;
    e->error = o->error;
    e->next_cursor = o->next_cursor;
    time_t t = now(r);
    e->finished_at = finished_at && finished_at < t ? finished_at : t;
    e->outcome_bytes = e->quote_len + o->bytes;
    list_push_newest(&r->held, e);
    r->finished_count++;
    r->finished_bytes += e->outcome_bytes;
}

/* results_finish: an unknown uid (never added, removed, evicted) stores nothing and returns 0,
 * since the quote that salts a result is gone with the entry. A finished uid is overwritten and
 * becomes the newest. */
static int finish(struct results *r, const char *uid, char **data, const char *copy_from,
                  size_t data_len, const char *next_cursor, const char *error, time_t finished_at)
{
    uint8_t key[UID_BYTES];
    if (!uuid_text_to_bytes(uid, key))
        return 0;
    struct outcome o;
    if (outcome_make(&o, data, copy_from, data_len, next_cursor, error) < 0)
        return -1;
    pthread_mutex_lock(&r->lock);
    struct result_entry *e = find(r, key);
    if (e) {
        move_outcome_in(r, e, &o, finished_at);
        /* the count first, while e is the newest held entry: moved to the store before, e would
         * be the in-store entry deleted first, its job forgotten as soon as it finished */
        evict_beyond_max_size(r);
        if (e->outcome_bytes > r->max_bytes)
            move_to_store(r, e);    /* alone beyond the bound: pushes no other out */
        evict_beyond_max_bytes(r);
    }
    pthread_mutex_unlock(&r->lock);
    if (!e)
        outcome_free(&o);
    return 0;
}

int results_finish(struct results *r, const char *uid, const char *data, size_t data_len,
                   const char *next_cursor, const char *error)
{
    return finish(r, uid, NULL, data, data_len, next_cursor, error, 0);
}

int results_finish_at(struct results *r, const char *uid, const char *data, size_t data_len,
                      const char *next_cursor, const char *error, time_t finished_at)
{
    return finish(r, uid, NULL, data, data_len, next_cursor, error, finished_at);
}

int results_finish_take(struct results *r, const char *uid, char **data, size_t data_len,
                        const char *next_cursor, const char *error)
{
    if (error || !data || !*data)
        return finish(r, uid, NULL, error ? NULL : "", 0, next_cursor, error, 0);
    return finish(r, uid, data, NULL, data_len, next_cursor, error, 0);
}

static char *copy_string_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *failed = true;
    return c;
}

/* fill_view copies e into out; false on OOM (out is then cleared). An in-store entry gives its
 * state only. */
static bool fill_view(const struct result_entry *e, struct result_view *out)
{
    out->state = e->state;
    if (e->state == RESULT_IN_STORE) {
        out->finished_at = e->finished_at;
        return true;
    }
    out->quote = memdup_z(e->quote, e->quote_len);
    out->quote_len = e->quote_len;
    bool failed = out->quote == NULL;
    if (e->data) {
        atomic_fetch_add(&e->data->refs, 1);
        out->data_ref = e->data;
        out->data = e->data->bytes;
        out->data_len = e->data->len;
    }
    out->error = copy_string_or_null(e->error, &failed);
    out->next_cursor = copy_string_or_null(e->next_cursor, &failed);
    if (failed)
        result_view_free(out);
    return !failed;
}

/* results_get: out may be NULL to ask for the state only. When copying runs out of memory the
 * entry is left as it was and RESULT_UNKNOWN is returned with *out cleared. */
enum result_state results_get(struct results *r, const char *uid, struct result_view *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    uint8_t key[UID_BYTES];
    if (!uuid_text_to_bytes(uid, key))
        return RESULT_UNKNOWN;
    enum result_state state = RESULT_UNKNOWN;
    pthread_mutex_lock(&r->lock);
    struct result_entry *e = find(r, key);
    if (e && is_expired(r, e, now(r))) {
        delete_entry(r, e);
        e = NULL;
    }
    if (e && (e->state == RESULT_DONE || e->state == RESULT_FAILED)) {
        list_unlink(&r->held, e);
        list_push_newest(&r->held, e);
    }
    if (e && (!out || fill_view(e, out)))
        state = e->state;
    pthread_mutex_unlock(&r->lock);
    return state;
}

void results_forget_in_store(struct results *r, const char *uid)
{
    remove_entry(r, uid, true);
}

void result_view_free(struct result_view *v)
{
    if (!v)
        return;
    free(v->quote);
    blob_unref(v->data_ref);
    free(v->error);
    free(v->next_cursor);
    memset(v, 0, sizeof *v);
}

size_t results_sweep(struct results *r)
{
    size_t swept = 0;
    pthread_mutex_lock(&r->lock);
    time_t t = now(r);
    struct entry_list *lists[] = { &r->held, &r->in_store };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct result_entry *e = lists[i]->oldest;
        while (e) {
            struct result_entry *newer = e->newer;
            if (is_expired(r, e, t)) {
                delete_entry(r, e);
                swept++;
            }
            e = newer;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return swept;
}

void results_counts(struct results *r, size_t *finished, size_t *pending, size_t *finished_bytes)
{
    pthread_mutex_lock(&r->lock);
    if (finished)
        *finished = r->finished_count;
    if (pending)
        *pending = r->entry_count - r->finished_count;
    if (finished_bytes)
        *finished_bytes = r->finished_bytes;
    pthread_mutex_unlock(&r->lock);
}
