/* twitter_api.c - the API-key backend (X API v2) and the `twitter-api` job kind, which forces it
 * (twitter.md 2.1, 3.1, 6, 9; jobs-and-capabilities.md 1.5 and 2.5).
 *
 * The backend serves searchbyquery, getbyid and getprofilebyid whenever TWITTER_API_KEYS has a
 * key, and searchbyfullarchive when the start-up probe found an elevated key. `twitter-api` is
 * offered when keys are configured and advertises exactly those operations; arguments naming
 * anything else are refused with 400 at /job/generate and /job/add, with the reason (a
 * full-archive search without an elevated key names TWITTER_API_KEYS). The requests themselves
 * are twitter_v2_client.c's; the key pool twitter_keys.c's. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "jobs/job.h"
#include "kinds/twitter_backend.h"
#include "kinds/twitter_keys.h"
#include "kinds/twitter_v2.h"

#define JOB_TYPE "twitter-api"

struct twitter_offer twitter_api_offer = TWITTER_OFFER_INIT;

static bool api_serves(const struct config *cfg, enum twitter_op op)
{
    if (!twitter_keys_configured(cfg))
        return false;
    switch (op) {
    case TW_OP_SEARCHBYQUERY:
    case TW_OP_GETBYID:
    case TW_OP_GETPROFILEBYID:
        return true;
    case TW_OP_SEARCHBYFULLARCHIVE:
        return twitter_keys_any_elevated(cfg);
    default:
        return false;
    }
}

static int api_run(const struct twitter_request *req, struct job_ctx *ctx, struct job_result *out)
{
    switch (req->op) {
    case TW_OP_SEARCHBYQUERY:
    case TW_OP_SEARCHBYFULLARCHIVE:
        return twitter_v2_search(req, ctx, out);
    case TW_OP_GETBYID:
        return twitter_v2_get_tweet(req, ctx, out);
    case TW_OP_GETPROFILEBYID:
        return twitter_v2_get_profile(req, ctx, out);
    default:
        return err_set(&out->err, 400, "the X API backend cannot run %s",
                       twitter_op_name(req->op));
    }
}

const struct twitter_backend twitter_api_backend = {
    .name = "api",
    .config_hint = "TWITTER_API_KEYS",
    .serves = api_serves,
    .run = api_run,
};

/* ---- the kind ---- */

static bool twitter_api_available(const struct config *cfg)
{
    return twitter_keys_configured(cfg) && twitter_offer_decide(&twitter_api_offer, cfg,
                                                                api_serves);
}

static int parse(const json_t *arguments, struct twitter_request *req, struct err *e)
{
    if (twitter_offer_parse(&twitter_api_offer, arguments, JOB_TYPE,
                            "no X API key in TWITTER_API_KEYS has full-archive (elevated) "
                            "access", req, e) < 0)
        return -1;
    /* a search cursor the search could not read is refused now, not when the job runs */
    return twitter_v2_check_cursor(req, e);
}

static int twitter_api_validate(const json_t *arguments, struct err *e)
{
    struct twitter_request req;
    return parse(arguments, &req, e);
}

static int twitter_api_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct twitter_request req;
    if (parse(job->arguments, &req, &out->err) < 0)
        return -1;
    req.worker_id = job->worker_id;
    int rc = api_run(&req, ctx, out);
    return rc < 0 ? -1 : rc;
}

const struct job_kind twitter_api_kind = {
    .type = JOB_TYPE,
    .capabilities = twitter_api_offer.caps,
    .available = twitter_api_available,
    .validate = twitter_api_validate,
    .run = twitter_api_run,
};
