/* fuzz_job.c - libFuzzer target for the Job JSON parser (jobs/job.c).
 *
 * The input is the job text as it comes out of a sealed signature. Properties: no crash or
 * leak; a refusal is 400 with a message that becomes a valid JSON error (invalid UTF-8 in it
 * written as \ufffd, as Go writes it); a job that parses
 * serialises, the serialisation parses to the same job, and serialising that again gives the
 * same bytes (the round trip is stable). (The job text writes reals as Go does, so an integral
 * real in the arguments, 2.0, comes back as the integer 2: numbers compare by value.)
 * job_parse's fast path and the full parser (job_parse_tree: jansson, then job_from_json) agree
 * on every input: same outcome, same job or same error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/job.h"
#include "util/json_out.h"

static int same_string(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* same_value: json_equal, except that an integer and a real are equal when the integer converts
 * to exactly that real. */
static int same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b) && json_typeof(a) != json_typeof(b)) {
        const json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
        return (double)json_integer_value(i) == json_real_value(r);
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach((json_t *)a, k, klen, v) {
            json_t *w = json_object_getn(b, k, klen);
            if (!w || !same_value(v, w))
                return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

static void check_same_job(const struct job *a, const struct job *b)
{
    if (!same_string(a->type, b->type) || !same_string(a->worker_id, b->worker_id) ||
        !same_string(a->target_worker, b->target_worker) || a->quote_len != b->quote_len ||
        memcmp(a->quote, b->quote, a->quote_len) != 0 || a->timeout_ns != b->timeout_ns ||
        a->issued_at != b->issued_at || !same_value(a->arguments, b->arguments))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job job;
    struct err e = { 0 };
    int rc = job_parse((const char *)data, size, &job, &e);
    struct job full;
    struct err fe = { 0 };
    int frc = job_parse_tree((const char *)data, size, &full, &fe);
    if (rc != frc || (rc < 0 && strcmp(e.msg, fe.msg) != 0))
        abort();        /* the fast path changed an outcome */
    if (rc == 0)
        check_same_job(&job, &full);
    job_clear(&full);
    if (rc < 0) {
        /* the message goes out as http_reply_error writes it: JSON text in which a byte of
         * invalid UTF-8 becomes \ufffd, so the answer is always valid UTF-8 JSON */
        json_t *doc = json_object();
        json_object_set_new_nocheck(doc, "error", json_stringn_nocheck(e.msg, strlen(e.msg)));
        size_t n = 0;
        char *text = json_out_text(doc, 0, &n);
        json_t *back = text ? json_loadb(text, n, 0, NULL) : NULL;
        if (e.http != 400 || e.msg[0] == '\0' || !back)
            abort();
        json_decref(back);
        free(text);
        json_decref(doc);
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
