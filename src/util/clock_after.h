/* clock_after.h - "this clock's now plus so many milliseconds" as a struct timespec: the
 * absolute time that a timed wait or a job deadline wants, normalised so tv_nsec stays below one
 * second; and a condition wait bounded in milliseconds on the monotonic clock. */
#ifndef TW_CLOCK_AFTER_H
#define TW_CLOCK_AFTER_H

#include <pthread.h>
#include <time.h>

/* clock_after_ms returns clock's current time plus ms milliseconds (ms >= 0). */
struct timespec clock_after_ms(clockid_t clock, long ms);

/* cond_wait_ms waits on cond (mutex held) for at most ms milliseconds of the monotonic clock, so
 * that a wall-clock step neither shortens nor stretches the wait. Returns pthread_cond_clockwait's
 * result (0, or ETIMEDOUT). */
int cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *mutex, long ms);

#endif
