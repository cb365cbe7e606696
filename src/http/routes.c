/* routes.c - the route table and what runs around every handler: routing (404/405/OPTIONS),
 * the API-key check, and readiness accounting. The key is checked as soon as a request's headers
 * are in (app_screen), so that no body of a client without it is read or held.
 *
 * One line per route: method, path (or path prefix for /job/status/:id), whether it is open
 * without the API key, whether its answers feed the readiness window, whether it is served in
 * this configuration, and the handler. */
#include <string.h>

#include "api/api.h"
#include "api/ops_api.h"
#include "api/readiness.h"
#include "app.h"
#include "http/http.h"
#include "metrics.h"
#include "util/crypto.h"

struct route {
    const char *method;
    const char *path;
    bool prefix;          /* path is a prefix and the rest must be non-empty */
    bool open;            /* served without the API key */
    bool counted;         /* answers feed /readyz */
    bool (*served)(const struct app *app);
    api_handler handler;
};

static bool setkey_served(const struct app *app)
{
    return app->keydist != NULL;
}

static bool attestation_served(const struct app *app)
{
    return app->tls != NULL;
}

static const struct route routes[] = {
    { "GET",  "/healthz",        false, true,  false, NULL,          api_healthz },
    { "GET",  "/readyz",         false, true,  false, NULL,          api_readyz },
    { "PUT",  "/debug/loglevel", false, false, false, NULL,          api_loglevel },
    { "POST", "/job/generate",   false, false, true,  NULL,          api_job_generate },
    { "POST", "/job/add",        false, false, true,  NULL,          api_job_add },
    { "GET",  "/job/status/",    true,  false, true,  NULL,          api_job_status },
    { "POST", "/job/result",     false, false, true,  NULL,          api_job_result },
    { "POST", "/setkey",         false, false, true,  setkey_served, api_setkey },
    { "GET",  "/attestation",    false, true,  false, attestation_served, api_attestation },
    { "GET",  "/metrics",        false, false, false, NULL,          api_metrics },
    { "POST", "/debug/pprof/enable",  false, false, false, NULL,     api_pprof_enable },
    { "POST", "/debug/pprof/disable", false, false, false, NULL,     api_pprof_disable },
    { "GET",  "/debug/pprof/",        false, false, false, pprof_served, api_pprof_index },
    { "GET",  "/debug/pprof",         false, false, false, pprof_served, api_pprof_index },
    { "GET",  "/debug/pprof/profile", false, false, false, pprof_served, api_pprof_profile },
    { "GET",  "/debug/pprof/heap",    false, false, false, pprof_served, api_pprof_heap },
    { "GET",  "/debug/pprof/allocs",  false, false, false, pprof_served, api_pprof_heap },
};

#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

static bool path_matches(const struct route *r, const char *path)
{
    if (!r->prefix)
        return strcmp(r->path, path) == 0;
    size_t n = strlen(r->path);
    return strncmp(r->path, path, n) == 0 && path[n] != '\0';
}

static bool route_served(const struct app *app, const struct route *r)
{
    return !r->served || r->served(app);
}

/* header_matches: the value of header name, without the blanks (spaces, tabs) around it that HTTP
 * does not count as part of a field value (RFC 9110 5.5; Go's server drops them too), has the
 * SHA-256 digest want. Digests of equal length are compared in constant time, so not even the
 * key's length leaks. */
static bool header_matches(const struct http_request *req, const char *name,
                           const unsigned char want[CRYPTO_SHA256_LEN])
{
    const char *v = http_header(req, name);
    if (!v)
        return false;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    unsigned char d[CRYPTO_SHA256_LEN];
    crypto_sha256(v, n, d);
    return crypto_equal(d, want, sizeof d);
}

/* authorized checks Authorization: Bearer <key> or X-API-Key: <key>. */
static bool authorized(const struct app *app, const struct http_request *req)
{
    if (!app->has_api_key)
        return true;
    bool bearer = header_matches(req, "Authorization", app->bearer_digest);
    bool key = header_matches(req, "X-API-Key", app->key_digest);
    return bearer | key;
}

/* reply_framework_error answers the errors Echo itself makes in Go (401 of the API-key check,
 * 404, 405): {"message": text} there, kept beside our "error" member. */
static void reply_framework_error(struct http_response *resp, unsigned status, const char *text)
{
    resp->error_twin = "message";
    http_reply_error(resp, status, text);
}

static void reply_unauthorized(struct http_response *resp)
{
    reply_framework_error(resp, 401, "missing or invalid API key");
}

/* allow_header writes "OPTIONS, <methods>" for the routes matching path. */
static void allow_header(const struct app *app, const char *path, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, "OPTIONS");
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (route_served(app, &routes[i]) && path_matches(&routes[i], path) && n < outlen)
            n += (size_t)snprintf(out + n, outlen - n, ", %s", routes[i].method);
}

static void record_readiness(struct app *app, const struct http_response *resp)
{
    if (resp->count == HTTP_COUNT_SKIP)
        return;
    if (resp->status >= 500)
        readiness_record(app->readiness, true);
    else if (resp->status >= 200 && resp->status < 400)
        readiness_record(app->readiness, false);
}

/* needs_key says whether the request goes through the API-key check: the route serving it is not
 * open, or, with no route for its method, no route of its path is (401 before 404 and 405). */
static bool needs_key(const struct app *app, const struct http_request *req)
{
    const struct route *path_match = NULL;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        if (!route_served(app, r) || !path_matches(r, req->path))
            continue;
        if (strcmp(r->method, req->method) == 0)
            return !r->open;
        path_match = r;
    }
    return !path_match || !path_match->open;
}

void app_screen(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    if (app->has_api_key && needs_key(app, req) && !authorized(app, req))
        reply_unauthorized(resp);
}

/* app_dispatch routes a request app_screen let through (it has the API key, or needs none). */
void app_dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    bool path_match = false;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        if (!route_served(app, r) || !path_matches(r, req->path))
            continue;
        path_match = true;
        if (strcmp(r->method, req->method) == 0) {
            r->handler(app, req, resp);     /* counted in app_answered */
            return;
        }
    }
    if (!path_match) {
        reply_framework_error(resp, 404, "Not Found");
        return;
    }
    char allow[128];
    allow_header(app, req->path, allow, sizeof allow);
    if (strcmp(req->method, "OPTIONS") == 0) {
        resp->status = 204;
        resp->content_type = NULL;
        http_add_header(resp, "Allow", allow);
        return;
    }
    reply_framework_error(resp, 405, "Method Not Allowed");
    http_add_header(resp, "Allow", allow);
}

/* app_answered feeds the readiness window (answers of the route that served the request, when
 * that route counts) and /metrics, whose label is the path of the first served route matching
 * the request's path (any method), or "other", so the label set stays as small as the table. */
void app_answered(void *ctx, const struct http_request *req, const struct http_response *resp)
{
    struct app *app = ctx;
    const char *label = NULL;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        if (!route_served(app, r) || !path_matches(r, req->path))
            continue;
        if (!label)
            label = r->path;
        if (strcmp(r->method, req->method) == 0) {
            if (r->counted)
                record_readiness(app, resp);
            break;
        }
    }
    metrics_count_request(label ? label : "other", resp->status);
}
