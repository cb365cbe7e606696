/* test_twitter_web_parse.c - the X web client parsers (twitter_web_parse.h) on hand-written
 * captured-shape fixtures (tests/fixtures/twitter_web/, found through TW_FIXTURES): 2024 and
 * 2026 shapes of search, user tweets/media, home, tweet detail (replies), tweet lookup,
 * followers, retweeters, profiles, trends and spaces; exact ids above 2^53, cursors, media,
 * html, the fixed Go values; X's error envelope; hostile bodies (truncations, wrong types, deep
 * nesting) that must fail cleanly or be skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kinds/twitter_web_parse.h"
#include "json_assert.h"
#include "costly_json.h"

/* ---- helpers ---- */

static char *fixture(const char *name, size_t *len)
{
    const char *dir = getenv("TW_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/twitter_web/%s", dir ? dir : "tests/fixtures", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (set TW_FIXTURES)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int parse_fixture(enum twitter_web_timeline kind, const char *name, const char *focal,
                         struct twitter_web_page *page)
{
    size_t len;
    char *body = fixture(name, &len);
    char why[TWITTER_WEB_WHY] = "";
    int rc = twitter_web_parse_timeline(kind, body, len, focal, page, why, sizeof why);
    if (rc != 0)
        fail_msg("%s: %s", name, why);
    free(body);
    return rc;
}

static const char *s_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("member %s is not a string", key);
    return json_string_value(v);
}

static long long i_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("member %s is not an integer", key);
    return json_integer_value(v);
}

static bool b_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        fail_msg("member %s is not a boolean", key);
    return json_is_true(v);
}

static const json_t *item(const struct twitter_web_page *p, size_t i)
{
    const json_t *v = json_array_get(p->items, i);
    assert_non_null(v);
    return v;
}

static void assert_ids(const struct twitter_web_page *p, const char *const *ids, size_t n)
{
    assert_int_equal(json_array_size(p->items), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s_of(item(p, i), "tweet_id"), ids[i]);
}

#define ZERO_CURSOR \
    "\"ThreadCursor\":{\"focal_tweet_id\":\"\",\"thread_id\":\"\",\"cursor\":\"\",\"cursor_type\":\"\"}"

/* ---- search ---- */

static void test_search_2024(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_SEARCH, "search_2024.json", NULL, &p);
    static const char *const ids[] = { "1900000000000000001", "1900000000000000002" };
    assert_ids(&p, ids, 2);
    assert_string_equal(p.next_cursor, "DAADDAABCgABnext");   /* the replaced Bottom cursor */
    assert_string_equal(p.prev_cursor, "DAADDAABCgABtop");
    assert_int_equal(p.entries, 8);
    assert_int_equal(p.skipped, 2);                          /* tombstone, promoted */

    /* The whole TweetResult: every key in Go's order, the id exact above 2^53. */
    assert_json_is(item(&p, 0),
        "{\"id\":1900000000000000001,\"tweet_id\":\"1900000000000000001\","
        "\"conversation_id\":\"1900000000000000001\",\"user_id\":\"42\","
        "\"text\":\"hi #tag https://example.com\",\"created_at\":\"2025-01-01T12:00:00Z\","
        "\"timestamp\":1735732800," ZERO_CURSOR ",\"is_quoted\":false,\"is_pin\":false,"
        "\"is_reply\":false,\"is_retweet\":false,\"is_self_thread\":false,\"likes\":1,"
        "\"hashtags\":[\"tag\"],"
        "\"html\":\"hi \\u003ca href=\\\"https://twitter.com/hashtag/tag\\\"\\u003e#tag\\u003c/a\\u003e "
        "\\u003ca href=\\\"https://example.com\\\"\\u003ehttps://example.com\\u003c/a\\u003e"
        "\\u003cbr\\u003e\\u003cimg src=\\\"https://pbs.example/p.jpg\\\"/\\u003e\","
        "\"replies\":2,\"retweets\":3,"
        "\"urls\":[\"https://example.com\"],\"username\":\"alice\","
        "\"photos\":[{\"id\":\"5\",\"url\":\"https://pbs.example/p.jpg\"}],\"videos\":null,"
        "\"retweeted_status_id\":\"\",\"views\":7,\"sensitive_content\":false,\"author_id\":\"42\","
        "\"public_metrics\":{\"retweet_count\":3,\"reply_count\":2,\"like_count\":1,"
        "\"quote_count\":4,\"bookmark_count\":5,\"impression_count\":0},"
        "\"possibly_sensitive\":false,\"lang\":\"en\",\"newest_id\":\"\",\"oldest_id\":\"\","
        "\"result_count\":0,\"error\":null}");
    assert_true(i_of(item(&p, 0), "id") == 1900000000000000001LL);

    /* The visibility-wrapped reply: time zone applied, mention linked, newline as <br>. */
    const json_t *t = item(&p, 1);
    assert_true(i_of(t, "id") == 1900000000000000002LL);
    assert_string_equal(s_of(t, "username"), "bob");
    assert_string_equal(s_of(t, "created_at"), "2025-01-02T07:30:15Z");
    assert_int_equal(i_of(t, "timestamp"), 1735803015);
    assert_true(b_of(t, "is_reply"));
    assert_int_equal(i_of(t, "views"), 1234);
    assert_int_equal(i_of(t, "likes"), 10);
    assert_string_equal(s_of(t, "text"), "@alice agreed\nsee you");
    assert_string_equal(s_of(t, "html"),
                        "<a href=\"https://twitter.com/alice\">@alice</a> agreed<br>see you");
    assert_true(json_is_null(json_object_get(t, "hashtags")));
    assert_true(json_is_null(json_object_get(t, "urls")));
    assert_true(json_is_null(json_object_get(t, "photos")));
    twitter_web_page_clear(&p);
}

