/* twitter_backend.h - the Twitter/X backend table and what the Twitter kinds share
 * (twitter.md 2.1, 3.1, 3.3; jobs-and-capabilities.md 2.5; DESIGN.md "backends ... a small table
 * of function pointers").
 *
 * Three ways into X serve the same fifteen operations: the credential backend (logged-in web
 * client, twitter_credential.c), the API-key backend (X API v2, twitter_api.c) and the Apify
 * backend (followers/following, twitter_apify.c). Each is a `struct twitter_backend`: `serves`
 * says from configuration (and start-up probes) alone whether it can run an operation, `run` runs
 * one. The `twitter` kind (twitter.c) picks, per operation, the first backend of that operation's
 * priority list that serves it; `twitter-api` calls the API backend directly.
 *
 * Adding the credential backend: define `const struct twitter_backend twitter_credential_backend`
 * in its own file and put its address in the TWB_CREDENTIAL slot of twitter.c's backend table.
 * Its `run` returns TWITTER_BACKEND_NO_SESSION when no account can be used right now (none free,
 * login failed), which lets the router fall through to the next backend where twitter.md 3.1 says
 * so (searchbyfullarchive).
 *
 * The argument record (twitter_args_parse, twitter_args.c) is the family's one record: type
 * (lower-cased; "" = the job type's default), query, max_results and count (>= 0), next_cursor,
 * start_time/end_time (accepted, unused). */
#ifndef TW_TWITTER_BACKEND_H
#define TW_TWITTER_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "jobs/kind.h"

struct config;

enum twitter_op {
    TW_OP_SEARCHBYQUERY,
    TW_OP_SEARCHBYFULLARCHIVE,
    TW_OP_SEARCHBYPROFILE,
    TW_OP_GETBYID,
    TW_OP_GETREPLIES,
    TW_OP_GETRETWEETERS,
    TW_OP_GETTWEETS,
    TW_OP_GETMEDIA,
    TW_OP_GETHOMETWEETS,
    TW_OP_GETFORYOUTWEETS,
    TW_OP_GETPROFILEBYID,
    TW_OP_GETTRENDS,
    TW_OP_GETFOLLOWING,
    TW_OP_GETFOLLOWERS,
    TW_OP_GETSPACE,
    TW_OP_COUNT
};

/* twitter_op_name: the capability string of op ("searchbyquery", ...). */
const char *twitter_op_name(enum twitter_op op);

/* twitter_op_parse: the op named exactly name (already lower-cased), or -1. */
int twitter_op_parse(const char *name);

/* One operation to run. Strings are borrowed from the job's arguments. */
struct twitter_request {
    enum twitter_op op;
    const char *query;          /* search text, screen name, tweet id, user id, space id */
    int64_t max_results;        /* >= 0 */
    const char *cursor;         /* next_cursor from the client, "" when none */
    const char *worker_id;      /* the job's worker_id: the stats key (twitter.md 4) */
};

/* run() returns 0 (out->data set), -1 (out->err set: a final failure with its real reason), or
 * TWITTER_BACKEND_NO_SESSION (out->err set) when the backend could not obtain an account or key
 * at all, before any request about the operation itself. */
#define TWITTER_BACKEND_NO_SESSION (-2)

struct twitter_backend {
    const char *name;           /* "credential", "api", "apify" (logs and messages) */
    const char *config_hint;    /* what configures it, named in refusals: "TWITTER_API_KEYS" */
    bool (*serves)(const struct config *cfg, enum twitter_op op);
    int (*run)(const struct twitter_request *req, struct job_ctx *ctx, struct job_result *out);
};

extern const struct twitter_backend twitter_api_backend;     /* twitter_api.c */
extern const struct twitter_backend twitter_apify_backend;   /* twitter.c (wraps twitter_apify.c) */
extern const struct twitter_backend twitter_credential_backend;  /* twitter_credential.c */

/* What a Twitter kind offers: decided once, on the kind's first available() call (in practice
 * the registry's capability report at start-up, after the Apify key check and the X API key
 * probe), and then used both for the capability report and for validation, so that what is
 * advertised is exactly what is accepted (DECISIONS.md). twitter_offer.c. */
struct twitter_offer {
    pthread_mutex_t lock;
    atomic_bool ready;
    bool ops[TW_OP_COUNT];                  /* offered operations */
    const char *caps[TW_OP_COUNT + 1];      /* their names, NULL-terminated (the kind's list) */
};
#define TWITTER_OFFER_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* twitter_offer_decide fills o once with decide(cfg, op) for each op; later calls return at
 * once. Returns true when at least one operation is offered. */
bool twitter_offer_decide(struct twitter_offer *o, const struct config *cfg,
                          bool (*decide)(const struct config *cfg, enum twitter_op op));

/* twitter_offer_parse reads a job's arguments for job_type (twitter_args_parse) and refuses, with
 * 400 "capability '<op>' is not available on this worker: <why_not>", an operation o does not
 * offer. Returns 0 or -1 with e set. */
int twitter_offer_parse(const struct twitter_offer *o, const json_t *arguments,
                        const char *job_type, const char *why_not, struct twitter_request *req,
                        struct err *e);

/* twitter_offer_forget makes the next twitter_offer_decide decide again (tests only: not safe
 * while jobs run). */
void twitter_offer_forget(struct twitter_offer *o);

/* twitter_kinds_reset forgets the offers of `twitter` and `twitter-api` and the key probes
 * (tests that change the configuration). Defined in twitter.c. */
void twitter_kinds_reset(void);
extern struct twitter_offer twitter_api_offer;     /* twitter_api.c */

/* twitter_credential_reset forgets the `twitter-credential` offer, the account pool, the
 * sessions and the id cache (tests; called by twitter_kinds_reset). twitter_credential.c. */
void twitter_credential_reset(void);

/* The members every Twitter job type takes, as read (strings borrowed from args). */
struct twitter_raw_args {
    const char *type;           /* as given; "" when absent */
    const char *query;
    const char *cursor;         /* next_cursor */
    int64_t max_results;        /* >= 0 */
};

/* twitter_args_read reads the family's members with Go's typing (count, start_time and end_time
 * are checked and dropped) and refuses a negative count or max_results: 400 with the Go chain's
 * wording. Returns 0 or -1. Shared by twitter_args_parse and the twitter-apify kind. */
int twitter_args_read(const json_t *args, struct twitter_raw_args *raw, struct err *e);

/* twitter_args_parse reads the argument record of job type job_type ("twitter", "twitter-api")
 * into *req (worker_id left NULL). The capability must be one of the family's fifteen; whether
 * this worker can serve it is the caller's check. For getbyid and getprofilebyid the query must
 * be a decimal id of 1 to 19 digits (it becomes a URL path segment). Errors are 400 with the Go
 * chain's wording, prefixed "error unmarshalling job arguments: ". Returns 0 or -1. */
int twitter_args_parse(const json_t *args, const char *job_type, struct twitter_request *req,
                       struct err *e);

#endif
