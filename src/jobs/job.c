/* job.c - Job <-> JSON, strict on input, Go's member order on output.
 *
 * jansson does the JSON grammar (UTF-8 checked, duplicates refused, nothing after the value);
 * this file checks the members: their names, their types and their sizes. */
#include "jobs/job.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_bigint.h"
#include "util/json_cost.h"
#include "util/json_out.h"
#include "util/memdup.h"
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

/* take_string copies member `name` of root into *out ("" when absent or null), NUL-terminated.
 * Only the quote (len != NULL) may hold NUL bytes: Go writes its raw digest bytes there, so a
 * 0x00 arrives as \u0000 and is one of the bytes that salt the result. */
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
        if (!len && memchr(s, '\0', n))
            return err_set(e, 400, "invalid job: \"%s\" must not contain NUL characters", name);
    }
    *out = memdup_z(s, n);
    if (!*out)
        return err_set(e, 500, "out of memory");
    if (len)
        *len = n;
    return 0;
}

/* What the arguments hold, counted by measure_args. */
struct args_measure {
    size_t values;      /* JSON values inside the arguments object */
    size_t bytes;       /* bytes of member names and string values */
    bool nul;           /* a string value holds a NUL byte */
    bool too_deep;      /* arrays and objects nest deeper than JOB_MAX_ARGUMENT_DEPTH */
};

/* measure_args adds what v holds to *m (v at nesting level depth: 0 for the arguments object
 * itself, which is not counted as a value), and stops early (false) as soon as a string holds a
 * NUL or a bound of job.h is passed. The recursion stops at JOB_MAX_ARGUMENT_DEPTH. */
static bool measure_args(const json_t *v, int depth, struct args_measure *m)
{
    if (depth > 0 && ++m->values > JOB_MAX_ARGUMENT_VALUES)
        return false;
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        m->bytes += n;
        m->nul = memchr(json_string_value(v), '\0', n) != NULL;
        return !m->nul && m->bytes <= JOB_MAX_ARGUMENT_BYTES;
    }
    if ((json_is_array(v) || json_is_object(v)) && depth > JOB_MAX_ARGUMENT_DEPTH) {
        m->too_deep = true;
        return false;
    }
    size_t i, key_len;
    const char *key;
    json_t *item;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if (!measure_args(item, depth + 1, m))
                return false;
    } else if (json_is_object(v)) {
        json_object_keylen_foreach((json_t *)v, key, key_len, item) {
            m->bytes += key_len;
            if (m->bytes > JOB_MAX_ARGUMENT_BYTES || !measure_args(item, depth + 1, m))
                return false;
        }
    }
    return true;
}

/* check_args refuses arguments whose strings hold a NUL or that pass a bound of job.h. */
static int check_args(const json_t *args, struct err *e)
{
    struct args_measure m = { 0 };
    if (measure_args(args, 0, &m))
        return 0;
    if (m.nul)
        return err_set(e, 400, "invalid job: \"arguments\" must not contain NUL characters");
    if (m.too_deep)
        return err_set(e, 400, "invalid job: \"arguments\" nests arrays and objects deeper than "
                       "%d levels", JOB_MAX_ARGUMENT_DEPTH);
    if (m.values > JOB_MAX_ARGUMENT_VALUES)
        return err_set(e, 400, "invalid job: \"arguments\" holds more than %d values",
                       JOB_MAX_ARGUMENT_VALUES);
    return err_set(e, 400, "invalid job: \"arguments\" holds more than %d bytes of names and "
                   "strings", JOB_MAX_ARGUMENT_BYTES);
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
    if (args && json_is_object(args) && check_args(args, e) < 0)
        return -1;
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
    out->arguments_null = !args || json_is_null(args);
    if (!out->arguments) {
        err_set(e, 500, "out of memory");
        goto fail;
    }
    return 0;
fail:
    job_clear(out);
    return -1;
}

/* ---- fast path for job_parse -----------------------------------------------------------------
 *
 * The texts this worker opens are nearly always ones a worker wrote: compact, plain strings
 * (but for the \u003c \u003e \u0026 Go writes for '<' '>' '&', which the nonce alphabet holds),
 * small integers. fast_parse reads exactly that shape, with the arguments object (found by a
 * small skipper) handed to jansson alone, or null (as written for none), and gives up on
 * anything else - whitespace, other escapes, other nulls, reals, duplicates, unknown members,
 * sizes over the limits, deep nesting - so that the full parser below answers those with its own
 * errors. What it accepts, the full parser accepts with the same outcome. */

enum { FAST_MAX_DEPTH = 64 };

