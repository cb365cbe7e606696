/* test_job.c - Job JSON: strict parsing, member rules, exact integers, Go member order, Go's
 * bytes (arguments sorted as Go writes a map). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jansson_alloc_count.h"
#include "jobs/job.h"
#include "util/json_out.h"

static int parse(const char *text, struct job *j, struct err *e)
{
    err_clear(e);
    return job_parse(text, strlen(text), j, e);
}

static void test_full_job_round_trip(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"web\",\"arguments\":{\"max_depth\":2,\"url\":\"https://x\"},"
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
    assert_int_equal(parse("{\"type\":\"telemetry\",\"arguments\":{}}", &j, &e), 0);
    assert_true(json_is_object(j.arguments));
    assert_int_equal(json_object_size(j.arguments), 0);
    char *out = job_serialize(&j, NULL);
    assert_string_equal(out, "{\"type\":\"telemetry\",\"arguments\":{},\"quote\":\"\",\"worker_id\":\"\","
                             "\"target_worker\":\"\",\"timeout\":0}");
    free(out);
    job_clear(&j);
}

/* No arguments, or null, is Go's nil map: the kinds see {} but the job is written back with
 * "arguments":null, as Go writes it (core-protocol.md 2.1, and the JobResult of 1.4); {} stays {}. Both
 * parsers read that text back the same way. */
static void test_absent_or_null_arguments_written_as_null(void **state)
{
    (void)state;
    static const char *const given[] = {
        "{\"type\":\"telemetry\",\"arguments\":null}",
        "{\"type\":\"telemetry\"}",
        "{\"type\": \"telemetry\", \"arguments\": null}",     /* the full parser's way */
    };
    static const char want[] = "{\"type\":\"telemetry\",\"arguments\":null,\"quote\":\"\","
                               "\"worker_id\":\"\",\"target_worker\":\"\",\"timeout\":0}";
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        struct job j;
        struct err e;
        assert_int_equal(parse(given[i], &j, &e), 0);
        assert_true(json_is_object(j.arguments));
        assert_int_equal(json_object_size(j.arguments), 0);
        char *out = job_serialize(&j, NULL);
        assert_string_equal(out, want);
        job_clear(&j);
        struct job again, tree;
        assert_int_equal(parse(out, &again, &e), 0);
        assert_int_equal(job_parse_tree(out, strlen(out), &tree, &e), 0);
        assert_true(again.arguments_null && tree.arguments_null);
        assert_true(json_is_object(again.arguments) && json_is_object(tree.arguments));
        free(out);
        job_clear(&again);
        job_clear(&tree);
    }
    struct job j;
    struct err e;
    assert_int_equal(parse("{\"type\":\"x\",\"arguments\":nul}", &j, &e), -1);
    assert_int_equal(parse("{\"type\":\"x\",\"arguments\":nullx}", &j, &e), -1);
}

