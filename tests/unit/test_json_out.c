/* test_json_out.c - the JSON writer against the bytes Go's encoding/json writes: a table of
 * float64 values and of strings with Go's known outputs, whole values (member order, sorted keys
 * as a Go map, nesting limit), and refusals (NaN, infinities). */
#include <setjmp.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/server.h"
#include "util/json_out.h"

/* ---- reals -------------------------------------------------------------------------------- */

struct real_case {
    double v;
    const char *go;     /* what json.Marshal(float64) writes */
};

static const struct real_case real_cases[] = {
    { 0.0, "0" },
    { -0.0, "-0" },
    { 1.0, "1" },
    { -1.0, "-1" },
    { 120.0, "120" },
    { 0.1, "0.1" },
    { 0.97, "0.97" },
    { 0.3, "0.3" },
    { -2.5, "-2.5" },
    { 4.35, "4.35" },
    { 1.0 / 3.0, "0.3333333333333333" },
    { 2.0 / 3.0, "0.6666666666666666" },
    { 1.0000000000000002, "1.0000000000000002" },
    { 123456789.125, "123456789.125" },
    { 1e15, "1000000000000000" },
    { 9007199254740992.0, "9007199254740992" },                 /* 2^53 */
    { 9007199254740994.0, "9007199254740994" },
    { 9223372036854775808.0, "9223372036854776000" },           /* 2^63: shortest digits, zeros */
    { 1e20, "100000000000000000000" },
    { 1e21, "1e+21" },
    { 999999999999999999999.0, "1e+21" },                       /* the same double */
    { 1e22, "1e+22" },
    { 1e23, "1e+23" },
    { 1.5e300, "1.5e+300" },
    { DBL_MAX, "1.7976931348623157e+308" },
    { -DBL_MAX, "-1.7976931348623157e+308" },
    { 1e-5, "0.00001" },
    { 1e-6, "0.000001" },
    { 0.000001234, "0.000001234" },
    { 1e-7, "1e-7" },
    { -1e-7, "-1e-7" },
    { 1.23e-7, "1.23e-7" },
    { 1.5e-10, "1.5e-10" },
    { 1e-100, "1e-100" },
    /* 2^-24: the nearest decimal of 16 digits does not read back, its other neighbour does */
    { 5.960464477539063e-08, "5.960464477539063e-8" },
    { 7.120236347223045e-307, "7.120236347223045e-307" },       /* 2^-1017, likewise */
    { 2.2250738585072014e-308, "2.2250738585072014e-308" },     /* DBL_MIN */
    { 2.225073858507201e-308, "2.225073858507201e-308" },       /* largest subnormal */
    { 5e-324, "5e-324" },                                       /* smallest subnormal */
    { -5e-324, "-5e-324" },
};

static void test_reals_as_go(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof real_cases / sizeof real_cases[0]; i++) {
        char text[JSON_OUT_REAL_MAX];
        size_t n = json_out_real_text(real_cases[i].v, text);
        if (strcmp(text, real_cases[i].go) != 0)
            fail_msg("%.17g: got %s, want %s", real_cases[i].v, text, real_cases[i].go);
        assert_int_equal(n, strlen(real_cases[i].go));
        /* and what is written reads back as the same double */
        assert_true(strtod(text, NULL) == real_cases[i].v);
        struct growbuf b = { 0 };
        assert_int_equal(json_out_real(&b, real_cases[i].v), 0);
        assert_string_equal(b.data, real_cases[i].go);
        free(b.data);
    }
}

