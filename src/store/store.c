/* store.c - chooses the backend from STORE_URL and forwards every call to it (see store.h); also
 * the result-row encoding both backends seal. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"
#include "util/memdup.h"

/* name_store_url puts "STORE_URL: " before the message in err: the file that failed is the one
 * the operator named there, not the default one in DATA_DIR. */
static void name_store_url(char *err, size_t errlen)
{
    static const char tag[] = "STORE_URL: ";
    size_t t = sizeof tag - 1;
    if (!err || errlen <= t)
        return;
    size_t n = strnlen(err, errlen - 1);
    if (n > errlen - 1 - t)
        n = errlen - 1 - t;
    memmove(err + t, err, n);
    memcpy(err, tag, t);
    err[t + n] = '\0';
}

struct store *store_connect(const struct store_params *params, char *err, size_t errlen)
{
    const char *url = params->url ? params->url : "";
    if (!*url || strcmp(url, "sqlite:") == 0)
        return store_sqlite_open(params->platform, NULL, params->full_durability, err, errlen);
    if (strncmp(url, "sqlite:", 7) == 0) {
        struct store *s = store_sqlite_open(params->platform, url + 7, params->full_durability,
                                            err, errlen);
        if (!s)
            name_store_url(err, errlen);
        return s;
    }
    if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "rediss://", 9) == 0)
        return store_redis_open(params, err, errlen);
    /* The value is not quoted: it may hold a password. */
    snprintf(err, errlen, "STORE_URL: expected \"sqlite:[PATH]\" or \"redis://[[USER]:PASSWORD@]HOST"
             "[:PORT][/DB]\" (the value is not shown: it may hold a password)");
    return NULL;
}

