/* platform.c - the platform root key, the keys derived from it, and sealed files in DATA_DIR.
 *
 * A backend (platform_standalone.c or platform_gramine.c, chosen from STANDALONE) fills the 32-byte
 * root key and, in an enclave, produces attestation quotes (platform_quote). Nothing uses that key directly: platform_derive runs HKDF-SHA256 over it with a label
 * per purpose (local sealing key, worker_id file, key ring file, store secrets), so one purpose
 * never shares a key with another.
 *
 * A sealed file is "TWS1" || IV (12 random bytes) || AES-256-GCM ciphertext || tag (16), under
 * platform_derive(label) with the label as additional data, so a file cannot be replayed under
 * another purpose. Files are written atomically: a temporary file in DATA_DIR (mode 0600), fsync,
 * rename (or link, for create-once files; without hard links, as under Gramine, a rename that
 * replaces nothing), then fsync of the directory: a failure of that last step is a warning, the
 * file being installed (install_file). The temporary files are named
 * .<name>.tw-tmp.XXXXXX; one left by a process that died while writing is removed when DATA_DIR
 * is opened (remove_stale_temps). Reading is bounded
 * (SEALED_FILE_MAX) and a file that does not open is an error, never silently replaced: data
 * sealed under another root key means the wrong DATA_DIR or the wrong enclave signer, which an
 * operator must see.
 *
 * The worker id (core-protocol.md section 6) is such a file: created once, sealed, and from then
 * on any failure to open it is fatal, since a new id would silently change who this worker is. */
#include "tee/platform.h"
#include "util/crypto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tee/platform_backends.h"
#include "util/file_read.h"
#include "util/uuid_util.h"

#define SEALED_MAGIC "TWS1"
#define SEALED_MAGIC_LEN 4
#define SEALED_IV_LEN 12
#define SEALED_TAG_LEN 16
#define SEALED_OVERHEAD (SEALED_MAGIC_LEN + SEALED_IV_LEN + SEALED_TAG_LEN)
#define SEALED_FILE_MAX (1024 * 1024)
#define FILE_NAME_MAX 64
#define WORKER_ID_FILE "worker_id"
#define WORKER_ID_LEN 36
/* A temporary file is DATA_DIR/.<name>TEMP_MARK followed by mkostemp's 6 characters. */
#define TEMP_MARK ".tw-tmp."
#define TEMP_RANDOM_LEN 6
/* A temporary file this old is stale: no write keeps one longer than its fsync lasts. Younger ones
 * may belong to another process writing in the same DATA_DIR right now, and are left alone. */
#define STALE_TEMP_AGE_S 60

/* ------------------------------------------------------------------------------------------ */
/* Shared helpers (platform_backends.h)                                                        */

int platform_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int platform_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening and closing                                                                          */

/* make_dirs creates path and its missing parents (mode 0700), like mkdir -p. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    struct stat st;

    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* is_temp_name: name has the form of write_temp's files, .<name>.tw-tmp.XXXXXX (X alphanumeric,
 * as mkostemp makes them), and nothing else. */
