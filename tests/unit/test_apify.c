/* test_apify.c - the pure parts of the Apify users: the offset cursor (tiktok-reddit-apify.md 2.4),
 * RFC 3339 normalisation, the Go-style record decoder, the Reddit item decoders (2.5), Reddit
 * argument validation and actor input (2.1, 2.2), the ProfileResultApify decoder (twitter.md 8.3),
 * the follower actor input (twitter.md 7), and the TikTok search decoders and validation (1.10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kinds/json_record.h"
#include "kinds/reddit_args.h"
#include "kinds/reddit_items.h"
#include "kinds/tiktok_search.h"
#include "kinds/twitter_apify.h"
#include "net/apify.h"
#include "json_assert.h"

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

/* ---- cursor ---- */

static void test_cursor_encode_examples(void **state)
{
    (void)state;
    const struct { size_t offset; const char *cursor; } cases[] = {
        { 10, "eyJvZmZzZXQiOjEwfQ==" }, { 20, "eyJvZmZzZXQiOjIwfQ==" },
        { 100, "eyJvZmZzZXQiOjEwMH0=" }, { 0, "eyJvZmZzZXQiOjB9" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *c = apify_cursor_encode(cases[i].offset);
        assert_string_equal(c, cases[i].cursor);
        assert_int_equal(apify_cursor_decode(c), cases[i].offset);
        free(c);
    }
}

static void test_cursor_decode_bad_is_zero(void **state)
{
    (void)state;
    assert_int_equal(apify_cursor_decode(NULL), 0);
    assert_int_equal(apify_cursor_decode(""), 0);
    assert_int_equal(apify_cursor_decode("!!!!"), 0);
    assert_int_equal(apify_cursor_decode("eyJvZmZzZXQiOjEwfQ"), 0);        /* no padding */
    assert_int_equal(apify_cursor_decode("bm90IGpzb24="), 0);              /* "not json" */
    assert_int_equal(apify_cursor_decode("eyJvZmZzZXQiOi0xfQ=="), 0);      /* {"offset":-1} */
    assert_int_equal(apify_cursor_decode("eyJvZmZzZXQiOjEuNX0="), 0);      /* {"offset":1.5} */
    assert_int_equal(apify_cursor_decode("eyJvZmZzZXQiOiI1In0="), 0);      /* {"offset":"5"} */
    assert_int_equal(apify_cursor_decode("WzVd"), 0);                      /* [5] */
    /* {"offset":5,"x":1} -> extra keys ignored; {"Offset":7} -> key case-insensitive */
    assert_int_equal(apify_cursor_decode("eyJvZmZzZXQiOjUsIngiOjF9"), 5);
    assert_int_equal(apify_cursor_decode("eyJPZmZzZXQiOjd9"), 7);
}

/* ---- RFC 3339 ---- */

static void test_rfc3339(void **state)
{
    (void)state;
    const struct { const char *in, *out; } good[] = {
        { "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z" },
        { "2024-05-01T12:00:00.500000+02:00", "2024-05-01T12:00:00.5+02:00" },
        { "2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00Z" },
        { "2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00Z" },
        { "2024-02-29T23:59:59.123456789-05:30", "2024-02-29T23:59:59.123456789-05:30" },
        { "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z" },
    };
    char out[64];
    long long epoch;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(rfc3339_normalise(good[i].in, out, sizeof out, NULL), 0);
        assert_string_equal(out, good[i].out);
    }
    assert_int_equal(rfc3339_normalise("1970-01-02T01:00:00+01:00", out, sizeof out, &epoch), 0);
    assert_int_equal(epoch, 86400);
    const char *bad[] = { "", "2024-05-01 12:00:00Z", "2024-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2024-05-01T12:00:00", "2024-05-01T24:00:00Z",
                          "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00Zjunk",
                          "2024-05-01T12:00:00+0200", "2024-5-01T12:00:00Z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rfc3339_normalise(bad[i], out, sizeof out, NULL) == 0)
            fail_msg("%s accepted as RFC 3339", bad[i]);
}

/* ---- Reddit items ---- */

static json_t *reddit_one(const char *raw_text)
{
    json_t *raw = parse(raw_text);
    json_t *rec = reddit_item_decode(raw, NULL, 0);
    json_decref(raw);
    return rec;
}

static void test_reddit_user_and_community(void **state)
{
    (void)state;
    assert_json_text(
        reddit_one("{\"dataType\":\"user\",\"id\":\"u1\",\"username\":\"bob\",\"postKarma\":5,"
                   "\"createdAt\":\"2020-01-02T03:04:05.120+01:00\",\"extra\":1}"),
        "{\"id\":\"u1\",\"url\":\"\",\"username\":\"bob\",\"userIcon\":\"\",\"postKarma\":5,"
        "\"commentKarma\":0,\"description\":\"\",\"over18\":false,"
        "\"createdAt\":\"2020-01-02T03:04:05.12+01:00\",\"scrapedAt\":\"0001-01-01T00:00:00Z\","
        "\"dataType\":\"user\"}");
    assert_json_text(
        reddit_one("{\"DATATYPE\":\"community\",\"name\":\"r/x\",\"numberOfMembers\":12,"
                   "\"over18\":null}"),
        "{\"id\":\"\",\"name\":\"r/x\",\"title\":\"\",\"headerImage\":\"\",\"description\":\"\","
        "\"over18\":false,\"createdAt\":\"0001-01-01T00:00:00Z\","
        "\"scrapedAt\":\"0001-01-01T00:00:00Z\",\"numberOfMembers\":12,\"url\":\"\","
        "\"dataType\":\"community\"}");
}

static void test_reddit_post_and_comment(void **state)
{
    (void)state;
    assert_json_text(
        reddit_one("{\"dataType\":\"post\",\"id\":\"p1\",\"html\":null,\"upVotes\":3,"
                   "\"isVideo\":true}"),
        "{\"id\":\"p1\",\"parsedId\":\"\",\"url\":\"\",\"username\":\"\",\"title\":\"\","
        "\"communityName\":\"\",\"parsedCommunityName\":\"\",\"body\":\"\",\"html\":null,"
        "\"numberOfComments\":0,\"upVotes\":3,\"isVideo\":true,\"isAd\":false,\"over18\":false,"
        "\"createdAt\":\"0001-01-01T00:00:00Z\",\"scrapedAt\":\"0001-01-01T00:00:00Z\","
        "\"dataType\":\"post\"}");
    /* numberOfReplies fills numberOfreplies (case-insensitive keys); html never null */
    assert_json_text(
        reddit_one("{\"dataType\":\"comment\",\"id\":\"c1\",\"numberOfReplies\":4,"
                   "\"html\":null,\"body\":\"<b>&</b>\"}"),
        "{\"id\":\"c1\",\"parsedId\":\"\",\"url\":\"\",\"parentId\":\"\",\"username\":\"\","
        "\"category\":\"\",\"communityName\":\"\",\"body\":\"\\u003cb\\u003e\\u0026\\u003c/b\\u003e\","
        "\"createdAt\":\"0001-01-01T00:00:00Z\",\"scrapedAt\":\"0001-01-01T00:00:00Z\","
        "\"upVotes\":0,\"numberOfreplies\":4,\"html\":\"\",\"dataType\":\"comment\"}");
}

static void test_reddit_items_skipped(void **state)
{
    (void)state;
    const char *skipped[] = {
        "null", "[]", "\"post\"", "{}", "{\"dataType\":\"Post\"}", "{\"dataType\":7}",
        "{\"dataType\":\"video\"}", "{\"dataType\":\"post\",\"id\":12}",
        "{\"dataType\":\"post\",\"upVotes\":1.5}", "{\"dataType\":\"post\",\"upVotes\":\"1\"}",
        "{\"dataType\":\"user\",\"createdAt\":\"yesterday\"}",
        "{\"dataType\":\"user\",\"createdAt\":0}", "{\"dataType\":\"user\",\"over18\":\"true\"}",
        /* a bad value under a second spelling of the key still fails the item */
        "{\"dataType\":\"user\",\"id\":\"a\",\"ID\":5}",
    };
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
        json_t *rec = reddit_one(skipped[i]);
        if (rec) {
            json_decref(rec);
            fail_msg("%s should not decode", skipped[i]);
        }
    }
    json_t *raw = parse("[null,{\"dataType\":\"user\",\"id\":\"a\"},{\"dataType\":\"x\"},"
                        "{\"dataType\":\"community\",\"id\":\"b\"}]");
    json_t *items = reddit_items_decode(raw);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "id")), "b");
    json_decref(items);
    json_decref(raw);
}

