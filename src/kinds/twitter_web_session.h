/* twitter_web_session.h - the logged-in session of each credential account: its cookie jar,
 * where the cookies come from, their sealed persistence, the one-time check, and the account's
 * x-client-transaction-id state (twitter.md 5.3, 5.5; twitter-modern.md 2.1, 2.5, 3.3).
 *
 * Where an account's cookies come from, in order: the sealed store (the cookies of an earlier
 * run, kept under the secret "twitter_cookies:<account>"), then TWITTER_COOKIES_FILE, then the Go
 * worker's {DATA_DIR}/{account}_twitter_cookies.json (read once for migration, never written),
 * then the login flow (password accounts; twitter_web_login.c). A session is reused by every job until
 * X says it is dead (401 / code 32): then the next source is tried, and an account with no source
 * left is marked bad. Cookies X sets on any answer (ct0 rotation, __cf_bm, ...) are taken into the
 * jar, and a change of auth_token or ct0 is persisted, sealed.
 *
 * TWITTER_SKIP_LOGIN_VERIFICATION=false: cookies restored from the store or the file are checked
 * once with GET {TWITTER_LOGIN_BASE}/1.1/account/settings.json before the account's first use;
 * true: no check, the first real request decides. Fresh login cookies are never re-checked.
 *
 * Thread-safe: one mutex guards the jars (short sections); establishing a session (store read,
 * check, login: I/O) runs under a per-account mutex, so one account logs in once at a time. */
#ifndef TW_TWITTER_WEB_SESSION_H
#define TW_TWITTER_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct config;
struct job_ctx;
struct secret_store;
struct twitter_txid_state;

#define TW_SESSION_SECRET_LABEL "tee-worker twitter cookies v1"
#define TW_SESSION_SECRET_PREFIX "twitter_cookies:"

/* tw_session_attach_store: persist cookies in this secret store (app start-up; the store must
 * outlive the sessions). Without one, sessions live in memory only. */
void tw_session_attach_store(const struct secret_store *store);
void tw_session_detach_store(void);

/* tw_session_open makes account i's session usable (see above). Returns 0, or -1 with e set when
 * the account cannot be used (it is then marked bad in the pool, with the reason). The messages
 * never name the account (they may reach a client); the log does. */
int tw_session_open(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    struct err *e);

/* What one request of account i sends. */
struct tw_session_view {
    char *cookie_header;                        /* owned */
    char *ct0;                                  /* owned */
    char *auth_token;                           /* owned: the session the request belongs to */
    struct twitter_txid_state *txid;            /* owned copy; NULL without a state */
};

/* tw_session_view fills v for one request of account i (building the transaction-id state when
 * due, which fetches the X home page with the account's cookies). An account whose session another
 * job is renewing is waited for (at most until ctx's deadline), or set up again as
 * tw_session_open does. Returns 0, or -1 with e set (504 at the deadline, 503 when the account
 * cannot be used any more, 500 out of memory). */
int tw_session_view(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    struct tw_session_view *v, struct err *e);
void tw_session_view_clear(struct tw_session_view *v);

/* tw_session_absorb applies the Set-Cookie lines of an answer from host (tw_web_answer.host;
 * cookies scoped to a domain host does not match are ignored, twitter_jar_set_cookie) to account
 * i's jar; persists when auth_token or ct0 changed. sent_auth is the auth_token the request went
 * with: when the jar holds another session by then (another job renewed it meanwhile), the
 * answer's cookies belong to the replaced session and are dropped (its ct0 would not match the
 * new auth_token). */
void tw_session_absorb(size_t i, const char *sent_auth, const char *host,
                       const char *set_cookies);

/* tw_session_dead: X refused account i's session (401 / code 32) when it was sent with the
 * auth_token `refused`. Drops the cookies (also the stored copy) and establishes the next
 * source, unless another job already did (the jar's auth_token is no longer `refused`). Returns
 * 0 when a new session is ready, -1 with e set when the account has no source left (it is then
 * marked bad). */
int tw_session_dead(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    const char *refused, struct err *e);

/* tw_session_auth_token: a copy of account i's current auth_token (caller frees), or NULL. */
char *tw_session_auth_token(size_t i);

/* tw_session_txid_stale: X answered 404 with an empty body: rebuild account i's transaction-id
 * state before its next request. */
void tw_session_txid_stale(size_t i);

/* tw_session_reset forgets every session (tests; not while jobs run). */
void tw_session_reset(void);

#endif
