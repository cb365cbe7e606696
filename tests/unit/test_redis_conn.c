/* test_redis_conn.c - the Redis connection pool against a fake server on 127.0.0.1 that answers
 * with what a hostile Redis could send: a bulk string declared 1 GiB long then streamed, an array
 * whose elements never end, a flood answering AUTH. The pool must drop the connection once the
 * bytes read for a round trip pass its reply bound (not read on), say why, and work again with a
 * server that behaves; answers within the bound (pipelined ones too) come through whole. A round
 * trip's own bound (redis_pool_run_within), when tighter than the pool's, is the one that holds. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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

#include "log.h"
#include "store/redis_conn.h"

#define REPLY_MAX (1024 * 1024)
#define FLOOD_CAP (256u * 1024 * 1024)   /* what the fake sends at most: an unbounded reader takes it all */
#define KERNEL_SLACK (24u * 1024 * 1024) /* socket buffers on both sides may hold this much */
#define TINY_ARRAYS 5
#define TINY_ARRAY_LEN 60000

/* What the fake answers on its nth connection (after reading one command). */
enum answer { PONG, FLOOD_BULK, FLOOD_ARRAY, BULK_NEAR_BOUND, THREE_PONGS, TINY_ELEMENTS };

struct fake {
    int listener;
    int port;
    enum answer answers[4];
    size_t conns;                 /* connections to serve */
    size_t sent[4];               /* bytes sent on each */
    pthread_t thread;
};

static int send_all(int fd, const char *b, size_t n, size_t *sent)
{
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
        *sent += (size_t)k;
    }
    return 0;
}

/* wait_for_commands reads until n commands ("*<argc>" lines at the start of a chunk or after
 * the previous) have arrived; the commands are small, a count of '*' at line starts is enough. */
static int wait_for_commands(int fd, int n)
{
    char buf[4096];
    int seen = 0;
    bool line_start = true;
    while (seen < n) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0)
            return -1;
        for (ssize_t i = 0; i < k; i++) {
            if (line_start && buf[i] == '*')
                seen++;
            line_start = buf[i] == '\n';
        }
    }
    return 0;
}

static void serve(int fd, enum answer a, size_t *sent)
{
    static char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    if (wait_for_commands(fd, a == THREE_PONGS ? 3 : 1) < 0)
        return;
    switch (a) {
    case PONG:
        send_all(fd, "+PONG\r\n", 7, sent);
        break;
    case THREE_PONGS:
        send_all(fd, "+PONG\r\n:42\r\n$3\r\nabc\r\n", 22, sent);
        break;
    case FLOOD_BULK:
        if (send_all(fd, "$1073741824\r\n", 13, sent) < 0)
            return;
        while (*sent < FLOOD_CAP && send_all(fd, chunk, sizeof chunk, sent) == 0)
            ;
        break;
    case FLOOD_ARRAY: {
        /* an array of 65536 bulk strings of 1000 bytes each: every element is parsed (and its
         * bytes leave hiredis's buffer) as it arrives, so only a count of what was read sees it */
        char element[1100];
        int n = snprintf(element, sizeof element, "$1000\r\n%.1000s\r\n", chunk);
        if (send_all(fd, "*65536\r\n", 8, sent) < 0)
            return;
        while (*sent < FLOOD_CAP && send_all(fd, element, (size_t)n, sent) == 0)
            ;
        break;
    }
    case TINY_ELEMENTS: {
        /* 300 000 empty status replies, 3 bytes each: 900 KB, within the bound on bytes read,
         * but some 30 MB once hiredis has built an object (and a string) for each */
        char *tiny = malloc(TINY_ARRAY_LEN * 3);
        if (!tiny)
            return;
        for (size_t i = 0; i < TINY_ARRAY_LEN; i++)
            memcpy(tiny + 3 * i, "+\r\n", 3);
        char head[32];
        int n = snprintf(head, sizeof head, "*%d\r\n", TINY_ARRAYS);
        int failed = send_all(fd, head, (size_t)n, sent);
        for (int a = 0; a < TINY_ARRAYS && !failed; a++) {
            n = snprintf(head, sizeof head, "*%d\r\n", TINY_ARRAY_LEN);
            failed = send_all(fd, head, (size_t)n, sent) ||
                     send_all(fd, tiny, TINY_ARRAY_LEN * 3, sent);
        }
        free(tiny);
        break;
    }
    case BULK_NEAR_BOUND: {
        size_t len = REPLY_MAX - 64;
        char head[32];
        int n = snprintf(head, sizeof head, "$%zu\r\n", len);
        send_all(fd, head, (size_t)n, sent);
        for (size_t left = len; left > 0;) {
            size_t take = left < sizeof chunk ? left : sizeof chunk;
            if (send_all(fd, chunk, take, sent) < 0)
                return;
            left -= take;
        }
        send_all(fd, "\r\n", 2, sent);
        break;
    }
    }
    /* hold the connection until the pool closes it */
    char drain[4096];
    while (recv(fd, drain, sizeof drain, 0) > 0)
        ;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (size_t i = 0; i < f->conns; i++) {
        int fd = accept(f->listener, NULL, NULL);
        if (fd < 0)
            break;
        int small = 64 * 1024;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        serve(fd, f->answers[i], &f->sent[i]);
        close(fd);
    }
    return NULL;
}

