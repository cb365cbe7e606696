/* test_web_extract.c - HTML extraction (sections, paragraphs, images, links), URL resolution,
 * charsets, UTF-8 repair, the bound on what one page produces, and de-duplication's cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <valgrind/valgrind.h>
#include <cmocka.h>

#include "kinds/web_extract.h"
#include "net/fetch.h"

#define PAGE "http://site.test/dir/page.html"

static void extract(const char *html, const char *charset, struct web_page *p)
{
    memset(p, 0, sizeof *p);
    assert_int_equal(web_extract(html, strlen(html), charset, PAGE, p), 0);
}

static void assert_resolves(const char *base, const char *value, const char *want)
{
    char *got = web_resolve_url(base, value);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("resolve(%s, %s): want \"%s\", got \"%s\"", base, value ? value : "(absent)",
                 want, got);
    free(got);
}

static void test_worked_example_with_document_order(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>Alpha</h1><p>one</p><img src=\"/a.png\">\n"
            "<h2>Beta</h2><p>two</p><p>one</p><a href=\"/next\">n</a><a href=\"#top\">t</a>",
            NULL, &p);
    assert_int_equal(p.section_count, 2);
    assert_string_equal(p.sections[0].title, "Alpha");
    assert_int_equal(p.sections[0].paragraphs.count, 1);
    assert_string_equal(p.sections[0].paragraphs.items[0], "one");
    assert_int_equal(p.sections[0].images.count, 1);
    assert_string_equal(p.sections[0].images.items[0], "http://site.test/a.png");
    assert_string_equal(p.sections[1].title, "Beta");
    assert_int_equal(p.sections[1].paragraphs.count, 2);
    assert_string_equal(p.sections[1].paragraphs.items[0], "two");
    assert_string_equal(p.sections[1].paragraphs.items[1], "one");   /* other section: kept */
    assert_int_equal(p.sections[1].images.count, 0);
    assert_int_equal(p.links.count, 1);
    assert_string_equal(p.links.items[0], "http://site.test/next");
    web_page_clear(&p);
}

static void test_nested_sections_and_duplicates(void **state)
{
    (void)state;
    struct web_page p;
    extract("<p>before any heading</p><img src=x.png>"
            "<section><h1>A</h1><div><p>a1</p><p>a1</p>"
            "<section><h2>B</h2><p>b1</p><img src=b.png><img src=b.png></section>"
            "<p>after B</p></div></section><h3>not a section</h3><p>still B</p>",
            NULL, &p);
    assert_int_equal(p.section_count, 2);
    assert_string_equal(p.sections[0].title, "A");
    assert_int_equal(p.sections[0].paragraphs.count, 1);      /* duplicate a1 removed */
    assert_int_equal(p.sections[0].images.count, 0);
    assert_string_equal(p.sections[1].title, "B");
    assert_int_equal(p.sections[1].paragraphs.count, 3);
    assert_string_equal(p.sections[1].paragraphs.items[0], "b1");
    assert_string_equal(p.sections[1].paragraphs.items[1], "after B");
    assert_string_equal(p.sections[1].paragraphs.items[2], "still B");
    assert_int_equal(p.sections[1].images.count, 2);          /* images are not de-duplicated */
    assert_string_equal(p.sections[1].images.items[1], "http://site.test/dir/b.png");
    web_page_clear(&p);
}

static void test_titles_are_untrimmed_full_text_and_entities_decoded(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>\n  Caf&eacute; <b>&amp;</b> &lt;Bar&gt; &#x1F600;\n</h1>"
            "<p>x&nbsp;y</p>", NULL, &p);
    assert_int_equal(p.section_count, 1);
    assert_string_equal(p.sections[0].title, "\n  Caf\xc3\xa9 & <Bar> \xf0\x9f\x98\x80\n");
    assert_string_equal(p.sections[0].paragraphs.items[0], "x\xc2\xa0y");
    web_page_clear(&p);
}

