/* test_sqlite_walbuf.c - the WAL-gathering VFS: a transaction reaches the WAL file in one write
 * and before COMMIT returns (a process that dies right after a commit loses nothing), rollbacks,
 * large transactions, checkpoints and WAL restarts read back what was written, write-back started
 * early every 512 KiB of WAL, also in a transaction that rewrites its own frames, two
 * connections of the process on one file, and the error a write of gathered bytes reports when
 * it fails in another method than xWrite (faults injected through the unix VFS's system calls). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/sqlite_walbuf.h"

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/tw-walbuf-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    assert_int_equal(walbuf_register(), SQLITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* open_db opens the test database through the VFS (or the default one) as the store does. */
static sqlite3 *open_db(const struct fx *f, bool walbuf, const char *sync)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     walbuf ? WALBUF_VFS_NAME : NULL), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
             "PRAGMA synchronous=%s; CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB);",
             sync);
    exec_ok(db, sql);
    return db;
}

static long long count_rows(sqlite3 *db, const char *where)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t %s", where);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void insert(sqlite3 *db, int k, size_t len, uint8_t fill)
{
    uint8_t *v = malloc(len);
    memset(v, fill, len);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES(?1, ?2)", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, k);
    sqlite3_bind_blob(st, 2, v, (int)len, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(v);
}

/* insert_committed inserts one row in a transaction of its own. */
static void insert_committed(sqlite3 *db, int k, size_t len, uint8_t fill)
{
    exec_ok(db, "BEGIN IMMEDIATE");
    insert(db, k, len, fill);
    exec_ok(db, "COMMIT");
}

/* A transaction of several pages is one write, done by the time COMMIT returns. */
static void test_one_write_per_commit(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f, true, "NORMAL");
    for (int i = 0; i < 20; i++) {
        struct walbuf_stats a, b;
        walbuf_stats(&a);
        exec_ok(db, "BEGIN IMMEDIATE");
        insert(db, i * 3, 3000, (uint8_t)i);        /* a few pages each */
        insert(db, i * 3 + 1, 3000, (uint8_t)i);
        insert(db, i * 3 + 2, 100, (uint8_t)i);
        exec_ok(db, "COMMIT");
        walbuf_stats(&b);
        assert_int_equal(b.pending, 0);
        assert_true(b.writes - a.writes >= 4);      /* SQLite asked for header + page writes */
        assert_int_equal(b.syscalls - a.syscalls, 1);
    }
    assert_int_equal(count_rows(db, ""), 60);
    sqlite3_close(db);
    /* read back through the default VFS */
    db = open_db(f, false, "NORMAL");
    assert_int_equal(count_rows(db, ""), 60);
    assert_int_equal(count_rows(db, "WHERE length(v) = 3000"), 40);
    sqlite3_close(db);
}

