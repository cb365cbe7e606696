/* test_config.c - configuration: defaults, every variable, errors naming their variable, and the
 * precedence environment > $DATA_DIR/.env > ./.env > defaults.
 *
 * Each test runs in a fresh temporary directory holding data/ (DATA_DIR) and cwd/ (the working
 * directory, so ./.env is ours); the environment is a fake lookup table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dotenv.h"
#include "log.h"

#define MAX_ENV 64

struct fixture {
    char root[64];
    char data[128];
    char cwd[128];
    char old_cwd[4096];
    const char *names[MAX_ENV];
    const char *values[MAX_ENV];
    size_t count;
    struct config cfg;
    char err[512];
};

static const char *fake_getenv(const char *name, void *ctx)
{
    struct fixture *f = ctx;
    for (size_t i = f->count; i-- > 0;)
        if (strcmp(f->names[i], name) == 0)
            return f->values[i];
    return NULL;
}

static void env_set(struct fixture *f, const char *name, const char *value)
{
    assert_true(f->count < MAX_ENV);
    f->names[f->count] = name;
    f->values[f->count] = value;
    f->count++;
}

static void env_clear(struct fixture *f)
{
    f->count = 0;
    env_set(f, "DATA_DIR", f->data);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->root, sizeof f->root, "/tmp/tw-config.XXXXXX");
    if (!mkdtemp(f->root) || !getcwd(f->old_cwd, sizeof f->old_cwd))
        return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->root);
    snprintf(f->cwd, sizeof f->cwd, "%s/cwd", f->root);
    if (mkdir(f->data, 0700) < 0 || mkdir(f->cwd, 0700) < 0 || chdir(f->cwd) < 0)
        return -1;
    env_clear(f);
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_free(&f->cfg);
    if (chdir(f->old_cwd) < 0)
        return -1;
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int load(struct fixture *f)
{
    config_free(&f->cfg);
    return config_load_from(&f->cfg, fake_getenv, f, f->err, sizeof f->err);
}

static void load_ok(struct fixture *f)
{
    if (load(f) != 0)
        fail_msg("config_load_from failed: %s", f->err);
}

/* load_fails checks that loading fails with an error starting with prefix and holding word. */
static void load_fails(struct fixture *f, const char *prefix, const char *word)
{
    assert_int_equal(load(f), -1);
    if (strncmp(f->err, prefix, strlen(prefix)) != 0 || (word && !strstr(f->err, word)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", f->err, prefix, word ? word : "");
    struct config zero = { 0 };
    assert_memory_equal(&f->cfg, &zero, sizeof zero);
}

static void assert_list(const struct str_list *l, size_t n, ...)
{
    assert_int_equal(l->count, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->items[i], va_arg(ap, const char *));
    va_end(ap);
}

/* ---- defaults and every variable ---- */

static void assert_defaults(const struct config *c)
{
    assert_int_equal(c->log_level, LOG_INFO);
    assert_false(c->log_json);
    assert_false(c->standalone);
    assert_string_equal(c->listen_address, ":8080");
    assert_string_equal(c->api_key, "");
    assert_int_equal(c->http_max_body, 1048576);
    assert_int_equal(c->http_timeout_s, 30);
    assert_int_equal(c->http_threads, 1);
    assert_int_equal(c->http_max_connections, 1024);
    assert_int_equal(c->shutdown_drain_s, 10);
    assert_string_equal(c->key_distributor_pubkey, "");
    assert_list(&c->miners_white_list, 0);
    assert_int_equal(c->max_jobs, 10);
    assert_int_equal(c->job_queue_max, 10000);
    assert_int_equal(c->job_timeout_s, 300);
    assert_int_equal(c->job_signature_max_age_s, 86400);
    assert_int_equal(c->result_cache_max_size, 1000);
    assert_int_equal(c->result_cache_max_age_s, 600);
    assert_int_equal(c->result_cache_max_bytes, 256u << 20);
    assert_int_equal(c->stats_buf_size, 128);
    assert_int_equal(c->readyz_min_samples, 20);
    assert_true(c->readyz_error_threshold == 0.95);
    assert_false(c->enable_pprof);
    assert_false(c->oe_simulation);
    assert_string_equal(c->gramine_attestation_dir, "/dev/attestation");
    assert_int_equal(c->tls_cert_validity_s, 2592000);
    assert_list(&c->webscraper_blacklist, 0);
    assert_int_equal(c->webscraper_max_depth, 5);
    assert_false(c->webscraper_allow_private);
    assert_list(&c->twitter_accounts, 0);
    assert_list(&c->twitter_api_keys, 0);
    assert_false(c->twitter_skip_login_verification);
    assert_string_equal(c->twitter_x_api_base, "https://api.x.com/2");
    assert_string_equal(c->apify_api_key, "");
    assert_string_equal(c->apify_base_url, "https://api.apify.com/v2");
    assert_string_equal(c->tiktok_default_language, "eng-US");
    assert_string_equal(c->tiktok_api_user_agent, "");
    assert_string_equal(c->tiktok_transcription_endpoint,
                        "https://submagic-free-tools.fly.dev/api/tiktok-transcription");
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    load_ok(f);
    assert_defaults(&f->cfg);
    assert_string_equal(f->cfg.data_dir, f->data);
}

static void test_data_dir_default(void **state)
{
    struct fixture *f = *state;
    if (access("/home/masa/.env", F_OK) == 0)
        skip(); /* a real deployment's file would be read */
    f->count = 0;
    load_ok(f);
    assert_string_equal(f->cfg.data_dir, "/home/masa");
    env_set(f, "DATA_DIR", "");
    load_ok(f);
    assert_string_equal(f->cfg.data_dir, "/home/masa");
}

static void test_every_variable(void **state)
{
    struct fixture *f = *state;
    env_set(f, "LOG_LEVEL", "debug");
    env_set(f, "LOG_FORMAT", "json");
    env_set(f, "STANDALONE", "true");
    env_set(f, "LISTEN_ADDRESS", "127.0.0.1:9090");
    env_set(f, "API_KEY", "s3cret");
    env_set(f, "HTTP_MAX_BODY_BYTES", "2048");
    env_set(f, "HTTP_TIMEOUT_SECONDS", "7");
    env_set(f, "HTTP_THREADS", "4");
    env_set(f, "HTTP_MAX_CONNECTIONS", "99");
    env_set(f, "SHUTDOWN_DRAIN_SECONDS", "3");
    env_set(f, "KEY_DISTRIBUTOR_PUBKEY", "/etc/tw/dist.pem");
    env_set(f, "MINERS_WHITE_LIST", "m1,m2");
    env_set(f, "MAX_JOBS", "3");
    env_set(f, "JOB_QUEUE_MAX", "50");
    env_set(f, "JOB_TIMEOUT_SECONDS", "60");
    env_set(f, "JOB_SIGNATURE_MAX_AGE_SECONDS", "120");
    env_set(f, "RESULT_CACHE_MAX_SIZE", "5");
    env_set(f, "RESULT_CACHE_MAX_AGE_SECONDS", "6");
    env_set(f, "RESULT_CACHE_MAX_BYTES", "5000000000");
    env_set(f, "STATS_BUF_SIZE", "64");
    env_set(f, "READYZ_MIN_SAMPLES", "8");
    env_set(f, "READYZ_ERROR_THRESHOLD", "0.5");
    env_set(f, "ENABLE_PPROF", "yes");
    env_set(f, "OE_SIMULATION", "1");
    env_set(f, "WEBSCRAPER_BLACKLIST", "a.com, b.org");
    env_set(f, "WEBSCRAPER_MAX_DEPTH", "2");
    env_set(f, "WEBSCRAPER_ALLOW_PRIVATE", "TRUE");
    env_set(f, "TWITTER_ACCOUNTS", "u1:p1,u2:p2");
    env_set(f, "TWITTER_API_KEYS", "k1");
    env_set(f, "TWITTER_SKIP_LOGIN_VERIFICATION", "1");
    env_set(f, "TWITTER_X_API_BASE", "http://127.0.0.1:1/2/");
    env_set(f, "APIFY_API_KEY", "apify");
    env_set(f, "APIFY_BASE_URL", "http://127.0.0.1:2");
    env_set(f, "TIKTOK_DEFAULT_LANGUAGE", "fra-FR");
    env_set(f, "TIKTOK_API_USER_AGENT", "agent/1");
    env_set(f, "TIKTOK_TRANSCRIPTION_ENDPOINT", "http://127.0.0.1:3/t");
    load_ok(f);
    const struct config *c = &f->cfg;
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_true(c->log_json);
    assert_true(c->standalone);
    assert_string_equal(c->listen_address, "127.0.0.1:9090");
    assert_string_equal(c->api_key, "s3cret");
    assert_int_equal(c->http_max_body, 2048);
    assert_int_equal(c->http_timeout_s, 7);
    assert_int_equal(c->http_threads, 4);
    assert_int_equal(c->http_max_connections, 99);
    assert_int_equal(c->shutdown_drain_s, 3);
    assert_string_equal(c->key_distributor_pubkey, "/etc/tw/dist.pem");
    assert_list(&c->miners_white_list, 2, "m1", "m2");
    assert_int_equal(c->max_jobs, 3);
    assert_int_equal(c->job_queue_max, 50);
    assert_int_equal(c->job_timeout_s, 60);
    assert_int_equal(c->job_signature_max_age_s, 120);
    assert_int_equal(c->result_cache_max_size, 5);
    assert_int_equal(c->result_cache_max_age_s, 6);
    assert_int_equal(c->result_cache_max_bytes, 5000000000ull);
    assert_int_equal(c->stats_buf_size, 64);
    assert_int_equal(c->readyz_min_samples, 8);
    assert_true(c->readyz_error_threshold == 0.5);
    assert_true(c->enable_pprof);
    assert_true(c->oe_simulation);
    assert_list(&c->webscraper_blacklist, 2, "a.com", "b.org");
    assert_int_equal(c->webscraper_max_depth, 2);
    assert_true(c->webscraper_allow_private);
    assert_list(&c->twitter_accounts, 2, "u1:p1", "u2:p2");
    assert_list(&c->twitter_api_keys, 1, "k1");
    assert_true(c->twitter_skip_login_verification);
    assert_string_equal(c->twitter_x_api_base, "http://127.0.0.1:1/2");
    assert_string_equal(c->apify_api_key, "apify");
    assert_string_equal(c->apify_base_url, "http://127.0.0.1:2");
    assert_string_equal(c->tiktok_default_language, "fra-FR");
    assert_string_equal(c->tiktok_api_user_agent, "agent/1");
    assert_string_equal(c->tiktok_transcription_endpoint, "http://127.0.0.1:3/t");
}

static void test_empty_value_means_default(void **state)
{
    struct fixture *f = *state;
    env_set(f, "MAX_JOBS", "");
    env_set(f, "LISTEN_ADDRESS", "");
    env_set(f, "TIKTOK_DEFAULT_LANGUAGE", "");
    env_set(f, "STANDALONE", "");
    env_set(f, "APIFY_BASE_URL", "");
    load_ok(f);
    assert_int_equal(f->cfg.max_jobs, 10);
    assert_string_equal(f->cfg.listen_address, ":8080");
    assert_string_equal(f->cfg.tiktok_default_language, "eng-US");
    assert_false(f->cfg.standalone);
    assert_string_equal(f->cfg.apify_base_url, "https://api.apify.com/v2");
}

/* ---- value forms ---- */

static void test_integer_forms(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *in; unsigned want; } cases[] = {
        { "+42", 42 }, { "007", 7 }, { "1", 1 }, { "4096", 4096 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_clear(f);
        env_set(f, "MAX_JOBS", cases[i].in);
        load_ok(f);
        assert_int_equal(f->cfg.max_jobs, cases[i].want);
    }
    env_clear(f);
    env_set(f, "HTTP_MAX_BODY_BYTES", "67108864");
    env_set(f, "JOB_QUEUE_MAX", "10000000");
    env_set(f, "JOB_SIGNATURE_MAX_AGE_SECONDS", "31536000");
    load_ok(f);
    assert_int_equal(f->cfg.http_max_body, 67108864);
    assert_int_equal(f->cfg.job_queue_max, 10000000);
    assert_int_equal(f->cfg.job_signature_max_age_s, 31536000);
}

static void test_bool_forms(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *in; bool want; } cases[] = {
        { "true", true }, { "TRUE", true }, { "1", true }, { "Yes", true },
        { "false", false }, { "False", false }, { "0", false }, { "NO", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_clear(f);
        env_set(f, "STANDALONE", cases[i].in);
        load_ok(f);
        assert_int_equal(f->cfg.standalone, cases[i].want);
    }
}

static void test_log_level_forms(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *in; int want; } cases[] = {
        { "debug", LOG_DEBUG }, { "INFO", LOG_INFO }, { "Warn", LOG_WARN },
        { "warning", LOG_WARN }, { "ERROR", LOG_ERROR },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_clear(f);
        env_set(f, "LOG_LEVEL", cases[i].in);
        load_ok(f);
        assert_int_equal(f->cfg.log_level, cases[i].want);
    }
    env_clear(f);
    env_set(f, "LOG_FORMAT", "TEXT");
    load_ok(f);
    assert_false(f->cfg.log_json);
}

static void test_listen_forms(void **state)
{
    struct fixture *f = *state;
    static const char *const good[] = {
        ":1", ":65535", "0.0.0.0:8080", "localhost:80", "my-host.example:8080", "[::1]:443",
        "[fe80::1%eth0]:80", "[::]:8080",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        env_clear(f);
        env_set(f, "LISTEN_ADDRESS", good[i]);
        load_ok(f);
        assert_string_equal(f->cfg.listen_address, good[i]);
    }
}

static void test_ratio_forms(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *in; double want; } cases[] = {
        { "1", 1.0 }, { "1.0", 1.0 }, { "0.5", 0.5 }, { "+.25", 0.25 }, { "0.001", 0.001 },
        /* more digits than a double holds are still such a number */
        { "0.33333333333333333333", 1.0 / 3 }, { "1.00000000000000000000", 1.0 },
        { "0.950000000000000000", 0.95 }, { "00.5", 0.5 }, { "1.", 1.0 },
        { "0.000000000000000000012345678901234567890123", 1.2345678901234568e-20 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_clear(f);
        env_set(f, "READYZ_ERROR_THRESHOLD", cases[i].in);
        load_ok(f);
        double d = f->cfg.readyz_error_threshold - cases[i].want;
        assert_true(d < 1e-12 * cases[i].want && d > -1e-12 * cases[i].want);
    }
}

static void test_oe_simulation_non_empty(void **state)
{
    struct fixture *f = *state;
    env_set(f, "OE_SIMULATION", "0");
    load_ok(f);
    assert_true(f->cfg.oe_simulation);
    env_clear(f);
    env_set(f, "OE_SIMULATION", "");
    load_ok(f);
    assert_false(f->cfg.oe_simulation);
}

/* DURABILITY and the scheme of STORE_URL are configuration errors (exit 2, which the systemd unit
 * does not restart) like any other value; a STORE_URL is never quoted: it may hold a password. */
static void test_durability_and_store_url(void **state)
{
    struct fixture *f = *state;
    load_ok(f);
    assert_string_equal(f->cfg.durability, "normal");
    config_free(&f->cfg);
    env_set(f, "DURABILITY", "FULL");
    load_ok(f);
    assert_string_equal(f->cfg.durability, "full");
    config_free(&f->cfg);
    env_clear(f);
    env_set(f, "DURABILITY", "fast");
    load_fails(f, "DURABILITY: expected ", "normal or full, got \"fast\"");
    static const char *const good[] = { "sqlite:", "sqlite:/tmp/x.db", "redis://h:6379/0",
                                        "rediss://h" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        env_clear(f);
        env_set(f, "STORE_URL", good[i]);
        load_ok(f);
        config_free(&f->cfg);
    }
    static const char *const bad[] = { "postgres://u:s3cretpw@h/db", "redis:/u:s3cretpw@h",
                                       "Redis://:s3cretpw@h", "/var/lib/s3cretpw.db" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        env_clear(f);
        env_set(f, "STORE_URL", bad[i]);
        load_fails(f, "STORE_URL: expected ", "sqlite:[PATH] or redis://");
        assert_null(strstr(f->err, "s3cretpw"));
    }
}

/* A TWITTER_ACCOUNTS item that does not split as user:password[:totp_secret], or whose TOTP
 * secret is not base32, is a configuration error naming the item, never its password. */
static void test_twitter_accounts_checked(void **state)
{
    struct fixture *f = *state;
    env_set(f, "TWITTER_ACCOUNTS", "alice:pw1, bob:pw2:JBSWY3DPEHPK3PXP");
    load_ok(f);
    assert_list(&f->cfg.twitter_accounts, 2, "alice:pw1", "bob:pw2:JBSWY3DPEHPK3PXP");
    static const struct { const char *value, *expect; } bad[] = {
        { "alice:hunter2,justbob", "TWITTER_ACCOUNTS: item #2 is not user:password[:totp_secret]" },
        { "alice:hunter2:x:y", "TWITTER_ACCOUNTS: item #1 is not" },
        { ":hunter2", "item #1 is not" },
        { "alice:hunter2:NOT-BASE32!", "item #1 (account alice): the totp_secret is not base32" },
        { "alice:hunter2:0189", "the totp_secret is not base32" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        env_clear(f);
        env_set(f, "TWITTER_ACCOUNTS", bad[i].value);
        load_fails(f, "TWITTER_ACCOUNTS: ", bad[i].expect);
        assert_null(strstr(f->err, "hunter2"));
    }
}

static void test_lists_trimmed(void **state)
{
    struct fixture *f = *state;
    env_set(f, "MINERS_WHITE_LIST", " a , b,,c ,\t, ");
    env_set(f, "TWITTER_API_KEYS", " , ,");
    env_set(f, "WEBSCRAPER_BLACKLIST", "only");
    load_ok(f);
    assert_list(&f->cfg.miners_white_list, 3, "a", "b", "c");
    assert_list(&f->cfg.twitter_api_keys, 0);
    assert_list(&f->cfg.webscraper_blacklist, 1, "only");
    assert_true(str_list_contains(&f->cfg.miners_white_list, "b"));
    assert_false(str_list_contains(&f->cfg.miners_white_list, " b"));
    assert_false(str_list_contains(&f->cfg.miners_white_list, ""));
    assert_false(str_list_contains(&f->cfg.twitter_api_keys, ""));
    assert_false(str_list_contains(NULL, "a"));
    assert_false(str_list_contains(&f->cfg.miners_white_list, NULL));
}

static void test_urls(void **state)
{
    struct fixture *f = *state;
    env_set(f, "APIFY_BASE_URL", "HTTPS://api.example///");
    load_ok(f);
    assert_string_equal(f->cfg.apify_base_url, "HTTPS://api.example");
}

/* ---- errors name the variable, the expected form and the value ---- */

static void test_bad_values_name_their_variable(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *name, *value, *expect; } cases[] = {
        { "MAX_JOBS", "abc", "MAX_JOBS: expected an integer from 1 to 4096, got \"abc\"" },
        { "MAX_JOBS", "0", "from 1 to 4096, got \"0\"" },
        { "MAX_JOBS", "4097", "got \"4097\"" },
        { "MAX_JOBS", "-1", "got \"-1\"" },
        { "MAX_JOBS", " 5", "got \" 5\"" },
        { "MAX_JOBS", "5 ", "got \"5 \"" },
        { "MAX_JOBS", "0x10", "got \"0x10\"" },
        { "MAX_JOBS", "1e3", "got \"1e3\"" },
        { "MAX_JOBS", "+", "got \"+\"" },
        { "MAX_JOBS", "99999999999999999999999", "got \"99999999999999999999999\"" },
        { "JOB_QUEUE_MAX", "10000001", "from 1 to 10000000" },
        { "HTTP_MAX_BODY_BYTES", "1023", "from 1024 to 67108864" },
        { "HTTP_TIMEOUT_SECONDS", "0", "an integer" },
        { "HTTP_THREADS", "x", "an integer" },
        { "HTTP_MAX_CONNECTIONS", "0", "an integer" },
        { "SHUTDOWN_DRAIN_SECONDS", "0", "from 1 to 3600" },
        { "JOB_TIMEOUT_SECONDS", "0", "an integer" },
        { "JOB_SIGNATURE_MAX_AGE_SECONDS", "0", "an integer" },
        { "RESULT_CACHE_MAX_SIZE", "0", "an integer" },
        { "RESULT_CACHE_MAX_AGE_SECONDS", "-5", "an integer" },
        { "RESULT_CACHE_MAX_BYTES", "1048575", "from 1048576 to 1099511627776" },
        { "STATS_BUF_SIZE", "x", "an integer" },
        { "READYZ_MIN_SAMPLES", "0", "an integer" },
        { "WEBSCRAPER_MAX_DEPTH", "33", "from 1 to 32" },
        { "STANDALONE", "maybe", "STANDALONE: expected true or false" },
        { "ENABLE_PPROF", "on", "got \"on\"" },
        { "WEBSCRAPER_ALLOW_PRIVATE", "2", "true or false" },
        { "TWITTER_SKIP_LOGIN_VERIFICATION", "y", "true or false" },
        { "LOG_LEVEL", "verbose", "LOG_LEVEL: expected debug, info, warn, warning or error" },
        { "LOG_FORMAT", "xml", "LOG_FORMAT: expected text or json, got \"xml\"" },
        { "READYZ_ERROR_THRESHOLD", "0", "greater than 0 and at most 1" },
        { "READYZ_ERROR_THRESHOLD", "0.0", "got \"0.0\"" },
        { "READYZ_ERROR_THRESHOLD", "1.01", "got \"1.01\"" },
        { "READYZ_ERROR_THRESHOLD", "-0.5", "got \"-0.5\"" },
        { "READYZ_ERROR_THRESHOLD", "nan", "got \"nan\"" },
        { "READYZ_ERROR_THRESHOLD", "1e-1", "got \"1e-1\"" },
        { "READYZ_ERROR_THRESHOLD", ".", "got \".\"" },
        { "READYZ_ERROR_THRESHOLD", "0.5.", "got \"0.5.\"" },
        { "READYZ_ERROR_THRESHOLD", "1.00000000000000000001", "got \"1.00000000000000000001\"" },
        { "READYZ_ERROR_THRESHOLD", "0.00000000000000000000", "greater than 0" },
        { "READYZ_ERROR_THRESHOLD", "2.0", "greater than 0" },
        { "READYZ_ERROR_THRESHOLD", "10", "greater than 0" },
        { "READYZ_ERROR_THRESHOLD", "+", "greater than 0" },
        { "LISTEN_ADDRESS", "8080", "\":port\", \"host:port\" or \"[v6]:port\"" },
        { "LISTEN_ADDRESS", ":0", "got \":0\"" },
        { "LISTEN_ADDRESS", ":65536", "got \":65536\"" },
        { "LISTEN_ADDRESS", ":", "got \":\"" },
        { "LISTEN_ADDRESS", "host:", "got \"host:\"" },
        { "LISTEN_ADDRESS", "::1:80", "got \"::1:80\"" },
        { "LISTEN_ADDRESS", "[::1]80", "got" },
        { "LISTEN_ADDRESS", "[]:80", "got" },
        { "LISTEN_ADDRESS", "[::1]", "got" },
        { "LISTEN_ADDRESS", "ho st:80", "got" },
        { "LISTEN_ADDRESS", ":+80", "got" },
        { "LISTEN_ADDRESS", ":123456", "got" },
        { "APIFY_BASE_URL", "ftp://x", "APIFY_BASE_URL: expected an http:// or https:// URL" },
        { "APIFY_BASE_URL", "https://", "got" },
        { "TWITTER_X_API_BASE", "https:///x", "got" },
        { "TIKTOK_TRANSCRIPTION_ENDPOINT", "http://a b", "got" },
        { "TIKTOK_TRANSCRIPTION_ENDPOINT", "example.com", "got" },
        { "TWITTER_QUERY_IDS", "SearchTimeline", "got \"SearchTimeline\"" },
        { "TWITTER_QUERY_IDS", "SearchTimeline=a/b", "Operation=queryId[@GET|@POST]" },
        { "TWITTER_QUERY_IDS", "UserTweets=x1,SearchTimeline=y@PUT", "got \"SearchTimeline=y@PUT\"" },
        { "TWITTER_QUERY_IDS", "searchTimeline=abc", "an operation of the credential backend "
          "(SearchTimeline, UserByScreenName, " },
        { "TWITTER_QUERY_IDS", "UserTweets=x1,SearchTimelines=abc", "got \"SearchTimelines\"" },
        { "TWITTER_QUERY_IDS", "SearchTimeline=a,UserTweets=b,SearchTimeline=c@GET",
          "each operation once, got SearchTimeline twice" },
        { "TWITTER_FEATURES", "[true]", "JSON object of feature flags (not an object)" },
        { "TWITTER_FEATURES", "{\"a\":", "JSON object" },
        { "TWITTER_ACCOUNT_CONCURRENCY", "0", "from 1 to 64" },
        { "TWITTER_GRAPHQL_BASE", "x.com", "http:// or https://" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s: expected ", cases[i].name);
        env_clear(f);
        env_set(f, cases[i].name, cases[i].value);
        load_fails(f, prefix, cases[i].expect);
    }
}

static void test_query_ids_of_known_operations_load(void **state)
{
    struct fixture *f = *state;
    env_set(f, "TWITTER_QUERY_IDS", "SearchTimeline=BGd0T_j7oVwlW5U79tO_0A@GET, UserTweets=x-1_2,"
            "AudioSpaceById=q@POST");
    load_ok(f);
    assert_list(&f->cfg.twitter_query_ids, 3, "SearchTimeline=BGd0T_j7oVwlW5U79tO_0A@GET",
                "UserTweets=x-1_2", "AudioSpaceById=q@POST");
}

static void test_bad_value_is_quoted_safely(void **state)
{
    struct fixture *f = *state;
    env_set(f, "MAX_JOBS", "a\"b\\c\x01\n0123456789012345678901234567890123456789012345678901234567890");
    load_fails(f, "MAX_JOBS: ", "got \"a\\\"b\\\\c\\x01\\x0a");
    assert_non_null(strstr(f->err, "...\""));
}

/* Keys, tokens and the User-Agent go into HTTP headers as they are: a control character (a key
 * file's trailing newline) would split or end the header, so it stops the start-up, naming the
 * variable but never showing a secret. */
static void test_header_values_refuse_control_characters(void **state)
{
    struct fixture *f = *state;
    static const struct { const char *name, *value, *expect; } cases[] = {
        { "API_KEY", "s3cr3t\n", "API_KEY: holds a control character (byte 0x0a at offset 6)" },
        { "API_KEY", "s3cr3t ", "API_KEY: starts or ends with a blank" },
        { "APIFY_API_KEY", "s3cr3t\r\nX-Injected: 1", "APIFY_API_KEY: holds a control" },
        { "TWITTER_BEARER_TOKEN", "s3cr3t\tx", "TWITTER_BEARER_TOKEN: holds a control" },
        { "TWITTER_API_KEYS", "good, s3cr3t\x7fx", "TWITTER_API_KEYS: item #2 holds a control" },
        { "TIKTOK_API_USER_AGENT", "ua/1\r\nX-Injected: 1",
          "TIKTOK_API_USER_AGENT: expected text without control characters" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_clear(f);
        env_set(f, cases[i].name, cases[i].value);
        load_fails(f, cases[i].expect, NULL);
        if (strcmp(cases[i].name, "TIKTOK_API_USER_AGENT") != 0)
            assert_null(strstr(f->err, "s3cr3t"));
    }
    env_clear(f);
    env_set(f, "API_KEY", "a b");
    env_set(f, "APIFY_API_KEY", "k-\xc3\xa9");
    env_set(f, "TIKTOK_API_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64)");
    load_ok(f);
    assert_string_equal(f->cfg.api_key, "a b");
}

static void test_overlong_env_value(void **state)
{
    struct fixture *f = *state;
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n + 1);
    memset(big, 'k', n);
    big[n] = '\0';
    env_set(f, "API_KEY", big);
    load_fails(f, "API_KEY: value longer than", NULL);
    assert_null(strstr(f->err, "kkkk")); /* a secret is never echoed */
    free(big);
}

/* ---- .env files and precedence ---- */

static void test_missing_dotenv_is_fine(void **state)
{
    struct fixture *f = *state;
    char nowhere[256];
    snprintf(nowhere, sizeof nowhere, "%s/does/not/exist", f->root);
    env_clear(f);
    f->values[0] = nowhere;
    load_ok(f);
    assert_string_equal(f->cfg.data_dir, nowhere);
}

static void test_data_dir_not_a_directory(void **state)
{
    struct fixture *f = *state;
    char file[256], below[300];
    write_file(f->root, "plain", "x");
    snprintf(file, sizeof file, "%s/plain", f->root);
    env_clear(f);
    f->values[0] = file;
    load_fails(f, "DATA_DIR: ", "plain is not a directory");
    snprintf(below, sizeof below, "%s/sub", file);
    f->values[0] = below;
    load_fails(f, "DATA_DIR: ", "not a directory");
}

static void test_dotenv_fills_unset(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env",
               "# settings\nexport MAX_JOBS=12\nAPI_KEY: \"from file\"\nUNKNOWN_THING=1\n"
               "N=3\nJOB_QUEUE_MAX=${N}00\nMINERS_WHITE_LIST= w1 , w2 # two\n");
    load_ok(f);
    assert_int_equal(f->cfg.max_jobs, 12);
    assert_string_equal(f->cfg.api_key, "from file");
    assert_int_equal(f->cfg.job_queue_max, 300);
    assert_list(&f->cfg.miners_white_list, 2, "w1", "w2");
}

static void test_env_beats_dotenv(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "MAX_JOBS=7\nJOB_QUEUE_MAX=70\n");
    write_file(f->cwd, ".env", "MAX_JOBS=9\n");
    env_set(f, "MAX_JOBS", "3");
    load_ok(f);
    assert_int_equal(f->cfg.max_jobs, 3);
    assert_int_equal(f->cfg.job_queue_max, 70);
}

