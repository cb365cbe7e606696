/* test_keydist.c - the distributor key and /setkey signatures: the Go-made vectors (key given as
 * base64 of PEM and as a PEM file), refusals with Go's texts, and a 4092-bit e = 3 key made here,
 * signed with PSS salt lengths 0, 32 and max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tee/keydist.h"
#include "util/b64.h"

static const char bad_sig_msg[] =
    "invalid signature: failed to verify the signature: crypto/rsa: verification error";

/* ---- helpers ---- */

struct setkey_vectors {
    json_t *root;
    const char *pem;
    const char *key, *sig, *key2, *sig2;
};

static const char *member_str(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        fail_msg("member \"%s\" is not a string", name);
    return json_string_value(v);
}

static struct setkey_vectors load_setkey(void)
{
    const char *path = getenv("TW_VECTORS");
    json_error_t jerr;
    struct setkey_vectors v;

    if (!path)
        fail_msg("TW_VECTORS is not set");
    v.root = json_load_file(path, 0, &jerr);
    if (!v.root)
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    const json_t *sk = json_object_get(v.root, "setkey");
    v.pem = member_str(sk, "distributor_public_key_pem");
    v.key = member_str(sk, "key");
    v.sig = member_str(sk, "signature");
    v.key2 = member_str(sk, "key2");
    v.sig2 = member_str(sk, "signature2");
    return v;
}

static char *b64_of(const void *data, size_t n)
{
    char *s = b64_encode_alloc(data, n);
    assert_non_null(s);
    return s;
}

/* Loads a keydist from base64 of pem; fails the test when it does not load. */
static struct keydist *load_b64_pem(const char *pem, size_t pemlen)
{
    char err[256] = "";
    char *value = b64_of(pem, pemlen);
    struct keydist *kd = keydist_load(value, err, sizeof err);

    if (!kd)
        fail_msg("keydist_load failed: %s", err);
    free(value);
    return kd;
}

static void assert_load_fails(const char *value, const char *want_prefix)
{
    char err[256] = "";

    assert_null(keydist_load(value, err, sizeof err));
    if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, want_prefix);
}

static void assert_pem_refused(const char *pem, size_t pemlen, const char *want_prefix)
{
    char *value = b64_of(pem, pemlen);
    assert_load_fails(value, want_prefix);
    free(value);
}

static int verify(const struct keydist *kd, const char *msg, const char *sig, char *err, size_t errlen)
{
    return keydist_verify(kd, (const uint8_t *)msg, strlen(msg), sig, strlen(sig), err, errlen);
}

static void assert_verifies(const struct keydist *kd, const char *msg, const char *sig)
{
    char err[256] = "";

    if (verify(kd, msg, sig, err, sizeof err) != 0)
        fail_msg("signature refused: %s", err);
}

static void assert_refused(const struct keydist *kd, const char *msg, const char *sig, const char *want)
{
    char err[256] = "";

    assert_int_equal(verify(kd, msg, sig, err, sizeof err), -1);
    assert_string_equal(err, want);
}

/* Writes the contents of a BIO into a new NUL-terminated string. */
static char *bio_to_string(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

static char *pem_with_type(const char *type, const uint8_t *der, size_t derlen, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_true(PEM_write_bio(bio, type, "", der, (long)derlen) > 0);
    char *s = bio_to_string(bio, len);
    BIO_free(bio);
    return s;
}

/* PEM of pkey's public half, in the given structure ("SubjectPublicKeyInfo" or "type-specific"). */
static char *public_pem(EVP_PKEY *pkey, const char *structure, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_PUBLIC_KEY, "PEM",
                                                           structure, NULL);
    assert_non_null(bio);
    assert_non_null(ectx);
    assert_int_equal(OSSL_ENCODER_to_bio(ectx, bio), 1);
    char *s = bio_to_string(bio, len);
    OSSL_ENCODER_CTX_free(ectx);
    BIO_free(bio);
    return s;
}

static EVP_PKEY *parse_vector_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    assert_non_null(bio);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(pkey);
    BIO_free(bio);
    return pkey;
}

/* ---- the Go vectors ---- */

static void check_vector_signatures(const struct keydist *kd, const struct setkey_vectors *v)
{
    assert_verifies(kd, v->key, v->sig);
    assert_verifies(kd, v->key2, v->sig2);
    assert_refused(kd, v->key, v->sig2, bad_sig_msg);
    assert_refused(kd, v->key2, v->sig, bad_sig_msg);
}

static void test_vector_key_as_base64_pem(void **state)
{
    struct setkey_vectors v = load_setkey();
    struct keydist *kd = load_b64_pem(v.pem, strlen(v.pem));

    (void)state;
    check_vector_signatures(kd, &v);
    keydist_free(kd);
    json_decref(v.root);
}

