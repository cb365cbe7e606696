/* metrics.c - the process-wide request and job counters (see metrics.h).
 *
 * Two small fixed tables searched linearly under one mutex: a scrape every few seconds and a
 * handful of routes and kinds do not need more. A table that is full folds new series into one
 * overflow series ("other"), so hostile input cannot grow memory. Label values are escaped as the
 * Prometheus text format requires (backslash, double quote, newline). */
#include "metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

struct request_series {
    const char *route;
    unsigned status;
    uint64_t count;
};

enum job_outcome { OUTCOME_SUCCESS, OUTCOME_ERROR, OUTCOME_TIMEOUT, OUTCOME_COUNT };

static const char *const outcome_names[OUTCOME_COUNT] = { "success", "error", "timeout" };

struct kind_series {
    char kind[65];
    uint64_t outcomes[OUTCOME_COUNT];
    uint64_t buckets[METRICS_LATENCY_BUCKETS];   /* cumulative at render time, raw here */
    uint64_t observations;
    double seconds_sum;
};

static const double latency_bounds[METRICS_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct request_series requests[METRICS_MAX_REQUEST_SERIES];
static size_t request_count;
static struct kind_series kinds[METRICS_MAX_KINDS];
static size_t kind_count;

const double *metrics_latency_bounds(size_t *count)
{
    *count = METRICS_LATENCY_BUCKETS;
    return latency_bounds;
}

/* find_request returns the series of (route, status), creating it; the last slot is the overflow
 * series (route "other", status 0 printed as "other"). Lock held. */
static struct request_series *find_request(const char *route, unsigned status)
{
    for (size_t i = 0; i < request_count; i++)
        if (requests[i].status == status && strcmp(requests[i].route, route) == 0)
            return &requests[i];
    if (request_count < METRICS_MAX_REQUEST_SERIES - 1) {
        requests[request_count] = (struct request_series){ .route = route, .status = status };
        return &requests[request_count++];
    }
    struct request_series *overflow = &requests[METRICS_MAX_REQUEST_SERIES - 1];
    overflow->route = "other";
    overflow->status = 0;
    request_count = METRICS_MAX_REQUEST_SERIES;
    return overflow;
}

void metrics_count_request(const char *route, unsigned status)
{
    if (!route)
        route = "other";
    if (status < 100 || status > 599)
        status = 0;
    pthread_mutex_lock(&lock);
    find_request(route, status)->count++;
    pthread_mutex_unlock(&lock);
}

/* find_kind: the series of kind (copied, cut at 64 bytes), creating it; the last slot folds the
 * rest into "other". Lock held. */
static struct kind_series *find_kind(const char *kind)
{
    for (size_t i = 0; i < kind_count; i++)
        if (strncmp(kinds[i].kind, kind, sizeof kinds[i].kind - 1) == 0)
            return &kinds[i];
    struct kind_series *k;
    if (kind_count < METRICS_MAX_KINDS - 1) {
        k = &kinds[kind_count++];
        snprintf(k->kind, sizeof k->kind, "%s", kind);
        return k;
    }
    k = &kinds[METRICS_MAX_KINDS - 1];
    if (kind_count < METRICS_MAX_KINDS) {
        kind_count = METRICS_MAX_KINDS;
        snprintf(k->kind, sizeof k->kind, "other");
    }
    return k;
}

void metrics_job_finished(const char *kind, int http_error, double seconds)
{
    if (!(seconds > 0))
        seconds = 0;
    enum job_outcome outcome = http_error == 0     ? OUTCOME_SUCCESS
                               : http_error == 504 ? OUTCOME_TIMEOUT
                                                   : OUTCOME_ERROR;
    pthread_mutex_lock(&lock);
    struct kind_series *k = find_kind(kind && *kind ? kind : "unknown");
    k->outcomes[outcome]++;
    k->observations++;
    k->seconds_sum += seconds;
    for (size_t i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        if (seconds <= latency_bounds[i]) {
            k->buckets[i]++;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* write_label_value prints s escaped for a label value. */
static void write_label_value(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static void write_requests(FILE *out)
{
    fputs("# HELP tee_worker_http_requests_total HTTP answers by route and status code.\n"
          "# TYPE tee_worker_http_requests_total counter\n", out);
    for (size_t i = 0; i < request_count; i++) {
        fputs("tee_worker_http_requests_total{route=\"", out);
        write_label_value(out, requests[i].route);
        if (requests[i].status)
            fprintf(out, "\",status=\"%u\"} %llu\n", requests[i].status,
                    (unsigned long long)requests[i].count);
        else
            fprintf(out, "\",status=\"other\"} %llu\n", (unsigned long long)requests[i].count);
    }
}

static void write_kind_label(FILE *out, const char *metric, const struct kind_series *k)
{
    fprintf(out, "%s{kind=\"", metric);
    write_label_value(out, k->kind);
    fputc('"', out);
}

static void write_jobs(FILE *out)
{
    fputs("# HELP tee_worker_jobs_total Finished jobs by kind and outcome.\n"
          "# TYPE tee_worker_jobs_total counter\n", out);
    for (size_t i = 0; i < kind_count; i++)
        for (int o = 0; o < OUTCOME_COUNT; o++) {
            write_kind_label(out, "tee_worker_jobs_total", &kinds[i]);
            fprintf(out, ",outcome=\"%s\"} %llu\n", outcome_names[o],
                    (unsigned long long)kinds[i].outcomes[o]);
        }
    fputs("# HELP tee_worker_job_duration_seconds Time from a job's start to its result.\n"
          "# TYPE tee_worker_job_duration_seconds histogram\n", out);
    for (size_t i = 0; i < kind_count; i++) {
        const struct kind_series *k = &kinds[i];
        uint64_t cumulative = 0;
        for (size_t b = 0; b < METRICS_LATENCY_BUCKETS; b++) {
            cumulative += k->buckets[b];
            write_kind_label(out, "tee_worker_job_duration_seconds_bucket", k);
            fprintf(out, ",le=\"%g\"} %llu\n", latency_bounds[b], (unsigned long long)cumulative);
        }
        write_kind_label(out, "tee_worker_job_duration_seconds_bucket", k);
        fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)k->observations);
        write_kind_label(out, "tee_worker_job_duration_seconds_sum", k);
        fprintf(out, "} %.6f\n", k->seconds_sum);
        write_kind_label(out, "tee_worker_job_duration_seconds_count", k);
        fprintf(out, "} %llu\n", (unsigned long long)k->observations);
    }
}

void metrics_write_counters(FILE *out)
{
    pthread_mutex_lock(&lock);
    write_requests(out);
    write_jobs(out);
    pthread_mutex_unlock(&lock);
}

void metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(requests, 0, sizeof requests);
    memset(kinds, 0, sizeof kinds);
    request_count = kind_count = 0;
    pthread_mutex_unlock(&lock);
}
