/* twitter_web_call.c - GraphQL calls of credential-backend jobs with account rotation, and the
 * operation table (see twitter_web_call.h). */
#include "kinds/twitter_web_call.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "jobs/kind.h"
#include "jobs/stats.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_cookies.h"
#include "kinds/twitter_web_session.h"
#include "log.h"
#include "util/utf8.h"

#define TW_TRANSPORT_RETRIES 2      /* after 1 s, then 2 s (twitter-modern.md 4.3, network errors) */

struct gql_def {
    const char *name;
    const char *id;      /* default query id (twitter-modern.md 1.4, 2026-08 unless noted) */
    bool post;           /* default method */
};

static const struct gql_def gql_defs[TWG_COUNT] = {
    [TWG_SEARCH_TIMELINE] = { "SearchTimeline", "BGd0T_j7oVwlW5U79tO_0A", true },
    [TWG_USER_BY_SCREEN_NAME] = { "UserByScreenName", "Gb-d6r0vxPOADdG62OEBpQ", false },
    [TWG_USER_BY_REST_ID] = { "UserByRestId", "xvmVfRLmnr1alc5f2dib0Q", false },
    [TWG_TWEET_DETAIL] = { "TweetDetail", "559hs_YZNV4IgA3Z6zIIuw", false },
    [TWG_RETWEETERS] = { "Retweeters", "_wJOTLm5HMqNdcr1nGWlyA", false },
    [TWG_USER_TWEETS] = { "UserTweets", "eoJ5zbv51Z_KVl81v9PmLQ", false },
    [TWG_USER_MEDIA] = { "UserMedia", "2DC9TKrcUzwGC_QskSVl5w", false },
    [TWG_HOME_LATEST_TIMELINE] = { "HomeLatestTimeline", "U0cdisy7QFIoTfu3-Okw0A", true },
    [TWG_HOME_TIMELINE] = { "HomeTimeline", "L8Lb9oomccM012S7fQ-QKA", true },
    [TWG_GENERIC_TIMELINE_BY_ID] = { "GenericTimelineById", "BrGScxnisMdTXyeLScaEhQ", false },
    [TWG_FOLLOWERS] = { "Followers", "vJijlO_CM7dyGFNjDd7iqQ", false },
    [TWG_FOLLOWING] = { "Following", "b8XpwALENnJdFSHchkK6rw", false },
    [TWG_AUDIO_SPACE_BY_ID] = { "AudioSpaceById", "rR7CQrr8kxb6fatlUaB61Q", false },
};

/* One feature set for every operation (X checks presence more than value; unknown flags are
 * tolerated): twitter-modern.md 1.5, 2026-08, with the profile and space extras. */
static const char *const features_true[] = {
    "c9s_tweet_anatomy_moderator_badge_enabled", "communities_web_enable_tweet_community_results_fetch",
    "creator_subscriptions_tweet_preview_api_enabled", "freedom_of_speech_not_reach_fetch_enabled",
    "graphql_is_translatable_rweb_tweet_is_translatable_enabled",
    "longform_notetweets_consumption_enabled", "longform_notetweets_inline_media_enabled",
    "longform_notetweets_rich_text_read_enabled", "responsive_web_edit_tweet_api_enabled",
    "responsive_web_graphql_exclude_directive_enabled",
    "responsive_web_graphql_timeline_navigation_enabled",
    "responsive_web_twitter_article_tweet_consumption_enabled", "rweb_tipjar_consumption_enabled",
    "rweb_video_timestamps_enabled", "standardized_nudges_misinfo",
    "tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled",
    "tweetypie_unmention_optimization_enabled", "view_counts_everywhere_api_enabled",
    "rweb_video_screen_enabled", "responsive_web_grok_show_grok_translated_post",
    "highlights_tweets_tab_ui_enabled", "hidden_profile_likes_enabled",
    "hidden_profile_subscriptions_enabled", "subscriptions_verification_info_verified_since_enabled",
    "spaces_2022_h2_spaces_communities", "spaces_2022_h2_clipping",
    "responsive_web_profile_redirect_enabled",
};
static const char *const features_false[] = {
    "articles_preview_enabled", "creator_subscriptions_quote_tweet_preview_enabled",
    "responsive_web_enhance_cards_enabled",
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled",
    "responsive_web_grok_community_note_auto_translation_is_enabled",
    "responsive_web_grok_imagine_annotation_enabled", "responsive_web_media_download_video_enabled",
    "tweet_awards_web_tipping_enabled",
    "tweet_with_visibility_results_prefer_gql_media_interstitial_enabled",
    "verified_phone_label_enabled", "responsive_web_grok_analyze_button_fetch_trends_enabled",
    "premium_content_api_read_enabled", "profile_label_improvements_pcf_label_in_post_enabled",
    "responsive_web_grok_share_attachment_enabled", "responsive_web_grok_analyze_post_followups_enabled",
    "responsive_web_grok_image_annotation_enabled", "responsive_web_grok_analysis_button_from_backend",
    "responsive_web_jetfuel_frame", "subscriptions_verification_info_is_identity_verified_enabled",
    "responsive_web_twitter_article_notes_tab_enabled", "subscriptions_feature_can_gift_premium",
    "payments_enabled",
};

