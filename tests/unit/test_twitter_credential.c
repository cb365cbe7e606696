/* test_twitter_credential.c - the credential backend's pure parts: account specs and the pool
 * (rotation, per-operation cool-down, bad marks, concurrency bound), TOTP codes (RFC 6238
 * vectors), answer classification, GraphQL URL/body encoding, query-id overrides and features;
 * and the login flow against a small local server, for what it leaves in freed memory.
 * The network parts are tested end to end (tests/e2e/test_twitter_credential.py). */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "jobs/kind.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_web_call.h"
#include "kinds/twitter_web_login.h"
#include "kinds/twitter_web_request.h"
#include "kinds/twitter_web_session.h"
#include "net/fetch.h"
#include "tee/platform.h"
#include "util/clock_after.h"
#include "util/utf8.h"

static void test_account_specs(void **state)
{
    (void)state;
    char *u, *p, *t;
    assert_int_equal(tw_accounts_parse_spec("alice:pw", &u, &p, &t), 0);
    assert_string_equal(u, "alice");
    assert_string_equal(p, "pw");
    assert_null(t);
    free(u);
    free(p);
    assert_int_equal(tw_accounts_parse_spec("bob:s3cret:JBSWY3DPEHPK3PXP", &u, &p, &t), 0);
    assert_string_equal(u, "bob");
    assert_string_equal(p, "s3cret");
    assert_string_equal(t, "JBSWY3DPEHPK3PXP");
    free(u);
    free(p);
    free(t);
    const char *bad[] = { "alice", ":pw", "alice:", "a:b:", "a:b:c:d", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(tw_accounts_parse_spec(bad[i], &u, &p, &t), -1);
        assert_null(u);
        assert_null(p);
        assert_null(t);
    }
}

static struct timespec in_ms(long ms)
{
    return clock_after_ms(CLOCK_MONOTONIC, ms);
}

static long elapsed_ms(const struct timespec *t0, const struct timespec *t1)
{
    return (t1->tv_sec - t0->tv_sec) * 1000 + (t1->tv_nsec - t0->tv_nsec) / 1000000;
}

/* One account, one job at a time: the pool of the tests of waiting, resting and bad marks. */
static char *solo_items[] = { "solo:pw" };
#define SOLO_CONFIG { .twitter_accounts = { solo_items, 1 }, .twitter_account_concurrency = 1 }

/* take_solo resets the pool to cfg's one account and takes it: the next acquire must wait. */
static size_t take_solo(const struct config *cfg)
{
    tw_accounts_reset();
    struct timespec later = in_ms(3000);
    struct err e = { 0 };
    size_t i;
    assert_int_equal(tw_accounts_acquire(cfg, TWG_TWEET_DETAIL, NULL, 0, &later, &i, &e), 0);
    return i;
}

static void test_pool(void **state)
{
    (void)state;
    char *items[] = { "a:1", "broken", "b:2", "c:3" };
    struct config cfg = { .twitter_accounts = { items, 4 }, .twitter_account_concurrency = 1 };
    tw_accounts_reset();
    assert_int_equal(tw_accounts_count(&cfg), 3);            /* "broken" dropped */
    assert_string_equal(tw_accounts_get(1)->name, "b");
    assert_null(tw_accounts_get(3));

    struct timespec soon = in_ms(200);
    struct err e = { 0 };
    size_t i, j, k;
    /* round robin */
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &soon, &i, &e), 0);
    assert_int_equal(i, 0);
    tw_accounts_release(i);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &soon, &i, &e), 0);
    assert_int_equal(i, 1);
    tw_accounts_release(i);

    /* a cooled account is skipped for that operation only */
    long s = tw_accounts_cooldown(2, TWG_SEARCH_TIMELINE, NULL, NULL);
    assert_int_equal(s, 15 * 60);
    char reset[32];
    snprintf(reset, sizeof reset, "%lld", (long long)time(NULL) + 120);
    s = tw_accounts_cooldown(0, TWG_SEARCH_TIMELINE, reset, NULL);
    assert_true(s >= 119 && s <= 120);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &soon, &i, &e), 0);
    assert_int_equal(i, 1);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_GENERIC_TIMELINE_BY_ID, NULL, 0, &soon, &j, &e), 0);
    assert_int_equal(j, 2);
    /* b is busy (bound 1), a and c cooling: no account, after waiting until the deadline */
    struct timespec brief = in_ms(100);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &brief, &k, &e), -1);
    assert_int_equal(e.http, 504);
    tw_accounts_release(i);
    tw_accounts_release(j);
    /* skip list: the job already gave up on b */
    size_t tried[] = { 1 };
    err_clear(&e);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, tried, 1, &soon, &k, &e), -1);
    assert_int_equal(e.http, 503);
    assert_non_null(strstr(e.msg, "2 rate limited for SearchTimeline"));
    assert_non_null(strstr(e.msg, "1 already tried"));
    /* bad accounts are never handed out */
    tw_accounts_mark_bad(1, "locked (X error 326)");
    assert_true(tw_accounts_is_bad(1));
    err_clear(&e);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &soon, &k, &e), -1);
    assert_non_null(strstr(e.msg, "1 marked bad (locked (X error 326))"));
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_AUDIO_SPACE_BY_ID, NULL, 0, &soon, &k, &e), 0);
    assert_int_not_equal(k, 1);
    tw_accounts_release(k);
    tw_accounts_reset();

    struct config none = { .twitter_account_concurrency = 1 };
    assert_false(tw_accounts_configured(&none));
    err_clear(&e);
    assert_int_equal(tw_accounts_acquire(&none, TWG_TWEET_DETAIL, NULL, 0, &soon, &k, &e), -1);
    assert_non_null(strstr(e.msg, "no Twitter credentials available"));
    tw_accounts_reset();
}