/* The shortest digits read back, and one digit fewer never does (a sweep over many binades). */
static void test_reals_shortest_sweep(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        char text[JSON_OUT_REAL_MAX];
        assert_true(json_out_real_text(v, text) > 0);
        assert_true(strtod(text, NULL) == v);
        /* count the significant digits and check %.{n-2}e does not read back */
        int digits = 0;
        bool leading = true;
        for (const char *p = text; *p && *p != 'e'; p++) {
            if (*p < '0' || *p > '9' || (leading && *p == '0'))
                continue;
            leading = false;
            digits++;
        }
        const char *e = strchr(text, 'e');
        if (!e) {   /* plain form: trailing zeros of an integer are not significant */
            const char *end = text + strlen(text);
            if (!strchr(text, '.'))
                while (end > text && end[-1] == '0' && digits > 1) {
                    end--;
                    digits--;
                }
        }
        if (digits >= 2) {
            char shorter[48];
            snprintf(shorter, sizeof shorter, "%.*e", digits - 2, v);
            assert_false(strtod(shorter, NULL) == v);
        }
        /* Go's layout: exponent form exactly when abs < 1e-6 or abs >= 1e21 (and not 0) */
        double a = v < 0 ? -v : v;
        assert_true((e != NULL) == (a != 0 && (a < 1e-6 || a >= 1e21)));
        if (e)
            assert_true(e[1] == '+' ? e[2] != '0' : e[1] == '-' && e[2] != '0');
    }
}

static void test_reals_not_finite_refused(void **state)
{
    (void)state;
    const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[JSON_OUT_REAL_MAX];
        assert_int_equal(json_out_real_text(bad[i], text), 0);
        struct growbuf b = { 0 };
        assert_int_equal(json_out_raw(&b, "[", 1), 0);
        assert_int_equal(json_out_real(&b, bad[i]), -1);
        assert_int_equal(b.len, 1);     /* nothing appended */
        free(b.data);
    }
    assert_null(json_real(NAN));        /* jansson cannot hold one: trees never carry it */
    assert_null(json_real(INFINITY));
}

/* ---- strings ------------------------------------------------------------------------------ */

struct string_case {
    const char *s;
    size_t len;
    const char *go;     /* what json.Marshal(string) writes */
};

#define S(lit) lit, sizeof lit - 1

