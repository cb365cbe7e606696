/* twitter_web_parse_tweet.c - one tweet result of the X web client -> TweetResult (twitter.md
 * 5.9.2 as amended by twitter-modern.md 5.2 and the fixes listed in twitter_web_parse.h).
 *
 * A tweet's fields are read from the top level of the result first, then from `legacy` (X served
 * `legacy: null` with the fields at the top level in 2026-05). The author is
 * core.user_results.result (2026: core.screen_name; 2024: legacy.screen_name), falling back to
 * author_results.result. Long posts take their text and entities from note_tweet. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/twitter_tweet_result.h"
#include "kinds/twitter_web_parse.h"
#include "kinds/twitter_web_parse_internal.h"

#define MAX_HASHTAG_RUNES 280
#define MAX_MENTION_RUNES 15

const json_t *twp_unwrap_tweet(const json_t *r)
{
    for (int i = 0; i <= TWITTER_WEB_MAX_NEST && json_is_object(r); i++) {
        const char *type = twp_typename(r);
        if (strcmp(type, "Tweet") == 0)
            return r;
        if (!*type && (json_object_get(r, "legacy") || json_object_get(r, "rest_id")))
            return r;
        if (strcmp(type, "TweetWithVisibilityResults") != 0)
            return NULL;
        r = json_object_get(r, "tweet");
    }
    return NULL;
}

/* fld: member name of the tweet's top level when present and not null, else of its legacy. */
static const json_t *fld(const json_t *t, const char *name)
{
    const json_t *v = json_object_get(t, name);
    if (v && !json_is_null(v))
        return v;
    const json_t *legacy = json_object_get(t, "legacy");
    return json_is_object(legacy) ? json_object_get(legacy, name) : NULL;
}

static const char *fstr(const json_t *t, const char *name)
{
    const char *s = json_string_value(fld(t, name));
    return s ? s : "";
}

static long long fint(const json_t *t, const char *name)
{
    const json_t *v = fld(t, name);
    return json_is_integer(v) ? json_integer_value(v) : twp_int(v, "", NULL);
}

const char *twp_tweet_id(const json_t *t)
{
    long long id;
    const char *s = fstr(t, "id_str");
    if (!*s)
        s = twp_str(t, "rest_id");
    return t && twp_parse_id(s, &id) == 0 ? s : "";
}

static const json_t *author_of(const json_t *t)
{
    const json_t *a = twp_get(t, "core.user_results.result");
    if (!json_is_object(a))
        a = twp_get(t, "author_results.result");
    if (!json_is_object(a) || strcmp(twp_typename(a), "UserUnavailable") == 0)
        return NULL;
    return a;
}

static const char *username_of(const json_t *t)
{
    return twp_str2(author_of(t), "core.screen_name", "legacy.screen_name");
}

/* ---- entities ---- */

struct entities {
    const json_t *urls;        /* [{url, expanded_url}] */
    const json_t *hashtags;    /* [{text}] */
    const json_t *media;       /* [{id_str, type, url, media_url_https, video_info, ...}] */
    json_t *url_map;           /* t.co url -> expanded url */
    json_t *media_map;         /* t.co url -> first media_url_https */
    bool note;                 /* text from note_tweet */
};

static void entities_of(const json_t *t, struct entities *e)
{
    memset(e, 0, sizeof *e);
    const json_t *note = twp_get(t, "note_tweet.note_tweet_results.result");
    const json_t *set = twp_get(note, "entity_set");
    e->note = *twp_str(note, "text") != '\0';
    const json_t *ents = fld(t, "entities");
    e->urls = twp_get(e->note && set ? set : ents, "urls");
    e->hashtags = twp_get(e->note && set ? set : ents, "hashtags");
    e->media = twp_get(fld(t, "extended_entities"), "media");
    if (!json_is_array(e->media))
        e->media = twp_get(ents, "media");
    e->url_map = json_object();
    e->media_map = json_object();
    size_t i;
    const json_t *u;
    json_array_foreach(e->urls, i, u) {
        const char *from = twp_str(u, "url"), *to = twp_str(u, "expanded_url");
        if (*from && *to && e->url_map && !json_object_get(e->url_map, from))
            json_object_set_new(e->url_map, from, json_string(to));
    }
    json_array_foreach(e->media, i, u) {
        const char *from = twp_str(u, "url"), *to = twp_str(u, "media_url_https");
        if (*from && *to && e->media_map && !json_object_get(e->media_map, from))
            json_object_set_new(e->media_map, from, json_string(to));
    }
}

