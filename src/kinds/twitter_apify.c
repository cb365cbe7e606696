/* twitter_apify.c - the `twitter-apify` job kind (getfollowers, getfollowing) and the follower
 * page fetch the `twitter` kind shares (twitter.md 7, jobs-and-capabilities.md 2.5).
 *
 * Arguments are the Twitter family's record: type (lower-cased; "" = getfollowers), query (the
 * screen name, required here: an empty one would pay for a run that finds nobody), max_results
 * and count (>= 0), next_cursor; start_time/end_time accepted and unused. Offered only when Apify
 * is available. Failures carry the actor's real reason, not Go's bare "error executing job". */
#include "kinds/twitter_apify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/stats.h"
#include "kinds/go_args.h"
#include "kinds/twitter_backend.h"
#include "net/apify.h"
#include "util/utf8.h"

#define FOLLOWERS_FLOOR 200
#define ARGS_PREFIX "error unmarshalling job arguments: "

static const char *const twitter_apify_capabilities[] = { "getfollowers", "getfollowing", NULL };

json_t *twitter_apify_actor_input(bool following, const char *username, int64_t max_results)
{
    json_int_t wanted = max_results > FOLLOWERS_FLOOR ? max_results : FOLLOWERS_FLOOR;
    return json_pack("{s:[s], s:[], s:I, s:I, s:b, s:b}", "user_names", username ? username : "",
                     "user_ids", "maxFollowers", following ? (json_int_t)FOLLOWERS_FLOOR : wanted,
                     "maxFollowings", following ? wanted : (json_int_t)FOLLOWERS_FLOOR,
                     "getFollowers", !following, "getFollowing", following);
}

int twitter_apify_followers(struct job_ctx *ctx, const char *worker_id, bool following,
                            const char *username, int64_t max_results, const char *cursor,
                            struct job_result *out)
{
    const char *what = following ? "getfollowing" : "getfollowers";
    if (!ctx->cfg->apify_api_key || !*ctx->cfg->apify_api_key)
        return err_set(&out->err, 503, "%s via Apify: APIFY_API_KEY is not configured on this "
                       "worker", what);
    json_t *input = twitter_apify_actor_input(following, username, max_results);
    if (!input)
        return err_set(&out->err, 500, "out of memory while building the actor input");
    stats_add(ctx->stats, worker_id, "twitter_scrapes", 1);
    struct apify_call call = {
        .actor = TWITTER_APIFY_ACTOR,
        .input = input,
        .cursor = cursor,
        .limit = max_results > 0 ? (size_t)max_results : FOLLOWERS_FLOOR,
    };
    struct apify_page page;
    int rc = apify_run_page(ctx->cfg, &ctx->deadline, &call, &page, &out->err);
    json_decref(input);
    if (rc < 0) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "%s via Apify", what);
        return apify_err_prefix(&out->err, prefix);
    }
    json_t *profiles = twitter_apify_profiles_decode(page.items);
    rc = profiles ? job_result_set_json(out, profiles)
                  : err_set(&out->err, 500, "out of memory while decoding profiles");
    if (rc == 0) {
        stats_add(ctx->stats, worker_id, "twitter_returned_followers", json_array_size(profiles));
        out->next_cursor = page.next_cursor;
        page.next_cursor = NULL;
    }
    json_decref(profiles);
    apify_page_clear(&page);
    return rc;
}

/* ---- the kind ---- */

struct twitter_apify_args {
    bool following;
    const char *query, *cursor;
    int64_t max_results;
};

static int parse_args(const json_t *args, struct twitter_apify_args *a, struct err *e)
{
    struct twitter_raw_args raw;
    memset(a, 0, sizeof *a);
    a->query = a->cursor = "";
    if (twitter_args_read(args, &raw, e) < 0)
        return -1;
    a->query = raw.query;
    a->cursor = raw.cursor;
    a->max_results = raw.max_results;
    char *lowered = go_lower(raw.type);
    if (!lowered)
        return err_set(e, 500, "out of memory");
    bool followers = !*lowered || strcmp(lowered, "getfollowers") == 0;
    a->following = strcmp(lowered, "getfollowing") == 0;
    if (!followers && !a->following) {
        err_set(e, 400, ARGS_PREFIX "capability '%.*s' is not valid for job type "
                "'twitter-apify'. Valid capabilities: [getfollowers getfollowing]",
                utf8_print_len(lowered, 64), lowered);
        free(lowered);
        return -1;
    }
    free(lowered);
    if (!*a->query)
        return err_set(e, 400, ARGS_PREFIX "query (the screen name whose %s to list) is required",
                       a->following ? "followings" : "followers");
    return 0;
}

static int twitter_apify_validate(const json_t *arguments, struct err *e)
{
    struct twitter_apify_args a;
    return parse_args(arguments, &a, e);
}

static int twitter_apify_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct twitter_apify_args a;
    if (parse_args(job->arguments, &a, &out->err) < 0)
        return -1;
    return twitter_apify_followers(ctx, job->worker_id, a.following, a.query, a.max_results,
                                   a.cursor, out);
}

const struct job_kind twitter_apify_kind = {
    .type = "twitter-apify",
    .capabilities = twitter_apify_capabilities,
    .available = apify_available,
    .validate = twitter_apify_validate,
    .run = twitter_apify_run,
};
