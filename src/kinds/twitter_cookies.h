/* twitter_cookies.h - cookie accounts for the X credential backend (twitter-modern.md §2.1):
 * reading an operator's cookie file into accounts with a cookie jar each, and the jar itself
 * (Cookie header, storage string, updates from Set-Cookie).
 *
 * A jar holds name=value pairs scoped to .x.com (cookies exported for twitter.com are re-domained;
 * cookies of other domains are ignored). It never holds a cookie whose name or value could break
 * a header: names are RFC 6265 tokens (1..TWITTER_COOKIE_MAX_NAME bytes), values are RFC 6265
 * cookie-octets (printable ASCII except space " , ; \), optionally wrapped in one pair of double
 * quotes, at most TWITTER_COOKIE_MAX_VALUE bytes. An account's jar always has non-empty
 * `auth_token` and `ct0`.
 *
 * Cookie file format (the whole file is refused on the first error; the message names the line,
 * or the JSON account, and what is wrong). The file is JSON when its first non-blank byte is
 * '[' or '{', else text.
 *
 * Text: one account per line; blank lines and lines starting with '#' are skipped; CRLF is fine;
 * leading/trailing blanks are trimmed.
 *     username:auth_token:ct0
 *     username <Cookie header>          e.g.  alice auth_token=ab12…; ct0=9f3c…; twid=u%3D42
 * The second form is recognised by a '=' in the line; the username and the header are separated
 * by spaces or tabs (a ':' right after the username is also accepted: `alice: auth_token=…`).
 *
 * JSON, one of:
 *     {"alice": <cookies>, "bob": <cookies>}                  accounts by username
 *     [{"username": "alice", "cookies": <cookies>}, …]        accounts in a list
 *     [{"name": "auth_token", "value": "…", "domain": ".x.com", …}, …]
 *                          a bare browser-extension export of ONE account; its username is
 *                          taken from the `twid` cookie (u%3D<id> → "<id>"), refused without it
 * where <cookies> is any of
 *     [{"name": …, "value": …, "domain": …, …}, …]   browser-extension export (EditThisCookie,
 *                          Cookie-Editor, …); keys matched case-insensitively (Go's Name/Value);
 *                          other keys ignored; a cookie whose domain is set and is not x.com,
 *                          twitter.com or a subdomain of them is skipped
 *     {"auth_token": "…", "ct0": "…", …}             name → value
 *     "auth_token=…; ct0=…"                          a Cookie header string
 * When a name repeats in one account, an x.com cookie wins over a twitter.com one, otherwise the
 * last one wins.
 *
 * Usernames: an optional leading '@' is dropped; then 1..TWITTER_COOKIE_MAX_USER bytes of
 * [A-Za-z0-9_]. A username may appear only once per file.
 *
 * Bounds: TWITTER_COOKIES_MAX_FILE bytes, TWITTER_COOKIES_MAX_LINE bytes per text line,
 * TWITTER_COOKIES_MAX_ACCOUNTS accounts, TWITTER_COOKIE_MAX_COUNT cookies per account. */
#ifndef TW_TWITTER_COOKIES_H
#define TW_TWITTER_COOKIES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define TWITTER_COOKIES_MAX_FILE     (4u * 1024 * 1024)
#define TWITTER_COOKIES_MAX_LINE     16384
#define TWITTER_COOKIES_MAX_ACCOUNTS 10000
#define TWITTER_COOKIE_MAX_COUNT     64
#define TWITTER_COOKIE_MAX_NAME      128
#define TWITTER_COOKIE_MAX_VALUE     4096
#define TWITTER_COOKIE_MAX_USER      64

struct twitter_cookie {
    char *name;
    char *value;
};

/* A cookie jar for .x.com, in insertion order. Zero-initialise before use. */
struct twitter_jar {
    struct twitter_cookie *v;
    size_t n;
};

struct twitter_cookie_account {
    char *username;
    struct twitter_jar jar;
    unsigned line;           /* text: 1-based line; JSON: 1-based position of the account */
};

struct twitter_cookie_file {
    struct twitter_cookie_account *v;
    size_t n;
};

/* twitter_cookies_parse reads a cookie file held in data[0..len). Returns 0 and fills *out
 * (free with twitter_cookie_file_free), or -1 with a message in why (whylen bytes), e.g.
 * "line 3: missing ct0", "account \"bob\": cookie \"x\" has a forbidden character",
 * "out of memory". *out is empty after a failure. */
int twitter_cookies_parse(const char *data, size_t len, struct twitter_cookie_file *out,
                          char *why, size_t whylen);

/* twitter_cookies_load reads and parses the file at path (refused when larger than
 * TWITTER_COOKIES_MAX_FILE). Same results as twitter_cookies_parse; why names the path on I/O
 * errors. */
int twitter_cookies_load(const char *path, struct twitter_cookie_file *out,
                         char *why, size_t whylen);

void twitter_cookie_file_free(struct twitter_cookie_file *f);

/* ---- The jar ----------------------------------------------------------------------------- */

/* twitter_jar_valid_name / _value: the character rules above (value may be empty). */
bool twitter_jar_valid_name(const char *name);
bool twitter_jar_valid_value(const char *value);

/* The value of cookie name, or NULL. */
const char *twitter_jar_get(const struct twitter_jar *jar, const char *name);

/* twitter_jar_set adds or replaces (in place) a cookie. Returns 0, -1 when the name or value
 * breaks the rules or the jar is full (TWITTER_COOKIE_MAX_COUNT), -2 on OOM (jar unchanged). */
int twitter_jar_set(struct twitter_jar *jar, const char *name, const char *value);

/* twitter_jar_remove drops cookie name; returns 1 when it was there, else 0. */
int twitter_jar_remove(struct twitter_jar *jar, const char *name);

/* twitter_jar_copy deep-copies src into *dst (dst is overwritten, not freed). 0 or -1 (OOM). */
int twitter_jar_copy(const struct twitter_jar *src, struct twitter_jar *dst);

void twitter_jar_free(struct twitter_jar *jar);   /* frees the contents and zeroes the jar */

/* twitter_jar_header returns the Cookie header value "a=b; c=d" (insertion order; "" for an
 * empty jar) as a new string (caller frees), NULL on OOM. This is also the jar's storage form:
 * twitter_jar_from_string reads it back. Send it only to x.com hosts. */
char *twitter_jar_header(const struct twitter_jar *jar);

/* twitter_jar_from_string parses a Cookie header / storage string "a=b; c=d" (blanks around
 * names and values trimmed, empty pairs skipped) into *out (overwritten, not freed). When
 * require_login is true, auth_token and ct0 must be present and non-empty. Returns 0, or -1
 * with the reason in why (out empty), -2 on OOM. */
int twitter_jar_from_string(const char *s, size_t len, bool require_login,
                            struct twitter_jar *out, char *why, size_t whylen);

/* twitter_jar_set_cookie applies one Set-Cookie response header value of an answer from host
 * (the request's host name, lower case, no port) at time now. A cookie without a Domain
 * attribute is the host's own; one whose Domain the host does not domain-match (RFC 6265 5.3
 * step 6: the host is the domain or a subdomain of it and not an IP address; a domain without an
 * inner dot, a public suffix like "com", only when it is the host itself) is ignored, as is
 * every cookie when host is NULL or empty. Max-Age <= 0 or an Expires date not after now deletes
 * it; otherwise it is set. Returns 1 when the jar changed, 0 when nothing changed (ignored,
 * malformed or same value), -2 on OOM. */
int twitter_jar_set_cookie(struct twitter_jar *jar, const char *host, const char *set_cookie,
                           size_t len, time_t now);

#endif
