/* twitter_v2_client.c - the API-key backend's requests to X API v2 (twitter.md 6; see
 * twitter_v2.h for the contract).
 *
 * Every request goes through v2_get: take the next usable key, send the GET with the key as
 * bearer, and on 429 (cool the key down), 401 or 403 (mark the key bad, or Basic for full-archive
 * search) try the next key; any other answer is the caller's to judge. When the keys run out, the
 * error says what happened to the last one and why no other key is usable.
 *
 * Deliberate differences from Go (DECISIONS.md): the query is sent as given (no phrase quoting);
 * searches ask for expansions=author_id and take usernames from includes.users, looking up only
 * authors missing there (failures remembered per page, no 50 ms sleeps); every request has a
 * timeout; a lookup answer with data and errors uses the data; search pages can be continued
 * through next_cursor (twitter_v2.h, "search cursors"). */
#include "kinds/twitter_v2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jobs/stats.h"
#include "kinds/twitter_keys.h"
#include "log.h"
#include "net/fetch.h"
#include "util/crypto.h"
#include "util/utf8.h"

#define REQUEST_TIMEOUT_MS 30000
#define MAX_RESPONSE_BYTES (4u * 1024 * 1024)
#define MAX_LOOKUPS_PER_PAGE 100
#define MAX_BARREN_PAGES 3      /* pages in a row with no new tweet before a search gives up */

struct v2_job {
    const struct twitter_request *req;
    struct job_ctx *ctx;
    bool full_archive;
    bool key_obtained;          /* twitter_scrapes counted */
    bool rate_limited;          /* the last key given up on answered 429 */
    bool out_of_keys;           /* v2_get found no usable key */
    char rejection[200];        /* what happened to the last key given up on */
};

static void count(struct v2_job *j, const char *name, uint64_t n)
{
    stats_add(j->ctx->stats, j->req->worker_id, name, n);
}

/* no_key_left: the error once acquire fails. */
static int no_key_left(struct v2_job *j, struct err *e)
{
    j->out_of_keys = true;
    if (!j->key_obtained) {
        count(j, "twitter_auth_errors", 1);
        return TWITTER_BACKEND_NO_SESSION;
    }
    if (j->rejection[0]) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        err_set(e, j->rate_limited ? 429 : 502, "%s; %s", j->rejection, why);
    }
    return -1;
}

static int send_get(struct v2_job *j, const struct twitter_key_lease *lease, const char *path,
                    struct fetch_response *resp, struct err *e)
{
    long left = job_ctx_remaining_ms(j->ctx);
    if (left <= 0)
        return err_set(e, 504, "job deadline reached before the X API answered");
    char *url = NULL, *auth = NULL;
    if (asprintf(&url, "%s%s", j->ctx->cfg->twitter_x_api_base, path) < 0)
        url = NULL;
    if (asprintf(&auth, "Authorization: Bearer %s", lease->key) < 0)
        auth = NULL;
    int rc = -1;
    if (!url || !auth) {
        err_set(e, 500, "out of memory");
    } else {
        const char *headers[] = { auth, "Content-Type: application/json", NULL };
        struct fetch_request fr = {
            .url = url, .headers = headers, .max_response_bytes = MAX_RESPONSE_BYTES,
            .timeout_ms = left < REQUEST_TIMEOUT_MS ? left : REQUEST_TIMEOUT_MS,
        };
        rc = fetch_do(&fr, resp, e);
    }
    crypto_free_text(auth);
    free(url);
    return rc;
}

/* judge: 1 when the key was given up on (try the next one), 0 when resp is the answer. */
static int judge(struct v2_job *j, enum twitter_key_endpoint ep,
                 const struct twitter_key_lease *lease, const struct fetch_response *resp)
{
    size_t n = lease->index + 1;
    if (resp->status == 429) {
        count(j, "twitter_ratelimit_errors", 1);
        long s = twitter_keys_cooldown(lease->index, ep, resp->rate_limit_reset,
                                       resp->retry_after);
        snprintf(j->rejection, sizeof j->rejection, "X API key #%zu rate limited (HTTP 429), "
                 "cooling down for %ld s", n, s);
        j->rate_limited = true;
        return 1;
    }
    if (resp->status == 403 && ep == TWITTER_KEYS_SEARCH_ALL) {
        count(j, "twitter_auth_errors", 1);
        twitter_keys_mark_base(lease->index);
        snprintf(j->rejection, sizeof j->rejection, "X API key #%zu has no full-archive access "
                 "(HTTP 403)", n);
        j->rate_limited = false;
        return 1;
    }
    if (resp->status == 401 || resp->status == 403) {
        count(j, "twitter_auth_errors", 1);
        twitter_keys_mark_bad(lease->index, resp->status);
        const char *body = resp->body ? resp->body : "";
        snprintf(j->rejection, sizeof j->rejection, "X API key #%zu rejected by X (HTTP %ld: "
                 "%.*s) and marked bad", n, resp->status, utf8_print_len(body, 60), body);
        j->rate_limited = false;
        return 1;
    }
    return 0;
}