static void test_empty_env_beats_dotenv(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "LOG_LEVEL=debug\nAPI_KEY=secret\n");
    write_file(f->cwd, ".env", "LOG_LEVEL=error\nAPI_KEY=other\n");
    env_set(f, "LOG_LEVEL", "");
    env_set(f, "API_KEY", "");
    load_ok(f);
    assert_int_equal(f->cfg.log_level, LOG_INFO);
    assert_string_equal(f->cfg.api_key, "");
}

static void test_earlier_dotenv_beats_later(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "MAX_JOBS=7\n");
    write_file(f->cwd, ".env", "MAX_JOBS=9\nJOB_QUEUE_MAX=5\n");
    load_ok(f);
    assert_int_equal(f->cfg.max_jobs, 7);
    assert_int_equal(f->cfg.job_queue_max, 5);
}

static void test_last_assignment_in_a_file_wins(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "MAX_JOBS=1\nMAX_JOBS=2\n");
    load_ok(f);
    assert_int_equal(f->cfg.max_jobs, 2);
}

static void test_cwd_dotenv_alone(void **state)
{
    struct fixture *f = *state;
    write_file(f->cwd, ".env", "LOG_FORMAT=json\n");
    load_ok(f);
    assert_true(f->cfg.log_json);
}

static void test_log_level_from_dotenv_applies(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "LOG_LEVEL=debug\n");
    load_ok(f);
    assert_int_equal(f->cfg.log_level, LOG_DEBUG);
}

