/* twitter.c - the `twitter` job kind: each operation goes to the best backend that can serve it
 * (twitter.md 3.1, jobs-and-capabilities.md 1.5 and 2.5, DECISIONS.md "Capabilities").
 *
 * Backends by priority, per operation (the seed README's order):
 *   getfollowers, getfollowing             Apify > credentials
 *   searchbyquery, searchbyfullarchive     credentials > API keys
 *   getbyid, getprofilebyid                credentials > API keys (Go never used keys here
 *                                          although it advertised these; we do)
 *   everything else                        credentials
 * The credential backend (twitter_credential.c) serves every operation when accounts are
 * configured; without accounts `twitter` offers what the API keys and Apify can serve.
 *
 * Offer = the operations some backend serves, decided once at start-up (twitter_offer); it is
 * both the capability list and what validation accepts: an operation no configured backend can
 * serve is refused with 400 naming the configuration it needs. Unlike Go, `twitter` is offered
 * with an Apify key alone (for followers/following), since it can serve those.
 *
 * A search whose first backend is the API-key one (no accounts) has its next_cursor checked as
 * `twitter-api` checks it, at validation.
 *
 * At run time the first backend of the operation's list that serves it runs the job; if it
 * could not obtain an account or key at all (TWITTER_BACKEND_NO_SESSION) the next one is tried,
 * otherwise its result or its error (with the real reason) is the job's. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "jobs/job.h"
#include "kinds/twitter_apify.h"
#include "kinds/twitter_backend.h"
#include "kinds/twitter_keys.h"
#include "kinds/twitter_v2.h"
#include "log.h"
#include "net/apify.h"

#define JOB_TYPE "twitter"

enum backend_id { TWB_CREDENTIAL, TWB_API, TWB_APIFY, TWB_NONE };

static const struct twitter_backend *const backends[TWB_NONE] = {
    [TWB_CREDENTIAL] = &twitter_credential_backend,
    [TWB_API] = &twitter_api_backend,
    [TWB_APIFY] = &twitter_apify_backend,
};

/* What configures each backend, for refusals (also when the backend is not built). */
static const char *const backend_needs[TWB_NONE] = {
    [TWB_CREDENTIAL] = "Twitter accounts (TWITTER_ACCOUNTS or TWITTER_COOKIES_FILE)",
    [TWB_API] = "X API keys (TWITTER_API_KEYS)",
    [TWB_APIFY] = "an Apify key (APIFY_API_KEY)",
};

#define MAX_CHOICES 2
static const enum backend_id priority[TW_OP_COUNT][MAX_CHOICES] = {
    [TW_OP_SEARCHBYQUERY] = { TWB_CREDENTIAL, TWB_API },
    [TW_OP_SEARCHBYFULLARCHIVE] = { TWB_CREDENTIAL, TWB_API },
    [TW_OP_SEARCHBYPROFILE] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETBYID] = { TWB_CREDENTIAL, TWB_API },
    [TW_OP_GETREPLIES] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETRETWEETERS] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETTWEETS] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETMEDIA] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETHOMETWEETS] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETFORYOUTWEETS] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETPROFILEBYID] = { TWB_CREDENTIAL, TWB_API },
    [TW_OP_GETTRENDS] = { TWB_CREDENTIAL, TWB_NONE },
    [TW_OP_GETFOLLOWING] = { TWB_APIFY, TWB_CREDENTIAL },
    [TW_OP_GETFOLLOWERS] = { TWB_APIFY, TWB_CREDENTIAL },
    [TW_OP_GETSPACE] = { TWB_CREDENTIAL, TWB_NONE },
};

static struct twitter_offer twitter_offer = TWITTER_OFFER_INIT;

/* ---- the Apify backend (followers/following; the work is twitter_apify.c's) ---- */

static bool apify_serves(const struct config *cfg, enum twitter_op op)
{
    return (op == TW_OP_GETFOLLOWERS || op == TW_OP_GETFOLLOWING) && apify_available(cfg);
}

static int apify_run(const struct twitter_request *req, struct job_ctx *ctx,
                     struct job_result *out)
{
    return twitter_apify_followers(ctx, req->worker_id, req->op == TW_OP_GETFOLLOWING,
                                   req->query, req->max_results, req->cursor, out);
}