static void *release_later(void *arg)
{
    struct timespec pause = { 0, 100L * 1000000L };
    nanosleep(&pause, NULL);
    tw_accounts_release(*(size_t *)arg);
    return NULL;
}

/* A job waiting for a busy account gets it as soon as it is released. */
static void test_pool_wait_for_release(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    size_t i = take_solo(&cfg), j;
    struct timespec later = in_ms(3000);
    struct err e = { 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, release_later, &i), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_TWEET_DETAIL, NULL, 0, &later, &j, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    assert_int_equal(j, 0);
    long waited = elapsed_ms(&t0, &t1);
    assert_true(waited >= 50 && waited < 1500);
    tw_accounts_release(j);
    tw_accounts_reset();
}

/* A rate limit ending sooner never shortens a cool-down already running (a login-flow rest of
 * every operation, a longer limit of the same operation): the account stays resting. */
static void test_shorter_cooldown_keeps_the_longer(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    tw_accounts_reset();
    struct timespec soon = in_ms(200);
    struct err e = { 0 };
    size_t i;
    assert_int_equal(tw_accounts_count(&cfg), 1);
    tw_accounts_rest(0, 900, "the login flow");
    char reset[32];
    snprintf(reset, sizeof reset, "%lld", (long long)time(NULL) + 60);
    long s = tw_accounts_cooldown(0, TWG_TWEET_DETAIL, reset, NULL);
    assert_true(s >= 899 && s <= 900);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_TWEET_DETAIL, NULL, 0, &soon, &i, &e), -1);
    assert_int_equal(e.http, 503);
    assert_non_null(strstr(e.msg, "next free in 9"));
    /* the same with two limits of one operation */
    s = tw_accounts_cooldown(0, TWG_SEARCH_TIMELINE, "junk", "1200");
    assert_true(s >= 1199 && s <= 1200);
    s = tw_accounts_cooldown(0, TWG_SEARCH_TIMELINE, NULL, "30");
    assert_true(s >= 1199 && s <= 1200);
    err_clear(&e);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_SEARCH_TIMELINE, NULL, 0, &soon, &i, &e), -1);
    assert_non_null(strstr(e.msg, "next free in 1"));
    tw_accounts_reset();
}

/* A secret store in memory: one stored session; a write carrying ct0=slow is slow to land. */
static pthread_mutex_t saved_lock = PTHREAD_MUTEX_INITIALIZER;
static char saved[512] = "auth_token=tok; ct0=first";

static int memory_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                      char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)err, (void)errlen;
    pthread_mutex_lock(&saved_lock);
    *data = (uint8_t *)strdup(saved);
    *len = strlen(saved);
    pthread_mutex_unlock(&saved_lock);
    return *data ? 1 : -1;
}

static int memory_put(void *ctx, const char *name, const char *label, const uint8_t *data,
                      size_t len, bool replace, char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)replace, (void)err, (void)errlen;
    if (memmem(data, len, "ct0=slow", 8)) {
        struct timespec pause = { 0, 300L * 1000000L };
        nanosleep(&pause, NULL);
    }
    pthread_mutex_lock(&saved_lock);
    snprintf(saved, sizeof saved, "%.*s", (int)len, (const char *)data);
    pthread_mutex_unlock(&saved_lock);
    return 0;
}

static void *absorb_slow(void *arg)
{
    (void)arg;
    tw_session_absorb(0, "tok", "api.x.com", "ct0=slow; Path=/; Domain=.x.com; Secure");
    return NULL;
}

/* Two answers renewing ct0 at once: the stored session ends with the newer cookie, as the jar
 * in memory does, though the older one's write was slower. */
