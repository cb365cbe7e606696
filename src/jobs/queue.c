/* queue.c - the bounded FIFO between /job/add and the worker threads (see queue.h).
 *
 * A ring buffer of `capacity` pointers: `head` is the slot of the oldest item and `count` items
 * follow it, wrapping at the end of the array. A reservation is a promise of one slot: `reserved`
 * counts them, and the room test is count + reserved < bound, so a reserved slot can always be
 * filled without failing. The ring is `bound` slots, except after queue_push_beyond grew it. Producers never wait; consumers wait on one condition variable that is
 * signalled (after unlocking) for each new item and broadcast on close. After close, pushes and
 * reservations fail while pops keep draining; an item pushed on a reservation taken before the
 * close still goes in (the caller cannot fail at that point) and is either popped or handed to
 * queue_free's drop. */
#include "jobs/queue.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

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
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return NULL;
    }
    q->capacity = capacity;
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

/* grow doubles the ring, the items moved to its start in order. Returns 0 or -1 (out of memory). */
static int grow(struct queue *q)
{
    size_t capacity = q->capacity * 2;
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

/* push appends item if there is room under the bound, or, with beyond, in the ring (grown when
 * full). Returns 0 or -1. */
static int push(struct queue *q, void *item, bool beyond)
{
    pthread_mutex_lock(&q->lock);
    bool ok = beyond ? !q->closed && (q->count + q->reserved < q->capacity || grow(q) == 0)
                     : has_room(q);
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
    bool ok = has_room(q);
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
