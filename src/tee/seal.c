/* seal.c - the Go-compatible sealing envelope: B64(B64(IV || AES-256-GCM(K', IV, P) || tag)).
 *
 * AES-256-GCM and HMAC-SHA256 come from util/crypto.h, the IV from crypto_random. The working
 * key (raw or derived) lives in a stack buffer that is wiped before every return, and a plaintext
 * whose tag did not verify is wiped before it is freed, so it never reaches the caller. */
#include "tee/seal.h"
#include "util/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"

#define SEAL_IV_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_MAC_LEN 32

static const char msg_bad_length[] = "invalid cipher text length";
static const char msg_auth_failed[] = "cipher: message authentication failed";

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Lowercase hex of the first SEAL_KEY_LEN / 2 bytes of mac, as SEAL_KEY_LEN ASCII bytes. */
static void hex_prefix(const uint8_t *mac, uint8_t out[SEAL_KEY_LEN])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < SEAL_KEY_LEN / 2; i++) {
        out[2 * i] = (uint8_t)digits[mac[i] >> 4];
        out[2 * i + 1] = (uint8_t)digits[mac[i] & 15];
    }
}

void seal_derive(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                 uint8_t out[SEAL_KEY_LEN])
{
    uint8_t mac[SEAL_MAC_LEN];

    if (saltlen == 0) {
        memcpy(out, key, SEAL_KEY_LEN);
        return;
    }
    /* The salt is the HMAC key and the ring key the message (core-protocol.md 3.2). */
    crypto_hmac_sha256(salt, saltlen, key, SEAL_KEY_LEN, mac);
    hex_prefix(mac, out);
    crypto_wipe(mac, sizeof mac);
}

/* Decrypts ct with tag into out (ctlen bytes). Returns true when the tag verifies; on false out
 * holds unauthenticated bytes, which the caller must wipe. */
static bool gcm_open(const uint8_t key[SEAL_KEY_LEN], const uint8_t iv[SEAL_IV_LEN],
                     const uint8_t *ct, size_t ctlen, const uint8_t tag[SEAL_TAG_LEN], uint8_t *out)
{
    struct crypto_gcm g;
    crypto_gcm_start(&g, key, iv, NULL, 0);
    crypto_gcm_decrypt(&g, ct, ctlen, out);
    return crypto_gcm_check_tag(&g, tag);
}

/* The envelope text is written in one pass into one buffer sized once: the bytes of
 * IV || ct || tag go through a small staging block, whose base64 (the inner layer) is encoded again
 * straight into the output. A block of DB64_BLOCK bytes (a multiple of 9) gives an inner text that
 * is a multiple of 3 characters, so only the last block carries padding, in both layers. Neither
 * the whole ciphertext nor the whole inner text is ever held. */
#define DB64_BLOCK (9 * 512)

struct double_b64 {
    char *out;                              /* the outer text, written at pos */
    size_t pos;
    size_t fill;                            /* bytes staged in block */
    uint8_t block[DB64_BLOCK];
    char inner[DB64_BLOCK / 3 * 4 + 1];     /* + the NUL b64_encode writes */
};

/* Length of B64(B64(x)) for xlen bytes of x, or 0 when it would not fit in a size_t. */
static size_t double_b64_len(size_t xlen)
{
    if (xlen > SIZE_MAX / 2)
        return 0;
    size_t inner = b64_encoded_len(xlen);
    if (inner > SIZE_MAX / 2)
        return 0;
    return b64_encoded_len(inner);
}

/* Encodes the staged bytes (padding only when last) into the output. */
static void double_b64_flush(struct double_b64 *d)
{
    size_t innerlen = b64_encoded_len(d->fill);
    b64_encode(d->block, d->fill, d->inner);
    b64_encode((const uint8_t *)d->inner, innerlen, d->out + d->pos);
    d->pos += b64_encoded_len(innerlen);
    d->fill = 0;
}

static void double_b64_put(struct double_b64 *d, const uint8_t *x, size_t n)
{
    while (n > 0) {
        size_t take = DB64_BLOCK - d->fill < n ? DB64_BLOCK - d->fill : n;
        memcpy(d->block + d->fill, x, take);
        d->fill += take;
        x += take;
        n -= take;
        if (d->fill == DB64_BLOCK)
            double_b64_flush(d);
    }
}

/* Encrypts pt a piece at a time and stages the ciphertext. The pieces are DB64_BLOCK bytes (a
 * multiple of the cipher's block, as every piece but the last must be) whatever the staging
 * block already holds, hence the second buffer. */
static void double_b64_encrypt(struct double_b64 *d, struct crypto_gcm *g, const uint8_t *pt,
                               size_t ptlen)
{
    _Static_assert(DB64_BLOCK % CRYPTO_GCM_BLOCK == 0, "pieces must be whole cipher blocks");
    uint8_t ct[DB64_BLOCK];
    while (ptlen > 0) {
        size_t take = ptlen < sizeof ct ? ptlen : sizeof ct;
        crypto_gcm_encrypt(g, pt, take, ct);
        double_b64_put(d, ct, take);
        pt += take;
        ptlen -= take;
    }
}

size_t seal_sealed_len(size_t ptlen)
{
    if (ptlen > SIZE_MAX / 2)
        return 0;
    return double_b64_len(SEAL_IV_LEN + ptlen + SEAL_TAG_LEN);
}

