/* test_twitter_cookies.c - cookie accounts (kinds/twitter_cookies.h): every accepted file form
 * (text lines in both shapes, JSON by username, JSON list, bare browser export), each malformed
 * case with the message it must give (and that no cookie value leaks into a message), the jar
 * operations, the Cookie header / storage string round trip, Set-Cookie updates and file loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kinds/twitter_cookies.h"

#define TOK "0123456789abcdef0123456789abcdef01234567"
#define CT0 "9f3c0a1b2c3d4e5f9f3c0a1b2c3d4e5f"

static struct twitter_cookie_file parse_ok(const char *text)
{
    struct twitter_cookie_file f;
    char why[256] = "";
    int rc = twitter_cookies_parse(text, strlen(text), &f, why, sizeof why);
    if (rc != 0)
        fail_msg("unexpected error: %s", why);
    return f;
}

/* Parsing must fail with exactly this message, leave the file empty and not leak a secret. */
static void expect_error(const char *text, const char *message)
{
    struct twitter_cookie_file f = {(void *)1, 7};
    char why[256] = "";
    assert_int_equal(twitter_cookies_parse(text, strlen(text), &f, why, sizeof why), -1);
    assert_string_equal(why, message);
    assert_null(f.v);
    assert_int_equal(f.n, 0);
    assert_null(strstr(why, "SECRET"));
}

static void expect_header(const struct twitter_jar *jar, const char *want)
{
    char *h = twitter_jar_header(jar);
    assert_non_null(h);
    assert_string_equal(h, want);
    free(h);
}

/* ---- good files -------------------------------------------------------------------------- */

static void test_text_lines(void **state)
{
    (void)state;
    struct twitter_cookie_file f = parse_ok(
        "# cookie accounts\r\n"
        "\r\n"
        "alice:" TOK ":" CT0 "\r\n"
        "  @Bob_2   auth_token=" TOK "; ct0=" CT0 "; twid=u%3D42;  lang=en ;\t\n"
        "carol: auth_token=aa; ct0=bb; personalization_id=\"v1_abc/+==\"\n"
        "   # indented comment\n"
        "dave\tct0=cc;auth_token=dd");
    assert_int_equal(f.n, 4);
    assert_string_equal(f.v[0].username, "alice");
    assert_int_equal(f.v[0].line, 3);
    expect_header(&f.v[0].jar, "auth_token=" TOK "; ct0=" CT0);
    assert_string_equal(f.v[1].username, "Bob_2");
    assert_int_equal(f.v[1].line, 4);
    expect_header(&f.v[1].jar, "auth_token=" TOK "; ct0=" CT0 "; twid=u%3D42; lang=en");
    assert_string_equal(f.v[2].username, "carol");
    assert_string_equal(twitter_jar_get(&f.v[2].jar, "personalization_id"), "\"v1_abc/+==\"");
    assert_string_equal(f.v[3].username, "dave");
    assert_int_equal(f.v[3].line, 7);
    assert_string_equal(twitter_jar_get(&f.v[3].jar, "auth_token"), "dd");
    assert_string_equal(twitter_jar_get(&f.v[3].jar, "ct0"), "cc");
    assert_null(twitter_jar_get(&f.v[3].jar, "twid"));
    twitter_cookie_file_free(&f);
    assert_null(f.v);
}