/* ---- Reddit arguments ---- */

static void assert_reddit_error(const char *args_text, const char *messages)
{
    json_t *args = parse(args_text);
    struct reddit_args a;
    struct err e = { 0 };
    if (reddit_args_parse(args, &a, &e) == 0)
        fail_msg("%s accepted", args_text);
    assert_int_equal(e.http, 400);
    char want[512];
    snprintf(want, sizeof want, "%s%s", REDDIT_ARGS_PREFIX, messages);
    assert_string_equal(e.msg, want);
    json_decref(args);
}

static void test_reddit_validation_messages(void **state)
{
    (void)state;
    assert_reddit_error("{}", "urls must be provided for scrapeurls query type");
    assert_reddit_error("{\"invalid\":\"args\"}", "urls must be provided for scrapeurls query type");
    assert_reddit_error("{\"type\":\"x\",\"sort\":\"best\"}", "invalid type\ninvalid sort");
    assert_reddit_error("{\"type\":\"searchposts\",\"queries\":[\"a\"],"
                        "\"after\":\"2999-01-01T00:00:00Z\"}", "after field is in the future");
    assert_reddit_error("{\"type\":\"searchusers\"}",
                        "queries must be provided for all query types except scrapeurls");
    assert_reddit_error("{\"type\":\"searchposts\",\"queries\":[\"a\"],\"urls\":[\"u\"]}",
                        "urls can only be provided for the scrapeurls query type");
    assert_reddit_error("{\"type\":\"scrapeurls\",\"queries\":[\"a\"],"
                        "\"urls\":[\"https://reddit.com/r/a/comments/1\"]}",
                        "the scrapeurls query type does not admit queries");
    assert_reddit_error("{\"urls\":[\"https://example.com/r/a/comments/1\"]}",
                        "invalid Reddit URL https://example.com/r/a/comments/1");
    assert_reddit_error("{\"urls\":[\"https://www.reddit.com/user/x\"]}",
                        "https://www.reddit.com/user/x is not a Reddit post or comment URL "
                        "(missing /r/)\nhttps://www.reddit.com/user/x is not a Reddit post or "
                        "comment URL (missing /comments/)");
    assert_reddit_error("{\"urls\":[\"https://reddit.com/r/a/\"]}",
                        "https://reddit.com/r/a/ is not a Reddit post or comment URL "
                        "(missing /comments/)");
    assert_reddit_error("{\"urls\":[\"https://reddit.com/r/%zz/comments/1\"]}",
                        "<nil> is not a valid URL");
    assert_reddit_error("{\"urls\":[\"https://reddit.com:x/r/a/comments/1\"]}",
                        "<nil> is not a valid URL");
    assert_reddit_error("{\"max_items\":-1}", "failed to unmarshal Reddit arguments: json: cannot "
                        "unmarshal number -1 into Go struct field .max_items of type uint");
    assert_reddit_error("{\"queries\":\"a\"}", "failed to unmarshal Reddit arguments: json: cannot "
                        "unmarshal string into Go struct field .queries of type []string");
    assert_reddit_error("{\"after\":\"\"}", "failed to unmarshal Reddit arguments: parsing time "
                        "\"\" as \"2006-01-02T15:04:05Z07:00\": not an RFC 3339 time");
}

