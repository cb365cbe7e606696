/* test_seal.c - the sealing envelope against Go: every vector of sealing.json (seal, derive, the
 * job signature and its sealed result), the worked table of core-protocol.md 3.6 with fixed IVs,
 * random-IV round trips, and Go's failure texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "tee/seal.h"
#include "util/b64.h"

static const uint8_t spec_key[SEAL_KEY_LEN + 1] = "0123456789abcdef0123456789abcdef";

/* ---- helpers ---- */

static json_t *load_vectors(void)
{
    const char *path = getenv("TW_VECTORS");
    json_error_t jerr;

    if (!path)
        fail_msg("TW_VECTORS is not set");
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    return root;
}

static const char *member_str(const json_t *obj, const char *name, size_t *len)
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        fail_msg("member \"%s\" is not a string", name);
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

static const uint8_t *member_key(const json_t *obj)
{
    size_t len = 0;
    const char *key = member_str(obj, "key", &len);

    assert_int_equal(len, SEAL_KEY_LEN);
    return (const uint8_t *)key;
}

static void sha256_hex(const uint8_t *data, size_t len, char hex[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;

    assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mdlen, 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void hex_decode(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned int byte = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        out[i] = (uint8_t)byte;
    }
}

/* Opens text with key and salt; fails the test (with the cause) when it does not open. */
static uint8_t *open_ok(const uint8_t *key, const char *salt, size_t saltlen, const char *text,
                        size_t *ptlen)
{
    uint8_t *pt = NULL;
    char err[256] = "";

    if (seal_open(key, (const uint8_t *)salt, saltlen, text, strlen(text), &pt, ptlen, err,
                  sizeof err) != 0)
        fail_msg("seal_open failed: %s", err);
    assert_int_equal(pt[*ptlen], '\0');
    return pt;
}

/* Opens text and checks it fails with exactly want. */
static void assert_open_fails(const uint8_t *key, const char *salt, const char *text, size_t len,
                              const char *want)
{
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    char err[256] = "";

    assert_int_equal(seal_open(key, (const uint8_t *)salt, strlen(salt), text, len, &pt, &ptlen,
                               err, sizeof err), -1);
    assert_null(pt);
    assert_string_equal(err, want);
}

/* B64(B64(x)): an envelope around arbitrary bytes. */
static char *wrap(const uint8_t *x, size_t n)
{
    char *inner = b64_encode_alloc(x, n);
    assert_non_null(inner);
    char *outer = b64_encode_alloc((const uint8_t *)inner, strlen(inner));
    assert_non_null(outer);
    free(inner);
    return outer;
}

/* Decodes both layers of text into a new buffer (IV || ct || tag). */
static uint8_t *unwrap(const char *text, size_t *n)
{
    uint8_t *inner = NULL, *x = NULL;
    size_t innerlen = 0;

    assert_int_equal(b64_decode(text, strlen(text), &inner, &innerlen, NULL, 0), 0);
    assert_int_equal(b64_decode((const char *)inner, innerlen, &x, n, NULL, 0), 0);
    free(inner);
    return x;
}

/* ---- Go vectors ---- */

static void test_go_seal_vectors(void **state)
{
    json_t *root = load_vectors();
    const json_t *seal = json_object_get(root, "seal");
    size_t i;
    const json_t *v;

    (void)state;
    assert_true(json_array_size(seal) >= 5);
    json_array_foreach(seal, i, v) {
        size_t saltlen = 0, ptlen = 0;
        const char *salt = member_str(v, "salt", &saltlen);
        uint8_t *pt = open_ok(member_key(v), salt, saltlen, member_str(v, "sealed", NULL), &ptlen);
        const json_t *want = json_object_get(v, "plaintext");
        char hex[65];

        sha256_hex(pt, ptlen, hex);
        assert_string_equal(hex, member_str(v, "plaintext_sha256", NULL));
        if (!json_is_null(want)) {
            assert_int_equal(ptlen, json_string_length(want));
            assert_memory_equal(pt, json_string_value(want), ptlen);
        }
        free(pt);
    }
    json_decref(root);
}

static void test_go_derive_vectors(void **state)
{
    json_t *root = load_vectors();
    const json_t *derive = json_object_get(root, "derive");
    size_t i;
    const json_t *v;

    (void)state;
    assert_true(json_array_size(derive) >= 4);
    json_array_foreach(derive, i, v) {
        size_t saltlen = 0;
        const char *salt = member_str(v, "salt", &saltlen);
        uint8_t out[SEAL_KEY_LEN];

        seal_derive(member_key(v), (const uint8_t *)salt, saltlen, out);
        assert_memory_equal(out, member_str(v, "derived", NULL), SEAL_KEY_LEN);
    }
    json_decref(root);
}

static void test_go_job_vector(void **state)
{
    json_t *root = load_vectors();
    const json_t *job = json_object_get(root, "job");
    const uint8_t *key = member_key(job);
    size_t siglen = 0, quotelen = 0, reslen = 0;
    json_error_t jerr;

    (void)state;
    /* The signature is the job JSON sealed with salt "". */
    uint8_t *sig = open_ok(key, "", 0, member_str(job, "signature", NULL), &siglen);
    json_t *decoded = json_loadb((const char *)sig, siglen, 0, &jerr);
    if (!decoded)
        fail_msg("signature plaintext is not JSON: %s", jerr.text);
    const char *quote = member_str(job, "quote", &quotelen);
    const json_t *q = json_object_get(decoded, "quote");
    assert_true(json_is_string(q));
    assert_int_equal(json_string_length(q), quotelen);
    assert_memory_equal(json_string_value(q), quote, quotelen);

    /* The result is sealed with the job's quote as salt. */
    uint8_t *res = open_ok(key, quote, quotelen, member_str(job, "sealed_result", NULL), &reslen);
    assert_int_equal(reslen, strlen(member_str(job, "result_plaintext", NULL)));
    assert_memory_equal(res, member_str(job, "result_plaintext", NULL), reslen);

    /* With the wrong salt it must not open. */
    assert_open_fails(key, "", member_str(job, "sealed_result", NULL),
                      strlen(member_str(job, "sealed_result", NULL)),
                      "cipher: message authentication failed");
    free(res);
    json_decref(decoded);
    free(sig);
    json_decref(root);
}

/* ---- core-protocol.md 3.6 ---- */

struct table_row {
    const char *plaintext;
    const char *salt;
    const char *iv_hex;
    const char *aes_key;    /* NULL: the raw key */
    const char *out;
};

static const struct table_row spec_table[] = {
    { "test message", "", "000102030405060708090a0b", NULL,
      "QUFFQ0F3UUZCZ2NJQ1FvTFdZRElDUGwxdDkvYnZSYmJiYVRvcU1SOEVPZGIrY0lpcGsrMVV3PT0=" },
    { "test message", "my-salt", "000102030405060708090a0b", "4fbfd4226c9a9dc07f930855b8f476e9",
      "QUFFQ0F3UUZCZ2NJQ1FvTEJ4Sk1JZVlXQUFoVTcwNW5VRXZyTURrQ3p3S1FrT1Y0RDhTL3RnPT0=" },
    { "{\"type\":\"telemetry\",\"arguments\":{},\"quote\":\"test-nonce-0001\",\"worker_id\":\"\","
      "\"target_worker\":\"\",\"timeout\":0}",
      "", "101112131415161718191a1b", NULL,
      "RUJFU0V4UVZGaGNZR1JvYlZpNENLbmY1UnR6aEYxb3lSZXgxZCtKQ0lySmNXMG13QUNNaTZyMXpuTWJlS0ZaTEt4V0hM"
      "djg1UU9lb1hSL2hPcTFmR2hzdThESytwY09KbTNCaU5DY0ZSTXY4bVdiR2EySWtCRmdPb2pHM25McHZuVWZRWlQvbmQ0"
      "UThQSFN5dXREVnFxTFlmZ2Y3OTNLWlVEUG5mL1kyMWNha2w3a1lxOFgx" },
    { "{\"ok\":true}", "test-nonce-0001", "202122232425262728292a2b", "5ba4bc3a61a7e2906dc36faf8a9df20e",
      "SUNFaUl5UWxKaWNvS1NvckJobm02c0luYnMxVUJJSi9WU1dWQVhER1pMYmovTC9vNGJsbQ==" },
};

static void test_spec_table_fixed_iv(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof spec_table / sizeof spec_table[0]; i++) {
        const struct table_row *r = &spec_table[i];
        uint8_t iv[12], derived[SEAL_KEY_LEN];
        size_t ptlen = 0;

        hex_decode(r->iv_hex, iv, sizeof iv);
        char *out = seal_encrypt_iv(spec_key, (const uint8_t *)r->salt, strlen(r->salt), iv,
                                    (const uint8_t *)r->plaintext, strlen(r->plaintext));
        assert_non_null(out);
        assert_string_equal(out, r->out);
        free(out);

        seal_derive(spec_key, (const uint8_t *)r->salt, strlen(r->salt), derived);
        assert_memory_equal(derived, r->aes_key ? (const uint8_t *)r->aes_key : spec_key, SEAL_KEY_LEN);

        uint8_t *pt = open_ok(spec_key, r->salt, strlen(r->salt), r->out, &ptlen);
        assert_int_equal(ptlen, strlen(r->plaintext));
        assert_memory_equal(pt, r->plaintext, ptlen);
        free(pt);
    }
}

