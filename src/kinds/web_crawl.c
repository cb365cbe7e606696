/* web_crawl.c - breadth-first crawl on one libcurl multi handle (see web_crawl.h).
 *
 * Pieces: a visited set (open addressing over visit keys: crawl_visit_key); per-host slots (in-flight
 * count and the earliest next start, for the concurrency and delay limits); the pending list of
 * targets waiting for a slot or a retry time; the active transfers. One level runs until nothing
 * is pending or in flight; then the links of that level's pages, in page order, become the next
 * level. Every outcome of a target goes through finish_target/fail_target, which is where the
 * start page's failure becomes the crawl's error. The transfers share one cookie jar for the
 * crawl (Go's crawler keeps cookies too), and a redirect may come back to the URL it started
 * from (a site that sets a cookie and redirects to itself). */
#include "kinds/web_crawl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "net/addr_policy.h"
#include "net/idn.h"
#include "net/retry_after.h"

/* ---- time --------------------------------------------------------------------------------- */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long timespec_ms(const struct timespec *ts)
{
    return (long long)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* ---- visited set -------------------------------------------------------------------------- */

struct visited {
    char **slots;
    size_t cap, count;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static char **visited_find(const struct visited *v, const char *url)
{
    size_t i = hash_str(url) & (v->cap - 1);
    while (v->slots[i] && strcmp(v->slots[i], url) != 0)
        i = (i + 1) & (v->cap - 1);
    return &v->slots[i];
}

static int visited_grow(struct visited *v)
{
    struct visited bigger = { .cap = v->cap ? v->cap * 2 : 64, .count = v->count };
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < v->cap; i++)
        if (v->slots[i])
            *visited_find(&bigger, v->slots[i]) = v->slots[i];
    free(v->slots);
    *v = bigger;
    return 0;
}

/* Adds a copy of url; returns 1 when added, 0 when already there, -1 on OOM. */
static int visited_add(struct visited *v, const char *url)
{
    if ((v->count + 1) * 2 > v->cap && visited_grow(v) < 0)
        return -1;
    char **slot = visited_find(v, url);
    if (*slot)
        return 0;
    if (!(*slot = strdup(url)))
        return -1;
    v->count++;
    return 1;
}

static void visited_clear(struct visited *v)
{
    for (size_t i = 0; i < v->cap; i++)
        free(v->slots[i]);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

/* ---- crawler state ------------------------------------------------------------------------ */

struct host_slot {
    char *name;
    unsigned inflight;
    long long next_start_ms;
};

struct target {
    char *url;                 /* current URL (normalised; changes on redirect) */
    char *origin;              /* the URL it was admitted with (its redirects may come back) */
    size_t page;               /* index into result->pages */
    struct host_slot *host;
    unsigned redirects, retries;
    long long not_before_ms;
};

struct transfer {
    CURL *easy;
    struct target *t;          /* owned by the transfer until finish_transfer */
    struct host_slot *host;
    char *body;
    size_t len, cap, max;
    bool checked;              /* status and type looked at (first body bytes) */
    bool stopped;              /* we cut the body on purpose (cap, not HTML, not 2xx) */
    bool truncated;
    bool not_html;
    struct addr_policy_guard guard;
    char errbuf[CURL_ERROR_SIZE];
    struct transfer *next;
};

struct crawler {
    const struct crawl_options *o;
    struct crawl_result *r;
    struct err *e;
    CURLM *multi;
    CURLSH *share;             /* the crawl's cookie jar, shared by its transfers */
    struct curl_slist *headers;
    struct visited visited;
    struct host_slot **hosts;
    size_t host_count;
    struct target **pending;
    size_t pending_count, pending_cap;
    struct transfer *active;
    size_t inflight;
    size_t page_cap;
    long long deadline_ms;
    bool start_done;           /* the start page reached an outcome */
    bool start_failed;
    bool oom;
};

static void free_target(struct target *t)
{
    if (t) {
        free(t->url);
        free(t->origin);
        free(t);
    }
}

/* The start page's outcome; others are counted. Consumes t. */
__attribute__((format(printf, 4, 5)))
static void fail_target(struct crawler *c, struct target *t, int http, const char *fmt, ...)
{
    char msg[sizeof c->e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t->page == 0) {
        if (!c->start_done) {
            c->start_done = c->start_failed = true;
            err_set(c->e, http, "%s", msg);
        }
    } else {
        c->r->failed++;
        log_debug("web crawl: skipped %s: %s", t->url, msg);
    }
    free_target(t);
}

/* Puts a host name (in place) in the form under which the crawl tells hosts apart: lower case,
 * without the root label's trailing dot ("Example.COM." is "example.com"). */
static void host_canonical(char *host)
{
    size_t n = strlen(host);
    for (size_t i = 0; i < n; i++)
        if (host[i] >= 'A' && host[i] <= 'Z')
            host[i] = (char)(host[i] - 'A' + 'a');
    if (n > 1 && host[n - 1] == '.')
        host[n - 1] = '\0';
}

/* The slot of host name (any spelling: host_canonical), created on first use; NULL on OOM. */
static struct host_slot *host_slot_for(struct crawler *c, const char *name)
{
    char *key = strdup(name);
    if (!key)
        return NULL;
    host_canonical(key);
    for (size_t i = 0; i < c->host_count; i++)
        if (strcmp(c->hosts[i]->name, key) == 0) {
            free(key);
            return c->hosts[i];
        }
    struct host_slot **hosts = realloc(c->hosts, (c->host_count + 1) * sizeof *hosts);
    struct host_slot *h = hosts ? calloc(1, sizeof *h) : NULL;
    if (hosts)
        c->hosts = hosts;
    if (!h) {
        free(key);
        return NULL;
    }
    h->name = key;
    return c->hosts[c->host_count++] = h;
}

/* Host part of an absolute URL (new string; curl_free), or NULL when it does not parse. */
static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    return host;
}

int crawl_ascii_url(const char *url, unsigned curlu_flags, char **out, const char **why)
{
    *out = NULL;
    CURLU *u = curl_url();
    if (!u)
        return -2;
    char *host = NULL, *text = NULL;
    int rc = 1;
    if (curl_url_set(u, CURLUPART_URL, url, curlu_flags) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        char ascii[IDN_HOST_MAX];
        bool unicode = !idn_is_ascii(host);
        rc = unicode ? idn_host_to_ascii(host, ascii, why) : 0;
        if (rc == 0 && unicode && curl_url_set(u, CURLUPART_HOST, ascii, 0) != CURLUE_OK)
            rc = -2;
        if (rc == 0 && curl_url_get(u, CURLUPART_URL, &text, 0) != CURLUE_OK)
            rc = -2;
        if (rc == 0 && !(*out = strdup(text)))
            rc = -2;
    }
    curl_free(text);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

char *crawl_visit_key(const char *url)
{
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    char *host = NULL, *text = NULL, *key = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        key = strdup(url);           /* not a URL libcurl reads: its own spelling is its key */
        goto out;
    }
    host_canonical(host);           /* the root label: "example.com." is "example.com" */
    /* libcurl writes back an empty path as "/" and a lower-case scheme; NO_DEFAULT_PORT drops
     * :80 for http and :443 for https */
    if (curl_url_set(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &text, CURLU_NO_DEFAULT_PORT) == CURLUE_OK)
        key = strdup(text);
    else
        key = strdup(url);
out:
    curl_free(text);
    curl_free(host);
    curl_url_cleanup(u);
    return key;
}

/* Adds url's visit key (crawl_visit_key) to the visited set: 1 when added, 0 when that page is
 * already there, -1 on OOM. */
static int visit(struct crawler *c, const char *url)
{
    char *key = crawl_visit_key(url);
    int added = key ? visited_add(&c->visited, key) : -1;
    free(key);
    return added;
}

/* Whether a and b are one page (the same visit key); false when out of memory. */
static bool same_page(const char *a, const char *b)
{
    char *ka = crawl_visit_key(a), *kb = crawl_visit_key(b);
    bool same = ka && kb && strcmp(ka, kb) == 0;
    free(ka);
    free(kb);
    return same;
}

/* The URL to fetch for url: a copy, with its host in ASCII form when it was not (crawl_ascii_url);
 * a URL whose host is ASCII, or that does not parse (for enqueue to refuse), is copied as it is.
 * Returns 0 with *out, or -1 (why) or -2 as crawl_ascii_url. */
static int fetch_form(const char *url, char **out, const char **why)
{
    bool convert = false;
    if (!idn_is_ascii(url) || strchr(url, '%')) {     /* else its host is ASCII */
        char *host = url_host(url);
        convert = host && !idn_is_ascii(host);
        curl_free(host);
    }
    int rc = convert ? crawl_ascii_url(url, 0, out, why) : 1;
    if (rc == 1)
        rc = (*out = strdup(url)) ? 0 : -2;
    return rc;
}

/* Checks t->url as a URL to fetch and puts t on the pending list; or fails it. */
static void enqueue(struct crawler *c, struct target *t)
{
    if (!web_is_http_url(t->url)) {
        fail_target(c, t, 400, "not an http(s) URL: %.200s", t->url);
        return;
    }
    char *host = url_host(t->url);
    if (!host) {
        fail_target(c, t, 400, "invalid URL: %.200s", t->url);
        return;
    }
    if (!idn_is_ascii(host)) {         /* fetch_form converted it: not reached */
        curl_free(host);
        fail_target(c, t, 400, "invalid URL (host not in ASCII form): %.200s", t->url);
        return;
    }
    const char *term = NULL;
    bool blocked = addr_policy_host_blacklisted(c->o->blacklist, host, &term);
    t->host = blocked ? NULL : host_slot_for(c, host);
    curl_free(host);
    if (blocked) {
        fail_target(c, t, 400, "URL blacklisted: %.200s%s", t->url,
                    t->redirects ? " (redirect target)" : "");
        return;
    }
    if (!t->host)
        goto oom;
    if (c->pending_count == c->pending_cap) {
        size_t cap = c->pending_cap ? c->pending_cap * 2 : 16;
        struct target **p = realloc(c->pending, cap * sizeof *p);
        if (!p)
            goto oom;
        c->pending = p;
        c->pending_cap = cap;
    }
    c->pending[c->pending_count++] = t;
    return;
oom:
    c->oom = true;
    fail_target(c, t, 500, "out of memory");
}

/* Creates the result page for url and enqueues it under its fetch form (fetch_form), unless that
 * form is already visited (one page linked under both spellings of its host). url is copied. A
 * host with no ASCII form fails the page here. */
static void admit(struct crawler *c, const char *url)
{
    struct crawl_result *r = c->r;
    const char *why = NULL;
    char *fetch = NULL;
    int conv = fetch_form(url, &fetch, &why);
    if (conv == -1)
        fetch = strdup(url);
    int added = fetch ? visit(c, fetch) : -1;
    if (added <= 0) {
        free(fetch);
        c->oom |= added < 0;
        return;
    }
    if (r->page_count == c->page_cap) {
        size_t cap = c->page_cap ? c->page_cap * 2 : 16;
        struct web_page *p = realloc(r->pages, cap * sizeof *p);
        if (!p) {
            free(fetch);
            c->oom = true;
            return;
        }
        r->pages = p;
        c->page_cap = cap;
    }
    struct target *t = calloc(1, sizeof *t);
    if (!t || !(t->origin = strdup(fetch))) {
        free(t);
        free(fetch);
        c->oom = true;
        return;
    }
    t->url = fetch;
    memset(&r->pages[r->page_count], 0, sizeof r->pages[0]);
    t->page = r->page_count++;
    if (conv == -1)
        fail_target(c, t, 400, CRAWL_IDN_INVALID " (%s): %.200s", why, url);
    else
        enqueue(c, t);
}

/* ---- transfers ---------------------------------------------------------------------------- */

static bool status_ok(long code)
{
    return code >= 200 && code < 300;
}

/* First body bytes: decide whether to keep the body at all (2xx HTML only). */
static bool keep_body(struct transfer *x)
{
    long code = 0;
    char *ctype = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
    if (!status_ok(code))
        return false;
    x->not_html = !ctype || !strcasestr(ctype, "html");
    return !x->not_html;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct transfer *x = userp;
    size_t n = size * nmemb;
    if (!x->checked) {
        x->checked = true;
        if (!keep_body(x)) {
            x->stopped = true;
            return 0;
        }
    }
    size_t room = x->max - x->len;
    if (n > room) {
        x->truncated = x->stopped = true;
        n = room;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (cap > x->max + 1)
            cap = x->max + 1;
        char *b = realloc(x->body, cap);
        if (!b) {
            x->stopped = false;    /* a real failure */
            return 0;
        }
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    return x->truncated ? 0 : size * nmemb;
}

static CURLcode setup_easy(struct crawler *c, struct transfer *x, long long now)
{
    CURL *e = x->easy;
    long long left = c->deadline_ms - now;
    long timeout = left > 1 ? (long)left : 1;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, x->t->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_HTTPHEADER, c->headers);
    SET(CURLOPT_USERAGENT, c->o->user_agent ? c->o->user_agent : "tee-worker");
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, timeout);
    SET(CURLOPT_CONNECTTIMEOUT_MS, timeout < 15000 ? timeout : 15000L);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_SHARE, c->share);
    SET(CURLOPT_COOKIEFILE, "");
