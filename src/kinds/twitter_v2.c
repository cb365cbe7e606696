/* twitter_v2.c - decoders of X API v2 answers into our result shapes (see twitter_v2.h).
 *
 * Each answer is parsed by jansson (integers stay json_int_t, ids are strings) and then run
 * through a json_record table, which gives Go's typed semantics: case-insensitive member names,
 * null = zero value, a type mismatch fails the whole answer. The record output is then turned
 * into TweetResult / the profile object by hand, member by member in Go's order. */
#include "kinds/twitter_v2.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/json_record.h"
#include "kinds/twitter_tweet_result.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"
#define MAX_SKIP 1000

/* ---- record tables ---- */

static const struct record_field metrics_fields[] = {
    { "retweet_count", RT_INT, NULL, false }, { "reply_count", RT_INT, NULL, false },
    { "like_count", RT_INT, NULL, false }, { "quote_count", RT_INT, NULL, false },
    { "bookmark_count", RT_INT, NULL, false },
};
static const struct record metrics_record = RECORD(metrics_fields);

/* A tweet of a search page: created_at typed as a time (a bad one fails the page). */
static const struct record_field search_tweet_fields[] = {
    { "id", RT_STRING, NULL, false }, { "text", RT_STRING, NULL, false },
    { "author_id", RT_STRING, NULL, false }, { "conversation_id", RT_STRING, NULL, false },
    { "created_at", RT_TIME, NULL, false }, { "lang", RT_STRING, NULL, false },
    { "public_metrics", RT_OBJECT, &metrics_record, false },
};
static const struct record search_tweet_record = RECORD(search_tweet_fields);

/* A looked-up tweet: created_at kept as text (a bad one becomes "now"). */
static const struct record_field lookup_tweet_fields[] = {
    { "id", RT_STRING, NULL, false }, { "text", RT_STRING, NULL, false },
    { "author_id", RT_STRING, NULL, false }, { "conversation_id", RT_STRING, NULL, false },
    { "created_at", RT_STRING, NULL, false }, { "lang", RT_STRING, NULL, false },
    { "public_metrics", RT_OBJECT, &metrics_record, false },
};
static const struct record lookup_tweet_record = RECORD(lookup_tweet_fields);

static const struct record_field user_ref_fields[] = {
    { "id", RT_STRING, NULL, false }, { "username", RT_STRING, NULL, false },
};
static const struct record user_ref_record = RECORD(user_ref_fields);

static const struct record_field includes_fields[] = {
    { "users", RT_OBJECT_ARRAY, &user_ref_record, false },
};
static const struct record includes_record = RECORD(includes_fields);

static const struct record_field meta_fields[] = {
    { "newest_id", RT_STRING, NULL, false }, { "oldest_id", RT_STRING, NULL, false },
    { "result_count", RT_INT, NULL, false }, { "next_token", RT_STRING, NULL, false },
};
static const struct record meta_record = RECORD(meta_fields);

static const struct record_field page_fields[] = {
    { "data", RT_OBJECT_ARRAY, &search_tweet_record, false },
    { "includes", RT_OBJECT, &includes_record, false },
    { "meta", RT_OBJECT, &meta_record, false },
};
static const struct record page_record = RECORD(page_fields);

static const struct record_field error_fields[] = {
    { "message", RT_STRING, NULL, false }, { "detail", RT_STRING, NULL, false },
    { "title", RT_STRING, NULL, false },
};
static const struct record error_record = RECORD(error_fields);

static const struct record_field profile_metrics_fields[] = {
    { "followers_count", RT_INT, NULL, false }, { "following_count", RT_INT, NULL, false },
    { "like_count", RT_INT, NULL, false }, { "listed_count", RT_INT, NULL, false },
    { "media_count", RT_INT, NULL, false }, { "tweet_count", RT_INT, NULL, false },
};
static const struct record profile_metrics_record = RECORD(profile_metrics_fields);