/* v2_get: GET {base}{path} (endpoint ep) with key rotation. Returns 0 with resp holding the
 * answer (any status but 429/401/403), -1 or TWITTER_BACKEND_NO_SESSION with e set. */
static int v2_get(struct v2_job *j, enum twitter_key_endpoint ep, const char *path,
                  struct fetch_response *resp, struct err *e)
{
    for (;;) {
        struct twitter_key_lease lease;
        if (twitter_keys_acquire(j->ctx->cfg, ep, &lease, e) < 0)
            return no_key_left(j, e);
        if (!j->key_obtained) {
            j->key_obtained = true;
            count(j, "twitter_scrapes", 1);
        }
        if (send_get(j, &lease, path, resp, e) < 0) {
            count(j, "twitter_errors", 1);
            return -1;
        }
        if (!judge(j, ep, &lease, resp))
            return 0;
        fetch_response_clear(resp);
    }
}

/* upstream_failure: the job error fmt (one %ld for the status, one %s for at most
 * UPSTREAM_BODY_MAX bytes of X's answer, cut on a character boundary) and twitter_errors. */
#define UPSTREAM_BODY_MAX 120
static int upstream_failure(struct v2_job *j, struct err *e, int http, const char *fmt,
                            long status, const char *body)
{
    count(j, "twitter_errors", 1);
    char quoted[UPSTREAM_BODY_MAX + 1], text[sizeof e->msg];
    body = body ? body : "";
    snprintf(quoted, sizeof quoted, "%.*s", utf8_print_len(body, UPSTREAM_BODY_MAX), body);
    snprintf(text, sizeof text, fmt, status, quoted);
    return err_set(e, http, "%s", text);
}

/* ---- search ---- */

static char *search_path(bool full, const char *query, const char *token, unsigned want)
{
    char *q = fetch_url_escape(query), *t = fetch_url_escape(token), *path = NULL;
    if (q && t &&
        asprintf(&path, "/tweets/search/%s?expansions=author_id&max_results=%u%s%s"
                 "&place.fields=%s&query=%s&tweet.fields=%s&user.fields=%s",
                 full ? "all" : "recent", want, *t ? "&next_token=" : "", t,
                 TWITTER_V2_PLACE_FIELDS, q, TWITTER_V2_SEARCH_TWEET_FIELDS,
                 TWITTER_V2_SEARCH_USER_FIELDS) < 0)
        path = NULL;
    free(q);
    free(t);
    return path;
}

/* lookup_username: the username of author id through GET /users/<id> ("" when unknown). */
static char *lookup_username(struct v2_job *j, const char *author)
{
    char path[64];
    struct fetch_response resp = { 0 };
    struct err e = { 0 };
    char *name = NULL;
    snprintf(path, sizeof path, "/users/%s", author);
    if (v2_get(j, TWITTER_KEYS_USER_LOOKUP, path, &resp, &e) == 0 && resp.status == 200)
        name = twitter_v2_decode_username(resp.body, resp.body_len);
    else
        log_debug("twitter: username of author %s not found: %s", author,
                  e.http ? e.msg : "lookup failed");
    fetch_response_clear(&resp);
    return name;
}

/* enrich: fill the empty usernames of page tweets from i0 on by looking their authors up; stops
 * at the job deadline (the usernames left are ""). */
static void enrich(struct v2_job *j, json_t *tweets, size_t i0)
{
    json_t *known = json_object();
    size_t lookups = 0, i;
    json_t *t;
    json_array_foreach(tweets, i, t) {
        if (job_ctx_remaining_ms(j->ctx) <= 0)
            break;
        const char *author = json_string_value(json_object_get(t, "author_id"));
        const char *have = json_string_value(json_object_get(t, "username"));
        if (i < i0 || !known || !author || !*author || (have && *have) ||
            strspn(author, "0123456789") != strlen(author) || strlen(author) > 19)
            continue;
        json_t *cached = json_object_get(known, author);
        if (!cached && lookups++ < MAX_LOOKUPS_PER_PAGE) {
            char *name = lookup_username(j, author);
            json_object_set_new(known, author, json_string(name ? name : ""));
            free(name);
            cached = json_object_get(known, author);
        }
        if (cached)
            json_object_set(t, "username", cached);
    }
    json_decref(known);
}

