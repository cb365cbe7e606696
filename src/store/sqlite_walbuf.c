/* sqlite_walbuf.c - an SQLite VFS over the default one that gathers the writes of a transaction
 * to its WAL file and hands them to the file in one write.
 *
 * SQLite appends a committed transaction to the WAL as frames, and writes each frame as two
 * calls: its 24-byte header, then the page. A job admission is three frames: six pwrite calls,
 * each with the file system's per-call costs (locks, time stamps, partial pages). Here the calls
 * are kept in memory while they are contiguous and written together when the transaction's commit
 * frame is complete: the frame header's second field (the database size after the commit) is
 * non-zero only on a commit frame (WAL format, sqlite.org/fileformat2.html). Before any other use
 * of the WAL (a read, a sync, a truncation, its size, a file control, closing it) and on the
 * database's commit notice (SQLITE_FCNTL_COMMIT_PHASETWO), whatever is gathered is written first,
 * so SQLite never sees the file other than it would without this layer, and a commit has reached
 * the file (the page cache: a crash of the process loses nothing) before COMMIT returns.
 * Other files (the database, temporary files) go straight through.
 *
 * Early write-back: a checkpoint starts with an fsync of the WAL, which with nothing written back
 * yet has to write every page appended since the last one (the store checkpoints every ≈ 16 MB;
 * 4 MB took ≈ 7 ms on this machine's disk, while admissions wait behind it). Every KICK_BYTES of
 * WAL written, the layer asks the kernel to start writing that range back (sync_file_range,
 * SYNC_FILE_RANGE_WRITE: it does not wait and promises nothing), so the checkpoint's fsync finds
 * little left to do. Durability is unchanged:
 * SQLite's own syncs still decide what is on disk when. */
#include "store/sqlite_walbuf.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

/* Runs longer than this are written in pieces: the unix VFS writes at most 128 KiB - 1 bytes per
 * call (a longer write whose remainder is a multiple of 128 KiB fails as "disk full"). */
#define GATHER_MAX (96 * 1024)
/* Write-back is started once this much of the WAL has been written since the last start. */
#define KICK_BYTES (512 * 1024)

struct wb_file {
    sqlite3_file base;
    sqlite3_file *real;
    char *name;                 /* a database: its name, to find its WAL */
    const char *core_name;      /* a database: the name as SQLite's pager holds it (not ours) */
    struct wb_file *wal;        /* a database: its open WAL, if any */
    struct wb_file *owner;      /* a WAL: its database */
    struct wb_file *next_db;    /* list of open databases */
    bool is_wal;
    bool commit_pending;        /* a commit frame's header is gathered; its page comes next */
    uint32_t page_size;         /* from the WAL header, 0 while unknown */
    uint8_t *buf;
    size_t len, cap;
    sqlite3_int64 off;          /* file offset of buf[0] */
    int kick_fd;                /* a WAL: our own descriptor of it for sync_file_range, or -1 */
    sqlite3_int64 dirty_lo, dirty_hi;   /* a WAL: the range written since the last kick or sync */
    size_t dirty_bytes;                 /* a WAL: the bytes written in that range */
};

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *open_dbs;
static uint64_t stat_writes, stat_syscalls, stat_kicks;

#define REAL_OFFSET ((sizeof(struct wb_file) + 15) & ~(size_t)15)

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* kick starts write-back of the WAL range written since the last kick or sync. A kernel that
 * does not have sync_file_range (or refuses it) turns the feature off for this file. */
static void kick(struct wb_file *f)
{
    if (f->dirty_hi > f->dirty_lo && f->kick_fd >= 0) {
        if (sync_file_range(f->kick_fd, f->dirty_lo, f->dirty_hi - f->dirty_lo,
                            SYNC_FILE_RANGE_WRITE) == 0) {
            __atomic_add_fetch(&stat_kicks, 1, __ATOMIC_RELAXED);
        } else {
            close(f->kick_fd);
            f->kick_fd = -1;
        }
    }
    f->dirty_lo = f->dirty_hi = 0;
    f->dirty_bytes = 0;
}

/* note_written adds [off, off + n) to the WAL's range not yet kicked, and kicks once KICK_BYTES
 * were written into it. SQLite mostly appends; it also starts the WAL over from its beginning,
 * and a transaction larger than the page cache (a migration) rewrites its own frames in place,
 * so the range is the span of all of it: the kernel writes back only the dirty pages inside. (A
 * kick at every write out of sequence, as this once did, made one sync_file_range per page of
 * such a transaction: 1.8M calls for a migration of 2M rows.) */
