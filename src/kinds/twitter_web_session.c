/* twitter_web_session.c - per-account sessions of the credential backend (see
 * twitter_web_session.h).
 *
 * State: an array parallel to the account pool, created on first use. jar_lock guards the jars
 * and flags; each session's `setup` mutex serialises establishing it (store read, check, login,
 * transaction-id page fetch), which does I/O. A request takes its own copy of the account's
 * transaction-id state (tw_session_view), so a rebuild frees the one it replaces at once. */
#include "kinds/twitter_web_session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "jobs/kind.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_cookies.h"
#include "kinds/twitter_txid.h"
#include "kinds/twitter_web_login.h"
#include "kinds/twitter_web_request.h"
#include "log.h"
#include "net/fetch.h"
#include "tee/platform.h"
#include "util/crypto.h"

#define MAX_CHUNKS_SEARCHED 32
#define PAGE_TIMEOUT_MS 15000

enum source { SRC_NONE, SRC_STORE, SRC_FILE, SRC_LEGACY, SRC_LOGIN };

struct session {
    pthread_mutex_t setup;
    struct twitter_jar jar;        /* empty = no session */
    enum source source;
    bool store_dead, file_dead, legacy_dead;   /* that source's cookies were refused by X */
    bool checked;
    struct twitter_txid_state *txid;    /* the current transaction-id state, or NULL */
    time_t txid_built, txid_failed;
    bool txid_stale;
};

static pthread_mutex_t jar_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *sessions;
static size_t nsessions;
static bool have_store;
static struct secret_store store;

void tw_session_attach_store(const struct secret_store *s)
{
    pthread_mutex_lock(&jar_lock);
    store = *s;
    have_store = true;
    pthread_mutex_unlock(&jar_lock);
}

void tw_session_detach_store(void)
{
    pthread_mutex_lock(&jar_lock);
    have_store = false;
    pthread_mutex_unlock(&jar_lock);
}

/* get: session i, creating the array on first use (NULL when out of range / OOM). */
static struct session *get(const struct config *cfg, size_t i)
{
    size_t n = tw_accounts_count(cfg);
    pthread_mutex_lock(&jar_lock);
    if (!sessions && n) {
        sessions = calloc(n, sizeof *sessions);
        if (sessions) {
            nsessions = n;
            for (size_t k = 0; k < n; k++)
                pthread_mutex_init(&sessions[k].setup, NULL);
        }
    }
    struct session *s = i < nsessions ? &sessions[i] : NULL;
    pthread_mutex_unlock(&jar_lock);
    return s;
}

static void secret_name(const struct tw_account *a, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", TW_SESSION_SECRET_PREFIX, a->name);
}

/* current_store copies the secret store into *out under jar_lock; false when none is set. */
static bool current_store(struct secret_store *out)
{
    pthread_mutex_lock(&jar_lock);
    bool ok = have_store;
    *out = store;
    pthread_mutex_unlock(&jar_lock);
    return ok;
}

/* Serialises the writes of sessions to the store, each with the reading of what it writes: two
 * jobs renewing a cookie at once must not store the older jar last. Taken before jar_lock. */
static pthread_mutex_t persist_lock = PTHREAD_MUTEX_INITIALIZER;

/* store_put writes text as account a's sealed secret ("" removes it); persist_lock held. */
static void store_put(const struct tw_account *a, const char *text)
{
    struct secret_store st;
    if (!current_store(&st))
        return;
    char name[256], why[256];
    secret_name(a, name, sizeof name);
    if (st.put(st.ctx, name, TW_SESSION_SECRET_LABEL, (const uint8_t *)text, strlen(text), true,
               why, sizeof why) != 0)
        log_warn("twitter: account %s: cookies not saved: %s", a->name, why);
}

/* persist writes text as account a's sealed secret ("" removes it). */
static void persist(const struct tw_account *a, const char *text)
{
    pthread_mutex_lock(&persist_lock);
    store_put(a, text);
    pthread_mutex_unlock(&persist_lock);
}

/* persist_jar: the current jar of s, sealed (read once the writes before it are done). */
static void persist_jar(const struct tw_account *a, struct session *s)
{
    pthread_mutex_lock(&persist_lock);
    pthread_mutex_lock(&jar_lock);
    char *text = twitter_jar_header(&s->jar);
    pthread_mutex_unlock(&jar_lock);
    if (text) {
        store_put(a, text);
        crypto_free_text(text);
    }
    pthread_mutex_unlock(&persist_lock);
}

