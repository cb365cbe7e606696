/* keydist.h - the key distributor's public key and the /setkey signature check (core-protocol.md 4).
 *
 * The distributor signs each 32-byte ring key with RSA-PSS over SHA-256(key), MGF1-SHA256, any
 * salt length. Its public key is configured by KEY_DISTRIBUTOR_PUBKEY, either a path to a PEM file
 * or base64 of the PEM text (as the Go build takes it). Only a "PUBLIC KEY" (SubjectPublicKeyInfo)
 * RSA key is accepted; 4092-bit moduli and e = 3 included. */
#ifndef TW_KEYDIST_H
#define TW_KEYDIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keydist;

/* keydist_load parses value (PEM path or base64 of PEM). Returns a new keydist (free with
 * keydist_free) or NULL with a message in err: "failed to decode key distributor public key: ..."
 * (empty value: "...: no key provided"; bad base64: "...: illegal base64 data at input byte N";
 * unreadable or oversized file), "failed to decode PEM block containing public key" (no PEM block,
 * or the first block is not "PUBLIC KEY"), "failed to parse public key: ...", or
 * "key is not an RSA key". Go reports the last three at /setkey prefixed "invalid signature: "
 * (core-protocol.md 4.3); adding that prefix is the caller's choice. */
struct keydist *keydist_load(const char *value, char *err, size_t errlen);

/* keydist_value_is_path: value is (or looks like) a file path rather than base64 of the PEM text,
 * by the rule keydist_load follows. Enclave mode refuses such a value: a file outside the
 * enclave's measurement is the host's to replace. */
bool keydist_value_is_path(const char *value);

/* keydist_verify checks sig_b64 (standard base64, Go rules) over msg. Returns 0 when valid, else -1
 * with err = "invalid signature: <cause>" where cause is one of
 * "failed to decode the signature: illegal base64 data at input byte N" or
 * "failed to verify the signature: crypto/rsa: verification error". */
int keydist_verify(const struct keydist *kd, const uint8_t *msg, size_t msglen, const char *sig_b64,
                   size_t siglen, char *err, size_t errlen);

void keydist_free(struct keydist *kd);

#endif
