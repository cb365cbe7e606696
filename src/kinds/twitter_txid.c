/* twitter_txid.c - the x-client-transaction-id generator (twitter-modern.md §3.3; API and the
 * caller's fetch sequence in twitter_txid.h).
 *
 * Owns: recognising redirect/migrate pages, reading the home page (verification key, animation
 * frame rows, where the indices script is), reading the indices from that script, computing the
 * animation key (cubic-bezier easing, rotation matrix, colour, hex formatting) and making the
 * per-request id (SHA-256, XOR byte, base64 without padding). No I/O.
 *
 * The HTML structure parts (meta tag, SVG frames, forms) use libxml2's HTML parser in recovery
 * mode with network access off; script references and the indices are bounded string scans over
 * the raw text. Rounding follows JavaScript: floor(x + 0.5) and floor(x*100 + 0.5)/100. */
#include "kinds/twitter_txid.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "err.h"
#include "kinds/html_walk.h"
#include "kinds/web_attr_cap.h"
#include "kinds/libxml_lazy.h"
#include "kinds/twitter_web_request.h"
#include "kinds/web_extract.h"
#include "util/b64.h"
#include "util/crypto.h"

#define EPOCH_OFFSET 1682924400LL     /* 2023-05-01 07:00:00 UTC */
#define MAX_ROWS 16                   /* rows[key % 16]: later rows are never used */
#define MAX_INDICES 16
#define MAX_FRAMES 64
#define NUM_SATURATE 99999            /* hostile digit runs saturate here */
#define BEZIER_MAX_STEPS 200          /* bisection bound (converges in ~17 steps for sane rows) */
#define WEBPACK_MAX_CANDIDATES 32     /* quoted "ondemand.s" occurrences examined per page */

struct twitter_txid_page {
    uint8_t key[TWITTER_TXID_MAX_KEY];
    size_t keylen;
    int rows[MAX_ROWS][TWITTER_TXID_ROW_LEN];
    bool row_ok[MAX_ROWS];            /* the row had at least TWITTER_TXID_ROW_LEN integers */
    size_t nrows;
    char *script_url;                 /* webpack builds */
    char **chunks;                    /* x-web builds */
    size_t nchunks;
};

struct twitter_txid_state {
    uint8_t key[TWITTER_TXID_MAX_KEY];
    size_t keylen;
    char anim[TWITTER_TXID_ANIM_MAX];
};

static int code_fail(int code, char *why, size_t whylen, const char *msg)
{
    why_set(why, whylen, "%s", msg);
    return code;
}

/* ---- small scanning helpers -------------------------------------------------------------- */

static bool is_quote(char c)
{
    return c == '"' || c == '\'' || c == '`';
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Characters of a URL / path literal inside HTML or JS. */
static bool is_url_char(char c)
{
    return isalnum((unsigned char)c) || strchr("-._~:/?#[]@!$&()*+,;=%", c) != NULL;
}

static bool is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* First occurrence of needle[0..nlen) in hay[0..hlen), or NULL. Not memmem: sanitizer builds
 * check memmem's whole haystack on every call, which makes repeated scans quadratic there. */
static const char *scan(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    const char *end = hay + hlen - nlen + 1;
    for (const char *p = hay; p < end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p)
            return NULL;
        if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
            return p;
    }
    return NULL;
}

static const char *find(const char *hay, size_t hlen, const char *needle)
{
    return scan(hay, hlen, needle, strlen(needle));
}

/* Resolves v (n bytes) against base; returns a new absolute http(s) URL, "" when unusable
 * (returned as NULL with *oom false), NULL with *oom true on OOM. */
