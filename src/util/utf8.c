/* utf8.c - UTF-8 character validity and the longest printable prefix of a string (see utf8.h). */
#include "util/utf8.h"

#include <limits.h>
#include <stdint.h>

/* sequence_len is the length a sequence starting with byte c has, 0 when c cannot start one. */
static size_t sequence_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

size_t utf8_char_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    size_t len = sequence_len(p[0]);
    if (len <= 1)
        return len;
    if (len > n)
        return 0;
    uint32_t cp = p[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;       /* also stops at a NUL */
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int utf8_print_len(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    if (max > INT_MAX)
        max = INT_MAX;
    while (p[n]) {
        size_t len = utf8_char_len(s + n, max - n);
        if (len == 0)
            break;
        n += len;
    }
    return (int)n;
}