#undef SET
    if (rc == CURLE_OK)
        rc = addr_policy_install(e, &x->guard);
    return rc;
}

static void release_transfer(struct crawler *c, struct transfer *x)
{
    for (struct transfer **p = &c->active; *p; p = &(*p)->next) {
        if (*p == x) {
            *p = x->next;
            break;
        }
    }
    curl_multi_remove_handle(c->multi, x->easy);
    curl_easy_cleanup(x->easy);
    x->host->inflight--;
    c->inflight--;
    free(x->body);
    free(x);
}

static void start_target(struct crawler *c, struct target *t, long long now)
{
    struct transfer *x = calloc(1, sizeof *x);
    if (!x || !(x->easy = curl_easy_init())) {
        free(x);
        c->oom = true;
        fail_target(c, t, 500, "out of memory");
        return;
    }
    x->t = t;
    x->max = c->o->max_page_bytes;
    x->guard.allow_private = c->o->allow_private;
    if (setup_easy(c, x, now) != CURLE_OK || curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        free(x);
        fail_target(c, t, 500, "could not set up the transfer of %.200s", t->url);
        return;
    }
    x->host = t->host;
    t->host->inflight++;
    t->host->next_start_ms = now + c->o->delay_ms;
    c->inflight++;
    x->next = c->active;
    c->active = x;
}

