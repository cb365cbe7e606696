/* json_out.h - JSON text written the way the Go service writes it (encoding/json: json.Marshal,
 * echo's c.JSON), straight into a growbuf.
 *
 * Every JSON text that goes to a client or a peer worker comes from here: result documents (the
 * job kinds' jansson trees and the web/telemetry documents written directly), the job text sealed
 * into every signature, HTTP JSON answers, the capability report. Compact, no spaces. Texts sent
 * to third-party services keep jansson's json_dumps (their bytes are not Go's business).
 *
 * Strings, as Go's encoder (Go 1.22 and later: the reference is built with toolchain 1.24.3) with
 *   its default HTML escaping: '"' and '\\' as \" and \\; \b \f \n \r \t (Go before 1.22 wrote
 *   \u0008 and \u000c); every other byte below 0x20 as \u00xx with lower-case hex; '<' '>' '&' as
 *   \u003c \u003e \u0026; U+2028 and U+2029 as \u2028 \u2029; each byte that does not start a valid UTF-8 sequence (stray, truncated,
 *   overlong, surrogate, above U+10FFFF) as \ufffd; everything else ('/', DEL, other non-ASCII) as
 *   is.
 * Numbers: integers in decimal; reals as Go's float64 encoding - the shortest decimal that reads
 *   back as the same double (ties to the closest, then to even), in plain notation
 *   (0, -0, 120, 0.97, 0.000001, 100000000000000000000) unless abs < 1e-6 or abs >= 1e21, then
 *   in exponent form with at least one exponent digit after the sign (1e-7, 5e-324, 1e+21,
 *   1.7976931348623157e+308). NaN and infinities are refused (-1), as Go refuses them
 *   (UnsupportedValueError); jansson cannot hold them (json_real refuses them), so only a caller
 *   of json_out_real with a computed double can meet one, and it gets an error, never "NaN" or
 *   "null" in a document.
 * Objects: members in the jansson object's order (insertion order since jansson 2.8, the order
 *   json_dumps uses), or sorted by key bytes with JSON_OUT_SORT_KEYS, as Go writes a map. */
#ifndef TW_JSON_OUT_H
#define TW_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/growbuf.h"

/* json_out_value flags */
#define JSON_OUT_SORT_KEYS 0x1u     /* every object's members sorted by key bytes (a Go map) */
/* The reals jansson would not read back as the same number are written in a form it reads as a
 * real: an integral one of magnitude 2^63 or more below 1e21 in exponent form (1e+20, not Go's
 * 100000000000000000000, refused as "too big integer"), negative zero as -0.0 (not Go's -0,
 * read as the integer 0). Other integral reals stay as Go writes them (2.0 as 2) and read back
 * as integers of the same value. For a text this worker reads back itself, the sealed job (its
 * bytes are opaque to clients; a Go peer reads both forms as the same float64). */
#define JSON_OUT_READABLE_REALS 0x2u

/* json_out_utf8_valid: s[0..len) is UTF-8 as jansson accepts it in a string (no overlong forms,
 * no surrogates, nothing above U+10FFFF; NUL bytes allowed). */
bool json_out_utf8_valid(const char *s, size_t len);

/* json_out_raw appends n bytes as they are (punctuation, member names known to need no escape). */
int json_out_raw(struct growbuf *b, const char *s, size_t n);

/* json_out_string appends s[0..len) as a JSON string, escaped as above. Returns 0, or -1 on OOM
 * (b may then hold a partial string). */
int json_out_string(struct growbuf *b, const char *s, size_t len);

/* json_out_int appends v in decimal. */
int json_out_int(struct growbuf *b, int64_t v);

/* json_out_real appends v as Go writes a float64. Returns -1 for NaN or an infinity (nothing is
 * appended) or on OOM. */
int json_out_real(struct growbuf *b, double v);

/* json_out_real_text writes v as Go writes a float64 into out (at least JSON_OUT_REAL_MAX bytes),
 * NUL-terminated; returns its length, or 0 for NaN or an infinity. */
#define JSON_OUT_REAL_MAX 32
size_t json_out_real_text(double v, char *out);

/* json_out_value appends the whole of v (any JSON type). Returns -1 on OOM, on a real that is not
 * finite, or when v nests deeper than JSON_OUT_MAX_DEPTH (a reference cycle included). */
#define JSON_OUT_MAX_DEPTH 256
int json_out_value(struct growbuf *b, const json_t *v, unsigned flags);

/* json_out_text is json_out_value into a new NUL-terminated string (*len bytes when len is not
 * NULL), its allocation trimmed to about its length: the drop-in for
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY). NULL on failure. */
char *json_out_text(const json_t *v, unsigned flags, size_t *len);

#endif