static void entities_clear(struct entities *e)
{
    json_decref(e->url_map);
    json_decref(e->media_map);
}

/* tco_len: length of a t.co link at s (http(s)://t.co/ + letters and digits), 0 if none. */
static size_t tco_len(const char *s)
{
    size_t p = 0;
    if (strncmp(s, "https://t.co/", 13) == 0)
        p = 13;
    else if (strncmp(s, "http://t.co/", 12) == 0)
        p = 12;
    else
        return 0;
    size_t n = 0;
    while (n < 64 && isalnum((unsigned char)s[p + n]))
        n++;
    return n ? p + n : 0;
}

static const char *map_get(const json_t *map, const char *s, size_t n)
{
    char key[96];
    if (!map || n >= sizeof key)
        return NULL;
    memcpy(key, s, n);
    key[n] = '\0';
    return json_string_value(json_object_get(map, key));
}

char *twp_expand(const char *text, const json_t *url_map, const json_t *media_map)
{
    struct twp_buf b = { 0 };
    const char *p = text;
    while (*p) {
        const char *hit = strstr(p, "://t.co/");
        const char *start = NULL;
        if (hit && hit - p >= 5 && strncmp(hit - 5, "https", 5) == 0)
            start = hit - 5;
        else if (hit && hit - p >= 4 && strncmp(hit - 4, "http", 4) == 0)
            start = hit - 4;
        if (!hit) {
            twp_buf_adds(&b, p);
            break;
        }
        if (!start) {
            twp_buf_add(&b, p, (size_t)(hit + 8 - p));
            p = hit + 8;
            continue;
        }
        twp_buf_add(&b, p, (size_t)(start - p));
        size_t n = tco_len(start);
        const char *to = n ? map_get(url_map, start, n) : NULL;
        if (!to && n)
            to = map_get(media_map, start, n);
        if (!n)
            n = (size_t)(hit + 8 - start);
        if (to)
            twp_buf_adds(&b, to);
        else
            twp_buf_add(&b, start, n);
        p = start + n;
    }
    return twp_buf_take(&b);
}

/* ---- html (twitter.md 5.9.2) ---- */

static bool is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* A sliding window over one text for word_end: the rune ends in (start, end], `count` of them,
 * and the last word boundary seen at or before end. Starts only move forward, so the text is
 * walked once however many '#' or '@' it holds (rescanning max runes per start was quadratic:
 * seconds of CPU for a hostile answer full of '#'). */
