/* twitter_web_parse.c - the X web client's answers: entry points, error envelope, timeline
 * walking (instructions -> entries -> items -> tweets, users, cursors) and the JSON helpers the
 * parser files share. What an item becomes is in twitter_web_parse_tweet.c (TweetResult) and
 * twitter_web_parse_user.c (Profile, Space, trends). See twitter_web_parse.h. */
#include "kinds/twitter_web_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kinds/json_record.h"
#include "kinds/twitter_web_parse_internal.h"

/* ---- JSON helpers ---- */

const json_t *twp_get(const json_t *o, const char *path)
{
    char name[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof name || !json_is_object(o))
            return NULL;
        memcpy(name, path, n);
        name[n] = '\0';
        o = json_object_get(o, name);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

const char *twp_str(const json_t *o, const char *path)
{
    const char *s = json_string_value(twp_get(o, path));
    return s ? s : "";
}

const char *twp_str2(const json_t *o, const char *first, const char *second)
{
    const char *s = twp_str(o, first);
    return *s ? s : twp_str(o, second);
}

long long twp_int(const json_t *o, const char *path, bool *found)
{
    const json_t *v = twp_get(o, path);
    bool ok = false;
    long long n = 0;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
        ok = true;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = strlen(s);
        if (len > 0 && len <= 18 && strspn(s, "0123456789") == len) {
            n = strtoll(s, NULL, 10);
            ok = true;
        }
    }
    if (found)
        *found = ok;
    return n;
}

long long twp_int2(const json_t *o, const char *first, const char *second)
{
    bool found;
    long long n = twp_int(o, first, &found);
    return found ? n : twp_int(o, second, NULL);
}

bool twp_bool2(const json_t *o, const char *first, const char *second)
{
    const json_t *v = twp_get(o, first);
    if (!json_is_boolean(v))
        v = twp_get(o, second);
    return json_is_true(v);
}

const char *twp_typename(const json_t *o)
{
    return twp_str(o, "__typename");
}

