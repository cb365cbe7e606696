/* ratls.c - builds one attested TLS identity (ratls.h) with OpenSSL.
 *
 * Order matters: the key comes first, its SubjectPublicKeyInfo is hashed into the report data,
 * the platform produces the quote over that, and only then is the certificate assembled around
 * the same key, so the quote in the certificate always names the key that signs the handshake.
 * The TCG DICE evidence needs a second quote, over the hash of the claims that name the key.
 * Subject and issuer are CN=tee-worker; the serial is 127 random bits; basicConstraints CA:FALSE. */
#include "tee/ratls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tee/platform.h"
#include "util/crypto.h"

#define NOT_BEFORE_SLACK_S 300   /* clocks of clients may lag */

/* bio_text returns the contents of a memory BIO as a new NUL-terminated string. */
static char *bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;

    if (out != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    return out;
}

static EVP_PKEY *new_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* report_data_of fills rd with SHA-256 of the DER SubjectPublicKeyInfo of key, then zeros. */
static int report_data_of(EVP_PKEY *key, uint8_t rd[64])
{
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(key, &spki);

    if (n <= 0)
        return -1;
    memset(rd, 0, 64);
    crypto_sha256(spki, (size_t)n, rd);
    OPENSSL_free(spki);
    return 0;
}

/* ---- TCG DICE tagged evidence (a few fixed CBOR shapes, written by hand) ---- */

#define CBOR_MAX_HEADER 9
#define CLAIMS_LEN (1 + 1 + 11 + 2 + 36)     /* map(1) "pubkey-hash" bstr(36) */

/* cbor_head writes the head of a major type with argument n; returns its length. */
static size_t cbor_head(uint8_t *out, uint8_t major, uint64_t n)
{
    uint8_t m = (uint8_t)(major << 5);
    size_t len, i;

    if (n < 24) {
        out[0] = m | (uint8_t)n;
        return 1;
    }
    len = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffu ? 4 : 8;
    out[0] = m | (uint8_t)(len == 1 ? 24 : len == 2 ? 25 : len == 4 ? 26 : 27);
    for (i = 0; i < len; i++)
        out[1 + i] = (uint8_t)(n >> (8 * (len - 1 - i)));
    return 1 + len;
}

/* claims_of writes {"pubkey-hash": bstr([1, bstr(spki_hash)])} into out (CLAIMS_LEN bytes). */
static void claims_of(const uint8_t spki_hash[32], uint8_t out[CLAIMS_LEN])
{
    size_t n = 0;

    n += cbor_head(out + n, 5, 1);                     /* map, one pair */
    n += cbor_head(out + n, 3, 11);                    /* text "pubkey-hash" */
    memcpy(out + n, "pubkey-hash", 11);
    n += 11;
    n += cbor_head(out + n, 2, 36);                    /* bstr: the serialized hash-entry */
    n += cbor_head(out + n, 4, 2);                     /* [ */
    n += cbor_head(out + n, 0, 1);                     /*   1 (IANA named information: SHA-256) */
    n += cbor_head(out + n, 2, 32);                    /*   bstr(hash) */
    memcpy(out + n, spki_hash, 32);                    /* ] */
}

/* evidence_of wraps quote and claims as tag(60000, [bstr(quote), bstr(claims)]). Returns a new
 * buffer (caller frees) or NULL. */
static uint8_t *evidence_of(const uint8_t *quote, size_t quote_len, const uint8_t *claims,
                            size_t claims_len, size_t *len)
{
    uint8_t *out = malloc(4 * CBOR_MAX_HEADER + quote_len + claims_len);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    n += cbor_head(out + n, 6, RATLS_EVIDENCE_CBOR_TAG);
    n += cbor_head(out + n, 4, 2);
    n += cbor_head(out + n, 2, quote_len);
    memcpy(out + n, quote, quote_len);
    n += quote_len;
    n += cbor_head(out + n, 2, claims_len);
    memcpy(out + n, claims, claims_len);
    *len = n + claims_len;
    return out;
}

/* add_evidence asks for the second quote (over SHA-256 of the claims) and fills c->evidence.
 * Returns 0 or -1 with err. */