static void test_data_dir_never_from_dotenv(void **state)
{
    struct fixture *f = *state;
    write_file(f->data, ".env", "DATA_DIR=/elsewhere\n");
    write_file(f->cwd, ".env", "DATA_DIR=/other\n");
    load_ok(f);
    assert_string_equal(f->cfg.data_dir, f->data);
}

static void test_malformed_dotenv_names_file_and_line(void **state)
{
    struct fixture *f = *state;
    char prefix[256];
    write_file(f->data, ".env", "MAX_JOBS=4\n# ok\nAPI_KEY=\"unterminated\n");
    snprintf(prefix, sizeof prefix, "%s/.env: line 3: ", f->data);
    load_fails(f, prefix, "unterminated");

    write_file(f->data, ".env", "MAX_JOBS=4\n");
    write_file(f->cwd, ".env", "\nBAD NAME=1\n");
    load_fails(f, "./.env: line 2: ", "expected '=' or ':'");
}

static void test_bad_value_in_dotenv_names_file(void **state)
{
    struct fixture *f = *state;
    write_file(f->cwd, ".env", "MAX_JOBS=lots\n");
    load_fails(f, "MAX_JOBS: expected an integer from 1 to 4096, got \"lots\"", "(set in ./.env)");
}

static void test_unreadable_dotenv(void **state)
{
    struct fixture *f = *state;
    char path[256], prefix[300];
    snprintf(path, sizeof path, "%s/.env", f->data);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(prefix, sizeof prefix, "%s: cannot read: ", path);
    load_fails(f, prefix, "not a regular file");
    assert_int_equal(rmdir(path), 0);

    /* a symlink loop cannot be opened, even by root */
    assert_int_equal(symlink(".env", path), 0);
    snprintf(prefix, sizeof prefix, "%s: cannot open: ", path);
    load_fails(f, prefix, NULL);
    assert_int_equal(unlink(path), 0);

    if (geteuid() != 0) { /* root reads anything */
        write_file(f->data, ".env", "MAX_JOBS=1\n");
        assert_int_equal(chmod(path, 0), 0);
        snprintf(prefix, sizeof prefix, "%s: cannot open: ", path);
        load_fails(f, prefix, NULL);
    }
}

