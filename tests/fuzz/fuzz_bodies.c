/* fuzz_bodies.c - libFuzzer target for the JSON request bodies (api/body.c) and what the routes
 * take out of them.
 *
 * Input layout: byte 0 picks the route (bits 0-1: /job/generate, /job/add, /job/result,
 * /setkey) and the Content-Type (bits 2-4); the rest is the body. Properties: no crash or leak;
 * an accepted body is exactly what jansson (duplicates refused, an integer beyond int64 read as a
 * real: json_bigint.h) reads, an object whose members
 * are all allowed (so the fast path never accepts what the full parser would not, nor refuses
 * what it would accept); a refusal is 400 with a JSON {"error": string} body; then the
 * route's members are taken as the handlers take them: the job of /job/generate, the sealed job
 * of /job/add and /job/result opened with a key ring and parsed, the result opened with the
 * job's quote as salt, the key and signature of /setkey. Also, on every input, the in-place
 * decoding of /setkey's bodies (api_decode_flat_in_place, escapes and UTF-8 decoded in the
 * body's own buffer): when it accepts, jansson reads the same body as an object of exactly those
 * allowed string members with exactly those values. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "jobs/job.h"
#include "tee/keyring.h"
#include "tee/platform.h"
#include "util/json_bigint.h"

enum route { GENERATE, ADD, RESULT, SETKEY };

static const char *const generate_members[] = {
    "type", "arguments", "quote", "worker_id", "target_worker", "timeout", "issued_at", NULL,
};
static const char *const add_members[] = { "encrypted_job", NULL };
static const char *const result_members[] = { "encrypted_result", "encrypted_request", NULL };
static const char *const setkey_members[] = { "key", "signature", NULL };
static const char *const *const members[] = { generate_members, add_members, result_members,
                                              setkey_members };

static const char *const content_types[] = {
    "application/json", "application/json; charset=utf-8", " APPLICATION/JSON", NULL,
    "text/plain", "application/jsonx", "application/json\t;q", "",
};

/* The ring opens with K1 of tests/vectors/sealing.json, then the local key; nothing persists. */
static int no_secret(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                     char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)data, (void)len, (void)err, (void)errlen;
    return 0;
}

static int drop_secret(void *ctx, const char *name, const char *label, const uint8_t *data,
                       size_t len, bool replace, char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)label, (void)data, (void)len, (void)replace, (void)err, (void)errlen;
    return 0;
}

static struct keyring *ring(void)
{
    static struct keyring *kr;
    static struct platform p = { .root_key = "fuzz root key, 32 bytes long...." };
    if (!kr) {
        struct secret_store store = { no_secret, drop_secret, NULL };
        char err[256];
        struct err e = { 0 };
        kr = keyring_open(&p, true, &store, err, sizeof err);
        if (!kr || keyring_add(kr, (const uint8_t *)"0123456789abcdef0123456789abcdef", &e) != 0)
            abort();
    }
    return kr;
}

static bool allowed_name(const char *name, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(name, *allowed) == 0)
            return true;
    return false;
}

static bool all_allowed(const json_t *obj, const char *const *allowed)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)obj, name, value)
        if (!allowed_name(name, allowed))
            return false;
    return true;
}

static void check_error_reply(const struct http_response *resp)
{
    if (resp->status != 400)
        abort();        /* a bad body is the client's fault, never 500 */
    json_t *reply = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    if (!reply || !json_is_string(json_object_get(reply, "error")))
        abort();
    json_decref(reply);
}

/* Which of content_types are application/json (parameters allowed after ';', ' ' or '\t'). */
static bool json_content_type(unsigned pick)
{
    return pick < 3 || pick == 6;
}

/* open_job is what /job/add and /job/result do with a sealed job. */
static int open_job(const char *sealed, size_t len, struct job *job)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    char cause[512];
    if (keyring_open_sealed(ring(), NULL, 0, sealed, len, &plain, &plain_len, cause,
                            sizeof cause) < 0)
        return -1;
    struct err e = { 0 };
    int rc = job_parse((const char *)plain, plain_len, job, &e);
    free(plain);
    return rc;
}

