/* twitter_web_ops.c - the fifteen operations of the credential backend (twitter.md 5.10 for
 * what each does, twitter-modern.md 1.3 for the GraphQL operation and variables sent today,
 * twitter_web_parse.h for the result shapes of twitter.md 8).
 *
 * Paging, the same for every list operation (fixing Go's tweet-id cursors, ignored cursors and
 * whole pages, twitter.md 11.7/11.13): start from next_cursor when given; fetch pages of
 * min(remaining, page cap) until max_results items are collected, X sends no new cursor (or one
 * this job already followed), or three pages in a row brought nothing new (an item already
 * collected is passed over, not returned twice); max_results 0 means one page of
 * TW_OPS_DEFAULT_COUNT, except for searches, where it is the target as in Go (and the API-key
 * backend): [] without a request. The job's next_cursor (delivered as X-Next-Cursor) is X's
 * Bottom cursor after the last page used. When a later page fails for want of accounts (all rate
 * limited or bad) or time, the items collected so far are returned with the cursor to go on from.
 * twitter_scrapes counts one per job, but one per page for gettweets, getmedia and the home
 * timelines, whose pages Go's pager makes one operation call each (twitter.md 4, 5.10).
 * Operations taking a screen name (gettweets, getmedia, getfollowers, getfollowing) resolve it to
 * a user id with UserByScreenName first; ids are cached process-wide. Nothing found is [] for
 * searches and timelines but null for getreplies, getretweeters, getfollowers and getfollowing,
 * as Go's nil lists (twitter.md 8.6). */
#include "kinds/twitter_web_ops.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/kind.h"
#include "kinds/twitter_web_call.h"
#include "kinds/twitter_web_parse.h"
#include "log.h"

#define TW_OPS_DEFAULT_COUNT 20
#define MAX_EMPTY_PAGES 3
#define MAX_CACHED_IDS 10000
#define TRENDING_TIMELINE_ID "VGltZWxpbmU6DAC2CwABAAAACHRyZW5kaW5nAAA"

/* ---- screen name -> user id cache ---- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *id_cache;

static char *cached_id(const char *name)
{
    pthread_mutex_lock(&cache_lock);
    const char *v = json_string_value(json_object_get(id_cache, name));
    char *id = v ? strdup(v) : NULL;
    pthread_mutex_unlock(&cache_lock);
    return id;
}

static void cache_id(const char *name, const char *id)
{
    pthread_mutex_lock(&cache_lock);
    if (!id_cache)
        id_cache = json_object();
    if (id_cache && json_object_size(id_cache) >= MAX_CACHED_IDS)
        json_object_clear(id_cache);
    if (id_cache)
        json_object_set_new(id_cache, name, json_string(id));
    pthread_mutex_unlock(&cache_lock);
}

void tw_ops_reset(void)
{
    pthread_mutex_lock(&cache_lock);
    json_decref(id_cache);
    id_cache = NULL;
    pthread_mutex_unlock(&cache_lock);
}

/* ---- helpers ---- */

static int parse_failure(struct tw_job *j, enum tw_gql g, const char *why, struct err *e)
{
    tw_job_count(j, "twitter_errors", 1);
    return err_set(e, 502, "%s: %s", tw_gql_name(g), why);
}

/* single: one call of g whose answer parse() turns into the job's data. */
static int single(struct tw_job *j, enum tw_gql g, json_t *vars, json_t *toggles,
                  json_t *(*parse)(const char *body, size_t len, const char *arg, char *why,
                                   size_t whylen),
                  const char *arg, const char *stat, struct job_result *out)
{
    struct tw_web_answer ans;
    int rc = tw_job_gql(j, g, vars, toggles, &ans, &out->err);
    json_decref(vars);
    json_decref(toggles);
    if (rc != 0)
        return rc;
    char why[TWITTER_WEB_WHY] = "";
    json_t *v = parse(ans.body, ans.body_len, arg, why, sizeof why);
    tw_web_answer_clear(&ans);
    if (!v) {
        bool missing = strstr(why, "not found") || strstr(why, "suspended") ||
                       strstr(why, "does not exist");
        tw_job_count(j, "twitter_errors", 1);
        return err_set(&out->err, missing ? 404 : 502, "%s", why);
    }
    rc = job_result_set_json(out, v);
    if (rc == 0)
        tw_job_count(j, stat, json_is_array(v) ? json_array_size(v) : json_is_null(v) ? 0 : 1);
    json_decref(v);
    return rc;
}

