/* twitter_tweet_result.h - builds one TweetResult (twitter.md 8.1, jobs-and-capabilities.md 3.5):
 * every key, in Go's order, from a plain C description. Shared by the X API v2 decoders
 * (twitter_v2.c) and the web client parsers (twitter_web_parse.c), so the shape lives in one
 * place. Nothing here parses input. */
#ifndef TW_TWITTER_TWEET_RESULT_H
#define TW_TWITTER_TWEET_RESULT_H

#include <stdbool.h>

#include <jansson.h>

/* What goes into a TweetResult. Zero-initialise, then set what the source has: a NULL string
 * becomes "", a NULL json_t list becomes null. Lists are borrowed (the builder takes its own
 * reference). */
struct tweet_result {
    long long id;
    const char *tweet_id, *conversation_id, *user_id, *text;
    const char *created_at;                /* RFC 3339 text; NULL = "1970-01-01T00:00:00Z" */
    long long timestamp;
    /* ThreadCursor */
    const char *focal_tweet_id, *thread_id, *cursor, *cursor_type;
    bool is_quoted, is_pin, is_reply, is_retweet, is_self_thread;
    long long likes;
    json_t *hashtags;                      /* array of strings or NULL */
    const char *html;
    long long replies, retweets;
    json_t *urls;                          /* array of strings or NULL */
    const char *username;
    json_t *photos;                        /* array of {id,url} or NULL */
    json_t *videos;                        /* array of {id,preview,url,hls_url} or NULL */
    const char *retweeted_status_id;
    long long views;
    bool sensitive_content;
    const char *author_id;
    /* public_metrics (impression_count is always 0) */
    long long retweet_count, reply_count, like_count, quote_count, bookmark_count;
    const char *lang, *newest_id, *oldest_id;
    long long result_count;
};

/* tweet_result_build returns the TweetResult object (new reference), NULL when memory ran out. */
json_t *tweet_result_build(const struct tweet_result *t);

#endif