static void test_reddit_accepts(void **state)
{
    (void)state;
    const char *ok[] = {
        "{\"urls\":[\"https://www.reddit.com/r/golang/comments/abc/title/\"]}",
        "{\"type\":\"SCRAPEURLS\",\"urls\":[\"https://notreddit.com/r/a/comments/1\"]}",
        "{\"type\":\"searchcommunities\",\"queries\":[\"x\"],\"sort\":\"TOP\",\"after\":null}",
        "{\"type\":\"searchposts\",\"queries\":[\"x\"],\"max_items\":2.0}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        json_t *args = parse(ok[i]);
        struct reddit_args a;
        struct err e = { 0 };
        if (reddit_args_parse(args, &a, &e) != 0)
            fail_msg("%s refused: %s", ok[i], e.msg);
        json_decref(args);
    }
}

static json_t *reddit_input(const char *args_text)
{
    json_t *args = parse(args_text);
    struct reddit_args a;
    struct err e = { 0 };
    assert_int_equal(reddit_args_parse(args, &a, &e), 0);
    json_t *in = reddit_actor_input(&a);
    json_decref(args);
    return in;
}

static void test_reddit_actor_input(void **state)
{
    (void)state;
    assert_json_sent(reddit_input("{\"type\":\"searchposts\",\"queries\":[\"NASA\"]}"),
        "{\"type\":\"posts\",\"searches\":[\"NASA\"],\"sort\":\"new\","
        "\"postDateLimit\":\"0001-01-01T00:00:00Z\",\"includeNSFW\":false,\"maxItems\":10,"
        "\"maxPostCount\":10,\"maxComments\":10,\"maxCommunitiesCount\":2,\"maxUserCount\":2,"
        "\"searchComments\":false,\"searchCommunities\":false,\"searchPosts\":true,"
        "\"searchUsers\":false,\"skipUserPosts\":false,\"skipComments\":false}");
    /* after is sent as given (DECISIONS.md), not dropped */
    assert_json_sent(reddit_input("{\"urls\":[\"https://reddit.com/r/a/comments/1\"],"
                                  "\"after\":\"2024-01-02T03:04:05.50+01:00\",\"max_items\":3}"),
        "{\"startUrls\":[{\"url\":\"https://reddit.com/r/a/comments/1\",\"method\":\"GET\"}],"
        "\"sort\":\"new\",\"postDateLimit\":\"2024-01-02T03:04:05.5+01:00\",\"includeNSFW\":false,"
        "\"maxItems\":3,\"maxPostCount\":10,\"maxComments\":10,\"maxCommunitiesCount\":2,"
        "\"maxUserCount\":2,\"searchComments\":true,\"searchCommunities\":true,"
        "\"searchPosts\":true,\"searchUsers\":true,\"skipUserPosts\":false,"
        "\"skipComments\":false}");
    assert_json_sent(reddit_input("{\"type\":\"searchusers\",\"queries\":[\"a\",\"b\"],"
                                  "\"skip_posts\":true,\"include_nsfw\":true,\"max_users\":7}"),
        "{\"type\":\"users\",\"searches\":[\"a\",\"b\"],\"sort\":\"new\",\"includeNSFW\":true,"
        "\"maxItems\":10,\"maxPostCount\":10,\"maxComments\":10,\"maxCommunitiesCount\":2,"
        "\"maxUserCount\":7,\"searchComments\":false,\"searchCommunities\":false,"
        "\"searchPosts\":false,\"searchUsers\":true,\"skipUserPosts\":true,"
        "\"skipComments\":false}");
    json_t *in = reddit_input("{\"type\":\"searchcommunities\",\"queries\":[\"a\"]}");
    assert_string_equal(json_string_value(json_object_get(in, "type")), "community");
    assert_true(json_is_true(json_object_get(in, "searchCommunities")));
    json_decref(in);
}

