/* test_job.c - Job JSON: strict parsing, member rules, exact integers, Go member order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jobs/job.h"

static int parse(const char *text, struct job *j, struct err *e)
{
    err_clear(e);
    return job_parse(text, strlen(text), j, e);
}

static void test_full_job_round_trip(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"web\",\"arguments\":{\"url\":\"https://x\",\"max_depth\":2},"
                       "\"quote\":\"q-1\",\"worker_id\":\"w\",\"target_worker\":\"t\","
                       "\"timeout\":300000000000,\"issued_at\":1700000000}";
    struct job j;
    struct err e;
    assert_int_equal(parse(text, &j, &e), 0);
    assert_string_equal(j.type, "web");
    assert_string_equal(j.quote, "q-1");
    assert_int_equal(j.quote_len, 3);
    assert_string_equal(j.worker_id, "w");
    assert_string_equal(j.target_worker, "t");
    assert_true(j.timeout_ns == 300000000000LL);
    assert_true(j.issued_at == 1700000000);
    size_t len = 0;
    char *out = job_serialize(&j, &len);
    assert_non_null(out);
    assert_string_equal(out, text);
    assert_int_equal(len, strlen(text));
    free(out);
    job_clear(&j);
}

static void test_defaults_and_member_order(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    assert_int_equal(parse("{\"type\":\"telemetry\",\"arguments\":null}", &j, &e), 0);
    assert_true(json_is_object(j.arguments));
    assert_int_equal(json_object_size(j.arguments), 0);
    char *out = job_serialize(&j, NULL);
    assert_string_equal(out, "{\"type\":\"telemetry\",\"arguments\":{},\"quote\":\"\",\"worker_id\":\"\","
                             "\"target_worker\":\"\",\"timeout\":0}");
    free(out);
    job_clear(&j);
}

static void test_big_integers_keep_precision(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    assert_int_equal(parse("{\"type\":\"x\",\"arguments\":{\"id\":1881258110712492142}}", &j, &e), 0);
    assert_true(json_integer_value(json_object_get(j.arguments, "id")) == 1881258110712492142LL);
    char *out = job_serialize(&j, NULL);
    assert_non_null(strstr(out, "1881258110712492142"));
    free(out);
    job_clear(&j);
}

static void test_unicode_quote_is_decoded(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    assert_int_equal(parse("{\"type\":\"x\",\"quote\":\"\\ufffd-a\"}", &j, &e), 0);
    assert_int_equal(j.quote_len, 5);
    assert_memory_equal(j.quote, "\xef\xbf\xbd-a", 5);
    job_clear(&j);
}

static void expect_refused(const char *text, const char *fragment)
{
    struct job j;
    struct err e;
    assert_int_equal(parse(text, &j, &e), -1);
    assert_int_equal(e.http, 400);
    if (!strstr(e.msg, fragment))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, fragment);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("", "invalid job JSON");
    expect_refused("{\"type\":\"x\"} trailing", "invalid job JSON");
    expect_refused("[1]", "expected a JSON object");
    expect_refused("{\"Type\":\"x\"}", "unknown member \"Type\"");
    expect_refused("{\"type\":\"x\",\"type\":\"y\"}", "invalid job JSON");
    expect_refused("{\"type\":1}", "\"type\" must be a string");
    expect_refused("{\"type\":\"x\",\"arguments\":[]}", "\"arguments\" must be an object");
    expect_refused("{\"type\":\"x\",\"timeout\":1.5}", "\"timeout\" must be an integer");
    expect_refused("{\"type\":\"x\",\"timeout\":\"1\"}", "\"timeout\" must be an integer");
    expect_refused("{\"type\":\"x\",\"issued_at\":-5}", "must not be negative");
    expect_refused("{\"type\":\"x\",\"quote\":\"\\u0000\"}", "invalid job JSON");
    expect_refused("{\"type\":\"\xff\"}", "invalid job JSON");
}

static void test_oversized_strings(void **state)
{
    (void)state;
    static char text[JOB_MAX_QUOTE + 64];
    static const char head[] = "{\"type\":\"x\",\"quote\":\"";
    size_t off = sizeof head - 1;
    memcpy(text, head, off);
    for (size_t i = 0; i <= JOB_MAX_QUOTE; i++)
        text[off + i] = 'a';
    memcpy(text + off + JOB_MAX_QUOTE + 1, "\"}", 3);
    expect_refused(text, "longer than");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_job_round_trip),
        cmocka_unit_test(test_defaults_and_member_order),
        cmocka_unit_test(test_big_integers_keep_precision),
        cmocka_unit_test(test_unicode_quote_is_decoded),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_oversized_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
