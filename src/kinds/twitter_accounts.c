/* twitter_accounts.c - the credential backend's account pool (see twitter_accounts.h).
 *
 * State is an array of accounts built on first use from the configuration, plus, per account,
 * the bad mark, one cool-down time per operation and the number of requests in flight. One mutex
 * guards it, one condition variable wakes acquirers waiting for a busy account. */
#include "kinds/twitter_accounts.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "kinds/twitter_cookies.h"
#include "kinds/twitter_keys.h"
#include "log.h"
#include "util/clock_after.h"
#include "util/utf8.h"

struct slot {
    struct tw_account acct;
    bool bad;
    char bad_reason[160];
    time_t cool_until[TWG_COUNT];     /* per GraphQL operation; realtime seconds; 0 = not cooling */
    unsigned in_flight;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static struct slot *slots;
static size_t nslots;
static size_t next_index;
static bool built;

int tw_accounts_parse_spec(const char *item, char **user, char **password, char **totp)
{
    *user = *password = *totp = NULL;
    const char *c1 = strchr(item, ':');
    if (!c1)
        return -1;
    const char *c2 = strchr(c1 + 1, ':');
    if (c2 && strchr(c2 + 1, ':'))
        return -1;
    const char *pend = c2 ? c2 : c1 + strlen(c1);
    if (c1 == item || pend == c1 + 1 || (c2 && !c2[1]))
        return -1;
    *user = strndup(item, (size_t)(c1 - item));
    *password = strndup(c1 + 1, (size_t)(pend - c1 - 1));
    *totp = c2 ? strdup(c2 + 1) : NULL;
    if (!*user || !*password || (c2 && !*totp)) {
        free(*user);
        free(*password);
        free(*totp);
        *user = *password = *totp = NULL;
        return -1;
    }
    return 0;
}

static struct slot *find(struct slot *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s[i].acct.name, name) == 0)
            return &s[i];
    return NULL;
}

static void free_slots(struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].acct.name);
        if (s[i].acct.password)
            explicit_bzero(s[i].acct.password, strlen(s[i].acct.password));
        free(s[i].acct.password);
        if (s[i].acct.totp_secret)
            explicit_bzero(s[i].acct.totp_secret, strlen(s[i].acct.totp_secret));
        free(s[i].acct.totp_secret);
        twitter_jar_free(&s[i].acct.file_cookies);
    }
    free(s);
}

/* add_cookie_accounts: the accounts of TWITTER_COOKIES_FILE (twitter_cookies.c parses it).
 * Returns 0, or -1 with why set when the file is unusable. */
static int add_cookie_accounts(const struct config *cfg, struct slot **s, size_t *n, size_t *cap,
                               char *why, size_t whylen)
{
    if (!cfg->twitter_cookies_file || !*cfg->twitter_cookies_file)
        return 0;
    struct twitter_cookie_file file = { 0 };
    if (twitter_cookies_load(cfg->twitter_cookies_file, &file, why, whylen) < 0)
        return -1;
    for (size_t k = 0; k < file.n; k++) {
        struct twitter_cookie_account *ca = &file.v[k];
        struct slot *have = find(*s, *n, ca->username);
        if (have) {
            twitter_jar_free(&have->acct.file_cookies);
            have->acct.file_cookies = ca->jar;
            memset(&ca->jar, 0, sizeof ca->jar);
            continue;
        }
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 8;
            struct slot *grown = realloc(*s, ncap * sizeof **s);
            if (!grown)
                break;
            *s = grown;
            *cap = ncap;
        }
        struct slot *sl = &(*s)[*n];
        memset(sl, 0, sizeof *sl);
        sl->acct.name = ca->username;
        ca->username = NULL;
        sl->acct.file_cookies = ca->jar;
        memset(&ca->jar, 0, sizeof ca->jar);
        (*n)++;
    }
    twitter_cookie_file_free(&file);
    return 0;
}

/* build: the pool from cfg (lock held). -1 with why when TWITTER_COOKIES_FILE is unusable (the
 * pool then holds the TWITTER_ACCOUNTS accounts only). */
