/* tiktok_search.h - the Apify-backed operations of the `tiktok` kind: searchbyquery and
 * searchbytrending (tiktok-reddit-apify.md 1.10, jobs-and-capabilities.md 2.3 and 3.2).
 *
 * The `tiktok` kind (tiktok.c) owns dispatch on arguments.type; for these two types it calls the
 * functions below. They are to be offered only when apify_available(cfg). */
#ifndef TW_TIKTOK_SEARCH_H
#define TW_TIKTOK_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "jobs/kind.h"

struct config;
struct job;

/* The two capability names, NULL-terminated. */
extern const char *const tiktok_search_capabilities[];

/* tiktok_search_handles: type (already lower-cased) is searchbyquery or searchbytrending. */
bool tiktok_search_handles(const char *type);

/* tiktok_search_available: the search capabilities are offered (same as apify_available). */
bool tiktok_search_available(const struct config *cfg);

/* tiktok_search_validate checks the arguments of operation type (400 with a specific message,
 * prefixed "Failed to unmarshal job arguments: "). Returns 0 or -1. */
int tiktok_search_validate(const char *type, const json_t *arguments, struct err *e);

/* tiktok_search_run runs operation type for job: data is the array of decoded videos (or null
 * when none decoded, as Go), next_cursor the following dataset page when this one was full.
 * Stats: tiktok_queries +1 and tiktok_returned_videos += n on success, tiktok_errors +1 when Apify
 * fails. Fails at once (503, no request, no stats) without an Apify key. */
int tiktok_search_run(const char *type, const struct job *job, struct job_ctx *ctx,
                      struct job_result *out);

/* The item decoders (also used by the fuzz target): a new record, or NULL when raw does not fit. */
json_t *tiktok_query_item_decode(const json_t *raw, char *why, size_t whylen);
json_t *tiktok_trending_item_decode(const json_t *raw, char *why, size_t whylen);

#endif
