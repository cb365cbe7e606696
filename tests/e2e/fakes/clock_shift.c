/* clock_shift.c - a test-only LD_PRELOAD library: the process's wall clock runs ahead of the
 * kernel's by CLOCK_SHIFT_SECONDS.
 *
 * clock_gettime(CLOCK_REALTIME and CLOCK_REALTIME_COARSE), gettimeofday and time add the shift;
 * every other clock is left alone. The kernel still measures an absolute CLOCK_REALTIME timeout
 * (pthread_cond_timedwait) on its own clock, so a wait the process computes as "now + 1 s" lasts
 * the shift longer: what a wall-clock step backwards (an NTP correction after a boot with a clock
 * running ahead) does to every such wait under way. Built by tests/meson.build only; never part
 * of the worker. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift_seconds(void)
{
    const char *s = getenv("CLOCK_SHIFT_SECONDS");
    return s ? strtol(s, NULL, 10) : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += shift_seconds();
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;         /* glibc declares tv nonnull */
    tv->tv_usec = ts.tv_nsec / 1000;
    (void)tz;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
