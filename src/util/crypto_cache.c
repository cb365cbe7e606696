/* crypto_cache.c - algorithms fetched once, and per-thread cipher and digest contexts
 * (see crypto_cache.h). */
#include "util/crypto_cache.h"

#include <pthread.h>
#include <stdlib.h>
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

/* ---- per-thread contexts --------------------------------------------------------------- */

struct crypto_thread {
    EVP_CIPHER_CTX *gcm[2];         /* [encrypt] */
    bool gcm_ready[2];              /* the cipher is set on gcm[i] */
    EVP_MD_CTX *md;
};

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool thread_key_ok;
static __thread struct crypto_thread *thread_state;

static void thread_free(void *p)
{
    struct crypto_thread *t = p;
    if (!t)
        return;
    EVP_CIPHER_CTX_free(t->gcm[0]);     /* cleanses the key schedule */
    EVP_CIPHER_CTX_free(t->gcm[1]);
    EVP_MD_CTX_free(t->md);
    free(t);
}

static void make_key(void)
{
    thread_key_ok = pthread_key_create(&thread_key, thread_free) == 0;
}

static struct crypto_thread *this_thread(void)
{
    if (thread_state)
        return thread_state;
    pthread_once(&key_once, make_key);
    struct crypto_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!thread_key_ok || pthread_setspecific(thread_key, t) != 0) {
        free(t);
        return NULL;
    }
    thread_state = t;
    return t;
}

void crypto_thread_release(void)
{
    struct crypto_thread *t = thread_state;
    if (!t)
        return;
    thread_state = NULL;
    pthread_setspecific(thread_key, NULL);
    thread_free(t);
}

EVP_CIPHER_CTX *crypto_gcm_begin(int encrypt, const uint8_t key[32], const uint8_t iv[12])
{
    struct crypto_thread *t = this_thread();
    if (!t)
        return NULL;
    int e = encrypt ? 1 : 0;
    if (!t->gcm[e] && !(t->gcm[e] = EVP_CIPHER_CTX_new()))
        return NULL;
    EVP_CIPHER_CTX *ctx = t->gcm[e];
    if (!t->gcm_ready[e]) {
        if (EVP_CipherInit_ex(ctx, crypto_aes256gcm(), NULL, NULL, NULL, e) != 1) {
            ERR_clear_error();
            return NULL;
        }
        t->gcm_ready[e] = true;
    }
    if (EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, e) != 1) {
        crypto_gcm_end(ctx, false);
        return NULL;
    }
    return ctx;
}

void crypto_gcm_end(EVP_CIPHER_CTX *ctx, bool ok)
{
    if (ok || !ctx)
        return;
    ERR_clear_error();
    struct crypto_thread *t = thread_state;
    for (int e = 0; t && e < 2; e++)
        if (t->gcm[e] == ctx) {
            EVP_CIPHER_CTX_reset(ctx);
            t->gcm_ready[e] = false;
        }
}

/* this_md is the calling thread's digest context (NULL when it cannot be had). */
static EVP_MD_CTX *this_md(void)
{
    struct crypto_thread *t = this_thread();
    if (t && !t->md)
        t->md = EVP_MD_CTX_new();
    return t ? t->md : NULL;
}

/* On the thread's context: EVP_Digest would allocate and set up a context per call. */
void crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&once, fetch_all);
    EVP_MD_CTX *ctx = sha256 ? this_md() : NULL;
    unsigned int n = 0;
    if (!ctx || EVP_DigestInit_ex2(ctx, sha256, NULL) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != 32) {
        if (ctx)
            EVP_MD_CTX_reset(ctx);
        ERR_clear_error();
        SHA256(data, len, out);
    }
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
    EVP_MD_CTX *ctx = this_md();
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
    if (ctx && !ok)
        EVP_MD_CTX_reset(ctx);
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
