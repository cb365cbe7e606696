/* memdup.h - a NUL-terminated copy of len bytes that may themselves hold NULs (a Go quote's
 * digest bytes, a result row's fields), where strndup would stop at the first one. */
#ifndef TW_MEMDUP_H
#define TW_MEMDUP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* memdup_z returns a new buffer of len + 1 bytes: src's len bytes, then '\0'; NULL when out of
 * memory. src may be NULL when len is 0. */
static inline char *memdup_z(const void *src, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *dst = malloc(len + 1);
    if (!dst)
        return NULL;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return dst;
}

#endif
