/* test_idn.c - host names to their ASCII form (net/idn.c): libidn2 is not opened for ASCII
 * hosts; Unicode hosts convert as Go's net/http converts them (UTS #46 non-transitional, NFC,
 * case folded, full-width forms and the ideographic full stop mapped), whatever the locale;
 * invalid names (bad punycode, hyphens, joiners, bad UTF-8, characters outside the STD3 rules,
 * too long) are refused with libidn2's reason instead of being altered. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/idn.h"
#include "net/idn2_lazy.h"
#include "util/file_read.h"

#include "proc_maps.h"

static void expect_ascii(const char *host, const char *want)
{
    char out[IDN_HOST_MAX];
    const char *why = NULL;
    int rc = idn_host_to_ascii(host, out, &why);
    if (rc != 0)
        fail_msg("%s: refused (%s), expected %s", host, why ? why : "?", want);
    assert_string_equal(out, want);
}

static void expect_refused(const char *host, const char *reason_part)
{
    char out[IDN_HOST_MAX] = "x";
    const char *why = NULL;
    int rc = idn_host_to_ascii(host, out, &why);
    if (rc != -1)
        fail_msg("%s: expected a refusal, got %d (%s)", host, rc, out);
    assert_string_equal(out, "");
    assert_non_null(why);
    if (!strstr(why, reason_part))
        fail_msg("%s: reason %s does not mention %s", host, why, reason_part);
}

/* Runs first: ASCII names never open libidn2. */
static void test_ascii_hosts_are_copied_without_libidn2(void **state)
{
    (void)state;
    assert_false(idn2_lazy_loaded());
    assert_false(maps_mention("/libidn2"));
    expect_ascii("example.com", "example.com");
    expect_ascii("Example.COM.", "Example.COM.");        /* unchanged, as Go leaves it */
    expect_ascii("xn--bcher-kva.example", "xn--bcher-kva.example");
    expect_ascii("a_b.example", "a_b.example");          /* ASCII: not checked, as in Go */
    assert_true(idn_is_ascii("xn--bcher-kva.example"));
    assert_false(idn_is_ascii("b\xc3\xbc" "cher.example"));
    char longest[IDN_HOST_MAX + 1];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    expect_refused(longest, "longer than 255");
    assert_false(idn2_lazy_loaded());
    assert_false(maps_mention("/libidn2"));
}

static void test_unicode_hosts_convert_like_go(void **state)
{
    (void)state;
    /* the C locale, where libcurl's locale-dependent conversion fails */
    assert_non_null(setlocale(LC_ALL, "C"));
    expect_ascii("b\xc3\xbc" "cher.localhost", "xn--bcher-kva.localhost");
    assert_true(idn2_lazy_loaded());
    assert_true(maps_mention("/libidn2"));
    expect_ascii("B\xc3\x9c" "CHER.Example", "xn--bcher-kva.example");     /* case folded */
    expect_ascii("fa\xc3\x9f.de", "xn--fa-hia.de");       /* non-transitional: not fass.de */
    expect_ascii("b\xc3\xbc" "cher.example.", "xn--bcher-kva.example.");  /* root dot kept */
    /* NFC first: u + combining diaeresis is ü */
    expect_ascii("bu\xcc\x88" "cher.example", "xn--bcher-kva.example");
    /* ideographic full stop between labels */
    expect_ascii("b\xc3\xbc" "cher\xe3\x80\x82" "example", "xn--bcher-kva.example");
    /* full-width digits and dots map to an address: the address policy judges it afterwards */
    expect_ascii("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97\xef\xbc\x8e\xef\xbc\x90\xef\xbc\x8e"
                 "\xef\xbc\x90\xef\xbc\x8e\xef\xbc\x91", "127.0.0.1");
    /* a label already in A-label form beside a Unicode one */
    expect_ascii("xn--bcher-kva.m\xc3\xbc" "nchen.de", "xn--bcher-kva.xn--mnchen-3ya.de");
    expect_ascii("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
                 "xn--r8jz45g.xn--zckzah");             /* 例え.テスト */
}

static void test_invalid_names_are_refused_not_altered(void **state)
{
    (void)state;
    expect_refused("xn--zz.b\xc3\xbc" "cher", "punycode");
    expect_refused("-b\xc3\xbc.example", "hyphen");
    expect_refused("b\xc3\xbc-.example", "hyphen");
    expect_refused("b\xc3\xbc\xff.example", "encoding");                 /* not UTF-8 */
    expect_refused("\xe2\x80\x8d" "b\xc3\xbc.example", "context");       /* zero-width joiner */
    /* libidn2's own STD3 flag would drop these characters ("ab.xn--..."), another host */
    expect_refused("a_b.b\xc3\xbc" "cher.example", "not allowed in a host name");
    expect_refused("exa mple.b\xc3\xbc", "not allowed in a host name");
    /* a full-width low line maps to '_' */
    expect_refused("b\xc3\xbc\xef\xbc\xbf" "x.example", "not allowed in a host name");
    /* a label of 64 characters, a name of more than 255 */
    char label[128] = "b\xc3\xbc";
    memset(label + 3, 'a', 63);
    strcpy(label + 66, ".example");
    expect_refused(label, "too large");
    char name[600] = "b\xc3\xbc";
    for (size_t i = 0; i < 30; i++)
        strcat(name, ".abcdefghi");
    expect_refused(name, "255");
    /* a huge host is refused before libidn2 sees it */
    char huge[IDN_HOST_INPUT_MAX + 8];
    memset(huge, 'a', sizeof huge - 1);
    memcpy(huge, "\xc3\xbc", 2);
    huge[sizeof huge - 1] = '\0';
    expect_refused(huge, "too long");
    expect_refused("\xc2\xad", "empty");             /* a soft hyphen alone maps to nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_hosts_are_copied_without_libidn2),
        cmocka_unit_test(test_unicode_hosts_convert_like_go),
        cmocka_unit_test(test_invalid_names_are_refused_not_altered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