int twp_parse_id(const char *s, long long *out)
{
    size_t len = strlen(s);
    if (len == 0 || len > 19 || strspn(s, "0123456789") != len)
        return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

int twp_x_time(const char *s, long long *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (strlen(s) > 64)
        return -1;
    const char *end = strptime(s, "%a %b %d %H:%M:%S %z %Y", &tm);
    if (!end || *end)
        return -1;
    long gmtoff = tm.tm_gmtoff;
    tm.tm_isdst = 0;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
        return -1;
    *out = (long long)t - gmtoff;
    return 0;
}

void twp_rfc3339(long long secs, char *buf, size_t len)
{
    struct tm tm;
    time_t t = (time_t)secs;
    /* Years 1..9999 only (what Go's time marshals); everything else is the epoch. */
    if (secs < -62135596800LL || secs > 253402300799LL || !gmtime_r(&t, &tm)) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- growable string ---- */

void twp_buf_add(struct twp_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void twp_buf_adds(struct twp_buf *b, const char *s)
{
    twp_buf_add(b, s, strlen(s));
}

char *twp_buf_take(struct twp_buf *b)
{
    char *p = b->p;
    if (b->oom) {
        free(p);
        p = NULL;
    } else if (!p) {
        p = strdup("");
    }
    memset(b, 0, sizeof *b);
    return p;
}

/* ---- body and error envelope ---- */

/* load: the body as a JSON object, or NULL with why set. */
static json_t *load(const char *body, size_t len, char *why, size_t whylen)
{
    return record_load_object(body, len, TWITTER_WEB_MAX_BODY, "failed to parse response", why,
                              whylen);
}

static int error_of(const json_t *root, struct twitter_web_error *err)
{
    memset(err, 0, sizeof *err);
    const json_t *errors = json_object_get(root, "errors");
    if (!json_is_array(errors) || json_array_size(errors) == 0)
        return 0;
    const json_t *first = json_array_get(errors, 0);
    err->code = (long)twp_int(first, "code", NULL);
    snprintf(err->message, sizeof err->message, "%s", twp_str(first, "message"));
    const json_t *data = json_object_get(root, "data");
    err->has_data = data && !json_is_null(data);
    return 1;
}

int twitter_web_error(const char *body, size_t len, struct twitter_web_error *err)
{
    char why[TWITTER_WEB_WHY];
    json_t *root = load(body, len, why, sizeof why);
    if (!root) {
        memset(err, 0, sizeof *err);
        return -1;
    }
    int rc = error_of(root, err);
    json_decref(root);
    return rc;
}

enum twitter_web_error_class twitter_web_error_classify(const struct twitter_web_error *err)
{
    switch (err->code) {
    case 88:
        return TWITTER_WEB_ERR_RATE_LIMIT;
    case 32: case 37: case 64: case 326: case 353:
        return TWITTER_WEB_ERR_AUTH;
    case 34: case 50: case 63: case 144:
        return TWITTER_WEB_ERR_NOT_FOUND;
    case 336:
        return TWITTER_WEB_ERR_FEATURES;
    default:
        break;
    }
    if (strstr(err->message, "Rate limit exceeded"))
        return TWITTER_WEB_ERR_RATE_LIMIT;
    if (strstr(err->message, "_Missing") || strstr(err->message, "visibility-custom-suspension"))
        return TWITTER_WEB_ERR_NOT_FOUND;
    return TWITTER_WEB_ERR_OTHER;
}

/* envelope_failure: true (why set) when root carries errors and no usable data. */
static bool envelope_failure(const json_t *root, char *why, size_t whylen)
{
    struct twitter_web_error err;
    if (!error_of(root, &err) || err.has_data)
        return false;
    snprintf(why, whylen, "X error %ld: %s", err.code, *err.message ? err.message : "(no message)");
    return true;
}

/* ---- timeline walking ---- */

static const char *const search_paths[] = {
    "data.search_by_raw_query.search_timeline.timeline.instructions", NULL };
static const char *const user_paths[] = {
    "data.user.result.timeline.timeline.instructions",
    "data.user.result.timeline_v2.timeline.instructions",
    "data.user.result.timeline.instructions", NULL };
static const char *const home_paths[] = {
    "data.home.home_timeline_urt.instructions",
    "data.home.home_timeline_urt.timeline.instructions", NULL };
static const char *const detail_paths[] = {
    "data.threaded_conversation_with_injections_v2.instructions",
    "data.threaded_conversation_with_injections.instructions", NULL };
static const char *const retweeters_paths[] = {
    "data.retweeters_timeline.timeline.instructions", NULL };

static const char *const *paths_of(enum twitter_web_timeline kind)
{
    switch (kind) {
    case TWITTER_WEB_SEARCH: return search_paths;
    case TWITTER_WEB_USER_TWEETS:
    case TWITTER_WEB_USER_MEDIA:
    case TWITTER_WEB_FOLLOWS: return user_paths;
    case TWITTER_WEB_HOME: return home_paths;
    case TWITTER_WEB_TWEET_DETAIL: return detail_paths;
    case TWITTER_WEB_RETWEETERS: return retweeters_paths;
    default: return NULL;
    }
}

static const json_t *instructions_of(const json_t *root, const char *const *paths)
{
    for (; paths && *paths; paths++) {
        const json_t *v = twp_get(root, *paths);
        if (json_is_array(v))
            return v;
    }
    return NULL;
}

/* One walk over a page. */
struct walk {
    enum twitter_web_timeline kind;
    struct twitter_web_page *page;
    const char *focal;          /* TWEET_DETAIL: the requested id, "" when none */
    json_t *seen;               /* ids already emitted (object used as a set) */
    bool oom;
    /* twitter_web_parse_tweet: collect every tweet, unfiltered, into page->items */
    bool all_tweets;
};

/* A conversation thread module (TweetDetail: "conversationthread-<N>"). */
struct thread {
    char id[24];                /* N, "" when the entry id has none */
    const char *cursor, *cursor_type;
};

static bool users_kind(enum twitter_web_timeline k)
{
    return k == TWITTER_WEB_RETWEETERS || k == TWITTER_WEB_FOLLOWS;
}

static void set_cursor(struct walk *w, char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy) {
        w->oom = true;
        return;
    }
    free(*slot);
    *slot = copy;
}

static void cursor(struct walk *w, const char *type, const char *value)
{
    if (!*value)
        return;
    bool bottom = strcmp(type, "Bottom") == 0;
    if (w->kind == TWITTER_WEB_TWEET_DETAIL)
        bottom = bottom || strcmp(type, "ShowMoreThreads") == 0 ||
                 strcmp(type, "ShowMoreThreadsPrompt") == 0;
    if (bottom) {
        if (users_kind(w->kind) && strncmp(value, "0|", 2) == 0) {
            free(w->page->next_cursor);
            w->page->next_cursor = NULL;
            return;
        }
        set_cursor(w, &w->page->next_cursor, value);
    } else if (strcmp(type, "Top") == 0) {
        set_cursor(w, &w->page->prev_cursor, value);
    }
}

static bool has_media(const json_t *r)
{
    return json_array_size(json_object_get(r, "photos")) > 0 ||
           json_array_size(json_object_get(r, "videos")) > 0;
}

/* append: adds item r (stolen) under id unless that id was already emitted. */
static void append(struct walk *w, json_t *r, const char *id)
{
    if (json_object_get(w->seen, id)) {
        json_decref(r);
        return;
    }
    if (json_object_set_new(w->seen, id, json_true()) < 0 ||
        json_array_append_new(w->page->items, r) < 0)
        w->oom = true;
}

static void tweet_item(struct walk *w, const json_t *ic, const struct thread *th, bool pinned)
{
    const json_t *tweet = twp_unwrap_tweet(twp_get(ic, "tweet_results.result"));
    const char *id = twp_tweet_id(tweet);
    if (!tweet || !*id) {
        w->page->skipped++;
        return;
    }
    if (w->kind == TWITTER_WEB_TWEET_DETAIL && !w->all_tweets && *w->focal &&
        strcmp(id, w->focal) == 0) {
        /* The focal tweet: what came before it are its ancestors, not replies. */
        json_array_clear(w->page->items);
        json_object_clear(w->seen);
        if (json_object_set_new(w->seen, id, json_true()) < 0)
            w->oom = true;
        return;
    }
    struct twp_tweet_ctx ctx = {
        .pinned = pinned,
        .self_thread = strcmp(twp_str(ic, "tweetDisplayType"), "SelfThread") == 0,
    };
    if (w->kind == TWITTER_WEB_TWEET_DETAIL && !w->all_tweets) {
        ctx.focal_tweet_id = w->focal;
        if (th) {
            ctx.thread_id = th->id;
            ctx.cursor = th->cursor;
            ctx.cursor_type = th->cursor_type;
        }
    }
    json_t *r = twp_tweet_result(tweet, &ctx);
    if (!r) {
        w->page->skipped++;
        return;
    }
    if (w->kind == TWITTER_WEB_USER_MEDIA && !w->all_tweets && !has_media(r)) {
        json_decref(r);
        return;
    }
    append(w, r, id);
}

static void user_item(struct walk *w, const json_t *ic)
{
    const json_t *user = twp_get(ic, "user_results.result");
    json_t *p = twp_profile(user);
    if (!p) {
        w->page->skipped++;
        return;
    }
    append(w, p, json_string_value(json_object_get(p, "UserID")));
}

/* item: one itemContent (of an entry, a module item or a moduleItems element). */
static void item(struct walk *w, const char *entry_id, const json_t *ic, const struct thread *th,
                 bool pinned)
{
    if (!json_is_object(ic))
        return;
    if (twp_get(ic, "promotedMetadata") || strncmp(entry_id, "promoted", 8) == 0) {
        w->page->skipped++;
        return;
    }
    const char *ctype = twp_str(ic, "cursorType");
    if (*ctype) {
        if (!th)
            cursor(w, ctype, twp_str(ic, "value"));
        return;
    }
    if (twp_get(ic, "tweet_results")) {
        if (!users_kind(w->kind))
            tweet_item(w, ic, th, pinned);
        return;
    }
    if (twp_get(ic, "user_results")) {
        if (users_kind(w->kind))
            user_item(w, ic);
        return;
    }
}

/* thread_of: fills th for a module entry: N of "conversationthread-N" and the module's own
 * show-more cursor. */
static void thread_of(const char *entry_id, const json_t *items, struct thread *th)
{
    memset(th, 0, sizeof *th);
    static const char prefix[] = "conversationthread-";
    if (strncmp(entry_id, prefix, sizeof prefix - 1) == 0) {
        const char *n = entry_id + sizeof prefix - 1;
        size_t len = strspn(n, "0123456789");
        if (len > 0 && len < sizeof th->id && n[len] == '\0' && strspn(n, "0") != len)
            memcpy(th->id, n, len + 1);
    }
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) {
        const json_t *ic = twp_get(it, "item.itemContent");
        const char *type = twp_str(ic, "cursorType");
        if (*type && *twp_str(ic, "value")) {
            th->cursor = twp_str(ic, "value");
            th->cursor_type = type;
        }
    }
}

static void entry(struct walk *w, const json_t *e, bool pinned)
{
    if (!json_is_object(e))
        return;
    w->page->entries++;
    const char *entry_id = twp_str(e, "entryId");
    const json_t *content = json_object_get(e, "content");
    if (strncmp(entry_id, "promoted", 8) == 0) {
        w->page->skipped++;
        return;
    }
    const char *ctype = twp_str(content, "cursorType");
    if (*ctype) {
        cursor(w, ctype, twp_str(content, "value"));
        return;
    }
    const json_t *op = twp_get(content, "operation.cursor");
    if (op) {
        cursor(w, twp_str(op, "cursorType"), twp_str(op, "value"));
        return;
    }
    const json_t *ic = json_object_get(content, "itemContent");
    if (ic) {
        item(w, entry_id, ic, NULL, pinned);
        return;
    }
    const json_t *items = json_object_get(content, "items");
    if (json_is_array(items)) {
        struct thread th;
        thread_of(entry_id, items, &th);
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it)
            item(w, twp_str(it, "entryId"), twp_get(it, "item.itemContent"), &th, false);
    }
}

