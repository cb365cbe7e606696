/* twitter_web_parse.h - parsers of the X web client's GraphQL answers (credential backend) into
 * the result shapes we emit: TweetResult (twitter.md 8.1, jobs-and-capabilities.md 3.5), Profile
 * (8.2, Go's capitalised member names), Space (8.5) and the trend list (8.6).
 *
 * Pure functions: no I/O, no globals, safe to call from several threads at once. The body is hostile (any bytes, any size): a body that is
 * not a JSON object, or larger than TWITTER_WEB_MAX_BODY, fails with a reason in why; inside a
 * valid answer every shape we do not know (unknown __typename, tombstones, promoted entries,
 * a member of the wrong type, ...) is skipped, never a crash. Nesting we follow is bounded
 * (retweet/quote/visibility wrappers: TWITTER_WEB_MAX_NEST levels).
 *
 * Both generations of answers are read (twitter.md 5.9 = 2024, twitter-modern.md 5 = 2026, which
 * wins where they differ): user fields from the 2026 sub-objects (core, avatar, location, privacy,
 * verification, profile_bio, relationship_counts, tweet_counts, action_counts, pinned_items,
 * banner, relationship_perspectives) first, then `legacy`; tweet fields from the top level of the
 * result first, then `legacy` (which may be null); `timeline` and `timeline_v2` paths alike.
 *
 * Ids: tweet and user ids are read from the id strings (`id_str`, `rest_id`), never through a
 * double, so ids above 2^53 stay exact; TweetResult.id is the int64 of the id string.
 *
 * Go values deliberately fixed (DECISIONS.md: member names kept, wrong values fixed):
 *  - Profile.FollowingCount is the following count (`friends_count` /
 *    `relationship_counts.following`), not the likes count (twitter.md 11.11).
 *  - Profile.UserID is always the numeric `rest_id` (Go's followers/retweeters mapping used the
 *    opaque GraphQL `id`); IsPrivate, MediaCount, Sensitive, ProfileImageShape,
 *    HasGraduatedAccess, CanHighlightTweets are filled by every mapping when X sends them.
 *  - One tweet parser for every timeline: search results also get note-tweet (long post) text,
 *    and visibility-wrapped tweets (TweetWithVisibilityResults) are unwrapped everywhere,
 *    home timelines included (Go skipped them there).
 *  - A retweet whose inner tweet has no id no longer crashes (Go panicked, 11.17): the id comes
 *    from `retweeted_status_id_str` or stays "". A retweet's text cut with "…" is rebuilt as
 *    "RT @<user>: <original text>" from the embedded original.
 *  - Video url: the highest-bitrate variant, any trailing "?tag=<n>" removed; when no variant has
 *    a bitrate, the first video/mp4 variant (Go left it "").
 *  - Text: t.co links are replaced by their expanded URL, media t.co links by the media URL
 *    (the v0.0.18 behaviour, open point (b)); html anchors show the expanded URL.
 *  - TweetResult members Go left at zero although X sends them are filled: author_id (= user_id),
 *    lang, public_metrics (retweet/reply/like/quote/bookmark counts; impression_count stays 0).
 *  - The same tweet twice in one page (pinned and in the list) is returned once.
 *  - Promoted entries (entry id "promoted-...", or promotedMetadata) are skipped.
 *  - getreplies (TWITTER_WEB_TWEET_DETAIL): the focal tweet and its ancestors are not "replies";
 *    each reply's ThreadCursor is the show-more cursor of its own conversation thread module, not
 *    paired by position (11.12). next_cursor is the page's Bottom/ShowMoreThreads cursor.
 *  - Followers/following/retweeters: a Bottom cursor starting "0|" means "no more": next_cursor
 *    is NULL.
 *  - Trends: found by the TimelineTrend items of GenericTimelineById anywhere in the answer (the
 *    2024 guide.json shape is read too, without Go's crash on short answers, 11.15).
 *  - Space without rest_id: "space not found" (Go: "some erorr happend").
 */
#ifndef TW_TWITTER_WEB_PARSE_H
#define TW_TWITTER_WEB_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define TWITTER_WEB_MAX_BODY (32u * 1024u * 1024u)   /* larger bodies are refused */
#define TWITTER_WEB_MAX_NEST 4                      /* retweet/quote/visibility levels followed */
#define TWITTER_WEB_WHY 256                         /* a good size for why buffers */

/* Which GraphQL timeline a body answers; decides the path to the instructions and what an item is.
 * Every kind also accepts the other generation's path (timeline_v2 / timeline, ...). */
enum twitter_web_timeline {
    TWITTER_WEB_SEARCH,        /* SearchTimeline: data.search_by_raw_query.search_timeline.timeline */
    TWITTER_WEB_USER_TWEETS,   /* UserTweets, UserTweetsAndReplies: data.user.result.timeline(_v2).timeline */
    TWITTER_WEB_USER_MEDIA,    /* as USER_TWEETS (UserMedia too: profile-grid module, TimelineAddToModule),
                                  keeping only tweets with at least one photo or video */
    TWITTER_WEB_HOME,          /* HomeTimeline, HomeLatestTimeline: data.home.home_timeline_urt */
    TWITTER_WEB_TWEET_DETAIL,  /* TweetDetail for getreplies: data.threaded_conversation_with_injections_v2 */
    TWITTER_WEB_RETWEETERS,    /* Retweeters: data.retweeters_timeline.timeline -> Profiles */
    TWITTER_WEB_FOLLOWS,       /* Followers, Following: data.user.result.timeline(_v2).timeline -> Profiles */
    TWITTER_WEB_TIMELINE_COUNT
};

