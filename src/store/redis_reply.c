/* redis_reply.c - STORE_URL parsing, key names and reply checks of the Redis backend (see
 * redis_reply.h). */
#include "store/redis_reply.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/uuid_util.h"

/* ---- STORE_URL ---------------------------------------------------------------------------- */

/* copy_part copies s[0..n) into out (outlen) with percent-decoding; -1 when it does not fit or a
 * %XX is malformed. */
static int copy_part(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            char hex[3] = { s[i + 1], s[i + 2], 0 };
            char *end = NULL;
            long v = strtol(hex, &end, 16);
            if (end != hex + 2 || v <= 0)
                return -1;
            c = (char)v;
            i += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int parse_number(const char *s, size_t n, long min, long max, long *out)
{
    if (n == 0 || n > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "rediss://", 9) == 0) {
        snprintf(err, errlen, "STORE_URL: rediss:// (TLS) is not supported by this build (hiredis "
                 "0.14 has no TLS): put a TLS-terminating proxy such as stunnel on loopback and use "
                 "redis://127.0.0.1:PORT");
        return -1;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "STORE_URL: expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
        return -1;
    }
    const char *p = url + 8;
    const char *end = p + strlen(p);
    const char *slash = strchr(p, '/');
    const char *auth_end = NULL;
    for (const char *q = p; q < (slash ? slash : end); q++)
        if (*q == '@')
            auth_end = q;   /* the last '@' before the path: passwords may hold '@' as %40 */
    if (auth_end) {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        if (!colon) {
            snprintf(err, errlen, "STORE_URL: credentials must be :PASSWORD@ or USER:PASSWORD@");
            return -1;
        }
        if (copy_part(p, (size_t)(colon - p), out->user, sizeof out->user) < 0 ||
            copy_part(colon + 1, (size_t)(auth_end - colon - 1), out->password,
                      sizeof out->password) < 0) {
            snprintf(err, errlen, "STORE_URL: user or password too long or badly %%-encoded");
            return -1;
        }
        p = auth_end + 1;
    }
    const char *host_end = slash ? slash : end;
    const char *port = NULL;
    if (*p == '[') {
        snprintf(err, errlen, "STORE_URL: IPv6 literal hosts are not supported; use a name");
        return -1;
    }
    port = memchr(p, ':', (size_t)(host_end - p));
    size_t host_len = (size_t)((port ? port : host_end) - p);
    if (host_len == 0 || host_len >= sizeof out->host) {
        snprintf(err, errlen, "STORE_URL: missing or too long host");
        return -1;
    }
    memcpy(out->host, p, host_len);
    out->host[host_len] = '\0';
    for (size_t i = 0; i < host_len; i++)
        if (out->host[i] <= ' ' || out->host[i] == '@' || (unsigned char)out->host[i] >= 0x7f) {
            snprintf(err, errlen, "STORE_URL: invalid character in the host");
            return -1;
        }
    long v;
    if (port) {
        if (parse_number(port + 1, (size_t)(host_end - port - 1), 1, 65535, &v) < 0) {
            snprintf(err, errlen, "STORE_URL: the port must be a number from 1 to 65535");
            return -1;
        }
        out->port = (int)v;
    }
    if (slash && slash + 1 < end) {
        if (parse_number(slash + 1, (size_t)(end - slash - 1), 0, 1000000, &v) < 0) {
            snprintf(err, errlen, "STORE_URL: the database after '/' must be a number");
            return -1;
        }
        out->db = (int)v;
    }
    return 0;
}

/* ---- key names ---------------------------------------------------------------------------- */

