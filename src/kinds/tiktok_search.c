/* tiktok_search.c - searchbyquery and searchbytrending for the `tiktok` kind through Apify actors
 * (tiktok-reddit-apify.md 1.10; see tiktok_search.h for who calls what).
 *
 * One job = one actor run and one dataset page: offset from next_cursor (Go always used 0; a
 * client can page here), limit max_items or 20. Values are forwarded as typed; the actor input
 * keys go out in Go's (alphabetical) order. Errors: "apify run (search): <reason>" and
 * "apify run (trending): <reason>", as Go, with Apify's real reason. */
#include "kinds/tiktok_search.h"
#include "kinds/json_record.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/stats.h"
#include "kinds/go_args.h"
#include "net/apify.h"
#include "util/utf8.h"

#define QUERY_ACTOR "epctex~tiktok-search-scraper"
#define TRENDING_ACTOR "lexis-solutions~tiktok-trending-videos-scraper"
#define DEFAULT_LIMIT 20
#define ARGS_PREFIX "Failed to unmarshal job arguments: "

const char *const tiktok_search_capabilities[] = { "searchbyquery", "searchbytrending", NULL };

struct search_args {
    bool trending;
    const json_t *search, *start_urls;      /* query */
    uint64_t max_items, end_page;           /* query (max_items also trending, >= 0) */
    const char *country_code, *sort_by, *period; /* trending */
    const char *cursor;
};

bool tiktok_search_handles(const char *type)
{
    return type && (strcmp(type, "searchbyquery") == 0 || strcmp(type, "searchbytrending") == 0);
}

bool tiktok_search_available(const struct config *cfg)
{
    return apify_available(cfg);
}

static bool in_set(const char *v, const char *const *set, bool upper)
{
    for (; *set; set++)
        if (upper ? strcasecmp(v, *set) == 0 : strcmp(v, *set) == 0)
            return true;
    return false;
}

static int parse_query(const json_t *args, struct search_args *a, char *msg)
{
    if (go_arg_strings(args, "search", &a->search, msg) ||
        go_arg_strings(args, "start_urls", &a->start_urls, msg) ||
        go_arg_uint(args, "max_items", &a->max_items, msg) ||
        go_arg_uint(args, "end_page", &a->end_page, msg))
        return -1;
    if (!json_array_size(a->search) && !json_array_size(a->start_urls)) {
        snprintf(msg, GO_ARGS_MSG, "either 'search' or 'start_urls' is required for searchbyquery");
        return -1;
    }
    return 0;
}

static int parse_trending(const json_t *args, struct search_args *a, char *msg)
{
    static const char *const countries[] = {
        "AU", "BR", "CA", "EG", "FR", "DE", "ID", "IL", "IT", "JP", "MY", "PH", "RU", "SA", "SG",
        "KR", "ES", "TW", "TH", "TR", "AE", "GB", "US", "VN", NULL };
    static const char *const sorts[] = { "vv", "like", "comment", "repost", NULL };
    static const char *const periods[] = { "7", "30", NULL };
    int64_t max_items = 0;
    a->country_code = a->sort_by = a->period = "";
    if (go_arg_string(args, "country_code", &a->country_code, msg) ||
        go_arg_string(args, "sort_by", &a->sort_by, msg) ||
        go_arg_string(args, "period", &a->period, msg) ||
        go_arg_int(args, "max_items", &max_items, msg))
        return -1;
    if (!*a->country_code)
        a->country_code = "US";
    if (!*a->sort_by)
        a->sort_by = "vv";
    if (!*a->period)
        a->period = "7";
    if (!in_set(a->country_code, countries, true))
        snprintf(msg, GO_ARGS_MSG, "invalid country_code '%.*s'",
                 utf8_print_len(a->country_code, 32), a->country_code);
    else if (!in_set(a->sort_by, sorts, true))
        snprintf(msg, GO_ARGS_MSG, "invalid sort_by '%.*s'", utf8_print_len(a->sort_by, 32),
                 a->sort_by);
    else if (!in_set(a->period, periods, false))
        snprintf(msg, GO_ARGS_MSG, "invalid period '%.*s' (allowed: 7, 30)",
                 utf8_print_len(a->period, 32), a->period);
    else if (max_items < 0)
        snprintf(msg, GO_ARGS_MSG, "max_items must be non-negative, got: %lld",
                 (long long)max_items);
    else {
        a->max_items = (uint64_t)max_items;
        return 0;
    }
    return -1;
}

