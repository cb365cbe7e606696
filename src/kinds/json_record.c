/* json_record.c - Go-style decoding of a JSON object into a fixed record (see json_record.h).
 *
 * One pass per field: find the field's value in the input (case-insensitive key, last match wins,
 * every matching key must have an acceptable type), convert it, append it to the output object.
 * Nesting is bounded by the record tables themselves, and RT_ANY_ARRAY, the one deep copy that
 * follows the input's shape, by RECORD_ANY_MAX_DEPTH (json_record.h). */
#include "kinds/json_record.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util/json_cost.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"
#define RECORD_SKIPS_LOGGED 3   /* undecodable items logged one by one, then only counted */

static void why_set(char *why, size_t whylen, const char *name, const char *what)
{
    if (why && whylen)
        snprintf(why, whylen, "field %s: %s", name, what);
}

json_t *record_load_object(const char *body, size_t len, size_t max_len, const char *failed,
                           char *why, size_t whylen)
{
    if (!body) {
        snprintf(why, whylen, "%s: no body", failed);
        return NULL;
    }
    if (len > max_len) {
        snprintf(why, whylen, "%s: body of %zu bytes is too large", failed, len);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_load_bounded(body, len, 0, &jerr);
    if (!root) {
        snprintf(why, whylen, "%s: %s", failed, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(why, whylen, "%s: not a JSON object", failed);
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *record_get_ci(const json_t *obj, const char *name)
{
    const char *key;
    json_t *value, *found = NULL;
    if (!json_is_object(obj))
        return NULL;
    json_object_foreach((json_t *)obj, key, value)
        if (strcasecmp(key, name) == 0)
            found = value;
    return found;
}

/* ---- RFC 3339 ---- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int rfc3339_normalise(const char *s, char *out, size_t outlen, long long *epoch)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0;
    size_t n = strlen(s);
    if (n < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
        return -1;
    const char *p = s + 19;
    char frac[10] = "";
    if (*p == '.') {
        size_t k = 0;
        for (p++; isdigit((unsigned char)*p); p++)
            if (k < 9)
                frac[k++] = *p;
        if (k == 0)
            return -1;
        frac[k] = '\0';
        while (k > 0 && frac[k - 1] == '0')
            frac[--k] = '\0';
    }
    int sign = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    char zone[16] = "Z";
    if (sign && (oh || om))
        snprintf(zone, sizeof zone, "%c%02d:%02d", sign > 0 ? '+' : '-', oh, om);
    int w = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y, mo, d, h, mi, se,
                     frac[0] ? "." : "", frac, zone);
    if (w < 0 || (size_t)w >= outlen)
        return -1;
    if (epoch)
        *epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
                 (long long)sign * (oh * 3600 + om * 60);
    return 0;
}

/* ---- one value ---- */

static json_t *zero_value(const struct record_field *f);
static json_t *decode_value(const struct record_field *f, const json_t *v, char *why, size_t wl);

static json_t *zero_record(const struct record *r)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < r->count; i++) {
        const struct record_field *f = &r->fields[i];
        if (f->type == RT_OBJECT_PTR || f->omit_empty)
            continue;
        if (json_object_set_new(o, f->name, zero_value(f)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *zero_value(const struct record_field *f)
{
    switch (f->type) {
    case RT_STRING: return json_string("");
    case RT_INT: return json_integer(0);
    case RT_FLOAT: return json_real(0.0);
    case RT_BOOL: return json_false();
    case RT_TIME: return json_string(ZERO_TIME);
    case RT_OBJECT: return zero_record(f->sub);
    default: return json_null();
    }
}

struct any_member {
    const char *key;
    size_t key_len;
    json_t *value;
};

static int any_member_cmp(const void *x, const void *y)
{
    const struct any_member *a = x, *b = y;
    int c = memcmp(a->key, b->key, a->key_len < b->key_len ? a->key_len : b->key_len);
    return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* any_copy: a deep copy of v as Go holds an []any element: every object a map[string]any, whose
 * members Go writes sorted by key bytes, so they are inserted in that order. v is at nesting
 * level depth of the field; a value nested deeper than RECORD_ANY_MAX_DEPTH sets *too_deep. NULL
 * then or on OOM. */
static json_t *any_copy(const json_t *v, int depth, bool *too_deep)
{
    if ((json_is_array(v) || json_is_object(v)) && depth >= RECORD_ANY_MAX_DEPTH) {
        *too_deep = true;
        return NULL;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < json_array_size(v); i++)
            if (json_array_append_new(a, any_copy(json_array_get(v, i), depth + 1,
                                                  too_deep)) < 0) {
                json_decref(a);
                a = NULL;
            }
        return a;
    }
    if (!json_is_object(v))
        return json_deep_copy(v);
    size_t n = json_object_size(v);
    struct any_member *m = malloc((n ? n : 1) * sizeof *m);
    json_t *o = m ? json_object() : NULL;
    size_t count = 0;
    const char *key;
    size_t key_len;
    json_t *value;
    if (o) {
        json_object_keylen_foreach((json_t *)v, key, key_len, value) {
            if (count < n)
                m[count++] = (struct any_member){ key, key_len, value };
        }
        qsort(m, count, sizeof *m, any_member_cmp);
    }
    for (size_t i = 0; o && i < count; i++)
        if (json_object_setn_new_nocheck(o, m[i].key, m[i].key_len,
                                         any_copy(m[i].value, depth + 1, too_deep)) < 0) {
            json_decref(o);
            o = NULL;
        }
    free(m);
    return o;
}

static json_t *decode_array(const struct record_field *f, const json_t *v, char *why, size_t wl)
{
    if (!json_is_array(v)) {
        why_set(why, wl, f->name, "expected an array");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        json_t *item = NULL;
        if (f->type == RT_OBJECT_ARRAY)
            item = json_is_null(el) ? zero_record(f->sub) : record_decode(f->sub, el, why, wl);
        else if (json_is_null(el))
            item = f->type == RT_STRING_ARRAY ? json_string("") : json_integer(0);
        else if ((f->type == RT_STRING_ARRAY && json_is_string(el)) ||
                 (f->type == RT_INT_ARRAY && json_is_integer(el)))
            item = json_copy(el);
        else
            why_set(why, wl, f->name, "array element of the wrong type");
        if (!item || json_array_append_new(out, item) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *decode_value(const struct record_field *f, const json_t *v, char *why, size_t wl)
{
    char buf[64];
    switch (f->type) {
    case RT_STRING:
    case RT_STRING_NULL:
        if (json_is_string(v))
            return json_copy((json_t *)v);
        why_set(why, wl, f->name, "expected a string");
        return NULL;
    case RT_INT:
    case RT_INT_NULL:
        if (json_is_integer(v))
            return json_copy((json_t *)v);
        why_set(why, wl, f->name, "expected an integer");
        return NULL;
    case RT_FLOAT:
        if (json_is_number(v))
            return json_real(json_number_value(v));
        why_set(why, wl, f->name, "expected a number");
        return NULL;
    case RT_BOOL:
        if (json_is_boolean(v))
            return json_copy((json_t *)v);
        why_set(why, wl, f->name, "expected a boolean");
        return NULL;
    case RT_TIME:
        if (json_is_string(v) && rfc3339_normalise(json_string_value(v), buf, sizeof buf, NULL) == 0)
            return json_string(buf);
        why_set(why, wl, f->name, "expected an RFC 3339 time");
        return NULL;
    case RT_ANY_ARRAY: {
        if (!json_is_array(v)) {
            why_set(why, wl, f->name, "expected an array");
            return NULL;
        }
        bool too_deep = false;
        json_t *copy = any_copy(v, 0, &too_deep);
        if (!copy && too_deep) {
            snprintf(buf, sizeof buf, "nested deeper than %d levels", RECORD_ANY_MAX_DEPTH);
            why_set(why, wl, f->name, buf);
        }
        return copy;
    }
    case RT_STRING_ARRAY:
    case RT_INT_ARRAY:
    case RT_OBJECT_ARRAY:
        return decode_array(f, v, why, wl);
    case RT_OBJECT:
    case RT_OBJECT_PTR:
        return record_decode(f->sub, v, why, wl);
    }
    return NULL;
}

/* find_value: the last non-null match of f in in (NULL when none); -1 when any match has a type
 * that cannot decode (checked by decoding every match, as Go does). */
static int find_value(const struct record_field *f, const json_t *in, json_t **found, char *why,
                      size_t wl)
{
    const char *key;
    json_t *v;
    *found = NULL;
    json_object_foreach((json_t *)in, key, v) {
        if (strcasecmp(key, f->name) != 0 || json_is_null(v))
            continue;
        json_t *decoded = decode_value(f, v, why, wl);
        if (!decoded) {
            json_decref(*found);
            *found = NULL;
            return -1;
        }
        json_decref(*found);
        *found = decoded;
    }
    return 0;
}

json_t *record_decode(const struct record *r, const json_t *in, char *why, size_t whylen)
{
    if (!json_is_object(in)) {
        if (why && whylen)
            snprintf(why, whylen, "expected an object");
        return NULL;
    }
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (size_t i = 0; i < r->count; i++) {
        const struct record_field *f = &r->fields[i];
        json_t *v;
        if (find_value(f, in, &v, why, whylen) < 0)
            goto fail;
        if (!v && (f->type == RT_OBJECT_PTR || f->omit_empty))
            continue;
        if (v && f->omit_empty && json_is_array(v) && json_array_size(v) == 0) {
            json_decref(v);
            continue;
        }
        if (!v)
            v = zero_value(f);
        if (!v || json_object_set_new(out, f->name, v) < 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *record_strings_copy(const json_t *list)
{
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(list, i, el)
        json_array_append_new(out, json_string(json_is_string(el) ? json_string_value(el) : ""));
    return out;
}

json_t *record_decode_items(const json_t *raw, record_item_decoder decode, const char *what)
{
    json_t *out = json_array();
    size_t i, skipped = 0;
    json_t *item;
    char why[128];

    if (!out)
        return NULL;
    json_array_foreach(raw, i, item) {
        json_t *rec = decode(item, why, sizeof why);
        if (!rec) {
            /* a line for the first few; a page full of them (a broken or hostile actor) must
             * not write a line per item */
            if (skipped++ < RECORD_SKIPS_LOGGED)
                log_warn("%s: skipping dataset item %zu: %s", what, i, why);
            continue;
        }
        if (json_array_append_new(out, rec) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    if (skipped > RECORD_SKIPS_LOGGED)
        log_warn("%s: skipped %zu undecodable dataset items in all (%zu of %zu kept)", what,
                 skipped, json_array_size(out), json_array_size(raw));
    return out;
}
