/* telemetry.c - the `telemetry` job kind: the stats document of jobs-and-capabilities.md 3.7.
 *
 * Always offered, takes no arguments (whatever is sent is ignored, as in Go), never fails. */
#include "config.h"
#include "jobs/job.h"
#include "jobs/kind.h"
#include "jobs/stats.h"

#ifndef TW_VERSION
#define TW_VERSION ""
#endif

static const char *const telemetry_capabilities[] = { "telemetry", NULL };

static int telemetry_run(const struct job *job, struct job_ctx *ctx, struct job_result *out)
{
    (void)job;
    json_t *doc = stats_document(ctx->stats, ctx->capabilities, TW_VERSION);
    if (!doc)
        return err_set(&out->err, 500, "out of memory while building the stats document");
    int rc = job_result_set_json(out, doc);
    json_decref(doc);
    return rc;
}

const struct job_kind telemetry_kind = {
    .type = "telemetry",
    .capabilities = telemetry_capabilities,
    .available = NULL,
    .validate = NULL,
    .run = telemetry_run,
};
