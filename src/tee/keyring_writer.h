/* keyring_writer.h - additions to the key ring on a thread of their own.
 *
 * An addition persists the ring with a durable write; on a disk that does not answer that write
 * does not return. /setkey hands its key over here and answers when the addition is done (a
 * deferred HTTP answer), so the wait holds this thread and no HTTP thread. One thread takes the
 * additions in the order they were handed over, one at a time (keyring_add): the ring's order,
 * newest first, and the rule that a retired key re-sent is refused are those of the sequence. */
#ifndef TW_KEYRING_WRITER_H
#define TW_KEYRING_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tee/seal.h"

struct keyring;
struct keyring_writer;

/* What an addition gives: rc as keyring_add returns it (an enum keyring_add_result, or -1 with e
 * set). Runs on the writer's thread. */
typedef void (*keyring_added_fn)(void *ctx, int rc, const struct err *e);

/* keyring_writer_start starts the thread that adds keys to ring (ring must outlive the writer).
 * Returns NULL with err when the thread cannot be started. */
struct keyring_writer *keyring_writer_start(struct keyring *ring, char *err, size_t errlen);

/* keyring_writer_add queues key (copied) for addition; done(ctx, ...) runs once it is added or
 * refused. Returns 0, or -1 when nothing was queued (out of memory, w NULL or stopped): done is
 * then not called. */
int keyring_writer_add(struct keyring_writer *w, const uint8_t key[SEAL_KEY_LEN],
                       keyring_added_fn done, void *ctx);

/* keyring_writer_stop refuses new additions, lets the thread finish those queued (each waits for
 * its write: call it when nothing waits on a disk that does not answer, i.e. once every deferred
 * /setkey was answered), joins it and frees w. NULL: nothing. */
void keyring_writer_stop(struct keyring_writer *w);

#endif
