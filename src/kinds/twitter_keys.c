/* twitter_keys.c - X API key pool: probe, rotation, cool-down, bad marks (see twitter_keys.h).
 *
 * The state is an array parallel to cfg->twitter_api_keys, created by the first probe. Two
 * mutexes: probe_lock serialises the one-time probe (network, seconds), state_lock guards the
 * array for the short critical sections of acquire and the marks (never held across I/O). */
#include "kinds/twitter_keys.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "net/fetch.h"
#include "net/retry_after.h"

struct key_state {
    enum twitter_key_type type;
    bool bad;
    long bad_status;
    time_t cool_until[TWITTER_KEYS_ENDPOINTS];   /* realtime seconds; 0 = not cooling */
};

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_state *states;
static size_t nstates;
static size_t next_index;
static bool probed;

static const char *type_name(enum twitter_key_type t)
{
    switch (t) {
    case TWITTER_KEY_ELEVATED: return "elevated";
    case TWITTER_KEY_BASE: return "base";
    case TWITTER_KEY_CREDENTIAL: return "credential";
    default: return "unknown";
    }
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* probe_one: the access type of key (twitter.md 6.1) within timeout_ms. */
static enum twitter_key_type probe_one(const struct config *cfg, const char *key, long timeout_ms,
                                       bool (*stop)(void *ctx), void *stop_ctx)
{
    if (strchr(key, ':'))
        return TWITTER_KEY_CREDENTIAL;
    char url[1024], auth[1024];
    snprintf(url, sizeof url, "%s/tweets/search/all?query=from:twitterdev&max_results=10",
             cfg->twitter_x_api_base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    const char *headers[] = { auth, "Content-Type: application/json", NULL };
    struct fetch_request req = {
        .url = url, .headers = headers, .timeout_ms = timeout_ms,
        .max_response_bytes = 256 * 1024, .stop = stop, .stop_ctx = stop_ctx,
    };
    struct fetch_response resp = { 0 };
    struct err e = { 0 };
    enum twitter_key_type type = TWITTER_KEY_UNKNOWN;
    if (fetch_do(&req, &resp, &e) == 0) {
        if (resp.status == 200)
            type = TWITTER_KEY_ELEVATED;
        else if (resp.status == 401 || resp.status == 403)
            type = TWITTER_KEY_BASE;
    }
    explicit_bzero(auth, sizeof auth);
    fetch_response_clear(&resp);
    return type;
}

static void probe_all(const struct config *cfg, struct key_state *st, size_t n,
                      bool (*stop)(void *ctx), void *stop_ctx)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t i = 0; i < n; i++) {
        if (stop && stop(stop_ctx)) {
            log_info("twitter: X API keys #%zu to #%zu not probed: the worker is stopping",
                     i + 1, n);
            return;
        }
        long left = TWITTER_KEYS_PROBE_BUDGET_MS - elapsed_ms(&start);
        if (left <= 0) {
            log_warn("twitter: X API key #%zu not probed (start-up probe budget of %d ms spent); "
                     "its access is unknown", i + 1, TWITTER_KEYS_PROBE_BUDGET_MS);
            continue;
        }
        long timeout = left < TWITTER_KEYS_PROBE_TIMEOUT_MS ? left : TWITTER_KEYS_PROBE_TIMEOUT_MS;
        st[i].type = probe_one(cfg, cfg->twitter_api_keys.items[i], timeout, stop, stop_ctx);
        log_info("twitter: X API key #%zu: access %s", i + 1, type_name(st[i].type));
    }
}

void twitter_keys_probe(const struct config *cfg)
{
    twitter_keys_probe_stoppable(cfg, NULL, NULL);
}

void twitter_keys_probe_stoppable(const struct config *cfg, bool (*stop)(void *ctx),
                                  void *stop_ctx)
{
    pthread_mutex_lock(&probe_lock);
    if (!probed) {
        size_t n = cfg->twitter_api_keys.count;
        struct key_state *st = n ? calloc(n, sizeof *st) : NULL;
        if (n && !st) {
            log_error("twitter: out of memory while probing X API keys");
            n = 0;
        }
        probe_all(cfg, st, n, stop, stop_ctx);
        pthread_mutex_lock(&state_lock);
        states = st;
        nstates = n;
        next_index = 0;
        probed = true;
        pthread_mutex_unlock(&state_lock);
    }
    pthread_mutex_unlock(&probe_lock);
}

