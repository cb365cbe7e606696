/* test_nonce.c - quotes: shape, digest, alphabet, uniqueness, valid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jobs/nonce.h"

static const char alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()_+";

static void test_shape_and_digest(void **state)
{
    (void)state;
    char q[NONCE_LEN + 1];
    assert_int_equal(nonce_make("hello", 5, q), 0);
    assert_int_equal(strlen(q), NONCE_LEN);
    /* SHA-256("hello") */
    assert_memory_equal(q, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", 64);
    assert_int_equal(q[64], '-');
    for (size_t i = 65; i < NONCE_LEN; i++)
        assert_non_null(memchr(alphabet, q[i], sizeof alphabet - 1));
}

static void test_suffixes_differ_and_cover_the_alphabet(void **state)
{
    (void)state;
    char a[NONCE_LEN + 1], b[NONCE_LEN + 1];
    bool seen[256] = { false };
    assert_int_equal(nonce_make("x", 1, a), 0);
    for (int round = 0; round < 200; round++) {
        assert_int_equal(nonce_make("x", 1, b), 0);
        assert_memory_equal(a, b, 65);
        assert_memory_not_equal(a + 65, b + 65, NONCE_SUFFIX_LEN);
        for (size_t i = 65; i < NONCE_LEN; i++)
            seen[(unsigned char)b[i]] = true;
    }
    for (size_t i = 0; i < sizeof alphabet - 1; i++)
        assert_true(seen[(unsigned char)alphabet[i]]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_digest),
        cmocka_unit_test(test_suffixes_differ_and_cover_the_alphabet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
