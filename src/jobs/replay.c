/* replay.c - the set of admitted quotes, each kept until it expires (see replay.h).
 *
 * An entry is 20 bytes: the first 16 bytes of SHA-256(quote) and a 32-bit expiry in Unix seconds
 * (enough until 2106); expiry 0 marks an empty slot. The slots form one open-addressing table with
 * linear probing in Robin Hood order: an entry never sits further from its home slot than the
 * entry it passed, so a lookup of an absent digest stops as soon as it meets an entry closer to
 * home than itself, and deletion shifts the following run one slot back (no tombstones).
 *
 * The home slot is a keyed mix of the digest (a per-table random seed) mapped onto the capacity
 * by multiply-and-shift, so the capacity need not be a power of two and quotes cannot be chosen
 * to pile onto one run. When an insert would push the load past 85%, the table is rebuilt with
 * only its live entries at 1.5 times their number: that prunes what expired and sizes the table
 * to what is left, growing or shrinking, so memory follows the live entries (about 20 / 0.67..0.85
 * = 24..30 bytes each; 100k live nonces take 2.4..3 MB). Between two rebuilds at least a quarter
 * of the live count is inserted, so the rebuild cost is amortised O(1) per insert.
 *
 * An entry is live while now <= expires_at. Expired entries still occupy slots until a rebuild or
 * replay_prune removes them; they read as absent meanwhile. One mutex guards everything. */
#include "jobs/replay.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_BYTES 16
#define MIN_SLOTS 64
#define MAX_LOAD_PERCENT 85

struct replay_slot {
    uint8_t digest[DIGEST_BYTES];
    uint32_t expires;           /* Unix seconds; 0 = empty slot */
};

struct replay {
    pthread_mutex_t lock;
    struct replay_slot *slots;
    size_t slot_count;
    size_t held;                /* occupied slots, expired ones included */
    uint64_t seed;
    time_t (*now_fn)(void);
};

#define NOT_FOUND SIZE_MAX

/* ---- digests and positions --------------------------------------------------------------- */

static void digest_of(const char *quote, size_t len, uint8_t out[DIGEST_BYTES])
{
    uint8_t full[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)quote, len, full);
    memcpy(out, full, DIGEST_BYTES);
}

/* mix64 is a 64-bit finaliser: every input bit flips about half the output bits. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static size_t home_slot(const struct replay *rp, const uint8_t digest[DIGEST_BYTES],
                        size_t slot_count)
{
    uint64_t a, b;
    memcpy(&a, digest, 8);
    memcpy(&b, digest + 8, 8);
    uint64_t h = mix64(a ^ rp->seed) ^ b;
    return (size_t)(((unsigned __int128)mix64(h) * slot_count) >> 64);
}

static size_t next_slot(size_t i, size_t slot_count)
{
    return i + 1 == slot_count ? 0 : i + 1;
}

/* distance_from_home: how many slots past its home the entry in slot i sits. */
static size_t distance_from_home(const struct replay *rp, size_t i)
{
    size_t home = home_slot(rp, rp->slots[i].digest, rp->slot_count);
    return i >= home ? i - home : i + rp->slot_count - home;
}

static bool slot_empty(const struct replay_slot *s)
{
    return s->expires == 0;
}

static bool slot_live(const struct replay_slot *s, time_t now)
{
    return !slot_empty(s) && (int64_t)now <= (int64_t)s->expires;
}

static time_t now(const struct replay *rp)
{
    return rp->now_fn ? rp->now_fn() : time(NULL);
}

/* ---- table operations -------------------------------------------------------------------- */

static size_t find_slot(const struct replay *rp, const uint8_t digest[DIGEST_BYTES])
{
    size_t i = home_slot(rp, digest, rp->slot_count);
    for (size_t distance = 0;; distance++, i = next_slot(i, rp->slot_count)) {
        const struct replay_slot *s = &rp->slots[i];
        if (slot_empty(s) || distance_from_home(rp, i) < distance)
            return NOT_FOUND;
        if (memcmp(s->digest, digest, DIGEST_BYTES) == 0)
            return i;
    }
}

/* place puts an absent entry into slots (slot_count of them, at least one empty), displacing
 * entries closer to their home than the carried one. */
static void place(const struct replay *rp, struct replay_slot *slots, size_t slot_count,
                  struct replay_slot carried)
{
    size_t i = home_slot(rp, carried.digest, slot_count);
    size_t distance = 0;
    for (;;) {
        struct replay_slot *s = &slots[i];
        if (slot_empty(s)) {
            *s = carried;
            return;
        }
        size_t home = home_slot(rp, s->digest, slot_count);
        size_t resident = i >= home ? i - home : i + slot_count - home;
        if (resident < distance) {
            struct replay_slot swap = *s;
            *s = carried;
            carried = swap;
            distance = resident;
        }
        i = next_slot(i, slot_count);
        distance++;
    }
}

/* remove_at empties slot i and shifts the run after it back by one. */
static void remove_at(struct replay *rp, size_t i)
{
    size_t j = next_slot(i, rp->slot_count);
    while (!slot_empty(&rp->slots[j]) && distance_from_home(rp, j) > 0) {
        rp->slots[i] = rp->slots[j];
        i = j;
        j = next_slot(j, rp->slot_count);
    }
    memset(&rp->slots[i], 0, sizeof rp->slots[i]);
    rp->held--;
}

static size_t count_live(const struct replay *rp, time_t t)
{
    size_t live = 0;
    for (size_t i = 0; i < rp->slot_count; i++)
        live += slot_live(&rp->slots[i], t);
    return live;
}

