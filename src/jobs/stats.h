/* stats.h - telemetry counters (jobs-and-capabilities.md 3.7 and 4).
 *
 * Counters are unsigned, grouped by the worker_id stamped in the job (the worker that generated the
 * signature), keyed by counter name ("web_success", ...). An add of 0 still creates the counter.
 * At most STATS_MAX_WORKERS distinct worker ids are tracked (further ids are folded into the key
 * "other"), so a flood of foreign signatures cannot grow memory without bound. One mutex. */
#ifndef TW_STATS_H
#define TW_STATS_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#define STATS_MAX_WORKERS 1024

struct stats;

/* stats_new: worker_id is this worker's id (copied); boot time = now. */
struct stats *stats_new(const char *worker_id);
void stats_free(struct stats *s);

/* stats_add adds n to counter name of worker_id and sets last_operation_time. */
void stats_add(struct stats *s, const char *worker_id, const char *name, uint64_t n);

/* stats_get returns a counter (0 when absent). */
uint64_t stats_get(struct stats *s, const char *worker_id, const char *name);

/* stats_document returns a new JSON object with, in this order: boot_time, last_operation_time,
 * current_time, worker_id, stats (object worker -> object name -> count, keys sorted),
 * reported_capabilities (a reference to caps is taken), worker_version "beta",
 * application_version. Caller owns the result (json_decref). */
json_t *stats_document(struct stats *s, json_t *caps, const char *application_version);

/* stats_document_text is the compact JSON text of that document (as Go writes it, see
 * util/json_out.h, without building it), with caps_text the compact text of the capability report (NULL: {}):
 * a new NUL-terminated string of *len bytes, or NULL on OOM. */
char *stats_document_text(struct stats *s, const char *caps_text, const char *application_version,
                          size_t *len);

#endif
