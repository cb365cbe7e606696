/* kind.h - the descriptor every job kind fills in, and what a running job receives.
 *
 * A kind is a table of functions, like a curl protocol handler: the registry maps a job type to
 * its descriptor. `available` decides from configuration alone whether the kind is offered (and
 * thus advertised and accepted); `validate` refuses bad arguments before a job is admitted (400 at
 * /job/generate and /job/add); `run` executes an admitted job before ctx->deadline. */
#ifndef TW_KIND_H
#define TW_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "err.h"

struct config;
struct job;
struct stats;

/* What a running job may use. Everything is borrowed for the duration of run(). */
struct job_ctx {
    const struct config *cfg;
    struct stats *stats;
    const char *worker_id;          /* this worker's id */
    json_t *capabilities;           /* the capability report (read-only) */
    const char *capabilities_text;  /* the same as compact JSON text, written once */
    struct timespec deadline;       /* CLOCK_MONOTONIC; the job must return before it */
};

/* The longest next cursor kept: it travels sealed (about 16/9 of its size) in the X-Next-Cursor
 * header of /job/status, and the server builds response headers in 16 KiB per connection, so a
 * longer one (an upstream's value) would cost the whole answer. The job server drops it. */
#define JOB_MAX_CURSOR 4096

/* What run() produces: data on success (owned, data_len bytes, may be empty), an optional next
 * cursor (owned, at most JOB_MAX_CURSOR bytes kept), or err set (err.http != 0) on failure. */
struct job_result {
    char *data;
    size_t data_len;
    char *next_cursor;
    struct err err;
};

struct job_kind {
    const char *type;                                   /* "web", "telemetry", ... */
    const char *const *capabilities;                    /* NULL-terminated, never "" */
    bool (*available)(const struct config *cfg);
    int (*validate)(const json_t *arguments, struct err *e);   /* NULL: any arguments */
    int (*run)(const struct job *job, struct job_ctx *ctx, struct job_result *out);
    /* An instant kind's run takes microseconds, without I/O or waiting: with a local store the
     * job server runs it as it admits the job, on the admitting thread, and the store records the
     * outcome with the admission. It never waits in the queue behind slow jobs. */
    bool instant;
    /* Optional, for kinds whose offer depends on configuration (NULL: use the fields above):
     * the capabilities offered under cfg (NULL-terminated), and a validation that sees cfg, used
     * instead of validate so that what is advertised is exactly what is accepted. */
    const char *const *(*capabilities_for)(const struct config *cfg);
    int (*validate_for)(const struct config *cfg, const json_t *arguments, struct err *e);
};

/* job_ctx_remaining_ms: milliseconds left before the deadline (0 when passed). */
long job_ctx_remaining_ms(const struct job_ctx *ctx);

/* job_result_set_json puts the compact text of value into out->data, written as Go writes it
 * (util/json_out.h); returns 0 or -1 (OOM, with out->err set). value is not consumed. */
int job_result_set_json(struct job_result *out, const json_t *value);

/* job_result_set_text makes out->data a copy of text (a literal result such as "null" or "[]");
 * returns 0 or -1 (OOM, with out->err set). */
int job_result_set_text(struct job_result *out, const char *text);

void job_result_clear(struct job_result *r);

#endif
