/* twitter_apify.h - X followers / following through the Apify actor (twitter.md 7 and 8.3).
 *
 * The `twitter-apify` kind (twitter_apify.c) is built on twitter_apify_followers; the `twitter`
 * kind calls the same function for getfollowers/getfollowing when apify_available(cfg). */
#ifndef TW_TWITTER_APIFY_H
#define TW_TWITTER_APIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jobs/kind.h"

#define TWITTER_APIFY_ACTOR "kaitoeasyapi~premium-x-follower-scraper-following-data"

/* twitter_apify_followers fetches one page of the followers (following = false) or the accounts
 * followed (following = true) of screen name `username`. max_results is the page size (0 = 200,
 * the least the actor is asked to collect); cursor is the job's next_cursor ("" or NULL = first
 * page). On success out->data is a JSON array of ProfileResultApify records ([] when none) and
 * out->next_cursor the next page when this one was full. Stats on ctx->stats under worker_id:
 * twitter_scrapes +1 before the run, twitter_returned_followers += n after success. Without an
 * Apify key it fails at once (503) with no request and no stats. Returns 0 or -1 (out->err set). */
int twitter_apify_followers(struct job_ctx *ctx, const char *worker_id, bool following,
                            const char *username, int64_t max_results, const char *cursor,
                            struct job_result *out);

/* twitter_apify_actor_input returns the actor input of twitter.md 7 (new reference). */
json_t *twitter_apify_actor_input(bool following, const char *username, int64_t max_results);

/* twitter_apify_profile_decode returns the ProfileResultApify record of one dataset item (new
 * reference), NULL when it does not decode (a null item included). */
json_t *twitter_apify_profile_decode(const json_t *raw, char *why, size_t whylen);

/* twitter_apify_profiles_decode: the decodable items of array raw, as a new array (NULL on OOM). */
json_t *twitter_apify_profiles_decode(const json_t *raw);

#endif
