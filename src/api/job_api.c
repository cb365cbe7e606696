/* job_api.c - the four job routes (core-protocol.md 1.5.5-1.5.8, DECISIONS.md).
 *
 *   POST /job/generate  Job -> stamp worker_id, quote, issued_at -> seal(salt "") -> text
 *   POST /job/add       {"encrypted_job"} -> open -> Job -> admission -> {"uid"}
 *   GET  /job/status/ID 404 + "status" while pending; 500 + error when failed; else
 *                       seal(data, salt = quote) as text, X-Next-Cursor sealed the same way
 *   POST /job/result    {"encrypted_result","encrypted_request"} -> clear text
 *
 * Status codes are Go's (DECISIONS.md keeps those of core-protocol.md 1.5): a signature or result
 * that cannot be opened or parsed, a replay, another worker's job and a miner outside the white
 * list answer 500, as in Go; DECISIONS.md's own refusals keep theirs (400 for an unknown type or
 * invalid arguments, 503 for a full queue). Those 500s are the client's doing, not the worker's, so
 * they stay out of the readiness window, as does the full queue's 503 (the clients' load); "no keys
 * available in key ring" is ours and counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "jobs/job.h"
#include "jobs/nonce.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "jobs/server.h"
#include "log.h"
#include "store/store.h"
#include "tee/keyring.h"
#include "util/uuid_util.h"

static const char *const job_body_members[] = {
    "type", "arguments", "quote", "worker_id", "target_worker", "timeout", "issued_at", NULL,
};

static void reply_err(struct http_response *resp, const struct err *e)
{
    http_reply_error(resp, e->http ? (unsigned)e->http : 500, e->msg);
    if (e->http == 503)
        http_add_header(resp, "Retry-After", "5");
}

/* reply_refused answers a refusal caused by the client's input with Go's 500, kept out of the
 * readiness window. */
static void reply_refused(struct http_response *resp, const char *msg)
{
    http_reply_error(resp, 500, msg);
    resp->count = HTTP_COUNT_SKIP;
}

/* reply_admission_err answers a refused admission. The job server says whose fault it is with
 * its status (403 another worker's job or a miner outside the white list, 409 a replay); on the
 * wire those are Go's 500. A full queue (429) is the clients' load: DECISIONS.md's 503 with
 * Retry-After, kept out of the readiness window like the body budget's 503 (/readyz reports the
 * full queue itself, and the 503s of a burst must not hold it unready once the queue has room). */
static void reply_admission_err(struct http_response *resp, const struct err *e)
{
    if (e->http == 403 || e->http == 409) {
        reply_refused(resp, e->msg);
    } else if (e->http == 429) {
        struct err busy = *e;
        busy.http = 503;
        reply_err(resp, &busy);
        resp->count = HTTP_COUNT_SKIP;
    } else {
        reply_err(resp, e);
    }
}

/* reply_open_failed answers a sealed text that did not open: 500 as in Go; the ring being empty
 * is the worker's state and counts in the readiness window, any other cause is the client's. */
static void reply_open_failed(struct http_response *resp, const char *cause, const char *msg)
{
    if (strcmp(cause, "no keys available in key ring") == 0)
        http_reply_error(resp, 500, msg);
    else
        reply_refused(resp, msg);
}

/* stamp_job sets worker_id, quote and issued_at the way /job/generate does. */
static int stamp_job(struct app *app, struct job *job, struct err *e)
{
    free(job->worker_id);
    job->worker_id = strdup(app->worker_id);
    size_t len = 0;
    char *before = job->worker_id ? job_serialize(job, &len) : NULL;
    if (!before)
        return err_set(e, 500, "out of memory");
    char quote[NONCE_LEN + 1];
    int rc = nonce_make(before, len, quote);
    free(before);
    if (rc < 0)
        return err_set(e, 500, "random number generator failed");
    free(job->quote);
    job->quote = strdup(quote);
    job->quote_len = NONCE_LEN;
    job->issued_at = (int64_t)time(NULL);
    return job->quote ? 0 : err_set(e, 500, "out of memory");
}

void api_job_generate(struct app *app, const struct http_request *req, struct http_response *resp)
{
    struct err e = { 0 };
    if (req->body && job_check_cost(req->body, req->body_len, &e) < 0) {
        reply_err(resp, &e);    /* refused before jansson decodes it whole */
        return;
    }
    json_t *body = api_parse_body(req, resp, job_body_members);
    if (!body)
        return;
    struct job job;
    int rc = job_from_json(body, &job, &e);
    json_decref(body);
    if (rc < 0) {
        reply_err(resp, &e);
        return;
    }
    if (!registry_check(&app->cfg, &job, &e) || stamp_job(app, &job, &e) < 0) {
        reply_err(resp, &e);
        job_clear(&job);
        return;
    }
    size_t len = 0;
    char *text = job_serialize(&job, &len);
    job_clear(&job);
    char *sealed = text ? keyring_seal(app->keyring, NULL, 0, (const uint8_t *)text, len, &e) : NULL;
    free(text);
    if (!sealed) {
        if (!e.http)
            err_set(&e, 500, "out of memory");
        reply_err(resp, &e);
        return;
    }
    http_reply_text(resp, 200, sealed, strlen(sealed));
}

