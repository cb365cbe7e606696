/* json_indent.c - Go's json.Indent layout (prefix "", two spaces) for the JSON answers of
 * `?pretty` requests (see json_indent.h). */
#include "util/json_indent.h"

#include <stdbool.h>
#include <stdint.h>

#define INDENT_FIRST 256

static int put(struct growbuf *b, const char *s, size_t n)
{
    return growbuf_append(b, s, n, INDENT_FIRST);
}

/* newline starts a line indented for `depth` open levels. */
static int newline(struct growbuf *b, int depth)
{
    static const char spaces[] = "                                                                "
                                 "                                                                ";
    if (put(b, "\n", 1) < 0)
        return -1;
    for (size_t want = 2 * (size_t)depth; want;) {
        size_t n = want < sizeof spaces - 1 ? want : sizeof spaces - 1;
        if (put(b, spaces, n) < 0)
            return -1;
        want -= n;
    }
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int json_indent(struct growbuf *out, const char *s, size_t n)
{
    size_t mark = out->len;
    uint8_t is_array[JSON_INDENT_MAX_DEPTH / 8] = { 0 };   /* one bit per open level */
    int depth = 0;                  /* levels open */
    bool need_indent = false;       /* a bracket just opened: its first line is not started yet */
    bool started = false, done = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_space(c)) {
            if (started && depth == 0) {     /* after the top-level value: kept */
                done = true;
                if (put(out, &c, 1) < 0)
                    goto fail;
            }
            continue;
        }
        if (done)
            goto fail;
        started = true;
        if (need_indent && c != '}' && c != ']') {
            need_indent = false;
            if (newline(out, depth) < 0)
                goto fail;
        }
        switch (c) {
        case '"': {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            if (j >= n || put(out, s + i, j + 1 - i) < 0)
                goto fail;
            i = j;
            done = depth == 0;
            break;
        }
        case '{':
        case '[':
            if (depth == JSON_INDENT_MAX_DEPTH)
                goto fail;
            if (c == '[')
                is_array[depth / 8] |= (uint8_t)(1u << (depth % 8));
            else
                is_array[depth / 8] &= (uint8_t)~(1u << (depth % 8));
            depth++;
            need_indent = true;
            if (put(out, &c, 1) < 0)
                goto fail;
            break;
        case '}':
        case ']': {
            if (depth == 0)
                goto fail;
            depth--;
            bool array = is_array[depth / 8] >> (depth % 8) & 1;
            if (array != (c == ']'))
                goto fail;
            if (need_indent)
                need_indent = false;         /* {} and [] stay on one line */
            else if (newline(out, depth) < 0)
                goto fail;
            if (put(out, &c, 1) < 0)
                goto fail;
            done = depth == 0;
            break;
        }
        case ',':
            if (depth == 0 || put(out, ",", 1) < 0 || newline(out, depth) < 0)
                goto fail;
            break;
        case ':':
            if (depth == 0 || put(out, ": ", 2) < 0)
                goto fail;
            break;
        default:
            if (put(out, &c, 1) < 0)
                goto fail;
        }
    }
    if (!started || depth)
        goto fail;
    return 0;
fail:
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}
