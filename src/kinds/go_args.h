/* go_args.h - read job arguments the way the Go service's typed records do.
 *
 * jobs-and-capabilities.md 0.2: keys match case-insensitively, null is the same as absent, numbers
 * travel through a double (2.0 is a fine int, 2.5 is not), unsigned fields refuse negatives with the
 * decoder's wording, and a wrong JSON type is an error quoting Go's text
 * ("json: cannot unmarshal string into Go struct field .max_items of type uint"). Each getter
 * leaves *out untouched when the key is absent or null, and returns 0, or -1 with msg filled.
 * Unlike Go, a string holding a NUL byte (\u0000) is refused: every C string API downstream would
 * read it as its end, so "abc\u0000def" would silently become "abc". */
#ifndef TW_GO_ARGS_H
#define TW_GO_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define GO_ARGS_MSG 200

/* go_arg_member: the value Go's decoder ends with for name, or NULL (absent or null). Go decodes
 * the arguments re-serialised with their keys sorted, each key equal to name ignoring case
 * assigning in turn and null assigning nothing: so among the non-null spellings the byte-wise
 * greatest (the most lower-case one) wins. Borrowed reference. */
const json_t *go_arg_member(const json_t *args, const char *name);

/* go_arg_has_nul: whether v is a string holding a NUL byte (false for any other value). */
bool go_arg_has_nul(const json_t *v);

int go_arg_string(const json_t *args, const char *name, const char **out, char *msg);
int go_arg_bool(const json_t *args, const char *name, bool *out, char *msg);
int go_arg_uint(const json_t *args, const char *name, uint64_t *out, char *msg);
int go_arg_int(const json_t *args, const char *name, int64_t *out, char *msg);

/* go_arg_strings: a JSON array of strings (null elements read as ""). *out is a borrowed array
 * reference, or untouched when absent/null. */
int go_arg_strings(const json_t *args, const char *name, const json_t **out, char *msg);

/* go_lower returns a new lower-cased (ASCII) copy of s (caller frees), NULL on OOM. */
char *go_lower(const char *s);

#endif