static void test_json_by_username(void **state)
{
    (void)state;
    struct twitter_cookie_file f = parse_ok(
        "\xEF\xBB\xBF {\n"
        " \"alice\": [\n"
        "  {\"domain\": \".twitter.com\", \"name\": \"ct0\", \"value\": \"old\", \"path\": \"/\"},\n"
        "  {\"domain\": \".x.com\", \"name\": \"auth_token\", \"value\": \"" TOK "\","
        "   \"expirationDate\": 1900000000.5, \"hostOnly\": false, \"httpOnly\": true},\n"
        "  {\"domain\": \".x.com\", \"name\": \"ct0\", \"value\": \"" CT0 "\"},\n"
        "  {\"domain\": \".twitter.com\", \"name\": \"ct0\", \"value\": \"older\"},\n"
        "  {\"domain\": \"accounts.google.com\", \"name\": \"SID\", \"value\": \"x y\"},\n"
        "  {\"domain\": \"api.x.com\", \"name\": \"lang\", \"value\": \"en\"},\n"
        "  {\"Name\": \"guest_id\", \"Value\": \"v1%3A1\"}\n"
        " ],\n"
        " \"@bob\": {\"auth_token\": \"a1\", \"ct0\": \"c1\", \"kdt\": \"k\"},\n"
        " \"carol\": \"auth_token=a2; ct0=c2\"\n"
        "}\n");
    assert_int_equal(f.n, 3);
    assert_string_equal(f.v[0].username, "alice");
    assert_int_equal(f.v[0].line, 1);
    /* the x.com ct0 wins over both twitter.com ones; google's cookie is skipped */
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "ct0"), CT0);
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "auth_token"), TOK);
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "lang"), "en");
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "guest_id"), "v1%3A1");
    assert_null(twitter_jar_get(&f.v[0].jar, "SID"));
    assert_int_equal(f.v[0].jar.n, 4);
    assert_string_equal(f.v[1].username, "bob");
    expect_header(&f.v[1].jar, "auth_token=a1; ct0=c1; kdt=k");
    assert_string_equal(f.v[2].username, "carol");
    assert_int_equal(f.v[2].line, 3);
    expect_header(&f.v[2].jar, "auth_token=a2; ct0=c2");
    twitter_cookie_file_free(&f);
}

static void test_json_list_and_bare_export(void **state)
{
    (void)state;
    struct twitter_cookie_file f = parse_ok(
        "[{\"username\": \"alice\", \"cookies\": \"auth_token=a; ct0=c\"},\n"
        " {\"Username\": \"bob\", \"Cookies\": [{\"name\": \"auth_token\", \"value\": \"b\"},"
        "  {\"name\": \"ct0\", \"value\": \"d\"}]}]");
    assert_int_equal(f.n, 2);
    assert_string_equal(f.v[0].username, "alice");
    assert_string_equal(f.v[1].username, "bob");
    assert_int_equal(f.v[1].line, 2);
    assert_string_equal(twitter_jar_get(&f.v[1].jar, "ct0"), "d");
    twitter_cookie_file_free(&f);

    f = parse_ok("[{\"domain\": \".x.com\", \"name\": \"twid\", \"value\": \"u%3D1234567\"},"
                 " {\"domain\": \".x.com\", \"name\": \"auth_token\", \"value\": \"" TOK "\"},"
                 " {\"domain\": \".x.com\", \"name\": \"ct0\", \"value\": \"" CT0 "\"}]");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].username, "1234567");
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "auth_token"), TOK);
    twitter_cookie_file_free(&f);
}

/* ---- malformed files --------------------------------------------------------------------- */

static void test_text_errors(void **state)
{
    (void)state;
    expect_error("alice:" TOK, "line 1: expected username:auth_token:ct0 or `username "
                 "auth_token=...; ct0=...`");
    expect_error("# c\nalice:a:b:c", "line 2: expected username:auth_token:ct0 or `username "
                 "auth_token=...; ct0=...`");
    expect_error("alice::" CT0, "line 1: missing auth_token");
    expect_error("alice:" TOK ":", "line 1: missing ct0");
    expect_error("al ice:a:b", "line 1: the username must be 1..64 characters of [A-Za-z0-9_] "
                 "(optionally after '@')");
    expect_error("\n\nalice auth_token=SECRET", "line 3: missing ct0");
    expect_error("alice ct0=SECRET; auth_token=", "line 1: missing auth_token");
    expect_error("alice auth_token=SECRET; ct0=a b", "line 1: cookie \"ct0\" has a character not "
                 "allowed in a cookie value (or is longer than 4096 bytes)");
    expect_error("alice auth_token=SECRET; ct0=\"SECRET", "line 1: cookie \"ct0\" has a character "
                 "not allowed in a cookie value (or is longer than 4096 bytes)");
    expect_error("alice:SECRET,x:c", "line 1: cookie \"auth_token\" has a character not allowed "
                 "in a cookie value (or is longer than 4096 bytes)");
    expect_error("alice auth_token=SECRET; ct0", "line 1: pair 2 of the cookie string has no '='");
    expect_error("alice auth_token=SECRET; c[t]0=x", "line 1: pair 2 of the cookie string: the "
                 "name is not a valid cookie name");
    expect_error("=SECRET auth_token=a", "line 1: the username must be 1..64 characters of "
                 "[A-Za-z0-9_] (optionally after '@')");
    expect_error("alice:a:b\n#\nALICE:c:d", "line 3: username \"ALICE\" appears twice (also at "
                 "line 1)");
    expect_error("alice:a:b\nbob:c:\x01", "line 2: control character (byte 1)");
    expect_error("", "no accounts in the cookie file");
    expect_error("# only a comment\n\n", "no accounts in the cookie file");
}

