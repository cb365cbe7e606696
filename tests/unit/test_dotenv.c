/* test_dotenv.c - the .env parser: godotenv syntax, refusals with line numbers, bounds.
 *
 * Each case parses a text and compares the delivered assignments, in order, with "KEY=value"
 * strings; errors are checked by their "line N: " prefix and a word of the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"

#define MAX_PAIRS 64

struct pairs {
    char *items[MAX_PAIRS];
    size_t count;
    size_t stop_after; /* 0 = never stop */
};

static int collect(const char *key, const char *value, void *ctx)
{
    struct pairs *p = ctx;
    if (p->stop_after && p->count == p->stop_after)
        return 1;
    if (p->count < MAX_PAIRS) {
        size_t n = strlen(key) + strlen(value) + 2;
        p->items[p->count] = malloc(n);
        snprintf(p->items[p->count], n, "%s=%s", key, value);
    }
    p->count++;
    return 0;
}

static void pairs_free(struct pairs *p)
{
    for (size_t i = 0; i < p->count && i < MAX_PAIRS; i++)
        free(p->items[i]);
    memset(p, 0, sizeof *p);
}

/* expect_pairs parses text and checks the NULL-terminated list of "KEY=value" strings. */
static void expect_pairs(const char *text, ...)
{
    struct pairs got = { 0 };
    char err[256];
    int rc = dotenv_parse(text, strlen(text), collect, &got, err, sizeof err);
    if (rc != 0)
        fail_msg("parse of \"%s\" failed: %s", text, err);
    va_list ap;
    va_start(ap, text);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)); i++) {
        if (i >= got.count)
            fail_msg("\"%s\": missing %s", text, want);
        assert_string_equal(got.items[i], want);
    }
    va_end(ap);
    assert_int_equal(got.count, i);
    pairs_free(&got);
}

/* expect_error parses text and checks that it fails with err starting with prefix and holding
 * word, and that nothing was delivered. */
static void expect_error_len(const char *text, size_t len, const char *prefix, const char *word)
{
    struct pairs got = { 0 };
    char err[256] = "";
    assert_int_equal(dotenv_parse(text, len, collect, &got, err, sizeof err), -1);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, word))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, prefix, word);
    assert_int_equal(got.count, 0);
}

static void expect_error(const char *text, const char *prefix, const char *word)
{
    expect_error_len(text, strlen(text), prefix, word);
}

static void test_basic(void **state)
{
    (void)state;
    expect_pairs("", NULL);
    expect_pairs("\n\n   \n", NULL);
    expect_pairs("A=1\nB=two\n", "A=1", "B=two", NULL);
    expect_pairs("A=1", "A=1", NULL);
    expect_pairs("\n\n  A=1\n\n\tB=2\n", "A=1", "B=2", NULL);
    expect_pairs("A = 1\nB\t=\t2", "A=1", "B=2", NULL);
    expect_pairs("a.b_C9=x", "a.b_C9=x", NULL);
    expect_pairs("A=\nB=2\n", "A=", "B=2", NULL);
    expect_pairs("A=", "A=", NULL);
    expect_pairs("A=x=y:z", "A=x=y:z", NULL);
}

static void test_export_prefix(void **state)
{
    (void)state;
    expect_pairs("export A=1\nexport\tB=2\n", "A=1", "B=2", NULL);
    expect_pairs("export   C=3", "C=3", NULL);
    expect_pairs("exportD=4", "exportD=4", NULL);
    expect_pairs("export=5", "export=5", NULL);
    expect_error("export A\n", "line 1: ", "expected '=' or ':'");
}

static void test_yaml_colon(void **state)
{
    (void)state;
    expect_pairs("A: 1\nB:2\nC : three\n", "A=1", "B=2", "C=three", NULL);
    expect_pairs("URL: http://x:80/y", "URL=http://x:80/y", NULL);
}

static void test_comments(void **state)
{
    (void)state;
    expect_pairs("# a comment\nA=1\n  # indented\n#B=2\n", "A=1", NULL);
    expect_pairs("A=1 # trailing\n", "A=1", NULL);
    expect_pairs("A=1\t# tab then comment\n", "A=1", NULL);
    expect_pairs("A=1#not a comment\n", "A=1#not a comment", NULL);
    expect_pairs("A=#x\n", "A=#x", NULL);
    /* godotenv cuts at the last " #" */
    expect_pairs("A=a #b #c\n", "A=a #b", NULL);
    expect_pairs("A=\"q\" # after a quote\nB='s'#x\n", "A=q", "B=s", NULL);
    expect_pairs("# only a comment", NULL);
}

