/* sqlite_walbuf.h - an SQLite VFS that gathers a transaction's writes to its WAL file into one
 * write system call (see sqlite_walbuf.c). */
#ifndef TW_SQLITE_WALBUF_H
#define TW_SQLITE_WALBUF_H

#include <stdint.h>

#define WALBUF_VFS_NAME "tw-walbuf"

/* walbuf_register registers the VFS (once; thread-safe) on top of the default VFS. Pass
 * WALBUF_VFS_NAME to sqlite3_open_v2 afterwards. Returns an SQLite result code. */
int walbuf_register(void);

/* Counters over every WAL opened through the VFS, for tests and benchmarks. */
struct walbuf_stats {
    uint64_t writes;        /* writes SQLite asked for */
    uint64_t syscalls;      /* writes that reached the file */
    uint64_t kicks;         /* early write-backs started (sync_file_range) */
    uint64_t pending;       /* bytes gathered and not yet written, now */
};
void walbuf_stats(struct walbuf_stats *out);

#endif