static void test_search_2026(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_SEARCH, "search_2026.json", NULL, &p);
    static const char *const ids[] = { "2000000000000000011", "2000000000000000012",
                                       "2000000000000000013", "2000000000000000014" };
    assert_ids(&p, ids, 4);
    assert_string_equal(p.next_cursor, "DAACCgACGdy2026");
    assert_null(p.prev_cursor);

    /* legacy null, fields at the top level, id from rest_id, note-tweet text and entities,
     * 2026 author (core.screen_name), pinned through pinned_items. */
    const json_t *t = item(&p, 0);
    assert_true(i_of(t, "id") == 2000000000000000011LL);
    assert_string_equal(s_of(t, "text"),
        "A long post about #longform with a link https://docs.x.com/long and more words");
    assert_string_equal(s_of(t, "username"), "XDevelopers");
    assert_string_equal(s_of(t, "user_id"), "9000000000000000777");
    assert_string_equal(s_of(t, "created_at"), "2026-03-02T23:59:59Z");
    assert_int_equal(i_of(t, "views"), 99);
    assert_int_equal(i_of(t, "likes"), 100);
    assert_int_equal(i_of(t, "replies"), 20);
    assert_int_equal(i_of(t, "retweets"), 30);
    assert_true(b_of(t, "is_pin"));
    assert_json_is(json_object_get(t, "hashtags"), "[\"longform\"]");
    assert_json_is(json_object_get(t, "urls"), "[\"https://docs.x.com/long\"]");
    assert_string_equal(s_of(t, "html"),
        "A long post about <a href=\"https://twitter.com/hashtag/longform\">#longform</a> with a "
        "link <a href=\"https://docs.x.com/long\">https://docs.x.com/long</a> and more words");

    /* A retweet cut with "…": rebuilt from the (visibility-wrapped) original. */
    t = item(&p, 1);
    assert_true(b_of(t, "is_retweet"));
    assert_string_equal(s_of(t, "retweeted_status_id"), "2000000000000000001");
    assert_string_equal(s_of(t, "text"),
        "RT @orig: The original words were long enough to be cut by X when retweeted so here "
        "they are https://orig.example/full");
    assert_int_equal(i_of(t, "retweets"), 7);

    /* A quote with a video: the best variant without ?tag=, the HLS list, sensitive media. */
    t = item(&p, 2);
    assert_true(b_of(t, "is_quoted"));
    assert_false(b_of(t, "is_retweet"));
    assert_true(b_of(t, "sensitive_content"));
    assert_json_is(json_object_get(t, "videos"),
        "[{\"id\":\"700\",\"preview\":\"https://pbs.twimg.com/ext_tw_video_thumb/700/pu/img/thumb.jpg\","
        "\"url\":\"https://video.twimg.com/ext_tw_video/700/pu/vid/1280x720/high.mp4\","
        "\"hls_url\":\"https://video.twimg.com/ext_tw_video/700/pu/pl/list.m3u8?tag=12\"}]");
    assert_true(json_is_null(json_object_get(t, "photos")));
    assert_string_equal(s_of(t, "text"),
                        "look at this https://pbs.twimg.com/ext_tw_video_thumb/700/pu/img/thumb.jpg");
    assert_string_equal(s_of(t, "html"),
        "look at this <br><a href=\"https://t.co/VideoLnk01\"><img "
        "src=\"https://pbs.twimg.com/ext_tw_video_thumb/700/pu/img/thumb.jpg\"/></a>");

    /* Go's crash case: inner retweet without id; unavailable author; bad date. */
    t = item(&p, 3);
    assert_true(b_of(t, "is_retweet"));
    assert_string_equal(s_of(t, "retweeted_status_id"), "2000000000000000099");
    assert_string_equal(s_of(t, "username"), "");
    assert_string_equal(s_of(t, "user_id"), "58");
    assert_string_equal(s_of(t, "created_at"), "1970-01-01T00:00:00Z");
    assert_int_equal(i_of(t, "timestamp"), 0);
    assert_string_equal(s_of(t, "text"), "RT @gone: x");
    twitter_web_page_clear(&p);
}

static void test_search_top_modules(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_SEARCH, "search_top_modules_2026.json", NULL, &p);
    /* People module ignored, tweets of a grid module read, promoted grid item and an empty
     * tweet_results skipped. */
    static const char *const ids[] = { "2400000000000000001", "2400000000000000003" };
    assert_ids(&p, ids, 2);
    assert_int_equal(p.skipped, 2);
    assert_int_equal(p.entries, 5);
    assert_string_equal(p.next_cursor, "TOPnext");

    /* id from rest_id with no id_str; the author through author_results; user_id from it. */
    const json_t *t = item(&p, 0);
    assert_true(i_of(t, "id") == 2400000000000000001LL);
    assert_string_equal(s_of(t, "username"), "gridauthor");
    assert_string_equal(s_of(t, "user_id"), "110");
    assert_json_is(json_object_get(t, "photos"),
                     "[{\"id\":\"1001\",\"url\":\"https://pbs.twimg.com/media/top1.jpg\"}]");

    /* Note text without entity_set: the legacy entities expand it; a wrapped quote counts. */
    t = item(&p, 1);
    assert_string_equal(s_of(t, "text"), "Long #post without an entity set https://note.example/x end");
    assert_json_is(json_object_get(t, "hashtags"), "[\"post\"]");
    assert_true(b_of(t, "is_quoted"));
    assert_string_equal(s_of(t, "lang"), "fr");
    assert_string_equal(s_of(t, "author_id"), "111");
    twitter_web_page_clear(&p);
}

/* ---- user timelines ---- */

