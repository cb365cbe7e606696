/* nonce.c - job quotes: a digest of the job and a CSPRNG suffix (see nonce.h). */
#include "jobs/nonce.h"

#include "util/crypto.h"

static const char alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()_+";
#define ALPHABET_LEN 74
/* The largest multiple of 74 that fits a byte: bytes at or above it are redrawn (no modulo bias). */
#define ACCEPT_BELOW (256 / ALPHABET_LEN * ALPHABET_LEN)

int nonce_make(const char *job_json, size_t len, char out[NONCE_LEN + 1])
{
    _Static_assert(sizeof alphabet - 1 == ALPHABET_LEN, "alphabet size");
    unsigned char digest[CRYPTO_SHA256_LEN];
    crypto_sha256(job_json, len, digest);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof digest; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '-';
    size_t filled = 0;
    unsigned char pool[128];
    while (filled < NONCE_SUFFIX_LEN) {
        if (crypto_random(pool, sizeof pool) != 0)
            return -1;
        for (size_t i = 0; i < sizeof pool && filled < NONCE_SUFFIX_LEN; i++)
            if (pool[i] < ACCEPT_BELOW)
                out[65 + filled++] = alphabet[pool[i] % ALPHABET_LEN];
    }
    out[NONCE_LEN] = '\0';
    return 0;
}