/* The character an HTML-safe escape at p (6 bytes there) stands for, or 0 for any other. */
static char fast_html_escape(const char *p)
{
    if (memcmp(p, "\\u00", 4) != 0)
        return 0;
    if (p[4] == '3' && (p[5] == 'c' || p[5] == 'e'))
        return p[5] == 'c' ? '<' : '>';
    return p[4] == '2' && p[5] == '6' ? '&' : 0;
}

/* A plain string value at p (after its opening quote): no escapes but the HTML-safe ones, no
 * control characters, valid UTF-8, at most max bytes once unescaped (*len). Returns its closing
 * quote or NULL. */
static const char *fast_string(const char *p, const char *end, size_t max, size_t *len)
{
    const char *start = p;
    size_t escapes = 0;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (end - p < 6 || !fast_html_escape(p))
                return NULL;
            p += 6;
            escapes++;
            continue;
        }
        p++;
    }
    if (p == end)
        return NULL;
    *len = (size_t)(p - start) - 5 * escapes;
    if (*len > max || !json_out_utf8_valid(start, (size_t)(p - start)))
        return NULL;
    return p;
}

/* A copy of the fast string s (closing quote at close, len bytes once unescaped), unescaped. */
static char *fast_string_dup(const char *s, const char *close, size_t len)
{
    if (!s)
        return strdup("");
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    while (s < close) {
        const char *esc = memchr(s, '\\', (size_t)(close - s));
        size_t run = (size_t)((esc ? esc : close) - s);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (esc) {
            *o++ = fast_html_escape(esc);
            s += 6;
        }
    }
    *o = '\0';
    return out;
}

/* A JSON integer of at most 18 digits at p; returns the end or NULL. */
static const char *fast_int(const char *p, const char *end, int64_t *out)
{
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    const char *digits = p;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 18)
        v = v * 10 + (*p++ - '0');
    if (p == digits || (p < end && *p >= '0' && *p <= '9') || (*digits == '0' && p - digits > 1))
        return NULL;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    *out = neg ? -v : v;
    return p;
}

/* The end of the object starting at p ('{'), skipping strings; NULL when unbalanced or too deep. */
static const char *fast_skip_object(const char *p, const char *end)
{
    int depth = 0;
    for (; p < end; p++) {
        char c = *p;
        if (c == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (p >= end)
                return NULL;
        } else if (c == '{' || c == '[') {
            if (++depth > FAST_MAX_DEPTH)
                return NULL;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return c == '}' ? p + 1 : NULL;
        }
    }
    return NULL;
}

static int member_index(const char *name, size_t len)
{
    for (int i = 0; job_members[i]; i++)
        if (strlen(job_members[i]) == len && memcmp(job_members[i], name, len) == 0)
            return i;
    return -1;
}

static bool fast_parse(const char *text, size_t len, struct job *out)
{
    const char *p = text, *end = text + len;
    const char *str[7] = { 0 }, *str_end[7] = { 0 };
    size_t str_len[7] = { 0 };
    int64_t num[7] = { 0 };
    json_t *args = NULL;
    unsigned seen = 0;
    if (p == end || *p++ != '{')
        return false;
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p == end || *p++ != '"')
                goto fail;
            const char *name = p;
            while (p < end && *p != '"' && *p != '\\')
                p++;
            if (p == end || *p != '"')
                goto fail;
            int m = member_index(name, (size_t)(p - name));
            if (m < 0 || (seen & 1u << m))
                goto fail;
            seen |= 1u << m;
            p++;
            if (p == end || *p++ != ':' || p == end)
                goto fail;
            if (m == 1 && end - p >= 4 && memcmp(p, "null", 4) == 0) {
                p += 4;                             /* arguments: null, as Go writes none */
            } else if (m == 1) {                    /* arguments */
                const char *obj_end = *p == '{' ? fast_skip_object(p, end) : NULL;
                struct err ignored;
                if (!obj_end || !(args = json_loadb(p, (size_t)(obj_end - p),
                                                    JSON_REJECT_DUPLICATES, NULL)) ||
                    check_args(args, &ignored) < 0)
                    goto fail;
                p = obj_end;
            } else if (m == 5 || m == 6) {          /* timeout, issued_at */
                if (!(p = fast_int(p, end, &num[m])) || (m == 6 && num[m] < 0))
                    goto fail;
            } else {                                /* the strings */
                size_t max = m == 2 ? JOB_MAX_QUOTE : JOB_MAX_STRING;
                if (*p++ != '"')
                    goto fail;
                const char *close = fast_string(p, end, max, &str_len[m]);
                if (!close)
                    goto fail;
                str[m] = p;
                str_end[m] = close;
                p = close + 1;
            }
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            goto fail;
        }
    }
    if (p != end)
        goto fail;
    out->type = fast_string_dup(str[0], str_end[0], str_len[0]);
    out->quote = fast_string_dup(str[2], str_end[2], str_len[2]);
    out->quote_len = str_len[2];
    out->worker_id = fast_string_dup(str[3], str_end[3], str_len[3]);
    out->target_worker = fast_string_dup(str[4], str_end[4], str_len[4]);
    out->timeout_ns = num[5];
    out->issued_at = num[6];
    out->arguments = args ? args : json_object();
    out->arguments_null = !args;
    if (!out->type || !out->quote || !out->worker_id || !out->target_worker || !out->arguments) {
        job_clear(out);
        return false;       /* the full parser then runs into the same shortage, or succeeds */
    }
    return true;
