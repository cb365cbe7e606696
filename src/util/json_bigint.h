/* json_bigint.h - JSON integers beyond int64, made readable by jansson.
 *
 * jansson refuses an integer token outside int64 ("too big integer"), where Go's decoder reads it
 * into a float64 (a job's arguments, an []any or float64 field of an Apify item) or fails only the
 * value it was meant for (an int field). Writing ".0" after such a token makes jansson read it as a
 * real, which is what Go holds too. */
#ifndef TW_JSON_BIGINT_H
#define TW_JSON_BIGINT_H

#include <stddef.h>

/* json_big_ints_as_reals returns a copy of text[0..len) with ".0" after every integer token
 * outside int64 (outside strings; one linear pass), its length in *out_len, NUL-terminated;
 * caller frees. NULL when there is no such integer, or on OOM. */
char *json_big_ints_as_reals(const char *text, size_t len, size_t *out_len);

#endif