static void test_oversized_dotenv(void **state)
{
    struct fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/.env", f->cwd);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 40000; i++)
        fputs("# a comment line that pads it\n", fp);
    fclose(fp);
    load_fails(f, "./.env: cannot read: larger than 1 MiB", NULL);
}

/* ---- ownership ---- */

static void test_free_is_idempotent(void **state)
{
    struct fixture *f = *state;
    env_set(f, "TWITTER_ACCOUNTS", "a:b, c:d");
    env_set(f, "API_KEY", "k");
    load_ok(f);
    config_free(&f->cfg);
    struct config zero = { 0 };
    assert_memory_equal(&f->cfg, &zero, sizeof zero);
    config_free(&f->cfg);
    config_free(NULL);
}

static void test_failure_after_allocations_leaks_nothing(void **state)
{
    struct fixture *f = *state;
    /* strings and lists early in the table parse, then a late variable fails */
    env_set(f, "API_KEY", "k");
    env_set(f, "MINERS_WHITE_LIST", "a,b");
    env_set(f, "TIKTOK_TRANSCRIPTION_ENDPOINT", "gopher://x");
    write_file(f->data, ".env", "TWITTER_ACCOUNTS=u:p\n");
    load_fails(f, "TIKTOK_TRANSCRIPTION_ENDPOINT: ", NULL);
}

