/* json_out.h - writing JSON text straight into a growbuf, byte for byte what jansson's
 * json_dumps(..., JSON_COMPACT) writes for the same values.
 *
 * For the hot paths that would otherwise build a jansson tree only to dump it once (the job text
 * sealed into every signature, a crawl's result document). Strings are checked as jansson checks
 * them (valid UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF; NUL bytes allowed)
 * and escaped as it escapes them: '"' and '\\', \b \f \n \r \t, other control characters as
 * \u00XX with upper-case hex digits; everything else, '/' and non-ASCII included, as is. */
#ifndef TW_JSON_OUT_H
#define TW_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/growbuf.h"

/* json_out_utf8_valid: s[0..len) is UTF-8 as jansson accepts it in a string. */
bool json_out_utf8_valid(const char *s, size_t len);

/* json_out_raw appends n bytes as they are (punctuation, member names known to need no escape). */
int json_out_raw(struct growbuf *b, const char *s, size_t n);

/* json_out_string appends s[0..len) as a JSON string. Returns 0, or -1 on invalid UTF-8 (where
 * jansson's json_stringn returns NULL) or OOM; b may then hold a partial string. */
int json_out_string(struct growbuf *b, const char *s, size_t len);

/* json_out_int appends v in decimal, as jansson dumps an integer. */
int json_out_int(struct growbuf *b, int64_t v);

#endif
