/* test_web_crawl.c - the crawler's visit keys: the spellings of one page (host case, the root
 * label's trailing dot, the scheme's default port, an empty path, a fragment) share one key, so
 * the page is fetched once; different pages keep different keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kinds/web_crawl.h"

static void assert_key(const char *url, const char *want)
{
    char *got = crawl_visit_key(url);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("visit key of %s: want \"%s\", got \"%s\"", url, want, got);
    free(got);
}

static void test_spellings_of_one_page_share_a_key(void **state)
{
    (void)state;
    const char *spellings[] = {
        "http://example.com/a",
        "http://Example.COM/a",
        "http://example.com./a",
        "http://EXAMPLE.com.:80/a",
        "http://example.com:80/a",
        "http://example.com:080/a",
        "http://example.com/a#section",
        "HTTP://example.com/a",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
        assert_key(spellings[i], "http://example.com/a");
    assert_key("https://Example.com.:443", "https://example.com/");
    assert_key("http://example.com", "http://example.com/");
    assert_key("http://example.com?q=1#f", "http://example.com/?q=1");
    assert_key("http://[::1]:80/x#f", "http://[::1]/x");
    assert_key("http://xn--bcher-kva.EXAMPLE./p", "http://xn--bcher-kva.example/p");
}

static void test_different_pages_keep_different_keys(void **state)
{
    (void)state;
    /* a port that is not the scheme's default names another server */
    assert_key("http://example.com:443/a", "http://example.com:443/a");
    assert_key("https://example.com:80/a", "https://example.com:80/a");
    assert_key("https://example.com/a", "https://example.com/a");
    /* the path and the query are case-sensitive; they are kept as written */
    assert_key("http://example.com/A?Q=1", "http://example.com/A?Q=1");
    /* a lone dot is not a root label to drop */
    assert_key("http://example.com../a", "http://example.com./a");
}

static void test_unparsable_url_is_its_own_key(void **state)
{
    (void)state;
    assert_key("http://a b.example/", "http://a b.example/");
    assert_key("not a url", "not a url");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings_of_one_page_share_a_key),
        cmocka_unit_test(test_different_pages_keep_different_keys),
        cmocka_unit_test(test_unparsable_url_is_its_own_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
