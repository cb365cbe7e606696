/* fuzz_web_extract.c - libFuzzer target for the web job's HTML extraction.
 *
 * Input layout: the first byte picks a charset to pass as the HTTP header's (or none), the rest
 * is the HTML. Every string extracted must be valid UTF-8, all of them together (one byte more
 * each) within web_output_budget of the HTML's size, and resolving the links again must not
 * crash; web_page_clear must free everything (LeakSanitizer watches). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/web_extract.h"

static const char *const charsets[] = { NULL, "utf-8", "ISO-8859-1", "windows-1251", "shift_jis",
                                        "utf-16", "x-bogus" };

static size_t produced;     /* bytes of the strings checked so far, one more each */

static void check_utf8(const char *s)
{
    char *copy = web_utf8_dup(s, strlen(s));
    if (copy && strcmp(copy, s) != 0)
        abort();            /* extraction let invalid UTF-8 through */
    free(copy);
    produced += strlen(s) + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *charset = charsets[data[0] % (sizeof charsets / sizeof charsets[0])];
    struct web_page page = { 0 };
    web_extract((const char *)data + 1, size - 1, charset, "http://fuzz.test/a/b.html?q#f", &page);
    produced = 0;
    for (size_t i = 0; i < page.section_count; i++) {
        check_utf8(page.sections[i].title);
        for (size_t j = 0; j < page.sections[i].paragraphs.count; j++)
            check_utf8(page.sections[i].paragraphs.items[j]);
        for (size_t j = 0; j < page.sections[i].images.count; j++)
            check_utf8(page.sections[i].images.items[j]);
    }
    for (size_t i = 0; i < page.links.count; i++) {
        check_utf8(page.links.items[i]);
        if (!web_is_http_url(page.links.items[i]))
            abort();        /* only http(s) links may be listed */
        free(web_resolve_url(page.links.items[i], "../x?y#z"));
    }
    if (produced > web_output_budget(size - 1))
        abort();            /* the page produced more than its bound */
    web_page_clear(&page);
    return 0;
}
