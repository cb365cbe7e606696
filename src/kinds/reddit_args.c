/* reddit_args.c - decode, default and validate `reddit` job arguments; build the actor input.
 *
 * Decoding errors (a wrong JSON type) stop at the first one, like Go's decoder. Validation then
 * runs in two stages, each collecting all its messages: A (type, sort, after not in the future),
 * and B (only when A passed: urls/queries per type, each URL checked). Reddit URLs are split by a
 * small parser that fails where Go's url.Parse fails in practice (control bytes, bad %-escapes,
 * a colon in a scheme-less first segment, a non-numeric port, a host with a character or escape
 * Go refuses or an unclosed IPv6 bracket). */
#include "kinds/reddit_args.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kinds/go_args.h"
#include "kinds/json_record.h"
#include "util/utf8.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

struct msgs {
    char text[1024];
    size_t len;
};

__attribute__((format(printf, 2, 3)))
static void msg_add(struct msgs *m, const char *fmt, ...)
{
    if (m->len + 2 >= sizeof m->text)
        return;
    if (m->len)
        m->text[m->len++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(m->text + m->len, sizeof m->text - m->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        m->len += (size_t)w < sizeof m->text - m->len ? (size_t)w : sizeof m->text - m->len - 1;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static void lower_into(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len) {      /* too long to be valid: keep something that matches nothing */
        snprintf(dst, len, "?");
        return;
    }
    for (size_t i = 0; i < n && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[n] = '\0';
}

/* ---- decoding ---- */

static int decode_after(const json_t *args, struct reddit_args *a, char *msg)
{
    const json_t *v = go_arg_member(args, "after");
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        snprintf(msg, GO_ARGS_MSG, "Time.UnmarshalJSON: input is not a JSON string");
        return -1;
    }
    if (go_arg_has_nul(v)) {
        snprintf(msg, GO_ARGS_MSG, "after must not contain NUL characters");
        return -1;
    }
    if (rfc3339_normalise(json_string_value(v), a->after, sizeof a->after, &a->after_epoch) < 0) {
        snprintf(msg, GO_ARGS_MSG, "parsing time \"%.*s\" as \"2006-01-02T15:04:05Z07:00\": "
                 "not an RFC 3339 time", utf8_print_len(json_string_value(v), 64),
                 json_string_value(v));
        return -1;
    }
    return 0;
}

static int decode(const json_t *args, struct reddit_args *a, char *msg)
{
    const char *type = "", *sort = "";
    a->next_cursor = "";
    if (go_arg_string(args, "type", &type, msg) || go_arg_string(args, "sort", &sort, msg) ||
        go_arg_strings(args, "queries", &a->queries, msg) ||
        go_arg_strings(args, "urls", &a->urls, msg) ||
        go_arg_bool(args, "include_nsfw", &a->include_nsfw, msg) ||
        go_arg_bool(args, "skip_posts", &a->skip_posts, msg) || decode_after(args, a, msg) ||
        go_arg_uint(args, "max_items", &a->max_items, msg) ||
        go_arg_uint(args, "max_results", &a->max_results, msg) ||
        go_arg_uint(args, "max_posts", &a->max_posts, msg) ||
        go_arg_uint(args, "max_comments", &a->max_comments, msg) ||
        go_arg_uint(args, "max_communities", &a->max_communities, msg) ||
        go_arg_uint(args, "max_users", &a->max_users, msg) ||
        go_arg_string(args, "next_cursor", &a->next_cursor, msg))
        return -1;
    lower_into(a->type, sizeof a->type, *type ? type : "scrapeurls");
    lower_into(a->sort, sizeof a->sort, *sort ? sort : "new");
    return 0;
}

static void apply_defaults(struct reddit_args *a)
{
    if (!a->max_items)
        a->max_items = 10;
    if (!a->max_results)
        a->max_results = a->max_items;
    if (!a->max_posts)
        a->max_posts = 10;
    if (!a->max_comments)
        a->max_comments = 10;
    if (!a->max_communities)
        a->max_communities = 2;
    if (!a->max_users)
        a->max_users = 2;
}

/* ---- URL checks ---- */

static bool bad_escapes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '%' && (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                            !isxdigit((unsigned char)s[i + 2])))
            return true;
    return false;
}

