/* teeworker.c - libteeworker: the tee-worker client (see include/teeworker.h).
 *
 * One CURL easy handle per client, reused for every request so the connection stays open
 * between calls. request() does one HTTP exchange and collects the status, the body (bounded by
 * MAX_BODY for a 200, the first MAX_ERROR_BODY bytes of an error) and the X-Next-Cursor header;
 * everything above it is a thin mapping of one route.
 * Error answers are turned into messages by server_message(): the "error", "message" or
 * "status" member of a JSON body, else the body text, so the caller sees the server's words, but
 * never its control characters: messages and states are made printable (terminal_safe), and the
 * sealed values (signature, result, cursor) and the uid must be printable ASCII, since callers
 * print them and a hostile server could otherwise drive the user's terminal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "teeworker.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define MAX_BODY (512u * 1024u * 1024u)
#define MAX_ERROR_BODY (64u * 1024u)     /* an error answer is read for its message only */
#define MAX_CURSOR_HEADER (1024u * 1024u)

struct tw_client {
    CURL *curl;
    char *url;                       /* base, no trailing '/' */
    char *auth_header;               /* "Authorization: Bearer <key>" or NULL */
    char *user_agent;
};

struct buffer {
    char *data;
    size_t len, cap;
};

struct response {
    long status;
    CURL *curl;                      /* while the transfer runs: for the status in on_body */
    size_t body_limit;               /* 0 until the status is known */
    struct buffer body;
    char *next_cursor;               /* X-Next-Cursor, or NULL */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *tw_strerror(int code)
{
    switch (code) {
    case TW_OK: return "ok";
    case TW_PENDING: return "pending";
    case TW_E_INVALID: return "invalid argument";
    case TW_E_NOMEM: return "out of memory";
    case TW_E_TRANSPORT: return "cannot reach the server";
    case TW_E_SERVER: return "server error";
    case TW_E_TIMEOUT: return "timed out waiting for the result";
    case TW_E_PROTOCOL: return "unexpected answer from the server";
    default: return "unknown error";
    }
}

void tw_free(void *p)
{
    free(p);
}

__attribute__((format(printf, 4, 5)))
static int fail(struct tw_error *err, int code, long http_status, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        err->http_status = http_status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* utf8_char_ok returns the length of the valid UTF-8 character at s (NUL-terminated) that is not
 * a C1 control (U+0080..U+009F), or 0. */
static size_t utf8_char_ok(const unsigned char *s)
{
    unsigned cp;
    size_t n;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < 0xa0 || (n == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* terminal_safe rewrites s in place so that printing it cannot act on a terminal: line breaks
 * and tabs become spaces; other control characters (C0, DEL, C1) and invalid UTF-8 become '?'. */
static void terminal_safe(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_char_ok(p);
        if (n == 1 && (*p == '\n' || *p == '\r' || *p == '\t'))
            *p = ' ';
        else if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)))
            *p = '?';
        p += n ? n : 1;
    }
}

/* printable_ascii: a sealed value (base64 text) holds nothing else. */
static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

static void ok(struct tw_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

/* ---- the client ------------------------------------------------------------------------- */

static int apply_tls(CURL *curl, const struct tw_options *o)
{
    CURLcode rc = CURLE_OK;
    if (o->ca_file && *o->ca_file)
        rc |= curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca_file);
    if (o->pinned_public_key && *o->pinned_public_key) {
        /* the attested certificate is self-signed: trust exactly its key, not a chain */
        rc |= curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, o->pinned_public_key);
        rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->insecure_skip_verify) {
        rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return rc == CURLE_OK ? 0 : -1;
}

static int configure(struct tw_client *c, const struct tw_options *o)
{
    CURLcode rc = CURLE_OK;
    long connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    long total_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 60000;
    rc |= curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    rc |= curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, total_ms);
    rc |= curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |= curl_easy_setopt(c->curl, CURLOPT_USERAGENT, c->user_agent);
    rc |= curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (rc != CURLE_OK)
        return -1;
    return apply_tls(c->curl, o);
}

static char *base_url(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    return strndup(url, n);
}

