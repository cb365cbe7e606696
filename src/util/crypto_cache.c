/* crypto_cache.c - algorithms fetched once (see crypto_cache.h). */
#include "util/crypto_cache.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes256gcm;
static EVP_MD *sha256;

static void fetch_all(void)
{
    aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_CIPHER *crypto_aes256gcm(void)
{
    pthread_once(&once, fetch_all);
    return aes256gcm ? aes256gcm : EVP_aes_256_gcm();
}

void crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&once, fetch_all);
    unsigned int n = 32;
    if (!sha256 || EVP_Digest(data, len, out, &n, sha256, NULL) != 1)
        SHA256(data, len, out);
}

/* HMAC (RFC 2104) over the cached SHA-256: H((K0 ^ opad) || H((K0 ^ ipad) || msg)), where K0 is
 * the key padded to the 64-byte block, or its digest when longer. The same bytes as OpenSSL's
 * EVP_MAC "HMAC", which costs several times more per call for its parameter handling and
 * look-ups (two of these per job: the result's key derivation at /job/status and /job/result). */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                       uint8_t out[32])
{
    enum { BLOCK = 64 };
    pthread_once(&once, fetch_all);
    if (!sha256)
        return -1;
    uint8_t k0[BLOCK] = { 0 }, pad[BLOCK], inner[32];
    if (keylen > BLOCK)
        crypto_sha256(key, keylen, k0);
    else if (keylen)
        memcpy(k0, key, keylen);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x36;
    int ok = ctx && EVP_DigestInit_ex2(ctx, sha256, NULL) == 1 &&
             EVP_DigestUpdate(ctx, pad, BLOCK) == 1 && EVP_DigestUpdate(ctx, msg, msglen) == 1 &&
             EVP_DigestFinal_ex(ctx, inner, &n) == 1 && n == 32;
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2(ctx, sha256, NULL) == 1 &&
         EVP_DigestUpdate(ctx, pad, BLOCK) == 1 && EVP_DigestUpdate(ctx, inner, 32) == 1 &&
         EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok ? 0 : -1;
}

/* Each thread draws random bytes from OpenSSL's DRBG a block at a time and serves small requests
 * (12-byte IVs) from it: one generate call costs about as much as a few hundred bytes of output
 * (the DRBG re-keys after every call). The bytes are the DRBG's own, in order, each served once. */
#define RANDOM_POOL 512

static __thread uint8_t random_pool[RANDOM_POOL];
static __thread size_t random_used = RANDOM_POOL;

int crypto_random(uint8_t *out, size_t n)
{
    if (n > RANDOM_POOL / 4) {
        int ok = RAND_bytes(out, (int)(n > INT32_MAX ? INT32_MAX : n)) == 1 && n <= INT32_MAX;
        if (!ok)
            ERR_clear_error();
        return ok ? 0 : -1;
    }
    if (RANDOM_POOL - random_used < n) {
        if (RAND_bytes(random_pool, RANDOM_POOL) != 1) {
            ERR_clear_error();
            return -1;
        }
        random_used = 0;
    }
    memcpy(out, random_pool + random_used, n);
    OPENSSL_cleanse(random_pool + random_used, n);
    random_used += n;
    return 0;
}