/* listen_loopback: a listening socket on 127.0.0.1, its port in *port. */
static int listen_loopback(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void fake_start(struct fake *f)
{
    f->listener = listen_loopback(4, &f->port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->listener);
}

static struct redis_pool *pool_for(const struct fake *f, const char *password)
{
    struct redis_url url = { .port = f->port };
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    snprintf(url.password, sizeof url.password, "%s", password ? password : "");
    struct redis_pool *p = redis_pool_new(&url, 4000, REPLY_MAX);
    assert_non_null(p);
    return p;
}

static redisReply *ping(struct redis_pool *p, char *reason, size_t reasonlen)
{
    const char *argv[] = { "GET", "tee-worker:result:x" };
    size_t lens[] = { 3, strlen(argv[1]) };
    return redis_pool_command(p, reason, reasonlen, 2, argv, lens);
}

/* wait_out_backoff sleeps until the pool may connect again (it backs off after a failure). */
static void wait_out_backoff(struct redis_pool *p)
{
    long long wait = 0;
    while (!redis_pool_may_connect(p, &wait)) {
        struct timespec t = { 0, (long)(wait + 5) * 1000000L };
        nanosleep(&t, NULL);
    }
}

static void check_flood_dropped(enum answer flood, const char *expected_reason, size_t min_read)
{
    struct fake f = { .answers = { flood, PONG }, .conns = 2 };
    fake_start(&f);
    struct redis_pool *p = pool_for(&f, NULL);
    char reason[256] = "";
    redisReply *r = ping(p, reason, sizeof reason);
    assert_null(r);
    if (!strstr(reason, expected_reason))
        fail_msg("unexpected reason: %s", reason);
    /* The connection is closed: the fake's next send fails. Not before it was read past the
     * bound, and long before the fake's cap (an unbounded reader takes all of it). */
    wait_out_backoff(p);
    r = ping(p, reason, sizeof reason);   /* reconnects: the second connection behaves */
    if (!r)
        fail_msg("no answer after reconnecting: %s", reason);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_string_equal(r->str, "PONG");
    freeReplyObject(r);
    redis_pool_free(p);
    fake_stop(&f);
    if (f.sent[0] < min_read || f.sent[0] > REPLY_MAX + KERNEL_SLACK)
        fail_msg("the fake sent %zu bytes before the pool dropped the connection", f.sent[0]);
}

/* check_three_pongs: the replies are THREE_PONGS' three answers, in order; frees them. */
static void check_three_pongs(redisReply *replies[3])
{
    assert_string_equal(replies[0]->str, "PONG");
    assert_int_equal(replies[1]->integer, 42);
    assert_string_equal(replies[2]->str, "abc");
    for (int i = 0; i < 3; i++)
        freeReplyObject(replies[i]);
}

static void test_huge_bulk_string_is_dropped(void **state)
{
    (void)state;
    check_flood_dropped(FLOOD_BULK, "reply larger than 1048576 bytes (", REPLY_MAX);
}

static void test_endless_array_is_dropped(void **state)
{
    (void)state;
    /* its element table (512 KiB for 65536 elements) and its elements, each a reply object
     * besides its 1000 bytes, reach the bound on what the reply takes once built before their
     * bytes reach the bound on bytes read: after some 500 KB */
    check_flood_dropped(FLOOD_ARRAY, "reply larger than 1114112 bytes once built in memory",
                        REPLY_MAX / 2);
}

/* A reply within the bound on bytes read but made of 300 000 elements of 3 bytes each would take
 * some 30 times the bound once built: it is dropped as it is built, past the bound on what its
 * objects take, and the pool works on. */
static void test_reply_of_tiny_elements_is_dropped(void **state)
{
    (void)state;
    assert_true(TINY_ARRAYS * (TINY_ARRAY_LEN * 3 + 16) < REPLY_MAX);
    struct fake f = { .answers = { TINY_ELEMENTS, PONG }, .conns = 2 };
    fake_start(&f);
    struct redis_pool *p = pool_for(&f, NULL);
    char reason[256] = "";
    redisReply *r = ping(p, reason, sizeof reason);
    if (r)
        fail_msg("a reply of %d elements (%zu bytes once built) was taken whole",
                 TINY_ARRAYS * TINY_ARRAY_LEN, (size_t)TINY_ARRAYS * TINY_ARRAY_LEN * 96);
    if (!strstr(reason, "reply larger than 1114112 bytes once built in memory"))
        fail_msg("unexpected reason: %s", reason);
    wait_out_backoff(p);
    r = ping(p, reason, sizeof reason);
    if (!r)
        fail_msg("no answer after reconnecting: %s", reason);
    assert_string_equal(r->str, "PONG");
    freeReplyObject(r);
    redis_pool_free(p);
    fake_stop(&f);
}

/* An answer just within the bound, then three pipelined ones, come through whole. */
static void test_answers_within_the_bound(void **state)
{
    (void)state;
    struct fake f = { .answers = { BULK_NEAR_BOUND, THREE_PONGS }, .conns = 2 };
    fake_start(&f);
    struct redis_pool *p = pool_for(&f, NULL);
    char reason[256] = "";
    redisReply *r = ping(p, reason, sizeof reason);
    if (!r)
        fail_msg("an answer within the bound failed: %s", reason);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, REPLY_MAX - 64);
    assert_int_equal(r->str[0], 'x');
    assert_int_equal(r->str[r->len - 1], 'x');
    freeReplyObject(r);
    /* the fake serves one answer per connection: drop this one to get to the next */
    redis_pool_free(p);
    p = pool_for(&f, NULL);
    const char *argv[] = { "PING" };
    size_t lens[] = { 4 };
    struct redis_cmd cmds[3] = { { 1, argv, lens }, { 1, argv, lens }, { 1, argv, lens } };
    redisReply *replies[3];
    assert_int_equal(redis_pool_run(p, REDIS_SLOT_ANY, 3, cmds, replies, reason, sizeof reason), 0);
    check_three_pongs(replies);
    redis_pool_free(p);
    fake_stop(&f);
}