struct tw_client *tw_client_new(const struct tw_options *o, struct tw_error *err)
{
    if (!o || !o->url || (strncasecmp(o->url, "http://", 7) != 0 &&
                          strncasecmp(o->url, "https://", 8) != 0)) {
        fail(err, TW_E_INVALID, 0, "the server URL must start with http:// or https://");
        return NULL;
    }
    bool verify = (o->pinned_public_key && *o->pinned_public_key) || (o->ca_file && *o->ca_file);
    if (verify && strncasecmp(o->url, "https://", 8) != 0) {
        fail(err, TW_E_INVALID, 0, "a pinned key or CA file needs an https:// server URL (over "
             "http:// it would verify nothing)");
        return NULL;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        fail(err, TW_E_TRANSPORT, 0, "libcurl initialisation failed");
        return NULL;
    }
    struct tw_client *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->curl = curl_easy_init();
    c->url = base_url(o->url);
    c->user_agent = strdup(o->user_agent ? o->user_agent : "libteeworker/" TW_CLIENT_VERSION);
    if (!c->curl || !c->url || !c->user_agent)
        goto oom;
    if (o->api_key && *o->api_key && asprintf(&c->auth_header, "Authorization: Bearer %s",
                                              o->api_key) < 0) {
        c->auth_header = NULL;
        goto oom;
    }
    if (configure(c, o) < 0) {
        tw_client_free(c);
        fail(err, TW_E_INVALID, 0, "libcurl refused an option (TLS pin or CA file?)");
        return NULL;
    }
    ok(err);
    return c;
oom:
    tw_client_free(c);
    fail(err, TW_E_NOMEM, 0, "out of memory");
    return NULL;
}

void tw_client_free(struct tw_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->auth_header) {
        explicit_bzero(c->auth_header, strlen(c->auth_header));
        free(c->auth_header);
    }
    free(c->url);
    free(c->user_agent);
    free(c);
}

/* ---- one HTTP exchange ------------------------------------------------------------------ */

/* on_body keeps a 200 answer up to MAX_BODY (more aborts the transfer) and the first
 * MAX_ERROR_BODY bytes of any other, whose rest is read and dropped. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct response *r = user;
    struct buffer *b = &r->body;
    size_t n = size * nmemb, keep = n;
    if (!r->body_limit) {
        long status = 0;
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        r->body_limit = status == 200 ? MAX_BODY : MAX_ERROR_BODY;
    }
    if (n > r->body_limit - b->len) {
        if (r->body_limit == MAX_BODY)
            return 0;                /* too big: abort the transfer */
        keep = r->body_limit - b->len;
    }
    if (keep == 0)
        return n;
    if (b->len + keep + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + keep + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, keep);
    b->len += keep;
    b->data[b->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct response *r = user;
    size_t n = size * nmemb;
    static const char name[] = "x-next-cursor:";
    if (n > sizeof name - 1 && n < MAX_CURSOR_HEADER && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        const char *v = ptr + sizeof name - 1;
        size_t vlen = n - (sizeof name - 1);
        while (vlen && isspace((unsigned char)*v))
            v++, vlen--;
        while (vlen && isspace((unsigned char)v[vlen - 1]))
            vlen--;
        free(r->next_cursor);
        r->next_cursor = vlen ? strndup(v, vlen) : NULL;
    }
    return n;
}

static void response_clear(struct response *r)
{
    free(r->body.data);
    free(r->next_cursor);
    memset(r, 0, sizeof *r);
}

/* request performs method on path (body: JSON or NULL). Returns TW_OK with *r filled (any HTTP
 * status), or TW_E_TRANSPORT / TW_E_NOMEM. */
static int request(struct tw_client *c, const char *method, const char *path, const char *body,
                   struct response *r, struct tw_error *err)
{
    memset(r, 0, sizeof *r);
    char *url = NULL;
    if (asprintf(&url, "%s%s", c->url, path) < 0)
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    struct curl_slist *headers = NULL, *h;
    if (c->auth_header && (h = curl_slist_append(headers, c->auth_header)))
        headers = h;
    if (body && (h = curl_slist_append(headers, "Content-Type: application/json")))
        headers = h;
    if ((h = curl_slist_append(headers, "Expect:")))
        headers = h;
    char curl_error[CURL_ERROR_SIZE] = "";
    CURL *e = c->curl;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(method, body ? "POST" : "GET") ? method : NULL);
    if (!body)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    r->curl = e;
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_error);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    r->curl = NULL;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        response_clear(r);
        fail(err, TW_E_TRANSPORT, 0, "cannot reach %s: %s", url,
             curl_error[0] ? curl_error : curl_easy_strerror(rc));
        if (err)
            terminal_safe(err->message);   /* curl quotes the server's certificate name */
        free(url);
        return TW_E_TRANSPORT;
    }
    free(url);
    if (!r->body.data && !(r->body.data = calloc(1, 1))) {
        response_clear(r);
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    }
    return TW_OK;
}

