/* test_fetch.c - fetch_do against a tiny HTTP server in a thread: status, body and headers,
 * POST bodies, the size cap, the timeout, the stop hook, unreachable hosts, refused schemes, redirect hops held to
 * public addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/fetch.h"

static int listen_fd;
static int port;
static pthread_t server_thread;
static char last_request[8192];

static void answer(int fd, const char *req)
{
    char big[2100];
    const char *reply;
    char buf[4096];
    if (strncmp(req, "GET http://", 11) == 0) {
        /* asked as a proxy (absolute-form request line): send the client to a public address */
        reply = "HTTP/1.1 302 Found\r\nLocation: http://8.8.8.8:9/\r\nContent-Length: 0\r\n\r\n";
    } else if (strstr(req, "GET /ok ")) {
        reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    } else if (strstr(req, "GET /hop ")) {
        snprintf(buf, sizeof buf, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ok\r\n"
                 "Content-Length: 0\r\n\r\n", port);
        reply = buf;
    } else if (strstr(req, "GET /hop-headers ")) {
        snprintf(buf, sizeof buf, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/bare\r\n"
                 "Content-Type: text/html\r\nRetry-After: 9\r\nx-rate-limit-remaining: 3\r\n"
                 "x-rate-limit-reset: 1700000000\r\nContent-Length: 0\r\n\r\n", port);
        reply = buf;
    } else if (strstr(req, "GET /bare ")) {
        reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbare";
    } else if (strstr(req, "GET /retry ")) {
        reply = "HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n";
    } else if (strstr(req, "GET /cookies ")) {
        reply = "HTTP/1.1 200 OK\r\nSet-Cookie: ct0=abc; Domain=.x.com; Path=/; Secure\r\n"
                "x-rate-limit-remaining: 0\r\nx-rate-limit-reset: 1700000000\r\n"
                "set-cookie: auth_token=t1; HttpOnly\r\nContent-Length: 0\r\n\r\n";
    } else if (strstr(req, "GET /big ")) {
        memset(big, 'x', 2000);
        big[2000] = '\0';
        snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n%s", big);
        reply = buf;
    } else if (strstr(req, "GET /slow ")) {
        sleep(2);
        reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    } else if (strstr(req, "POST /echo ")) {
        const char *body = strstr(req, "\r\n\r\n");
        snprintf(buf, sizeof buf, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\n\r\n%.1000s",
                 strlen(body + 4) > 1000 ? (size_t)1000 : strlen(body + 4), body + 4);
        reply = buf;
    } else {
        reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
    ssize_t n = write(fd, reply, strlen(reply));
    (void)n;
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        ssize_t n = read(fd, last_request, sizeof last_request - 1);
        if (n > 0) {
            last_request[n] = '\0';
            /* a POST body may arrive in a second segment */
            if (strncmp(last_request, "POST", 4) == 0 && strstr(last_request, "\r\n\r\n") &&
                strstr(last_request, "\r\n\r\n")[4] == '\0') {
                ssize_t more = read(fd, last_request + n, sizeof last_request - 1 - (size_t)n);
                if (more > 0)
                    last_request[n + more] = '\0';
            }
            answer(fd, last_request);
        }
        close(fd);
    }
}

static int start_server(void **state)
{
    (void)state;
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 16) ||
        getsockname(listen_fd, (struct sockaddr *)&a, &len))
        return -1;
    port = ntohs(a.sin_port);
    return pthread_create(&server_thread, NULL, serve, NULL) ? -1 : 0;
}

/* stop_all: shutdown makes the server's accept fail once it has answered what it holds (the
 * /slow reply outlives its timed-out client), so it is joined with no socket left open. */
static int stop_all(void **state)
{
    (void)state;
    fetch_global_cleanup();
    shutdown(listen_fd, SHUT_RDWR);
    pthread_join(server_thread, NULL);
    close(listen_fd);
    return 0;
}

static int fetch_path(const char *method, const char *path, const char *body, size_t max,
                      long timeout_ms, struct fetch_response *resp, struct err *e)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    static const char *const headers[] = { "X-Test: yes", NULL };
    struct fetch_request req = { .method = method, .url = url, .headers = headers, .body = body,
                                 .body_len = body ? strlen(body) : 0, .max_response_bytes = max,
                                 .timeout_ms = timeout_ms };
    err_clear(e);
    return fetch_do(&req, resp, e);
}

