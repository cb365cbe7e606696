/* web_attr_cap.c - at most WEB_MAX_ATTRIBUTES_PER_TAG attributes per start tag (see
 * web_attr_cap.h). Start tags and attributes are found as the HTML tokenizer finds them: '<' and
 * an ASCII letter opens a tag, its name runs to a blank, '/' or '>'; an attribute name runs to a
 * blank, '/', '>' or '=' (a leading '=' belongs to it), its value is quoted or runs to a blank or
 * '>'. The content of script and style is skipped; other text that only looks like a tag (in a
 * comment) is treated as a tag, which can only drop what no extraction reads. */
#include "kinds/web_attr_cap.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "kinds/libxml_lazy.h"
#include "kinds/web_charset.h"
#include "util/growbuf.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool named(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

struct tag_scan {
    const char *html;
    size_t len;
    struct growbuf *out;        /* NULL: only find whether a tag is over the bound */
    size_t copied;              /* html[0..copied) is in out */
    bool over;                  /* some tag is over the bound */
    int bad;                    /* OOM */
};

/* Drops html[from..to) from the copy. */
static void drop(struct tag_scan *s, size_t from, size_t to)
{
    s->over = true;
    if (!s->out)
        return;
    s->bad |= growbuf_append(s->out, s->html + s->copied, from - s->copied, s->len + 16);
    s->copied = to;
}

/* Scans the start tag whose name begins at html[i]; returns the index after it. */
static size_t scan_tag(struct tag_scan *s, size_t i)
{
    const char *h = s->html;
    size_t len = s->len, count = 0;
    bool seen_href = false, seen_src = false;
    while (i < len && !is_blank(h[i]) && h[i] != '/' && h[i] != '>')
        i++;
    for (;;) {
        while (i < len && (is_blank(h[i]) || h[i] == '/'))
            i++;
        if (i >= len || h[i] == '>')
            return i;
        size_t start = i++;
        while (i < len && !is_blank(h[i]) && h[i] != '/' && h[i] != '>' && h[i] != '=')
            i++;
        size_t name_len = i - start;
        size_t after_name = i;
        while (i < len && is_blank(h[i]))
            i++;
        if (i < len && h[i] == '=') {
            i++;
            while (i < len && is_blank(h[i]))
                i++;
            if (i < len && (h[i] == '"' || h[i] == '\'')) {
                const char *close = memchr(h + i + 1, h[i], len - i - 1);
                i = close ? (size_t)(close - h) + 1 : len;
            } else {
                while (i < len && !is_blank(h[i]) && h[i] != '>')
                    i++;
            }
        } else {
            i = after_name;         /* no value: the blanks belong to what follows */
        }
        bool href = named(h + start, name_len, "href"), src = named(h + start, name_len, "src");
        bool keep = ++count <= WEB_MAX_ATTRIBUTES_PER_TAG || (href && !seen_href) ||
                    (src && !seen_src);
        seen_href |= href;
        seen_src |= src;
        if (!keep)
            drop(s, start, i);
    }
}

static void scan(struct tag_scan *s)
{
    for (size_t i = 0; i + 1 < s->len && !s->bad;) {
        size_t raw = s->html[i] == '<' ? web_raw_text_element_len(s->html, s->len, i) : 0;
        if (raw > 0)
            i += raw;           /* script and style content is text, not tags */
        else
            i = s->html[i] == '<' && is_ascii_letter(s->html[i + 1]) ? scan_tag(s, i + 1) : i + 1;
    }
}

char *web_cap_attributes(const char *html, size_t len, size_t *out_len)
{
    struct tag_scan find = { .html = html, .len = len };
    scan(&find);
    if (!find.over)
        return NULL;
    struct growbuf out = { 0 };
    struct tag_scan s = { .html = html, .len = len, .out = &out };
    scan(&s);
    s.bad |= growbuf_append(&out, html + s.copied, len - s.copied, len + 16) |
             growbuf_append(&out, "", 1, 16);
    if (s.bad) {
        free(out.data);
        return NULL;
    }
    *out_len = out.len - 1;
    return out.data;
}

xmlDoc *web_read_html(const char *html, size_t len, const char *url, const char *encoding)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_NONET | HTML_PARSE_COMPACT;
    size_t capped_len = 0;
    char *capped = web_cap_attributes(html, len, &capped_len);
    if (capped) {
        html = capped;
        len = capped_len;
    }
    xmlDoc *doc = htmlReadMemory(html, len > INT32_MAX ? INT32_MAX : (int)len, url, encoding, opts);
    free(capped);
    return doc;
}
