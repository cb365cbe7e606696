/* libcrypto_lazy.c - the OpenSSL libcrypto functions the worker calls, forwarding to libcrypto
 * opened on first use.
 *
 * Sealing does not use libcrypto (util/crypto.c is on nettle). What does is the key distributor's
 * public key and its RSA-PSS signatures (tee/keydist.c) and the enclave's X.509 certificate
 * (tee/ratls.c): a standalone worker without a distributor key never opens libcrypto, and saves
 * its relocations and symbol look-ups (≈ 1.4 MB resident). libcurl's libssl, when a job fetches
 * over TLS, links the same libcrypto, so there is only ever one copy in the process.
 *
 * Each function below has the name and the prototype of the real one (the headers are included,
 * so the compiler checks them) and calls it through an address resolved once (util/lazy_lib.h).
 * The first call of any of them opens libcrypto and starts it without its table of error texts,
 * which the worker never prints (≈ 0.4 MB). The list is what src/ calls: a new libcrypto function
 * needs a stub here (the link fails until it has one) and a line in LIBCRYPTO_SYMBOLS;
 * test_lazy_lib checks that every symbol listed resolves. */
#include "tee/libcrypto_lazy.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBCRYPTO_SONAME
#define TW_LIBCRYPTO_SONAME "libcrypto.so.3"    /* Debian 12; meson passes the one it found */
#endif

#define LIBCRYPTO_SYMBOLS(X) \
    X(ASN1_OBJECT_free) X(ASN1_OCTET_STRING_free) X(ASN1_OCTET_STRING_new) \
    X(ASN1_OCTET_STRING_set) X(ASN1_TIME_set) \
    X(BIO_ctrl) X(BIO_free) X(BIO_new) X(BIO_new_mem_buf) X(BIO_s_mem) \
    X(BN_bin2bn) X(BN_free) X(BN_get_word) X(BN_is_negative) X(BN_is_zero) X(BN_num_bits) \
    X(BN_to_ASN1_INTEGER) \
    X(CRYPTO_free) X(ERR_clear_error) \
    X(EVP_DigestVerify) X(EVP_DigestVerifyInit) X(EVP_MD_CTX_free) X(EVP_MD_CTX_new) \
    X(EVP_PKEY_CTX_set_rsa_mgf1_md) X(EVP_PKEY_CTX_set_rsa_padding) \
    X(EVP_PKEY_CTX_set_rsa_pss_saltlen) X(EVP_PKEY_Q_keygen) X(EVP_PKEY_free) \
    X(EVP_PKEY_get_bn_param) X(EVP_PKEY_get_size) X(EVP_PKEY_is_a) X(EVP_sha256) \
    X(OBJ_txt2obj) X(OPENSSL_init_crypto) \
    X(PEM_read_bio) X(PEM_write_bio_PrivateKey) X(PEM_write_bio_X509) \
    X(X509V3_EXT_conf_nid) X(X509_EXTENSION_create_by_OBJ) X(X509_EXTENSION_free) \
    X(X509_NAME_add_entry_by_txt) X(X509_NAME_free) X(X509_NAME_new) X(X509_add_ext) \
    X(X509_free) X(X509_get_serialNumber) X(X509_getm_notAfter) X(X509_getm_notBefore) \
    X(X509_new) X(X509_set_issuer_name) X(X509_set_pubkey) X(X509_set_subject_name) \
    X(X509_set_version) X(X509_sign) \
    X(d2i_PUBKEY) X(i2d_PUBKEY) X(i2d_X509)

enum { LIBCRYPTO_SYMBOLS(LAZY_SYM_ENUM) LIBCRYPTO_SYMBOL_COUNT };
static struct lazy_sym syms[LIBCRYPTO_SYMBOL_COUNT] = { LIBCRYPTO_SYMBOLS(LAZY_SYM_ENTRY) };

/* Started once, right after dlopen, before any other call: without the error texts. */
static int init_libcrypto(void *handle, char *err, size_t errlen)
{
    __typeof__(&OPENSSL_init_crypto) init =
        (__typeof__(&OPENSSL_init_crypto))dlsym(handle, "OPENSSL_init_crypto");
    if (!init) {
        snprintf(err, errlen, "%s", dlerror());
        return -1;
    }
    if (init(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) != 1) {
        snprintf(err, errlen, "OPENSSL_init_crypto failed");
        return -1;
    }
    return 0;
}

static struct lazy_lib libcrypto_lib = LAZY_LIB_INIT(TW_LIBCRYPTO_SONAME,
    "the key distributor's signatures (KEY_DISTRIBUTOR_PUBKEY) and the enclave's certificate",
    init_libcrypto);