static void test_vector_key_as_path(void **state)
{
    struct setkey_vectors v = load_setkey();
    char path[] = "/tmp/test_keydist_XXXXXX";
    char err[256] = "";
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, v.pem, strlen(v.pem)), (ssize_t)strlen(v.pem));
    close(fd);
    struct keydist *kd = keydist_load(path, err, sizeof err);
    unlink(path);
    if (!kd)
        fail_msg("keydist_load(path) failed: %s", err);
    check_vector_signatures(kd, &v);
    keydist_free(kd);
    json_decref(v.root);
}

static void test_leading_text_and_later_blocks(void **state)
{
    struct setkey_vectors v = load_setkey();
    size_t n = strlen(v.pem);
    char *text = malloc(2 * n + 64);

    (void)state;
    assert_non_null(text);
    /* Text before the first block is skipped (as Go's pem.Decode does); later blocks are ignored. */
    snprintf(text, 2 * n + 64, "distributor key\n%s%s", v.pem, v.pem);
    struct keydist *kd = load_b64_pem(text, strlen(text));
    assert_verifies(kd, v.key, v.sig);
    keydist_free(kd);
    free(text);
    json_decref(v.root);
}

static void test_tampered_and_bad_signatures(void **state)
{
    struct setkey_vectors v = load_setkey();
    struct keydist *kd = load_b64_pem(v.pem, strlen(v.pem));
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    char err[256] = "";

    (void)state;
    assert_int_equal(b64_decode(v.sig, strlen(v.sig), &raw, &rawlen, NULL, 0), 0);
    assert_int_equal(rawlen, 256);
    raw[100] ^= 0x04;
    char *tampered = b64_of(raw, rawlen);
    assert_refused(kd, v.key, tampered, bad_sig_msg);
    raw[100] ^= 0x04;
    char *truncated = b64_of(raw, rawlen - 1);
    assert_refused(kd, v.key, truncated, bad_sig_msg);
    assert_refused(kd, v.key, "", bad_sig_msg);
    /* A different message (one byte changed) does not verify. */
    assert_refused(kd, "0123456789abcdef0123456789abcdeF", v.sig, bad_sig_msg);

    assert_refused(kd, v.key, "abc$",
                   "invalid signature: failed to decode the signature: illegal base64 data at input byte 3");
    assert_refused(kd, v.key, "abc",
                   "invalid signature: failed to decode the signature: illegal base64 data at input byte 0");
    assert_int_equal(keydist_verify(kd, NULL, 0, NULL, 0, err, sizeof err), -1);
    assert_string_equal(err, bad_sig_msg);
    free(truncated);
    free(tampered);
    free(raw);
    keydist_free(kd);
    json_decref(v.root);
}

/* ---- refused keys ---- */

static void test_rsa_public_key_block_refused(void **state)
{
    struct setkey_vectors v = load_setkey();
    EVP_PKEY *pkey = parse_vector_key(v.pem);
    size_t len = 0;
    char *pkcs1 = public_pem(pkey, "type-specific", &len);

    (void)state;
    assert_non_null(strstr(pkcs1, "-----BEGIN RSA PUBLIC KEY-----"));
    assert_pem_refused(pkcs1, len, "failed to decode PEM block containing public key");
    free(pkcs1);
    EVP_PKEY_free(pkey);
    json_decref(v.root);
}

static void test_ec_key_refused(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    size_t len = 0;

    (void)state;
    assert_non_null(ec);
    char *pem = public_pem(ec, "SubjectPublicKeyInfo", &len);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    char *value = b64_of(pem, len);
    char err[256] = "";
    assert_null(keydist_load(value, err, sizeof err));
    assert_string_equal(err, "key is not an RSA key");
    free(value);
    free(pem);
    EVP_PKEY_free(ec);
}

static void test_bad_der_refused(void **state)
{
    struct setkey_vectors v = load_setkey();
    EVP_PKEY *pkey = parse_vector_key(v.pem);
    uint8_t *der = NULL;
    int derlen = i2d_PUBKEY(pkey, &der);
    size_t len = 0;

    (void)state;
    assert_true(derlen > 0);
    uint8_t *longer = malloc((size_t)derlen + 1);
    assert_non_null(longer);
    memcpy(longer, der, (size_t)derlen);
    longer[derlen] = 0;
    char *pem = pem_with_type("PUBLIC KEY", longer, (size_t)derlen + 1, &len);
    assert_pem_refused(pem, len, "failed to parse public key: x509: trailing data after ASN.1 of public-key");
    free(pem);
    pem = pem_with_type("PUBLIC KEY", (const uint8_t *)"\x30\x03\x02\x01\x01", 5, &len);
    assert_pem_refused(pem, len, "failed to parse public key: ");
    free(pem);
    free(longer);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    json_decref(v.root);
}

