/* crypto_cache.c - algorithms fetched once (see crypto_cache.h). */
#include "util/crypto_cache.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes256gcm;
static EVP_MD *sha256;
static EVP_MAC *hmac;

static void fetch_all(void)
{
    aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
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

int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                       uint8_t out[32])
{
    pthread_once(&once, fetch_all);
    if (!hmac)
        return -1;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outl = 0;
    /* HMAC with an empty key: pass a valid pointer, OpenSSL refuses NULL. */
    static const uint8_t empty = 0;
    int ok = ctx && EVP_MAC_init(ctx, keylen ? key : &empty, keylen, params) == 1 &&
             EVP_MAC_update(ctx, msg, msglen) == 1 && EVP_MAC_final(ctx, out, &outl, 32) == 1 &&
             outl == 32;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}