/* server_message extracts the server's error text from an error answer. */
static int server_error(const struct response *r, struct tw_error *err)
{
    const char *text = NULL;
    json_t *doc = json_loadb(r->body.data, r->body.len, 0, NULL);
    if (json_is_object(doc)) {
        const char *members[] = { "error", "message", "status" };
        for (size_t i = 0; i < 3 && !text; i++) {
            const char *s = json_string_value(json_object_get(doc, members[i]));
            if (s && *s)
                text = s;
        }
    }
    int rc;
    if (text)
        rc = fail(err, TW_E_SERVER, r->status, "%s", text);
    else if (r->body.len)
        rc = fail(err, TW_E_SERVER, r->status, "HTTP %ld: %.400s", r->status, r->body.data);
    else
        rc = fail(err, TW_E_SERVER, r->status, "HTTP %ld", r->status);
    json_decref(doc);
    if (err)
        terminal_safe(err->message);
    return rc;
}

/* take_body moves the body out of r as a NUL-terminated string. */
static char *take_body(struct response *r, size_t *len)
{
    char *s = r->body.data;
    if (len)
        *len = r->body.len;
    r->body.data = NULL;
    return s;
}

/* post_json sends value (consumed) to path; a 200 answer is left in *r. */
static int post_json(struct tw_client *c, const char *path, json_t *value, struct response *r,
                     struct tw_error *err)
{
    char *body = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (!body)
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    int rc = request(c, "POST", path, body, r, err);
    free(body);
    if (rc != TW_OK)
        return rc;
    if (r->status != 200) {
        rc = server_error(r, err);
        response_clear(r);
    }
    return rc;
}

/* ---- the routes ------------------------------------------------------------------------- */

int tw_generate(struct tw_client *c, const char *job_json, char **signature, struct tw_error *err)
{
    if (!c || !job_json || !signature)
        return fail(err, TW_E_INVALID, 0, "tw_generate: missing argument");
    json_error_t jerr;
    json_t *job = json_loads(job_json, 0, &jerr);
    if (!json_is_object(job)) {
        json_decref(job);
        return fail(err, TW_E_INVALID, 0, "the job is not a JSON object: %s", jerr.text);
    }
    struct response r;
    int rc = post_json(c, "/job/generate", job, &r, err);
    if (rc != TW_OK)
        return rc;
    if (!r.body.len || !printable_ascii(r.body.data) || strlen(r.body.data) != r.body.len) {
        response_clear(&r);
        return fail(err, TW_E_PROTOCOL, 200, "/job/generate answered something that is not a "
                    "signature (sealed values are printable ASCII)");
    }
    *signature = take_body(&r, NULL);
    response_clear(&r);
    ok(err);
    return TW_OK;
}

int tw_generate_args(struct tw_client *c, const char *type, const char *arguments_json,
                     char **signature, struct tw_error *err)
{
    if (!type || !*type)
        return fail(err, TW_E_INVALID, 0, "the job type is empty");
    json_error_t jerr;
    json_t *args = arguments_json ? json_loads(arguments_json, 0, &jerr) : json_object();
    if (!json_is_object(args)) {
        json_decref(args);
        return fail(err, TW_E_INVALID, 0, "the arguments are not a JSON object");
    }
    json_t *type_text = json_string(type);   /* NULL when not UTF-8, all JSON can carry */
    if (!type_text) {
        json_decref(args);
        return fail(err, TW_E_INVALID, 0, "the job type is not valid UTF-8");
    }
    json_t *job = json_pack("{s:o,s:o}", "type", type_text, "arguments", args);
    char *text = job ? json_dumps(job, JSON_COMPACT) : NULL;
    json_decref(job);
    if (!text)
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    int rc = tw_generate(c, text, signature, err);
    free(text);
    return rc;
}

