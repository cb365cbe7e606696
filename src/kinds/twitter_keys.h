/* twitter_keys.h - the X API v2 bearer keys of TWITTER_API_KEYS: access probe, rotation,
 * cool-down and bad-key marking (twitter.md 3.2 and 6.1, DECISIONS.md "Twitter").
 *
 * Process-wide state, one entry per configured key (keys are never logged; messages say "key #2",
 * 1-based, in configuration order):
 *   - type, probed once: a key containing ':' is `credential` (no request); otherwise
 *     GET {TWITTER_X_API_BASE}/tweets/search/all?query=from:twitterdev&max_results=10 decides:
 *     200 elevated, 401/403 base, anything else (or no answer within the timeout) unknown.
 *     Each probe has 5 s, all probes together 15 s; keys not reached in time stay unknown.
 *   - rotation: round robin with its own index (not shared with credential accounts);
 *   - cool-down per (key, endpoint): X API v2 counts its windows per endpoint, so a key answered
 *     429 is skipped for that endpoint (recent search, full-archive search, tweet lookup, user
 *     lookup) until x-rate-limit-reset (Unix seconds), else Retry-After (seconds or HTTP date,
 *     net/retry_after.h), else 15 minutes (capped at 24 hours; a minute when the reset is
 *     already past by our clock); the username lookups of a search running out do not stop its
 *     searches;
 *   - bad: a key answered 401 (or 403 outside full-archive search) is skipped until restart.
 *
 * When is the probe run? App start-up calls twitter_keys_probe_stoppable before the capability
 * report is built, with a stop hook that a stop signal ends it by (keys not probed then stay
 * unknown; the worker is exiting). Any other first use probes too (the Twitter kinds call
 * twitter_keys_probe from their available() hook and before each use). Later calls return at
 * once. Thread-safe (one mutex for the state; callers that race
 * the probe wait for it). */
#ifndef TW_TWITTER_KEYS_H
#define TW_TWITTER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

struct config;

enum twitter_key_type {
    TWITTER_KEY_UNKNOWN = 0,
    TWITTER_KEY_ELEVATED,
    TWITTER_KEY_BASE,
    TWITTER_KEY_CREDENTIAL,
};

#define TWITTER_KEYS_PROBE_TIMEOUT_MS 5000
#define TWITTER_KEYS_PROBE_BUDGET_MS 15000
#define TWITTER_KEYS_DEFAULT_COOLDOWN_S (15 * 60)
#define TWITTER_KEYS_MAX_COOLDOWN_S (24 * 60 * 60)
/* A 429 whose x-rate-limit-reset is already past by our clock (X's clock or ours is off): the
 * window has turned or is about to; a minute covers the skew instead of a whole window. */
#define TWITTER_KEYS_SKEW_COOLDOWN_S 60

/* The X API v2 endpoints whose rate-limit windows are kept apart. */
enum twitter_key_endpoint {
    TWITTER_KEYS_SEARCH_RECENT,
    TWITTER_KEYS_SEARCH_ALL,
    TWITTER_KEYS_TWEET_LOOKUP,
    TWITTER_KEYS_USER_LOOKUP,
    TWITTER_KEYS_ENDPOINTS
};

/* twitter_keys_probe probes every key of cfg once per process (see above); logs each outcome. */
void twitter_keys_probe(const struct config *cfg);

/* twitter_keys_probe_stoppable is twitter_keys_probe with a stop hook (may be NULL), asked before
 * each key and while a probe waits: once it says true, the keys left are not probed (unknown). */
void twitter_keys_probe_stoppable(const struct config *cfg, bool (*stop)(void *ctx),
                                  void *stop_ctx);

/* twitter_keys_configured: TWITTER_API_KEYS has at least one key. */
bool twitter_keys_configured(const struct config *cfg);

/* twitter_keys_any_elevated probes if needed; true when some key was found elevated. */
bool twitter_keys_any_elevated(const struct config *cfg);

/* twitter_keys_type: the probed type of key index (UNKNOWN when out of range). */
enum twitter_key_type twitter_keys_type(size_t index);

/* A key handed out for one request. key is borrowed from the configuration. */
struct twitter_key_lease {
    size_t index;
    const char *key;
};

/* twitter_keys_acquire picks the next usable key for endpoint ep, round robin: not bad, not
 * cooling down for ep, and for full-archive search (TWITTER_KEYS_SEARCH_ALL) not base (elevated
 * keys first, then unknown/credential ones). Returns 0, or -1 with e = 503 and a message saying
 * why no key is usable (how many are rate limited and until when, marked bad, or without
 * full-archive access). */
int twitter_keys_acquire(const struct config *cfg, enum twitter_key_endpoint ep,
                         struct twitter_key_lease *lease, struct err *e);

/* twitter_keys_cooldown: key index answered 429 on endpoint ep; reset and retry_after are the
 * x-rate-limit-reset and Retry-After header values (may be NULL). A longer cool-down already
 * running for ep stays. Returns the seconds of cool-down left. */
long twitter_keys_cooldown(size_t index, enum twitter_key_endpoint ep, const char *reset,
                           const char *retry_after);

/* twitter_keys_mark_bad: key index was refused (HTTP status); it is not used again. */
void twitter_keys_mark_bad(size_t index, long status);

/* twitter_keys_mark_base: key index was refused by full-archive search (403): it is a Basic key. */
void twitter_keys_mark_base(size_t index);

/* twitter_keys_reset forgets every probe and mark (tests). */
void twitter_keys_reset(void);

/* twitter_keys_parse_cooldown: seconds to cool down given the header values at time now
 * (exposed for tests). */
long twitter_keys_parse_cooldown(const char *reset, const char *retry_after, time_t now);

/* twitter_cooldown_extend makes *until (a cool-down's end) now + seconds unless it already ends
 * later: a rate limit ending sooner never shortens a longer one running. Returns the seconds the
 * cool-down now lasts from now. Shared by the keys and the credential backend's accounts. */
long twitter_cooldown_extend(time_t *until, time_t now, long seconds);

#endif
