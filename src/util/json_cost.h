/* json_cost.h - what decoding a JSON text with jansson will cost in memory, known before decoding.
 *
 * jansson allocates a node for every value: an empty object is about 240 bytes, an empty array
 * about 140, a number about 40, a string about 70 plus its bytes, an object member about 100 plus
 * its key (measured on jansson 2.14 with glibc's malloc). Text made of small values therefore
 * decodes to many times its size: `[{},{},...]` takes some 80 bytes of memory per byte of text, so
 * an upstream answer within its size cap (32 MiB for an Apify page) could still make the worker
 * allocate gigabytes. json_cost_estimate walks the text once, in linear time and constant space
 * (no recursion, whatever the nesting), and adds up those costs, rounded up; json_load_bounded
 * refuses a text whose estimate exceeds json_cost_bound before jansson sees it.
 *
 * The estimate is structural: it trusts the text to be JSON and never fails. A malformed text gets
 * some estimate and is then refused by jansson itself. */
#ifndef TW_JSON_COST_H
#define TW_JSON_COST_H

#include <stddef.h>

#include <jansson.h>

/* Per-node costs of the estimate, in bytes (upper bounds of the measurements above, allocator
 * headers included). */
#define JSON_COST_OBJECT 256
#define JSON_COST_ARRAY 160
#define JSON_COST_STRING 80     /* plus the string's length in the text */
#define JSON_COST_NUMBER 48
#define JSON_COST_MEMBER 112    /* plus the key's length in the text */
#define JSON_COST_SLOT 24       /* every value's place in its array or object (a growing array
                                 * holds its old and its new table at once) */
#define JSON_COST_TOKEN 3       /* times the longest token: jansson's lexer buffer while it grows */

/* JSON_COST_BOUND_FACTOR x len + JSON_COST_BOUND_BASE: what a text of len bytes may cost. Texts
 * of real data (words, URLs, ids) cost 3 to 8 times their size; the base lets any small text in. */
#define JSON_COST_BOUND_FACTOR 12
#define JSON_COST_BOUND_BASE (64u * 1024 * 1024)

/* json_cost_estimate returns the bytes jansson is expected to allocate to decode text[0..len)
 * (saturating at SIZE_MAX). */
size_t json_cost_estimate(const char *text, size_t len);

/* json_cost_bound returns JSON_COST_BOUND_FACTOR * len + JSON_COST_BOUND_BASE (saturating). */
size_t json_cost_bound(size_t len);

/* json_load_bounded is json_loadb(text, len, flags, error) for a text whose estimate is within
 * json_cost_bound(len). A text over the bound is refused without calling jansson: NULL, with
 * error (may be NULL) holding "JSON text of N bytes would take about M MiB to decode (more than
 * B MiB allowed)", position 0 and json_error_code() == json_error_out_of_memory. */
json_t *json_load_bounded(const char *text, size_t len, size_t flags, json_error_t *error);

#endif
