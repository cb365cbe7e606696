/* apify.c - Apify actor runs and dataset pages within a job's deadline (see apify.h).
 *
 * One page of a job = start a run -> poll its status until final -> read the dataset page.
 *   start:  POST {base}/acts/{actor}/runs                 201 {"data":{"id","defaultDatasetId"}}
 *   poll:   GET  {base}/actor-runs/{id}                   200 {"data":{"status","statusMessage"}}
 *           at once, then every APIFY_POLL_INTERVAL_MS; SUCCEEDED ends the wait, FAILED, ABORTED and
 *           TIMED-OUT fail the job with the run's statusMessage; anything else keeps waiting.
 *   abort:  POST {base}/actor-runs/{id}/abort             when the deadline is near (ABORT_RESERVE_MS
 *           before it) or a poll fails, so a run we gave up on stops costing money.
 *   page:   GET  {base}/datasets/{ds}/items?offset=O&limit=L   200 bare JSON array (or null),
 *           decoded by apify_items_parse (apify_items.c: a bad item costs only itself, a page too
 *           costly to decode is refused); items past L (an answer that ignored the limit) are
 *           dropped
 * Each request's timeout is the smaller of REQUEST_TIMEOUT_MS and what is left of the deadline. No
 * retries: a refusal is reported with Apify's status and body. Ids coming back from Apify are
 * percent-escaped before they go into a path; an id longer than APIFY_ID_MAX bytes (Apify's own
 * are 17 characters) fails the job, and a path that does not fit its buffer is never sent cut. */
#include "net/apify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "net/fetch.h"
#include "util/json_cost.h"
#include "util/utf8.h"

#define REQUEST_TIMEOUT_MS 60000L
#define KEY_CHECK_TIMEOUT_MS 5000L
#define ABORT_RESERVE_MS 1000L
#define BODY_EXCERPT 120
#define MAX_RESPONSE_BYTES (32u * 1024 * 1024)
/* The longest run or dataset id accepted from Apify; escaped (3 bytes a byte at worst) it still
 * fits PATH_MAX_BYTES with the rest of any path. */
#define APIFY_ID_MAX 128
#define PATH_MAX_BYTES 512

static atomic_int key_state = APIFY_KEY_UNKNOWN;

/* ---- small helpers ---- */

static long remaining_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
              (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? ms : 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long min_l(long a, long b)
{
    return a < b ? a : b;
}

int apify_err_prefix(struct err *e, const char *prefix)
{
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    int w = snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
    if (w >= (int)sizeof e->msg)
        e->msg[utf8_trim_partial(e->msg, sizeof e->msg - 1)] = '\0';
    if (!e->http)
        e->http = 502;
    return -1;
}

static int status_error(struct err *e, const char *what, const struct fetch_response *r)
{
    char body[BODY_EXCERPT + 1];
    utf8_excerpt(r->body ? r->body : "", r->body ? r->body_len : 0, body, sizeof body);
    return err_set(e, 502, "%s: unexpected status code %ld: %s", what, r->status, body);
}

/* format_path writes an API path into path (PATH_MAX_BYTES); -1 with e set when it does not fit,
 * so a cut path is never requested. */
__attribute__((format(printf, 3, 4)))
static int format_path(char *path, struct err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, PATH_MAX_BYTES, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX_BYTES)
        return err_set(e, 500, "Apify request path longer than %d bytes", PATH_MAX_BYTES - 1);
    return 0;
}

/* request_stoppable performs one call to {base}{path} with the token header; stop as in
 * struct fetch_request (may be NULL). */
