/* app.h - the running worker: every long-lived part, created in order by app_open and torn
 * down in reverse by app_close. Handlers receive a struct app; nothing else is global except the
 * configuration inside it and the logger. */
#ifndef TW_APP_H
#define TW_APP_H

#include <signal.h>

#include <jansson.h>

#include "config.h"
#include "tee/platform.h"

struct keyring;
struct keydist;
struct keyring_writer;
struct results;
struct store;
struct stats;
struct readiness;
struct job_server;
struct http_server;
struct pprof;
struct attested_tls;

struct app {
    struct config cfg;
    struct platform platform;
    struct keyring *keyring;
    struct keydist *keydist;        /* NULL: no KEY_DISTRIBUTOR_PUBKEY, /setkey not served */
    struct keyring_writer *ring_writer;     /* /setkey's additions (with keydist only) */
    struct results *results;
    struct store *store;
    struct stats *stats;
    struct readiness *readiness;
    struct job_server *jobs;
    json_t *capabilities;
    char *capabilities_text;        /* compact JSON of capabilities, for the telemetry job */
    char worker_id[37];
    int startup_log_level;
    /* API key digests: SHA-256("Bearer " + key) and SHA-256(key); has_api_key false = open */
    bool has_api_key;
    unsigned char bearer_digest[32];
    unsigned char key_digest[32];
    struct http_server *http;
    struct attested_tls *tls;       /* enclave mode: the attested HTTPS identity; NULL standalone */
    void *periodic;                 /* the maintenance thread (app.c) */
    struct pprof *pprof;            /* profiling switch (api/pprof_api.c) */
    const sigset_t *stop_signals;   /* during app_open: one pending ends start-up (NULL: none) */
};

/* app_open builds everything from app->cfg (already loaded) and starts the job server and the
 * HTTP listener. A signal of stop (blocked by the caller; may be NULL) pending between two steps,
 * or while the Apify key check waits, ends start-up early. Returns 0; 1 when stopped so (the
 * signal still pending, everything built torn down, as by app_close); or -1 with err (and
 * everything already built torn down). */
int app_open(struct app *app, const sigset_t *stop, char *err, size_t errlen);

/* app_close stops the listener, then the job server, and frees everything (cfg included).
 * Returns false when /job/add or /setkey requests still waited for their write (the store's, the
 * key ring's) after SHUTDOWN_DRAIN_SECONDS: then nothing is stopped or freed (their late answers
 * would use it) and the caller should just exit. */
bool app_close(struct app *app);

/* app_dispatch is the HTTP entry point (routes.c). */
struct http_request;
struct http_response;
void app_dispatch(void *app, const struct http_request *req, struct http_response *resp);
/* app_screen answers 401 from the headers alone when the request needs the API key and lacks it,
 * before any of its body is read (routes.c). */
void app_screen(void *app, const struct http_request *req, struct http_response *resp);
/* app_answered counts an answer as it is sent (readiness window, /metrics); routes.c. */
void app_answered(void *app, const struct http_request *req, const struct http_response *resp);

#endif
