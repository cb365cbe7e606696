/* body.c - strict JSON request bodies (DECISIONS.md "Strict JSON").
 *
 * The media type must be application/json (parameters such as charset allowed), the body present,
 * one JSON object with nothing after it, exact member names from an allowed list, no duplicates. */
#include <string.h>
#include <strings.h>

#include "api/api.h"

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

json_t *api_parse_body(const struct http_request *req, struct http_response *resp,
                       const char *const *allowed)
{
    if (!req->body || req->body_len == 0) {
        http_reply_error(resp, 400, "request body is empty; expected a JSON object");
        return NULL;
    }
    if (!is_json_media_type(http_header(req, "Content-Type"))) {
        http_reply_error(resp, 415, "Content-Type must be application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    char msg[256];
    if (!root) {
        snprintf(msg, sizeof msg, "invalid JSON: %s at offset %d", jerr.text, jerr.position);
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
            snprintf(msg, sizeof msg, "invalid request: unknown member \"%.64s\"", name);
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
