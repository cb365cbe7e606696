/* test_stats.c - telemetry counters and the stats document: exact shape and key order, zero adds,
 * the worker cap, saturation, and concurrent adds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/stats.h"
#include "util/json_out.h"

static json_t *sample_caps(void)
{
    json_t *caps = json_pack("{s:[s],s:[s]}", "telemetry", "telemetry", "web", "scraper");
    assert_non_null(caps);
    return caps;
}

/* pin_times checks the three times loosely against [from, to] (0 allowed for the last
 * operation when none is expected) and overwrites them with 1, 2, 3 so the text can be compared. */
static void pin_times(json_t *doc, time_t from, time_t to, bool expect_operation)
{
    json_int_t boot = json_integer_value(json_object_get(doc, "boot_time"));
    json_int_t last = json_integer_value(json_object_get(doc, "last_operation_time"));
    json_int_t current = json_integer_value(json_object_get(doc, "current_time"));
    assert_true(boot >= from && boot <= to);
    assert_true(current >= boot && current <= to);
    if (expect_operation)
        assert_true(last >= boot && last <= current);
    else
        assert_int_equal(last, 0);
    /* replacing a value keeps the key where it is */
    json_object_set_new(doc, "boot_time", json_integer(1));
    json_object_set_new(doc, "last_operation_time", json_integer(2));
    json_object_set_new(doc, "current_time", json_integer(3));
}