static void test_concurrent_absorbs_store_the_newest_cookie(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    cfg.twitter_account_concurrency = 2;
    cfg.twitter_skip_login_verification = true;
    tw_accounts_reset();
    tw_session_reset();
    struct secret_store st = { .get = memory_get, .put = memory_put };
    tw_session_attach_store(&st);
    struct err e = { 0 };
    assert_int_equal(tw_session_open(&cfg, NULL, 0, &e), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, absorb_slow, NULL), 0);
    struct timespec pause = { 0, 100L * 1000000L };
    nanosleep(&pause, NULL);        /* the slow write is under way */
    tw_session_absorb(0, "tok", "api.x.com", "ct0=newest; Path=/; Domain=.x.com; Secure");
    pthread_join(t, NULL);
    pthread_mutex_lock(&saved_lock);
    assert_string_equal(saved, "auth_token=tok; ct0=newest");
    pthread_mutex_unlock(&saved_lock);
    tw_session_detach_store();
    tw_session_reset();
    tw_accounts_reset();
}

/* An answer to a request sent with a session that has been replaced since (another job sharing
 * the account renewed it) carries that old session's cookies: its ct0 rotation must not land in
 * the new session's jar, nor in the store, where the new auth_token would be paired with the old
 * session's ct0 (X then refuses every request: code 353). */
static void test_answer_of_a_replaced_session_is_not_absorbed(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    cfg.twitter_skip_login_verification = true;
    tw_accounts_reset();
    tw_session_reset();
    pthread_mutex_lock(&saved_lock);
    snprintf(saved, sizeof saved, "auth_token=tok; ct0=first");
    pthread_mutex_unlock(&saved_lock);
    struct secret_store st = { .get = memory_get, .put = memory_put };
    tw_session_attach_store(&st);
    struct err e = { 0 };
    assert_int_equal(tw_session_open(&cfg, NULL, 0, &e), 0);
    tw_session_absorb(0, "tok-replaced", "api.x.com", "ct0=stale; Path=/; Domain=.x.com; Secure");
    tw_session_absorb(0, "tok-replaced", "api.x.com", "auth_token=old; Path=/; Domain=.x.com; Secure");
    pthread_mutex_lock(&saved_lock);
    assert_string_equal(saved, "auth_token=tok; ct0=first");
    pthread_mutex_unlock(&saved_lock);
    char *auth = tw_session_auth_token(0);
    assert_string_equal(auth, "tok");
    free(auth);
    /* an answer to the current session is absorbed as before */
    tw_session_absorb(0, "tok", "api.x.com", "ct0=second; Path=/; Domain=.x.com; Secure");
    pthread_mutex_lock(&saved_lock);
    assert_string_equal(saved, "auth_token=tok; ct0=second");
    pthread_mutex_unlock(&saved_lock);
    tw_session_detach_store();
    tw_session_reset();
    tw_accounts_reset();
}

/* The wall clock, as the pool's code reads it, runs this many seconds ahead of the kernel's
 * (linked with -Wl,--wrap=clock_gettime): what a wall-clock step backwards does to a wait under
 * way whose end was computed on CLOCK_REALTIME. */
static long realtime_shift_s;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = __real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += __atomic_load_n(&realtime_shift_s, __ATOMIC_RELAXED);
    return rc;
}

/* A job waiting for a busy account gives up at its deadline, whatever the wall clock does. */
static void test_pool_wait_ignores_the_wall_clock(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    size_t i = take_solo(&cfg), j;
    struct err e = { 0 };
    __atomic_store_n(&realtime_shift_s, 10, __ATOMIC_RELAXED);
    struct timespec t0, t1, brief = in_ms(300);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_TWEET_DETAIL, NULL, 0, &brief, &j, &e), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    __atomic_store_n(&realtime_shift_s, 0, __ATOMIC_RELAXED);
    assert_int_equal(e.http, 504);
    long waited = elapsed_ms(&t0, &t1);
    assert_true(waited >= 250 && waited < 2000);
    tw_accounts_release(i);
    tw_accounts_reset();
}

/* A bad mark's reason is kept whole characters only: quoted by the pool's refusal, a cut inside
 * a UTF-8 character ended the job error there (the reply stops at the first invalid byte). */
static void test_bad_reason_cut_on_a_character_boundary(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    tw_accounts_reset();
    assert_int_equal(tw_accounts_count(&cfg), 1);
    char reason[400];
    memset(reason, 'x', 158);
    strcpy(reason + 158, "\xC3\xA9 and more");              /* U+00E9 across the cut */
    tw_accounts_mark_bad(0, reason);
    struct timespec soon = in_ms(100);
    struct err e = { 0 };
    size_t i;
    assert_int_equal(tw_accounts_acquire(&cfg, TWG_TWEET_DETAIL, NULL, 0, &soon, &i, &e), -1);
    assert_int_equal(utf8_print_len(e.msg, SIZE_MAX), (int)strlen(e.msg));
    assert_non_null(strstr(e.msg, "x)"));
    tw_accounts_reset();
}