/* REAL(name): libcrypto's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&libcrypto_lib, &syms[LAZY_SYM_##name]))

bool libcrypto_lazy_loaded(void)
{
    return lazy_lib_loaded(&libcrypto_lib);
}

int libcrypto_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&libcrypto_lib, syms, LIBCRYPTO_SYMBOL_COUNT, err, errlen);
}

/* ---- ASN.1 and objects ------------------------------------------------------------------- */

void ASN1_OBJECT_free(ASN1_OBJECT *a) { REAL(ASN1_OBJECT_free)(a); }
void ASN1_OCTET_STRING_free(ASN1_OCTET_STRING *a) { REAL(ASN1_OCTET_STRING_free)(a); }
ASN1_OCTET_STRING *ASN1_OCTET_STRING_new(void) { return REAL(ASN1_OCTET_STRING_new)(); }

int ASN1_OCTET_STRING_set(ASN1_OCTET_STRING *str, const unsigned char *data, int len)
{
    return REAL(ASN1_OCTET_STRING_set)(str, data, len);
}

ASN1_TIME *ASN1_TIME_set(ASN1_TIME *s, time_t t) { return REAL(ASN1_TIME_set)(s, t); }

ASN1_OBJECT *OBJ_txt2obj(const char *s, int no_name) { return REAL(OBJ_txt2obj)(s, no_name); }

/* ---- BIO, BIGNUM, memory, errors --------------------------------------------------------- */

long BIO_ctrl(BIO *bp, int cmd, long larg, void *parg)
{
    return REAL(BIO_ctrl)(bp, cmd, larg, parg);
}
int BIO_free(BIO *a) { return REAL(BIO_free)(a); }
BIO *BIO_new(const BIO_METHOD *type) { return REAL(BIO_new)(type); }
BIO *BIO_new_mem_buf(const void *buf, int len) { return REAL(BIO_new_mem_buf)(buf, len); }
const BIO_METHOD *BIO_s_mem(void) { return REAL(BIO_s_mem)(); }

BIGNUM *BN_bin2bn(const unsigned char *s, int len, BIGNUM *ret)
{
    return REAL(BN_bin2bn)(s, len, ret);
}

void BN_free(BIGNUM *a) { REAL(BN_free)(a); }
BN_ULONG BN_get_word(const BIGNUM *a) { return REAL(BN_get_word)(a); }
int BN_is_negative(const BIGNUM *b) { return REAL(BN_is_negative)(b); }
int BN_is_zero(const BIGNUM *a) { return REAL(BN_is_zero)(a); }
int BN_num_bits(const BIGNUM *a) { return REAL(BN_num_bits)(a); }

ASN1_INTEGER *BN_to_ASN1_INTEGER(const BIGNUM *bn, ASN1_INTEGER *ai)
{
    return REAL(BN_to_ASN1_INTEGER)(bn, ai);
}

void CRYPTO_free(void *ptr, const char *file, int line) { REAL(CRYPTO_free)(ptr, file, line); }
void ERR_clear_error(void) { REAL(ERR_clear_error)(); }

int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings)
{
    return REAL(OPENSSL_init_crypto)(opts, settings);
}

/* ---- keys, digests, signatures ------------------------------------------------------------ */

int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sigret, size_t siglen,
                     const unsigned char *tbs, size_t tbslen)
{
    return REAL(EVP_DigestVerify)(ctx, sigret, siglen, tbs, tbslen);
}

int EVP_DigestVerifyInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e,
                         EVP_PKEY *pkey)
{
    return REAL(EVP_DigestVerifyInit)(ctx, pctx, type, e, pkey);
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx) { REAL(EVP_MD_CTX_free)(ctx); }
EVP_MD_CTX *EVP_MD_CTX_new(void) { return REAL(EVP_MD_CTX_new)(); }

int EVP_PKEY_CTX_set_rsa_mgf1_md(EVP_PKEY_CTX *ctx, const EVP_MD *md)
{
    return REAL(EVP_PKEY_CTX_set_rsa_mgf1_md)(ctx, md);
}

int EVP_PKEY_CTX_set_rsa_padding(EVP_PKEY_CTX *ctx, int pad_mode)
{
    return REAL(EVP_PKEY_CTX_set_rsa_padding)(ctx, pad_mode);
}

int EVP_PKEY_CTX_set_rsa_pss_saltlen(EVP_PKEY_CTX *ctx, int saltlen)
{
    return REAL(EVP_PKEY_CTX_set_rsa_pss_saltlen)(ctx, saltlen);
}

