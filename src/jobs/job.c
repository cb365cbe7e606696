/* job.c - Job <-> JSON, strict on input, Go's member order on output.
 *
 * jansson does the JSON grammar (UTF-8 checked, duplicates refused, nothing after the value);
 * this file checks the members: their names, their types and their sizes. */
#include "jobs/job.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static const char *const job_members[] = {
    "type", "arguments", "quote", "worker_id", "target_worker", "timeout", "issued_at", NULL,
};


static int check_member_names(const json_t *root, struct err *e)
{
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)root, name, value) {
        bool known = false;
        for (const char *const *m = job_members; *m; m++)
            if (strcmp(name, *m) == 0)
                known = true;
        if (!known)
            return err_set(e, 400, "invalid job: unknown member \"%.*s\"", utf8_print_len(name, 64),
                           name);
    }
    return 0;
}

/* take_string copies member `name` of root into *out ("" when absent or null). */
static int take_string(const json_t *root, const char *name, size_t max, char **out, size_t *len,
                       struct err *e)
{
    const json_t *v = json_object_get(root, name);
    const char *s = "";
    size_t n = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return err_set(e, 400, "invalid job: \"%s\" must be a string", name);
        s = json_string_value(v);
        n = json_string_length(v);
        if (n > max)
            return err_set(e, 400, "invalid job: \"%s\" is longer than %zu bytes", name, max);
    }
    *out = strndup(s, n);
    if (!*out)
        return err_set(e, 500, "out of memory");
    if (len)
        *len = n;
    return 0;
}

static int take_int(const json_t *root, const char *name, int64_t *out, struct err *e)
{
    const json_t *v = json_object_get(root, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return err_set(e, 400, "invalid job: \"%s\" must be an integer", name);
    *out = json_integer_value(v);
    return 0;
}

int job_from_json(const json_t *root, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(root))
        return err_set(e, 400, "invalid job: expected a JSON object");
    if (check_member_names(root, e) < 0)
        return -1;
    const json_t *args = json_object_get(root, "arguments");
    if (args && !json_is_null(args) && !json_is_object(args))
        return err_set(e, 400, "invalid job: \"arguments\" must be an object");
    if (take_string(root, "type", JOB_MAX_STRING, &out->type, NULL, e) < 0 ||
        take_string(root, "quote", JOB_MAX_QUOTE, &out->quote, &out->quote_len, e) < 0 ||
        take_string(root, "worker_id", JOB_MAX_STRING, &out->worker_id, NULL, e) < 0 ||
        take_string(root, "target_worker", JOB_MAX_STRING, &out->target_worker, NULL, e) < 0 ||
        take_int(root, "timeout", &out->timeout_ns, e) < 0 ||
        take_int(root, "issued_at", &out->issued_at, e) < 0)
        goto fail;
    if (out->issued_at < 0) {
        err_set(e, 400, "invalid job: \"issued_at\" must not be negative");
        goto fail;
    }
    out->arguments = (args && json_is_object(args)) ? json_deep_copy(args) : json_object();
    if (!out->arguments) {
        err_set(e, 500, "out of memory");
        goto fail;
    }
    return 0;
fail:
    job_clear(out);
    return -1;
}

int job_parse(const char *text, size_t len, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(e, 400, "invalid job JSON: %.*s at offset %d",
                       utf8_print_len(jerr.text, sizeof jerr.text), jerr.text, jerr.position);
    int rc = job_from_json(root, out, e);
    json_decref(root);
    return rc;
}

char *job_serialize(const struct job *j, size_t *len)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "type", json_string(j->type ? j->type : ""));
    bad |= json_object_set_new(o, "arguments",
                               j->arguments ? json_incref(j->arguments) : json_object());
    bad |= json_object_set_new(o, "quote", json_stringn(j->quote ? j->quote : "", j->quote_len));
    bad |= json_object_set_new(o, "worker_id", json_string(j->worker_id ? j->worker_id : ""));
    bad |= json_object_set_new(o, "target_worker",
                               json_string(j->target_worker ? j->target_worker : ""));
    bad |= json_object_set_new(o, "timeout", json_integer(j->timeout_ns));
    if (j->issued_at)
        bad |= json_object_set_new(o, "issued_at", json_integer(j->issued_at));
    char *text = NULL;
    if (!bad) {
        text = json_dumps(o, JSON_COMPACT);
        if (text && len)
            *len = strlen(text);
    }
    json_decref(o);
    return text;
}

void job_clear(struct job *j)
{
    free(j->type);
    json_decref(j->arguments);
    free(j->quote);
    free(j->worker_id);
    free(j->target_worker);
    memset(j, 0, sizeof *j);
}