const struct twitter_backend twitter_apify_backend = {
    .name = "apify",
    .config_hint = "APIFY_API_KEY",
    .serves = apify_serves,
    .run = apify_run,
};

/* ---- routing ---- */

static const struct twitter_backend *backend_at(enum twitter_op op, int choice)
{
    enum backend_id id = priority[op][choice];
    return id < TWB_NONE ? backends[id] : NULL;
}

static bool twitter_serves(const struct config *cfg, enum twitter_op op)
{
    for (int c = 0; c < MAX_CHOICES; c++) {
        const struct twitter_backend *b = backend_at(op, c);
        if (b && b->serves(cfg, op))
            return true;
    }
    return false;
}

/* refuse: 400 naming what op needs (the backends of its list, in priority order). */
static int refuse(enum twitter_op op, struct err *e)
{
    char needs[200] = "";
    size_t used = 0;
    for (int c = 0; c < MAX_CHOICES && priority[op][c] != TWB_NONE; c++) {
        const char *what = backend_needs[priority[op][c]];
        if (op == TW_OP_SEARCHBYFULLARCHIVE && priority[op][c] == TWB_API)
            what = "an X API key with full-archive (elevated) access (TWITTER_API_KEYS)";
        int w = snprintf(needs + used, sizeof needs - used, "%s%s", used ? " or " : "", what);
        if (w < 0 || (size_t)w >= sizeof needs - used)
            break;
        used += (size_t)w;
    }
    return err_set(e, 400, "capability '%s' is not available on this worker: it needs %s",
                   twitter_op_name(op), needs);
}

/* first_backend: the backend the job of op goes to first under cfg (NULL when none serves). */
static const struct twitter_backend *first_backend(const struct config *cfg, enum twitter_op op)
{
    for (int c = 0; c < MAX_CHOICES; c++) {
        const struct twitter_backend *b = backend_at(op, c);
        if (b && b->serves(cfg, op))
            return b;
    }
    return NULL;
}

static int parse(const struct config *cfg, const json_t *arguments, struct twitter_request *req,
                 struct err *e)
{
    if (twitter_args_parse(arguments, JOB_TYPE, req, e) < 0)
        return -1;
    if (!twitter_offer.ops[req->op])
        return refuse(req->op, e);
    /* a search going to the API-key backend reads its cursor as that backend does (as
     * `twitter-api` checks it): one it cannot read is refused now, not when the job runs */
    if (first_backend(cfg, req->op) == &twitter_api_backend)
        return twitter_v2_check_cursor(req, e);
    return 0;
}

static int route(const struct twitter_request *req, struct job_ctx *ctx, struct job_result *out)
{
    int rc = TWITTER_BACKEND_NO_SESSION;
    for (int c = 0; c < MAX_CHOICES && rc == TWITTER_BACKEND_NO_SESSION; c++) {
        const struct twitter_backend *b = backend_at(req->op, c);
        if (!b || !b->serves(ctx->cfg, req->op))
            continue;
        if (out->err.http)
            log_info("twitter: %s: trying the %s backend after: %s", twitter_op_name(req->op),
                     b->name, out->err.msg);
        job_result_clear(out);
        rc = b->run(req, ctx, out);
    }
    if (rc == TWITTER_BACKEND_NO_SESSION && !out->err.http)
        err_set(&out->err, 503, "no Twitter accounts or API keys available for %s",
                twitter_op_name(req->op));
    return rc < 0 ? -1 : 0;
}

/* ---- the kind ---- */

static bool twitter_available(const struct config *cfg)
{
    return twitter_offer_decide(&twitter_offer, cfg, twitter_serves);
}

static int twitter_validate(const struct config *cfg, const json_t *arguments, struct err *e)
{
    struct twitter_request req;
    return parse(cfg, arguments, &req, e);
}

static int twitter_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct twitter_request req;
    if (parse(ctx->cfg, job->arguments, &req, &out->err) < 0)
        return -1;
    req.worker_id = job->worker_id;
    return route(&req, ctx, out);
}

const struct job_kind twitter_kind = {
    .type = JOB_TYPE,
    .capabilities = twitter_offer.caps,
    .available = twitter_available,
    .run = twitter_run,
    .validate_for = twitter_validate,
};

void twitter_kinds_reset(void)
{
    twitter_offer_forget(&twitter_offer);
    twitter_offer_forget(&twitter_api_offer);
    twitter_keys_reset();
    twitter_credential_reset();
}
