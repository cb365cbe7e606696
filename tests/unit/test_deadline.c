/* test_deadline.c - request deadlines (src/http/deadline.c): a connection waiting for a request is
 * cut (its socket shut down) on the sweep after its bound and not before; body bytes extend the
 * bound; a request received whole is never cut until it completes, and the bound restarts then;
 * a request the sweep cut first is refused; a closed connection is forgotten; the table's own
 * thread sweeps once a second. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/deadline.h"

#define RATE 1000

struct pair {
    int ours, peer;     /* ours: the server's side, registered in the table */
};

static struct pair make_pair(void)
{
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    return (struct pair){ fds[0], fds[1] };
}

static void close_pair(struct pair *p)
{
    close(p->ours);
    close(p->peer);
}

/* cut says whether ours was shut down: the peer reads end-of-file instead of "nothing yet". */
static bool cut(const struct pair *p)
{
    char c;
    ssize_t n = recv(p->peer, &c, 1, MSG_DONTWAIT);
    if (n < 0)
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    return n == 0;
}

static void test_waiting_connection_cut_after_bound(void **state)
{
    (void)state;
    struct deadline_table *t = deadline_table_new(3, RATE);
    assert_non_null(t);
    struct pair p = make_pair();
    struct deadline_conn *c = deadline_open(t, p.ours);
    assert_non_null(c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(deadline_sweep(t), 0);
        assert_false(cut(&p));
    }
    assert_int_equal(deadline_sweep(t), 1);    /* the fourth tick: more than 3 have passed */
    assert_true(cut(&p));
    assert_int_equal(deadline_sweep(t), 0);    /* cut once */
    assert_false(deadline_received(c));        /* a request completing now is not served */
    assert_int_equal(deadline_sweep(t), 0);
    deadline_close(t, c);
    close_pair(&p);
    deadline_table_free(t);
}

static void test_body_bytes_extend_the_bound(void **state)
{
    (void)state;
    struct deadline_table *t = deadline_table_new(2, RATE);
    struct pair p = make_pair();
    struct deadline_conn *c = deadline_open(t, p.ours);
    deadline_sweep(t);
    deadline_sweep(t);
    deadline_body(c, 2 * RATE + RATE / 2);     /* two whole seconds earned */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(deadline_sweep(t), 0);
        assert_false(cut(&p));
    }
    deadline_body(c, 3 * RATE);                /* one more */
    assert_int_equal(deadline_sweep(t), 0);
    assert_int_equal(deadline_sweep(t), 1);
    assert_true(cut(&p));
    deadline_close(t, c);
    close_pair(&p);
    deadline_table_free(t);
}

static void test_received_request_never_cut_then_bound_restarts(void **state)
{
    (void)state;
    struct deadline_table *t = deadline_table_new(1, RATE);
    struct pair p = make_pair();
    struct deadline_conn *c = deadline_open(t, p.ours);
    deadline_body(c, 5 * RATE);
    assert_true(deadline_received(c));
    for (int i = 0; i < 50; i++)               /* a long answer, a deferred request */
        assert_int_equal(deadline_sweep(t), 0);
    assert_false(cut(&p));
    deadline_next(t, c);                       /* completed: the next one is due from now, */
    assert_int_equal(deadline_sweep(t), 0);    /* without the last request's body credit */
    assert_false(cut(&p));
    assert_int_equal(deadline_sweep(t), 1);
    assert_true(cut(&p));
    deadline_close(t, c);
    close_pair(&p);
    deadline_table_free(t);
}

static void test_closed_connection_forgotten(void **state)
{
    (void)state;
    struct deadline_table *t = deadline_table_new(0, RATE);
    struct pair a = make_pair(), b = make_pair(), d = make_pair();
    struct deadline_conn *ca = deadline_open(t, a.ours);
    struct deadline_conn *cb = deadline_open(t, b.ours);
    struct deadline_conn *cd = deadline_open(t, d.ours);
    assert_true(deadline_received(cd));
    deadline_close(t, cb);                     /* from the middle of the list */
    assert_int_equal(deadline_sweep(t), 1);
    assert_true(cut(&a));
    assert_false(cut(&b));
    assert_false(cut(&d));
    deadline_close(t, ca);
    deadline_close(t, cd);
    deadline_close(t, NULL);                   /* a connection opened without memory */
    assert_int_equal(deadline_sweep(t), 0);
    close_pair(&a);
    close_pair(&b);
    close_pair(&d);
    deadline_table_free(t);
    deadline_table_free(NULL);
}

static void test_thread_sweeps_every_second(void **state)
{
    (void)state;
    struct deadline_table *t = deadline_table_new(1, RATE);
    assert_int_equal(deadline_table_run(t), 0);
    struct pair p = make_pair();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct deadline_conn *c = deadline_open(t, p.ours);
    while (!cut(&p)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true(t1.tv_sec - t0.tv_sec < 10);
        usleep(10 * 1000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 1000);                   /* never before the bound */
    assert_true(ms < 4000);
    deadline_close(t, c);
    deadline_table_free(t);                    /* stops the thread */
    close_pair(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_connection_cut_after_bound),
        cmocka_unit_test(test_body_bytes_extend_the_bound),
        cmocka_unit_test(test_received_request_never_cut_then_bound_restarts),
        cmocka_unit_test(test_closed_connection_forgotten),
        cmocka_unit_test(test_thread_sweeps_every_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