static const struct record_field profile_fields[] = {
    { "id", RT_STRING, NULL, false }, { "name", RT_STRING, NULL, false },
    { "username", RT_STRING, NULL, false }, { "description", RT_STRING, NULL, false },
    { "created_at", RT_STRING, NULL, false }, { "profile_banner_url", RT_STRING, NULL, false },
    { "profile_image_url", RT_STRING, NULL, false }, { "protected", RT_BOOL, NULL, false },
    { "verified", RT_BOOL, NULL, false }, { "location", RT_STRING, NULL, false },
    { "url", RT_STRING, NULL, false },
    { "public_metrics", RT_OBJECT, &profile_metrics_record, false },
};
static const struct record profile_record = RECORD(profile_fields);

/* ---- small helpers ---- */

static const char *str_of(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

static json_int_t int_of(const json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name));
}

static json_t *load_object(const char *body, size_t len, char *why, size_t whylen)
{
    return record_load_object(body, len, SIZE_MAX, "failed to unmarshal response", why, whylen);
}

/* decode_member: the record decode of root's member name (case-insensitive); an absent or null
 * member decodes as {} (zero record). */
static json_t *decode_member(const json_t *root, const char *name, const struct record *r,
                             char *why, size_t whylen)
{
    json_t *v = record_get_ci(root, name);
    json_t *empty = NULL;
    if (!v || json_is_null(v))
        v = empty = json_object();
    char detail[TWITTER_V2_WHY] = "";
    json_t *out = v ? record_decode(r, v, detail, sizeof detail) : NULL;
    json_decref(empty);
    if (!out)
        snprintf(why, whylen, "failed to unmarshal response: %s: %s", name,
                 *detail ? detail : "out of memory");
    return out;
}

/* api_error: "API error: <text>" from the first element of errors[] when there is one. */
static bool api_error(const json_t *root, char *why, size_t whylen)
{
    const json_t *errors = record_get_ci(root, "errors");
    if (!json_is_array(errors) || json_array_size(errors) == 0)
        return false;
    json_t *first = record_decode(&error_record, json_array_get(errors, 0), NULL, 0);
    const char *text = first ? str_of(first, "message") : "";
    if (!*text && first)
        text = *str_of(first, "detail") ? str_of(first, "detail") : str_of(first, "title");
    snprintf(why, whylen, "API error: %.150s", *text ? text : "(no message)");
    json_decref(first);
    return true;
}

int twitter_v2_parse_id(const char *s, long long *out, char *why, size_t whylen)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool syntax = *p && strspn(p, "0123456789") == strlen(p);
    if (syntax) {
        char *end;
        errno = 0;
        *out = strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0')
            return 0;
    }
    snprintf(why, whylen, "strconv.ParseInt: parsing \"%.40s\": %s", s,
             syntax ? "value out of range" : "invalid syntax");
    return -1;
}

/* ---- TweetResult ---- */

/* tweet_result builds a TweetResult from a decoded tweet record t. meta is the decoded page
 * meta or NULL (lookups). created_at is the already normalised time text. */
static json_t *tweet_result(const json_t *t, const char *created_at, const char *username,
                            const json_t *meta, const char *id_context, char *why, size_t whylen)
{
    long long id;
    char detail[120];
    const char *id_text = str_of(t, "id");
    if (twitter_v2_parse_id(id_text, &id, detail, sizeof detail) < 0) {
        snprintf(why, whylen, "failed to parse tweet ID '%.40s'%s: %s", id_text, id_context,
                 detail);
        return NULL;
    }
    const json_t *m = json_object_get(t, "public_metrics");
    struct tweet_result tr = {
        .id = id,
        .tweet_id = id_text,
        .conversation_id = str_of(t, "conversation_id"),
        .user_id = str_of(t, "author_id"),
        .text = str_of(t, "text"),
        .created_at = created_at,
        .username = username,
        .author_id = str_of(t, "author_id"),
        .retweet_count = int_of(m, "retweet_count"),
        .reply_count = int_of(m, "reply_count"),
        .like_count = int_of(m, "like_count"),
        .quote_count = int_of(m, "quote_count"),
        .bookmark_count = int_of(m, "bookmark_count"),
        .lang = str_of(t, "lang"),
        .newest_id = meta ? str_of(meta, "newest_id") : "",
        .oldest_id = meta ? str_of(meta, "oldest_id") : "",
        .result_count = meta ? int_of(meta, "result_count") : 0,
    };
    json_t *r = tweet_result_build(&tr);
    if (!r)
        snprintf(why, whylen, "out of memory while building a tweet");
    return r;
}