static const struct string_case string_cases[] = {
    { S(""), "\"\"" },
    { S("plain text"), "\"plain text\"" },
    { S("<a href=\"x\">&amp;</a>"),
      "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"" },
    { S("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"" },
    { S("\n\r\t"), "\"\\n\\r\\t\"" },
    { S("\b\f"), "\"\\b\\f\"" },              /* Go >= 1.22; \u0008\u000c before */
    { S("\x01\x1f\x1b[0m"), "\"\\u0001\\u001f\\u001b[0m\"" },
    { S("a\0b"), "\"a\\u0000b\"" },
    { S("del\x7f"), "\"del\x7f\"" },
    { S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
    { S("\xe2\x80\xa8|\xe2\x80\xa9"), "\"\\u2028|\\u2029\"" },
    { S("\xe2\x80\xa7\xe2\x80\xaa"), "\"\xe2\x80\xa7\xe2\x80\xaa\"" },      /* U+2027, U+202A */
    { S("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"" },                                /* U+FFFD itself */
    { S("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },                        /* U+10FFFF */
    /* each byte that starts no valid character becomes \ufffd */
    { S("\xff"), "\"\\ufffd\"" },
    { S("ab\xc3"), "\"ab\\ufffd\"" },
    { S("\xc3x"), "\"\\ufffdx\"" },
    { S("\x80z"), "\"\\ufffdz\"" },
    { S("\xc0\xaf"), "\"\\ufffd\\ufffd\"" },                                  /* overlong '/' */
    { S("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"" },
    { S("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"" },                       /* surrogate */
    { S("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },            /* > U+10FFFF */
    { S("\xe2\x80"), "\"\\ufffd\\ufffd\"" },                                  /* cut U+2028 */
    { S("\xf0\x9f\x98<"), "\"\\ufffd\\ufffd\\ufffd\\u003c\"" },
};

static void test_strings_as_go(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof string_cases / sizeof string_cases[0]; i++) {
        struct growbuf b = { 0 };
        assert_int_equal(json_out_string(&b, string_cases[i].s, string_cases[i].len), 0);
        if (strcmp(b.data, string_cases[i].go) != 0)
            fail_msg("case %zu: got %s, want %s", i, b.data, string_cases[i].go);
        /* always a valid JSON string */
        json_t *back = json_loads(b.data, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_true(json_is_string(back));
        if (json_out_utf8_valid(string_cases[i].s, string_cases[i].len)) {
            assert_int_equal(json_string_length(back), string_cases[i].len);
            assert_memory_equal(json_string_value(back), string_cases[i].s, string_cases[i].len);
        }
        json_decref(back);
        free(b.data);
    }
}

/* Every byte value alone: the escapes of the whole ASCII range, and \ufffd above it. */
static void test_every_single_byte(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char s = (char)c;
        struct growbuf b = { 0 };
        assert_int_equal(json_out_string(&b, &s, 1), 0);
        char want[16];
        if (c == '"' || c == '\\')
            snprintf(want, sizeof want, "\"\\%c\"", c);
        else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            snprintf(want, sizeof want, "\"\\%c\"",
                     c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f');
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            snprintf(want, sizeof want, "\"\\u%04x\"", (unsigned)c);
        else if (c >= 0x80)
            snprintf(want, sizeof want, "\"\\ufffd\"");
        else
            snprintf(want, sizeof want, "\"%c\"", c);
        assert_string_equal(b.data, want);
        free(b.data);
    }
}

/* ---- values ------------------------------------------------------------------------------- */

static void assert_value_text(json_t *v, unsigned flags, const char *want)
{
    size_t len = 0;
    char *text = json_out_text(v, flags, &len);
    assert_non_null(text);
    if (strcmp(text, want) != 0)
        fail_msg("got  %s\nwant %s", text, want);
    assert_int_equal(len, strlen(want));
    free(text);
    json_decref(v);
}

static void test_values_insertion_order(void **state)
{
    (void)state;
    assert_value_text(json_pack("{s:i,s:s,s:[f,b,n,b,f],s:{}, s:[]}", "z", 1, "a", "x<y", "l",
                                0.5, 1, 0, 120.0, "e", "E"),
                      0, "{\"z\":1,\"a\":\"x\\u003cy\",\"l\":[0.5,true,null,false,120],\"e\":{},"
                         "\"E\":[]}");
    /* the order json_dumps uses (jansson keeps insertion order, a replaced member keeps its
     * place, a deleted and re-added one goes last) */
    json_t *o = json_pack("{s:i,s:i,s:i,s:i}", "d", 1, "c", 2, "b", 3, "a", 4);
    json_object_set_new(o, "c", json_integer(20));
    json_object_del(o, "b");
    json_object_set_new(o, "b", json_integer(30));
    char *dumped = json_dumps(o, JSON_COMPACT);
    assert_string_equal(dumped, "{\"d\":1,\"c\":20,\"a\":4,\"b\":30}");
    free(dumped);
    assert_value_text(o, 0, "{\"d\":1,\"c\":20,\"a\":4,\"b\":30}");
    /* scalars alone, and integers at the ends of their range */
    assert_value_text(json_string("\xe2\x80\xa8"), 0, "\"\\u2028\"");
    assert_value_text(json_integer(INT64_MIN), 0, "-9223372036854775808");
    assert_value_text(json_integer(INT64_MAX), 0, "9223372036854775807");
    assert_value_text(json_real(-0.0), 0, "-0");
    assert_value_text(json_true(), 0, "true");
    assert_value_text(json_null(), 0, "null");
    assert_null(json_out_text(NULL, 0, NULL));
}

static void test_values_sorted_as_go_map(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:{s:i,s:i},s:[{s:i,s:i}]}", "b", 1, "ab", 2, "a", 3,
                          "\xc3\xa9", 4, "A", "y", 5, "x", 6, "arr", "q", 7, "p", 8);
    json_object_setn_new(o, "a\0z", 3, json_integer(9));   /* a key holding NUL */
    json_object_set_new(o, "<", json_integer(10));
    assert_value_text(json_incref(o), JSON_OUT_SORT_KEYS,
                      "{\"\\u003c\":10,\"A\":{\"x\":6,\"y\":5},\"a\":3,\"a\\u0000z\":9,\"ab\":2,"
                      "\"arr\":[{\"p\":8,\"q\":7}],\"b\":1,\"\xc3\xa9\":4}");
    /* more members than the writer's small stack array */
    json_t *big = json_object();
    for (int i = 40; i > 0; i--) {
        char k[8];
        snprintf(k, sizeof k, "k%02d", i);
        json_object_set_new(big, k, json_integer(i));
    }
    size_t len = 0;
    char *text = json_out_text(big, JSON_OUT_SORT_KEYS, &len);
    assert_non_null(text);
    assert_true(strncmp(text, "{\"k01\":1,\"k02\":2,", 17) == 0);
    assert_non_null(strstr(text, "\"k39\":39,\"k40\":40}"));
    free(text);
    json_decref(big);
    json_decref(o);
}

static void test_values_readable_reals(void **state)
{
    (void)state;
    json_t *a = json_pack("[f,f,f,f,f,f,f,f]", 1e20, -9223372036854775808.0, 9.2e18, 2.5, 1e21,
                          123456789012345678901.0, -0.0, 0.0);
    assert_value_text(json_incref(a), 0,
                      "[100000000000000000000,-9223372036854776000,9200000000000000000,2.5,1e+21,"
                      "123456789012345680000,-0,0]");
    assert_value_text(json_incref(a), JSON_OUT_READABLE_REALS,
                      "[1e+20,-9.223372036854776e+18,9200000000000000000,2.5,1e+21,"
                      "1.2345678901234568e+20,-0.0,0]");
    char *text = json_out_text(a, JSON_OUT_READABLE_REALS, NULL);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_real_value(json_array_get(back, 0)) == 1e20);
    json_t *minus_zero = json_array_get(back, 6);
    assert_true(json_is_real(minus_zero) && signbit(json_real_value(minus_zero)));
    json_decref(back);
    free(text);
    json_decref(a);
}

static void test_values_depth_limit(void **state)
{
    (void)state;
    json_t *top = json_array(), *cur = top;
    for (int i = 0; i <= JSON_OUT_MAX_DEPTH; i++) {     /* one level too deep */
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    assert_null(json_out_text(top, 0, NULL));
    json_decref(top);
    top = cur = json_array();
    for (int i = 0; i < 100; i++) {
        json_t *next = json_object();
        json_array_append_new(cur, next);
        json_object_set_new(next, "k", cur = json_array());
    }
    char *text = json_out_text(top, 0, NULL);
    assert_non_null(text);
    json_decref(top);
    free(text);
}

/* nested: JSON_OUT_MAX_DEPTH levels, objects of two members (written sorted: the largest frame)
 * alternating with arrays, as a hostile upstream answer copied into a result could nest. */
static json_t *nested(void)
{
    json_t *top = json_array(), *cur = top;
    for (int i = 0; i + 2 <= JSON_OUT_MAX_DEPTH; i += 2) {
        json_t *obj = json_object(), *next = json_array();
        json_object_set_new(obj, "b", json_true());
        json_object_set_new(obj, "a", next);
        json_array_append_new(cur, obj);
        cur = next;
    }
    return top;
}

/* what the thread's callers of json_out may have on the stack: a kind's run and its helpers */
#define CALLERS_STACK (64 * 1024)

static void *write_nested(void *arg)
{
    volatile char callers[CALLERS_STACK];
    callers[0] = callers[CALLERS_STACK - 1] = 1;
    json_t *doc = nested();
    size_t len = 0;
    char *text = json_out_text(doc, JSON_OUT_SORT_KEYS, &len);
    *(bool *)arg = text != NULL && len > 0;
    free(text);
    json_decref(doc);
    return NULL;
}

/* The deepest document json_out writes fits on a job thread's stack (JOBSERVER_THREAD_STACK),
 * below CALLERS_STACK of other frames: results are written there, and a recursion deeper than the
 * stack holds kills the worker. */
static void test_deepest_value_fits_a_job_thread(void **state)
{
    (void)state;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    assert_int_equal(pthread_attr_setstacksize(&attr, JOBSERVER_THREAD_STACK), 0);
    pthread_t t;
    bool written = false;
    assert_int_equal(pthread_create(&t, &attr, write_nested, &written), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    assert_true(written);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reals_as_go),
        cmocka_unit_test(test_reals_shortest_sweep),
        cmocka_unit_test(test_reals_not_finite_refused),
        cmocka_unit_test(test_strings_as_go),
        cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_values_insertion_order),
        cmocka_unit_test(test_values_sorted_as_go_map),
        cmocka_unit_test(test_values_readable_reals),
        cmocka_unit_test(test_values_depth_limit),
        cmocka_unit_test(test_deepest_value_fits_a_job_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
