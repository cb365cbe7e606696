/* json_out.c - JSON text written directly, the way jansson dumps it (see json_out.h). */
#include "util/json_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define JSON_OUT_FIRST 256

/* Length of the UTF-8 sequence at s[0..n) if valid by jansson's rules, else 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;       /* continuation byte, overlong lead (0xc0, 0xc1) or above U+10FFFF */
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool json_out_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

int json_out_raw(struct growbuf *b, const char *s, size_t n)
{
    return growbuf_append(b, s, n, JSON_OUT_FIRST);
}

int json_out_string(struct growbuf *b, const char *s, size_t len)
{
    if (!json_out_utf8_valid(s, len))
        return -1;
    if (json_out_raw(b, "\"", 1) < 0)
        return -1;
    size_t run = 0;     /* start of the bytes not written yet */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[8];
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)c);
            n = 6;
            break;
        }
        if (json_out_raw(b, s + run, i - run) < 0 || json_out_raw(b, esc, n) < 0)
            return -1;
        run = i + 1;
    }
    if (json_out_raw(b, s + run, len - run) < 0)
        return -1;
    return json_out_raw(b, "\"", 1);
}

int json_out_int(struct growbuf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    return json_out_raw(b, num, (size_t)n);
}
