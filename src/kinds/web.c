/* web.c - the `web` job kind: crawl a site from a start URL and return its sections and links
 * (jobs-and-capabilities.md 2.1, 3.1, 5; DECISIONS.md "Web").
 *
 * Arguments are read the way Go decodes them: keys match case-insensitively (among several
 * spellings the byte-wise greatest, i.e. the most lower-case one, wins), null is absent, unknown
 * keys (`selector`, `type`, ...) are ignored, integers may be written 2.0 but not 2.5 or "2".
 * `url` is required and must be an absolute http(s) URL with a host; a host written in Unicode
 * must have an ASCII form (net/idn.h), which is what is fetched and checked against the
 * blacklist (web_crawl.h). Depth: `max_depth` wins when it is > 0, else `depth` when > 0, else 1
 * (the start page only); values above WEBSCRAPER_MAX_DEPTH are clamped to it (validate cannot
 * see the configuration, so this is not a 400). Invalid arguments are refused by validate (400
 * at /job/generate and /job/add) with Go's message chain; a job that still reaches run with bad
 * arguments fails the same way.
 *
 * Stats: web_invalid +1 for bad arguments or a blacklisted start URL; web_errors +1 when the
 * start page fails (refused address, transport error, HTTP error, not HTML, deadline);
 * web_success +1 otherwise. Deeper pages that fail are skipped and counted in the log line. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "jobs/stats.h"
#include "kinds/go_args.h"
#include "kinds/web_crawl.h"
#include "log.h"
#include "net/addr_policy.h"
#include "net/idn.h"
#include "util/json_out.h"
#include "util/url_scheme.h"
#include "util/utf8.h"

#ifndef TW_VERSION
#define TW_VERSION ""
#endif

#define WEB_ARG_PREFIX "Invalid arguments: failed to unmarshal web job arguments: " \
                       "failed to unmarshal arguments: "
#define WEB_DECODE_PREFIX WEB_ARG_PREFIX "failed to unmarshal Web arguments: "
#define WEB_USER_AGENT "Mozilla/5.0 (compatible; tee-worker/" TW_VERSION "; web scraper)"

static const char *const web_capabilities[] = { "scraper", NULL };

struct web_args {
    const char *url;        /* borrowed from the arguments object */
    long long max_depth;
    long long depth;
};

static const char *json_kind_name(const json_t *v)
{
    if (json_is_string(v))
        return "string";
    if (json_is_boolean(v))
        return "bool";
    if (json_is_array(v))
        return "array";
    if (json_is_object(v))
        return "object";
    return "number";
}

static int read_int(const json_t *args, const char *name, long long *out, struct err *e)
{
    const json_t *v = go_arg_member(args, name);
    *out = 0;
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (long long)d;
            return 0;
        }
        return err_set(e, 400, WEB_DECODE_PREFIX "json: cannot unmarshal number %g into Go struct "
                       "field .%s of type int", d, name);
    }
    return err_set(e, 400, WEB_DECODE_PREFIX "json: cannot unmarshal %s into Go struct field .%s "
                   "of type int", json_kind_name(v), name);
}

/* How the start URL is parsed: like Go's url.Parse, spaces (and other bytes a URL may not hold
 * as such) are taken in the path and query and sent escaped, as in links (web_extract.c). */
#define URL_PARSE_FLAGS CURLU_URLENCODE

/* The start URL as it is fetched (escaped by URL_PARSE_FLAGS, host in ASCII form: web_crawl.h).
 * Returns 0 with *out (free()), or -1 with e set. */
static int fetch_url_of(const char *url, char **out, struct err *e)
{
    const char *why = NULL;
    int rc = crawl_ascii_url(url, URL_PARSE_FLAGS, out, &why);
    if (rc == -1)          /* web_args_parse checked it: not reached */
        return err_set(e, 400, WEB_ARG_PREFIX "invalid URL format: parse \"%.*s\": "
                       CRAWL_IDN_INVALID " (%s)", utf8_print_len(url, 120), url, why);
    if (rc != 0)
        return err_set(e, 500, "out of memory");
    return 0;
}