static void test_garbage_and_empty_refused(void **state)
{
    static const char *const no_pem[] = {
        "hello world",
        "-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof no_pem / sizeof no_pem[0]; i++)
        assert_pem_refused(no_pem[i], strlen(no_pem[i]), "failed to decode PEM block containing public key");
    assert_load_fails("not base64!", "failed to decode key distributor public key: illegal base64 data at input byte 3");
    assert_load_fails("/nonexistent/kb.pub", "failed to decode key distributor public key: cannot read file /nonexistent/kb.pub: No such file or directory");
    assert_load_fails("not/a/path!", "failed to decode key distributor public key: illegal base64 data at input byte 10");
    assert_load_fails("\r\n", "failed to decode PEM block containing public key");
    assert_load_fails("", "failed to decode key distributor public key: no key provided");
    assert_load_fails(NULL, "failed to decode key distributor public key: no key provided");
    keydist_free(NULL);
}

static void test_oversized_file_refused(void **state)
{
    char path[] = "/tmp/test_keydist_XXXXXX";
    char err[256] = "";
    char block[4096];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    memset(block, 'A', sizeof block);
    for (int i = 0; i < 20; i++)
        assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    close(fd);
    assert_null(keydist_load(path, err, sizeof err));
    unlink(path);
    assert_non_null(strstr(err, "failed to decode key distributor public key: cannot read "));
    assert_non_null(strstr(err, ": file too large"));
}

/* ---- a production-shaped key: RSA 4092-bit, e = 3 ---- */

static EVP_PKEY *generate_rsa_e3(unsigned int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BIGNUM *e = BN_new();
    EVP_PKEY *pkey = NULL;

    assert_non_null(ctx);
    assert_non_null(e);
    assert_int_equal(BN_set_word(e, 3), 1);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e), 1);
    assert_int_equal(EVP_PKEY_generate(ctx, &pkey), 1);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* RSA-PSS SHA-256 signature of msg with the given salt length, base64-encoded (new string). */
static char *sign_pss(EVP_PKEY *priv, const char *msg, int saltlen, size_t *rawlen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t siglen = 0;

    assert_non_null(md);
    assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, priv), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
    assert_int_equal(EVP_DigestSign(md, NULL, &siglen, (const uint8_t *)msg, strlen(msg)), 1);
    uint8_t *sig = malloc(siglen);
    assert_non_null(sig);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (const uint8_t *)msg, strlen(msg)), 1);
    char *b64 = b64_of(sig, siglen);
    *rawlen = siglen;
    free(sig);
    EVP_MD_CTX_free(md);
    return b64;
}

static void test_rsa_4092_e3_salt_lengths(void **state)
{
    static const char key[] = "0123456789abcdef0123456789abcdef";
    static const int salts[] = { 0, 32, RSA_PSS_SALTLEN_MAX };
    EVP_PKEY *priv = generate_rsa_e3(4092);
    size_t pemlen = 0, siglen = 0;

    (void)state;
    assert_int_equal(EVP_PKEY_get_bits(priv), 4092);
    char *pem = public_pem(priv, "SubjectPublicKeyInfo", &pemlen);
    struct keydist *kd = load_b64_pem(pem, pemlen);
    for (size_t i = 0; i < sizeof salts / sizeof salts[0]; i++) {
        char *sig = sign_pss(priv, key, salts[i], &siglen);
        assert_int_equal(siglen, 512);
        assert_verifies(kd, key, sig);
        assert_refused(kd, "fedcba9876543210fedcba9876543210", sig, bad_sig_msg);
        free(sig);
    }
    keydist_free(kd);
    free(pem);
    EVP_PKEY_free(priv);
}

/* A distributor key whose modulus can be factored lets anyone sign ring keys: below 2048 bits it
 * is refused at load, whatever else is right about it. */
static void test_short_modulus_refused(void **state)
{
    static const unsigned int sizes[] = { 512, 1024, 2040 };
    size_t pemlen = 0;

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        EVP_PKEY *priv = generate_rsa_e3(sizes[i]);
        char *pem = public_pem(priv, "SubjectPublicKeyInfo", &pemlen);
        assert_pem_refused(pem, pemlen, "failed to parse public key: RSA modulus of ");
        free(pem);
        EVP_PKEY_free(priv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_key_as_base64_pem),
        cmocka_unit_test(test_vector_key_as_path),
        cmocka_unit_test(test_leading_text_and_later_blocks),
        cmocka_unit_test(test_tampered_and_bad_signatures),
        cmocka_unit_test(test_rsa_public_key_block_refused),
        cmocka_unit_test(test_ec_key_refused),
        cmocka_unit_test(test_bad_der_refused),
        cmocka_unit_test(test_garbage_and_empty_refused),
        cmocka_unit_test(test_oversized_file_refused),
        cmocka_unit_test(test_rsa_4092_e3_salt_lengths),
        cmocka_unit_test(test_short_modulus_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
