/* stats.c - telemetry counters and the stats document (see stats.h).
 *
 * Counters are two levels of sorted arrays: workers sorted by id, each with its counters sorted by
 * name (byte order, as strcmp and Go's sorted map keys). A lookup is a binary search, an insertion
 * a memmove; both levels stay small (STATS_MAX_WORKERS + 1 workers, a few dozen counter names),
 * and sorted storage lets the document be written in order without sorting. jansson objects keep
 * insertion order, so inserting in sorted order gives sorted keys.
 *
 * Once STATS_MAX_WORKERS distinct ids are tracked, every further id counts under "other" (which
 * may be the one key beyond the cap); so does an id that is not valid UTF-8, which could not be a
 * JSON key (a counter name that is not valid UTF-8 is ignored). Counters saturate at UINT64_MAX
 * and are written as JSON integers capped at INT64_MAX (jansson integers are signed). An add that
 * runs out of memory is dropped: telemetry is best effort. One mutex covers every operation,
 * including the walk that builds the "stats" object. */
#include "jobs/stats.h"
#include "util/json_out.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OTHER_WORKERS "other"

struct counter {
    char *name;                 /* first member: sorted_find reads it */
    uint64_t value;
};

struct worker_counters {
    char *id;                   /* first member: sorted_find reads it */
    struct counter *counters;
    size_t count, capacity;
};

struct stats {
    pthread_mutex_t lock;
    char *worker_id;
    time_t boot_time;
    time_t last_operation_time;
    struct worker_counters *workers;
    size_t count, capacity;
};

/* ---- sorted arrays of structs whose first member is a char * key ------------------------- */

static const char *key_at(const void *base, size_t elem_size, size_t i)
{
    const char *const *key = (const char *const *)((const char *)base + i * elem_size);
    return *key;
}

