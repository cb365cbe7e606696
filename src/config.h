/* config.h - every setting of the worker, typed; the one place defaults live.
 *
 * Sources, strongest first: the process environment, then .env files ($DATA_DIR/.env, then ./.env;
 * a file never overrides a variable already set, a missing file is fine), then the defaults below.
 * DATA_DIR itself comes from the environment only (it says where .env lives). A value that does not
 * parse is a start-up error naming the variable; an empty value means the default. Base URLs
 * (http:// or https://) are stored without a trailing '/'. The README's configuration table and
 * deploy/.env.example list the same variables; keep the three in step. */
#ifndef TW_CONFIG_H
#define TW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A comma-separated list, each element trimmed; empty elements dropped. */
struct str_list {
    char **items;
    size_t count;
};

struct config {
    /* logging */
    int log_level;                 /* LOG_LEVEL: enum log_level, default info */
    bool log_json;                 /* LOG_FORMAT: "text" (default) or "json" */

    /* where state lives */
    char *data_dir;                /* DATA_DIR, default "/home/masa" */

    /* mode and listener */
    bool standalone;               /* STANDALONE: "true"/"false", default false */
    char *listen_address;          /* LISTEN_ADDRESS, default ":8080" */
    char *api_key;                 /* API_KEY, default "" (no auth) */
    size_t http_max_body;          /* HTTP_MAX_BODY_BYTES, default 1048576 */
    size_t http_max_result_body;   /* HTTP_MAX_RESULT_BODY_BYTES (POST /job/result), default 64 MiB */
    unsigned http_timeout_s;       /* HTTP_TIMEOUT_SECONDS (idle timeout, request deadline), default 30 */
    unsigned http_threads;         /* HTTP_THREADS, default 1 (epoll thread per core is the max) */
    unsigned http_max_connections; /* HTTP_MAX_CONNECTIONS, default 1024 */
    struct str_list http_cpus;     /* HTTP_CPUS: CPUs of the HTTP threads and the store's writer,
                                    * default empty = not pinned (cpu_affinity.h) */
    bool writer_follows_http;      /* WRITER_FOLLOWS_HTTP: the store's writer moves to the HTTP
                                    * thread's core, default true (cpu_affinity.h) */
    bool sched_batch;              /* SCHED_BATCH: the worker's threads run as SCHED_BATCH, default true */
    unsigned shutdown_drain_s;     /* SHUTDOWN_DRAIN_SECONDS: how long a stop waits for the
                                    * store (admissions under way, then its last writes), 10 */

    /* keys */
    char *key_distributor_pubkey;  /* KEY_DISTRIBUTOR_PUBKEY: PEM path or base64 of PEM; "" = no /setkey */
    struct str_list miners_white_list; /* MINERS_WHITE_LIST, default empty = no check */

    /* job server */
    unsigned max_jobs;             /* MAX_JOBS: worker threads, default 10 */
    unsigned job_queue_max;        /* JOB_QUEUE_MAX, default 10000 */
    char *durability;              /* DURABILITY: "normal" (survives a crash) or "full" (also power loss) */
    char *store_url;               /* STORE_URL: "" / "sqlite:[PATH]" (default) or "redis://..." (fleet) */
    char *store_redis_prefix;      /* STORE_REDIS_PREFIX: prefix of every Redis key, "tee-worker:" */
    unsigned store_redis_claim_margin_s; /* STORE_REDIS_CLAIM_MARGIN_SECONDS: a job pending on a
                                          * worker JOB_TIMEOUT + this long is taken over, default 30 */
    char *sealing_keys_file;       /* SEALING_KEYS_FILE: shared ring keys of a standalone fleet */
    unsigned job_timeout_s;        /* JOB_TIMEOUT_SECONDS, default 300 */
    unsigned job_signature_max_age_s; /* JOB_SIGNATURE_MAX_AGE_SECONDS, default 86400 */
    unsigned result_cache_max_size;   /* RESULT_CACHE_MAX_SIZE, default 1000 */
    unsigned result_cache_max_age_s;  /* RESULT_CACHE_MAX_AGE_SECONDS, default 600 */
    size_t result_cache_max_bytes;    /* RESULT_CACHE_MAX_BYTES: finished outcomes held in memory,
                                       * default 256 MiB (more stay in a local store) */
    unsigned stats_buf_size;       /* STATS_BUF_SIZE, default 128 (accepted for compatibility; unused) */

    /* readiness */
    unsigned readyz_min_samples;   /* READYZ_MIN_SAMPLES, default 20 */
    double readyz_error_threshold; /* READYZ_ERROR_THRESHOLD (0..1], default 0.95 */

    /* diagnostics */
    bool enable_pprof;             /* ENABLE_PPROF, default false */
    bool oe_simulation;            /* OE_SIMULATION: non-empty = true */

