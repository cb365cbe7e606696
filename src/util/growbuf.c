/* growbuf.c - see growbuf.h. */
#include "util/growbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int growbuf_append(struct growbuf *b, const void *src, size_t n, size_t first)
{
    if (n > SIZE_MAX / 2 - b->len - 1)
        return -1;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : (first ? first : 64);
        while (cap < need)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}