int redis_key(char *out, size_t outlen, const char *prefix, const char *kind, const char *id)
{
    int n = snprintf(out, outlen, "%s%s%s", prefix, kind, id ? id : "");
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool redis_prefix_valid(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > REDIS_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (prefix[i] <= ' ' || (unsigned char)prefix[i] >= 0x7f)
            return false;
    return true;
}

/* ---- replies ------------------------------------------------------------------------------ */

bool redis_reply_ok(const redisReply *r, int type)
{
    return r && r->type != REDIS_REPLY_ERROR && (type < 0 || r->type == type);
}

bool redis_entry_id_valid(const char *id, size_t len)
{
    if (!id || len < 3 || len > REDIS_ENTRY_ID_MAX)
        return false;
    size_t dash = 0, digits_before = 0, digits_after = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] == '-') {
            if (++dash > 1)
                return false;
        } else if (id[i] >= '0' && id[i] <= '9') {
            if (dash)
                digits_after++;
            else
                digits_before++;
        } else {
            return false;
        }
    }
    return dash == 1 && digits_before > 0 && digits_after > 0;
}

/* copy_uid copies v to e->uid when it is a UUID. Returns false (e->uid untouched) when not. */
static bool copy_uid(const redisReply *v, struct redis_entry *e)
{
    if (!v || v->type != REDIS_REPLY_STRING || v->len != REDIS_UID_LEN ||
        memchr(v->str, '\0', REDIS_UID_LEN))
        return false;
    char text[REDIS_UID_LEN + 1];
    memcpy(text, v->str, REDIS_UID_LEN);
    text[REDIS_UID_LEN] = '\0';
    if (!uuid_text_valid(text))
        return false;
    memcpy(e->uid, text, sizeof text);
    return true;
}

static void parse_fields(const redisReply *fields, struct redis_entry *e, size_t max_job)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0)
        return;
    const redisReply *uid = NULL, *job = NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (!k || !v || k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return;
        if (k->len == 3 && memcmp(k->str, "uid", 3) == 0)
            uid = v;
        else if (k->len == 3 && memcmp(k->str, "job", 3) == 0)
            job = v;
    }
    if (!uid || !job || job->len == 0 || (size_t)job->len > max_job || !copy_uid(uid, e))
        return;
    e->job = job->str;
    e->job_len = (size_t)job->len;
}

/* parse_oversize reads [id, nil, bytes, fields, uid] (the id already read): false when malformed. */
static bool parse_oversize(const redisReply *entry, struct redis_entry *e)
{
    const redisReply *const *x = (const redisReply *const *)entry->element;
    if (!x[1] || x[1]->type != REDIS_REPLY_NIL || !x[2] || x[2]->type != REDIS_REPLY_INTEGER ||
        x[2]->integer < 0 || !x[3] || x[3]->type != REDIS_REPLY_INTEGER || x[3]->integer < 0 ||
        !x[4] || x[4]->type != REDIS_REPLY_STRING)
        return false;
    e->oversize = true;
    e->stored_bytes = x[2]->integer;
    e->stored_fields = x[3]->integer;
    copy_uid(x[4], e);   /* "" when it is not a UUID: the job stays unknown */
    return true;
}

/* parse_list reads a list of stream entries into out (at most max). oversize_allowed: an entry
 * may be parse_oversize's shape; nil_skipped: a nil entry is left out instead of malformed.
 * Returns the entries read, or -1 with err. */
static int parse_list(const redisReply *list, struct redis_entry *out, size_t max, size_t max_job,
                      bool oversize_allowed, bool nil_skipped, char *err, size_t errlen)
{
    if (!list || list->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "unexpected reply: an entry list is not an array");
        return -1;
    }
    if (list->elements > max) {
        snprintf(err, errlen, "unexpected reply: %zu entries, asked for at most %zu",
                 (size_t)list->elements, max);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *entry = list->element[i];
        if (nil_skipped && entry && entry->type == REDIS_REPLY_NIL)
            continue;
        struct redis_entry *e = &out[n++];
        memset(e, 0, sizeof *e);
        bool oversize = oversize_allowed && entry && entry->type == REDIS_REPLY_ARRAY &&
                        entry->elements == 5;
        if (!entry || entry->type != REDIS_REPLY_ARRAY || (entry->elements != 2 && !oversize) ||
            !entry->element[0] || entry->element[0]->type != REDIS_REPLY_STRING ||
            !redis_entry_id_valid(entry->element[0]->str, (size_t)entry->element[0]->len) ||
            (oversize && !parse_oversize(entry, e))) {
            snprintf(err, errlen, "unexpected reply: malformed stream entry");
            return -1;
        }
        memcpy(e->id, entry->element[0]->str, (size_t)entry->element[0]->len);
        e->id[entry->element[0]->len] = '\0';
        if (!oversize)
            parse_fields(entry->element[1], e, max_job);
    }
    return (int)n;
}

