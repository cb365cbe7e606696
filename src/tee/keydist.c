/* keydist.c - the key distributor's RSA public key and the RSA-PSS check of /setkey signatures.
 *
 * Loading follows Go's order of failures: the configured value (a PEM file path, else base64 of
 * the PEM text) -> the first PEM block, which must be "PUBLIC KEY" -> a SubjectPublicKeyInfo with
 * no trailing bytes -> an RSA key. The key is then fixed: verification only reads it, so one
 * keydist may be shared by every thread. Verification is OpenSSL's RSA-PSS with SHA-256, MGF1
 * SHA-256 and the salt length recovered from the signature (any length passes, as in Go), after
 * checking that the signature is exactly the modulus size, as Go's rsa.VerifyPSS does. A modulus
 * below KEYDIST_MIN_BITS is refused at load. */
#include "tee/keydist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/b64.h"
#include "util/file_read.h"

/* The smallest modulus accepted: a distributor key that can be factored lets anyone sign ring keys
 * (production uses 4092 bits; Go itself refuses below 1024). */
#define KEYDIST_MIN_BITS 2048

/* A PEM public key of the largest RSA modulus OpenSSL accepts (16384 bits) is under 3 KiB. */
#define KEYDIST_MAX_PEM (64 * 1024)

struct keydist {
    EVP_PKEY *pkey;
    size_t sig_len;     /* modulus size in bytes: the only signature length accepted */
};

static const char msg_decode_key[] = "failed to decode key distributor public key";
static const char msg_no_pem[] = "failed to decode PEM block containing public key";
static const char msg_parse_key[] = "failed to parse public key";
static const char msg_not_rsa[] = "key is not an RSA key";
static const char msg_bad_sig[] =
    "invalid signature: failed to verify the signature: crypto/rsa: verification error";

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_regular_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* looks_like_path: not base64 of a PEM text (which starts with "LS0t", "---") and written as a
 * path. */
static bool looks_like_path(const char *value)
{
    return strncmp(value, "LS0t", 4) != 0 && (value[0] == '/' || value[0] == '.');
}

bool keydist_value_is_path(const char *value)
{
    return value && *value && (is_regular_file(value) || looks_like_path(value));
}

/* Reads at most KEYDIST_MAX_PEM bytes of path, a regular file, into a new buffer. Returns 0 or -1
 * with err. Opened without waiting: a named pipe there would hold the start-up for ever. */
static int read_pem_file(const char *path, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;

    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open %s: %s", msg_decode_key, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        set_err(err, errlen, "%s: %s is not a regular file", msg_decode_key, path);
        return -1;
    }
    uint8_t *buf = malloc(KEYDIST_MAX_PEM + 1);
    ssize_t got = buf ? read_upto_fd(fd, buf, KEYDIST_MAX_PEM + 1) : 0;
    bool failed = !buf || got < 0;
    size_t n = got > 0 ? (size_t)got : 0;
    close(fd);
    if (failed || n > KEYDIST_MAX_PEM) {
        free(buf);
        set_err(err, errlen, "%s: cannot read %s: %s", msg_decode_key, path,
                failed ? "read error" : "file too large");
        return -1;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

/* Turns the configured value into PEM text (new buffer). Returns 0 or -1 with err. */
static int value_to_pem(const char *value, uint8_t **pem, size_t *pemlen, char *err, size_t errlen)
{
    char b64err[128];

    if (!value || !*value) {
        set_err(err, errlen, "%s: no key provided", msg_decode_key);
        return -1;
    }
    if (is_regular_file(value))
        return read_pem_file(value, pem, pemlen, err, errlen);
    /* anything else that looks like a path is a file that is missing, and saying so beats a
     * base64 error */
    if (looks_like_path(value)) {
        set_err(err, errlen, "%s: cannot read file %s: %s", msg_decode_key, value,
                strerror(errno ? errno : ENOENT));
        return -1;
    }
    if (b64_decode(value, strlen(value), pem, pemlen, b64err, sizeof b64err) != 0) {
        set_err(err, errlen, "%s: %s", msg_decode_key, b64err);
        return -1;
    }
    if (*pemlen > KEYDIST_MAX_PEM) {
        free(*pem);
        set_err(err, errlen, "%s: key is larger than %d bytes", msg_decode_key, KEYDIST_MAX_PEM);
        return -1;
    }
    return 0;
}

/* Extracts the DER bytes of the first PEM block, which must be of type "PUBLIC KEY". The result
 * is allocated by OpenSSL (free with OPENSSL_free). Returns 0 or -1. */
static int first_public_key_block(const uint8_t *pem, size_t pemlen, unsigned char **der,
                                  long *derlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pemlen);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    int rc = -1;

    if (bio && PEM_read_bio(bio, &name, &header, &data, &len) == 1
        && strcmp(name, "PUBLIC KEY") == 0) {
        *der = data;
        *derlen = len;
        data = NULL;
        rc = 0;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    return rc;
}

/* Parses a SubjectPublicKeyInfo that must span all of der. NULL with err on failure. */
static EVP_PKEY *parse_spki(const unsigned char *der, long derlen, char *err, size_t errlen)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, derlen);

    if (!pkey) {
        set_err(err, errlen, "%s: x509: malformed or unsupported public key", msg_parse_key);
        return NULL;
    }
    if (p != der + derlen) {
        EVP_PKEY_free(pkey);
        set_err(err, errlen, "%s: x509: trailing data after ASN.1 of public-key", msg_parse_key);
        return NULL;
    }
    return pkey;
}

