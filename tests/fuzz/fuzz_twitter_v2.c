/* fuzz_twitter_v2.c - libFuzzer target for the X API v2 response decoders (twitter_v2.h).
 *
 * Input layout: the first byte picks the decoder (search page, tweet lookup, user lookup, plain
 * user / username, search cursor); the rest is the upstream body (or the cursor text).
 * Properties checked: no crash or leak; every TweetResult has an integer id equal to its
 * tweet_id parsed back, and re-encodes; a decoded profile re-encodes; a cursor made from a
 * parsed cursor parses to the same token and skip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kinds/twitter_v2.h"

static void check_tweet(const json_t *t)
{
    long long id;
    char why[160];
    const char *text = json_string_value(json_object_get(t, "tweet_id"));
    if (!text || twitter_v2_parse_id(text, &id, why, sizeof why) < 0 ||
        id != json_integer_value(json_object_get(t, "id")))
        abort();
    char *dump = json_dumps(t, JSON_COMPACT);
    if (!dump)
        abort();
    free(dump);
}

static void fuzz_cursor(const char *s)
{
    char tok[64], tok2[64];
    unsigned skip, skip2;
    if (twitter_v2_cursor_parse(s, tok, sizeof tok, &skip) < 0)
        return;
    char *again = twitter_v2_cursor_make(tok, skip);
    if (!again || twitter_v2_cursor_parse(again, tok2, sizeof tok2, &skip2) < 0 ||
        strcmp(tok, tok2) != 0 || skip != skip2)
        abort();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[TWITTER_V2_WHY];
    switch (data[0] % 5) {
    case 0: {
        struct twitter_v2_page page;
        if (twitter_v2_decode_page(body, len, &page, why, sizeof why) == 0) {
            size_t i;
            json_t *t;
            json_array_foreach(page.tweets, i, t)
                check_tweet(t);
            twitter_v2_page_clear(&page);
        }
        break;
    }
    case 1: {
        json_t *t = twitter_v2_decode_tweet(body, len, 0, why, sizeof why);
        if (t)
            check_tweet(t);
        json_decref(t);
        break;
    }
    case 2: {
        json_t *p = twitter_v2_decode_profile(body, len, why, sizeof why);
        char *dump = p ? json_dumps(p, JSON_COMPACT) : NULL;
        if (p && !dump)
            abort();
        free(dump);
        json_decref(p);
        break;
    }
    case 3:
        free(twitter_v2_decode_username(body, len));
        break;
    default: {
        char *s = strndup(body, len);
        if (s)
            fuzz_cursor(s);
        free(s);
        break;
    }
    }
    return 0;
}