static void instruction(struct walk *w, const json_t *ins)
{
    if (!json_is_object(ins))
        return;
    const char *type = twp_str(ins, "type");
    const json_t *entries = json_object_get(ins, "entries");
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e)
        entry(w, e, false);
    const json_t *single = json_object_get(ins, "entry");
    if (json_is_object(single))
        entry(w, single, strcmp(type, "TimelinePinEntry") == 0);
    const json_t *module_items = json_object_get(ins, "moduleItems");
    if (json_is_array(module_items)) {
        struct thread th;
        thread_of(twp_str(ins, "moduleEntryId"), module_items, &th);
        json_array_foreach(module_items, i, e)
            item(w, twp_str(e, "entryId"), twp_get(e, "item.itemContent"), &th, false);
    }
}

void twitter_web_page_clear(struct twitter_web_page *page)
{
    json_decref(page->items);
    free(page->next_cursor);
    free(page->prev_cursor);
    memset(page, 0, sizeof *page);
}

/* walk_root: walks root's instructions for kind into page (already zeroed). 0, or -1 with why. */
static int walk_root(const json_t *root, enum twitter_web_timeline kind, const char *focal,
                     bool all_tweets, struct twitter_web_page *page, char *why, size_t whylen)
{
    const json_t *ins = instructions_of(root, paths_of(kind));
    if (!ins && envelope_failure(root, why, whylen))
        return -1;
    struct walk w = { .kind = kind, .page = page, .focal = focal ? focal : "",
                      .all_tweets = all_tweets };
    page->items = json_array();
    w.seen = json_object();
    if (page->items && w.seen) {
        size_t i;
        const json_t *in;
        json_array_foreach(ins, i, in)
            instruction(&w, in);
    } else {
        w.oom = true;
    }
    json_decref(w.seen);
    if (w.oom) {
        snprintf(why, whylen, "out of memory while parsing the timeline");
        return -1;
    }
    return 0;
}

