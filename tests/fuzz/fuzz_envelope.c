/* fuzz_envelope.c - libFuzzer target for the sealed envelope: base64, the two opening layers, the
 * key ring's multi-key opening and the key ring's persisted file.
 *
 * Input layout: byte 0 picks the mode (bits 0-1) and the key (bit 2: K1 or K2 of
 * tests/vectors/sealing.json); byte 1 is the salt length (mod 64); then the salt; the rest is the
 * text. Modes:
 *   0 open:   seal_open, seal_open_outer + seal_open_inner and keyring_open_sealed (ring K2, K1
 *             plus a local key) must agree: same success, same plaintext.
 *   1 seal:   the text is IV (12 bytes) || plaintext; seal_encrypt_iv then seal_open and the ring
 *             must give the plaintext back.
 *   2 base64: b64_decode; whatever decodes re-encodes and decodes to the same bytes; and any
 *             bytes encode and decode back.
 *   3 ring:   the text is the ring's file as the secret store returns it; a ring that loads takes
 *             a new key, persists it, reloads equal and seals and opens with it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tee/keyring.h"
#include "tee/platform.h"
#include "tee/seal.h"
#include "util/b64.h"

static const uint8_t key1[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[SEAL_KEY_LEN] = "fedcba9876543210fedcba9876543210";

/* An in-memory secret store holding one blob (the ring file). */
struct mem_secret {
    uint8_t *data;
    size_t len;
    bool present;
};

static int mem_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                   char *err, size_t errlen)
{
    (void)name, (void)label, (void)err, (void)errlen;
    struct mem_secret *m = ctx;
    if (!m->present)
        return 0;
    *data = malloc(m->len + 1);
    if (!*data)
        abort();
    memcpy(*data, m->data, m->len);
    (*data)[m->len] = 0;
    *len = m->len;
    return 1;
}

static int mem_put(void *ctx, const char *name, const char *label, const uint8_t *data, size_t len,
                   bool replace, char *err, size_t errlen)
{
    (void)name, (void)label, (void)err, (void)errlen;
    struct mem_secret *m = ctx;
    if (m->present && !replace)
        return 1;
    free(m->data);
    m->data = malloc(len ? len : 1);
    if (!m->data)
        abort();
    memcpy(m->data, data, len);
    m->len = len;
    m->present = true;
    return 0;
}

static struct platform fake_platform = { .root_key = "fuzz root key, 32 bytes long...." };

static struct keyring *ring_from(struct mem_secret *m)
{
    struct secret_store store = { mem_get, mem_put, m };
    char err[256];
    return keyring_open(&fake_platform, true, &store, err, sizeof err);
}

/* two_key_ring is the ring K2 (newest), K1, then the local key. */
static struct keyring *two_key_ring(struct mem_secret *m)
{
    struct keyring *kr = ring_from(m);
    struct err e = { 0 };
    if (!kr || keyring_add(kr, key1, &e) != KEYRING_ADDED || keyring_add(kr, key2, &e) != KEYRING_ADDED)
        abort();
    return kr;
}

static bool same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static void check_open(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                       const char *text, size_t len)
{
    char err[512];
    uint8_t *pt = NULL, *inner = NULL, *pt2 = NULL;
    size_t ptlen = 0, innerlen = 0, pt2len = 0;
    int rc = seal_open(key, salt, saltlen, text, len, &pt, &ptlen, err, sizeof err);

    int rc2 = seal_open_outer(text, len, &inner, &innerlen, err, sizeof err);
    if (rc2 == 0) {
        rc2 = seal_open_inner(key, salt, saltlen, inner, innerlen, &pt2, &pt2len, err, sizeof err);
        free(inner);
    }
    if (rc != rc2 || (rc == 0 && !same(pt, ptlen, pt2, pt2len)))
        abort();        /* the one-call and two-step openings disagree */
    free(pt2);

    struct mem_secret m = { 0 };
    struct keyring *kr = two_key_ring(&m);
    uint8_t *rpt = NULL;
    size_t rptlen = 0;
    int rrc = keyring_open_sealed(kr, salt, saltlen, text, len, &rpt, &rptlen, err, sizeof err);
    if (rc == 0 && (rrc != 0 || !same(pt, ptlen, rpt, rptlen)))
        abort();        /* a key of the ring opens it, so the ring must */
    if (rrc != 0 && strncmp(err, "failed to decrypt with any key in the ring: ", 44) != 0)
        abort();
    free(rpt);
    free(pt);
    keyring_free(kr);
    free(m.data);
}