static int check_url(const char *url, struct err *e)
{
    size_t sl = url_scheme_len(url);
    if (!sl)
        return err_set(e, 400, WEB_ARG_PREFIX "URL must include a scheme (http:// or https://)");
    if (!((sl == 4 && strncasecmp(url, "http", 4) == 0) ||
          (sl == 5 && strncasecmp(url, "https", 5) == 0)))
        return err_set(e, 400, WEB_ARG_PREFIX "URL scheme must be http or https, got \"%.*s\"",
                       (int)(sl < 32 ? sl : 32), url);
    CURLU *u = curl_url();
    if (!u)
        return err_set(e, 500, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, URL_PARSE_FLAGS);
    char *host = NULL;
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    bool has_host = host && *host;
    /* a host written in Unicode needs an ASCII form (no libidn2 for an ASCII one) */
    char ascii[IDN_HOST_MAX];
    const char *why = NULL;
    int idn = has_host && !idn_is_ascii(host) ? idn_host_to_ascii(host, ascii, &why) : 0;
    curl_free(host);
    if (idn == -2)
        return err_set(e, 500, "out of memory");
    if (uc != CURLUE_OK || !has_host)
        return err_set(e, 400, WEB_ARG_PREFIX "invalid URL format: parse \"%.*s\": %s",
                       utf8_print_len(url, 120), url,
                       uc != CURLUE_OK ? curl_url_strerror(uc) : "missing host");
    if (idn < 0)
        return err_set(e, 400, WEB_ARG_PREFIX "invalid URL format: parse \"%.*s\": "
                       CRAWL_IDN_INVALID " (%s)", utf8_print_len(url, 120), url, why);
    return 0;
}

static int web_args_parse(const json_t *args, struct web_args *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (args && !json_is_object(args))
        return err_set(e, 400, WEB_DECODE_PREFIX "json: cannot unmarshal %s into Go value of "
                       "type map[string]interface {}", json_kind_name(args));
    const json_t *url = go_arg_member(args, "url");
    if (url && !json_is_string(url))
        return err_set(e, 400, WEB_DECODE_PREFIX "json: cannot unmarshal %s into Go struct field "
                       ".url of type string", json_kind_name(url));
    if (args && (read_int(args, "max_depth", &out->max_depth, e) < 0 ||
                 read_int(args, "depth", &out->depth, e) < 0))
        return -1;
    out->url = url ? json_string_value(url) : "";
    if (!*out->url)
        return err_set(e, 400, WEB_ARG_PREFIX "url is required");
    if (go_arg_has_nul(url))
        return err_set(e, 400, WEB_ARG_PREFIX "invalid URL format: the URL contains a NUL byte");
    if (check_url(out->url, e) < 0)
        return -1;
    if (out->max_depth < 0)
        return err_set(e, 400, WEB_ARG_PREFIX "max_depth must be non-negative, got: %lld",
                       out->max_depth);
    if (out->depth < 0)
        return err_set(e, 400, WEB_ARG_PREFIX "depth must be non-negative, got: %lld", out->depth);
    return 0;
}

static int web_validate(const json_t *arguments, struct err *e)
{
    struct web_args a;
    return web_args_parse(arguments, &a, e);
}

static unsigned effective_depth(const struct web_args *a, unsigned cap)
{
    long long d = a->max_depth > 0 ? a->max_depth : a->depth > 0 ? a->depth : 1;
    return d > (long long)cap ? cap : (unsigned)d;
}

/* ---- result ------------------------------------------------------------------------------- */

/* The result is written as JSON text directly (util/json_out.h: the bytes Go's encoding/json
 * writes for the same document), not built as a jansson tree first: for a few hundred pages the tree
 * and its dump together were several times the size of the text, at the crawl's peak. */

/* A JSON array of the strings of v, or null when v is empty. */
static int put_string_array_or_null(struct growbuf *b, const struct strvec *v)
{
    if (v->count == 0)
        return json_out_raw(b, "null", 4);
    int bad = json_out_raw(b, "[", 1);
    for (size_t i = 0; i < v->count && !bad; i++)
        bad |= (i ? json_out_raw(b, ",", 1) : 0) |
               json_out_string(b, v->items[i], strlen(v->items[i]));
    return bad | json_out_raw(b, "]", 1);
}

static int put_section(struct growbuf *b, const struct web_section *s)
{
    if (!s->title)
        return -1;      /* as json_string(NULL) failed */
    return json_out_raw(b, "{\"title\":", 9) | json_out_string(b, s->title, strlen(s->title)) |
           json_out_raw(b, ",\"paragraphs\":", 14) | put_string_array_or_null(b, &s->paragraphs) |
           json_out_raw(b, ",\"images\":", 10) | put_string_array_or_null(b, &s->images) |
           json_out_raw(b, "}", 1);
}

/* CollectedData (jobs-and-capabilities.md 3.1) from the crawled pages, in crawl order:
 * {"sections": [...] or null, "pages": [links...] or null}. Sections and links are written into
 * two buffers as each page is read, and each page is freed once written. NULL on OOM. (A text
 * that is not valid UTF-8 has each stray byte written as \ufffd, as Go writes it.) */