static void test_ok_body_and_headers(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/ok", NULL, 0, 2000, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_int_equal(r.body_len, 5);
    assert_string_equal(r.content_type, "text/plain");
    assert_non_null(strstr(last_request, "X-Test: yes"));
    assert_non_null(strstr(last_request, "User-Agent: tee-worker/"));
    fetch_response_clear(&r);
}

static void test_status_is_the_callers_to_judge(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/retry", NULL, 0, 2000, &r, &e), 0);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.retry_after, "7");
    assert_string_equal(r.body, "");
    fetch_response_clear(&r);
    assert_int_equal(fetch_path(NULL, "/nope", NULL, 0, 2000, &r, &e), 0);
    assert_int_equal(r.status, 404);
    fetch_response_clear(&r);
}

/* Set-Cookie values (every one, attributes kept) and the X rate-limit headers are kept. */
static void test_cookie_and_rate_limit_headers(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/cookies", NULL, 0, 2000, &r, &e), 0);
    assert_string_equal(r.set_cookies, "ct0=abc; Domain=.x.com; Path=/; Secure\n"
                        "auth_token=t1; HttpOnly\n");
    assert_string_equal(r.rate_limit_remaining, "0");
    assert_string_equal(r.rate_limit_reset, "1700000000");
    fetch_response_clear(&r);
    assert_int_equal(fetch_path(NULL, "/ok", NULL, 0, 2000, &r, &e), 0);
    assert_null(r.set_cookies);
    assert_null(r.rate_limit_remaining);
    fetch_response_clear(&r);
}

static void test_post_body(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/echo", "{\"a\":1}", 0, 2000, &r, &e), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"a\":1}");
    fetch_response_clear(&r);
}

static void test_size_cap_fails_instead_of_cutting(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/big", NULL, 1000, 2000, &r, &e), -1);
    assert_int_equal(e.http, 502);
    assert_string_equal(e.msg, "response larger than 1000 bytes");
    assert_null(r.body);
    assert_int_equal(fetch_path(NULL, "/big", NULL, 2000, 2000, &r, &e), 0);
    assert_int_equal(r.body_len, 2000);
    fetch_response_clear(&r);
}

