/* ratls.h - one attested TLS identity: a fresh key pair and a self-signed X.509 certificate that
 * carries an SGX quote over the public key, in the format of Gramine's RA-TLS.
 *
 * The report data of the quote is SHA-256 of the certificate's DER SubjectPublicKeyInfo in its
 * first 32 bytes, zeros in the other 32; the quote travels raw in the non-critical extension
 * RATLS_QUOTE_OID (Gramine's RA-TLS quote OID, which its verifiers of every version read). A
 * verifier checks the quote (Intel's chain, MRENCLAVE/MRSIGNER) and that its report data is the
 * hash of the key the TLS handshake proved possession of.
 *
 * Like Gramine 1.8 and later, the certificate also carries the same attestation in the TCG DICE
 * "tagged evidence" extension RATLS_EVIDENCE_OID: CBOR tag 60000 over [quote2, claims], where
 * claims = {"pubkey-hash": bstr([1 (SHA-256), bstr(SHA-256(SPKI))])} (serialized CBOR) and quote2
 * is a second quote whose report data is SHA-256(claims) followed by 32 zero bytes. */
#ifndef TW_RATLS_H
#define TW_RATLS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct platform;

/* Gramine RA-TLS: 1.2.840.113741.1337.6 (Intel's arc + 1337.6), raw quote as the value. */
#define RATLS_QUOTE_OID "1.2.840.113741.1337.6"
/* TCG DICE tagged evidence: 2.23.133.5.4.9, CBOR as above. */
#define RATLS_EVIDENCE_OID "2.23.133.5.4.9"
#define RATLS_EVIDENCE_CBOR_TAG 60000

struct ratls_cert {
    char *key_pem;              /* PKCS#8 private key, PEM */
    char *cert_pem;             /* the certificate, PEM */
    uint8_t *cert_der;          /* the certificate, DER */
    size_t cert_der_len;
    uint8_t *quote;             /* the quote in the certificate; NULL when the platform cannot attest */
    size_t quote_len;
    uint8_t *evidence;          /* the TCG DICE tagged evidence (CBOR); NULL with quote */
    size_t evidence_len;
    uint8_t report_data[64];    /* SHA-256(SPKI DER) || 32 zero bytes */
    time_t not_before, not_after;
};

/* ratls_create makes a new ECDSA P-256 key, asks the platform for a quote over it (none when the
 * platform cannot attest: standalone or OE_SIMULATION without attestation) and signs a certificate
 * valid from now - 5 minutes to now + validity_s. Returns a new identity (ratls_free) or NULL with
 * err. */
struct ratls_cert *ratls_create(const struct platform *p, unsigned validity_s, char *err,
                                size_t errlen);

/* ratls_free wipes the private key and frees everything. NULL is fine. */
void ratls_free(struct ratls_cert *c);

#endif