static void test_spec_row1_intermediates(void **state)
{
    static const char inner_want[] = "AAECAwQFBgcICQoLWYDICPl1t9/bvRbbbaToqMR8EOdb+cIipk+1Uw==";
    uint8_t x_want[40], *inner = NULL, *x = NULL;
    size_t innerlen = 0, xlen = 0;
    char err[128];

    (void)state;
    hex_decode("000102030405060708090a0b5980c808f975b7dfdbbd16db6da4e8a8c47c10e75bf9c222a64fb553",
               x_want, sizeof x_want);
    assert_int_equal(seal_open_outer(spec_table[0].out, strlen(spec_table[0].out), &inner,
                                     &innerlen, err, sizeof err), 0);
    assert_int_equal(innerlen, strlen(inner_want));
    assert_memory_equal(inner, inner_want, innerlen);
    x = unwrap(spec_table[0].out, &xlen);
    assert_int_equal(xlen, sizeof x_want);
    assert_memory_equal(x, x_want, xlen);
    free(x);
    free(inner);
}

/* ---- round trips ---- */

static void round_trip(const uint8_t *key, const char *salt, const uint8_t *pt, size_t ptlen)
{
    char *a = seal_encrypt(key, (const uint8_t *)salt, strlen(salt), pt, ptlen);
    char *b = seal_encrypt(key, (const uint8_t *)salt, strlen(salt), pt, ptlen);
    size_t outlen = 0;

    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b);      /* fresh IV each time */
    assert_int_equal(strlen(a), seal_sealed_len(ptlen));   /* the length known before sealing */
    uint8_t *out = open_ok(key, salt, strlen(salt), a, &outlen);
    assert_int_equal(outlen, ptlen);
    if (ptlen)
        assert_memory_equal(out, pt, ptlen);
    free(out);
    out = open_ok(key, salt, strlen(salt), b, &outlen);
    assert_int_equal(outlen, ptlen);
    free(out);

    /* Another salt (or none) derives another key. */
    assert_open_fails(key, *salt ? "" : "other", a, strlen(a), "cipher: message authentication failed");
    free(a);
    free(b);
}

