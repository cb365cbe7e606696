/* jansson_alloc_count.h - a counting allocator for jansson (json_set_alloc_funcs), shared by the
 * json_cost unit test and fuzz target: every allocation is counted with glibc's chunk size, and
 * the peak of what is live is kept. Header-only: each includer has its own counters. */
#ifndef TESTS_JANSSON_ALLOC_COUNT_H
#define TESTS_JANSSON_ALLOC_COUNT_H

#include <stdlib.h>

static size_t live, peak;

static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static void *counting_malloc(size_t n)
{
    size_t *p = malloc(n + sizeof(size_t) * 2);
    if (!p)
        return NULL;
    p[0] = n;
    live += chunk(n);
    if (live > peak)
        peak = live;
    return p + 2;
}

static void counting_free(void *q)
{
    if (!q)
        return;
    size_t *p = (size_t *)q - 2;
    live -= chunk(p[0]);
    free(p);
}

#endif