static void assert_document_text(json_t *doc, const char *expected)
{
    char *text = json_out_text(doc, 0, NULL);
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void test_empty_document(void **state)
{
    (void)state;
    time_t from = time(NULL);
    struct stats *s = stats_new("w-123");
    json_t *caps = sample_caps();
    json_t *doc = stats_document(s, caps, "v1.2.3");
    assert_non_null(doc);
    pin_times(doc, from, time(NULL), false);
    assert_document_text(doc,
        "{\"boot_time\":1,\"last_operation_time\":2,\"current_time\":3,\"worker_id\":\"w-123\","
        "\"stats\":{},"
        "\"reported_capabilities\":{\"telemetry\":[\"telemetry\"],\"web\":[\"scraper\"]},"
        "\"worker_version\":\"beta\",\"application_version\":\"v1.2.3\"}");
    json_decref(doc);
    assert_int_equal(caps->refcount, 1);            /* the document's reference is gone */
    json_decref(caps);
    stats_free(s);
}

static void test_counters_sorted_in_document(void **state)
{
    (void)state;
    time_t from = time(NULL);
    struct stats *s = stats_new("w-123");
    stats_add(s, "w-123", "web_success", 1);
    stats_add(s, "w-123", "twitter_scrapes", 1);
    stats_add(s, "w-123", "twitter_returned_tweets", 0);
    stats_add(s, "w-123", "web_success", 1);
    stats_add(s, "w-000", "web_errors", 4);
    stats_add(s, "", "tiktok_queries", 1);          /* a job without worker_id */
    json_t *caps = sample_caps();
    json_t *doc = stats_document(s, caps, NULL);
    json_decref(caps);
    pin_times(doc, from, time(NULL), true);
    assert_document_text(doc,
        "{\"boot_time\":1,\"last_operation_time\":2,\"current_time\":3,\"worker_id\":\"w-123\","
        "\"stats\":{\"\":{\"tiktok_queries\":1},\"w-000\":{\"web_errors\":4},"
        "\"w-123\":{\"twitter_returned_tweets\":0,\"twitter_scrapes\":1,\"web_success\":2}},"
        "\"reported_capabilities\":{\"telemetry\":[\"telemetry\"],\"web\":[\"scraper\"]},"
        "\"worker_version\":\"beta\",\"application_version\":\"\"}");
    json_decref(doc);
    stats_free(s);
}

static void test_null_caps_and_worker_id(void **state)
{
    (void)state;
    struct stats *s = stats_new(NULL);
    stats_add(s, NULL, "web_success", 1);
    json_t *doc = stats_document(s, NULL, "x");
    assert_string_equal(json_string_value(json_object_get(doc, "worker_id")), "");
    assert_true(json_is_object(json_object_get(doc, "reported_capabilities")));
    assert_int_equal(json_object_size(json_object_get(doc, "reported_capabilities")), 0);
    assert_int_equal(stats_get(s, "", "web_success"), 1);
    json_decref(doc);
    stats_free(s);
}

/* stats_document_text writes what json_out_text (Go's bytes) writes for stats_document (same
 * second); the worker id needs Go's HTML escaping. */
static void test_document_text_matches_dump(void **state)
{
    (void)state;
    struct stats *s = stats_new("w-\xc3\xa9\"1<&>");
    stats_add(s, "w-\xc3\xa9\"1<&>", "web_success", 3);
    stats_add(s, "w-000", "web_errors", UINT64_MAX);
    stats_add(s, "", "tiktok_queries", 1);
    json_t *caps = sample_caps();
    for (int round = 0; round < 2; round++) {
        json_t *use_caps = round ? NULL : caps;
        for (int attempt = 0;; attempt++) {
            time_t before = time(NULL);
            size_t len = 0;
            char *caps_text = use_caps ? json_out_text(use_caps, 0, NULL) : NULL;
            char *text = stats_document_text(s, caps_text, round ? NULL : "v\n1", &len);
            free(caps_text);
            json_t *doc = stats_document(s, use_caps, round ? NULL : "v\n1");
            char *want = json_out_text(doc, 0, NULL);
            json_decref(doc);
            assert_non_null(strstr(want, "1\\u003c\\u0026\\u003e\""));
            assert_non_null(text);
            assert_non_null(want);
            bool same_second = time(NULL) == before;
            if (same_second || attempt == 3) {
                assert_string_equal(text, want);
                assert_int_equal(len, strlen(want));
            }
            free(text);
            free(want);
            if (same_second || attempt == 3)
                break;
        }
    }
    json_decref(caps);
    stats_free(s);
}

static void test_add_zero_creates_key(void **state)
{
    (void)state;
    struct stats *s = stats_new("me");
    assert_int_equal(stats_get(s, "me", "twitter_returned_tweets"), 0);
    json_t *doc = stats_document(s, NULL, "");
    assert_int_equal(json_integer_value(json_object_get(doc, "last_operation_time")), 0);
    assert_int_equal(json_object_size(json_object_get(doc, "stats")), 0);
    json_decref(doc);

    stats_add(s, "me", "twitter_returned_tweets", 0);
    doc = stats_document(s, NULL, "");
    json_t *mine = json_object_get(json_object_get(doc, "stats"), "me");
    json_t *count = json_object_get(mine, "twitter_returned_tweets");
    assert_true(json_is_integer(count));
    assert_int_equal(json_integer_value(count), 0);
    assert_true(json_integer_value(json_object_get(doc, "last_operation_time")) > 0);
    json_decref(doc);
    assert_int_equal(stats_get(s, "me", "absent"), 0);
    assert_int_equal(stats_get(s, "nobody", "twitter_returned_tweets"), 0);
    stats_free(s);
}

static void test_counter_saturates(void **state)
{
    (void)state;
    struct stats *s = stats_new("me");
    stats_add(s, "me", "big", UINT64_MAX - 1);
    stats_add(s, "me", "big", 5);
    assert_true(stats_get(s, "me", "big") == UINT64_MAX);
    json_t *doc = stats_document(s, NULL, "");
    json_t *big = json_object_get(json_object_get(json_object_get(doc, "stats"), "me"), "big");
    assert_true(json_integer_value(big) == INT64_MAX);
    json_decref(doc);
    stats_free(s);
}

static void test_worker_cap_folds_into_other(void **state)
{
    (void)state;
    struct stats *s = stats_new("me");
    char id[32];
    for (int i = 0; i < STATS_MAX_WORKERS; i++) {
        snprintf(id, sizeof id, "worker-%05d", i);
        stats_add(s, id, "web_success", 1);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "late-%d", i);
        stats_add(s, id, "web_success", 2);
    }
    stats_add(s, "worker-00007", "web_success", 1);  /* tracked ids keep their own counters */
    assert_int_equal(stats_get(s, "worker-00007", "web_success"), 2);
    assert_int_equal(stats_get(s, "other", "web_success"), 20);
    assert_int_equal(stats_get(s, "late-3", "web_success"), 20);    /* reads where it went */

    json_t *doc = stats_document(s, NULL, "");
    json_t *workers = json_object_get(doc, "stats");
    assert_int_equal(json_object_size(workers), STATS_MAX_WORKERS + 1);
    assert_null(json_object_get(workers, "late-0"));
    json_t *other = json_object_get(workers, "other");
    assert_int_equal(json_integer_value(json_object_get(other, "web_success")), 20);
    const char *previous = "";
    const char *key;
    json_t *value;
    json_object_foreach(workers, key, value) {      /* keys stay sorted with "other" in place */
        assert_true(strcmp(previous, key) < 0);
        previous = key;
    }
    json_decref(doc);
    stats_free(s);
}

