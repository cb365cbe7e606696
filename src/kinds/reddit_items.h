/* reddit_items.h - Reddit actor dataset items -> the records of tiktok-reddit-apify.md 2.5.
 *
 * Each raw item is classified by its `dataType` member (key matched case-insensitively, value
 * exactly: user, post, comment, community) and decoded into that record (json_record.h rules).
 * Anything else - a null item, another dataType, a type mismatch - is not an item. */
#ifndef TW_REDDIT_ITEMS_H
#define TW_REDDIT_ITEMS_H

#include <stddef.h>

#include <jansson.h>

/* reddit_item_decode returns the output record for raw (new reference), or NULL when raw is not
 * a Reddit item (why, if not NULL, gets the reason). */
json_t *reddit_item_decode(const json_t *raw, char *why, size_t whylen);

/* reddit_items_decode returns a new array of the decodable items of raw (an array); NULL on OOM. */
json_t *reddit_items_decode(const json_t *raw);

#endif