struct store *store_open(const struct platform *p, bool full_durability, char *err, size_t errlen)
{
    return store_sqlite_open(p, NULL, full_durability, err, errlen);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

bool store_shared(struct store *s)
{
    return s->ops->shared;
}

int store_admit(struct store *s, const char *quote, size_t quote_len, time_t nonce_expires,
                const char *uid, const char *job_json, size_t job_len)
{
    return s->ops->admit(s, quote, quote_len, nonce_expires, uid, job_json, job_len);
}

int store_admit_async(struct store *s, struct store_admission *a)
{
    return s->ops->admit_async ? s->ops->admit_async(s, a) : -1;
}

bool store_admits_async(struct store *s)
{
    return s->ops->admit_async != NULL;
}

int store_nonce_seen(struct store *s, const char *quote, size_t quote_len, time_t now)
{
    return s->ops->nonce_seen(s, quote, quote_len, now);
}

/* A result row holds a flag, three lengths, the quote, the data (or the error) and the cursor
 * (result_row_encode). */
#define RESULT_ROW_FRAMING 13

bool store_result_too_large(size_t quote_len, size_t data_len, const char *next_cursor, char *msg,
                            size_t msglen)
{
    size_t cursor_len = next_cursor ? strlen(next_cursor) : 0;
    if (quote_len <= STORE_MAX_BLOB && data_len <= STORE_MAX_BLOB &&
        cursor_len <= STORE_MAX_BLOB &&
        RESULT_ROW_FRAMING + quote_len + data_len + cursor_len <= STORE_MAX_BLOB)
        return false;
    snprintf(msg, msglen, "job result too large to keep: %zu bytes (a worker stores at most %u)",
             data_len, STORE_MAX_BLOB - RESULT_ROW_FRAMING);
    return true;
}

int store_finish(struct store *s, const char *uid, const char *quote, size_t quote_len,
                 const char *data, size_t data_len, const char *next_cursor, const char *error,
                 time_t finished_at)
{
    char too_large[160];
    if (!error && store_result_too_large(quote_len, data_len, next_cursor, too_large,
                                         sizeof too_large))
        return s->ops->finish(s, uid, quote, quote_len, NULL, 0, NULL, too_large,
                              finished_at) < 0 ? -1 : 1;
    return s->ops->finish(s, uid, quote, quote_len, data, data_len, next_cursor, error,
                          finished_at);
}

int store_flush(struct store *s)
{
    return s->ops->flush(s);
}

long store_each_job(struct store *s, store_job_fn fn, void *ctx)
{
    return s->ops->each_job ? s->ops->each_job(s, fn, ctx) : 0;
}

long store_each_result(struct store *s, time_t since, size_t limit, store_result_fn fn, void *ctx)
{
    return s->ops->each_result ? s->ops->each_result(s, since, limit, fn, ctx) : 0;
}

int store_take(struct store *s, const char *consumer, size_t max, int wait_ms, store_job_fn fn,
               void *ctx)
{
    return s->ops->take ? s->ops->take(s, consumer, max, wait_ms, fn, ctx) : 0;
}

int store_lookup(struct store *s, const char *uid, time_t finished_near,
                 const struct store_size_gate *gate, store_result_fn fn, void *ctx)
{
    return s->ops->lookup ? s->ops->lookup(s, uid, finished_near, gate, fn, ctx)
                          : STORE_LOOKUP_UNKNOWN;
}

long store_prune(struct store *s, time_t now, time_t result_since, size_t max_results)
{
    return s->ops->prune ? s->ops->prune(s, now, result_since, max_results) : 0;
}

bool store_secrets(struct store *s, struct secret_store *out)
{
    return s->ops->secrets ? s->ops->secrets(s, out) : false;
}

int store_health(struct store *s, char *reason, size_t reasonlen)
{
    if (!s->ops->health) {
        snprintf(reason, reasonlen, "ok");
        return 0;
    }
    return s->ops->health(s, reason, reasonlen);
}

int store_counts(struct store *s, struct store_counts *out)
{
    return s->ops->counts(s, out);
}

void store_release_memory(struct store *s)
{
    if (s->ops->release_memory)
        s->ops->release_memory(s);
}

/* ---- result rows ------------------------------------------------------------------------- */

static void put_u32(uint8_t **p, size_t v)
{
    uint32_t x = (uint32_t)v;
    memcpy(*p, &x, 4);
    *p += 4;
}

static void put_bytes(uint8_t **p, const void *b, size_t n)
{
    put_u32(p, n);
    if (n)
        memcpy(*p, b, n);
    *p += n;
}

uint8_t *result_row_encode(const char *quote, size_t quote_len, const char *data, size_t data_len,
                           const char *next_cursor, const char *error, size_t *len)
{
    const char *body = error ? error : (data ? data : "");
    size_t body_len = error ? strlen(error) : data_len;
    size_t cursor_len = next_cursor ? strlen(next_cursor) : 0;
    if (body_len > STORE_MAX_BLOB || quote_len > STORE_MAX_BLOB || cursor_len > STORE_MAX_BLOB)
        return NULL;
    size_t n = RESULT_ROW_FRAMING + quote_len + body_len + cursor_len;
    if (n > STORE_MAX_BLOB)
        return NULL;
    uint8_t *row = malloc(n);
    if (!row)
        return NULL;
    uint8_t *p = row;
    *p++ = error ? 1 : 0;
    put_bytes(&p, quote, quote_len);
    put_bytes(&p, body, body_len);
    put_bytes(&p, next_cursor, cursor_len);
    *len = n;
    return row;
}

static int get_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **b, size_t *n)
{
    uint32_t x;
    if (end - *p < 4)
        return -1;
    memcpy(&x, *p, 4);
    *p += 4;
    if ((size_t)(end - *p) < x)
        return -1;
    *b = *p;
    *n = x;
    *p += x;
    return 0;
}

int result_row_deliver(const char *uid, time_t finished, const uint8_t *row, size_t len,
                       store_result_fn fn, void *ctx)
{
    if (len < 1 || row[0] > 1)
        return -1;
    const uint8_t *p = row + 1, *end = row + len, *quote, *body, *cursor;
    size_t quote_len, body_len, cursor_len;
    if (get_bytes(&p, end, &quote, &quote_len) < 0 || get_bytes(&p, end, &body, &body_len) < 0 ||
        get_bytes(&p, end, &cursor, &cursor_len) < 0 || p != end)
        return -1;
    char *q = memdup_z(quote, quote_len);  /* the quote may hold NUL bytes: copy all of it */
    char *b = memdup_z(body, body_len);
    char *c = cursor_len ? strndup((const char *)cursor, cursor_len) : NULL;
    int rc = -1;
    if (q && b && (c || !cursor_len)) {
        bool failed = row[0] == 1;
        rc = fn(ctx, uid, q, quote_len, failed ? NULL : b, failed ? 0 : body_len, c,
                failed ? b : NULL, finished);
    }
    free(q);
    free(b);
    free(c);
    return rc;
}
