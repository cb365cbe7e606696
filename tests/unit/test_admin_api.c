/* test_admin_api.c - POST /setkey leaves no copy of the ring key in freed memory.
 *
 * The key travels in clear in the request body. The test serves /setkey (api_setkey) on the
 * worker's own HTTP server and sends it a key; this binary is linked with -Wl,--wrap=free (see
 * tests/meson.build), which covers the worker's code and the static libjansson and
 * libmicrohttpd, so every buffer freed while the request is handled is searched for the key's
 * bytes. A refused key (no distributor key configured: the signature check fails) is handled by
 * the same parsing as an accepted one. libmicrohttpd's connection memory pool, where the raw
 * request arrives, is freed (with free()) when the connection closes: the server wipes each piece
 * of a body there once copied, and the tests of a closed or abandoned connection search until the
 * server has stopped.
 *
 * /setkey decodes its members in the body's own buffer (api_parse_strings_in_place): a test route
 * compares what it decodes with what jansson decodes from the same text, escapes and UTF-8
 * included, and checks that it leaves to jansson whatever jansson refuses. */
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

#include <valgrind/memcheck.h>
#include <cmocka.h>

#include "api/api.h"
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "util/growbuf.h"
#include "util/memdup.h"

#define KEY "wipe-me:0123456789abcdefghijklmn"     /* 32 bytes */
#define KEY_HALF 16

/* ---- free() searching what it frees ---- */

void __real_free(void *p);
void __wrap_free(void *p);

static atomic_bool searching;
static char last_answer[4096];       /* the last answer post() read */
static atomic_int key_copies_freed;

/* holds_key_half: p's block holds either half of the key (a partial copy leaks too). */
static bool holds_key_half(const void *p)
{
    size_t n = malloc_usable_size((void *)p);
    /* under valgrind: the block's bytes never written are read too (the block is being freed;
     * a no-op otherwise) */
    VALGRIND_MAKE_MEM_DEFINED(p, n);
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

static const char *const members[] = { "key", "signature", NULL };

/* same_as_jansson: what api_parse_strings_in_place read (rc, got) is what jansson reads from text:
 * the same refusal, or the same bytes for each member (a body jansson reads may still be refused
 * for its members). */
static const char *same_as_jansson(const char *text, size_t len, int rc,
                                   const struct api_strings *got)
{
    json_t *want = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *verdict = NULL;
    if (!want || rc < 0)
        verdict = !want && rc < 0 ? "both refused" : rc < 0 ? "refused (a member not allowed)"
                                                            : "differ";
    for (size_t i = 0; !verdict && members[i]; i++) {
        const json_t *v = json_object_get(want, members[i]);
        size_t n = json_string_length(v);
        if (!json_is_string(v) ? got->value[i] != NULL
                               : !got->value[i] || got->len[i] != n ||
                                     memcmp(got->value[i], json_string_value(v), n) != 0)
            verdict = "differ";
    }
    json_decref(want);
    return verdict ? verdict : got->root ? "same, parsed by jansson" : "same, decoded in place";
}

/* decode answers the verdict of same_as_jansson for the request's body. */
static void decode(const struct http_request *req, struct http_response *resp)
{
    size_t len = req->body_len;
    char *body = http_take_body(req);
    char *text = memdup_z(req->body, len);
    struct http_response scratch = { 0 };
    struct api_strings got;
    int rc = api_parse_strings_in_place(req, body, &scratch, members, &got);
    const char *verdict = same_as_jansson(text, len, rc, &got);
    api_strings_clear(&got);
    http_response_clear(&scratch);
    free(text);
    free(body);
    char *answer = strdup(verdict);
    http_reply_text(resp, 200, answer, strlen(answer));
}

static void dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/setkey") == 0)
        api_setkey(&app, req, resp);
    else if (strcmp(req->path, "/decode") == 0)
        decode(req, resp);
    else {
        free(http_take_body(req));      /* freed as it came: what the search must find */
        http_reply_error(resp, 404, "not found");
    }
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
    memcpy(last_answer, got, sizeof last_answer);
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
    struct http_server *srv = http_start(&cfg, dispatch, NULL, NULL, NULL, err, sizeof err);
    if (!srv)
        fail_msg("http_start: %s", err);
    return srv;
}

/* The search works: the body of a request to another route is freed by its handler as it came. */
static void test_the_search_finds_a_freed_key(void **state)
{
    (void)state;
    struct http_server *srv = start();
    assert_true(post(http_bound_port(srv), "/elsewhere", "{\"key\":\"" KEY "\"}",
                     "HTTP/1.1 404") > 0);
    assert_true(http_stop(srv));
}

