/* tiktok_transcription.c - the `transcription` operation of the `tiktok` kind (see the header).
 *
 * Steps: validate the arguments (1.2), POST {"url": ...} with the headers of 1.3 (the call is
 * bounded by what is left of the job's deadline, redirects followed as Go does, but each hop only
 * to a public address unless WEBSCRAPER_ALLOW_PRIVATE, as for the web scraper), judge the answer
 * in the order of 1.4, choose the transcript (DECISIONS.md: requested language, then
 * TIKTOK_DEFAULT_LANGUAGE, then the first non-empty one), convert its WebVTT and build the result
 * of 1.7. The call has at most 30 s (Go's client timeout), never more than the job has left. The
 * answer is decoded only when that would not take more than 12 x its size + 64 MiB of memory
 * (util/json_cost.h).
 * Every failure after validation counts tiktok_transcription_errors and carries the real
 * reason (the upstream status and an excerpt of its body, curl's reason, the missing field). */
#include "kinds/tiktok_transcription.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/stats.h"
#include "kinds/go_args.h"
#include "kinds/vtt.h"
#include "net/fetch.h"
#include "util/json_cost.h"
#include "util/url_scheme.h"
#include "util/utf8.h"

#define ARGS_PREFIX "Failed to unmarshal job arguments: "
#define API_ORIGIN "https://submagic-free-tools.fly.dev"
#define API_REFERER "https://submagic-free-tools.fly.dev/tiktok-transcription"
#define DEFAULT_USER_AGENT "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " \
                           "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
#define EXCERPT_MAX 160
#define REQUEST_TIMEOUT_MS 30000L    /* the whole exchange, as Go's client (1.3) */

struct transcription_args {
    const char *video_url;
    const char *language;        /* "" when not given */
};

/* ---- arguments (1.2) ---- */

/* go_has_authority: url has an authority part ("//host...") as Go's url.Parse reads it: after an
 * optional scheme (a letter, then letters, digits, '+', '-' or '.', then ':'), "//" and a
 * non-empty authority must follow. Without them ("www.tiktok.com/@u/video/1", "tiktok.com:443/x",
 * "https:/www.tiktok.com/x", "https:///www.tiktok.com/x") Go's Host is empty. *scheme_len gets
 * the length of the scheme with its ':' (0 when none). Returns 1 or 0, or -1 for a leading ':'
 * (Go: "missing protocol scheme"). */
static int go_has_authority(const char *url, size_t *scheme_len)
{
    if (url[0] == ':') {
        *scheme_len = 0;
        return -1;
    }
    size_t sl = url_scheme_len(url);
    *scheme_len = sl ? sl + 1 : 0;
    const char *rest = url + *scheme_len;
    return strncmp(rest, "//", 2) == 0 && rest[2] != '/';
}

static int check_video_url(const char *url, char *msg)
{
    if (!*url) {
        snprintf(msg, GO_ARGS_MSG, "video_url is required");
        return -1;
    }
    /* Go's url.Parse takes "www.tiktok.com/@u/video/1" as a path with an empty host: refused
     * like any other host; "//www.tiktok.com/x" has a host (given to curl as https) */
    size_t scheme_len;
    int authority = go_has_authority(url, &scheme_len);
    if (authority < 0) {
        snprintf(msg, GO_ARGS_MSG, "invalid video_url format: missing protocol scheme");
        return -1;
    }
    if (!authority) {
        snprintf(msg, GO_ARGS_MSG, "URL must be a valid TikTok video URL");
        return -1;
    }
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *with_scheme = NULL;
    if (!u || (!scheme_len && asprintf(&with_scheme, "https:%s", url) < 0)) {
        curl_url_cleanup(u);
        snprintf(msg, GO_ARGS_MSG, "out of memory");
        return -1;
    }
    /* Go's url.Parse takes spaces in the path and query (URLENCODE: the same here); the URL
     * itself goes to the service verbatim. */
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, with_scheme ? with_scheme : url,
                                CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE);
    free(with_scheme);
    int result = -1;
    if (rc != CURLUE_OK) {
        snprintf(msg, GO_ARGS_MSG, "invalid video_url format: %s", curl_url_strerror(rc));
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        snprintf(msg, GO_ARGS_MSG, "URL must be a valid TikTok video URL");
    } else {
        size_t n = strlen(host);
        bool tiktok = strcasecmp(host, "tiktok.com") == 0 ||
                      (n > 11 && strcasecmp(host + n - 11, ".tiktok.com") == 0);
        if (tiktok)
            result = 0;
        else
            snprintf(msg, GO_ARGS_MSG, "URL must be a valid TikTok video URL");
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return result;
}