static void test_base_href_and_link_filtering(void **state)
{
    (void)state;
    struct web_page p;
    extract("<html><head><base href=\"/other/\"></head><body><h1>T</h1>"
            "<img src=\"i.png\"><img><img src=\"#x\">"
            "<a href=\"rel\">1</a><a href=\"../up?q=1#frag\">2</a><a href=\"//cdn.test/z\">3</a>"
            "<a href=\"mailto:a@b.c\">4</a><a href=\"javascript:void(0)\">5</a><a href=\"#top\">6</a>"
            "<a href=\"https://x.test/a\">7</a><a>8</a><a href=\"ftp://f.test/\">9</a>"
            "</body></html>", NULL, &p);
    assert_int_equal(p.section_count, 1);
    assert_int_equal(p.sections[0].images.count, 3);
    assert_string_equal(p.sections[0].images.items[0], "http://site.test/other/i.png");
    assert_string_equal(p.sections[0].images.items[1], "http://site.test/other/");  /* absent */
    assert_string_equal(p.sections[0].images.items[2], "");                         /* "#x" */
    const char *want[] = { "http://site.test/other/rel", "http://site.test/up?q=1",
                           "http://cdn.test/z", "https://x.test/a", "http://site.test/other/" };
    assert_int_equal(p.links.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(p.links.items[i], want[i]);
    web_page_clear(&p);
}

static void test_header_charset_converts_to_utf8(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>Caf\xe9</h1><p>na\xefve</p>", "ISO-8859-1", &p);
    assert_string_equal(p.sections[0].title, "Caf\xc3\xa9");
    assert_string_equal(p.sections[0].paragraphs.items[0], "na\xc3\xafve");
    web_page_clear(&p);
    /* windows-1251 declared in a meta element */
    extract("<html><head><meta charset=\"windows-1251\"></head><body>"
            "<h1>\xcf\xf0\xe8\xe2\xe5\xf2</h1></body></html>", NULL, &p);
    assert_string_equal(p.sections[0].title, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
    web_page_clear(&p);
    /* an unknown charset name falls back to detection instead of failing */
    extract("<h1>plain</h1>", "x-no-such-charset", &p);
    assert_string_equal(p.sections[0].title, "plain");
    web_page_clear(&p);
}

/* The header charset decodes as Go's crawler decodes it (WHATWG labels; a bad byte is U+FFFD and
 * decoding goes on): "iso-8859-1" and "us-ascii" are windows-1252 (0x92 is a quote, not a C1
 * control; a byte above 0x7f is not the end of the page), the text after an invalid sequence is
 * kept, and the header wins over a <meta charset>. */
static void test_header_charset_decodes_as_go(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>it\x92s</h1><p>\x93q\x94 a\x81" "b</p>", "iso-8859-1", &p);
    assert_string_equal(p.sections[0].title, "it\xe2\x80\x99s");
    assert_string_equal(p.sections[0].paragraphs.items[0],
                        "\xe2\x80\x9cq\xe2\x80\x9d a\xc2\x81" "b");
    web_page_clear(&p);
    extract("<h1>caf\xe9</h1><p>after</p>", "US-ASCII", &p);
    assert_string_equal(p.sections[0].title, "caf\xc3\xa9");
    assert_int_equal(p.sections[0].paragraphs.count, 1);
    assert_string_equal(p.sections[0].paragraphs.items[0], "after");
    web_page_clear(&p);
    extract("<h1>A</h1><p>\x82\xa0\x82</p><p>after</p><a href=\"/x\">x</a>", "Shift_JIS", &p);
    assert_int_equal(p.sections[0].paragraphs.count, 2);
    assert_string_equal(p.sections[0].paragraphs.items[0], "\xe3\x81\x82\xef\xbf\xbd");
    assert_string_equal(p.sections[0].paragraphs.items[1], "after");
    assert_int_equal(p.links.count, 1);
    web_page_clear(&p);
    extract("<head><meta charset=\"utf-8\"></head><h1>caf\xe9</h1>", "latin1", &p);
    assert_string_equal(p.sections[0].title, "caf\xc3\xa9");
    web_page_clear(&p);
}

/* Numeric character references read as Go's parser reads them: &#128; to
 * &#159; are windows-1252, &#0; / surrogates / past U+10FFFF are U+FFFD, "&#" without digits
 * stays text; inside script they are text, in an attribute they are decoded; with or without a
 * header charset. */
static void test_numeric_char_refs_read_as_go(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>it&#146;s&#x96</h1><p>a&#0;b&#xD800;c&#99999999;d&#;e&#x;f&#65;</p>"
            "<p>g<script>&#146;&#;</script>h</p><img src=\"/&#150;.png\">", "utf-8", &p);
    assert_string_equal(p.sections[0].title, "it\xe2\x80\x99s\xe2\x80\x93");
    assert_string_equal(p.sections[0].paragraphs.items[0],
                        "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d&#;e&#x;fA");
    assert_string_equal(p.sections[0].paragraphs.items[1], "g&#146;&#;h");
    char *dash_png = web_resolve_url(PAGE, "/\xe2\x80\x93.png");
    assert_non_null(dash_png);
    assert_string_equal(p.sections[0].images.items[0], dash_png);
    free(dash_png);
    web_page_clear(&p);
    /* without a header charset too, whatever the page's own charset */
    extract("<meta charset=\"windows-1251\"><h1>\xcf&#146;&#0;</h1>", NULL, &p);
    assert_string_equal(p.sections[0].title, "\xd0\x9f\xe2\x80\x99\xef\xbf\xbd");
    web_page_clear(&p);
}

/* Named references read as Go's parser reads them: the HTML standard's names (not only HTML
 * 4's), legacy names without ';' in text (the longest that starts the name), "&name=" left as
 * text in an attribute value, unknown names left as written. */
static void test_named_char_refs_read_as_go(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>&check; &nbsp|&notit;|&copy=2|&NotEqualTilde;|&zz;|&amp|&lt;b&gt;</h1>"
            "<a href=\"/x?a=1&copy=2&amp;b=&check;\">l</a><a href=/y?q&not;z>m</a>"
            "<p>s<script>&check;</script>t</p>", "utf-8", &p);
    assert_string_equal(p.sections[0].title,
                        "\xe2\x9c\x93 \xc2\xa0|\xc2\xacit;|\xc2\xa9=2|\xe2\x89\x82\xcc\xb8|"
                        "&zz;|&|<b>");
    char *want = web_resolve_url(PAGE, "/x?a=1&copy=2&b=\xe2\x9c\x93");
    assert_non_null(want);
    assert_int_equal(p.links.count, 2);
    assert_string_equal(p.links.items[0], want);
    free(want);
    want = web_resolve_url(PAGE, "/y?q\xc2\xacz");
    assert_string_equal(p.links.items[1], want);
    free(want);
    assert_string_equal(p.sections[0].paragraphs.items[0], "s&check;t");
    web_page_clear(&p);
    /* without a header charset too */
    extract("<h1>&hellip;&star;</h1>", NULL, &p);
    assert_string_equal(p.sections[0].title, "\xe2\x80\xa6\xe2\x98\x86");
    web_page_clear(&p);
}

