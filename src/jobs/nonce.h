/* nonce.h - the job quote stamped at /job/generate (DECISIONS.md: CSPRNG, valid UTF-8).
 *
 *   quote = hex(SHA-256(job JSON before stamping)) || "-" || 99 characters drawn uniformly by the
 *           OS CSPRNG from Go's 74-character alphabet (digits, a-z, A-Z, "!@#$%^&*()_+")
 *
 * Nobody checks the digest; the quote is an opaque unique string used as the replay key and as the
 * salt that seals the job's result. */
#ifndef TW_NONCE_H
#define TW_NONCE_H

#include <stddef.h>

#define NONCE_SUFFIX_LEN 99
#define NONCE_LEN (64 + 1 + NONCE_SUFFIX_LEN)

/* nonce_make writes NONCE_LEN characters and a NUL to out. Returns 0, or -1 when the RNG fails. */
int nonce_make(const char *job_json, size_t len, char out[NONCE_LEN + 1]);

#endif