/* redis_pool_run_within: a round trip's own, tighter bound fails an answer the pool's bound would
 * take (and says which bound); one looser than the pool's is the pool's; the pool works on. */
static void test_round_trip_within_a_tighter_bound(void **state)
{
    (void)state;
    struct fake f = { .answers = { BULK_NEAR_BOUND, FLOOD_BULK, THREE_PONGS }, .conns = 3 };
    fake_start(&f);
    struct redis_pool *p = pool_for(&f, NULL);
    const char *argv[] = { "GET", "tee-worker:result:x" };
    size_t lens[] = { 3, strlen(argv[1]) };
    struct redis_cmd cmd = { 2, argv, lens };
    redisReply *r = NULL;
    char reason[256] = "";
    assert_int_equal(redis_pool_run_within(p, REDIS_SLOT_ANY, 1, &cmd, 64 * 1024, &r, reason,
                                           sizeof reason), -1);
    assert_null(r);
    if (!strstr(reason, "reply larger than 65536 bytes"))
        fail_msg("unexpected reason: %s", reason);
    wait_out_backoff(p);
    assert_int_equal(redis_pool_run_within(p, REDIS_SLOT_ANY, 1, &cmd, 8 * REPLY_MAX, &r, reason,
                                           sizeof reason), -1);
    if (!strstr(reason, "reply larger than 1048576 bytes"))
        fail_msg("unexpected reason: %s", reason);
    wait_out_backoff(p);
    const char *ping_argv[] = { "PING" };
    size_t ping_lens[] = { 4 };
    struct redis_cmd cmds[3] = { { 1, ping_argv, ping_lens }, { 1, ping_argv, ping_lens },
                                 { 1, ping_argv, ping_lens } };
    redisReply *replies[3];
    if (redis_pool_run_within(p, REDIS_SLOT_ANY, 3, cmds, 64, replies, reason, sizeof reason) < 0)
        fail_msg("answers within the round trip's bound failed: %s", reason);
    check_three_pongs(replies);
    redis_pool_free(p);
    fake_stop(&f);
    assert_true(f.sent[1] <= REPLY_MAX + KERNEL_SLACK);
}