static int check_language(const char *lang, char *msg)
{
    if (!*lang)
        return 0;
    const char *dash = strchr(lang, '-');
    if (!dash || strchr(dash + 1, '-')) {
        snprintf(msg, GO_ARGS_MSG, "invalid language format '%.*s', expected format: "
                 "'lang-region' (e.g., 'en-us' or 'eng-us')", utf8_print_len(lang, 40), lang);
        return -1;
    }
    size_t first = (size_t)(dash - lang), second = strlen(dash + 1);
    if (first < 2 || first > 3 || second != 2) {
        snprintf(msg, GO_ARGS_MSG, "invalid language format '%.*s', expected 2-3 letter "
                 "language code and 2-letter region code", utf8_print_len(lang, 40), lang);
        return -1;
    }
    return 0;
}

static int parse_args(const json_t *args, struct transcription_args *a, struct err *e)
{
    char msg[GO_ARGS_MSG] = "";
    a->video_url = "";
    a->language = "";
    if (go_arg_string(args, "video_url", &a->video_url, msg) < 0 ||
        go_arg_string(args, "language", &a->language, msg) < 0 ||
        check_video_url(a->video_url, msg) < 0 || check_language(a->language, msg) < 0)
        return err_set(e, 400, ARGS_PREFIX "%s", msg);
    return 0;
}

int tiktok_transcription_validate(const json_t *arguments, struct err *e)
{
    struct transcription_args a;
    return parse_args(arguments, &a, e);
}

/* ---- the request (1.3) ---- */

static int call_service(const struct config *cfg, const struct transcription_args *a,
                        long timeout_ms, struct fetch_response *resp, struct err *e)
{
    const char *endpoint = cfg->tiktok_transcription_endpoint;
    if (!endpoint || !*endpoint)
        return err_set(e, 503, "TikTok transcription endpoint is not configured for the worker");
    json_t *payload = json_pack("{s:s}", "url", a->video_url);
    char *body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!body)
        return err_set(e, 500, "Failed to marshal API request body");
    static const char *const headers[] = { "Content-Type: application/json",
                                           "Origin: " API_ORIGIN, "Referer: " API_REFERER, NULL };
    const char *ua = cfg->tiktok_api_user_agent;
    struct fetch_request req = {
        .method = "POST",
        .url = endpoint,
        .headers = headers,
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = timeout_ms,
        .user_agent = ua && *ua ? ua : DEFAULT_USER_AGENT,
        .follow_redirects = true,
        /* the endpoint is configuration; where its answers send the worker is not */
        .redirects_public_only = !cfg->webscraper_allow_private,
    };
    int rc = fetch_do(&req, resp, e);
    free(body);
    if (rc < 0) {
        char reason[sizeof e->msg];
        memcpy(reason, e->msg, sizeof reason);
        return err_set(e, e->http ? e->http : 502, "API request failed: %.200s", reason);
    }
    return 0;
}

/* ---- the response (1.4) ---- */

/* excerpt copies a one-line prefix of at most EXCERPT_MAX bytes of body (utf8_excerpt) to out,
 * with "..." when body was longer. */
static void excerpt(const char *body, size_t len, char out[EXCERPT_MAX + 4])
{
    size_t n = utf8_excerpt(body, len, out, EXCERPT_MAX + 1);
    if (n < len)
        strcpy(out + n, "...");
}

static bool string_or_null(const json_t *v)
{
    return !v || json_is_string(v) || json_is_null(v);
}

/* check_shape: the reply is an object whose known fields have the expected types. */
static const char *shape_problem(const json_t *doc)
{
    if (!json_is_object(doc))
        return "the reply is not a JSON object";
    if (!string_or_null(json_object_get(doc, "videoTitle")))
        return "videoTitle is not a string";
    if (!string_or_null(json_object_get(doc, "thumbnailUrl")))
        return "thumbnailUrl is not a string";
    if (!string_or_null(json_object_get(doc, "error")))
        return "error is not a string";
    const json_t *transcripts = json_object_get(doc, "transcripts");
    if (transcripts && !json_is_null(transcripts) && !json_is_object(transcripts))
        return "transcripts is not an object";
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)transcripts, key, v)
        if (!json_is_string(v) && !json_is_null(v))
            return "a transcript is not a string";
    return NULL;
}

