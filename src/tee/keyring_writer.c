/* keyring_writer.c - the thread that adds keys to the ring, in the order they were handed over.
 *
 * Additions (key copy, callback) go through a FIFO (jobs/queue.h, the job server's); the thread
 * takes the oldest, runs keyring_add (queuing never waits for a write), wipes the key and calls
 * back. The FIFO sets no bound of its own: each entry is a suspended /setkey connection, so
 * HTTP_MAX_CONNECTIONS bounds it. Stopping closes it: the thread empties it, then ends. */
#include "tee/keyring_writer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/queue.h"
#include "tee/keyring.h"
#include "util/crypto.h"

struct addition {
    uint8_t key[SEAL_KEY_LEN];
    keyring_added_fn done;
    void *ctx;
};

struct keyring_writer {
    struct keyring *ring;
    struct queue *additions;    /* oldest first */
    pthread_t thread;
};

static void *writer_main(void *arg)
{
    struct keyring_writer *w = arg;
    struct addition *a;
    pthread_setname_np(pthread_self(), "tw-keyring");
    while ((a = queue_pop(w->additions)) != NULL) {
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
    if (w)
        w->additions = queue_new(SIZE_MAX);
    if (!w || !w->additions) {
        snprintf(err, errlen, "out of memory");
        free(w);
        return NULL;
    }
    w->ring = ring;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the key ring writer thread");
        queue_free(w->additions, NULL);
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
    if (queue_push(w->additions, a) == 0)
        return 0;
    crypto_wipe(a->key, sizeof a->key);     /* stopped (or out of memory growing the FIFO) */
    free(a);
    return -1;
}

void keyring_writer_stop(struct keyring_writer *w)
{
    if (!w)
        return;
    queue_close(w->additions);      /* pops drain what is queued, then end the thread */
    pthread_join(w->thread, NULL);
    queue_free(w->additions, NULL); /* empty: the thread popped until the end */
    free(w);
}
