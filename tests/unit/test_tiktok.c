/* test_tiktok.c - the `tiktok` kind without the network: dispatch on arguments.type (what is
 * offered with and without Apify, refused types), transcription argument validation with its
 * messages, and the transcript language choice (requested, default, first non-empty). */
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
#include "kinds/tiktok_transcription.h"

#define PREFIX "Failed to unmarshal job arguments: "

/* check runs registry_check on a tiktok job with args (JSON text); want NULL = accepted. */
static void check(const struct config *cfg, const char *args, const char *want)
{
    json_t *a = json_loads(args, 0, NULL);
    assert_non_null(a);
    struct job j = { .type = "tiktok", .arguments = a };
    struct err e = { 0 };
    const struct job_kind *k = registry_check(cfg, &j, &e);
    if (!want) {
        if (!k)
            fail_msg("%s refused: %s", args, e.msg);
    } else {
        assert_null(k);
        assert_int_equal(e.http, 400);
        assert_string_equal(e.msg, want);
    }
    json_decref(a);
}

static void test_capabilities_follow_apify(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    json_t *caps = registry_capabilities(&cfg);
    char *text = json_dumps(json_object_get(caps, "tiktok"), JSON_COMPACT);
    assert_string_equal(text, "[\"transcription\"]");
    free(text);
    json_decref(caps);
    cfg.apify_api_key = "key";
    caps = registry_capabilities(&cfg);
    text = json_dumps(json_object_get(caps, "tiktok"), JSON_COMPACT);
    assert_string_equal(text, "[\"transcription\",\"searchbyquery\",\"searchbytrending\"]");
    free(text);
    json_decref(caps);
}