static void take_members(enum route r, const json_t *body)
{
    struct http_response resp = { 0 };
    struct err e = { 0 };
    struct job job;
    size_t len = 0, len2 = 0;
    const char *a, *b;
    switch (r) {
    case GENERATE:
        if (job_from_json(body, &job, &e) == 0) {
            char *text = job_serialize(&job, &len);
            if (!text)
                abort();
            free(text);
            job_clear(&job);
        } else if (e.http != 400) {
            abort();
        }
        break;
    case ADD:
        a = api_string_member(body, "encrypted_job", &len, &resp);
        if (a && open_job(a, len, &job) == 0)
            job_clear(&job);
        break;
    case RESULT:
        a = api_string_member(body, "encrypted_result", &len, &resp);
        b = a ? api_string_member(body, "encrypted_request", &len2, &resp) : NULL;
        if (b && open_job(b, len2, &job) == 0) {
            uint8_t *plain = NULL;
            size_t plain_len = 0;
            char cause[512];
            if (keyring_open_sealed(ring(), (const uint8_t *)job.quote, job.quote_len, a, len,
                                    &plain, &plain_len, cause, sizeof cause) == 0)
                free(plain);
            job_clear(&job);
        }
        break;
    case SETKEY:
        a = api_string_member(body, "key", &len, &resp);
        b = a ? api_string_member(body, "signature", &len2, &resp) : NULL;
        if (b && (len == 0 || len2 == 0 || strlen(a) > len || strlen(b) > len2))
            abort();
        break;
    }
    if (resp.status)
        check_error_reply(&resp);
    http_response_clear(&resp);
}

/* check_in_place: api_decode_flat_in_place on a copy of body[0..len) agrees with jansson. */
static void check_in_place(const char *body, size_t len, const char *const *allowed)
{
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, body, len + 1);
    struct api_strings out;
    if (api_decode_flat_in_place(copy, len, allowed, &out)) {
        json_t *want = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(want))
            abort();    /* accepted what jansson refuses */
        size_t members = 0;
        for (size_t i = 0; allowed[i]; i++) {
            json_t *v = json_object_get(want, allowed[i]);
            if (!out.value[i] != !v)
                abort();    /* a member one side has and the other not */
            if (!v)
                continue;
            members++;
            if (!json_is_string(v) || json_string_length(v) != out.len[i] ||
                memcmp(json_string_value(v), out.value[i], out.len[i]) != 0 ||
                out.value[i] < copy || out.value[i] + out.len[i] > copy + len)
                abort();    /* another value, or not a slice of the body */
        }
        if (json_object_size(want) != members)
            abort();    /* a member that is not allowed */
        json_decref(want);
    }
    free(copy);
}

/* load_reference reads body as the strict parser must: jansson with duplicates refused, and on a
 * "too big integer" again with every integer beyond int64 written as a real. */
static json_t *load_reference(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v || json_error_code(&jerr) != json_error_numeric_overflow)
        return v;
    size_t copy_len = 0;
    char *copy = json_big_ints_as_reals(body, len, &copy_len);
    v = copy ? json_loadb(copy, copy_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(copy);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum route r = (enum route)(data[0] & 3);
    unsigned ct_pick = (data[0] >> 2) & 7;
    const char *const *allowed = members[r];
    /* a NUL-terminated copy, as the server hands bodies to the handlers */
    size_t len = size - 1;
    char *body = malloc(len + 1);
    if (!body)
        abort();
    memcpy(body, data + 1, len);
    body[len] = '\0';

    check_in_place(body, len, setkey_members);
    struct http_response resp = { 0 };
    json_t *got = api_parse_json_text(content_types[ct_pick], len ? body : NULL, len, &resp, allowed);
    json_t *want = load_reference(body, len);
    bool acceptable = len > 0 && json_content_type(ct_pick) && json_is_object(want) &&
                      all_allowed(want, allowed);
    if (got) {
        if (!acceptable || !json_equal(got, want) || resp.status != 0)
            abort();    /* accepted what jansson reads otherwise, or a member not allowed */
        take_members(r, got);
        json_decref(got);
    } else {
        if (acceptable)
            abort();    /* refused a good body */
        check_error_reply(&resp);
    }
    http_response_clear(&resp);
    json_decref(want);
    free(body);
    return 0;
}