static char *resolve_http(const char *base, const char *v, size_t n, bool *oom)
{
    *oom = false;
    if (n == 0 || n > TWITTER_TXID_MAX_URL)
        return NULL;
    char *copy = strndup(v, n);
    if (!copy) {
        *oom = true;
        return NULL;
    }
    char *out = web_resolve_url(base ? base : "", copy);
    free(copy);
    if (!out) {
        *oom = true;
        return NULL;
    }
    if (strncasecmp(out, "http://", 7) != 0 && strncasecmp(out, "https://", 8) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

bool twitter_txid_cookie_host(const char *url, const char *web_base)
{
    char host[256], base[256];
    if (!tw_web_url_host(url, host, sizeof host))
        return false;
    size_t hl = strlen(host);
    if (strcmp(host, "x.com") == 0 || (hl > 6 && strcmp(host + hl - 6, ".x.com") == 0))
        return true;
    return web_base && tw_web_url_host(web_base, base, sizeof base) && strcmp(base, host) == 0;
}

/* URLs taken from a page may only lead to X's own hosts (x.com, twitter.com, twimg.com and
 * their subdomains) or to the hosts the caller configured (the page's and the asset base's):
 * a hostile page must not steer the fetcher elsewhere. */
static bool host_allowed(const char *url, const char *peer1, const char *peer2)
{
    char host[256], peer[256];
    if (!tw_web_url_host(url, host, sizeof host))
        return false;
    static const char *const family[] = {"x.com", "twitter.com", "twimg.com"};
    size_t hl = strlen(host);
    for (size_t i = 0; i < 3; i++) {
        size_t fl = strlen(family[i]);
        if ((hl == fl && strcmp(host, family[i]) == 0) ||
            (hl > fl && host[hl - fl - 1] == '.' && strcmp(host + hl - fl, family[i]) == 0))
            return true;
    }
    return (peer1 && tw_web_url_host(peer1, peer, sizeof peer) && strcmp(peer, host) == 0) ||
           (peer2 && tw_web_url_host(peer2, peer, sizeof peer) && strcmp(peer, host) == 0);
}

/* resolve_http, then refused (NULL, *oom false) when the host is not allowed. */
static char *resolve_ours(const char *base, const char *v, size_t n, bool *oom,
                          const char *peer1, const char *peer2)
{
    char *u = resolve_http(base, v, n, oom);
    if (u && !host_allowed(u, peer1, peer2)) {
        free(u);
        u = NULL;
    }
    return u;
}

/* ---- libxml2 ----------------------------------------------------------------------------- */

static xmlDoc *parse_html(const char *html, size_t len)
{
    return len ? web_read_html(html, len, NULL, "UTF-8") : NULL;
}

/* Attribute value (owned by the caller, libxml_free) or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static bool attr_equals(const xmlNode *n, const char *name, const char *want)
{
    char *v = attr(n, name);
    bool eq = v && strcasecmp(v, want) == 0;
    libxml_free(v);
    return eq;
}

/* The n-th (0-based) element child of node, or NULL. Text nodes do not count (§3.3.5 step 9). */
static xmlNode *element_child(xmlNode *node, int n)
{
    for (xmlNode *c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && n-- == 0)
            return c;
    return NULL;
}

static xmlNode *find_verification_meta(xmlDoc *doc)
{
    for (xmlNode *n = doc->children; n; n = html_next_in_order(n, (xmlNode *)doc))
        if (html_is_element(n, "meta") && attr_equals(n, "name", "twitter-site-verification"))
            return n;
    return NULL;
}

/* ---- hops (§3.3.1 step 2) ---------------------------------------------------------------- */

void twitter_txid_hop_free(struct twitter_txid_hop *hop)
{
    if (!hop)
        return;
    free(hop->url);
    free(hop->body);
    hop->url = hop->body = NULL;
}

/* `document.location = "<url>"` anywhere in the page: the literal (without quotes) or NULL. */
static const char *find_document_location(const char *html, size_t len, size_t *ulen)
{
    static const char key[] = "document.location";
    const char *end = html + len;
    const char *p = html;
    while ((p = scan(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
        const char *q = p + sizeof key - 1;
        p = q;
        while (q < end && is_ws(*q))
            q++;
        if (q >= end || *q != '=' || (q + 1 < end && q[1] == '='))
            continue;
        q++;
        while (q < end && is_ws(*q))
            q++;
        if (q >= end || !is_quote(*q))
            continue;
        char quote = *q++;
        const char *s = q;
        while (q < end && *q != quote && *q != '\n' && q - s <= TWITTER_TXID_MAX_URL)
            q++;
        if (q < end && *q == quote && q > s) {
            *ulen = (size_t)(q - s);
            return s;
        }
        p = q;                        /* linear: never rescan what this candidate covered */
    }
    return NULL;
}

/* Whether url is a twitter.com / x.com migrate URL carrying tok= (§3.3.1 step 2). */
static bool is_migrate_url(const char *url)
{
    const char *m = strstr(url, "/migrate");
    if (!m || !strstr(m, "tok="))
        return false;
    return strstr(url, "twitter.com") != NULL || strstr(url, "x.com") != NULL;
}

/* Appends k=v form-encoded to *body. Returns 0 or -1 (OOM / too long). */
static int form_append(char **body, size_t *blen, const char *k, const char *v)
{
    size_t need = *blen + 1 + 3 * (strlen(k) + strlen(v)) + 2;
    if (need > 65536)
        return -1;
    char *nb = realloc(*body, need);
    if (!nb)
        return -1;
    *body = nb;
    size_t o = *blen;
    if (o)
        nb[o++] = '&';
    for (int part = 0; part < 2; part++) {
        const unsigned char *s = (const unsigned char *)(part ? v : k);
        for (; *s; s++) {
            if (isalnum(*s) || *s == '-' || *s == '_' || *s == '.' || *s == '~')
                nb[o++] = (char)*s;
            else if (*s == ' ')
                nb[o++] = '+';
            else
                o += (size_t)sprintf(nb + o, "%%%02X", *s);
        }
        if (!part)
            nb[o++] = '=';
    }
    nb[o] = '\0';
    *blen = o;
    return 0;
}

/* A form posting to .../x/migrate: fills hop with its action and hidden inputs. 1 found, 0 not,
 * -1 OOM. */
static int migrate_form(xmlDoc *doc, const char *page_url, struct twitter_txid_hop *hop)
{
    for (xmlNode *n = doc->children; n; n = html_next_in_order(n, (xmlNode *)doc)) {
        if (!html_is_element(n, "form"))
            continue;
        char *action = attr(n, "action");
        bool match = action && strstr(action, "/x/migrate") != NULL;
        if (!match) {
            libxml_free(action);
            continue;
        }
        bool oom;
        char *url = resolve_ours(page_url, action, strlen(action), &oom, page_url, NULL);
        libxml_free(action);
        if (!url)
            return oom ? -1 : 0;
        char *body = NULL;
        size_t blen = 0;
        for (xmlNode *i = n->children; i; i = html_next_in_order(i, n)) {
            if (!html_is_element(i, "input"))
                continue;
            char *name = attr(i, "name");
            char *value = attr(i, "value");
            int rc = name ? form_append(&body, &blen, name, value ? value : "") : 0;
            libxml_free(name);
            libxml_free(value);
            if (rc < 0) {
                free(url);
                free(body);
                return -1;
            }
        }
        if (!body && !(body = strdup(""))) {
            free(url);
            return -1;
        }
        hop->url = url;
        hop->body = body;
        return 1;
    }
    return 0;
}

/* A meta refresh (or any attribute) pointing at a migrate URL: fills hop with a GET. */
static int migrate_refresh(xmlDoc *doc, const char *page_url, struct twitter_txid_hop *hop)
{
    for (xmlNode *n = doc->children; n; n = html_next_in_order(n, (xmlNode *)doc)) {
        if (!html_is_element(n, "meta") || !attr_equals(n, "http-equiv", "refresh"))
            continue;
        char *content = attr(n, "content");
        const char *u = content ? strcasestr(content, "url") : NULL;
        int rc = 0;
        if (u) {
            u += 3;
            while (is_ws(*u))
                u++;
            if (*u == '=') {
                u++;
                while (is_ws(*u) || is_quote(*u))
                    u++;
                size_t ul = strlen(u);
                while (ul && (is_ws(u[ul - 1]) || is_quote(u[ul - 1])))
                    ul--;
                bool oom;
                char *url = resolve_ours(page_url, u, ul, &oom, page_url, NULL);
                if (url && is_migrate_url(url)) {
                    hop->url = url;
                    rc = 1;
                } else {
                    free(url);
                    rc = oom ? -1 : 0;
                }
            }
        }
        libxml_free(content);
        if (rc)
            return rc;
    }
    return 0;
}

int twitter_txid_next_hop(const char *html, size_t len, const char *page_url,
                          struct twitter_txid_hop *hop)
{
    hop->url = hop->body = NULL;
    if (!html || len == 0 || len > TWITTER_TXID_MAX_PAGE)
        return 0;
    xmlDoc *doc = parse_html(html, len);
    if (!doc)
        return 0;
    int rc = 0;
    if (find_verification_meta(doc)) {
        xmlFreeDoc(doc);              /* the real page: nothing to follow */
        return 0;
    }
    size_t ul = 0;
    const char *loc = find_document_location(html, len, &ul);
    if (loc) {
        bool oom;
        hop->url = resolve_ours(page_url, loc, ul, &oom, page_url, NULL);
        rc = hop->url ? 1 : (oom ? TWITTER_TXID_ERR_NOMEM : 0);
    }
    if (rc == 0) {
        rc = migrate_form(doc, page_url, hop);
        if (rc == 0)
            rc = migrate_refresh(doc, page_url, hop);
        if (rc < 0)
            rc = TWITTER_TXID_ERR_NOMEM;
    }
    xmlFreeDoc(doc);
    if (rc != 1)
        twitter_txid_hop_free(hop);
    return rc;
}

/* ---- the home page (§3.3.2 - §3.3.5) ----------------------------------------------------- */

void twitter_txid_page_free(struct twitter_txid_page *p)
{
    if (!p)
        return;
    free(p->script_url);
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p);
}

const char *twitter_txid_page_script_url(const struct twitter_txid_page *p)
{
    return p ? p->script_url : NULL;
}

const char *const *twitter_txid_page_chunks(const struct twitter_txid_page *p, size_t *n)
{
    *n = p ? p->nchunks : 0;
    return p ? (const char *const *)p->chunks : NULL;
}

/* Reads the integers of one path segment into row; returns how many there were (capped). */
static size_t read_row(const char *s, size_t n, int row[TWITTER_TXID_ROW_LEN])
{
    size_t count = 0;
    size_t i = 0;
    while (i < n) {
        if (!isdigit((unsigned char)s[i])) {
            i++;
            continue;
        }
        long v = 0;
        while (i < n && isdigit((unsigned char)s[i])) {
            v = v * 10 + (s[i] - '0');
            if (v > NUM_SATURATE)
                v = NUM_SATURATE;
            i++;
        }
        if (count < TWITTER_TXID_ROW_LEN)
            row[count] = (int)v;
        count++;
    }
    return count;
}

/* §3.3.5 step 10: rows of the path data d. */
static int read_rows(struct twitter_txid_page *p, const char *d, char *why, size_t whylen)
{
    size_t len = strlen(d);
    if (len <= 9)
        return why_set(why, whylen, "animation frame path too short");
    const char *s = d + 9, *end = d + len;
    p->nrows = 0;
    while (s <= end && p->nrows < MAX_ROWS) {
        const char *c = memchr(s, 'C', (size_t)(end - s));
        const char *seg_end = c ? c : end;
        size_t k = p->nrows++;
        memset(p->rows[k], 0, sizeof p->rows[k]);
        p->row_ok[k] = read_row(s, (size_t)(seg_end - s), p->rows[k]) >= TWITTER_TXID_ROW_LEN;
        if (!c)
            break;
        s = c + 1;
    }
    return 0;
}

/* §3.3.5 step 9: the path of frame key[5] % N. */
static int read_frame(struct twitter_txid_page *p, xmlDoc *doc, char *why, size_t whylen)
{
    xmlNode *frames[MAX_FRAMES];
    size_t n = 0;
    for (xmlNode *e = doc->children; e && n < MAX_FRAMES; e = html_next_in_order(e, (xmlNode *)doc)) {
        if (e->type != XML_ELEMENT_NODE)
            continue;
        char *id = attr(e, "id");
        if (id && strncmp(id, "loading-x-anim", 14) == 0)
            frames[n++] = e;
        libxml_free(id);
    }
    if (n == 0)
        return why_set(why, whylen, "no loading-x-anim animation frames in the page");
    xmlNode *frame = frames[p->key[5] % n];
    xmlNode *g = element_child(frame, 0);
    xmlNode *path = g ? element_child(g, 1) : NULL;
    char *d = path ? attr(path, "d") : NULL;
    if (!d)
        return why_set(why, whylen, "animation frame %u has no path data",
                       (unsigned)(p->key[5] % n));
    int rc = read_rows(p, d, why, whylen);
    libxml_free(d);
    return rc;
}

static int read_key(struct twitter_txid_page *p, xmlDoc *doc, char *why, size_t whylen)
{
    xmlNode *meta = find_verification_meta(doc);
    if (!meta)
        return why_set(why, whylen, "no twitter-site-verification meta tag in the page");
    char *content = attr(meta, "content");
    if (!content)
        return why_set(why, whylen, "twitter-site-verification meta tag has no content");
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    char err[96];
    int rc = b64_decode(content, strlen(content), &raw, &rawlen, err, sizeof err);
    libxml_free(content);
    if (rc != 0)
        return why_set(why, whylen, "twitter-site-verification is not base64: %s", err);
    if (rawlen < TWITTER_TXID_MIN_KEY || rawlen > TWITTER_TXID_MAX_KEY) {
        free(raw);
        return why_set(why, whylen, "twitter-site-verification decodes to %zu bytes", rawlen);
    }
    memcpy(p->key, raw, rawlen);
    p->keylen = rawlen;
    free(raw);
    return 0;
}

/* Webpack layouts (§3.3.3 steps 6, 7): the hash of chunk "ondemand.s", written to hash. */
static bool webpack_hash(const char *html, size_t len, char *hash, size_t hashcap)
{
    static const char name[] = "ondemand.s";
    const char *end = html + len;
    int candidates = 0;
    for (const char *p = html; (p = scan(p, (size_t)(end - p), name, sizeof name - 1)); p++) {
        if (p == html || !is_quote(p[-1]))
            continue;
        if (++candidates > WEBPACK_MAX_CANDIDATES)    /* each costs a scan of the page */
            break;
        const char *after = p + sizeof name - 1;
        if (after >= end || *after != p[-1])
            continue;
        /* older layout: "ondemand.s":"<hash>" */
        const char *a = after + 1;
        while (a < end && is_ws(*a))
            a++;
        if (a < end && *a == ':') {
            a++;
            while (a < end && is_ws(*a))
                a++;
            if (a < end && is_quote(*a)) {
                char hq = *a++;
                const char *h = a;
                while (a < end && is_hex_lower(*a) && (size_t)(a - h) < hashcap)
                    a++;
                size_t hl = (size_t)(a - h);
                if (a < end && *a == hq && hl >= 6 && hl < hashcap) {
                    memcpy(hash, h, hl);
                    hash[hl] = '\0';
                    return true;
                }
            }
        }
        /* newer layout: <id>:"ondemand.s" ... <id>:"<hash>" */
        const char *b = p - 1;
        while (b > html && is_ws(b[-1]))
            b--;
        if (b <= html || b[-1] != ':')
            continue;
        b--;
        while (b > html && is_ws(b[-1]))
            b--;
        bool id_quoted = b > html && is_quote(b[-1]);
        if (id_quoted)
            b--;
        const char *id_end = b;
        while (b > html && (isalnum((unsigned char)b[-1]) || b[-1] == '_') && id_end - b < 32)
            b--;
        size_t idlen = (size_t)(id_end - b);
        if (idlen == 0)
            continue;
        char id[40];
        memcpy(id, b, idlen);
        id[idlen] = '\0';
        /* find "[{,] ws ['"]?id['"]? ws : ws quote hex quote" */
        for (const char *s = html; (s = scan(s, (size_t)(end - s), id, idlen)); s++) {
            const char *l = s;
            if (l > html && is_quote(l[-1]))
                l--;
            while (l > html && is_ws(l[-1]))
                l--;
            if (l <= html || (l[-1] != '{' && l[-1] != ','))
                continue;
            const char *r = s + idlen;
            if (r < end && is_quote(*r))
                r++;
            while (r < end && is_ws(*r))
                r++;
            if (r >= end || *r != ':')
                continue;
            r++;
            while (r < end && is_ws(*r))
                r++;
            if (r >= end || !is_quote(*r))
                continue;
            char hq = *r++;
            const char *h = r;
            while (r < end && is_hex_lower(*r) && (size_t)(r - h) < hashcap)
                r++;
            size_t hl = (size_t)(r - h);
            if (r < end && *r == hq && hl >= 6 && hl < hashcap) {
                memcpy(hash, h, hl);
                hash[hl] = '\0';
                return true;
            }
        }
    }
    return false;
}

static int push_chunk(struct twitter_txid_page *p, char *url, bool front)
{
    for (size_t i = 0; i < p->nchunks; i++)
        if (strcmp(p->chunks[i], url) == 0) {
            free(url);
            return 0;
        }
    if (p->nchunks >= TWITTER_TXID_MAX_CHUNKS) {
        free(url);
        return 0;
    }
    char **nv = realloc(p->chunks, (p->nchunks + 1) * sizeof *nv);
    if (!nv) {
        free(url);
        return -1;
    }
    p->chunks = nv;
    if (front) {
        memmove(nv + 1, nv, p->nchunks * sizeof *nv);
        nv[0] = url;
    } else {
        nv[p->nchunks] = url;
    }
    p->nchunks++;
    return 0;
}

/* Vite "x-web" layout (§3.3.3 step 5): every .../x-web/....js URL in the raw page. Returns 0,
 * TWITTER_TXID_ERR_ACCOUNT (logged-out entry seen) or TWITTER_TXID_ERR_NOMEM. */
static int xweb_chunks(struct twitter_txid_page *p, const char *html, size_t len,
                       const char *page_url, const char *asset_base)
{
    static const char mark[] = "/x-web/";
    const char *end = html + len;
    bool logged_out = false;
    const char *p0 = html;
    for (const char *m; (m = scan(p0, (size_t)(end - p0), mark, sizeof mark - 1)); ) {
        const char *s = m, *e = m;
        while (s > p0 && is_url_char(s[-1]) && m - s < TWITTER_TXID_MAX_URL)
            s--;
        while (e < end && is_url_char(*e) && e - s < TWITTER_TXID_MAX_URL)
            e++;
        p0 = e > m ? e : m + 1;
        size_t n = (size_t)(e - s);
        if (n < 4 || memcmp(e - 3, ".js", 3) != 0)
            continue;
        bool absolute = (n > 7 && strncasecmp(s, "http://", 7) == 0) ||
                        (n > 8 && strncasecmp(s, "https://", 8) == 0);
        bool rooted = s == m && s > html && is_quote(s[-1]);
        if (!absolute && !rooted)
            continue;
        if (scan(s, n, "entry-client-logged-out", 23))
            logged_out = true;
        if (p->nchunks >= TWITTER_TXID_MAX_CHUNKS)
            continue;                             /* still looking for the logged-out entry */
        bool oom;
        char *url = resolve_ours(page_url, s, n, &oom, page_url, asset_base);
        if (!url) {
            if (oom)
                return TWITTER_TXID_ERR_NOMEM;
            continue;
        }
        if (push_chunk(p, url, strstr(url, "sentry-filter") != NULL) < 0)
            return TWITTER_TXID_ERR_NOMEM;
    }
    return logged_out ? TWITTER_TXID_ERR_ACCOUNT : 0;
}

int twitter_txid_page_parse(const char *html, size_t len, const char *page_url,
                            const char *asset_base, struct twitter_txid_page **out,
                            char *why, size_t whylen)
{
    *out = NULL;
    if (!html || len == 0)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "empty page");
    if (len > TWITTER_TXID_MAX_PAGE)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "page too large");
    struct twitter_txid_page *p = calloc(1, sizeof *p);
    if (!p)
        return code_fail(TWITTER_TXID_ERR_NOMEM, why, whylen, "out of memory");
    int rc = TWITTER_TXID_OK;

    char hash[40];
    if (webpack_hash(html, len, hash, sizeof hash)) {
        const char *base = asset_base && *asset_base ? asset_base : "https://abs.twimg.com";
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
            bl--;
        if (bl > TWITTER_TXID_MAX_URL) {
            rc = code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "asset base URL too long");
            goto done;
        }
        if (asprintf(&p->script_url, "%.*s/responsive-web/client-web/ondemand.s.%sa.js",
                     (int)bl, base, hash) < 0) {
            p->script_url = NULL;
            rc = code_fail(TWITTER_TXID_ERR_NOMEM, why, whylen, "out of memory");
            goto done;
        }
    } else {
        rc = xweb_chunks(p, html, len, page_url, asset_base);
        if (rc == TWITTER_TXID_ERR_ACCOUNT) {
            code_fail(rc, why, whylen,
                      "X served the logged-out app (entry-client-logged-out): bad cookies");
            goto done;
        }
        if (rc != 0) {
            code_fail(rc, why, whylen, "out of memory");
            goto done;
        }
        if (p->nchunks == 0) {
            if (find(html, len, "/cdn-cgi/challenge-platform/"))
                rc = code_fail(TWITTER_TXID_ERR_CHALLENGE, why, whylen,
                               "Cloudflare challenge page instead of the home page");
            else
                rc = code_fail(TWITTER_TXID_ERR_PARSE, why, whylen,
                               "no ondemand.s chunk and no x-web scripts in the page "
                               "(logged-out page or new layout)");
            goto done;
        }
    }

    xmlDoc *doc = parse_html(html, len);
    if (!doc) {
        rc = code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "page is not parseable HTML");
        goto done;
    }
    if (read_key(p, doc, why, whylen) < 0 || read_frame(p, doc, why, whylen) < 0)
        rc = TWITTER_TXID_ERR_PARSE;
    xmlFreeDoc(doc);

