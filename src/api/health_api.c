/* health_api.c - GET /healthz and GET /readyz (core-protocol.md 1.5.1, 1.5.2; DECISIONS.md).
 *
 * /healthz is a prebuilt response sent as is: no allocation per request (a `?pretty` one is
 * written like any JSON answer, to be laid out). /readyz reports the job
 * server, the sliding-window error rate, the queue fill and the store (a shared Redis store that
 * does not answer is named with the reason); it is 503 when the error rate is unhealthy, the queue
 * is full or the store is unreachable. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "api/api.h"
#include "api/readiness.h"
#include "jobs/server.h"
#include "store/store.h"

static const char healthz_body[] = "{\"status\":\"ok\",\"service\":\"tee-worker\"}\n";
static struct MHD_Response *healthz_response;
static pthread_once_t healthz_once = PTHREAD_ONCE_INIT;

static void healthz_build(void)
{
    healthz_response = MHD_create_response_from_buffer(sizeof healthz_body - 1,
                                                       (void *)healthz_body, MHD_RESPMEM_PERSISTENT);
    if (healthz_response)
        MHD_add_response_header(healthz_response, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_CT_JSON);
}

void api_healthz(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)app;
    pthread_once(&healthz_once, healthz_build);
    if (healthz_response && !http_query_has(req, "pretty")) {
        resp->status = 200;
        resp->shared = healthz_response;
        return;
    }
    http_reply_json(resp, 200, json_pack("{s:s,s:s}", "status", "ok", "service", "tee-worker"));
}

/* rfc3339 writes t in the server's local zone (TZ, else /etc/localtime; UTC when neither says),
 * whole seconds, as Go's time.Time writes a local time: "Z" for a zero offset, else +hh:mm. */
static json_t *rfc3339(time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        gmtime_r(&t, &tm);
        tm.tm_gmtoff = 0;
    }
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;   /* Go's RFC 3339 layout shows hours and minutes only */
    if (off == 0)
        snprintf(buf + n, sizeof buf - n, "Z");
    else
        snprintf(buf + n, sizeof buf - n, "%c%02ld:%02ld", off < 0 ? '-' : '+',
                 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
    return json_string(buf);
}

void api_readyz(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct readiness_snapshot snap;
    readiness_snapshot(app->readiness, &snap);
    size_t queued = jobserver_queue_length(app->jobs);
    size_t capacity = jobserver_queue_capacity(app->jobs);
    bool queue_full = queued >= capacity;
    char store_reason[256];
    bool store_ok = store_health(app->store, store_reason, sizeof store_reason) == 0;
    for (char *c = store_reason; *c; c++)   /* the reason may quote the server: keep it ASCII */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    bool ready = snap.healthy && !queue_full && store_ok;

    json_t *stats = json_object();
    json_object_set_new(stats, "error_count", json_integer((json_int_t)snap.errors));
    json_object_set_new(stats, "error_rate", json_real(snap.error_rate));
    json_object_set_new(stats, "success_count", json_integer((json_int_t)snap.successes));
    json_object_set_new(stats, "total_count", json_integer((json_int_t)(snap.errors + snap.successes)));
    json_object_set_new(stats, "window_duration", json_string("10m0s"));
    json_object_set_new(stats, "window_start", rfc3339(snap.window_start));

    json_t *queue = json_pack("{s:I,s:I}", "length", (json_int_t)queued, "capacity",
                              (json_int_t)capacity);
    json_t *checks = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "job_server", "ok",
                               "error_rate", snap.healthy ? "healthy" : "unhealthy",
                               "queue", queue_full ? "full" : "ok",
                               "store", store_ok ? "ok" : store_reason,
                               "stats", stats, "queue_stats", queue);
    http_reply_json(resp, ready ? 200 : 503,
                    json_pack("{s:s,s:b,s:o}", "service", "tee-worker", "ready", ready,
                              "checks", checks));
}
