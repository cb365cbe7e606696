/* test_http_defer.c - deferred answers and the daemons' stops (src/http/server.c).
 *
 * The thread that answers a deferred request is still inside MHD_resume_connection, which reads
 * the daemon, when the daemon's thread may already have sent the answer; http_stop must not free
 * the daemon until that thread is out. MHD_resume_connection is wrapped (-Wl,--wrap, the test's
 * link_args) so the answering thread can be held right after the real call returns, as a
 * preempted thread would be.
 *
 * A retired HTTPS daemon (replaced by a certificate renewal) is stopped while a keep-alive
 * connection on it sends a request that would be deferred: libmicrohttpd aborts the process when
 * a daemon holding a suspended connection is stopped, so that request must be answered at once
 * instead. MHD_stop_daemon is wrapped to send the request at that moment. The same request sent
 * after the renewal has found nothing deferred on that daemon, and before it stops it (when the
 * new daemon takes over: MHD_quiesce_daemon is wrapped), must be answered at once too; and a
 * request deferred on another daemon must not hold the renewal up. The TLS client is the
 * worker's own GnuTLS stubs (http/gnutls_lazy.c); the certificate comes from the openssl command. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <gnutls/gnutls.h>

#include "config.h"
#include "http/http.h"
#include "util/clock_after.h"
#include "util/file_read.h"

struct MHD_Connection;
struct MHD_Daemon;
void __real_MHD_resume_connection(struct MHD_Connection *conn);
void __wrap_MHD_resume_connection(struct MHD_Connection *conn);
void __real_MHD_stop_daemon(struct MHD_Daemon *daemon);
void __wrap_MHD_stop_daemon(struct MHD_Daemon *daemon);
int __real_MHD_quiesce_daemon(struct MHD_Daemon *daemon);
int __wrap_MHD_quiesce_daemon(struct MHD_Daemon *daemon);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct http_deferred *later;     /* the request the handler deferred */
static bool hold_resume;                /* the wrapper holds its caller after the real call */
static bool in_resume_tail;             /* the answering thread is held there now */
static bool stop_returned;
static bool stop_result;

void __wrap_MHD_resume_connection(struct MHD_Connection *conn)
{
    __real_MHD_resume_connection(conn);
    pthread_mutex_lock(&lock);
    if (hold_resume) {
        in_resume_tail = true;
        pthread_cond_broadcast(&changed);
        while (hold_resume)
            pthread_cond_wait(&changed, &lock);
        in_resume_tail = false;
    }
    pthread_mutex_unlock(&lock);
}

#define PATH "/tw-test-http-defer"

/* dispatch defers the test's request; anything else (a stranger on the loopback port) is 404. */
static void dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    pthread_mutex_lock(&lock);
    bool ours = strcmp(req->path, PATH) == 0 && !later;
    if (ours) {
        later = http_defer(req);
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
    if (!ours)
        http_reply_error(resp, 404, "not this test's request");
}

static void *answer_main(void *arg)
{
    struct http_deferred *d = arg;
    struct http_response resp = { 0 };
    char *body = strdup("answered later");
    http_reply_text(&resp, 200, body, strlen(body));
    http_deferred_answer(d, &resp);
    return NULL;
}