static bool is_temp_name(const char *name)
{
    size_t n = strlen(name), mark = strlen(TEMP_MARK);

    if (name[0] != '.' || n < 2 + mark + TEMP_RANDOM_LEN)
        return false;
    const char *tail = name + n - TEMP_RANDOM_LEN;
    for (const char *c = tail; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return false;
    return memcmp(tail - mark, TEMP_MARK, mark) == 0;
}

/* remove_stale_temps removes from dir the temporary files a write left behind when its process
 * died before installing them (write_file): only names of our pattern, only regular files of this
 * user that are older than STALE_TEMP_AGE_S, never through a symbolic link (the entry itself is
 * examined, and unlinkat removes an entry, never what it points to). Failures are logged: a file
 * left in place is harmless. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);

    if (d == NULL) {
        log_warn("DATA_DIR %s: cannot list it to remove stale temporary files: %s", dir,
                 strerror(errno));
        return;
    }
    time_t now = time(NULL);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (!is_temp_name(e->d_name) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != geteuid() || now - st.st_mtime < STALE_TEMP_AGE_S)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            log_info("DATA_DIR %s: removed %s, a temporary file left by a write that did not "
                     "finish (the process stopped before installing it)", dir, e->d_name);
        else
            log_warn("DATA_DIR %s: cannot remove the stale temporary file %s: %s", dir,
                     e->d_name, strerror(errno));
    }
    closedir(d);
}

int platform_open(struct platform *p, const struct config *cfg, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (cfg->data_dir == NULL || cfg->data_dir[0] == '\0') {
        snprintf(err, errlen, "DATA_DIR is empty");
        return -1;
    }
    p->ops = cfg->standalone ? &platform_standalone_ops : &platform_gramine_ops;
    p->enclave = !cfg->standalone;
    p->data_dir = strdup(cfg->data_dir);
    if (p->data_dir == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (make_dirs(p->data_dir) != 0) {
        snprintf(err, errlen, "DATA_DIR %s: cannot create it: %s", p->data_dir, strerror(errno));
        platform_close(p);
        return -1;
    }
    remove_stale_temps(p->data_dir);
    if (p->ops->open(p, cfg, err, errlen) != 0) {
        platform_close(p);
        return -1;
    }
    return 0;
}

int platform_lock_data_dir(struct platform *p, char *err, size_t errlen)
{
    if (p->data_dir_locked)
        return 0;
    int fd = open(p->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        log_warn("DATA_DIR %s: cannot open it to lock it (%s); make sure no other worker uses it",
                 p->data_dir, strerror(errno));
        return 0;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        int saved = errno;
        close(fd);
        if (saved == EWOULDBLOCK) {
            snprintf(err, errlen, "DATA_DIR %s is locked by another worker (each worker needs a "
                     "DATA_DIR of its own)", p->data_dir);
            return -1;
        }
        log_warn("DATA_DIR %s: cannot lock it (%s); make sure no other worker uses it",
                 p->data_dir, strerror(saved));
        return 0;
    }
    p->data_dir_fd = fd;
    p->data_dir_locked = true;
    return 0;
}

int platform_quote(const struct platform *p, const uint8_t report_data[PLATFORM_REPORT_DATA_LEN],
                   uint8_t **quote, size_t *len, char *err, size_t errlen)
{
    if (p->ops == NULL || p->ops->quote == NULL) {
        snprintf(err, errlen, "the %s platform cannot produce attestation quotes",
                 p->ops ? p->ops->name : "unopened");
        return 1;
    }
    return p->ops->quote(p, report_data, quote, len, err, errlen);
}

void platform_close(struct platform *p)
{
    if (p->data_dir_locked)
        close(p->data_dir_fd);      /* releases the lock */
    crypto_wipe(p->root_key, sizeof p->root_key);
    free(p->attestation_dir);
    free(p->data_dir);
    memset(p, 0, sizeof *p);
}

void platform_derive(const struct platform *p, const char *label, uint8_t out[32])
{
    crypto_hkdf_sha256(p->root_key, sizeof p->root_key, label, out);
}

/* ------------------------------------------------------------------------------------------ */
/* The sealed-file format                                                                       */

/* platform_seal_bytes writes "TWS1" || IV || ct || tag for pt into out (ptlen + SEALED_OVERHEAD bytes). */
int platform_seal_bytes(const uint8_t key[32], const char *label, const uint8_t *pt, size_t ptlen,
                     uint8_t *out)
{
    uint8_t *iv = out + SEALED_MAGIC_LEN, *ct = iv + SEALED_IV_LEN, *tag = ct + ptlen;
    struct crypto_gcm g;

    memcpy(out, SEALED_MAGIC, SEALED_MAGIC_LEN);
    if (crypto_random(iv, SEALED_IV_LEN) != 0)
        return -1;
    crypto_gcm_start(&g, key, iv, label, strlen(label));
    crypto_gcm_encrypt(&g, pt, ptlen, ct);
    crypto_gcm_seal_tag(&g, tag);
    return 0;
}

/* platform_open_bytes checks the magic and opens blob into out (bloblen - SEALED_OVERHEAD bytes).
 * Returns 0, -1 for a bad magic or length, -2 when authentication fails (out is wiped then). */