int twitter_web_parse_timeline(enum twitter_web_timeline kind, const char *body, size_t len,
                               const char *focal_id, struct twitter_web_page *out, char *why,
                               size_t whylen)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)kind >= TWITTER_WEB_TIMELINE_COUNT) {
        snprintf(why, whylen, "unknown timeline kind %d", (int)kind);
        return -1;
    }
    json_t *root = load(body, len, why, whylen);
    if (!root)
        return -1;
    int rc = walk_root(root, kind, focal_id, false, out, why, whylen);
    json_decref(root);
    if (rc < 0)
        twitter_web_page_clear(out);
    return rc;
}

/* ---- single tweet ---- */

json_t *twitter_web_parse_tweet(const char *body, size_t len, const char *tweet_id, char *why,
                                size_t whylen)
{
    const char *want = tweet_id ? tweet_id : "";
    json_t *root = load(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *out = NULL;
    const json_t *result = twp_get(root, "data.tweetResult.result");
    if (!result)
        result = twp_get(root, "data.tweet_result.result");
    if (result) {
        const json_t *tweet = twp_unwrap_tweet(result);
        const char *id = twp_tweet_id(tweet);
        if (tweet && *id && (!*want || strcmp(id, want) == 0)) {
            if (!(out = twp_tweet_result(tweet, NULL)))
                snprintf(why, whylen, "out of memory while building the tweet");
        } else {
            snprintf(why, whylen, "tweet %.40s not found", want);
        }
    } else if (instructions_of(root, detail_paths)) {
        struct twitter_web_page page;
        memset(&page, 0, sizeof page);
        if (walk_root(root, TWITTER_WEB_TWEET_DETAIL, want, true, &page, why, whylen) == 0) {
            size_t i;
            json_t *t;
            json_array_foreach(page.items, i, t) {
                const char *id = json_string_value(json_object_get(t, "tweet_id"));
                if (id && strcmp(id, want) == 0) {
                    out = json_incref(t);
                    break;
                }
            }
            if (!out)
                snprintf(why, whylen, "tweet %.40s not found", want);
        }
        twitter_web_page_clear(&page);
    } else if (!envelope_failure(root, why, whylen)) {
        snprintf(why, whylen, "tweet %.40s not found", want);
    }
    json_decref(root);
    return out;
}

/* ---- user ---- */

json_t *twitter_web_parse_user(const char *body, size_t len, const char *query, char *why,
                               size_t whylen)
{
    json_t *root = load(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *out = NULL;
    const json_t *user = twp_get(root, "data.user.result");
    const char *rest_id = twp_str(user, "rest_id");
    struct twitter_web_error err;
    const char *type = twp_typename(user);
    if (error_of(root, &err) && !*rest_id) {
        if (strstr(err.message, "Missing LdapGroup(visibility-custom-suspension)"))
            snprintf(why, whylen, "user is suspended");
        else
            snprintf(why, whylen, "%s", *err.message ? err.message : "user not found");
    } else if (strcmp(type, "UserUnavailable") == 0 || !*rest_id) {
        bool suspended = strcmp(twp_str(user, "reason"), "Suspended") == 0 ||
                         strcmp(twp_str(user, "message"), "User is suspended") == 0;
        snprintf(why, whylen, suspended ? "user is suspended" : "user not found");
    } else if (!(out = twp_profile(user))) {
        snprintf(why, whylen, "user not found");
    } else if (!*json_string_value(json_object_get(out, "Username"))) {
        snprintf(why, whylen, "either @%.60s does not exist or is private",
                 query ? query : rest_id);
        json_decref(out);
        out = NULL;
    }
    json_decref(root);
    return out;
}

/* ---- trends ---- */

json_t *twitter_web_parse_trends(const char *body, size_t len, char *why, size_t whylen)
{
    json_t *root = load(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *out = NULL;
    const json_t *ins = twp_get(root, "data.timeline.timeline.instructions");
    bool guide = false;
    if (!ins) {
        ins = twp_get(root, "timeline.instructions");
        guide = true;
    }
    /* The 2024 guide.json answer keeps its trends in instruction 1's entry 1 (twitter.md
     * 5.9.5): a shorter answer is Go's "no trend entries found" (and no crash). */
    if (guide && json_is_array(ins) &&
        json_array_size(twp_get(json_array_get(ins, 1), "addEntries.entries")) < 2)
        ins = NULL;
    if (json_is_array(ins)) {
        out = json_array();
        if (out)
            twp_trends(ins, out, 0);
        else
            snprintf(why, whylen, "out of memory while parsing trends");
        if (out && json_array_size(out) == 0) {   /* Go's nil list: null (twitter.md 8.6) */
            json_decref(out);
            out = json_null();
        }
    } else if (!envelope_failure(root, why, whylen)) {
        snprintf(why, whylen, "no trend entries found");
    }
    json_decref(root);
    return out;
}

/* ---- space ---- */

json_t *twitter_web_parse_space(const char *body, size_t len, char *why, size_t whylen)
{
    json_t *root = load(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *out = NULL;
    const json_t *space = twp_get(root, "data.audioSpace");
    if (!json_is_object(space) && envelope_failure(root, why, whylen)) {
        json_decref(root);
        return NULL;
    }
    out = twp_space(space, why, whylen);
    json_decref(root);
    return out;
}
