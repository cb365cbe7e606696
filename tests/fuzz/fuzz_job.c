/* fuzz_job.c - libFuzzer target for the Job JSON parser (jobs/job.c).
 *
 * The input is the job text as it comes out of a sealed signature. Properties: no crash or
 * leak; a refusal is 400 with a UTF-8 message (it becomes a JSON error); a job that parses
 * serialises, the serialisation parses to the same job, and serialising that again gives the
 * same bytes (the round trip is stable). job_parse's fast path and the full parser (jansson, then
 * job_from_json) agree on every input: same outcome, same job or same error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/job.h"

static int same_string(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void check_same_job(const struct job *a, const struct job *b)
{
    if (!same_string(a->type, b->type) || !same_string(a->worker_id, b->worker_id) ||
        !same_string(a->target_worker, b->target_worker) || a->quote_len != b->quote_len ||
        memcmp(a->quote, b->quote, a->quote_len) != 0 || a->timeout_ns != b->timeout_ns ||
        a->issued_at != b->issued_at || !json_equal(a->arguments, b->arguments))
        abort();
}

/* full_parse is job_parse without its fast path (same jansson flags: \u0000 is parsed, and
 * job_from_json keeps it to the quote). */
static int full_parse(const uint8_t *data, size_t size, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                              NULL);
    if (!root)
        return -2;      /* job_parse words this error from jansson's text; not compared */
    int rc = job_from_json(root, out, e);
    json_decref(root);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job job;
    struct err e = { 0 };
    int rc = job_parse((const char *)data, size, &job, &e);
    struct job full;
    struct err fe = { 0 };
    int frc = full_parse(data, size, &full, &fe);
    if (frc != -2 && (rc != frc || (rc < 0 && strcmp(e.msg, fe.msg) != 0)))
        abort();        /* the fast path changed an outcome */
    if (frc == -2 && rc == 0)
        abort();        /* the fast path accepted what jansson refuses */
    if (rc == 0)
        check_same_job(&job, &full);
    job_clear(&full);
    if (rc < 0) {
        json_t *reply = json_string(e.msg);     /* the message goes out as JSON: UTF-8 */
        if (e.http != 400 || e.msg[0] == '\0' || !reply)
            abort();
        json_decref(reply);
        return 0;
    }
    size_t len = 0;
    char *text = job_serialize(&job, &len);
    if (!text || len != strlen(text))
        abort();
    struct job again;
    if (job_parse(text, len, &again, &e) < 0)
        abort();        /* our own serialisation must parse */
    check_same_job(&job, &again);
    size_t len2 = 0;
    char *text2 = job_serialize(&again, &len2);
    if (!text2 || len2 != len || memcmp(text, text2, len) != 0)
        abort();        /* serialise(parse(serialise(j))) == serialise(j) */
    free(text2);
    free(text);
    job_clear(&again);
    job_clear(&job);
    return 0;
}
