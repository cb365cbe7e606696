/* readiness.h - the error rate behind /readyz: a sliding 10-minute window.
 *
 * Sixty buckets of ten seconds each; a bucket is reused once its slot comes round again, so the
 * window always covers the last 10 minutes and recovers by itself when traffic stops. Unhealthy
 * only with at least min_samples requests in the window and errors/total >= threshold. Lock-free
 * enough for the HTTP threads: one mutex held for a few additions. */
#ifndef TW_READINESS_H
#define TW_READINESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define READINESS_WINDOW_S 600
#define READINESS_BUCKET_S 10

struct readiness;

struct readiness_snapshot {
    uint64_t errors;
    uint64_t successes;
    time_t window_start;   /* Unix seconds */
    bool healthy;
    double error_rate;
};

/* readiness_new: now_fn returns Unix seconds (NULL = time(NULL)). */
struct readiness *readiness_new(unsigned min_samples, double threshold, time_t (*now_fn)(void));
void readiness_free(struct readiness *r);

void readiness_record(struct readiness *r, bool error);
void readiness_snapshot(struct readiness *r, struct readiness_snapshot *out);

#endif