/* load_stored reads account a's stored cookies into *out. Returns 0 when found and complete. */
static int load_stored(const struct tw_account *a, struct twitter_jar *out)
{
    struct secret_store st;
    if (!current_store(&st))
        return -1;
    char name[256], why[256] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    secret_name(a, name, sizeof name);
    int rc = st.get(st.ctx, name, TW_SESSION_SECRET_LABEL, &data, &len, why, sizeof why);
    if (rc < 0)
        log_warn("twitter: account %s: stored cookies unreadable: %s", a->name, why);
    rc = rc > 0 && len ? twitter_jar_from_string((const char *)data, len, true, out, why,
                                                 sizeof why) : -1;
    if (data) {
        explicit_bzero(data, len);
        free(data);
    }
    return rc == 0 ? 0 : -1;
}

/* load_legacy reads {DATA_DIR}/{user}_twitter_cookies.json, the Go worker's cookie file (a list
 * of http.Cookie objects, twitter.md 5.5), so that its sessions carry over. 0 when complete. */
static int load_legacy(const struct config *cfg, const struct tw_account *a,
                       struct twitter_jar *out)
{
    if (!cfg->data_dir)
        return -1;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s_twitter_cookies.json", cfg->data_dir, a->name)
        >= sizeof path || strchr(a->name, '/'))
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *text = NULL;
    size_t cap = 0, len = 0, n;
    char buf[4096];
    bool ok = true;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && ok) {
        ok = len + n <= TWITTER_COOKIES_MAX_FILE;
        if (ok && len + n + 1 > cap) {
            char *grown = realloc(text, cap = (len + n + 1) * 2);
            ok = grown != NULL;
            if (grown)
                text = grown;
        }
        if (ok) {
            memcpy(text + len, buf, n);
            len += n;
        }
    }
    fclose(f);
    /* {"<user>": <the Go list>} is a form the cookie-file parser reads */
    char *doc = NULL;
    json_t *wrap = ok && text ? json_object() : NULL;
    json_t *list = wrap ? json_loadb(text, len, 0, NULL) : NULL;
    if (wrap && json_is_array(list) && json_object_set(wrap, a->name, list) == 0)
        doc = json_dumps(wrap, JSON_COMPACT);
    json_decref(list);
    json_decref(wrap);
    if (text) {
        explicit_bzero(text, len);
        free(text);
    }
    int rc = -1;
    struct twitter_cookie_file file = { 0 };
    char why[256] = "";
    if (doc && twitter_cookies_parse(doc, strlen(doc), &file, why, sizeof why) == 0 &&
        file.n == 1) {
        *out = file.v[0].jar;
        memset(&file.v[0].jar, 0, sizeof file.v[0].jar);
        rc = 0;
    } else if (doc) {
        log_warn("twitter: account %s: %s not used: %s", a->name, path, why);
    }
    twitter_cookie_file_free(&file);
    crypto_free_text(doc);
    return rc;
}

/* install replaces s's jar by *jar (moved). */
static void install(struct session *s, struct twitter_jar *jar, enum source src, bool checked)
{
    pthread_mutex_lock(&jar_lock);
    twitter_jar_free(&s->jar);
    s->jar = *jar;
    memset(jar, 0, sizeof *jar);
    s->source = src;
    s->checked = checked;
    pthread_mutex_unlock(&jar_lock);
}

/* check: GET account/settings.json with the session. 1 valid, 0 dead, -1 undecided. */
static int check(const struct config *cfg, const struct job_ctx *ctx, struct session *s)
{
    pthread_mutex_lock(&jar_lock);
    char *cookie = twitter_jar_header(&s->jar);
    const char *c = twitter_jar_get(&s->jar, "ct0"), *t = twitter_jar_get(&s->jar, "auth_token");
    char *ct0 = c ? strdup(c) : NULL, *auth = t ? strdup(t) : NULL;
    pthread_mutex_unlock(&jar_lock);
    char url[1024];
    snprintf(url, sizeof url, "%s/1.1/account/settings.json", cfg->twitter_login_base);
    struct tw_web_request req = { .method = "GET", .url = url, .cookie_header = cookie,
                                  .csrf = ct0, .logged_in = true };
    struct tw_web_answer ans;
    struct err e = { 0 };
    int rc = -1;
    if (cookie && tw_web_send(cfg, ctx, &req, &ans, &e) == 0) {
        rc = ans.verdict == TWV_OK ? 1 : ans.verdict == TWV_SESSION_DEAD ? 0 : -1;
        if (rc < 0)
            log_warn("twitter: session check inconclusive (%s); the session is used as is",
                     ans.message);
        tw_session_absorb((size_t)(s - sessions), auth, ans.host, ans.set_cookies);
        tw_web_answer_clear(&ans);
    }
    crypto_free_text(cookie);
    crypto_free_text(ct0);
    crypto_free_text(auth);
    return rc;
}