struct word_window {
    bool used;
    size_t start, end, count, last;
};

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* word_end: the end of the longest run of up to max non-space characters (UTF-8 runes) starting
 * at s[start] that ends at an ASCII word boundary (Go's \S{1,max}\b); start when none. Calls on
 * one window must use the same s and max and never decreasing starts (rune starts). */
static size_t word_end(struct word_window *w, const char *s, size_t start, size_t max)
{
    if (!w->used || start > w->end) {
        *w = (struct word_window){ .used = true, .start = start, .end = start, .last = start };
    } else {
        for (size_t p = w->start + 1; p <= start; p++)     /* the runes left behind */
            if (!is_continuation((unsigned char)s[p]))
                w->count--;
        w->start = start;
    }
    while (s[w->end] && !is_space((unsigned char)s[w->end]) && w->count < max) {
        w->end++;
        while (is_continuation((unsigned char)s[w->end]))
            w->end++;
        w->count++;
        size_t e = w->end;
        if (is_word((unsigned char)s[e - 1]) != (s[e] && is_word((unsigned char)s[e])))
            w->last = e;
    }
    return w->last > start ? w->last : start;
}

static json_t *html_of(const char *text, const struct entities *e, const json_t *photos,
                       const json_t *videos, const json_t *gifs)
{
    struct twp_buf b = { 0 };
    json_t *found = json_object();
    struct word_window tags = { 0 }, mentions = { 0 };
    size_t i = 0;
    while (text[i]) {
        unsigned char c = (unsigned char)text[i];
        size_t n = (c == 'h') ? tco_len(text + i) : 0;
        if (n) {
            const char *to = map_get(e->url_map, text + i, n);
            const char *media = to ? NULL : map_get(e->media_map, text + i, n);
            if (to) {
                twp_buf_adds(&b, "<a href=\"");
                twp_buf_adds(&b, to);
                twp_buf_adds(&b, "\">");
                twp_buf_adds(&b, to);
                twp_buf_adds(&b, "</a>");
            } else if (media) {
                twp_buf_adds(&b, "<br><a href=\"");
                twp_buf_add(&b, text + i, n);
                twp_buf_adds(&b, "\"><img src=\"");
                twp_buf_adds(&b, media);
                twp_buf_adds(&b, "\"/></a>");
                if (found)
                    json_object_set_new(found, media, json_true());
            } else {
                twp_buf_add(&b, text + i, n);
            }
            i += n;
            continue;
        }
        if ((c == '#' || c == '@') && (i == 0 || !is_word((unsigned char)text[i - 1]))) {
            size_t end = c == '#' ? word_end(&tags, text, i + 1, MAX_HASHTAG_RUNES)
                                  : word_end(&mentions, text, i + 1, MAX_MENTION_RUNES);
            if (end > i + 1) {
                twp_buf_adds(&b, c == '#' ? "<a href=\"https://twitter.com/hashtag/"
                                          : "<a href=\"https://twitter.com/");
                twp_buf_add(&b, text + i + 1, end - i - 1);
                twp_buf_adds(&b, "\">");
                twp_buf_add(&b, text + i, end - i);
                twp_buf_adds(&b, "</a>");
                i = end;
                continue;
            }
        }
        if (c == '\n')
            twp_buf_adds(&b, "<br>");
        else
            twp_buf_add(&b, text + i, 1);
        i++;
    }
    const json_t *lists[] = { photos, videos, gifs };
    const char *keys[] = { "url", "preview", "preview" };
    for (size_t l = 0; l < 3; l++) {
        size_t k;
        const json_t *m;
        json_array_foreach(lists[l], k, m) {
            const char *url = twp_str(m, keys[l]);
            if (!*url || json_object_get(found, url))
                continue;
            twp_buf_adds(&b, "<br><img src=\"");
            twp_buf_adds(&b, url);
            twp_buf_adds(&b, "\"/>");
        }
    }
    json_decref(found);
    char *s = twp_buf_take(&b);
    json_t *out = s ? json_string(s) : NULL;
    free(s);
    return out;
}

/* ---- media ---- */

/* strip_tag: url without a trailing "?tag=<digits>" (new string). */
static char *strip_tag(const char *url)
{
    const char *q = strstr(url, "?tag=");
    size_t n = strlen(url);
    if (q && q[5] && strspn(q + 5, "0123456789") == strlen(q + 5))
        n = (size_t)(q - url);
    return strndup(url, n);
}

static json_t *video_of(const json_t *m)
{
    const json_t *variants = twp_get(m, "video_info.variants");
    const char *best = "", *first_mp4 = "", *hls = "";
    long long best_rate = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(variants, i, v) {
        const char *type = twp_str(v, "content_type"), *url = twp_str(v, "url");
        long long rate = twp_int(v, "bitrate", NULL);
        if (!*url)
            continue;
        if (strcmp(type, "application/x-mpegURL") == 0 && !*hls)
            hls = url;
        if (strcmp(type, "video/mp4") == 0 && !*first_mp4)
            first_mp4 = url;
        if (rate > best_rate) {
            best_rate = rate;
            best = url;
        }
    }
    char *url = strip_tag(*best ? best : first_mp4);
    json_t *out = url ? json_pack("{s:s, s:s, s:s, s:s}", "id", twp_str(m, "id_str"),
                                  "preview", twp_str(m, "media_url_https"), "url", url,
                                  "hls_url", hls)
                      : NULL;
    free(url);
    return out;
}

static bool sensitive(const json_t *m)
{
    static const char *const keys[] = { "adult_content", "graphic_violence", "other" };
    for (size_t i = 0; i < 3; i++) {
        if (json_is_true(twp_get(json_object_get(m, "ext_sensitive_media_warning"), keys[i])) ||
            json_is_true(twp_get(json_object_get(m, "sensitive_media_warning"), keys[i])))
            return true;
    }
    return false;
}

/* add: appends item (stolen) to *list, creating it; false on OOM. */
static bool add(json_t **list, json_t *item)
{
    if (!item)
        return false;
    if (!*list && !(*list = json_array())) {
        json_decref(item);
        return false;
    }
    return json_array_append_new(*list, item) == 0;
}

struct media {
    json_t *photos, *videos, *gifs;
    bool sensitive;
    bool oom;
};

static void media_of(const struct entities *e, struct media *out)
{
    memset(out, 0, sizeof *out);
    size_t i;
    const json_t *m;
    json_array_foreach(e->media, i, m) {
        const char *type = twp_str(m, "type");
        bool ok = true;
        if (strcmp(type, "photo") == 0)
            ok = add(&out->photos, json_pack("{s:s, s:s}", "id", twp_str(m, "id_str"), "url",
                                             twp_str(m, "media_url_https")));
        else if (strcmp(type, "video") == 0)
            ok = add(&out->videos, video_of(m));
        else if (strcmp(type, "animated_gif") == 0)
            ok = add(&out->gifs, json_pack("{s:s}", "preview", twp_str(m, "media_url_https")));
        else
            continue;
        out->oom |= !ok;
        out->sensitive |= sensitive(m);
    }
}

static void media_clear(struct media *m)
{
    json_decref(m->photos);
    json_decref(m->videos);
    json_decref(m->gifs);
}

/* strings_of: [field of each element] of arr, NULL when none (or OOM: *oom set). */
static json_t *strings_of(const json_t *arr, const char *field, bool *oom)
{
    json_t *out = NULL;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = twp_str(v, field);
        if (*s && !add(&out, json_string(s)))
            *oom = true;
    }
    return out;
}

