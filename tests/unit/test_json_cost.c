/* test_json_cost.c - the memory estimate of a JSON text against what jansson really allocates
 * (counted through json_set_alloc_funcs, with glibc's chunk sizes), and the bounded load that
 * refuses texts made of many tiny values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_cost.h"

#include "jansson_alloc_count.h"

/* decode_cost: the peak of what jansson allocated to decode text (it must decode). */
static size_t decode_cost(const char *text, size_t len)
{
    live = peak = 0;
    json_set_alloc_funcs(counting_malloc, counting_free);
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    size_t cost = peak;
    json_decref(v);
    json_set_alloc_funcs(malloc, free);
    assert_non_null(v);
    return cost;
}

/* repeat: "[" unit "," unit ... "]" with n units (caller frees). */
static char *repeat(const char *open, const char *unit, const char *close, size_t n, size_t *len)
{
    size_t ul = strlen(unit), cap = strlen(open) + (ul + 1) * n + strlen(close) + 1;
    char *t = malloc(cap);
    if (!t)
        abort();
    size_t k = (size_t)sprintf(t, "%s", open);
    for (size_t i = 0; i < n; i++) {
        if (i)
            t[k++] = ',';
        memcpy(t + k, unit, ul);
        k += ul;
    }
    k += (size_t)sprintf(t + k, "%s", close);
    *len = k;
    return t;
}

/* ---- tests ---- */

/* the estimate is an upper bound of jansson's real allocations, and not a loose one */
static void test_estimate_bounds_real_cost(void **state)
{
    (void)state;
    static const struct { const char *open, *unit, *close; } shapes[] = {
        { "[", "{}", "]" },
        { "[", "[]", "]" },
        { "[", "1", "]" },
        { "[", "-1.5e3", "]" },
        { "[", "null", "]" },
        { "[", "true", "]" },
        { "[", "\"\"", "]" },
        { "[", "\"a longer string with \\\"quotes\\\" and : colons\"", "]" },
        { "[", "{\"a\":1}", "]" },
        { "[", "{\"id\":\"t3_abc\",\"title\":\"Some post title\",\"upVotes\":12,\"over18\":false}",
          "]" },
        { "{\"k\":[", "[[1,2],{\"x\":{}}]", "]}" },
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t len;
        char *text = repeat(shapes[i].open, shapes[i].unit, shapes[i].close, 20000, &len);
        size_t real = decode_cost(text, len), estimate = json_cost_estimate(text, len);
        free(text);
        if (estimate < real || estimate > 3 * real + 4096)
            fail_msg("%s...: estimate %zu, jansson allocated %zu", shapes[i].unit, estimate, real);
    }
}

/* an object with many members: the hash table's growth is within the per-member cost */
static void test_estimate_bounds_big_object(void **state)
{
    (void)state;
    size_t n = 50000, k = 0;
    char *text = malloc(n * 24 + 2);
    if (!text)
        abort();
    text[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(text + k, "%s\"%zx\" : {}", i ? "," : "", i);
    text[k++] = '}';
    size_t real = decode_cost(text, k), estimate = json_cost_estimate(text, k);
    free(text);
    if (estimate < real || estimate > 3 * real)
        fail_msg("estimate %zu, jansson allocated %zu", estimate, real);
}

/* one long string or number: the lexer's buffer, not the nodes, is what costs */
static void test_estimate_bounds_long_tokens(void **state)
{
    (void)state;
    static const char fill[] = { 'x', '1' };
    for (size_t f = 0; f < 2; f++) {
        size_t n = 3 << 20;
        char *text = malloc(n + 8);
        if (!text)
            abort();
        size_t k = 0;
        text[k++] = '[';
        if (f == 0)
            text[k++] = '"';
        else
            text[k++] = '0', text[k++] = '.';
        memset(text + k, fill[f], n);
        k += n;
        if (f == 0)
            text[k++] = '"';
        text[k++] = ']';
        size_t real = decode_cost(text, k), estimate = json_cost_estimate(text, k);
        free(text);
        if (estimate < real || estimate > 3 * real + 4096)
            fail_msg("token of %zu bytes: estimate %zu, jansson allocated %zu", n, estimate, real);
    }
}

/* keys and values are told apart by what follows them; quotes and colons inside strings are text */
static void test_keys_and_strings(void **state)
{
    (void)state;
    const char *text = "{\"a\\\":b\" \n : \"x:y\\\\\"}";
    size_t key = sizeof "\"a\\\":b\"" - 1, value = sizeof "\"x:y\\\\\"" - 1;
    assert_int_equal(json_cost_estimate(text, strlen(text)),
                     JSON_COST_OBJECT + JSON_COST_SLOT + JSON_COST_MEMBER + key +
                     JSON_COST_STRING + JSON_COST_SLOT + value + JSON_COST_TOKEN * key);
    assert_int_equal(json_cost_estimate("", 0), 0);
    assert_int_equal(json_cost_estimate("  \"open", 7),
                     JSON_COST_STRING + JSON_COST_SLOT + 5 + JSON_COST_TOKEN * 5);
}

/* deep nesting costs what its containers cost, without recursion */
static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 1000000;
    char *text = malloc(depth);
    assert_non_null(text);
    memset(text, '[', depth);
    assert_int_equal(json_cost_estimate(text, depth),
                     depth * (JSON_COST_ARRAY + JSON_COST_SLOT) + JSON_COST_TOKEN);
    free(text);
}

static void test_bound_saturates(void **state)
{
    (void)state;
    assert_int_equal(json_cost_bound(0), JSON_COST_BOUND_BASE);
    assert_int_equal(json_cost_bound(1000), 12000 + JSON_COST_BOUND_BASE);
    assert_int_equal(json_cost_bound(SIZE_MAX / 2), SIZE_MAX);
}

/* 2 MiB of empty objects would take some 170 MiB: refused before jansson; 2 MiB of real items
 * load */
static void test_load_bounded(void **state)
{
    (void)state;
    size_t len;
    char *tiny = repeat("[", "{}", "]", 700000, &len);
    json_error_t err;
    assert_null(json_load_bounded(tiny, len, 0, &err));
    char want[160];
    snprintf(want, sizeof want, "JSON text of %zu bytes would take about", len);
    assert_memory_equal(err.text, want, strlen(want));
    assert_non_null(strstr(err.text, "MiB to decode (more than 88 MiB allowed)"));
    assert_int_equal(json_error_code(&err), json_error_out_of_memory);
    assert_null(json_load_bounded(tiny, len, 0, NULL));
    free(tiny);

    char *items = repeat("[", "{\"title\":\"a post about something, long enough to be real\","
                         "\"url\":\"https://www.reddit.com/r/some/comments/abc/a_post/\"}", "]",
                         20000, &len);
    assert_true(len > 2u << 20);
    json_t *v = json_load_bounded(items, len, 0, &err);
    assert_non_null(v);
    assert_int_equal(json_array_size(v), 20000);
    json_decref(v);
    free(items);

    /* jansson's own errors come through as they are */
    assert_null(json_load_bounded("[1,", 3, 0, &err));
    assert_int_not_equal(json_error_code(&err), json_error_out_of_memory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_bounds_real_cost),
        cmocka_unit_test(test_estimate_bounds_big_object),
        cmocka_unit_test(test_estimate_bounds_long_tokens),
        cmocka_unit_test(test_keys_and_strings),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_bound_saturates),
        cmocka_unit_test(test_load_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
