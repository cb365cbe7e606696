/* twitter_web_parse_internal.h - what the files of the X web parser share (twitter_web_parse.c:
 * entry points, timeline walking, JSON helpers; twitter_web_parse_tweet.c: tweet -> TweetResult;
 * twitter_web_parse_user.c: user -> Profile, Space, trends). Not for other modules. */
#ifndef TW_TWITTER_WEB_PARSE_INTERNAL_H
#define TW_TWITTER_WEB_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* ---- JSON helpers (all tolerate NULL and wrong types) ---- */

/* twp_get: the value at a dotted member path ("a.b.c") of o, NULL when a step is missing or not
 * an object. Paths are literals of this parser. */
const json_t *twp_get(const json_t *o, const char *path);
/* twp_str: the string at path, "" when absent or not a string. */
const char *twp_str(const json_t *o, const char *path);
/* twp_str2: twp_str(o, first) when non-empty, else twp_str(o, second). */
const char *twp_str2(const json_t *o, const char *first, const char *second);
/* twp_int: an integer, or a string of 1..18 decimal digits, at path; 0 (found false) otherwise. */
long long twp_int(const json_t *o, const char *path, bool *found);
/* twp_int2: the value at first when found there, else at second. */
long long twp_int2(const json_t *o, const char *first, const char *second);
/* twp_bool2: the boolean at first when it is one, else at second (false when neither). */
bool twp_bool2(const json_t *o, const char *first, const char *second);
/* twp_typename: the __typename of o, "" when none. */
const char *twp_typename(const json_t *o);

/* twp_parse_id: a tweet/user id string (1..19 decimal digits, fits int64). 0 or -1. */
int twp_parse_id(const char *s, long long *out);

/* twp_x_time parses X's "Wed Jan 01 12:00:00 +0000 2025" into Unix seconds. 0 or -1. */
int twp_x_time(const char *s, long long *out);
/* twp_rfc3339 writes secs as "2006-01-02T15:04:05Z" (UTC); the epoch when out of range. */
void twp_rfc3339(long long secs, char *buf, size_t len);

/* ---- a growable string ---- */
struct twp_buf {
    char *p;
    size_t len, cap;
    bool oom;
};
void twp_buf_add(struct twp_buf *b, const char *s, size_t n);
void twp_buf_adds(struct twp_buf *b, const char *s);
/* twp_buf_take: the NUL-terminated text (caller frees), NULL after an allocation failure. */
char *twp_buf_take(struct twp_buf *b);

/* ---- tweets (twitter_web_parse_tweet.c) ---- */

/* twp_unwrap_tweet: the tweet object inside a tweet result: result itself when its __typename is
 * "Tweet" (or absent), the nested `tweet` of TweetWithVisibilityResults (a few levels at most);
 * NULL for tombstones, unavailable tweets and unknown typenames. */
const json_t *twp_unwrap_tweet(const json_t *result);

/* twp_expand: text with every t.co link found in url_map replaced by its value, else in
 * media_map (maps: t.co url -> replacement; either may be NULL). New string, NULL on OOM. */
char *twp_expand(const char *text, const json_t *url_map, const json_t *media_map);

/* twp_tweet_id: the id string of an unwrapped tweet ("" when it has no usable id). */
const char *twp_tweet_id(const json_t *tweet);

/* Context of one tweet in a timeline. */
struct twp_tweet_ctx {
    bool pinned;                      /* came from a TimelinePinEntry */
    bool self_thread;                 /* tweetDisplayType "SelfThread" */
    const char *focal_tweet_id;       /* ThreadCursor members (NULL = "") */
    const char *thread_id;
    const char *cursor;
    const char *cursor_type;
};

/* twp_tweet_result: the TweetResult (new reference) of an unwrapped tweet; NULL when the tweet has
 * no usable id or memory ran out. ctx may be NULL. */
json_t *twp_tweet_result(const json_t *tweet, const struct twp_tweet_ctx *ctx);

/* ---- users, spaces, trends (twitter_web_parse_user.c) ---- */

/* twp_profile: the Profile (new reference) of a user result (__typename "User" or absent, with a
 * rest_id); NULL otherwise or on OOM. */
json_t *twp_profile(const json_t *user);

/* twp_space: the Space of data.audioSpace; NULL with why set. */
json_t *twp_space(const json_t *audio_space, char *why, size_t whylen);

/* twp_trends: appends the trend names found under v to out (depth-bounded walk). */
void twp_trends(const json_t *v, json_t *out, int depth);

#endif