/* Starts every pending target whose host has room and whose time has come. */
static void start_ready(struct crawler *c, long long now)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->pending_count; i++) {
        struct target *t = c->pending[i];
        bool ready = c->inflight < CRAWL_MAX_INFLIGHT && t->not_before_ms <= now &&
                     t->host->inflight < c->o->host_concurrency && t->host->next_start_ms <= now;
        if (ready)
            start_target(c, t, now);
        else
            c->pending[kept++] = t;
    }
    c->pending_count = kept;
}

/* Milliseconds until a pending target may start for a reason other than a transfer finishing. */
static long long next_wake(const struct crawler *c, long long now)
{
    long long wake = 1000;
    for (size_t i = 0; i < c->pending_count; i++) {
        const struct target *t = c->pending[i];
        if (t->host->inflight >= c->o->host_concurrency || c->inflight >= CRAWL_MAX_INFLIGHT)
            continue;
        long long at = t->not_before_ms > t->host->next_start_ms ? t->not_before_ms
                                                                 : t->host->next_start_ms;
        if (at - now < wake)
            wake = at - now;
    }
    if (c->deadline_ms - now < wake)
        wake = c->deadline_ms - now;
    return wake > 0 ? wake : 0;
}

/* ---- outcomes ----------------------------------------------------------------------------- */

