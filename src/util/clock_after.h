/* clock_after.h - "this clock's now plus so many milliseconds" as a struct timespec: the
 * absolute time that pthread_cond_timedwait (CLOCK_REALTIME) or a job deadline (CLOCK_MONOTONIC)
 * wants, normalised so tv_nsec stays below one second. */
#ifndef TW_CLOCK_AFTER_H
#define TW_CLOCK_AFTER_H

#include <time.h>

/* clock_after_ms returns clock's current time plus ms milliseconds (ms >= 0). */
struct timespec clock_after_ms(clockid_t clock, long ms);

#endif
