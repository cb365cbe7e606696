/* body.c - strict JSON request bodies (DECISIONS.md "Strict JSON").
 *
 * The media type must be application/json (parameters such as charset allowed), the body present,
 * one JSON object with nothing after it, exact member names from an allowed list, no duplicates.
 * An integer beyond int64, which jansson refuses and Go reads as a float64, is read as a real. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/json_bigint.h"
#include "util/utf8.h"

static bool is_json_media_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char want[] = "application/json";
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    char next = ct[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}


static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* scan_plain_string reads a string of printable ASCII without escapes starting after its opening
 * quote; returns the closing quote, or NULL when the string is anything else. */
static const char *scan_plain_string(const char *p, const char *end)
{
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return NULL;
    }
    return NULL;
}

/* The code unit of the \uXXXX escape at p (6 bytes before end), or -1. */
static long unicode_escape(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int d = hex_value(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* scan_escaped_string is scan_plain_string with what jansson decodes in a string allowed too:
 * the escapes, and valid UTF-8 (utf8_char_len). \u0000 and unpaired surrogates, which jansson
 * refuses, make it give up (NULL) as anything else does. */
static const char *scan_escaped_string(const char *p, const char *end)
{
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            size_t n = utf8_char_len(p, (size_t)(end - p));
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        if (p + 1 < end && p[1] && strchr("\"\\/bfnrt", p[1])) {
            p += 2;
            continue;
        }
        long u = unicode_escape(p, end);
        if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF))
            return NULL;
        p += 6;
        if (u >= 0xD800 && u <= 0xDBFF) {
            long low = unicode_escape(p, end);
            if (low < 0xDC00 || low > 0xDFFF)
                return NULL;
            p += 6;
        }
    }
    return NULL;
}

/* unescape_in_place decodes the string s[0..n) that scan_escaped_string accepted, in place (the
 * decoded form is never longer), and returns its length. */
static size_t unescape_in_place(char *s, size_t n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *r = s, *end = s + n;
    char *w = s;
    while (r < end) {
        if (*r != '\\') {
            *w++ = *r++;
            continue;
        }
        if (r[1] != 'u') {
            *w++ = to[strchr(from, r[1]) - from];
            r += 2;
            continue;
        }
        uint32_t u = (uint32_t)unicode_escape(r, end);
        r += 6;
        if (u >= 0xD800 && u <= 0xDBFF) {
            u = 0x10000 + ((u - 0xD800) << 10) + ((uint32_t)unicode_escape(r, end) - 0xDC00);
            r += 6;
        }
        w += utf8_put_codepoint(u, w);     /* never longer than the escape it replaces */
    }
    return (size_t)(w - s);
}

/* scan_flat_strings is the fast path for the common body: one object whose members are allowed
 * names with plain ASCII string values (the sealed texts are base64), or with escaped ones too
 * (scan_escaped_string) when `escapes`. It records each value as a slice of the body (escapes not
 * decoded), by index in allowed, and the indexes in body order (order[0..*count)). It gives up
 * (false) on anything else, duplicates and unknown names included, and the full parser then
 * answers. */
static bool scan_flat_strings(const char *body, size_t len, const char *const *allowed,
                              const char **value, size_t *value_len, size_t *order, size_t *count,
                              bool escapes)
{
    size_t n_allowed = 0;
    while (allowed[n_allowed])
        n_allowed++;
    if (n_allowed > API_MAX_MEMBERS)
        return false;
    for (size_t i = 0; i < n_allowed; i++)
        value[i] = NULL;
    *count = 0;
    const char *p = body, *end = body + len;
    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return false;
    for (bool first = true;; first = false) {
        p = skip_ws(p, end);
        if (first && p < end && *p == '}')
            return skip_ws(p + 1, end) == end;     /* {} */
        if (p == end || *p++ != '"')
            return false;
        const char *key = p, *key_end = scan_plain_string(p, end);
        if (!key_end)
            return false;
        size_t idx = 0, key_len = (size_t)(key_end - key);
        while (idx < n_allowed && !(strlen(allowed[idx]) == key_len &&
                                    memcmp(allowed[idx], key, key_len) == 0))
            idx++;
        if (idx == n_allowed || value[idx])
            return false;
        p = skip_ws(key_end + 1, end);
        if (p == end || *p++ != ':')
            return false;
        p = skip_ws(p, end);
        if (p == end || *p++ != '"')
            return false;
        const char *val = p;
        const char *val_end = escapes ? scan_escaped_string(p, end) : scan_plain_string(p, end);
        if (!val_end)
            return false;
        value[idx] = val;
        value_len[idx] = (size_t)(val_end - val);
        order[(*count)++] = idx;
        p = skip_ws(val_end + 1, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p < end && *p == '}' && skip_ws(p + 1, end) == end;
    }
}

/* parse_flat_strings: the fast path as a JSON object (members in body order), NULL when the body
 * is not of that shape. */
static json_t *parse_flat_strings(const char *body, size_t len, const char *const *allowed)
{
    const char *value[API_MAX_MEMBERS];
    size_t value_len[API_MAX_MEMBERS], order[API_MAX_MEMBERS], count = 0;
    if (!scan_flat_strings(body, len, allowed, value, value_len, order, &count, false))
        return NULL;
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < count; i++) {
        size_t idx = order[i];
        if (json_object_set_new_nocheck(obj, allowed[idx],
                                        json_stringn_nocheck(value[idx], value_len[idx])) < 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* load_big_ints_as_reals parses body again with every integer beyond int64 read as a real, as
 * Go's decoder reads a number into the float64 of a map[string]any (a job's arguments) and as
 * job_parse reads it back from a signature. NULL when it still does not parse (the first error is
 * the one reported). The copy is wiped: a /setkey body holds a key. */
static json_t *load_big_ints_as_reals(const char *body, size_t body_len)
{
    size_t copy_len = 0;
    char *copy = json_big_ints_as_reals(body, body_len, &copy_len);
    if (!copy)
        return NULL;
    json_t *root = json_loadb(copy, copy_len, JSON_REJECT_DUPLICATES, NULL);
    crypto_wipe(copy, copy_len);
    free(copy);
    return root;
}

json_t *api_parse_body(const struct http_request *req, struct http_response *resp,
                       const char *const *allowed)
{
    bool has_body = req->body && req->body_len > 0;
    const char *content_type = has_body ? http_header(req, "Content-Type") : NULL;
    return api_parse_json_text(content_type, req->body, req->body_len, resp, allowed);
}

json_t *api_parse_json_text(const char *content_type, const char *body, size_t body_len,
                            struct http_response *resp, const char *const *allowed)
{
    if (!body || body_len == 0) {
        http_reply_error(resp, 400, "request body is empty; expected a JSON object");
        return NULL;
    }
    if (!is_json_media_type(content_type)) {
        http_reply_error(resp, 400, "Content-Type must be application/json");
        return NULL;
    }
    json_t *fast = parse_flat_strings(body, body_len, allowed);
    if (fast)
        return fast;
    json_error_t jerr;
    json_t *root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow)
        root = load_big_ints_as_reals(body, body_len);
    char msg[256];
    if (!root) {
        snprintf(msg, sizeof msg, "invalid JSON: %.*s at offset %d",
                 utf8_print_len(jerr.text, sizeof jerr.text), jerr.text, jerr.position);
        http_reply_error(resp, 400, msg);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        http_reply_error(resp, 400, "invalid request: expected a JSON object");
        return NULL;
    }
    const char *name;
    json_t *value;
    json_object_foreach(root, name, value) {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, name) == 0;
        if (!known) {
            snprintf(msg, sizeof msg, "invalid request: unknown member \"%.*s\"",
                     utf8_print_len(name, 64), name);
            json_decref(root);
            http_reply_error(resp, 400, msg);
            return NULL;
        }
    }
    return root;
}

