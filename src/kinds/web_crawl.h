/* web_crawl.h - the crawler behind the `web` job: concurrent fetches on one libcurl multi handle.
 *
 * Breadth-first, level by level: the start page is depth 1, the http(s) links of depth-d pages
 * are fetched at depth d+1 while d+1 <= max_depth. Each URL is fetched at most once per job (the
 * visited set holds the visit keys of the URLs, redirect targets included: crawl_visit_key, so
 * http://Example.COM./a, http://example.com:80/a and http://example.com/a#top are one page, fetched
 * under the first spelling met), which also makes the page set
 * deterministic: a page's depth is its shortest distance from the start. Results come back in
 * that order (level by level, then discovery order within a level), whatever order the
 * responses arrived in.
 *
 * Limits: max_pages fetches per job; host_concurrency transfers in flight per host (and
 * CRAWL_MAX_INFLIGHT overall); delay_ms between two starts on one host (a host's name in any
 * case, with or without the root label's trailing dot, is one host); max_page_bytes of
 * decoded body per page (the transfer is cut there and the prefix is parsed); the deadline cuts
 * everything still running. Redirects are followed by hand (at most CRAWL_MAX_REDIRECTS), each
 * target checked like a fresh URL: http(s) only, host not blacklisted, address public (unless
 * allow_private; see net/addr_policy.h). HTTP 429 is retried after Retry-After (net/retry_after.h;
 * an exponential back-off when absent) when that is still before the deadline. Only 2xx
 * responses whose Content-Type mentions "html" and whose first bytes are not binary are parsed;
 * such a response with an empty body is an empty page (parsed, nothing found), not a failure.
 *
 * A host name written in Unicode (bücher.example, or percent-escaped), in the start URL, a link
 * or a redirect, is fetched under its ASCII form (xn--bcher-kva.example; net/idn.h), as Go's
 * net/http does: that form is what is fetched, checked against the blacklist and the address
 * policy, named in errors and kept in the visited set (so both spellings are one page); the
 * links listed in the result stay as the page wrote them. A host with no ASCII form (invalid
 * IDNA) fails with CRAWL_IDN_INVALID and libidn2's reason. libcurl is never given a non-ASCII
 * host: its own conversion depends on the locale and fails in the C locale the worker runs in.
 *
 * The start page decides the outcome: if it fails (refused, transport error, non-2xx, not HTML,
 * deadline) the crawl returns an error naming the reason; failures of deeper pages are only
 * counted. */
#ifndef TW_WEB_CRAWL_H
#define TW_WEB_CRAWL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "kinds/web_extract.h"

#define CRAWL_MAX_INFLIGHT 16
#define CRAWL_MAX_REDIRECTS 5
#define CRAWL_MAX_429_RETRIES 8

struct str_list;

struct crawl_options {
    const char *start_url;            /* absolute http(s) URL */
    unsigned max_depth;               /* >= 1 */
    unsigned max_pages;               /* >= 1 */
    unsigned host_concurrency;        /* >= 1 */
    unsigned delay_ms;
    size_t max_page_bytes;
    bool allow_private;
    const struct str_list *blacklist; /* may be NULL */
    struct timespec deadline;         /* CLOCK_MONOTONIC */
    const char *user_agent;           /* may be NULL */
};

struct crawl_result {
    struct web_page *pages;           /* page_count entries, crawl order; failed pages are empty */
    size_t page_count;
    size_t fetched;                   /* pages parsed */
    size_t failed;                    /* pages refused or failed (after the start page) */
    size_t skipped;                   /* pages that were not HTML */
    bool timed_out;                   /* the deadline cut the crawl */
};

/* crawl_run crawls from o->start_url. Returns 0 (the start page was parsed; *r holds the pages),
 * or -1 with e set (start page failed: 400 when refused by policy, 502 upstream failure, 504
 * deadline, 500 OOM). *r must be zeroed first and is always safe to clear. */
int crawl_run(const struct crawl_options *o, struct crawl_result *r, struct err *e);

void crawl_result_clear(struct crawl_result *r);

/* crawl_ascii_url parses url (absolute) with libcurl's URL API and curlu_flags, puts its host in
 * ASCII form when it is not (net/idn.h), and gives the URL as libcurl writes it back (a new
 * string; free()). Returns 0 with *out; 1 when url does not parse or has no host (*out NULL);
 * -1 when the host has no ASCII form (*why: the reason, static text); -2 out of memory. */
int crawl_ascii_url(const char *url, unsigned curlu_flags, char **out, const char **why);

/* crawl_visit_key gives the spelling of url under which the crawl remembers it was visited (a new
 * string; free()), NULL out of memory: url as libcurl writes it back (scheme in lower case, an
 * empty path as "/"), with its host in lower case and without the root label's trailing dot, the
 * default port of its scheme (80 for http, 443 for https) dropped and no fragment. A url libcurl
 * cannot parse is its own key. The host is taken as it is: pass the ASCII form of a Unicode host
 * (crawl_ascii_url). */
char *crawl_visit_key(const char *url);

#define CRAWL_IDN_INVALID "invalid internationalized host name"

#endif