static void test_config_load_reads_process_env(void **state)
{
    struct fixture *f = *state;
    setenv("DATA_DIR", f->data, 1);
    setenv("MAX_JOBS", "21", 1);
    write_file(f->data, ".env", "JOB_QUEUE_MAX=22\nMAX_JOBS=99\n");
    char err[256];
    config_free(&f->cfg);
    int rc = config_load(&f->cfg, err, sizeof err);
    unsetenv("DATA_DIR");
    unsetenv("MAX_JOBS");
    assert_int_equal(rc, 0);
    assert_int_equal(f->cfg.max_jobs, 21);
    assert_int_equal(f->cfg.job_queue_max, 22);
}

/* ---- config.c, deploy/.env.example and README.md stay in step ---- */

static char source_root[4096]; /* found in main, before any test changes directory */

/* The variables come from the configuration table itself, so a variable added there must also be
 * documented in README.md and deploy/.env.example for this test to pass. */
static size_t count_variables(void)
{
    size_t n = 0;
    while (config_variable_name(n))
        n++;
    return n;
}
#define NUM_VARIABLES count_variables()
#define all_variables_at(i) config_variable_name(i)

static char *slurp(const char *relative)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", source_root, relative);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *text = calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static int count_known(const char *key, const char *value, void *ctx)
{
    (void)value;
    size_t *known = ctx;
    for (size_t i = 0; i < NUM_VARIABLES; i++)
        if (strcmp(key, all_variables_at(i)) == 0) {
            (*known)++;
            return 0;
        }
    fail_msg("deploy/.env.example sets unknown variable %s", key);
    return 1;
}