/* ---- text ---- */

static bool ends_with_ellipsis(const char *s)
{
    size_t n = strlen(s);
    return n >= 3 && memcmp(s + n - 3, "\xE2\x80\xA6", 3) == 0;
}

static const char *raw_text(const json_t *t)
{
    const char *note = twp_str(t, "note_tweet.note_tweet_results.result.text");
    if (*note)
        return note;
    const char *full = fstr(t, "full_text");
    return *full ? full : fstr(t, "text");
}

/* text_of: the tweet's text with links expanded; a retweet cut with "…" (depth 0 only) is
 * rebuilt from the embedded original. New string, NULL on OOM. */
static char *text_of(const json_t *t, const struct entities *e, int depth)
{
    char *text = twp_expand(raw_text(t), e->url_map, e->media_map);
    if (!text || depth > 0 || !ends_with_ellipsis(text))
        return text;
    const json_t *inner = twp_unwrap_tweet(twp_get(fld(t, "retweeted_status_result"), "result"));
    const char *user = username_of(inner);
    if (!inner || !*user)
        return text;
    struct entities ie;
    entities_of(inner, &ie);
    char *itext = text_of(inner, &ie, depth + 1);
    entities_clear(&ie);
    if (itext && *itext) {
        char *rt = NULL;
        if (asprintf(&rt, "RT @%s: %s", user, itext) >= 0) {
            free(text);
            text = rt;
        }
    }
    free(itext);
    return text;
}

