/* stall_io.c - a test-only LD_PRELOAD library: a disk that stops answering, on demand.
 *
 * While the file named by STALL_IO_FILE exists, the calls that put data on the disk (pwrite,
 * pwrite64, pwritev, pwritev2, fsync, fdatasync, sync_file_range: what SQLite's unix VFS and
 * src/store/sqlite_walbuf.c use to write a commit) do not return: they poll for the file every
 * 10 ms and go on to the real call once it is gone. STALL_IO_CALLS limits the stall to a
 * comma-separated subset ("fsync,fdatasync": writes reach the page cache, syncs hang); unset, every
 * call above stalls. The first call that stalls creates STALL_IO_FILE.hit, so a test knows the
 * store's writer is stuck there and not merely about to be. Plain write() stalls only when
 * STALL_IO_CALLS names it (the log, eventfds and sockets use it too: a test that asks for it
 * stalls the whole process at its next write, e.g. the start-up's first file). Built by
 * tests/meson.build only; never part of the worker.
 *
 * With the AddressSanitizer build the worker's sanitizer runtime must come first in the list of
 * loaded libraries: the tests preload it ahead of this one (tests/e2e/harness.py, preload_env). */
/* the real symbols by their own names, whatever offset width the build asks for */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* stall_on says whether call is one of the stalled ones (STALL_IO_CALLS; unset: all but write). */
static int stall_on(const char *call)
{
    const char *list = getenv("STALL_IO_CALLS");
    if (!list || !*list)
        return strcmp(call, "write") != 0;
    size_t n = strlen(call);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, call, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* stall waits while the control file exists; the first wait leaves the .hit marker. */
static void stall(const char *call)
{
    const char *path = getenv("STALL_IO_FILE");
    if (!path || !*path || access(path, F_OK) != 0 || !stall_on(call))
        return;
    int saved = errno;
    char hit[4096];
    if (snprintf(hit, sizeof hit, "%s.hit", path) < (int)sizeof hit) {
        int fd = open(hit, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    const struct timespec tick = { 0, 10 * 1000 * 1000 };
    while (access(path, F_OK) == 0)
        nanosleep(&tick, NULL);
    errno = saved;
}

#define REAL(name) real_##name
#define LOOKUP(name)                                                                              \
    do {                                                                                          \
        if (!REAL(name))                                                                          \
            REAL(name) = (__typeof__(REAL(name)))dlsym(RTLD_NEXT, #name);                         \
        if (!REAL(name)) {                                                                        \
            errno = ENOSYS;                                                                       \
            return -1;                                                                            \
        }                                                                                         \
    } while (0)

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);

ssize_t write(int fd, const void *buf, size_t n)
{
    LOOKUP(write);
    stall("write");
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    LOOKUP(pwrite);
    stall("pwrite");
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    LOOKUP(pwrite64);
    stall("pwrite");
    return real_pwrite64(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    LOOKUP(pwritev);
    stall("pwrite");
    return real_pwritev(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    LOOKUP(pwritev2);
    stall("pwrite");
    return real_pwritev2(fd, iov, cnt, off, flags);
}

int fsync(int fd)
{
    LOOKUP(fsync);
    stall("fsync");
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    LOOKUP(fdatasync);
    stall("fdatasync");
    return real_fdatasync(fd);
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
    LOOKUP(sync_file_range);
    stall("sync_file_range");
    return real_sync_file_range(fd, off, n, flags);
}