static void expect_refused_code(const char *text, int http)
{
    struct job j;
    struct err e;
    assert_int_equal(parse(text, &j, &e), -1);
    assert_int_equal(e.http, http);
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

/* A Go worker holds a job's arguments as float64s and writes one below 1e21 as plain digits: an
 * integer beyond int64 in its job text is read as that real, not refused. */
static void test_go_integers_beyond_int64_read_as_reals(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    assert_int_equal(parse("{\"type\":\"x\",\"arguments\":{\"big\":100000000000000000000,"
                           "\"neg\":-9223372036854775809,\"edge\":9223372036854775808,"
                           "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                           "\"r\":12345678901234567890.5e0,\"s\":\"99999999999999999999\","
                           "\"a\":[18446744073709551616]},\"quote\":\"q\",\"timeout\":5}", &j, &e), 0);
    json_t *a = j.arguments;
    assert_true(json_is_real(json_object_get(a, "big")));
    assert_true(json_real_value(json_object_get(a, "big")) == 1e20);
    assert_true(json_real_value(json_object_get(a, "neg")) == -9223372036854775809.0);
    assert_true(json_real_value(json_object_get(a, "edge")) == 9223372036854775808.0);
    assert_true(json_is_integer(json_object_get(a, "max")));     /* within int64: exact */
    assert_true(json_integer_value(json_object_get(a, "max")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(a, "min")) == INT64_MIN);
    assert_true(json_is_real(json_object_get(a, "r")));
    assert_string_equal(json_string_value(json_object_get(a, "s")), "99999999999999999999");
    assert_true(json_real_value(json_array_get(json_object_get(a, "a"), 0)) == 18446744073709551616.0);
    assert_int_equal(j.timeout_ns, 5);
    assert_string_equal(j.quote, "q");
    job_clear(&j);
    /* the job's own integers stay integers: one beyond int64 there is refused */
    expect_refused_code("{\"type\":\"x\",\"timeout\":10000000000000000000}", 400);
    /* a real out of float64's range is refused as Go refuses it */
    expect_refused_code("{\"type\":\"x\",\"arguments\":{\"n\":1e400}}", 400);
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

/* Go writes the raw SHA-256 bytes of its quote into the job JSON: a 0x00 byte (in about one
 * signature in eight) becomes \u0000, which must decode to a NUL byte kept in the quote, since the
 * quote's exact bytes salt the result (core-protocol.md 2.2). It must survive serialising (the
 * store keeps the job text) and parsing again. */
static void test_go_quote_with_nul_bytes(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"telemetry\",\"arguments\":{},"
                       "\"quote\":\"\\ufffd\\u0000g\\u0007\\u0000-X!\",\"worker_id\":\"\","
                       "\"target_worker\":\"\",\"timeout\":0}";
    static const char want[] = "\xef\xbf\xbd\0g\x07\0-X!";
    struct job j;
    struct err e;
    if (parse(text, &j, &e) != 0)
        fail_msg("refused: %s", e.msg);
    assert_int_equal(j.quote_len, sizeof want - 1);
    assert_memory_equal(j.quote, want, sizeof want - 1);
    assert_int_equal(j.quote[j.quote_len], '\0');
    size_t len = 0;
    char *out = job_serialize(&j, &len);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"quote\":\"\xef\xbf\xbd\\u0000g\\u0007\\u0000-X!\""));
    struct job again;
    if (job_parse(out, len, &again, &e) != 0)
        fail_msg("own text refused: %s", e.msg);
    assert_int_equal(again.quote_len, sizeof want - 1);
    assert_memory_equal(again.quote, want, sizeof want - 1);
    free(out);
    job_clear(&again);
    job_clear(&j);
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
    /* A NUL is only meaningful in the quote (Go's raw digest bytes); anywhere else it is refused. */
    expect_refused("{\"type\":\"x\\u0000y\"}", "\"type\" must not contain NUL");
    expect_refused("{\"type\":\"x\",\"worker_id\":\"\\u0000\"}", "\"worker_id\" must not contain NUL");
    expect_refused("{\"type\":\"x\",\"target_worker\":\"a\\u0000\"}",
                   "\"target_worker\" must not contain NUL");
    expect_refused("{\"type\":\"x\",\"arguments\":{\"a\":[{\"b\":\"\\u0000\"}]}}",
                   "\"arguments\" must not contain NUL");
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

/* arguments_of_values writes {"type":"x","arguments":{"a":[0,0,...]}} holding `values` values
 * inside the arguments (the array and values - 1 numbers), then `tail` before the closing braces. */
static char *arguments_of_values(size_t values, const char *tail)
{
    size_t cap = 64 + 2 * values + strlen(tail);
    char *text = malloc(cap), *p = text;
    if (!text)
        abort();
    p += sprintf(p, "{\"type\":\"x\",\"arguments\":{\"a\":[");
    for (size_t i = 0; i + 1 < values; i++)
        p += sprintf(p, i ? ",0" : "0");
    p += sprintf(p, "]}%s}", tail);
    return text;
}

/* assert_refused_by_both: text is refused with 400 and a message holding why, by job_parse and
 * by job_from_json on jansson's tree of it. */
static void assert_refused_by_both(const char *text, const char *why)
{
    struct job j;
    struct err e;
    assert_int_equal(parse(text, &j, &e), -1);
    assert_int_equal(e.http, 400);
    assert_non_null(strstr(e.msg, why));
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    err_clear(&e);
    assert_int_equal(job_from_json(root, &j, &e), -1);
    assert_int_equal(e.http, 400);
    assert_non_null(strstr(e.msg, why));
    json_decref(root);
}

/* A job waits in the queue as a jansson tree, up to ~80 times its text: the values and the text
 * its arguments hold are bounded (job.h), on the fast path and on jansson's path alike (a space
 * after the arguments sends the text to the full parser), and at /job/generate (job_from_json). */
static void test_arguments_are_bounded(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    for (int full = 0; full < 2; full++) {
        const char *tail = full ? " " : "";
        char *text = arguments_of_values(JOB_MAX_ARGUMENT_VALUES, tail);
        assert_int_equal(parse(text, &j, &e), 0);
        assert_int_equal(json_array_size(json_object_get(j.arguments, "a")),
                         JOB_MAX_ARGUMENT_VALUES - 1);
        job_clear(&j);
        free(text);
        text = arguments_of_values(JOB_MAX_ARGUMENT_VALUES + 1, tail);
        assert_int_equal(parse(text, &j, &e), -1);
        assert_int_equal(e.http, 400);
        assert_non_null(strstr(e.msg, "values"));
        free(text);
    }
    /* the text: member names and strings together */
    size_t n = JOB_MAX_ARGUMENT_BYTES / 2;
    char *text = malloc(2 * n + 128), *p = text;
    if (!text)
        abort();
    p += sprintf(p, "{\"type\":\"x\",\"arguments\":{\"");
    memset(p, 'k', n - 1);
    p += n - 1;
    p += sprintf(p, "\":\"");
    memset(p, 's', n);
    p += n;
    p += sprintf(p, "\"}}");
    assert_int_equal(parse(text, &j, &e), 0);       /* exactly at the bound */
    job_clear(&j);
    p[-3] = 's';
    strcpy(p, "s\"}}");                            /* one byte more */
    assert_refused_by_both(text, "bytes");
    free(text);
}

/* nested_arguments: a job whose arguments nest depth arrays ({"a":[[...]]}: the object is level 0,
 * its array level 1); free() it. */
static char *nested_arguments(int depth)
{
    char *text = malloc(64 + 2 * (size_t)depth), *p = text;
    if (!text)
        abort();
    p += sprintf(p, "{\"type\":\"x\",\"arguments\":{\"a\":");
    memset(p, '[', (size_t)depth);
    p += depth;
    memset(p, ']', (size_t)depth);
    p += depth;
    strcpy(p, "}}");
    return text;
}

/* Arguments nest at most JOB_MAX_ARGUMENT_DEPTH levels, on both paths, so that the job text (and
 * a job thread writing it again) stays within json_out's depth. */
static void test_arguments_nesting_is_bounded(void **state)
{
    (void)state;
    struct job j;
    struct err e;
    char *text = nested_arguments(JOB_MAX_ARGUMENT_DEPTH);
    assert_int_equal(parse(text, &j, &e), 0);
    size_t len = 0;
    char *again = job_serialize(&j, &len);
    assert_non_null(again);
    free(again);
    job_clear(&j);
    free(text);
    text = nested_arguments(JOB_MAX_ARGUMENT_DEPTH + 1);
    assert_refused_by_both(text, "deeper than");
    free(text);
}

/* A job text the bounds refuse is refused before jansson decodes it: 600 KB of [{},{},...]
 * (what a signature within the /job/add body limit can carry) used to be decoded whole, ~47 MB,
 * on the fast path and again on jansson's path, before the values bound refused it. */
static void test_costly_text_refused_before_decoding(void **state)
{
    (void)state;
    size_t n = 200 * 1024;
    char *text = malloc(3 * n + 64), *p = text;
    if (!text)
        abort();
    p += sprintf(p, "{\"type\":\"x\",\"arguments\":{\"a\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(p, i ? ",{}" : "{}", i ? 3 : 2);
        p += i ? 3 : 2;
    }
    strcpy(p, "]}}");
    struct job j;
    struct err e;
    live = peak = 0;
    json_set_alloc_funcs(counting_malloc, counting_free);
    int fast = parse(text, &j, &e);
    size_t fast_peak = peak;
    peak = 0;
    int tree = job_parse_tree(text, strlen(text), &j, &e);
    size_t tree_peak = peak;
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(fast, -1);
    assert_int_equal(tree, -1);
    assert_int_equal(e.http, 400);
    assert_non_null(strstr(e.msg, "to decode"));
    assert_true(fast_peak < 1024 * 1024);
    assert_true(tree_peak < 1024 * 1024);
    free(text);
}

/* ---- the fast paths against jansson ---------------------------------------------------------- */

static int key_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* A deep copy of v whose objects hold their members inserted in key order. */
static json_t *sorted_copy(json_t *v)
{
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, sorted_copy(json_array_get(v, i)));
        return a;
    }
    if (!json_is_object(v))
        return json_incref(v);
    const char *keys[64];
    size_t n = 0;
    const char *k;
    json_t *m;
    json_object_foreach(v, k, m)
        keys[n++] = k;
    qsort(keys, n, sizeof keys[0], key_cmp);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, keys[i], sorted_copy(json_object_get(v, keys[i])));
    return o;
}

