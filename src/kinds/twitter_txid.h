/* twitter_txid.h - the `x-client-transaction-id` header of the X web client (twitter-modern.md §3.3).
 *
 * This module owns the pure part: reading the home page and the "indices" script, deriving the
 * per-account state (verification key + animation key) and making one id per request. It does no
 * I/O; the session code fetches what it is told to fetch. All inputs are hostile: sizes are
 * bounded, nothing crashes, anything not understood is an error with a reason in `why`.
 *
 * What the caller fetches (per account, with that account's cookies auth_token + ct0, a browser
 * user-agent and `accept: text/html,...`; follow HTTP redirects):
 *
 *   1. GET <x base>/home  (production base https://x.com, configurable; tests use a fake).
 *   2. While twitter_txid_next_hop() asks for it (at most TWITTER_TXID_MAX_HOPS times): fetch the
 *      hop it names (a `document.location = "..."` redirect is a GET; the legacy twitter.com ->
 *      x.com migrate form is a POST of `application/x-www-form-urlencoded` hop.body) and use the
 *      answer as the page.
 *   3. twitter_txid_page_parse(page) → one of:
 *        - twitter_txid_page_script_url() != NULL: GET that URL (webpack build; built from the
 *          configurable asset base, production https://abs.twimg.com) → the indices script;
 *        - else twitter_txid_page_chunks(): the Vite "x-web" build. GET those chunk URLs in the
 *          order given (most likely first) and pass each body to twitter_txid_find_script(); the
 *          first hit is the URL of the indices script: GET it.
 *      Do NOT send the account cookies to the asset host(s) (§2.1).
 *   4. twitter_txid_derive(page, script) → state. Free the page.
 *   5. For every X request: twitter_txid_make(state, "GET"/"POST", url path, time(NULL), ...)
 *      and send the result as `x-client-transaction-id`.
 *
 * When to rebuild (§3.3.9): keep the state per account (never share it across accounts whose
 * cookies/proxies differ). Rebuild from a fresh page when X answers HTTP 404 with an empty body
 * (retry the request at most 3 times, 1 s apart, rebuilding before each), and in any case after
 * TWITTER_TXID_REFRESH_SECONDS. On TWITTER_TXID_ERR_CHALLENGE back off (do not retry at once);
 * on TWITTER_TXID_ERR_ACCOUNT treat the account's cookies as bad (cool it down, rotate); on
 * TWITTER_TXID_ERR_PARSE send requests without the header and log `why` (X changed its page).
 * Wait at least TWITTER_TXID_RETRY_SECONDS after a failed build before trying again.
 *
 * URLs taken from a page (hops, chunks, the signing script) are absolute http(s) and lead only
 * to X's hosts (x.com, twitter.com, twimg.com and their subdomains) or to the host of the URL
 * the caller passed (page_url / asset_base / chunk_url); others are ignored. */
#ifndef TW_TWITTER_TXID_H
#define TW_TWITTER_TXID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Bounds on the hostile inputs (larger inputs are refused with TWITTER_TXID_ERR_PARSE). */
#define TWITTER_TXID_MAX_PAGE   (8u * 1024 * 1024)   /* home page bytes */
#define TWITTER_TXID_MAX_SCRIPT (16u * 1024 * 1024)  /* a chunk or the indices script */
#define TWITTER_TXID_MAX_CHUNKS 512                  /* x-web chunk URLs taken from a page */
#define TWITTER_TXID_MAX_URL    2048
#define TWITTER_TXID_MAX_HOPS   3
#define TWITTER_TXID_MIN_KEY    8                    /* verification key bytes (48 observed) */
#define TWITTER_TXID_MAX_KEY    128

/* Suggested cache lifetime of a state and back-off after a failed build (§3.3.9). */
#define TWITTER_TXID_REFRESH_SECONDS (3 * 3600)
#define TWITTER_TXID_RETRY_SECONDS   (5 * 60)

/* Output buffer sizes that always suffice. */
#define TWITTER_TXID_ID_MAX   256   /* twitter_txid_make: 94 chars + NUL for a 48-byte key */
#define TWITTER_TXID_ANIM_MAX 128   /* animation key + NUL */

/* One row of an animation frame: the first 11 integers are used (§3.3.5 step 10). */
#define TWITTER_TXID_ROW_LEN 11

enum twitter_txid_rc {
    TWITTER_TXID_OK = 0,
    TWITTER_TXID_ERR_PARSE = -1,      /* page or script not understood (X changed it / garbage) */
    TWITTER_TXID_ERR_ACCOUNT = -2,    /* logged-out app served: the account's cookies are bad */
    TWITTER_TXID_ERR_CHALLENGE = -3,  /* Cloudflare challenge page: back off */
    TWITTER_TXID_ERR_NOMEM = -4,
};

/* ---- Page fetch (§3.3.1 - §3.3.3) -------------------------------------------------------- */

/* A follow-up request the page asks for before it is the real page (§3.3.1 step 2). */
struct twitter_txid_hop {
    char *url;    /* absolute URL to fetch */
    char *body;   /* NULL: GET. Else POST this application/x-www-form-urlencoded body */
};

/* twitter_txid_next_hop looks at a fetched page (page_url = its final URL, used to resolve
 * relative URLs). Returns 1 and fills *hop (free with twitter_txid_hop_free) when the page is a
 * `document.location = "..."` redirect, a `meta http-equiv=refresh` to a migrate URL, or a form
 * posting to .../x/migrate; 0 when the page is to be parsed as it is; TWITTER_TXID_ERR_NOMEM. */
int twitter_txid_next_hop(const char *html, size_t len, const char *page_url,
                          struct twitter_txid_hop *hop);
void twitter_txid_hop_free(struct twitter_txid_hop *hop);

