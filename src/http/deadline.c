/* deadline.c - request deadlines (see deadline.h): the table of open connections, what each is
 * waiting for and since when, and the once-a-second sweep that cuts the overdue ones. */
#include "http/deadline.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "util/clock_after.h"

/* What a connection is doing, as the sweep sees it. */
enum {
    DL_WAITING = 0,     /* waiting for (the rest of) a request: cut when overdue */
    DL_RECEIVED,        /* a request arrived whole and is being answered: never cut */
    DL_CUT,             /* cut by a sweep: its request is not served */
};

struct deadline_conn {
    struct deadline_conn *prev, *next;   /* the table's list, under its lock */
    int fd;
    unsigned long since;    /* atomic: tick the current request became due from */
    size_t body;            /* atomic: body bytes of the current request counted so far */
    int state;              /* atomic: DL_* */
};

struct deadline_table {
    unsigned long tick;     /* atomic: sweeps so far (about one a second) */
    unsigned limit_s;
    size_t body_rate;
    pthread_mutex_t lock;   /* guards the list; held across every shutdown(2) */
    struct deadline_conn *head;
    /* the sweeping thread */
    pthread_mutex_t run_lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
};

struct deadline_table *deadline_table_new(unsigned limit_s, size_t body_rate)
{
    struct deadline_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->limit_s = limit_s;
    t->body_rate = body_rate ? body_rate : 1;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->run_lock, NULL);
    /* ticks are measured on the monotonic clock: a wall-clock step must not hurry them */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    return t;
}

static void *sweeper_main(void *arg)
{
    struct deadline_table *t = arg;
    pthread_setname_np(pthread_self(), "tw-deadlines");
    pthread_mutex_lock(&t->run_lock);
    while (!t->stop) {
        struct timespec until = clock_after_ms(CLOCK_MONOTONIC, 1000);
        while (!t->stop && pthread_cond_timedwait(&t->wake, &t->run_lock, &until) == 0) {
        }
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->run_lock);
        size_t cut = deadline_sweep(t);
        if (cut)
            log_info("http: closed %zu connections whose request did not arrive whole in time "
                     "(HTTP_TIMEOUT_SECONDS)", cut);
        pthread_mutex_lock(&t->run_lock);
    }
    pthread_mutex_unlock(&t->run_lock);
    return NULL;
}

int deadline_table_run(struct deadline_table *t)
{
    if (pthread_create(&t->thread, NULL, sweeper_main, t) != 0)
        return -1;
    t->running = true;
    return 0;
}

void deadline_table_free(struct deadline_table *t)
{
    if (!t)
        return;
    if (t->running) {
        pthread_mutex_lock(&t->run_lock);
        t->stop = true;
        pthread_cond_signal(&t->wake);
        pthread_mutex_unlock(&t->run_lock);
        pthread_join(t->thread, NULL);
    }
    /* every connection was closed by now; free what an unexpected leftover would leak */
    for (struct deadline_conn *c = t->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->run_lock);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct deadline_conn *deadline_open(struct deadline_table *t, int fd)
{
    struct deadline_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->since = __atomic_load_n(&t->tick, __ATOMIC_RELAXED);
    c->state = DL_WAITING;
    pthread_mutex_lock(&t->lock);
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    pthread_mutex_unlock(&t->lock);
    return c;
}

void deadline_close(struct deadline_table *t, struct deadline_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
    free(c);
}

void deadline_body(struct deadline_conn *c, size_t total)
{
    __atomic_store_n(&c->body, total, __ATOMIC_RELAXED);
}

bool deadline_received(struct deadline_conn *c)
{
    /* an exchange, not a store: either the sweep's cut or this comes first, never both */
    if (__atomic_exchange_n(&c->state, DL_RECEIVED, __ATOMIC_ACQ_REL) != DL_CUT)
        return true;
    __atomic_store_n(&c->state, DL_CUT, __ATOMIC_RELAXED);   /* stays cut (sweeps skip it) */
    return false;
}

void deadline_next(struct deadline_table *t, struct deadline_conn *c)
{
    if (__atomic_load_n(&c->state, __ATOMIC_RELAXED) == DL_CUT)
        return;     /* closing anyway */
    __atomic_store_n(&c->since, __atomic_load_n(&t->tick, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&c->body, 0, __ATOMIC_RELAXED);
    /* release: a sweep that sees DL_WAITING sees the new since and body */
    __atomic_store_n(&c->state, DL_WAITING, __ATOMIC_RELEASE);
}

/* overdue says whether a request due since tick `since`, with body bytes counted, is late at
 * tick now: limit_s ticks, plus one for every body_rate bytes, have passed. */
static bool overdue(const struct deadline_table *t, unsigned long now, unsigned long since,
                    size_t body)
{
    unsigned long elapsed = now - since;
    return elapsed > t->limit_s && elapsed - t->limit_s > body / t->body_rate;
}

size_t deadline_sweep(struct deadline_table *t)
{
    unsigned long now = __atomic_add_fetch(&t->tick, 1, __ATOMIC_RELAXED);
    size_t cut = 0;
    pthread_mutex_lock(&t->lock);
    for (struct deadline_conn *c = t->head; c; c = c->next) {
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != DL_WAITING)
            continue;
        unsigned long since = __atomic_load_n(&c->since, __ATOMIC_RELAXED);
        size_t body = __atomic_load_n(&c->body, __ATOMIC_RELAXED);
        if (!overdue(t, now, since, body))
            continue;
        int waiting = DL_WAITING;
        if (!__atomic_compare_exchange_n(&c->state, &waiting, DL_CUT, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;   /* received meanwhile */
        /* The descriptor is still open: deadline_close, which precedes its close, waits for the
         * lock held here. The server's next read on it fails and it closes the connection. */
        shutdown(c->fd, SHUT_RDWR);
        cut++;
    }
    pthread_mutex_unlock(&t->lock);
    return cut;
}
