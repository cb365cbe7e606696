/* queue.c - the bounded FIFO between /job/add and the worker threads (see queue.h).
 *
 * A ring buffer of `capacity` pointers: `head` is the slot of the oldest item and `count` items
 * follow it, wrapping at the end of the array. The ring starts small (RING_START slots) and
 * doubles, up to the bound, only when items and reservations fill it, so its memory follows the
 * longest queue seen, not JOB_QUEUE_MAX (up to 10M: 80 MB allocated and zeroed at start-up
 * before). A reservation is a promise of one slot: `reserved` counts them, the room test is
 * count + reserved < bound, and the ring is grown when the reservation is taken, so a reserved
 * slot can always be filled without failing. queue_push_beyond grows the ring past the bound.
 * Producers never wait; consumers wait on one condition variable that is
 * signalled (after unlocking) for each new item and broadcast on close. After close, pushes and
 * reservations fail while pops keep draining; an item pushed on a reservation taken before the
 * close still goes in (the caller cannot fail at that point) and is either popped or handed to
 * queue_free's drop. */
#include "jobs/queue.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#define RING_START 64

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    void **slots;
    size_t capacity;    /* slots in the ring */
    size_t bound;       /* items (with reservations) that queue_push and queue_reserve allow */
    size_t head;        /* index of the oldest item */
    size_t count;       /* items in the ring */
    size_t reserved;    /* slots promised to queue_reserve callers */
    bool closed;
};

struct queue *queue_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->capacity = capacity < RING_START ? capacity : RING_START;
    q->slots = calloc(q->capacity, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return NULL;
    }
    q->bound = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    return q;
}

static void *take_oldest(struct queue *q)
{
    void *item = q->slots[q->head];
    q->slots[q->head] = NULL;
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    return item;
}

/* append stores item; the caller signals not_empty after unlocking (see wake_one). */
static void append(struct queue *q, void *item)
{
    q->slots[(q->head + q->count) % q->capacity] = item;
    q->count++;
}

/* wake_one wakes a consumer for an item just appended. Called after the lock is released: a
 * consumer woken while the producer still holds the lock would block on it at once (a futex wait
 * and a second wake-up per item). The queue outlives every producer and consumer, so the condition
 * variable is still there. */
static void wake_one(struct queue *q)
{
    pthread_cond_signal(&q->not_empty);
}

static bool has_room(const struct queue *q)
{
    return !q->closed && q->count + q->reserved < q->bound;
}

void queue_free(struct queue *q, void (*drop)(void *item))
{
    if (!q)
        return;
    while (q->count > 0) {
        void *item = take_oldest(q);
        if (drop)
            drop(item);
    }
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    free(q);
}

/* grow doubles the ring (within the bound, unless beyond), the items moved to its start in
 * order. Returns 0 or -1 (out of memory). */
static int grow(struct queue *q, bool beyond)
{
    size_t capacity = q->capacity * 2;
    if (!beyond && capacity > q->bound)
        capacity = q->bound;
    void **slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < q->count; i++)
        slots[i] = q->slots[(q->head + i) % q->capacity];
    free(q->slots);
    q->slots = slots;
    q->capacity = capacity;
    q->head = 0;
    return 0;
}

/* ring_has_slot makes sure the ring holds one more item than it and its reservations do, growing
 * it if needed. Returns false only when out of memory. */
static bool ring_has_slot(struct queue *q, bool beyond)
{
    return q->count + q->reserved < q->capacity || grow(q, beyond) == 0;
}

/* push appends item if there is room under the bound, or, with beyond, in the ring (grown when
 * full). Returns 0 or -1. */
static int push(struct queue *q, void *item, bool beyond)
{
    pthread_mutex_lock(&q->lock);
    bool ok = (beyond ? !q->closed : has_room(q)) && ring_has_slot(q, beyond);
    if (ok)
        append(q, item);
    pthread_mutex_unlock(&q->lock);
    if (ok)
        wake_one(q);
    return ok ? 0 : -1;
}

int queue_push(struct queue *q, void *item)
{
    return push(q, item, false);
}

int queue_push_beyond(struct queue *q, void *item)
{
    return push(q, item, true);
}

int queue_reserve(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool ok = has_room(q) && ring_has_slot(q, false);
    if (ok)
        q->reserved++;
    pthread_mutex_unlock(&q->lock);
    return ok ? 0 : -1;
}

void queue_push_reserved(struct queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    assert(q->reserved > 0 && "queue_push_reserved without a reservation");
    if (q->reserved > 0)
        q->reserved--;
    append(q, item);
    pthread_mutex_unlock(&q->lock);
    wake_one(q);
}

void queue_unreserve(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    assert(q->reserved > 0 && "queue_unreserve without a reservation");
    if (q->reserved > 0)
        q->reserved--;
    pthread_mutex_unlock(&q->lock);
}

void *queue_pop(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    void *item = q->count > 0 ? take_oldest(q) : NULL;
    pthread_mutex_unlock(&q->lock);
    return item;
}

void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

size_t queue_length(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count + q->reserved;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t queue_capacity(const struct queue *q)
{
    return q->bound;
}