/* A process that dies right after its commits (no close, no checkpoint) loses none of them. */
static void test_commits_survive_process_death(void **state)
{
    struct fx *f = *state;
    for (const char *const *sync = (const char *const[]){"NORMAL", "FULL", NULL}; *sync; sync++) {
        unlink(f->path);
        char wal[160];
        snprintf(wal, sizeof wal, "%s-wal", f->path);
        unlink(wal);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sqlite3 *db = open_db(f, true, *sync);
            for (int i = 0; i < 50; i++) {
                insert_committed(db, i, 500 + (size_t)i * 97, (uint8_t)i);
            }
            exec_ok(db, "BEGIN IMMEDIATE");           /* left open: must not appear */
            insert(db, 1000, 100, 1);
            _exit(0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        sqlite3 *db = open_db(f, false, "NORMAL");
        assert_int_equal(count_rows(db, ""), 50);
        assert_int_equal(count_rows(db, "WHERE k = 1000"), 0);
        sqlite3_close(db);
    }
}

/* Rollbacks, a transaction larger than the gathering buffer, frequent checkpoints (the WAL starts
 * over and its header is written again) and reads of pages that are only in the WAL. */
static void test_rollback_large_and_checkpoints(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f, true, "NORMAL");
    exec_ok(db, "PRAGMA wal_autocheckpoint=8; PRAGMA cache_size=4");
    insert_committed(db, 1, 3 * 1024 * 1024, 0xAB);     /* 3 MiB: written in pieces */
    exec_ok(db, "BEGIN IMMEDIATE");
    insert(db, 2, 2 * 1024 * 1024, 0xCD);
    exec_ok(db, "ROLLBACK");
    for (int i = 10; i < 210; i++) {
        insert_committed(db, i, 1500, (uint8_t)i);
    }
    struct walbuf_stats st;
    walbuf_stats(&st);
    assert_int_equal(st.pending, 0);
    /* the tiny page cache makes SQLite read pages back, from the WAL and the database */
    assert_int_equal(count_rows(db, ""), 201);
    assert_int_equal(count_rows(db, "WHERE k = 1 AND length(v) = 3145728 AND "
                                    "substr(v, 3145728, 1) = x'AB'"), 1);
    assert_int_equal(count_rows(db, "WHERE k = 2"), 0);
    sqlite3_close(db);
    db = open_db(f, false, "NORMAL");
    exec_ok(db, "PRAGMA integrity_check");
    assert_int_equal(count_rows(db, ""), 201);
    assert_int_equal(count_rows(db, "WHERE k >= 10 AND length(v) = 1500 AND "
                                    "hex(substr(v, 1500, 1)) = printf('%02X', k % 256)"), 200);
    sqlite3_close(db);
}

/* Every 512 KiB of WAL written, write-back of that range is started (the checkpoint's fsync then
 * has less to write); across a checkpoint that starts the WAL over, and nothing changes in what
 * is read back. */
static void test_early_writeback(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f, true, "NORMAL");
    exec_ok(db, "PRAGMA wal_autocheckpoint=0");
    struct walbuf_stats a, b, c;
    walbuf_stats(&a);
    for (int i = 0; i < 200; i++) {                 /* ≈ 200 × 3 pages: ≈ 2.4 MB of WAL */
        insert_committed(db, i, 8000, (uint8_t)i);
    }
    walbuf_stats(&b);
    assert_true(b.kicks - a.kicks >= 3);
    exec_ok(db, "PRAGMA wal_checkpoint(RESTART)");  /* the next commit writes from offset 0 */
    for (int i = 200; i < 400; i++) {
        insert_committed(db, i, 8000, (uint8_t)i);
    }
    walbuf_stats(&c);
    assert_true(c.kicks - b.kicks >= 3);
    assert_int_equal(count_rows(db, "WHERE length(v) = 8000"), 400);
    sqlite3_close(db);
    db = open_db(f, false, "NORMAL");
    exec_ok(db, "PRAGMA integrity_check");
    assert_int_equal(count_rows(db, "WHERE length(v) = 8000 AND "
                                    "hex(substr(v, 8000, 1)) = printf('%02X', k % 256)"), 400);
    sqlite3_close(db);
}

/* A transaction larger than the page cache spills its pages into the WAL and rewrites those frames
 * in place as it changes them again: write-back is still started per 512 KiB written, not at each
 * write out of sequence (that was one sync_file_range per page: 1.8M calls in one migration). */