/* RFC 6238 appendix B, SHA-1, last six digits; secret "12345678901234567890" in base32. */
static void test_totp(void **state)
{
    (void)state;
    const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    struct { time_t t; const char *code; } v[] = {
        { 59, "287082" }, { 1111111109, "081804" }, { 1111111111, "050471" },
        { 1234567890, "005924" }, { 2000000000, "279037" },
    };
    char out[7];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        assert_int_equal(tw_totp(secret, v[i].t, out), 0);
        assert_string_equal(out, v[i].code);
    }
    assert_int_equal(tw_totp("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", 59, out), 0);
    assert_string_equal(out, "287082");
    assert_int_equal(tw_totp("not base32!", 59, out), -1);
    assert_int_equal(tw_totp("", 59, out), -1);
}

static enum tw_web_verdict classify(long status, const char *body, const char *ctype,
                                    const char *remaining, char *msg, size_t msglen)
{
    struct tw_web_answer a = { .status = status };
    a.json = body ? json_loads(body, 0, NULL) : NULL;
    tw_web_classify(&a, ctype, remaining);
    if (msg)
        snprintf(msg, msglen, "%s", a.message);
    json_decref(a.json);
    return a.verdict;
}

static void test_classify(void **state)
{
    (void)state;
    char msg[240];
    const char *json = "application/json";
    assert_int_equal(classify(200, "{\"data\":{\"user\":{}}}", json, "5", NULL, 0), TWV_OK);
    assert_int_equal(classify(200, "{\"data\":{\"x\":1},\"errors\":[{\"code\":0,\"message\":\"m\"}]}",
                              json, NULL, NULL, 0), TWV_OK);
    assert_int_equal(classify(429, "{\"errors\":[{\"code\":88,\"message\":\"Rate limit exceeded\"}]}",
                              json, "0", msg, sizeof msg), TWV_RATE_LIMITED);
    assert_string_equal(msg, "Rate limit exceeded");
    assert_int_equal(classify(200, "{\"errors\":[{\"message\":\"Rate limit exceeded\"}]}", json,
                              NULL, NULL, 0), TWV_RATE_LIMITED);
    assert_int_equal(classify(429, "", "text/plain", NULL, NULL, 0), TWV_RATE_LIMITED);
    /* code 88 with quota left: a soft ban */
    assert_int_equal(classify(200, "{\"errors\":[{\"code\":88,\"message\":\"Rate limit exceeded\"}]}",
                              json, "12", NULL, 0), TWV_ACCOUNT_BANNED);
    assert_int_equal(classify(401, "{\"errors\":[{\"code\":32,\"message\":\"Could not authenticate you.\"}]}",
                              json, NULL, NULL, 0), TWV_SESSION_DEAD);
    assert_int_equal(classify(403, "{}", json, NULL, NULL, 0), TWV_SESSION_DEAD);
    assert_int_equal(classify(403, "{\"errors\":[{\"code\":326,\"message\":\"locked\"}]}", json,
                              NULL, NULL, 0), TWV_ACCOUNT_LOCKED);
    assert_int_equal(classify(403, "{\"errors\":[{\"code\":64,\"message\":\"suspended\"}]}", json,
                              NULL, NULL, 0), TWV_ACCOUNT_BANNED);
    assert_int_equal(classify(200, "{\"errors\":[{\"code\":37,\"message\":\"no\"}]}", json, NULL,
                              NULL, 0), TWV_ACCOUNT_BANNED);
    assert_int_equal(classify(403, NULL, "text/html; charset=utf-8", NULL, msg, sizeof msg),
                     TWV_BLOCKED);
    assert_non_null(strstr(msg, "Cloudflare"));
    assert_int_equal(classify(404, NULL, "text/plain", NULL, msg, sizeof msg), TWV_FAILED);
    assert_non_null(strstr(msg, "TWITTER_QUERY_IDS"));
    assert_int_equal(classify(400, "{\"errors\":[{\"code\":336,\"message\":\"The following "
                              "features cannot be null: x\"}]}", json, NULL, msg, sizeof msg),
                     TWV_FAILED);
    assert_non_null(strstr(msg, "TWITTER_FEATURES"));
    assert_int_equal(classify(200, NULL, json, NULL, msg, sizeof msg), TWV_FAILED);
    assert_string_equal(msg, "HTTP 200 (not JSON)");
    assert_int_equal(classify(500, "{\"errors\":\"weird\"}", json, NULL, NULL, 0), TWV_FAILED);
    /* X's message is kept to whole characters (a cut inside one ends a job error there) */
    char body[600] = "{\"errors\":[{\"code\":130,\"message\":\"";
    for (int k = 0; k < 150; k++)
        strcat(body, "\xC3\xA9");
    strcat(body, "\"}]}");
    assert_int_equal(classify(503, body, json, NULL, msg, sizeof msg), TWV_FAILED);
    assert_true(strlen(msg) > 200);
    assert_int_equal(utf8_print_len(msg, SIZE_MAX), (int)strlen(msg));
    char body336[600] = "{\"errors\":[{\"code\":336,\"message\":\"a";   /* 'a': odd cut */
    for (int k = 0; k < 150; k++)
        strcat(body336, "\xC3\xA9");
    strcat(body336, "\"}]}");
    assert_int_equal(classify(400, body336, json, NULL, msg, sizeof msg), TWV_FAILED);
    assert_non_null(strstr(msg, "TWITTER_FEATURES"));
    assert_int_equal(utf8_print_len(msg, SIZE_MAX), (int)strlen(msg));
}