/* bad_host: what Go's url.Parse refuses in a host[:port]: an ASCII byte outside its host
 * alphabet, an ASCII %-escape other than %25, an IPv6 literal without its ']' or followed by
 * anything but a port. */
static bool bad_host(const char *h, size_t n)
{
    static const char allowed[] = "-._~!$&'()*+,;=:[]<>\"%";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c < 0x80 && !isalnum(c) && !strchr(allowed, c))
            return true;
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)h[i + 1]) && h[i + 1] < '8' &&
            strncmp(h + i, "%25", 3) != 0)
            return true;
    }
    if (n && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (!close || (close + 1 < h + n && close[1] != ':'))
            return true;
    }
    return false;
}

/* split_url: host (with port) and path of u; -1 where Go's url.Parse would fail. */
static int split_url(const char *u, char *host, size_t hlen, const char **path, size_t *plen)
{
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -1;
    const char *rest = u;
    size_t s = 0;
    if (isalpha((unsigned char)u[0])) {
        while (isalnum((unsigned char)u[s]) || u[s] == '+' || u[s] == '-' || u[s] == '.')
            s++;
        rest = u[s] == ':' ? u + s + 1 : u;
    } else if (u[0] == ':') {
        return -1;                        /* missing protocol scheme */
    }
    host[0] = '\0';
    if (rest == u) {                      /* no scheme: a colon in the first segment fails */
        size_t seg = strcspn(u, "/?#");
        if (memchr(u, ':', seg))
            return -1;
    }
    if (strncmp(rest, "//", 2) == 0) {
        rest += 2;
        size_t alen = strcspn(rest, "/?#");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (rest[i] == '@')
                at = rest + i;
        const char *h = at ? at + 1 : rest;
        size_t hn = (size_t)(rest + alen - h);
        if (hn >= hlen || bad_host(h, hn) || bad_escapes(h, hn))
            return -1;
        memcpy(host, h, hn);
        host[hn] = '\0';
        char *colon = strrchr(host, ':');
        if (colon && !strchr(colon, ']'))
            for (char *c = colon + 1; *c; c++)
                if (!isdigit((unsigned char)*c))
                    return -1;        /* invalid port */
        rest += alen;
    }
    *plen = strcspn(rest, "?#");
    *path = rest;
    return bad_escapes(rest, *plen) ? -1 : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_url(const char *u, struct msgs *m)
{
    char host[256];
    const char *path;
    size_t plen;
    if (split_url(u, host, sizeof host, &path, &plen) < 0) {
        msg_add(m, "<nil> is not a valid URL");
        return;
    }
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (!ends_with(host, "reddit.com"))
        msg_add(m, "invalid Reddit URL %.*s", utf8_print_len(u, 200), u);
    if (plen < 3 || strncmp(path, "/r/", 3) != 0)
        msg_add(m, "%.*s is not a Reddit post or comment URL (missing /r/)",
                utf8_print_len(u, 200), u);
    bool comments = false;
    for (size_t i = 0; i + 10 <= plen && !comments; i++)
        comments = strncmp(path + i, "/comments/", 10) == 0;
    if (!comments)
        msg_add(m, "%.*s is not a Reddit post or comment URL (missing /comments/)",
                utf8_print_len(u, 200), u);
}

/* ---- validation ---- */

static void stage_a(const struct reddit_args *a, struct msgs *m)
{
    static const char *const types[] = { "scrapeurls", "searchposts", "searchusers",
                                         "searchcommunities", NULL };
    static const char *const sorts[] = { "relevance", "hot", "top", "new", "rising", "comments",
                                         NULL };
    if (!one_of(a->type, types))
        msg_add(m, "invalid type");
    if (!one_of(a->sort, sorts))
        msg_add(m, "invalid sort");
    if (a->after[0] && a->after_epoch > (long long)time(NULL))
        msg_add(m, "after field is in the future");
}

static void stage_b(const struct reddit_args *a, struct msgs *m)
{
    size_t nq = json_array_size(a->queries), nu = json_array_size(a->urls);
    if (strcmp(a->type, "scrapeurls") != 0) {
        if (!nq)
            msg_add(m, "queries must be provided for all query types except scrapeurls");
        if (nu)
            msg_add(m, "urls can only be provided for the scrapeurls query type");
        return;
    }
    if (!nu)
        msg_add(m, "urls must be provided for scrapeurls query type");
    if (nq)
        msg_add(m, "the scrapeurls query type does not admit queries");
    for (size_t i = 0; i < nu; i++) {
        const char *u = json_string_value(json_array_get(a->urls, i));
        check_url(u ? u : "", m);
    }
}

int reddit_args_parse(const json_t *args, struct reddit_args *a, struct err *e)
{
    char msg[GO_ARGS_MSG] = "";
    memset(a, 0, sizeof *a);
    if (decode(args, a, msg) < 0)
        return err_set(e, 400, REDDIT_ARGS_PREFIX "failed to unmarshal Reddit arguments: %s", msg);
    apply_defaults(a);
    struct msgs m = { .len = 0 };
    m.text[0] = '\0';
    stage_a(a, &m);
    if (!m.len)
        stage_b(a, &m);
    if (m.len)
        return err_set(e, 400, REDDIT_ARGS_PREFIX "%s", m.text);
    return 0;
}

/* ---- actor input ---- */

static json_t *start_urls(const json_t *urls)
{
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(urls, i, el)
        json_array_append_new(out, json_pack("{s:s, s:s}", "url",
                                             json_is_string(el) ? json_string_value(el) : "",
                                             "method", "GET"));
    return out;
}

json_t *reddit_actor_input(const struct reddit_args *a)
{
    bool urls = strcmp(a->type, "scrapeurls") == 0, posts = strcmp(a->type, "searchposts") == 0,
         users = strcmp(a->type, "searchusers") == 0,
         communities = strcmp(a->type, "searchcommunities") == 0;
    json_t *in = json_object();
    if (!in)
        return NULL;
    if (!urls) {
        json_object_set_new(in, "type",
                            json_string(posts ? "posts" : users ? "users" : "community"));
        json_object_set_new(in, "searches", record_strings_copy(a->queries));
    } else {
        json_object_set_new(in, "startUrls", start_urls(a->urls));
    }
    json_object_set_new(in, "sort", json_string(a->sort));
    if (urls || posts)
        json_object_set_new(in, "postDateLimit", json_string(a->after[0] ? a->after : ZERO_TIME));
    json_object_set_new(in, "includeNSFW", json_boolean(a->include_nsfw));
    json_object_set_new(in, "maxItems", json_integer((json_int_t)a->max_items));
    json_object_set_new(in, "maxPostCount", json_integer((json_int_t)a->max_posts));
    json_object_set_new(in, "maxComments", json_integer((json_int_t)a->max_comments));
    json_object_set_new(in, "maxCommunitiesCount", json_integer((json_int_t)a->max_communities));
    json_object_set_new(in, "maxUserCount", json_integer((json_int_t)a->max_users));
    json_object_set_new(in, "searchComments", json_boolean(urls));
    json_object_set_new(in, "searchCommunities", json_boolean(urls || communities));
    json_object_set_new(in, "searchPosts", json_boolean(urls || posts));
    json_object_set_new(in, "searchUsers", json_boolean(urls || users));
    json_object_set_new(in, "skipUserPosts", json_boolean(users && a->skip_posts));
    json_object_set_new(in, "skipComments", json_boolean(false));
    if (json_object_size(in) < 15) {   /* an allocation failed along the way */
        json_decref(in);
        return NULL;
    }
    return in;
}