done:
    if (rc != TWITTER_TXID_OK)
        twitter_txid_page_free(p);
    else
        *out = p;
    return rc;
}

/* ---- x-web chunk search (§3.3.3 step 5) -------------------------------------------------- */

static bool name_is_signing(const char *name, size_t n)
{
    return (n > 9 && memcmp(name, "sign.o", 6) == 0) ||
           (n > 13 && memcmp(name, "ondemand.s", 10) == 0);
}

int twitter_txid_find_script(const char *js, size_t len, const char *chunk_url, char **url)
{
    *url = NULL;
    if (!js || len == 0 || len > TWITTER_TXID_MAX_SCRIPT)
        return 0;
    static const char *const marks[] = {"sign.o", "ondemand.s"};
    const char *end = js + len;
    for (size_t k = 0; k < 2; k++) {
        size_t ml = strlen(marks[k]);
        const char *floor_ = js;      /* end of the last literal scanned: keeps this linear */
        for (const char *m = js; (m = scan(m, (size_t)(end - m), marks[k], ml)); m++) {
            if (m == js || (m[-1] != '/' && !is_quote(m[-1])))
                continue;
            const char *s = m, *e = m;
            while (s > floor_ && !is_quote(s[-1]) && is_url_char(s[-1]) &&
                   m - s < TWITTER_TXID_MAX_URL)
                s--;
            while (e < end && !is_quote(*e) && is_url_char(*e) && e - s < TWITTER_TXID_MAX_URL)
                e++;
            floor_ = e;
            if (e > m)
                m = e - 1;                         /* the loop's m++ resumes after the literal */
            if (s == js || e >= end || !is_quote(s[-1]) || *e != s[-1])
                continue;
            size_t n = (size_t)(e - s);
            const char *fname = e;                 /* the file name: the last path segment */
            while (fname > s && fname[-1] != '/')
                fname--;
            if (n < 4 || memcmp(e - 3, ".js", 3) != 0 ||
                !name_is_signing(fname, (size_t)(e - fname)))
                continue;
            bool oom;
            char *u = resolve_ours(chunk_url, s, n, &oom, chunk_url, NULL);
            if (u) {
                *url = u;
                return 1;
            }
            if (oom)
                return TWITTER_TXID_ERR_NOMEM;
        }
    }
    return 0;
}

