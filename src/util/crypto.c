/* crypto.c - AES-256-GCM, SHA-256, HMAC-SHA256 and HKDF-SHA256 on nettle; random bytes from
 * getrandom (see crypto.h). */
#include "util/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

void crypto_free_text(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void crypto_wipe(void *p, size_t n)
{
    explicit_bzero(p, n);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return memeql_sec(a, b, n) != 0;
}

/* ---- AES-256-GCM ------------------------------------------------------------------------- */

void crypto_gcm_start(struct crypto_gcm *g, const uint8_t key[CRYPTO_GCM_KEY_LEN],
                      const uint8_t iv[CRYPTO_GCM_IV_LEN], const void *aad, size_t aadlen)
{
    gcm_aes256_set_key(&g->ctx, key);
    gcm_aes256_set_iv(&g->ctx, CRYPTO_GCM_IV_LEN, iv);
    if (aadlen)
        gcm_aes256_update(&g->ctx, aadlen, aad);
}

void crypto_gcm_encrypt(struct crypto_gcm *g, const uint8_t *in, size_t n, uint8_t *out)
{
    gcm_aes256_encrypt(&g->ctx, n, out, in);
}

void crypto_gcm_decrypt(struct crypto_gcm *g, const uint8_t *in, size_t n, uint8_t *out)
{
    gcm_aes256_decrypt(&g->ctx, n, out, in);
}

void crypto_gcm_seal_tag(struct crypto_gcm *g, uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
    gcm_aes256_digest(&g->ctx, CRYPTO_GCM_TAG_LEN, tag);
    crypto_wipe(g, sizeof *g);
}

bool crypto_gcm_check_tag(struct crypto_gcm *g, const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
    uint8_t computed[CRYPTO_GCM_TAG_LEN];
    gcm_aes256_digest(&g->ctx, CRYPTO_GCM_TAG_LEN, computed);
    bool ok = crypto_equal(computed, tag, CRYPTO_GCM_TAG_LEN);
    crypto_wipe(computed, sizeof computed);
    crypto_wipe(g, sizeof *g);
    return ok;
}

/* ---- hashes ------------------------------------------------------------------------------ */

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, len, data);
    sha256_digest(&c, CRYPTO_SHA256_LEN, out);
    crypto_wipe(&c, sizeof c);  /* its block holds the input's tail: a ring key, an API key */
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
    struct hmac_sha256_ctx c;
    hmac_sha256_set_key(&c, keylen, key);
    hmac_sha256_update(&c, msglen, msg);
    hmac_sha256_digest(&c, CRYPTO_SHA256_LEN, out);
    crypto_wipe(&c, sizeof c);
}

void crypto_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
                      uint8_t out[CRYPTO_SHA1_LEN])
{
    struct hmac_sha1_ctx c;
    hmac_sha1_set_key(&c, keylen, key);
    hmac_sha1_update(&c, msglen, msg);
    hmac_sha1_digest(&c, CRYPTO_SHA1_LEN, out);
    crypto_wipe(&c, sizeof c);
}

/* nettle's HKDF takes the MAC through generic function pointers. */
static void hkdf_mac_update(void *ctx, size_t n, const uint8_t *data)
{
    hmac_sha256_update(ctx, n, data);
}

static void hkdf_mac_digest(void *ctx, size_t n, uint8_t *out)
{
    hmac_sha256_digest(ctx, n, out);
}

void crypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
    struct hmac_sha256_ctx c;
    uint8_t prk[CRYPTO_SHA256_LEN];
    /* Extract: PRK = HMAC(salt, IKM), the absent salt being a key of zeros (an empty key pads to
     * the same block). Expand: one block, T(1) = HMAC(PRK, info || 0x01). */
    hmac_sha256_set_key(&c, 0, (const uint8_t *)"");
    hkdf_extract(&c, hkdf_mac_update, hkdf_mac_digest, CRYPTO_SHA256_LEN, ikmlen, ikm, prk);
    hmac_sha256_set_key(&c, sizeof prk, prk);
    hkdf_expand(&c, hkdf_mac_update, hkdf_mac_digest, CRYPTO_SHA256_LEN, strlen(info),
                (const uint8_t *)info, CRYPTO_SHA256_LEN, out);
    crypto_wipe(&c, sizeof c);
    crypto_wipe(prk, sizeof prk);
}

/* ---- random bytes ------------------------------------------------------------------------ */

int crypto_random_secret(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(out, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        out += got;
        n -= (size_t)got;
    }
    return 0;
}

/* A job asks for a few small public values (IVs, a UUID): one getrandom call per 512 bytes
 * instead of one per value. */
#define RANDOM_POOL 512

static __thread uint8_t random_pool[RANDOM_POOL];
static __thread size_t random_used = RANDOM_POOL;

int crypto_random(uint8_t *out, size_t n)
{
    if (n > RANDOM_POOL / 4)
        return crypto_random_secret(out, n);
    if (RANDOM_POOL - random_used < n) {
        if (crypto_random_secret(random_pool, RANDOM_POOL) != 0)
            return -1;
        random_used = 0;
    }
    memcpy(out, random_pool + random_used, n);
    crypto_wipe(random_pool + random_used, n);
    random_used += n;
    return 0;
}
