/* fuzz_json_cost.c - libFuzzer target for the memory estimate of a JSON text (util/json_cost.c).
 *
 * Properties, from any input:
 *  - the estimate never fails or reads past the text;
 *  - when jansson decodes the text, what it allocated at its peak (counted with glibc's chunk
 *    sizes) is within the estimate plus a small constant (the lexer's start-up);
 *  - json_load_bounded gives what json_loadb gives whenever the estimate is within the bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json_cost.h"

#define SLACK 256

#include "../unit/jansson_alloc_count.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    static int counting;
    if (!counting) {
        json_set_alloc_funcs(counting_malloc, counting_free);    /* every jansson allocation */
        counting = 1;
    }
    size_t estimate = json_cost_estimate(text, size);
    live = peak = 0;
    json_t *v = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    size_t real = peak;
    if (v && real > estimate + SLACK)
        abort();
    json_t *bounded = json_load_bounded(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (estimate <= json_cost_bound(size) && !v != !bounded)
        abort();
    if (v && bounded && !json_equal(v, bounded))
        abort();
    json_decref(bounded);
    json_decref(v);
    return 0;
}