/* sorted_find returns the index of key, or where it would go with *found false. */
static size_t sorted_find(const void *base, size_t n, size_t elem_size, const char *key,
                          bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(key_at(base, elem_size, mid), key);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* open_gap makes room for one element at index (growing the array) and zeroes it. */
static int open_gap(void **base, size_t *n, size_t *capacity, size_t elem_size, size_t index)
{
    if (*n == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 4;
        void *p = realloc(*base, grown * elem_size);
        if (!p)
            return -1;
        *base = p;
        *capacity = grown;
    }
    char *at = (char *)*base + index * elem_size;
    memmove(at + elem_size, at, (*n - index) * elem_size);
    memset(at, 0, elem_size);
    (*n)++;
    return 0;
}

/* ---- lookups ----------------------------------------------------------------------------- */

static struct worker_counters *find_worker(struct stats *s, const char *id, bool create)
{
    bool found;
    size_t i = sorted_find(s->workers, s->count, sizeof *s->workers, id, &found);
    if (found)
        return &s->workers[i];
    if (!create)
        return NULL;
    char *copy = strdup(id);
    if (!copy || open_gap((void **)&s->workers, &s->count, &s->capacity, sizeof *s->workers, i)) {
        free(copy);
        return NULL;
    }
    s->workers[i].id = copy;
    return &s->workers[i];
}

/* utf8_valid: well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF), so
 * every tracked id can become a JSON object key. */
static bool utf8_valid(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned char c = *p++;
        int more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
        if (more < 0)
            return false;
        uint32_t cp = more ? c & (0x3f >> more) : c;
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (*p & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
    }
    return true;
}

/* worker_for resolves where the counters of id live: its own entry while there is room (and the
 * id is valid UTF-8), else the shared "other" entry. */
static struct worker_counters *worker_for(struct stats *s, const char *id, bool create)
{
    struct worker_counters *w = find_worker(s, id, false);
    if (w)
        return w;
    if (s->count < STATS_MAX_WORKERS && utf8_valid(id))
        return find_worker(s, id, create);
    return find_worker(s, OTHER_WORKERS, create);
}

static struct counter *find_counter(struct worker_counters *w, const char *name, bool create)
{
    bool found;
    size_t i = sorted_find(w->counters, w->count, sizeof *w->counters, name, &found);
    if (found)
        return &w->counters[i];
    if (!create)
        return NULL;
    char *copy = strdup(name);
    if (!copy || open_gap((void **)&w->counters, &w->count, &w->capacity, sizeof *w->counters, i)) {
        free(copy);
        return NULL;
    }
    w->counters[i].name = copy;
    return &w->counters[i];
}

/* ---- public API -------------------------------------------------------------------------- */

struct stats *stats_new(const char *worker_id)
{
    struct stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->worker_id = strdup(worker_id ? worker_id : "");
    if (!s->worker_id) {
        free(s);
        return NULL;
    }
    s->boot_time = time(NULL);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++) {
        struct worker_counters *w = &s->workers[i];
        for (size_t j = 0; j < w->count; j++)
            free(w->counters[j].name);
        free(w->counters);
        free(w->id);
    }
    free(s->workers);
    free(s->worker_id);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void stats_add(struct stats *s, const char *worker_id, const char *name, uint64_t n)
{
    if (!name || !utf8_valid(name))
        return;
    pthread_mutex_lock(&s->lock);
    s->last_operation_time = time(NULL);
    struct worker_counters *w = worker_for(s, worker_id ? worker_id : "", true);
    struct counter *c = w ? find_counter(w, name, true) : NULL;
    if (c)
        c->value = n > UINT64_MAX - c->value ? UINT64_MAX : c->value + n;
    pthread_mutex_unlock(&s->lock);
}

/* stats_get: an id beyond the cap reads the "other" counters it was folded into. */
uint64_t stats_get(struct stats *s, const char *worker_id, const char *name)
{
    if (!name)
        return 0;
    pthread_mutex_lock(&s->lock);
    struct worker_counters *w = worker_for(s, worker_id ? worker_id : "", false);
    struct counter *c = w ? find_counter(w, name, false) : NULL;
    uint64_t value = c ? c->value : 0;
    pthread_mutex_unlock(&s->lock);
    return value;
}

/* ---- the document ------------------------------------------------------------------------ */

static json_t *counters_object(const struct worker_counters *w)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < w->count; i++) {
        uint64_t v = w->counters[i].value;
        json_int_t capped = v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v;
        if (json_object_set_new(obj, w->counters[i].name, json_integer(capped)) < 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* stats_object builds {worker: {name: count}}; the caller holds the lock. */
static json_t *stats_object(const struct stats *s)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < s->count; i++) {
        if (json_object_set_new(obj, s->workers[i].id, counters_object(&s->workers[i])) < 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

json_t *stats_document(struct stats *s, json_t *caps, const char *application_version)
{
    pthread_mutex_lock(&s->lock);
    json_int_t boot = (json_int_t)s->boot_time;
    json_int_t last = (json_int_t)s->last_operation_time;
    json_t *counters = stats_object(s);
    pthread_mutex_unlock(&s->lock);

    json_t *doc = json_object();
    int rc = doc && counters ? 0 : -1;
    rc |= json_object_set_new(doc, "boot_time", json_integer(boot));
    rc |= json_object_set_new(doc, "last_operation_time", json_integer(last));
    rc |= json_object_set_new(doc, "current_time", json_integer((json_int_t)time(NULL)));
    rc |= json_object_set_new(doc, "worker_id", json_string(s->worker_id));
    rc |= json_object_set_new(doc, "stats", counters);
    json_t *reported = caps ? json_incref(caps) : json_object();
    rc |= json_object_set_new(doc, "reported_capabilities", reported);
    rc |= json_object_set_new(doc, "worker_version", json_string("beta"));
    rc |= json_object_set_new(doc, "application_version",
                              json_string(application_version ? application_version : ""));
    if (rc != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- the document as text ----------------------------------------------------------------- */

static int put_key(struct growbuf *b, const char *sep, const char *key)
{
    return json_out_raw(b, sep, strlen(sep)) | json_out_string(b, key, strlen(key)) |
           json_out_raw(b, ":", 1);
}

/* put_counters writes stats_object's text; the caller holds the lock. */
static int put_counters(struct growbuf *b, const struct stats *s)
{
    int bad = json_out_raw(b, "{", 1);
    for (size_t i = 0; i < s->count; i++) {
        const struct worker_counters *w = &s->workers[i];
        bad |= put_key(b, i ? "," : "", w->id) | json_out_raw(b, "{", 1);
        for (size_t j = 0; j < w->count; j++) {
            uint64_t v = w->counters[j].value;
            bad |= put_key(b, j ? "," : "", w->counters[j].name) |
                   json_out_int(b, v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
        }
        bad |= json_out_raw(b, "}", 1);
    }
    return bad | json_out_raw(b, "}", 1);
}

char *stats_document_text(struct stats *s, const char *caps_text, const char *application_version,
                          size_t *len)
{
    struct growbuf b = { 0 };
    pthread_mutex_lock(&s->lock);
    int bad = json_out_raw(&b, "{\"boot_time\":", 13) | json_out_int(&b, (int64_t)s->boot_time) |
              json_out_raw(&b, ",\"last_operation_time\":", 23) |
              json_out_int(&b, (int64_t)s->last_operation_time) |
              json_out_raw(&b, ",\"current_time\":", 16) | json_out_int(&b, (int64_t)time(NULL)) |
              put_key(&b, ",", "worker_id") |
              json_out_string(&b, s->worker_id, strlen(s->worker_id)) |
              json_out_raw(&b, ",\"stats\":", 9) | put_counters(&b, s);
    pthread_mutex_unlock(&s->lock);
    bad |= json_out_raw(&b, ",\"reported_capabilities\":", 25);
    bad |= caps_text ? json_out_raw(&b, caps_text, strlen(caps_text)) : json_out_raw(&b, "{}", 2);
    bad |= json_out_raw(&b, ",\"worker_version\":\"beta\"", 24) |
           put_key(&b, ",", "application_version") |
           json_out_string(&b, application_version ? application_version : "",
                           application_version ? strlen(application_version) : 0) |
           json_out_raw(&b, "}", 1);
    if (bad) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