/* The Gramine manifest must hand every variable into the enclave: passed through from the host
 * (loader.env.X = { passthrough = true }) or fixed there (loader.env.X = "..."). */
static bool manifest_has(const char *manifest, const char *name)
{
    char needle[160];
    snprintf(needle, sizeof needle, "\nloader.env.%s = ", name);
    return strstr(manifest, needle) != NULL;
}

/* Variables the worker reads with getenv() outside the configuration table, which are not
 * settings (so not in README's table or .env.example) but must still reach it in the enclave. */
static const char *const system_variables[] = { "TMPDIR" };

static bool is_system_variable(const char *name)
{
    for (size_t i = 0; i < sizeof system_variables / sizeof system_variables[0]; i++)
        if (strcmp(system_variables[i], name) == 0)
            return true;
    return false;
}

static bool is_table_variable(const char *name)
{
    for (size_t i = 0; i < NUM_VARIABLES; i++)
        if (strcmp(name, all_variables_at(i)) == 0)
            return true;
    return false;
}

static const char *scan_manifest;
static int scan_failures;

/* check_getenv_calls: every getenv("NAME") in one source file names a table variable or a listed
 * system variable, and the manifest carries it. */
static int check_getenv_calls(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 2 || (strcmp(path + n - 2, ".c") != 0 && strcmp(path + n - 2, ".h") != 0))
        return 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    while (fgets(line, sizeof line, fp)) {
        for (const char *p = strstr(line, "getenv(\""); p; p = strstr(p + 1, "getenv(\"")) {
            char name[128];
            const char *start = p + strlen("getenv(\""), *end = strchr(start, '"');
            if (!end || (size_t)(end - start) >= sizeof name)
                continue;
            memcpy(name, start, (size_t)(end - start));
            name[end - start] = '\0';
            if (!is_table_variable(name) && !is_system_variable(name)) {
                print_error("%s reads %s, which is neither in the configuration table (README, "
                            ".env.example) nor a listed system variable\n", path, name);
                scan_failures++;
            }
            if (!manifest_has(scan_manifest, name)) {
                print_error("%s reads %s, which deploy/tee-worker.manifest.template does not pass "
                            "into the enclave\n", path, name);
                scan_failures++;
            }
        }
    }
    fclose(fp);
    return 0;
}

