/* file_read.h - reading a file until its end or a byte limit, whichever comes first.
 *
 * The one read loop behind every "read this small file whole" in the worker: it retries reads
 * that a signal interrupted and stops at end of file or after max bytes. What a short or an
 * over-long answer means (a key of the wrong size, a file that grew) is for the caller to say. */
#ifndef TW_FILE_READ_H
#define TW_FILE_READ_H

#include <stddef.h>
#include <sys/types.h>

/* read_upto_fd reads fd into buf until end of file or max bytes. Returns the count (less than max
 * only at end of file), or -1 with errno set by read. */
ssize_t read_upto_fd(int fd, void *buf, size_t max);

/* read_upto_path opens path read-only, reads it like read_upto_fd and closes it. Also for
 * pseudo-files that have no size to stat. Returns the count, or -1 with errno. */
ssize_t read_upto_path(const char *path, void *buf, size_t max);

#endif