const char *tw_gql_name(enum tw_gql g)
{
    return g < TWG_COUNT ? gql_defs[g].name : "?";
}

int tw_gql_parse(const char *name)
{
    for (int g = 0; g < TWG_COUNT; g++)
        if (strcmp(gql_defs[g].name, name) == 0)
            return g;
    return -1;
}

/* override: the TWITTER_QUERY_IDS entry of g ("Name=id[@METHOD]"), or NULL. */
static const char *override(const struct config *cfg, enum tw_gql g)
{
    size_t n = strlen(gql_defs[g].name);
    for (size_t i = 0; i < cfg->twitter_query_ids.count; i++) {
        const char *it = cfg->twitter_query_ids.items[i];
        if (strncmp(it, gql_defs[g].name, n) == 0 && it[n] == '=')
            return it + n + 1;
    }
    return NULL;
}

const char *tw_gql_query_id(const struct config *cfg, enum tw_gql g, char *buf, size_t buflen)
{
    const char *o = override(cfg, g);
    if (!o)
        return gql_defs[g].id;
    size_t n = strcspn(o, "@");
    snprintf(buf, buflen, "%.*s", (int)n, o);
    return buf;
}

bool tw_gql_is_post(const struct config *cfg, enum tw_gql g)
{
    const char *o = override(cfg, g);
    const char *at = o ? strchr(o, '@') : NULL;
    if (at && strcasecmp(at + 1, "POST") == 0)
        return true;
    if (at && strcasecmp(at + 1, "GET") == 0)
        return false;
    return gql_defs[g].post;
}

