/* test_twitter_v2.c - the pure parts of the Twitter API-key backend: the X API v2 decoders
 * (TweetResult, the API profile, exact 64-bit ids, Go-typed failures), tweet id parsing, search
 * cursors, the cool-down arithmetic, the argument record, and the offers of `twitter` and
 * `twitter-api` (twitter.md 2.1, 3.1, 6, 8.1, 8.4, 9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/registry.h"
#include "kinds/twitter_backend.h"
#include "kinds/twitter_keys.h"
#include "kinds/twitter_v2.h"
#include "json_assert.h"
#include "costly_json.h"

#define BIG "1900000000000000001"

#define TWEET_TAIL(username, lang, newest, oldest, count)                                       \
    "\"timestamp\":0,\"ThreadCursor\":{\"focal_tweet_id\":\"\",\"thread_id\":\"\",\"cursor\":\"\"," \
    "\"cursor_type\":\"\"},\"is_quoted\":false,\"is_pin\":false,\"is_reply\":false,"            \
    "\"is_retweet\":false,\"is_self_thread\":false,\"likes\":0,\"hashtags\":null,\"html\":\"\","  \
    "\"replies\":0,\"retweets\":0,\"urls\":null,\"username\":\"" username "\",\"photos\":null,"   \
    "\"videos\":null,\"retweeted_status_id\":\"\",\"views\":0,\"sensitive_content\":false,"       \
    "\"author_id\":\"42\",\"public_metrics\":{\"retweet_count\":1,\"reply_count\":2,"            \
    "\"like_count\":3,\"quote_count\":4,\"bookmark_count\":5,\"impression_count\":0},"           \
    "\"possibly_sensitive\":false,\"lang\":\"" lang "\",\"newest_id\":\"" newest "\","          \
    "\"oldest_id\":\"" oldest "\",\"result_count\":" count ",\"error\":null}"

static const char *const page_body =
    "{\"data\":[{\"id\":\"" BIG "\",\"author_id\":\"42\",\"text\":\"hi <b>\","
    "\"created_at\":\"2025-01-01T12:00:00.000Z\",\"conversation_id\":\"7\",\"lang\":\"en\","
    "\"public_metrics\":{\"retweet_count\":1,\"reply_count\":2,\"like_count\":3,\"quote_count\":4,"
    "\"bookmark_count\":5,\"impression_count\":6},\"edit_history_tweet_ids\":[\"1\"]}],"
    "\"includes\":{\"users\":[{\"id\":\"42\",\"username\":\"alice\",\"name\":\"A\"}]},"
    "\"meta\":{\"newest_id\":\"9\",\"oldest_id\":\"8\",\"result_count\":1,\"next_token\":\"p2\"}}";

static void test_page_decodes_tweet_result(void **state)
{
    (void)state;
    struct twitter_v2_page page;
    char why[TWITTER_V2_WHY] = "";
    assert_int_equal(twitter_v2_decode_page(page_body, strlen(page_body), &page, why,
                                            sizeof why), 0);
    assert_string_equal(page.next_token, "p2");
    assert_int_equal(json_array_size(page.tweets), 1);
    json_t *t = json_incref(json_array_get(page.tweets, 0));
    assert_true(json_integer_value(json_object_get(t, "id")) == 1900000000000000001LL);
    assert_json_text(t, "{\"id\":" BIG ",\"tweet_id\":\"" BIG "\",\"conversation_id\":\"7\","
                     "\"user_id\":\"42\",\"text\":\"hi \\u003cb\\u003e\","
                     "\"created_at\":\"2025-01-01T12:00:00Z\","
                     TWEET_TAIL("alice", "en", "9", "8", "1"));
    twitter_v2_page_clear(&page);
}

/* Usernames come from includes.users (the first user with the author's id). A page with many
 * tweets and many users (a hostile answer within the 4 MiB bound) must not cost tweets x users
 * comparisons: 30000 tweets and 45000 users took a minute of CPU. */