static void on_redirect(struct crawler *c, struct target *t, CURL *easy, long code)
{
    char *location = NULL;
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
    if (!location) {
        fail_target(c, t, 502, "%.200s answered HTTP %ld without a usable Location", t->url, code);
        return;
    }
    if (t->redirects >= CRAWL_MAX_REDIRECTS) {
        fail_target(c, t, 502, "%.200s: more than %d redirects", t->url, CRAWL_MAX_REDIRECTS);
        return;
    }
    char *next = web_resolve_url(t->url, location);
    if (!next) {
        c->oom = true;
        fail_target(c, t, 500, "out of memory");
        return;
    }
    if (web_is_http_url(next)) {
        const char *why = NULL;
        char *ascii = NULL;
        int conv = fetch_form(next, &ascii, &why);
        if (conv < 0) {
            if (conv == -2) {
                c->oom = true;
                fail_target(c, t, 500, "out of memory");
            } else {
                fail_target(c, t, 400, CRAWL_IDN_INVALID " (%s): %.160s (redirect target)", why,
                            next);
            }
            free(next);
            return;
        }
        free(next);
        next = ascii;
    }
    int added = web_is_http_url(next) ? visit(c, next) : 1;
    if (added == 0 && (same_page(next, t->url) || same_page(next, t->origin)))
        added = 1;          /* back to itself, e.g. after setting a cookie: bounded by the limit */
    if (added <= 0) {
        if (added < 0)
            c->oom = true;
        fail_target(c, t, 502, "%.200s redirects to %.200s, %s", t->url, next,
                    added < 0 ? "out of memory" : "which is already fetched (loop)");
        free(next);
        return;
    }
    log_debug("web crawl: %s -> HTTP %ld -> %s", t->url, code, next);
    free(t->url);
    t->url = next;
    t->redirects++;
    enqueue(c, t);
}

