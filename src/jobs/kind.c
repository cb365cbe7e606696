/* kind.c - small helpers shared by every job kind (deadline arithmetic, result filling). */
#include "jobs/kind.h"

#include <stdlib.h>
#include <string.h>

#include "util/json_out.h"

long job_ctx_remaining_ms(const struct job_ctx *ctx)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(ctx->deadline.tv_sec - now.tv_sec) * 1000 +
              (ctx->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? ms : 0;
}

int job_result_set_json(struct job_result *out, const json_t *value)
{
    size_t len = 0;
    char *text = json_out_text(value, 0, &len);
    if (!text)
        return err_set(&out->err, 500, "out of memory while encoding the result");
    free(out->data);
    out->data = text;
    out->data_len = len;
    return 0;
}

int job_result_set_text(struct job_result *out, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return err_set(&out->err, 500, "out of memory");
    free(out->data);
    out->data = copy;
    out->data_len = strlen(copy);
    return 0;
}

void job_result_clear(struct job_result *r)
{
    free(r->data);
    free(r->next_cursor);
    memset(r, 0, sizeof *r);
}