static void test_graphql_encoding(void **state)
{
    (void)state;
    struct config cfg = { .twitter_graphql_base = "http://h/i/api/graphql" };
    json_t *vars = json_pack("{s:s, s:i}", "rawQuery", "a b&c", "count", 20);
    json_t *feat = json_pack("{s:b}", "f", 1);
    char *body = NULL;
    char *url = tw_web_graphql_url(&cfg, "ID1", "SearchTimeline", false, vars, feat, NULL, &body);
    assert_null(body);
    assert_string_equal(url, "http://h/i/api/graphql/ID1/SearchTimeline?variables=%7B%22count%22"
                        "%3A20%2C%22rawQuery%22%3A%22a%20b%26c%22%7D&features=%7B%22f%22%3Atrue%7D");
    free(url);
    url = tw_web_graphql_url(&cfg, "ID1", "SearchTimeline", true, vars, feat, NULL, &body);
    assert_string_equal(url, "http://h/i/api/graphql/ID1/SearchTimeline");
    assert_string_equal(body, "{\"features\":{\"f\":true},\"queryId\":\"ID1\",\"variables\":"
                        "{\"count\":20,\"rawQuery\":\"a b&c\"}}");
    char path[256];
    tw_web_url_path(url, path, sizeof path);
    assert_string_equal(path, "/i/api/graphql/ID1/SearchTimeline");
    tw_web_url_path("https://x.com/a/b?c=d#e", path, sizeof path);
    assert_string_equal(path, "/a/b");
    free(url);
    free(body);
    json_decref(vars);
    json_decref(feat);
}

static void test_operation_table(void **state)
{
    (void)state;
    char *ids[] = { "SearchTimeline=NEW_id-1@GET", "UserTweets=u2", "Followers=f3@POST" };
    struct config cfg = { .twitter_query_ids = { ids, 3 } };
    char buf[64];
    assert_string_equal(tw_gql_query_id(&cfg, TWG_SEARCH_TIMELINE, buf, sizeof buf), "NEW_id-1");
    assert_false(tw_gql_is_post(&cfg, TWG_SEARCH_TIMELINE));
    assert_string_equal(tw_gql_query_id(&cfg, TWG_USER_TWEETS, buf, sizeof buf), "u2");
    assert_false(tw_gql_is_post(&cfg, TWG_USER_TWEETS));
    assert_true(tw_gql_is_post(&cfg, TWG_FOLLOWERS));
    assert_string_equal(tw_gql_query_id(&cfg, TWG_TWEET_DETAIL, buf, sizeof buf),
                        "559hs_YZNV4IgA3Z6zIIuw");
    struct config dflt = { 0 };
    assert_true(tw_gql_is_post(&dflt, TWG_SEARCH_TIMELINE));
    assert_true(tw_gql_is_post(&dflt, TWG_HOME_TIMELINE));
    assert_false(tw_gql_is_post(&dflt, TWG_USER_BY_SCREEN_NAME));
    assert_int_equal(tw_gql_parse("AudioSpaceById"), TWG_AUDIO_SPACE_BY_ID);
    assert_int_equal(tw_gql_parse("Nope"), -1);

    struct err e = { 0 };
    json_t *f = tw_gql_features(&dflt, &e);
    assert_non_null(f);
    assert_true(json_is_true(json_object_get(f, "view_counts_everywhere_api_enabled")));
    assert_true(json_is_false(json_object_get(f, "verified_phone_label_enabled")));
    json_decref(f);
    struct config over = { .twitter_features = "{\"verified_phone_label_enabled\":true,\"new\":1}" };
    f = tw_gql_features(&over, &e);
    assert_true(json_is_true(json_object_get(f, "verified_phone_label_enabled")));
    assert_int_equal(json_integer_value(json_object_get(f, "new")), 1);
    json_decref(f);
    struct config broken = { .twitter_features = "[1]" };
    assert_null(tw_gql_features(&broken, &e));
    assert_non_null(strstr(e.msg, "TWITTER_FEATURES"));
}

