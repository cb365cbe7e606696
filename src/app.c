/* app.c - builds the worker in dependency order and tears it down in reverse.
 *
 *   platform (root key, DATA_DIR) -> store (jobs, results, nonces; secrets unless shared) ->
 *   worker id -> key ring (SEALING_KEYS_FILE, or persisted + distributor key) -> result table,
 *   stats, readiness -> capability report -> job server (+ recovery) -> maintenance thread ->
 *   [enclave: attested TLS identity] -> HTTP listener (last: nothing is served before everything
 *   behind it exists; HTTPS with the attested certificate in enclave mode, plain HTTP standalone)
 *   -> [enclave: certificate renewal thread].
 *
 * The maintenance thread sweeps expired results and nonces on a timer, so memory is returned
 * even when nobody reads.
 *
 * A stop signal that comes during start-up (main.c blocks SIGINT and SIGTERM and takes them with
 * sigwait once serving) stays pending; app_open looks for it between its steps, and the Apify key
 * check (a request of up to 5 s) and the X API key probe (up to 15 s) ask while they wait, so
 * start-up ends early: what was built is torn down as at a stop, and nothing is served.
 *
 * A stop waits for the store at two points, each for SHUTDOWN_DRAIN_SECONDS at most: the /job/add
 * requests whose commit is under way and the /setkey requests whose key-ring write is (both
 * deferred answers, http_stop), then, after the running jobs, the local store's last writes
 * (close_watch). A disk that does not answer would otherwise hold the process until
 * the supervisor's SIGKILL. Everything before the store's close (other threads waiting on that
 * disk included) is bounded together by JOB_TIMEOUT_SECONDS + 2 x SHUTDOWN_DRAIN_SECONDS. */
#include "app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "api/ops_api.h"
#include "api/readiness.h"
#include "http/http.h"
#include "jobs/registry.h"
#include "jobs/results.h"
#include "jobs/server.h"
#include "jobs/stats.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_keys.h"
#include "kinds/twitter_web_session.h"
#include "log.h"
#include "net/apify.h"
#include "store/store.h"
#include "tee/attested_tls.h"
#include "tee/keydist.h"
#include "tee/keyring.h"
#include "tee/keyring_writer.h"
#include "tee/keys_file.h"
#include "tee/platform.h"
#include "tee/ratls.h"
#include "util/clock_after.h"
#include "util/crypto.h"
#include "util/json_out.h"

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
    pthread_setname_np(pthread_self(), "tw-maintenance");
    /* The store is pruned often enough that its results table stays near RESULT_CACHE_MAX_SIZE
     * under load: between two passes every finished job adds a row (at 6 000 jobs/s, a minute
     * between passes left 360 000 extra rows, ≈ 400 MB, and SQLite keeps a file at its largest
     * size); a pass with nothing to delete is three index look-ups. The in-memory cache, whose
     * sweep walks every entry under its lock, is swept every SWEEP_EVERY passes. */
    enum { SWEEP_EVERY = 12 };
    unsigned period = m->app->cfg.result_cache_max_age_s / 2 / SWEEP_EVERY;
    if (period < 1)
        period = 1;
    if (period > 5)
        period = 5;
    unsigned pass = 0;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        cond_wait_ms(&m->wake, &m->lock, (long)period * 1000);
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->lock);
        const struct config *cfg = &m->app->cfg;
        time_t now = time(NULL);
        size_t results = ++pass % SWEEP_EVERY == 0 ? results_sweep(m->app->results) : 0;
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

/* close_watch bounds a part of the stop (all of it up to the store's close, then the local
 * store's close): past its deadline the process exits with status 1, as after a kill -9 (what
 * SQLite committed is whole; finished jobs whose results were not written yet run again after the
 * restart, see README "Durability"). */
struct close_watch {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
    unsigned seconds;
    const char *what;       /* what did not finish, for the log: "the store did not finish ..." */
    const char *bound;      /* where the seconds come from, and the likely cause */
};

