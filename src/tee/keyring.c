/* keyring.c - which key seals and which keys open (core-protocol.md 3.4, DECISIONS.md).
 *
 * The ring holds up to KEYRING_CAPACITY keys from the key distributor, newest first. Adding a key
 * already in the ring changes nothing (Go's behaviour: it is not moved to the front); a new key
 * goes to the front and pushes the oldest out. Unlike Go, a key pushed out is remembered as
 * retired (its SHA-256 only, the newest RETIRED_MAX of them) so that replaying an old /setkey
 * cannot make it the sealing key again. In standalone mode a local key derived from the platform
 * root key seals while the ring is empty and is tried last when opening.
 *
 * The ring survives restarts: every change is written to the secret store ("keyring"), sealed,
 * before it takes effect (a failed write leaves the ring as it was). File layout:
 *   "TWKR" | version (1) | key count | retired count | keys (32 bytes each, newest first)
 *   | retired digests (32 bytes each, oldest first)
 * The length must match the counts exactly; anything else is a malformed file and an error.
 *
 * One rwlock guards the state. Sealing and opening copy the keys they need under the read lock
 * and do the crypto outside it; keys are wiped from every copy when done. Additions are serialised
 * by a mutex of their own, held across the (durable, possibly slow) write; the write lock is taken
 * only to swap the new state in, so sealing and opening go on while a disk makes an addition
 * wait. */
#include "tee/keyring.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "tee/platform.h"
#include "util/b64.h"
#include "util/crypto.h"

#define KEYRING_FILE "keyring"
#define RETIRED_MAX 64
#define DIGEST_LEN CRYPTO_SHA256_LEN
#define RING_MAGIC "TWKR"
#define RING_VERSION 1
#define RING_HEADER_LEN 7
#define RING_FILE_MAX (RING_HEADER_LEN + KEYRING_CAPACITY * SEAL_KEY_LEN + RETIRED_MAX * DIGEST_LEN)
#define NO_KEYS "no keys available in key ring"
#define RING_PREFIX "failed to decrypt with any key in the ring: "

struct ring_state {
    uint8_t keys[KEYRING_CAPACITY][SEAL_KEY_LEN]; /* newest first */
    size_t nkeys;
    uint8_t retired[RETIRED_MAX][DIGEST_LEN];     /* SHA-256 of retired keys, oldest first */
    size_t nretired;
};

struct keyring {
    pthread_rwlock_t lock;          /* readers vs. the swap of state */
    pthread_mutex_t add_lock;       /* one addition at a time; state changes only under it */
    const struct platform *platform;
    struct secret_store secrets;    /* where the ring is persisted */
    struct ring_state state;
    bool has_local;
    uint8_t local_key[SEAL_KEY_LEN];
};

/* The keys to try when opening: ring keys newest first, then the local key. */
struct key_list {
    uint8_t keys[KEYRING_CAPACITY + 1][SEAL_KEY_LEN];
    size_t n;
};

/* ------------------------------------------------------------------------------------------ */
/* The file format                                                                              */

static size_t ring_encoded_len(const struct ring_state *s)
{
    return RING_HEADER_LEN + s->nkeys * SEAL_KEY_LEN + s->nretired * DIGEST_LEN;
}

static void ring_encode(const struct ring_state *s, uint8_t *out)
{
    memcpy(out, RING_MAGIC, 4);
    out[4] = RING_VERSION;
    out[5] = (uint8_t)s->nkeys;
    out[6] = (uint8_t)s->nretired;
    out += RING_HEADER_LEN;
    memcpy(out, s->keys, s->nkeys * SEAL_KEY_LEN);
    memcpy(out + s->nkeys * SEAL_KEY_LEN, s->retired, s->nretired * DIGEST_LEN);
}

static int ring_decode(const uint8_t *buf, size_t len, struct ring_state *s)
{
    memset(s, 0, sizeof *s);
    if (len < RING_HEADER_LEN || memcmp(buf, RING_MAGIC, 4) != 0 || buf[4] != RING_VERSION ||
        buf[5] > KEYRING_CAPACITY || buf[6] > RETIRED_MAX)
        return -1;
    s->nkeys = buf[5];
    s->nretired = buf[6];
    if (len != ring_encoded_len(s)) {
        memset(s, 0, sizeof *s);
        return -1;
    }
    buf += RING_HEADER_LEN;
    memcpy(s->keys, buf, s->nkeys * SEAL_KEY_LEN);
    memcpy(s->retired, buf + s->nkeys * SEAL_KEY_LEN, s->nretired * DIGEST_LEN);
    return 0;
}