static void test_env_example_and_readme_list_every_variable(void **state)
{
    struct fixture *f = *state;
    char *example = slurp("deploy/.env.example"), *readme = slurp("README.md");
    char *manifest = slurp("deploy/tee-worker.manifest.template");
    if (!example || !readme || !manifest) {
        free(example);
        free(readme);
        free(manifest);
        skip(); /* run outside the source tree */
    }
    size_t known = 0, env_only = 0;
    char err[128], needle[128];
    for (size_t i = 0; i < NUM_VARIABLES; i++)
        env_only += config_variable_env_only(i);
    assert_int_equal(dotenv_parse(example, strlen(example), count_known, &known, err, sizeof err), 0);
    assert_int_equal(known, NUM_VARIABLES - env_only); /* environment-only ones are comments */
    for (size_t i = 0; i < NUM_VARIABLES; i++) {
        snprintf(needle, sizeof needle, "| `%s` |", all_variables_at(i));
        if (!strstr(readme, needle))
            fail_msg("README.md has no row for %s", all_variables_at(i));
        snprintf(needle, sizeof needle, "\n%s%s=", config_variable_env_only(i) ? "# " : "",
                 all_variables_at(i));
        if (!strstr(example, needle))
            fail_msg("deploy/.env.example has no line for %s", all_variables_at(i));
        if (!manifest_has(manifest, all_variables_at(i)))
            fail_msg("deploy/tee-worker.manifest.template does not pass %s into the enclave",
                     all_variables_at(i));
    }
    /* every getenv() in src/ is covered too */
    char src[4200];
    snprintf(src, sizeof src, "%s/src", source_root);
    scan_manifest = manifest;
    scan_failures = 0;
    assert_int_equal(nftw(src, check_getenv_calls, 16, FTW_PHYS), 0);
    assert_int_equal(scan_failures, 0);
    /* the example's values are exactly the defaults */
    write_file(f->data, ".env", example);
    load_ok(f);
    assert_defaults(&f->cfg);
    free(example);
    free(readme);
    free(manifest);
}

/* readme_cell copies the n-th cell (0 = the variable's name) of README's row for name into out. */
static void readme_cell(const char *readme, const char *name, int n, char *out, size_t outlen)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\n| `%s` | ", name);
    const char *p = strstr(readme, needle);
    if (!p)
        fail_msg("README.md has no row for %s", name);
    p += strlen(needle);
    for (int i = 1; i < n; i++) {
        p = strstr(p, " | ");
        assert_non_null(p);
        p += 3;
    }
    const char *end = strstr(p, " | ");
    assert_non_null(end);
    snprintf(out, outlen, "%.*s", (int)(end - p), p);
}

/* default_documented: README's default cell says `def` (a literal in backticks), "empty..." for an
 * empty default, or a description whose first backticked text (ellipses removed) is part of it. */