static char *big_page(size_t ntweets, size_t nusers)
{
    json_t *data = json_array(), *users = json_array();
    assert_non_null(data);
    assert_non_null(users);
    for (size_t i = 0; i < ntweets; i++) {
        char id[32];
        snprintf(id, sizeof id, "%zu", i + 1);
        const char *author = i == 0 ? "u19999" : i == 1 ? "dup" : "nobody";
        json_array_append_new(data, json_pack("{s:s, s:s}", "id", id, "author_id", author));
    }
    for (size_t i = 0; i < nusers; i++) {
        char id[32], name[32];
        snprintf(id, sizeof id, "u%zu", i);
        snprintf(name, sizeof name, "%s", i + 1 == nusers ? "last" : "n");
        json_array_append_new(users, json_pack("{s:s, s:s}", "id", id, "username", name));
    }
    if (nusers) {
        json_array_append_new(users, json_pack("{s:s, s:s}", "id", "dup", "username", "first"));
        json_array_append_new(users, json_pack("{s:s, s:s}", "id", "dup", "username", "second"));
    }
    json_t *doc = json_pack("{s:o, s:{s:o}, s:{}}", "data", data, "includes", "users", users,
                            "meta");
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    json_decref(doc);
    return text;
}

static double cpu_seconds_to_decode(const char *body, struct twitter_v2_page *page)
{
    char why[TWITTER_V2_WHY] = "";
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    assert_int_equal(twitter_v2_decode_page(body, strlen(body), page, why, sizeof why), 0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void test_page_usernames_in_linear_time(void **state)
{
    (void)state;
    struct twitter_v2_page page;
    char *with = big_page(4000, 20000), *without = big_page(4000, 0);
    double t_without = cpu_seconds_to_decode(without, &page);
    twitter_v2_page_clear(&page);
    double t_with = cpu_seconds_to_decode(with, &page);
    const json_t *tweets = page.tweets;
    assert_string_equal(json_string_value(json_object_get(json_array_get(tweets, 0), "username")),
                        "last");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tweets, 1), "username")),
                        "first");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tweets, 2), "username")),
                        "");
    twitter_v2_page_clear(&page);
    free(with);
    free(without);
    if (t_with > 10 * t_without + 0.05)
        fail_msg("4000 tweets with 20000 users took %.3f s of CPU, without users %.3f s", t_with,
                 t_without);
}

static void test_page_failures_are_typed(void **state)
{
    (void)state;
    static const struct { const char *body, *why; } cases[] = {
        { "", "failed to unmarshal response: " },
        { "[1]", "failed to unmarshal response: not a JSON object" },
        { "{\"data\":[{\"id\":\"1\",\"text\":5}]}", "failed to unmarshal response: " },
        { "{\"data\":[{\"id\":\"1\",\"created_at\":\"2025-01-01\"}]}", "failed to unmarshal" },
        { "{\"data\":[{\"id\":\"1\",\"public_metrics\":{\"like_count\":1.5}}]}", "failed to unm" },
        { "{\"data\":[{\"id\":\"x1\"}]}", "failed to parse tweet ID 'x1' from twitterx: "
          "strconv.ParseInt: parsing \"x1\": invalid syntax" },
        { "{\"data\":[{\"id\":\"99999999999999999999\"}]}", "failed to parse tweet ID "
          "'99999999999999999999' from twitterx: strconv.ParseInt: parsing "
          "\"99999999999999999999\": value out of range" },
        { "{\"data\":[null]}", "failed to parse tweet ID '' from twitterx" },
        { "{\"data\":{}}", "failed to unmarshal response: field data: expected an array" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct twitter_v2_page page;
        char why[TWITTER_V2_WHY] = "";
        assert_int_equal(twitter_v2_decode_page(cases[i].body, strlen(cases[i].body), &page, why,
                                                sizeof why), -1);
        if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
            fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, why, cases[i].why);
        assert_null(page.tweets);
    }
}

static void test_page_without_data_or_token(void **state)
{
    (void)state;
    const char *body = "{\"meta\":{\"result_count\":0},\"errors\":[{\"title\":\"x\"}]}";
    struct twitter_v2_page page;
    char why[TWITTER_V2_WHY];
    assert_int_equal(twitter_v2_decode_page(body, strlen(body), &page, why, sizeof why), 0);
    assert_int_equal(json_array_size(page.tweets), 0);
    assert_null(page.next_token);
    twitter_v2_page_clear(&page);
}

/* An answer made of tiny values would take many times its size to decode: refused before
 * jansson sees it, by every decoder, with the reason. */
static void test_costly_answers_are_refused(void **state)
{
    (void)state;
    char why[TWITTER_V2_WHY] = "";
    size_t len;
    char *body = costly_json("{\"data\":[],\"meta\":{\"next_token\":\"p2\"},", &len);
    struct twitter_v2_page page;
    assert_int_equal(twitter_v2_decode_page(body, len, &page, why, sizeof why), -1);
    assert_non_null(strstr(why, "failed to unmarshal response: JSON text of"));
    assert_non_null(strstr(why, "would take about"));
    free(body);

    body = costly_json("{\"data\":{\"id\":\"5\",\"text\":\"t\"},", &len);
    why[0] = '\0';
    assert_null(twitter_v2_decode_tweet(body, len, 0, why, sizeof why));
    assert_non_null(strstr(why, "would take about"));
    why[0] = '\0';
    assert_null(twitter_v2_decode_profile(body, len, why, sizeof why));
    assert_non_null(strstr(why, "would take about"));
    free(body);

    body = costly_json("{\"data\":{\"id\":\"5\",\"username\":\"bob\"},", &len);
    assert_null(twitter_v2_decode_username(body, len));
    free(body);
}

