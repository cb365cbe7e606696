/* test_addr_policy.c - blacklist host matching and the public-address rule (IPv4, IPv6,
 * IPv4 embedded in IPv6), and the curl open-socket hook refusing a loopback connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "config.h"
#include "net/addr_policy.h"
#include "net/fetch.h"

static bool public_addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
        return addr_policy_sockaddr_public((struct sockaddr *)in6, sizeof *in6);
    }
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
    return addr_policy_sockaddr_public((struct sockaddr *)in, sizeof *in);
}

static void test_ipv4(void **state)
{
    (void)state;
    const char *refused[] = { "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1",
                              "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                              "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
                              "239.255.255.250", "255.255.255.255", "240.0.0.1", "198.18.0.1",
                              "192.0.2.1" };
    const char *allowed[] = { "8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1",
                              "100.63.255.255", "100.128.0.1", "192.169.0.1", "11.0.0.1",
                              "223.255.255.255", "169.253.0.1" };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (public_addr(refused[i]))
            fail_msg("%s should be refused", refused[i]);
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!public_addr(allowed[i]))
            fail_msg("%s should be allowed", allowed[i]);
}

static void test_ipv6(void **state)
{
    (void)state;
    const char *refused[] = { "::", "::1", "fe80::1", "febf::1", "fec0::1", "fc00::1",
                              "fd12:3456::1", "ff02::1", "ff05::2", "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1", "::ffff:192.168.0.1", "::127.0.0.1",
                              "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::1",
                              "2002:c0a8:101::", "100::1", "2001:db8::1" };
    const char *allowed[] = { "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                              "64:ff9b::808:808", "2002:808:808::1", "fe00::1" };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (public_addr(refused[i]))
            fail_msg("%s should be refused", refused[i]);
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!public_addr(allowed[i]))
            fail_msg("%s should be allowed", allowed[i]);
}

static void test_other_families_and_short_lengths(void **state)
{
    (void)state;
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    assert_false(addr_policy_sockaddr_public((struct sockaddr *)&un, sizeof un));
    struct sockaddr_in in = { .sin_family = AF_INET };
    inet_pton(AF_INET, "8.8.8.8", &in.sin_addr);
    assert_false(addr_policy_sockaddr_public((struct sockaddr *)&in, 4));
    assert_false(addr_policy_sockaddr_public(NULL, 0));
}

/* Unicode and punycode spellings of a name block each other, in either direction, for the
 * name and its subdomains; a term that is not a valid name matches nothing else. */
static void test_blacklist_matches_either_spelling_of_an_idn(void **state)
{
    (void)state;
    char *items[] = { " B\xc3\x9c" "CHER.example. ", "xn--mnchen-3ya.de", "-b\xc3\xbc.bad",
                      "fa\xc3\x9f.de" };
    struct str_list l = { items, 4 };
    const char *term = NULL;
    assert_true(addr_policy_host_blacklisted(&l, "xn--bcher-kva.example", &term));
    assert_ptr_equal(term, items[0]);
    assert_true(addr_policy_host_blacklisted(&l, "www.XN--BCHER-KVA.example.", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "b\xc3\xbc" "cher.example", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "m\xc3\xbc" "nchen.de", &term));
    assert_ptr_equal(term, items[1]);
    assert_true(addr_policy_host_blacklisted(&l, "a.M\xc3\x9c" "NCHEN.de", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "xn--fa-hia.de", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "fass.de", NULL));     /* non-transitional */
    assert_false(addr_policy_host_blacklisted(&l, "bucher.example", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "xn--bcher-kva.example.org", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "xn--b-eha.bad", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "b\xc3\xbc.bad", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "-b\xc3\xbc.bad", NULL));  /* as written */
}

static void test_blacklist_matches_host_and_subdomains(void **state)
{
    (void)state;
    char *items[] = { "example.com", " Spaced.ORG ", "", "trailing.net.", "  " };
    struct str_list l = { items, 5 };
    const char *term = NULL;
    assert_true(addr_policy_host_blacklisted(&l, "example.com", &term));
    assert_string_equal(term, "example.com");
    assert_true(addr_policy_host_blacklisted(&l, "a.b.example.com", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "EXAMPLE.com.", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "www.spaced.org", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "trailing.net", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "badexample.com", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "example.com.evil.test", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "com", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "other.test", NULL));  /* empty terms: no match */
    assert_false(addr_policy_host_blacklisted(&l, "", NULL));
    struct str_list empty = { NULL, 0 };
    assert_false(addr_policy_host_blacklisted(&empty, "example.com", NULL));
    assert_false(addr_policy_host_blacklisted(NULL, "example.com", NULL));
}

/* An IPv6 literal host is compared in one spelling: the IPv4 address it carries when it is
 * IPv4-mapped (that is the address connected to, so "[::ffff:169.254.169.254]" is the host
 * "169.254.169.254"), else its canonical IPv6 text; an IPv6 term is read the same way, with or
 * without brackets. */
static void test_blacklist_reads_ipv6_literals(void **state)
{
    (void)state;
    char *items[] = { "169.254.169.254", "::1", "[2001:DB8::5]", "::ffff:10.9.8.7" };
    struct str_list l = { items, 4 };
    const char *term = NULL;
    assert_true(addr_policy_host_blacklisted(&l, "[::ffff:169.254.169.254]", &term));
    assert_ptr_equal(term, items[0]);
    assert_true(addr_policy_host_blacklisted(&l, "[::ffff:a9fe:a9fe]", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "[::FFFF:169.254.169.254]", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "169.254.169.254", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "[::1]", &term));
    assert_ptr_equal(term, items[1]);
    assert_true(addr_policy_host_blacklisted(&l, "[0:0::1]", NULL));
    assert_true(addr_policy_host_blacklisted(&l, "[2001:db8:0::5]", &term));
    assert_ptr_equal(term, items[2]);
    assert_true(addr_policy_host_blacklisted(&l, "10.9.8.7", &term));
    assert_ptr_equal(term, items[3]);
    assert_true(addr_policy_host_blacklisted(&l, "[::ffff:a09:807]", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "[::2]", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "[::ffff:169.254.169.253]", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "[2001:db8::1]", NULL));
    assert_false(addr_policy_host_blacklisted(&l, "[64:ff9b::a9fe:a9fe]", NULL));
}

/* The open-socket hook refuses 127.0.0.1 before any connection is made, and says so. */
static void test_curl_hook_refuses_loopback(void **state)
{
    (void)state;
    CURL *e = curl_easy_init();
    assert_non_null(e);
    struct addr_policy_guard guard = { .allow_private = false };
    assert_int_equal(addr_policy_install(e, &guard), CURLE_OK);
    curl_easy_setopt(e, CURLOPT_URL, "http://127.0.0.1:9/");
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(e);
    assert_int_not_equal(rc, CURLE_OK);
    assert_true(guard.refused);
    assert_string_equal(guard.refused_addr, "127.0.0.1");
    curl_easy_cleanup(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_other_families_and_short_lengths),
        cmocka_unit_test(test_blacklist_matches_host_and_subdomains),
        cmocka_unit_test(test_blacklist_matches_either_spelling_of_an_idn),
        cmocka_unit_test(test_blacklist_reads_ipv6_literals),
        cmocka_unit_test(test_curl_hook_refuses_loopback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();   /* libcurl was opened (and initialised) by the first curl call */
    return rc;
}
