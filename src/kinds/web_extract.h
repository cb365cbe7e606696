/* web_extract.h - what the web job takes from one HTML page (jobs-and-capabilities.md 5.3, 5.4,
 * as amended by DECISIONS.md "Web").
 *
 * One pass over the parsed document in document order:
 *   - h1 / h2 opens a new section titled with the element's full text (untrimmed);
 *   - p adds its text to the section it follows on this page, unless that section already holds
 *     the identical string; a p before the first heading of the page is dropped;
 *   - img adds its resolved src to the section it follows (no de-duplication; dropped before the
 *     first heading); an unresolvable src adds "", a missing one the base URL;
 *   - a adds its resolved href to the page's links when it is http(s) (duplicates kept).
 * URLs resolve against the first <base href> (itself resolved against the page URL), else the
 * page URL; fragments are dropped; a value starting with '#' resolves to "". The page is decoded
 * with the charset given by the HTTP header, else what the document declares (meta, BOM); all
 * strings produced are valid UTF-8 (invalid bytes become U+FFFD). Counts are bounded per page, and
 * so are the bytes produced: all the strings taken from one page of len bytes add up to at most
 * web_output_budget(len), counting one byte more per string. Without that bound hostile markup
 * expands (an <img> or <a> without src/href repeats the page URL, up to its few kilobytes, for five
 * bytes of markup; nested elements repeat their text in every p or heading around it); the walk
 * stops where the budget runs out, and what it took before is kept (web_page.cut). */
#ifndef TW_WEB_EXTRACT_H
#define TW_WEB_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_MAX_SECTIONS_PER_PAGE 2000
#define WEB_MAX_ITEMS_PER_SECTION 5000     /* paragraphs, and images, per section */
#define WEB_MAX_LINKS_PER_PAGE 10000
#define WEB_OUTPUT_SLACK (1024 * 1024)     /* bytes of output allowed beyond 3 per input byte */

/* web_output_budget: the most bytes of strings one page of len bytes may produce. 3 per input
 * byte: a byte may honestly become three (an invalid byte U+FFFD, a URL byte %XX). */
static inline size_t web_output_budget(size_t len)
{
    return len > ((size_t)-1 - WEB_OUTPUT_SLACK) / 3 ? (size_t)-1 : len * 3 + WEB_OUTPUT_SLACK;
}

/* A growable list of owned strings. */
struct strvec {
    char **items;
    size_t count, cap;
};

/* strvec_push takes ownership of s (freed on failure). Returns 0 or -1 (OOM). */
int strvec_push(struct strvec *v, char *s);
void strvec_clear(struct strvec *v);

struct web_section {
    char *title;
    struct strvec paragraphs;
    struct strvec images;
};

struct web_page {
    struct web_section *sections;
    size_t section_count, section_cap;
    struct strvec links;          /* absolute http(s) URLs, document order */
    bool cut;                     /* the output budget stopped the extraction early */
};

/* web_extract parses html[0..len) fetched from page_url (absolute http(s) URL; the final URL
 * after redirects) and appends what it finds to *out (zero it first). charset is the HTTP
 * header's charset or NULL. Returns 0, or -1 on OOM or when page_url is unusable (out then holds
 * what was gathered; clear it either way). */
int web_extract(const char *html, size_t len, const char *charset, const char *page_url,
                struct web_page *out);

void web_page_clear(struct web_page *p);

/* web_resolve_url resolves value (may be NULL: "absent") against base the way web_extract does.
 * Returns a new string (caller frees): "" when unresolvable; NULL only on OOM. */
char *web_resolve_url(const char *base, const char *value);

/* web_is_http_url: s starts with "http://" or "https://" (case-insensitive scheme). */
bool web_is_http_url(const char *s);

/* web_utf8_dup copies s[0..len) replacing invalid UTF-8 (and NUL) with U+FFFD. Caller frees. */
char *web_utf8_dup(const char *s, size_t len);

#endif
