/* test_crypto.c - util/crypto: published known answers (GCM spec test case 16, FIPS 180-2,
 * RFC 4231, RFC 5869), AES-256-GCM fed in pieces against OpenSSL's one-shot result, tag checks
 * that refuse any changed byte, random bytes, constant-time comparison, no hashed secret left on
 * the stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "util/crypto.h"

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
    uint8_t w[256];
    assert_int_equal(unhex(want, w), n);
    assert_memory_equal(got, w, n);
}

/* The GCM specification's test case 16: AES-256, 96-bit IV, 60 bytes, 20 bytes of AAD. */
static void test_gcm_known_answer(void **state)
{
    (void)state;
    uint8_t key[32], iv[12], pt[60], aad[20], ct[60], back[60], tag[16];
    unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key);
    unhex("cafebabefacedbaddecaf888", iv);
    unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt);
    unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
    struct crypto_gcm g;
    crypto_gcm_start(&g, key, iv, aad, sizeof aad);
    crypto_gcm_encrypt(&g, pt, 32, ct);              /* two pieces: 32 + 28 */
    crypto_gcm_encrypt(&g, pt + 32, 28, ct + 32);
    crypto_gcm_seal_tag(&g, tag);
    assert_hex(ct, sizeof ct, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
    assert_hex(tag, sizeof tag, "76fc6ece0f4e1768cddf8853bb2d551b");

    crypto_gcm_start(&g, key, iv, aad, sizeof aad);
    crypto_gcm_decrypt(&g, ct, sizeof ct, back);
    assert_true(crypto_gcm_check_tag(&g, tag));
    assert_memory_equal(back, pt, sizeof pt);
}

/* Any changed byte of the ciphertext, the tag, the AAD or the IV fails the tag check. */
static void test_gcm_refuses_changes(void **state)
{
    (void)state;
    uint8_t key[32] = { 7 }, iv[12] = { 9 }, pt[100], ct[100], out[100], tag[16];
    const char aad[] = "label";
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)i;
    struct crypto_gcm g;
    crypto_gcm_start(&g, key, iv, aad, strlen(aad));
    crypto_gcm_encrypt(&g, pt, sizeof pt, ct);
    crypto_gcm_seal_tag(&g, tag);
    for (int what = 0; what < 4; what++) {
        uint8_t c2[100], t2[16], iv2[12];
        char aad2[sizeof aad];
        memcpy(c2, ct, sizeof c2);
        memcpy(t2, tag, sizeof t2);
        memcpy(iv2, iv, sizeof iv2);
        memcpy(aad2, aad, sizeof aad2);
        switch (what) {
        case 0: c2[57] ^= 1; break;
        case 1: t2[15] ^= 0x80; break;
        case 2: aad2[0] = 'L'; break;
        default: iv2[11] ^= 1; break;
        }
        crypto_gcm_start(&g, key, iv2, aad2, strlen(aad2));
        crypto_gcm_decrypt(&g, c2, sizeof c2, out);
        assert_false(crypto_gcm_check_tag(&g, t2));
    }
    crypto_gcm_start(&g, key, iv, aad, strlen(aad));
    crypto_gcm_decrypt(&g, ct, sizeof ct, out);
    assert_true(crypto_gcm_check_tag(&g, tag));
    assert_memory_equal(out, pt, sizeof pt);
}

static void openssl_gcm(const uint8_t *key, const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                        const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv), 1);
    if (aadlen)
        assert_int_equal(EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen), 1);
    if (n)
        assert_int_equal(EVP_EncryptUpdate(c, ct, &l, pt, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + n, &l), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

/* Random keys, IVs, AAD and lengths (empty, under a block, odd sizes, several KB), fed to
 * crypto_gcm_encrypt in pieces of whole blocks and a ragged last piece: the same bytes and tag
 * as OpenSSL's one call. */
static void test_gcm_matches_openssl_in_pieces(void **state)
{
    (void)state;
    static const size_t lengths[] = { 0, 1, 15, 16, 17, 100, 4095, 4608, 4609, 10000 };
    uint8_t *pt = malloc(10000), *ct = malloc(10000), *ref = malloc(10016), *back = malloc(10000);
    assert_non_null(pt);
    assert_non_null(ct);
    assert_non_null(ref);
    assert_non_null(back);
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        size_t n = lengths[li];
        uint8_t key[32], iv[12], aad[37], tag[16], reftag[16];
        assert_int_equal(crypto_random(key, sizeof key), 0);
        assert_int_equal(crypto_random(iv, sizeof iv), 0);
        assert_int_equal(crypto_random(aad, sizeof aad), 0);
        assert_int_equal(crypto_random_secret(pt, n), 0);
        size_t aadlen = li % 2 ? sizeof aad : 0;
        openssl_gcm(key, iv, aad, aadlen, pt, n, ref, reftag);

        struct crypto_gcm g;
        crypto_gcm_start(&g, key, iv, aad, aadlen);
        size_t piece = 16 * (1 + li), done = 0;
        while (n - done > piece) {
            crypto_gcm_encrypt(&g, pt + done, piece, ct + done);
            done += piece;
        }
        crypto_gcm_encrypt(&g, pt + done, n - done, ct + done);
        crypto_gcm_seal_tag(&g, tag);
        if (n)
            assert_memory_equal(ct, ref, n);
        assert_memory_equal(tag, reftag, 16);

        crypto_gcm_start(&g, key, iv, aad, aadlen);
        crypto_gcm_decrypt(&g, ct, n, back);
        assert_true(crypto_gcm_check_tag(&g, tag));
        if (n)
            assert_memory_equal(back, pt, n);
    }
    free(pt);
    free(ct);
    free(ref);
    free(back);
}

