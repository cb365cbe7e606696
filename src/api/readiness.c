/* readiness.c - sliding-window error rate (see readiness.h). */
#include "api/readiness.h"

#include <pthread.h>
#include <stdlib.h>

#define BUCKETS (READINESS_WINDOW_S / READINESS_BUCKET_S)

struct bucket {
    int64_t slot;       /* time / READINESS_BUCKET_S when the counts were made */
    uint64_t errors;
    uint64_t successes;
};

struct readiness {
    pthread_mutex_t lock;
    unsigned min_samples;
    double threshold;
    time_t (*now)(void);
    struct bucket buckets[BUCKETS];
};

static time_t wall_now(void)
{
    return time(NULL);
}

struct readiness *readiness_new(unsigned min_samples, double threshold, time_t (*now_fn)(void))
{
    struct readiness *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->min_samples = min_samples;
    r->threshold = threshold;
    r->now = now_fn ? now_fn : wall_now;
    for (size_t i = 0; i < BUCKETS; i++)
        r->buckets[i].slot = -1;
    return r;
}

void readiness_free(struct readiness *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void readiness_record(struct readiness *r, bool error)
{
    int64_t slot = (int64_t)r->now() / READINESS_BUCKET_S;
    pthread_mutex_lock(&r->lock);
    struct bucket *b = &r->buckets[slot % BUCKETS];
    if (b->slot != slot) {
        b->slot = slot;
        b->errors = b->successes = 0;
    }
    if (error)
        b->errors++;
    else
        b->successes++;
    pthread_mutex_unlock(&r->lock);
}

void readiness_snapshot(struct readiness *r, struct readiness_snapshot *out)
{
    time_t now = r->now();
    int64_t current = (int64_t)now / READINESS_BUCKET_S;
    out->errors = out->successes = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < BUCKETS; i++) {
        const struct bucket *b = &r->buckets[i];
        if (b->slot >= 0 && b->slot > current - BUCKETS && b->slot <= current) {
            out->errors += b->errors;
            out->successes += b->successes;
        }
    }
    pthread_mutex_unlock(&r->lock);
    uint64_t total = out->errors + out->successes;
    out->error_rate = total ? (double)out->errors / (double)total : 0.0;
    out->healthy = total < r->min_samples || out->error_rate < r->threshold;
    out->window_start = now - READINESS_WINDOW_S;
}
