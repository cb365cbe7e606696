/* app.c - builds the worker in dependency order and tears it down in reverse.
 *
 *   platform (root key, DATA_DIR) -> store (jobs, results, nonces, secrets) -> worker id ->
 *   key ring (+ distributor key) -> result table, stats, readiness -> capability report ->
 *   job server (+ recovery) -> maintenance thread -> HTTP listener (last: nothing is served
 *   before everything behind it exists).
 *
 * The maintenance thread sweeps expired results and nonces on a timer, so memory is returned
 * even when nobody reads. */
#include "app.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/ops_api.h"
#include "api/readiness.h"
#include "http/http.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "jobs/server.h"
#include "jobs/stats.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_web_session.h"
#include "log.h"
#include "net/apify.h"
#include "store/store.h"
#include "tee/keydist.h"
#include "tee/keyring.h"

struct maintenance {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct app *app;
};

static void *maintenance_main(void *arg)
{
    struct maintenance *m = arg;
    unsigned period = m->app->cfg.result_cache_max_age_s / 2;
    if (period < 1)
        period = 1;
    if (period > 60)
        period = 60;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += period;
        pthread_cond_timedwait(&m->wake, &m->lock, &until);
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->lock);
        const struct config *cfg = &m->app->cfg;
        time_t now = time(NULL);
        size_t results = results_sweep(m->app->results);
        long rows = store_prune(m->app->store, now, now - (time_t)cfg->result_cache_max_age_s,
                                cfg->result_cache_max_size);
        if (results || rows)
            log_debug("maintenance: %zu expired results in memory, %ld store rows pruned",
                      results, rows);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static int maintenance_start(struct app *app, char *err, size_t errlen)
{
    struct maintenance *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->app = app;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    if (pthread_create(&m->thread, NULL, maintenance_main, m) != 0) {
        free(m);
        snprintf(err, errlen, "cannot start the maintenance thread");
        return -1;
    }
    app->periodic = m;
    return 0;
}

static void maintenance_stop(struct app *app)
{
    struct maintenance *m = app->periodic;
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
    app->periodic = NULL;
}

static void set_api_key(struct app *app)
{
    const char *key = app->cfg.api_key;
    app->has_api_key = key && *key;
    if (!app->has_api_key)
        return;
    SHA256((const unsigned char *)key, strlen(key), app->key_digest);
    char *bearer = NULL;
    int n = asprintf(&bearer, "Bearer %s", key);
    if (n >= 0) {
        SHA256((const unsigned char *)bearer, (size_t)n, app->bearer_digest);
        OPENSSL_cleanse(bearer, (size_t)n);
        free(bearer);
    }
}

static int open_store(struct app *app, char *err, size_t errlen)
{
    const char *durability = app->cfg.durability ? app->cfg.durability : "normal";
    if (strcmp(durability, "normal") != 0 && strcmp(durability, "full") != 0) {
        snprintf(err, errlen, "DURABILITY: expected \"normal\" or \"full\", got \"%.64s\"",
                 durability);
        return -1;
    }
    app->store = store_open(&app->platform, strcmp(durability, "full") == 0, err, errlen);
    return app->store ? 0 : -1;
}

static int open_keys(struct app *app, char *err, size_t errlen)
{
    struct secret_store secrets;
    store_secrets(app->store, &secrets);
    if (secrets_worker_id(&secrets, app->worker_id, err, errlen) < 0)
        return -1;
    app->keyring = keyring_open(&app->platform, app->cfg.standalone, &secrets, err, errlen);
    if (!app->keyring)
        return -1;
    tw_session_attach_store(&secrets);   /* Twitter account cookies are kept sealed there */
    const char *pub = app->cfg.key_distributor_pubkey;
    if (pub && *pub) {
        char why[256];
        app->keydist = keydist_load(pub, why, sizeof why);
        if (!app->keydist) {
            snprintf(err, errlen, "KEY_DISTRIBUTOR_PUBKEY: %s", why);
            return -1;
        }
    }
    return 0;
}

static int open_tables(struct app *app, char *err, size_t errlen)
{
    const struct config *cfg = &app->cfg;
    app->results = results_new(cfg->result_cache_max_size, cfg->result_cache_max_age_s, NULL);
    app->stats = stats_new(app->worker_id);
    app->readiness = readiness_new(cfg->readyz_min_samples, cfg->readyz_error_threshold, NULL);
    if (tw_accounts_load(cfg, err, errlen) < 0)   /* Twitter accounts, incl. the cookie file */
        return -1;
    if (cfg->apify_api_key && *cfg->apify_api_key)
        apify_check_key(cfg);   /* once, with a timeout; an invalid key withdraws the Apify kinds */
    app->capabilities = registry_capabilities(cfg);
    if (!app->results || !app->stats || !app->readiness || !app->capabilities) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int app_open(struct app *app, char *err, size_t errlen)
{
    app->startup_log_level = app->cfg.log_level;
    set_api_key(app);
    if (platform_open(&app->platform, &app->cfg, err, errlen) < 0) {
        config_free(&app->cfg);
        return -1;
    }
    if (open_store(app, err, errlen) < 0 || open_keys(app, err, errlen) < 0 ||
        open_tables(app, err, errlen) < 0)
        goto fail;
    struct job_server_deps deps = {
        .cfg = &app->cfg,
        .results = app->results,
        .store = app->store,
        .stats = app->stats,
        .capabilities = app->capabilities,
        .worker_id = app->worker_id,
    };
    app->jobs = jobserver_start(&deps, err, errlen);
    if (!app->jobs || jobserver_recover(app->jobs, err, errlen) < 0 ||
        maintenance_start(app, err, errlen) < 0)
        goto fail;
    app->pprof = pprof_open(&app->cfg);
    app->http = http_start(&app->cfg, app_dispatch, app, err, errlen);
    if (!app->http)
        goto fail;
    return 0;
fail:
    app_close(app);
    return -1;
}

void app_close(struct app *app)
{
    http_stop(app->http);
    pprof_close(app->pprof);
    maintenance_stop(app);
    jobserver_stop(app->jobs);
    tw_session_detach_store();
    json_decref(app->capabilities);
    readiness_free(app->readiness);
    stats_free(app->stats);
    store_close(app->store);
    results_free(app->results);
    keydist_free(app->keydist);
    keyring_free(app->keyring);
    platform_close(&app->platform);
    config_free(&app->cfg);
    memset(app, 0, sizeof *app);
}
