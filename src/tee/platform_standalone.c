/* platform_standalone.c - the platform backend for running without an enclave.
 *
 * The root key is 32 random bytes in DATA_DIR/platform.key, created on first start (whole or not
 * at all: a synced temporary file linked to the name, mode 0600, the directory synced) and read on
 * every later one. Its protection is the file system: a key file that group or others may access
 * is refused rather than trusted, and so is one of the wrong size or all zeros (damaged or not
 * ours). A missing file means "first start"; a bad
 * one is never replaced, since a new key could not open anything sealed under the old one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "tee/platform.h"
#include "tee/platform_backends.h"
#include "util/crypto.h"
#include "util/file_read.h"

#define ROOT_KEY_FILE "platform.key"
#define ROOT_KEY_LEN 32

static bool all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

/* check_key_file refuses a key file that is not a private regular file of exactly 32 bytes. */
static int check_key_file(const char *path, const struct stat *st, char *err, size_t errlen)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: the root key file is not a regular file", path);
        return -1;
    }
    if ((st->st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: mode %04o lets group or other users read the root key; "
                 "refusing it (fix with: chmod 600 %s)",
                 path, (unsigned)(st->st_mode & 07777), path);
        return -1;
    }
    if (st->st_size != ROOT_KEY_LEN) {
        snprintf(err, errlen,
                 "%s: the root key file has %lld bytes, expected %d; it is damaged or not a "
                 "tee-worker key (restore it: a new key cannot open what the old one sealed)",
                 path, (long long)st->st_size, ROOT_KEY_LEN);
        return -1;
    }
    return 0;
}

/* read_key reads exactly ROOT_KEY_LEN bytes, and fails when the file holds more. */
static int read_key(int fd, uint8_t key[ROOT_KEY_LEN])
{
    uint8_t buf[ROOT_KEY_LEN + 1];
    int rc = -1;

    if (read_upto_fd(fd, buf, sizeof buf) == ROOT_KEY_LEN) {
        memcpy(key, buf, ROOT_KEY_LEN);
        rc = 0;
    }
    crypto_wipe(buf, sizeof buf);
    return rc;
}

/* load_root_key returns 1 with key filled, 0 when the file does not exist, -1 with err. */
static int load_root_key(const char *path, uint8_t key[ROOT_KEY_LEN], char *err, size_t errlen)
{
    struct stat st;
    int rc = -1, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO: refused below */

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read the root key: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (check_key_file(path, &st, err, errlen) == 0) {
        if (read_key(fd, key) != 0)
            snprintf(err, errlen, "%s: cannot read the root key (short read)", path);
        else if (all_zero(key, ROOT_KEY_LEN))
            snprintf(err, errlen, "%s: the root key is all zeros; refusing it", path);
        else
            rc = 1;
    }
    close(fd);
    return rc;
}

/* create_root_key makes a new key file, whole or not at all (a first start killed while writing
 * it must not leave a short file that every later start refuses). Returns 0 with key filled, 1
 * when the file appeared meanwhile (another process), -1 with err. */
static int create_root_key(const char *dir, uint8_t key[ROOT_KEY_LEN], char *err, size_t errlen)
{
    if (crypto_random_secret(key, ROOT_KEY_LEN) != 0) {
        snprintf(err, errlen, "cannot generate the root key: the random generator failed");
        return -1;
    }
    return platform_create_file(dir, ROOT_KEY_FILE, key, ROOT_KEY_LEN, err, errlen);
}

static int standalone_open(struct platform *p, const struct config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX];

    (void)cfg;
    if (platform_path(path, sizeof path, p->data_dir, ROOT_KEY_FILE) != 0) {
        snprintf(err, errlen, "DATA_DIR path too long");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = load_root_key(path, p->root_key, err, errlen);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        rc = create_root_key(p->data_dir, p->root_key, err, errlen);
        if (rc != 1)
            return rc;
    }
    snprintf(err, errlen, "%s: appeared and vanished while being created", path);
    return -1;
}

const struct platform_ops platform_standalone_ops = {
    .name = "standalone",
    .open = standalone_open,
};