static json_t *parse_user(const char *body, size_t len, const char *arg, char *why, size_t n)
{
    return twitter_web_parse_user(body, len, arg, why, n);
}

static json_t *parse_tweet(const char *body, size_t len, const char *arg, char *why, size_t n)
{
    return twitter_web_parse_tweet(body, len, arg, why, n);
}

static json_t *parse_trends(const char *body, size_t len, const char *arg, char *why, size_t n)
{
    (void)arg;
    return twitter_web_parse_trends(body, len, why, n);
}

static json_t *parse_space(const char *body, size_t len, const char *arg, char *why, size_t n)
{
    (void)arg;
    return twitter_web_parse_space(body, len, why, n);
}

/* screen_name: the query without a leading '@'. */
static const char *screen_name(const char *q)
{
    return q[0] == '@' ? q + 1 : q;
}

/* user_id: the rest id of screen name `name` (cache, else UserByScreenName). */
static int user_id(struct tw_job *j, const char *name, char **id, struct err *e)
{
    char key[128];
    size_t k = 0;
    for (; name[k] && k < sizeof key - 1; k++)
        key[k] = (char)tolower((unsigned char)name[k]);
    key[k] = '\0';
    if ((*id = cached_id(key)))
        return 0;
    json_t *vars = json_pack("{s:s, s:b}", "screen_name", name, "withSafetyModeUserFields", 1);
    struct tw_web_answer ans;
    int rc = tw_job_gql(j, TWG_USER_BY_SCREEN_NAME, vars, NULL, &ans, e);
    json_decref(vars);
    if (rc != 0)
        return rc;
    char why[TWITTER_WEB_WHY] = "";
    json_t *p = twitter_web_parse_user(ans.body, ans.body_len, name, why, sizeof why);
    tw_web_answer_clear(&ans);
    const char *uid = json_string_value(json_object_get(p, "UserID"));
    if (!uid || !*uid) {
        json_decref(p);
        tw_job_count(j, "twitter_errors", 1);
        return err_set(e, 404, "%s", why[0] ? why : "user not found");
    }
    *id = strdup(uid);
    json_decref(p);
    if (!*id)
        return err_set(e, 500, "out of memory");
    cache_id(key, *id);
    return 0;
}

/* ---- the pager ---- */

struct pager {
    enum tw_gql g;
    enum twitter_web_timeline kind;
    json_t *vars;               /* base variables (owned) */
    json_t *toggles;            /* owned, may be NULL */
    const char *focal;          /* TweetDetail */
    bool counted;               /* the operation takes a `count` variable */
    int cap;                    /* page size cap */
    const char *stat;
    bool scrape_per_page;       /* each page is an operation call of its own (Go's pager P:
                                 * gettweets, getmedia, home timelines; twitter.md 4, 5.10) */
    bool null_when_empty;       /* nothing found is null, not [] (Go's nil list, twitter.md 8.6) */
};

static bool partial_ok(const struct err *e)
{
    return e->http == 429 || e->http == 503 || e->http == 504;
}

/* item_id: what identifies a page item (a TweetResult's tweet_id, a Profile's UserID). */
static const char *item_id(const json_t *item)
{
    const char *id = json_string_value(json_object_get(item, "tweet_id"));
    return id ? id : json_string_value(json_object_get(item, "UserID"));
}

