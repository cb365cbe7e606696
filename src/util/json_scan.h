/* json_scan.h - the byte-level pieces of a structural scan of JSON text, for the single-pass
 * scanners that look at a text before (or instead of) jansson: the decode-cost estimate
 * (json_cost.c), the big-integer rewrite (json_bigint.c) and the item splitter of Apify pages
 * (net/apify_items.c). They trust nothing: every index stays within len. */
#ifndef TW_JSON_SCAN_H
#define TW_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* json_scan_space: JSON whitespace. */
static inline bool json_scan_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* json_scan_number_char: a character a JSON number token may hold. */
static inline bool json_scan_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* json_scan_string_end returns the index just past the closing quote of the string whose opening
 * quote is text[i] (backslash escapes skipped in pairs), or 0 when the text ends inside it. */
static inline size_t json_scan_string_end(const char *text, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (text[i] == '\\')
            i++;
        else if (text[i] == '"')
            return i + 1;
    }
    return 0;
}

#endif
