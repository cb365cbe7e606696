/* json_out.c - JSON text written directly, the way jansson dumps it (see json_out.h). */
#include "util/json_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

#define JSON_OUT_FIRST 256

bool json_out_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_char_len(s + i, len - i);
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
