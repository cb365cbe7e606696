/* fuzz_kind_args.c - libFuzzer target for the argument validation of the job kinds: the
 * `arguments` object a client sends to /job/generate and /job/add (web, tiktok, reddit,
 * twitter-apify, and the Twitter family's record).
 *
 * Input layout: byte 0 picks the job type, the rest is the arguments as JSON text; anything but
 * an object is skipped (the job parser refuses it before a kind sees it). Properties: no crash or
 * leak; a refusal is 400 and its message is valid UTF-8, a character cut by the message size
 * dropped whole (it becomes {"error": ...}); the same arguments give the same outcome twice. The
 * configuration has an Apify key, so the Apify-backed operations are validated too. The Twitter
 * kinds' offers are decided by start-up probes (network), so their shared argument record is
 * fuzzed through twitter_args_parse directly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "jobs/kind.h"
#include "kinds/twitter_backend.h"
#include "util/json_out.h"

extern const struct job_kind web_kind;
extern const struct job_kind tiktok_kind;
extern const struct job_kind reddit_kind;
extern const struct job_kind twitter_apify_kind;

enum target { WEB, TIKTOK, REDDIT, TWITTER_APIFY, TWITTER, TWITTER_API, TARGET_COUNT };

static int validate(enum target t, const struct config *cfg, const json_t *args, struct err *e)
{
    struct twitter_request req;
    switch (t) {
    case WEB: return web_kind.validate(args, e);
    case TIKTOK: return tiktok_kind.validate_for(cfg, args, e);
    case REDDIT: return reddit_kind.validate(args, e);
    case TWITTER_APIFY: return twitter_apify_kind.validate(args, e);
    case TWITTER: return twitter_args_parse(args, "twitter", &req, e);
    default: return twitter_args_parse(args, "twitter-api", &req, e);
    }
}

/* check_refusal: 400 with a non-empty message of valid UTF-8: the arguments come from JSON (valid
 * UTF-8), quotes of them are cut on character boundaries (utf8_print_len) and a message cut by
 * its buffer loses the partial character at its end (err_set). */
static void check_refusal(const struct err *e)
{
    size_t n = strnlen(e->msg, sizeof e->msg);
    if (e->http != 400 || n == 0 || n == sizeof e->msg || !json_out_utf8_valid(e->msg, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum target t = (enum target)(data[0] % TARGET_COUNT);
    json_t *args = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        return 0;
    }
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.apify_api_key = (char *)"apify-key";
    struct err first = { 0 }, second = { 0 };
    int rc1 = validate(t, &cfg, args, &first);
    int rc2 = validate(t, &cfg, args, &second);
    if (rc1 != rc2 || (rc1 < 0 && (first.http != second.http || strcmp(first.msg, second.msg))))
        abort();
    if (rc1 < 0)
        check_refusal(&first);
    json_decref(args);
    return 0;
}