/* read_reply judges resp in the order of 1.4 steps 2-5 and returns the decoded reply. */
static json_t *read_reply(const struct fetch_response *resp, struct err *e)
{
    char part[EXCERPT_MAX + 4];
    if (resp->status != 200) {
        excerpt(resp->body, resp->body_len, part);
        err_set(e, 502, "API request failed with status code %ld. Response: %s", resp->status,
                part);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_load_bounded(resp->body, resp->body_len,
                                    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
    const char *problem = doc ? shape_problem(doc) : jerr.text;
    if (problem) {
        err_set(e, 502, "Failed to parse API response: %.*s", utf8_print_len(problem, 160),
                problem);
        json_decref(doc);
        return NULL;
    }
    const char *error = json_string_value(json_object_get(doc, "error"));
    if (error && *error) {
        excerpt(error, strlen(error), part);
        err_set(e, 502, "API returned an error: %s", part);
    } else if (json_object_size(json_object_get(doc, "transcripts")) == 0) {
        err_set(e, 502, "No transcripts found in API response");
    } else {
        return doc;
    }
    json_decref(doc);
    return NULL;
}

/* ---- language choice (1.5, DECISIONS.md) and the result (1.7) ---- */

static bool blank(const json_t *vtt)
{
    const char *s = json_string_value(vtt);
    size_t n = json_string_length(vtt);
    for (size_t i = 0; s && i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

const char *tiktok_pick_transcript(const json_t *transcripts, const char *lang,
                                   const char *default_lang, const json_t **vtt)
{
    const char *wanted[] = { lang, default_lang };
    for (size_t i = 0; i < 2; i++) {
        if (!wanted[i] || !*wanted[i])
            continue;
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)transcripts, key, v) {
            if (strcmp(key, wanted[i]) == 0 && !blank(v)) {
                *vtt = v;
                return key;
            }
        }
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)transcripts, key, v) {
        if (!blank(v)) {
            *vtt = v;
            return key;
        }
    }
    return NULL;
}

static void set_if_not_empty(json_t *obj, const char *name, const char *value)
{
    if (value && *value)
        json_object_set_new(obj, name, json_string(value));
}

static int build_result(const char *video_url, const json_t *doc, const char *lang,
                        const json_t *vtt, struct job_result *out)
{
    size_t text_len;
    char *text = vtt_to_text(json_string_value(vtt), json_string_length(vtt), &text_len);
    json_t *result = json_object();
    json_t *text_value = text ? json_stringn(text, text_len) : NULL;
    free(text);
    if (!result || !text_value) {
        json_decref(result);
        json_decref(text_value);
        return err_set(&out->err, 500, "Failed to convert VTT to plain text");
    }
    json_object_set_new(result, "transcription_text", text_value);
    set_if_not_empty(result, "detected_language", lang);
    set_if_not_empty(result, "video_title", json_string_value(json_object_get(doc, "videoTitle")));
    json_object_set_new(result, "original_url", json_string(video_url));
    set_if_not_empty(result, "thumbnail_url",
                     json_string_value(json_object_get(doc, "thumbnailUrl")));
    int rc = job_result_set_json(out, result);
    json_decref(result);
    return rc;
}

int tiktok_transcription_answer(const struct fetch_response *resp, const char *video_url,
                                const char *language, const char *default_language,
                                struct job_result *out)
{
    json_t *doc = read_reply(resp, &out->err);
    if (!doc)
        return -1;
    const json_t *transcripts = json_object_get(doc, "transcripts"), *vtt = NULL;
    const char *lang = tiktok_pick_transcript(transcripts, language, default_language, &vtt);
    int rc = lang ? build_result(video_url, doc, lang, vtt, out)
                  : err_set(&out->err, 502, "No transcripts found in API response (all %zu are "
                            "empty)", json_object_size(transcripts));
    json_decref(doc);
    return rc;
}

static int transcribe(const struct transcription_args *a, struct job_ctx *ctx,
                      struct job_result *out)
{
    struct fetch_response resp = { 0 };
    long left = job_ctx_remaining_ms(ctx);
    if (left <= 0)
        return err_set(&out->err, 504, "API request failed: no time left before the job deadline");
    if (call_service(ctx->cfg, a, left < REQUEST_TIMEOUT_MS ? left : REQUEST_TIMEOUT_MS, &resp,
                     &out->err) < 0) {
        fetch_response_clear(&resp);
        return -1;
    }
    int rc = tiktok_transcription_answer(&resp, a->video_url, a->language,
                                         ctx->cfg->tiktok_default_language, out);
    fetch_response_clear(&resp);
    return rc;
}

int tiktok_transcription_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct transcription_args a;
    if (parse_args(job->arguments, &a, &out->err) < 0)
        return -1;
    int rc = transcribe(&a, ctx, out);
    stats_add(ctx->stats, job->worker_id,
              rc < 0 ? "tiktok_transcription_errors" : "tiktok_transcription_success", 1);
    return rc;
}