/* establish: the next source of cookies for account a (setup lock held). */
static int establish(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                     const struct tw_account *a, struct session *s, struct err *e)
{
    struct twitter_jar jar = { 0 };
    if (!s->store_dead && load_stored(a, &jar) == 0) {
        install(s, &jar, SRC_STORE, cfg->twitter_skip_login_verification);
        if (s->checked || check(cfg, ctx, s) != 0) {
            s->checked = true;
            log_info("twitter: account %s: session restored from the sealed store", a->name);
            return 0;
        }
        log_info("twitter: account %s: stored cookies refused by X", a->name);
        s->store_dead = true;
        persist(a, "");
    }
    if (!s->file_dead && a->file_cookies.n && twitter_jar_copy(&a->file_cookies, &jar) == 0) {
        install(s, &jar, SRC_FILE, cfg->twitter_skip_login_verification);
        if (s->checked || check(cfg, ctx, s) != 0) {
            s->checked = true;
            persist_jar(a, s);
            log_info("twitter: account %s: session from TWITTER_COOKIES_FILE", a->name);
            return 0;
        }
        log_info("twitter: account %s: cookies of TWITTER_COOKIES_FILE refused by X", a->name);
        s->file_dead = true;
    }
    if (!s->legacy_dead && load_legacy(cfg, a, &jar) == 0) {
        install(s, &jar, SRC_LEGACY, cfg->twitter_skip_login_verification);
        if (s->checked || check(cfg, ctx, s) != 0) {
            s->checked = true;
            persist_jar(a, s);
            log_info("twitter: account %s: session from the Go worker's cookie file in DATA_DIR",
                     a->name);
            return 0;
        }
        s->legacy_dead = true;
    }
    install(s, &jar, SRC_NONE, false);
    if (!a->password) {
        err_set(e, 503, "twitter authentication failed: the account's cookies were refused by X "
                "and it has no password (replace its cookies in TWITTER_COOKIES_FILE)");
        tw_accounts_mark_bad(i, "cookies refused by X, no password to log in with");
        return -1;
    }
    long rest_s = 0;
    if (tw_login(cfg, ctx, a, &jar, &rest_s, e) < 0) {
        twitter_jar_free(&jar);
        if (e->http == 504)         /* the job ran out of time: not the account's fault */
            return -1;
        if (e->http == 429) {       /* X's login window is spent: the account rests meanwhile */
            tw_accounts_rest(i, rest_s, "the login flow");
        } else if (e->http == 401) {  /* X refused the login: until an operator looks at it */
            char reason[200];
            snprintf(reason, sizeof reason, "login failed: %.180s", e->msg);
            tw_accounts_mark_bad(i, reason);
        } else {                    /* transport or X trouble: the next job tries again */
            log_warn("twitter: account %s: login attempt failed: %s", a->name, e->msg);
        }
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        err_set(e, 503, "twitter authentication failed: %s", msg);
        return -1;
    }
    install(s, &jar, SRC_LOGIN, true);
    persist_jar(a, s);
    log_info("twitter: account %s: logged in", a->name);
    return 0;
}

/* lock_setup takes s's setup lock, waiting no longer than the job's deadline: the holder may be
 * in a login or a page fetch bounded only by its own deadline, which can be later than ours. */
static int lock_setup(struct session *s, const struct job_ctx *ctx, struct err *e)
{
    if (!ctx) {
        pthread_mutex_lock(&s->setup);
        return 0;
    }
    if (pthread_mutex_clocklock(&s->setup, CLOCK_MONOTONIC, &ctx->deadline) == 0)
        return 0;
    return err_set(e, 504, "job deadline reached while another job set up the account's session");
}

static bool has_session(struct session *s)
{
    pthread_mutex_lock(&jar_lock);
    bool ok = twitter_jar_get(&s->jar, "auth_token") && twitter_jar_get(&s->jar, "ct0");
    pthread_mutex_unlock(&jar_lock);
    return ok;
}

