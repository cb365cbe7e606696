/* seal.h - the sealing envelope shared with Go workers (core-protocol.md section 3.2).
 *
 *   seal(P, salt) = B64( B64( IV12 || AES-256-GCM(K', IV, P) || tag16 ) ), no AAD
 *   K' = K when salt is empty, else the 32 ASCII characters hex(HMAC-SHA256(key=salt, msg=K))[0:32]
 *
 * This module knows one key at a time; trying several keys (the ring) is keyring.c's job, which is
 * why opening is split into the outer base64 layer (decoded once) and the inner per-key step. */
#ifndef TW_SEAL_H
#define TW_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32

/* seal_derive computes K' for key and salt (salt may be empty: then out = key). */
void seal_derive(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                 uint8_t out[SEAL_KEY_LEN]);

/* seal_encrypt seals pt with key and salt, with a fresh random IV. Returns a new NUL-terminated
 * string (caller frees with free()), or NULL when memory or the RNG fails or ptlen is too large
 * for the envelope to fit in memory. */
char *seal_encrypt(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                   const uint8_t *pt, size_t ptlen);

/* seal_sealed_len: the length of the text seal_encrypt makes of ptlen bytes (without its NUL),
 * known before sealing (e.g. to count an answer against a budget before building it); 0 when it
 * would not fit in memory. */
size_t seal_sealed_len(size_t ptlen);

/* seal_encrypt_iv is seal_encrypt with a given IV (tests and vectors only). */
char *seal_encrypt_iv(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                      const uint8_t iv[12], const uint8_t *pt, size_t ptlen);

/* seal_open_outer decodes the outer base64 layer of text[0..len). On success returns 0 and sets
 * *inner and *innerlen (new buffer, NUL-terminated, caller frees). On failure returns -1 with Go's
 * base64 message in err ("illegal base64 data at input byte N"). */
int seal_open_outer(const char *text, size_t len, uint8_t **inner, size_t *innerlen,
                    char *err, size_t errlen);

/* seal_open_inner opens an inner layer (base64 text of IV || ct || tag) with one key and salt.
 * On success returns 0 and sets *pt and *ptlen (new buffer with a trailing NUL not counted; caller
 * frees). On failure returns -1 and writes one of Go's causes to err:
 * "illegal base64 data at input byte N", "invalid cipher text length",
 * "cipher: message authentication failed" (or "out of memory" / "internal error: ..." when the
 * fault is ours, not the text's). A plaintext that fails authentication never leaves this call. */
int seal_open_inner(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                    const uint8_t *inner, size_t innerlen, uint8_t **pt, size_t *ptlen,
                    char *err, size_t errlen);

/* The inner step in two parts, for openers that keep one buffer for all keys (keyring.c):
 * seal_inner_to_x decodes the inner text in place (inner holds innerlen + 1 bytes) into
 * x = IV || ct || tag, *xlen bytes at inner, and checks the length (the errors of seal_open_inner
 * that do not depend on the key); seal_open_x then derives the key and decrypts the xlen - 28
 * bytes of ct into out, which may be x + 12 (in place) or hold xlen - 28 bytes elsewhere. When the
 * tag does not verify, out is cleansed and err says "cipher: message authentication failed". */
int seal_inner_to_x(uint8_t *inner, size_t innerlen, size_t *xlen, char *err, size_t errlen);
int seal_open_x(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                const uint8_t *x, size_t xlen, uint8_t *out, char *err, size_t errlen);

/* seal_open = seal_open_outer then seal_open_inner with one key; errors as those two. */
int seal_open(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
              const char *text, size_t len, uint8_t **pt, size_t *ptlen, char *err, size_t errlen);

#endif
