/* json_indent.h - JSON text re-laid out as Go's json.Indent lays it out (prefix "", indent two
 * spaces): what echo's c.JSON sends when the request's query has a `pretty` parameter
 * (core-protocol.md §1).
 *
 * The rules, from Go's encoding/json appendIndent: whitespace inside the value is dropped; each
 * member and element goes on a line of its own, indented two spaces per level; ':' is followed by
 * one space; an empty object or array stays `{}` or `[]`; strings are copied byte for byte;
 * whitespace after the top-level value (the "\n" echo's encoder writes) is kept. */
#ifndef TW_JSON_INDENT_H
#define TW_JSON_INDENT_H

#include <stddef.h>

#include "util/growbuf.h"

/* JSON_INDENT_MAX_DEPTH bounds the nesting indented (json_out's own bound). */
#define JSON_INDENT_MAX_DEPTH 2048

/* json_indent appends the indented form of the JSON text s[0..n) to out. Returns 0, or -1 when s
 * is not one well-formed JSON value (an unterminated string, unbalanced or mismatched brackets,
 * nesting deeper than JSON_INDENT_MAX_DEPTH, anything but whitespace after the value) or on OOM;
 * out is then left as it was. The checks are structural: the answers indented are JSON this
 * worker wrote, and a malformed one is sent compact rather than re-laid out wrongly. */
int json_indent(struct growbuf *out, const char *s, size_t n);

#endif
