/* keyring_writer.c - the thread that adds keys to the ring, in the order they were handed over.
 *
 * A queue of additions (key copy, callback) under one mutex; the thread takes the oldest, runs
 * keyring_add outside the mutex (so queuing never waits for a write), wipes the key and calls
 * back. The queue is bounded by its callers: each entry is a suspended /setkey connection, so
 * HTTP_MAX_CONNECTIONS bounds it. Stopping lets the thread empty the queue before it ends. */
#include "tee/keyring_writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/keyring.h"
#include "util/crypto.h"

struct addition {
    struct addition *next;
    uint8_t key[SEAL_KEY_LEN];
    keyring_added_fn done;
    void *ctx;
};

struct keyring_writer {
    struct keyring *ring;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct addition *head, *tail;   /* oldest first */
    bool stopping;
};

/* next_addition waits for an addition and takes it; NULL when stopping with none left. */
static struct addition *next_addition(struct keyring_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->wake, &w->lock);
    struct addition *a = w->head;
    if (a) {
        w->head = a->next;
        if (!w->head)
            w->tail = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    return a;
}

static void *writer_main(void *arg)
{
    struct keyring_writer *w = arg;
    struct addition *a;
    while ((a = next_addition(w)) != NULL) {
        struct err e = { 0 };
        int rc = keyring_add(w->ring, a->key, &e);
        crypto_wipe(a->key, sizeof a->key);
        a->done(a->ctx, rc, &e);
        free(a);
    }
    return NULL;
}

struct keyring_writer *keyring_writer_start(struct keyring *ring, char *err, size_t errlen)
{
    struct keyring_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->ring = ring;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the key ring writer thread");
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

int keyring_writer_add(struct keyring_writer *w, const uint8_t key[SEAL_KEY_LEN],
                       keyring_added_fn done, void *ctx)
{
    struct addition *a = w ? malloc(sizeof *a) : NULL;
    if (!a)
        return -1;
    *a = (struct addition){ .done = done, .ctx = ctx };
    memcpy(a->key, key, SEAL_KEY_LEN);
    pthread_mutex_lock(&w->lock);
    bool open = !w->stopping;
    if (open) {
        if (w->tail)
            w->tail->next = a;
        else
            w->head = a;
        w->tail = a;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    if (open)
        return 0;
    crypto_wipe(a->key, sizeof a->key);
    free(a);
    return -1;
}

void keyring_writer_stop(struct keyring_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
