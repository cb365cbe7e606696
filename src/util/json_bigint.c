/* json_bigint.c - integers beyond int64 rewritten as reals (see json_bigint.h).
 *
 * One pass: strings are skipped to their closing quote (escapes in pairs); a number token is a
 * '-' or digit followed by digits, and is an integer when no '.', 'e' or 'E' follows the digits.
 * Only such tokens of more than 19 digits, or of 19 digits above INT64_MAX (below INT64_MIN),
 * get ".0"; everything else is copied as it is. */
#include "util/json_bigint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/growbuf.h"
#include "util/json_out.h"
#include "util/json_scan.h"

/* int_beyond_int64: the integer token s[0..n) ('-'? digits, no leading zero) is outside int64. */
static bool int_beyond_int64(const char *s, size_t n)
{
    bool neg = n && s[0] == '-';
    const char *digits = s + neg;
    size_t k = n - neg;
    if (k != 19)
        return k > 19;
    return memcmp(digits, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char *json_big_ints_as_reals(const char *text, size_t len, size_t *out_len)
{
    struct growbuf b = { 0 };
    size_t copied = 0;
    bool bad = false;
    for (size_t i = 0; i < len;) {
        if (text[i] == '"') {
            size_t end = json_scan_string_end(text, len, i);
            i = end ? end : len;
            continue;
        }
        if (text[i] != '-' && !is_digit(text[i])) {
            i++;
            continue;
        }
        size_t start = i++;
        while (i < len && is_digit(text[i]))
            i++;
        bool integer = i == len || (text[i] != '.' && text[i] != 'e' && text[i] != 'E');
        if (integer && int_beyond_int64(text + start, i - start)) {
            bad |= json_out_raw(&b, text + copied, i - copied) < 0 || json_out_raw(&b, ".0", 2) < 0;
            copied = i;
        }
        while (i < len && json_scan_number_char(text[i]))
            i++;
    }
    if (bad || !b.data) {
        free(b.data);
        return NULL;
    }
    if (json_out_raw(&b, text + copied, len - copied) < 0) {
        free(b.data);
        return NULL;
    }
    *out_len = b.len;
    return b.data;
}
