/* crypto_cache.h - OpenSSL algorithms fetched once per process.
 *
 * OpenSSL 3 looks an algorithm up in its provider tables on every implicit use (EVP_aes_256_gcm()
 * passed to an init call, SHA256(), EVP_Q_mac): a lock and a hash lookup per call, which showed
 * up at about a tenth of the worker's CPU per job. These accessors fetch once and hand out the
 * same object (never freed: it lives as long as the process). */
#ifndef TW_CRYPTO_CACHE_H
#define TW_CRYPTO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* AES-256-GCM cipher, for EVP_{En,De}cryptInit_ex. */
const EVP_CIPHER *crypto_aes256gcm(void);

/* crypto_gcm_begin returns the calling thread's AES-256-GCM context, keyed with key and iv, for
 * encrypting (encrypt = 1) or decrypting (0); NULL on failure. Each thread keeps one context per
 * direction for its life (freed when the thread exits; crypto_thread_release for the main thread),
 * so a seal or an open costs no allocation and no cipher set-up. Finish with crypto_gcm_end. */
EVP_CIPHER_CTX *crypto_gcm_begin(int encrypt, const uint8_t key[32], const uint8_t iv[12]);

/* crypto_gcm_end ends a use of the context; after a failure (ok false) the context is reset and
 * set up afresh on the next begin. */
void crypto_gcm_end(EVP_CIPHER_CTX *ctx, bool ok);

/* crypto_thread_release frees the calling thread's contexts now (the main thread, at exit). */
void crypto_thread_release(void);

/* crypto_sha256 = SHA-256(data) into out (32 bytes). */
void crypto_sha256(const void *data, size_t len, uint8_t out[32]);

/* crypto_hmac_sha256 = HMAC-SHA256(key, msg) into out (32 bytes). Returns 0 or -1. */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                       uint8_t out[32]);

/* crypto_random fills out with n bytes from OpenSSL's public DRBG (RAND_bytes), batched per
 * thread for small n. Returns 0 or -1 (DRBG failure). For public values such as IVs. */
int crypto_random(uint8_t *out, size_t n);

#endif
