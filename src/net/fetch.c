/* fetch.c - one bounded outbound HTTP exchange on a libcurl easy handle (see fetch.h).
 *
 * A handle per call keeps calls independent across job threads (no shared state but libcurl's
 * global init). The body is collected up to max_response_bytes; one byte more aborts the transfer
 * (write callback returns short) and the call fails with 502 instead of returning a cut body.
 * Only http and https are allowed, for the request and for redirects. With redirects_public_only,
 * a hop never reuses a connection and its address goes through the address policy in curl's
 * open-socket callback, so an upstream cannot send the worker to its own private network; such a
 * call ignores the proxy of the environment (http_proxy...), whose address the policy would judge
 * instead of the hop's. Other calls honour it, as Go's clients do. */
#include "net/fetch.h"
#include "net/addr_policy.h"
#include "net/curl_lazy.h"
#include "util/crypto.h"
#include "util/growbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#ifndef TW_VERSION
#define TW_VERSION "dev"
#endif

struct sink {
    struct growbuf buf;
    size_t max;
    bool overflow;
};

struct capture {
    struct sink *body;
    struct fetch_response *resp;
};

void fetch_global_cleanup(void)
{
    curl_lazy_cleanup();
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (n > s->max - s->buf.len) {
        s->overflow = true;
        return 0;
    }
    return growbuf_append(&s->buf, data, n, 4096) == 0 ? n : 0;
}

/* header_value returns a new copy of the value of line if it is header `name`, else NULL. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return strndup(v, (size_t)(end - v));
}

/* add_set_cookie appends one Set-Cookie value to resp->set_cookies (one per line). The values
 * are credentials (a login's session cookies): the list grows into a new block and the old one
 * is wiped, where realloc would leave it in freed memory. */
static void add_set_cookie(struct fetch_response *resp, const char *v)
{
    size_t len = strlen(v), have = resp->set_cookies ? strlen(resp->set_cookies) : 0;
    if (len == 0 || strchr(v, '\n') || have + len + 2 > FETCH_MAX_SET_COOKIE_BYTES)
        return;
    char *grown = malloc(have + len + 2);
    if (!grown)
        return;
    memcpy(grown, resp->set_cookies ? resp->set_cookies : "", have);
    memcpy(grown + have, v, len);
    grown[have + len] = '\n';
    grown[have + len + 1] = '\0';
    crypto_free_text(resp->set_cookies);
    resp->set_cookies = grown;
}

/* forget_hop_headers drops the single-valued headers read so far: a new status line starts the
 * next hop's answer, and the response reports the final answer's headers only (a redirect's
 * Retry-After or Content-Type does not stand for an answer without one). Set-Cookie values are
 * kept: a hop's cookies are still set. */
static void forget_hop_headers(struct fetch_response *resp)
{
    char **fields[] = { &resp->content_type, &resp->retry_after, &resp->rate_limit_reset,
                        &resp->rate_limit_remaining };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct fetch_response *resp = userdata;
    size_t n = size * nmemb;
    char *v;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        forget_hop_headers(resp);
    } else if ((v = header_value(data, n, "Content-Type"))) {
        free(resp->content_type);
        resp->content_type = v;
    } else if ((v = header_value(data, n, "Retry-After"))) {
        free(resp->retry_after);
        resp->retry_after = v;
    } else if ((v = header_value(data, n, "x-rate-limit-reset"))) {
        free(resp->rate_limit_reset);
        resp->rate_limit_reset = v;
    } else if ((v = header_value(data, n, "x-rate-limit-remaining"))) {
        free(resp->rate_limit_remaining);
        resp->rate_limit_remaining = v;
    } else if ((v = header_value(data, n, "Set-Cookie"))) {
        add_set_cookie(resp, v);
        crypto_free_text(v);
    }
    return n;
}