static void *stop_main(void *arg)
{
    bool ok = http_stop(arg);
    pthread_mutex_lock(&lock);
    stop_returned = true;
    stop_result = ok;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* wait_for waits up to ms for *flag (under lock); returns it. */
static bool wait_for(const bool *flag, long ms)
{
    struct timespec until = clock_after_ms(CLOCK_REALTIME, ms);
    pthread_mutex_lock(&lock);
    while (!*flag && pthread_cond_timedwait(&changed, &lock, &until) == 0) {
    }
    bool v = *flag;
    pthread_mutex_unlock(&lock);
    return v;
}

static void test_stop_waits_for_the_answering_thread_to_leave_resume(void **state)
{
    (void)state;
    struct config cfg = { .listen_address = "127.0.0.1:0", .http_max_body = 1 << 20,
                          .http_max_result_body = 1 << 20, .http_timeout_s = 10,
                          .http_threads = 1, .http_max_connections = 16, .shutdown_drain_s = 10 };
    char err[256] = "";
    struct http_server *srv = http_start(&cfg, dispatch, NULL, NULL, NULL, err, sizeof err);
    assert_non_null(srv);
    unsigned port = http_bound_port(srv);
    assert_true(port > 0);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *request = "GET " PATH " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));

    pthread_mutex_lock(&lock);
    while (!later)
        pthread_cond_wait(&changed, &lock);
    hold_resume = true;
    pthread_mutex_unlock(&lock);

    pthread_t answerer, stopper;
    assert_int_equal(pthread_create(&answerer, NULL, answer_main, later), 0);
    assert_true(wait_for(&in_resume_tail, 10000));
    /* The daemon's thread sends the answer meanwhile: the client reads it whole. */
    char got[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof got - 1 && (r = read(fd, got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    got[n] = '\0';
    close(fd);
    assert_non_null(strstr(got, "200"));
    assert_non_null(strstr(got, "answered later"));

    /* The answering thread has not left MHD_resume_connection: the stop waits for it. */
    assert_int_equal(pthread_create(&stopper, NULL, stop_main, srv), 0);
    assert_false(wait_for(&stop_returned, 700));
    pthread_mutex_lock(&lock);
    hold_resume = false;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    pthread_join(answerer, NULL);
    assert_true(wait_for(&stop_returned, 10000));
    pthread_join(stopper, NULL);
    assert_true(stop_result);
}

/* ---- a retired daemon stopped while a request on it would be deferred ---------------------- */

#define DEFER_PATH "/tw-test-defer-on-retired"

static gnutls_session_t client;         /* the keep-alive connection, on the first daemon */
static bool arm_stop;                   /* the next MHD_stop_daemon sends DEFER_PATH first */
static bool arm_quiesce;                /* the next MHD_quiesce_daemon sends DEFER_PATH first */
static bool defer_handled, defer_suspended;
static struct http_deferred *retired_later;

static void tls_dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    if (strcmp(req->path, DEFER_PATH) != 0) {
        char *body = strdup("served");
        http_reply_text(resp, 200, body, strlen(body));
        return;
    }
    struct http_deferred *d = http_defer(req);
    if (!d)
        http_reply_error(resp, 503, "not deferred");
    pthread_mutex_lock(&lock);
    retired_later = d;
    defer_suspended = d != NULL;
    defer_handled = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void session_send(gnutls_session_t s, const char *path)
{
    char request[256];
    int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
    assert_int_equal(gnutls_record_send(s, request, (size_t)n), n);
}

static void client_send(const char *path)
{
    session_send(client, path);
}

/* session_read_until reads answers until what has come. */
static void session_read_until(gnutls_session_t s, const char *what)
{
    char got[4096];
    size_t n = 0;
    got[0] = '\0';
    while (!strstr(got, what)) {
        assert_true(n < sizeof got - 1);
        ssize_t r = gnutls_record_recv(s, got + n, sizeof got - 1 - n);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            continue;
        assert_true(r > 0);
        n += (size_t)r;
        got[n] = '\0';
    }
}

static void client_read_until(const char *what)
{
    session_read_until(client, what);
}

/* send_if_armed: when *arm is set (then cleared), the keep-alive connection on the oldest daemon
 * sends DEFER_PATH, and the handler has run when this returns. */
static void send_if_armed(bool *arm)
{
    pthread_mutex_lock(&lock);
    bool armed = *arm;
    *arm = false;
    pthread_mutex_unlock(&lock);
    if (armed) {
        client_send(DEFER_PATH);
        assert_true(wait_for(&defer_handled, 10000));
    }
}

void __wrap_MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    send_if_armed(&arm_stop);           /* the request reaches the daemon being stopped */
    __real_MHD_stop_daemon(daemon);
}

int __wrap_MHD_quiesce_daemon(struct MHD_Daemon *daemon)
{
    /* the renewal has looked at the oldest daemon's deferrals: its connection sends now */
    send_if_armed(&arm_quiesce);
    return __real_MHD_quiesce_daemon(daemon);
}

/* make_identity writes a self-signed P-256 key and certificate with the openssl command. */
static void make_identity(char **key_pem, char **cert_pem)
{
    char dir[] = "/tmp/tw-http-defer-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024], key[128], cert[128];
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout %s -out %s -days 1 -subj /CN=tw-test >/dev/null 2>&1", key, cert);
    assert_int_equal(system(cmd), 0);
    *key_pem = calloc(1, 16384);
    *cert_pem = calloc(1, 16384);
    assert_non_null(*key_pem);
    assert_non_null(*cert_pem);
    assert_true(read_upto_path(key, *key_pem, 16383) > 0);
    assert_true(read_upto_path(cert, *cert_pem, 16383) > 0);
    unlink(key);
    unlink(cert);
    rmdir(dir);
}

/* A TLS server with HTTP_THREADS = threads and four renewals behind it, and the keep-alive
 * connection `client` on its first daemon, now the oldest retired one. */
struct renewed_server {
    char *key_pem, *cert_pem;
    struct http_tls tls;
    struct config cfg;
    struct http_server *srv;
    unsigned port;
    gnutls_certificate_credentials_t creds;
    gnutls_priority_t prio;
    int fd;
};

/* tls_connect opens a TLS session to the server's current daemon. */
static void tls_connect(struct renewed_server *rs, gnutls_session_t *s, int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)rs->port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(*fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(gnutls_init(s, GNUTLS_CLIENT), 0);
    assert_int_equal(gnutls_priority_set(*s, rs->prio), 0);
    assert_int_equal(gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE, rs->creds), 0);
    gnutls_transport_set_int2(*s, *fd, *fd);
    int rc;
    do
        rc = gnutls_handshake(*s);
    while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
    assert_int_equal(rc, 0);
}

static void renewed_server_start(struct renewed_server *rs, unsigned threads)
{
    defer_handled = defer_suspended = arm_stop = arm_quiesce = false;
    retired_later = NULL;
    memset(rs, 0, sizeof *rs);
    make_identity(&rs->key_pem, &rs->cert_pem);
    rs->tls = (struct http_tls){ .key_pem = rs->key_pem, .cert_pem = rs->cert_pem };
    rs->cfg = (struct config){ .listen_address = "127.0.0.1:0", .http_max_body = 1 << 20,
                               .http_max_result_body = 1 << 20, .http_timeout_s = 30,
                               .http_threads = threads, .http_max_connections = 16,
                               .shutdown_drain_s = 1 };
    char err[256] = "";
    rs->srv = http_start_tls(&rs->cfg, &rs->tls, tls_dispatch, NULL, NULL, NULL, err, sizeof err);
    assert_non_null(rs->srv);
    rs->port = http_bound_port(rs->srv);
    assert_int_equal(gnutls_certificate_allocate_credentials(&rs->creds), 0);
    assert_int_equal(gnutls_priority_init(&rs->prio, "NORMAL", NULL), 0);
    tls_connect(rs, &client, &rs->fd);
    client_send("/first");
    client_read_until("served");
    /* four renewals fill the retired slots; the connection stays on the first daemon, the
     * oldest, which the fifth renewal stops */
    for (int i = 0; i < 4; i++)
        assert_int_equal(http_replace_tls(rs->srv, &rs->tls, err, sizeof err), 0);
}

static void renewed_server_stop(struct renewed_server *rs)
{
    gnutls_deinit(client);
    close(rs->fd);
    gnutls_priority_deinit(rs->prio);
    gnutls_certificate_free_credentials(rs->creds);
    assert_true(http_stop(rs->srv));
    free(rs->key_pem);
    free(rs->cert_pem);
}

/* The wall clock as the server reads it (time(3), wrapped): the kernel's plus wall_ahead_s, so a
 * test can step it as NTP (or, in an enclave, the host) may. */
static time_t wall_ahead_s;
time_t __real_time(time_t *out);
time_t __wrap_time(time_t *out)
{
    time_t now = __real_time(NULL) + __atomic_load_n(&wall_ahead_s, __ATOMIC_RELAXED);
    if (out)
        *out = now;
    return now;
}

/* A wall-clock step forward does not stop a retired daemon whose connections are still open
 * (its drain is measured on the monotonic clock): it was stopped at once, cutting whatever
 * request was under way on it (a sealed result posted back over a slow link). */
static void test_wall_clock_step_does_not_stop_a_retired_daemon(void **state)
{
    (void)state;
    struct renewed_server rs;
    renewed_server_start(&rs, 1);
    __atomic_store_n(&wall_ahead_s, (time_t)30 * 24 * 3600, __ATOMIC_RELAXED);
    size_t left = http_reap(rs.srv);
    __atomic_store_n(&wall_ahead_s, 0, __ATOMIC_RELAXED);
    assert_int_equal(left, 1);                  /* the oldest, which holds the connection */
    client_send("/after-the-step");
    client_read_until("served");
    renewed_server_stop(&rs);
}

/* fifth_renewal_sends_on_the_oldest renews once more, the oldest daemon's connection sending
 * DEFER_PATH at the moment *arm names; that request must be answered at once, not deferred. */
static void fifth_renewal_sends_on_the_oldest(struct renewed_server *rs, bool *arm)
{
    pthread_mutex_lock(&lock);
    *arm = true;
    pthread_mutex_unlock(&lock);
    char err[256] = "";
    assert_int_equal(http_replace_tls(rs->srv, &rs->tls, err, sizeof err), 0);
    pthread_mutex_lock(&lock);
    bool handled = defer_handled, suspended = defer_suspended, armed = *arm;
    pthread_mutex_unlock(&lock);
    assert_false(armed);                /* the moment came */
    assert_true(handled);
    assert_false(suspended);            /* answered at once, not deferred */
    assert_null(retired_later);
    /* the answer itself may not go out: the daemon is stopped right after */
}

/* retired_daemon_stopped runs the case with HTTP_THREADS = threads (above 1, each daemon is a
 * pool of daemons, and the request is served by one of the pool's). */
static void retired_daemon_stopped(unsigned threads)
{
    struct renewed_server rs;
    renewed_server_start(&rs, threads);
    fifth_renewal_sends_on_the_oldest(&rs, &arm_stop);
    renewed_server_stop(&rs);
}

static void test_retired_daemon_stopped_answers_instead_of_deferring(void **state)
{
    (void)state;
    retired_daemon_stopped(1);
}

static void test_retired_pool_stopped_answers_instead_of_deferring(void **state)
{
    (void)state;
    retired_daemon_stopped(2);
}

/* The renewal found nothing deferred on the oldest daemon; a request on it arrives before the
 * daemon is stopped. Deferred, it would be stopped suspended (libmicrohttpd aborts) once the
 * renewal's wait for it ran out. */
static void test_request_after_the_renewal_check_answered_at_once(void **state)
{
    (void)state;
    struct renewed_server rs;
    renewed_server_start(&rs, 1);
    fifth_renewal_sends_on_the_oldest(&rs, &arm_quiesce);
    renewed_server_stop(&rs);
}

/* A request deferred on the oldest retired daemon and not answered within SHUTDOWN_DRAIN_SECONDS
 * (a write held up by the disk): that daemon cannot be stopped, so the renewal keeps the current
 * certificate; once the request is answered, the next renewal goes ahead. */
static void test_deferral_on_the_oldest_keeps_the_certificate(void **state)
{
    (void)state;
    struct renewed_server rs;
    renewed_server_start(&rs, 1);
    client_send(DEFER_PATH);                    /* on the oldest daemon */
    assert_true(wait_for(&defer_handled, 10000));
    pthread_mutex_lock(&lock);
    struct http_deferred *held = retired_later;
    pthread_mutex_unlock(&lock);
    assert_non_null(held);

    char err[256] = "";
    assert_int_equal(http_replace_tls(rs.srv, &rs.tls, err, sizeof err), -1);
    assert_non_null(strstr(err, "the current certificate stays"));

    /* the oldest daemon still runs: the answer goes out (closing the connection, which is on a
     * retired daemon) */
    pthread_t answerer;
    assert_int_equal(pthread_create(&answerer, NULL, answer_main, held), 0);
    pthread_join(answerer, NULL);
    client_read_until("answered later");
    assert_int_equal(http_replace_tls(rs.srv, &rs.tls, err, sizeof err), 0);
    renewed_server_stop(&rs);
}

/* A request deferred on the current daemon (its answer held up) is not on the oldest retired
 * one: the renewal goes ahead at once, and the request is answered afterwards. */
static void test_deferral_elsewhere_does_not_hold_the_renewal(void **state)
{
    (void)state;
    struct renewed_server rs;
    renewed_server_start(&rs, 1);
    gnutls_session_t other;
    int other_fd;
    tls_connect(&rs, &other, &other_fd);        /* on the current daemon */
    session_send(other, DEFER_PATH);
    assert_true(wait_for(&defer_handled, 10000));
    pthread_mutex_lock(&lock);
    struct http_deferred *held = retired_later;
    bool suspended = defer_suspended;
    pthread_mutex_unlock(&lock);
    assert_true(suspended);
    assert_non_null(held);

    char err[256] = "";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(http_replace_tls(rs.srv, &rs.tls, err, sizeof err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 900);      /* no wait for the drain (SHUTDOWN_DRAIN_SECONDS = 1) */
    client_send("/after");      /* the oldest daemon is gone: its connection is closed */
    char byte;
    ssize_t r;
    do
        r = gnutls_record_recv(client, &byte, 1);
    while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
    assert_true(r <= 0);

    pthread_t answerer;
    assert_int_equal(pthread_create(&answerer, NULL, answer_main, held), 0);
    pthread_join(answerer, NULL);
    session_read_until(other, "answered later");
    gnutls_deinit(other);
    close(other_fd);
    renewed_server_stop(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_waits_for_the_answering_thread_to_leave_resume),
        cmocka_unit_test(test_retired_daemon_stopped_answers_instead_of_deferring),
        cmocka_unit_test(test_retired_pool_stopped_answers_instead_of_deferring),
        cmocka_unit_test(test_request_after_the_renewal_check_answered_at_once),
        cmocka_unit_test(test_deferral_on_the_oldest_keeps_the_certificate),
        cmocka_unit_test(test_deferral_elsewhere_does_not_hold_the_renewal),
        cmocka_unit_test(test_wall_clock_step_does_not_stop_a_retired_daemon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
