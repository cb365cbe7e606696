/* fuzz_json_out.c - libFuzzer target for the Go-compatible JSON writer (util/json_out.c).
 *
 * Properties, from any input:
 *  - the input bytes as a string: written as a valid JSON string that holds no raw control
 *    character, '<', '>', '&', U+2028 or U+2029, and reads back as the same bytes when they are
 *    valid UTF-8;
 *  - each 8 bytes as a double: a finite one is written in at most JSON_OUT_REAL_MAX - 1 bytes
 *    that read back (strtod) as exactly the same double, sign of zero included; NaN and infinities
 *    are refused;
 *  - the input parsed as JSON by jansson: written with every flag combination, the text holds no
 *    raw control character, '<', '>', '&', U+2028/U+2029, and jansson reads it back as an equal
 *    value (numbers compared exactly: reals as the same double, sign of zero included; Go writes
 *    an integral real such as 2.0 as 2, which reads back as an integer that converts to exactly
 *    that double). Members keep their order, or come out sorted by key bytes with
 *    JSON_OUT_SORT_KEYS. Without JSON_OUT_READABLE_REALS an integral real of 2^63 or more may be
 *    written as digits jansson refuses ("too big integer"); then the text must still read back
 *    with JSON_DECODE_INT_AS_REAL. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json_out.h"

/* No raw byte that Go's encoder always escapes. */
static void check_go_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '<' || c == '>' || c == '&')
            abort();
        if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
            abort();
    }
}

static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static int key_order(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

/* as_double: the value of a number as a double (ints rounded when loose). */
static double as_double(const json_t *v)
{
    return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
}

/* same_number: exact equality of values; loose compares through doubles (after
 * JSON_DECODE_INT_AS_REAL every integer read back is a real). */
static bool same_number(const json_t *a, const json_t *b, bool loose)
{
    if (loose)
        return as_double(a) == as_double(b);
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_real(a) && json_is_real(b))
        return json_real_value(a) == json_real_value(b) &&
               signbit(json_real_value(a)) == signbit(json_real_value(b));
    /* a real written in plain digits reads back as an integer: the decimal that reads back (as
     * a double, the way Go reads it into an interface{}) as that real */
    const json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
    double d = json_real_value(r);
    return d == floor(d) && (double)json_integer_value(i) == d;
}

/* same_value: b (read back) equals a (written); sorted: b's members must be in key order, else
 * in a's order. */
static bool same_value(const json_t *a, const json_t *b, bool sorted, bool loose)
{
    if (json_is_number(a) && json_is_number(b))
        return same_number(a, b, loose);
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i), sorted, loose))
                return false;
        return true;
    case JSON_OBJECT: {
        json_t *oa = (json_t *)a, *ob = (json_t *)b;
        if (json_object_size(oa) != json_object_size(ob))
            return false;
        void *ia = json_object_iter(oa);
        const char *prev = NULL;
        size_t prev_len = 0;
        for (void *ib = json_object_iter(ob); ib; ib = json_object_iter_next(ob, ib)) {
            const char *k = json_object_iter_key(ib);
            size_t klen = json_object_iter_key_len(ib);
            if (sorted) {
                if (prev && key_order(prev, prev_len, k, klen) >= 0)
                    return false;
                prev = k;
                prev_len = klen;
            } else {
                if (!ia || !same_key(json_object_iter_key(ia), json_object_iter_key_len(ia), k,
                                     klen))
                    return false;
                ia = json_object_iter_next(oa, ia);
            }
            json_t *va = json_object_getn(oa, k, klen);
            if (!va || !same_value(va, json_object_iter_value(ib), sorted, loose))
                return false;
        }
        return true;
    }
    default:
        return true;    /* true, false, null: the type says it all */
    }
}

static size_t depth_of(const json_t *v)
{
    size_t d = 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t c = depth_of(json_array_get(v, i));
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            size_t c = depth_of(m);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

static void check_string(const uint8_t *data, size_t size)
{
    struct growbuf b = { 0 };
    if (json_out_string(&b, (const char *)data, size) < 0)
        abort();
    check_go_safe(b.data, b.len);
    json_t *back = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_string(back))
        abort();
    if (json_out_utf8_valid((const char *)data, size) &&
        (json_string_length(back) != size || memcmp(json_string_value(back), data, size) != 0))
        abort();
    json_decref(back);
    free(b.data);
}

static void check_reals(const uint8_t *data, size_t size)
{
    for (size_t off = 0; off + sizeof(double) <= size && off < 64 * sizeof(double);
         off += sizeof(double)) {
        double v;
        memcpy(&v, data + off, sizeof v);
        char text[JSON_OUT_REAL_MAX];
        size_t n = json_out_real_text(v, text);
        if (!isfinite(v)) {
            if (n != 0)
                abort();
            continue;
        }
        if (n == 0 || n >= JSON_OUT_REAL_MAX || strlen(text) != n)
            abort();
        double back = strtod(text, NULL);
        if (back != v || signbit(back) != signbit(v))
            abort();
    }
}

static void check_value(const json_t *v)
{
    bool deep = depth_of(v) >= JSON_OUT_MAX_DEPTH - 8;
    static const unsigned flag_sets[] = { 0, JSON_OUT_SORT_KEYS, JSON_OUT_READABLE_REALS,
                                          JSON_OUT_SORT_KEYS | JSON_OUT_READABLE_REALS };
    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        unsigned flags = flag_sets[f];
        size_t len = 0;
        char *text = json_out_text(v, flags, &len);
        if (!text) {
            if (!deep)
                abort();
            continue;
        }
        if (len != strlen(text))    /* a NUL in a string is written \u0000 */
            abort();
        check_go_safe(text, len);
        json_error_t err;
        json_t *back = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        bool loose = false;
        if (!back) {
            /* only Go's plain digits for a huge integral real may be refused */
            if ((flags & JSON_OUT_READABLE_REALS) || !strstr(err.text, "too big"))
                abort();
            back = json_loadb(text, len,
                              JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
            loose = true;
            if (!back)
                abort();
        }
        if (!same_value(v, back, flags & JSON_OUT_SORT_KEYS, loose))
            abort();
        json_decref(back);
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    check_string(data, size);
    check_reals(data, size);
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (v) {
        check_value(v);
        json_decref(v);
    }
    return 0;
}