bool twitter_keys_configured(const struct config *cfg)
{
    return cfg->twitter_api_keys.count > 0;
}

bool twitter_keys_any_elevated(const struct config *cfg)
{
    twitter_keys_probe(cfg);
    bool any = false;
    pthread_mutex_lock(&state_lock);
    for (size_t i = 0; i < nstates; i++)
        any = any || states[i].type == TWITTER_KEY_ELEVATED;
    pthread_mutex_unlock(&state_lock);
    return any;
}

enum twitter_key_type twitter_keys_type(size_t index)
{
    pthread_mutex_lock(&state_lock);
    enum twitter_key_type t = index < nstates ? states[index].type : TWITTER_KEY_UNKNOWN;
    pthread_mutex_unlock(&state_lock);
    return t;
}

static const char *endpoint_name(enum twitter_key_endpoint ep)
{
    switch (ep) {
    case TWITTER_KEYS_SEARCH_RECENT: return "recent search";
    case TWITTER_KEYS_SEARCH_ALL: return "full-archive search";
    case TWITTER_KEYS_TWEET_LOOKUP: return "tweet lookup";
    default: return "user lookup";
    }
}

/* usable: key i may serve a request of ep now; pass 0 takes only elevated keys (full archive). */
static bool usable(const struct key_state *k, enum twitter_key_endpoint ep, int pass, time_t now)
{
    bool full_archive = ep == TWITTER_KEYS_SEARCH_ALL;
    if (k->bad || k->cool_until[ep] > now)
        return false;
    if (!full_archive)
        return true;
    if (k->type == TWITTER_KEY_BASE)
        return false;
    return pass == 0 ? k->type == TWITTER_KEY_ELEVATED : k->type != TWITTER_KEY_ELEVATED;
}

/* explain: why no key is usable (called with state_lock held). */
static int explain(enum twitter_key_endpoint ep, time_t now, struct err *e)
{
    bool full_archive = ep == TWITTER_KEYS_SEARCH_ALL;
    size_t bad = 0, cooling = 0, base = 0;
    time_t soonest = 0;
    long bad_status = 0;
    for (size_t i = 0; i < nstates; i++) {
        const struct key_state *k = &states[i];
        if (k->bad) {
            bad++;
            bad_status = k->bad_status;
        } else if (k->cool_until[ep] > now) {
            cooling++;
            soonest = !soonest || k->cool_until[ep] < soonest ? k->cool_until[ep] : soonest;
        } else if (full_archive && k->type == TWITTER_KEY_BASE) {
            base++;
        }
    }
    if (nstates == 0)
        return err_set(e, 503, "no Twitter API keys available (TWITTER_API_KEYS is empty)");
    if (base == nstates)
        return err_set(e, 503, "this API key is a base/Basic key and does not have access to full "
                       "archive search. Please use an elevated/Pro API key (TWITTER_API_KEYS)");
    char parts[200] = "";
    size_t used = 0;
    if (cooling)
        used += (size_t)snprintf(parts + used, sizeof parts - used, ", %zu rate limited for %s "
                                 "(next free in %lld s)", cooling, endpoint_name(ep),
                                 (long long)(soonest - now));
    if (bad && used < sizeof parts)
        used += (size_t)snprintf(parts + used, sizeof parts - used, ", %zu rejected by X and "
                                 "marked bad (HTTP %ld)", bad, bad_status);
    if (base && used < sizeof parts)
        snprintf(parts + used, sizeof parts - used, ", %zu without full-archive access", base);
    return err_set(e, 503, "no usable X API key: %zu configured%s", nstates, parts);
}