/* usernames_of: id -> username of a decoded includes record, the first user of an id winning
 * (new object, NULL on OOM). One pass, so that a page of many tweets and many users costs
 * tweets + users, not tweets x users. */
static json_t *usernames_of(const json_t *includes)
{
    json_t *map = json_object();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(includes, "users"), i, u) {
        const char *id = str_of(u, "id");
        if (map && *id && !json_object_get(map, id) &&
            json_object_set(map, id, json_object_get(u, "username")) < 0) {
            json_decref(map);
            return NULL;
        }
    }
    return map;
}

/* username_of: the username of author id in a usernames_of map ("" when absent). */
static const char *username_of(const json_t *usernames, const char *author)
{
    const char *name = *author ? json_string_value(json_object_get(usernames, author)) : NULL;
    return name ? name : "";
}

/* ---- search page ---- */

static int page_tweets(const json_t *decoded, struct twitter_v2_page *page, char *why,
                       size_t whylen)
{
    const json_t *data = json_object_get(decoded, "data");
    const json_t *meta = json_object_get(decoded, "meta");
    json_t *usernames = usernames_of(json_object_get(decoded, "includes"));
    size_t i;
    json_t *t;
    if (!usernames) {
        snprintf(why, whylen, "out of memory while reading users");
        return -1;
    }
    json_array_foreach(data, i, t) {
        const char *author = str_of(t, "author_id");
        json_t *r = tweet_result(t, str_of(t, "created_at"), username_of(usernames, author), meta,
                                 " from twitterx", why, whylen);
        if (!r || json_array_append_new(page->tweets, r) < 0) {
            if (r)
                snprintf(why, whylen, "out of memory while building tweets");
            json_decref(usernames);
            return -1;
        }
    }
    json_decref(usernames);
    const char *next = str_of(meta, "next_token");
    if (*next && !(page->next_token = strdup(next))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

int twitter_v2_decode_page(const char *body, size_t len, struct twitter_v2_page *page,
                           char *why, size_t whylen)
{
    memset(page, 0, sizeof *page);
    json_t *root = load_object(body, len, why, whylen);
    if (!root)
        return -1;
    char detail[TWITTER_V2_WHY] = "";
    json_t *decoded = record_decode(&page_record, root, detail, sizeof detail);
    json_decref(root);
    if (!decoded) {
        snprintf(why, whylen, "failed to unmarshal response: %s", *detail ? detail : "out of memory");
        return -1;
    }
    page->tweets = json_array();
    int rc = page->tweets ? page_tweets(decoded, page, why, whylen) : -1;
    if (!page->tweets)
        snprintf(why, whylen, "out of memory");
    json_decref(decoded);
    if (rc < 0)
        twitter_v2_page_clear(page);
    return rc;
}

void twitter_v2_page_clear(struct twitter_v2_page *page)
{
    json_decref(page->tweets);
    free(page->next_token);
    memset(page, 0, sizeof *page);
}

/* ---- lookups ---- */

static void time_text(time_t now, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* data_or_error: root's "data" member when it is present and not null; otherwise NULL with why
 * set to the API error (or "no data"). */
static const json_t *data_or_error(const json_t *root, char *why, size_t whylen)
{
    const json_t *data = record_get_ci(root, "data");
    if (data && !json_is_null(data))
        return data;
    if (!api_error(root, why, whylen))
        snprintf(why, whylen, "failed to unmarshal response: no data in the answer");
    return NULL;
}

json_t *twitter_v2_decode_tweet(const char *body, size_t len, time_t now, char *why,
                                size_t whylen)
{
    json_t *root = load_object(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *result = NULL, *tweet = NULL, *includes = NULL;
    if (!data_or_error(root, why, whylen) ||
        !(tweet = decode_member(root, "data", &lookup_tweet_record, why, whylen)) ||
        !(includes = decode_member(root, "includes", &includes_record, why, whylen)))
        goto done;
    char created[64];
    if (rfc3339_normalise(str_of(tweet, "created_at"), created, sizeof created, NULL) < 0)
        time_text(now, created, sizeof created);
    json_t *usernames = usernames_of(includes);
    if (!usernames)
        snprintf(why, whylen, "out of memory while reading users");
    else
        result = tweet_result(tweet, created, username_of(usernames, str_of(tweet, "author_id")),
                              NULL, "", why, whylen);
    json_decref(usernames);
done:
    json_decref(tweet);
    json_decref(includes);
    json_decref(root);
    return result;
}

json_t *twitter_v2_decode_profile(const char *body, size_t len, char *why, size_t whylen)
{
    json_t *root = load_object(body, len, why, whylen);
    if (!root)
        return NULL;
    json_t *profile = NULL;
    if (data_or_error(root, why, whylen))
        profile = decode_member(root, "data", &profile_record, why, whylen);
    json_decref(root);
    if (!profile)
        return NULL;
    if (!*str_of(profile, "location"))
        json_object_del(profile, "location");
    if (!*str_of(profile, "url"))
        json_object_del(profile, "url");
    json_t *out = json_pack("{s:o}", "data", profile);
    if (!out)
        snprintf(why, whylen, "out of memory while building the profile");
    return out;
}

char *twitter_v2_decode_username(const char *body, size_t len)
{
    char why[TWITTER_V2_WHY];
    json_t *root = load_object(body, len, why, sizeof why);
    if (!root)
        return NULL;
    json_t *user = NULL;
    char *name = NULL;
    if (data_or_error(root, why, sizeof why))
        user = decode_member(root, "data", &user_ref_record, why, sizeof why);
    if (user && *str_of(user, "username"))
        name = strdup(str_of(user, "username"));
    json_decref(user);
    json_decref(root);
    return name;
}

/* ---- search cursors ---- */

int twitter_v2_cursor_parse(const char *cursor, char *tok, size_t toklen, unsigned *skip)
{
    const char *tilde = strrchr(cursor, '~');
    size_t toklen_used = strlen(cursor);
    *skip = 0;
    if (tilde && tilde[1] && strlen(tilde + 1) <= 4 &&
        strspn(tilde + 1, "0123456789") == strlen(tilde + 1)) {
        unsigned n = (unsigned)strtoul(tilde + 1, NULL, 10);
        if (n <= MAX_SKIP) {
            *skip = n;
            toklen_used = (size_t)(tilde - cursor);
        }
    }
    /* X's next_token never holds '~' (it is alphanumeric): one left in the token means a cursor
     * that twitter_v2_cursor_make did not produce. */
    if (toklen_used >= toklen || memchr(cursor, '~', toklen_used))
        return -1;
    memcpy(tok, cursor, toklen_used);
    tok[toklen_used] = '\0';
    return 0;
}

char *twitter_v2_cursor_make(const char *token, unsigned skip)
{
    char *out = NULL;
    if (skip == 0)
        return strdup(token);
    if (asprintf(&out, "%s~%u", token, skip) < 0)
        return NULL;
    return out;
}

int twitter_v2_check_cursor(const struct twitter_request *req, struct err *e)
{
    char token[TWITTER_V2_CURSOR_MAX];
    unsigned skip;
    if ((req->op != TW_OP_SEARCHBYQUERY && req->op != TW_OP_SEARCHBYFULLARCHIVE) ||
        twitter_v2_cursor_parse(req->cursor, token, sizeof token, &skip) == 0)
        return 0;
    return err_set(e, 400, "error unmarshalling job arguments: next_cursor is not a search cursor "
                   "of this worker (an X next_token of at most %d bytes, then optionally "
                   "~<count>)", TWITTER_V2_CURSOR_MAX - 1);
}