static char *collected_data(struct crawl_result *r, size_t *len)
{
    struct growbuf doc = { 0 }, links = { 0 };
    size_t sections = 0, link_count = 0;
    int bad = json_out_raw(&doc, "{\"sections\":[", 13) | json_out_raw(&links, "[", 1);
    for (size_t p = 0; p < r->page_count; p++) {
        struct web_page *page = &r->pages[p];
        for (size_t i = 0; !bad && i < page->section_count; i++)
            bad |= (sections++ ? json_out_raw(&doc, ",", 1) : 0) |
                   put_section(&doc, &page->sections[i]);
        for (size_t i = 0; !bad && i < page->links.count; i++)
            bad |= (link_count++ ? json_out_raw(&links, ",", 1) : 0) |
                   json_out_string(&links, page->links.items[i], strlen(page->links.items[i]));
        web_page_clear(page);
    }
    if (!bad && sections == 0) {
        doc.len = 0;
        bad |= json_out_raw(&doc, "{\"sections\":null", 16);
    } else {
        bad |= json_out_raw(&doc, "]", 1);
    }
    bad |= json_out_raw(&doc, ",\"pages\":", 9);
    bad |= link_count ? json_out_raw(&doc, links.data, links.len) | json_out_raw(&doc, "]", 1)
                      : json_out_raw(&doc, "null", 4);
    bad |= json_out_raw(&doc, "}", 1);
    free(links.data);
    if (bad) {
        free(doc.data);
        return NULL;
    }
    *len = doc.len;
    return doc.data;
}

/* ---- run ---------------------------------------------------------------------------------- */

static void crawl_deadline(const struct job_ctx *ctx, struct timespec *out)
{
    long remaining = job_ctx_remaining_ms(ctx);
    long margin = remaining / 10 < 1000 ? remaining / 10 : 1000;   /* time to build the result */
    long ms = remaining - margin;
    clock_gettime(CLOCK_MONOTONIC, out);
    out->tv_sec += ms / 1000;
    out->tv_nsec += (ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

static bool start_url_blacklisted(const struct config *cfg, const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, URL_PARSE_FLAGS) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    bool hit = host && addr_policy_host_blacklisted(&cfg->webscraper_blacklist, host, NULL);
    curl_free(host);
    return hit;
}

static int web_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    const struct config *cfg = ctx->cfg;
    struct web_args a;
    if (web_args_parse(job->arguments, &a, &out->err) < 0) {
        stats_add(ctx->stats, job->worker_id, "web_invalid", 1);
        return -1;
    }
    char *start = NULL;
    if (fetch_url_of(a.url, &start, &out->err) < 0) {
        if (out->err.http == 400)
            stats_add(ctx->stats, job->worker_id, "web_invalid", 1);
        return -1;
    }
    if (start_url_blacklisted(cfg, start)) {      /* its host in ASCII form: either spelling */
        free(start);
        stats_add(ctx->stats, job->worker_id, "web_invalid", 1);
        return err_set(&out->err, 400, "URL blacklisted: %.*s", utf8_print_len(a.url, 200),
                       a.url);
    }
    struct crawl_options o = {
        .start_url = start,
        .max_depth = effective_depth(&a, cfg->webscraper_max_depth),
        .max_pages = cfg->webscraper_max_pages,
        .host_concurrency = cfg->webscraper_host_concurrency,
        .delay_ms = cfg->webscraper_delay_ms,
        .max_page_bytes = cfg->webscraper_max_page_bytes,
        .allow_private = cfg->webscraper_allow_private,
        .blacklist = &cfg->webscraper_blacklist,
        .user_agent = WEB_USER_AGENT,
    };
    crawl_deadline(ctx, &o.deadline);
    struct crawl_result r = { 0 };
    int crawled = crawl_run(&o, &r, &out->err);
    free(start);
    if (crawled < 0) {
        stats_add(ctx->stats, job->worker_id, "web_errors", 1);
        crawl_result_clear(&r);
        return -1;
    }
    /* The URL is the client's: at debug level only (the host reads an enclave's logs). */
    log_debug("web job %s: depth %u", a.url, o.max_depth);
    log_info("web job: depth %u, %zu pages parsed, %zu failed, %zu not HTML%s", o.max_depth,
             r.fetched, r.failed, r.skipped, r.timed_out ? ", cut by the deadline" : "");
    size_t len = 0;
    char *doc = collected_data(&r, &len);
    crawl_result_clear(&r);
    /* The parsed pages were thousands of small blocks in this thread's arena, now free but still
     * resident; give those pages back before the result is stored and sealed (peak -0.6 MB). */
    malloc_trim(0);
    if (!doc)
        return err_set(&out->err, 500, "out of memory while building the web result");
    free(out->data);
    out->data = doc;
    out->data_len = len;
    stats_add(ctx->stats, job->worker_id, "web_success", 1);
    return 0;
}

const struct job_kind web_kind = {
    .type = "web",
    .capabilities = web_capabilities,
    .available = NULL,
    .validate = web_validate,
    .run = web_run,
};