static void test_tweet_lookup(void **state)
{
    (void)state;
    const char *body = "{\"data\":{\"id\":\"" BIG "\",\"author_id\":\"42\",\"text\":\"t\","
                       "\"created_at\":\"not a time\",\"conversation_id\":\"7\",\"lang\":\"fr\","
                       "\"public_metrics\":{\"retweet_count\":1,\"reply_count\":2,\"like_count\":3,"
                       "\"quote_count\":4,\"bookmark_count\":5}},"
                       "\"includes\":{\"users\":[{\"id\":\"41\",\"username\":\"x\"},"
                       "{\"id\":\"42\",\"username\":\"bob\"}]}}";
    char why[TWITTER_V2_WHY];
    json_t *t = twitter_v2_decode_tweet(body, strlen(body), 86400, why, sizeof why);
    assert_json_text(t, "{\"id\":" BIG ",\"tweet_id\":\"" BIG "\",\"conversation_id\":\"7\","
                     "\"user_id\":\"42\",\"text\":\"t\",\"created_at\":\"1970-01-02T00:00:00Z\","
                     TWEET_TAIL("bob", "fr", "", "", "0"));
    const char *errs = "{\"errors\":[{\"title\":\"Not Found Error\",\"detail\":\"gone\"}]}";
    assert_null(twitter_v2_decode_tweet(errs, strlen(errs), 0, why, sizeof why));
    assert_string_equal(why, "API error: gone");
}

static void test_profile_lookup(void **state)
{
    (void)state;
    const char *body = "{\"data\":{\"public_metrics\":{\"followers_count\":10,\"tweet_count\":7},"
                       "\"username\":\"alice\",\"id\":\"42\",\"name\":\"A\",\"url\":\"\","
                       "\"location\":\"Moon\",\"verified\":true,\"extra\":1}}";
    char why[TWITTER_V2_WHY];
    assert_json_text(twitter_v2_decode_profile(body, strlen(body), why, sizeof why),
                     "{\"data\":{\"id\":\"42\",\"name\":\"A\",\"username\":\"alice\","
                     "\"description\":\"\",\"created_at\":\"\",\"profile_banner_url\":\"\","
                     "\"profile_image_url\":\"\",\"protected\":false,\"verified\":true,"
                     "\"location\":\"Moon\",\"public_metrics\":{\"followers_count\":10,"
                     "\"following_count\":0,\"like_count\":0,\"listed_count\":0,"
                     "\"media_count\":0,\"tweet_count\":7}}}");
    const char *errs = "{\"errors\":[{\"message\":\"x\"}]}";
    assert_null(twitter_v2_decode_profile(errs, strlen(errs), why, sizeof why));
    assert_string_equal(why, "API error: x");
    const char *bad = "{\"data\":{\"verified\":\"yes\"}}";
    assert_null(twitter_v2_decode_profile(bad, strlen(bad), why, sizeof why));
    assert_string_equal(why, "failed to unmarshal response: data: field verified: expected a "
                             "boolean");
    const char *plain = "{\"data\":{\"id\":\"1\",\"username\":\"u\"}}";
    char *name = twitter_v2_decode_username(plain, strlen(plain));
    assert_non_null(name);
    assert_string_equal(name, "u");
    free(name);
    assert_null(twitter_v2_decode_username("{\"data\":null}", 13));
}