static int valid_utf8(const char *s)
{
    char *copy = web_utf8_dup(s, strlen(s));
    int same = strcmp(copy, s) == 0;
    free(copy);
    return same;
}

static void test_invalid_utf8_never_escapes(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>bad \xff\xfe bytes \xc3</h1><p>\xed\xa0\x80 surrogate</p>", "utf-8", &p);
    assert_true(p.section_count >= 1);
    for (size_t i = 0; i < p.section_count; i++) {
        assert_true(valid_utf8(p.sections[i].title));
        for (size_t j = 0; j < p.sections[i].paragraphs.count; j++)
            assert_true(valid_utf8(p.sections[i].paragraphs.items[j]));
    }
    web_page_clear(&p);
    char *s = web_utf8_dup("a\xff" "b\xc0\xaf" "c\xf4\x90\x80\x80" "d\xe2\x82", 13);
    assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
                           "\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = web_utf8_dup("ok \xc3\xa9 \xf0\x9f\x98\x80", 10);
    assert_string_equal(s, "ok \xc3\xa9 \xf0\x9f\x98\x80");
    free(s);
}

static void test_malformed_markup_is_recovered(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>One<p>para one<p>para two</h1><h2>Two</b></i><p>unclosed <a href=/a>link"
            "<h2>Three<img src=t.png</h2><p><<<>>>&bogus; <!-- c --><script>x<y</script>", NULL,
            &p);
    assert_true(p.section_count >= 2);
    assert_string_equal(p.sections[0].title, "One");   /* the parser closes h1 at <p> */
    assert_true(p.links.count >= 1);
    assert_string_equal(p.links.items[0], "http://site.test/a");
    web_page_clear(&p);
    /* no markup at all, and an empty document */
    extract("just text", NULL, &p);
    assert_int_equal(p.section_count, 0);
    web_page_clear(&p);
    memset(&p, 0, sizeof p);
    assert_int_equal(web_extract("", 0, NULL, PAGE, &p), 0);
    assert_int_equal(p.section_count, 0);
    web_page_clear(&p);
}

