/* test_queue.c - the bounded FIFO: order, bounds, reservations, close, and many threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "jobs/queue.h"

#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((uintptr_t)(p))

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_new_rejects_zero_capacity(void **state)
{
    (void)state;
    assert_null(queue_new(0));
    struct queue *q = queue_new(7);
    assert_non_null(q);
    assert_int_equal(queue_capacity(q), 7);
    assert_int_equal(queue_length(q), 0);
    queue_free(q, NULL);
}

static void test_fifo_order(void **state)
{
    (void)state;
    struct queue *q = queue_new(8);
    for (uintptr_t i = 1; i <= 5; i++)
        assert_int_equal(queue_push(q, ITEM(i)), 0);
    assert_int_equal(queue_length(q), 5);
    for (uintptr_t i = 1; i <= 5; i++)
        assert_int_equal(NUM(queue_pop(q)), i);
    assert_int_equal(queue_length(q), 0);
    queue_free(q, NULL);
}

static void test_fifo_across_wraparound(void **state)
{
    (void)state;
    struct queue *q = queue_new(3);
    uintptr_t next_in = 1, next_out = 1;
    for (int round = 0; round < 10; round++) {
        while (queue_push(q, ITEM(next_in)) == 0)
            next_in++;
        assert_int_equal(queue_length(q), 3);
        for (int k = 0; k < 2; k++)
            assert_int_equal(NUM(queue_pop(q)), next_out++);
    }
    while (queue_length(q) > 0)
        assert_int_equal(NUM(queue_pop(q)), next_out++);
    assert_int_equal(next_out, next_in);
    queue_free(q, NULL);
}

static void test_full_queue_refuses(void **state)
{
    (void)state;
    struct queue *q = queue_new(2);
    assert_int_equal(queue_push(q, ITEM(1)), 0);
    assert_int_equal(queue_push(q, ITEM(2)), 0);
    assert_int_equal(queue_push(q, ITEM(3)), -1);
    assert_int_equal(queue_reserve(q), -1);
    assert_int_equal(queue_length(q), 2);
    assert_int_equal(NUM(queue_pop(q)), 1);
    assert_int_equal(queue_push(q, ITEM(3)), 0);
    assert_int_equal(NUM(queue_pop(q)), 2);
    assert_int_equal(NUM(queue_pop(q)), 3);
    queue_free(q, NULL);
}

/* The ring starts small and grows as items and reservations fill it, with its head wrapped,
 * keeping the order, up to the bound and no further; reservations taken across a growth are
 * always filled. */
static void test_ring_grows_up_to_the_bound_in_order(void **state)
{
    (void)state;
    enum { BOUND = 1000 };
    struct queue *q = queue_new(BOUND);
    uintptr_t next_in = 1, next_out = 1;
    for (int i = 0; i < 40; i++)
        assert_int_equal(queue_push(q, ITEM(next_in++)), 0);
    for (int i = 0; i < 30; i++)                       /* the head moves: later growths wrap */
        assert_int_equal(NUM(queue_pop(q)), next_out++);
    while (queue_length(q) + 2 < BOUND) {
        assert_int_equal(queue_reserve(q), 0);
        assert_int_equal(queue_push(q, ITEM(next_in++)), 0);
        queue_push_reserved(q, ITEM(next_in++));
    }
    while (queue_length(q) < BOUND)
        assert_int_equal(queue_push(q, ITEM(next_in++)), 0);
    assert_int_equal(queue_push(q, ITEM(next_in)), -1);
    assert_int_equal(queue_reserve(q), -1);
    assert_int_equal(queue_capacity(q), BOUND);
    while (queue_length(q) > 0)
        assert_int_equal(NUM(queue_pop(q)), next_out++);
    assert_int_equal(next_out, next_in);
    queue_free(q, NULL);
}

/* Recovery pushes every stored job even past the bound (JOB_QUEUE_MAX may have been lowered since
 * they were accepted): the ring grows, order is kept across its wrap, and new pushes and
 * reservations are refused until the queue is back under the bound. */
