/* test_http_defer.c - a deferred answer and the server's stop (src/http/server.c): the thread that
 * answers a deferred request is still inside MHD_resume_connection, which reads the daemon, when
 * the daemon's thread may already have sent the answer; http_stop must not free the daemon until
 * that thread is out. MHD_resume_connection is wrapped (-Wl,--wrap, the test's link_args) so the
 * answering thread can be held right after the real call returns, as a preempted thread would be. */
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

#include "config.h"
#include "http/http.h"

struct MHD_Connection;
void __real_MHD_resume_connection(struct MHD_Connection *conn);
void __wrap_MHD_resume_connection(struct MHD_Connection *conn);

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
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
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
    struct http_server *srv = http_start(&cfg, dispatch, NULL, NULL, err, sizeof err);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_waits_for_the_answering_thread_to_leave_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