static void test_deep_nesting_does_not_recurse(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *html = malloc(depth * 5 + 64);
    size_t n = 0;
    n += (size_t)sprintf(html + n, "<h1>deep</h1>");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(html + n, "<div>");
    n += (size_t)sprintf(html + n, "<p>inside</p>");
    struct web_page p = { 0 };
    assert_int_equal(web_extract(html, n, NULL, PAGE, &p), 0);
    assert_int_equal(p.section_count, 1);
    web_page_clear(&p);
    free(html);
}

static void test_link_count_is_bounded(void **state)
{
    (void)state;
    size_t links = WEB_MAX_LINKS_PER_PAGE + 500;
    char *html = malloc(links * 24 + 1);
    size_t n = 0;
    for (size_t i = 0; i < links; i++)
        n += (size_t)sprintf(html + n, "<a href=/%zu>x</a>", i % 1000);
    struct web_page p = { 0 };
    assert_int_equal(web_extract(html, n, NULL, PAGE, &p), 0);
    assert_int_equal(p.links.count, WEB_MAX_LINKS_PER_PAGE);
    web_page_clear(&p);
    free(html);
}

/* Bytes of all the strings taken from p, one more per string (what web_output_budget bounds). */
static size_t page_output_bytes(const struct web_page *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->section_count; i++) {
        total += strlen(p->sections[i].title) + 1;
        for (size_t j = 0; j < p->sections[i].paragraphs.count; j++)
            total += strlen(p->sections[i].paragraphs.items[j]) + 1;
        for (size_t j = 0; j < p->sections[i].images.count; j++)
            total += strlen(p->sections[i].images.items[j]) + 1;
    }
    for (size_t j = 0; j < p->links.count; j++)
        total += strlen(p->links.items[j]) + 1;
    return total;
}

/* head, then unit repeated reps times (caller frees; *len set). */
static char *repeated_page(const char *head, const char *unit, size_t reps, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit);
    char *html = malloc(hl + ul * reps + 1);
    assert_non_null(html);
    memcpy(html, head, hl);
    for (size_t i = 0; i < reps; i++)
        memcpy(html + hl + i * ul, unit, ul);
    *len = hl + ul * reps;
    html[*len] = '\0';
    return html;
}

/* A <base href> of ~8 KB, then a heading (the long URL is what every absent src/href repeats). */
static const char *long_base_head(void)
{
    static char head[8000 + 64];
    size_t n = (size_t)sprintf(head, "<base href=\"http://site.test/");
    memset(head + n, 'b', 8000);
    strcpy(head + n + 8000, "\"><h1>T</h1>");
    return head;
}

