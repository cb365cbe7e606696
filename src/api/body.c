/* body.c - strict JSON request bodies (DECISIONS.md "Strict JSON").
 *
 * The media type must be application/json (parameters such as charset allowed), the body present,
 * one JSON object with nothing after it, exact member names from an allowed list, no duplicates. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
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

/* parse_flat_strings is the fast path for the common body: one object whose members are allowed
 * names with plain ASCII string values (the sealed texts are base64). It gives up (NULL) on
 * anything else, duplicates and unknown names included, and the full parser then answers. */
static json_t *parse_flat_strings(const char *body, size_t len, const char *const *allowed)
{
    const char *p = body, *end = body + len;
    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return NULL;
    json_t *obj = json_object();
    for (bool first = true; obj; first = false) {
        p = skip_ws(p, end);
        if (first && p < end && *p == '}') {
            if (skip_ws(p + 1, end) == end)
                return obj;     /* {} */
            break;
        }
        if (p == end || *p++ != '"')
            break;
        const char *key = p, *key_end = scan_plain_string(p, end);
        if (!key_end)
            break;
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strlen(*a) == (size_t)(key_end - key) && memcmp(*a, key, (size_t)(key_end - key)) == 0;
        char name[64];
        if (!known || (size_t)(key_end - key) >= sizeof name)
            break;
        memcpy(name, key, (size_t)(key_end - key));
        name[key_end - key] = '\0';
        p = skip_ws(key_end + 1, end);
        if (p == end || *p++ != ':')
            break;
        p = skip_ws(p, end);
        if (p == end || *p++ != '"')
            break;
        const char *val = p, *val_end = scan_plain_string(p, end);
        if (!val_end || json_object_get(obj, name))
            break;
        json_object_set_new_nocheck(obj, name, json_stringn_nocheck(val, (size_t)(val_end - val)));
        p = skip_ws(val_end + 1, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            if (skip_ws(p, end) == end)
                return obj;
        }
        break;
    }
    json_decref(obj);
    return NULL;
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
        http_reply_error(resp, 415, "Content-Type must be application/json");
        return NULL;
    }
    json_t *fast = parse_flat_strings(body, body_len, allowed);
    if (fast)
        return fast;
    json_error_t jerr;
    json_t *root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
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