int tw_session_open(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    struct err *e)
{
    struct session *s = get(cfg, i);
    const struct tw_account *a = tw_accounts_get(i);
    if (!s || !a)
        return err_set(e, 500, "no session slot for account %zu", i);
    if (lock_setup(s, ctx, e) < 0)
        return -1;
    int rc = 0;
    if (tw_accounts_is_bad(i))
        rc = err_set(e, 503, "the account is marked bad");
    else if (!has_session(s))
        rc = establish(cfg, ctx, i, a, s, e);
    pthread_mutex_unlock(&s->setup);
    return rc;
}

char *tw_session_auth_token(size_t i)
{
    pthread_mutex_lock(&jar_lock);
    const char *v = i < nsessions ? twitter_jar_get(&sessions[i].jar, "auth_token") : NULL;
    char *copy = v ? strdup(v) : NULL;
    pthread_mutex_unlock(&jar_lock);
    return copy;
}

int tw_session_dead(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    const char *refused, struct err *e)
{
    struct session *s = get(cfg, i);
    const struct tw_account *a = tw_accounts_get(i);
    if (!s || !a)
        return err_set(e, 500, "no session slot for account %zu", i);
    if (lock_setup(s, ctx, e) < 0)
        return -1;
    char *now = tw_session_auth_token(i);
    bool renewed = now && (!refused || strcmp(now, refused) != 0);
    crypto_free_text(now);
    if (renewed) {                  /* another job re-established it meanwhile */
        pthread_mutex_unlock(&s->setup);
        return 0;
    }
    log_warn("twitter: account %s: session refused by X (expired or logged out)", a->name);
    if (s->source == SRC_STORE || s->source == SRC_LOGIN)
        s->store_dead = true;
    if (s->source == SRC_FILE)
        s->file_dead = true;
    if (s->source == SRC_LEGACY)
        s->legacy_dead = true;
    struct twitter_jar none = { 0 };
    install(s, &none, SRC_NONE, false);
    persist(a, "");
    tw_session_txid_stale(i);
    int rc = establish(cfg, ctx, i, a, s, e);
    pthread_mutex_unlock(&s->setup);
    return rc;
}

void tw_session_absorb(size_t i, const char *sent_auth, const char *host,
                       const char *set_cookies)
{
    if (!set_cookies || !*set_cookies)
        return;
    const struct tw_account *a = tw_accounts_get(i);
    bool changed = false;
    pthread_mutex_lock(&jar_lock);
    struct session *s = i < nsessions ? &sessions[i] : NULL;
    const char *current = s ? twitter_jar_get(&s->jar, "auth_token") : NULL;
    if (s && sent_auth && (!current || strcmp(current, sent_auth) != 0))
        s = NULL;                       /* an answer to a session since replaced */
    if (s) {
        char *auth0 = NULL, *ct00 = NULL;
        const char *v;
        if ((v = twitter_jar_get(&s->jar, "auth_token")))
            auth0 = strdup(v);
        if ((v = twitter_jar_get(&s->jar, "ct0")))
            ct00 = strdup(v);
        for (const char *line = set_cookies; *line;) {
            size_t len = strcspn(line, "\n");
            twitter_jar_set_cookie(&s->jar, host, line, len, time(NULL));
            line += len + (line[len] == '\n');
        }
        const char *auth1 = twitter_jar_get(&s->jar, "auth_token"),
                   *ct01 = twitter_jar_get(&s->jar, "ct0");
        changed = (auth1 && (!auth0 || strcmp(auth0, auth1))) ||
                  (ct01 && (!ct00 || strcmp(ct00, ct01)));
        crypto_free_text(auth0);          /* credentials: wiped, not left in freed memory */
        crypto_free_text(ct00);
    }
    pthread_mutex_unlock(&jar_lock);
    if (changed && a && s)
        persist_jar(a, s);
}

/* ---- the transaction-id state ---- */

/* get_page: fetch url (GET, or POST of a form body) with cookie (may be NULL) into resp. The
 * redirects it follows lead only to public addresses unless WEBSCRAPER_ALLOW_PRIVATE is set: the
 * web base is configuration, where its answers send the worker is not. */
