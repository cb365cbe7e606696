/* telemetry.c - the `telemetry` job kind: the stats document of jobs-and-capabilities.md 3.7.
 *
 * Always offered, takes no arguments (whatever is sent is ignored, as in Go), never fails. */
#include <stdlib.h>

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
    size_t len = 0;
    char *text = stats_document_text(ctx->stats, ctx->capabilities_text, TW_VERSION, &len);
    if (!text)
        return err_set(&out->err, 500, "out of memory while building the stats document");
    free(out->data);
    out->data = text;
    out->data_len = len;
    return 0;
}

const struct job_kind telemetry_kind = {
    .type = "telemetry",
    .capabilities = telemetry_capabilities,
    .available = NULL,
    .validate = NULL,
    .run = telemetry_run,
    .instant = true,    /* a document of counters read in memory */
};
