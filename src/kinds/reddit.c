/* reddit.c - the `reddit` job kind: four operations through the trudax~reddit-scraper actor
 * (tiktok-reddit-apify.md 2, jobs-and-capabilities.md 2.4 and 3.3).
 *
 * Offered only when Apify is available (apify_available: a key is set and the start-up check did
 * not reject it). A job runs one actor run and reads one dataset page: offset from next_cursor,
 * page size max_results; data is the array of decoded items ([] when none), next_cursor the
 * following page when this one was full. Stats (2.6): reddit_queries +1 per run attempted,
 * reddit_errors +1 per failed run, reddit_returned_items += items returned. */
#include "config.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "jobs/stats.h"
#include "kinds/reddit_args.h"
#include "kinds/reddit_items.h"
#include "net/apify.h"

#define REDDIT_ACTOR "trudax~reddit-scraper"
#define REDDIT_ERROR_PREFIX "error while scraping Reddit"

static const char *const reddit_capabilities[] = {
    "scrapeurls", "searchposts", "searchusers", "searchcommunities", NULL,
};

static int reddit_validate(const json_t *arguments, struct err *e)
{
    struct reddit_args a;
    return reddit_args_parse(arguments, &a, e);
}

static int reddit_fetch(const struct reddit_args *a, struct job_ctx *ctx, struct apify_page *page,
                        struct err *e)
{
    json_t *input = reddit_actor_input(a);
    if (!input)
        return err_set(e, 500, "out of memory while building the Reddit actor input");
    struct apify_call call = {
        .actor = REDDIT_ACTOR,
        .input = input,
        .cursor = a->next_cursor,
        .limit = (size_t)a->max_results,
    };
    int rc = apify_run_page(ctx->cfg, &ctx->deadline, &call, page, e);
    json_decref(input);
    return rc;
}

static int reddit_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    struct reddit_args a;
    if (reddit_args_parse(job->arguments, &a, &out->err) < 0)
        return -1;
    if (!ctx->cfg->apify_api_key || !*ctx->cfg->apify_api_key)
        return err_set(&out->err, 503, REDDIT_ERROR_PREFIX ": APIFY_API_KEY is not configured "
                       "on this worker");
    stats_add(ctx->stats, job->worker_id, "reddit_queries", 1);
    struct apify_page page;
    if (reddit_fetch(&a, ctx, &page, &out->err) < 0) {
        stats_add(ctx->stats, job->worker_id, "reddit_errors", 1);
        return apify_err_prefix(&out->err, REDDIT_ERROR_PREFIX);
    }
    json_t *items = reddit_items_decode(page.items);
    int rc = items ? job_result_set_json(out, items)
                   : err_set(&out->err, 500, "out of memory while decoding Reddit items");
    if (rc == 0) {
        stats_add(ctx->stats, job->worker_id, "reddit_returned_items", json_array_size(items));
        out->next_cursor = page.next_cursor;
        page.next_cursor = NULL;
    }
    json_decref(items);
    apify_page_clear(&page);
    return rc;
}

const struct job_kind reddit_kind = {
    .type = "reddit",
    .capabilities = reddit_capabilities,
    .available = apify_available,
    .validate = reddit_validate,
    .run = reddit_run,
};