static void *close_watch_main(void *arg)
{
    struct close_watch *w = arg;
    pthread_setname_np(pthread_self(), "tw-close-watch");
    /* monotonic: a wall-clock step during a stop neither hurries nor delays the watch */
    struct timespec until = clock_after_ms(CLOCK_MONOTONIC, (long)w->seconds * 1000);
    pthread_mutex_lock(&w->lock);
    while (!w->done &&
           pthread_cond_clockwait(&w->done_cond, &w->lock, CLOCK_MONOTONIC, &until) != ETIMEDOUT) {
    }
    bool done = w->done;
    pthread_mutex_unlock(&w->lock);
    if (!done) {
        log_error("shutdown: %s within %u s (%s); exiting without closing the store: jobs "
                  "whose results were not written run again after the restart", w->what,
                  w->seconds, w->bound);
        _exit(1);
    }
    return NULL;
}

/* close_watch_start arms the watch (false: no thread, the close is then unbounded). */
static bool close_watch_start(struct close_watch *w, unsigned seconds, const char *what,
                              const char *bound)
{
    w->done = false;
    w->seconds = seconds;
    w->what = what;
    w->bound = bound;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->done_cond, NULL);
    if (pthread_create(&w->thread, NULL, close_watch_main, w) == 0)
        return true;
    log_warn("shutdown: cannot start a watch (%s); the stop may wait as long as the disk does",
             bound);
    pthread_cond_destroy(&w->done_cond);
    pthread_mutex_destroy(&w->lock);
    return false;
}

static void close_watch_stop(struct close_watch *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->done_cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->done_cond);
    pthread_mutex_destroy(&w->lock);
}

static void set_api_key(struct app *app)
{
    const char *key = app->cfg.api_key;
    app->has_api_key = key && *key;
    if (!app->has_api_key)
        return;
    crypto_sha256((const unsigned char *)key, strlen(key), app->key_digest);
    char *bearer = NULL;
    int n = asprintf(&bearer, "Bearer %s", key);
    if (n >= 0) {
        crypto_sha256((const unsigned char *)bearer, (size_t)n, app->bearer_digest);
        crypto_wipe(bearer, (size_t)n);
        free(bearer);
    }
}

/* A shared store seals what it writes with the key ring (keys every worker of the fleet holds),
 * the purpose and job uid as the salt. The ring is opened after the store (its secrets may live in
 * the store) but before anything is sealed. */
static char *sealer_seal(void *ctx, const char *label, const uint8_t *pt, size_t len)
{
    struct app *app = ctx;
    struct err e = { 0 };
    return keyring_seal(app->keyring, (const uint8_t *)label, strlen(label), pt, len, &e);
}

static int sealer_open(void *ctx, const char *label, const char *text, size_t len, uint8_t **pt,
                       size_t *ptlen)
{
    struct app *app = ctx;
    char cause[512];
    return keyring_open_sealed(app->keyring, (const uint8_t *)label, strlen(label), text, len, pt,
                               ptlen, cause, sizeof cause);
}

static bool sealer_ready(void *ctx)
{
    struct app *app = ctx;
    return app->keyring && keyring_count(app->keyring) > 0;
}

static int open_store(struct app *app, char *err, size_t errlen)
{
    const struct config *cfg = &app->cfg;
    const struct store_sealer sealer = {
        .seal = sealer_seal, .open = sealer_open, .ready = sealer_ready, .ctx = app,
    };
    unsigned claim_after = cfg->job_timeout_s + cfg->store_redis_claim_margin_s;
    const struct store_params params = {
        .url = cfg->store_url,
        .platform = &app->platform,
        .full_durability = cfg->durability && strcmp(cfg->durability, "full") == 0,
        .redis_prefix = cfg->store_redis_prefix,
        .claim_after_s = claim_after,
        .result_ttl_s = cfg->result_cache_max_age_s,
        .queue_max = cfg->job_queue_max,
        .max_jobs = cfg->max_jobs,
        .sealer = &sealer,
    };
    app->store = store_connect(&params, err, errlen);
    return app->store ? 0 : -1;
}