fail:
    json_decref(args);
    return false;
}

int job_check_cost(const char *text, size_t len, struct err *e)
{
    size_t cost = json_cost_estimate(text, len);
    if (cost <= JOB_MAX_DECODE_COST)
        return 0;
    return err_set(e, 400, "invalid job: the job text would take about %zu MiB to decode (more "
                   "than %u MiB allowed)", cost >> 20, JOB_MAX_DECODE_COST >> 20);
}

static int parse_tree(const char *text, size_t len, struct job *out, struct err *e);

int job_parse(const char *text, size_t len, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (job_check_cost(text, len, e) < 0)
        return -1;
    if (fast_parse(text, len, out))
        return 0;
    return parse_tree(text, len, out, e);
}

int job_parse_tree(const char *text, size_t len, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (job_check_cost(text, len, e) < 0)
        return -1;
    return parse_tree(text, len, out, e);
}

static int parse_tree(const char *text, size_t len, struct job *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    /* \u0000 is allowed by the grammar here; job_from_json keeps it to the quote. */
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    json_t *root = json_loadb(text, len, flags, &jerr);
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
        size_t copy_len = 0;
        char *copy = json_big_ints_as_reals(text, len, &copy_len);
        if (copy)
            root = json_loadb(copy, copy_len, flags, NULL);
        free(copy);
    }
    if (!root)
        return err_set(e, 400, "invalid job JSON: %.*s at offset %d",
                       utf8_print_len(jerr.text, sizeof jerr.text), jerr.text, jerr.position);
    int rc = job_from_json(root, out, e);
    json_decref(root);
    return rc;
}

/* ---- output: the members in Go's order, written as Go writes them (util/json_out.h) ---------- */

static int put_member_string(struct growbuf *b, const char *prefix, const char *s, size_t len)
{
    return json_out_raw(b, prefix, strlen(prefix)) | json_out_string(b, s ? s : "", s ? len : 0);
}

char *job_serialize(const struct job *j, size_t *len)
{
    struct growbuf b = { 0 };
    int bad = put_member_string(&b, "{\"type\":", j->type, j->type ? strlen(j->type) : 0);
    bad |= json_out_raw(&b, ",\"arguments\":", 13);
    if (j->arguments_null) {
        bad |= json_out_raw(&b, "null", 4);     /* Go's nil map: no arguments, or null, sent */
    } else if (!j->arguments ||
               (json_is_object(j->arguments) && json_object_size(j->arguments) == 0)) {
        bad |= json_out_raw(&b, "{}", 2);
    } else {
        /* Go holds the arguments as a map[string]interface{}: its members come out sorted. An
         * integral real beyond int64 stays in a form job_parse (jansson) reads back. */
        bad |= json_out_value(&b, j->arguments, JSON_OUT_SORT_KEYS | JSON_OUT_READABLE_REALS);
    }
    bad |= put_member_string(&b, ",\"quote\":", j->quote, j->quote_len);
    bad |= put_member_string(&b, ",\"worker_id\":", j->worker_id,
                             j->worker_id ? strlen(j->worker_id) : 0);
    bad |= put_member_string(&b, ",\"target_worker\":", j->target_worker,
                             j->target_worker ? strlen(j->target_worker) : 0);
    bad |= json_out_raw(&b, ",\"timeout\":", 11) | json_out_int(&b, j->timeout_ns);
    if (j->issued_at)
        bad |= json_out_raw(&b, ",\"issued_at\":", 13) | json_out_int(&b, j->issued_at);
    bad |= json_out_raw(&b, "}", 1);
    if (bad) {
        free(b.data);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
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