static void test_user_tweets_2024(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_USER_TWEETS, "user_tweets_2024.json", NULL, &p);
    /* Pinned first (TimelinePinEntry), its repeat in the list dropped, module items in order. */
    static const char *const ids[] = { "1800000000000000005", "1800000000000000007",
                                       "1800000000000000003", "1800000000000000004" };
    assert_ids(&p, ids, 4);
    assert_string_equal(p.next_cursor, "HBaAgLydbottom");
    assert_string_equal(p.prev_cursor, "HBaAgLydtop");

    const json_t *t = item(&p, 0);
    assert_true(b_of(t, "is_pin"));
    assert_int_equal(i_of(t, "views"), 50000);             /* legacy ext_views */
    assert_string_equal(s_of(t, "username"), "NASA");
    assert_false(b_of(item(&p, 1), "is_pin"));

    t = item(&p, 1);
    assert_json_is(json_object_get(t, "photos"),
        "[{\"id\":\"801\",\"url\":\"https://pbs.twimg.com/media/one.jpg\"},"
        "{\"id\":\"802\",\"url\":\"https://pbs.twimg.com/media/two.jpg\"}]");
    assert_string_equal(s_of(t, "html"),
        "Two photos from <a href=\"https://twitter.com/NASAWebb\">@NASAWebb</a> "
        "<a href=\"https://twitter.com/hashtag/JWST\">#JWST</a> <br><a "
        "href=\"https://t.co/PhotoLnk01\"><img src=\"https://pbs.twimg.com/media/one.jpg\"/></a>"
        "<br><img src=\"https://pbs.twimg.com/media/two.jpg\"/>");
    assert_string_equal(s_of(t, "text"),
                        "Two photos from @NASAWebb #JWST https://pbs.twimg.com/media/one.jpg");
    assert_json_is(json_object_get(t, "hashtags"), "[\"JWST\"]");
    assert_false(b_of(t, "sensitive_content"));

    /* No variant with a bitrate: the first mp4 (Go left url ""). */
    t = item(&p, 2);
    assert_json_is(json_object_get(t, "videos"),
        "[{\"id\":\"803\",\"preview\":\"https://pbs.twimg.com/thumb3.jpg\","
        "\"url\":\"https://video.twimg.com/3-a.mp4\",\"hls_url\":\"https://video.twimg.com/3.m3u8\"}]");
    assert_string_equal(s_of(t, "html"), "Thread start<br><img src=\"https://pbs.twimg.com/thumb3.jpg\"/>");

    t = item(&p, 3);
    assert_true(b_of(t, "is_reply"));
    assert_string_equal(s_of(t, "conversation_id"), "1800000000000000003");
    assert_string_equal(s_of(t, "html"), "Thread part 2 @ nobody #");   /* nothing to link */
    twitter_web_page_clear(&p);
}

static void test_user_media_2026(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_USER_MEDIA, "user_media_2026.json", NULL, &p);
    /* profile-grid module and TimelineAddToModule; GIF-only and text-only tweets dropped. */
    static const char *const ids[] = { "2100000000000000001", "2100000000000000003" };
    assert_ids(&p, ids, 2);
    assert_string_equal(p.next_cursor, "GRIDnext1");
    const json_t *t = item(&p, 1);
    assert_string_equal(s_of(t, "text"), "second page photo");
    assert_string_equal(s_of(t, "username"), "painter");
    assert_json_is(json_object_get(t, "photos"),
                     "[{\"id\":\"903\",\"url\":\"https://pbs.twimg.com/media/grid3.jpg\"}]");
    twitter_web_page_clear(&p);

    /* The same answer as plain user tweets keeps all four, GIF preview in html only. */
    parse_fixture(TWITTER_WEB_USER_TWEETS, "user_media_2026.json", NULL, &p);
    assert_int_equal(json_array_size(p.items), 4);
    t = item(&p, 1);
    assert_true(json_is_null(json_object_get(t, "photos")));
    assert_true(json_is_null(json_object_get(t, "videos")));
    assert_string_equal(s_of(t, "html"),
        "only a gif <br><a href=\"https://t.co/GifLink002\"><img src=\"https://pbs.twimg.com/gif.jpg\"/></a>");
    twitter_web_page_clear(&p);
}

static void test_home(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_HOME, "home_2026.json", NULL, &p);
    /* Visibility-wrapped tweets are unwrapped; promoted and unavailable ones skipped; users of
     * who-to-follow modules and message prompts ignored; conversation modules read. */
    static const char *const ids[] = { "2200000000000000001", "2200000000000000003" };
    assert_ids(&p, ids, 2);
    assert_int_equal(p.skipped, 2);
    assert_string_equal(p.next_cursor, "HOMEbottom");
    assert_string_equal(p.prev_cursor, "HOMEtop");
    assert_string_equal(s_of(item(&p, 0), "text"), "wrapped home tweet");
    assert_string_equal(s_of(item(&p, 1), "username"), "talker");
    twitter_web_page_clear(&p);
}

/* ---- tweet detail ---- */