static void test_dispatch(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    const char *url = "\"video_url\":\"https://www.tiktok.com/@u/video/1\"";
    char args[200];
    snprintf(args, sizeof args, "{%s}", url);
    check(&cfg, args, NULL);
    snprintf(args, sizeof args, "{\"TYPE\":\"Transcription\",%s}", url);
    check(&cfg, args, NULL);
    snprintf(args, sizeof args, "{\"type\":null,%s}", url);
    check(&cfg, args, NULL);
    check(&cfg, "{\"type\":\"dance\"}", PREFIX "unknown tiktok type: dance");
    check(&cfg, "{\"type\":\"transcriptionxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
          PREFIX "unknown tiktok type: transcriptionxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    check(&cfg, "{\"type\":7}",
          PREFIX "json: cannot unmarshal number into Go struct field .type of type string");
    check(&cfg, "{\"type\":\"searchbyquery\",\"search\":[\"x\"]}",
          PREFIX "tiktok type searchbyquery is not available on this worker (it needs a valid "
          "APIFY_API_KEY)");
    cfg.apify_api_key = "key";
    check(&cfg, "{\"type\":\"SearchByQuery\",\"search\":[\"x\"]}", NULL);
    check(&cfg, "{\"type\":\"searchbyquery\"}",
          PREFIX "either 'search' or 'start_urls' is required for searchbyquery");
}

static void test_transcription_arguments(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    check(&cfg, "{}", PREFIX "video_url is required");
    check(&cfg, "{\"video_url\":\"\"}", PREFIX "video_url is required");
    check(&cfg, "{\"video_url\":[1]}",
          PREFIX "json: cannot unmarshal array into Go struct field .video_url of type string");
    check(&cfg, "{\"video_url\":\"https://www.youtube.com/watch?v=1\"}",
          PREFIX "URL must be a valid TikTok video URL");
    check(&cfg, "{\"video_url\":\"https://eviltiktok.com/v/1\"}",
          PREFIX "URL must be a valid TikTok video URL");
    check(&cfg, "{\"video_url\":\"https://www.tiktok.com@evil.com/v/1\"}",
          PREFIX "URL must be a valid TikTok video URL");
    check(&cfg, "{\"video_url\":\"https://www.tiktok.com:8443/v/1\"}",
          PREFIX "URL must be a valid TikTok video URL");
    /* Go's url.Parse finds no host without "//" after the scheme (or without a scheme) */
    const char *hostless[] = { "www.tiktok.com/@u/video/1", "tiktok.com:443/@u/video/1",
                               "https:/www.tiktok.com/@u/video/1", "https:www.tiktok.com/x",
                               "https:///www.tiktok.com/@u/video/1", "///www.tiktok.com/x" };
    for (size_t i = 0; i < sizeof hostless / sizeof hostless[0]; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"video_url\":\"%s\"}", hostless[i]);
        check(&cfg, args, PREFIX "URL must be a valid TikTok video URL");
    }
    check(&cfg, "{\"video_url\":\":www.tiktok.com\"}",
          PREFIX "invalid video_url format: missing protocol scheme");
    check(&cfg, "{\"video_url\":\"//www.tiktok.com/@u/video/1\"}", NULL);
    check(&cfg, "{\"video_url\":\"//evil.com/www.tiktok.com\"}",
          PREFIX "URL must be a valid TikTok video URL");
    check(&cfg, "{\"video_url\":\"ftp://www.tiktok.com/@u/video/1\"}", NULL);
    check(&cfg, "{\"video_url\":\"https://VM.TikTok.com/ZM1/\"}", NULL);
    check(&cfg, "{\"video_url\":\"https://tiktok.com/@u/video/1\",\"language\":\"es-ES\"}", NULL);
    check(&cfg, "{\"video_url\":\"https://tiktok.com/@u/video/1\",\"language\":\"spa-ES\"}", NULL);
    check(&cfg, "{\"video_url\":\"https://tiktok.com/x\",\"language\":\"english\"}",
          PREFIX "invalid language format 'english', expected format: 'lang-region' (e.g., "
          "'en-us' or 'eng-us')");
    check(&cfg, "{\"video_url\":\"https://tiktok.com/x\",\"language\":\"en-us-x\"}",
          PREFIX "invalid language format 'en-us-x', expected format: 'lang-region' (e.g., "
          "'en-us' or 'eng-us')");
    check(&cfg, "{\"video_url\":\"https://tiktok.com/x\",\"language\":\"engl-US\"}",
          PREFIX "invalid language format 'engl-US', expected 2-3 letter language code and "
          "2-letter region code");
    check(&cfg, "{\"video_url\":\"https://tiktok.com/x\",\"language\":\"en-USA\"}",
          PREFIX "invalid language format 'en-USA', expected 2-3 letter language code and "
          "2-letter region code");
}

static void test_pick_transcript(void **state)
{
    (void)state;
    json_t *t = json_loads("{\"spa-ES\":\"WEBVTT\\n\\nhola\",\"blank\":\" \\n \","
                           "\"eng-US\":\"WEBVTT\\n\\nhello\",\"fra-FR\":\"WEBVTT\"}", 0, NULL);
    assert_non_null(t);
    const json_t *vtt = NULL;
    assert_string_equal(tiktok_pick_transcript(t, "fra-FR", "eng-US", &vtt), "fra-FR");
    assert_string_equal(json_string_value(vtt), "WEBVTT");
    assert_string_equal(tiktok_pick_transcript(t, "", "eng-US", &vtt), "eng-US");
    assert_string_equal(tiktok_pick_transcript(t, "ENG-US", "xx-YY", &vtt), "spa-ES");
    assert_string_equal(tiktok_pick_transcript(t, "blank", NULL, &vtt), "spa-ES");
    assert_string_equal(json_string_value(vtt), "WEBVTT\n\nhola");
    json_decref(t);
    t = json_loads("{\"a\":\"\",\"b\":null,\"c\":\"\\t\"}", 0, NULL);
    vtt = NULL;
    assert_null(tiktok_pick_transcript(t, "a", "c", &vtt));
    assert_null(vtt);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capabilities_follow_apify),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_transcription_arguments),
        cmocka_unit_test(test_pick_transcript),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
