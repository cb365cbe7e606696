/* platform_gramine.c - the platform backend inside a Gramine-SGX enclave.
 *
 * Gramine exposes the SGX sealing key bound to the enclave signer as the 16 bytes of
 * /dev/attestation/keys/_sgx_mrsigner; every build signed by the same key on the same CPU reads
 * the same bytes. They are stretched with HKDF-SHA256 into the 32-byte root key, so the raw key is
 * used for exactly one purpose (Gramine's advice). Without /dev/attestation there is no enclave,
 * and this backend refuses to start rather than fall back to something weaker. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tee/platform.h"
#include "tee/platform_backends.h"

#define ATTESTATION_TYPE_PATH "/dev/attestation/attestation_type"
#define MRSIGNER_KEY_PATH "/dev/attestation/keys/_sgx_mrsigner"
#define MRSIGNER_KEY_LEN 16
#define ROOT_KEY_INFO "tee-worker gramine root key v1"

/* read_mrsigner_key reads exactly MRSIGNER_KEY_LEN bytes from Gramine's key file. */
static int read_mrsigner_key(uint8_t out[MRSIGNER_KEY_LEN])
{
    size_t got = 0;
    int fd = open(MRSIGNER_KEY_PATH, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    while (got < MRSIGNER_KEY_LEN) {
        ssize_t n = read(fd, out + got, MRSIGNER_KEY_LEN - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == MRSIGNER_KEY_LEN ? 0 : -1;
}

static int gramine_open(struct platform *p, const struct config *cfg, char *err, size_t errlen)
{
    uint8_t raw[MRSIGNER_KEY_LEN];
    int rc;

    (void)cfg;
    if (access(ATTESTATION_TYPE_PATH, F_OK) != 0) {
        snprintf(err, errlen, "enclave mode needs Gramine-SGX (/dev/attestation is missing); "
                              "set STANDALONE=true to run without an enclave");
        return -1;
    }
    if (read_mrsigner_key(raw) != 0) {
        snprintf(err, errlen, "%s: cannot read the enclave sealing key", MRSIGNER_KEY_PATH);
        OPENSSL_cleanse(raw, sizeof raw);
        return -1;
    }
    rc = platform_hkdf(raw, sizeof raw, ROOT_KEY_INFO, p->root_key);
    OPENSSL_cleanse(raw, sizeof raw);
    if (rc != 0)
        snprintf(err, errlen, "cannot derive the root key: HKDF-SHA256 failed");
    return rc;
}

const struct platform_ops platform_gramine_ops = {
    .name = "gramine-sgx",
    .open = gramine_open,
};