/* ---- the TweetResult ---- */

static bool in_list(const json_t *list, const char *id)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return true;
    return false;
}

json_t *twp_tweet_result(const json_t *t, const struct twp_tweet_ctx *ctx)
{
    static const struct twp_tweet_ctx none;
    if (!ctx)
        ctx = &none;
    const char *id_text = twp_tweet_id(t);
    long long id;
    if (!*id_text || twp_parse_id(id_text, &id) < 0)
        return NULL;

    const json_t *author = author_of(t);
    const char *user_id = fstr(t, "user_id_str");
    if (!*user_id)
        user_id = twp_str2(author, "rest_id", "legacy.id_str");

    long long ts = 0;
    char created[40];
    if (twp_x_time(fstr(t, "created_at"), &ts) < 0)
        ts = 0;
    twp_rfc3339(ts, created, sizeof created);

    const json_t *rt = twp_get(fld(t, "retweeted_status_result"), "result");
    const char *rt_id = fstr(t, "retweeted_status_id_str");
    if (!*rt_id)
        rt_id = twp_tweet_id(twp_unwrap_tweet(rt));

    long long views = twp_int(fld(t, "ext_views"), "count", NULL);
    if (views == 0)
        views = twp_int(t, "views.count", NULL);

    const json_t *pinned = twp_get(author, "pinned_items.tweet_ids_str");
    if (!json_is_array(pinned))
        pinned = twp_get(author, "legacy.pinned_tweet_ids_str");

    struct entities e;
    struct media m;
    bool oom = false;
    entities_of(t, &e);
    media_of(&e, &m);
    char *text = text_of(t, &e, 0);
    json_t *hashtags = strings_of(e.hashtags, "text", &oom);
    json_t *urls = strings_of(e.urls, "expanded_url", &oom);
    json_t *html = html_of(raw_text(t), &e, m.photos, m.videos, m.gifs);

    struct tweet_result tr = {
        .id = id,
        .tweet_id = id_text,
        .conversation_id = fstr(t, "conversation_id_str"),
        .user_id = user_id,
        .text = text,
        .created_at = created,
        .timestamp = ts,
        .focal_tweet_id = ctx->focal_tweet_id,
        .thread_id = ctx->thread_id,
        .cursor = ctx->cursor,
        .cursor_type = ctx->cursor_type,
        .is_quoted = *fstr(t, "quoted_status_id_str") ||
                     json_is_object(twp_get(t, "quoted_status_result.result")),
        .is_pin = ctx->pinned || in_list(pinned, id_text),
        .is_reply = *fstr(t, "in_reply_to_status_id_str") != '\0',
        .is_retweet = *rt_id || json_is_object(rt),
        .is_self_thread = ctx->self_thread,
        .likes = fint(t, "favorite_count"),
        .hashtags = hashtags,
        .html = json_string_value(html),
        .replies = fint(t, "reply_count"),
        .retweets = fint(t, "retweet_count"),
        .urls = urls,
        .username = username_of(t),
        .photos = m.photos,
        .videos = m.videos,
        .retweeted_status_id = rt_id,
        .views = views,
        .sensitive_content = m.sensitive,
        .author_id = user_id,
        .retweet_count = fint(t, "retweet_count"),
        .reply_count = fint(t, "reply_count"),
        .like_count = fint(t, "favorite_count"),
        .quote_count = fint(t, "quote_count"),
        .bookmark_count = fint(t, "bookmark_count"),
        .lang = fstr(t, "lang"),
    };
    json_t *out = NULL;
    if (text && html && !oom && !m.oom)
        out = tweet_result_build(&tr);
    free(text);
    json_decref(hashtags);
    json_decref(urls);
    json_decref(html);
    media_clear(&m);
    entities_clear(&e);
    return out;
}
