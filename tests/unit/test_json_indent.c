/* test_json_indent.c - the `?pretty` layout against what Go's json.Indent(dst, src, "", "  ")
 * writes (echo's c.JSON with `pretty`), and the refusal of malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/json_indent.h"

struct indent_case {
    const char *compact;
    const char *go;     /* Go's output for the same bytes */
};

static const struct indent_case cases[] = {
    { "{\"error\":\"Job not found\",\"status\":\"unknown\"}\n",
      "{\n  \"error\": \"Job not found\",\n  \"status\": \"unknown\"\n}\n" },
    { "{\"a\":1,\"b\":[1,2],\"c\":{},\"d\":[],\"e\":{\"f\":\"x,y:{}[]\\\"\\\\\"}}\n",
      "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": {},\n  \"d\": [],\n"
      "  \"e\": {\n    \"f\": \"x,y:{}[]\\\"\\\\\"\n  }\n}\n" },
    { "[[],[{}],[[1]]]", "[\n  [],\n  [\n    {}\n  ],\n  [\n    [\n      1\n    ]\n  ]\n]" },
    { "{}\n", "{}\n" },
    { "[]", "[]" },
    { "\"a string\"\n", "\"a string\"\n" },
    { "-1.5e+21", "-1.5e+21" },
    { "true", "true" },
    { "null\n", "null\n" },
    /* whitespace inside the value is dropped, before it too; after it, kept */
    { " { \"k\" : [ 1 , null ] ,\t\"u\":\"\\u003c\" } \r\n",
      "{\n  \"k\": [\n    1,\n    null\n  ],\n  \"u\": \"\\u003c\"\n} \r\n" },
};

static void test_layout_as_go(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct growbuf b = { 0 };
        assert_int_equal(json_indent(&b, cases[i].compact, strlen(cases[i].compact)), 0);
        assert_string_equal(b.data, cases[i].go);
        assert_int_equal(b.len, strlen(cases[i].go));
        free(b.data);
    }
}

static void test_appends_after_what_is_there(void **state)
{
    (void)state;
    struct growbuf b = { 0 };
    assert_int_equal(growbuf_append(&b, "x", 1, 16), 0);
    assert_int_equal(json_indent(&b, "{\"a\":[]}", 8), 0);
    assert_string_equal(b.data, "x{\n  \"a\": []\n}");
    free(b.data);
}

static void test_malformed_refused_and_buffer_kept(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " \n", "{", "}", "[}", "{]", "{\"a\":1}}", "{\"a\":\"open}", "\"esc\\",
        "{\"a\":1} x", "1 2", "\"a\"\"b\"", "[],", ",", ":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct growbuf b = { 0 };
        assert_int_equal(growbuf_append(&b, "kept", 4, 16), 0);
        assert_int_equal(json_indent(&b, bad[i], strlen(bad[i])), -1);
        assert_int_equal(b.len, 4);
        assert_string_equal(b.data, "kept");
        free(b.data);
    }
}

static void test_depth_bound(void **state)
{
    (void)state;
    size_t depth = JSON_INDENT_MAX_DEPTH;
    char *text = malloc(2 * depth + 2);
    assert_non_null(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    struct growbuf b = { 0 };
    /* as deep as allowed: every level on its own line, the innermost empty */
    assert_int_equal(json_indent(&b, text, 2 * depth), 0);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    assert_int_equal(lines, 2 * (depth - 1));
    assert_memory_equal(b.data + b.len - 2, "\n]", 2);
    free(b.data);
    /* one level deeper: refused */
    memset(text, '[', depth + 1);
    memset(text + depth + 1, ']', depth + 1);
    b = (struct growbuf){ 0 };
    assert_int_equal(json_indent(&b, text, 2 * depth + 2), -1);
    free(b.data);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_as_go),
        cmocka_unit_test(test_appends_after_what_is_there),
        cmocka_unit_test(test_malformed_refused_and_buffer_kept),
        cmocka_unit_test(test_depth_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