static void on_too_many_requests(struct crawler *c, struct target *t, CURL *easy)
{
    struct curl_header *h = NULL;
    const char *value = NULL;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        value = h->value;
    long long wait = retry_after_seconds(value, time(NULL));   /* <= 10^8 s: no overflow */
    wait = wait < 0 ? 1000ll << (t->retries < 5 ? t->retries : 5) : wait * 1000;
    long long now = mono_ms();
    if (t->retries >= CRAWL_MAX_429_RETRIES) {
        fail_target(c, t, 503, "%.200s answered HTTP 429 (too many requests) %u times",
                    t->url, t->retries + 1);
        return;
    }
    if (now + wait >= c->deadline_ms) {
        fail_target(c, t, 503, "%.200s answered HTTP 429 (too many requests) and the retry "
                    "after %lld ms would pass the job deadline", t->url, wait);
        return;
    }
    log_debug("web crawl: %s -> HTTP 429, retry in %lld ms", t->url, wait);
    t->retries++;
    t->not_before_ms = now + wait;
    enqueue(c, t);
}

/* Binary content served under an HTML type: NUL bytes or a well-known magic number. */
static bool looks_binary(const char *b, size_t len)
{
    static const struct { const char *magic; size_t len; } magics[] = {
        { "\x89PNG", 4 }, { "%PDF", 4 }, { "GIF8", 4 }, { "\xff\xd8\xff", 3 }, { "PK\x03\x04", 4 },
        { "\x1f\x8b", 2 }, { "\x7f" "ELF", 4 },
    };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (len >= magics[i].len && memcmp(b, magics[i].magic, magics[i].len) == 0)
            return true;
    return memchr(b, '\0', len < 1024 ? len : 1024) != NULL;
}

/* charset=... of a Content-Type, copied into out (empty when absent). */
static void content_charset(const char *ctype, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *p = ctype ? strcasestr(ctype, "charset=") : NULL;
    if (!p)
        return;
    p += 8;
    if (*p == '"' || *p == '\'')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ';' && p[n] != '"' && p[n] != '\'' && p[n] != ' ' && n + 1 < outlen)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void on_page(struct crawler *c, struct target *t, struct transfer *x)
{
    char *ctype = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
    if (!x->checked)
        keep_body(x);       /* no body bytes came: the type alone decides (sets not_html) */
    const char *body = x->body ? x->body : "";      /* an empty HTML page is an empty page */
    if (x->not_html || looks_binary(body, x->len)) {
        if (t->page == 0) {
            fail_target(c, t, 502, "%.200s is not an HTML page (Content-Type %.80s)", t->url,
                        ctype ? ctype : "absent");
        } else {
            c->r->skipped++;
            log_debug("web crawl: %s is not HTML (%s)", t->url, ctype ? ctype : "no type");
            free_target(t);
        }
        return;
    }
    if (x->truncated)
        log_debug("web crawl: %s is larger than %zu bytes; parsed the first %zu", t->url, x->max,
                  x->len);
    char charset[48];
    content_charset(ctype, charset, sizeof charset);
    if (web_extract(body, x->len, charset[0] ? charset : NULL, t->url,
                    &c->r->pages[t->page]) < 0) {
        c->oom = true;
        fail_target(c, t, 500, "out of memory while parsing %.200s", t->url);
        return;
    }
    if (c->r->pages[t->page].cut)
        log_debug("web crawl: %s: extraction stopped at the output bound of %zu bytes", t->url,
                  web_output_budget(x->len));
    c->r->fetched++;
    if (t->page == 0)
        c->start_done = true;
    free_target(t);
}