static void test_parse_id_and_cursors(void **state)
{
    (void)state;
    long long id;
    char why[120], tok[16];
    unsigned skip;
    assert_int_equal(twitter_v2_parse_id("9223372036854775807", &id, why, sizeof why), 0);
    assert_true(id == 9223372036854775807LL);
    assert_int_equal(twitter_v2_parse_id("-5", &id, why, sizeof why), 0);
    assert_int_equal(twitter_v2_parse_id("", &id, why, sizeof why), -1);
    assert_int_equal(twitter_v2_parse_id("1 ", &id, why, sizeof why), -1);
    assert_int_equal(twitter_v2_cursor_parse("abc~7", tok, sizeof tok, &skip), 0);
    assert_string_equal(tok, "abc");
    assert_int_equal(skip, 7);
    assert_int_equal(twitter_v2_cursor_parse("~3", tok, sizeof tok, &skip), 0);
    assert_string_equal(tok, "");
    assert_int_equal(skip, 3);
    /* '~' is only ours, before the skip; a token holding one was not made here (and would not
     * survive a round trip: "a~1" with skip 0 reads back as "a" with skip 1) */
    assert_int_equal(twitter_v2_cursor_parse("a~b", tok, sizeof tok, &skip), -1);
    assert_int_equal(twitter_v2_cursor_parse("~1~0", tok, sizeof tok, &skip), -1);
    assert_int_equal(twitter_v2_cursor_parse("0123456789abcdefg", tok, sizeof tok, &skip), -1);
    char *c = twitter_v2_cursor_make("p2", 4);
    assert_string_equal(c, "p2~4");
    free(c);
    c = twitter_v2_cursor_make("p2", 0);
    assert_string_equal(c, "p2");
    free(c);
}

static void test_cooldown_seconds(void **state)
{
    (void)state;
    assert_int_equal(twitter_keys_parse_cooldown("1060", NULL, 1000), 60);
    assert_int_equal(twitter_keys_parse_cooldown("999", "30", 1000), 30);
    assert_int_equal(twitter_keys_parse_cooldown(NULL, NULL, 1000), 15 * 60);
    assert_int_equal(twitter_keys_parse_cooldown("junk", "-1", 1000), 15 * 60);
    assert_int_equal(twitter_keys_parse_cooldown("99999999", NULL, 1000), 24 * 3600);
    /* a reset already past by our clock: a minute for the clocks' skew, not a whole window */
    assert_int_equal(twitter_keys_parse_cooldown("1000", NULL, 1000), 60);
    assert_int_equal(twitter_keys_parse_cooldown("400", NULL, 1000), 60);
    assert_int_equal(twitter_keys_parse_cooldown("400", "5", 1000), 5);
    assert_int_equal(twitter_keys_parse_cooldown("0", NULL, 1000), 15 * 60);
}

static void test_arguments(void **state)
{
    (void)state;
    struct twitter_request req;
    struct err e = { 0 };
    json_t *a = json_pack("{s:s, s:s, s:i}", "type", "GetByID", "query", BIG, "max_results", 3);
    assert_int_equal(twitter_args_parse(a, "twitter-api", &req, &e), 0);
    assert_int_equal(req.op, TW_OP_GETBYID);
    json_decref(a);
    a = json_pack("{s:s}", "query", "x");
    assert_int_equal(twitter_args_parse(a, "twitter", &req, &e), 0);
    assert_int_equal(req.op, TW_OP_SEARCHBYQUERY);
    json_decref(a);
    a = json_pack("{s:s, s:s}", "type", "getspace", "query", "1");
    assert_int_equal(twitter_args_parse(a, "twitter-api", &req, &e), -1);
    assert_int_equal(e.http, 400);
    assert_string_equal(e.msg, "error unmarshalling job arguments: capability 'getspace' is not "
                        "valid for job type 'twitter-api'. Valid capabilities: [searchbyquery "
                        "searchbyfullarchive getbyid getprofilebyid]");
    json_decref(a);
    a = json_pack("{s:s, s:i}", "query", "x", "count", -5);
    assert_int_equal(twitter_args_parse(a, "twitter", &req, &e), -1);
    assert_string_equal(e.msg, "error unmarshalling job arguments: count must be non-negative, "
                        "got: -5");
    json_decref(a);
    a = json_pack("{s:s, s:s}", "type", "getprofilebyid", "query", "../x");
    assert_int_equal(twitter_args_parse(a, "twitter", &req, &e), -1);
    json_decref(a);
    a = json_pack("{s:s, s:i}", "query", "x", "max_results", 0);
    json_object_set_new(a, "next_cursor", json_integer(1));
    assert_int_equal(twitter_args_parse(a, "twitter", &req, &e), -1);
    assert_string_equal(e.msg, "error unmarshalling job arguments: failed to unmarshal Twitter "
                        "arguments: json: cannot unmarshal number into Go struct field "
                        ".next_cursor of type string");
    json_decref(a);
}

/* A 429 whose reset comes sooner (a call in flight, another job on the same key) does not
 * shorten the key's longer cool-down already running: the key would be used again while X still
 * refuses it. */