static int build(const struct config *cfg, char *why, size_t whylen)
{
    size_t cap = cfg->twitter_accounts.count, n = 0;
    struct slot *s = cap ? calloc(cap, sizeof *s) : NULL;
    if (cap && !s)
        cap = 0;
    for (size_t i = 0; i < cfg->twitter_accounts.count && s; i++) {
        char *user, *pass, *totp;
        if (tw_accounts_parse_spec(cfg->twitter_accounts.items[i], &user, &pass, &totp) < 0) {
            log_warn("twitter: TWITTER_ACCOUNTS item #%zu is not user:password[:totp_secret]; "
                     "ignored", i + 1);
            continue;
        }
        if (find(s, n, user)) {
            log_warn("twitter: account %s is listed twice in TWITTER_ACCOUNTS; the first wins",
                     user);
            free(user);
            free(pass);
            free(totp);
            continue;
        }
        s[n].acct.name = user;
        s[n].acct.password = pass;
        s[n].acct.totp_secret = totp;
        n++;
    }
    int rc = add_cookie_accounts(cfg, &s, &n, &cap, why, whylen);
    if (rc < 0)
        log_error("twitter: TWITTER_COOKIES_FILE: %s; no cookie accounts loaded", why);
    slots = s;
    nslots = n;
    next_index = 0;
    built = true;
    size_t cookie_only = 0;
    for (size_t i = 0; i < n; i++)
        cookie_only += !s[i].acct.password;
    if (n)
        log_info("twitter: %zu credential account(s), %zu of them cookie-only", n, cookie_only);
    return rc;
}

static void ensure_built(const struct config *cfg)
{
    char why[256];
    if (!built)
        build(cfg, why, sizeof why);
}

int tw_accounts_load(const struct config *cfg, char *err, size_t errlen)
{
    char why[256] = "";
    int rc = 0;
    pthread_mutex_lock(&lock);
    if (!built)
        rc = build(cfg, why, sizeof why);
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        snprintf(err, errlen, "TWITTER_COOKIES_FILE: %s", why);
    return rc;
}

size_t tw_accounts_count(const struct config *cfg)
{
    pthread_mutex_lock(&lock);
    ensure_built(cfg);
    size_t n = nslots;
    pthread_mutex_unlock(&lock);
    return n;
}

bool tw_accounts_configured(const struct config *cfg)
{
    return tw_accounts_count(cfg) > 0;
}

const struct tw_account *tw_accounts_get(size_t i)
{
    pthread_mutex_lock(&lock);
    const struct tw_account *a = i < nslots ? &slots[i].acct : NULL;
    pthread_mutex_unlock(&lock);
    return a;
}

static bool skipped(const size_t *skip, size_t nskip, size_t i)
{
    for (size_t k = 0; k < nskip; k++)
        if (skip[k] == i)
            return true;
    return false;
}

/* explain: why no account is usable (lock held). */
static int explain(enum tw_gql op, const size_t *skip, size_t nskip, time_t now,
                   struct err *e)
{
    size_t bad = 0, cooling = 0, tried = 0;
    time_t soonest = 0;
    const char *reason = "";
    for (size_t i = 0; i < nslots; i++) {
        const struct slot *s = &slots[i];
        if (s->bad) {
            bad++;
            reason = s->bad_reason;
        } else if (s->cool_until[op] > now) {
            cooling++;
            soonest = !soonest || s->cool_until[op] < soonest ? s->cool_until[op] : soonest;
        } else if (skipped(skip, nskip, i)) {
            tried++;
        }
    }
    if (nslots == 0)
        return err_set(e, 503, "no Twitter credentials available (TWITTER_ACCOUNTS and "
                       "TWITTER_COOKIES_FILE name no account)");
    char parts[300] = "";
    size_t used = 0;
    if (cooling)
        used += (size_t)snprintf(parts, sizeof parts, ", %zu rate limited for %s (next free in "
                                 "%lld s)", cooling, tw_gql_name(op),
                                 (long long)(soonest - now));
    if (bad && used < sizeof parts)
        used += (size_t)snprintf(parts + used, sizeof parts - used, ", %zu marked bad (%s)", bad,
                                 reason);
    if (tried && used < sizeof parts)
        snprintf(parts + used, sizeof parts - used, ", %zu already tried by this job", tried);
    return err_set(e, 503, "no usable Twitter account: %zu configured%s", nslots, parts);
}

/* ms_left: milliseconds until deadline (CLOCK_MONOTONIC), <= 0 when passed. */
static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