static void test_text_nul_and_bounds(void **state)
{
    (void)state;
    struct twitter_cookie_file f;
    char why[256];
    const char nul[] = "alice:a:b\nbob:c\0:d";
    assert_int_equal(twitter_cookies_parse(nul, sizeof nul - 1, &f, why, sizeof why), -1);
    assert_string_equal(why, "line 2: control character (byte 0)");

    size_t big = TWITTER_COOKIES_MAX_LINE + 20;
    char *line = malloc(big + 1);
    memset(line, 'a', big);
    memcpy(line, "alice:", 6);
    line[big] = '\0';
    assert_int_equal(twitter_cookies_parse(line, big, &f, why, sizeof why), -1);
    assert_string_equal(why, "line 1: longer than 16384 bytes");
    free(line);

    assert_int_equal(twitter_cookies_parse("x", TWITTER_COOKIES_MAX_FILE + 1u, &f, why,
                                           sizeof why), -1);
    assert_string_equal(why, "cookie file too large (4194305 bytes, limit 4194304)");

    /* 65 cookies in one account */
    char *many = malloc(4096);
    size_t o = (size_t)sprintf(many, "alice auth_token=a; ct0=b");
    for (int i = 0; i < 63; i++)
        o += (size_t)sprintf(many + o, "; c%d=v", i);
    expect_error(many, "line 1: more than 64 cookies");
    free(many);

    /* a value one byte over the limit */
    char *longv = malloc(TWITTER_COOKIE_MAX_VALUE + 64);
    o = (size_t)sprintf(longv, "alice ct0=b; auth_token=");
    memset(longv + o, 'A', TWITTER_COOKIE_MAX_VALUE + 1);
    longv[o + TWITTER_COOKIE_MAX_VALUE + 1] = '\0';
    expect_error(longv, "line 1: cookie \"auth_token\" has a character not allowed in a cookie "
                 "value (or is longer than 4096 bytes)");
    free(longv);
}

static void test_json_errors(void **state)
{
    (void)state;
    /* syntax errors carry jansson's text and position */
    struct twitter_cookie_file f;
    char why[256];
    assert_int_equal(twitter_cookies_parse("{\"alice\": [", 11, &f, why, sizeof why), -1);
    assert_true(strncmp(why, "JSON: ", 6) == 0);
    assert_non_null(strstr(why, " at line 1 column 11"));
    assert_null(f.v);
    expect_error("{\"alice\": {\"auth_token\": \"SECRET\"}}", "account \"alice\": missing ct0");
    expect_error("{\"alice\": [{\"name\": \"ct0\", \"value\": \"SECRET\"},"
                 " {\"name\": \"auth_token\"}]}",
                 "account \"alice\": cookie 2 has no \"value\" string");
    expect_error("{\"alice\": [{\"value\": \"SECRET\"}]}",
                 "account \"alice\": cookie 1 has no \"name\" string");
    expect_error("{\"alice\": [\"auth_token=SECRET\"]}", "account \"alice\": cookie 1 is not an object");
    expect_error("{\"alice\": 5}", "account \"alice\": cookies must be a list of cookie objects, an "
                 "object name → value or a Cookie header string");
    expect_error("{\"alice\": {\"auth_token\": 5, \"ct0\": \"x\"}}",
                 "account \"alice\": cookie \"auth_token\" is not a string");
    expect_error("{\"alice\": {\"auth_token\": \"SECRET\\r\\nX: y\", \"ct0\": \"x\"}}",
                 "account \"alice\": cookie \"auth_token\" has a character not allowed in a cookie "
                 "value (or is longer than 4096 bytes)");
    expect_error("{\"alice\": \"auth_token=SECRET;\\nct0=x\"}",
                 "account \"alice\": the cookie string holds a control character");
    expect_error("{\"alice\": [{\"name\": \"a;b\", \"value\": \"SECRET\"}]}",
                 "account \"alice\": cookie 1: the name is not a valid cookie name");
    expect_error("{\"a\": \"auth_token=1; ct0=2\", \"b c\": \"\"}",
                 "account 2: the username must be 1..64 characters of [A-Za-z0-9_] (optionally "
                 "after '@')");
    expect_error("{\"Al\": \"auth_token=1; ct0=2\", \"al\": \"auth_token=1; ct0=2\"}",
                 "account \"al\": username \"al\" appears twice (also at account 1)");
    expect_error("[{\"username\": \"alice\"}]",
                 "account 1: expected {\"username\": \"...\", \"cookies\": ...}");
    expect_error("[{\"name\": \"auth_token\", \"value\": \"SECRET\"}, {\"name\": \"ct0\", "
                 "\"value\": \"x\"}]",
                 "a bare cookie export names no account: wrap it as {\"<username>\": [...]} (or "
                 "include the twid cookie)");
    expect_error("[{\"name\": \"auth_token\", \"value\": \"SECRET\"}]", "account 1: missing ct0");
    expect_error("{}", "no accounts in the cookie file");
    expect_error("[]", "no accounts in the cookie file");
    const char dup[] = "{\"a\": \"auth_token=1; ct0=2\", \"a\": \"auth_token=1; ct0=2\"}";
    assert_int_equal(twitter_cookies_parse(dup, sizeof dup - 1, &f, why, sizeof why), -1);
    assert_true(strncmp(why, "JSON: duplicate object key at line 1 column ", 44) == 0);
    const char bad[] = "{\"alice\": \"auth_token=SECRET\" ct0SECRET}";
    assert_int_equal(twitter_cookies_parse(bad, sizeof bad - 1, &f, why, sizeof why), -1);
    assert_true(strncmp(why, "JSON: ", 6) == 0);
    assert_null(strstr(why, "SECRET"));
}