/* ---- ProfileResultApify ---- */

static void test_profile_decode(void **state)
{
    (void)state;
    json_t *raw = parse("{\"id\":1234567890123456789,\"screen_name\":\"nasa\",\"url\":null,"
                        "\"utc_offset\":3600,\"pinned_tweet_ids\":[9007199254740993],"
                        "\"entities\":{\"url\":{\"urls\":[{\"url\":\"https://t.co/x\","
                        "\"indices\":[0,23]}]}},\"unknown\":true}");
    json_t *p = twitter_apify_profile_decode(raw, NULL, 0);
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "id")), 1234567890123456789LL);
    assert_true(json_is_null(json_object_get(p, "url")));
    assert_true(json_is_null(json_object_get(p, "email")));
    assert_true(json_is_null(json_object_get(p, "withheld_in_countries")));
    assert_int_equal(json_integer_value(json_object_get(p, "utc_offset")), 3600);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(p, "pinned_tweet_ids"), 0)),
                     9007199254740993LL);
    assert_null(json_object_get(p, "unknown"));
    assert_int_equal(json_object_size(p), 62);
    char *ent = json_dumps(json_object_get(p, "entities"), JSON_COMPACT);
    assert_string_equal(ent, "{\"url\":{\"urls\":[{\"url\":\"https://t.co/x\",\"expanded_url\":\"\","
                             "\"display_url\":\"\",\"indices\":[0,23]}]}}");
    free(ent);
    json_decref(p);
    json_decref(raw);

    raw = parse("[{\"id\":\"12\"},null,{\"screen_name\":\"a\"},{\"id\":1.5}]");
    json_t *list = twitter_apify_profiles_decode(raw);
    assert_int_equal(json_array_size(list), 1);
    json_t *only = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(only, "screen_name")), "a");
    assert_int_equal(json_object_size(json_object_get(only, "entities")), 0);
    assert_int_equal(json_integer_value(json_object_get(only, "id")), 0);
    json_decref(list);
    json_decref(raw);
}

