/* growbuf.c - see growbuf.h. */
#include "util/growbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* append grows b as needed (moving it by realloc, or by a copy that wipes the old buffer) and
 * appends n bytes of src. */
static int append(struct growbuf *b, const void *src, size_t n, size_t first, bool wipe)
{
    if (n > SIZE_MAX / 2 - b->len - 1)
        return -1;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : (first ? first : 64);
        while (cap < need)
            cap *= 2;
        char *grown;
        if (wipe && b->data) {
            grown = malloc(cap);
            if (!grown)
                return -1;
            memcpy(grown, b->data, b->len);
            explicit_bzero(b->data, b->len);    /* what was written: len bytes and a NUL */
            free(b->data);
        } else {
            grown = realloc(b->data, cap);
            if (!grown)
                return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int growbuf_append(struct growbuf *b, const void *src, size_t n, size_t first)
{
    return append(b, src, n, first, false);
}

int growbuf_append_wiping(struct growbuf *b, const void *src, size_t n, size_t first)
{
    return append(b, src, n, first, true);
}

void growbuf_wipe_free(struct growbuf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->len);
    free(b->data);
    *b = (struct growbuf){ 0 };
}