/* The handshake reads within the same bound: a flood answering AUTH fails the connection. */
static void test_flood_answering_auth(void **state)
{
    (void)state;
    struct fake f = { .answers = { FLOOD_BULK }, .conns = 1 };
    fake_start(&f);
    struct redis_pool *p = pool_for(&f, "pw");
    char reason[256] = "";
    assert_int_equal(redis_pool_health(p, reason, sizeof reason), -1);
    if (!strstr(reason, "AUTH failed: reply larger than"))
        fail_msg("unexpected reason: %s", reason);
    assert_null(strstr(reason, "pw"));
    redis_pool_free(p);
    fake_stop(&f);
    assert_true(f.sent[0] <= REPLY_MAX + KERNEL_SLACK);
}

/* ---- a server that answers every command, and can drop all its connections (a restart) ---- */

struct pong_server {
    int listener;
    int port;
    pthread_mutex_t lock;
    int fds[16];
    size_t nfds;
    size_t accepted;
    pthread_t acceptor;
};

static void *pong_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t k;
    size_t ignored = 0;
    while ((k = recv(fd, buf, sizeof buf, 0)) > 0) {
        bool line_start = true;   /* one +PONG per command ("*" at a line start) */
        for (ssize_t i = 0; i < k; i++) {
            if (line_start && buf[i] == '*' && send_all(fd, "+PONG\r\n", 7, &ignored) < 0)
                return NULL;
            line_start = buf[i] == '\n';
        }
    }
    return NULL;
}

static void *pong_accept(void *arg)
{
    struct pong_server *ps = arg;
    for (;;) {
        int fd = accept(ps->listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&ps->lock);
        if (ps->nfds < 16)
            ps->fds[ps->nfds++] = fd;
        ps->accepted++;
        pthread_mutex_unlock(&ps->lock);
        pthread_t t;
        pthread_create(&t, NULL, pong_conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static void pong_start(struct pong_server *ps)
{
    memset(ps, 0, sizeof *ps);
    pthread_mutex_init(&ps->lock, NULL);
    ps->listener = listen_loopback(16, &ps->port);
    assert_int_equal(pthread_create(&ps->acceptor, NULL, pong_accept, ps), 0);
}

/* pong_drop_all closes every connection, as a restarted server has none of them any more. */
static void pong_drop_all(struct pong_server *ps)
{
    pthread_mutex_lock(&ps->lock);
    for (size_t i = 0; i < ps->nfds; i++)
        shutdown(ps->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&ps->lock);
}

static void test_restart_drops_every_connection_opened_before_it(void **state)
{
    (void)state;
    struct pong_server ps;
    pong_start(&ps);
    struct fake addr = { .port = ps.port };
    struct redis_pool *p = pool_for(&addr, NULL);
    char reason[256];
    for (int i = 0; i < REDIS_POOL_SHARED; i++) {     /* every shared slot connected */
        redisReply *r = ping(p, reason, sizeof reason);
        assert_non_null(r);
        freeReplyObject(r);
    }
    assert_int_equal(ps.accepted, REDIS_POOL_SHARED);
    pong_drop_all(&ps);
    usleep(50 * 1000);
    /* the first command after the restart meets a dead connection: one failure is unavoidable */
    assert_null(ping(p, reason, sizeof reason));
    wait_out_backoff(p);
    /* the other slots' connections date from before that failure: they are opened again, not
     * tried (each would fail once more and double the back-off) */
    int failures = 0;
    for (int i = 0; i < 2 * REDIS_POOL_SHARED; i++) {
        redisReply *r = ping(p, reason, sizeof reason);
        if (!r) {
            failures++;
            wait_out_backoff(p);
        }
        freeReplyObject(r);
    }
    assert_int_equal(failures, 0);
    assert_int_equal(ps.accepted, 2 * REDIS_POOL_SHARED);
    redis_pool_free(p);
    shutdown(ps.listener, SHUT_RDWR);
    close(ps.listener);
    pthread_join(ps.acceptor, NULL);
    pong_drop_all(&ps);
    usleep(50 * 1000);          /* the connection threads see the end and return */
    for (size_t i = 0; i < ps.nfds; i++)
        close(ps.fds[i]);
    pthread_mutex_destroy(&ps.lock);
}

int main(void)
{
    log_init(LOG_ERROR, false);   /* the pool logs each dropped connection as an error */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_bulk_string_is_dropped),
        cmocka_unit_test(test_endless_array_is_dropped),
        cmocka_unit_test(test_reply_of_tiny_elements_is_dropped),
        cmocka_unit_test(test_answers_within_the_bound),
        cmocka_unit_test(test_flood_answering_auth),
        cmocka_unit_test(test_round_trip_within_a_tighter_bound),
        cmocka_unit_test(test_restart_drops_every_connection_opened_before_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
