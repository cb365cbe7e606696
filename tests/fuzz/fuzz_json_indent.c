/* fuzz_json_indent.c - libFuzzer target for the `?pretty` layout (util/json_indent.c).
 *
 * Properties, from any input:
 *  - a refusal leaves the buffer as it was;
 *  - what jansson parses as one JSON value is laid out (never refused), and the layout reads back
 *    as an equal value;
 *  - a layout is a fixed point: laying it out again gives the same bytes (the whitespace it adds
 *    is dropped and added back in the same places);
 *  - a layout changes nothing but whitespace outside strings: both, with that whitespace taken
 *    out, are the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json_indent.h"

/* strip_outside_strings copies s without the whitespace outside its strings (strings are taken
 * to be well formed: only texts json_indent accepted come here). */
static char *strip_outside_strings(const char *s, size_t n, size_t *len)
{
    char *out = malloc(n + 1);
    if (!out)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            if (j >= n)
                abort();
            memcpy(out + k, s + i, j + 1 - i);
            k += j + 1 - i;
            i = j;
        } else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            out[k++] = s[i];
        }
    }
    *len = k;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct growbuf out = { 0 };
    if (growbuf_append(&out, "#", 1, 16) < 0)
        return 0;
    int rc = json_indent(&out, text, size);
    if (rc < 0 && (out.len != 1 || out.data[0] != '#' || out.data[1] != '\0'))
        abort();
    json_t *v = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (v && rc < 0)
        abort();
    if (rc == 0) {
        struct growbuf again = { 0 };
        if (json_indent(&again, out.data + 1, out.len - 1) < 0 || again.len != out.len - 1 ||
            memcmp(again.data, out.data + 1, again.len) != 0)
            abort();
        free(again.data);
    }
    if (rc == 0) {
        size_t a_len, b_len;
        char *a = strip_outside_strings(text, size, &a_len);
        char *b = strip_outside_strings(out.data + 1, out.len - 1, &b_len);
        if (a_len != b_len || memcmp(a, b, a_len) != 0)
            abort();
        free(a);
        free(b);
    }
    if (v) {
        json_t *back = json_loadb(out.data + 1, out.len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!back || !json_equal(v, back))
            abort();
        json_decref(back);
        json_decref(v);
    }
    free(out.data);
    return 0;
}
