/* twitter_web_request.h - one request of the credential backend to X's web API: the header
 * envelope of a logged-in web client, GraphQL encoding, and the classification of the answer
 * (twitter-modern.md 1.2, 3.1, 4.3; twitter.md 5.2, 5.6).
 *
 * Pure with respect to sessions: the caller passes the cookie header and ct0 it holds and takes
 * the Set-Cookie values of the answer back (twitter_web_session.c keeps the jars). Every request
 * carries the bearer (TWITTER_BEARER_TOKEN), the browser headers of twitter-modern.md 3.1,
 * `x-csrf-token` = ct0, and, when the account's transaction-id state is given, an
 * `x-client-transaction-id` for the method and path (twitter_txid.c). Bodies are capped
 * (TW_WEB_MAX_RESPONSE_BYTES); each request has at most TW_WEB_TIMEOUT_MS and never more than
 * what is left of the job. */
#ifndef TW_TWITTER_WEB_REQUEST_H
#define TW_TWITTER_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct config;
struct job_ctx;
struct twitter_txid_state;

#define TW_WEB_TIMEOUT_MS 20000
#define TW_WEB_MAX_RESPONSE_BYTES (8u * 1024 * 1024)
#define TW_WEB_USER_AGENT                                                                       \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "          \
    "Chrome/144.0.0.0 Safari/537.36"

/* What an answer means for the account that sent it (twitter-modern.md 4.3). */
enum tw_web_verdict {
    TWV_OK,              /* 2xx with data (errors alongside data are tolerated) */
    TWV_RATE_LIMITED,    /* 429, code 88 or "Rate limit exceeded": cool (account, operation) */
    TWV_SESSION_DEAD,    /* 401, code 32, 403 JSON without errors: cookies no longer valid */
    TWV_ACCOUNT_LOCKED,  /* code 326 */
    TWV_ACCOUNT_BANNED,  /* code 64 (suspended), 37 (not permitted), 88 with quota left */
    TWV_BLOCKED,         /* an HTML answer >= 400 (Cloudflare): no penalty for the account */
    TWV_FAILED,          /* anything else: the operation fails with the reason */
};

struct tw_web_request {
    const char *method;          /* "GET" or "POST" */
    const char *url;
    const char *body;            /* JSON body or NULL */
    const char *cookie_header;   /* "a=b; c=d" or NULL */
    const char *csrf;            /* ct0 value or NULL */
    const char *guest_token;     /* x-guest-token (login flow only) or NULL */
    bool logged_in;              /* send x-twitter-auth-type: OAuth2Session */
    const struct twitter_txid_state *txid;  /* the account's generator, or NULL (no header) */
};

struct tw_web_answer {
    long status;
    char *body;                  /* the body, NUL-terminated, owned */
    size_t body_len;
    json_t *json;                /* the decoded body when it is JSON, else NULL */
    enum tw_web_verdict verdict;
    int code;                    /* errors[0].code, 0 when none */
    char message[240];           /* errors[0].message, or a short description of the failure */
    long remaining;              /* x-rate-limit-remaining, -1 when absent */
    char *reset;                 /* x-rate-limit-reset, owned, may be NULL */
    char *retry_after;           /* Retry-After, owned, may be NULL */
    char *set_cookies;           /* "name=value\n" lines, owned, may be NULL */
    char host[256];              /* who answered: the URL's host, lower case ("" if unreadable);
                                  * the host the Set-Cookie lines are judged against */
};

/* tw_web_send performs req before the job's deadline. Returns 0 when X answered (ans filled,
 * verdict set), -1 with e set on a transport failure or deadline (502/504). */
int tw_web_send(const struct config *cfg, const struct job_ctx *ctx,
                const struct tw_web_request *req, struct tw_web_answer *ans, struct err *e);

void tw_web_answer_clear(struct tw_web_answer *ans);

/* tw_web_classify fills verdict, code and message of ans from status, its JSON, the content
 * type and x-rate-limit-remaining (exposed for tests). */
void tw_web_classify(struct tw_web_answer *ans, const char *content_type, const char *remaining);

/* tw_web_graphql_url builds the URL of operation `name` with query id `id`: for GET the
 * variables, features and fieldToggles (compact JSON, NULL ones left out) go into the query
 * string; for POST *body receives {"variables","features","fieldToggles","queryId"}. Returns a new
 * URL (and *body for POST; NULL for GET), NULL on OOM. */
char *tw_web_graphql_url(const struct config *cfg, const char *id, const char *name, bool post,
                         const json_t *variables, const json_t *features,
                         const json_t *field_toggles, char **body);

/* tw_web_url_path: the path of url (no scheme, host or query) into out, for the transaction id. */
void tw_web_url_path(const char *url, char *out, size_t outlen);

/* tw_web_url_host: the host of url, lower case, no port, into out (cap bytes); "" (and false)
 * when url has none or it does not fit. */
bool tw_web_url_host(const char *url, char *out, size_t cap);

#endif