static void test_invalid_utf8_id_goes_to_other(void **state)
{
    (void)state;
    struct stats *s = stats_new("me");
    stats_add(s, "bad-\xff-id", "web_success", 1);
    stats_add(s, "me", "bad-\xc3", 1);               /* an invalid counter name is dropped */
    json_t *doc = stats_document(s, NULL, "");
    assert_non_null(doc);
    char *text = json_out_text(json_object_get(doc, "stats"), 0, NULL);
    assert_string_equal(text, "{\"other\":{\"web_success\":1}}");
    free(text);
    json_decref(doc);
    stats_free(s);
}

/* ---- threads ----------------------------------------------------------------------------- */

#define THREADS 4
#define ADDS_PER_THREAD 20000

static const char *const names[] = { "web_success", "reddit_queries", "twitter_scrapes" };
static const char *const workers[] = { "w-a", "w-b" };

struct adder {
    struct stats *s;
    int index;
};

static void *add_many(void *arg)
{
    struct adder *a = arg;
    for (int i = 0; i < ADDS_PER_THREAD; i++)
        stats_add(a->s, workers[(i + a->index) % 2], names[i % 3], 1);
    json_t *doc = stats_document(a->s, NULL, "");   /* documents while others add */
    json_decref(doc);
    return NULL;
}

static void test_concurrent_adds(void **state)
{
    (void)state;
    struct stats *s = stats_new("me");
    pthread_t t[THREADS];
    struct adder args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct adder){ .s = s, .index = i };
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = 0;
    for (int w = 0; w < 2; w++)
        for (int n = 0; n < 3; n++)
            total += stats_get(s, workers[w], names[n]);
    assert_int_equal(total, THREADS * ADDS_PER_THREAD);
    /* each thread splits its adds evenly over the names: 20000 / 3 rounded per name */
    uint64_t web = stats_get(s, "w-a", "web_success") + stats_get(s, "w-b", "web_success");
    assert_int_equal(web, THREADS * ((ADDS_PER_THREAD + 2) / 3));
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_document),
        cmocka_unit_test(test_counters_sorted_in_document),
        cmocka_unit_test(test_null_caps_and_worker_id),
        cmocka_unit_test(test_document_text_matches_dump),
        cmocka_unit_test(test_add_zero_creates_key),
        cmocka_unit_test(test_counter_saturates),
        cmocka_unit_test(test_worker_cap_folds_into_other),
        cmocka_unit_test(test_invalid_utf8_id_goes_to_other),
        cmocka_unit_test(test_concurrent_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