static void test_writeback_of_a_transaction_rewriting_its_frames(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f, true, "NORMAL");
    exec_ok(db, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=10");
    exec_ok(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 300; i++)
        insert(db, i, 1000, 0);
    exec_ok(db, "COMMIT");
    struct walbuf_stats a, b;
    walbuf_stats(&a);
    exec_ok(db, "BEGIN IMMEDIATE");
    for (int pass = 1; pass <= 20; pass++) {
        char sql[96];           /* 1000 times the letter 64 + pass: the last pass writes 'T' */
        snprintf(sql, sizeof sql, "UPDATE t SET v = replace(hex(zeroblob(500)), '0', char(%d))",
                 64 + pass);
        exec_ok(db, sql);
    }
    exec_ok(db, "COMMIT");
    walbuf_stats(&b);
    uint64_t writes = b.writes - a.writes, kicks = b.kicks - a.kicks;
    assert_true(writes > 1000);                         /* the frames were written many times */
    assert_true(kicks <= writes * (4096 + 24) / (512 * 1024) + 2);
    assert_int_equal(count_rows(db, "WHERE length(v) = 1000 AND substr(v, 1000, 1) = 'T'"), 300);
    sqlite3_close(db);
    db = open_db(f, false, "NORMAL");
    exec_ok(db, "PRAGMA integrity_check");
    assert_int_equal(count_rows(db, "WHERE v = replace(hex(zeroblob(500)), '0', 'T')"), 300);
    sqlite3_close(db);
}

/* Two connections of the process on the same file, opened before either opens the WAL (which
 * SQLite opens at the first read): each WAL belongs to its own connection's database, whatever
 * the order in which they open and close. (Linked by name, the first WAL went to the other
 * connection's database, whose close then left it pointing to freed memory.) */
static void test_two_connections_on_one_file(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f, true, "NORMAL");       /* creates the file in WAL mode */
    sqlite3_close(db);
    sqlite3 *a = NULL, *b = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &a, SQLITE_OPEN_READWRITE, WALBUF_VFS_NAME),
                     SQLITE_OK);
    assert_int_equal(sqlite3_open_v2(f->path, &b, SQLITE_OPEN_READWRITE, WALBUF_VFS_NAME),
                     SQLITE_OK);
    assert_int_equal(count_rows(a, ""), 0);         /* a's WAL opens first */
    assert_int_equal(count_rows(b, ""), 0);
    for (int i = 0; i < 10; i++) {
        sqlite3 *c = i % 2 ? b : a;
        insert_committed(c, i, 3000, (uint8_t)i);
        struct walbuf_stats st;
        walbuf_stats(&st);
        assert_int_equal(st.pending, 0);
    }
    assert_int_equal(count_rows(a, ""), 10);
    assert_int_equal(count_rows(b, ""), 10);
    sqlite3_close(b);                               /* the database a's WAL was linked to */
    insert_committed(a, 10, 3000, 10);
    sqlite3_close(a);
    db = open_db(f, false, "NORMAL");
    exec_ok(db, "PRAGMA integrity_check");
    assert_int_equal(count_rows(db, "WHERE length(v) = 3000"), 11);
    sqlite3_close(db);
}

/* Fault injection: while wal_write_errno is set, every write the unix VFS makes to a WAL file
 * fails with that errno (its system calls are replaced through xSetSystemCall; SQLite writes
 * with pwrite64, or pwrite, or write, depending on how it was built). */
static int wal_write_errno;
static int wal_writes_failed;
static sqlite3_syscall_ptr real_write, real_pwrite, real_pwrite64;

static bool failing_wal_fd(int fd)
{
    char link[64], target[512];
    if (!wal_write_errno)
        return false;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 4 || memcmp(target + n - 4, "-wal", 4) != 0)
        return false;
    wal_writes_failed++;
    errno = wal_write_errno;
    return true;
}

static ssize_t faulty_write(int fd, const void *buf, size_t n)
{
    return failing_wal_fd(fd) ? -1
                              : ((ssize_t(*)(int, const void *, size_t))real_write)(fd, buf, n);
}

static ssize_t faulty_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return failing_wal_fd(fd) ? -1
                              : ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite)(fd, buf,
                                                                                           n, off);
}

static ssize_t faulty_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return failing_wal_fd(fd) ? -1
                              : ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite64)(
                                    fd, buf, n, off);
}