static void note_written(struct wb_file *f, sqlite3_int64 off, size_t n)
{
    if (f->kick_fd < 0)
        return;
    sqlite3_int64 end = off + (sqlite3_int64)n;
    if (f->dirty_bytes == 0 || off < f->dirty_lo)
        f->dirty_lo = off;
    if (f->dirty_bytes == 0 || end > f->dirty_hi)
        f->dirty_hi = end;
    f->dirty_bytes += n;
    if (f->dirty_bytes >= KICK_BYTES)
        kick(f);
}

/* write_real hands n bytes at off to the real file (one write, counted). */
static int write_real(struct wb_file *f, const void *data, size_t n, sqlite3_int64 off)
{
    __atomic_add_fetch(&stat_syscalls, 1, __ATOMIC_RELAXED);
    int rc = f->real->pMethods->xWrite(f->real, data, (int)n, off);
    if (rc == SQLITE_OK)
        note_written(f, off, n);
    return rc;
}

static int flush(struct wb_file *f)
{
    if (f->len == 0)
        return SQLITE_OK;
    int rc = write_real(f, f->buf, f->len, f->off);
    f->len = 0;     /* on failure SQLite fails the transaction; the bytes are not retried */
    return rc;
}

static int gather(struct wb_file *f, const void *data, size_t n, sqlite3_int64 off)
{
    if (f->len && off != f->off + (sqlite3_int64)f->len) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (f->len + n > GATHER_MAX) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
        if (n > GATHER_MAX / 2)
            return write_real(f, data, n, off);
    }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 16384;
        while (cap < f->len + n)
            cap *= 2;
        uint8_t *grown = realloc(f->buf, cap);
        if (!grown) {
            int rc = flush(f);
            return rc != SQLITE_OK ? rc : write_real(f, data, n, off);
        }
        f->buf = grown;
        f->cap = cap;
    }
    if (f->len == 0)
        f->off = off;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return SQLITE_OK;
}

/* ---- io methods --------------------------------------------------------------------------- */

static int wb_close(sqlite3_file *file)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    pthread_mutex_lock(&registry_lock);
    if (f->is_wal && f->owner)
        f->owner->wal = NULL;
    if (!f->is_wal) {
        for (struct wb_file **p = &open_dbs; *p; p = &(*p)->next_db)
            if (*p == f) {
                *p = f->next_db;
                break;
            }
        if (f->wal)
            f->wal->owner = NULL;
    }
    pthread_mutex_unlock(&registry_lock);
    int rc2 = f->real->pMethods->xClose(f->real);
    if (f->kick_fd >= 0)
        close(f->kick_fd);
    free(f->buf);
    free(f->name);
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