const char *api_string_member(const json_t *obj, const char *name, size_t *len,
                              struct http_response *resp)
{
    const json_t *v = json_object_get(obj, name);
    char msg[128];
    if (!v || !json_is_string(v) || json_string_length(v) == 0) {
        snprintf(msg, sizeof msg, "invalid request: \"%s\" must be a non-empty string", name);
        http_reply_error(resp, 400, msg);
        return NULL;
    }
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

int api_parse_strings(const struct http_request *req, struct http_response *resp,
                      const char *const *allowed, struct api_strings *out)
{
    memset(out, 0, sizeof *out);
    size_t order[API_MAX_MEMBERS], count = 0;
    bool has_body = req->body && req->body_len > 0;
    if (has_body && is_json_media_type(http_header(req, "Content-Type")) &&
        scan_flat_strings(req->body, req->body_len, allowed, out->value, out->len, order, &count,
                          false))
        return 0;
    out->root = api_parse_body(req, resp, allowed);
    if (!out->root)
        return -1;
    for (size_t i = 0; allowed[i] && i < API_MAX_MEMBERS; i++) {
        const json_t *v = json_object_get(out->root, allowed[i]);
        if (json_is_string(v)) {
            out->value[i] = json_string_value(v);
            out->len[i] = json_string_length(v);
        }
    }
    return 0;
}

bool api_decode_flat_in_place(char *body, size_t len, const char *const *allowed,
                              struct api_strings *out)
{
    memset(out, 0, sizeof *out);
    size_t order[API_MAX_MEMBERS], count = 0;
    if (!scan_flat_strings(body, len, allowed, out->value, out->len, order, &count, true)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        size_t idx = order[i];
        out->len[idx] = unescape_in_place(body + (out->value[idx] - body), out->len[idx]);
    }
    return true;
}

int api_parse_strings_in_place(const struct http_request *req, char *body,
                               struct http_response *resp, const char *const *allowed,
                               struct api_strings *out)
{
    if (body && body == req->body && is_json_media_type(http_header(req, "Content-Type")) &&
        api_decode_flat_in_place(body, req->body_len, allowed, out))
        return 0;
    return api_parse_strings(req, resp, allowed, out);
}

const char *api_strings_get(const struct api_strings *s, const char *const *allowed,
                            const char *name, size_t *len, struct http_response *resp)
{
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], name) != 0)
        i++;
    if (!allowed[i] || i >= API_MAX_MEMBERS || !s->value[i] || s->len[i] == 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "invalid request: \"%s\" must be a non-empty string", name);
        http_reply_error(resp, 400, msg);
        return NULL;
    }
    *len = s->len[i];
    return s->value[i];
}

void api_strings_clear(struct api_strings *s)
{
    json_decref(s->root);
    memset(s, 0, sizeof *s);
}

void api_strings_clear_wiped(struct api_strings *s)
{
    const char *name;
    json_t *value;
    if (s->root)
        json_object_foreach(s->root, name, value)
            if (json_is_string(value))
                crypto_wipe((char *)json_string_value(value), json_string_length(value));
    api_strings_clear(s);
}
