/* apify_cursor.c - the next-page cursor shared by every Apify user (tiktok-reddit-apify.md 2.4):
 * standard, padded base64 of the compact JSON {"offset":N}. A cursor that does not decode is not
 * an error: the page starts at 0 (as in Go), with a warning in the log. */
#include "net/apify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util/b64.h"

size_t apify_cursor_decode(const char *cursor)
{
    if (!cursor || !*cursor)
        return 0;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    if (b64_decode(cursor, strlen(cursor), &raw, &raw_len, NULL, 0) < 0) {
        log_warn("apify: ignoring a cursor that is not base64");
        return 0;
    }
    json_t *doc = json_loadb((const char *)raw, raw_len, 0, NULL);
    free(raw);
    json_t *off = NULL;
    const char *key;
    json_t *v;
    if (json_is_object(doc))
        json_object_foreach(doc, key, v)
            if (strcasecmp(key, "offset") == 0 && !json_is_null(v))
                off = v;
    size_t offset = 0;
    if (json_is_integer(off) && json_integer_value(off) >= 0)
        offset = (size_t)json_integer_value(off);
    else
        log_warn("apify: ignoring a cursor without a non-negative integer offset");
    json_decref(doc);
    return offset;
}

char *apify_cursor_encode(size_t offset)
{
    char text[48];
    int n = snprintf(text, sizeof text, "{\"offset\":%zu}", offset);
    return b64_encode_alloc((const uint8_t *)text, (size_t)n);
}