static bool default_documented(const char *cell, const char *def)
{
    size_t n = strlen(cell);
    if (strncmp(cell, "empty", 5) == 0)
        return *def == '\0';
    if (n >= 2 && cell[0] == '`' && cell[n - 1] == '`' && !memchr(cell + 1, '`', n - 2))
        return strlen(def) == n - 2 && strncmp(cell + 1, def, n - 2) == 0;
    const char *open = strchr(cell, '`'), *close = open ? strchr(open + 1, '`') : NULL;
    if (!close)
        return false;
    char quoted[256];
    size_t q = 0;
    for (const char *c = open + 1; c < close && q + 1 < sizeof quoted; c++) {
        if (strncmp(c, "\xe2\x80\xa6", 3) == 0)     /* U+2026 ... */
            c += 2;
        else
            quoted[q++] = *c;
    }
    quoted[q] = '\0';
    return q > 0 && *def && strstr(def, quoted) != NULL;
}

/* example_comment copies the comment lines right above `NAME=` in .env.example into out. */
static void example_comment(const char *example, const char *name, char *out, size_t outlen)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\n%s=", name);
    const char *line = strstr(example, needle);
    assert_non_null(line);
    const char *start = line;
    while (start > example) {
        const char *prev = start - 1;
        while (prev > example && prev[-1] != '\n')
            prev--;
        if (*prev != '#')
            break;
        start = prev - (prev > example);
        if (prev == example)
            break;
    }
    snprintf(out, outlen, "%.*s", (int)(line - start), start);
}

/* The README's table and .env.example give each variable the default and, for integers, the
 * bounds the configuration table holds, and a value just past either bound is refused with an
 * error naming those bounds. */
static void test_documented_defaults_and_bounds_are_the_code_s(void **state)
{
    struct fixture *f = *state;
    char *example = slurp("deploy/.env.example"), *readme = slurp("README.md");
    if (!example || !readme) {
        free(example);
        free(readme);
        skip(); /* run outside the source tree */
    }
    char cell[1024], comment[1024], want[96], value[32], needle[128];
    for (size_t i = 0; i < NUM_VARIABLES; i++) {
        const char *name = all_variables_at(i), *def = config_variable_default(i);
        readme_cell(readme, name, 2, cell, sizeof cell);
        if (!default_documented(cell, def))
            fail_msg("README.md gives %s the default \"%s\"; the code's is \"%s\"", name, cell, def);
        if (!config_variable_env_only(i)) {
            snprintf(needle, sizeof needle, "\n%s=", name);
            const char *v = strstr(example, needle) + strlen(needle);
            size_t len = strcspn(v, "\n");
            if (len && (strlen(def) != len || strncmp(v, def, len) != 0))
                fail_msg("deploy/.env.example sets %s=%.*s; the default is \"%s\"", name,
                         (int)len, v, def);
        }
        unsigned long long min, max;
        if (!config_variable_range(i, &min, &max))
            continue;
        readme_cell(readme, name, 1, cell, sizeof cell);
        snprintf(want, sizeof want, "integer %llu to %llu", min, max);
        if (strcmp(cell, want) != 0)
            fail_msg("README.md types %s as \"%s\"; the code takes an %s", name, cell, want);
        example_comment(example, name, comment, sizeof comment);
        snprintf(want, sizeof want, "%llu to %llu", min, max);
        if (!strstr(comment, want))
            fail_msg("deploy/.env.example's comment on %s does not say \"%s\":\n%s", name, want,
                     comment);
        snprintf(want, sizeof want, "%s: expected an integer from %llu to %llu, got", name, min, max);
        unsigned long long outside[2] = { max + 1, min - 1 };
        for (int k = 0; k < (min > 0 ? 2 : 1); k++) {
            snprintf(value, sizeof value, "%llu", outside[k]);
            env_clear(f);
            env_set(f, name, value);
            load_fails(f, want, value);
        }
        for (int k = 0; k < 2; k++) {
            snprintf(value, sizeof value, "%llu", k ? max : min);
            env_clear(f);
            env_set(f, name, value);
            load_ok(f);
        }
    }
    free(example);
    free(readme);
}

/* find_source_root locates the tree from this file's path (relative to the build directory). */
static void find_source_root(void)
{
    char path[4096];
    if (!realpath(__FILE__, path))
        return;
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(path, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
    snprintf(source_root, sizeof source_root, "%s", path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    /* variables of the real environment must not leak into config_load's test */
    unsetenv("JOB_QUEUE_MAX");
    find_source_root();
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_data_dir_default),
        T(test_every_variable),
        T(test_empty_value_means_default),
        T(test_integer_forms),
        T(test_bool_forms),
        T(test_log_level_forms),
        T(test_listen_forms),
        T(test_ratio_forms),
        T(test_oe_simulation_non_empty),
        T(test_durability_and_store_url),
        T(test_twitter_accounts_checked),
        T(test_lists_trimmed),
        T(test_urls),
        T(test_bad_values_name_their_variable),
        T(test_query_ids_of_known_operations_load),
        T(test_bad_value_is_quoted_safely),
        T(test_header_values_refuse_control_characters),
        T(test_overlong_env_value),
        T(test_missing_dotenv_is_fine),
        T(test_data_dir_not_a_directory),
        T(test_dotenv_fills_unset),
        T(test_env_beats_dotenv),
        T(test_empty_env_beats_dotenv),
        T(test_earlier_dotenv_beats_later),
        T(test_last_assignment_in_a_file_wins),
        T(test_cwd_dotenv_alone),
        T(test_log_level_from_dotenv_applies),
        T(test_data_dir_never_from_dotenv),
        T(test_malformed_dotenv_names_file_and_line),
        T(test_bad_value_in_dotenv_names_file),
        T(test_unreadable_dotenv),
        T(test_oversized_dotenv),
        T(test_free_is_idempotent),
        T(test_failure_after_allocations_leaks_nothing),
        T(test_config_load_reads_process_env),
        T(test_env_example_and_readme_list_every_variable),
        T(test_documented_defaults_and_bounds_are_the_code_s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