static void check_seal(const uint8_t key[SEAL_KEY_LEN], const uint8_t *salt, size_t saltlen,
                       const uint8_t *data, size_t size)
{
    uint8_t iv[12] = { 0 };
    size_t ivlen = size < sizeof iv ? size : sizeof iv;
    memcpy(iv, data, ivlen);
    const uint8_t *pt = data + ivlen;
    size_t ptlen = size - ivlen;

    char *sealed = seal_encrypt_iv(key, salt, saltlen, iv, pt, ptlen);
    if (!sealed)
        abort();
    char err[512];
    uint8_t *back = NULL;
    size_t backlen = 0;
    if (seal_open(key, salt, saltlen, sealed, strlen(sealed), &back, &backlen, err, sizeof err) != 0 ||
        !same(pt, ptlen, back, backlen) || back[backlen] != 0)
        abort();
    free(back);

    struct mem_secret m = { 0 };
    struct keyring *kr = two_key_ring(&m);
    back = NULL;
    if (keyring_open_sealed(kr, salt, saltlen, sealed, strlen(sealed), &back, &backlen, err,
                            sizeof err) != 0 || !same(pt, ptlen, back, backlen))
        abort();
    free(back);
    keyring_free(kr);
    free(m.data);
    free(sealed);
}

static void check_b64(const uint8_t *data, size_t size)
{
    char err[128];
    uint8_t *out = NULL, *again = NULL;
    size_t outlen = 0, againlen = 0;
    if (b64_decode((const char *)data, size, &out, &outlen, err, sizeof err) == 0) {
        char *enc = b64_encode_alloc(out, outlen);
        if (!enc || strlen(enc) != b64_encoded_len(outlen) ||
            b64_decode(enc, strlen(enc), &again, &againlen, err, sizeof err) != 0 ||
            !same(out, outlen, again, againlen))
            abort();
        free(again);
        free(enc);
        free(out);
    } else if (strncmp(err, "illegal base64 data at input byte ", 34) != 0) {
        abort();
    }
    char *enc = b64_encode_alloc(data, size);
    if (!enc || b64_decode(enc, strlen(enc), &again, &againlen, err, sizeof err) != 0 ||
        !same(data, size, again, againlen))
        abort();
    free(again);
    free(enc);
}

static void check_ring_file(const uint8_t *data, size_t size)
{
    struct mem_secret m = { .data = malloc(size ? size : 1), .len = size, .present = true };
    if (!m.data)
        abort();
    memcpy(m.data, data, size);
    struct keyring *kr = ring_from(&m);
    if (kr) {
        static const uint8_t fresh[SEAL_KEY_LEN] = "a fresh key for the fuzzed ring.";
        struct err e = { 0 };
        size_t before = keyring_count(kr);
        int rc = keyring_add(kr, fresh, &e);
        if (rc < 0 || before > KEYRING_CAPACITY)
            abort();
        struct keyring *reloaded = ring_from(&m);
        if (!reloaded || keyring_count(reloaded) != keyring_count(kr))
            abort();    /* what the ring wrote must load again */
        char *sealed = keyring_seal(kr, NULL, 0, (const uint8_t *)"x", 1, &e);
        uint8_t *pt = NULL;
        size_t ptlen = 0;
        char err[512];
        if (!sealed || keyring_open_sealed(reloaded, NULL, 0, sealed, strlen(sealed), &pt, &ptlen,
                                           err, sizeof err) != 0 || !same(pt, ptlen, (const uint8_t *)"x", 1))
            abort();
        free(pt);
        free(sealed);
        keyring_free(reloaded);
        keyring_free(kr);
    }
    free(m.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0] & 3;
    const uint8_t *key = (data[0] & 4) ? key2 : key1;
    size_t saltlen = data[1] % 64;
    if (saltlen > size - 2)
        saltlen = size - 2;
    const uint8_t *salt = data + 2;
    const uint8_t *rest = salt + saltlen;
    size_t restlen = size - 2 - saltlen;

    switch (mode) {
    case 0: check_open(key, salt, saltlen, (const char *)rest, restlen); break;
    case 1: check_seal(key, salt, saltlen, rest, restlen); break;
    case 2: check_b64(rest, restlen); break;
    default: check_ring_file(rest, restlen); break;
    }
    return 0;
}
