/* test_retry_after.c - the shared Retry-After parser (net/retry_after.h) and its users: the
 * crawler's wait and the X API key cool-down. Delta-seconds, HTTP dates, what is refused, and
 * hostile sizes that must saturate at RETRY_AFTER_MAX_S instead of overflowing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kinds/twitter_keys.h"
#include "net/fetch.h"
#include "net/retry_after.h"

#define OCT_21_2015 1445412480     /* Wed, 21 Oct 2015 07:28:00 GMT */

static void test_delta_seconds_and_dates(void **state)
{
    (void)state;
    assert_int_equal(retry_after_seconds("5", 0), 5);
    assert_int_equal(retry_after_seconds(" 2 ", 0), 2);
    assert_int_equal(retry_after_seconds("120\r\n", 0), 120);
    assert_int_equal(retry_after_seconds("0", 0), 0);
    assert_int_equal(retry_after_seconds("007", 0), 7);
    assert_int_equal(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", OCT_21_2015 - 3), 3);
    assert_int_equal(retry_after_seconds("Wednesday, 21-Oct-15 07:28:00 GMT", OCT_21_2015 - 9), 9);
    assert_int_equal(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", OCT_21_2015 + 10), 0);
}

static void test_unparsable_values(void **state)
{
    (void)state;
    const char *bad[] = { NULL, "", "  ", "soon", "-1", "+5", "3x", "1.5", "1e30", "5 6",
                          "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (retry_after_seconds(bad[i], 0) != -1)
            fail_msg("\"%s\" should be unparsable, got %lld", bad[i] ? bad[i] : "(null)",
                     retry_after_seconds(bad[i], 0));
}

static void test_huge_values_saturate(void **state)
{
    (void)state;
    assert_int_equal(retry_after_seconds("100000000", 0), RETRY_AFTER_MAX_S);
    assert_int_equal(retry_after_seconds("99999999", 0), 99999999);
    assert_int_equal(retry_after_seconds("99999999999999999999", 0), RETRY_AFTER_MAX_S);
    assert_int_equal(retry_after_seconds("9999999999999999999999999999999999999999", 0),
                     RETRY_AFTER_MAX_S);
    /* a date libcurl reads as some 6.8e16 s away: times 1000 overflowed the crawler's ms */
    assert_int_equal(retry_after_seconds("Wed, 31 Dec 2147483647 23:59:59 GMT", OCT_21_2015),
                     RETRY_AFTER_MAX_S);
    assert_int_equal(retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN / 2),
                     RETRY_AFTER_MAX_S);
    /* what the crawler computes from it stays in range */
    long long ms = retry_after_seconds("Wed, 31 Dec 2147483647 23:59:59 GMT", 0) * 1000;
    assert_true(ms > 0 && ms <= RETRY_AFTER_MAX_S * 1000);
}

static void test_x_api_key_cooldown_uses_it(void **state)
{
    (void)state;
    assert_int_equal(twitter_keys_parse_cooldown(NULL, "30", 1000), 30);
    /* a huge Retry-After is the longest cool-down, not a parse failure (the 15 min default) */
    assert_int_equal(twitter_keys_parse_cooldown(NULL, "99999999999999999999", 1000),
                     TWITTER_KEYS_MAX_COOLDOWN_S);
    assert_int_equal(twitter_keys_parse_cooldown(NULL, "Wed, 21 Oct 2015 07:28:00 GMT",
                                                 OCT_21_2015 - 600), 600);
    assert_int_equal(twitter_keys_parse_cooldown(NULL, "1e30", 1000),
                     TWITTER_KEYS_DEFAULT_COOLDOWN_S);
    assert_int_equal(twitter_keys_parse_cooldown(NULL, "0", 1000),
                     TWITTER_KEYS_DEFAULT_COOLDOWN_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_seconds_and_dates),
        cmocka_unit_test(test_unparsable_values),
        cmocka_unit_test(test_huge_values_saturate),
        cmocka_unit_test(test_x_api_key_cooldown_uses_it),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();   /* libcurl was opened by the first date parsed */
    return rc;
}