static int page_all(struct tw_job *j, struct pager *p, struct job_result *out)
{
    int64_t target = j->req->max_results;
    json_t *items = json_array();
    json_t *seen = json_object();       /* ids of the items collected (a set) */
    json_t *followed = json_object();   /* cursors asked for (a set): X never repeats one */
    char *cursor = j->req->cursor && *j->req->cursor ? strdup(j->req->cursor) : NULL;
    char *next = NULL;
    int rc = 0, empties = 0, pages = 0;
    struct err *e = &out->err;
    if (!seen || !followed || (cursor && json_object_set_new(followed, cursor, json_true()) < 0)) {
        json_decref(items);
        items = NULL;
    }
    while (items) {
        size_t have = json_array_size(items);
        if (job_ctx_remaining_ms(j->ctx) <= 0) {
            if (have)
                break;
            rc = err_set(e, 504, "job deadline reached before X answered");
            break;
        }
        if (p->scrape_per_page && pages++ > 0)
            tw_job_next_call(j);    /* the first page is the job's first call (a lookup's too) */
        json_t *vars = json_deep_copy(p->vars);
        if (!vars) {
            rc = err_set(e, 500, "out of memory");
            break;
        }
        if (p->counted) {
            int64_t want = target ? target - (int64_t)have : TW_OPS_DEFAULT_COUNT;
            json_object_set_new(vars, "count", json_integer(want > p->cap ? p->cap : want));
        }
        if (cursor)
            json_object_set_new(vars, "cursor", json_string(cursor));
        struct tw_web_answer ans;
        rc = tw_job_gql(j, p->g, vars, p->toggles, &ans, e);
        json_decref(vars);
        if (rc != 0) {
            if (have && rc == -1 && partial_ok(e)) {
                log_warn("twitter: %s: stopped after %zu items: %s",
                         twitter_op_name(j->req->op), have, e->msg);
                err_clear(e);
                free(next);
                next = cursor;
                cursor = NULL;
                rc = 0;
            }
            break;
        }
        struct twitter_web_page page;
        char why[TWITTER_WEB_WHY] = "";
        rc = twitter_web_parse_timeline(p->kind, ans.body, ans.body_len, p->focal, &page, why,
                                        sizeof why);
        tw_web_answer_clear(&ans);
        if (rc < 0) {
            rc = parse_failure(j, p->g, why, e);
            break;
        }
        size_t n = json_array_size(page.items), taken = 0;
        for (size_t i = 0; i < n && (!target || (int64_t)(have + taken) < target); i++) {
            json_t *it = json_array_get(page.items, i);
            const char *id = item_id(it);
            if (id && json_object_get(seen, id))
                continue;                   /* already collected: X repeating itself */
            if ((id && json_object_set_new(seen, id, json_true()) < 0) ||
                json_array_append(items, it) < 0) {
                rc = err_set(e, 500, "out of memory");
                break;
            }
            taken++;
        }
        bool repeated = page.next_cursor && json_object_get(followed, page.next_cursor);
        if (repeated)
            log_warn("twitter: %s: X sent a cursor already followed; stopping after %zu items",
                     twitter_op_name(j->req->op), have + taken);
        free(next);
        next = page.next_cursor && !repeated ? strdup(page.next_cursor) : NULL;
        twitter_web_page_clear(&page);
        if (rc != 0)
            break;
        empties = taken ? 0 : empties + 1;
        bool full = target && (int64_t)json_array_size(items) >= target;
        if (!next || full || !target || empties >= MAX_EMPTY_PAGES)
            break;
        free(cursor);
        cursor = strdup(next);
        if (!cursor || json_object_set_new(followed, cursor, json_true()) < 0) {
            rc = err_set(e, 500, "out of memory");
            break;
        }
    }
    if (!items)
        rc = err_set(e, 500, "out of memory");
    if (rc == 0)
        rc = p->null_when_empty && json_array_size(items) == 0 ? job_result_set_text(out, "null")
                                                                : job_result_set_json(out, items);
    if (rc == 0) {
        tw_job_count(j, p->stat, json_array_size(items));
        out->next_cursor = next;
        next = NULL;
    }
    json_decref(items);
    json_decref(seen);
    json_decref(followed);
    json_decref(p->vars);
    json_decref(p->toggles);
    free(cursor);
    free(next);
    return rc;
}