    /* enclave mode (gramine-sgx backend) */
    char *gramine_attestation_dir;  /* GRAMINE_ATTESTATION_DIR, default "/dev/attestation" */
    unsigned tls_cert_validity_s;   /* TLS_CERT_VALIDITY_SECONDS, default 30 days; renewed at 2/3 */

    /* job kinds (read here, used by their issues) */
    struct str_list webscraper_blacklist; /* WEBSCRAPER_BLACKLIST */
    unsigned webscraper_max_depth;        /* WEBSCRAPER_MAX_DEPTH: cap on a job's depth, default 5 */
    bool webscraper_allow_private;        /* WEBSCRAPER_ALLOW_PRIVATE: fetch private/loopback, default false */
    unsigned webscraper_host_concurrency; /* WEBSCRAPER_HOST_CONCURRENCY: fetches in flight per host, default 4 */
    unsigned webscraper_delay_ms;         /* WEBSCRAPER_DELAY_MS: pause between starts per host, default 0 */
    unsigned webscraper_max_pages;        /* WEBSCRAPER_MAX_PAGES: pages fetched per job, default 100 */
    size_t webscraper_max_page_bytes;     /* WEBSCRAPER_MAX_PAGE_BYTES: body cap per page, default 5 MiB */
    struct str_list twitter_accounts;     /* TWITTER_ACCOUNTS (user:pass) */
    struct str_list twitter_api_keys;     /* TWITTER_API_KEYS */
    bool twitter_skip_login_verification; /* TWITTER_SKIP_LOGIN_VERIFICATION */
    char *twitter_x_api_base;             /* TWITTER_X_API_BASE, default "https://api.x.com/2" */
    char *twitter_cookies_file;           /* TWITTER_COOKIES_FILE: cookie-only accounts, default "" */
    char *twitter_web_base;               /* TWITTER_WEB_BASE, default "https://x.com" */
    char *twitter_graphql_base;           /* TWITTER_GRAPHQL_BASE, default "https://x.com/i/api/graphql" */
    char *twitter_login_base;             /* TWITTER_LOGIN_BASE (guest token, login flow), "https://api.x.com" */
    char *twitter_asset_base;             /* TWITTER_ASSET_BASE (web client scripts), "https://abs.twimg.com" */
    char *twitter_bearer_token;           /* TWITTER_BEARER_TOKEN, default the web client's token */
    struct str_list twitter_query_ids;    /* TWITTER_QUERY_IDS: "Operation=id[@GET|@POST]" overrides */
    char *twitter_features;               /* TWITTER_FEATURES: JSON object merged over the defaults */
    unsigned twitter_account_concurrency; /* TWITTER_ACCOUNT_CONCURRENCY: requests per account, default 1 */
    unsigned twitter_login_step_delay_ms; /* TWITTER_LOGIN_STEP_DELAY_MS: pause between login steps, 1500 */
    char *apify_api_key;                  /* APIFY_API_KEY */
    char *apify_base_url;                 /* APIFY_BASE_URL, default "https://api.apify.com/v2" */
    unsigned apify_poll_interval_ms;      /* APIFY_POLL_INTERVAL_MS: actor run status polls, default 5000 */
    char *tiktok_default_language;        /* TIKTOK_DEFAULT_LANGUAGE, default "eng-US" */
    char *tiktok_api_user_agent;          /* TIKTOK_API_USER_AGENT, default "" */
    char *tiktok_transcription_endpoint;  /* TIKTOK_TRANSCRIPTION_ENDPOINT, default the submagic URL */
};

/* config_load fills cfg from the environment, .env files and defaults. Returns 0, or -1 with a
 * message naming the variable in err (e.g. "MAX_JOBS: expected an integer from 1 to 4096, got
 * \"abc\""). On failure cfg holds nothing that needs freeing. Free with config_free. */
int config_load(struct config *cfg, char *err, size_t errlen);

/* config_load_from is config_load with an explicit variable lookup (tests): get(name, ctx) returns
 * the value or NULL when unset. .env files are read through the same lookup rules. */
typedef const char *(*config_getenv_fn)(const char *name, void *ctx);
int config_load_from(struct config *cfg, config_getenv_fn get, void *ctx, char *err, size_t errlen);

void config_free(struct config *cfg);

/* config_variable_name returns the name of the i-th variable of the configuration table, or NULL
 * past the end (docs checks, diagnostics). */
const char *config_variable_name(size_t i);

/* config_variable_env_only is true for the i-th variable when .env files cannot set it (DATA_DIR,
 * GRAMINE_ATTESTATION_DIR): the environment only. */
bool config_variable_env_only(size_t i);

/* config_variable_default returns the text an unset or empty i-th variable stands for, or NULL
 * past the end; config_variable_range gives the bounds of an integer variable (false for the other
 * kinds). Both let a test hold README.md and deploy/.env.example to the table. */
const char *config_variable_default(size_t i);
bool config_variable_range(size_t i, unsigned long long *min, unsigned long long *max);

/* str_list_contains is true when s equals one element exactly. */
bool str_list_contains(const struct str_list *l, const char *s);

#endif