/* Go's x509 knows these non-RSA algorithms; others are "unknown public key algorithm". */
static bool is_known_non_rsa(const EVP_PKEY *pkey)
{
    static const char *const names[] = { "EC", "ED25519", "X25519", "DSA" };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (EVP_PKEY_is_a(pkey, names[i]))
            return true;
    return false;
}

/* The modulus must be positive and the exponent in [2, 2^31 - 1], what Go's crypto/rsa accepts.
 * *bits receives the modulus size. */
static bool rsa_numbers_ok(const EVP_PKEY *pkey, int *bits)
{
    BIGNUM *n = NULL, *e = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1
              && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1
              && !BN_is_negative(n) && !BN_is_zero(n) && !BN_is_negative(e)
              && BN_num_bits(e) <= 31 && BN_get_word(e) >= 2;

    *bits = ok ? BN_num_bits(n) : 0;

    BN_free(n);
    BN_free(e);
    return ok;
}

/* Checks the parsed key is a usable RSA key. Returns 0 or -1 with err. */
static int check_rsa(const EVP_PKEY *pkey, char *err, size_t errlen)
{
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        if (is_known_non_rsa(pkey))
            set_err(err, errlen, "%s", msg_not_rsa);
        else
            set_err(err, errlen, "%s: x509: unknown public key algorithm", msg_parse_key);
        return -1;
    }
    int bits = 0;
    if (!rsa_numbers_ok(pkey, &bits)) {
        set_err(err, errlen, "%s: x509: unsupported RSA modulus or public exponent", msg_parse_key);
        return -1;
    }
    if (bits < KEYDIST_MIN_BITS) {
        set_err(err, errlen, "%s: RSA modulus of %d bits is too short (at least %d)", msg_parse_key,
                bits, KEYDIST_MIN_BITS);
        return -1;
    }
    return 0;
}

/* PEM text -> RSA public key. NULL with err on failure. */
static EVP_PKEY *pem_to_rsa_key(const uint8_t *pem, size_t pemlen, char *err, size_t errlen)
{
    unsigned char *der = NULL;
    long derlen = 0;
    EVP_PKEY *pkey = NULL;

    if (first_public_key_block(pem, pemlen, &der, &derlen) != 0)
        set_err(err, errlen, "%s", msg_no_pem);
    else
        pkey = parse_spki(der, derlen, err, errlen);
    if (pkey && check_rsa(pkey, err, errlen) != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OPENSSL_free(der);
    return pkey;
}

struct keydist *keydist_load(const char *value, char *err, size_t errlen)
{
    uint8_t *pem = NULL;
    size_t pemlen = 0;
    struct keydist *kd = NULL;

    if (value_to_pem(value, &pem, &pemlen, err, errlen) != 0)
        return NULL;
    EVP_PKEY *pkey = pem_to_rsa_key(pem, pemlen, err, errlen);
    free(pem);
    ERR_clear_error();
    if (!pkey)
        return NULL;
    kd = malloc(sizeof *kd);
    if (!kd) {
        EVP_PKEY_free(pkey);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    kd->pkey = pkey;
    kd->sig_len = (size_t)EVP_PKEY_get_size(pkey);
    return kd;
}

void keydist_free(struct keydist *kd)
{
    if (!kd)
        return;
    EVP_PKEY_free(kd->pkey);
    free(kd);
}

/* RSA-PSS (SHA-256, MGF1 SHA-256, salt length from the signature) over msg. */
static bool pss_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t msglen, const uint8_t *sig,
                       size_t siglen)
{
    static const uint8_t empty[1];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1
              && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
              && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1
              && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1
              && EVP_DigestVerify(md, sig, siglen, msg ? msg : empty, msglen) == 1;

    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

int keydist_verify(const struct keydist *kd, const uint8_t *msg, size_t msglen, const char *sig_b64,
                   size_t siglen, char *err, size_t errlen)
{
    char b64err[128];
    uint8_t *sig = NULL;
    size_t n = 0;

    if (!kd || !sig_b64) {
        set_err(err, errlen, "%s", msg_bad_sig);
        return -1;
    }
    if (b64_decode(sig_b64, siglen, &sig, &n, b64err, sizeof b64err) != 0) {
        set_err(err, errlen, "invalid signature: failed to decode the signature: %s", b64err);
        return -1;
    }
    bool ok = n == kd->sig_len && pss_verify(kd->pkey, msg, msglen, sig, n);
    free(sig);
    if (!ok) {
        set_err(err, errlen, "%s", msg_bad_sig);
        return -1;
    }
    return 0;
}