static void test_tweet_detail_replies(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_TWEET_DETAIL, "tweet_detail_2026.json", "2300000000000000002", &p);
    /* The ancestor and the focal tweet are not replies; the tombstone is skipped. */
    static const char *const ids[] = { "2300000000000000003", "2300000000000000004",
                                       "2300000000000000005" };
    assert_ids(&p, ids, 3);
    assert_int_equal(p.skipped, 1);
    assert_string_equal(p.next_cursor, "DETAILnext");
    /* Each reply carries its own thread's show-more cursor. */
    assert_json_is(json_object_get(item(&p, 0), "ThreadCursor"),
        "{\"focal_tweet_id\":\"2300000000000000002\",\"thread_id\":\"2300000000000000003\","
        "\"cursor\":\"THREADmore3\",\"cursor_type\":\"ShowMore\"}");
    assert_true(b_of(item(&p, 1), "is_self_thread"));
    assert_false(b_of(item(&p, 0), "is_self_thread"));
    assert_json_is(json_object_get(item(&p, 1), "ThreadCursor"),
        "{\"focal_tweet_id\":\"2300000000000000002\",\"thread_id\":\"2300000000000000003\","
        "\"cursor\":\"THREADmore3\",\"cursor_type\":\"ShowMore\"}");
    assert_json_is(json_object_get(item(&p, 2), "ThreadCursor"),
        "{\"focal_tweet_id\":\"2300000000000000002\",\"thread_id\":\"2300000000000000005\","
        "\"cursor\":\"\",\"cursor_type\":\"\"}");
    twitter_web_page_clear(&p);

    /* The next page: more of a thread (TimelineAddToModule) and another thread; the
     * show-more-threads prompt continues the replies. */
    parse_fixture(TWITTER_WEB_TWEET_DETAIL, "tweet_detail_showmore_2026.json",
                  "2300000000000000002", &p);
    static const char *const more[] = { "2300000000000000007", "2300000000000000008" };
    assert_ids(&p, more, 2);
    assert_string_equal(p.next_cursor, "SHOWMOREthreads");
    assert_json_is(json_object_get(item(&p, 0), "ThreadCursor"),
        "{\"focal_tweet_id\":\"2300000000000000002\",\"thread_id\":\"2300000000000000003\","
        "\"cursor\":\"THREADmore3b\",\"cursor_type\":\"ShowMore\"}");
    assert_string_equal(s_of(item(&p, 1), "username"), "legacyuser");
    assert_string_equal(s_of(json_object_get(item(&p, 1), "ThreadCursor"), "thread_id"),
                        "2300000000000000008");
    twitter_web_page_clear(&p);

    /* A later page (no focal tweet in it): everything is a reply. */
    parse_fixture(TWITTER_WEB_TWEET_DETAIL, "tweet_detail_2026.json", "999", &p);
    assert_int_equal(json_array_size(p.items), 5);
    twitter_web_page_clear(&p);
}

static void test_single_tweet(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    size_t len;
    char *body = fixture("tweet_detail_2026.json", &len);
    json_t *t = twitter_web_parse_tweet(body, len, "2300000000000000002", why, sizeof why);
    assert_non_null(t);
    assert_string_equal(s_of(t, "text"), "the focal answer");
    assert_int_equal(i_of(t, "views"), 4242);
    assert_string_equal(s_of(json_object_get(t, "ThreadCursor"), "focal_tweet_id"), "");
    json_decref(t);
    assert_null(twitter_web_parse_tweet(body, len, "123", why, sizeof why));
    assert_string_equal(why, "tweet 123 not found");
    free(body);

    body = fixture("tweet_result_by_rest_id.json", &len);
    t = twitter_web_parse_tweet(body, len, "9223372036854775807", why, sizeof why);
    assert_non_null(t);
    assert_true(i_of(t, "id") == 9223372036854775807LL);   /* int64 max, exact */
    assert_string_equal(s_of(t, "created_at"), "2025-01-01T04:59:59Z");
    assert_int_equal(i_of(t, "timestamp"), 1735707599);
    assert_string_equal(s_of(t, "text"), "edge of int64 &amp; <b>");
    assert_string_equal(s_of(t, "lang"), "und");
    assert_string_equal(s_of(t, "username"), "maxid");
    assert_int_equal(i_of(t, "views"), 18);
    json_decref(t);
    free(body);

    static const char tomb[] =
        "{\"data\":{\"tweetResult\":{\"result\":{\"__typename\":\"TweetTombstone\"}}}}";
    assert_null(twitter_web_parse_tweet(tomb, sizeof tomb - 1, "5", why, sizeof why));
    assert_string_equal(why, "tweet 5 not found");
    static const char empty[] = "{\"data\":{\"tweetResult\":{}}}";
    assert_null(twitter_web_parse_tweet(empty, sizeof empty - 1, "5", why, sizeof why));
    assert_string_equal(why, "tweet 5 not found");
    static const char missing[] =
        "{\"errors\":[{\"code\":144,\"message\":\"_Missing: No status found with that ID.\"}]}";
    assert_null(twitter_web_parse_tweet(missing, sizeof missing - 1, "5", why, sizeof why));
    assert_string_equal(why, "X error 144: _Missing: No status found with that ID.");
}

/* ---- users ---- */

static void test_followers_2026(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_FOLLOWS, "followers_2026.json", NULL, &p);
    assert_int_equal(json_array_size(p.items), 2);
    assert_int_equal(p.skipped, 1);                         /* UserUnavailable */
    assert_null(p.next_cursor);                             /* "0|..." = the end */
    assert_string_equal(p.prev_cursor, "-1|1865000000000000001");
    assert_json_is(item(&p, 0),
        "{\"Avatar\":\"https://pbs.twimg.com/profile_images/2/dev_normal.jpg\","
        "\"Banner\":\"https://pbs.twimg.com/profile_banners/2/1\","
        "\"Biography\":\"Docs at https://docs.x.com\",\"Birthday\":\"\","
        "\"FollowersCount\":695695,\"FollowingCount\":762,\"FriendsCount\":762,"
        "\"IsPrivate\":false,\"IsVerified\":false,\"IsBlueVerified\":true,"
        "\"Joined\":\"2013-12-14T04:35:55Z\",\"LikesCount\":2642,\"ListedCount\":0,"
        "\"Location\":\"127.0.0.1\",\"Name\":\"Developers\","
        "\"PinnedTweetIDs\":[\"1900000000000000001\"],\"TweetsCount\":4319,"
        "\"URL\":\"https://twitter.com/XDevelopers\",\"UserID\":\"9100000000000000001\","
        "\"Username\":\"XDevelopers\",\"Website\":\"https://developer.x.com\",\"Sensitive\":false,"
        "\"Following\":true,\"FollowedBy\":false,\"MediaCount\":829,\"FastFollowersCount\":0,"
        "\"NormalFollowersCount\":0,\"ProfileImageShape\":\"Circle\",\"HasGraduatedAccess\":true,"
        "\"CanHighlightTweets\":true}");
    const json_t *u = item(&p, 1);
    assert_true(b_of(u, "IsPrivate"));                      /* Go's V2 mapping: always false */
    assert_true(json_is_null(json_object_get(u, "Joined")));
    assert_true(json_is_null(json_object_get(u, "PinnedTweetIDs")));
    assert_int_equal(i_of(u, "FollowingCount"), 2);
    twitter_web_page_clear(&p);
}