/* The secret body is the text jansson's json_dumps makes of the same document, byte for byte
 * (what X, and the e2e fake, read), for secrets that need every kind of escape. */
static void test_login_secret_body_is_what_jansson_writes(void **state)
{
    (void)state;
    static const char *const secrets[] = {
        "pw", "", "p\"w\\/d", "tab\there\nnl\r\b\f", "\x01\x1f\x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80",
        "<&>\u2028",
    };
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
        char *mine = tw_login_secret_body("f\"7", "LoginEnterPassword", "enter_password",
                                          "password", secrets[i]);
        json_t *doc = json_pack("{s:s, s:[{s:s, s:{s:s, s:s}}]}", "flow_token", "f\"7",
                                "subtask_inputs", "subtask_id", "LoginEnterPassword",
                                "enter_password", "password", secrets[i], "link", "next_link");
        char *theirs = json_dumps(doc, JSON_COMPACT);
        assert_non_null(mine);
        assert_string_equal(mine, theirs);
        free(mine);
        free(theirs);
        json_decref(doc);
    }
    /* what jansson refuses (not UTF-8) is refused too */
    assert_null(tw_login_secret_body("f1", "LoginEnterPassword", "enter_password", "password",
                                     "bad\xff"));
    assert_null(tw_login_secret_body("f\xc3", "LoginEnterPassword", "enter_password",
                                     "password", "pw"));
}

/* ---- the login flow and freed memory ---- */

#define SECRET_MARK "Zq8-login-secret-Kx3"      /* the part of the password searched for */

/* Every block freed while `searching` (the worker's frees: -Wl,--wrap=free; jansson's: its
 * allocator is set to scanned_free) is searched for the password. */
void __real_free(void *p);
void __wrap_free(void *p);
static atomic_bool searching;
static atomic_int secret_copies_freed;

void __wrap_free(void *p)
{
    /* A block's tail past what its owner wrote is uninitialised: to memcheck (the valgrind run)
     * the search would read undefined bytes. Defined for the search; it is being freed anyway. */
    if (p && atomic_load(&searching))
        VALGRIND_MAKE_MEM_DEFINED(p, malloc_usable_size(p));
    if (p && atomic_load(&searching) &&
        memmem(p, malloc_usable_size(p), SECRET_MARK, strlen(SECRET_MARK)))
        atomic_fetch_add(&secret_copies_freed, 1);
    __real_free(p);
}

static void scanned_free(void *p)
{
    __wrap_free(p);
}

/* A range of memory a scan does not count: where the test itself keeps the password. */
struct kept {
    const void *at;
    size_t len;
};

/* copies_in_memory: how many times SECRET_MARK is in the process's writable memory (read through
 * /proc/self/mem, so freed blocks, live ones and every stack are all seen) outside the kept
 * ranges; *kept_hits counts the ones inside them (the scan finding the test's own copies shows
 * that it sees memory at all). Mappings larger than 1 GiB (a sanitizer's shadow) are skipped. */
static int copies_in_memory(const struct kept *kept, size_t nkept, int *kept_hits)
{
    const size_t chunk = 1 << 20, mark_len = strlen(SECRET_MARK);
    char *buf = mmap(NULL, chunk + mark_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    FILE *maps = fopen("/proc/self/maps", "r");
    int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    assert_true(buf != MAP_FAILED && maps && mem >= 0);
    int found = 0;
    *kept_hits = 0;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || hi - lo > (1ul << 30) || lo == (unsigned long)buf)
            continue;
        /* chunks overlap by the mark's length, so a copy across a boundary is seen once */
        for (unsigned long at = lo; at < hi; at += chunk) {
            size_t want = hi - at < chunk + mark_len ? hi - at : chunk + mark_len;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got <= 0)
                break;
            size_t limit = (size_t)got < chunk ? (size_t)got : chunk + mark_len - 1;
            for (char *p = buf; (p = memmem(p, limit - (size_t)(p - buf), SECRET_MARK,
                                           mark_len)) != NULL; p++) {
                if ((size_t)(p - buf) >= chunk)
                    break;                /* the next chunk's: counted there */
                uintptr_t addr = at + (uintptr_t)(p - buf);
                bool is_kept = false;
                for (size_t k = 0; k < nkept; k++)
                    if (addr >= (uintptr_t)kept[k].at && addr < (uintptr_t)kept[k].at + kept[k].len)
                        is_kept = true;
                if (is_kept)
                    ++*kept_hits;
                else
                    found++;
            }
        }
    }
    explicit_bzero(buf, chunk + mark_len);
    munmap(buf, chunk + mark_len);
    fclose(maps);
    close(mem);
    return found;
}