/* open_ring: the ring from SEALING_KEYS_FILE (standalone fleets), else the persisted one. */
static int open_ring(struct app *app, const struct secret_store *secrets, char *err, size_t errlen)
{
    const struct config *cfg = &app->cfg;
    const char *file = cfg->sealing_keys_file;
    if (!file || !*file) {
        if (store_shared(app->store) && cfg->standalone) {
            snprintf(err, errlen, "STORE_URL: a shared store in standalone mode needs "
                     "SEALING_KEYS_FILE, so every worker of the fleet seals with the same keys");
            return -1;
        }
        app->keyring = keyring_open(&app->platform, cfg->standalone, secrets, err, errlen);
        return app->keyring ? 0 : -1;
    }
    if (!cfg->standalone) {
        snprintf(err, errlen, "SEALING_KEYS_FILE: only in standalone mode (in enclave mode the key "
                 "broker's /setkey gives every worker the keys)");
        return -1;
    }
    if (cfg->key_distributor_pubkey && *cfg->key_distributor_pubkey) {
        snprintf(err, errlen, "SEALING_KEYS_FILE and KEY_DISTRIBUTOR_PUBKEY: set one, not both "
                 "(the file fixes the ring; /setkey would change it)");
        return -1;
    }
    uint8_t keys[KEYRING_CAPACITY][SEAL_KEY_LEN];
    int n = keys_file_load(file, keys, KEYRING_CAPACITY, err, errlen);
    if (n < 0)
        return -1;
    app->keyring = keyring_open_fixed(&app->platform, (const uint8_t (*)[SEAL_KEY_LEN])keys,
                                      (size_t)n, err, errlen);
    crypto_wipe(keys, sizeof keys);
    if (app->keyring)
        log_info("key ring: %d shared key(s) from SEALING_KEYS_FILE", n);
    return app->keyring ? 0 : -1;
}

static int open_keys(struct app *app, char *err, size_t errlen)
{
    struct secret_store secrets;
    if (!store_secrets(app->store, &secrets))
        platform_file_secrets(&app->platform, &secrets);   /* a shared store keeps no secrets */
    if (secrets_worker_id(&secrets, app->worker_id, err, errlen) < 0)
        return -1;
    if (open_ring(app, &secrets, err, errlen) < 0)
        return -1;
    tw_session_attach_store(&secrets);   /* Twitter account cookies are kept sealed there */
    const char *pub = app->cfg.key_distributor_pubkey;
    if (pub && *pub && !app->cfg.standalone && keydist_value_is_path(pub)) {
        snprintf(err, errlen, "KEY_DISTRIBUTOR_PUBKEY: in enclave mode it must be the base64 of "
                 "the PEM text, rendered into the manifest and so measured; a file (%.200s) "
                 "could be replaced by the host", pub);
        return -1;
    }
    if (pub && *pub) {
        char why[256];
        app->keydist = keydist_load(pub, why, sizeof why);
        if (!app->keydist) {
            snprintf(err, errlen, "KEY_DISTRIBUTOR_PUBKEY: %s", why);
            return -1;
        }
        app->ring_writer = keyring_writer_start(app->keyring, err, errlen);   /* for /setkey */
        if (!app->ring_writer)
            return -1;
    }
    return 0;
}

/* stop_pending: a signal of the set ctx (a sigset_t) is pending for the process or this thread. */
static bool stop_pending(void *ctx)
{
    const sigset_t *stop = ctx;
    sigset_t pending;
    if (!stop || sigpending(&pending) < 0)
        return false;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(stop, sig) == 1 && sigismember(&pending, sig) == 1)
            return true;
    return false;
}