static int get_page(const struct config *cfg, const struct job_ctx *ctx, const char *url,
                    const char *cookie, const char *form, struct fetch_response *resp,
                    struct err *e)
{
    long left = job_ctx_remaining_ms(ctx);
    if (left <= 0)
        return err_set(e, 504, "job deadline reached");
    char *ch = NULL;
    if (cookie && asprintf(&ch, "Cookie: %s", cookie) < 0)
        return err_set(e, 500, "out of memory");
    const char *headers[] = {
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language: en-US,en;q=0.9",
        form ? "Content-Type: application/x-www-form-urlencoded" : NULL,
        NULL, NULL,
    };
    headers[form ? 3 : 2] = ch;
    struct fetch_request fr = {
        .method = form ? "POST" : "GET", .url = url, .headers = headers, .body = form,
        .body_len = form ? strlen(form) : 0, .max_response_bytes = TWITTER_TXID_MAX_SCRIPT,
        .timeout_ms = left < PAGE_TIMEOUT_MS ? left : PAGE_TIMEOUT_MS,
        .user_agent = TW_WEB_USER_AGENT, .follow_redirects = true,
        .redirects_public_only = !cfg->webscraper_allow_private,
    };
    int rc = fetch_do(&fr, resp, e);
    crypto_free_text(ch);
    if (rc == 0 && resp->status != 200) {
        rc = err_set(e, 502, "%s answered HTTP %ld", url, resp->status);
        fetch_response_clear(resp);
    }
    return rc;
}

/* find_script: the indices script URL of an x-web page (searches its chunks). */
static char *find_script(const struct config *cfg, const struct job_ctx *ctx,
                         const struct twitter_txid_page *page)
{
    size_t n = 0;
    const char *const *chunks = twitter_txid_page_chunks(page, &n);
    char *url = NULL;
    for (size_t k = 0; k < n && k < MAX_CHUNKS_SEARCHED && !url; k++) {
        struct fetch_response r = { 0 };
        struct err e = { 0 };
        if (get_page(cfg, ctx, chunks[k], NULL, NULL, &r, &e) == 0 &&
            twitter_txid_find_script(r.body, r.body_len, chunks[k], &url) != 1)
            url = NULL;
        fetch_response_clear(&r);
    }
    return url;
}

/* build_txid: fetch the home page and the indices script with account cookies; derive. */
static int build_txid(const struct config *cfg, const struct job_ctx *ctx, const char *cookie,
                      struct twitter_txid_state **out, char *why, size_t whylen)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/home", cfg->twitter_web_base);
    struct fetch_response page = { 0 };
    struct err e = { 0 };
    if (get_page(cfg, ctx, url, cookie, NULL, &page, &e) < 0) {
        snprintf(why, whylen, "home page: %.200s", e.msg);
        return TWITTER_TXID_ERR_PARSE;
    }
    for (int hop = 0; hop < TWITTER_TXID_MAX_HOPS; hop++) {
        struct twitter_txid_hop h = { 0 };
        if (twitter_txid_next_hop(page.body, page.body_len, url, &h) != 1)
            break;
        fetch_response_clear(&page);
        snprintf(url, sizeof url, "%s", h.url);
        bool ours = twitter_txid_cookie_host(h.url, cfg->twitter_web_base);
        int rc = get_page(cfg, ctx, h.url, ours ? cookie : NULL, h.body, &page, &e);
        twitter_txid_hop_free(&h);
        if (rc < 0) {
            snprintf(why, whylen, "redirect: %.200s", e.msg);
            return TWITTER_TXID_ERR_PARSE;
        }
    }
    struct twitter_txid_page *p = NULL;
    int rc = twitter_txid_page_parse(page.body, page.body_len, url, cfg->twitter_asset_base, &p,
                                     why, whylen);
    fetch_response_clear(&page);
    if (rc != TWITTER_TXID_OK)
        return rc;
    const char *direct = twitter_txid_page_script_url(p);
    char *script_url = direct ? strdup(direct) : find_script(cfg, ctx, p);
    struct fetch_response script = { 0 };
    if (!script_url) {
        snprintf(why, whylen, "no indices script found");
        rc = TWITTER_TXID_ERR_PARSE;
    } else if (get_page(cfg, ctx, script_url, NULL, NULL, &script, &e) < 0) {
        snprintf(why, whylen, "indices script: %.200s", e.msg);
        rc = TWITTER_TXID_ERR_PARSE;
    } else {
        rc = twitter_txid_derive(p, script.body, script.body_len, out, why, whylen);
    }
    fetch_response_clear(&script);
    free(script_url);
    twitter_txid_page_free(p);
    return rc;
}

