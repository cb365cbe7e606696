/* fuzz_vtt.c - libFuzzer target for the WebVTT-to-text converter (kinds/vtt.h).
 *
 * Properties checked on any input: the output length is what was reported, never more than the
 * input plus one byte, has no NUL inside, no leading/trailing or doubled space, no control
 * bytes; valid UTF-8 in gives valid UTF-8 out (checked with jansson's UTF-8 validation); converting
 * the output again (as plain text) is stable when it holds no '&' or '<'. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kinds/vtt.h"

static bool valid_utf8(const char *s, size_t n)
{
    json_t *probe = json_stringn(s, n);
    bool ok = probe != NULL;
    json_decref(probe);
    return ok;
}

static void check_shape(const char *out, size_t n)
{
    if (strlen(out) != n)
        abort();
    if (n > 0 && (out[0] == ' ' || out[n - 1] == ' '))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == 0x7f || (c == ' ' && i + 1 < n && out[i + 1] == ' '))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char *out = vtt_to_text((const char *)data, size, &n);
    if (!out)
        return 0;
    if (n > size + 1)
        abort();
    check_shape(out, n);
    if (valid_utf8((const char *)data, size) && !valid_utf8(out, n))
        abort();
    if (!strpbrk(out, "&<") && !memmem(out, n, "-->", 3) && !strstr(out, "WEBVTT")) {
        size_t n2 = 0;
        char *again = vtt_to_text(out, n, &n2);
        if (again && (n2 != n || memcmp(again, out, n) != 0))
            abort();
        free(again);
    }
    free(out);
    return 0;
}
