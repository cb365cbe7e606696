/* go_args.c - Go-compatible reading of job argument members (see go_args.h). */
#include "kinds/go_args.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    default: return "null";
    }
}

static int type_error(const json_t *v, const char *name, const char *go_type, char *msg)
{
    snprintf(msg, GO_ARGS_MSG, "json: cannot unmarshal %s into Go struct field .%s of type %s",
             json_kind(v), name, go_type);
    return -1;
}

static int nul_error(const char *name, char *msg)
{
    snprintf(msg, GO_ARGS_MSG, "%s must not contain NUL characters", name);
    return -1;
}

bool go_arg_has_nul(const json_t *v)
{
    return json_is_string(v) && memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
}

const json_t *go_arg_member(const json_t *args, const char *name)
{
    const char *key, *best = NULL;
    json_t *v;
    const json_t *found = NULL;
    if (!json_is_object(args))
        return NULL;
    json_object_foreach((json_t *)args, key, v) {
        if (strcasecmp(key, name) == 0 && !json_is_null(v) && (!best || strcmp(key, best) > 0)) {
            best = key;
            found = v;
        }
    }
    return found;
}

int go_arg_string(const json_t *args, const char *name, const char **out, char *msg)
{
    const json_t *v = go_arg_member(args, name);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_error(v, name, "string", msg);
    if (go_arg_has_nul(v))
        return nul_error(name, msg);
    *out = json_string_value(v);
    return 0;
}

int go_arg_bool(const json_t *args, const char *name, bool *out, char *msg)
{
    const json_t *v = go_arg_member(args, name);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return type_error(v, name, "bool", msg);
    *out = json_is_true(v);
    return 0;
}

/* number_as_integer: an integer, or a double with no fraction within int64 range. */
static int number_as_integer(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    double d = json_real_value(v);
    if (!json_is_real(v) || !(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static void number_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, len, "%g", json_real_value(v));
}

int go_arg_uint(const json_t *args, const char *name, uint64_t *out, char *msg)
{
    const json_t *v = go_arg_member(args, name);
    int64_t n;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return type_error(v, name, "uint", msg);
    if (number_as_integer(v, &n) < 0 || n < 0) {
        char text[40];
        number_text(v, text, sizeof text);
        snprintf(msg, GO_ARGS_MSG, "json: cannot unmarshal number %s into Go struct field .%s "
                 "of type uint", text, name);
        return -1;
    }
    *out = (uint64_t)n;
    return 0;
}

int go_arg_int(const json_t *args, const char *name, int64_t *out, char *msg)
{
    const json_t *v = go_arg_member(args, name);
    int64_t n;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return type_error(v, name, "int", msg);
    if (number_as_integer(v, &n) < 0) {
        char text[40];
        number_text(v, text, sizeof text);
        snprintf(msg, GO_ARGS_MSG, "json: cannot unmarshal number %s into Go struct field .%s "
                 "of type int", text, name);
        return -1;
    }
    *out = n;
    return 0;
}

int go_arg_strings(const json_t *args, const char *name, const json_t **out, char *msg)
{
    const json_t *v = go_arg_member(args, name);
    size_t i;
    json_t *el;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return type_error(v, name, "[]string", msg);
    json_array_foreach(v, i, el) {
        if (!json_is_string(el) && !json_is_null(el))
            return type_error(el, name, "string", msg);
        if (go_arg_has_nul(el))
            return nul_error(name, msg);
    }
    *out = v;
    return 0;
}

char *go_lower(const char *s)
{
    char *c = strdup(s ? s : "");
    for (char *p = c; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return c;
}