int tw_submit(struct tw_client *c, const char *signature, char **uid, struct tw_error *err)
{
    if (!c || !signature || !uid)
        return fail(err, TW_E_INVALID, 0, "tw_submit: missing argument");
    json_t *sig = json_string(signature);
    if (!sig)
        return fail(err, TW_E_INVALID, 0, "the signature is not valid UTF-8");
    struct response r;
    int rc = post_json(c, "/job/add", json_pack("{s:o}", "encrypted_job", sig), &r, err);
    if (rc != TW_OK)
        return rc;
    json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    const char *s = json_string_value(json_object_get(doc, "uid"));
    if (s && *s && strlen(s) < 128 && !strchr(s, '/') && printable_ascii(s))
        *uid = strdup(s);
    else
        rc = fail(err, TW_E_PROTOCOL, r.status, "/job/add answered without a uid: %.200s",
                  r.body.data);
    if (rc != TW_OK && err)
        terminal_safe(err->message);
    json_decref(doc);
    response_clear(&r);
    if (rc == TW_OK && !*uid)
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    if (rc == TW_OK)
        ok(err);
    return rc;
}

void tw_status_info_clear(struct tw_status_info *info)
{
    if (!info)
        return;
    free(info->sealed_result);
    free(info->sealed_cursor);
    memset(info, 0, sizeof *info);
}

/* pending_state reads the "status" member of a 404 answer: "queued", "running", "unknown", or
 * "pending" when absent (a Go worker, which answers 404 for unknown and unfinished jobs alike). */
static void pending_state(const struct response *r, char state[16])
{
    json_t *doc = json_loadb(r->body.data, r->body.len, 0, NULL);
    const char *s = json_string_value(json_object_get(doc, "status"));
    snprintf(state, 16, "%s", s && *s ? s : "pending");
    terminal_safe(state);
    json_decref(doc);
}