int redis_parse_entries(const redisReply *list, struct redis_entry *out, size_t max,
                        size_t max_job, char *err, size_t errlen)
{
    return parse_list(list, out, max, max_job, false, false, err, errlen);
}

int redis_parse_reread(const redisReply *list, struct redis_entry *out, size_t max,
                       size_t max_job, char *err, size_t errlen)
{
    return parse_list(list, out, max, max_job, true, false, err, errlen);
}

int redis_parse_read(const redisReply *r, struct redis_entry *out, size_t max, size_t max_job,
                     char *err, size_t errlen)
{
    if (!r) {
        snprintf(err, errlen, "no reply");
        return -1;
    }
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%.*s", (int)(r->len > 200 ? 200 : r->len), r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 || !r->element[0] ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2) {
        snprintf(err, errlen, "unexpected reply to XREADGROUP");
        return -1;
    }
    return redis_parse_entries(r->element[0]->element[1], out, max, max_job, err, errlen);
}

int redis_parse_autoclaim(const redisReply *r, struct redis_entry *out, size_t max,
                          size_t max_job, char next[REDIS_ENTRY_ID_MAX + 1], char *err,
                          size_t errlen)
{
    if (!r) {
        snprintf(err, errlen, "no reply");
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%.*s", (int)(r->len > 200 ? 200 : r->len), r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || (r->elements != 2 && r->elements != 3) || !r->element[0] ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        !redis_entry_id_valid(r->element[0]->str, (size_t)r->element[0]->len)) {
        snprintf(err, errlen, "unexpected reply to XAUTOCLAIM");
        return -1;
    }
    memcpy(next, r->element[0]->str, (size_t)r->element[0]->len);
    next[r->element[0]->len] = '\0';
    /* Redis 6.2 answers nil for an entry deleted while pending (7.0 lists its id in the third
     * element instead): nothing to run, and no id to acknowledge it by. */
    return parse_list(r->element[1], out, max, max_job, false, true, err, errlen);
}

/* consumer_fields reads one consumer's [field, value, ...] description. Returns false when it is
 * malformed: each of name, pending and idle exactly once, with the right types. */
static bool consumer_fields(const redisReply *c, const redisReply **name, long long *pending,
                            long long *idle)
{
    if (!c || c->type != REDIS_REPLY_ARRAY || c->elements % 2 != 0)
        return false;
    *name = NULL;
    bool have_pending = false, have_idle = false;
    for (size_t i = 0; i + 1 < c->elements; i += 2) {
        const redisReply *k = c->element[i], *v = c->element[i + 1];
        if (!k || !v || (k->type != REDIS_REPLY_STRING && k->type != REDIS_REPLY_STATUS))
            return false;
        bool is_name = k->len == 4 && memcmp(k->str, "name", 4) == 0;
        bool is_pending = k->len == 7 && memcmp(k->str, "pending", 7) == 0;
        bool is_idle = k->len == 4 && memcmp(k->str, "idle", 4) == 0;
        if ((is_name && *name) || (is_pending && have_pending) || (is_idle && have_idle))
            return false;
        if (is_name) {
            if (v->type != REDIS_REPLY_STRING)
                return false;
            *name = v;
        } else if (is_pending || is_idle) {
            if (v->type != REDIS_REPLY_INTEGER || v->integer < 0)
                return false;
            *(is_pending ? pending : idle) = v->integer;
            *(is_pending ? &have_pending : &have_idle) = true;
        }
    }
    return *name && have_pending && have_idle;
}

