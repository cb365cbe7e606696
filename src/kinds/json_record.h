/* json_record.h - decode a hostile JSON object into a fixed record, the way Go's encoding/json does.
 *
 * The Apify actors (Reddit, TikTok search, X followers) hand back loosely typed items; the Go
 * service decodes each into a struct and re-encodes it, so the result carries exactly the struct's
 * keys, in declaration order, with zero values for what was missing and unknown keys dropped. A
 * record here is a table of fields (name, type, nested record); record_decode applies the table:
 *   - input keys match field names case-insensitively (ASCII); the last matching key wins;
 *   - JSON null leaves the field at its zero value;
 *   - a type mismatch anywhere (a string for an int, 1.5 for an int, a number for a string, a
 *     non-RFC 3339 time, ...) fails the whole item, as Go does;
 *   - integers stay exact 64-bit (jansson's json_int_t), never a double.
 * Output values: see enum record_type. Nothing here allocates outside the returned object. */
#ifndef TW_JSON_RECORD_H
#define TW_JSON_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum record_type {
    RT_STRING,        /* string; zero "" */
    RT_STRING_NULL,   /* string or null (Go *string); zero null */
    RT_INT,           /* integral number (Go int/int64); zero 0 */
    RT_INT_NULL,      /* integral number or null (Go *int); zero null */
    RT_FLOAT,         /* any number (Go float64); zero 0.0 */
    RT_BOOL,          /* true/false; zero false */
    RT_TIME,          /* RFC 3339 string, re-emitted normalised; zero "0001-01-01T00:00:00Z" */
    RT_ANY_ARRAY,     /* array of anything (Go []any), copied, objects' members sorted by key
                       * as Go writes its maps; zero null; nesting deeper than
                       * RECORD_ANY_MAX_DEPTH fails the item (see below) */
    RT_STRING_ARRAY,  /* array of strings; zero null */
    RT_INT_ARRAY,     /* array of integers; zero null */
    RT_OBJECT,        /* nested record (Go struct value); zero = the record with zero fields */
    RT_OBJECT_PTR,    /* nested record (Go *struct, omitempty); omitted when absent or null */
    RT_OBJECT_ARRAY,  /* array of nested records; zero null; a null element = a zero record */
};

/* The deepest nesting of arrays and objects an RT_ANY_ARRAY value may hold (the field's own array
 * is level 1). The copy of such a value, and the writing of the result that holds it
 * (util/json_out.h), take stack per level, and job threads have small stacks: a value from a
 * hostile answer nested some hundreds of levels deep (jansson reads up to 2048) overflowed it and
 * killed the worker. Real actor data nests a few levels. */
#define RECORD_ANY_MAX_DEPTH 64

struct record;

struct record_field {
    const char *name;
    enum record_type type;
    const struct record *sub;    /* RT_OBJECT, RT_OBJECT_PTR, RT_OBJECT_ARRAY */
    bool omit_empty;             /* arrays only: omitted when absent, null or empty */
};

struct record {
    const struct record_field *fields;
    size_t count;
};

#define RECORD(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

/* record_decode decodes in (which must be a JSON object) into a new object holding exactly the
 * record's fields in order. Returns the object (caller owns), or NULL when in is not an object,
 * a field has the wrong type, or memory ran out. why (may be NULL) receives a short reason. */
json_t *record_decode(const struct record *r, const json_t *in, char *why, size_t whylen);

/* record_item_decoder decodes one hostile item into a new object, or returns NULL with why set. */
typedef json_t *(*record_item_decoder)(const json_t *item, char *why, size_t whylen);

/* record_decode_items returns a new array of the items of raw (an array) that decode, in order;
 * an item that does not decode is skipped with a warning naming `what` (the job type), its index
 * and the reason (the first three; beyond that one line counts them all). NULL on OOM. */
json_t *record_decode_items(const json_t *raw, record_item_decoder decode, const char *what);

/* record_load_object parses body (len bytes) as one JSON object: the root every decoder starts
 * from. NULL with why set to "<failed>: <reason>" when body is NULL ("no body"), longer than
 * max_len bytes, would take too much memory to decode (util/json_cost.h: json_load_bounded), not
 * JSON, or JSON but not an object. New reference. */
json_t *record_load_object(const char *body, size_t len, size_t max_len, const char *failed,
                           char *why, size_t whylen);

/* record_get_ci returns the value of the last member of obj whose key equals name ignoring ASCII
 * case, or NULL (borrowed reference). */
json_t *record_get_ci(const json_t *obj, const char *name);

/* record_strings_copy returns a new array with the strings of list, any non-string element as ""
 * (actor inputs take string lists as given). */
json_t *record_strings_copy(const json_t *list);

/* rfc3339_normalise parses s as strict RFC 3339 (T separator, optional fraction, Z or +hh:mm) and
 * writes Go's RFC3339Nano form (fraction without trailing zeros, offset kept, Z for +00:00) to out.
 * Returns 0, or -1 when s is not such a time. *epoch (may be NULL) gets the Unix time in seconds. */
int rfc3339_normalise(const char *s, char *out, size_t outlen, long long *epoch);

#endif