static int request_stoppable(const struct config *cfg, const char *method, const char *path,
                             const json_t *body, long timeout_ms, bool (*stop)(void *ctx),
                             void *stop_ctx, struct fetch_response *resp, struct err *e)
{
    char url[2048], auth[1024];
    if (snprintf(url, sizeof url, "%s%s", cfg->apify_base_url, path) >= (int)sizeof url)
        return err_set(e, 500, "Apify URL too long");
    if (snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->apify_api_key) >=
        (int)sizeof auth)
        return err_set(e, 500, "APIFY_API_KEY is too long");
    const char *headers[] = { auth, "Accept: application/json",
                              body ? "Content-Type: application/json" : NULL, NULL };
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        return err_set(e, 500, "out of memory while encoding the actor input");
    struct fetch_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .max_response_bytes = MAX_RESPONSE_BYTES,
        .timeout_ms = timeout_ms > 0 ? timeout_ms : 1,
        .stop = stop,
        .stop_ctx = stop_ctx,
    };
    int rc = fetch_do(&req, resp, e);
    explicit_bzero(auth, sizeof auth);
    free(text);
    return rc;
}

static int request(const struct config *cfg, const char *method, const char *path,
                   const json_t *body, long timeout_ms, struct fetch_response *resp,
                   struct err *e)
{
    return request_stoppable(cfg, method, path, body, timeout_ms, NULL, NULL, resp, e);
}

/* parse_data returns the "data" object of an Apify response (new reference), or NULL with why.
 * An answer that would take too much memory to decode is refused like a dataset page
 * (util/json_cost.h): a run object is small, but the answer may be up to MAX_RESPONSE_BYTES. */
static json_t *parse_data(const struct fetch_response *r, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_load_bounded(r->body ? r->body : "", r->body_len, 0, &jerr);
    if (!root) {
        snprintf(why, whylen, "%s", jerr.text);
        return NULL;
    }
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(data)) {
        snprintf(why, whylen, "no \"data\" object");
        json_decref(root);
        return NULL;
    }
    json_incref(data);
    json_decref(root);
    return data;
}

static const char *str_member(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s && *s ? s : NULL;
}

/* ---- key check ---- */

int apify_key_state_get(void)
{
    return atomic_load(&key_state);
}

bool apify_available(const struct config *cfg)
{
    return cfg->apify_api_key && *cfg->apify_api_key &&
           atomic_load(&key_state) != APIFY_KEY_INVALID;
}

int apify_check_key(const struct config *cfg, bool (*stop)(void *ctx), void *stop_ctx)
{
    int state;
    if (!cfg->apify_api_key || !*cfg->apify_api_key) {
        atomic_store(&key_state, APIFY_KEY_INVALID);
        return APIFY_KEY_INVALID;
    }
    struct fetch_response r = { 0 };
    struct err e = { 0 };
    if (request_stoppable(cfg, "GET", "/users/me", NULL, KEY_CHECK_TIMEOUT_MS, stop, stop_ctx,
                          &r, &e) < 0) {
        log_warn("apify: key check: error making auth test request: %s", e.msg);
        state = APIFY_KEY_UNKNOWN;
    } else if (r.status == 200) {
        log_info("apify: API key accepted");
        state = APIFY_KEY_VALID;
    } else if (r.status == 401) {
        log_error("apify: invalid Apify API token; Apify-based jobs are not offered");
        state = APIFY_KEY_INVALID;
    } else if (r.status == 403) {
        log_warn("apify: insufficient permissions for Apify API token (users/me); "
                 "Apify-based jobs stay offered");
        state = APIFY_KEY_UNKNOWN;
    } else if (r.status == 429) {
        log_warn("apify: key check: rate limit exceeded");
        state = APIFY_KEY_UNKNOWN;
    } else {
        log_warn("apify: Apify API auth test failed with status: %ld", r.status);
        state = APIFY_KEY_UNKNOWN;
    }
    fetch_response_clear(&r);
    atomic_store(&key_state, state);
    return state;
}

/* ---- one run ---- */

struct run {
    char *id;          /* escaped run id */
    char *dataset;     /* escaped dataset id */
};

static void run_clear(struct run *run)
{
    free(run->id);
    free(run->dataset);
}