/* Absorbing an answer's cookies (a ct0 rotation, then a new auth_token) frees no block holding
 * the session's auth_token: the copies it compares the jar against are wiped. */
static void test_absorb_leaves_no_auth_token_in_freed_memory(void **state)
{
    (void)state;
    struct config cfg = SOLO_CONFIG;
    cfg.twitter_skip_login_verification = true;
    tw_accounts_reset();
    tw_session_reset();
    pthread_mutex_lock(&saved_lock);
    snprintf(saved, sizeof saved, "auth_token=tok" SECRET_MARK "; ct0=first");
    pthread_mutex_unlock(&saved_lock);
    struct secret_store st = { .get = memory_get, .put = memory_put };
    tw_session_attach_store(&st);
    struct err e = { 0 };
    assert_int_equal(tw_session_open(&cfg, NULL, 0, &e), 0);
    atomic_store(&secret_copies_freed, 0);
    atomic_store(&searching, true);
    tw_session_absorb(0, "tok" SECRET_MARK, "x.com", "ct0=second; Path=/; Domain=.x.com");
    tw_session_absorb(0, "tok" SECRET_MARK, "x.com", "auth_token=tok2" SECRET_MARK "; Domain=.x.com");
    atomic_store(&searching, false);
    pthread_mutex_lock(&saved_lock);
    assert_string_equal(saved, "auth_token=tok2" SECRET_MARK "; ct0=second");
    pthread_mutex_unlock(&saved_lock);
    assert_int_equal(atomic_load(&secret_copies_freed), 0);
    tw_session_detach_store();
    tw_session_reset();
    tw_accounts_reset();
}

/* A login host in three answers: a guest token, the flow's start asking for the password, and
 * the password step ending the flow with the session cookies. The body of the password step is
 * kept. */
static int login_fd;
static char password_body[4096];

static const char *login_session_token = "a1";      /* the auth_token the login host sets */

static void login_answer(int fd, const char *req, const char *body)
{
    const char *doc = "{}";
    char cookies[256] = "";
    if (strstr(req, "POST /1.1/guest/activate.json ")) {
        doc = "{\"guest_token\":\"gt-1\"}";
    } else if (strstr(req, "POST /1.1/onboarding/task.json?flow_name=login ")) {
        doc = "{\"flow_token\":\"f1\",\"subtasks\":[{\"subtask_id\":\"LoginEnterPassword\"}]}";
    } else if (strstr(req, "POST /1.1/onboarding/task.json ")) {
        snprintf(password_body, sizeof password_body, "%s", body);
        doc = "{\"flow_token\":\"f2\",\"status\":\"success\",\"subtasks\":[]}";
        snprintf(cookies, sizeof cookies, "Set-Cookie: auth_token=%s; Domain=127.0.0.1; "
                 "Path=/\r\nSet-Cookie: ct0=c1; Path=/\r\n", login_session_token);
    }
    char reply[1024];
    int n = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "%sConnection: close\r\nContent-Length: %zu\r\n\r\n%s", cookies,
                     strlen(doc), doc);
    ssize_t w = write(fd, reply, (size_t)n);
    (void)w;
    explicit_bzero(reply, sizeof reply);
    explicit_bzero(cookies, sizeof cookies);
}

static char login_request[8192];      /* the request the login host reads */

