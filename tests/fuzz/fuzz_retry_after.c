/* fuzz_retry_after.c - libFuzzer target for the Retry-After parser (net/retry_after.h).
 *
 * Input layout: the first 8 bytes are "now" (any time_t, negative and huge included), the rest is
 * the header value. The result is -1 or within [0, RETRY_AFTER_MAX_S], so that the callers'
 * arithmetic on it (times 1000, plus a clock) cannot overflow, and the parser's own arithmetic
 * does not (UBSan watches); delta-seconds with whitespace around them parse to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < sizeof(int64_t))
        return 0;
    int64_t now;
    memcpy(&now, data, sizeof now);
    char *value = malloc(size - sizeof now + 3);
    if (!value)
        return 0;
    memcpy(value + 1, data + sizeof now, size - sizeof now);
    value[size - sizeof now + 1] = '\0';      /* stops at an embedded NUL, as a header would */
    long long s = retry_after_seconds(value + 1, (time_t)now);
    if (s < -1 || s > RETRY_AFTER_MAX_S)
        abort();
    size_t n = strlen(value + 1);
    if (n > 0 && strspn(value + 1, "0123456789") == n) {
        value[0] = ' ';
        value[n + 1] = '\t';
        value[n + 2] = '\0';
        if (retry_after_seconds(value, (time_t)now) != s)
            abort();        /* whitespace around delta-seconds changed the value */
    }
    free(value);
    return 0;
}