/* ---- the jar ------------------------------------------------------------------------------- */

static void test_jar_operations(void **state)
{
    (void)state;
    struct twitter_jar jar = {0};
    assert_int_equal(twitter_jar_set(&jar, "auth_token", TOK), 0);
    assert_int_equal(twitter_jar_set(&jar, "ct0", "one"), 0);
    assert_int_equal(twitter_jar_set(&jar, "lang", "en"), 0);
    assert_int_equal(twitter_jar_set(&jar, "ct0", "two"), 0);           /* replaced in place */
    expect_header(&jar, "auth_token=" TOK "; ct0=two; lang=en");
    assert_int_equal(twitter_jar_set(&jar, "bad name", "x"), -1);
    assert_int_equal(twitter_jar_set(&jar, "x", "a;b"), -1);
    assert_int_equal(twitter_jar_set(&jar, "x", "a\r\nSet-Cookie: y"), -1);
    assert_int_equal(twitter_jar_set(&jar, "", "x"), -1);
    assert_true(twitter_jar_valid_value(""));
    assert_true(twitter_jar_valid_value("\"quoted\""));
    assert_false(twitter_jar_valid_value("\"half"));
    assert_false(twitter_jar_valid_name("a=b"));

    struct twitter_jar copy;
    assert_int_equal(twitter_jar_copy(&jar, &copy), 0);
    assert_int_equal(twitter_jar_remove(&jar, "lang"), 1);
    assert_int_equal(twitter_jar_remove(&jar, "lang"), 0);
    expect_header(&jar, "auth_token=" TOK "; ct0=two");
    expect_header(&copy, "auth_token=" TOK "; ct0=two; lang=en");

    /* storage string round trip */
    char *s = twitter_jar_header(&copy);
    struct twitter_jar back;
    char why[256];
    assert_int_equal(twitter_jar_from_string(s, strlen(s), true, &back, why, sizeof why), 0);
    assert_int_equal(back.n, 3);
    for (size_t i = 0; i < back.n; i++) {
        assert_string_equal(back.v[i].name, copy.v[i].name);
        assert_string_equal(back.v[i].value, copy.v[i].value);
    }
    free(s);
    twitter_jar_free(&back);
    twitter_jar_free(&copy);

    assert_int_equal(twitter_jar_from_string("ct0=x", 5, true, &back, why, sizeof why), -1);
    assert_string_equal(why, "missing auth_token");
    assert_null(back.v);
    assert_int_equal(twitter_jar_from_string("ct0=x", 5, false, &back, why, sizeof why), 0);
    assert_int_equal(back.n, 1);
    twitter_jar_free(&back);
    assert_int_equal(twitter_jar_from_string("a=1\r\nb=2", 9, false, &back, why, sizeof why), -1);
    assert_string_equal(why, "the cookie string holds a control character");
    assert_int_equal(twitter_jar_from_string(" ; ;", 4, false, &back, why, sizeof why), 0);
    assert_int_equal(back.n, 0);
    expect_header(&back, "");

    /* a full jar refuses a new name but still replaces */
    for (int i = 0; i < TWITTER_COOKIE_MAX_COUNT; i++) {
        char n[16];
        snprintf(n, sizeof n, "c%d", i);
        assert_int_equal(twitter_jar_set(&back, n, "v"), 0);
    }
    assert_int_equal(twitter_jar_set(&back, "one_more", "v"), -1);
    assert_int_equal(twitter_jar_set(&back, "c0", "w"), 0);
    assert_string_equal(twitter_jar_get(&back, "c0"), "w");
    twitter_jar_free(&back);
    twitter_jar_free(&jar);
}