/* ---- follower actor input ---- */

static void test_follower_input(void **state)
{
    (void)state;
    assert_json_sent(twitter_apify_actor_input(false, "nasa", 50),
                     "{\"user_names\":[\"nasa\"],\"user_ids\":[],\"maxFollowers\":200,"
                     "\"maxFollowings\":200,\"getFollowers\":true,\"getFollowing\":false}");
    assert_json_sent(twitter_apify_actor_input(true, "nasa", 500),
                     "{\"user_names\":[\"nasa\"],\"user_ids\":[],\"maxFollowers\":200,"
                     "\"maxFollowings\":500,\"getFollowers\":false,\"getFollowing\":true}");
}

/* ---- TikTok search ---- */

static void assert_tiktok(const char *type, const char *args_text, const char *error)
{
    json_t *args = parse(args_text);
    struct err e = { 0 };
    int rc = tiktok_search_validate(type, args, &e);
    json_decref(args);
    if (!error) {
        if (rc != 0)
            fail_msg("%s %s refused: %s", type, args_text, e.msg);
        return;
    }
    if (rc == 0)
        fail_msg("%s %s accepted", type, args_text);
    assert_int_equal(e.http, 400);
    char want[300];
    snprintf(want, sizeof want, "Failed to unmarshal job arguments: %s", error);
    assert_string_equal(e.msg, want);
}

static void test_tiktok_validation(void **state)
{
    (void)state;
    assert_true(tiktok_search_handles("searchbyquery"));
    assert_true(tiktok_search_handles("searchbytrending"));
    assert_false(tiktok_search_handles("transcription"));
    assert_tiktok("searchbyquery", "{}",
                  "either 'search' or 'start_urls' is required for searchbyquery");
    assert_tiktok("searchbyquery", "{\"search\":[]}",
                  "either 'search' or 'start_urls' is required for searchbyquery");
    assert_tiktok("searchbyquery", "{\"search\":[\"cats\"],\"max_items\":-2}",
                  "json: cannot unmarshal number -2 into Go struct field .max_items of type uint");
    assert_tiktok("searchbyquery", "{\"start_urls\":[\"https://www.tiktok.com/tag/x\"]}", NULL);
    assert_tiktok("searchbytrending", "{}", NULL);
    assert_tiktok("searchbytrending", "{\"country_code\":\"gb\",\"sort_by\":\"LIKE\",\"period\":\"30\"}",
                  NULL);
    assert_tiktok("searchbytrending", "{\"country_code\":\"XX\"}", "invalid country_code 'XX'");
    assert_tiktok("searchbytrending", "{\"sort_by\":\"views\"}", "invalid sort_by 'views'");
    assert_tiktok("searchbytrending", "{\"period\":\"14\"}", "invalid period '14' (allowed: 7, 30)");
    assert_tiktok("searchbytrending", "{\"max_items\":-1}", "max_items must be non-negative, got: -1");
}