/* open_job opens a sealed job signature and parses it; on failure answers with prefix + cause. */
static int open_job(struct app *app, const char *sealed, size_t sealed_len, struct job *job,
                    const char *open_prefix, const char *parse_prefix, struct http_response *resp)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    char cause[512];
    char msg[700];
    if (keyring_open_sealed(app->keyring, NULL, 0, sealed, sealed_len, &plain, &plain_len, cause,
                            sizeof cause) < 0) {
        snprintf(msg, sizeof msg, "%s: %s", open_prefix, cause);
        reply_open_failed(resp, cause, msg);
        return -1;
    }
    struct err e = { 0 };
    int rc = job_parse((const char *)plain, plain_len, job, &e);
    free(plain);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "%s: %s", parse_prefix, e.msg);
        reply_refused(resp, msg);
        return -1;
    }
    return 0;
}

/* reply_uid answers {"uid":"<uuid>"} + "\n", as http_reply_json would write it (a uuid needs no
 * escaping). */
static void reply_uid(struct http_response *resp, const char *uid)
{
    char *text = malloc(sizeof "{\"uid\":\"\"}\n" + 36);
    if (text)
        snprintf(text, sizeof "{\"uid\":\"\"}\n" + 36, "{\"uid\":\"%s\"}\n", uid);
    http_reply_json_text(resp, 200, text, text ? strlen(text) : 0);
}

/* add_answered answers a deferred /job/add once the job server has the outcome. */
static void add_answered(void *ctx, const char *uid, const struct err *e)
{
    struct http_response resp = { 0 };
    if (uid) {
        reply_uid(&resp, uid);
    } else {
        log_debug("/job/add refused (%d): %s", e->http, e->msg);
        reply_admission_err(&resp, e);
    }
    http_deferred_answer(ctx, &resp);
}

void api_job_add(struct app *app, const struct http_request *req, struct http_response *resp)
{
    static const char *const members[] = { "encrypted_job", NULL };
    struct api_strings body;
    if (api_parse_strings(req, resp, members, &body) < 0) {
        api_strings_clear(&body);
        return;
    }
    size_t len = 0;
    const char *sealed = api_strings_get(&body, members, "encrypted_job", &len, resp);
    struct job job;
    if (!sealed || open_job(app, sealed, len, &job, "Error while decrypting job",
                            "Error while decrypting job", resp) < 0) {
        api_strings_clear(&body);
        return;
    }
    api_strings_clear(&body);
    /* With a local store the job is recorded by the store's writer, in a commit shared with the
     * other admissions of the moment; the HTTP thread serves other requests meanwhile. */
    if (jobserver_admits_async(app->jobs)) {
        struct http_deferred *later = http_defer(req);
        if (!later) {
            /* The server is stopping. Recording the job here would hold this HTTP thread on the
             * store, a disk that does not answer included, and the stop waits for the HTTP
             * threads: the client goes elsewhere or comes back after the restart. */
            struct err e = { 0 };
            err_set(&e, 503, "worker shutting down; retry later");
            reply_err(resp, &e);
            job_clear(&job);
            return;
        }
        jobserver_admit_async(app->jobs, &job, add_answered, later);
        return;
    }
    char uid[37];
    struct err e = { 0 };
    if (jobserver_admit(app->jobs, &job, uid, &e) < 0) {
        log_debug("/job/add refused (%d): %s", e.http, e.msg);
        reply_admission_err(resp, &e);
        job_clear(&job);
        return;
    }
    reply_uid(resp, uid);
}

static const char *state_name(int s)
{
    switch (s) {
    case RESULT_QUEUED: return "queued";
    case RESULT_RUNNING: return "running";
    default: return "unknown";
    }
}