static void test_unquoted_trim(void **state)
{
    (void)state;
    expect_pairs("A=   spaced out   \n", "A=spaced out", NULL);
    expect_pairs("A=back\\slash\\n", "A=back\\slash\\n", NULL);
    expect_pairs("A=it's \"fine\"", "A=it's \"fine\"", NULL);
    /* godotenv's blanks are characters: a no-break space (U+00A0, what a copy from a web page
     * brings) or a NEL (U+0085) trims and starts a comment as a space does; inside, it stays */
    expect_pairs("A=key\xc2\xa0\nB=\xc2\xa0 x\xc2\xa0y\xc2\x85\nC=v\xc2\xa0# note\n"
                 "D=\xc2\xa0\"q\"\xc2\xa0# note\n\xc2\xa0 # indented comment\nE=\xc3\xa0\n",
                 "A=key", "B=x\xc2\xa0y", "C=v", "D=q", "E=\xc3\xa0", NULL);
}

static void test_double_quotes(void **state)
{
    (void)state;
    expect_pairs("A=\"hello world\"", "A=hello world", NULL);
    expect_pairs("A=\"  kept  \"", "A=  kept  ", NULL);
    expect_pairs("A=\"a\\nb\\rc\"", "A=a\nb\rc", NULL);
    expect_pairs("A=\"say \\\"hi\\\"\"", "A=say \"hi\"", NULL);
    expect_pairs("A=\"c:\\\\dir\\\\\"", "A=c:\\dir\\", NULL);
    expect_pairs("A=\"\\t\\q\"", "A=tq", NULL);
    expect_pairs("A=\"# not a comment\"", "A=# not a comment", NULL);
    expect_pairs("A=\"line1\nline2\"\nB=2", "A=line1\nline2", "B=2", NULL);
    expect_pairs("A=\"\"", "A=", NULL);
    expect_pairs("A=  \"x\"  ", "A=x", NULL);
}

static void test_single_quotes(void **state)
{
    (void)state;
    expect_pairs("X=1\nA='$X \\n \"q\" \\'", "X=1", "A=$X \\n \"q\" \\", NULL);
    expect_pairs("A='multi\nline'", "A=multi\nline", NULL);
    expect_pairs("A=''", "A=", NULL);
}

static void test_expansion(void **state)
{
    (void)state;
    expect_pairs("A=1\nB=$A\nC=${A}x\nD=\"<$A>\"\nE='$A'\n", "A=1", "B=1", "C=1x", "D=<1>",
                 "E=$A", NULL);
    /* unknown names expand to nothing; later keys and the process environment are not used */
    expect_pairs("X=[$NOPE]\nY=$LATER\nLATER=1\nP=$PATH|$HOME\n", "X=[]", "Y=", "LATER=1",
                 "P=|", NULL);
    /* escaped dollar stays literal, lower-case names are not variables */
    expect_pairs("A=1\nB=\\$A\nC=\"\\$A\"\nD=$lower\nE=cost $5\n", "A=1", "B=$A", "C=$A",
                 "D=$lower", "E=cost ", NULL);
    expect_pairs("A=1\nB=$\nC=${}\nD=a$\n", "A=1", "B=$", "C=${}", "D=a$", NULL);
    /* the latest assignment is the one expanded; self-reference sees the previous value */
    expect_pairs("A=1\nA=2\nB=$A\nB=$B$B\n", "A=1", "A=2", "B=2", "B=22", NULL);
    expect_pairs("A_1=v\nB=${A_1}-$A_1\n", "A_1=v", "B=v-v", NULL);
}

static void test_crlf(void **state)
{
    (void)state;
    expect_pairs("A=1\r\nB=\"two\"\r\n# c\r\nC=3 # x\r\n", "A=1", "B=two", "C=3", NULL);
    expect_pairs("A=\"x\r\ny\"\r\n", "A=x\ny", NULL);
    /* a lone CR ends an unquoted value, like godotenv */
    expect_pairs("A=1\rB=2", "A=1", "B=2", NULL);
}

static void test_invalid_names(void **state)
{
    (void)state;
    expect_error("A=1\nFOO BAR=1\n", "line 2: ", "expected '=' or ':' after \"FOO\"");
    expect_error("FOO-BAR=1", "line 1: ", "invalid character '-'");
    expect_error("A=1\n\n=1\n", "line 3: ", "missing name");
    expect_error("A=1\nFOO\n", "line 2: ", "expected '=' or ':'");
    expect_error("FOO", "line 1: ", "expected '=' or ':'");
    expect_error("\"A\"=1", "line 1: ", "expected a name");
    expect_error("A\xc3\xa9=1", "line 1: ", "\\xc3");
    expect_error("export \n", "line 1: ", "expected a name");
}

