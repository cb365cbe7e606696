/* test_admin_api.c - POST /setkey leaves no copy of the ring key in freed memory.
 *
 * The key travels in clear in the request body. The test serves /setkey (api_setkey) on the
 * worker's own HTTP server and sends it a key; this binary is linked with -Wl,--wrap=free (see
 * tests/meson.build), which covers the worker's code and the static libjansson and
 * libmicrohttpd, so every buffer freed while the request is handled is searched for the key's
 * bytes. A refused key (no distributor key configured: the signature check fails) is handled by
 * the same parsing as an accepted one. libmicrohttpd's connection buffer, which holds the raw
 * request until the connection closes, is outside the handler's reach: the connection is kept
 * open until the search is over. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "app.h"
#include "config.h"
#include "http/http.h"

#define KEY "wipe-me:0123456789abcdefghijklmn"     /* 32 bytes */
#define KEY_HALF 16

/* ---- free() searching what it frees ---- */

void __real_free(void *p);
void __wrap_free(void *p);

static atomic_bool searching;
static atomic_int key_copies_freed;

/* holds_key_half: p's block holds either half of the key (a partial copy leaks too). */
static bool holds_key_half(const void *p)
{
    size_t n = malloc_usable_size((void *)p);
    return memmem(p, n, KEY, KEY_HALF) || memmem(p, n, KEY + KEY_HALF, KEY_HALF);
}

void __wrap_free(void *p)
{
    if (p && atomic_load(&searching) && holds_key_half(p))
        atomic_fetch_add(&key_copies_freed, 1);
    __real_free(p);
}

/* ---- the server ---- */

static struct app app;      /* no key distributor: every key is refused after parsing */

static void dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/setkey") == 0)
        api_setkey(&app, req, resp);
    else
        http_reply_error(resp, 404, "not found");
}

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* exchange sends request on fd and reads one whole answer (headers and Content-Length bytes)
 * into got. */
static void exchange(int fd, const char *request, char *got, size_t size)
{
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    size_t n = 0;
    for (;;) {
        got[n] = '\0';
        const char *end = strstr(got, "\r\n\r\n");
        const char *cl = strcasestr(got, "Content-Length:");
        if (end && cl && n >= (size_t)(end + 4 - got) + strtoul(cl + 15, NULL, 10))
            return;
        assert_true(n < size - 1);
        ssize_t r = read(fd, got + n, size - 1 - n);
        assert_true(r > 0);
        n += (size_t)r;
    }
}

/* post sends body to path and checks the answer's status, searching every buffer freed
 * meanwhile; returns how many held the key. A second request on the same connection makes sure
 * the first one is over (its buffers freed) before the search stops. */
static int post(unsigned port, const char *path, const char *body, const char *status)
{
    char request[2048], got[4096];
    snprintf(request, sizeof request,
             "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s", path, strlen(body), body);
    int fd = connect_to(port);
    atomic_store(&key_copies_freed, 0);
    atomic_store(&searching, true);
    exchange(fd, request, got, sizeof got);
    if (strncmp(got, status, strlen(status)) != 0)
        fail_msg("answer %.200s, expected %s", got, status);
    exchange(fd, "GET /next HTTP/1.1\r\nHost: test\r\n\r\n", got, sizeof got);
    atomic_store(&searching, false);
    close(fd);
    return atomic_load(&key_copies_freed);
}

static struct http_server *start(void)
{
    static struct config cfg = { .listen_address = "127.0.0.1:0", .http_max_body = 1 << 20,
                                 .http_max_result_body = 1 << 20, .http_timeout_s = 10,
                                 .http_threads = 1, .http_max_connections = 16,
                                 .shutdown_drain_s = 10 };
    char err[256] = "";
    struct http_server *srv = http_start(&cfg, dispatch, NULL, NULL, err, sizeof err);
    if (!srv)
        fail_msg("http_start: %s", err);
    return srv;
}

/* The search works: the body of a request to another route is freed by the server as it came. */
static void test_the_search_finds_a_freed_key(void **state)
{
    (void)state;
    struct http_server *srv = start();
    assert_true(post(http_bound_port(srv), "/elsewhere", "{\"key\":\"" KEY "\"}",
                     "HTTP/1.1 404") > 0);
    assert_true(http_stop(srv));
}

/* The common body: plain strings, read as slices of the body, which is wiped. */
static void test_plain_body_leaves_no_key(void **state)
{
    (void)state;
    struct http_server *srv = start();
    assert_int_equal(post(http_bound_port(srv), "/setkey",
                          "{\"key\":\"" KEY "\",\"signature\":\"c2lnbmF0dXJl\"}",
                          "HTTP/1.1 500"), 0);
    assert_true(http_stop(srv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_search_finds_a_freed_key),
        cmocka_unit_test(test_plain_body_leaves_no_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
