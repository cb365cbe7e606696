/* test_go_args.c - job arguments read the Go way (kinds/go_args.h), and string arguments holding a
 * NUL byte (JSON \u0000) refused by every kind's parser: C string APIs would read "abc\u0000def"
 * as "abc", so such a job would silently run with other arguments than the ones it was sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/registry.h"
#include "kinds/go_args.h"
#include "kinds/reddit_args.h"
#include "kinds/tiktok_search.h"
#include "kinds/tiktok_transcription.h"
#include "kinds/twitter_backend.h"

/* parse reads JSON text with \u0000 allowed, as the job parser does. */
static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return v;
}

static void test_has_nul(void **state)
{
    (void)state;
    json_t *v = parse("[\"abc\\u0000def\",\"abc\",\"\\u0000\",\"\",1,null]");
    assert_true(go_arg_has_nul(json_array_get(v, 0)));
    assert_false(go_arg_has_nul(json_array_get(v, 1)));
    assert_true(go_arg_has_nul(json_array_get(v, 2)));
    assert_false(go_arg_has_nul(json_array_get(v, 3)));
    assert_false(go_arg_has_nul(json_array_get(v, 4)));
    assert_false(go_arg_has_nul(json_array_get(v, 5)));
    assert_false(go_arg_has_nul(NULL));
    json_decref(v);
}

static void test_getters_refuse_nul(void **state)
{
    (void)state;
    char msg[GO_ARGS_MSG] = "";
    const char *s = "untouched";
    const json_t *list = NULL;
    json_t *args = parse("{\"Query\":\"abc\\u0000def\",\"ok\":\"abc\",\"urls\":[\"a\",\"b\\u0000\"],"
                         "\"fine\":[\"a\",null]}");
    assert_int_equal(go_arg_string(args, "query", &s, msg), -1);
    assert_string_equal(msg, "query must not contain NUL characters");
    assert_string_equal(s, "untouched");
    assert_int_equal(go_arg_strings(args, "urls", &list, msg), -1);
    assert_string_equal(msg, "urls must not contain NUL characters");
    assert_null(list);
    assert_int_equal(go_arg_string(args, "ok", &s, msg), 0);
    assert_string_equal(s, "abc");
    assert_int_equal(go_arg_strings(args, "fine", &list, msg), 0);
    assert_int_equal(json_array_size(list), 2);
    json_decref(args);
}

/* ---- each kind's parser: refused with 400 with the NUL, accepted without it ---- */

/* expect_verdict: a parser's answer rc, e to what: accepted, or refused with 400 for a NUL. */
static void expect_verdict(int rc, const struct err *e, const char *what, bool accepted)
{
    if (accepted && rc != 0)
        fail_msg("%s refused: %s", what, e->msg);
    if (!accepted && (rc == 0 || e->http != 400 || !strstr(e->msg, "must not contain NUL")))
        fail_msg("%s: rc %d, %d %s", what, rc, e->http, e->msg);
}

static void expect_refused(int rc, const struct err *e, const char *what)
{
    expect_verdict(rc, e, what, false);
}

static void expect_reddit(const char *text, bool accepted)
{
    json_t *args = parse(text);
    struct reddit_args a;
    struct err e = { 0 };
    expect_verdict(reddit_args_parse(args, &a, &e), &e, text, accepted);
    json_decref(args);
}

static void test_reddit_refuses_nul(void **state)
{
    (void)state;
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\"]}", true);
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\\u0000b\"]}", false);
    expect_reddit("{\"type\":\"searchposts\\u0000x\",\"queries\":[\"a\"]}", false);
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\"],\"sort\":\"new\\u0000\"}", false);
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\"],\"next_cursor\":\"1\\u00002\"}",
                  false);
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\"],"
                  "\"after\":\"2020-01-01T00:00:00Z\"}", true);
    expect_reddit("{\"type\":\"searchposts\",\"queries\":[\"a\"],"
                  "\"after\":\"2020-01-01T00:00:00Z\\u0000junk\"}", false);
    expect_reddit("{\"urls\":[\"https://www.reddit.com/r/golang/comments/1/x/\"]}", true);
    expect_reddit("{\"urls\":[\"https://www.reddit.com/r/golang/comments/1/x/\\u0000?evil\"]}",
                  false);
}

