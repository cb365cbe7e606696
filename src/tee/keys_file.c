/* keys_file.c - reading SEALING_KEYS_FILE (see keys_file.h). */
#include "tee/keys_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "util/b64.h"
#include "util/crypto.h"
#include "util/hex.h"

/* parse_key reads one key from line[0..n): 64 hex digits or base64 of 32 bytes. */
static int parse_key(const char *line, size_t n, uint8_t out[32])
{
    if (n == 64) {
        for (size_t i = 0; i < 32; i++) {
            int hi = hex_value(line[2 * i]), lo = hex_value(line[2 * i + 1]);
            if (hi < 0 || lo < 0)
                goto try_base64;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
try_base64:
    if (n != 44)
        return -1;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char why[96];
    if (b64_decode(line, n, &bytes, &len, why, sizeof why) < 0)
        return -1;
    int rc = -1;
    if (len == 32) {
        memcpy(out, bytes, 32);
        rc = 0;
    }
    crypto_wipe(bytes, len);
    free(bytes);
    return rc;
}

int keys_file_parse(const char *text, size_t len, uint8_t (*keys)[32], size_t max, char *err,
                    size_t errlen)
{
    size_t count = 0, lineno = 0, pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        while (n && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
        if (n == 0 || *line == '#')
            continue;
        if (count == max) {
            snprintf(err, errlen, "line %zu: more than %zu keys (the ring holds %zu)", lineno, max,
                     max);
            goto fail;
        }
        if (parse_key(line, n, keys[count]) < 0) {
            snprintf(err, errlen, "line %zu: not a 32-byte key (64 hex digits or 44 base64 "
                     "characters)", lineno);
            goto fail;
        }
        static const uint8_t zero[32];
        if (crypto_equal(keys[count], zero, 32)) {
            snprintf(err, errlen, "line %zu: an all-zero key (a placeholder, not a key)", lineno);
            goto fail;
        }
        for (size_t i = 0; i < count; i++)
            if (crypto_equal(keys[i], keys[count], 32)) {
                snprintf(err, errlen, "line %zu: the same key as an earlier line", lineno);
                goto fail;
            }
        count++;
    }
    if (count == 0) {
        snprintf(err, errlen, "no key in the file");
        goto fail;
    }
    return (int)count;
fail:
    crypto_wipe(keys, max * 32);
    return -1;
}

int keys_file_load(const char *path, uint8_t (*keys)[32], size_t max, char *err, size_t errlen)
{
    char why[200];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a link: the file it names */
    if (fd < 0) {
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: mode %04o lets others read the keys; it must "
                 "be 0600 (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    if (st.st_size > KEYS_FILE_MAX_BYTES) {
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: larger than %d bytes", path,
                 KEYS_FILE_MAX_BYTES);
        close(fd);
        return -1;
    }
    char buf[KEYS_FILE_MAX_BYTES + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0 || n > KEYS_FILE_MAX_BYTES) {
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: cannot read it", path);
        crypto_wipe(buf, sizeof buf);
        return -1;
    }
    int count = keys_file_parse(buf, (size_t)n, keys, max, why, sizeof why);
    crypto_wipe(buf, sizeof buf);
    if (count < 0)
        snprintf(err, errlen, "SEALING_KEYS_FILE %s: %s", path, why);
    return count;
}
