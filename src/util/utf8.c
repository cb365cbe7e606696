/* utf8.c - UTF-8 character validity and the longest printable prefix of a string (see utf8.h). */
#include "util/utf8.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

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

size_t utf8_put_codepoint(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
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

/* prefix_len: the longest prefix of s[0..n) of at most max bytes that does not cut a valid
 * character in two; every other byte is a unit of its own. */
static size_t prefix_len(const char *s, size_t n, size_t max)
{
    size_t used = 0;
    while (used < n) {
        size_t len = utf8_char_len(s + used, n - used);
        if (len == 0)
            len = 1;
        if (len > max - used)
            break;
        used += len;
    }
    return used;
}

int utf8_print_len(const char *s, size_t max)
{
    if (max > INT_MAX)
        max = INT_MAX;
    /* reads at most max + 3 bytes: enough to tell whether the character at max is whole */
    return (int)prefix_len(s, strnlen(s, max + 3), max);
}

size_t utf8_trim_partial(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        if ((p[n - back] & 0xc0) == 0x80)
            continue;           /* a continuation byte: look further back for its lead */
        return sequence_len(p[n - back]) > back ? n - back : n;
    }
    return n;
}

size_t utf8_excerpt(const char *body, size_t len, char *out, size_t outlen)
{
    size_t n = prefix_len(body, len, outlen - 1);
    memcpy(out, body, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = ' ';
    return n;
}
