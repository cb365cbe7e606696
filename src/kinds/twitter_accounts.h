/* twitter_accounts.h - the credential backend's account pool: who the accounts are, which one
 * serves the next request, cool-downs, bad marks and the per-account concurrency bound
 * (twitter.md 3.2, twitter-modern.md 4.3-4.4, DECISIONS.md "Twitter").
 *
 * Accounts come from TWITTER_ACCOUNTS (`user:password` or `user:password:totp_secret`; an item
 * that does not split so, or whose TOTP secret is not base32, is a configuration error, see
 * config.c; should one get here it is dropped with a warning) and from TWITTER_COOKIES_FILE (cookie-only
 * accounts; an account named in both gets the file's cookies and the password). The pool is
 * process-wide, built on first use, and thread-safe (one mutex; never held across I/O).
 *
 *   - rotation: round robin with its own index (independent of the X API keys);
 *   - cool-down per (account, GraphQL operation): X counts its 15-minute windows per account and
 *     GraphQL operation (twitter-modern.md 4.1, 4.4), so a rate-limited account is skipped for
 *     that GraphQL operation (SearchTimeline, UserByScreenName, ...) until x-rate-limit-reset,
 *     else Retry-After, else 15 minutes; a minute for a reset already past
 *     (twitter_keys_parse_cooldown); one job operation may call several (gettweets:
 *     UserByScreenName, then UserTweets) and several job operations share one (searchbyquery and
 *     searchbyfullarchive: SearchTimeline);
 *   - bad: an account whose login X refused, or that X reports locked, suspended or logged out
 *     (cookie-only), is skipped until restart, with one log line naming it and the reason;
 *   - concurrency: at most TWITTER_ACCOUNT_CONCURRENCY requests per account at once; when every
 *     usable account is busy, acquire waits (bounded by the caller's deadline).
 * Account names are logged; passwords, TOTP secrets and cookies never are. */
#ifndef TW_TWITTER_ACCOUNTS_H
#define TW_TWITTER_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "kinds/twitter_backend.h"
#include "kinds/twitter_cookies.h"
#include "kinds/twitter_web_call.h"

struct config;

/* One configured account; fields are set once when the pool is built and never change. */
struct tw_account {
    char *name;              /* user name as configured */
    char *password;          /* NULL for cookie-only accounts */
    char *totp_secret;       /* base32, NULL when none */
    struct twitter_jar file_cookies;  /* from TWITTER_COOKIES_FILE (empty when none) */
};

/* tw_accounts_load builds the pool now (app start-up). Returns 0, or -1 with a message naming
 * TWITTER_COOKIES_FILE in err when that file cannot be read or parsed: the worker refuses to
 * start rather than run without the accounts the operator gave it. */
int tw_accounts_load(const struct config *cfg, char *err, size_t errlen);

/* tw_accounts_count: number of accounts (builds the pool on first use). */
size_t tw_accounts_count(const struct config *cfg);

/* tw_accounts_configured: TWITTER_ACCOUNTS or TWITTER_COOKIES_FILE names at least one account. */
bool tw_accounts_configured(const struct config *cfg);

/* tw_accounts_get: account i (NULL when out of range). The pointer stays valid until reset. */
const struct tw_account *tw_accounts_get(size_t i);

/* tw_accounts_acquire picks the next usable account for GraphQL operation op, round robin,
 * skipping bad ones, those cooling down for op and those listed in `skip` (nskip entries:
 * accounts this job already gave up on). When all usable ones are at their concurrency bound it waits until one is released or
 * `deadline` (CLOCK_MONOTONIC) passes. Returns 0 with *index set, or -1 with e = 503 saying why
 * no account is usable (how many rate limited and until when, how many marked bad and why). */
int tw_accounts_acquire(const struct config *cfg, enum tw_gql op, const size_t *skip,
                        size_t nskip, const struct timespec *deadline, size_t *index,
                        struct err *e);

/* tw_accounts_release ends one request of account i (wakes a waiting acquire). */
void tw_accounts_release(size_t i);

/* tw_accounts_cooldown: account i was rate limited on GraphQL operation op; reset and retry_after are the header
 * values (may be NULL); a longer cool-down already running is kept. Returns the seconds the operation
 * now cools for; logs one line. */
long tw_accounts_cooldown(size_t i, enum tw_gql op, const char *reset, const char *retry_after);

/* tw_accounts_rest: account i cannot serve any operation for `seconds` (X rate-limited `what`,
 * e.g. its login flow); it cools down for every GraphQL operation. Logs one line. */
void tw_accounts_rest(size_t i, long seconds, const char *what);

/* tw_accounts_mark_bad: account i is not used again until restart; logs reason once. */
void tw_accounts_mark_bad(size_t i, const char *reason);

/* tw_accounts_is_bad: account i is marked bad. */
bool tw_accounts_is_bad(size_t i);

/* tw_accounts_reset forgets the pool (tests; not while jobs run). */
void tw_accounts_reset(void);

/* tw_accounts_parse_spec splits a TWITTER_ACCOUNTS item into new strings (exposed for tests).
 * Returns 0, or -1 when it is not user:password[:totp_secret] with non-empty parts. */
int tw_accounts_parse_spec(const char *item, char **user, char **password, char **totp);

#endif
