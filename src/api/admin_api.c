/* admin_api.c - PUT /debug/loglevel and POST /setkey.
 *
 * /debug/loglevel?level=L sets the level (debug, info, warn/warning, error; any case); without
 * a level it goes back to the start-up level; anything else is 400 and changes nothing.
 * /setkey (served when KEY_DISTRIBUTOR_PUBKEY is set) takes {"key","signature"}: the signature is
 * checked before the length (core-protocol.md 4.3), the key joins the ring. Errors carry both
 * "error" and Go's "status" member, since Go's key broker reads "status" - bad requests too - and
 * Go's status codes (core-protocol.md 1.5.9): 400 for a body that cannot be read, 500 for every
 * refusal of the key. Refusals are the sender's doing and stay out of the readiness window. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "tee/keydist.h"
#include "tee/keyring.h"
#include "util/utf8.h"

void api_loglevel(struct app *app, const struct http_request *req, struct http_response *resp)
{
    const char *requested = http_query(req, "level");
    int level = (requested && *requested) ? log_level_parse(requested) : app->startup_log_level;
    if (level < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid log level \"%.*s\" (expected debug, info, warn or error)",
                 utf8_print_len(requested, 64), requested);  /* whole UTF-8 characters only */
        http_reply_error(resp, 400, msg);
        return;
    }
    log_set_level(level);
    log_info("log level set to %s", log_level_name(level));
    char *body = NULL;
    int n = asprintf(&body, "log level set to %s", log_level_name(level));
    if (n < 0) {
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    http_reply_text(resp, 200, body, (size_t)n);
}

static void setkey_error(struct http_response *resp, unsigned status, const char *msg)
{
    size_t n = utf8_print_len(msg, SIZE_MAX);   /* never fail to encode: cut at bad UTF-8 */
    http_reply_json(resp, status, json_pack("{s:s#,s:s#}", "error", msg, n, "status", msg, n));
}

/* setkey_bad_request re-answers a refusal made by the body helpers ({"error": msg}) as
 * setkey_error does, with the same status and message plus "status". */
static void setkey_bad_request(struct http_response *resp)
{
    json_t *doc = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(doc, "error"));
    char copy[256];
    snprintf(copy, sizeof copy, "%s", msg ? msg : "invalid request");
    json_decref(doc);
    setkey_error(resp, resp->status ? resp->status : 400, copy);
}

void api_setkey(struct app *app, const struct http_request *req, struct http_response *resp)
{
    static const char *const members[] = { "key", "signature", NULL };
    json_t *body = api_parse_body(req, resp, members);
    if (!body) {
        setkey_bad_request(resp);
        return;
    }
    size_t key_len = 0, sig_len = 0;
    const char *key = api_string_member(body, "key", &key_len, resp);
    const char *sig = key ? api_string_member(body, "signature", &sig_len, resp) : NULL;
    if (!key || !sig) {
        json_decref(body);
        setkey_bad_request(resp);
        return;
    }
    char msg[256];
    if (keydist_verify(app->keydist, (const uint8_t *)key, key_len, sig, sig_len, msg,
                       sizeof msg) < 0) {
        log_warn("/setkey refused: %s", msg);
        setkey_error(resp, 500, msg);
        resp->count = HTTP_COUNT_SKIP;
    } else if (key_len != SEAL_KEY_LEN) {
        snprintf(msg, sizeof msg,
                 "invalid key length: got %zu bytes, expected 32 bytes for AES-256 encryption",
                 key_len);
        setkey_error(resp, 500, msg);
        resp->count = HTTP_COUNT_SKIP;
    } else {
        struct err e = { 0 };
        int rc = keyring_add(app->keyring, (const uint8_t *)key, &e);
        if (rc < 0) {
            setkey_error(resp, 500, e.msg);
        } else if (rc == KEYRING_RETIRED) {
            log_warn("/setkey refused a retired key");
            setkey_error(resp, 500, "key was retired from the key ring and cannot be set again");
            resp->count = HTTP_COUNT_SKIP;
        } else {
            log_info("/setkey: %s", rc == KEYRING_ADDED ? "new sealing key" : "key already present");
            http_reply_json(resp, 200, json_pack("{s:s}", "status", "Key set"));
        }
    }
    json_decref(body);
}
