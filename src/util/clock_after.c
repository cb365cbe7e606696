/* clock_after.c - a clock's now plus milliseconds, and waits bounded on the monotonic clock
 * (see clock_after.h). */
#include "util/clock_after.h"

struct timespec clock_after_ms(clockid_t clock, long ms)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *mutex, long ms)
{
    struct timespec until = clock_after_ms(CLOCK_MONOTONIC, ms);
    return pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, &until);
}
