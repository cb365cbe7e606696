/* twitter_v2.h - X API v2: response decoders (twitter_v2.c) and the three operations of the
 * API-key backend (twitter_v2_client.c). twitter.md 6 and 8.1/8.4, jobs-and-capabilities.md 3.5.
 *
 * Decoders take an upstream body (hostile: any bytes) and produce the result shapes we emit:
 * TweetResult (every key, Go's order, `id` an exact 64-bit integer parsed from the id string,
 * never through a double) and the API profile object {"data":{...}}. Typed like Go's decoder:
 * a member of the wrong type (a number for `text`, a non-RFC 3339 `created_at`, 1.5 for a count)
 * fails the whole response with "failed to unmarshal response: ...". The message written to why
 * is what the user sees. Nothing here does I/O. */
#ifndef TW_TWITTER_V2_H
#define TW_TWITTER_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "jobs/kind.h"
#include "kinds/twitter_backend.h"

/* Field lists sent with each request (twitter.md 6.2 to 6.4). */
#define TWITTER_V2_SEARCH_TWEET_FIELDS                                                          \
    "created_at,author_id,public_metrics,context_annotations,geo,lang,possibly_sensitive,"      \
    "source,withheld,attachments,entities,conversation_id,in_reply_to_user_id,"                 \
    "referenced_tweets,reply_settings,media_metadata,note_tweet,display_text_range,"            \
    "edit_controls,edit_history_tweet_ids,article,card_uri,community_id"
#define TWITTER_V2_SEARCH_USER_FIELDS                                                           \
    "username,affiliation,connection_status,description,entities,id,is_identity_verified,"      \
    "location,most_recent_tweet_id,name,parody,pinned_tweet_id,profile_banner_url,"             \
    "profile_image_url,protected,public_metrics,receives_your_dm,subscription,"                 \
    "subscription_type,url,verified,verified_followers_count,verified_type,withheld"
#define TWITTER_V2_PLACE_FIELDS                                                                 \
    "contained_within,country,country_code,full_name,geo,id,name,place_type"
#define TWITTER_V2_LOOKUP_TWEET_FIELDS                                                          \
    "created_at,author_id,public_metrics,context_annotations,geo,lang,possibly_sensitive,"      \
    "source,withheld,attachments,entities,conversation_id,in_reply_to_user_id,"                 \
    "referenced_tweets,reply_settings,edit_controls,edit_history_tweet_ids"
#define TWITTER_V2_PROFILE_FIELDS                                                               \
    "id,name,username,description,location,url,verified,protected,created_at,"                  \
    "profile_image_url,profile_banner_url,public_metrics"

#define TWITTER_V2_WHY 200

/* One page of a search answer. */
struct twitter_v2_page {
    json_t *tweets;          /* array of TweetResult; username from includes.users or "" */
    char *next_token;        /* meta.next_token, NULL when absent or empty */
};

/* twitter_v2_decode_page decodes a search page (200 body). Returns 0, or -1 with why set. */
int twitter_v2_decode_page(const char *body, size_t len, struct twitter_v2_page *page,
                           char *why, size_t whylen);
void twitter_v2_page_clear(struct twitter_v2_page *page);

/* twitter_v2_decode_tweet decodes a tweet lookup (200 body) into one TweetResult (new
 * reference); created_at that does not parse becomes now (Go). NULL with why set on failure
 * (including "API error: <message>" when the body carries errors and no data). */
json_t *twitter_v2_decode_tweet(const char *body, size_t len, time_t now, char *why,
                                size_t whylen);

/* twitter_v2_decode_profile decodes a user lookup (200 body) into {"data":{...}} of twitter.md
 * 8.4 (new reference), NULL with why set on failure. */
json_t *twitter_v2_decode_profile(const char *body, size_t len, char *why, size_t whylen);

/* twitter_v2_decode_username: data.username of a plain GET /users/<id> answer (new string,
 * caller frees), NULL when absent, empty or not decodable. */
char *twitter_v2_decode_username(const char *body, size_t len);

/* twitter_v2_parse_id parses a tweet id as Go's strconv.ParseInt(s, 10, 64). Returns 0, or -1
 * with why = "strconv.ParseInt: parsing \"<s>\": invalid syntax" (or "value out of range"). */
int twitter_v2_parse_id(const char *s, long long *out, char *why, size_t whylen);

/* ---- search cursors ----
 * next_cursor of a search is the X next_token of the page to read next, optionally followed by
 * "~<n>": skip the first n tweets of that page (already returned, when max_results ended in the
 * middle of a page). "~<n>" alone means the first page. Any other text is an X token. */

#define TWITTER_V2_CURSOR_MAX 512      /* bytes of a search cursor's token, with its NUL */

/* twitter_v2_cursor_parse splits cursor into token (copied into tok, "" for none) and skip.
 * Returns 0, or -1 when the cursor is too long for tok. */
int twitter_v2_cursor_parse(const char *cursor, char *tok, size_t toklen, unsigned *skip);

/* twitter_v2_cursor_make returns a new cursor (caller frees), NULL on OOM. */
char *twitter_v2_cursor_make(const char *token, unsigned skip);

/* twitter_v2_check_cursor: 0 when req is not a search or its next_cursor is a search cursor
 * twitter_v2_cursor_parse reads; else -1 with e = 400 saying what a search cursor is. Every kind
 * whose search runs on the API-key backend refuses such a cursor at /job/generate and /job/add. */
int twitter_v2_check_cursor(const struct twitter_request *req, struct err *e);

/* ---- the API-key backend's operations (network; twitter_v2_client.c) ----
 * Each picks keys through twitter_keys (rotation; 429 cools the key down and the next key is
 * tried; 401 marks it bad and the next key is tried), bounds every request by the job deadline
 * (at most 30 s each), and counts twitter.md 4's stats under req->worker_id: twitter_scrapes +1
 * once a key is obtained; twitter_returned_tweets / twitter_returned_profiles on success;
 * twitter_ratelimit_errors per 429, twitter_auth_errors per rejected key or when no key is
 * usable, twitter_errors for other failures. Return 0, -1 (out->err: the real reason) or
 * TWITTER_BACKEND_NO_SESSION when no key could be used at all. */

/* Search: recent (searchbyquery) or full archive (searchbyfullarchive), next_token paging until
 * max_results tweets (0 = [] without a request); a 429 after some tweets returns them (partial
 * result) with next_cursor pointing at the page that was refused. Each tweet is returned once;
 * a next_token already followed, or three pages in a row without a new tweet, end the search
 * (X repeating itself). */
int twitter_v2_search(const struct twitter_request *req, struct job_ctx *ctx,
                      struct job_result *out);

/* Tweet lookup (getbyid): one TweetResult. */
int twitter_v2_get_tweet(const struct twitter_request *req, struct job_ctx *ctx,
                         struct job_result *out);

/* User lookup (getprofilebyid): the API profile object. */
int twitter_v2_get_profile(const struct twitter_request *req, struct job_ctx *ctx,
                           struct job_result *out);

#endif
