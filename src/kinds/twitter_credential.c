/* twitter_credential.c - the credential backend (logged-in X web client) and the
 * `twitter-credential` job kind, which forces it (twitter.md 2.1, 3.1, 9;
 * jobs-and-capabilities.md 2.5; DECISIONS.md "Twitter").
 *
 * The backend serves all fifteen operations whenever an account is configured (TWITTER_ACCOUNTS
 * or TWITTER_COOKIES_FILE); the work is twitter_web_ops.c's on the pool of twitter_accounts.c.
 * `twitter-credential` is offered when accounts are configured and advertises exactly the
 * fifteen; unlike Go it accepts the searchbyfullarchive it advertises (run as a Latest search,
 * twitter.md 11.8). */
#include <string.h>

#include "config.h"
#include "jobs/job.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_backend.h"
#include "kinds/twitter_web_ops.h"
#include "kinds/twitter_web_session.h"

#define JOB_TYPE "twitter-credential"

struct twitter_offer twitter_credential_offer = TWITTER_OFFER_INIT;

static bool credential_serves(const struct config *cfg, enum twitter_op op)
{
    return op < TW_OP_COUNT && tw_accounts_configured(cfg);
}

static int credential_run(const struct twitter_request *req, struct job_ctx *ctx,
                          struct job_result *out)
{
    return tw_ops_run(req, ctx, out);
}

const struct twitter_backend twitter_credential_backend = {
    .name = "credential",
    .config_hint = "TWITTER_ACCOUNTS",
    .serves = credential_serves,
    .run = credential_run,
};

/* ---- the kind ---- */

static bool credential_available(const struct config *cfg)
{
    return tw_accounts_configured(cfg) &&
           twitter_offer_decide(&twitter_credential_offer, cfg, credential_serves);
}

static int parse(const json_t *arguments, struct twitter_request *req, struct err *e)
{
    return twitter_offer_parse(&twitter_credential_offer, arguments, JOB_TYPE,
                               "it needs Twitter accounts (TWITTER_ACCOUNTS or "
                               "TWITTER_COOKIES_FILE)", req, e);
}

static int credential_validate(const json_t *arguments, struct err *e)
{
    struct twitter_request req;
    return parse(arguments, &req, e);
}

static int credential_job(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct twitter_request req;
    if (parse(job->arguments, &req, &out->err) < 0)
        return -1;
    req.worker_id = job->worker_id;
    int rc = tw_ops_run(&req, ctx, out);
    if (rc == TWITTER_BACKEND_NO_SESSION) {
        if (!out->err.http)
            err_set(&out->err, 503, "no Twitter credentials available");
        return -1;
    }
    return rc;
}

const struct job_kind twitter_credential_kind = {
    .type = JOB_TYPE,
    .capabilities = twitter_credential_offer.caps,
    .available = credential_available,
    .validate = credential_validate,
    .run = credential_job,
};

void twitter_credential_reset(void)
{
    twitter_offer_forget(&twitter_credential_offer);
    tw_session_reset();
    tw_accounts_reset();
    tw_ops_reset();
}