static void test_tiktok_items(void **state)
{
    (void)state;
    json_t *raw = parse("{\"id\":\"7\",\"title\":\"t\",\"duration\":15,\"x\":1}");
    assert_json_text(tiktok_trending_item_decode(raw, NULL, 0),
                     "{\"country_code\":\"\",\"cover\":\"\",\"duration\":15,\"id\":\"7\","
                     "\"item_id\":\"\",\"item_url\":\"\",\"region\":\"\",\"title\":\"t\"}");
    json_decref(raw);
    raw = parse("{\"id\":\"1\",\"createTime\":\"1700000000\",\"video\":{\"height\":720,"
                "\"zoomCover\":{\"240\":\"z\"},\"bitrateInfo\":[{\"PlayAddr\":{\"UrlList\":[\"u\"]}}]},"
                "\"stats\":{\"playCount\":9007199254740993},"
                "\"challenges\":[{\"b\":1,\"a\":{\"d\":2.50,\"c\":[{\"z\":\"<\",\"y\":null}]}},7]}");
    json_t *q = tiktok_query_item_decode(raw, NULL, 0);
    json_decref(raw);
    assert_non_null(q);
    assert_int_equal(json_object_size(q), 46);
    json_t *video = json_object_get(q, "video");
    assert_int_equal(json_integer_value(json_object_get(video, "height")), 720);
    assert_string_equal(json_string_value(json_object_get(json_object_get(video, "zoomCover"), "240")), "z");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "stats"), "playCount")),
                     9007199254740993LL);
    assert_true(json_is_null(json_object_get(q, "textExtra")));
    /* []any: its objects are Go maps, written with their keys sorted */
    assert_json_is(json_object_get(q, "challenges"),
                   "[{\"a\":{\"c\":[{\"y\":null,\"z\":\"\\u003c\"}],\"d\":2.5},\"b\":1},7]");
    assert_string_equal(json_string_value(json_object_get(json_object_get(q, "music"), "title")), "");
    json_decref(q);
    const char *bad[] = { "null", "{\"createTime\":1700000000}", "{\"author\":{\"id\":\"x\"}}",
                          "{\"video\":{\"height\":\"720\"}}", "{\"challenges\":{}}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        raw = parse(bad[i]);
        q = tiktok_query_item_decode(raw, NULL, 0);
        json_decref(raw);
        if (q) {
            json_decref(q);
            fail_msg("%s should not decode", bad[i]);
        }
    }
}

/* ---- dataset pages ---- */

static json_t *page_ok(const char *text)
{
    json_t *items = NULL;
    char why[200] = "";
    if (apify_items_parse(text, strlen(text), &items, why, sizeof why) < 0)
        fail_msg("page %s refused: %s", text, why);
    assert_true(json_is_array(items));
    return items;
}

static void page_refused(const char *text, size_t len, const char *want)
{
    json_t *items = (json_t *)1;
    char why[200] = "";
    assert_int_equal(apify_items_parse(text, len, &items, why, sizeof why), -1);
    assert_null(items);
    if (!strstr(why, want))
        fail_msg("page %.60s: reason %s, expected %s", text, why, want);
}

/* an integer beyond int64 is read as a real (as Go's float64), the rest of the page as it is */
static void test_page_big_ints_as_reals(void **state)
{
    (void)state;
    json_t *items = page_ok("[{\"big\":12345678901234567890,\"s\":\"99999999999999999999\"},"
                            "{\"n\":-9223372036854775809,\"m\":-9223372036854775808},7]");
    assert_int_equal(json_array_size(items), 3);
    json_t *big = json_object_get(json_array_get(items, 0), "big");
    assert_true(json_is_real(big));
    assert_true(json_real_value(big) == 12345678901234567890.0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "s")),
                        "99999999999999999999");
    assert_true(json_is_real(json_object_get(json_array_get(items, 1), "n")));
    assert_true(json_is_integer(json_object_get(json_array_get(items, 1), "m")));
    assert_int_equal(json_integer_value(json_array_get(items, 2)), 7);
    json_decref(items);
}

/* a \u0000 in a string (at any depth) or a key, or a number beyond double: that item becomes
 * null in its place, the others stay */