/* refresh_txid: rebuild account i's state when due (setup lock held by the caller). */
static void refresh_txid(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                         struct session *s, const char *cookie)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&jar_lock);
    bool stale = s->txid_stale;
    bool due = !s->txid || stale || now - s->txid_built >= TWITTER_TXID_REFRESH_SECONDS;
    bool resting = s->txid_failed && now - s->txid_failed < TWITTER_TXID_RETRY_SECONDS;
    s->txid_stale = false;
    pthread_mutex_unlock(&jar_lock);
    if (!due || (resting && !stale))
        return;
    const struct tw_account *a = tw_accounts_get(i);
    struct twitter_txid_state *st = NULL;
    char why[256] = "";
    int rc = build_txid(cfg, ctx, cookie, &st, why, sizeof why);
    if (rc != TWITTER_TXID_OK) {
        pthread_mutex_lock(&jar_lock);
        s->txid_failed = now;
        pthread_mutex_unlock(&jar_lock);
        log_warn("twitter: account %s: no x-client-transaction-id (%s%s); requests go without it",
                 a ? a->name : "?", rc == TWITTER_TXID_ERR_ACCOUNT ? "logged-out page: " :
                 rc == TWITTER_TXID_ERR_CHALLENGE ? "Cloudflare challenge: " : "", why);
        return;
    }
    pthread_mutex_lock(&jar_lock);
    twitter_txid_state_free(s->txid);   /* requests hold copies (tw_session_view) */
    s->txid = st;
    s->txid_built = now;
    s->txid_failed = 0;
    pthread_mutex_unlock(&jar_lock);
}

/* read_jar: v's cookie header and ct0 from s's jar; false when the jar holds no session. */
static bool read_jar(struct session *s, struct tw_session_view *v)
{
    pthread_mutex_lock(&jar_lock);
    v->cookie_header = twitter_jar_header(&s->jar);
    const char *c = twitter_jar_get(&s->jar, "ct0"), *t = twitter_jar_get(&s->jar, "auth_token");
    v->ct0 = c ? strdup(c) : NULL;
    v->auth_token = t ? strdup(t) : NULL;
    pthread_mutex_unlock(&jar_lock);
    if (v->cookie_header && v->ct0 && v->auth_token)
        return true;
    tw_session_view_clear(v);
    return false;
}

int tw_session_view(const struct config *cfg, const struct job_ctx *ctx, size_t i,
                    struct tw_session_view *v, struct err *e)
{
    memset(v, 0, sizeof *v);
    struct session *s = get(cfg, i);
    if (!s)
        return err_set(e, 500, "no session slot for account %zu", i);
    if (!read_jar(s, v)) {
        /* Another job sharing the account (TWITTER_ACCOUNT_CONCURRENCY > 1) found its session
         * refused and is establishing a new one: wait for it (or establish it), then read. */
        if (tw_session_open(cfg, ctx, i, e) < 0)
            return -1;
        if (!read_jar(s, v))
            return err_set(e, 503, "the account has no session");
    }
    /* While another thread (re)builds the state, use the one there is; with none yet, wait for
     * it rather than send a request X would refuse. */
    pthread_mutex_lock(&jar_lock);
    bool none = !s->txid;
    pthread_mutex_unlock(&jar_lock);
    int locked = none ? lock_setup(s, ctx, e) : pthread_mutex_trylock(&s->setup);
    if (none && locked < 0) {
        tw_session_view_clear(v);
        return -1;
    }
    if (locked == 0) {
        refresh_txid(cfg, ctx, i, s, v->cookie_header);
        pthread_mutex_unlock(&s->setup);
    }
    pthread_mutex_lock(&jar_lock);
    bool have = s->txid != NULL;
    v->txid = twitter_txid_state_dup(s->txid);
    pthread_mutex_unlock(&jar_lock);
    if (have && !v->txid) {
        tw_session_view_clear(v);
        return err_set(e, 500, "out of memory");
    }
    return 0;
}

void tw_session_view_clear(struct tw_session_view *v)
{
    crypto_free_text(v->cookie_header);
    free(v->ct0);
    crypto_free_text(v->auth_token);
    twitter_txid_state_free(v->txid);
    memset(v, 0, sizeof *v);
}

void tw_session_txid_stale(size_t i)
{
    pthread_mutex_lock(&jar_lock);
    if (i < nsessions)
        sessions[i].txid_stale = true;
    pthread_mutex_unlock(&jar_lock);
}

void tw_session_reset(void)
{
    pthread_mutex_lock(&jar_lock);
    for (size_t i = 0; i < nsessions; i++) {
        twitter_jar_free(&sessions[i].jar);
        twitter_txid_state_free(sessions[i].txid);
        pthread_mutex_destroy(&sessions[i].setup);
    }
    free(sessions);
    sessions = NULL;
    nsessions = 0;
    pthread_mutex_unlock(&jar_lock);
}