static void test_shorter_cooldown_keeps_the_longer(void **state)
{
    (void)state;
    twitter_keys_reset();
    char *keys[] = { "k1" };
    struct config cfg = { .twitter_api_keys = { .items = keys, .count = 1 },
                          .twitter_x_api_base = "http://127.0.0.1:1" };   /* the probe fails */
    twitter_keys_probe(&cfg);
    assert_int_equal(twitter_keys_cooldown(0, TWITTER_KEYS_SEARCH_RECENT, NULL, "600"), 600);
    assert_in_range(twitter_keys_cooldown(0, TWITTER_KEYS_SEARCH_RECENT, NULL, "5"), 598, 600);
    /* another endpoint's window is its own */
    assert_int_equal(twitter_keys_cooldown(0, TWITTER_KEYS_USER_LOOKUP, NULL, "5"), 5);
    twitter_keys_reset();
}

/* A search that goes to the API-key backend reads next_cursor as that backend does: with only
 * X API keys configured, `twitter` refuses a cursor the search cannot read at validation, with the
 * same message as `twitter-api` (before, it was admitted and failed when it ran, saying the cursor
 * was too long); other operations, and a cursor it can read, pass. */
static void test_twitter_checks_api_search_cursors(void **state)
{
    (void)state;
    twitter_kinds_reset();
    char *keys[] = { "k1" };
    struct config cfg = { .twitter_api_keys = { .items = keys, .count = 1 },
                          .twitter_x_api_base = "http://127.0.0.1:1" };   /* the probe fails */
    json_decref(registry_capabilities(&cfg));
    static const char want[] = "error unmarshalling job arguments: next_cursor is not a search "
                               "cursor of this worker (an X next_token of at most 511 bytes, then "
                               "optionally ~<count>)";
    const char *const kinds[] = { "twitter", "twitter-api" };
    for (size_t k = 0; k < 2; k++) {
        struct job j = { .type = (char *)kinds[k],
                         .arguments = json_pack("{s:s, s:s, s:s}", "type", "searchbyquery",
                                                "query", "x", "next_cursor", "a~b") };
        struct err e = { 0 };
        assert_null(registry_check(&cfg, &j, &e));
        assert_int_equal(e.http, 400);
        assert_string_equal(e.msg, want);
        json_object_set_new(j.arguments, "next_cursor", json_string("p2~3"));
        memset(&e, 0, sizeof e);
        assert_non_null(registry_check(&cfg, &j, &e));
        json_object_set_new(j.arguments, "type", json_string("getbyid"));
        json_object_set_new(j.arguments, "query", json_string("5"));
        json_object_set_new(j.arguments, "next_cursor", json_string("a~b"));
        assert_non_null(registry_check(&cfg, &j, &e));
        json_decref(j.arguments);
    }
    twitter_kinds_reset();
}

/* With Apify alone, `twitter` offers exactly followers/following; twitter-api is absent. */
static void test_offers_follow_configuration(void **state)
{
    (void)state;
    twitter_kinds_reset();
    struct config cfg = { .apify_api_key = "k" };
    json_t *caps = registry_capabilities(&cfg);
    assert_json_text(json_incref(json_object_get(caps, "twitter")),
                     "[\"getfollowing\",\"getfollowers\"]");
    assert_null(json_object_get(caps, "twitter-api"));
    json_decref(caps);
    struct job j = { .type = "twitter", .arguments = json_pack("{s:s, s:s}", "type",
                                                                "searchbyquery", "query", "x") };
    struct err e = { 0 };
    assert_null(registry_check(&cfg, &j, &e));
    assert_int_equal(e.http, 400);
    assert_string_equal(e.msg, "capability 'searchbyquery' is not available on this worker: it "
                        "needs Twitter accounts (TWITTER_ACCOUNTS or TWITTER_COOKIES_FILE) or X "
                        "API keys (TWITTER_API_KEYS)");
    json_decref(j.arguments);
    twitter_kinds_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_decodes_tweet_result),
        cmocka_unit_test(test_page_usernames_in_linear_time),
        cmocka_unit_test(test_page_failures_are_typed),
        cmocka_unit_test(test_page_without_data_or_token),
        cmocka_unit_test(test_costly_answers_are_refused),
        cmocka_unit_test(test_tweet_lookup),
        cmocka_unit_test(test_profile_lookup),
        cmocka_unit_test(test_parse_id_and_cursors),
        cmocka_unit_test(test_cooldown_seconds),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_offers_follow_configuration),
        cmocka_unit_test(test_twitter_checks_api_search_cursors),
        cmocka_unit_test(test_shorter_cooldown_keeps_the_longer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