static struct curl_slist *build_headers(const char *const *headers)
{
    struct curl_slist *list = NULL;
    for (const char *const *h = headers; h && *h; h++) {
        struct curl_slist *next = curl_slist_append(list, *h);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    /* no "Expect: 100-continue" round trip for POST bodies */
    struct curl_slist *next = curl_slist_append(list, "Expect:");
    if (!next)
        curl_slist_free_all(list);
    return next;
}

/* on_progress asks req->stop whether to go on (libcurl calls it as data comes, and about once a
 * second while none does); non-zero abandons the transfer. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const struct fetch_request *req = userp;
    return req->stop(req->stop_ctx) ? 1 : 0;
}

static void set_options(CURL *c, const struct fetch_request *req, struct curl_slist *headers,
                        struct sink *body, struct fetch_response *resp)
{
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "tee-worker/" TW_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    if (req->stop) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") == 0)
            curl_easy_setopt(c, CURLOPT_POST, 1L);
        else
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    }
}

/* host_of writes the host of url into out for error messages ("" when it cannot be parsed). */
static void host_of(const char *url, char *out, size_t outlen)
{
    out[0] = '\0';
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        snprintf(out, outlen, "%s", host);
    curl_free(host);
    curl_url_cleanup(u);
}

int fetch_do(const struct fetch_request *req, struct fetch_response *resp, struct err *e)
{
    memset(resp, 0, sizeof *resp);
    if (!req->url || req->timeout_ms <= 0)
        return err_set(e, 504, "no time left for the request");
    struct sink body = { .max = req->max_response_bytes ? req->max_response_bytes
                                                        : FETCH_DEFAULT_MAX_BYTES };
    CURL *c = curl_easy_init();
    struct curl_slist *headers = build_headers(req->headers);
    if (!c || !headers) {
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        return err_set(e, 500, "out of memory");
    }
    set_options(c, req, headers, &body, resp);
    struct addr_policy_guard guard = { .hops_of = c };
    CURLcode rc = CURLE_OK;
    if (req->follow_redirects && req->redirects_public_only) {
        rc = curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);   /* every hop connects anew */
        if (rc == CURLE_OK)     /* to the hop itself: no proxy from the environment in between */
            rc = curl_easy_setopt(c, CURLOPT_PROXY, "");
        if (rc == CURLE_OK)
            rc = addr_policy_install(c, &guard);
    }
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);

    char host[256];
    int result = 0;
    if (body.overflow) {
        result = err_set(e, 502, "response larger than %zu bytes", body.max);
    } else if (guard.refused) {
        result = err_set(e, 502, "redirected to %s, which is not a public address",
                         guard.refused_addr);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        host_of(req->url, host, sizeof host);
        result = err_set(e, 504, "%s: request timed out after %ld ms", host, req->timeout_ms);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        host_of(req->url, host, sizeof host);
        result = err_set(e, 503, "%s: request abandoned", host);
    } else if (rc != CURLE_OK) {
        host_of(req->url, host, sizeof host);
        result = err_set(e, 502, "%s: %s", host, curl_easy_strerror(rc));
    }
    if (result < 0) {
        free(body.buf.data);
        fetch_response_clear(resp);
        resp->status = 0;
        return -1;
    }
    resp->body = body.buf.data ? body.buf.data : strdup("");
    resp->body_len = body.buf.len;
    if (!resp->body)
        return err_set(e, 500, "out of memory");
    return 0;
}

void fetch_response_clear(struct fetch_response *resp)
{
    free(resp->body);
    free(resp->content_type);
    free(resp->retry_after);
    free(resp->rate_limit_reset);
    free(resp->rate_limit_remaining);
    crypto_free_text(resp->set_cookies);
    memset(resp, 0, sizeof *resp);
}

char *fetch_url_escape(const char *s)
{
    char *escaped = curl_easy_escape(NULL, s, 0);
    char *copy = escaped ? strdup(escaped) : NULL;
    curl_free(escaped);
    return copy;
}