/* load_ring fills s from the secret store, or leaves it empty when it holds no ring. */
static int load_ring(const struct secret_store *secrets, struct ring_state *s, char *err,
                     size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = secrets->get(secrets->ctx, KEYRING_FILE, PLATFORM_LABEL_KEYRING, &data, &len, err,
                          errlen);

    memset(s, 0, sizeof *s);
    if (rc <= 0)
        return rc;
    rc = ring_decode(data, len, s);
    if (rc != 0)
        snprintf(err, errlen, "%s: malformed key ring", KEYRING_FILE);
    crypto_wipe(data, len);
    free(data);
    return rc;
}

static int persist_ring(const struct secret_store *secrets, const struct ring_state *s,
                        struct err *e)
{
    uint8_t buf[RING_FILE_MAX];
    char msg[sizeof e->msg];
    size_t len = ring_encoded_len(s);
    int rc;

    ring_encode(s, buf);
    rc = secrets->put(secrets->ctx, KEYRING_FILE, PLATFORM_LABEL_KEYRING, buf, len, true, msg,
                      sizeof msg);
    crypto_wipe(buf, sizeof buf);
    if (rc != 0)
        return err_set(e, 500, "failed to persist the key ring: %s", msg);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Ring operations (callers hold the lock)                                                      */

static bool ring_contains(const struct ring_state *s, const uint8_t key[SEAL_KEY_LEN])
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (crypto_equal(s->keys[i], key, SEAL_KEY_LEN))
            return true;
    return false;
}

static bool ring_is_retired(const struct ring_state *s, const uint8_t key[SEAL_KEY_LEN])
{
    uint8_t digest[DIGEST_LEN];
    bool found = false;

    crypto_sha256(key, SEAL_KEY_LEN, digest);
    for (size_t i = 0; i < s->nretired; i++)
        if (crypto_equal(s->retired[i], digest, DIGEST_LEN))
            found = true;
    return found;
}

static void ring_retire(struct ring_state *s, const uint8_t key[SEAL_KEY_LEN])
{
    if (s->nretired == RETIRED_MAX) {
        memmove(s->retired[0], s->retired[1], (RETIRED_MAX - 1) * DIGEST_LEN);
        s->nretired--;
    }
    crypto_sha256(key, SEAL_KEY_LEN, s->retired[s->nretired++]);
}

static void ring_insert_front(struct ring_state *s, const uint8_t key[SEAL_KEY_LEN])
{
    if (s->nkeys == KEYRING_CAPACITY) {
        ring_retire(s, s->keys[KEYRING_CAPACITY - 1]);
        s->nkeys--;
    }
    memmove(s->keys[1], s->keys[0], s->nkeys * SEAL_KEY_LEN);
    memcpy(s->keys[0], key, SEAL_KEY_LEN);
    s->nkeys++;
}

/* ------------------------------------------------------------------------------------------ */
/* Public face                                                                                  */

struct keyring *keyring_open(const struct platform *p, bool with_local_key,
                             const struct secret_store *secrets, char *err, size_t errlen)
{
    struct keyring *kr = calloc(1, sizeof *kr);

    if (kr == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    kr->platform = p;
    kr->secrets = *secrets;
    if (load_ring(secrets, &kr->state, err, errlen) != 0) {
        free(kr);
        return NULL;
    }
    if (pthread_rwlock_init(&kr->lock, NULL) != 0) {
        snprintf(err, errlen, "cannot create the key ring lock");
        crypto_wipe(kr, sizeof *kr);
        free(kr);
        return NULL;
    }
    if (pthread_mutex_init(&kr->add_lock, NULL) != 0) {
        snprintf(err, errlen, "cannot create the key ring lock");
        pthread_rwlock_destroy(&kr->lock);
        crypto_wipe(kr, sizeof *kr);
        free(kr);
        return NULL;
    }
    if (with_local_key) {
        platform_derive(p, PLATFORM_LABEL_LOCAL_SEAL, kr->local_key);
        kr->has_local = true;
    }
    return kr;
}

static int fixed_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                     char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)data, (void)len, (void)err, (void)errlen;
    return 0;
}