static int open_tables(struct app *app, char *err, size_t errlen)
{
    const sigset_t *stop = app->stop_signals;
    const struct config *cfg = &app->cfg;
    app->results = results_new(cfg->result_cache_max_size, cfg->result_cache_max_bytes,
                               cfg->result_cache_max_age_s, NULL);
    app->stats = stats_new(app->worker_id);
    app->readiness = readiness_new(cfg->readyz_min_samples, cfg->readyz_error_threshold, NULL);
    if (tw_accounts_load(cfg, err, errlen) < 0)   /* Twitter accounts, incl. the cookie file */
        return -1;
    /* The start-up's network waits (each bounded, and cut short by a stop signal): the Apify key
     * check (an invalid key withdraws the Apify kinds) and the X API keys' access probe (an
     * elevated key adds searchbyfullarchive), both before the capability report. */
    if (cfg->apify_api_key && *cfg->apify_api_key)
        apify_check_key(cfg, stop_pending, (void *)stop);
    if (twitter_keys_configured(cfg))
        twitter_keys_probe_stoppable(cfg, stop_pending, (void *)stop);
    app->capabilities = registry_capabilities(cfg);
    /* a Go map[string][]string: job types sorted, as the telemetry report holds it */
    app->capabilities_text =
        app->capabilities ? json_out_text(app->capabilities, JSON_OUT_SORT_KEYS, NULL) : NULL;
    if (!app->results || !app->stats || !app->readiness || !app->capabilities_text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int install_certificate(void *ctx, const char *key_pem, const char *cert_pem, char *err,
                               size_t errlen)
{
    struct app *app = ctx;
    struct http_tls tls = { .key_pem = key_pem, .cert_pem = cert_pem };
    return http_replace_tls(app->http, &tls, err, errlen);
}

static void reap_listeners(void *ctx)
{
    struct app *app = ctx;
    http_reap(app->http);
}

struct tls_copy {
    char *key_pem, *cert_pem;
};

static void copy_identity(const struct ratls_cert *c, void *arg)
{
    struct tls_copy *copy = arg;
    copy->key_pem = strdup(c->key_pem);
    copy->cert_pem = strdup(c->cert_pem);
}

/* start_listener serves plain HTTP standalone; in enclave mode HTTPS only, with an attested
 * certificate renewed before it expires. */
static int start_listener(struct app *app, char *err, size_t errlen)
{
    if (!app->platform.enclave) {
        app->http = http_start(&app->cfg, app_dispatch, app_screen, app_answered, app, err,
                               errlen);
        return app->http ? 0 : -1;
    }
    app->tls = attested_tls_open(&app->platform, app->cfg.tls_cert_validity_s, err, errlen);
    if (!app->tls)
        return -1;
    struct tls_copy copy = { 0 };
    attested_tls_read(app->tls, copy_identity, &copy);
    if (copy.key_pem && copy.cert_pem) {
        struct http_tls tls = { .key_pem = copy.key_pem, .cert_pem = copy.cert_pem };
        app->http = http_start_tls(&app->cfg, &tls, app_dispatch, app_screen, app_answered, app,
                                   err, errlen);
    } else {
        snprintf(err, errlen, "out of memory");
    }
    if (copy.key_pem)
        crypto_wipe(copy.key_pem, strlen(copy.key_pem));
    free(copy.key_pem);
    free(copy.cert_pem);
    if (!app->http)
        return -1;
    log_info("enclave mode: %s platform, attestation %s, HTTPS with an attested certificate "
             "renewed every %u s", app->platform.ops->name, app->platform.attestation_type,
             app->cfg.tls_cert_validity_s * 2 / 3 ? app->cfg.tls_cert_validity_s * 2 / 3 : 1);
    struct tls_installer installer = { install_certificate, reap_listeners, app };
    return attested_tls_start(app->tls, &installer, err, errlen);
}

static int start_jobs(struct app *app, char *err, size_t errlen)
{
    struct job_server_deps deps = {
        .cfg = &app->cfg,
        .results = app->results,
        .store = app->store,
        .stats = app->stats,
        .capabilities = app->capabilities,
        .capabilities_text = app->capabilities_text,
        .worker_id = app->worker_id,
    };
    app->jobs = jobserver_start(&deps, err, errlen);
    if (!app->jobs || jobserver_recover(app->jobs, err, errlen) < 0)
        return -1;
    store_release_memory(app->store);   /* the pages recovery read: not the job flow's */
    return 0;
}

static int start_serving(struct app *app, char *err, size_t errlen)
{
    if (maintenance_start(app, err, errlen) < 0)
        return -1;
    app->pprof = pprof_open(&app->cfg);
    return start_listener(app, err, errlen);
}

int app_open(struct app *app, const sigset_t *stop, char *err, size_t errlen)
{
    /* start-up in order; a stop signal pending before a step ends it there */
    static int (*const steps[])(struct app *, char *, size_t) = {
        open_store, open_keys, open_tables, start_jobs, start_serving,
    };
    app->startup_log_level = app->cfg.log_level;
    app->stop_signals = stop;
    set_api_key(app);
    if (platform_open(&app->platform, &app->cfg, err, errlen) < 0) {
        config_free(&app->cfg);
        return -1;
    }
    if (platform_lock_data_dir(&app->platform, err, errlen) < 0) {
        platform_close(&app->platform);
        config_free(&app->cfg);
        return -1;
    }
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (stop_pending((void *)stop)) {
            log_info("start-up stopped by a signal; tearing down what was built");
            app_close(app);     /* nothing was served: no request waits for the disk */
            return 1;
        }
        if (steps[i](app, err, errlen) < 0) {
            app_close(app);
            return -1;
        }
    }
    app->stop_signals = NULL;
    return 0;
}

bool app_close(struct app *app)
{
    /* Up to the store's close, the stop also waits for threads that may wait on a disk where no
     * bound of their own applies: a job saving its session (with a Redis store too: it keeps
     * those in DATA_DIR). All of it is bounded together: the deferred requests' drain, the HTTP
     * threads' end, the running jobs' timeout. */
    const struct config *cfg = &app->cfg;
    struct close_watch stop_watch;
    bool stop_watched = app->store &&
                        close_watch_start(&stop_watch,
                                          cfg->job_timeout_s + 2 * cfg->shutdown_drain_s,
                                          "did not complete",
                                          "JOB_TIMEOUT_SECONDS + 2 x SHUTDOWN_DRAIN_SECONDS; a "
                                          "request or a job waiting on a disk that does not "
                                          "answer?");
    attested_tls_stop(app->tls);    /* the renewal thread uses the listener: stopped first */
    pprof_stop(app->pprof);         /* a CPU profile's deferred answer comes at once */
    if (!http_stop(app->http)) {
        /* The store's writer still holds admissions, or the key ring's writer a key (a disk that
         * does not answer): their answers would reach the job server and the HTTP server after
         * we freed them. Nothing they hold was acknowledged, so the process exits as it is. */
        log_error("shutdown: requests still wait for the disk (/job/add for the store, /setkey "
                  "for the key ring; a disk that does not answer?); exiting without closing the "
                  "store: their clients get no answer, each of those jobs is either recorded (it "
                  "runs after the restart) or not (its signature can be added again), and each of "
                  "those keys is either in the ring after the restart or not (it can be sent "
                  "again)");
        if (stop_watched)
            close_watch_stop(&stop_watch);   /* its thread must not outlive this frame */
        return false;
    }
    keyring_writer_stop(app->ring_writer);  /* every /setkey was answered: nothing is queued */
    attested_tls_free(app->tls);
    pprof_close(app->pprof);
    jobserver_stop(app->jobs);      /* the running jobs end, each within JOB_TIMEOUT_SECONDS */
    if (stop_watched)
        close_watch_stop(&stop_watch);
    /* From here everything waits on the store only (a shared store bounds its own waits). */
    struct close_watch watch;
    bool watched = app->store && !store_shared(app->store) &&
                   close_watch_start(&watch, cfg->shutdown_drain_s,
                                     "the store did not finish writing",
                                     "SHUTDOWN_DRAIN_SECONDS; a disk that does not answer?");
    maintenance_stop(app);
    tw_session_detach_store();
    json_decref(app->capabilities);
    free(app->capabilities_text);
    readiness_free(app->readiness);
    stats_free(app->stats);
    store_close(app->store);
    if (watched)
        close_watch_stop(&watch);
    results_free(app->results);
    keydist_free(app->keydist);
    keyring_free(app->keyring);
    platform_close(&app->platform);
    config_free(&app->cfg);
    memset(app, 0, sizeof *app);
    return true;
}
