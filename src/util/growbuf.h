/* growbuf.h - appending bytes to a heap buffer that stays NUL-terminated.
 *
 * The one growth routine behind request bodies, upstream responses, crawled pages and .env values:
 * capacity doubles from `first` bytes, the text is always followed by a NUL not counted in len.
 * Size caps are the caller's business (check before appending). */
#ifndef TW_GROWBUF_H
#define TW_GROWBUF_H

#include <stddef.h>

struct growbuf {
    char *data;     /* NULL until the first append; free() it when done */
    size_t len;
    size_t cap;
};

/* growbuf_append copies n bytes of src to the end of b (first = initial capacity when empty).
 * Returns 0, or -1 on OOM or size overflow (b unchanged). */
int growbuf_append(struct growbuf *b, const void *src, size_t n, size_t first);

/* growbuf_append_wiping is growbuf_append for secrets: when b grows, the old buffer is wiped
 * before it is freed (realloc would leave its bytes in freed memory). */
int growbuf_append_wiping(struct growbuf *b, const void *src, size_t n, size_t first);

/* growbuf_wipe_free wipes b's bytes, frees them and empties b. */
void growbuf_wipe_free(struct growbuf *b);

#endif