static void test_bad_quotes(void **state)
{
    (void)state;
    expect_error("A=1\nB=\"open\nC=2\n", "line 2: ", "unterminated double-quoted");
    expect_error("A='open", "line 1: ", "unterminated single-quoted");
    expect_error("A=\"escaped end\\\"", "line 1: ", "unterminated");
    expect_error("A=\"x\" B=2", "line 1: ", "unexpected text after the closing double quote");
    expect_error("A=\"x\ny\"z", "line 2: ", "unexpected text");
    expect_error("A='x'y", "line 1: ", "single quote");
}

static void test_nul_and_errors_deliver_nothing(void **state)
{
    (void)state;
    expect_error_len("A=1\nB=x\0y\n", 10, "line 2: ", "NUL");
    expect_error("A=1\nB=2\nC\n", "line 3: ", "expected");
    /* len bounds the text: nothing past it is read */
    struct pairs got = { 0 };
    char err[64];
    assert_int_equal(dotenv_parse("A=1\nB=2", 3, collect, &got, err, sizeof err), 0);
    assert_int_equal(got.count, 1);
    assert_string_equal(got.items[0], "A=1");
    pairs_free(&got);
    assert_int_equal(dotenv_parse(NULL, 0, collect, &got, err, sizeof err), 0);
    assert_int_equal(dotenv_parse("A=1\n", 4, NULL, NULL, NULL, 0), 0);
    assert_int_equal(dotenv_parse("A\n", 2, NULL, NULL, NULL, 0), -1);
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct pairs got = { .stop_after = 1 };
    char err[64];
    const char *text = "A=1\n\nB=2\nC=3\n";
    assert_int_equal(dotenv_parse(text, strlen(text), collect, &got, err, sizeof err), -1);
    assert_string_equal(err, "line 3: refused by the caller");
    assert_int_equal(got.count, 1);
    pairs_free(&got);
}

/* repeat returns a malloc'd head + n copies of unit + tail. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void test_bounds(void **state)
{
    (void)state;
    char err[128];

    char *big = repeat("", "# padding comment line\n", DOTENV_MAX_FILE / 23 + 1, "");
    assert_int_equal(dotenv_parse(big, strlen(big), collect, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "larger than"));
    free(big);

    char *longline = repeat("A=1\nB=", "x", DOTENV_MAX_LINE - 1, "\n");
    expect_error(longline, "line 2: ", "longer than");
    free(longline);

    char *fits = repeat("B=", "x", DOTENV_MAX_LINE - 2, "\n");
    struct pairs got = { 0 };
    assert_int_equal(dotenv_parse(fits, strlen(fits), collect, &got, err, sizeof err), 0);
    pairs_free(&got);
    free(fits);

    /* one value: a 60 KiB value referenced 30000 times */
    char *a = repeat("A=", "y", 60 * 1024, "\nB=");
    char *bomb = repeat(a, "$A", 30000, "\n");
    expect_error(bomb, "line 2: ", "value longer than");
    free(bomb);

    /* in total: many values each under the per-value bound */
    char *each = repeat(a, "$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A\nB=", 8, "");
    expect_error(each, "line ", "in total");
    free(each);
    free(a);
}

static void test_many_keys(void **state)
{
    (void)state;
    /* enough distinct keys to grow the table several times; the last references the first */
    size_t n = 5000, cap = n * 16 + 32, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "K%zu=%zu\n", i, i);
    len += (size_t)snprintf(text + len, cap - len, "LAST=${K0}/$K4999\n");
    struct pairs got = { 0 };
    char err[64];
    assert_int_equal(dotenv_parse(text, len, collect, &got, err, sizeof err), 0);
    assert_int_equal(got.count, n + 1);
    pairs_free(&got);

    free(text);
    expect_pairs("K0=0\nK4999=z\nLAST=${K0}/$K4999\n", "K0=0", "K4999=z", "LAST=0/z", NULL);
}

static void test_too_many_assignments(void **state)
{
    (void)state;
    char *ok = repeat("", "A=1\n", DOTENV_MAX_ENTRIES, "");
    struct pairs got = { 0 };
    char err[64];
    assert_int_equal(dotenv_parse(ok, strlen(ok), collect, &got, err, sizeof err), 0);
    assert_int_equal(got.count, DOTENV_MAX_ENTRIES);
    pairs_free(&got);
    free(ok);
    char *over = repeat("", "A=1\n", DOTENV_MAX_ENTRIES + 1, "");
    expect_error(over, "line 10001: ", "more than 10000 assignments");
    free(over);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_export_prefix),
        cmocka_unit_test(test_yaml_colon),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_unquoted_trim),
        cmocka_unit_test(test_double_quotes),
        cmocka_unit_test(test_single_quotes),
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_bad_quotes),
        cmocka_unit_test(test_nul_and_errors_deliver_nothing),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_too_many_assignments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