static int start_run(const struct config *cfg, const struct timespec *deadline,
                     const struct apify_call *call, struct run *run, struct err *e)
{
    char path[PATH_MAX_BYTES], why[160];
    char *actor = fetch_url_escape(call->actor);
    if (!actor)
        return err_set(e, 500, "out of memory");
    int fits = format_path(path, e, "/acts/%s/runs", actor);
    free(actor);
    if (fits < 0)
        return apify_err_prefix(e, "failed to run actor");
    struct fetch_response r = { 0 };
    int rc = -1;
    if (request(cfg, "POST", path, call->input, min_l(REQUEST_TIMEOUT_MS, remaining_ms(deadline)),
                &r, e) < 0) {
        apify_err_prefix(e, "failed to run actor");
    } else if (r.status != 201) {
        status_error(e, "failed to run actor", &r);
    } else {
        json_t *data = parse_data(&r, why, sizeof why);
        const char *id = str_member(data, "id"), *ds = str_member(data, "defaultDatasetId");
        if (!data)
            err_set(e, 502, "failed to run actor: error parsing response: %s", why);
        else if (!id || !ds)
            err_set(e, 502, "failed to run actor: error parsing response: no data.id or "
                    "data.defaultDatasetId");
        else if (strlen(id) > APIFY_ID_MAX || strlen(ds) > APIFY_ID_MAX)
            err_set(e, 502, "failed to run actor: error parsing response: data.%s of %zu bytes "
                    "(at most %d accepted)", strlen(id) > APIFY_ID_MAX ? "id" : "defaultDatasetId",
                    strlen(id) > APIFY_ID_MAX ? strlen(id) : strlen(ds), APIFY_ID_MAX);
        else if (!(run->id = fetch_url_escape(id)) || !(run->dataset = fetch_url_escape(ds)))
            err_set(e, 500, "out of memory");
        else
            rc = 0;
        json_decref(data);
    }
    fetch_response_clear(&r);
    return rc;
}

/* abort_run asks Apify to stop a run we gave up on; a failure is only logged. */
static void abort_run(const struct config *cfg, const struct run *run)
{
    char path[PATH_MAX_BYTES];
    struct fetch_response r = { 0 };
    struct err e = { 0 };
    if (format_path(path, &e, "/actor-runs/%s/abort", run->id) < 0)
        log_warn("apify: not aborting run %s: %s", run->id, e.msg);
    else if (request(cfg, "POST", path, NULL, ABORT_RESERVE_MS, &r, &e) < 0)
        log_warn("apify: aborting run %s failed: %s", run->id, e.msg);
    else if (r.status != 200)
        log_warn("apify: aborting run %s: status %ld", run->id, r.status);
    else
        log_info("apify: run %s aborted at the job deadline", run->id);
    fetch_response_clear(&r);
}

/* poll_once: 1 = succeeded, 0 = still going, -1 = failed (e set). */
static int poll_once(const struct config *cfg, const struct run *run, long timeout_ms,
                     struct err *e)
{
    char path[PATH_MAX_BYTES], why[160];
    struct fetch_response r = { 0 };
    int rc = -1;
    if (format_path(path, e, "/actor-runs/%s", run->id) < 0) {
        apify_err_prefix(e, "failed to get actor run status");
    } else if (request(cfg, "GET", path, NULL, timeout_ms, &r, e) < 0) {
        apify_err_prefix(e, "failed to get actor run status");
    } else if (r.status != 200) {
        status_error(e, "failed to get actor run status", &r);
    } else {
        json_t *data = parse_data(&r, why, sizeof why);
        const char *status = str_member(data, "status");
        const char *message = str_member(data, "statusMessage");
        if (!data)
            err_set(e, 502, "failed to get actor run status: error parsing response: %s", why);
        else if (status && strcmp(status, "SUCCEEDED") == 0)
            rc = 1;
        else if (status && (strcmp(status, "FAILED") == 0 || strcmp(status, "ABORTED") == 0 ||
                            strcmp(status, "TIMED-OUT") == 0))
            err_set(e, 502, "Actor run %s%s%.150s",
                    strcmp(status, "FAILED") == 0    ? "failed"
                    : strcmp(status, "ABORTED") == 0 ? "aborted"
                                                     : "timed out (TIMED-OUT)",
                    message ? ": " : "", message ? message : "");
        else
            rc = 0;
        json_decref(data);
    }
    fetch_response_clear(&r);
    return rc;
}