static void expect_twitter(const char *text, bool accepted)
{
    json_t *args = parse(text);
    struct twitter_request req;
    struct err e = { 0 };
    expect_verdict(twitter_args_parse(args, "twitter", &req, &e), &e, text, accepted);
    json_decref(args);
}

static void test_twitter_refuses_nul(void **state)
{
    (void)state;
    expect_twitter("{\"type\":\"searchbyquery\",\"query\":\"abc\"}", true);
    expect_twitter("{\"type\":\"searchbyquery\",\"query\":\"abc\\u0000def\"}", false);
    expect_twitter("{\"type\":\"searchbyquery\\u0000x\",\"query\":\"abc\"}", false);
    expect_twitter("{\"type\":\"getbyid\",\"query\":\"123\\u0000456\"}", false);
    expect_twitter("{\"query\":\"abc\",\"next_cursor\":\"c\\u0000\"}", false);
    expect_twitter("{\"query\":\"abc\",\"start_time\":\"\\u0000\"}", false);
    expect_twitter("{\"query\":\"abc\",\"end_time\":\"x\\u0000\"}", false);
}

static void test_tiktok_refuses_nul(void **state)
{
    (void)state;
    struct err e = { 0 };
    json_t *ok = parse("{\"video_url\":\"https://www.tiktok.com/@u/video/1\",\"language\":\"en-us\"}");
    assert_int_equal(tiktok_transcription_validate(ok, &e), 0);
    json_decref(ok);
    json_t *bad = parse("{\"video_url\":\"https://www.tiktok.com/@u/video/1\\u0000x\"}");
    expect_refused(tiktok_transcription_validate(bad, &e), &e, "video_url");
    json_decref(bad);
    bad = parse("{\"video_url\":\"https://www.tiktok.com/@u/video/1\",\"language\":\"en-us\\u0000\"}");
    expect_refused(tiktok_transcription_validate(bad, &e), &e, "language");
    json_decref(bad);

    ok = parse("{\"search\":[\"cats\"]}");
    assert_int_equal(tiktok_search_validate("searchbyquery", ok, &e), 0);
    json_decref(ok);
    bad = parse("{\"search\":[\"cats\\u0000dogs\"]}");
    expect_refused(tiktok_search_validate("searchbyquery", bad, &e), &e, "search");
    json_decref(bad);
    bad = parse("{\"start_urls\":[\"https://www.tiktok.com/\\u0000\"]}");
    expect_refused(tiktok_search_validate("searchbyquery", bad, &e), &e, "start_urls");
    json_decref(bad);
    bad = parse("{\"country_code\":\"US\\u0000x\"}");
    expect_refused(tiktok_search_validate("searchbytrending", bad, &e), &e, "country_code");
    json_decref(bad);

    /* the operation's name itself, read by the tiktok kind's dispatch */
    struct config cfg = { 0 };
    struct job j = { .type = "tiktok",
                     .arguments = parse("{\"type\":\"transcription\\u0000x\","
                                        "\"video_url\":\"https://www.tiktok.com/@u/video/1\"}") };
    expect_refused(registry_check(&cfg, &j, &e) ? 0 : -1, &e, "tiktok type");
    json_decref(j.arguments);
}

static void test_web_refuses_nul(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    struct err e = { 0 };
    struct job j = { .type = "web", .arguments = parse("{\"url\":\"https://example.com/\"}") };
    assert_non_null(registry_check(&cfg, &j, &e));
    json_decref(j.arguments);
    j.arguments = parse("{\"url\":\"https://example.com/\\u0000x\"}");
    assert_null(registry_check(&cfg, &j, &e));
    assert_int_equal(e.http, 400);
    assert_non_null(strstr(e.msg, "NUL"));
    json_decref(j.arguments);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_has_nul),
        cmocka_unit_test(test_getters_refuse_nul),
        cmocka_unit_test(test_reddit_refuses_nul),
        cmocka_unit_test(test_twitter_refuses_nul),
        cmocka_unit_test(test_tiktok_refuses_nul),
        cmocka_unit_test(test_web_refuses_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
