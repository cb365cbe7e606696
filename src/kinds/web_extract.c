/* web_extract.c - HTML page -> sections, paragraphs, images and links (see web_extract.h).
 *
 * Parsing is libxml2's HTML parser in recovery mode with network access off; the walk over the
 * tree is iterative (no recursion, so hostile nesting depth cannot exhaust the stack). Every
 * string taken is charged to the page's output budget (web_output_budget) before it is kept; an
 * element's text is gathered against what is left of it, so an oversized text is never built. URL
 * resolution uses libcurl's URL API (RFC 3986 reference resolution, normalised output); values
 * with a non-http(s) scheme are kept as written (minus the fragment), as Go's net/url does. */
#include "kinds/web_extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/tree.h>

#include "kinds/html_walk.h"
#include "kinds/web_attr_cap.h"
#include "kinds/web_charset.h"
#include "kinds/libxml_lazy.h"
#include "util/growbuf.h"
#include "util/url_scheme.h"
#include "util/utf8.h"

/* ---- string lists ------------------------------------------------------------------------- */

int strvec_push(struct strvec *v, char *s)
{
    if (!s)
        return -1;
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        char **items = realloc(v->items, cap * sizeof *items);
        if (!items) {
            free(s);
            return -1;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->count++] = s;
    return 0;
}