/* ---- the operations ---- */

static int search(struct tw_job *j, struct job_result *out)
{
    if (j->req->max_results == 0)       /* the target is the count: nothing wanted, no request */
        return job_result_set_text(out, "[]");
    struct pager p = {
        .g = TWG_SEARCH_TIMELINE, .kind = TWITTER_WEB_SEARCH, .counted = true, .cap = 50,
        .vars = json_pack("{s:s, s:s, s:s}", "rawQuery", j->req->query, "querySource",
                          "typed_query", "product", "Latest"),
        .toggles = json_pack("{s:b}", "withArticleRichContentState", 0),
        .stat = "twitter_returned_tweets",
    };
    return page_all(j, &p, out);
}

static json_t *detail_vars(const char *id)
{
    return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "focalTweetId", id,
                     "with_rux_injections", 0, "includePromotedContent", 1, "withCommunity", 1,
                     "withQuickPromoteEligibilityTweetFields", 1, "withBirdwatchNotes", 1,
                     "withVoice", 1, "withV2Timeline", 1);
}

static json_t *detail_toggles(void)
{
    return json_pack("{s:b, s:b, s:b, s:b}", "withArticleRichContentState", 1,
                     "withArticlePlainText", 0, "withGrokAnalyze", 0,
                     "withDisallowedReplyControls", 0);
}

static int replies(struct tw_job *j, struct job_result *out)
{
    json_t *vars = detail_vars(j->req->query);
    if (vars) {
        json_object_set_new(vars, "referrer", json_string("tweet"));
        json_object_set_new(vars, "rankingMode", json_string("Relevance"));
    }
    struct pager p = {
        .g = TWG_TWEET_DETAIL, .kind = TWITTER_WEB_TWEET_DETAIL, .vars = vars,
        .toggles = detail_toggles(), .focal = j->req->query, .stat = "twitter_returned_tweets",
        .null_when_empty = true,
    };
    return page_all(j, &p, out);
}

static int retweeters(struct tw_job *j, struct job_result *out)
{
    struct pager p = {
        .g = TWG_RETWEETERS, .kind = TWITTER_WEB_RETWEETERS, .counted = true, .cap = 100,
        .vars = json_pack("{s:s, s:b}", "tweetId", j->req->query, "includePromotedContent", 1),
        .stat = "twitter_returned_profiles", .null_when_empty = true,
    };
    return page_all(j, &p, out);
}

/* user_timeline: gettweets, getmedia, getfollowers, getfollowing. */
static int user_timeline(struct tw_job *j, enum tw_gql g, struct job_result *out)
{
    char *uid = NULL;
    int rc = user_id(j, screen_name(j->req->query), &uid, &out->err);
    if (rc != 0)
        return rc;
    struct pager p = { .g = g, .counted = true };
    switch (g) {
    case TWG_USER_TWEETS:
        p.kind = TWITTER_WEB_USER_TWEETS;
        p.scrape_per_page = true;
        p.cap = 100;
        p.stat = "twitter_returned_tweets";
        p.vars = json_pack("{s:s, s:b, s:b, s:b, s:b}", "userId", uid, "includePromotedContent", 1,
                           "withQuickPromoteEligibilityTweetFields", 1, "withVoice", 1,
                           "withV2Timeline", 1);
        p.toggles = json_pack("{s:b}", "withArticlePlainText", 0);
        break;
    case TWG_USER_MEDIA:
        p.kind = TWITTER_WEB_USER_MEDIA;
        p.scrape_per_page = true;
        p.cap = 100;
        p.stat = "twitter_returned_other";
        p.vars = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b}", "userId", uid,
                           "includePromotedContent", 0, "withClientEventToken", 0,
                           "withBirdwatchNotes", 0, "withVoice", 1, "withV2Timeline", 1);
        p.toggles = json_pack("{s:b}", "withArticlePlainText", 0);
        break;
    default:                    /* Followers, Following */
        p.kind = TWITTER_WEB_FOLLOWS;
        p.cap = 100;
        p.null_when_empty = true;
        p.stat = "twitter_returned_profiles";
        p.vars = json_pack("{s:s, s:b, s:b}", "userId", uid, "includePromotedContent", 0,
                           "withGrokTranslatedBio", 0);
        break;
    }
    free(uid);
    return page_all(j, &p, out);
}

