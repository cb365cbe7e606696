/* apify.h - the one client of the Apify platform API (tiktok-reddit-apify.md 2.4 and 3).
 *
 * What the Reddit, TikTok-search and X-followers kinds need: start an actor run, wait for it to
 * reach a final state within the job's deadline, read one page of its default dataset, and the
 * offset cursor that lets a client ask for the next page. Plus the key check of 3.3, run once at
 * start-up.
 *
 * Differences from the Go service (DECISIONS.md): the base URL is APIFY_BASE_URL; the token travels
 * in an `Authorization: Bearer` header (never in a URL, so it cannot reach a log); TIMED-OUT is final
 * like FAILED and ABORTED; there is no 60-poll limit but the job's deadline, and a run still going
 * when the deadline comes is aborted (POST /actor-runs/<id>/abort); the poll interval is
 * APIFY_POLL_INTERVAL_MS. Every failure message carries Apify's own reason (status code and body,
 * or the run's statusMessage). */
#ifndef TW_APIFY_H
#define TW_APIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "err.h"

struct config;

/* ---- key check (3.3) ---- */

enum apify_key_state {
    APIFY_KEY_UNKNOWN = 0,   /* not checked, or the check could not tell (network, 429, 5xx, 403) */
    APIFY_KEY_VALID = 1,     /* users/me answered 200 */
    APIFY_KEY_INVALID = 2,   /* no key configured, or users/me answered 401 */
};

/* apify_check_key asks GET {base}/users/me once (5 s timeout), logs the outcome (never the key),
 * remembers it process-wide for apify_available and returns it. An empty key is INVALID without a
 * request. A 403 is UNKNOWN, not INVALID: a scoped token may run actors without reading the user.
 * stop (may be NULL) is asked while the request waits: true abandons it (UNKNOWN), so a worker
 * told to stop during start-up does not wait for the check. Call once at start-up, before the
 * capability report is built. */
int apify_check_key(const struct config *cfg, bool (*stop)(void *ctx), void *stop_ctx);

/* apify_key_state_get returns what the last apify_check_key found (UNKNOWN before any check). */
int apify_key_state_get(void);

/* apify_available: the key is set and the start-up check (if it ran) did not find it invalid.
 * This is what decides whether the Apify-backed kinds and capabilities are offered. */
bool apify_available(const struct config *cfg);

/* ---- runs and datasets (3.4) ---- */

struct apify_call {
    const char *actor;          /* "owner~name" */
    const json_t *input;        /* actor input (sent compact) */
    const char *cursor;         /* next_cursor from the client; NULL or "" = offset 0 */
    size_t limit;               /* dataset page size */
};

struct apify_page {
    json_t *items;              /* the raw dataset items (an array, owned; null items included) */
    size_t offset;              /* where this page starts */
    char *next_cursor;          /* cursor of the next page (owned), NULL when this page is short */
};

/* apify_run_page runs call->actor with call->input, waits for it until deadline (CLOCK_MONOTONIC),
 * and reads items [offset, offset + limit) of its default dataset into *out. Returns 0, or -1 with
 * e set (502 upstream refusal or breakage, 504 deadline, 503 no key) and nothing to free in out.
 * Makes no request at all when cfg has no Apify key. */
int apify_run_page(const struct config *cfg, const struct timespec *deadline,
                   const struct apify_call *call, struct apify_page *out, struct err *e);

void apify_page_clear(struct apify_page *p);

/* apify_items_parse decodes the text of a dataset page (a JSON array, or null for no items) into
 * *items (a new array). An item jansson cannot represent costs only itself (apify_items.c): an
 * integer beyond int64 becomes a real, an item with a \u0000 in a string or key, or a number beyond
 * double, becomes null (logged), in its place. Returns 0, or -1 with why set when the text is not
 * such a page or would take too much memory to decode (util/json_cost.h). */
int apify_items_parse(const char *text, size_t len, json_t **items, char *why, size_t whylen);

/* ---- cursor (2.4) ---- */

/* apify_cursor_decode: offset of base64(std, padded) of {"offset":N}; empty, malformed or negative
 * gives 0 (a bad cursor restarts from the beginning, as in Go). */
size_t apify_cursor_decode(const char *cursor);

/* apify_cursor_encode returns a new cursor for offset (caller frees), NULL on OOM. */
char *apify_cursor_encode(size_t offset);

/* ---- messages ---- */

/* apify_err_prefix rewrites e->msg as "<prefix>: <old msg>", cut at a UTF-8 character boundary
 * when too long. Returns -1 (for `return apify_err_prefix(...)`). */
int apify_err_prefix(struct err *e, const char *prefix);

#endif