/* The serializer through a jansson tree (strings unchecked, so that invalid UTF-8 reaches the
 * writer; arguments copied in key order) written by json_out_text: job_serialize must match. */
static char *reference_serialize(const struct job *j)
{
    json_t *o = json_object();
    int bad = 0;
    bad |= json_object_set_new(o, "type", json_string_nocheck(j->type ? j->type : ""));
    bad |= json_object_set_new(o, "arguments",
                               j->arguments ? sorted_copy(j->arguments) : json_object());
    bad |= json_object_set_new(o, "quote",
                               json_stringn_nocheck(j->quote ? j->quote : "", j->quote_len));
    bad |= json_object_set_new(o, "worker_id",
                               json_string_nocheck(j->worker_id ? j->worker_id : ""));
    bad |= json_object_set_new(o, "target_worker",
                               json_string_nocheck(j->target_worker ? j->target_worker : ""));
    bad |= json_object_set_new(o, "timeout", json_integer(j->timeout_ns));
    if (j->issued_at)
        bad |= json_object_set_new(o, "issued_at", json_integer(j->issued_at));
    char *text = bad ? NULL : json_out_text(o, 0, NULL);
    json_decref(o);
    return text;
}

static void test_serialize_matches_tree(void **state)
{
    (void)state;
    char controls[40];
    for (int i = 0; i < 32; i++)
        controls[i] = (char)(i + 1 < 32 ? i + 1 : 0x7f);
    controls[32] = '"';
    controls[33] = '\\';
    controls[34] = '/';
    controls[35] = '\0';
    static const char *const strings[] = {
        "", "telemetry", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "a\"b\\c/d",
        "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80", "\xff",
        "<a>&amp;</a>", "line\xe2\x80\xa8para\xe2\x80\xa9",
    };
    const size_t n = sizeof strings / sizeof strings[0];
    for (size_t i = 0; i < n + 1; i++) {
        const char *s = i < n ? strings[i] : controls;
        struct job j = { 0 };
        j.type = (char *)s;
        j.quote = (char *)"q\0uote";
        j.quote_len = 6;
        j.worker_id = (char *)(i % 2 ? s : "w");
        j.target_worker = (char *)"";
        j.timeout_ns = i % 3 ? -(int64_t)i * 1000000007LL : INT64_MAX;
        j.issued_at = i % 2 ? 0 : 1700000000 + (int64_t)i;
        j.arguments = i % 2 ? json_pack("{s:s,s:[i,f,n,b],s:{},s:{s:f,s:s,s:i}}", "url",
                                        s[0] ? "x" : "", "l", 1, 2.5, 1, "o", "n", "z", 0.97,
                                        "B", s, "a", 3)
                            : NULL;
        size_t len = 0;
        char *got = job_serialize(&j, &len);
        char *want = reference_serialize(&j);
        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        assert_int_equal(len, strlen(want));
        if (!json_out_utf8_valid(s, strlen(s)))
            assert_non_null(strstr(got, "\\ufffd"));
        if (j.arguments && !strstr(got, "\"arguments\":{\"l\":[1,2.5,null,true],\"n\":{\"B\":"))
            fail_msg("arguments not in Go's order: %s", got);
        free(got);
        free(want);
        json_decref(j.arguments);
    }
}