int tw_status(struct tw_client *c, const char *uid, struct tw_status_info *info,
              struct tw_error *err)
{
    if (info)
        memset(info, 0, sizeof *info);   /* cleared even when refused: callers clear it after */
    if (!c || !uid || !*uid || !info)
        return fail(err, TW_E_INVALID, 0, "tw_status: missing argument");
    char *escaped = curl_easy_escape(c->curl, uid, 0);
    char *path = NULL;
    if (!escaped || asprintf(&path, "/job/status/%s", escaped) < 0) {
        curl_free(escaped);
        return fail(err, TW_E_NOMEM, 0, "out of memory");
    }
    curl_free(escaped);
    struct response r;
    int rc = request(c, "GET", path, NULL, &r, err);
    free(path);
    if (rc != TW_OK)
        return rc;
    if (r.status == 200 && r.next_cursor && !printable_ascii(r.next_cursor)) {
        rc = fail(err, TW_E_PROTOCOL, 200, "the X-Next-Cursor header is not a sealed value");
    } else if (r.status == 200 && (!r.body.len || !printable_ascii(r.body.data) ||
                                   strlen(r.body.data) != r.body.len)) {
        rc = fail(err, TW_E_PROTOCOL, 200, "/job/status answered something that is not a sealed "
                  "result (sealed values are printable ASCII)");
    } else if (r.status == 200) {
        info->sealed_result = take_body(&r, NULL);
        info->sealed_cursor = r.next_cursor;
        r.next_cursor = NULL;
        ok(err);
    } else if (r.status == 404) {
        pending_state(&r, info->state);
        rc = strcmp(info->state, "unknown") == 0
                 ? fail(err, TW_E_SERVER, 404, "job %.64s not found", uid)
                 : TW_PENDING;
    } else {
        rc = server_error(&r, err);
    }
    response_clear(&r);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(unsigned ms)
{
    struct timespec left = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
}

/* budget reads the retry budget of wait (NULL: the defaults). */
static void budget(const struct tw_wait_options *wait, unsigned *attempts, unsigned *delay)
{
    *attempts = wait && wait->max_attempts ? wait->max_attempts : 60;
    *delay = wait && wait->delay_ms ? wait->delay_ms : 1000;
}

/* busy: an error answer 503, a busy worker (answer budget spent, store away) asking to be asked
 * again later. */
static bool busy(int rc, const struct tw_error *err)
{
    return rc == TW_E_SERVER && err->http_status == 503;
}

int tw_wait(struct tw_client *c, const char *uid, const struct tw_wait_options *wait,
            struct tw_status_info *info, struct tw_error *err)
{
    unsigned attempts, delay;
    budget(wait, &attempts, &delay);
    double start = now_s();
    const char *last = "queued";
    char state[16] = "queued";
    struct tw_error own;
    if (!err)
        err = &own;                  /* for the status of an error answer */
    for (unsigned i = 1;; i++) {
        int rc = tw_status(c, uid, info, err);
        if (rc == TW_OK || (rc < 0 && rc != TW_E_TRANSPORT && !busy(rc, err)))
            return rc;
        if (rc == TW_PENDING) {
            snprintf(state, sizeof state, "%s", info->state);
            last = state;
        }
        if (i >= attempts)
            return fail(err, TW_E_TIMEOUT, 0, "job %.64s still %s after %u polls (%.1f s)", uid,
                        last, attempts, now_s() - start);
        if (wait && wait->progress)
            wait->progress(wait->user, last, now_s() - start, i);
        pause_ms(delay);
    }
}

int tw_decrypt(struct tw_client *c, const char *signature, const char *sealed, char **clear,
               size_t *len, struct tw_error *err)
{
    if (!c || !signature || !sealed || !clear)
        return fail(err, TW_E_INVALID, 0, "tw_decrypt: missing argument");
    json_t *sealed_text = json_string(sealed), *sig = json_string(signature);
    if (!sealed_text || !sig) {
        json_decref(sealed_text);
        json_decref(sig);
        return fail(err, TW_E_INVALID, 0, "the %s is not valid UTF-8",
                    sig ? "sealed value" : "signature");
    }
    struct response r;
    int rc = post_json(c, "/job/result",
                       json_pack("{s:o,s:o}", "encrypted_result", sealed_text, "encrypted_request",
                                 sig),
                       &r, err);
    if (rc != TW_OK)
        return rc;
    *clear = take_body(&r, len);
    response_clear(&r);
    ok(err);
    return TW_OK;
}

/* One request that a busy worker (503) may refuse: what when_free asks again. */
struct busy_call {
    bool submit;                  /* tw_submit, else tw_decrypt */
    struct tw_client *c;
    const char *signature;
    const char *sealed;           /* decrypt: the sealed value */
    char **out;                   /* decrypt: the clear bytes; submit: the uid */
};

static int busy_call_once(const struct busy_call *call, struct tw_error *err)
{
    return call->submit ? tw_submit(call->c, call->signature, call->out, err)
                        : tw_decrypt(call->c, call->signature, call->sealed, call->out, NULL, err);
}

/* when_free makes call, and again within the budget of wait while the worker answers 503. */
static int when_free(const struct busy_call *call, const struct tw_wait_options *wait,
                     struct tw_error *err)
{
    unsigned attempts, delay;
    budget(wait, &attempts, &delay);
    struct tw_error own;
    if (!err)
        err = &own;
    for (unsigned i = 1;; i++) {
        int rc = busy_call_once(call, err);
        if (!busy(rc, err) || i >= attempts)
            return rc;
        pause_ms(delay);
    }
}

/* decrypt_when_free is tw_decrypt asked again while the worker answers 503 (the clear result
 * counts against the same answer budget as a poll). */
static int decrypt_when_free(struct tw_client *c, const char *signature, const char *sealed,
                             char **clear, const struct tw_wait_options *wait,
                             struct tw_error *err)
{
    struct busy_call call = { false, c, signature, sealed, clear };
    return when_free(&call, wait, err);
}

int tw_submit_when_free(struct tw_client *c, const char *signature,
                        const struct tw_wait_options *wait, char **uid, struct tw_error *err)
{
    struct busy_call call = { true, c, signature, NULL, uid };
    return when_free(&call, wait, err);
}

int tw_get_result(struct tw_client *c, const char *signature, const char *uid,
                  const struct tw_wait_options *wait, bool decrypt, char **result,
                  char **next_cursor, struct tw_error *err)
{
    if (!result || !signature)
        return fail(err, TW_E_INVALID, 0, "tw_get_result: missing argument");
    if (next_cursor)
        *next_cursor = NULL;
    struct tw_status_info info = { 0 };
    int rc = tw_wait(c, uid, wait, &info, err);
    if (rc != TW_OK) {
        tw_status_info_clear(&info);
        return rc;
    }
    if (!decrypt) {
        *result = info.sealed_result;
        info.sealed_result = NULL;
        if (next_cursor) {
            *next_cursor = info.sealed_cursor;
            info.sealed_cursor = NULL;
        }
    } else {
        rc = decrypt_when_free(c, signature, info.sealed_result, result, wait, err);
        if (rc == TW_OK && next_cursor && info.sealed_cursor) {
            rc = decrypt_when_free(c, signature, info.sealed_cursor, next_cursor, wait, err);
            if (rc != TW_OK) {
                free(*result);
                *result = NULL;
            }
        }
    }
    tw_status_info_clear(&info);
    return rc;
}