static void test_retweeters_2024(void **state)
{
    (void)state;
    struct twitter_web_page p;
    parse_fixture(TWITTER_WEB_RETWEETERS, "retweeters_2024.json", NULL, &p);
    assert_int_equal(json_array_size(p.items), 1);
    assert_int_equal(p.skipped, 1);                         /* rest_id not a number */
    assert_string_equal(p.next_cursor, "1706000000000000000|1865000000000000002");
    assert_json_is(item(&p, 0),
        "{\"Avatar\":\"https://pbs.twimg.com/profile_images/nasa_normal.jpg\","
        "\"Banner\":\"https://pbs.twimg.com/profile_banners/11348282/1\","
        "\"Biography\":\"Explore the universe https://nasa.gov/explore\",\"Birthday\":\"\","
        "\"FollowersCount\":10,\"FollowingCount\":2,\"FriendsCount\":2,\"IsPrivate\":false,"
        "\"IsVerified\":true,\"IsBlueVerified\":false,\"Joined\":\"2007-12-19T20:20:32Z\","
        "\"LikesCount\":3,\"ListedCount\":4,\"Location\":\"Pale Blue Dot\",\"Name\":\"NASA\","
        "\"PinnedTweetIDs\":[\"1800000000000000005\"],\"TweetsCount\":5,"
        "\"URL\":\"https://twitter.com/NASA\",\"UserID\":\"42\",\"Username\":\"NASA\","
        "\"Website\":\"https://www.nasa.gov\",\"Sensitive\":true,\"Following\":false,"
        "\"FollowedBy\":true,\"MediaCount\":6,\"FastFollowersCount\":7,\"NormalFollowersCount\":8,"
        "\"ProfileImageShape\":\"Square\",\"HasGraduatedAccess\":false,\"CanHighlightTweets\":false}");
    twitter_web_page_clear(&p);
}

static json_t *user_of(const char *body, const char *query, char *why)
{
    return twitter_web_parse_user(body, strlen(body), query, why, TWITTER_WEB_WHY);
}

static void test_profiles(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    size_t len;
    char *body = fixture("user_2024.json", &len);
    json_t *u = twitter_web_parse_user(body, len, "NASA", why, sizeof why);
    free(body);
    assert_non_null(u);
    assert_string_equal(s_of(u, "UserID"), "42");
    assert_string_equal(s_of(u, "Username"), "NASA");
    assert_int_equal(i_of(u, "FollowersCount"), 10);
    assert_int_equal(i_of(u, "FollowingCount"), 2);        /* Go: 3 (the likes count) */
    assert_int_equal(i_of(u, "LikesCount"), 3);
    assert_true(b_of(u, "IsBlueVerified"));
    assert_string_equal(s_of(u, "Website"), "https://www.nasa.gov");
    assert_string_equal(s_of(u, "Joined"), "2007-12-19T20:20:32Z");
    assert_true(json_is_null(json_object_get(u, "PinnedTweetIDs")));
    assert_int_equal(json_object_size(u), 30);
    json_decref(u);

    body = fixture("user_2026.json", &len);
    u = twitter_web_parse_user(body, len, "XDevelopers", why, sizeof why);
    free(body);
    assert_non_null(u);
    assert_string_equal(s_of(u, "UserID"), "2244994945");
    assert_string_equal(s_of(u, "Avatar"), "https://pbs.twimg.com/profile_images/1/dev_normal.jpg");
    assert_string_equal(s_of(u, "Location"), "127.0.0.1");
    assert_string_equal(s_of(u, "Biography"), "The voice of the X Dev team https://docs.x.com");
    assert_int_equal(i_of(u, "FollowersCount"), 695695);   /* 2026 place wins over legacy */
    assert_int_equal(i_of(u, "TweetsCount"), 4319);
    assert_int_equal(i_of(u, "MediaCount"), 829);
    assert_json_is(json_object_get(u, "PinnedTweetIDs"), "[\"1901000000000000001\"]");
    assert_string_equal(s_of(u, "Website"), "https://developer.x.com");
    assert_string_equal(s_of(u, "Banner"), "https://pbs.twimg.com/profile_banners/2244994945/1");
    assert_true(b_of(u, "FollowedBy"));
    assert_true(b_of(u, "CanHighlightTweets"));
    assert_true(b_of(u, "HasGraduatedAccess"));
    json_decref(u);

    assert_null(user_of("{\"data\":{\"user\":{}}}", "x", why));
    assert_string_equal(why, "user not found");
    assert_null(user_of("{\"data\":{\"user\":{\"result\":{\"__typename\":\"UserUnavailable\","
                        "\"message\":\"User is suspended\"}}}}", "x", why));
    assert_string_equal(why, "user is suspended");
    assert_null(user_of("{\"data\":{\"user\":{\"result\":{\"__typename\":\"UserUnavailable\","
                        "\"reason\":\"Suspended\"}}}}", "x", why));
    assert_string_equal(why, "user is suspended");
    assert_null(user_of("{\"errors\":[{\"message\":\"Authorization: Denied by access control: "
                        "Missing LdapGroup(visibility-custom-suspension)\"}]}", "x", why));
    assert_string_equal(why, "user is suspended");
    assert_null(user_of("{\"errors\":[{\"code\":50,\"message\":\"User not found.\"}]}", "x", why));
    assert_string_equal(why, "User not found.");
    assert_null(user_of("{\"data\":{\"user\":{\"result\":{\"__typename\":\"User\","
                        "\"rest_id\":\"5\",\"core\":{}}}}}", "ghost", why));
    assert_string_equal(why, "either @ghost does not exist or is private");
    assert_null(user_of("[]", "x", why));
    assert_string_equal(why, "failed to parse response: not a JSON object");
}