/* Seals pt with the working key k and iv into a new B64(B64(IV || ct || tag)) text. */
static char *seal_text(const uint8_t k[SEAL_KEY_LEN], const uint8_t iv[SEAL_IV_LEN],
                       const uint8_t *pt, size_t ptlen)
{
    size_t outlen = seal_sealed_len(ptlen);
    if (outlen == 0 || outlen == SIZE_MAX)
        return NULL;
    struct double_b64 stage, *d = &stage;     /* public bytes only: IV, ciphertext, tag */
    char *out = malloc(outlen + 1);
    if (!out)
        return NULL;
    struct crypto_gcm g;
    uint8_t tag[SEAL_TAG_LEN];
    d->out = out;
    d->pos = 0;
    d->fill = 0;
    double_b64_put(d, iv, SEAL_IV_LEN);
    crypto_gcm_start(&g, k, iv, NULL, 0);
    double_b64_encrypt(d, &g, pt, ptlen);
    crypto_gcm_seal_tag(&g, tag);
    double_b64_put(d, tag, SEAL_TAG_LEN);
    double_b64_flush(d);
    out[d->pos] = '\0';
    return out;
}

char *seal_encrypt_iv(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                      const uint8_t iv[12], const uint8_t *pt, size_t ptlen)
{
    uint8_t k[SEAL_KEY_LEN];

    if (ptlen > SIZE_MAX / 2)
        return NULL;
    seal_derive(key, salt, saltlen, k);
    char *text = seal_text(k, iv, pt, ptlen);
    crypto_wipe(k, sizeof k);
    return text;
}

char *seal_encrypt(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                   const uint8_t *pt, size_t ptlen)
{
    uint8_t iv[SEAL_IV_LEN];

    if (crypto_random(iv, sizeof iv) != 0)
        return NULL;
    return seal_encrypt_iv(key, salt, saltlen, iv, pt, ptlen);
}

int seal_open_outer(const char *text, size_t len, uint8_t **inner, size_t *innerlen,
                    char *err, size_t errlen)
{
    return b64_decode(text, len, inner, innerlen, err, errlen);
}

/* Opens x = IV || ct || tag (xlen >= IV + tag) with key k into a new NUL-terminated buffer. */
static int open_envelope(const uint8_t k[SEAL_KEY_LEN], const uint8_t *x, size_t xlen,
                         uint8_t **pt, size_t *ptlen, char *err, size_t errlen)
{
    size_t ctlen = xlen - SEAL_IV_LEN - SEAL_TAG_LEN;
    uint8_t *out = malloc(ctlen + 1);

    if (!out) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (!gcm_open(k, x, x + SEAL_IV_LEN, ctlen, x + xlen - SEAL_TAG_LEN, out)) {
        crypto_wipe(out, ctlen);
        free(out);
        set_err(err, errlen, msg_auth_failed);
        return -1;
    }
    out[ctlen] = '\0';
    *pt = out;
    *ptlen = ctlen;
    return 0;
}

int seal_inner_to_x(uint8_t *inner, size_t innerlen, size_t *xlen, char *err, size_t errlen)
{
    if (b64_decode_into((const char *)inner, innerlen, inner, xlen, err, errlen) != 0)
        return -1;
    if (*xlen < SEAL_IV_LEN) {
        set_err(err, errlen, msg_bad_length);
        return -1;
    }
    if (*xlen < SEAL_IV_LEN + SEAL_TAG_LEN) {
        set_err(err, errlen, msg_auth_failed);      /* Go's gcm.Open: shorter than a tag */
        return -1;
    }
    return 0;
}

int seal_open_x(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                const uint8_t *x, size_t xlen, uint8_t *out, char *err, size_t errlen)
{
    uint8_t k[SEAL_KEY_LEN];
    size_t ctlen = xlen - SEAL_IV_LEN - SEAL_TAG_LEN;
    int rc = -1;

    seal_derive(key, salt, saltlen, k);
    if (gcm_open(k, x, x + SEAL_IV_LEN, ctlen, x + xlen - SEAL_TAG_LEN, out)) {
        rc = 0;
    } else {
        crypto_wipe(out, ctlen);
        set_err(err, errlen, msg_auth_failed);
    }
    crypto_wipe(k, sizeof k);
    return rc;
}

int seal_open_inner(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                    const uint8_t *inner, size_t innerlen, uint8_t **pt, size_t *ptlen,
                    char *err, size_t errlen)
{
    uint8_t *x = NULL;
    size_t xlen = 0;
    uint8_t k[SEAL_KEY_LEN];
    int rc = -1;

    if (b64_decode((const char *)inner, innerlen, &x, &xlen, err, errlen) != 0)
        return -1;
    if (xlen < SEAL_IV_LEN) {
        set_err(err, errlen, msg_bad_length);
    } else if (xlen < SEAL_IV_LEN + SEAL_TAG_LEN) {
        set_err(err, errlen, msg_auth_failed);      /* Go's gcm.Open: shorter than a tag */
    } else {
        seal_derive(key, salt, saltlen, k);
        rc = open_envelope(k, x, xlen, pt, ptlen, err, errlen);
        crypto_wipe(k, sizeof k);
    }
    free(x);
    return rc;
}

int seal_open(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
              const char *text, size_t len, uint8_t **pt, size_t *ptlen, char *err, size_t errlen)
{
    uint8_t *inner = NULL;
    size_t innerlen = 0;

    if (seal_open_outer(text, len, &inner, &innerlen, err, errlen) != 0)
        return -1;
    int rc = seal_open_inner(key, salt, saltlen, inner, innerlen, pt, ptlen, err, errlen);
    free(inner);
    return rc;
}