/* ---- animation key (§3.3.6) -------------------------------------------------------------- */

static double js_round(double x)
{
    return floor(x + 0.5);
}

static double round2(double x)
{
    return floor(x * 100.0 + 0.5) / 100.0;
}

static double bez(double a, double b, double m)
{
    return 3.0 * a * (1 - m) * (1 - m) * m + 3.0 * b * (1 - m) * m * m + m * m * m;
}

/* §3.3.6 step 14: CSS cubic-bezier easing with control points (c0,c1),(c2,c3) at t. */
static double cubic_value(const double c[4], double t)
{
    if (t <= 0.0) {
        double slope = 0.0;
        if (c[0] > 0.0)
            slope = c[1] / c[0];
        else if (c[1] == 0.0 && c[2] > 0.0)
            slope = c[3] / c[2];
        return slope * t;
    }
    if (t >= 1.0) {
        double slope = 0.0;
        if (c[2] < 1.0)
            slope = (c[3] - 1.0) / (c[2] - 1.0);
        else if (c[2] == 1.0 && c[0] < 1.0)
            slope = (c[1] - 1.0) / (c[0] - 1.0);
        return 1.0 + slope * (t - 1.0);
    }
    double lo = 0.0, hi = 1.0, mid = 0.0;
    for (int step = 0; lo < hi && step < BEZIER_MAX_STEPS; step++) {
        mid = (lo + hi) / 2.0;
        double x = bez(c[0], c[2], mid);
        if (fabs(t - x) < 0.00001)
            return bez(c[1], c[3], mid);
        if (x < t)
            lo = mid;
        else
            hi = mid;
    }
    return bez(c[1], c[3], mid);
}

