/* fuzz_twitter_web_parse.c - libFuzzer target for the X web client parsers (twitter_web_parse.h).
 *
 * Input layout: the first byte picks the entry point (one of the seven timeline kinds, a single
 * tweet, a user, trends, a space, the error envelope); the rest is the upstream body.
 * Properties checked: no crash, leak or undefined behaviour; every TweetResult has an integer id
 * equal to its tweet_id parsed back and all 33 keys; every Profile has its 30 keys and a numeric
 * UserID; every result re-encodes; a failure always says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kinds/twitter_web_parse.h"

#define TWEET_KEYS 33
#define PROFILE_KEYS 30

static void check_encodes(const json_t *v)
{
    char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!dump)
        abort();
    free(dump);
}

static void check_tweet(const json_t *t)
{
    const char *text = json_string_value(json_object_get(t, "tweet_id"));
    if (!text || !*text || json_object_size(t) != TWEET_KEYS ||
        strtoll(text, NULL, 10) != json_integer_value(json_object_get(t, "id")))
        abort();
    check_encodes(t);
}

static void check_profile(const json_t *p)
{
    const char *id = json_string_value(json_object_get(p, "UserID"));
    if (!id || !*id || strspn(id, "0123456789") != strlen(id) ||
        json_object_size(p) != PROFILE_KEYS)
        abort();
    check_encodes(p);
}

static void check_why(const char *why)
{
    if (!*why)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[TWITTER_WEB_WHY] = "";
    unsigned pick = data[0] % (TWITTER_WEB_TIMELINE_COUNT + 5);
    if (pick < TWITTER_WEB_TIMELINE_COUNT) {
        enum twitter_web_timeline kind = (enum twitter_web_timeline)pick;
        struct twitter_web_page page;
        if (twitter_web_parse_timeline(kind, body, len, "2300000000000000002", &page, why,
                                       sizeof why) != 0) {
            check_why(why);
            if (page.items || page.next_cursor || page.prev_cursor)
                abort();
            return 0;
        }
        size_t i;
        json_t *v;
        json_array_foreach(page.items, i, v) {
            if (kind == TWITTER_WEB_RETWEETERS || kind == TWITTER_WEB_FOLLOWS)
                check_profile(v);
            else
                check_tweet(v);
        }
        twitter_web_page_clear(&page);
        return 0;
    }
    json_t *out = NULL;
    switch (pick - TWITTER_WEB_TIMELINE_COUNT) {
    case 0:
        out = twitter_web_parse_tweet(body, len, "2300000000000000002", why, sizeof why);
        if (out)
            check_tweet(out);
        break;
    case 1:
        out = twitter_web_parse_user(body, len, "someone", why, sizeof why);
        if (out)
            check_profile(out);
        break;
    case 2:
        out = twitter_web_parse_trends(body, len, why, sizeof why);
        if (out && !json_is_null(out) && !(json_is_array(out) && json_array_size(out) > 0))
            abort();                        /* a non-empty list, or null for none */
        break;
    case 3:
        out = twitter_web_parse_space(body, len, why, sizeof why);
        if (out && !json_is_array(json_object_get(out, "Topics")))
            abort();
        break;
    default: {
        struct twitter_web_error err;
        int rc = twitter_web_error(body, len, &err);
        if (rc == 1)
            (void)twitter_web_error_classify(&err);
        return 0;
    }
    }
    if (out)
        check_encodes(out);
    else
        check_why(why);
    json_decref(out);
    return 0;
}
