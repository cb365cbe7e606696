/* replay.h - the nonces (job quotes) this worker has admitted, kept until they expire.
 *
 * A signature may be admitted once. Each admitted quote is remembered until expires_at (Unix
 * seconds: issued_at + JOB_SIGNATURE_MAX_AGE_SECONDS, or first sight + max age when the job carries
 * no issued_at), then forgotten: a signature that old is refused by its age anyway, so memory stays
 * bounded by the admission rate times the max age. Entries are 16-byte truncated SHA-256 digests of
 * the quote, not the quote. Open addressing, one mutex. */
#ifndef TW_REPLAY_H
#define TW_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct replay;

/* replay_new: now_fn as in results_new (NULL = time(NULL)). */
struct replay *replay_new(time_t (*now_fn)(void));
void replay_free(struct replay *rp);

/* replay_seen is true when quote was admitted and has not expired. */
bool replay_seen(struct replay *rp, const char *quote, size_t len);

/* replay_record remembers quote until expires_at. Returns 1 when recorded, 0 when it was already
 * present (not expired), -1 on OOM. Expired entries are pruned as the table grows. */
int replay_record(struct replay *rp, const char *quote, size_t len, time_t expires_at);

/* replay_forget drops quote (admission rolled back). */
void replay_forget(struct replay *rp, const char *quote, size_t len);

/* replay_prune drops every expired entry; returns how many. */
size_t replay_prune(struct replay *rp);

/* Number of live entries (a scan of the table: for metrics and tests, not for every request). */
size_t replay_count(struct replay *rp);

/* Bytes held by the table's slots (about 24..30 per live entry), for metrics and tests. */
size_t replay_table_bytes(struct replay *rp);

#endif