/* "Float to hex" of §3.3.6 step 16 for 0 <= v (upper-case digits, as the reference). */
static void float_hex(double v, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    double ip = floor(v), frac = v - ip;
    char tmp[32];
    size_t t = 0;
    while (ip > 0 && t < sizeof tmp) {
        double q = floor(ip / 16.0);
        tmp[t++] = digits[(int)(ip - q * 16.0)];
        ip = q;
    }
    while (t && o + 1 < cap)
        out[o++] = tmp[--t];
    if (frac > 0 && o + 1 < cap) {
        out[o++] = '.';
        for (int i = 0; frac > 0 && i < 64 && o + 1 < cap; i++) {
            frac *= 16.0;
            double d = floor(frac);
            out[o++] = digits[(int)d];
            frac -= d;
        }
    }
    out[o] = '\0';
}

int twitter_txid_animation_key(const int row[TWITTER_TXID_ROW_LEN], double frame_time,
                               char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return -1;
    double ft = floor(frame_time / 10.0 + 0.5) * 10.0;
    double t = ft / 4096.0;
    double from[3], to[3];
    for (int k = 0; k < 3; k++) {
        from[k] = row[k];
        to[k] = row[3 + k];
    }
    double to_rot = floor((double)row[6] * 300.0 / 255.0 + 60.0);
    double c[4];
    for (int i = 0; i < 4; i++) {
        double lo = (i % 2) ? -1.0 : 0.0;
        c[i] = round2((double)row[7 + i] * (1.0 - lo) / 255.0 + lo);
    }
    double val = cubic_value(c, t);
    if (!isfinite(val))
        val = 0.0;

    char buf[TWITTER_TXID_ANIM_MAX + 64];
    size_t o = 0;
    for (int k = 0; k < 3; k++) {
        double col = from[k] * (1.0 - val) + to[k] * val;
        if (!(col > 0.0))
            col = 0.0;
        if (col > 255.0)
            col = 255.0;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%x", (unsigned)js_round(col));
    }
    double r = to_rot * val * M_PI / 180.0;
    double m[4] = {cos(r), -sin(r), sin(r), cos(r)};
    for (int i = 0; i < 4; i++) {
        double v = fabs(round2(m[i]));
        if (!isfinite(v))
            v = 0.0;
        char h[80];
        float_hex(v, h, sizeof h);
        if (h[0] == '.')
            o += (size_t)snprintf(buf + o, sizeof buf - o, "0%s", h);
        else if (h[0] == '\0')
            o += (size_t)snprintf(buf + o, sizeof buf - o, "0");
        else
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", h);
        if (o >= sizeof buf)
            return -1;
    }
    if (o + 2 >= sizeof buf)
        return -1;
    buf[o++] = '0';
    buf[o++] = '0';
    buf[o] = '\0';
    size_t w = 0;
    for (size_t i = 0; i < o; i++) {
        if (buf[i] == '.' || buf[i] == '-')
            continue;
        if (w + 1 >= outlen)
            return -1;
        out[w++] = (char)tolower((unsigned char)buf[i]);
    }
    out[w] = '\0';
    return 0;
}