static void finish_transfer(struct crawler *c, struct transfer *x, CURLcode res)
{
    struct target *t = x->t;
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (x->guard.refused) {
        fail_target(c, t, 403, "refused to fetch %.200s: its address %s is private, loopback, "
                    "link-local or reserved", t->url, x->guard.refused_addr);
    } else if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && x->stopped)) {
        fail_target(c, t, res == CURLE_OPERATION_TIMEDOUT ? 504 : 502, "fetching %.200s: %s",
                    t->url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    } else if (code >= 300 && code < 400 && code != 304) {
        on_redirect(c, t, x->easy, code);
    } else if (code == 429) {
        on_too_many_requests(c, t, x->easy);
    } else if (!status_ok(code)) {
        fail_target(c, t, 502, "%.200s answered HTTP %ld", t->url, code);
    } else {
        on_page(c, t, x);
    }
    x->t = NULL;                /* the outcome above consumed the target */
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void drain_done(struct crawler *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        struct transfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        finish_transfer(c, x, res);
        release_transfer(c, x);
    }
}

/* The deadline passed: everything in flight or pending fails. */
static void cut_at_deadline(struct crawler *c)
{
    c->r->timed_out = true;
    while (c->active) {
        struct transfer *x = c->active;
        fail_target(c, x->t, 504, "%.200s was not fetched before the job deadline", x->t->url);
        x->t = NULL;
        release_transfer(c, x);
    }
    for (size_t i = 0; i < c->pending_count; i++)
        fail_target(c, c->pending[i], 504, "%.200s was not fetched before the job deadline",
                    c->pending[i]->url);
    c->pending_count = 0;
}

/* Runs until nothing of the current level is pending or in flight. */
static void run_level(struct crawler *c)
{
    while ((c->pending_count || c->inflight) && !c->oom) {
        long long now = mono_ms();
        if (now >= c->deadline_ms) {
            cut_at_deadline(c);
            return;
        }
        start_ready(c, now);
        int running = 0;
        curl_multi_perform(c->multi, &running);
        drain_done(c);
        if (!c->pending_count && !c->inflight)
            break;
        now = mono_ms();
        long long wait = next_wake(c, now);
        if (wait > 0)
            curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
    }
}

/* Admits the links of pages [from, to) in order while the page budget lasts. */
static void admit_links(struct crawler *c, size_t from, size_t to)
{
    for (size_t p = from; p < to && !c->oom; p++) {
        for (size_t i = 0; i < c->r->pages[p].links.count && !c->oom; i++) {
            if (c->r->page_count >= c->o->max_pages)
                return;
            admit(c, c->r->pages[p].links.items[i]);   /* a page already visited is skipped */
        }
    }
}

static void crawler_free(struct crawler *c)
{
    while (c->active) {
        struct transfer *x = c->active;
        free_target(x->t);
        x->t = NULL;
        release_transfer(c, x);
    }
    for (size_t i = 0; i < c->pending_count; i++)
        free_target(c->pending[i]);
    free(c->pending);
    for (size_t i = 0; i < c->host_count; i++) {
        free(c->hosts[i]->name);
        free(c->hosts[i]);
    }
    free(c->hosts);
    visited_clear(&c->visited);
    curl_slist_free_all(c->headers);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->share)
        curl_share_cleanup(c->share);
}

static int crawler_init(struct crawler *c)
{
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    c->headers = curl_slist_append(NULL, "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.5");
    if (!c->multi || !c->share || !c->headers ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK)
        return -1;
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->o->host_concurrency);
    return 0;
}

int crawl_run(const struct crawl_options *o, struct crawl_result *r, struct err *e)
{
    struct crawler c = { .o = o, .r = r, .e = e, .deadline_ms = timespec_ms(&o->deadline) };
    int rc = -1;
    if (crawler_init(&c) < 0) {
        err_set(e, 500, "out of memory while starting the crawl");
        goto out;
    }
    admit(&c, o->start_url);
    size_t level_from = 0;
    for (unsigned depth = 1; !c.oom; depth++) {
        size_t level_to = r->page_count;
        run_level(&c);
        if (c.start_failed || c.oom || r->timed_out || depth >= o->max_depth)
            break;
        admit_links(&c, level_from, level_to);
        level_from = level_to;
        if (level_from == r->page_count)
            break;
    }
    if (c.oom && !c.start_failed)
        err_set(e, 500, "out of memory during the crawl");
    else if (!c.start_failed && !c.start_done)
        err_set(e, 504, "%.200s was not fetched before the job deadline", o->start_url);
    else
        rc = c.start_failed ? -1 : 0;
out:
    crawler_free(&c);
    return rc;
}

void crawl_result_clear(struct crawl_result *r)
{
    for (size_t i = 0; i < r->page_count; i++)
        web_page_clear(&r->pages[i]);
    free(r->pages);
    memset(r, 0, sizeof *r);
}