/* The variadic key generator takes, after the type, the curve name for "EC" and "SM2" and the
 * number of bits (size_t) for "RSA" and "RSA-PSS"; other types take nothing more. */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
    va_list ap;
    va_start(ap, type);
    EVP_PKEY *key;
    if (strcmp(type, "EC") == 0 || strcmp(type, "SM2") == 0)
        key = REAL(EVP_PKEY_Q_keygen)(libctx, propq, type, va_arg(ap, const char *));
    else if (strcmp(type, "RSA") == 0 || strcmp(type, "RSA-PSS") == 0)
        key = REAL(EVP_PKEY_Q_keygen)(libctx, propq, type, va_arg(ap, size_t));
    else
        key = REAL(EVP_PKEY_Q_keygen)(libctx, propq, type);
    va_end(ap);
    return key;
}

void EVP_PKEY_free(EVP_PKEY *pkey) { REAL(EVP_PKEY_free)(pkey); }

int EVP_PKEY_get_bn_param(const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn)
{
    return REAL(EVP_PKEY_get_bn_param)(pkey, key_name, bn);
}

int EVP_PKEY_get_size(const EVP_PKEY *pkey) { return REAL(EVP_PKEY_get_size)(pkey); }
int EVP_PKEY_is_a(const EVP_PKEY *pkey, const char *name)
{
    return REAL(EVP_PKEY_is_a)(pkey, name);
}
const EVP_MD *EVP_sha256(void) { return REAL(EVP_sha256)(); }

EVP_PKEY *d2i_PUBKEY(EVP_PKEY **a, const unsigned char **pp, long length)
{
    return REAL(d2i_PUBKEY)(a, pp, length);
}

int i2d_PUBKEY(const EVP_PKEY *a, unsigned char **pp) { return REAL(i2d_PUBKEY)(a, pp); }

/* ---- PEM ---------------------------------------------------------------------------------- */

int PEM_read_bio(BIO *bp, char **name, char **header, unsigned char **data, long *len)
{
    return REAL(PEM_read_bio)(bp, name, header, data, len);
}

int PEM_write_bio_PrivateKey(BIO *out, const EVP_PKEY *x, const EVP_CIPHER *enc,
                             const unsigned char *kstr, int klen, pem_password_cb *cb, void *u)
{
    return REAL(PEM_write_bio_PrivateKey)(out, x, enc, kstr, klen, cb, u);
}

int PEM_write_bio_X509(BIO *out, const X509 *x) { return REAL(PEM_write_bio_X509)(out, x); }

/* ---- X.509 certificates ------------------------------------------------------------------- */

X509_EXTENSION *X509V3_EXT_conf_nid(LHASH_OF(CONF_VALUE) *conf, X509V3_CTX *ctx, int ext_nid,
                                    const char *value)
{
    return REAL(X509V3_EXT_conf_nid)(conf, ctx, ext_nid, value);
}

X509_EXTENSION *X509_EXTENSION_create_by_OBJ(X509_EXTENSION **ex, const ASN1_OBJECT *obj, int crit,
                                             ASN1_OCTET_STRING *data)
{
    return REAL(X509_EXTENSION_create_by_OBJ)(ex, obj, crit, data);
}

void X509_EXTENSION_free(X509_EXTENSION *a) { REAL(X509_EXTENSION_free)(a); }

int X509_NAME_add_entry_by_txt(X509_NAME *name, const char *field, int type,
                               const unsigned char *bytes, int len, int loc, int set)
{
    return REAL(X509_NAME_add_entry_by_txt)(name, field, type, bytes, len, loc, set);
}

void X509_NAME_free(X509_NAME *a) { REAL(X509_NAME_free)(a); }
X509_NAME *X509_NAME_new(void) { return REAL(X509_NAME_new)(); }
int X509_add_ext(X509 *x, X509_EXTENSION *ex, int loc) { return REAL(X509_add_ext)(x, ex, loc); }
void X509_free(X509 *a) { REAL(X509_free)(a); }
ASN1_INTEGER *X509_get_serialNumber(X509 *x) { return REAL(X509_get_serialNumber)(x); }
ASN1_TIME *X509_getm_notAfter(const X509 *x) { return REAL(X509_getm_notAfter)(x); }
ASN1_TIME *X509_getm_notBefore(const X509 *x) { return REAL(X509_getm_notBefore)(x); }
X509 *X509_new(void) { return REAL(X509_new)(); }

int X509_set_issuer_name(X509 *x, const X509_NAME *name)
{
    return REAL(X509_set_issuer_name)(x, name);
}

int X509_set_pubkey(X509 *x, EVP_PKEY *pkey) { return REAL(X509_set_pubkey)(x, pkey); }

int X509_set_subject_name(X509 *x, const X509_NAME *name)
{
    return REAL(X509_set_subject_name)(x, name);
}

int X509_set_version(X509 *x, long version) { return REAL(X509_set_version)(x, version); }

int X509_sign(X509 *x, EVP_PKEY *pkey, const EVP_MD *md) { return REAL(X509_sign)(x, pkey, md); }

int i2d_X509(const X509 *a, unsigned char **out) { return REAL(i2d_X509)(a, out); }