static int add_evidence(const struct platform *p, struct ratls_cert *c, char *err, size_t errlen)
{
    uint8_t claims[CLAIMS_LEN], rd[64] = { 0 }, *quote = NULL;
    size_t quote_len = 0;

    claims_of(c->report_data, claims);
    crypto_sha256(claims, sizeof claims, rd);
    if (platform_quote(p, rd, &quote, &quote_len, err, errlen) != 0)
        return -1;
    c->evidence = evidence_of(quote, quote_len, claims, sizeof claims, &c->evidence_len);
    free(quote);
    if (c->evidence == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int set_serial(X509 *x)
{
    unsigned char raw[16];
    BIGNUM *bn;
    int ok;

    if (crypto_random(raw, sizeof raw) != 0)
        return -1;
    raw[0] &= 0x7f;   /* positive, below 2^127 */
    raw[0] |= 0x40;   /* and never short */
    bn = BN_bin2bn(raw, sizeof raw, NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

/* add_raw_extension adds a non-critical extension oid whose value is the given bytes. */
static int add_raw_extension(X509 *x, const char *oid_text, const uint8_t *quote, size_t len)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    int ok = oid != NULL && value != NULL && len <= INT32_MAX &&
             ASN1_OCTET_STRING_set(value, quote, (int)len) == 1 &&
             (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value)) != NULL &&
             X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
    return ok ? 0 : -1;
}

static int add_basic_constraints(X509 *x)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "CA:FALSE");
    int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* build_cert assembles and signs the certificate for key. */
static X509 *build_cert(EVP_PKEY *key, const struct ratls_cert *c)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x != NULL && name != NULL && X509_set_version(x, 2) == 1 && set_serial(x) == 0 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"tee-worker", -1, -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
             ASN1_TIME_set(X509_getm_notBefore(x), c->not_before) != NULL &&
             ASN1_TIME_set(X509_getm_notAfter(x), c->not_after) != NULL &&
             X509_set_pubkey(x, key) == 1 && add_basic_constraints(x) == 0 &&
             (c->quote == NULL ||
              add_raw_extension(x, RATLS_QUOTE_OID, c->quote, c->quote_len) == 0) &&
             (c->evidence == NULL ||
              add_raw_extension(x, RATLS_EVIDENCE_OID, c->evidence, c->evidence_len) == 0) &&
             X509_sign(x, key, EVP_sha256()) > 0;

    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* export fills the PEM and DER forms of key and x into c. */
static int export(EVP_PKEY *key, X509 *x, struct ratls_cert *c)
{
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    unsigned char *der = NULL;
    int n, ok = kb != NULL && cb != NULL &&
                PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1 &&
                PEM_write_bio_X509(cb, x) == 1;

    if (ok) {
        c->key_pem = bio_text(kb);
        c->cert_pem = bio_text(cb);
        n = i2d_X509(x, &der);
        if (n > 0 && (c->cert_der = malloc((size_t)n)) != NULL) {
            memcpy(c->cert_der, der, (size_t)n);
            c->cert_der_len = (size_t)n;
        }
        OPENSSL_free(der);
        ok = c->key_pem != NULL && c->cert_pem != NULL && c->cert_der != NULL;
    }
    if (kb != NULL) {
        char *data = NULL;
        long len = BIO_get_mem_data(kb, &data);
        if (len > 0)
            crypto_wipe(data, (size_t)len);
    }
    BIO_free(kb);
    BIO_free(cb);
    return ok ? 0 : -1;
}

struct ratls_cert *ratls_create(const struct platform *p, unsigned validity_s, char *err,
                                size_t errlen)
{
    struct ratls_cert *c = calloc(1, sizeof *c);
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int rc;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    key = new_key();
    if (key == NULL || report_data_of(key, c->report_data) != 0) {
        snprintf(err, errlen, "cannot create the TLS key pair (libcrypto)");
        goto fail;
    }
    rc = platform_quote(p, c->report_data, &c->quote, &c->quote_len, err, errlen);
    if (rc < 0)
        goto fail;
    if (rc > 0) {           /* this platform cannot attest: a plain self-signed certificate */
        c->quote = NULL;
        c->quote_len = 0;
    } else if (add_evidence(p, c, err, errlen) != 0) {
        goto fail;
    }
    c->not_before = time(NULL) - NOT_BEFORE_SLACK_S;
    c->not_after = time(NULL) + (time_t)validity_s;
    x = build_cert(key, c);
    if (x == NULL || export(key, x, c) != 0) {
        snprintf(err, errlen, "cannot build the TLS certificate (libcrypto)");
        goto fail;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return c;
fail:
    X509_free(x);
    EVP_PKEY_free(key);
    ratls_free(c);
    return NULL;
}

void ratls_free(struct ratls_cert *c)
{
    if (c == NULL)
        return;
    if (c->key_pem != NULL) {
        crypto_wipe(c->key_pem, strlen(c->key_pem));
        free(c->key_pem);
    }
    free(c->cert_pem);
    free(c->cert_der);
    free(c->quote);
    free(c->evidence);
    free(c);
}