static void test_page_bad_items_cost_only_themselves(void **state)
{
    (void)state;
    json_t *items = page_ok("[{\"t\":\"a\\u0000b\"},{\"t\":\"ok\"},"
                            "{\"deep\":[[{\"x\":[\"\\u0000\"]}]]}]");
    assert_json_text(items, "[null,{\"t\":\"ok\"},null]");

    items = page_ok("[{\"a\\u0000\":1},{\"t\":\"ok\"}]");
    assert_json_text(items, "[null,{\"t\":\"ok\"}]");

    items = page_ok(" [ {\"x\":1e400} , \"]},[{\\\"\" ,{\"s\":\"}]\\\\\",\"n\":-1e-2},3,[1,[2,{}]],"
                    "null,true , {\"n\":99999999999999999999,\"z\":\"\\u0000\"},-2e999 ] \n");
    assert_json_text(items, "[null,\"]},[{\\\"\",{\"s\":\"}]\\\\\",\"n\":-0.01},3,[1,[2,{}]],"
                     "null,true,null,null]");

    /* big integers and a real overflow in one page */
    items = page_ok("[{\"x\":1e400},{\"n\":99999999999999999999}]");
    assert_int_equal(json_array_size(items), 2);
    assert_true(json_is_null(json_array_get(items, 0)));
    assert_true(json_is_real(json_object_get(json_array_get(items, 1), "n")));
    json_decref(items);
}

/* broken syntax still fails the page, on either path; null is no items */
static void test_page_refusals(void **state)
{
    (void)state;
    page_refused("[{]", 3, "");
    page_refused("{\"items\":[]}", 12, "expected a JSON array");
    const char *broken[] = {
        "[{\"x\":1e400} {\"y\":1}]", "[{\"x\":1e400},]", "[{\"x\":1e400}", "[{\"x\":1e400}] x",
        "[{\"x\":1e400},{\"y\":tru}]", "[{\"x\":1e400},\"open]", "{\"x\":1e400}", "[1e400,]",
        "[,1e400]", "[{\"x\":1e400},{]",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        page_refused(broken[i], strlen(broken[i]), "");
    json_t *items = page_ok(" null ");
    assert_json_text(items, "[]");
    items = page_ok("[1e400]");
    assert_json_text(items, "[null]");
}

/* a page whose decoding would take too much memory is refused before jansson sees it */
static void test_page_too_costly(void **state)
{
    (void)state;
    size_t n = 700000, len = 3 * n + 1;
    char *text = malloc(len);
    if (!text)
        abort();
    for (size_t i = 0; i < n; i++)
        memcpy(text + 3 * i, ",{}", 3);
    text[0] = '[';
    text[len - 1] = ']';
    page_refused(text, len, "would take about");
    free(text);
}

static void test_err_prefix_cuts_utf8(void **state)
{
    (void)state;
    struct err e = { 0 };
    char long_msg[300];
    memset(long_msg, 0, sizeof long_msg);
    for (size_t i = 0; i + 2 < 250; i += 2)
        memcpy(long_msg + i, "\xc3\xa9", 2);            /* e-acute, 2 bytes each */
    err_set(&e, 502, "%s", long_msg);
    assert_int_equal(apify_err_prefix(&e, "abc"), -1);
    assert_int_equal(e.http, 502);
    assert_memory_equal(e.msg, "abc: ", 5);
    json_t *s = json_string(e.msg);                       /* still valid UTF-8 */
    assert_non_null(s);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_encode_examples),
        cmocka_unit_test(test_cursor_decode_bad_is_zero),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_reddit_user_and_community),
        cmocka_unit_test(test_reddit_post_and_comment),
        cmocka_unit_test(test_reddit_items_skipped),
        cmocka_unit_test(test_reddit_validation_messages),
        cmocka_unit_test(test_reddit_accepts),
        cmocka_unit_test(test_reddit_actor_input),
        cmocka_unit_test(test_profile_decode),
        cmocka_unit_test(test_follower_input),
        cmocka_unit_test(test_tiktok_validation),
        cmocka_unit_test(test_tiktok_items),
        cmocka_unit_test(test_page_big_ints_as_reals),
        cmocka_unit_test(test_page_bad_items_cost_only_themselves),
        cmocka_unit_test(test_page_refusals),
        cmocka_unit_test(test_page_too_costly),
        cmocka_unit_test(test_err_prefix_cuts_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