/* ---- trends, spaces ---- */

static void test_trends(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    size_t len;
    char *body = fixture("trends_2026.json", &len);
    json_t *t = twitter_web_parse_trends(body, len, why, sizeof why);
    free(body);
    assert_json_is(t, "[\"#WorldCup\",\"\xc3\x89lection\",\"C programming\"]");
    json_decref(t);

    body = fixture("trends_guide_2024.json", &len);
    t = twitter_web_parse_trends(body, len, why, sizeof why);
    free(body);
    assert_json_is(t, "[\"#A\",\"B c\"]");
    json_decref(t);

    /* Go crashed on a guide.json with one instruction; here: its error. */
    static const char one[] = "{\"timeline\":{\"instructions\":[{}]}}";
    assert_null(twitter_web_parse_trends(one, sizeof one - 1, why, sizeof why));
    assert_string_equal(why, "no trend entries found");
    static const char one_entry[] =
        "{\"timeline\":{\"instructions\":[{},{\"addEntries\":{\"entries\":[{}]}}]}}";
    assert_null(twitter_web_parse_trends(one_entry, sizeof one_entry - 1, why, sizeof why));
    assert_string_equal(why, "no trend entries found");
    /* A timeline without trends is null (Go's nil list, twitter.md 8.6). */
    static const char no_trends[] =
        "{\"data\":{\"timeline\":{\"timeline\":{\"instructions\":[{\"type\":\"TimelineClearCache\"}]}}}}";
    t = twitter_web_parse_trends(no_trends, sizeof no_trends - 1, why, sizeof why);
    assert_json_is(t, "null");
    json_decref(t);
    static const char none[] = "{\"data\":{}}";
    assert_null(twitter_web_parse_trends(none, sizeof none - 1, why, sizeof why));
    assert_string_equal(why, "no trend entries found");
    body = fixture("error_rate_limit.json", &len);
    assert_null(twitter_web_parse_trends(body, len, why, sizeof why));
    assert_string_equal(why, "X error 88: Rate limit exceeded");
    free(body);
}

static void test_space(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    size_t len;
    char *body = fixture("space.json", &len);
    json_t *s = twitter_web_parse_space(body, len, why, sizeof why);
    free(body);
    assert_json_is(s,
        "{\"ID\":\"1AbCdEfGhIjKl\",\"State\":\"Running\",\"Title\":\"Launch talk\","
        "\"ContentType\":\"audio_space\",\"Topics\":[{\"ID\":\"848921413196984320\",\"Title\":\"Space\"}],"
        "\"Participants\":{\"TotalCount\":5,\"CurrentCount\":3,\"Admins\":[{\"UserID\":"
        "\"9200000000000000042\",\"Username\":\"host\",\"Name\":\"The Host\",\"Avatar\":"
        "\"https://pbs.twimg.com/a.jpg\",\"IsVerified\":true,\"ConnectedAt\":\"2023-11-14T22:13:20Z\"}],"
        "\"Speakers\":null,\"Listeners\":[{\"UserID\":\"77\",\"Username\":\"l1\",\"Name\":\"L\","
        "\"Avatar\":\"\",\"IsVerified\":false,\"ConnectedAt\":\"2023-11-14T22:16:40Z\"}]},"
        "\"CreatedAt\":\"2023-11-14T22:13:20Z\",\"ScheduledStart\":\"2023-11-14T22:14:20Z\","
        "\"StartedAt\":\"2023-11-14T22:15:00Z\",\"UpdatedAt\":\"1970-01-01T00:00:00Z\"}");
    json_decref(s);

    static const char no_id[] = "{\"data\":{\"audioSpace\":{\"metadata\":{\"rest_id\":\"\"}}}}";
    assert_null(twitter_web_parse_space(no_id, sizeof no_id - 1, why, sizeof why));
    assert_string_equal(why, "space not found");
    static const char empty[] = "{\"data\":{\"audioSpace\":{}}}";
    assert_null(twitter_web_parse_space(empty, sizeof empty - 1, why, sizeof why));
    assert_string_equal(why, "space not found");
    /* Absurd times render as the epoch, topics always a list. */
    static const char odd[] = "{\"data\":{\"audioSpace\":{\"metadata\":{\"rest_id\":\"1x\","
        "\"created_at\":9223372036854775807,\"started_at\":-5,\"topics\":7}}}}";
    s = twitter_web_parse_space(odd, sizeof odd - 1, why, sizeof why);
    assert_non_null(s);
    assert_string_equal(s_of(s, "CreatedAt"), "1970-01-01T00:00:00Z");
    assert_string_equal(s_of(s, "StartedAt"), "1970-01-01T00:00:00Z");
    assert_json_is(json_object_get(s, "Topics"), "[]");
    json_decref(s);
}

/* ---- errors ---- */