static int home(struct tw_job *j, bool latest, struct job_result *out)
{
    struct pager p = {
        .g = latest ? TWG_HOME_LATEST_TIMELINE : TWG_HOME_TIMELINE, .kind = TWITTER_WEB_HOME,
        .counted = true, .cap = 100, .stat = "twitter_returned_tweets", .scrape_per_page = true,
        .vars = json_pack("{s:b, s:b, s:s, s:b, s:[]}", "includePromotedContent", 1,
                          "latestControlAvailable", 1, "requestContext", "launch",
                          "withCommunity", 1, "seenTweetIds"),
    };
    return page_all(j, &p, out);
}

static int dispatch(struct tw_job *j, struct job_result *out)
{
    const char *q = j->req->query;
    switch (j->req->op) {
    case TW_OP_SEARCHBYQUERY:
    case TW_OP_SEARCHBYFULLARCHIVE:
        return search(j, out);
    case TW_OP_SEARCHBYPROFILE:
        return single(j, TWG_USER_BY_SCREEN_NAME,
                      json_pack("{s:s, s:b}", "screen_name", screen_name(q),
                                "withSafetyModeUserFields", 1),
                      NULL, parse_user, screen_name(q), "twitter_returned_profiles", out);
    case TW_OP_GETPROFILEBYID:
        return single(j, TWG_USER_BY_REST_ID,
                      json_pack("{s:s, s:b}", "userId", q, "withSafetyModeUserFields", 1), NULL,
                      parse_user, q, "twitter_returned_profiles", out);
    case TW_OP_GETBYID:
        return single(j, TWG_TWEET_DETAIL, detail_vars(q), detail_toggles(), parse_tweet, q,
                      "twitter_returned_tweets", out);
    case TW_OP_GETREPLIES:
        return replies(j, out);
    case TW_OP_GETRETWEETERS:
        return retweeters(j, out);
    case TW_OP_GETTWEETS:
        return user_timeline(j, TWG_USER_TWEETS, out);
    case TW_OP_GETMEDIA:
        return user_timeline(j, TWG_USER_MEDIA, out);
    case TW_OP_GETFOLLOWERS:
        return user_timeline(j, TWG_FOLLOWERS, out);
    case TW_OP_GETFOLLOWING:
        return user_timeline(j, TWG_FOLLOWING, out);
    case TW_OP_GETHOMETWEETS:
        return home(j, true, out);
    case TW_OP_GETFORYOUTWEETS:
        return home(j, false, out);
    case TW_OP_GETTRENDS:
        return single(j, TWG_GENERIC_TIMELINE_BY_ID,
                      json_pack("{s:s, s:i, s:b}", "timelineId", TRENDING_TIMELINE_ID, "count", 20,
                                "withQuickPromoteEligibilityTweetFields", 1),
                      NULL, parse_trends, NULL, "twitter_returned_other", out);
    case TW_OP_GETSPACE:
        return single(j, TWG_AUDIO_SPACE_BY_ID,
                      json_pack("{s:s, s:b, s:b, s:b}", "id", q, "isMetatagsQuery", 0,
                                "withReplays", 1, "withListeners", 1),
                      NULL, parse_space, NULL, "twitter_returned_other", out);
    default:
        return err_set(&out->err, 400, "unknown operation");
    }
}

int tw_ops_run(const struct twitter_request *req, struct job_ctx *ctx, struct job_result *out)
{
    struct tw_job j;
    tw_job_init(&j, req, ctx);
    int rc = dispatch(&j, out);
    tw_job_end(&j);
    return rc;
}