static int fixed_put(void *ctx, const char *name, const char *label, const uint8_t *data,
                     size_t len, bool replace, char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)data, (void)len, (void)replace;
    snprintf(err, errlen, "the key ring is fixed by SEALING_KEYS_FILE");
    return -1;
}

struct keyring *keyring_open_fixed(const struct platform *p, const uint8_t (*keys)[SEAL_KEY_LEN],
                                   size_t n, char *err, size_t errlen)
{
    if (n == 0 || n > KEYRING_CAPACITY) {
        snprintf(err, errlen, "a fixed key ring holds 1 to %d keys", KEYRING_CAPACITY);
        return NULL;
    }
    struct secret_store none = { .get = fixed_get, .put = fixed_put, .ctx = NULL };
    struct keyring *kr = keyring_open(p, true, &none, err, errlen);
    if (!kr)
        return NULL;
    memcpy(kr->state.keys, keys, n * SEAL_KEY_LEN);
    kr->state.nkeys = n;
    return kr;
}

void keyring_free(struct keyring *kr)
{
    if (kr == NULL)
        return;
    pthread_rwlock_destroy(&kr->lock);
    pthread_mutex_destroy(&kr->add_lock);
    crypto_wipe(kr, sizeof *kr);
    free(kr);
}

int keyring_add(struct keyring *kr, const uint8_t key[SEAL_KEY_LEN], struct err *e)
{
    struct ring_state next;
    int rc = KEYRING_ADDED;

    /* state only changes under add_lock: reading it here needs no read lock */
    pthread_mutex_lock(&kr->add_lock);
    if (ring_contains(&kr->state, key)) {
        rc = KEYRING_PRESENT;
    } else if (ring_is_retired(&kr->state, key)) {
        rc = KEYRING_RETIRED;
    } else {
        next = kr->state;
        ring_insert_front(&next, key);
        if (persist_ring(&kr->secrets, &next, e) == 0) {    /* no lock readers wait on */
            pthread_rwlock_wrlock(&kr->lock);
            kr->state = next;
            pthread_rwlock_unlock(&kr->lock);
        } else {
            rc = -1;
        }
        crypto_wipe(&next, sizeof next);
    }
    pthread_mutex_unlock(&kr->add_lock);
    return rc;
}

size_t keyring_count(struct keyring *kr)
{
    size_t n;

    pthread_rwlock_rdlock(&kr->lock);
    n = kr->state.nkeys;
    pthread_rwlock_unlock(&kr->lock);
    return n;
}

/* sealing_key copies the key that seals now into out; false when there is none. */
static bool sealing_key(struct keyring *kr, uint8_t out[SEAL_KEY_LEN])
{
    bool found = true;

    pthread_rwlock_rdlock(&kr->lock);
    if (kr->state.nkeys > 0)
        memcpy(out, kr->state.keys[0], SEAL_KEY_LEN);
    else if (kr->has_local)
        memcpy(out, kr->local_key, SEAL_KEY_LEN);
    else
        found = false;
    pthread_rwlock_unlock(&kr->lock);
    return found;
}

char *keyring_seal(struct keyring *kr, const uint8_t *salt, size_t saltlen, const uint8_t *pt,
                   size_t ptlen, struct err *e)
{
    uint8_t key[SEAL_KEY_LEN];
    char *out;

    if (!sealing_key(kr, key)) {
        err_set(e, 500, NO_KEYS);
        return NULL;
    }
    out = seal_encrypt(key, salt, saltlen, pt, ptlen);
    crypto_wipe(key, sizeof key);
    if (out == NULL)
        err_set(e, 500, "failed to seal: out of memory or random generator failure");
    return out;
}