static void test_round_trip_random_iv(void **state)
{
    static const size_t sizes[] = { 0, 1, 12, 15, 16, 17, 255, 4096, 100001 };
    static const char long_salt[] = "a-quote-\xef\xbf\xbd-longer-than-one-sha256-block-"
                                    "0123456789012345678901234567890123456789";
    static const char *const salts[] = { "", "s", long_salt };
    uint8_t *buf = malloc(100001);

    (void)state;
    assert_non_null(buf);
    for (size_t i = 0; i < 100001; i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    for (size_t s = 0; s < sizeof salts / sizeof salts[0]; s++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            round_trip(spec_key, salts[s], buf, sizes[i]);
    free(buf);
    assert_int_equal(seal_sealed_len(SIZE_MAX), 0);     /* would not fit: no length */
    assert_int_equal(seal_sealed_len(SIZE_MAX / 2 + 1), 0);
}

/* The envelope is written block by block (seal.c stages 4608 bytes of IV || ct || tag at a time):
 * around block edges the text must still be exactly B64(B64(x)), padded only at the end, and open
 * back to the plaintext. */
static void test_block_edges_canonical(void **state)
{
    static const uint8_t iv[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    static const long edges[] = { 4608, 9216, 3 * 4608 };
    uint8_t *pt = malloc(3 * 4608 + 8);

    (void)state;
    assert_non_null(pt);
    for (size_t i = 0; i < 3 * 4608 + 8; i++)
        pt[i] = (uint8_t)(i * 13 + 1);
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (long d = -4; d <= 4; d++) {
            size_t ptlen = (size_t)(edges[e] - 28 + d);    /* x = 12 + ptlen + 16 bytes */
            char *text = seal_encrypt_iv(spec_key, (const uint8_t *)"q", 1, iv, pt, ptlen);
            assert_non_null(text);
            size_t xlen = 0;
            uint8_t *x = unwrap(text, &xlen);
            assert_int_equal(xlen, 12 + ptlen + 16);
            assert_memory_equal(x, iv, 12);
            char *again = wrap(x, xlen);
            assert_string_equal(again, text);
            size_t outlen = 0;
            uint8_t *out = open_ok(spec_key, "q", 1, text, &outlen);
            assert_int_equal(outlen, ptlen);
            assert_memory_equal(out, pt, ptlen);
            free(out);
            free(again);
            free(x);
            free(text);
        }
    }
    free(pt);
}

static void test_wrong_key_fails(void **state)
{
    static const uint8_t other[SEAL_KEY_LEN + 1] = "fedcba9876543210fedcba9876543210";
    char *text = seal_encrypt(spec_key, (const uint8_t *)"", 0, (const uint8_t *)"hi", 2);

    (void)state;
    assert_non_null(text);
    assert_open_fails(other, "", text, strlen(text), "cipher: message authentication failed");
    free(text);
}

/* ---- failures ---- */

static void test_bad_outer_base64(void **state)
{
    uint8_t *inner = NULL;
    size_t innerlen = 0;
    char err[128] = "";

    (void)state;
    assert_open_fails(spec_key, "", "QUJD!", 5, "illegal base64 data at input byte 4");
    assert_open_fails(spec_key, "", "QUJD-_==", 8, "illegal base64 data at input byte 4");
    assert_open_fails(spec_key, "", "QUJ", 3, "illegal base64 data at input byte 0");
    assert_int_equal(seal_open_outer("ab cd", 5, &inner, &innerlen, err, sizeof err), -1);
    assert_null(inner);
    assert_string_equal(err, "illegal base64 data at input byte 2");
}

static void test_bad_inner_base64(void **state)
{
    static const char bad_inner[] = "AAAA$AAA";
    char *text = b64_encode_alloc((const uint8_t *)bad_inner, strlen(bad_inner));
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    char err[128] = "";

    (void)state;
    assert_non_null(text);
    assert_open_fails(spec_key, "", text, strlen(text), "illegal base64 data at input byte 4");
    assert_int_equal(seal_open_inner(spec_key, NULL, 0, (const uint8_t *)"AAA", 3, &pt, &ptlen,
                                     err, sizeof err), -1);
    assert_string_equal(err, "illegal base64 data at input byte 0");
    free(text);
}

static void test_short_inner(void **state)
{
    uint8_t x[27] = { 0 };

    (void)state;
    /* Shorter than an IV: Go's own length check. */
    for (size_t n = 0; n < 12; n++) {
        char *text = wrap(x, n);
        assert_open_fails(spec_key, "", text, strlen(text), "invalid cipher text length");
        free(text);
    }
    /* An IV but no room for a tag: GCM refuses it as unauthentic, as Go's gcm.Open does. */
    for (size_t n = 12; n < sizeof x; n++) {
        char *text = wrap(x, n);
        assert_open_fails(spec_key, "", text, strlen(text), "cipher: message authentication failed");
        free(text);
    }
}

static void test_tampered(void **state)
{
    size_t xlen = 0;
    uint8_t *x = unwrap(spec_table[0].out, &xlen);

    (void)state;
    for (size_t i = 0; i < xlen; i++) {
        x[i] ^= 0x01;
        char *text = wrap(x, xlen);
        assert_open_fails(spec_key, "", text, strlen(text), "cipher: message authentication failed");
        free(text);
        x[i] ^= 0x01;
    }
    /* Truncated tag. */
    char *text = wrap(x, xlen - 1);
    assert_open_fails(spec_key, "", text, strlen(text), "cipher: message authentication failed");
    free(text);
    free(x);
}

/* Copies src with a CR or LF inserted after every few characters (new string). */
static char *sprinkle_newlines(const char *src)
{
    size_t n = strlen(src), j = 0;
    char *text = malloc(2 * n + 1);

    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        text[j++] = src[i];
        if (i % 7 == 3)
            text[j++] = i % 2 ? '\n' : '\r';
    }
    text[j] = '\0';
    return text;
}

static void test_crlf_in_envelope(void **state)
{
    /* Go's decoder skips CR/LF anywhere, in the outer text and in the inner one. */
    static const char inner[] = "AAECAwQFBgcICQoLWYDICPl1t9/bvRbbbaToqMR8EOdb+cIipk+1Uw==";
    char *outer_crlf = sprinkle_newlines(spec_table[0].out);
    char *inner_crlf = sprinkle_newlines(inner);
    char *wrapped = b64_encode_alloc((const uint8_t *)inner_crlf, strlen(inner_crlf));
    size_t ptlen = 0;

    (void)state;
    assert_non_null(wrapped);
    uint8_t *pt = open_ok(spec_key, "", 0, outer_crlf, &ptlen);
    assert_int_equal(ptlen, strlen("test message"));
    assert_memory_equal(pt, "test message", ptlen);
    free(pt);
    pt = open_ok(spec_key, "", 0, wrapped, &ptlen);
    assert_int_equal(ptlen, strlen("test message"));
    assert_memory_equal(pt, "test message", ptlen);
    free(pt);
    free(wrapped);
    free(inner_crlf);
    free(outer_crlf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_seal_vectors),
        cmocka_unit_test(test_go_derive_vectors),
        cmocka_unit_test(test_go_job_vector),
        cmocka_unit_test(test_spec_table_fixed_iv),
        cmocka_unit_test(test_spec_row1_intermediates),
        cmocka_unit_test(test_round_trip_random_iv),
        cmocka_unit_test(test_block_edges_canonical),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_bad_outer_base64),
        cmocka_unit_test(test_bad_inner_base64),
        cmocka_unit_test(test_short_inner),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_crlf_in_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