static void test_error_envelope(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    struct twitter_web_error err;
    size_t len;
    char *body = fixture("error_rate_limit.json", &len);
    assert_int_equal(twitter_web_error(body, len, &err), 1);
    assert_int_equal(err.code, 88);
    assert_string_equal(err.message, "Rate limit exceeded");
    assert_false(err.has_data);
    assert_int_equal(twitter_web_error_classify(&err), TWITTER_WEB_ERR_RATE_LIMIT);
    struct twitter_web_page p;
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, body, len, NULL, &p, why,
                                                sizeof why), -1);
    assert_string_equal(why, "X error 88: Rate limit exceeded");
    assert_null(p.items);
    free(body);

    /* errors with data: a partial result that parses. */
    static const char partial[] = "{\"errors\":[{\"code\":131,\"message\":\"oops\"}],\"data\":"
        "{\"home\":{\"home_timeline_urt\":{\"instructions\":[]}}}}";
    assert_int_equal(twitter_web_error(partial, sizeof partial - 1, &err), 1);
    assert_true(err.has_data);
    assert_int_equal(twitter_web_error_classify(&err), TWITTER_WEB_ERR_OTHER);
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_HOME, partial, sizeof partial - 1,
                                                NULL, &p, why, sizeof why), 0);
    assert_int_equal(json_array_size(p.items), 0);
    assert_null(p.next_cursor);
    twitter_web_page_clear(&p);

    assert_int_equal(twitter_web_error("{}", 2, &err), 0);
    assert_int_equal(twitter_web_error("<html>", 6, &err), -1);
    static const struct { long code; const char *msg; enum twitter_web_error_class want; } cls[] = {
        { 326, "locked", TWITTER_WEB_ERR_AUTH }, { 32, "Could not authenticate you.", TWITTER_WEB_ERR_AUTH },
        { 336, "The following features cannot be null: x", TWITTER_WEB_ERR_FEATURES },
        { 144, "", TWITTER_WEB_ERR_NOT_FOUND }, { 0, "Rate limit exceeded", TWITTER_WEB_ERR_RATE_LIMIT },
        { 0, "_Missing: No status found with that ID.", TWITTER_WEB_ERR_NOT_FOUND },
        { 0, "LoadShed", TWITTER_WEB_ERR_OTHER },
    };
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        memset(&err, 0, sizeof err);
        err.code = cls[i].code;
        snprintf(err.message, sizeof err.message, "%s", cls[i].msg);
        assert_int_equal(twitter_web_error_classify(&err), cls[i].want);
    }
}

/* ---- hostile bodies ---- */

/* The html of a tweet: hashtags and mentions linked as before, and a text made of a long run of
 * '#' (a hostile answer: every '#' starts a candidate hashtag) costs about as much as a plain text
 * of the same length. Each '#' used to rescan the 280 characters after it: 5 s of CPU for one
 * 7 MiB answer. */
static json_t *tweet_with_text(const char *text)
{
    json_t *doc = json_pack("{s:{s:{s:{s:s, s:s, s:{s:s, s:s}}}}}", "data", "tweetResult",
                            "result", "__typename", "Tweet", "rest_id", "1", "legacy", "id_str",
                            "1", "full_text", text);
    assert_non_null(doc);
    char *body = json_dumps(doc, JSON_COMPACT);
    assert_non_null(body);
    char why[TWITTER_WEB_WHY];
    json_t *t = twitter_web_parse_tweet(body, strlen(body), "1", why, sizeof why);
    assert_non_null(t);
    free(body);
    json_decref(doc);
    return t;
}

static double cpu_seconds_to_parse(const char *text)
{
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    json_decref(tweet_with_text(text));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void test_html_links_in_linear_time(void **state)
{
    (void)state;
    static const struct { const char *text, *html_json; } cases[] = {
        { "#abc! #x_y. @someone_with_long_name_over15 #\xc3\xa9t\xc3\xa9 #a#b ##c @a@b x#y "
          "#1-2-3 @_ #\n#end",
          "\"<a href=\\\"https://twitter.com/hashtag/abc\\\">#abc</a>! <a href=\\\"https://twitter.com/hashtag/x_y\\\">#x_y</a>. @someone_with_long_name_over15 <a href=\\\"https://twitter.com/hashtag/\\u00E9t\\\">#\\u00E9t</a>\\u00E9 <a href=\\\"https://twitter.com/hashtag/a#b\\\">#a#b</a> <a href=\\\"https://twitter.com/hashtag/#c\\\">##c</a> <a href=\\\"https://twitter.com/a@b\\\">@a@b</a> x#y <a href=\\\"https://twitter.com/hashtag/1-2-3\\\">#1-2-3</a> <a href=\\\"https://twitter.com/_\\\">@_</a> #<br><a href=\\\"https://twitter.com/hashtag/end\\\">#end</a>\"" },
        { "#################### @@@@@@ #a############ ##### #_#_#_ @x.y.z #ab\xe2\x80\xa6"
          "cd #",
          "\"#################### @@@@@@ <a href=\\\"https://twitter.com/hashtag/a\\\">#a</a>############ ##### <a href=\\\"https://twitter.com/hashtag/_#_#_\\\">#_#_#_</a> <a href=\\\"https://twitter.com/x.y.z\\\">@x.y.z</a> <a href=\\\"https://twitter.com/hashtag/ab\\u2026cd\\\">#ab\\u2026cd</a> #\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *want = json_loads(cases[i].html_json, JSON_DECODE_ANY, NULL);
        json_t *t = tweet_with_text(cases[i].text);
        assert_non_null(want);
        assert_string_equal(s_of(t, "html"), json_string_value(want));
        json_decref(t);
        json_decref(want);
    }

    size_t n = 1u << 20;
    char *hashes = malloc(n + 1), *plain = malloc(n + 1);
    assert_non_null(hashes);
    assert_non_null(plain);
    memset(hashes, '#', n);
    memset(plain, 'a', n);
    hashes[n] = plain[n] = '\0';
    double t_plain = cpu_seconds_to_parse(plain), t_hashes = cpu_seconds_to_parse(hashes);
    free(hashes);
    free(plain);
    if (t_hashes > 10 * t_plain + 0.05)
        fail_msg("1 MiB of '#' took %.3f s of CPU, a plain text %.3f s", t_hashes, t_plain);
}

/* An answer made of tiny values would take many times its size to decode: refused before
 * jansson sees it, with the reason. */
static void test_costly_answers_are_refused(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY] = "";
    size_t len;
    char *body = costly_json("{\"data\":{},", &len);
    struct twitter_web_page p;
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, body, len, NULL, &p, why,
                                                sizeof why), -1);
    assert_non_null(strstr(why, "failed to parse response: JSON text of"));
    assert_non_null(strstr(why, "would take about"));
    why[0] = '\0';
    assert_null(twitter_web_parse_user(body, len, "bob", why, sizeof why));
    assert_non_null(strstr(why, "would take about"));
    free(body);
}