int platform_open_bytes(const uint8_t key[32], const char *label, const uint8_t *blob,
                     size_t bloblen, uint8_t *out)
{
    const uint8_t *iv = blob + SEALED_MAGIC_LEN, *ct = iv + SEALED_IV_LEN;
    struct crypto_gcm g;

    if (bloblen < SEALED_OVERHEAD || memcmp(blob, SEALED_MAGIC, SEALED_MAGIC_LEN) != 0)
        return -1;
    size_t ctlen = bloblen - SEALED_OVERHEAD;
    crypto_gcm_start(&g, key, iv, label, strlen(label));
    crypto_gcm_decrypt(&g, ct, ctlen, out);
    if (!crypto_gcm_check_tag(&g, ct + ctlen)) {
        crypto_wipe(out, ctlen);
        return -2;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                        */

static bool file_name_ok(const char *name)
{
    size_t n = strlen(name);

    return n > 0 && n <= FILE_NAME_MAX && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* write_temp creates DATA_DIR/.name.tw-tmp.XXXXXX (mode 0600) holding buf, synced to disk. tmp
 * receives its path. Returns 0 or -1 with err. */
static int write_temp(const char *dir, const char *name, const uint8_t *buf, size_t len,
                      char *tmp, size_t tmplen, char *err, size_t errlen)
{
    int fd, n = snprintf(tmp, tmplen, "%s/.%s" TEMP_MARK "XXXXXX", dir, name);

    if (n < 0 || (size_t)n >= tmplen) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s/%s: cannot create a temporary file: %s", dir, name, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s/%s: cannot write: %s", dir, name, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s/%s: cannot write: %s", dir, name, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* rename_if_absent stands in for link where there are no hard links (Gramine has no link(2), nor
 * have some file systems): a rename that replaces nothing. Its race with another process creating
 * path at the same instant is accepted there. Returns 0, or -1 with *saved (EEXIST: path exists). */
static int rename_if_absent(const char *tmp, const char *path, int *saved)
{
    struct stat st;

    if (lstat(path, &st) == 0)
        *saved = EEXIST;
    else if (errno != ENOENT || rename(tmp, path) != 0)
        *saved = errno;
    else
        return 0;
    return -1;
}

/* install_file moves tmp to path: rename when replace, else link (which fails when path exists),
 * then syncs dir. Returns 0, 1 when !replace and path already exists, or -1 with err (nothing
 * installed). tmp is gone afterwards. Once installed, the file is what every reader and the next
 * start see, so a failed sync of dir is logged as a warning and the install returns 0: reported
 * as a failure it made callers believe the old file still stood (keyring_add kept the old ring
 * in memory and answered 500, while the new ring was on disk and came back at the next start). */
static int install_file(const char *dir, const char *tmp, const char *path, bool replace,
                        char *err, size_t errlen)
{
    int rc = replace ? rename(tmp, path) : link(tmp, path);
    int saved = errno;

    if (rc != 0 && !replace && (saved == ENOSYS || saved == EPERM || saved == EOPNOTSUPP))
        rc = rename_if_absent(tmp, path, &saved);   /* tmp's unlink below then finds nothing */

    if (!replace || rc != 0)
        unlink(tmp);
    if (rc != 0 && !replace && saved == EEXIST)
        return 1;
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot install: %s", path, strerror(saved));
        return -1;
    }
    if (platform_fsync_dir(dir) != 0)
        log_warn("%s: installed and in use, but syncing its directory failed (%s): should the "
                 "machine crash before the file system writes the directory, the previous "
                 "version (or none) may be found there", path, strerror(errno));
    return 0;
}

/* write_file writes buf as dir/name atomically (a synced temporary file, install_file). Returns 0,
 * 1 when !replace and the file already exists, or -1 with err. */
static int write_file(const char *dir, const char *name, const uint8_t *buf, size_t len,
                      bool replace, char *err, size_t errlen)
{
    char path[PATH_MAX], tmp[PATH_MAX];

    if (platform_path(path, sizeof path, dir, name) != 0) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    if (write_temp(dir, name, buf, len, tmp, sizeof tmp, err, errlen) != 0)
        return -1;
    return install_file(dir, tmp, path, replace, err, errlen);
}

int platform_create_file(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         char *err, size_t errlen)
{
    return write_file(dir, name, buf, len, false, err, errlen);
}

/* write_sealed seals data and installs it as DATA_DIR/name. Returns 0, 1 when !replace and the
 * file already exists, or -1 with err. */
static int write_sealed(const struct platform *p, const char *name, const char *label,
                        const uint8_t *data, size_t len, bool replace, char *err, size_t errlen)
{
    char path[PATH_MAX];
    uint8_t key[32], *blob;
    int rc = -1;

    if (!file_name_ok(name) || platform_path(path, sizeof path, p->data_dir, name) != 0) {
        snprintf(err, errlen, "invalid sealed file name or path too long: %s", name);
        return -1;
    }
    if (len > SEALED_FILE_MAX - SEALED_OVERHEAD) {
        snprintf(err, errlen, "%s: %zu bytes is too much to seal", path, len);
        return -1;
    }
    blob = malloc(len + SEALED_OVERHEAD);
    if (blob == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    platform_derive(p, label, key);
    if (platform_seal_bytes(key, label, data, len, blob) != 0)
        snprintf(err, errlen, "%s: sealing failed (no random bytes for the IV)", path);
    else
        rc = write_file(p->data_dir, name, blob, len + SEALED_OVERHEAD, replace, err, errlen);
    crypto_wipe(key, sizeof key);
    crypto_wipe(blob, len + SEALED_OVERHEAD);
    free(blob);
    return rc;
}

int platform_write_sealed(const struct platform *p, const char *name, const char *label,
                          const uint8_t *data, size_t len, char *err, size_t errlen)
{
    return write_sealed(p, name, label, data, len, true, err, errlen);
}

/* read_bounded reads a regular file of at most max bytes. Returns 1 with *buf and *len (caller
 * frees), 0 when the file does not exist, -1 with err. */
static int read_bounded(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
                        size_t errlen)
{
    struct stat st;
    ssize_t got = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO: refused below */

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
        close(fd);
        return -1;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (*buf != NULL)
        got = read_upto_fd(fd, *buf, (size_t)st.st_size);
    close(fd);
    if (*buf == NULL || got != (ssize_t)st.st_size) {
        snprintf(err, errlen, "%s: cannot read: %s", path, *buf ? "short read" : "out of memory");
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *len = (size_t)got;
    return 1;
}

int platform_read_sealed(const struct platform *p, const char *name, const char *label,
                         uint8_t **data, size_t *len, char *err, size_t errlen)
{
    char path[PATH_MAX];
    uint8_t key[32], *blob = NULL, *out;
    size_t bloblen = 0;
    int rc;

    if (!file_name_ok(name) || platform_path(path, sizeof path, p->data_dir, name) != 0) {
        snprintf(err, errlen, "invalid sealed file name or path too long: %s", name);
        return -1;
    }
    rc = read_bounded(path, SEALED_FILE_MAX, &blob, &bloblen, err, errlen);
    if (rc <= 0)
        return rc;
    out = malloc(bloblen + 1); /* >= the plaintext length plus its NUL */
    if (out == NULL) {
        free(blob);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    platform_derive(p, label, key);
    rc = platform_open_bytes(key, label, blob, bloblen, out);
    crypto_wipe(key, sizeof key);
    free(blob);
    if (rc != 0) {
        snprintf(err, errlen, rc == -1 ? "%s: not a tee-worker sealed file (bad header or too short)"
                                       : "%s: cannot be opened: the file is corrupt or was sealed "
                                         "under another platform key (other DATA_DIR or signer)",
                 path);
        crypto_wipe(out, bloblen + 1);
        free(out);
        return -1;
    }
    *len = bloblen - SEALED_OVERHEAD;
    out[*len] = '\0';
    *data = out;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Worker id                                                                                    */

/* load_worker_id returns 1 with out filled, 0 when there is no file, -1 with err. */
static int file_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                    char *err, size_t errlen)
{
    return platform_read_sealed(ctx, name, label, data, len, err, errlen);
}

static int file_put(void *ctx, const char *name, const char *label, const uint8_t *data,
                    size_t len, bool replace, char *err, size_t errlen)
{
    return write_sealed(ctx, name, label, data, len, replace, err, errlen);
}

void platform_file_secrets(const struct platform *p, struct secret_store *out)
{
    out->get = file_get;
    out->put = file_put;
    out->ctx = (void *)p;
}

static int load_worker_id(const struct secret_store *secrets, char out[37], char *err,
                          size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = secrets->get(secrets->ctx, WORKER_ID_FILE, PLATFORM_LABEL_WORKER_ID, &data, &len, err,
                          errlen);

    if (rc <= 0)
        return rc;
    if (len != WORKER_ID_LEN || !uuid_text_valid((const char *)data)) {
        snprintf(err, errlen, "%s: the sealed content is not a worker id", WORKER_ID_FILE);
        free(data);
        return -1;
    }
    memcpy(out, data, WORKER_ID_LEN + 1);
    free(data);
    return 1;
}

int secrets_worker_id(const struct secret_store *secrets, char out[37], char *err, size_t errlen)
{
    char fresh[37];

    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = load_worker_id(secrets, out, err, errlen);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        uuid_v4(fresh);
        rc = secrets->put(secrets->ctx, WORKER_ID_FILE, PLATFORM_LABEL_WORKER_ID,
                          (const uint8_t *)fresh, WORKER_ID_LEN, false, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            memcpy(out, fresh, sizeof fresh);
            return 0;
        }
        /* rc == 1: another process created it meanwhile; read theirs. */
    }
    snprintf(err, errlen, "%s: appeared and vanished while being created", WORKER_ID_FILE);
    return -1;
}

int platform_worker_id(const struct platform *p, char out[37], char *err, size_t errlen)
{
    struct secret_store files;
    platform_file_secrets(p, &files);
    return secrets_worker_id(&files, out, err, errlen);
}