static void assert_output_bounded(const char *head, const char *unit, size_t reps)
{
    size_t len;
    char *html = repeated_page(head, unit, reps, &len);
    struct web_page p = { 0 };
    assert_int_equal(web_extract(html, len, NULL, PAGE, &p), 0);
    size_t produced = page_output_bytes(&p);
    if (produced > web_output_budget(len))
        fail_msg("%zu bytes of page (\"%.20s\" x %zu) produced %zu bytes, over the bound %zu", len,
                 unit, reps, produced, web_output_budget(len));
    assert_true(p.cut);
    assert_true(produced > web_output_budget(len) / 2);   /* what fits is kept */
    web_page_clear(&p);
    free(html);
}

static void test_output_is_bounded_by_page_size(void **state)
{
    (void)state;
    const char *head = long_base_head();
    /* 5 bytes of <img> each add the 8 KB base URL: 20000 of them made 160 MB */
    assert_output_bounded(head, "<img>", 20000);
    /* same with <a> (10000 links of 8 KB) and with many sections of images */
    assert_output_bounded(head, "<a>", 10000);
    assert_output_bounded(head, "<h2>x</h2><img><img>", 5000);
    /* nested paragraphs: each p's text holds the text of every p inside it (quadratic) */
    char unit[4096 + 16] = "<button><p>";
    memset(unit + strlen(unit), 'n', 4096);
    assert_output_bounded("<h1>T</h1>", unit, 120);
    /* a page under the bound is not cut; an element whose text would not fit stops the walk */
    struct web_page p;
    extract("<h1>A</h1><p>one</p><img><a>x</a>", NULL, &p);
    assert_false(p.cut);
    assert_int_equal(p.sections[0].images.count, 1);
    assert_int_equal(p.links.count, 1);
    web_page_clear(&p);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_paragraph_deduplication_is_not_quadratic(void **state)
{
    (void)state;
    /* 8 MiB of distinct paragraphs sharing a long prefix, 5000 per section: each one compared
     * with every earlier one of its section took ~17 s under the sanitizers, a lookup takes ms */
    size_t cap = 8u << 20, n = 0;
    char *html = malloc(cap + 256);
    assert_non_null(html);
    unsigned count = 0;
    while (n + 256 < cap) {
        if (count % WEB_MAX_ITEMS_PER_SECTION == 0)
            n += (size_t)sprintf(html + n, "<h2>s%u</h2>", count);
        n += (size_t)sprintf(html + n, "<p>%0100u</p><p>%0100u</p>", count, count);
        count++;
    }
    struct web_page p = { 0 };
    double start = now_seconds();
    assert_int_equal(web_extract(html, n, NULL, PAGE, &p), 0);
    double took = now_seconds() - start;
    /* valgrind runs this ~10x slower (4 s seen on a busy machine); the quadratic walk is far above */
    if (took > (RUNNING_ON_VALGRIND ? 40.0 : 4.0))
        fail_msg("%zu bytes of distinct paragraphs took %.1f s", n, took);
    size_t kept = 0;
    for (size_t i = 0; i < p.section_count; i++)
        kept += p.sections[i].paragraphs.count;
    assert_int_equal(kept, count);          /* each twin dropped, every distinct text kept */
    assert_int_equal(p.sections[1].paragraphs.count, WEB_MAX_ITEMS_PER_SECTION);
    char want[128];
    sprintf(want, "%0100u", WEB_MAX_ITEMS_PER_SECTION + 7);
    assert_string_equal(p.sections[1].paragraphs.items[7], want);
    web_page_clear(&p);
    free(html);
    /* the same text in two sections is kept in both; twins in one are merged, in order */
    extract("<h1>A</h1><p>x</p><p>y</p><p>x</p><h2>B</h2><p>x</p><p>x</p><p>z</p>", NULL, &p);
    assert_int_equal(p.sections[0].paragraphs.count, 2);
    assert_string_equal(p.sections[0].paragraphs.items[1], "y");
    assert_int_equal(p.sections[1].paragraphs.count, 2);
    assert_string_equal(p.sections[1].paragraphs.items[0], "x");
    assert_string_equal(p.sections[1].paragraphs.items[1], "z");
    web_page_clear(&p);
}

/* One start tag with a hundred thousand attributes: libxml2 compares each attribute with every
 * earlier one (~25 s under the sanitizers; a 10 MiB page of them, tens of minutes); past
 * WEB_MAX_ATTRIBUTES_PER_TAG only the first href and src are kept, which is all that is read. */
static void test_attribute_count_is_bounded(void **state)
{
    (void)state;
    size_t reps = 100000, n = 0;
    char *html = malloc(reps * 32 + 512);
    assert_non_null(html);
    n += (size_t)sprintf(html + n, "<h1>A</h1><img");
    for (size_t i = 0; i < reps; i++)
        n += (size_t)sprintf(html + n, " a%zu='v'", i);
    n += (size_t)sprintf(html + n, " src=\"/first.png\" src=\"/second.png\" b=c>"
                                   "<a x=\"1\" href=\"/in-bound\">i</a><a");
    for (size_t i = 0; i < reps; i++)
        n += (size_t)sprintf(html + n, " href=\"/h%zu\"", i);
    n += (size_t)sprintf(html + n, ">h</a>");
    struct web_page p = { 0 };
    double start = now_seconds();
    assert_int_equal(web_extract(html, n, NULL, PAGE, &p), 0);
    double took = now_seconds() - start;
    if (took > (RUNNING_ON_VALGRIND ? 40.0 : 4.0))
        fail_msg("two tags of %zu attributes took %.1f s", reps, took);
    assert_int_equal(p.section_count, 1);
    assert_int_equal(p.sections[0].images.count, 1);
    assert_string_equal(p.sections[0].images.items[0], "http://site.test/first.png");
    assert_int_equal(p.links.count, 2);
    assert_string_equal(p.links.items[0], "http://site.test/in-bound");
    assert_string_equal(p.links.items[1], "http://site.test/h0");
    web_page_clear(&p);
    free(html);
    /* what only looks like a tag in a script is script text, kept whole */
    char script[2048] = "<h1>A</h1><p>s<script>if(a<b";
    for (int i = 0; i < 300; i++)
        strcat(script, " x");
    strcat(script, "){}</script>t</p>");
    extract(script, NULL, &p);
    assert_int_equal(strlen(p.sections[0].paragraphs.items[0]), strlen("sif(a<b){}t") + 600);
    web_page_clear(&p);
    /* a tag within the bound is untouched, quoted '>' and all */
    extract("<h1>A</h1><img alt=\"a>b\" src='/q.png'><a href=/u>u</a>", NULL, &p);
    assert_string_equal(p.sections[0].images.items[0], "http://site.test/q.png");
    assert_string_equal(p.links.items[0], "http://site.test/u");
    web_page_clear(&p);
}

/* A heading opened while a heading is the current node closes it (Go's parser, as the HTML
 * standard); libxml2 nests it, and the outer title took the inner's text and what followed. A
 * heading inside an inline element of another stays nested in both. */
static void test_heading_opened_in_a_heading_closes_it(void **state)
{
    (void)state;
    struct web_page p;
    extract("<h1>Title<h2>Sub</h2>tail</h1><p>p</p><h2>A<span>x<h3>y</h3></span></h2>", NULL, &p);
    assert_int_equal(p.section_count, 3);
    assert_string_equal(p.sections[0].title, "Title");
    assert_string_equal(p.sections[1].title, "Sub");
    assert_int_equal(p.sections[1].paragraphs.count, 1);
    assert_string_equal(p.sections[2].title, "Axy");
    web_page_clear(&p);
}

static void test_url_resolution(void **state)
{
    (void)state;
    const char *b = "http://h.test/a/b";
    assert_resolves(b, "c", "http://h.test/a/c");
    assert_resolves(b, "../c?x=1#f", "http://h.test/c?x=1");
    assert_resolves(b, "//o.test/p", "http://o.test/p");
    assert_resolves("https://h.test/a/b", "//o.test/p", "https://o.test/p");
    assert_resolves(b, "#top", "");
    assert_resolves(b, "  #top", "");
    assert_resolves(b, NULL, "http://h.test/a/b");
    assert_resolves(b, "?q=1", "http://h.test/a/b?q=1");
    assert_resolves(b, " /x\ny ", "http://h.test/xy");
    assert_resolves(b, "/a b", "http://h.test/a%20b");
    assert_resolves(b, "mailto:a@b.c#x", "mailto:a@b.c");
    assert_resolves(b, "data:image/png;base64,AAAA", "data:image/png;base64,AAAA");
    assert_resolves(b, "http://[::1", "");
    assert_resolves(b, "HTTPS://o.test/Z", "https://o.test/Z");
    assert_resolves("not a url", "/x", "");
    assert_resolves("not a url", "http://o.test/x", "http://o.test/x");
    assert_true(web_is_http_url("HTTP://x"));
    assert_false(web_is_http_url("ftp://x"));
    assert_false(web_is_http_url(NULL));
}

/* Go's parser (scripting on) reads the content of noscript, iframe, xmp, noembed, noframes,
 * plaintext, title and textarea as text: no element inside them is a heading, paragraph, image,
 * link or <base> there, though their text still counts in an element around them. */
static void test_text_only_elements_hold_no_elements(void **state)
{
    (void)state;
    struct web_page p;
    extract("<head><noscript><base href=\"http://other.test/\"><a href=\"/h\">h</a></noscript>"
            "</head><body><h1>A</h1>"
            "<img src=\"/lazy.gif\"><noscript><img src=\"/real.jpg\"><p>np</p></noscript>"
            "<textarea><p>ta</p><a href=\"/ta\">t</a></textarea>"
            "<xmp><h2>xm</h2></xmp><noembed><p>ne</p></noembed><noframes><p>nf</p></noframes>"
            "<iframe><p>if</p></iframe><title><p>ti</p></title>"
            "<p>x<noscript>y</noscript>z</p><a href=\"next\">n</a>"
            "<plaintext><p>pt</p><a href=\"/pt\">p</a>",
            NULL, &p);
    assert_int_equal(p.section_count, 1);
    assert_string_equal(p.sections[0].title, "A");
    assert_int_equal(p.sections[0].images.count, 1);
    assert_string_equal(p.sections[0].images.items[0], "http://site.test/lazy.gif");
    assert_int_equal(p.sections[0].paragraphs.count, 1);
    assert_string_equal(p.sections[0].paragraphs.items[0], "xyz");
    assert_int_equal(p.links.count, 1);
    assert_string_equal(p.links.items[0], "http://site.test/dir/next");   /* no <base> seen */
    web_page_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example_with_document_order),
        cmocka_unit_test(test_nested_sections_and_duplicates),
        cmocka_unit_test(test_titles_are_untrimmed_full_text_and_entities_decoded),
        cmocka_unit_test(test_base_href_and_link_filtering),
        cmocka_unit_test(test_header_charset_converts_to_utf8),
        cmocka_unit_test(test_header_charset_decodes_as_go),
        cmocka_unit_test(test_numeric_char_refs_read_as_go),
        cmocka_unit_test(test_named_char_refs_read_as_go),
        cmocka_unit_test(test_invalid_utf8_never_escapes),
        cmocka_unit_test(test_malformed_markup_is_recovered),
        cmocka_unit_test(test_deep_nesting_does_not_recurse),
        cmocka_unit_test(test_link_count_is_bounded),
        cmocka_unit_test(test_output_is_bounded_by_page_size),
        cmocka_unit_test(test_paragraph_deduplication_is_not_quadratic),
        cmocka_unit_test(test_url_resolution),
        cmocka_unit_test(test_heading_opened_in_a_heading_closes_it),
        cmocka_unit_test(test_attribute_count_is_bounded),
        cmocka_unit_test(test_text_only_elements_hold_no_elements),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();   /* libcurl was opened (and initialised) by the first URL resolved */
    return rc;
}