static void install_faults(void)
{
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
    assert_non_null(unix_vfs);
    real_write = unix_vfs->xGetSystemCall(unix_vfs, "write");
    real_pwrite = unix_vfs->xGetSystemCall(unix_vfs, "pwrite");
    real_pwrite64 = unix_vfs->xGetSystemCall(unix_vfs, "pwrite64");
    if (real_write)
        unix_vfs->xSetSystemCall(unix_vfs, "write", (sqlite3_syscall_ptr)faulty_write);
    if (real_pwrite)
        unix_vfs->xSetSystemCall(unix_vfs, "pwrite", (sqlite3_syscall_ptr)faulty_pwrite);
    if (real_pwrite64)
        unix_vfs->xSetSystemCall(unix_vfs, "pwrite64", (sqlite3_syscall_ptr)faulty_pwrite64);
}

/* gather_junk hands the WAL a 24-byte frame header that is not a commit's, at its end: the layer
 * keeps it (pending) and writes it before the WAL's next use. */
static void gather_junk(sqlite3_file *wal)
{
    static const uint8_t header[24] = { 0 };
    sqlite3_int64 size = 0;
    assert_int_equal(wal->pMethods->xFileSize(wal, &size), SQLITE_OK);
    assert_int_equal(wal->pMethods->xWrite(wal, header, sizeof header, size), SQLITE_OK);
    struct walbuf_stats st;
    walbuf_stats(&st);
    assert_int_equal(st.pending, sizeof header);
}

/* Gathered bytes are written when the WAL is next used; when that write fails, the method SQLite
 * called (a read, a sync, the size) reports what failed: the write (SQLITE_IOERR_WRITE, or
 * SQLITE_FULL for a full disk), as the unix VFS reports it, never a read or sync error. SQLite
 * then fails the transaction, and what it committed before is intact. */
static void test_failed_flush_reports_the_write_error(void **state)
{
    struct fx *f = *state;
    install_faults();
    sqlite3 *db = open_db(f, true, "FULL");
    insert_committed(db, 1000, 100, 7);
    exec_ok(db, "PRAGMA cache_size=10");
    exec_ok(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 40; i++)
        insert(db, i, 3000, 1);              /* the page cache spills frames to the WAL */
    struct walbuf_stats st;
    walbuf_stats(&st);
    assert_true(st.pending > 0);

    /* a read of a spilled page writes the gathered frames first */
    wal_write_errno = EIO;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(length(v)) FROM t", -1, &q, NULL),
                     SQLITE_OK);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    wal_write_errno = 0;
    assert_true(wal_writes_failed > 0);
    assert_int_equal(rc, SQLITE_IOERR);
    assert_int_equal(sqlite3_extended_errcode(db), SQLITE_IOERR_WRITE);
    assert_int_equal(sqlite3_system_errno(db), EIO);
    assert_true(sqlite3_get_autocommit(db));          /* the transaction was rolled back */
    assert_int_equal(count_rows(db, ""), 1);
    insert_committed(db, 1001, 100, 8);

    /* the sync and the size of the WAL, with bytes gathered */
    sqlite3_file *wal = NULL;
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal),
                     SQLITE_OK);
    assert_non_null(wal);
    gather_junk(wal);
    wal_write_errno = EIO;
    assert_int_equal(wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL), SQLITE_IOERR_WRITE);
    wal_write_errno = 0;
    gather_junk(wal);
    wal_write_errno = ENOSPC;
    sqlite3_int64 size = 0;
    assert_int_equal(wal->pMethods->xFileSize(wal, &size), SQLITE_FULL);
    wal_write_errno = 0;
    walbuf_stats(&st);
    assert_int_equal(st.pending, 0);                  /* dropped with the failure, not retried */
    sqlite3_close(db);

    db = open_db(f, false, "NORMAL");
    exec_ok(db, "PRAGMA integrity_check");
    assert_int_equal(count_rows(db, ""), 2);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_write_per_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commits_survive_process_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_large_and_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_writeback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writeback_of_a_transaction_rewriting_its_frames, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_connections_on_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_flush_reports_the_write_error, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