static void set_cookie_from(struct twitter_jar *jar, const char *host, const char *sc, int want)
{
    assert_int_equal(twitter_jar_set_cookie(jar, host, sc, strlen(sc), 1700000000), want);
}

static void set_cookie(struct twitter_jar *jar, const char *sc, int want)
{
    set_cookie_from(jar, "api.x.com", sc, want);
}

static void test_jar_set_cookie(void **state)
{
    (void)state;
    struct twitter_jar jar = {0};
    assert_int_equal(twitter_jar_set(&jar, "auth_token", "a"), 0);
    assert_int_equal(twitter_jar_set(&jar, "ct0", "old"), 0);
    set_cookie(&jar, "ct0=new; Max-Age=21600; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Path=/; "
                     "Domain=.x.com; Secure; SameSite=Lax", 1);
    assert_string_equal(twitter_jar_get(&jar, "ct0"), "new");
    set_cookie(&jar, "ct0=new; Path=/", 0);                                 /* unchanged */
    set_cookie(&jar, "__cf_bm=abc.def-1; path=/; expires=Fri, 15-Jan-2027 08:00:00 GMT; "
                     "domain=.x.com; HttpOnly", 1);
    assert_string_equal(twitter_jar_get(&jar, "__cf_bm"), "abc.def-1");
    set_cookie(&jar, "lang=fr; Domain=x.com", 1);
    set_cookie(&jar, "lang=de; Domain=twitter.com", 0);           /* not api.x.com's domain */
    assert_string_equal(twitter_jar_get(&jar, "lang"), "fr");
    set_cookie(&jar, "evil=1; Domain=.example.com", 0);
    set_cookie(&jar, "evil=1; Domain=notx.com", 0);
    /* a Domain whose first 255 bytes end in .x.com must not pass by truncation */
    char longdom[400];
    int o = snprintf(longdom, sizeof longdom, "evil=1; Domain=");
    memset(longdom + o, 'a', 249);
    snprintf(longdom + o + 249, sizeof longdom - (size_t)o - 249, ".x.comevil.org");
    set_cookie(&jar, longdom, 0);
    assert_null(twitter_jar_get(&jar, "evil"));
    assert_null(twitter_jar_get(&jar, "evil"));
    set_cookie(&jar, "no equals sign", 0);
    set_cookie(&jar, "bad name=1", 0);
    set_cookie(&jar, "v=a b", 0);
    assert_int_equal(twitter_jar_set_cookie(&jar, "api.x.com", "x=1\r\nY: z", 10, 1800000000), 0);
    /* deletions */
    set_cookie(&jar, "lang=; Max-Age=0", 1);
    assert_null(twitter_jar_get(&jar, "lang"));
    set_cookie(&jar, "__cf_bm=; Expires=Thu, 01 Jan 1970 00:00:01 GMT", 1);
    assert_null(twitter_jar_get(&jar, "__cf_bm"));
    set_cookie(&jar, "gone=; Max-Age=-1", 0);                              /* was not there */
    /* Max-Age wins over Expires */
    set_cookie(&jar, "kdt=k; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:01 GMT", 1);
    assert_string_equal(twitter_jar_get(&jar, "kdt"), "k");
    expect_header(&jar, "auth_token=a; ct0=new; kdt=k");
    twitter_jar_free(&jar);
}

