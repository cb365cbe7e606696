/* admin_api.c - PUT /debug/loglevel and POST /setkey.
 *
 * /debug/loglevel?level=L sets the level (debug, info, warn/warning, error; any case); without
 * a level it goes back to the start-up level; anything else is 400 and changes nothing.
 * /setkey (served when KEY_DISTRIBUTOR_PUBKEY is set) takes {"key","signature"}: the signature is
 * checked before the length (core-protocol.md 4.3), the key joins the ring. Joining writes the ring
 * to the disk (durably), so it is done by the key ring's writer thread (keyring_writer.h) and the
 * answer is deferred until then: a disk that does not answer holds that thread, not this HTTP
 * thread, and concurrent /setkeys are applied one at a time in their order. Errors carry both
 * "error" and Go's "status" member, since Go's key broker reads "status" - bad requests too - and
 * Go's status codes (core-protocol.md 1.5.9): 400 for a body that cannot be read, 500 for every
 * refusal of the key. Refusals are the sender's doing and stay out of the readiness window.
 * The key must not stay behind in freed memory: the handler takes the request body and wipes it
 * when done, decodes the members in it (api_parse_strings_in_place: no copy, escapes included),
 * and wipes the strings of a body that only jansson reads (api_strings_clear_wiped; a body of
 * another shape, such as one with a null member, also leaves jansson's scratch copies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "tee/keydist.h"
#include "tee/keyring.h"
#include "tee/keyring_writer.h"
#include "util/crypto.h"
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

/* setkey_refused answers a refusal of the key: the sender's doing, Go's 500, kept out of the
 * readiness window. */
static void setkey_refused(struct http_response *resp, const char *msg)
{
    http_reply_error(resp, 500, msg);
    resp->count = HTTP_COUNT_SKIP;
}

/* reply_added answers what adding the key to the ring gave (keyring_add's rc, e). */
static void reply_added(struct http_response *resp, int rc, const struct err *e)
{
    if (rc < 0) {
        http_reply_error(resp, 500, e->msg);
    } else if (rc == KEYRING_RETIRED) {
        log_warn("/setkey refused a retired key");
        setkey_refused(resp, "key was retired from the key ring and cannot be set again");
    } else {
        log_info("/setkey: %s", rc == KEYRING_ADDED ? "new sealing key" : "key already present");
        http_reply_json(resp, 200, json_pack("{s:s}", "status", "Key set"));
    }
}

/* setkey_added answers a deferred /setkey once the writer added its key (on the writer's
 * thread). */
static void setkey_added(void *ctx, int rc, const struct err *e)
{
    struct http_response resp = { .error_twin = "status" };
    reply_added(&resp, rc, e);
    http_deferred_answer(ctx, &resp);
}

/* add_key hands the key to the key ring's writer; the answer follows when it is added. */
static void add_key(struct app *app, const struct http_request *req, const uint8_t *key,
                    struct http_response *resp)
{
    struct http_deferred *later = http_defer(req);
    if (!later) {
        /* The server is stopping, and waits for its HTTP threads: a write here could hold the
         * stop on a disk that does not answer. The key broker tries again after the restart. */
        http_reply_error(resp, 503, "worker shutting down; retry later");
        http_add_header(resp, "Retry-After", "5");
        return;
    }
    if (keyring_writer_add(app->ring_writer, key, setkey_added, later) < 0) {
        struct err e = { 0 };
        err_set(&e, 500, "out of memory");
        setkey_added(later, -1, &e);
    }
}

void api_setkey(struct app *app, const struct http_request *req, struct http_response *resp)
{
    static const char *const members[] = { "key", "signature", NULL };
    resp->error_twin = "status";    /* every error, the body helpers' included */
    char *body = http_take_body(req);   /* holds the key: wiped below, not just freed */
    size_t body_len = req->body_len;
    struct api_strings fields;
    size_t key_len = 0, sig_len = 0;
    const char *key = NULL, *sig = NULL;
    if (api_parse_strings_in_place(req, body, resp, members, &fields) == 0) {
        key = api_strings_get(&fields, members, "key", &key_len, resp);
        sig = key ? api_strings_get(&fields, members, "signature", &sig_len, resp) : NULL;
    }
    char msg[256];
    if (!key || !sig) {
        /* answered */
    } else if (keydist_verify(app->keydist, (const uint8_t *)key, key_len, sig, sig_len, msg,
                              sizeof msg) < 0) {
        log_warn("/setkey refused: %s", msg);
        setkey_refused(resp, msg);
    } else if (key_len != SEAL_KEY_LEN) {
        snprintf(msg, sizeof msg,
                 "invalid key length: got %zu bytes, expected 32 bytes for AES-256 encryption",
                 key_len);
        setkey_refused(resp, msg);
    } else {
        add_key(app, req, (const uint8_t *)key, resp);     /* the writer copies the key */
    }
    api_strings_clear_wiped(&fields);
    if (body) {
        crypto_wipe(body, body_len);
        free(body);
    }
}