static void test_push_beyond_the_bound_for_recovery(void **state)
{
    (void)state;
    struct queue *q = queue_new(3);
    assert_int_equal(queue_push(q, ITEM(1)), 0);
    assert_int_equal(queue_push(q, ITEM(2)), 0);
    assert_int_equal(NUM(queue_pop(q)), 1);             /* head moves: the ring wraps below */
    for (uintptr_t i = 3; i <= 9; i++)
        assert_int_equal(queue_push_beyond(q, ITEM(i)), 0);
    assert_int_equal(queue_length(q), 8);
    assert_int_equal(queue_capacity(q), 3);
    assert_int_equal(queue_push(q, ITEM(99)), -1);
    assert_int_equal(queue_reserve(q), -1);
    for (uintptr_t i = 2; i <= 7; i++)
        assert_int_equal(NUM(queue_pop(q)), i);
    assert_int_equal(queue_push(q, ITEM(10)), 0);       /* 2 left: under the bound again */
    assert_int_equal(queue_push(q, ITEM(11)), -1);
    for (uintptr_t i = 8; i <= 10; i++)
        assert_int_equal(NUM(queue_pop(q)), i);
    queue_close(q);
    assert_int_equal(queue_push_beyond(q, ITEM(12)), -1);
    queue_free(q, NULL);
}

static void test_reservations_take_room(void **state)
{
    (void)state;
    struct queue *q = queue_new(3);
    assert_int_equal(queue_reserve(q), 0);
    assert_int_equal(queue_reserve(q), 0);
    assert_int_equal(queue_length(q), 2);
    assert_int_equal(queue_push(q, ITEM(10)), 0);
    assert_int_equal(queue_length(q), 3);
    assert_int_equal(queue_push(q, ITEM(11)), -1);     /* two reserved + one item = full */
    assert_int_equal(queue_reserve(q), -1);

    queue_unreserve(q);
    assert_int_equal(queue_length(q), 2);
    assert_int_equal(queue_reserve(q), 0);
    queue_push_reserved(q, ITEM(20));
    queue_push_reserved(q, ITEM(21));
    assert_int_equal(queue_length(q), 3);
    assert_int_equal(queue_push(q, ITEM(12)), -1);

    assert_int_equal(NUM(queue_pop(q)), 10);   /* order of filling, not of reserving */
    assert_int_equal(NUM(queue_pop(q)), 20);
    assert_int_equal(NUM(queue_pop(q)), 21);
    assert_int_equal(queue_length(q), 0);
    queue_free(q, NULL);
}

static void test_close_drains_then_returns_null(void **state)
{
    (void)state;
    struct queue *q = queue_new(4);
    assert_int_equal(queue_push(q, ITEM(1)), 0);
    assert_int_equal(queue_push(q, ITEM(2)), 0);
    queue_close(q);
    assert_int_equal(queue_push(q, ITEM(3)), -1);
    assert_int_equal(queue_reserve(q), -1);
    assert_int_equal(NUM(queue_pop(q)), 1);
    assert_int_equal(NUM(queue_pop(q)), 2);
    assert_null(queue_pop(q));
    assert_null(queue_pop(q));
    queue_free(q, NULL);
}

static void test_reservation_survives_close(void **state)
{
    (void)state;
    struct queue *q = queue_new(2);
    assert_int_equal(queue_reserve(q), 0);
    queue_close(q);
    queue_push_reserved(q, ITEM(5));
    assert_int_equal(NUM(queue_pop(q)), 5);
    assert_null(queue_pop(q));
    queue_free(q, NULL);
}

static int dropped_sum;

static void count_drop(void *item)
{
    dropped_sum += (int)NUM(item);
}

static void test_free_drops_remaining_items(void **state)
{
    (void)state;
    struct queue *q = queue_new(4);
    assert_int_equal(queue_push(q, ITEM(1)), 0);
    assert_int_equal(queue_push(q, ITEM(2)), 0);
    assert_int_equal(queue_push(q, ITEM(4)), 0);
    assert_int_equal(NUM(queue_pop(q)), 1);
    dropped_sum = 0;
    queue_free(q, count_drop);
    assert_int_equal(dropped_sum, 6);

    q = queue_new(2);
    void *owned = malloc(16);
    assert_int_equal(queue_push(q, owned), 0);
    queue_free(q, free);        /* leak checkers confirm the item was freed */
}

struct blocked_consumer {
    struct queue *q;
    atomic_bool returned;
    void *item;
};

static void *pop_once(void *arg)
{
    struct blocked_consumer *c = arg;
    c->item = queue_pop(c->q);
    atomic_store(&c->returned, true);
    return NULL;
}