int twitter_keys_acquire(const struct config *cfg, enum twitter_key_endpoint ep,
                         struct twitter_key_lease *lease, struct err *e)
{
    if ((unsigned)ep >= TWITTER_KEYS_ENDPOINTS)
        return err_set(e, 500, "unknown X API endpoint %d", (int)ep);
    twitter_keys_probe(cfg);
    time_t now = time(NULL);
    pthread_mutex_lock(&state_lock);
    for (int pass = 0; pass < (ep == TWITTER_KEYS_SEARCH_ALL ? 2 : 1); pass++) {
        for (size_t i = 0; i < nstates; i++) {
            size_t idx = (next_index + i) % nstates;
            if (!usable(&states[idx], ep, pass, now))
                continue;
            next_index = idx + 1;
            lease->index = idx;
            lease->key = cfg->twitter_api_keys.items[idx];
            pthread_mutex_unlock(&state_lock);
            return 0;
        }
    }
    explain(ep, now, e);
    pthread_mutex_unlock(&state_lock);
    return -1;
}

long twitter_keys_parse_cooldown(const char *reset, const char *retry_after, time_t now)
{
    long seconds = 0;
    bool reset_passed = false;
    char *end;
    if (reset && *reset) {
        errno = 0;
        long long at = strtoll(reset, &end, 10);
        if (!errno && !*end && at > now)
            seconds = (long)(at - now < TWITTER_KEYS_MAX_COOLDOWN_S ? at - now
                                                                    : TWITTER_KEYS_MAX_COOLDOWN_S);
        else if (!errno && !*end && at > 0)
            reset_passed = true;     /* by our clock the window has turned: X's may lag */
    }
    if (!seconds) {
        long long s = retry_after_seconds(retry_after, now);     /* saturated: <= 10^8 */
        if (s > 0)
            seconds = (long)(s < TWITTER_KEYS_MAX_COOLDOWN_S ? s : TWITTER_KEYS_MAX_COOLDOWN_S);
    }
    if (!seconds && reset_passed)
        return TWITTER_KEYS_SKEW_COOLDOWN_S;
    return seconds ? seconds : TWITTER_KEYS_DEFAULT_COOLDOWN_S;
}

long twitter_cooldown_extend(time_t *until, time_t now, long seconds)
{
    if (*until < now + seconds)
        *until = now + seconds;
    return (long)(*until - now);
}

long twitter_keys_cooldown(size_t index, enum twitter_key_endpoint ep, const char *reset,
                           const char *retry_after)
{
    time_t now = time(NULL);
    long seconds = twitter_keys_parse_cooldown(reset, retry_after, now);
    if ((unsigned)ep >= TWITTER_KEYS_ENDPOINTS)
        return seconds;
    pthread_mutex_lock(&state_lock);
    if (index < nstates)
        seconds = twitter_cooldown_extend(&states[index].cool_until[ep], now, seconds);
    pthread_mutex_unlock(&state_lock);
    log_warn("twitter: X API key #%zu rate limited (429) on %s; cooling down for %ld s",
             index + 1, endpoint_name(ep), seconds);
    return seconds;
}

void twitter_keys_mark_bad(size_t index, long status)
{
    pthread_mutex_lock(&state_lock);
    if (index < nstates) {
        states[index].bad = true;
        states[index].bad_status = status;
    }
    pthread_mutex_unlock(&state_lock);
    log_error("twitter: X API key #%zu rejected by X (HTTP %ld); marked bad, not used again "
              "until restart", index + 1, status);
}

void twitter_keys_mark_base(size_t index)
{
    pthread_mutex_lock(&state_lock);
    if (index < nstates)
        states[index].type = TWITTER_KEY_BASE;
    pthread_mutex_unlock(&state_lock);
    log_warn("twitter: X API key #%zu has no full-archive access (403); treated as a Basic key",
             index + 1);
}

void twitter_keys_reset(void)
{
    pthread_mutex_lock(&probe_lock);
    pthread_mutex_lock(&state_lock);
    free(states);
    states = NULL;
    nstates = 0;
    next_index = 0;
    probed = false;
    pthread_mutex_unlock(&state_lock);
    pthread_mutex_unlock(&probe_lock);
}
