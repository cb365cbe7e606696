/* store_backend.h - what a store backend implements (store_sqlite.c, store_redis.c) and the pieces
 * they share: the ops table store.c dispatches through, and the encoding of a result row.
 * Nothing outside src/store/ includes this file. */
#ifndef TW_STORE_BACKEND_H
#define TW_STORE_BACKEND_H

#include "store/store.h"

struct secret_store;

struct store_ops {
    const char *name;      /* "sqlite", "redis" */
    bool shared;           /* jobs are delivered through take (see store.h) */
    void (*close)(struct store *s);
    int (*admit)(struct store *s, const char *quote, size_t quote_len, time_t nonce_expires,
                 const char *uid, const char *job_json, size_t job_len);
    int (*admit_async)(struct store *s, struct store_admission *a);    /* NULL: not supported */
    int (*nonce_seen)(struct store *s, const char *quote, size_t quote_len, time_t now);
    int (*finish)(struct store *s, const char *uid, const char *quote, size_t quote_len,
                  const char *data, size_t data_len, const char *next_cursor, const char *error,
                  time_t finished_at);
    int (*flush)(struct store *s);
    long (*each_job)(struct store *s, store_job_fn fn, void *ctx);
    long (*each_result)(struct store *s, time_t since, size_t limit, store_result_fn fn, void *ctx);
    int (*take)(struct store *s, const char *consumer, size_t max, int wait_ms, store_job_fn fn,
                void *ctx);
    int (*lookup)(struct store *s, const char *uid, time_t finished_near,
                  const struct store_size_gate *gate, store_result_fn fn, void *ctx);
    long (*prune)(struct store *s, time_t now, time_t result_since, size_t max_results);
    bool (*secrets)(struct store *s, struct secret_store *out);
    int (*health)(struct store *s, char *reason, size_t reasonlen);
    int (*counts)(struct store *s, struct store_counts *out);
    void (*release_memory)(struct store *s);     /* NULL: nothing cached */
};

/* Every backend's state starts with this. */
struct store {
    const struct store_ops *ops;
};

struct store *store_redis_open(const struct store_params *params, char *err, size_t errlen);
struct store *store_sqlite_open(const struct platform *p, const char *path, bool full_durability,
                                char *err, size_t errlen);

/* A result row: u8 failed | u32 quote_len | quote | u32 body_len | body | u32 cursor_len | cursor
 * (for a failed job the body is the error text). result_row_encode returns a new buffer of *len
 * bytes, or NULL (OOM, or larger than STORE_MAX_BLOB). */
uint8_t *result_row_encode(const char *quote, size_t quote_len, const char *data, size_t data_len,
                           const char *next_cursor, const char *error, size_t *len);

/* result_row_deliver decodes a row and calls fn. Returns fn's answer, or -1 when malformed. */
int result_row_deliver(const char *uid, time_t finished, const uint8_t *row, size_t len,
                       store_result_fn fn, void *ctx);

#endif
