/* crypto.h - the worker's symmetric primitives: AES-256-GCM, SHA-256, HMAC-SHA256, HKDF-SHA256
 * and random bytes.
 *
 * Built on nettle, which libmicrohttpd's GnuTLS already maps into the process: each operation is
 * a few direct calls on a context on the caller's stack, with no algorithm look-up, no allocation
 * and no provider start-up. OpenSSL's libcrypto stays for what nettle does not do here (the key
 * distributor's RSA-PSS signature, the enclave's X.509 certificate) and is loaded only when those
 * run (tee/libcrypto_lazy.c). Random bytes come from the kernel (getrandom). */
#ifndef TW_CRYPTO_H
#define TW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/gcm.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_GCM_KEY_LEN 32
#define CRYPTO_GCM_IV_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
/* crypto_gcm_encrypt and crypto_gcm_decrypt take any length in their last call of a message and
 * a multiple of this in every call before it. */
#define CRYPTO_GCM_BLOCK 16

/* One AES-256-GCM message in progress (encryption or decryption). It holds key material: end it
 * with crypto_gcm_seal_tag or crypto_gcm_check_tag, which wipe it. */
struct crypto_gcm {
    struct gcm_aes256_ctx ctx;
};

/* crypto_gcm_start keys g and sets the 12-byte IV; aad (aadlen bytes, may be 0) is authenticated
 * and not encrypted. */
void crypto_gcm_start(struct crypto_gcm *g, const uint8_t key[CRYPTO_GCM_KEY_LEN],
                      const uint8_t iv[CRYPTO_GCM_IV_LEN], const void *aad, size_t aadlen);

/* crypto_gcm_encrypt / crypto_gcm_decrypt write n bytes of out for n bytes of in (in == out is
 * allowed). Every call but a message's last must pass a multiple of CRYPTO_GCM_BLOCK. */
void crypto_gcm_encrypt(struct crypto_gcm *g, const uint8_t *in, size_t n, uint8_t *out);
void crypto_gcm_decrypt(struct crypto_gcm *g, const uint8_t *in, size_t n, uint8_t *out);

/* crypto_gcm_seal_tag writes the tag of an encrypted message and wipes g. */
void crypto_gcm_seal_tag(struct crypto_gcm *g, uint8_t tag[CRYPTO_GCM_TAG_LEN]);

/* crypto_gcm_check_tag compares the decrypted message's tag with tag in constant time and wipes
 * g. On false the plaintext written so far is not authentic: the caller must wipe it. */
bool crypto_gcm_check_tag(struct crypto_gcm *g, const uint8_t tag[CRYPTO_GCM_TAG_LEN]);

/* crypto_sha256: SHA-256(data) into out. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

/* crypto_hmac_sha256: HMAC-SHA256(key, msg) into out. */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        uint8_t out[CRYPTO_SHA256_LEN]);

/* crypto_hmac_sha1: HMAC-SHA1(key, msg) into out (20 bytes), for TOTP codes (RFC 6238). */
#define CRYPTO_SHA1_LEN 20
void crypto_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
                      uint8_t out[CRYPTO_SHA1_LEN]);

/* crypto_hkdf_sha256: HKDF (RFC 5869) with SHA-256, no salt (a block of zeros), ikm and info,
 * 32 bytes of output. */
void crypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info,
                        uint8_t out[CRYPTO_SHA256_LEN]);

/* crypto_random fills out with n random bytes, for public values (IVs, UUIDs, nonces): small
 * requests are served from a per-thread block drawn from the kernel at once, each byte once and
 * wiped from the block when served. Returns 0 or -1. */
int crypto_random(uint8_t *out, size_t n);

/* crypto_random_secret fills out with n random bytes straight from the kernel, for keys: nothing
 * is drawn ahead and kept. Returns 0 or -1. */
int crypto_random_secret(uint8_t *out, size_t n);

/* crypto_equal compares a and b (n bytes each) in a time that does not depend on their contents. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* crypto_wipe zeroes n bytes at p in a way the compiler does not remove. */
void crypto_wipe(void *p, size_t n);

/* crypto_free_text wipes the NUL-terminated secret s (a password, a header holding a cookie) and
 * frees it; NULL is fine. */
void crypto_free_text(char *s);

#endif