int twitter_txid_key_from_parts(const uint8_t *key, size_t keylen, const int *idx, size_t nidx,
                                const int (*rows)[TWITTER_TXID_ROW_LEN], size_t nrows,
                                char *out, size_t outlen, char *why, size_t whylen)
{
    if (nidx < 2)
        return why_set(why, whylen, "%zu key-byte indices found, need at least 2", nidx);
    for (size_t i = 0; i < nidx; i++)
        if (idx[i] < 0 || (size_t)idx[i] >= keylen)
            return why_set(why, whylen, "key-byte index %d outside the %zu-byte key", idx[i],
                           keylen);
    size_t r = key[idx[0]] % 16;
    if (r >= nrows)
        return why_set(why, whylen, "animation row %zu missing (%zu rows)", r, nrows);
    double ft = 1.0;
    for (size_t i = 1; i < nidx; i++)
        ft *= (double)(key[idx[i]] % 16);
    if (twitter_txid_animation_key(rows[r], ft, out, outlen) < 0)
        return why_set(why, whylen, "animation key too long");
    return 0;
}

/* ---- state ------------------------------------------------------------------------------- */

static bool valid_anim(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n >= TWITTER_TXID_ANIM_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_hex_lower(a[i]))
            return false;
    return true;
}

int twitter_txid_state_new(const uint8_t *key, size_t keylen, const char *animation_key,
                           struct twitter_txid_state **out)
{
    *out = NULL;
    if (!key || keylen < TWITTER_TXID_MIN_KEY || keylen > TWITTER_TXID_MAX_KEY ||
        !animation_key || !valid_anim(animation_key))
        return TWITTER_TXID_ERR_PARSE;
    struct twitter_txid_state *st = calloc(1, sizeof *st);
    if (!st)
        return TWITTER_TXID_ERR_NOMEM;
    memcpy(st->key, key, keylen);
    st->keylen = keylen;
    memcpy(st->anim, animation_key, strlen(animation_key) + 1);
    *out = st;
    return TWITTER_TXID_OK;
}

