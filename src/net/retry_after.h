/* retry_after.h - the one parser of HTTP Retry-After values (RFC 9110 10.2.3), shared by the web
 * crawler and the X clients (API keys and web accounts).
 *
 * A value is delta-seconds (ASCII digits, whitespace around them allowed) or an HTTP date;
 * anything else (a sign, a fraction, an exponent as in "1e30", trailing text) is unparsable. The
 * value is saturated at RETRY_AFTER_MAX_S while it is read, before any arithmetic, so a hostile
 * "99999999999999999999" or a date in the year 2147483647 cannot overflow what callers compute
 * from it (milliseconds, now + wait). The cap is far above any honest wait: callers still bound
 * the wait they actually make (the job's deadline, the cool-down cap). */
#ifndef TW_RETRY_AFTER_H
#define TW_RETRY_AFTER_H

#include <time.h>

#define RETRY_AFTER_MAX_S 100000000LL    /* 10^8 s, a little over three years */

/* retry_after_seconds parses value relative to now (Unix seconds) and returns the seconds to
 * wait, in [0, RETRY_AFTER_MAX_S] (a date already past is 0), or -1 when value is NULL, blank or
 * unparsable. */
long long retry_after_seconds(const char *value, time_t now);

#endif
