/* file_read.c - reading a file until its end or a byte limit (see file_read.h). */
#include "util/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

ssize_t read_upto_fd(int fd, void *buf, size_t max)
{
    uint8_t *p = buf;
    size_t got = 0;

    while (got < max) {
        ssize_t n = read(fd, p + got, max - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

ssize_t read_upto_path(const char *path, void *buf, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    ssize_t got = read_upto_fd(fd, buf, max);
    int saved = errno;
    close(fd);
    errno = saved;
    return got;
}
