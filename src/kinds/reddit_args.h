/* reddit_args.h - the arguments of a `reddit` job: decoding, defaults, validation
 * (tiktok-reddit-apify.md 2.1, jobs-and-capabilities.md 2.4) and the actor input they map to (2.2).
 *
 * DECISIONS.md: the default `type` (scrapeurls) is applied before validation, and `after` is sent
 * as given (postDateLimit carries it for scrapeurls and searchposts; the zero time when unset). */
#ifndef TW_REDDIT_ARGS_H
#define TW_REDDIT_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Go's job error was "failed to unmarshal job arguments: failed to unmarshal Reddit job arguments:
 * failed to unmarshal arguments: <messages>"; ours is a 400 at /job/generate and /job/add, and the
 * shorter prefix leaves room in the message for every URL's complaint. */
#define REDDIT_ARGS_PREFIX "invalid Reddit arguments: "

struct reddit_args {
    char type[24];                /* scrapeurls | searchposts | searchusers | searchcommunities */
    char sort[16];                /* lower-cased, default "new" */
    const json_t *queries;        /* borrowed from the job's arguments; NULL when absent */
    const json_t *urls;           /* borrowed; NULL when absent */
    bool include_nsfw, skip_posts;
    char after[64];               /* normalised RFC 3339, "" when unset */
    long long after_epoch;        /* Unix seconds of after */
    uint64_t max_items, max_results, max_posts, max_comments, max_communities, max_users;
    const char *next_cursor;      /* borrowed; "" when absent */
};

/* reddit_args_parse decodes and validates args into *a (which borrows from args). Returns 0, or -1
 * with e = 400 and REDDIT_ARGS_PREFIX + the messages of 2.1 joined with '\n'. */
int reddit_args_parse(const json_t *args, struct reddit_args *a, struct err *e);

/* reddit_actor_input returns the trudax~reddit-scraper input for a (new reference), NULL on OOM. */
json_t *reddit_actor_input(const struct reddit_args *a);

#endif