/* Arguments come out as Go writes its map: keys sorted, reals in Go's shortest form; an integral
 * real beyond int64 stays readable by job_parse (exponent form). */
static void test_serialize_arguments_as_go(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"web\",\"arguments\":{\"z\":1e20,\"a\":0.97,\"m\":{\"y\":120.0,"
                       "\"x\":\"<&>\"},\"B\":1e-7,\"big\":100000000000000000.5}}";
    struct job j;
    struct err e;
    if (parse(text, &j, &e) != 0)
        fail_msg("refused: %s", e.msg);
    size_t len = 0;
    char *out = job_serialize(&j, &len);
    assert_non_null(out);
    assert_string_equal(out, "{\"type\":\"web\",\"arguments\":{\"B\":1e-7,\"a\":0.97,"
                             "\"big\":100000000000000000,\"m\":{\"x\":\"\\u003c\\u0026\\u003e\","
                             "\"y\":120},\"z\":1e+20},\"quote\":\"\",\"worker_id\":\"\","
                             "\"target_worker\":\"\",\"timeout\":0}");
    struct job again;
    if (job_parse(out, len, &again, &e) != 0)
        fail_msg("own text refused: %s", e.msg);
    assert_true(json_real_value(json_object_get(again.arguments, "z")) == 1e20);
    assert_int_equal(json_integer_value(json_object_get(again.arguments, "big")),
                     100000000000000000LL);
    free(out);
    job_clear(&again);
    job_clear(&j);
}