struct search_state {
    char token[TWITTER_V2_CURSOR_MAX];  /* next_token of the page to read ("" = first page) */
    unsigned skip;              /* tweets of that page already returned */
    json_t *tweets;
    char *next_cursor;          /* owned */
    json_t *seen;               /* tweet ids returned so far (a set) */
    json_t *tokens;             /* next_tokens followed so far (a set): X never repeats one */
    int barren;                 /* pages in a row that brought no new tweet */
};

/* search_page reads one page into s. Returns 1 to go on, 0 when done, -1 on failure. */
static int search_page(struct v2_job *j, struct search_state *s, struct err *e)
{
    size_t have = json_array_size(s->tweets), target = (size_t)j->req->max_results;
    size_t want = target - have + s->skip, cap = j->full_archive ? 499 : 100;
    j->out_of_keys = false;
    want = want < 10 ? 10 : want > cap ? cap : want;
    char *path = search_path(j->full_archive, j->req->query, s->token, (unsigned)want);
    if (!path)
        return err_set(e, 500, "out of memory");
    struct fetch_response resp = { 0 };
    int rc = v2_get(j, j->full_archive ? TWITTER_KEYS_SEARCH_ALL : TWITTER_KEYS_SEARCH_RECENT,
                    path, &resp, e);
    free(path);
    if (rc < 0 || rc == TWITTER_BACKEND_NO_SESSION) {
        fetch_response_clear(&resp);
        bool limited = j->out_of_keys && (j->rate_limited || !j->rejection[0]);
        if (have > 0 && limited) {            /* partial result (twitter.md 6.2) */
            log_warn("twitter: search stopped by rate limits after %zu tweets: %s", have, e->msg);
            s->next_cursor = twitter_v2_cursor_make(s->token, s->skip);
            err_clear(e);
            return 0;
        }
        return rc < 0 ? -1 : rc;
    }
    if (resp.status != 200) {
        upstream_failure(j, e, 502, "unexpected status code %ld: %s", resp.status, resp.body);
        fetch_response_clear(&resp);
        return -1;
    }
    struct twitter_v2_page page;
    char why[TWITTER_V2_WHY];
    rc = twitter_v2_decode_page(resp.body, resp.body_len, &page, why, sizeof why);
    fetch_response_clear(&resp);
    if (rc < 0) {
        count(j, "twitter_errors", 1);
        return err_set(e, 502, "X API search: %s", why);
    }
    size_t n = json_array_size(page.tweets), taken = 0, i;
    enrich(j, page.tweets, s->skip);
    /* a tweet already returned (X repeating itself) is passed over, not returned twice */
    for (i = s->skip; i < n && have + taken < target; i++) {
        json_t *t = json_array_get(page.tweets, i);
        const char *id = json_string_value(json_object_get(t, "tweet_id"));
        if (!id || json_object_get(s->seen, id))
            continue;
        if (json_object_set_new(s->seen, id, json_true()) < 0 ||
            json_array_append(s->tweets, t) < 0) {
            twitter_v2_page_clear(&page);
            return err_set(e, 500, "out of memory");
        }
        taken++;
    }
    s->barren = taken ? 0 : s->barren + 1;
    int more = 0;
    if (n == 0) {
        more = 0;                                   /* an empty page ends the search */
    } else if (i < n) {                             /* stopped inside this page */
        s->next_cursor = twitter_v2_cursor_make(s->token, (unsigned)i);
    } else if (page.next_token && strlen(page.next_token) < sizeof s->token &&
               !json_object_get(s->tokens, page.next_token) && s->barren < MAX_BARREN_PAGES) {
        snprintf(s->token, sizeof s->token, "%s", page.next_token);
        s->skip = 0;
        if (json_object_set_new(s->tokens, s->token, json_true()) < 0) {
            twitter_v2_page_clear(&page);
            return err_set(e, 500, "out of memory");
        }
        more = have + taken < target;
        if (!more)
            s->next_cursor = strdup(s->token);
    } else if (page.next_token) {                   /* X repeats itself: nothing more to read */
        log_warn("twitter: search: X sent a next_token already followed (or %d pages without a "
                 "new tweet); stopping after %zu tweets", MAX_BARREN_PAGES, have + taken);
    }
    twitter_v2_page_clear(&page);
    return more;
}

