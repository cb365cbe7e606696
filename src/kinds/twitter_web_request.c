/* twitter_web_request.c - the credential backend's request envelope and answer classification
 * (see twitter_web_request.h). */
#include "kinds/twitter_web_request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "jobs/kind.h"
#include "kinds/twitter_txid.h"
#include "log.h"
#include "net/fetch.h"
#include "util/crypto.h"
#include "util/json_cost.h"
#include "util/utf8.h"

#include <curl/curl.h>

#define MAX_HEADERS 24

static char *compact(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
}

/* append_param adds "&name=<escaped json>" (or "?name=" first) to *url. */
static int append_param(char **url, const char *name, const json_t *v)
{
    if (!v)
        return 0;
    char *text = compact(v), *esc = text ? fetch_url_escape(text) : NULL, *next = NULL;
    int rc = -1;
    if (esc && asprintf(&next, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', name, esc) >= 0) {
        free(*url);
        *url = next;
        rc = 0;
    }
    free(esc);
    free(text);
    return rc;
}

char *tw_web_graphql_url(const struct config *cfg, const char *id, const char *name, bool post,
                         const json_t *variables, const json_t *features,
                         const json_t *field_toggles, char **body)
{
    char *url = NULL;
    *body = NULL;
    if (asprintf(&url, "%s/%s/%s", cfg->twitter_graphql_base, id, name) < 0)
        return NULL;
    if (post) {
        json_t *doc = json_object();
        if (doc) {
            if (variables)
                json_object_set(doc, "variables", (json_t *)variables);
            if (features)
                json_object_set(doc, "features", (json_t *)features);
            if (field_toggles)
                json_object_set(doc, "fieldToggles", (json_t *)field_toggles);
            json_object_set_new(doc, "queryId", json_string(id));
            *body = compact(doc);
            json_decref(doc);
        }
        if (!*body) {
            free(url);
            return NULL;
        }
        return url;
    }
    if (append_param(&url, "variables", variables) < 0 ||
        append_param(&url, "features", features) < 0 ||
        append_param(&url, "fieldToggles", field_toggles) < 0) {
        free(url);
        return NULL;
    }
    return url;
}

void tw_web_url_path(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        p = "/";
    size_t n = strcspn(p, "?#");
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), p);
}

bool tw_web_url_host(const char *url, char *out, size_t cap)
{
    CURLU *h = url ? curl_url() : NULL;
    char *host = NULL;
    bool ok = h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host &&
              strlen(host) < cap;
    if (ok)
        for (size_t i = 0; (out[i] = (char)tolower((unsigned char)host[i])) != '\0'; i++)
            ;
    else if (cap)
        out[0] = '\0';
    curl_free(host);
    curl_url_cleanup(h);
    return ok;
}

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle);
}

void tw_web_classify(struct tw_web_answer *ans, const char *content_type, const char *remaining)
{
    json_t *errors = json_object_get(ans->json, "errors");
    json_t *first = json_array_get(errors, 0);
    const char *msg = json_string_value(json_object_get(first, "message"));
    json_t *code = json_object_get(first, "code");
    ans->code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
    if (msg)
        snprintf(ans->message, sizeof ans->message, "%.*s",
                 utf8_print_len(msg, sizeof ans->message - 1), msg);
    bool html = content_type && strncasecmp(content_type, "text/html", 9) == 0;
    bool has_data = json_is_object(json_object_get(ans->json, "data")) ||
                    (ans->json && !errors && ans->status / 100 == 2);
    long left = remaining && *remaining ? strtol(remaining, NULL, 10) : -1;

    if (ans->code == 326) {
        ans->verdict = TWV_ACCOUNT_LOCKED;
    } else if (ans->code == 64 || ans->code == 37) {
        ans->verdict = TWV_ACCOUNT_BANNED;
    } else if (ans->status == 429 || ans->code == 88 || contains(msg, "Rate limit exceeded")) {
        ans->verdict = ans->code == 88 && ans->status != 429 && left > 0 ? TWV_ACCOUNT_BANNED
                                                                         : TWV_RATE_LIMITED;
        if (ans->verdict == TWV_ACCOUNT_BANNED)
            snprintf(ans->message, sizeof ans->message, "rate limited with quota left "
                     "(x-rate-limit-remaining %ld): banned", left);
    } else if (ans->status == 401 || ans->code == 32) {
        ans->verdict = TWV_SESSION_DEAD;
    } else if (ans->status >= 400 && html) {
        ans->verdict = TWV_BLOCKED;
        snprintf(ans->message, sizeof ans->message, "X answered HTTP %ld with an HTML page "
                 "(Cloudflare block or challenge)", ans->status);
    } else if (ans->status == 403 && ans->json && !errors) {
        ans->verdict = TWV_SESSION_DEAD;
    } else if (ans->status / 100 == 2 && has_data) {
        ans->verdict = TWV_OK;
    } else {
        ans->verdict = TWV_FAILED;
        if (!msg && ans->status == 404)
            snprintf(ans->message, sizeof ans->message, "HTTP 404 (stale GraphQL query id, "
                     "wrong method or a transaction id X refused; see TWITTER_QUERY_IDS)");
        else if (ans->code == 336)
            snprintf(ans->message, sizeof ans->message, "feature flags outdated (see "
                     "TWITTER_FEATURES): %.*s", utf8_print_len(msg ? msg : "", 180),
                     msg ? msg : "");
        else if (!msg)
            snprintf(ans->message, sizeof ans->message, "HTTP %ld%s", ans->status,
                     ans->json ? "" : " (not JSON)");
    }
    if (ans->verdict != TWV_OK && ans->verdict != TWV_FAILED && !ans->message[0])
        snprintf(ans->message, sizeof ans->message, "HTTP %ld", ans->status);
}

