/* tiktok.c - the `tiktok` job kind: dispatch on arguments.type (tiktok-reddit-apify.md 1.1).
 *
 * Dispatch table (arguments.type, matched lower-cased; the key itself matches case-insensitively):
 *
 *   absent, "" or "transcription"          tiktok_transcription.c   always offered
 *   "searchbyquery", "searchbytrending"    tiktok_search.c          offered when apify_available(cfg)
 *   anything else                          400 at /job/generate and /job/add
 *
 * A type that is not offered (a search type without a usable Apify key) is refused like an unknown
 * one, so what the capability report lists is exactly what is accepted. To add an operation: one
 * row in `operations` below plus its validate/run pair. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "kinds/go_args.h"
#include "kinds/tiktok_search.h"
#include "kinds/tiktok_transcription.h"
#include "util/utf8.h"

#define ARGS_PREFIX "Failed to unmarshal job arguments: "
#define TYPE_MAX 32

enum tiktok_op { OP_TRANSCRIPTION, OP_SEARCH };

static const struct {
    const char *type;
    enum tiktok_op op;
} operations[] = {
    { "", OP_TRANSCRIPTION },
    { "transcription", OP_TRANSCRIPTION },
    { "searchbyquery", OP_SEARCH },
    { "searchbytrending", OP_SEARCH },
};

static const char *const transcription_only[] = { "transcription", NULL };
static const char *const all_operations[] = { "transcription", "searchbyquery", "searchbytrending",
                                              NULL };

static const char *const *tiktok_capabilities(const struct config *cfg)
{
    return tiktok_search_available(cfg) ? all_operations : transcription_only;
}

/* resolve finds the operation of args under cfg and writes the lower-cased type to type. */
static int resolve(const struct config *cfg, const json_t *args, char type[TYPE_MAX],
                   enum tiktok_op *op, struct err *e)
{
    const char *given = "";
    char msg[GO_ARGS_MSG] = "";
    if (go_arg_string(args, "type", &given, msg) < 0)
        return err_set(e, 400, ARGS_PREFIX "%s", msg);
    size_t n = strlen(given);
    for (size_t i = 0; i < n && i < TYPE_MAX - 1; i++)
        type[i] = (char)(given[i] >= 'A' && given[i] <= 'Z' ? given[i] - 'A' + 'a' : given[i]);
    type[n < TYPE_MAX - 1 ? n : TYPE_MAX - 1] = '\0';
    for (size_t i = 0; n < TYPE_MAX && i < sizeof operations / sizeof operations[0]; i++) {
        if (strcmp(operations[i].type, type) != 0)
            continue;
        *op = operations[i].op;
        if (*op == OP_SEARCH && !tiktok_search_available(cfg))
            return err_set(e, 400, ARGS_PREFIX "tiktok type %s is not available on this worker "
                           "(it needs a valid APIFY_API_KEY)", type);
        return 0;
    }
    return err_set(e, 400, ARGS_PREFIX "unknown tiktok type: %.*s", utf8_print_len(given, 64),
                   given);
}

static int tiktok_validate(const struct config *cfg, const json_t *args, struct err *e)
{
    char type[TYPE_MAX];
    enum tiktok_op op;
    if (resolve(cfg, args, type, &op, e) < 0)
        return -1;
    return op == OP_SEARCH ? tiktok_search_validate(type, args, e)
                           : tiktok_transcription_validate(args, e);
}

static int tiktok_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    char type[TYPE_MAX];
    enum tiktok_op op;
    if (resolve(ctx->cfg, job->arguments, type, &op, &out->err) < 0)
        return -1;
    return op == OP_SEARCH ? tiktok_search_run(type, job, ctx, out)
                           : tiktok_transcription_run(job, ctx, out);
}

const struct job_kind tiktok_kind = {
    .type = "tiktok",
    .capabilities = all_operations,
    .available = NULL,
    .validate = NULL,
    .run = tiktok_run,
    .capabilities_for = tiktok_capabilities,
    .validate_for = tiktok_validate,
};