static int wb_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)file;
    if (!f->is_wal || n <= 0)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    __atomic_add_fetch(&stat_writes, 1, __ATOMIC_RELAXED);
    bool complete_commit = false;
    if (off == 0 && n >= 32) {
        f->page_size = be32((const uint8_t *)data + 8);       /* WAL header */
    } else if (n == 24) {
        if (be32((const uint8_t *)data + 4) != 0)                /* a commit frame's header */
            f->commit_pending = true;
    } else if (f->page_size && (uint32_t)n == f->page_size + 24) {
        complete_commit = be32((const uint8_t *)data + 4) != 0; /* header and page at once */
    } else if (f->commit_pending) {
        complete_commit = true;                                   /* the commit frame's page */
    }
    int rc = gather(f, data, (size_t)n, off);
    if (rc == SQLITE_OK && complete_commit) {
        f->commit_pending = false;
        rc = flush(f);
    }
    return rc;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    f->dirty_lo = f->dirty_hi = 0;      /* the sync writes it all back */
    f->dirty_bytes = 0;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *file, int level)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *file, int level)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *file, int *out)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = SQLITE_OK;
    if (f->is_wal) {
        rc = flush(f);
    } else if (op == SQLITE_FCNTL_COMMIT_PHASETWO) {
        pthread_mutex_lock(&registry_lock);
        struct wb_file *wal = f->wal;
        pthread_mutex_unlock(&registry_lock);
        if (wal)
            rc = flush(wal);
    }
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *file)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int wb_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *file)
{
    struct wb_file *f = (struct wb_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *file, int delete_flag)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
    struct wb_file *f = (struct wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, n, out);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    struct wb_file *f = (struct wb_file *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* SQLite calls only the methods of the version a file's table declares: a file of the real VFS
 * with an older table gets ours of the same version. */
#define WB_IO_METHODS(version)                                                                   \
    {                                                                                            \
        .iVersion = version,                                                                     \
        .xClose = wb_close,                                                                   \
        .xRead = wb_read, .xWrite = wb_write, .xTruncate = wb_truncate, .xSync = wb_sync,      \
        .xFileSize = wb_file_size, .xLock = wb_lock, .xUnlock = wb_unlock,                       \
        .xCheckReservedLock = wb_check_reserved, .xFileControl = wb_file_control,                \
        .xSectorSize = wb_sector_size, .xDeviceCharacteristics = wb_device_characteristics,      \
        .xShmMap = wb_shm_map, .xShmLock = wb_shm_lock, .xShmBarrier = wb_shm_barrier,           \
        .xShmUnmap = wb_shm_unmap, .xFetch = wb_fetch, .xUnfetch = wb_unfetch,                   \
    }
static const sqlite3_io_methods wb_io[3] = {WB_IO_METHODS(1), WB_IO_METHODS(2), WB_IO_METHODS(3)};

/* ---- the VFS ------------------------------------------------------------------------------ */

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    struct wb_file *f = (struct wb_file *)file;
    memset(f, 0, sizeof *f);
    f->kick_fd = -1;
    f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->base.pMethods = NULL;
        return rc;
    }
    int version = f->real->pMethods ? f->real->pMethods->iVersion : 1;
    f->base.pMethods = &wb_io[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
    f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    if (!name)
        return SQLITE_OK;
    if (f->is_wal)
        f->kick_fd = open(name, O_RDONLY | O_CLOEXEC);     /* -1: no early write-back */
    pthread_mutex_lock(&registry_lock);
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->name = strdup(name);
        f->core_name = name;
        if (f->name) {
            f->next_db = open_dbs;
            open_dbs = f;
        }
    } else if (f->is_wal) {
        /* Several connections may have the same file open: the WAL belongs to the database
         * whose pager opened it, the one that passed SQLite's copy of the name SQLite derives
         * the WAL's name from. Matching by name alone linked a WAL to another connection's
         * database (flushed from the wrong thread, and a pointer left dangling when that
         * database closed first). By name only among databases without a WAL otherwise. */
        const char *db_name = sqlite3_filename_database(name);
        struct wb_file *owner = NULL;
        for (struct wb_file *db = open_dbs; db && !owner; db = db->next_db)
            if (db->core_name == db_name && !db->wal)
                owner = db;
        size_t n = strlen(name);
        for (struct wb_file *db = open_dbs; db && !owner; db = db->next_db)
            if (!db->wal && n > 4 && strncmp(db->name, name, n - 4) == 0 &&
                db->name[n - 4] == '\0' && strcmp(name + n - 4, "-wal") == 0)
                owner = db;
        if (owner) {
            owner->wal = f;
            f->owner = owner;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *wb_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void wb_dlerror(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*wb_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void wb_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}

static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int wb_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int wb_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static void register_vfs(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs || real_vfs->iVersion < 2 || !real_vfs->xCurrentTimeInt64)
        return;
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)REAL_OFFSET + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = WALBUF_VFS_NAME,
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dlopen,
        .xDlError = wb_dlerror,
        .xDlSym = wb_dlsym,
        .xDlClose = wb_dlclose,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_last_error,
        .xCurrentTimeInt64 = wb_current_time64,
    };
    register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int walbuf_register(void)
{
    pthread_once(&register_once, register_vfs);
    return register_rc;
}

void walbuf_stats(struct walbuf_stats *out)
{
    out->writes = __atomic_load_n(&stat_writes, __ATOMIC_RELAXED);
    out->syscalls = __atomic_load_n(&stat_syscalls, __ATOMIC_RELAXED);
    out->kicks = __atomic_load_n(&stat_kicks, __ATOMIC_RELAXED);
    uint64_t pending = 0;
    pthread_mutex_lock(&registry_lock);
    for (struct wb_file *db = open_dbs; db; db = db->next_db)
        if (db->wal)
            pending += db->wal->len;
    pthread_mutex_unlock(&registry_lock);
    out->pending = pending;
}