static void test_timeout_is_504(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e;
    assert_int_equal(fetch_path(NULL, "/slow", NULL, 0, 300, &r, &e), -1);
    assert_int_equal(e.http, 504);
    assert_non_null(strstr(e.msg, "timed out after 300 ms"));
    assert_int_equal(fetch_path(NULL, "/ok", NULL, 0, 0, &r, &e), -1);
    assert_int_equal(e.http, 504);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct stop_probe {
    long long stop_at_ms;       /* the stop says true from then on */
    unsigned asked;
};

static bool probe_stop(void *ctx)
{
    struct stop_probe *p = ctx;
    p->asked++;
    return mono_ms() >= p->stop_at_ms;
}

/* The stop hook is asked while an answer is slow to come, and abandons the call when it says so. */
static void test_stop_abandons_a_waiting_request(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", port);
    long long t0 = mono_ms();
    struct stop_probe probe = { .stop_at_ms = t0 + 200 };
    struct fetch_request req = { .url = url, .timeout_ms = 5000, .stop = probe_stop,
                                 .stop_ctx = &probe };
    struct fetch_response r;
    struct err e = { 0 };
    assert_int_equal(fetch_do(&req, &r, &e), -1);
    long long took = mono_ms() - t0;
    assert_int_equal(e.http, 503);
    assert_string_equal(e.msg, "127.0.0.1: request abandoned");
    assert_true(took < 1500);    /* /slow answers after 2 s; the timeout is 5 s */
    assert_true(probe.asked > 0);
    fetch_response_clear(&r);
    /* a stop that stays false changes nothing */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
    probe = (struct stop_probe){ .stop_at_ms = mono_ms() + 60000 };
    assert_int_equal(fetch_do(&req, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    fetch_response_clear(&r);
}

static void test_unreachable_and_refused_schemes(void **state)
{
    (void)state;
    struct fetch_response r;
    struct err e = { 0 };
    struct fetch_request req = { .url = "http://127.0.0.1:1/", .timeout_ms = 2000 };
    assert_int_equal(fetch_do(&req, &r, &e), -1);
    assert_int_equal(e.http, 502);
    assert_non_null(strstr(e.msg, "127.0.0.1"));
    req.url = "file:///etc/passwd";
    err_clear(&e);
    assert_int_equal(fetch_do(&req, &r, &e), -1);
    assert_int_equal(e.http, 502);
    assert_null(r.body);
}

/* redirects_public_only: the first request may go to a private address (the caller's own
 * configuration), a hop may not */
static void test_redirect_hops_to_private_addresses(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hop", port);
    struct fetch_response r;
    struct err e = { 0 };
    struct fetch_request req = { .url = url, .timeout_ms = 5000, .follow_redirects = true };
    assert_int_equal(fetch_do(&req, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    fetch_response_clear(&r);

    req.redirects_public_only = true;
    assert_int_equal(fetch_do(&req, &r, &e), -1);
    assert_int_equal(e.http, 502);
    assert_string_equal(e.msg, "redirected to 127.0.0.1, which is not a public address");
    assert_null(r.body);

    /* no redirect: nothing to check */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
    err_clear(&e);
    assert_int_equal(fetch_do(&req, &r, &e), 0);
    assert_string_equal(r.body, "hello");
    fetch_response_clear(&r);
}

/* The headers read into the response are the final answer's: a redirect hop's Content-Type,
 * Retry-After or rate-limit headers do not stand for an answer that has none. */
static void test_headers_of_a_redirect_hop_are_not_kept(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hop-headers", port);
    struct fetch_response r;
    struct err e = { 0 };
    struct fetch_request req = { .url = url, .timeout_ms = 5000, .follow_redirects = true };
    assert_int_equal(fetch_do(&req, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "bare");
    assert_null(r.content_type);
    assert_null(r.retry_after);
    assert_null(r.rate_limit_reset);
    assert_null(r.rate_limit_remaining);
    fetch_response_clear(&r);
}

/* redirects_public_only judges the address each hop connects to, so no proxy from the
 * environment may stand in between (through one, the rule would judge the proxy's address: a
 * redirect to a public host refused because the proxy is on loopback, or one to a private host
 * let through by a public proxy); other calls keep honouring it, as Go's clients do. */
static void test_environment_proxy_and_public_redirects(void **state)
{
    (void)state;
    char url[128], proxy[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
    assert_int_equal(setenv("http_proxy", proxy, 1), 0);
    struct fetch_response r;
    struct err e = { 0 };
    struct fetch_request req = { .url = url, .timeout_ms = 5000, .follow_redirects = true,
                                 .redirects_public_only = true };
    int rc = fetch_do(&req, &r, &e);
    if (rc != 0)
        fail_msg("fetch through the environment's proxy: %s", e.msg);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_memory_equal(last_request, "GET /ok ", 8);
    fetch_response_clear(&r);

    req.follow_redirects = req.redirects_public_only = false;
    assert_int_equal(fetch_do(&req, &r, &e), 0);
    assert_int_equal(r.status, 302);
    assert_memory_equal(last_request, "GET http://127.0.0.1:", 21);
    fetch_response_clear(&r);
    unsetenv("http_proxy");
}

static void test_url_escape(void **state)
{
    (void)state;
    char *s = fetch_url_escape("a b/c?d=é");
    assert_string_equal(s, "a%20b%2Fc%3Fd%3D%C3%A9");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_body_and_headers),
        cmocka_unit_test(test_status_is_the_callers_to_judge),
        cmocka_unit_test(test_cookie_and_rate_limit_headers),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_size_cap_fails_instead_of_cutting),
        cmocka_unit_test(test_timeout_is_504),
        cmocka_unit_test(test_stop_abandons_a_waiting_request),
        cmocka_unit_test(test_unreachable_and_refused_schemes),
        cmocka_unit_test(test_redirect_hops_to_private_addresses),
        cmocka_unit_test(test_environment_proxy_and_public_redirects),
        cmocka_unit_test(test_headers_of_a_redirect_hop_are_not_kept),
        cmocka_unit_test(test_url_escape),
    };
    return cmocka_run_group_tests(tests, start_server, stop_all);
}