static void test_hostile_bodies(void **state)
{
    (void)state;
    char why[TWITTER_WEB_WHY];
    struct twitter_web_page p;
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, "not json", 8, NULL, &p, why,
                                                sizeof why), -1);
    assert_non_null(strstr(why, "failed to parse response"));
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, "{}", 2, NULL, &p, why,
                                                sizeof why), 0);
    assert_int_equal(json_array_size(p.items), 0);
    twitter_web_page_clear(&p);
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_TIMELINE_COUNT, "{}", 2, NULL, &p,
                                                why, sizeof why), -1);
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, "{}",
                                                (size_t)TWITTER_WEB_MAX_BODY + 1, NULL, &p, why,
                                                sizeof why), -1);
    assert_non_null(strstr(why, "too large"));
    assert_null(twitter_web_parse_tweet(NULL, 0, "1", why, sizeof why));

    /* Every member of the wrong type: nothing emitted, nothing crashes. */
    static const char wrong[] =
        "{\"data\":{\"search_by_raw_query\":{\"search_timeline\":{\"timeline\":{\"instructions\":"
        "[1,\"x\",null,{\"entries\":5},{\"entry\":[]},{\"moduleItems\":{}},{\"entries\":[1,{\"content\":7},"
        "{\"content\":{\"cursorType\":5,\"value\":\"v\"}},{\"content\":{\"cursorType\":\"Bottom\",\"value\":7}},"
        "{\"content\":{\"items\":[null,{\"item\":3}]}},"
        "{\"content\":{\"itemContent\":{\"tweet_results\":{\"result\":{\"__typename\":\"Tweet\","
        "\"legacy\":{\"id_str\":123}}}}}},"
        "{\"content\":{\"itemContent\":{\"tweet_results\":{\"result\":{\"__typename\":\"Tweet\","
        "\"legacy\":{\"id_str\":\"99999999999999999999\"}}}}}},"
        "{\"content\":{\"itemContent\":{\"tweet_results\":{\"result\":{\"__typename\":\"Tweet\","
        "\"rest_id\":\"7\",\"core\":5,\"views\":{\"count\":\"x\"},\"legacy\":{\"full_text\":3,"
        "\"entities\":{\"urls\":\"u\",\"hashtags\":[{\"text\":1}]},\"extended_entities\":{\"media\":"
        "[{\"type\":\"video\",\"video_info\":{\"variants\":[{\"bitrate\":\"9\",\"url\":5}]}},7]},"
        "\"favorite_count\":1.5,\"retweeted_status_result\":[]}}}}}},"
        "{\"content\":{\"itemContent\":{\"tweet_results\":{\"result\":{\"__typename\":"
        "\"TweetWithVisibilityResults\",\"tweet\":{\"__typename\":\"TweetWithVisibilityResults\","
        "\"tweet\":{\"__typename\":\"TweetWithVisibilityResults\",\"tweet\":{\"__typename\":"
        "\"TweetWithVisibilityResults\",\"tweet\":{\"__typename\":\"TweetWithVisibilityResults\","
        "\"tweet\":{\"__typename\":\"TweetWithVisibilityResults\",\"tweet\":{\"rest_id\":\"8\"}}}}}}}}}}}"
        "]}]}}}}}";
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_SEARCH, wrong, sizeof wrong - 1, NULL,
                                                &p, why, sizeof why), 0);
    /* Only rest_id 7 survives (a usable id); its bad members read as zero values. */
    assert_int_equal(json_array_size(p.items), 1);
    const json_t *t = item(&p, 0);
    assert_true(i_of(t, "id") == 7);
    assert_string_equal(s_of(t, "text"), "");
    assert_int_equal(i_of(t, "likes"), 0);
    assert_int_equal(i_of(t, "views"), 0);
    assert_null(p.next_cursor);
    twitter_web_page_clear(&p);

    /* Deep nesting is refused by the JSON reader, not followed. */
    size_t depth = 100000;
    char *deep = malloc(depth);
    assert_non_null(deep);
    memset(deep, '[', depth);
    assert_int_equal(twitter_web_parse_timeline(TWITTER_WEB_HOME, deep, depth, NULL, &p, why,
                                                sizeof why), -1);
    free(deep);

    /* Every prefix of a real-shaped answer fails cleanly or parses. */
    static const char *const names[] = { "search_2026.json", "tweet_detail_2026.json",
                                         "followers_2026.json", "space.json" };
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        size_t len;
        char *body = fixture(names[n], &len);
        for (size_t cut = 0; cut < len; cut += 97) {
            if (twitter_web_parse_timeline((enum twitter_web_timeline)(n % TWITTER_WEB_TIMELINE_COUNT),
                                           body, cut, "2300000000000000002", &p, why, sizeof why) == 0)
                twitter_web_page_clear(&p);
            json_decref(twitter_web_parse_tweet(body, cut, "2300000000000000002", why, sizeof why));
            json_decref(twitter_web_parse_space(body, cut, why, sizeof why));
        }
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_2024),
        cmocka_unit_test(test_search_2026),
        cmocka_unit_test(test_search_top_modules),
        cmocka_unit_test(test_user_tweets_2024),
        cmocka_unit_test(test_user_media_2026),
        cmocka_unit_test(test_home),
        cmocka_unit_test(test_tweet_detail_replies),
        cmocka_unit_test(test_single_tweet),
        cmocka_unit_test(test_followers_2026),
        cmocka_unit_test(test_retweeters_2024),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_trends),
        cmocka_unit_test(test_space),
        cmocka_unit_test(test_error_envelope),
        cmocka_unit_test(test_html_links_in_linear_time),
        cmocka_unit_test(test_hostile_bodies),
        cmocka_unit_test(test_costly_answers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