json_t *tw_gql_features(const struct config *cfg, struct err *e)
{
    json_t *f = json_object();
    if (!f) {
        err_set(e, 500, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < sizeof features_true / sizeof *features_true; i++)
        json_object_set_new(f, features_true[i], json_true());
    for (size_t i = 0; i < sizeof features_false / sizeof *features_false; i++)
        json_object_set_new(f, features_false[i], json_false());
    const char *extra = cfg->twitter_features;
    if (extra && *extra) {
        json_error_t je;
        json_t *over = json_loads(extra, 0, &je);
        if (!json_is_object(over)) {
            json_decref(over);
            json_decref(f);
            err_set(e, 500, "TWITTER_FEATURES is not a JSON object: %s", je.text);
            return NULL;
        }
        json_object_update(f, over);
        json_decref(over);
    }
    return f;
}

/* ---- jobs ---- */

void tw_job_init(struct tw_job *j, const struct twitter_request *req, struct job_ctx *ctx)
{
    memset(j, 0, sizeof *j);
    j->req = req;
    j->ctx = ctx;
}

static void drop_account(struct tw_job *j, bool remember)
{
    if (!j->holding)
        return;
    tw_accounts_release(j->account);
    if (remember && j->ntried < TW_JOB_MAX_TRIED)
        j->tried[j->ntried++] = j->account;
    j->holding = false;
}

void tw_job_end(struct tw_job *j)
{
    drop_account(j, false);
    json_decref(j->features);
    j->features = NULL;
}

void tw_job_next_call(struct tw_job *j)
{
    j->call_counted = false;
}

void tw_job_count(struct tw_job *j, const char *name, uint64_t n)
{
    stats_add(j->ctx->stats, j->req->worker_id, name, n);
}

/* take_account: hold a usable account for GraphQL operation g with an open session. 0,
 * NO_SESSION or -1. */
static int take_account(struct tw_job *j, enum tw_gql g, struct err *e)
{
    while (!j->holding) {
        size_t i;
        /* a job gives up once it has tried as many accounts as it can remember: one it could
         * not remember would be handed out (and logged in) again and again until the deadline */
        int rc = j->ntried >= TW_JOB_MAX_TRIED
                     ? err_set(e, 503, "no usable Twitter account: this job already tried %d",
                               TW_JOB_MAX_TRIED)
                     : tw_accounts_acquire(j->ctx->cfg, g, j->tried, j->ntried,
                                           &j->ctx->deadline, &i, e);
        if (rc < 0) {
            if (j->unusable[0] && e->http == 503) {
                char msg[sizeof e->msg];
                snprintf(msg, sizeof msg, "%s", e->msg);
                err_set(e, 503, "%s; last session failure: %s", msg, j->unusable);
            }
            if (!j->obtained) {
                tw_job_count(j, "twitter_auth_errors", 1);
                return TWITTER_BACKEND_NO_SESSION;
            }
            if (j->rate_limited && e->http == 503)
                e->http = 429;
            return -1;
        }
        j->account = i;
        j->holding = true;
        if (tw_session_open(j->ctx->cfg, j->ctx, i, e) < 0) {
            tw_job_count(j, "twitter_auth_errors", 1);
            drop_account(j, true);
            if (e->http == 504)
                return -1;
            const struct tw_account *a = tw_accounts_get(i);
            log_warn("twitter: %s: account %s unusable, rotating: %s",
                     twitter_op_name(j->req->op), a ? a->name : "?", e->msg);
            snprintf(j->unusable, sizeof j->unusable, "%.*s", utf8_print_len(e->msg, 150), e->msg);
            err_clear(e);
            continue;
        }
        j->obtained = true;
    }
    if (!j->call_counted) {
        j->call_counted = true;
        tw_job_count(j, "twitter_scrapes", 1);
    }
    return 0;
}

/* send_once's failure before anything was sent: the held account has no usable session. */
#define SEND_NO_SESSION (-2)

/* send_once: one request of g on the held account. sent_auth receives the auth_token of the
 * Cookie header the request went out with (taken from the same reading of the jar), "" when it
 * went nowhere: the session an answer speaks about, whatever the jar holds by the time it
 * arrives. */
static int send_once(struct tw_job *j, enum tw_gql g, bool post, const json_t *variables,
                     const json_t *toggles, struct tw_web_answer *ans,
                     char sent_auth[TWITTER_COOKIE_MAX_VALUE + 1], struct err *e)
{
    sent_auth[0] = '\0';
    const struct config *cfg = j->ctx->cfg;
    char idbuf[128], *body = NULL;
    const char *id = tw_gql_query_id(cfg, g, idbuf, sizeof idbuf);
    char *url = tw_web_graphql_url(cfg, id, tw_gql_name(g), post, variables, j->features,
                                   toggles, &body);
    struct tw_session_view v;
    if (!url) {
        free(body);
        return err_set(e, 500, "out of memory");
    }
    if (tw_session_view(cfg, j->ctx, j->account, &v, e) < 0) {
        free(url);
        free(body);
        return SEND_NO_SESSION;
    }
    snprintf(sent_auth, TWITTER_COOKIE_MAX_VALUE + 1, "%s", v.auth_token);
    struct tw_web_request req = {
        .method = post ? "POST" : "GET", .url = url, .body = body,
        .cookie_header = v.cookie_header, .csrf = v.ct0, .logged_in = true, .txid = v.txid,
    };
    int rc = tw_web_send(cfg, j->ctx, &req, ans, e);
    if (rc == 0)
        tw_session_absorb(j->account, v.auth_token, ans->host, ans->set_cookies);
    tw_session_view_clear(&v);
    free(url);
    free(body);
    return rc;
}

/* wipe_sent_auth clears a copy of an auth_token as it goes out of scope, on every path. */
static void wipe_sent_auth(char (*copy)[TWITTER_COOKIE_MAX_VALUE + 1])
{
    explicit_bzero(*copy, sizeof *copy);
}

int tw_job_gql(struct tw_job *j, enum tw_gql g, const json_t *variables,
               const json_t *field_toggles, struct tw_web_answer *ans, struct err *e)
{
    memset(ans, 0, sizeof *ans);
    if (!j->features && !(j->features = tw_gql_features(j->ctx->cfg, e)))
        return -1;
    bool post = tw_gql_is_post(j->ctx->cfg, g) != j->flipped[g];
    int not_found_retries = 0, relogins = 0, csrf_retries = 0, transport_retries = 0;
    size_t relogin_account = SIZE_MAX;      /* the account `relogins` counts for */
    for (int attempt = 0; attempt < 4 * TW_JOB_MAX_TRIED; attempt++) {
        int rc = take_account(j, g, e);
        if (rc != 0)
            return rc;
        if (j->account != relogin_account) {  /* each account may log in again once */
            relogin_account = j->account;
            relogins = 0;
        }
        const struct tw_account *a = tw_accounts_get(j->account);
        const char *name = a ? a->name : "?";
        /* the session this request used; wiped however the iteration ends */
        char sent_auth[TWITTER_COOKIE_MAX_VALUE + 1] __attribute__((cleanup(wipe_sent_auth))) = "";
        rc = send_once(j, g, post, variables, field_toggles, ans, sent_auth, e);
        if (rc == SEND_NO_SESSION && e->http == 503) {
            /* its session was refused and could not be set up again: the next account */
            tw_job_count(j, "twitter_auth_errors", 1);
            log_warn("twitter: %s: account %s unusable, rotating: %s", tw_gql_name(g), name,
                     e->msg);
            snprintf(j->unusable, sizeof j->unusable, "%.*s", utf8_print_len(e->msg, 150), e->msg);
            err_clear(e);
            drop_account(j, true);
            continue;
        }
        if (rc < 0) {
            long backoff_ms = 1000L << transport_retries;
            if (e->http == 502 && transport_retries < TW_TRANSPORT_RETRIES &&
                job_ctx_remaining_ms(j->ctx) > backoff_ms + 1000) {
                /* a dropped connection or reset: the same account again, after a pause */
                log_warn("twitter: %s on account %s: %s; retrying in %ld ms", tw_gql_name(g),
                         name, e->msg, backoff_ms);
                transport_retries++;
                err_clear(e);
                struct timespec pause = { backoff_ms / 1000, (backoff_ms % 1000) * 1000000L };
                nanosleep(&pause, NULL);
                continue;
            }
            tw_job_count(j, "twitter_errors", 1);
            return -1;
        }
        switch (ans->verdict) {
        case TWV_OK:
            if (ans->remaining == 0 && ans->reset) {
                /* the window is used up: later requests of this operation go elsewhere */
                tw_accounts_cooldown(j->account, g, ans->reset, NULL);
                drop_account(j, false);
            }
            return 0;
        case TWV_RATE_LIMITED:
            tw_job_count(j, "twitter_ratelimit_errors", 1);
            tw_accounts_cooldown(j->account, g, ans->reset, ans->retry_after);
            j->rate_limited = true;
            drop_account(j, true);
            break;
        case TWV_SESSION_DEAD:
            tw_job_count(j, "twitter_auth_errors", 1);
            if (relogins++ == 0 &&
                tw_session_dead(j->ctx->cfg, j->ctx, j->account, sent_auth, e) == 0)
                break;                            /* same account, new session: ask again */
            if (e->http == 504) {
                tw_web_answer_clear(ans);
                return -1;
            }
            err_clear(e);
            drop_account(j, true);
            break;
        case TWV_ACCOUNT_LOCKED:
        case TWV_ACCOUNT_BANNED: {
            tw_job_count(j, "twitter_auth_errors", 1);
            char reason[300];
            snprintf(reason, sizeof reason, "%s (X error %d: %s)",
                     ans->verdict == TWV_ACCOUNT_LOCKED ? "locked" : "suspended or banned",
                     ans->code, ans->message);
            tw_accounts_mark_bad(j->account, reason);
            drop_account(j, true);
            break;
        }
        case TWV_BLOCKED:
            tw_job_count(j, "twitter_errors", 1);
            log_warn("twitter: %s on account %s: %s", tw_gql_name(g), name, ans->message);
            err_set(e, 502, "%s: %s", tw_gql_name(g), ans->message);
            tw_web_answer_clear(ans);
            return -1;
        case TWV_FAILED:
            if (ans->code == 353 && csrf_retries++ < 2 && job_ctx_remaining_ms(j->ctx) > 1000) {
                /* ct0 rotated by a concurrent answer: ask again with the jar's current one, after
                 * a moment for that answer to land */
                struct timespec pause = { 0, 300L * 1000000L };
                nanosleep(&pause, NULL);
                break;
            }
            if (ans->status == 404 && ans->body_len == 0 && not_found_retries < 2) {
                /* stale transaction id, then the other method (twitter-modern.md 6.2) */
                tw_session_txid_stale(j->account);
                if (not_found_retries++ == 1) {
                    char idbuf[128];
                    log_warn("twitter: %s answered 404 to %s twice; trying %s (if that works, set "
                             "TWITTER_QUERY_IDS=%s=%s@%s)", tw_gql_name(g), post ? "POST" : "GET",
                             post ? "GET" : "POST", tw_gql_name(g),
                             tw_gql_query_id(j->ctx->cfg, g, idbuf, sizeof idbuf),
                             post ? "GET" : "POST");
                    post = !post;
                    j->flipped[g] = !j->flipped[g];   /* the job's later pages too */
                }
                break;
            }
            tw_job_count(j, "twitter_errors", 1);
            err_set(e, 502, "%s failed (HTTP %ld): %s", tw_gql_name(g), ans->status, ans->message);
            tw_web_answer_clear(ans);
            return -1;
        }
        tw_web_answer_clear(ans);
    }
    return err_set(e, 502, "%s: too many attempts", tw_gql_name(g));
}
