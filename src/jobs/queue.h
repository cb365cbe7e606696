/* queue.h - the bounded FIFO between /job/add and the worker threads.
 *
 * A ring buffer of opaque pointers bounded by a capacity (JOB_QUEUE_MAX), allocated as the queue
 * grows. Producers never block:
 * queue_push fails when the queue is full, and the HTTP layer answers 503. Consumers block in
 * queue_pop until an item arrives or the queue is closed. One mutex, two condition-free paths. */
#ifndef TW_QUEUE_H
#define TW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct queue;

/* queue_new returns a queue of the given capacity (>= 1), or NULL on OOM. */
struct queue *queue_new(size_t capacity);

/* queue_free frees the queue; items still inside are passed to drop (may be NULL). */
void queue_free(struct queue *q, void (*drop)(void *item));

/* queue_push appends item. Returns 0, or -1 when the queue is full or closed (or out of memory
 * growing the ring). */
int queue_push(struct queue *q, void *item);

/* queue_push_beyond appends item even when the queue is at its bound, growing it (start-up
 * recovery: the stored jobs were all accepted, maybe under a larger JOB_QUEUE_MAX). Returns 0, or
 * -1 when the queue is closed or out of memory. queue_push and queue_reserve keep refusing until
 * the queue is back under its bound. */
int queue_push_beyond(struct queue *q, void *item);

/* queue_reserve/queue_push_reserved: take a slot first (so the caller can do work that must only
 * happen when there is room, such as recording a nonce), then fill it. queue_reserve returns 0 or -1
 * when full/closed (or out of memory growing the ring); a reservation must be followed by exactly one queue_push_reserved or
 * queue_unreserve. */
int queue_reserve(struct queue *q);
void queue_push_reserved(struct queue *q, void *item);
void queue_unreserve(struct queue *q);

/* queue_pop blocks until an item is available (returns it) or the queue is closed and empty
 * (returns NULL). */
void *queue_pop(struct queue *q);

/* queue_close wakes every waiting consumer; later pushes fail; pops drain what is left. */
void queue_close(struct queue *q);

/* Current number of items (reservations included) and the capacity. */
size_t queue_length(struct queue *q);
size_t queue_capacity(const struct queue *q);

#endif
