/* platform_gramine.c - the platform backend inside a Gramine-SGX enclave.
 *
 * Everything comes from Gramine's attestation directory, /dev/attestation unless
 * GRAMINE_ATTESTATION_DIR names another (the manifest fixes it; tests point it at a stand-in):
 *   attestation_type      "dcap" or "epid" (remote attestation available) or "none"
 *   keys/_sgx_mrsigner    16 bytes: the SGX sealing key bound to the enclave signer (MRSIGNER),
 *                         like EGo's product key: every build signed by the same key on the same
 *                         CPU reads the same bytes
 *   user_report_data      written: the 64 bytes the next quote must carry as report data
 *   quote                 read: an SGX quote over the enclave's report with that report data
 *
 * The mrsigner key is stretched with HKDF-SHA256 into the 32-byte root key, so the raw key is used
 * for exactly one purpose (Gramine's advice); platform.c derives every sealing key from that. A
 * missing directory or key means no enclave, and this backend refuses to start rather than fall
 * back to something weaker. attestation_type "none" (Gramine without remote attestation) is
 * refused too unless OE_SIMULATION is set: then the worker runs without quotes.
 *
 * Gramine's files are pseudo-files with no size to stat: they are read until EOF (read_upto_path).
 *
 * A quote is checked before use: at least a header and a report body, and its report-data field
 * (byte 368 = 48-byte quote header + offset 320 inside the report body, the same in EPID v2 and
 * DCAP v3 quotes) equal to what was written. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tee/platform.h"
#include "tee/platform_backends.h"
#include "util/crypto.h"
#include "util/file_read.h"

#define ATTESTATION_TYPE_FILE "attestation_type"
#define MRSIGNER_KEY_FILE "keys/_sgx_mrsigner"
#define REPORT_DATA_FILE "user_report_data"
#define QUOTE_FILE "quote"
#define MRSIGNER_KEY_LEN 16
#define ROOT_KEY_INFO "tee-worker gramine root key v1"
#define QUOTE_REPORT_DATA_OFFSET 368
#define QUOTE_MIN_LEN (QUOTE_REPORT_DATA_OFFSET + PLATFORM_REPORT_DATA_LEN)

static int write_exact(const char *path, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            close(fd);
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd);
}

/* read_attestation_type fills p->attestation_type from the directory's attestation_type file. */
static int read_attestation_type(struct platform *p, char *err, size_t errlen)
{
    char path[PATH_MAX];
    uint8_t buf[sizeof p->attestation_type];
    ssize_t n;

    if (platform_path(path, sizeof path, p->attestation_dir, ATTESTATION_TYPE_FILE) != 0) {
        snprintf(err, errlen, "GRAMINE_ATTESTATION_DIR: path too long");
        return -1;
    }
    n = read_upto_path(path, buf, sizeof buf - 1);
    if (n < 0) {
        snprintf(err, errlen, "enclave mode needs Gramine-SGX (%s: %s); set STANDALONE=true to "
                 "run without an enclave", path, strerror(errno));
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\0'))
        n--;
    buf[n] = '\0';
    if (strcmp((char *)buf, "dcap") != 0 && strcmp((char *)buf, "epid") != 0 &&
        strcmp((char *)buf, "none") != 0) {
        snprintf(err, errlen, "%s: unknown attestation type \"%.*s\" (expected dcap, epid or none)",
                 path, (int)strnlen((char *)buf, 15), (char *)buf);
        return -1;
    }
    memcpy(p->attestation_type, buf, (size_t)n + 1);
    return 0;
}

/* read_mrsigner_key reads exactly MRSIGNER_KEY_LEN bytes from Gramine's key file. */
static int read_mrsigner_key(const struct platform *p, uint8_t out[MRSIGNER_KEY_LEN], char *err,
                             size_t errlen)
{
    char path[PATH_MAX];
    uint8_t buf[MRSIGNER_KEY_LEN + 1];
    ssize_t n;

    if (platform_path(path, sizeof path, p->attestation_dir, MRSIGNER_KEY_FILE) != 0) {
        snprintf(err, errlen, "GRAMINE_ATTESTATION_DIR: path too long");
        return -1;
    }
    n = read_upto_path(path, buf, sizeof buf);
    if (n != MRSIGNER_KEY_LEN) {
        snprintf(err, errlen, "%s: cannot read the enclave sealing key (%s)", path,
                 n < 0 ? strerror(errno) : "not 16 bytes");
        crypto_wipe(buf, sizeof buf);
        return -1;
    }
    memcpy(out, buf, MRSIGNER_KEY_LEN);
    crypto_wipe(buf, sizeof buf);
    return 0;
}

static int gramine_open(struct platform *p, const struct config *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->gramine_attestation_dir;
    uint8_t raw[MRSIGNER_KEY_LEN];

    p->attestation_dir = strdup(dir != NULL && dir[0] != '\0' ? dir : "/dev/attestation");
    if (p->attestation_dir == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (read_attestation_type(p, err, errlen) != 0)
        return -1;
    if (strcmp(p->attestation_type, "none") == 0 && !cfg->oe_simulation) {
        snprintf(err, errlen, "Gramine reports attestation_type \"none\": remote attestation is "
                 "off (set sgx.remote_attestation = \"dcap\" in the manifest), or set "
                 "OE_SIMULATION=1 to run the enclave without attestation");
        return -1;
    }
    if (read_mrsigner_key(p, raw, err, errlen) != 0)
        return -1;
    crypto_hkdf_sha256(raw, sizeof raw, ROOT_KEY_INFO, p->root_key);
    crypto_wipe(raw, sizeof raw);
    return 0;
}

static int gramine_quote(const struct platform *p,
                         const uint8_t report_data[PLATFORM_REPORT_DATA_LEN], uint8_t **quote,
                         size_t *len, char *err, size_t errlen)
{
    char path[PATH_MAX];
    uint8_t *buf;
    ssize_t n;

    if (strcmp(p->attestation_type, "none") == 0) {
        snprintf(err, errlen, "Gramine runs without remote attestation (attestation_type none)");
        return 1;
    }
    if (platform_path(path, sizeof path, p->attestation_dir, REPORT_DATA_FILE) != 0 ||
        write_exact(path, report_data, PLATFORM_REPORT_DATA_LEN) != 0) {
        snprintf(err, errlen, "%s: cannot write the report data: %s", path, strerror(errno));
        return -1;
    }
    if (platform_path(path, sizeof path, p->attestation_dir, QUOTE_FILE) != 0) {
        snprintf(err, errlen, "GRAMINE_ATTESTATION_DIR: path too long");
        return -1;
    }
    buf = malloc(PLATFORM_QUOTE_MAX + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n = read_upto_path(path, buf, PLATFORM_QUOTE_MAX + 1);
    if (n < 0 || n > PLATFORM_QUOTE_MAX || n < QUOTE_MIN_LEN) {
        if (n < 0)
            snprintf(err, errlen, "%s: cannot read the quote: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s: %zd bytes is not an SGX quote (expected %d to %d)", path, n,
                     QUOTE_MIN_LEN, PLATFORM_QUOTE_MAX);
        free(buf);
        return -1;
    }
    if (memcmp(buf + QUOTE_REPORT_DATA_OFFSET, report_data, PLATFORM_REPORT_DATA_LEN) != 0) {
        snprintf(err, errlen, "%s: the quote does not carry the report data just written", path);
        free(buf);
        return -1;
    }
    *quote = buf;
    *len = (size_t)n;
    return 0;
}

const struct platform_ops platform_gramine_ops = {
    .name = "gramine-sgx",
    .open = gramine_open,
    .quote = gramine_quote,
};
