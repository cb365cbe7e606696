/* keyring.h - the sealing keys: up to two ring keys from the key distributor, newest first, plus
 * (standalone mode) the local key derived from the platform.
 *
 * Which key seals: the newest ring key whenever the ring has one; else the local key in standalone
 * mode; else (enclave, empty ring) 500 "no keys available in key ring". Opening tries the ring keys
 * newest first, then the local key. Keys retired from the ring are remembered (by SHA-256) so a
 * re-sent retired key does not become the sealing key again. The ring is persisted sealed through a
 * secret_store (the store in the worker, sealed files in tests), so a restart needs no key broker.
 * Thread-safe: additions run one at a time; sealing and opening never wait for an addition's
 * write (keyring_writer.h runs additions away from the HTTP threads). */
#ifndef TW_KEYRING_H
#define TW_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tee/seal.h"

struct platform;
struct keyring;

#define KEYRING_CAPACITY 2

/* keyring_open loads the ring ("keyring") from secrets when present; changes are persisted there.
 * with_local_key: standalone mode (the local key, derived from p, seals when the ring is empty).
 * secrets is copied. Returns a new ring (keyring_free) or NULL with err. */
struct secret_store;
struct keyring *keyring_open(const struct platform *p, bool with_local_key,
                             const struct secret_store *secrets, char *err, size_t errlen);

void keyring_free(struct keyring *kr);

/* keyring_open_fixed: a standalone ring holding keys[0..n) (newest first; 1..KEYRING_CAPACITY),
 * shared by a fleet through SEALING_KEYS_FILE. It is never persisted and keyring_add fails on it
 * (500): the file is the only source. The local key is kept for opening. */
struct keyring *keyring_open_fixed(const struct platform *p, const uint8_t (*keys)[SEAL_KEY_LEN],
                                   size_t n, char *err, size_t errlen);


enum keyring_add_result {
    KEYRING_ADDED = 0,      /* new key, now the sealing key */
    KEYRING_PRESENT = 1,    /* already in the ring; nothing changed */
    KEYRING_RETIRED = 2,    /* was retired earlier; refused */
};

/* keyring_add inserts key at the front (dropping the oldest beyond capacity) and persists the ring.
 * Returns an enum keyring_add_result (>= 0), or -1 with e set (500) when persisting failed (the
 * ring is then unchanged). Concurrent additions run one after the other, each seeing the ring the
 * previous one left; the new ring seals and opens only once it is written. */
int keyring_add(struct keyring *kr, const uint8_t key[SEAL_KEY_LEN], struct err *e);

/* Number of ring keys (0..KEYRING_CAPACITY). */
size_t keyring_count(struct keyring *kr);

/* keyring_seal seals pt with salt under the sealing key. Returns a new string (caller frees) or
 * NULL with e = 500 "no keys available in key ring" (or an internal error). */
char *keyring_seal(struct keyring *kr, const uint8_t *salt, size_t saltlen, const uint8_t *pt,
                   size_t ptlen, struct err *e);

/* keyring_open_sealed opens text with salt, trying every key. On success returns 0 and sets
 * *pt and *ptlen (new buffer with a trailing NUL not counted; caller frees). On failure returns -1 and
 * writes the cause to cause (Go's wording, core-protocol.md 1.5.6):
 * "no keys available in key ring", "failed to decrypt with any key in the ring: base64 decode
 * error: illegal base64 data at input byte N", or "failed to decrypt with any key in the ring:
 * failed to decrypt with any key. Errors: key 1: AES decrypt error: <e1>; key 2: ..." (the local
 * key, when present, is the last entry). */
int keyring_open_sealed(struct keyring *kr, const uint8_t *salt, size_t saltlen, const char *text,
                        size_t len, uint8_t **pt, size_t *ptlen, char *cause, size_t causelen);

/* keyring_open_in_place is keyring_open_sealed decoding and decrypting inside text itself
 * (len bytes + 1 writable): on success the plaintext is text[0..*ptlen) followed by a NUL. text
 * is overwritten either way. */
int keyring_open_in_place(struct keyring *kr, const uint8_t *salt, size_t saltlen, char *text,
                          size_t len, size_t *ptlen, char *cause, size_t causelen);

#endif
