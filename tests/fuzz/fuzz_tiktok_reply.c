/* fuzz_tiktok_reply.c - libFuzzer target for the TikTok transcription service's reply: how the
 * worker judges it and makes the job's result from it (tiktok_transcription_answer).
 *
 * Input layout: byte 0 picks the HTTP status (mostly 200), byte 1 the requested language and
 * byte 2 TIKTOK_DEFAULT_LANGUAGE (each "", "en", "fr" or "es-ES"); the rest is the reply's body.
 * Properties checked: no crash or leak; exactly one of a result or an error. An error is a 502
 * with a non-empty message that the error answer writes as valid JSON. A result is a JSON object whose transcription_text is a
 * string, whose original_url is the video's, and whose detected_language, when the requested
 * language has a non-blank transcript, is that language. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jobs/kind.h"
#include "kinds/tiktok_transcription.h"
#include "log.h"
#include "net/fetch.h"
#include "util/growbuf.h"
#include "util/json_out.h"

#define VIDEO_URL "https://www.tiktok.com/@someone/video/7000000000000000000"

static const char *const languages[] = { "", "en", "fr", "es-ES" };

/* writes_as_json: s, written as the error answer writes it (json_out: a byte of invalid UTF-8,
 * which an excerpt of the reply may carry, as \ufffd), reads back as a JSON string. */
static bool writes_as_json(const char *s)
{
    struct growbuf b = { 0 };
    bool ok = json_out_string(&b, s, strlen(s)) == 0;
    json_t *back = ok ? json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL) : NULL;
    ok = json_is_string(back);
    json_decref(back);
    free(b.data);
    return ok;
}

/* has_text: the reply (read again) holds a non-blank transcript for lang. */
static bool has_text(const char *body, size_t len, const char *lang)
{
    json_t *doc = json_loadb(body, len, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, NULL);
    const json_t *text = json_object_get(json_object_get(doc, "transcripts"), lang);
    const char *s = json_string_value(text);
    size_t n = json_string_length(text);    /* 0 when not a string */
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = !isspace((unsigned char)s[i]);
    json_decref(doc);
    return found;
}

static void check_result(const struct job_result *out, const char *body, size_t len,
                         const char *lang)
{
    json_t *doc = json_loadb(out->data, out->data_len, 0, NULL);
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "transcription_text")))
        abort();
    const char *url = json_string_value(json_object_get(doc, "original_url"));
    if (!url || strcmp(url, VIDEO_URL) != 0)
        abort();
    const char *detected = json_string_value(json_object_get(doc, "detected_language"));
    if (*lang && has_text(body, len, lang) && (!detected || strcmp(detected, lang) != 0))
        abort();
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        log_init(LOG_ERROR, false);
        quiet = true;
    }
    if (size < 3)
        return 0;
    static const long statuses[] = { 200, 200, 200, 500, 404, 302 };
    char *body = malloc(size - 3 + 1);
    if (!body)
        return 0;
    memcpy(body, data + 3, size - 3);
    body[size - 3] = '\0';
    struct fetch_response resp = {
        .status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])],
        .body = body,
        .body_len = size - 3,
    };
    const char *lang = languages[data[1] % 4], *fallback = languages[data[2] % 4];
    struct job_result out = { 0 };
    int rc = tiktok_transcription_answer(&resp, VIDEO_URL, lang, fallback, &out);
    if (rc == 0) {
        if (out.err.http != 0 || !out.data || resp.status != 200)
            abort();
        check_result(&out, body, size - 3, lang);
    } else if (rc != -1 || out.err.http != 502 || out.data || !out.err.msg[0] ||
               !writes_as_json(out.err.msg)) {
        abort();
    }
    job_result_clear(&out);
    free(body);
    return 0;
}
