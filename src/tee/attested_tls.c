/* attested_tls.c - the current attested TLS identity and the thread that renews it.
 *
 * One mutex guards the current identity (readers copy what they need under it) and the stop flag;
 * the renewal thread waits on a condition variable for at most a second at a time (on the
 * monotonic clock), so it can reap replaced listeners (installer tick) and stop promptly. Making a
 * new identity (key, quote, certificate) happens outside the lock; only the swap happens inside
 * it. */
#include "tee/attested_tls.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "tee/ratls.h"
#include "util/clock_after.h"

#define RETRY_S 10

struct attested_tls {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    const struct platform *platform;
    unsigned validity_s;
    struct ratls_cert *current;
    time_t renew_at;
    struct tls_installer installer;
};

/* renewal_time: two thirds into the validity of c (at least one second after its creation). */
static time_t renewal_time(const struct ratls_cert *c, unsigned validity_s)
{
    time_t created = c->not_after - (time_t)validity_s;
    time_t delay = (time_t)validity_s * 2 / 3;

    return created + (delay > 0 ? delay : 1);
}

struct attested_tls *attested_tls_open(const struct platform *p, unsigned validity_s, char *err,
                                       size_t errlen)
{
    struct attested_tls *at = calloc(1, sizeof *at);

    if (at == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    at->platform = p;
    at->validity_s = validity_s;
    at->current = ratls_create(p, validity_s, err, errlen);
    if (at->current == NULL) {
        free(at);
        return NULL;
    }
    at->renew_at = renewal_time(at->current, validity_s);
    pthread_mutex_init(&at->lock, NULL);
    pthread_cond_init(&at->wake, NULL);
    return at;
}

/* renew makes and installs a new identity. Returns 0 or -1 (logged). */
static int renew(struct attested_tls *at)
{
    char err[512];
    struct ratls_cert *fresh = ratls_create(at->platform, at->validity_s, err, sizeof err);

    if (fresh == NULL) {
        log_error("TLS certificate renewal failed: %s", err);
        return -1;
    }
    if (at->installer.install(at->installer.ctx, fresh->key_pem, fresh->cert_pem, err,
                              sizeof err) != 0) {
        log_error("TLS certificate renewal failed: cannot install it: %s", err);
        ratls_free(fresh);
        return -1;
    }
    pthread_mutex_lock(&at->lock);
    struct ratls_cert *old = at->current;
    at->current = fresh;
    at->renew_at = renewal_time(fresh, at->validity_s);
    pthread_mutex_unlock(&at->lock);
    ratls_free(old);
    char until[32];
    struct tm tm;
    gmtime_r(&fresh->not_after, &tm);
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    log_info("TLS certificate renewed (new key%s), valid until %s", fresh->quote ? " and quote" : "",
             until);
    return 0;
}

static void *renewal_main(void *arg)
{
    struct attested_tls *at = arg;
    pthread_setname_np(pthread_self(), "tw-tls-renewal");

    pthread_mutex_lock(&at->lock);
    while (!at->stop) {
        /* (the renewal time itself is wall-clock time, as the certificate's validity is) */
        cond_wait_ms(&at->wake, &at->lock, 1000);
        if (at->stop)
            break;
        bool due = time(NULL) >= at->renew_at;
        pthread_mutex_unlock(&at->lock);
        if (at->installer.tick)
            at->installer.tick(at->installer.ctx);
        if (due && renew(at) != 0) {
            pthread_mutex_lock(&at->lock);
            at->renew_at = time(NULL) + RETRY_S;
            pthread_mutex_unlock(&at->lock);
        }
        pthread_mutex_lock(&at->lock);
    }
    pthread_mutex_unlock(&at->lock);
    return NULL;
}

int attested_tls_start(struct attested_tls *at, const struct tls_installer *installer, char *err,
                       size_t errlen)
{
    at->installer = *installer;
    at->stop = false;
    if (pthread_create(&at->thread, NULL, renewal_main, at) != 0) {
        snprintf(err, errlen, "cannot start the TLS certificate renewal thread");
        return -1;
    }
    at->running = true;
    return 0;
}

void attested_tls_stop(struct attested_tls *at)
{
    if (at == NULL || !at->running)
        return;
    pthread_mutex_lock(&at->lock);
    at->stop = true;
    pthread_cond_signal(&at->wake);
    pthread_mutex_unlock(&at->lock);
    pthread_join(at->thread, NULL);
    at->running = false;
}

void attested_tls_read(struct attested_tls *at, void (*fn)(const struct ratls_cert *, void *),
                       void *ctx)
{
    pthread_mutex_lock(&at->lock);
    fn(at->current, ctx);
    pthread_mutex_unlock(&at->lock);
}

void attested_tls_free(struct attested_tls *at)
{
    if (at == NULL)
        return;
    attested_tls_stop(at);
    ratls_free(at->current);
    pthread_cond_destroy(&at->wake);
    pthread_mutex_destroy(&at->lock);
    free(at);
}