static void test_close_wakes_blocked_consumer(void **state)
{
    (void)state;
    struct queue *q = queue_new(2);
    struct blocked_consumer c = { .q = q, .item = ITEM(99) };
    atomic_init(&c.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pop_once, &c), 0);
    sleep_ms(100);
    assert_false(atomic_load(&c.returned));       /* still waiting on an empty queue */
    queue_close(q);
    pthread_join(t, NULL);
    assert_true(atomic_load(&c.returned));
    assert_null(c.item);
    queue_free(q, NULL);
}

static void test_push_wakes_blocked_consumer(void **state)
{
    (void)state;
    struct queue *q = queue_new(2);
    struct blocked_consumer c = { .q = q };
    atomic_init(&c.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pop_once, &c), 0);
    sleep_ms(50);
    assert_int_equal(queue_push(q, ITEM(42)), 0);
    pthread_join(t, NULL);
    assert_int_equal(NUM(c.item), 42);
    queue_free(q, NULL);
}

/* ---- many producers, many consumers ------------------------------------------------------ */

#define PRODUCERS 4
#define CONSUMERS 3
#define PER_PRODUCER 5000
#define ENCODE(p, i) ((uintptr_t)(p) * PER_PRODUCER + (uintptr_t)(i) + 1)

struct producer {
    struct queue *q;
    int id;
    bool use_reserve;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        void *item = ITEM(ENCODE(p->id, i));
        if (p->use_reserve) {
            while (queue_reserve(p->q) != 0)
                sched_yield();
            queue_push_reserved(p->q, item);
        } else {
            while (queue_push(p->q, item) != 0)
                sched_yield();
        }
    }
    return NULL;
}

struct consumer {
    struct queue *q;
    atomic_int *seen;           /* PRODUCERS * PER_PRODUCER counters, shared */
    int last_from[PRODUCERS];   /* last index seen from each producer, in this consumer */
    bool in_order;
    size_t taken;
};

static void *consume(void *arg)
{
    struct consumer *c = arg;
    c->in_order = true;
    for (int p = 0; p < PRODUCERS; p++)
        c->last_from[p] = -1;
    void *item;
    while ((item = queue_pop(c->q)) != NULL) {
        uintptr_t code = NUM(item) - 1;
        int p = (int)(code / PER_PRODUCER), i = (int)(code % PER_PRODUCER);
        atomic_fetch_add(&c->seen[code], 1);
        if (i <= c->last_from[p])
            c->in_order = false;
        c->last_from[p] = i;
        c->taken++;
    }
    return NULL;
}

static void test_many_producers_many_consumers(void **state)
{
    (void)state;
    struct queue *q = queue_new(64);
    atomic_int *seen = calloc(PRODUCERS * PER_PRODUCER, sizeof *seen);
    assert_non_null(seen);
    struct producer producers[PRODUCERS];
    struct consumer consumers[CONSUMERS] = { 0 };
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        consumers[i].q = q;
        consumers[i].seen = seen;
        assert_int_equal(pthread_create(&ct[i], NULL, consume, &consumers[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        producers[i] = (struct producer){ .q = q, .id = i, .use_reserve = i % 2 == 1 };
        assert_int_equal(pthread_create(&pt[i], NULL, produce, &producers[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    queue_close(q);
    size_t taken = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_join(ct[i], NULL);
        taken += consumers[i].taken;
        assert_true(consumers[i].in_order);     /* FIFO: one producer's items never reorder */
    }
    assert_int_equal(taken, PRODUCERS * PER_PRODUCER);
    for (int k = 0; k < PRODUCERS * PER_PRODUCER; k++)
        assert_int_equal(atomic_load(&seen[k]), 1);
    assert_int_equal(queue_length(q), 0);
    free(seen);
    queue_free(q, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_zero_capacity),
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test(test_fifo_across_wraparound),
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_ring_grows_up_to_the_bound_in_order),
        cmocka_unit_test(test_push_beyond_the_bound_for_recovery),
        cmocka_unit_test(test_reservations_take_room),
        cmocka_unit_test(test_close_drains_then_returns_null),
        cmocka_unit_test(test_reservation_survives_close),
        cmocka_unit_test(test_free_drops_remaining_items),
        cmocka_unit_test(test_close_wakes_blocked_consumer),
        cmocka_unit_test(test_push_wakes_blocked_consumer),
        cmocka_unit_test(test_many_producers_many_consumers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