int twitter_v2_search(const struct twitter_request *req, struct job_ctx *ctx,
                      struct job_result *out)
{
    struct v2_job j = { .req = req, .ctx = ctx, .full_archive = req->op == TW_OP_SEARCHBYFULLARCHIVE };
    struct search_state s = { .tweets = json_array(), .seen = json_object(),
                              .tokens = json_object() };
    int rc = 1;
    if (!s.tweets || !s.seen || !s.tokens)
        rc = err_set(&out->err, 500, "out of memory");
    else if (twitter_v2_cursor_parse(req->cursor, s.token, sizeof s.token, &s.skip) < 0)
        rc = twitter_v2_check_cursor(req, &out->err);   /* a cursor of another backend */
    else if (json_object_set_new(s.tokens, s.token, json_true()) < 0)
        rc = err_set(&out->err, 500, "out of memory");
    if (rc < 0) {
        json_decref(s.tweets);
        json_decref(s.seen);
        json_decref(s.tokens);
        return rc;
    }
    while (rc == 1 && (int64_t)json_array_size(s.tweets) < req->max_results &&
           job_ctx_remaining_ms(ctx) > 0)
        rc = search_page(&j, &s, &out->err);
    if (rc >= 0) {
        rc = job_result_set_json(out, s.tweets);
        if (rc == 0) {
            count(&j, "twitter_returned_tweets", json_array_size(s.tweets));
            out->next_cursor = s.next_cursor;
            s.next_cursor = NULL;
        }
    }
    free(s.next_cursor);
    json_decref(s.tweets);
    json_decref(s.seen);
    json_decref(s.tokens);
    return rc;
}

/* ---- lookups ---- */

/* lookup: GET path and judge the status like twitter.md 6.3/6.4. On 200 *resp holds the body. */
static int lookup(struct v2_job *j, enum twitter_key_endpoint ep, const char *path,
                  const char *what, const char *not_found, struct fetch_response *resp,
                  struct err *e)
{
    int rc = v2_get(j, ep, path, resp, e);
    if (rc != 0)
        return rc;
    if (resp->status == 200)
        return 0;
    if (resp->status == 404) {
        count(j, "twitter_errors", 1);
        return err_set(e, 404, "%s", not_found);
    }
    char fmt[96];
    snprintf(fmt, sizeof fmt, "API %s lookup failed with status: %%ld, body: %%s", what);
    return upstream_failure(j, e, 502, fmt, resp->status, resp->body);
}

int twitter_v2_get_tweet(const struct twitter_request *req, struct job_ctx *ctx,
                         struct job_result *out)
{
    struct v2_job j = { .req = req, .ctx = ctx };
    char path[512];
    snprintf(path, sizeof path, "/tweets/%.19s?tweet.fields=%s&user.fields=username"
             "&expansions=author_id", req->query, TWITTER_V2_LOOKUP_TWEET_FIELDS);
    struct fetch_response resp = { 0 };
    int rc = lookup(&j, TWITTER_KEYS_TWEET_LOOKUP, path, "tweet", "tweet not found", &resp,
                    &out->err);
    if (rc == 0) {
        char why[TWITTER_V2_WHY];
        json_t *tweet = twitter_v2_decode_tweet(resp.body, resp.body_len, time(NULL), why,
                                                sizeof why);
        if (!tweet) {
            count(&j, "twitter_errors", 1);
            rc = err_set(&out->err, 502, "X API tweet lookup: %s", why);
        } else if ((rc = job_result_set_json(out, tweet)) == 0) {
            count(&j, "twitter_returned_tweets", 1);
        }
        json_decref(tweet);
    }
    fetch_response_clear(&resp);
    return rc;
}

int twitter_v2_get_profile(const struct twitter_request *req, struct job_ctx *ctx,
                           struct job_result *out)
{
    struct v2_job j = { .req = req, .ctx = ctx };
    char path[512];
    snprintf(path, sizeof path, "/users/%.19s?user.fields=%s", req->query,
             TWITTER_V2_PROFILE_FIELDS);
    struct fetch_response resp = { 0 };
    int rc = lookup(&j, TWITTER_KEYS_USER_LOOKUP, path, "profile", "user not found", &resp,
                    &out->err);
    if (rc == 0) {
        char why[TWITTER_V2_WHY];
        json_t *profile = twitter_v2_decode_profile(resp.body, resp.body_len, why, sizeof why);
        if (!profile) {
            count(&j, "twitter_errors", 1);
            rc = err_set(&out->err, 502, "X API profile lookup: %s", why);
        } else if ((rc = job_result_set_json(out, profile)) == 0) {
            count(&j, "twitter_returned_profiles", 1);
        }
        json_decref(profile);
    }
    fetch_response_clear(&resp);
    return rc;
}