int redis_parse_idle_consumers(const redisReply *r, const char *self, long long idle_min_ms,
                               struct redis_consumer *out, size_t max, char *err, size_t errlen)
{
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "unexpected reply to XINFO CONSUMERS: %.200s",
                 r && r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        return -1;
    }
    size_t n = 0, self_len = strlen(self);
    for (size_t i = 0; i < r->elements && n < max; i++) {
        const redisReply *name = NULL;
        long long pending = 0, idle = 0;
        if (!consumer_fields(r->element[i], &name, &pending, &idle) || pending != 0 ||
            idle < idle_min_ms || name->len == 0 || (size_t)name->len > REDIS_CONSUMER_NAME_MAX ||
            memchr(name->str, '\0', (size_t)name->len) ||
            ((size_t)name->len == self_len && memcmp(name->str, self, self_len) == 0))
            continue;
        memcpy(out[n].name, name->str, (size_t)name->len);
        out[n].name[name->len] = '\0';
        out[n].len = (size_t)name->len;
        n++;
    }
    return (int)n;
}

/* ---- bounded reader ---------------------------------------------------------------------- */

static redisReplyObjectFunctions bounded_functions;
static void *(*hiredis_create_array)(const redisReadTask *task, int elements);
static pthread_once_t bounded_once = PTHREAD_ONCE_INIT;
static const redisReplyObjectFunctions *hiredis_functions;

static void *(*hiredis_create_string)(const redisReadTask *task, char *str, size_t len);
static void *(*hiredis_create_integer)(const redisReadTask *task, long long value);
static void *(*hiredis_create_nil)(const redisReadTask *task);

/* charge takes cost bytes from the round trip's budget (task->privdata, from the reader's);
 * false when they are not there. */
static bool charge(const redisReadTask *task, size_t cost)
{
    struct redis_reply_budget *b = task->privdata;
    if (!b)
        return true;
    if (b->used > b->max || cost > b->max - b->used) {
        b->exceeded = true;
        return false;
    }
    b->used += cost;
    return true;
}

static void *bounded_create_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > REDIS_REPLY_ARRAY_MAX ||
        !charge(task, REDIS_OBJECT_COST + (size_t)elements * sizeof(redisReply *)))
        return NULL;
    return hiredis_create_array(task, elements);
}

static void *bounded_create_string(const redisReadTask *task, char *str, size_t len)
{
    /* the reply, and its text's own allocation (len + NUL, and malloc's overhead) */
    if (len > SIZE_MAX / 2 || !charge(task, 2 * REDIS_OBJECT_COST + len))
        return NULL;
    return hiredis_create_string(task, str, len);
}

static void *bounded_create_integer(const redisReadTask *task, long long value)
{
    return charge(task, REDIS_OBJECT_COST) ? hiredis_create_integer(task, value) : NULL;
}

static void *bounded_create_nil(const redisReadTask *task)
{
    return charge(task, REDIS_OBJECT_COST) ? hiredis_create_nil(task) : NULL;
}

static void make_bounded_functions(void)
{
    /* hiredis's default function table, as every new reader gets it */
    redisReader *probe = redisReaderCreate();
    if (!probe)
        return;
    hiredis_functions = probe->fn;
    redisReaderFree(probe);
    bounded_functions = *hiredis_functions;
    hiredis_create_array = hiredis_functions->createArray;
    hiredis_create_string = hiredis_functions->createString;
    hiredis_create_integer = hiredis_functions->createInteger;
    hiredis_create_nil = hiredis_functions->createNil;
    bounded_functions.createArray = bounded_create_array;
    bounded_functions.createString = bounded_create_string;
    bounded_functions.createInteger = bounded_create_integer;
    bounded_functions.createNil = bounded_create_nil;
}

void redis_reader_bound(redisReader *reader)
{
    pthread_once(&bounded_once, make_bounded_functions);
    if (reader && hiredis_functions && reader->fn == hiredis_functions)
        reader->fn = &bounded_functions;
}

void redis_reader_budget(redisReader *reader, struct redis_reply_budget *budget)
{
    if (reader)
        reader->privdata = budget;
}