/* rebuild moves the live entries into a new table sized for live_hint + 1 of them. */
static int rebuild(struct replay *rp, size_t live_hint, time_t t)
{
    size_t slot_count = (live_hint + 1) * 3 / 2;
    if (slot_count < MIN_SLOTS)
        slot_count = MIN_SLOTS;
    struct replay_slot *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return -1;
    size_t held = 0;
    for (size_t i = 0; i < rp->slot_count; i++) {
        if (slot_live(&rp->slots[i], t)) {
            place(rp, slots, slot_count, rp->slots[i]);
            held++;
        }
    }
    free(rp->slots);
    rp->slots = slots;
    rp->slot_count = slot_count;
    rp->held = held;
    return 0;
}

/* prune_in_place drops expired entries without allocating; returns how many. A removal shifts
 * later entries into slot i, so i is examined again before moving on. */
static size_t prune_in_place(struct replay *rp, time_t t)
{
    size_t dropped = 0;
    for (size_t i = 0; i < rp->slot_count;) {
        const struct replay_slot *s = &rp->slots[i];
        if (!slot_empty(s) && !slot_live(s, t)) {
            remove_at(rp, i);
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

static bool under_max_load(const struct replay *rp, size_t entries)
{
    return entries * 100 <= rp->slot_count * MAX_LOAD_PERCENT;
}

/* make_room_for_one rebuilds when one more entry would pass the load limit. Without memory for a
 * rebuild it prunes in place and accepts a fuller table as long as one slot stays empty. */
static int make_room_for_one(struct replay *rp, time_t t)
{
    if (under_max_load(rp, rp->held + 1))
        return 0;
    if (rebuild(rp, count_live(rp, t), t) == 0)
        return 0;
    prune_in_place(rp, t);
    return rp->held + 1 < rp->slot_count ? 0 : -1;
}

/* ---- public API -------------------------------------------------------------------------- */

struct replay *replay_new(time_t (*now_fn)(void))
{
    struct replay *rp = calloc(1, sizeof *rp);
    if (!rp)
        return NULL;
    rp->slots = calloc(MIN_SLOTS, sizeof *rp->slots);
    if (!rp->slots || RAND_bytes((unsigned char *)&rp->seed, sizeof rp->seed) != 1) {
        free(rp->slots);
        free(rp);
        return NULL;
    }
    rp->slot_count = MIN_SLOTS;
    rp->now_fn = now_fn;
    pthread_mutex_init(&rp->lock, NULL);
    return rp;
}

void replay_free(struct replay *rp)
{
    if (!rp)
        return;
    pthread_mutex_destroy(&rp->lock);
    free(rp->slots);
    free(rp);
}

bool replay_seen(struct replay *rp, const char *quote, size_t len)
{
    uint8_t digest[DIGEST_BYTES];
    digest_of(quote, len, digest);
    pthread_mutex_lock(&rp->lock);
    size_t i = find_slot(rp, digest);
    bool seen = i != NOT_FOUND && slot_live(&rp->slots[i], now(rp));
    pthread_mutex_unlock(&rp->lock);
    return seen;
}

static uint32_t clamp_expiry(time_t expires_at)
{
    if (expires_at < 1)
        return 1;
    if ((uint64_t)expires_at > UINT32_MAX)
        return UINT32_MAX;
    return (uint32_t)expires_at;
}

/* record_locked: see replay_record. An expiry already in the past needs no memory: the quote
 * would read as absent at once, so nothing is stored and 1 is returned. */
static int record_locked(struct replay *rp, const uint8_t digest[DIGEST_BYTES], time_t expires_at)
{
    time_t t = now(rp);
    size_t i = find_slot(rp, digest);
    if (i != NOT_FOUND) {
        if (slot_live(&rp->slots[i], t))
            return 0;
        rp->slots[i].expires = clamp_expiry(expires_at);
        return 1;
    }
    if (expires_at < t)
        return 1;
    if (make_room_for_one(rp, t) < 0)
        return -1;
    struct replay_slot entry = { .expires = clamp_expiry(expires_at) };
    memcpy(entry.digest, digest, DIGEST_BYTES);
    place(rp, rp->slots, rp->slot_count, entry);
    rp->held++;
    return 1;
}

int replay_record(struct replay *rp, const char *quote, size_t len, time_t expires_at)
{
    uint8_t digest[DIGEST_BYTES];
    digest_of(quote, len, digest);
    pthread_mutex_lock(&rp->lock);
    int rc = record_locked(rp, digest, expires_at);
    pthread_mutex_unlock(&rp->lock);
    return rc;
}

void replay_forget(struct replay *rp, const char *quote, size_t len)
{
    uint8_t digest[DIGEST_BYTES];
    digest_of(quote, len, digest);
    pthread_mutex_lock(&rp->lock);
    size_t i = find_slot(rp, digest);
    if (i != NOT_FOUND)
        remove_at(rp, i);
    pthread_mutex_unlock(&rp->lock);
}

/* replay_prune also shrinks a table left mostly empty (when memory allows). */
size_t replay_prune(struct replay *rp)
{
    pthread_mutex_lock(&rp->lock);
    time_t t = now(rp);
    size_t dropped = prune_in_place(rp, t);
    if (rp->slot_count > MIN_SLOTS && rp->held * 4 < rp->slot_count)
        rebuild(rp, rp->held, t);
    pthread_mutex_unlock(&rp->lock);
    return dropped;
}

size_t replay_count(struct replay *rp)
{
    pthread_mutex_lock(&rp->lock);
    size_t live = count_live(rp, now(rp));
    pthread_mutex_unlock(&rp->lock);
    return live;
}

size_t replay_table_bytes(struct replay *rp)
{
    pthread_mutex_lock(&rp->lock);
    size_t bytes = rp->slot_count * sizeof(struct replay_slot);
    pthread_mutex_unlock(&rp->lock);
    return bytes;
}