/* setkey_leaves_no_key: /setkey refuses body (no distributor) and no freed block holds the key. */
static void setkey_leaves_no_key(const char *body)
{
    struct http_server *srv = start();
    assert_int_equal(post(http_bound_port(srv), "/setkey", body, "HTTP/1.1 500"), 0);
    assert_true(http_stop(srv));
}

/* send_then_stop sends request on a new connection to a fresh server, reads the answer unless
 * answered is NULL (then gives the server 200 ms to read what was sent), closes the connection and
 * stops the server, searching every buffer freed until the server has stopped (every connection's
 * memory freed). Returns how many held the key; *answered says whether the answer was a 500. */
static int send_then_stop(const char *request, bool *answered)
{
    struct http_server *srv = start();
    char got[4096];
    int fd = connect_to(http_bound_port(srv));
    atomic_store(&key_copies_freed, 0);
    atomic_store(&searching, true);
    if (answered) {
        exchange(fd, request, got, sizeof got);
        *answered = strncmp(got, "HTTP/1.1 500", 12) == 0;
    } else {
        assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
        usleep(200 * 1000);
    }
    close(fd);
    assert_true(http_stop(srv));
    atomic_store(&searching, false);
    return atomic_load(&key_copies_freed);
}

/* setkey_request writes a /setkey request declaring a body of declared bytes, of which it
 * carries body. */
static void setkey_request(char *out, size_t n, const char *body, size_t declared)
{
    snprintf(out, n,
             "POST /setkey HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s", declared, body);
}

/* A connection closed right after its /setkey answer: libmicrohttpd frees the connection's memory
 * pool, where the request came in, as it is; the server wipes each piece of a request body there
 * once it has its own copy, so the pool holds no key either. */
static void test_closed_connection_leaves_no_key(void **state)
{
    (void)state;
    const char *body = "{\"key\":\"" KEY "\",\"signature\":\"c2lnbmF0dXJl\"}";
    char request[512];
    setkey_request(request, sizeof request, body, strlen(body));
    bool answered = false;
    assert_int_equal(send_then_stop(request, &answered), 0);
    assert_true(answered);
}

/* A client that sends part of a /setkey body, the key included, and goes away: neither the
 * server's copy of the part nor libmicrohttpd's pool keeps the key. */
static void test_abandoned_body_leaves_no_key(void **state)
{
    (void)state;
    const char *part = "{\"key\":\"" KEY "\",\"signa";
    char request[512];
    setkey_request(request, sizeof request, part, strlen(part) + 40);
    assert_int_equal(send_then_stop(request, NULL), 0);
}

/* A chunked body of unknown length grows the server's buffer past its first size with the key
 * already in it: the buffer it leaves is wiped before it is freed (growbuf_append_wiping moves
 * it with malloc and free(), which the search sees; realloc's own frees would not be seen). */
