/* metrics.h - process-wide counters for GET /metrics (Prometheus text format).
 *
 * Like the logger, the counters belong to the process, not to one app: they count what this
 * process answered and ran. Two families are kept here:
 *   - HTTP answers by route and status (the route is the path of the route-table line that
 *     matched, or "other"; statuses are 100..599), bounded to METRICS_MAX_REQUEST_SERIES series;
 *   - finished jobs by kind and outcome (success, error, timeout) with a latency histogram per
 *     kind, bounded to METRICS_MAX_KINDS kinds (more fold into kind "other").
 * Gauges that describe the app (queue depth, result cache, key ring, process RSS/CPU) are read
 * when /metrics is served (api/metrics_api.c). Every function is thread-safe (one mutex, held for
 * a table lookup and an increment). */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define METRICS_MAX_REQUEST_SERIES 256
#define METRICS_MAX_KINDS 32
#define METRICS_LATENCY_BUCKETS 12

/* metrics_count_request adds one answer of `status` on `route` (a static string: the lifetime of
 * the pointer must be the process's). */
void metrics_count_request(const char *route, unsigned status);

/* metrics_job_finished records one finished job of type `kind` (copied): http_error is 0 for a
 * success, 504 for a timeout, any other value for an error; seconds is how long it ran. */
void metrics_job_finished(const char *kind, int http_error, double seconds);

/* metrics_write_counters prints the request and job families (HELP, TYPE and samples) to out. */
void metrics_write_counters(FILE *out);

/* metrics_reset forgets every counter (tests). */
void metrics_reset(void);

/* metrics_latency_bounds returns the upper bounds (seconds) of the histogram buckets, +Inf
 * excluded; *count receives METRICS_LATENCY_BUCKETS. */
const double *metrics_latency_bounds(size_t *count);

#endif