int tw_accounts_acquire(const struct config *cfg, enum tw_gql op, const size_t *skip,
                        size_t nskip, const struct timespec *deadline, size_t *index,
                        struct err *e)
{
    unsigned bound = cfg->twitter_account_concurrency ? cfg->twitter_account_concurrency : 1;
    bool busy = false;
    if ((unsigned)op >= TWG_COUNT)
        return err_set(e, 500, "unknown GraphQL operation %d", (int)op);
    pthread_mutex_lock(&lock);
    ensure_built(cfg);
    for (;;) {
        time_t now = time(NULL);
        busy = false;
        for (size_t k = 0; k < nslots; k++) {
            size_t i = (next_index + k) % nslots;
            struct slot *s = &slots[i];
            if (s->bad || s->cool_until[op] > now || skipped(skip, nskip, i))
                continue;
            if (s->in_flight >= bound) {
                busy = true;
                continue;
            }
            s->in_flight++;
            next_index = i + 1;
            *index = i;
            pthread_mutex_unlock(&lock);
            return 0;
        }
        long left = ms_left(deadline);
        if (!busy || left <= 0)
            break;
        /* every usable account is busy: wait for a release, at most a second (a cool-down may
         * end meanwhile), on the monotonic clock as the deadline (a wall-clock step backwards
         * would hold the job past its deadline for as long) */
        if (left > 1000)
            left = 1000;
        cond_wait_ms(&freed, &lock, left);
    }
    int rc = busy ? err_set(e, 504, "job deadline reached while every usable Twitter account "
                            "was busy (TWITTER_ACCOUNT_CONCURRENCY %u)", bound)
                  : explain(op, skip, nskip, time(NULL), e);
    pthread_mutex_unlock(&lock);
    return rc;
}

void tw_accounts_release(size_t i)
{
    pthread_mutex_lock(&lock);
    if (i < nslots && slots[i].in_flight > 0)
        slots[i].in_flight--;
    pthread_cond_broadcast(&freed);
    pthread_mutex_unlock(&lock);
}

long tw_accounts_cooldown(size_t i, enum tw_gql op, const char *reset, const char *retry_after)
{
    time_t now = time(NULL);
    long seconds = twitter_keys_parse_cooldown(reset, retry_after, now);
    const char *name = "?";
    pthread_mutex_lock(&lock);
    if (i < nslots && op < TWG_COUNT) {
        /* a longer cool-down already running (a login-flow rest, an earlier limit) stays */
        seconds = twitter_cooldown_extend(&slots[i].cool_until[op], now, seconds);
        name = slots[i].acct.name;
    }
    pthread_mutex_unlock(&lock);
    log_warn("twitter: account %s rate limited on %s; cooling down for %ld s", name,
             tw_gql_name(op), seconds);
    return seconds;
}

void tw_accounts_rest(size_t i, long seconds, const char *what)
{
    time_t now = time(NULL);
    if (seconds <= 0)
        seconds = TWITTER_KEYS_DEFAULT_COOLDOWN_S;
    const char *name = "?";
    pthread_mutex_lock(&lock);
    if (i < nslots) {
        for (int op = 0; op < TWG_COUNT; op++)
            twitter_cooldown_extend(&slots[i].cool_until[op], now, seconds);
        name = slots[i].acct.name;
    }
    pthread_mutex_unlock(&lock);
    log_warn("twitter: account %s rate limited on %s; cooling down for %ld s (every operation)",
             name, what, seconds);
}

void tw_accounts_mark_bad(size_t i, const char *reason)
{
    bool first = false;
    const char *name = "?";
    pthread_mutex_lock(&lock);
    if (i < nslots) {
        first = !slots[i].bad;
        slots[i].bad = true;
        snprintf(slots[i].bad_reason, sizeof slots[i].bad_reason, "%.*s",
                 utf8_print_len(reason, sizeof slots[i].bad_reason - 1), reason);
        name = slots[i].acct.name;
    }
    pthread_mutex_unlock(&lock);
    if (first)
        log_error("twitter: account %s marked bad and skipped until restart: %s", name, reason);
}

bool tw_accounts_is_bad(size_t i)
{
    pthread_mutex_lock(&lock);
    bool bad = i < nslots && slots[i].bad;
    pthread_mutex_unlock(&lock);
    return bad;
}

void tw_accounts_reset(void)
{
    pthread_mutex_lock(&lock);
    free_slots(slots, nslots);
    slots = NULL;
    nslots = 0;
    next_index = 0;
    built = false;
    pthread_mutex_unlock(&lock);
}