/* One parsed page. */
struct twitter_web_page {
    json_t *items;          /* JSON array: TweetResult objects, or Profile objects (RETWEETERS,
                               FOLLOWS), in document order; never NULL after success */
    char *next_cursor;      /* Bottom cursor (TWEET_DETAIL: Bottom / ShowMoreThreads), NULL if none */
    char *prev_cursor;      /* Top cursor, NULL if none */
    size_t entries;         /* timeline entries seen (tweets, users, cursors, modules, others):
                               0 with a cursor = an empty page X may still continue after */
    size_t skipped;         /* items of a known kind that could not be used (tombstones, no id,
                               unavailable users, promoted entries, unknown typenames) */
};

/* twitter_web_parse_timeline parses one page of a timeline answer (HTTP 200 body).
 * focal_id: the requested tweet id for TWITTER_WEB_TWEET_DETAIL (the replies exclude it and its
 * ancestors; ThreadCursor.focal_tweet_id is it), ignored otherwise (may be NULL).
 * Returns 0 (out filled; an answer without any timeline is an empty page only if it carries no
 * error, see below), or -1 with why set and out zeroed:
 *   - not JSON / not an object / too big: "failed to parse response: ...";
 *   - X's error envelope with no usable data: "X error <code>: <message>" (see twitter_web_error).
 * An answer with both errors and data (a partial result) is parsed and succeeds. */
int twitter_web_parse_timeline(enum twitter_web_timeline kind, const char *body, size_t len,
                               const char *focal_id, struct twitter_web_page *out, char *why,
                               size_t whylen);

void twitter_web_page_clear(struct twitter_web_page *page);

/* twitter_web_parse_tweet: one TweetResult (new reference) from a TweetResultByRestId answer
 * (data.tweetResult.result) or a TweetDetail answer (the entry whose id equals tweet_id).
 * NULL with why set when the body fails as above, or "tweet <id> not found" when the tweet is
 * absent, a tombstone or unavailable. */
json_t *twitter_web_parse_tweet(const char *body, size_t len, const char *tweet_id, char *why,
                                size_t whylen);

/* twitter_web_parse_user: one Profile (new reference) from a UserByScreenName / UserByRestId
 * answer (data.user.result), 2024 or 2026 shape. query (the screen name or id asked for; may be
 * NULL) only words the error. NULL with why set: "user is suspended" (UserUnavailable with reason
 * Suspended or message "User is suspended", or the Missing LdapGroup(visibility-custom-suspension)
 * error), "user not found" (no result / no rest_id), "either @<query> does not exist or is
 * private" (no screen name), the first X error message, or a body failure as above. */
json_t *twitter_web_parse_user(const char *body, size_t len, const char *query, char *why,
                               size_t whylen);

/* twitter_web_parse_trends: the trend names (new JSON array of strings, in document order; JSON
 * null when there is none, as Go's nil list) of a GenericTimelineById answer (every itemContent of __typename TimelineTrend: its
 * `name`) or of a 2024 guide.json answer (every trendMetadata.trendName). NULL with why set on a
 * body failure, or "no trend entries found" when the answer holds no timeline at all (a
 * guide.json answer: fewer than 2 instructions, or fewer than 2 entries in instruction 1). */
json_t *twitter_web_parse_trends(const char *body, size_t len, char *why, size_t whylen);

/* twitter_web_parse_space: the Space object of 8.5 (new reference) from an AudioSpaceById answer
 * (data.audioSpace). NULL with why set on a body failure or "space not found" (no rest_id). */
json_t *twitter_web_parse_space(const char *body, size_t len, char *why, size_t whylen);

/* ---- X's error envelope ----
 * {"errors":[{"message":"...","code":88,...}], "data":...}: the first error's code and message,
 * so that the caller classifies (rate limit, auth, not found, ...). */
struct twitter_web_error {
    long code;              /* errors[0].code, 0 when absent */
    char message[200];      /* errors[0].message (shortened), "" when absent */
    bool has_data;          /* a non-null "data" member came with the errors (partial result) */
};

/* twitter_web_error: 1 when body is a JSON object with a non-empty errors array (err filled),
 * 0 when it has none, -1 when body is not a JSON object (err zeroed). */
int twitter_web_error(const char *body, size_t len, struct twitter_web_error *err);

/* A coarse class of an X error, for cool-down and stats decisions (twitter-modern.md 4.3). */
enum twitter_web_error_class {
    TWITTER_WEB_ERR_OTHER,
    TWITTER_WEB_ERR_RATE_LIMIT,   /* code 88, or "Rate limit exceeded" */
    TWITTER_WEB_ERR_AUTH,         /* 32, 37, 64, 326, 353: the account/session is unusable */
    TWITTER_WEB_ERR_NOT_FOUND,    /* 34, 50, 63, 144, "_Missing", LdapGroup suspension */
    TWITTER_WEB_ERR_FEATURES,     /* 336: feature flags outdated */
};

enum twitter_web_error_class twitter_web_error_classify(const struct twitter_web_error *err);

#endif
