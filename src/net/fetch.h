/* fetch.h - one outbound HTTP request with libcurl, bounded in size and time.
 *
 * Every job kind that calls an upstream API (Apify, the TikTok transcription service, X) goes
 * through here: the response body is capped (the transfer is cut, not truncated silently), the
 * whole exchange has a deadline (the caller passes what is left of the job's), TLS is verified,
 * redirects are not followed unless asked. Transport failures come back as a struct err with
 * 502 (upstream unreachable or broken) or 504 (deadline), with curl's reason in the message. */
#ifndef TW_FETCH_H
#define TW_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define FETCH_DEFAULT_MAX_BYTES (8u * 1024 * 1024)

struct fetch_request {
    const char *method;              /* NULL = "GET" (or "POST" when body != NULL) */
    const char *url;
    const char *const *headers;      /* NULL-terminated "Name: value" lines, may be NULL */
    const char *body;                /* request body or NULL */
    size_t body_len;
    size_t max_response_bytes;       /* 0 = FETCH_DEFAULT_MAX_BYTES */
    long timeout_ms;                 /* whole exchange; must be > 0 */
    const char *user_agent;          /* NULL = "tee-worker/<version>" */
    bool follow_redirects;           /* at most 5, http(s) only */
    bool redirects_public_only;      /* with follow_redirects: each hop makes a new connection,
                                      * and only to a public address (net/addr_policy.h); the
                                      * first request's address is not checked; no proxy
                                      * from the environment (http_proxy...) is used */
    bool (*stop)(void *ctx);         /* may be NULL; else asked as data comes and about once a
                                      * second while none does: true abandons the call (503) */
    void *stop_ctx;
};

struct fetch_response {
    long status;                     /* HTTP status (0 when no response) */
    char *body;                      /* NUL-terminated, body_len bytes; owned */
    size_t body_len;
    char *content_type;              /* owned, may be NULL */
    char *retry_after;               /* the Retry-After header, owned, may be NULL */
    char *rate_limit_reset;          /* the x-rate-limit-reset header (X API), owned, may be NULL */
    char *rate_limit_remaining;      /* the x-rate-limit-remaining header, owned, may be NULL */
    char *set_cookies;               /* the Set-Cookie header values, one per line (at most
                                      * FETCH_MAX_SET_COOKIE_BYTES in all), owned, may be NULL */
};

#define FETCH_MAX_SET_COOKIE_BYTES 16384

/* fetch_global_cleanup releases libcurl's global state if anything in the process ever used
 * libcurl (it is opened, and initialised, on first use: net/curl_lazy.h); otherwise it does
 * nothing. Call once at exit, after every thread that fetched has stopped. */
void fetch_global_cleanup(void);

/* fetch_do performs req. Returns 0 when a response was received (any status; the caller judges
 * it), or -1 with e set: 504 "<what> timed out after N ms", 503 "<url host>: request abandoned"
 * (req->stop said so), 502 "<url host>: <curl reason>",
 * 502 "response larger than N bytes", 502 "redirected to <address>, which is not a public
 * address" (redirects_public_only). resp is always safe to clear. */
int fetch_do(const struct fetch_request *req, struct fetch_response *resp, struct err *e);

void fetch_response_clear(struct fetch_response *resp);

/* fetch_url_escape returns a new percent-encoded copy of s (caller frees), NULL on OOM. */
char *fetch_url_escape(const char *s);

#endif