static void test_hashes_known_answers(void **state)
{
    (void)state;
    uint8_t out[32];
    crypto_sha256("abc", 3, out);      /* FIPS 180-2 appendix B.1 */
    assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256("", 0, out);
    assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *msg = "what do ya want for nothing?";      /* RFC 4231 test case 2 */
    crypto_hmac_sha256("Jefe", 4, msg, strlen(msg), out);
    assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t longkey[131];                                    /* RFC 4231 test case 6 */
    memset(longkey, 0xaa, sizeof longkey);
    msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    crypto_hmac_sha256(longkey, sizeof longkey, msg, strlen(msg), out);
    assert_hex(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    uint8_t ikm[22];                                         /* RFC 5869 test case 3 */
    memset(ikm, 0x0b, sizeof ikm);
    crypto_hkdf_sha256(ikm, sizeof ikm, "", out);
    assert_hex(out, 32, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
}

/* HKDF with a label, as platform_derive uses it, against OpenSSL's HKDF. */
static void test_hkdf_matches_openssl(void **state)
{
    (void)state;
    uint8_t ikm[32], ours[32], theirs[32];
    assert_int_equal(crypto_random(ikm, sizeof ikm), 0);
    const char *info = "tee-worker store key v1";
    crypto_hkdf_sha256(ikm, sizeof ikm, info, ours);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM p[4];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof ikm);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    p[3] = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_KDF_derive(ctx, theirs, sizeof theirs, p), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    assert_memory_equal(ours, theirs, 32);
}

static void test_random_and_equal(void **state)
{
    (void)state;
    uint8_t a[12], b[12], big[1000], zero[1000] = { 0 };
    assert_int_equal(crypto_random(a, sizeof a), 0);
    assert_int_equal(crypto_random(b, sizeof b), 0);
    assert_false(crypto_equal(a, b, sizeof a));     /* 2^-96 */
    for (int i = 0; i < 100; i++)                   /* across refills of the per-thread block */
        assert_int_equal(crypto_random(a, sizeof a), 0);
    assert_int_equal(crypto_random(big, sizeof big), 0);
    assert_false(crypto_equal(big, zero, sizeof big));
    assert_int_equal(crypto_random_secret(big, sizeof big), 0);
    assert_false(crypto_equal(big, zero, sizeof big));
    assert_true(crypto_equal(a, a, sizeof a));
    assert_true(crypto_equal(a, b, 0));
    crypto_wipe(big, sizeof big);
    assert_true(crypto_equal(big, zero, sizeof big));
}

/* ---- no copy of a hashed secret left on the stack ----
 * A hash's context holds the last partial block of its input: a ring key (keyring.c hashes the keys
 * it retires), the API key a client sends (routes.c). Hashing a secret must not leave it in the
 * dead frame, where it stays for the life of a long-lived thread. hash_on_stack hashes a few frames
 * down; stack_holds, called from the same depth, reads the stack below its own frame, where those
 * frames were. The check is shown to see a copy left there (copy_without_wiping). */

#define SECRET "stack-secret:0123456789abcdefghij"   /* 33 bytes: one partial block */
#define STACK_PROBE 4096

typedef void (*hash_fn)(const void *data, size_t len, uint8_t *out);

static __attribute__((noinline)) void hash_on_stack(hash_fn hash)
{
    uint8_t digest[CRYPTO_SHA256_LEN];
    hash(SECRET, strlen(SECRET), digest);
    __asm__ volatile("" : : "r"(digest) : "memory");
}

/* (not instrumented by ASan: it reads other frames' memory on purpose) */
static __attribute__((noinline, no_sanitize_address)) bool stack_holds(const char *what, size_t n)
{
    static uint8_t copy[STACK_PROBE];   /* copied first: memmem's own frames go there */
    const volatile uint8_t *below =
        (const volatile uint8_t *)__builtin_frame_address(0) - STACK_PROBE;
    /* under valgrind the dead frames are no-access: made readable, as they are (no-op otherwise) */
    VALGRIND_MAKE_MEM_DEFINED((const void *)below, STACK_PROBE);
    for (size_t i = 0; i < STACK_PROBE; i++)
        copy[i] = below[i];
    return memmem(copy, sizeof copy, what, n) != NULL;
}

/* grow_stack makes sure the stack reaches as deep as stack_holds reads (valgrind maps it as used). */
static __attribute__((noinline)) void grow_stack(void)
{
    volatile uint8_t pad[2 * STACK_PROBE];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

static void copy_without_wiping(const void *data, size_t len, uint8_t *out)
{
    char local[64];
    memcpy(local, data, len);
    __asm__ volatile("" : : "r"(local) : "memory");
    memset(out, 0, CRYPTO_SHA256_LEN);
}

static void sha256_hash(const void *data, size_t len, uint8_t *out)
{
    crypto_sha256(data, len, out);
}

static void test_sha256_leaves_no_copy_on_the_stack(void **state)
{
    (void)state;
    grow_stack();
    hash_on_stack(sha256_hash);
    assert_false(stack_holds(SECRET + 16, 16));
    hash_on_stack(copy_without_wiping);     /* the probe does find a copy left behind */
    assert_true(stack_holds(SECRET + 16, 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_known_answer),
        cmocka_unit_test(test_gcm_refuses_changes),
        cmocka_unit_test(test_gcm_matches_openssl_in_pieces),
        cmocka_unit_test(test_hashes_known_answers),
        cmocka_unit_test(test_hkdf_matches_openssl),
        cmocka_unit_test(test_random_and_equal),
        cmocka_unit_test(test_sha256_leaves_no_copy_on_the_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