/* wait_run polls until the run succeeds (0) or fails (-1, e set); a run still going near the
 * deadline, or whose status cannot be read, is aborted. */
static int wait_run(const struct config *cfg, const struct timespec *deadline,
                    const struct run *run, struct err *e)
{
    for (;;) {
        long left = remaining_ms(deadline) - ABORT_RESERVE_MS;
        if (left <= 0) {
            abort_run(cfg, run);
            return err_set(e, 504, "actor run did not finish before the job deadline; run aborted");
        }
        int rc = poll_once(cfg, run, min_l(REQUEST_TIMEOUT_MS, left), e);
        if (rc == 1)
            return 0;
        if (rc < 0) {
            if (strncmp(e->msg, "Actor run ", 10) != 0)
                abort_run(cfg, run);
            return -1;
        }
        left = remaining_ms(deadline) - ABORT_RESERVE_MS;
        sleep_ms(min_l((long)cfg->apify_poll_interval_ms, left > 0 ? left : 0));
    }
}

static int read_page(const struct config *cfg, const struct timespec *deadline,
                     const struct run *run, size_t offset, size_t limit, json_t **items,
                     struct err *e)
{
    char path[PATH_MAX_BYTES];
    struct fetch_response r = { 0 };
    int rc = -1;
    long left = remaining_ms(deadline);
    if (format_path(path, e, "/datasets/%s/items?offset=%zu&limit=%zu", run->dataset, offset,
                    limit) < 0) {
        apify_err_prefix(e, "failed to get dataset items");
    } else if (left <= 0) {
        err_set(e, 504, "failed to get dataset items: the job deadline passed");
    } else if (request(cfg, "GET", path, NULL, min_l(REQUEST_TIMEOUT_MS, left), &r, e) < 0) {
        apify_err_prefix(e, "failed to get dataset items");
    } else if (r.status != 200) {
        status_error(e, "failed to get dataset items", &r);
    } else {
        char why[200];
        if (apify_items_parse(r.body ? r.body : "", r.body_len, items, why, sizeof why) < 0)
            err_set(e, 502, "failed to get dataset items: error parsing response: %s", why);
        else
            rc = 0;
    }
    fetch_response_clear(&r);
    return rc;
}

int apify_run_page(const struct config *cfg, const struct timespec *deadline,
                   const struct apify_call *call, struct apify_page *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!cfg->apify_api_key || !*cfg->apify_api_key)
        return err_set(e, 503, "APIFY_API_KEY is not configured on this worker");
    out->offset = apify_cursor_decode(call->cursor);
    struct run run = { 0 };
    int rc = start_run(cfg, deadline, call, &run, e);
    if (rc == 0)
        rc = wait_run(cfg, deadline, &run, e);
    if (rc == 0)
        rc = read_page(cfg, deadline, &run, out->offset, call->limit, &out->items, e);
    run_clear(&run);
    /* Apify answers at most `limit` items; more (a broken or hostile answer) are not this page's:
     * they are cut, so the page and its cursor stay what was asked for */
    if (rc == 0 && call->limit > 0 && json_array_size(out->items) > call->limit) {
        log_warn("apify: dataset page of %zu items for a limit of %zu; the rest is dropped",
                 json_array_size(out->items), call->limit);
        while (json_array_size(out->items) > call->limit)
            json_array_remove(out->items, json_array_size(out->items) - 1);
    }
    if (rc == 0 && call->limit > 0 && json_array_size(out->items) == call->limit) {
        out->next_cursor = apify_cursor_encode(out->offset + call->limit);
        if (!out->next_cursor) {
            apify_page_clear(out);
            return err_set(e, 500, "out of memory");
        }
    }
    return rc;
}

void apify_page_clear(struct apify_page *p)
{
    json_decref(p->items);
    free(p->next_cursor);
    memset(p, 0, sizeof *p);
}