int twitter_txid_state_from_pair(const char *verification_b64, const char *animation_key,
                                 struct twitter_txid_state **out, char *why, size_t whylen)
{
    *out = NULL;
    if (!verification_b64 || !animation_key)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "missing verification or key");
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    char err[96];
    if (b64_decode(verification_b64, strlen(verification_b64), &raw, &rawlen, err,
                   sizeof err) != 0) {
        why_set(why, whylen, "verification is not base64: %s", err);
        return strcmp(err, "out of memory") == 0 ? TWITTER_TXID_ERR_NOMEM : TWITTER_TXID_ERR_PARSE;
    }
    if (rawlen < TWITTER_TXID_MIN_KEY || rawlen > TWITTER_TXID_MAX_KEY) {
        free(raw);
        why_set(why, whylen, "verification decodes to %zu bytes", rawlen);
        return TWITTER_TXID_ERR_PARSE;
    }
    if (!valid_anim(animation_key)) {
        free(raw);
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen,
                         "animation key must be 1..127 characters of [0-9a-f]");
    }
    int rc = twitter_txid_state_new(raw, rawlen, animation_key, out);
    free(raw);
    if (rc == TWITTER_TXID_ERR_NOMEM)
        why_set(why, whylen, "out of memory");
    return rc;
}

/* §3.3.4: the digits of every `(\w\[(\d{1,2})\],\s*16\)` in order. */
static size_t read_indices(const char *js, size_t len, int *idx, size_t cap)
{
    size_t n = 0;
    const char *end = js + len;
    for (const char *p = js; n < cap && (p = memchr(p, '(', (size_t)(end - p))); p++) {
        const char *q = p + 1;
        if (q >= end || !(isalnum((unsigned char)*q) || *q == '_'))
            continue;
        q++;
        if (q >= end || *q != '[')
            continue;
        q++;
        int v = 0, digits = 0;
        while (q < end && isdigit((unsigned char)*q) && digits < 3) {
            v = v * 10 + (*q - '0');
            q++;
            digits++;
        }
        if (digits < 1 || digits > 2 || q >= end || *q != ']')
            continue;
        q++;
        if (q >= end || *q != ',')
            continue;
        q++;
        while (q < end && is_ws(*q))
            q++;
        if (end - q < 3 || memcmp(q, "16)", 3) != 0)
            continue;
        idx[n++] = v;
    }
    return n;
}