void strvec_clear(struct strvec *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

void web_page_clear(struct web_page *p)
{
    for (size_t i = 0; i < p->section_count; i++) {
        free(p->sections[i].title);
        strvec_clear(&p->sections[i].paragraphs);
        strvec_clear(&p->sections[i].images);
    }
    free(p->sections);
    strvec_clear(&p->links);
    memset(p, 0, sizeof *p);
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

char *web_utf8_dup(const char *s, size_t len)
{
    char *out = malloc(len * 3 + 1);   /* worst case: every byte becomes U+FFFD */
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] ? utf8_char_len(s + i, len - i) : 0;   /* NUL becomes U+FFFD too */
        if (n) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    char *shrunk = realloc(out, o + 1);
    return shrunk ? shrunk : out;
}

/* ---- URLs --------------------------------------------------------------------------------- */

bool web_is_http_url(const char *s)
{
    return s && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

static bool is_html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* A copy of v without leading/trailing HTML whitespace and without tabs and newlines inside
 * (what browsers do with URL attributes). */
static char *clean_attr(const char *v)
{
    while (is_html_space(*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && is_html_space(v[n - 1]))
        n--;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
            out[o++] = v[i];
    out[o] = '\0';
    return out;
}

static char *strip_fragment(char *v)
{
    char *hash = strchr(v, '#');
    if (hash)
        *hash = '\0';
    return v;
}

/* Resolve the cleaned value v against the parsed base (NULL when the base is unusable). */
static char *resolve_clean(CURLU *base, const char *v)
{
    size_t sl = url_scheme_len(v);
    if (sl && !(sl == 4 && strncasecmp(v, "http", 4) == 0) &&
        !(sl == 5 && strncasecmp(v, "https", 5) == 0))
    {
        char *copy = strdup(v);
        return copy ? strip_fragment(copy) : NULL;
    }
    CURLU *h = base ? curl_url_dup(base) : curl_url();
    if (!h)
        return NULL;
    char *out = NULL;
    if (curl_url_set(h, CURLUPART_URL, v, CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        char *copy = strdup(out);
        curl_free(out);
        curl_url_cleanup(h);
        return copy;
    }
    curl_free(out);
    curl_url_cleanup(h);
    return strdup("");
}

static CURLU *parse_base(const char *base)
{
    CURLU *h = curl_url();
    if (h && (!base || curl_url_set(h, CURLUPART_URL, base, CURLU_URLENCODE) != CURLUE_OK)) {
        curl_url_cleanup(h);
        return NULL;
    }
    return h;
}

static char *base_copy(CURLU *base)
{
    char *text = NULL;
    if (!base || curl_url_get(base, CURLUPART_URL, &text, 0) != CURLUE_OK) {
        curl_free(text);
        return strdup("");
    }
    char *copy = strdup(text);
    curl_free(text);
    return copy ? strip_fragment(copy) : NULL;
}

static char *resolve_with(CURLU *base, const char *value)
{
    char *v = clean_attr(value ? value : "");
    if (!v)
        return NULL;
    char *out;
    if (v[0] == '#')
        out = strdup("");
    else if (v[0] == '\0')
        out = base_copy(base);          /* "" is the base itself (as Go's URL.Parse("")) */
    else
        out = resolve_clean(base, v);
    free(v);
    return out;
}

char *web_resolve_url(const char *base, const char *value)
{
    CURLU *b = parse_base(base);
    char *out = resolve_with(b, value);
    curl_url_cleanup(b);
    return out;
}

/* ---- paragraphs already in the current section ------------------------------------------- */

/* A hash set over the current section's paragraphs (slots hold index + 1 into its items, 0 is
 * empty; open addressing, at most half full), so that de-duplicating a paragraph costs one lookup:
 * comparing it with each of up to WEB_MAX_ITEMS_PER_SECTION earlier ones made a 5 MiB page of
 * distinct paragraphs take seconds. Emptied when a heading opens a new section. */
struct para_set {
    size_t *slots;
    size_t cap, count;          /* cap: 0 or a power of two */
};

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of text in set: the one holding an equal paragraph of items, or the empty one where
 * it would go. cap must be > count. */
static size_t *para_slot(const struct para_set *set, char *const *items, const char *text)
{
    size_t i = (size_t)text_hash(text) & (set->cap - 1);
    while (set->slots[i] && strcmp(items[set->slots[i] - 1], text) != 0)
        i = (i + 1) & (set->cap - 1);
    return &set->slots[i];
}

/* Makes room for one more entry. Returns 0 or -1 (OOM; set unchanged). */
static int para_reserve(struct para_set *set, char *const *items)
{
    if ((set->count + 1) * 2 <= set->cap)
        return 0;
    struct para_set bigger = { .cap = set->cap ? set->cap * 2 : 16, .count = set->count };
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i])
            *para_slot(&bigger, items, items[set->slots[i] - 1]) = set->slots[i];
    free(set->slots);
    *set = bigger;
    return 0;
}

static void para_clear(struct para_set *set)
{
    free(set->slots);
    memset(set, 0, sizeof *set);
}

/* ---- the walk ----------------------------------------------------------------------------- */

struct walk {
    struct web_page *page;
    CURLU *base;
    const char *base_text;          /* base URL as text: what an absent attribute resolves to */
    size_t first_section;           /* sections before this index belong to earlier pages */
    size_t budget;                  /* bytes of output this page may still produce */
    struct para_set paragraphs;     /* those of the current section */
    bool failed;                    /* OOM */
    bool cut;                       /* the budget ran out: the walk stops */
};

/* charge takes the cost of keeping s (its bytes and one more) from the budget. False, with s
 * freed and the walk cut, when it does not fit. */
static bool charge(struct walk *w, char *s)
{
    size_t cost = strlen(s) + 1;
    if (cost > w->budget) {
        free(s);
        w->cut = true;
        return false;
    }
    w->budget -= cost;
    return true;
}

/* h1 to h6: a heading start tag whose current node is a heading closes that one in Go's parser
 * (HTML standard, "in body"), where libxml2 2.9 nests it: <h1>A<h2>B</h2></h1> is the title
 * "A", then "B", not "AB" then "B". */
static bool is_heading(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->name && n->name[0] == 'h' && n->name[1] >= '1' &&
           n->name[1] <= '6' && n->name[2] == '\0';
}

/* The text of n as xmlNodeGetContent gives it for an HTML tree (its text and CDATA descendants,
 * in document order; for a heading, up to a heading nested in it as its child, see
 * is_heading), as valid UTF-8 and charged to the budget. Gathering stops as soon as the
 * text outgrows the budget (UTF-8 repair never shortens it). NULL when it does not fit (w->cut)
 * or on OOM (w->failed). */
static char *node_text(struct walk *w, const xmlNode *n)
{
    struct growbuf raw = { 0 };
    bool heading = is_heading(n);
    for (xmlNode *c = n->children; c; c = html_next_in_order(c, n)) {
        if (heading && c->parent == n && is_heading(c))
            break;      /* Go's parser closed n there: the rest is not n's text */
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
            continue;
        size_t len = strlen((const char *)c->content);
        if (len >= w->budget - raw.len) {
            free(raw.data);
            w->cut = true;
            return NULL;
        }
        if (growbuf_append(&raw, c->content, len, 256) < 0) {
            free(raw.data);
            w->failed = true;
            return NULL;
        }
    }
    char *out = web_utf8_dup(raw.data ? raw.data : "", raw.len);
    free(raw.data);
    if (!out)
        w->failed = true;
    return out && charge(w, out) ? out : NULL;
}

/* The resolved value of attribute attr of n, or NULL on OOM. */
static char *resolved_attr(struct walk *w, const xmlNode *n, const char *attr)
{
    xmlChar *raw = xmlGetProp(n, (const xmlChar *)attr);
    char *value = NULL;
    if (raw) {
        value = web_utf8_dup((const char *)raw, strlen((const char *)raw));
        libxml_free(raw);
        if (!value)
            return NULL;
    }
    char *out = resolve_with(w->base, value ? value : w->base_text);
    free(value);
    return out;
}

static struct web_section *current_section(struct walk *w)
{
    struct web_page *p = w->page;
    return p->section_count > w->first_section ? &p->sections[p->section_count - 1] : NULL;
}

static void on_heading(struct walk *w, const xmlNode *n)
{
    struct web_page *p = w->page;
    if (p->section_count - w->first_section >= WEB_MAX_SECTIONS_PER_PAGE)
        return;
    if (p->section_count == p->section_cap) {
        size_t cap = p->section_cap ? p->section_cap * 2 : 4;
        struct web_section *s = realloc(p->sections, cap * sizeof *s);
        if (!s) {
            w->failed = true;
            return;
        }
        p->sections = s;
        p->section_cap = cap;
    }
    char *title = node_text(w, n);
    if (!title)
        return;
    p->sections[p->section_count++] = (struct web_section){ .title = title };
    para_clear(&w->paragraphs);
}

static void on_paragraph(struct walk *w, const xmlNode *n)
{
    struct web_section *s = current_section(w);
    if (!s || s->paragraphs.count >= WEB_MAX_ITEMS_PER_SECTION)
        return;
    char *text = node_text(w, n);
    if (!text)
        return;
    size_t *slot;
    if (para_reserve(&w->paragraphs, s->paragraphs.items) < 0) {
        free(text);
        w->failed = true;
    } else if (*(slot = para_slot(&w->paragraphs, s->paragraphs.items, text))) {
        w->budget += strlen(text) + 1;      /* not kept: given back */
        free(text);
    } else if (strvec_push(&s->paragraphs, text) < 0) {
        w->failed = true;
    } else {
        *slot = s->paragraphs.count;
        w->paragraphs.count++;
    }
}

static void on_image(struct walk *w, const xmlNode *n)
{
    struct web_section *s = current_section(w);
    if (!s || s->images.count >= WEB_MAX_ITEMS_PER_SECTION)
        return;
    char *url = resolved_attr(w, n, "src");
    if (!url)
        w->failed = true;
    else if (charge(w, url) && strvec_push(&s->images, url) < 0)
        w->failed = true;
}

static void on_link(struct walk *w, const xmlNode *n)
{
    if (w->page->links.count >= WEB_MAX_LINKS_PER_PAGE)
        return;
    char *url = resolved_attr(w, n, "href");
    if (!url) {
        w->failed = true;
    } else if (!web_is_http_url(url)) {
        free(url);
    } else if (charge(w, url) && strvec_push(&w->page->links, url) < 0) {
        w->failed = true;
    }
}

static void visit(struct walk *w, const xmlNode *n)
{
    if (n->type != XML_ELEMENT_NODE)
        return;
    if (html_is_element(n, "h1") || html_is_element(n, "h2"))
        on_heading(w, n);
    else if (html_is_element(n, "p"))
        on_paragraph(w, n);
    else if (html_is_element(n, "img"))
        on_image(w, n);
    else if (html_is_element(n, "a"))
        on_link(w, n);
}

/* Elements whose content Go's HTML parser (scripting on, as goquery parses) reads as text, not
 * markup: raw text (script, style, noscript, iframe, xmp, noembed, noframes, plaintext) and
 * RCDATA (title, textarea). libxml2 2.9 reads only script and style that way and builds elements
 * inside the others, so a walk that entered them would find headings, paragraphs, images and
 * links that the Go service never sees (the <noscript><img src=...> of every lazy-loading page).
 * Their text still counts in the text of an element around them. */
static bool holds_text_only(const xmlNode *n)
{
    static const char *const names[] = { "script", "style", "noscript", "iframe", "xmp",
                                         "noembed", "noframes", "plaintext", "title",
                                         "textarea" };
    if (n->type != XML_ELEMENT_NODE || !n->name)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp((const char *)n->name, names[i]) == 0)
            return true;
    return false;
}

/* The node after n in the walk: its children are skipped when they are text to Go. */
static xmlNode *walk_next(xmlNode *n, const xmlNode *top)
{
    return holds_text_only(n) ? html_next_skipping_children(n, top) : html_next_in_order(n, top);
}

static const xmlNode *find_base(xmlDoc *doc)
{
    for (xmlNode *n = doc->children; n; n = walk_next(n, (xmlNode *)doc))
        if (html_is_element(n, "base") && xmlHasProp(n, (const xmlChar *)"href"))
            return n;
    return NULL;
}

/* Parses text as libxml2 should see it: its numeric character references made to read as in Go
 * (web_char_refs_as_go), then web_read_html (its start tags bounded in attributes). */
static xmlDoc *read_prepared(const char *html, size_t len, const char *url, const char *encoding)
{
    size_t refs_len = 0;
    char *refs = web_char_refs_as_go(html, len, &refs_len);
    xmlDoc *doc = refs ? web_read_html(refs, refs_len, url, encoding)
                       : web_read_html(html, len, url, encoding);
    free(refs);
    return doc;
}

/* Parses the document: decoded from the header charset first (by web_charset, as Go decodes it:
 * libxml2's own iconv decoding stopped at the first bad byte and lost the rest of the page, and
 * took "iso-8859-1" and "us-ascii" literally where browsers and Go read windows-1252), else with
 * libxml2's detection (BOM, <meta charset>). */
static xmlDoc *parse_html(const char *html, size_t len, const char *charset, const char *url)
{
    if (len > INT32_MAX)
        len = INT32_MAX;
    xmlDoc *doc = NULL;
    size_t utf8_len = 0;
    char *utf8 = charset && *charset ? web_charset_to_utf8(html, len, charset, &utf8_len) : NULL;
    if (utf8) {
        doc = read_prepared(utf8, utf8_len, url, "UTF-8");
        free(utf8);
    }
    return doc ? doc : read_prepared(html, len, url, NULL);
}

/* Sets w->base / w->base_text from <base href> or the page URL. Returns 0 or -1 (OOM). */
static int setup_base(struct walk *w, xmlDoc *doc, const char *page_url, char **owned)
{
    *owned = NULL;
    w->base_text = page_url;
    const xmlNode *b = find_base(doc);
    if (b) {
        CURLU *page = parse_base(page_url);
        *owned = resolved_attr(&(struct walk){ .base = page, .base_text = page_url }, b, "href");
        curl_url_cleanup(page);
        if (!*owned)
            return -1;
        if (web_is_http_url(*owned))
            w->base_text = *owned;
    }
    w->base = parse_base(w->base_text);
    return 0;
}

int web_extract(const char *html, size_t len, const char *charset, const char *page_url,
                struct web_page *out)
{
    if (!page_url || !html)
        return -1;
    xmlDoc *doc = parse_html(html, len, charset, page_url);
    if (!doc)
        return 0;               /* nothing parsable: an empty page */
    struct walk w = { .page = out, .first_section = out->section_count,
                      .budget = web_output_budget(len) };
    char *base_owned = NULL;
    if (setup_base(&w, doc, page_url, &base_owned) < 0) {
        xmlFreeDoc(doc);
        return -1;
    }
    for (xmlNode *n = doc->children; n && !w.failed && !w.cut;
         n = walk_next(n, (xmlNode *)doc))
        visit(&w, n);
    out->cut |= w.cut;
    para_clear(&w.paragraphs);
    curl_url_cleanup(w.base);
    free(base_owned);
    xmlFreeDoc(doc);
    return w.failed ? -1 : 0;
}
