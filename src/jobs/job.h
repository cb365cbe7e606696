/* job.h - the Job object as it travels sealed between clients and workers (core-protocol.md 2.1).
 *
 * Parsing is strict (DECISIONS.md): one JSON object and nothing after it, exact member names,
 * unknown members refused, duplicate members refused, integers kept exact (no trip through a
 * double). Serialising writes the members in Go's order (type, arguments, quote, worker_id,
 * target_worker, timeout) plus our additive issued_at when set. */
#ifndef TW_JOB_H
#define TW_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Upper bounds on what a job may carry; anything larger is refused with 400/413. */
#define JOB_MAX_STRING 4096     /* type, worker_id, target_worker */
#define JOB_MAX_QUOTE  1024
/* The arguments: at most this many JSON values inside them (at any depth; the object itself not
 * counted), and this many bytes of member names and string values together. A job waits in the
 * queue (up to JOB_QUEUE_MAX of them) as a jansson tree, which costs up to ~80 times its text for
 * small values ([{},{},...]): bounded by what the text may hold, a signature of 600 KB held some
 * 47 MB until it ran. Real arguments hold a few dozen values. */
#define JOB_MAX_ARGUMENT_VALUES 1024
#define JOB_MAX_ARGUMENT_BYTES  (64 * 1024)
/* How deep arrays and objects may nest inside the arguments (the arguments object is level 0):
 * the job text is written by util/json_out, whose recursion a job thread's stack bounds
 * (JSON_OUT_MAX_DEPTH); real arguments nest two or three levels. */
#define JOB_MAX_ARGUMENT_DEPTH 64
/* What decoding a job text may cost (util/json_cost.h's estimate), checked before jansson reads
 * it: a job within the bounds above costs under 2 MiB, escapes included; without this check a
 * text refused by them was still decoded whole first (80 MB for 1 MiB of [{},{},...]). */
#define JOB_MAX_DECODE_COST (4u * 1024 * 1024)

/* job_check_cost refuses (-1, e = 400) a job text whose decoding would cost more than
 * JOB_MAX_DECODE_COST; 0 otherwise. job_parse and job_parse_tree make it first. */
int job_check_cost(const char *text, size_t len, struct err *e);

struct job {
    char *type;
    json_t *arguments;      /* always an object; {} when absent or null */
    bool arguments_null;    /* the client sent no arguments or null: written back as null, as Go
                             * writes its nil map (core-protocol.md 2.1); {} stays {} */
    char *quote;            /* the nonce; "" when absent; quote_len bytes of valid UTF-8, which
                             * may include NULs (Go quotes hold raw digest bytes) */
    size_t quote_len;
    char *worker_id;        /* "" when absent */
    char *target_worker;    /* "" when absent */
    int64_t timeout_ns;     /* Go duration in nanoseconds */
    int64_t issued_at;      /* Unix seconds; 0 when absent (signature made elsewhere) */
};

/* job_parse parses text[0..len) into *out (zeroed first). Returns 0, or -1 with e = 400 and a
 * message naming the problem. On failure *out holds nothing to free. */
int job_parse(const char *text, size_t len, struct job *out, struct err *e);

/* job_parse_tree is job_parse without its fast path: jansson's tree (an argument that is an
 * integer beyond int64, as a Go worker writes a float64 below 1e21, read as a real), then
 * job_from_json. job_parse takes this path for whatever its fast path declines. */
int job_parse_tree(const char *text, size_t len, struct job *out, struct err *e);

/* job_from_json is job_parse on an already parsed value (the member rules are the same). */
int job_from_json(const json_t *root, struct job *out, struct err *e);

/* job_serialize returns the compact JSON text of j (new, NUL-terminated, *len bytes; caller
 * frees), or NULL on OOM. */
char *job_serialize(const struct job *j, size_t *len);

/* job_clear frees what j holds and zeroes it. */
void job_clear(struct job *j);

#endif