static void *login_serve(void *arg)
{
    (void)arg;
    char *req = login_request;
    const size_t cap = sizeof login_request;
    for (;;) {
        int fd = accept(login_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        size_t len = 0;
        char *end = NULL;
        ssize_t r;
        while (len < cap - 1 && (r = read(fd, req + len, cap - 1 - len)) > 0) {
            len += (size_t)r;
            req[len] = '\0';
            end = strstr(req, "\r\n\r\n");
            const char *cl = end ? strcasestr(req, "\r\ncontent-length:") : NULL;
            if (end && (size_t)(req + len - (end + 4)) >= (cl ? strtoul(cl + 17, NULL, 10) : 0))
                break;
        }
        if (end)
            login_answer(fd, req, end + 4);
        close(fd);
    }
}

/* login_host_start starts the login host on a loopback port, answering from its own thread, and
 * writes its URL into base; login_host_stop stops it. */
static pthread_t login_host_start(char base[64])
{
    login_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t salen = sizeof sa;
    assert_int_equal(bind(login_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(login_fd, 8), 0);
    assert_int_equal(getsockname(login_fd, (struct sockaddr *)&sa, &salen), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, login_serve, NULL), 0);
    snprintf(base, 64, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    return t;
}

static void login_host_stop(pthread_t t)
{
    shutdown(login_fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(login_fd);
    fetch_global_cleanup();
}

/* login_searched runs tw_login of account "gina" with password against the login host at base,
 * every block freed meanwhile (the worker's and jansson's) searched for SECRET_MARK
 * (secret_copies_freed); returns tw_login's result, the session in *jar. */
static int login_searched(char *base, char *password, struct twitter_jar *jar)
{
    struct config cfg = { .twitter_login_base = base, .twitter_web_base = base,
                          .twitter_bearer_token = "bearer", .twitter_login_step_delay_ms = 0 };
    struct job_ctx ctx = { .cfg = &cfg, .deadline = in_ms(10000) };
    char name[] = "gina";
    struct tw_account a = { .name = name, .password = password };
    struct err e = { 0 };
    long rest_s = 0;
    json_set_alloc_funcs(malloc, scanned_free);
    atomic_store(&secret_copies_freed, 0);
    atomic_store(&searching, true);
    int rc = tw_login(&cfg, &ctx, &a, jar, &rest_s, &e);
    atomic_store(&searching, false);
    json_set_alloc_funcs(malloc, free);
    return rc;
}

/* tw_login sends the password in the flow (as the host expects it) and frees no block that still
 * holds it: not the JSON text it sent, not a string value of a JSON document, not libcurl's copy
 * of the request (searched for in the whole memory after the login). */
static void test_login_leaves_no_password_in_freed_memory(void **state)
{
    (void)state;
    char base[64];
    pthread_t t = login_host_start(base);
    char password[] = "pw\"\\" SECRET_MARK "\t\xc3\xa9";
    struct twitter_jar jar = { 0 };
    assert_int_equal(login_searched(base, password, &jar), 0);
    assert_string_equal(twitter_jar_get(&jar, "auth_token"), "a1");
    assert_string_equal(twitter_jar_get(&jar, "ct0"), "c1");
    twitter_jar_free(&jar);
    assert_int_equal(atomic_load(&secret_copies_freed), 0);
    /* Nor any block freed by the libraries the flow uses (libcurl's copy of the request it
     * sent): the whole memory holds the password only where the test keeps it. */
    const struct kept kept[] = { { password, sizeof password },
                                 { password_body, sizeof password_body },
                                 { login_request, sizeof login_request } };
    int kept_hits;
    assert_int_equal(copies_in_memory(kept, sizeof kept / sizeof *kept, &kept_hits), 0);
    assert_true(kept_hits >= 3);

    json_t *doc = json_loads(password_body, 0, NULL);
    json_t *input = json_array_get(json_object_get(doc, "subtask_inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "flow_token")), "f1");
    assert_string_equal(json_string_value(json_object_get(input, "subtask_id")),
                        "LoginEnterPassword");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            input, "enter_password"), "password")), password);
    json_decref(doc);
    login_host_stop(t);
}

/* The session tw_login brings back (the auth_token of the answer's Set-Cookie) is not left in
 * the blocks freed on its way into the jar: the answer's header lines, the list of Set-Cookie
 * values, the answer itself. */
static void test_login_leaves_no_session_token_in_freed_memory(void **state)
{
    (void)state;
    login_session_token = "tok" SECRET_MARK;
    char base[64];
    pthread_t t = login_host_start(base);
    char password[] = "pw";
    struct twitter_jar jar = { 0 };
    assert_int_equal(login_searched(base, password, &jar), 0);
    assert_string_equal(twitter_jar_get(&jar, "auth_token"), "tok" SECRET_MARK);
    twitter_jar_free(&jar);
    assert_int_equal(atomic_load(&secret_copies_freed), 0);
    login_session_token = "a1";
    login_host_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_specs),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_pool_wait_for_release),
        cmocka_unit_test(test_pool_wait_ignores_the_wall_clock),
        cmocka_unit_test(test_shorter_cooldown_keeps_the_longer),
        cmocka_unit_test(test_concurrent_absorbs_store_the_newest_cookie),
        cmocka_unit_test(test_answer_of_a_replaced_session_is_not_absorbed),
        cmocka_unit_test(test_bad_reason_cut_on_a_character_boundary),
        cmocka_unit_test(test_totp),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_graphql_encoding),
        cmocka_unit_test(test_operation_table),
        cmocka_unit_test(test_login_secret_body_is_what_jansson_writes),
        cmocka_unit_test(test_login_leaves_no_password_in_freed_memory),
        cmocka_unit_test(test_absorb_leaves_no_auth_token_in_freed_memory),
        cmocka_unit_test(test_login_leaves_no_session_token_in_freed_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