static int parse_args(const char *type, const json_t *args, struct search_args *a, struct err *e)
{
    char msg[GO_ARGS_MSG] = "";
    memset(a, 0, sizeof *a);
    a->cursor = "";
    a->trending = strcmp(type, "searchbytrending") == 0;
    if (!tiktok_search_handles(type))
        return err_set(e, 400, ARGS_PREFIX "unknown tiktok type: %.64s", type);
    if (go_arg_string(args, "next_cursor", &a->cursor, msg) ||
        (a->trending ? parse_trending(args, a, msg) : parse_query(args, a, msg)))
        return err_set(e, 400, ARGS_PREFIX "%s", msg);
    return 0;
}

int tiktok_search_validate(const char *type, const json_t *arguments, struct err *e)
{
    struct search_args a;
    return parse_args(type, arguments, &a, e);
}

static json_t *actor_input(const struct search_args *a)
{
    if (a->trending)
        return json_pack("{s:s, s:I, s:s, s:s}", "countryCode", a->country_code, "maxItems",
                         (json_int_t)a->max_items, "period", a->period, "sortBy", a->sort_by);
    return json_pack("{s:I, s:I, s:{s:b}, s:o, s:o}", "endPage", (json_int_t)a->end_page,
                     "maxItems", (json_int_t)a->max_items, "proxy", "useApifyProxy", 1,
                     "search", record_strings_copy(a->search), "startUrls",
                     record_strings_copy(a->start_urls));
}

static json_t *decode_items(const struct search_args *a, const json_t *raw)
{
    return record_decode_items(raw, a->trending ? tiktok_trending_item_decode : tiktok_query_item_decode,
                               "tiktok");
}

static int fetch(const struct search_args *a, struct job_ctx *ctx, struct apify_page *page,
                 struct err *e)
{
    json_t *input = actor_input(a);
    if (!input)
        return err_set(e, 500, "out of memory while building the actor input");
    struct apify_call call = {
        .actor = a->trending ? TRENDING_ACTOR : QUERY_ACTOR,
        .input = input,
        .cursor = a->cursor,
        .limit = a->max_items ? (size_t)a->max_items : DEFAULT_LIMIT,
    };
    int rc = apify_run_page(ctx->cfg, &ctx->deadline, &call, page, e);
    json_decref(input);
    return rc;
}

/* set_data: the array of videos, or the literal null when none decoded (as Go's nil slice). */
static int set_data(struct job_result *out, const json_t *videos)
{
    return json_array_size(videos) ? job_result_set_json(out, videos)
                                   : job_result_set_text(out, "null");
}

int tiktok_search_run(const char *type, const struct job *job, struct job_ctx *ctx,
                      struct job_result *out)
{
    struct search_args a;
    if (parse_args(type, job->arguments, &a, &out->err) < 0)
        return -1;
    const char *prefix = a.trending ? "apify run (trending)" : "apify run (search)";
    if (!ctx->cfg->apify_api_key || !*ctx->cfg->apify_api_key) {
        err_set(&out->err, 503, "APIFY_API_KEY is not configured on this worker");
        return apify_err_prefix(&out->err, prefix);
    }
    struct apify_page page;
    if (fetch(&a, ctx, &page, &out->err) < 0) {
        stats_add(ctx->stats, job->worker_id, "tiktok_errors", 1);
        return apify_err_prefix(&out->err, prefix);
    }
    json_t *videos = decode_items(&a, page.items);
    int rc = -1;
    if (!videos) {
        err_set(&out->err, 500, "out of memory while decoding TikTok items");
    } else {
        rc = set_data(out, videos);
    }
    if (rc == 0) {
        stats_add(ctx->stats, job->worker_id, "tiktok_queries", 1);
        stats_add(ctx->stats, job->worker_id, "tiktok_returned_videos", json_array_size(videos));
        out->next_cursor = page.next_cursor;
        page.next_cursor = NULL;
    }
    json_decref(videos);
    apify_page_clear(&page);
    return rc;
}
