/* twitter_web_call.h - one GraphQL call of a credential-backend job, on whichever account can
 * make it: the account pool, sessions and request envelope put together, plus the operation
 * table (query ids, methods, features) from configuration (twitter-modern.md 1.2-1.5, 4.3-4.4;
 * twitter.md 3.2, 4).
 *
 * A job holds one account across its pages while it works ("one account keeps serving a
 * paginated operation"); when X rate-limits it the account cools down for that GraphQL operation
 * (x-rate-limit-reset, else 15 min) and the same page is asked again of the next account; a dead
 * session is re-established once (next cookie source / login) or the account is marked bad; a
 * locked (326) or suspended (64/37) account is marked bad; both rotate. A transport failure
 * (connection dropped or refused) is retried on the same account twice, 1 s and 2 s later. A
 * Cloudflare block or any other failure ends the job with X's reason. A 404 with an empty body (stale transaction id or
 * wrong method) rebuilds the account's transaction-id state and retries once, then once more with
 * the other method.
 *
 * Stats (twitter.md 4, keyed by the job's worker_id): twitter_scrapes once per operation call
 * when an account was obtained for it - one per job, but one per page for the paginated
 * operations (tw_job_next_call); twitter_ratelimit_errors per rate-limited answer;
 * twitter_auth_errors per session/login/account failure and when no account could be obtained;
 * twitter_errors per other failure. */
#ifndef TW_TWITTER_WEB_CALL_H
#define TW_TWITTER_WEB_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "kinds/twitter_backend.h"
#include "kinds/twitter_web_request.h"

#define TW_JOB_MAX_TRIED 64

/* The GraphQL operations the backend uses. */
enum tw_gql {
    TWG_SEARCH_TIMELINE,
    TWG_USER_BY_SCREEN_NAME,
    TWG_USER_BY_REST_ID,
    TWG_TWEET_DETAIL,
    TWG_RETWEETERS,
    TWG_USER_TWEETS,
    TWG_USER_MEDIA,
    TWG_HOME_LATEST_TIMELINE,
    TWG_HOME_TIMELINE,
    TWG_GENERIC_TIMELINE_BY_ID,
    TWG_FOLLOWERS,
    TWG_FOLLOWING,
    TWG_AUDIO_SPACE_BY_ID,
    TWG_COUNT
};

/* tw_gql_name: "SearchTimeline", ...; tw_gql_parse: the operation named so, or -1. */
const char *tw_gql_name(enum tw_gql g);
int tw_gql_parse(const char *name);

/* tw_gql_query_id / tw_gql_is_post: the configured id and method of g (TWITTER_QUERY_IDS
 * entries "Operation=id[@GET|@POST]" over the built-in defaults). */
const char *tw_gql_query_id(const struct config *cfg, enum tw_gql g, char *buf, size_t buflen);
bool tw_gql_is_post(const struct config *cfg, enum tw_gql g);

/* tw_gql_features: the feature flags sent with every call (built-ins, TWITTER_FEATURES merged
 * over them). New reference; NULL when TWITTER_FEATURES is not a JSON object (e set). */
json_t *tw_gql_features(const struct config *cfg, struct err *e);

/* The state of one job across its calls. */
struct tw_job {
    const struct twitter_request *req;
    struct job_ctx *ctx;
    bool holding;               /* `account` is acquired */
    size_t account;
    size_t tried[TW_JOB_MAX_TRIED];
    size_t ntried;
    bool obtained;              /* an account was obtained for the job */
    bool call_counted;          /* twitter_scrapes counted for the current operation call */
    bool rate_limited;          /* some account was rate limited for this job */
    bool flipped[TWG_COUNT];    /* X wanted the other method (GET/POST) for that operation */
    json_t *features;
    char unusable[160];         /* why the last account given up on had no session, "" if none */
};

void tw_job_init(struct tw_job *j, const struct twitter_request *req, struct job_ctx *ctx);
void tw_job_end(struct tw_job *j);         /* releases the account held */

/* tw_job_next_call: the next GraphQL call starts another operation call (a further page of
 * gettweets, getmedia or a home timeline, which Go's pager makes one call each): it counts
 * twitter_scrapes again once it has an account (twitter.md 4 and 5.10). */
void tw_job_next_call(struct tw_job *j);

/* tw_job_count adds n to stat `name` of the job's worker. */
void tw_job_count(struct tw_job *j, const char *name, uint64_t n);

/* tw_job_gql calls operation g with variables (and fieldToggles, may be NULL) on the job's
 * account, rotating as described above. Returns 0 with *ans holding X's usable answer (verdict
 * TWV_OK); TWITTER_BACKEND_NO_SESSION when no account could be obtained for the job at all; or
 * -1 with e set (429 when every account is rate limited, 503 when none is usable, 502 with X's
 * reason, 504 at the deadline). */
int tw_job_gql(struct tw_job *j, enum tw_gql g, const json_t *variables,
               const json_t *field_toggles, struct tw_web_answer *ans, struct err *e);

#endif
