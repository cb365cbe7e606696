/* fuzz_apify_items.c - libFuzzer target for the Apify dataset item decoders and the cursor.
 *
 * Input layout: the first byte picks the decoder (Reddit items, TikTok query items, TikTok
 * trending items, ProfileResultApify, the offset cursor); the rest is a dataset page as Apify
 * would send it (any JSON text, read by apify_items_parse; a text it refuses that jansson reads is
 * decoded as one item) or, for the cursor, the cursor text.
 * Properties checked: no crash or leak; a page apify_items_parse accepts is an array, and when
 * jansson reads the whole text as an array without big numbers or NULs, the same array; every
 * decoded record re-encodes, and decoding a record again gives the same record (the decoders are
 * idempotent on their own output); a cursor made from a decoded offset decodes to that offset. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kinds/reddit_items.h"
#include "kinds/tiktok_search.h"
#include "kinds/twitter_apify.h"
#include "log.h"
#include "net/apify.h"

typedef json_t *(*decoder)(const json_t *raw, char *why, size_t whylen);

static const decoder decoders[] = {
    reddit_item_decode, tiktok_query_item_decode, tiktok_trending_item_decode,
    twitter_apify_profile_decode,
};
#define NDECODERS (sizeof decoders / sizeof decoders[0])

static void check_item(decoder d, const json_t *raw)
{
    char why[128];
    json_t *rec = d(raw, why, sizeof why);
    if (!rec)
        return;
    char *text = json_dumps(rec, JSON_COMPACT);
    if (!text)
        abort();
    json_t *again = d(rec, why, sizeof why);
    if (!again || !json_equal(again, rec))
        abort();
    free(text);
    json_decref(again);
    json_decref(rec);
}

static void check_cursor(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t offset = apify_cursor_decode(text);
    char *again = apify_cursor_encode(offset);
    if (!again || apify_cursor_decode(again) != offset)
        abort();
    free(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_init(LOG_ERROR, false);
        quiet = 1;
    }
    if (size < 1)
        return 0;
    unsigned pick = data[0] % (NDECODERS + 1);
    if (pick == NDECODERS) {
        check_cursor(data + 1, size - 1);
        return 0;
    }
    const char *text = (const char *)data + 1;
    char why[200];
    json_t *page = NULL, *plain = json_loadb(text, size - 1, JSON_DECODE_ANY, NULL);
    if (apify_items_parse(text, size - 1, &page, why, sizeof why) == 0) {
        if (!json_is_array(page) || (json_is_array(plain) && !json_equal(plain, page)))
            abort();
        size_t i;
        json_t *raw;
        json_array_foreach(page, i, raw)
            check_item(decoders[pick], raw);
    } else if (plain) {
        check_item(decoders[pick], plain);
    }
    json_decref(plain);
    json_decref(page);
    return 0;
}