static void opening_keys(struct keyring *kr, struct key_list *kl)
{
    pthread_rwlock_rdlock(&kr->lock);
    memcpy(kl->keys, kr->state.keys, kr->state.nkeys * SEAL_KEY_LEN);
    kl->n = kr->state.nkeys;
    if (kr->has_local)
        memcpy(kl->keys[kl->n++], kr->local_key, SEAL_KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
}

/* appendf appends to buf[0..cap) at *pos, truncating silently when full. */
__attribute__((format(printf, 4, 5)))
static void appendf(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*pos >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = (size_t)n >= cap - *pos ? cap : *pos + (size_t)n;
}

/* try_keys opens x (IV || ct || tag, decoded once, xlen bytes at the start of buf) with each key
 * in turn and leaves the plaintext at the start of buf, NUL-terminated: keys before the last
 * decrypt into a separate buffer (x must stay intact for the next key) that is copied back on
 * success, the last one in place, so a ring of one key (the usual case) needs no memory beyond
 * buf. On failure writes Go's aggregated cause; a per-key error that does not depend on the key
 * (inner base64, length) is given as x_err and repeated for every key, as Go reports it. */
static int try_keys(const struct key_list *kl, const uint8_t *salt, size_t saltlen,
                    uint8_t *buf, size_t xlen, const char *x_err, size_t *ptlen, char *cause,
                    size_t causelen)
{
    char errs[KEYRING_CAPACITY + 1][96];
    size_t pos = 0;
    uint8_t *scratch = NULL;
    size_t ctlen = x_err ? 0 : xlen - 28;
    int rc = -1;

    for (size_t i = 0; i < kl->n && rc != 0; i++) {
        if (x_err) {
            snprintf(errs[i], sizeof errs[i], "%s", x_err);
            continue;
        }
        bool last = i + 1 == kl->n;
        if (!last && !scratch && !(scratch = malloc(ctlen + 1))) {
            snprintf(errs[i], sizeof errs[i], "out of memory");
            continue;
        }
        uint8_t *out = last ? buf + 12 : scratch;
        if (seal_open_x(kl->keys[i], salt, saltlen, buf, xlen, out, errs[i], sizeof errs[i]) != 0)
            continue;
        memmove(buf, out, ctlen);
        buf[ctlen] = '\0';
        *ptlen = ctlen;
        rc = 0;
    }
    if (scratch) {
        crypto_wipe(scratch, ctlen);
        free(scratch);
    }
    if (rc == 0)
        return 0;
    appendf(cause, causelen, &pos, RING_PREFIX "failed to decrypt with any key. Errors: ");
    for (size_t i = 0; i < kl->n; i++)
        appendf(cause, causelen, &pos, "%skey %zu: AES decrypt error: %s", i > 0 ? "; " : "",
                i + 1, errs[i]);
    return -1;
}

/* open_layers opens the envelope whose outer layer text[0..len) is decoded into buf (buf may be
 * text itself: decoding in place). The inner layer is then decoded in place in buf and the
 * ciphertext opened in place too. */
static int open_layers(struct keyring *kr, const uint8_t *salt, size_t saltlen, const char *text,
                       size_t len, uint8_t *buf, size_t *ptlen, char *cause, size_t causelen)
{
    struct key_list kl;
    size_t innerlen = 0, xlen = 0;
    char b64err[96];
    int rc = -1;

    opening_keys(kr, &kl);
    if (kl.n == 0) {
        snprintf(cause, causelen, NO_KEYS);
    } else if (b64_decode_into(text, len, buf, &innerlen, b64err, sizeof b64err) != 0) {
        snprintf(cause, causelen, RING_PREFIX "base64 decode error: %s", b64err);
    } else {
        bool x_ok = seal_inner_to_x(buf, innerlen, &xlen, b64err, sizeof b64err) == 0;
        rc = try_keys(&kl, salt, saltlen, buf, xlen, x_ok ? NULL : b64err, ptlen, cause,
                      causelen);
    }
    crypto_wipe(&kl, sizeof kl);
    return rc;
}

/* The outer layer is decoded into one new buffer, sized once, which ends up holding the plaintext. */
int keyring_open_sealed(struct keyring *kr, const uint8_t *salt, size_t saltlen, const char *text,
                        size_t len, uint8_t **pt, size_t *ptlen, char *cause, size_t causelen)
{
    uint8_t *buf = malloc(len / 4 * 3 + 4);
    if (!buf) {
        snprintf(cause, causelen, RING_PREFIX "base64 decode error: out of memory");
        return -1;
    }
    if (open_layers(kr, salt, saltlen, text, len, buf, ptlen, cause, causelen) != 0) {
        free(buf);
        return -1;
    }
    *pt = buf;
    return 0;
}

int keyring_open_in_place(struct keyring *kr, const uint8_t *salt, size_t saltlen, char *text,
                          size_t len, size_t *ptlen, char *cause, size_t causelen)
{
    return open_layers(kr, salt, saltlen, text, len, (uint8_t *)text, ptlen, cause, causelen);
}