int twitter_txid_derive(const struct twitter_txid_page *page, const char *script, size_t len,
                        struct twitter_txid_state **out, char *why, size_t whylen)
{
    *out = NULL;
    if (!page)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "no page");
    if (!script || len == 0)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "empty indices script");
    if (len > TWITTER_TXID_MAX_SCRIPT)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen, "indices script too large");
    int idx[MAX_INDICES];
    size_t nidx = read_indices(script, len, idx, MAX_INDICES);
    if (nidx == 0)
        return code_fail(TWITTER_TXID_ERR_PARSE, why, whylen,
                         "no key-byte indices in the script");
    /* a row the page could not fill completely must not be picked */
    if ((size_t)idx[0] < page->keylen) {
        size_t r = page->key[idx[0]] % 16;
        if (r < page->nrows && !page->row_ok[r]) {
            why_set(why, whylen, "animation row %zu has fewer than %d numbers", r,
                    TWITTER_TXID_ROW_LEN);
            return TWITTER_TXID_ERR_PARSE;
        }
    }
    char anim[TWITTER_TXID_ANIM_MAX];
    if (twitter_txid_key_from_parts(page->key, page->keylen, idx, nidx,
                                    (const int (*)[TWITTER_TXID_ROW_LEN])page->rows, page->nrows,
                                    anim, sizeof anim, why, whylen) < 0)
        return TWITTER_TXID_ERR_PARSE;
    int rc = twitter_txid_state_new(page->key, page->keylen, anim, out);
    if (rc != TWITTER_TXID_OK)
        code_fail(rc, why, whylen, rc == TWITTER_TXID_ERR_NOMEM ? "out of memory"
                                                                  : "unusable animation key");
    return rc;
}

const char *twitter_txid_state_anim_key(const struct twitter_txid_state *st)
{
    return st ? st->anim : NULL;
}

struct twitter_txid_state *twitter_txid_state_dup(const struct twitter_txid_state *st)
{
    struct twitter_txid_state *copy = st ? malloc(sizeof *copy) : NULL;
    if (copy)
        *copy = *st;
    return copy;
}

void twitter_txid_state_free(struct twitter_txid_state *st)
{
    if (st)
        explicit_bzero(st, sizeof *st);
    free(st);
}

/* ---- per-request id (§3.3.7) ------------------------------------------------------------- */

int twitter_txid_make_raw(const struct twitter_txid_state *st, const char *method,
                          const char *path, uint32_t rel_seconds, uint8_t random_byte,
                          char *out, size_t outlen)
{
    if (!st || !method || !*method || !path || path[0] != '/' || !out)
        return -1;
    size_t ml = strlen(method), pl = strcspn(path, "?#");
    if (ml > 16 || pl > 8192)
        return -1;
    for (size_t i = 0; i < ml; i++)
        if (!isupper((unsigned char)method[i]))
            return -1;
    char msg[16 + 1 + 8192 + 1 + 16 + 15 + TWITTER_TXID_ANIM_MAX];
    int ml_ = snprintf(msg, sizeof msg, "%s!%.*s!%uobfiowerehiring%s", method, (int)pl, path,
                       (unsigned)rel_seconds, st->anim);
    if (ml_ < 0 || (size_t)ml_ >= sizeof msg)
        return -1;
    uint8_t h[CRYPTO_SHA256_LEN];
    crypto_sha256(msg, (size_t)ml_, h);

    uint8_t buf[1 + TWITTER_TXID_MAX_KEY + 4 + 16 + 1];
    size_t n = 0;
    buf[n++] = random_byte;
    memcpy(buf + n, st->key, st->keylen);
    n += st->keylen;
    for (int i = 0; i < 4; i++)
        buf[n++] = (uint8_t)(rel_seconds >> (8 * i));
    memcpy(buf + n, h, 16);
    n += 16;
    buf[n++] = 3;
    for (size_t i = 1; i < n; i++)
        buf[i] ^= random_byte;

    size_t enc = b64_encoded_len(n);
    char tmp[((sizeof buf + 2) / 3) * 4 + 1];
    if (enc >= sizeof tmp)
        return -1;
    b64_encode(buf, n, tmp);
    while (enc > 0 && tmp[enc - 1] == '=')
        enc--;
    if (enc + 1 > outlen)
        return -1;
    memcpy(out, tmp, enc);
    out[enc] = '\0';
    return 0;
}

int twitter_txid_make(const struct twitter_txid_state *st, const char *method, const char *path,
                      time_t now, char *out, size_t outlen)
{
    long long rel = (long long)now - EPOCH_OFFSET;
    if (rel < 0 || rel > (long long)UINT32_MAX)
        return -1;
    uint8_t r;
    if (crypto_random(&r, 1) != 0)
        return -1;
    return twitter_txid_make_raw(st, method, path, (uint32_t)rel, r, out, outlen);
}