/* RFC 6265 5.3 step 6: a Set-Cookie scoped to a domain the answering host does not domain-match
 * is ignored, whatever the other host or the jar; without a Domain it is the host's own. */
static void test_set_cookie_domain_must_match_the_host(void **state)
{
    (void)state;
    struct twitter_jar jar = {0};
    assert_int_equal(twitter_jar_set(&jar, "auth_token", "a"), 0);
    assert_int_equal(twitter_jar_set(&jar, "ct0", "c"), 0);
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=evil.example; Path=/", 0);
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=.evil.example", 0);
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=api.x.com", 0);       /* a subdomain */
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=com", 0);             /* a public suffix */
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=.com", 0);
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=.", 0);
    set_cookie_from(&jar, "evilx.com", "ct0=evil; Domain=x.com", 0);       /* not on a dot */
    set_cookie_from(&jar, "127.0.0.1", "ct0=evil; Domain=evil.example", 0);
    set_cookie_from(&jar, "127.0.0.1", "ct0=evil; Domain=.x.com", 0);
    set_cookie_from(&jar, "127.0.0.1", "ct0=evil; Domain=0.0.1", 0);       /* no suffix of an IP */
    set_cookie_from(&jar, "127.0.0.1", "ct0=evil; Domain=1", 0);
    set_cookie_from(&jar, "[::1]", "ct0=evil; Domain=1]", 0);
    set_cookie_from(&jar, NULL, "ct0=evil", 0);
    set_cookie_from(&jar, "", "ct0=evil", 0);
    /* a later matching Domain does not rescue a cookie that named a foreign one */
    set_cookie_from(&jar, "x.com", "ct0=evil; Domain=evil.example; Domain=x.com", 0);
    assert_string_equal(twitter_jar_get(&jar, "ct0"), "c");
    /* what may be taken */
    set_cookie_from(&jar, "x.com", "ct0=1; Domain=x.com", 1);
    set_cookie_from(&jar, "x.com", "ct0=2; Domain=.X.COM", 1);
    set_cookie_from(&jar, "api.x.com", "ct0=3; Domain=.x.com", 1);
    set_cookie_from(&jar, "api.x.com", "ct0=4; Domain=api.x.com", 1);
    set_cookie_from(&jar, "127.0.0.1", "ct0=5; Path=/; Secure", 1);        /* host-only */
    set_cookie_from(&jar, "127.0.0.1", "ct0=6; Domain=127.0.0.1", 1);      /* identical */
    set_cookie_from(&jar, "localhost", "ct0=7; Domain=localhost", 1);
    set_cookie_from(&jar, "x.com", "ct0=8; Domain=", 1);                   /* empty: host-only */
    assert_string_equal(twitter_jar_get(&jar, "ct0"), "8");
    /* the bounds still hold for cookies of the right domain */
    for (int i = (int)jar.n; i < TWITTER_COOKIE_MAX_COUNT; i++) {
        char sc[64];
        snprintf(sc, sizeof sc, "c%d=v; Domain=.x.com", i);
        set_cookie_from(&jar, "x.com", sc, 1);
    }
    set_cookie_from(&jar, "x.com", "one_more=v; Domain=.x.com", 0);
    assert_int_equal(jar.n, TWITTER_COOKIE_MAX_COUNT);
    twitter_jar_free(&jar);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_twitter_cookies_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "alice:" TOK ":" CT0 "\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    struct twitter_cookie_file f;
    char why[512];
    assert_int_equal(twitter_cookies_load(path, &f, why, sizeof why), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(twitter_jar_get(&f.v[0].jar, "ct0"), CT0);
    twitter_cookie_file_free(&f);
    unlink(path);
    assert_int_equal(twitter_cookies_load(path, &f, why, sizeof why), -1);
    assert_non_null(strstr(why, "cannot open /tmp/test_twitter_cookies_"));
    assert_non_null(strstr(why, "No such file or directory"));
    assert_int_equal(twitter_cookies_load("/tmp", &f, why, sizeof why), -1);
    assert_string_equal(why, "/tmp is not a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_json_by_username),
        cmocka_unit_test(test_json_list_and_bare_export),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_text_nul_and_bounds),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_jar_operations),
        cmocka_unit_test(test_jar_set_cookie),
        cmocka_unit_test(test_set_cookie_domain_must_match_the_host),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
