/* test_platform.c - the platform layer: root key file, derived keys, sealed files, worker id,
 * and the enclave backend's refusal to start without Gramine. Each test works in its own
 * temporary DATA_DIR (mkdtemp), removed afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "tee/platform.h"
#include "util/uuid_util.h"

#include "platform_fixtures.h"

struct fixture {
    char dir[64];    /* the mkdtemp directory */
    char data[96];   /* DATA_DIR inside it (not created in advance) */
    struct config cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    strcpy(f->dir, "/tmp/tw-platform-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    f->cfg.data_dir = f->data;
    f->cfg.standalone = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f);
    return 0;
}

static void path_in(const struct fixture *f, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", f->data, name);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* read_file returns the file's bytes (caller frees) and their count in *len. */
static uint8_t *read_file(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */

static void test_root_key_created_private_and_reused(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    struct stat st;
    char path[PATH_MAX];
    uint8_t first[32];

    open_ok(&f->cfg, &p);
    assert_string_equal(p.ops->name, "standalone");
    assert_false(p.enclave);
    memcpy(first, p.root_key, 32);
    platform_close(&p);

    assert_int_equal(stat(f->data, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    path_in(f, "platform.key", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);

    open_ok(&f->cfg, &p);
    assert_memory_equal(p.root_key, first, 32);
    platform_close(&p);
}

/* One process at a time locks a DATA_DIR: a second lock on it is refused, saying why, until the
 * first platform is closed. */
static void test_data_dir_locked_by_one_process_at_a_time(void **state)
{
    struct fixture *f = *state;
    struct platform first, second;
    char err[512] = "";

    open_ok(&f->cfg, &first);
    assert_int_equal(platform_lock_data_dir(&first, err, sizeof err), 0);
    assert_int_equal(platform_lock_data_dir(&first, err, sizeof err), 0);   /* held already */
    open_ok(&f->cfg, &second);
    assert_int_equal(platform_lock_data_dir(&second, err, sizeof err), -1);
    if (!strstr(err, "is locked by another worker"))
        fail_msg("unexpected reason: %s", err);
    platform_close(&first);
    assert_int_equal(platform_lock_data_dir(&second, err, sizeof err), 0);
    platform_close(&second);
}

static void test_key_file_with_group_access_refused(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char path[PATH_MAX];
    size_t len;
    uint8_t *before, *after;

    open_ok(&f->cfg, &p);
    platform_close(&p);
    path_in(f, "platform.key", path, sizeof path);
    before = read_file(path, &len);
    assert_int_equal(chmod(path, 0640), 0);
    open_fails(&f->cfg, "lets group or other users read the root key");
    open_fails(&f->cfg, "chmod 600");
    assert_int_equal(chmod(path, 0604), 0);
    open_fails(&f->cfg, "mode 0604");
    after = read_file(path, &len);
    assert_memory_equal(before, after, 32); /* refused, not replaced */
    free(before);
    free(after);
}

static void test_key_file_wrong_size_refused(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    uint8_t bytes[33], zero[32] = {0};

    memset(bytes, 0x5a, sizeof bytes);
    assert_int_equal(mkdir(f->data, 0700), 0);
    path_in(f, "platform.key", path, sizeof path);
    write_file(path, bytes, 31, 0600);
    open_fails(&f->cfg, "has 31 bytes, expected 32");
    write_file(path, bytes, 33, 0600);
    open_fails(&f->cfg, "has 33 bytes, expected 32");
    write_file(path, bytes, 0, 0600);
    open_fails(&f->cfg, "has 0 bytes, expected 32");
    write_file(path, zero, 32, 0600);
    open_fails(&f->cfg, "all zeros");
}

static void test_derived_keys_are_distinct(void **state)
{
    struct fixture *f = *state;
    static const char *const labels[] = {PLATFORM_LABEL_LOCAL_SEAL, PLATFORM_LABEL_WORKER_ID,
                                         PLATFORM_LABEL_KEYRING, PLATFORM_LABEL_STORE};
    uint8_t keys[4][32], again[32];
    struct platform p;

    open_ok(&f->cfg, &p);
    for (size_t i = 0; i < 4; i++) {
        platform_derive(&p, labels[i], keys[i]);
        assert_memory_not_equal(keys[i], p.root_key, 32);
        for (size_t j = 0; j < i; j++)
            assert_memory_not_equal(keys[i], keys[j], 32);
    }
    platform_derive(&p, PLATFORM_LABEL_KEYRING, again);
    assert_memory_equal(again, keys[2], 32);
    platform_close(&p);
}

static void test_sealed_file_round_trip(void **state)
{
    struct fixture *f = *state;
    static const uint8_t msg[] = "the quick brown fox";
    struct platform p;
    struct stat st;
    char err[512], path[PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;

    open_ok(&f->cfg, &p);
    assert_int_equal(platform_read_sealed(&p, "blob", PLATFORM_LABEL_STORE, &data, &len, err,
                                          sizeof err), 0);
    assert_int_equal(platform_write_sealed(&p, "blob", PLATFORM_LABEL_STORE, msg, sizeof msg - 1,
                                           err, sizeof err), 0);
    path_in(f, "blob", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, (off_t)(sizeof msg - 1 + 32));
    assert_int_equal(platform_read_sealed(&p, "blob", PLATFORM_LABEL_STORE, &data, &len, err,
                                          sizeof err), 1);
    assert_int_equal(len, sizeof msg - 1);
    assert_string_equal((char *)data, (const char *)msg);
    free(data);

    /* overwrite with empty content */
    assert_int_equal(platform_write_sealed(&p, "blob", PLATFORM_LABEL_STORE, NULL, 0, err,
                                           sizeof err), 0);
    assert_int_equal(platform_read_sealed(&p, "blob", PLATFORM_LABEL_STORE, &data, &len, err,
                                          sizeof err), 1);
    assert_int_equal(len, 0);
    assert_int_equal(data[0], 0);
    free(data);

    /* another label (key and AAD) does not open it */
    assert_int_equal(platform_read_sealed(&p, "blob", PLATFORM_LABEL_KEYRING, &data, &len, err,
                                          sizeof err), -1);
    assert_non_null(strstr(err, "cannot be opened"));

    /* names must stay inside DATA_DIR */
    assert_int_equal(platform_write_sealed(&p, "../x", PLATFORM_LABEL_STORE, msg, 1, err,
                                           sizeof err), -1);
    assert_int_equal(platform_read_sealed(&p, "..", PLATFORM_LABEL_STORE, &data, &len, err,
                                          sizeof err), -1);
    platform_close(&p);
}

static void expect_unreadable(struct platform *p, const char *name, const char *needle)
{
    char err[512] = "";
    uint8_t *data = NULL;
    size_t len = 0;

    assert_int_equal(platform_read_sealed(p, name, PLATFORM_LABEL_STORE, &data, &len, err,
                                          sizeof err), -1);
    assert_null(data);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_tampered_file_refused_not_replaced(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[512], path[PATH_MAX];
    uint8_t *blob, *after;
    size_t len, len2;

    open_ok(&f->cfg, &p);
    assert_int_equal(platform_write_sealed(&p, "blob", PLATFORM_LABEL_STORE,
                                           (const uint8_t *)"secret", 6, err, sizeof err), 0);
    path_in(f, "blob", path, sizeof path);
    blob = read_file(path, &len);

    blob[20] ^= 1; /* a ciphertext byte */
    write_file(path, blob, len, 0600);
    expect_unreadable(&p, "blob", "cannot be opened");
    after = read_file(path, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(after, blob, len);
    free(after);

    blob[20] ^= 1;
    blob[len - 1] ^= 0x80; /* the tag */
    write_file(path, blob, len, 0600);
    expect_unreadable(&p, "blob", "cannot be opened");

    write_file(path, "TWS2", 4, 0600);
    expect_unreadable(&p, "blob", "not a tee-worker sealed file");
    memcpy(blob, "XXXX", 4);
    write_file(path, blob, len, 0600);
    expect_unreadable(&p, "blob", "not a tee-worker sealed file");
    free(blob);
    platform_close(&p);
}

static void test_file_from_other_root_key_refused(void **state)
{
    struct fixture *f = *state;
    struct fixture other = *f;
    struct platform a, b;
    char err[512], from[PATH_MAX], to[PATH_MAX], id[37];
    uint8_t *blob;
    size_t len;

    snprintf(other.data, sizeof other.data, "%s/other", f->dir);
    other.cfg.data_dir = other.data;
    open_ok(&f->cfg, &a);
    open_ok(&other.cfg, &b);
    assert_memory_not_equal(a.root_key, b.root_key, 32);

    assert_int_equal(platform_write_sealed(&a, "blob", PLATFORM_LABEL_STORE,
                                           (const uint8_t *)"x", 1, err, sizeof err), 0);
    assert_int_equal(platform_worker_id(&a, id, err, sizeof err), 0);
    path_in(f, "blob", from, sizeof from);
    path_in(&other, "blob", to, sizeof to);
    blob = read_file(from, &len);
    write_file(to, blob, len, 0600);
    free(blob);
    expect_unreadable(&b, "blob", "sealed under another platform key");

    path_in(f, "worker_id", from, sizeof from);
    path_in(&other, "worker_id", to, sizeof to);
    blob = read_file(from, &len);
    write_file(to, blob, len, 0600);
    assert_int_equal(platform_worker_id(&b, id, err, sizeof err), -1);
    assert_non_null(strstr(err, "worker_id"));
    free(blob);
    blob = read_file(to, &len); /* still the foreign file: not replaced */
    assert_int_equal(len, 36 + 32);
    free(blob);
    platform_close(&a);
    platform_close(&b);
}

static void assert_uuid_v4(const char *id)
{
    assert_int_equal(strlen(id), 36);
    assert_true(uuid_text_valid(id));
    for (const char *c = id; *c; c++)
        assert_false(*c >= 'A' && *c <= 'F');
    assert_int_equal(id[14], '4');
    assert_non_null(strchr("89ab", id[19]));
}

static void test_worker_id_stable_and_v4(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    struct stat st;
    char err[512], first[37], second[37], path[PATH_MAX];

    open_ok(&f->cfg, &p);
    assert_int_equal(platform_worker_id(&p, first, err, sizeof err), 0);
    assert_uuid_v4(first);
    assert_int_equal(platform_worker_id(&p, second, err, sizeof err), 0);
    assert_string_equal(first, second);
    platform_close(&p);

    path_in(f, "worker_id", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    open_ok(&f->cfg, &p);
    assert_int_equal(platform_worker_id(&p, second, err, sizeof err), 0);
    assert_string_equal(first, second);
    platform_close(&p);
}

/* Gramine has no link(2) (it answers ENOSYS), nor have some file systems (EPERM): this test's
 * link stands in for them when links_unsupported is set, and the real one otherwise. */
static bool links_unsupported;

int link(const char *from, const char *to)
{
    if (links_unsupported) {
        errno = ENOSYS;
        return -1;
    }
    return linkat(AT_FDCWD, from, AT_FDCWD, to, 0);
}

/* Files created once (the root key, the worker id) still are where there are no hard links: an
 * enclave worker with a shared store keeps its worker id in such a file, and failed to start. */
static void test_create_once_files_without_hard_links(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[512] = "", first[37], second[37], path[PATH_MAX];
    struct stat st;

    links_unsupported = true;
    open_ok(&f->cfg, &p);
    if (platform_worker_id(&p, first, err, sizeof err) != 0)
        fail_msg("platform_worker_id without hard links: %s", err);
    assert_uuid_v4(first);
    assert_int_equal(platform_worker_id(&p, second, err, sizeof err), 0);
    assert_string_equal(first, second);
    platform_close(&p);
    open_ok(&f->cfg, &p);
    assert_int_equal(platform_worker_id(&p, second, err, sizeof err), 0);
    assert_string_equal(first, second);
    platform_close(&p);
    links_unsupported = false;
    path_in(f, "platform.key", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* The directory's fsync after an install fails (EIO) when dir_sync_fails is set: this test's
 * fsync stands in for the real one, which it calls otherwise. */
static bool dir_sync_fails;
static int dir_syncs_failed;

int fsync(int fd)
{
    struct stat st;

    if (dir_sync_fails && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        dir_syncs_failed++;
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

/* A failed fsync of DATA_DIR after the rename does not undo the install: the new file is in place
 * and is what every reader, and the next start, sees. Reporting a failure made callers believe the
 * old file still stood (keyring_add kept the old ring in memory and /setkey answered 500, while
 * the new ring was on disk and came back at the next start): the write succeeds, with a warning
 * that its surviving a crash of the machine is uncertain. */
static void test_directory_sync_failure_after_install_is_not_a_failure(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[512] = "", id[37], again[37];
    uint8_t *data = NULL;
    size_t len = 0;

    dir_sync_fails = true;
    dir_syncs_failed = 0;
    if (platform_open(&p, &f->cfg, err, sizeof err) != 0)      /* creates the root key */
        fail_msg("platform_open with a failing directory sync: %s", err);
    if (platform_worker_id(&p, id, err, sizeof err) != 0)       /* creates the worker id */
        fail_msg("platform_worker_id with a failing directory sync: %s", err);
    assert_int_equal(platform_write_sealed(&p, "ring", PLATFORM_LABEL_KEYRING,
                                           (const uint8_t *)"old", 3, err, sizeof err), 0);
    assert_int_equal(platform_write_sealed(&p, "ring", PLATFORM_LABEL_KEYRING,
                                           (const uint8_t *)"new", 3, err, sizeof err), 0);
    assert_int_equal(dir_syncs_failed, 4);
    dir_sync_fails = false;
    assert_int_equal(platform_read_sealed(&p, "ring", PLATFORM_LABEL_KEYRING, &data, &len, err,
                                          sizeof err), 1);
    assert_string_equal((char *)data, "new");
    free(data);
    platform_close(&p);
    open_ok(&f->cfg, &p);                   /* the same root key and worker id, installed */
    assert_int_equal(platform_worker_id(&p, again, err, sizeof err), 0);
    assert_string_equal(id, again);
    platform_close(&p);
}

/* age_entry sets the times of path back by age_s seconds (of the entry itself for a symbolic
 * link). */
static void age_entry(const char *path, int age_s)
{
    struct timespec t[2];

    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age_s;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
}

static bool entry_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* A process that dies between creating a temporary file and installing it leaves the file in
 * DATA_DIR. Opening the platform removes such files when they are stale, and nothing else: not
 * a fresh one (another process may be writing it), not a name that only looks alike, not a
 * symbolic link or a directory of that name, and never what a link points to. */
static void test_stale_temporary_files_removed_only_ours(void **state)
{
    struct fixture *f = *state;
    static const char *const stale[] = { ".worker_id.tw-tmp.Ab12Cd", ".platform.key.tw-tmp.zzzzzz",
                                         ".keyring.tw-tmp.000000" };
    static const char *const kept[] = { ".keyring.tw-tmp.Fresh1",   /* fresh */
                                        ".profile.backup", "worker_id.tw-tmp.Ab12Cd",
                                        ".x.tw-tmp.Ab12C", ".x.tw-tmp.Ab12Cd.bak",
                                        ".x.tw-tmp.Ab-2Cd", ".tw-tmp.Ab12Cd", ".x.tw-tmpAb12Cd" };
    char path[PATH_MAX], target[PATH_MAX], link_path[PATH_MAX], dir_path[PATH_MAX];
    struct platform p;

    assert_int_equal(mkdir(f->data, 0700), 0);
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        path_in(f, stale[i], path, sizeof path);
        write_file(path, "partial", 7, 0600);
        age_entry(path, 120);
    }
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        path_in(f, kept[i], path, sizeof path);
        write_file(path, "keep", 4, 0600);
        if (i > 0)
            age_entry(path, 120);
    }
    snprintf(target, sizeof target, "%s/outside", f->dir);
    write_file(target, "not ours", 8, 0600);
    age_entry(target, 120);
    path_in(f, ".link.tw-tmp.Sym123", link_path, sizeof link_path);
    assert_int_equal(symlink(target, link_path), 0);
    age_entry(link_path, 120);
    path_in(f, ".dir.tw-tmp.Dir123", dir_path, sizeof dir_path);
    assert_int_equal(mkdir(dir_path, 0700), 0);
    age_entry(dir_path, 120);

    open_ok(&f->cfg, &p);
    platform_close(&p);
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        path_in(f, stale[i], path, sizeof path);
        if (entry_exists(path))
            fail_msg("stale temporary file %s was left in DATA_DIR", stale[i]);
    }
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        path_in(f, kept[i], path, sizeof path);
        if (!entry_exists(path))
            fail_msg("%s was removed, though not a stale temporary file of ours", kept[i]);
    }
    assert_true(entry_exists(link_path));
    assert_true(entry_exists(target));
    assert_true(entry_exists(dir_path));
}

static void test_worker_id_not_a_uuid_refused(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[512], id[37];

    open_ok(&f->cfg, &p);
    assert_int_equal(platform_write_sealed(&p, "worker_id", PLATFORM_LABEL_WORKER_ID,
                                           (const uint8_t *)"not-a-uuid", 10, err, sizeof err), 0);
    assert_int_equal(platform_worker_id(&p, id, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a worker id"));
    /* sealed under the wrong label: refused as well */
    assert_int_equal(platform_write_sealed(&p, "worker_id", PLATFORM_LABEL_STORE,
                                           (const uint8_t *)"00000000-0000-4000-8000-000000000000",
                                           36, err, sizeof err), 0);
    assert_int_equal(platform_worker_id(&p, id, err, sizeof err), -1);
    platform_close(&p);
}

static void test_gramine_fails_without_attestation(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[512] = "";

    if (access("/dev/attestation", F_OK) == 0)
        skip();
    f->cfg.standalone = false;
    assert_int_equal(platform_open(&p, &f->cfg, err, sizeof err), -1);
    assert_string_equal(err, "enclave mode needs Gramine-SGX (/dev/attestation/attestation_type: "
                             "No such file or directory); set STANDALONE=true to run without an "
                             "enclave");
}

static void test_empty_data_dir_refused(void **state)
{
    struct fixture *f = *state;

    f->cfg.data_dir = (char *)"";
    open_fails(&f->cfg, "DATA_DIR is empty");
}

static void test_uuid_text(void **state)
{
    char id[37], other[37];

    (void)state;
    for (int i = 0; i < 200; i++) {        /* version and variant bits on every id */
        uuid_v4(id);
        uuid_v4(other);
        assert_uuid_v4(id);
        assert_uuid_v4(other);
        assert_string_not_equal(id, other);
    }
    assert_true(uuid_text_valid("123E4567-E89B-12D3-A456-426614174000"));
    assert_false(uuid_text_valid("123e4567-e89b-12d3-a456-42661417400"));
    assert_false(uuid_text_valid("123e4567-e89b-12d3-a456-4266141740000"));
    assert_false(uuid_text_valid("123e4567xe89b-12d3-a456-426614174000"));
    assert_false(uuid_text_valid("123e4567-e89b-12d3-a456-42661417400g"));
    assert_false(uuid_text_valid(""));
    assert_false(uuid_text_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_key_created_private_and_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_dir_locked_by_one_process_at_a_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_key_file_with_group_access_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_wrong_size_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_derived_keys_are_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_file_refused_not_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_from_other_root_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_id_stable_and_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_id_not_a_uuid_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_once_files_without_hard_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporary_files_removed_only_ours, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_directory_sync_failure_after_install_is_not_a_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gramine_fails_without_attestation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_data_dir_refused, setup, teardown),
        cmocka_unit_test(test_uuid_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
