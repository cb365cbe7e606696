/* test_utf8.c - utf8_print_len: cuts on character boundaries, keeps the bytes that are not part of
 * a valid character (the JSON writer turns each into \ufffd, as Go does) and the text after them;
 * utf8_trim_partial and err_set's cut; utf8_excerpt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
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

/* Invalid bytes do not end the text: each is a unit of one byte (json_out writes it as \ufffd,
 * as Go's encoder does); only a valid character is never cut in two. */
static void test_keeps_invalid_bytes(void **state)
{
    (void)state;
    assert_int_equal(utf8_print_len("ab\xc3", 64), 3);              /* truncated */
    assert_int_equal(utf8_print_len("ab\xc3x", 64), 4);             /* bad continuation */
    assert_int_equal(utf8_print_len("ab\x80z", 64), 4);             /* lone continuation */
    assert_int_equal(utf8_print_len("ab\xc0\xaf!", 64), 5);         /* overlong '/' */
    assert_int_equal(utf8_print_len("ab\xe0\x80\xaf!", 64), 6);     /* overlong, 3 bytes */
    assert_int_equal(utf8_print_len("ab\xed\xa0\x80!", 64), 6);     /* surrogate U+D800 */
    assert_int_equal(utf8_print_len("ab\xf4\x90\x80\x80!", 64), 7); /* above U+10FFFF */
    assert_int_equal(utf8_print_len("ab\xff and more", 64), 12);
    assert_int_equal(utf8_print_len("\xf4\x8f\xbf\xbf!", 64), 5);   /* U+10FFFF is fine */
    /* the bound counts an invalid byte as one; a valid character after it is still not cut */
    assert_int_equal(utf8_print_len("\xff\xff\xc3\xa9", 3), 2);
    assert_int_equal(utf8_print_len("\xff\xff\xc3\xa9", 4), 4);
    assert_int_equal(utf8_print_len("\xff\xe2\x82", 2), 2);        /* a broken one may be cut */
}

/* Whatever the bytes, the prefix never ends inside a valid character and never goes past max;
 * when no valid character straddles max, the prefix is max bytes (or the whole string). */
static void test_prefix_never_splits_a_character(void **state)
{
    (void)state;
    static const unsigned char bytes[] = { 'a', 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                           0xf4, 0xff, 0xa0, 0x9f };
    size_t n = sizeof bytes;
    char s[5] = { 0 };
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                s[0] = (char)bytes[i], s[1] = (char)bytes[j], s[2] = (char)bytes[k], s[3] = 'z';
                for (size_t max = 0; max <= 4; max++) {
                    size_t len = (size_t)utf8_print_len(s, max);
                    assert_true(len <= max);
                    /* walk s as json_out does: a valid character or one stray byte at a time */
                    size_t at = 0;
                    while (at < len) {
                        size_t c = utf8_char_len(s + at, 4 - at);
                        at += c ? c : 1;
                    }
                    assert_int_equal(at, len);               /* ends on a unit boundary */
                    if (len < max) {                         /* cut: the next unit is too long */
                        size_t c = utf8_char_len(s + len, 4 - len);
                        assert_true(c > max - len);
                    }
                }
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

/* utf8_trim_partial drops a character cut short at the end, and nothing else. */
static void test_trim_partial(void **state)
{
    (void)state;
    assert_int_equal(utf8_trim_partial("", 0), 0);
    assert_int_equal(utf8_trim_partial("ab", 2), 2);
    assert_int_equal(utf8_trim_partial("a\xc3\xa9", 3), 3);           /* whole */
    assert_int_equal(utf8_trim_partial("a\xc3\xa9", 2), 1);           /* half an e-acute */
    assert_int_equal(utf8_trim_partial("a\xe2\x82\xac", 3), 1);       /* two thirds of a euro */
    assert_int_equal(utf8_trim_partial("a\xe2\x82\xac", 2), 1);
    assert_int_equal(utf8_trim_partial("a\xf0\x9f\x98\x80", 4), 1);   /* 3 of 4 bytes */
    assert_int_equal(utf8_trim_partial("a\xf0\x9f\x98\x80", 5), 5);
    assert_int_equal(utf8_trim_partial("a\x80\x80\x80\x80", 5), 5);   /* stray bytes stay */
    assert_int_equal(utf8_trim_partial("a\xff", 2), 2);
    assert_int_equal(utf8_trim_partial("\xe2\x82", 2), 0);
}

/* err_set and why_set cut a long message on a character boundary: the message never ends in
 * half a character (which the JSON answer would show as U+FFFD). */
static void test_err_set_cuts_on_a_boundary(void **state)
{
    (void)state;
    char text[400] = "xy";
    for (size_t i = 2; i + 2 < sizeof text; i += 2)
        memcpy(text + i, "\xc3\xa9", 2);
    struct err e;
    err_set(&e, 502, "%s", text);                   /* 255 bytes would end in half an e-acute */
    assert_int_equal(strlen(e.msg), sizeof e.msg - 2);
    assert_memory_equal(e.msg + strlen(e.msg) - 2, "\xc3\xa9", 2);
    char why[8];
    why_set(why, sizeof why, "%s", text + 1);     /* "y" + e-acutes: 7 bytes end whole */
    assert_int_equal(strlen(why), 7);
    why_set(why, sizeof why, "%s", text);         /* "xy" + e-acutes: the 7th byte is half */
    assert_string_equal(why, "xy\xc3\xa9\xc3\xa9");
}

/* utf8_excerpt: cut on a character boundary, control bytes as spaces, invalid bytes kept. */
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
    assert_int_equal(utf8_excerpt("x\xffy\xc3\xa9", 5, out, sizeof out), 5);     /* invalid: kept */
    assert_string_equal(out, "x\xffy\xc3\xa9");
    assert_int_equal(utf8_excerpt("\x80\x80\x80\x80\x80\x80\x80\x80\x80", 9, out, sizeof out), 7);
    assert_string_equal(out, "\x80\x80\x80\x80\x80\x80\x80");
    assert_int_equal(utf8_excerpt("a\0b", 3, out, sizeof out), 3);
    assert_string_equal(out, "a b");
    assert_int_equal(utf8_excerpt("anything", 8, out, 1), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_cut_on_boundary),
        cmocka_unit_test(test_keeps_invalid_bytes),
        cmocka_unit_test(test_prefix_never_splits_a_character),
        cmocka_unit_test(test_char_len),
        cmocka_unit_test(test_trim_partial),
        cmocka_unit_test(test_err_set_cuts_on_a_boundary),
        cmocka_unit_test(test_excerpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