/* job_parse (fast path when it applies) and the full parser give the same job or error. */
static void test_parse_matches_full_parser(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        "{\"type\":\"telemetry\",\"arguments\":{},\"quote\":\"abc\",\"worker_id\":\"w\","
        "\"target_worker\":\"\",\"timeout\":0,\"issued_at\":1700000000}",
        "{\"arguments\":{\"url\":\"http://x/\\\"}\",\"d\":[1,{\"a\":[]}]},\"type\":\"web\"}",
        "{\"type\":\"a\",\"type\":\"b\"}",
        "{\"type\":\"a\",\"extra\":1}",
        "{\"type\":\"a\\u00e9\"}",
        "{\"type\":\"caf\xc3\xa9\"}",
        "{\"type\":\"bad\xc3\"}",
        "{\"timeout\":-0,\"issued_at\":0}",
        "{\"timeout\":01}",
        "{\"timeout\":1.0}",
        "{\"timeout\":123456789012345678}",
        "{\"timeout\":1234567890123456789}",
        "{\"timeout\":99999999999999999999}",
        "{\"issued_at\":-5}",
        "{\"type\":null,\"quote\":null}",
        "{\"arguments\":[]}",
        "{\"arguments\":{\"a\":1,\"a\":2}}",
        "{\"arguments\":{\"a\":1}",
        "{\"arguments\":{\"a\":\"\\\"}\"}}",
        "{\"type\":\"a\"} ",
        " {\"type\":\"a\"}",
        "{\"type\":\"a\",}",
        "{\"type\":1}",
        "{\"quote\":\"\\u0000\"}",
        "{\"type\":\"\\u0000\"}",
        "{\"arguments\":{\"a\":\"\\u0000\"}}",
        "{\"type\":\"tab\there\"}",
        /* the HTML-safe escapes Go (and job_serialize) write for < > & in a nonce */
        "{\"type\":\"a\\u003cb\\u003e\",\"quote\":\"x\\u0026y-\\u003c!\",\"worker_id\":\"\\u0026\"}",
        "{\"type\":\"a\\u003Cb\"}",
        "{\"type\":\"a\\u0026\\u0027\"}",
        "{\"type\":\"a\\u00\"}",
        "{\"type\":\"a\\u003",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct job fast = { 0 }, full = { 0 };
        struct err ef = { 0 }, el = { 0 };
        int rf = job_parse(texts[i], strlen(texts[i]), &fast, &ef);
        json_error_t jerr;
        json_t *root = json_loadb(texts[i], strlen(texts[i]),
                                  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        int rl = root ? job_from_json(root, &full, &el) : -1;
        json_decref(root);
        if (rf != rl)
            fail_msg("text %zu: job_parse %d, full parser %d", i, rf, rl);
        if (rf == 0) {
            assert_string_equal(fast.type, full.type);
            assert_int_equal(fast.quote_len, full.quote_len);
            assert_memory_equal(fast.quote, full.quote, full.quote_len);
            assert_string_equal(fast.worker_id, full.worker_id);
            assert_string_equal(fast.target_worker, full.target_worker);
            assert_true(fast.timeout_ns == full.timeout_ns);
            assert_true(fast.issued_at == full.issued_at);
            assert_true(json_equal(fast.arguments, full.arguments));
        } else if (root) {
            assert_string_equal(ef.msg, el.msg);
        }
        job_clear(&fast);
        job_clear(&full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_job_round_trip),
        cmocka_unit_test(test_defaults_and_member_order),
        cmocka_unit_test(test_absent_or_null_arguments_written_as_null),
        cmocka_unit_test(test_big_integers_keep_precision),
        cmocka_unit_test(test_go_integers_beyond_int64_read_as_reals),
        cmocka_unit_test(test_unicode_quote_is_decoded),
        cmocka_unit_test(test_go_quote_with_nul_bytes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_oversized_strings),
        cmocka_unit_test(test_arguments_are_bounded),
        cmocka_unit_test(test_arguments_nesting_is_bounded),
        cmocka_unit_test(test_costly_text_refused_before_decoding),
        cmocka_unit_test(test_serialize_matches_tree),
        cmocka_unit_test(test_serialize_arguments_as_go),
        cmocka_unit_test(test_parse_matches_full_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
