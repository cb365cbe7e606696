/* retry_after.c - Retry-After: delta-seconds or HTTP date, saturated (see retry_after.h).
 *
 * Digits are accumulated with a stop at the cap, so no count of digits can overflow; a date goes
 * through libcurl's date parser (the formats of RFC 9110 5.6.7 and the obsolete ones), and its
 * distance from now is taken in unsigned arithmetic, exact for any two times, then capped. */
#include "net/retry_after.h"

#include <stdbool.h>

#include <curl/curl.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

long long retry_after_seconds(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (is_blank(*value))
        value++;
    if (!*value)
        return -1;
    if (*value >= '0' && *value <= '9') {
        long long s = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            s = s < RETRY_AFTER_MAX_S ? s * 10 + (*p - '0') : s;   /* s * 10 < 10^9 + 10 */
        while (is_blank(*p))
            p++;
        if (*p)
            return -1;
        return s < RETRY_AFTER_MAX_S ? s : RETRY_AFTER_MAX_S;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    if (when <= now)
        return 0;
    unsigned long long ahead = (unsigned long long)when - (unsigned long long)now;
    return ahead < (unsigned long long)RETRY_AFTER_MAX_S ? (long long)ahead : RETRY_AFTER_MAX_S;
}