static void test_chunked_body_leaves_no_key(void **state)
{
    (void)state;
    const char *head = "{\"key\":\"" KEY "\",";
    char pad[3000];
    memset(pad, ' ', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    const char *tail = "\"signature\":\"c2lnbmF0dXJl\"}";
    char request[4096];
    snprintf(request, sizeof request,
             "POST /setkey HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n%zx\r\n%s\r\n%zx\r\n%s\r\n0\r\n\r\n",
             strlen(head), head, strlen(pad), pad, strlen(tail), tail);
    bool answered = false;
    assert_int_equal(send_then_stop(request, &answered), 0);
    assert_true(answered);
}

/* growbuf_append_wiping: the buffer left behind when the key's buffer grows, and the last one
 * (growbuf_wipe_free), are wiped before they are freed. */
static void test_growing_wiping_buffer_leaves_no_key(void **state)
{
    (void)state;
    char pad[5000];
    memset(pad, ' ', sizeof pad);
    struct growbuf b = { 0 };
    atomic_store(&key_copies_freed, 0);
    atomic_store(&searching, true);
    assert_int_equal(growbuf_append_wiping(&b, KEY, strlen(KEY), 64), 0);
    char *first = b.data;
    assert_int_equal(growbuf_append_wiping(&b, pad, sizeof pad, 64), 0);
    assert_true(b.data != first);       /* it grew: the first buffer went through free() */
    assert_int_equal(memcmp(b.data, KEY, strlen(KEY)), 0);
    assert_int_equal(b.len, strlen(KEY) + sizeof pad);
    growbuf_wipe_free(&b);
    atomic_store(&searching, false);
    assert_null(b.data);
    assert_int_equal(atomic_load(&key_copies_freed), 0);
}

/* The common body: plain strings, read as slices of the body, which is wiped. */
static void test_plain_body_leaves_no_key(void **state)
{
    (void)state;
    setkey_leaves_no_key("{\"key\":\"" KEY "\",\"signature\":\"c2lnbmF0dXJl\"}");
}

/* A body with an escape: decoded in the body's own buffer too. */
static void test_escaped_body_leaves_no_key(void **state)
{
    (void)state;
    setkey_leaves_no_key("{\"key\":\"" KEY "\",\"signature\":\"c2ln\\/bmF0dXJl\"}");
}

/* decoded_as checks the /decode verdict for body. */
static void decoded_as(unsigned port, const char *body, const char *verdict)
{
    post(port, "/decode", body, "HTTP/1.1 200");
    const char *text = strstr(last_answer, "\r\n\r\n");
    if (!text || strcmp(text + 4, verdict) != 0)
        fail_msg("%s: %s, expected %s", body, text ? text + 4 : last_answer, verdict);
}

static void test_in_place_decoding_is_jansson_s(void **state)
{
    (void)state;
    struct http_server *srv = start();
    unsigned port = http_bound_port(srv);
    const char *in_place = "same, decoded in place";
    decoded_as(port, "{\"key\":\"plain\",\"signature\":\"c2ln\"}", in_place);
    decoded_as(port, "{\"signature\":\"s\", \"key\" : \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"}",
               in_place);
    decoded_as(port, "{\"key\":\"\\u0041\\u00e9\\u20AC\\ud83d\\uDE00\\u003c\\u003E\\u007f\\u0080"
                     "\\u07ff\\u0800\\uffff\\udbff\\udfff\",\"signature\":\"s\"}", in_place);
    decoded_as(port, "{\"key\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", in_place);
    decoded_as(port, "{\"key\":\"\\\\u0041\"}", in_place);
    /* what jansson refuses, or reads another way, is left to it */
    const char *refused[] = {
        "{\"key\":\"a\\u0000b\"}", "{\"key\":\"\\ud800\"}", "{\"key\":\"\\udc00\\ud800\"}",
        "{\"key\":\"\\ud800\\u0041\"}", "{\"key\":\"\\ud800x\"}", "{\"key\":\"\\x\"}",
        "{\"key\":\"\\u12\"}", "{\"key\":\"\\u12g4\"}", "{\"key\":\"a\\\"}", "{\"key\":\"\xff\"}",
        "{\"key\":\"\xc0\xaf\"}", "{\"key\":\"\xed\xa0\x80\"}", "{\"key\":\"\xf4\x90\x80\x80\"}",
        "{\"key\":\"\xe2\x82\"}", "{\"key\":\"tab\there\"}", "{\"key\":\"a\",\"key\":\"\\n\"}",
        "{\"key\":\"\\n\"",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        decoded_as(port, refused[i], "both refused");
    /* random values made of the pieces that matter: whatever the verdict, never "differ" */
    static const char *const pieces[] = { "\\u", "\\", "d8", "DB", "dc", "df", "00", "0", "4",
                                          "1", "e9", "f", "g", "\"", "n", "/", "a", "\x01",
                                          "\x7f", "\x80", "\xc3", "\xa9", "\xed", "\xf0", "\x9f",
                                          "\xff" };
    int in_place_count = 0, refused_count = 0;
    srand(20261127);
    for (int round = 0; round < 400; round++) {
        char body[256] = "{\"key\":\"";
        for (int k = rand() % 12; k >= 0; k--)
            strcat(body, pieces[rand() % (int)(sizeof pieces / sizeof pieces[0])]);
        strcat(body, "\"}");
        post(port, "/decode", body, "HTTP/1.1 200");
        if (strstr(last_answer, "differ"))
            fail_msg("%s: decoded unlike jansson", body);
        in_place_count += strstr(last_answer, "decoded in place") != NULL;
        refused_count += strstr(last_answer, "both refused") != NULL;
    }
    assert_true(in_place_count >= 40 && refused_count >= 40);   /* both ways were taken */
    decoded_as(port, "{\"key\":\"\\n\",\"other\":\"x\"}", "refused (a member not allowed)");
    decoded_as(port, "{\"key\":\"\\n\",\"signature\":null}", "same, parsed by jansson");
    assert_true(http_stop(srv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_search_finds_a_freed_key),
        cmocka_unit_test(test_plain_body_leaves_no_key),
        cmocka_unit_test(test_escaped_body_leaves_no_key),
        cmocka_unit_test(test_closed_connection_leaves_no_key),
        cmocka_unit_test(test_abandoned_body_leaves_no_key),
        cmocka_unit_test(test_chunked_body_leaves_no_key),
        cmocka_unit_test(test_growing_wiping_buffer_leaves_no_key),
        cmocka_unit_test(test_in_place_decoding_is_jansson_s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
