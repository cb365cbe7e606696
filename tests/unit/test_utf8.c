/* test_utf8.c - utf8_print_len: cuts on character boundaries, stops at invalid sequences exactly
 * where jansson would refuse them, and what it keeps is always accepted by jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/utf8.h"

static void test_ascii(void **state)
{
    (void)state;
    assert_int_equal(utf8_print_len("", 64), 0);
    assert_int_equal(utf8_print_len("hello", 64), 5);
    assert_int_equal(utf8_print_len("hello", 3), 3);
    assert_int_equal(utf8_print_len("hello", 0), 0);
}

static void test_cut_on_boundary(void **state)
{
    (void)state;
    /* "aé€😀": 1 + 2 + 3 + 4 bytes */
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    static const int want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10 };
    for (size_t max = 0; max < sizeof want / sizeof want[0]; max++)
        assert_int_equal(utf8_print_len(s, max), want[max]);
}

static void test_stops_at_invalid(void **state)
{
    (void)state;
    assert_int_equal(utf8_print_len("ab\xc3", 64), 2);              /* truncated */
    assert_int_equal(utf8_print_len("ab\xc3x", 64), 2);             /* bad continuation */
    assert_int_equal(utf8_print_len("ab\x80z", 64), 2);             /* lone continuation */
    assert_int_equal(utf8_print_len("ab\xc0\xaf", 64), 2);          /* overlong '/' */
    assert_int_equal(utf8_print_len("ab\xe0\x80\xaf", 64), 2);      /* overlong, 3 bytes */
    assert_int_equal(utf8_print_len("ab\xed\xa0\x80", 64), 2);      /* surrogate U+D800 */
    assert_int_equal(utf8_print_len("ab\xf4\x90\x80\x80", 64), 2);  /* above U+10FFFF */
    assert_int_equal(utf8_print_len("ab\xf5\x80\x80\x80", 64), 2);
    assert_int_equal(utf8_print_len("ab\xff", 64), 2);
    assert_int_equal(utf8_print_len("\xf4\x8f\xbf\xbf!", 64), 5);   /* U+10FFFF is fine */
}

/* Every prefix kept from any 3-byte string is something jansson accepts. */
static void test_prefix_always_valid_json(void **state)
{
    (void)state;
    static const unsigned char bytes[] = { 'a', 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                           0xf4, 0xff, 0xa0, 0x9f };
    size_t n = sizeof bytes;
    char s[4] = { 0 };
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                s[0] = (char)bytes[i], s[1] = (char)bytes[j], s[2] = (char)bytes[k];
                int len = utf8_print_len(s, 3);
                json_t *v = json_stringn(s, (size_t)len);
                assert_non_null(v);
                json_decref(v);
                json_t *whole = json_string(s);
                if (whole)          /* valid as a whole: nothing is cut */
                    assert_int_equal(len, 3);
                json_decref(whole);
            }
}

/* utf8_char_len: each well-formed length, each way a sequence is refused, and the byte bound. */
static void test_char_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_char_len("a", 1), 1);
    assert_int_equal(utf8_char_len("\0x", 2), 1);                  /* NUL is ASCII */
    assert_int_equal(utf8_char_len("\xc3\xa9", 2), 2);              /* U+00E9 */
    assert_int_equal(utf8_char_len("\xe2\x82\xac", 3), 3);          /* U+20AC */
    assert_int_equal(utf8_char_len("\xf0\x9f\x98\x80", 4), 4);      /* U+1F600 */
    assert_int_equal(utf8_char_len("\xf4\x8f\xbf\xbf", 4), 4);      /* U+10FFFF */
    assert_int_equal(utf8_char_len("a", 0), 0);                     /* nothing to read */
    assert_int_equal(utf8_char_len("\xe2\x82\xac", 2), 0);          /* cut by the bound */
    assert_int_equal(utf8_char_len("\xe2\x82", 3), 0);              /* cut by the NUL */
    assert_int_equal(utf8_char_len("\x80", 1), 0);                  /* stray continuation */
    assert_int_equal(utf8_char_len("\xc0\xaf", 2), 0);              /* overlong '/' */
    assert_int_equal(utf8_char_len("\xe0\x80\xaf", 3), 0);          /* overlong '/' */
    assert_int_equal(utf8_char_len("\xf0\x80\x80\xaf", 4), 0);      /* overlong '/' */
    assert_int_equal(utf8_char_len("\xed\xa0\x80", 3), 0);          /* surrogate U+D800 */
    assert_int_equal(utf8_char_len("\xf4\x90\x80\x80", 4), 0);      /* U+110000 */
    assert_int_equal(utf8_char_len("\xf5\x80\x80\x80", 4), 0);      /* no such lead byte */
    assert_int_equal(utf8_char_len("\xc3(", 2), 0);                 /* bad continuation */
}

/* utf8_excerpt: cut on a character boundary, control bytes as spaces, invalid UTF-8 as '?'. */
static void test_excerpt(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(utf8_excerpt("a\tb\nc", 5, out, sizeof out), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(utf8_excerpt("abcd\xe2\x82\xacxyz", 10, out, sizeof out), 7);  /* euro fits */
    assert_string_equal(out, "abcd\xe2\x82\xac");
    assert_int_equal(utf8_excerpt("abcd\xe2\x82\xacxyz", 10, out, 7), 4);   /* no half euro */
    assert_string_equal(out, "abcd");
    assert_int_equal(utf8_excerpt("\xc3\xa9t\xc3\xa9", 5, out, sizeof out), 5);
    assert_string_equal(out, "\xc3\xa9t\xc3\xa9");
    assert_int_equal(utf8_excerpt("x\xffy\xc3\xa9", 5, out, sizeof out), 5);     /* invalid: all '?' */
    assert_string_equal(out, "x?y??");
    assert_int_equal(utf8_excerpt("anything", 8, out, 1), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_cut_on_boundary),
        cmocka_unit_test(test_stops_at_invalid),
        cmocka_unit_test(test_prefix_always_valid_json),
        cmocka_unit_test(test_char_len),
        cmocka_unit_test(test_excerpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