/* header: a new "Name: value" line in lines[*n] (NULL value: nothing). */
static int header(char **lines, size_t *n, const char *name, const char *value)
{
    if (!value || *n >= MAX_HEADERS - 1)
        return 0;
    if (asprintf(&lines[*n], "%s: %s", name, value) < 0) {
        lines[*n] = NULL;
        return -1;
    }
    (*n)++;
    return 0;
}

static void free_headers(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        explicit_bzero(lines[i], strlen(lines[i]));
        free(lines[i]);
    }
}

static int build_headers(const struct config *cfg, const struct tw_web_request *req, char **lines,
                         size_t *n)
{
    char bearer[1024], txid[TWITTER_TXID_ID_MAX] = "", path[1024];
    snprintf(bearer, sizeof bearer, "Bearer %s", cfg->twitter_bearer_token);
    tw_web_url_path(req->url, path, sizeof path);
    if (req->txid && twitter_txid_make(req->txid, req->method, path, time(NULL), txid,
                                       sizeof txid) < 0)
        txid[0] = '\0';
    bool cross = strncmp(req->url, cfg->twitter_web_base, strlen(cfg->twitter_web_base)) != 0;
    int rc = 0;
    rc |= header(lines, n, "authorization", bearer);
    rc |= header(lines, n, "cookie", req->cookie_header && *req->cookie_header
                                         ? req->cookie_header : NULL);
    rc |= header(lines, n, "x-csrf-token", req->csrf && *req->csrf ? req->csrf : NULL);
    rc |= header(lines, n, "x-guest-token", req->guest_token);
    rc |= header(lines, n, "x-twitter-auth-type", req->logged_in ? "OAuth2Session" : NULL);
    rc |= header(lines, n, "x-twitter-active-user", "yes");
    rc |= header(lines, n, "x-twitter-client-language", "en");
    rc |= header(lines, n, "x-client-transaction-id", txid[0] ? txid : NULL);
    rc |= header(lines, n, "content-type", "application/json");
    rc |= header(lines, n, "accept", "*/*");
    rc |= header(lines, n, "accept-language", "en-US,en;q=0.9");
    rc |= header(lines, n, "referer", cfg->twitter_web_base);
    rc |= header(lines, n, "origin", cross ? cfg->twitter_web_base : NULL);
    rc |= header(lines, n, "sec-fetch-site", cross ? "same-site" : "same-origin");
    rc |= header(lines, n, "sec-fetch-mode", "cors");
    rc |= header(lines, n, "sec-fetch-dest", "empty");
    explicit_bzero(bearer, sizeof bearer);
    lines[*n] = NULL;
    return rc ? -1 : 0;
}

int tw_web_send(const struct config *cfg, const struct job_ctx *ctx,
                const struct tw_web_request *req, struct tw_web_answer *ans, struct err *e)
{
    memset(ans, 0, sizeof *ans);
    long left = job_ctx_remaining_ms(ctx);
    if (left <= 0)
        return err_set(e, 504, "job deadline reached before X answered");
    char *lines[MAX_HEADERS];
    size_t n = 0;
    if (build_headers(cfg, req, lines, &n) < 0) {
        free_headers(lines, n);
        return err_set(e, 500, "out of memory");
    }
    struct fetch_request fr = {
        .method = req->method, .url = req->url, .headers = (const char *const *)lines,
        .body = req->body, .body_len = req->body ? strlen(req->body) : 0,
        .max_response_bytes = TW_WEB_MAX_RESPONSE_BYTES, .user_agent = TW_WEB_USER_AGENT,
        .timeout_ms = left < TW_WEB_TIMEOUT_MS ? left : TW_WEB_TIMEOUT_MS,
    };
    struct fetch_response resp = { 0 };
    int rc = fetch_do(&fr, &resp, e);
    free_headers(lines, n);
    if (rc < 0) {
        fetch_response_clear(&resp);
        return -1;
    }
    ans->status = resp.status;
    /* an answer too costly to decode (util/json_cost.h) is not decoded: not JSON to us */
    json_error_t jerr;
    ans->json = json_load_bounded(resp.body, resp.body_len, 0, &jerr);
    bool too_costly = !ans->json && json_error_code(&jerr) == json_error_out_of_memory;
    ans->body = resp.body;
    ans->body_len = resp.body_len;
    resp.body = NULL;
    ans->reset = resp.rate_limit_reset;
    ans->retry_after = resp.retry_after;
    ans->set_cookies = resp.set_cookies;
    tw_web_url_host(req->url, ans->host, sizeof ans->host);
    resp.rate_limit_reset = resp.retry_after = resp.set_cookies = NULL;
    ans->remaining = -1;
    if (resp.rate_limit_remaining && *resp.rate_limit_remaining) {
        char *end;
        long v = strtol(resp.rate_limit_remaining, &end, 10);
        if (!*end && v >= 0)
            ans->remaining = v;
    }
    tw_web_classify(ans, resp.content_type, resp.rate_limit_remaining);
    if (too_costly && ans->verdict == TWV_FAILED)
        snprintf(ans->message, sizeof ans->message, "%.*s",
                 utf8_print_len(jerr.text, sizeof ans->message - 1), jerr.text);
    if (ans->verdict != TWV_OK)
        log_debug("twitter: %s %s -> %ld (%s)", req->method, req->url, ans->status, ans->message);
    fetch_response_clear(&resp);
    return 0;
}

void tw_web_answer_clear(struct tw_web_answer *ans)
{
    json_decref(ans->json);
    free(ans->body);
    free(ans->reset);
    free(ans->retry_after);
    crypto_free_text(ans->set_cookies);           /* session cookies: wiped */
    memset(ans, 0, sizeof *ans);
}