/* twitter_txid_cookie_host: an account's cookies may go with a request to url: its host is the
 * host of web_base (the configured X web base) or x.com or a subdomain of it. Never twimg.com,
 * where a hop may also lead (cookies are scoped to .x.com; twitter-modern.md). */
bool twitter_txid_cookie_host(const char *url, const char *web_base);

/* What the home page yields: the verification key, the selected animation frame's rows and
 * where the indices script is. */
struct twitter_txid_page;

/* twitter_txid_page_parse parses the home page. page_url is its final URL (resolves relative
 * chunk URLs); asset_base is the scheme+host the webpack build's scripts are fetched from
 * (production "https://abs.twimg.com", no trailing slash needed). Returns TWITTER_TXID_OK and a
 * new page in *out, or an error code (ERR_CHALLENGE, ERR_ACCOUNT, ERR_PARSE, ERR_NOMEM) with the
 * reason in why (whylen bytes, may be 0). */
int twitter_txid_page_parse(const char *html, size_t len, const char *page_url,
                            const char *asset_base, struct twitter_txid_page **out,
                            char *why, size_t whylen);

/* The indices script URL (webpack builds), or NULL when the chunks must be searched (x-web). */
const char *twitter_txid_page_script_url(const struct twitter_txid_page *p);

/* The x-web chunk URLs to search, most likely first (sentry-filter chunks first); *n = count
 * (0 for webpack builds). Valid until the page is freed. */
const char *const *twitter_txid_page_chunks(const struct twitter_txid_page *p, size_t *n);

/* twitter_txid_find_script searches one downloaded x-web chunk for the relative import of the
 * signing script (`sign.o…js` or `ondemand.s…js`) and resolves it against chunk_url. Returns 1
 * with a new URL in *url (caller frees), 0 when this chunk does not reference it, ERR_NOMEM. */
int twitter_txid_find_script(const char *js, size_t len, const char *chunk_url, char **url);

void twitter_txid_page_free(struct twitter_txid_page *p);

/* ---- State (§3.3.4 - §3.3.6) ------------------------------------------------------------- */

/* Per-account state: verification key bytes + animation key. Immutable once built, so it may be
 * used from several threads at once. */
struct twitter_txid_state;

/* twitter_txid_derive reads the indices from the script (§3.3.4), picks the row and computes the
 * animation key. Returns TWITTER_TXID_OK and a new state in *out, or ERR_PARSE/ERR_NOMEM with
 * the reason in why. The page is not consumed. */
int twitter_txid_derive(const struct twitter_txid_page *page, const char *script, size_t len,
                        struct twitter_txid_state **out, char *why, size_t whylen);

/* twitter_txid_state_from_pair builds a state from a precomputed (verification, animation key)
 * pair (the configurable fallback of §3.3.9): verification is the meta tag's base64 content,
 * animation_key a lowercase [0-9a-f] string. Returns TWITTER_TXID_OK, ERR_PARSE (bad input,
 * reason in why) or ERR_NOMEM. */
int twitter_txid_state_from_pair(const char *verification_b64, const char *animation_key,
                                 struct twitter_txid_state **out, char *why, size_t whylen);

/* The state's animation key (lowercase hex-ish string), for logs and tests. */
const char *twitter_txid_state_anim_key(const struct twitter_txid_state *st);

/* twitter_txid_state_dup: a copy of st (NULL for NULL or on OOM). */
struct twitter_txid_state *twitter_txid_state_dup(const struct twitter_txid_state *st);

void twitter_txid_state_free(struct twitter_txid_state *st);

/* ---- Per-request id (§3.3.7) ------------------------------------------------------------- */

/* twitter_txid_make writes the header value for one request into out (outlen bytes; use
 * TWITTER_TXID_ID_MAX). method as sent ("GET", "POST"); path is the URL path only, starting with
 * '/' (anything from '?' on is ignored), e.g. "/i/api/graphql/<id>/SearchTimeline". now is the
 * current Unix time. Uses one random byte (crypto_random). Returns 0, or -1 (bad arguments,
 * out too small, RNG failure). */
int twitter_txid_make(const struct twitter_txid_state *st, const char *method, const char *path,
                      time_t now, char *out, size_t outlen);

/* Deterministic variant for tests: rel_seconds is already the seconds since 2023-05-01 07:00:00
 * UTC (Unix 1682924400), random_byte the XOR byte. */
int twitter_txid_make_raw(const struct twitter_txid_state *st, const char *method,
                          const char *path, uint32_t rel_seconds, uint8_t random_byte,
                          char *out, size_t outlen);

/* ---- Pure steps, exposed for tests ------------------------------------------------------- */

/* twitter_txid_animation_key computes the animation key from one frame row and the raw
 * frame time (the product of §3.3.6 step 12, before rounding to 10). Returns 0 or -1 (out too
 * small). */
int twitter_txid_animation_key(const int row[TWITTER_TXID_ROW_LEN], double frame_time,
                               char *out, size_t outlen);

/* twitter_txid_key_from_parts does §3.3.4-§3.3.6 on already-extracted inputs: key bytes,
 * indices (idx[0] row index position, the rest time positions) and the frame's rows. Returns 0,
 * or -1 with why when an index is out of range or too few indices/rows. */
int twitter_txid_key_from_parts(const uint8_t *key, size_t keylen, const int *idx, size_t nidx,
                                const int (*rows)[TWITTER_TXID_ROW_LEN], size_t nrows,
                                char *out, size_t outlen, char *why, size_t whylen);

/* twitter_txid_state_new builds a state from raw key bytes and an animation key (copied). */
int twitter_txid_state_new(const uint8_t *key, size_t keylen, const char *animation_key,
                           struct twitter_txid_state **out);

#endif