static void reply_done(struct app *app, const struct http_request *req,
                       const struct result_view *v, struct http_response *resp)
{
    /* Every poll seals a fresh copy (about 16/9 of the result): counted against the body budget
     * before it exists, so polls the budget refuses allocate nothing. */
    if (!http_reserve_answer(req, seal_sealed_len(v->data_len), resp))
        return;
    struct err e = { 0 };
    char *sealed = keyring_seal(app->keyring, (const uint8_t *)v->quote, v->quote_len,
                                (const uint8_t *)v->data, v->data_len, &e);
    if (!sealed) {
        reply_err(resp, &e);
        return;
    }
    http_reply_text(resp, 200, sealed, strlen(sealed));
    if (v->next_cursor && *v->next_cursor) {
        char *cursor = keyring_seal(app->keyring, (const uint8_t *)v->quote, v->quote_len,
                                    (const uint8_t *)v->next_cursor, strlen(v->next_cursor), &e);
        if (cursor) {
            http_add_header(resp, "X-Next-Cursor", cursor);
            free(cursor);
        }
    }
}

/* The poll a stored result is read for: the request whose answer budget it passes. */
struct status_poll {
    const struct http_request *req;
    struct http_response *resp;
};

/* reserve_stored is the size gate of a result read from the store: the stored text is reserved in
 * the answer budget before it is read. It is the result row in the same sealing envelope as the
 * answer, so it covers the answer too (reply_done's reservation then finds it made, and the
 * charge is settled to the answer's real size when it is sent). Refused: the budget's 503. */
static bool reserve_stored(void *ctx, size_t stored_len)
{
    struct status_poll *poll = ctx;
    return http_reserve_answer(poll->req, stored_len, poll->resp);
}

void api_job_status(struct app *app, const struct http_request *req, struct http_response *resp)
{
    const char *id = req->path + strlen("/job/status/");
    struct result_view v = { 0 };
    struct status_poll poll = { req, resp };
    const struct store_size_gate gate = { reserve_stored, &poll };
    int state = uuid_text_lower_valid(id) ? jobserver_lookup(app->jobs, id, &gate, &v)
                                          : (int)RESULT_UNKNOWN;
    switch (state) {
    case JOBSERVER_LOOKUP_REFUSED:
        break;   /* resp is the budget's 503 (reserve_stored) */
    case JOBSERVER_LOOKUP_UNAVAILABLE: {
        struct err e = { 0 };
        err_set(&e, 503, "job store unavailable; retry later");
        reply_err(resp, &e);
        break;
    }
    case RESULT_DONE:
        reply_done(app, req, &v, resp);
        break;
    case RESULT_FAILED:
        /* The job failed, not the worker: keep it out of the readiness error rate. */
        http_reply_error(resp, 500, v.error ? v.error : "job failed");
        resp->count = HTTP_COUNT_SKIP;
        break;
    default:
        http_reply_json(resp, 404, json_pack("{s:s,s:s}", "error", "Job not found", "status",
                                             state_name(state)));
        break;
    }
    result_view_free(&v);
}

void api_job_result(struct app *app, const struct http_request *req, struct http_response *resp)
{
    static const char *const members[] = { "encrypted_result", "encrypted_request", NULL };
    struct api_strings body;
    if (api_parse_strings(req, resp, members, &body) < 0) {
        api_strings_clear(&body);
        return;
    }
    size_t result_len = 0, request_len = 0;
    const char *result = api_strings_get(&body, members, "encrypted_result", &result_len, resp);
    const char *request = result ? api_strings_get(&body, members, "encrypted_request",
                                                   &request_len, resp)
                                 : NULL;
    struct job job;
    if (!request || open_job(app, request, request_len, &job,
                             "error while unsealing the encrypted request",
                             "error while unmarshalling the job request", resp) < 0) {
        api_strings_clear(&body);
        return;
    }
    /* A result can be megabytes: when the texts are slices of the request body, it is opened in
     * place in the body's buffer, which then carries the plaintext out as the response. */
    char *owned = body.root ? NULL : http_take_body(req);
    char *plain = NULL;
    size_t plain_len = 0;
    char cause[512];
    int rc;
    if (owned) {
        char *text = owned + (result - req->body);
        rc = keyring_open_in_place(app->keyring, (const uint8_t *)job.quote, job.quote_len, text,
                                   result_len, &plain_len, cause, sizeof cause);
        if (rc == 0) {
            memmove(owned, text, plain_len + 1);
            char *shrunk = realloc(owned, plain_len + 1);
            plain = shrunk ? shrunk : owned;
            owned = NULL;
        }
    } else {
        uint8_t *opened = NULL;
        rc = keyring_open_sealed(app->keyring, (const uint8_t *)job.quote, job.quote_len, result,
                                 result_len, &opened, &plain_len, cause, sizeof cause);
        plain = (char *)opened;
    }
    if (rc < 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "error while unsealing the job result: %s", cause);
        reply_open_failed(resp, cause, msg);
    } else {
        http_reply_text(resp, 200, plain, plain_len);
    }
    free(owned);
    job_clear(&job);
    api_strings_clear(&body);
}
