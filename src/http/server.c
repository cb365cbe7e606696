/* server.c - libmicrohttpd glue: listener, request bodies and limits, responses.
 *
 * MHD runs its own epoll thread(s) (HTTP_THREADS). Each request gets a small state object as soon
 * as its request line is in, holding the path it is routed by, read from the target as sent
 * (target_path: an absolute-form target is routed by its path; a NUL in it, raw or %00, is
 * refused, as is an HTTP/1.1 request without Host, from the headers); body chunks are appended up to
 * HTTP_MAX_BODY_BYTES (HTTP_MAX_RESULT_BODY_BYTES for /job/result, which carries a sealed result
 * back; beyond it the rest is read and dropped, and the answer is 413); the response is queued on
 * the final call, after the request is fully read. Queuing then, and not on the first call, is
 * what keeps connections alive (see DESIGN.md: about 7x the throughput). A declared
 * Content-Length far above the limit is answered 413 at once and the connection closed, so nobody
 * streams gigabytes in.
 * A request the screen refuses from its headers (http_screen_fn: a missing API key) is answered
 * at once too, so that a client without the key has none of its body read or held.
 * All the bodies being received or served at once share one budget, HTTP_BODY_BUDGET_FACTOR times
 * the larger limit: a request whose bytes would go beyond it is read and dropped and answered 503
 * with Retry-After, so many connections each just under the limit cannot add up to gigabytes.
 * Answers of HTTP_CHARGED_ANSWER_MIN bytes or more (a sealed result, fresh for every poll, or the
 * clear one from /job/result) are charged too, from when they are queued until the request
 * completes (libmicrohttpd is done with them then): one that would go beyond the budget is
 * replaced by a 503 with Retry-After, so many slow readers of a big result cannot make the worker
 * hold connections x result bytes. A handler that knows an answer's size before building it (the
 * sealed copy of a result) reserves it first (http_reserve_answer), so a refused request allocates
 * nothing. Smaller answers (telemetry, /healthz) are not charged.
 * A JSON answer to a request whose query has a `pretty` parameter is laid out as echo lays it out
 * (util/json_indent.h), just before it is queued.
 *
 * Request deadlines (deadline.h): libmicrohttpd only closes idle connections, so each connection is
 * also registered, from its start to its close, in a deadline table: a request must arrive whole
 * within HTTP_TIMEOUT_SECONDS of the connection becoming ready for it (accepted, or the previous
 * request completed), plus a second for every HTTP_BODY_MIN_RATE bytes of body received, or the
 * table's once-a-second sweep shuts the connection's socket down and libmicrohttpd closes it. The
 * close notification (which libmicrohttpd gives before it closes the descriptor) takes the
 * connection off the table under the lock the sweep holds across shutdown(2). Per request this
 * costs a look-up of the connection's entry, an atomic exchange when the request has arrived and
 * three stores when it completes; no lock and no clock read.
 *
 * HTTPS (enclave mode): the same daemon with MHD_USE_TLS and the key and certificate in memory
 * (libmicrohttpd's GnuTLS). A certificate is replaced without dropping the listener: a second
 * daemon starts on a duplicate of the listening socket with the new certificate, the old one is
 * quiesced (stops accepting) and keeps serving each open connection until its next answer (which
 * says Connection: close); http_reap stops it once they have all ended, or at the latest when a
 * request begun on it could no longer be arriving under the request deadlines (HTTP_TIMEOUT_SECONDS
 * plus a second per HTTP_BODY_MIN_RATE bytes of the largest body). */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "cpu_affinity.h"
#include "http/deadline.h"
#include "log.h"
#include "util/clock_after.h"
#include "util/crypto.h"
#include "util/growbuf.h"
#include "util/json_indent.h"
#include "util/json_out.h"

/* A daemon and the TLS key and certificate it was started with (owned; NULL for plain HTTP). */
/* What a daemon's request handler is given: the server, and which daemon this is (a request keeps
 * it, so a deferral can tell whether its daemon is the one being stopped). */
struct daemon_tag {
    struct http_server *srv;
    size_t deferred;           /* requests deferred on this daemon (srv->defer_lock) */
    bool retired;              /* atomic: replaced by a daemon with a new certificate */
    const char *cert_pem;      /* the certificate this daemon presents (its slot's); NULL: HTTP */
};

struct daemon_slot {
    struct MHD_Daemon *daemon;
    struct daemon_tag *tag;    /* freed with the daemon */
    char *key_pem, *cert_pem;
    time_t stop_by;            /* retired daemons: stopped at the latest then (monotonic_s) */
};

#define HTTP_MAX_RETIRED 4

struct http_server {
    pthread_mutex_t lock;      /* guards current and retired (replacement vs. reaping) */
    struct daemon_slot current;
    struct daemon_slot retired[HTTP_MAX_RETIRED];
    const struct config *cfg;
    unsigned flags;            /* MHD flags the current daemon was started with */
    http_dispatch_fn dispatch;
    http_screen_fn screen;     /* NULL: none */
    http_answered_fn answered;
    void *ctx;
    size_t max_body;           /* HTTP_MAX_BODY_BYTES */
    size_t max_result_body;    /* HTTP_MAX_RESULT_BODY_BYTES, for POST /job/result */
    size_t body_budget;        /* bytes of request and large answer bodies held at once */
    size_t body_held;          /* atomic: bytes charged against body_budget */
    struct deadline_table *deadlines;   /* every open connection, on every daemon */
    /* Deferred requests: suspended connections must all be resumed before a daemon stops
     * (libmicrohttpd aborts otherwise), so stopping waits for them. */
    pthread_mutex_t defer_lock;
    pthread_cond_t defer_idle;
    size_t deferred;           /* deferred and not answered yet */
    bool stopping;
    const struct daemon_tag *closing;   /* a retired daemon being stopped: defers no more */
};

struct req_state {
    char *path;         /* the target's decoded path (target_path), owned */
    bool path_has_nul;  /* that path holds a NUL byte (a %00): refused */
    const char *target_end; /* where the target as MHD passed it ends (compared, never read) */
    bool begun;         /* first_call has run */
    size_t limit;       /* body limit of this request */
    size_t first_cap;   /* the body buffer's first size: the declared length, up to BODY_PRESIZE */
    struct growbuf body;
    bool has_body;
    bool too_large;
    bool over_budget;   /* the body budget was spent: answered 503 */
    size_t charged;     /* bytes of this body, then of its answer, counted in srv->body_held */
    size_t reserved;    /* bytes reserved for an answer not built yet (http_reserve_answer) */
    size_t received;    /* body bytes received, dropped ones included */
    struct deadline_conn *clock;    /* the connection's deadline entry (NULL: none) */
    struct http_server *srv;
    struct daemon_tag *tag;         /* the daemon serving the request */
    struct MHD_Connection *conn;
    bool deferred;                  /* suspended until http_deferred_answer */
    bool answered;                  /* answer is set (atomic: written by another thread) */
    struct http_response answer;
};

/* A body's buffer is sized from Content-Length up to this (one allocation for the usual request
 * instead of a doubling series); a larger declared length is not trusted with memory up front. */
#define BODY_PRESIZE (64 * 1024)

/* Requests declaring more than this many times the limit are refused before reading. */
#define HTTP_DRAIN_FACTOR 16

/* The budget of all request bodies and large answers held at once, in units of the larger body
 * limit (a sealed result a client can use fits HTTP_MAX_RESULT_BODY_BYTES: it posts it back to
 * /job/result, so the budget holds at least four of those answers at once). */
#define HTTP_BODY_BUDGET_FACTOR 4

/* Answers from this size on are charged against the body budget; smaller ones cost nothing. */
#define HTTP_CHARGED_ANSWER_MIN (64 * 1024)

/* A request body earns its connection one more second past HTTP_TIMEOUT_SECONDS for every this
 * many bytes received (up to the request's body limit): a sealed result of 64 MiB may take an
 * hour over a 128 kbit/s link, while a client that holds a connection must keep sending at this
 * average rate. */
#define HTTP_BODY_MIN_RATE (16 * 1024)

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

char *http_take_body(const struct http_request *req)
{
    struct req_state *st = req->state;
    if (!st || !st->body.data)
        return NULL;
    char *body = st->body.data;
    st->body = (struct growbuf){ 0 };
    return body;
}

const char *http_tls_cert(const struct http_request *req)
{
    const struct req_state *st = req->state;
    return st ? st->tag->cert_pem : NULL;
}

const char *http_query(const struct http_request *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

void http_reply_json(struct http_response *resp, unsigned status, json_t *value)
{
    resp->status = status;
    resp->content_type = HTTP_CT_JSON;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    struct growbuf text = { 0 };
    int bad = !value || json_out_value(&text, value, 0) < 0 || json_out_raw(&text, "\n", 1) < 0;
    json_decref(value);
    if (bad) {
        free(text.data);
        static const char oom[] = "{\"error\":\"out of memory\"}\n";
        resp->status = 500;
        resp->body = strdup(oom);
        resp->body_len = resp->body ? sizeof oom - 1 : 0;
        return;
    }
    resp->body = text.data;
    resp->body_len = text.len;
}

void http_reply_json_text(struct http_response *resp, unsigned status, char *text, size_t len)
{
    resp->status = status;
    resp->content_type = HTTP_CT_JSON;
    free(resp->body);
    resp->body = text;
    resp->body_len = len;
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}\n";
        resp->status = 500;
        resp->body = strdup(oom);
        resp->body_len = resp->body ? sizeof oom - 1 : 0;
    }
}

void http_reply_error(struct http_response *resp, unsigned status, const char *msg)
{
    /* Messages quote client and upstream bytes and may hold invalid UTF-8: taken unchecked, each
     * such byte is written as \ufffd (json_out), as Go's encoder writes it, and the rest of the
     * message stays. */
    json_t *doc = json_object();
    size_t n = strlen(msg);
    const char *twin = resp->error_twin;
    if (doc && (json_object_set_new_nocheck(doc, "error", json_stringn_nocheck(msg, n)) < 0 ||
                (twin && json_object_set_new_nocheck(doc, twin, json_stringn_nocheck(msg, n)) < 0))) {
        json_decref(doc);
        doc = NULL;
    }
    http_reply_json(resp, status, doc);
}

void http_reply_text(struct http_response *resp, unsigned status, char *body, size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = HTTP_CT_TEXT;
    resp->body = body;
    resp->body_len = body ? len : 0;
}

void http_add_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->header_count >= HTTP_MAX_HEADERS)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    resp->header_names[resp->header_count] = name;
    resp->header_values[resp->header_count++] = copy;
}

void http_response_clear(struct http_response *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->header_count; i++)
        free(resp->header_values[i]);
    memset(resp, 0, sizeof *resp);
}

bool http_query_has(const struct http_request *req, const char *key)
{
    return MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), NULL,
                                         NULL) == MHD_YES;
}

/* indent_if_pretty lays a JSON answer out as echo's c.JSON does when the request's query has a
 * `pretty` parameter, with or without a value (core-protocol.md §1). Text answers, empty bodies
 * and prebuilt responses (their handlers check http_query_has themselves) are left alone. */
static void indent_if_pretty(struct MHD_Connection *conn, struct http_response *resp)
{
    if (resp->shared || !resp->body_len || !resp->content_type ||
        strcmp(resp->content_type, HTTP_CT_JSON) != 0 ||
        MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "pretty", 6, NULL, NULL) !=
            MHD_YES)
        return;
    struct growbuf pretty = { 0 };
    if (json_indent(&pretty, resp->body, resp->body_len) < 0) {
        free(pretty.data);          /* not one JSON value: sent as it is */
        return;
    }
    free(resp->body);
    resp->body = pretty.data;
    resp->body_len = pretty.len;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *resp)
{
    indent_if_pretty(conn, resp);
    if (resp->shared) {
        enum MHD_Result rc = MHD_queue_response(conn, resp->status, resp->shared);
        http_response_clear(resp);
        return rc;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                                             MHD_RESPMEM_MUST_FREE);
    if (!r) {
        http_response_clear(resp);
        return MHD_NO;
    }
    resp->body = NULL;  /* MHD owns it now */
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->header_count; i++)
        MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
    enum MHD_Result rc = MHD_queue_response(conn, resp->status ? resp->status : 500, r);
    MHD_destroy_response(r);
    http_response_clear(resp);
    return rc;
}

/* request_received marks the request as arrived whole: its connection is not cut while it is
 * answered. False when the deadline passed first (the connection is being cut: serve nothing). */
static bool request_received(struct req_state *st)
{
    return !st->clock || deadline_received(st->clock);
}

static enum MHD_Result send_answer(struct http_server *srv, struct http_request *req,
                                   struct http_response *resp);

/* reply_refused_body answers a request whose body is not served (resp made by the caller: a 413,
 * or the 503 of a spent body budget) through send_answer, so the answered hook counts it like
 * any other answer (/metrics). */
static enum MHD_Result reply_refused_body(struct req_state *st, const char *method,
                                          struct http_response *resp)
{
    struct http_request req = { .method = method, .path = st->path, .conn = st->conn, .state = st };
    return send_answer(st->srv, &req, resp);
}

static enum MHD_Result reply_too_large(struct req_state *st, const char *method)
{
    struct http_response resp = { 0 };
    char msg[96];
    snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", st->limit);
    http_reply_error(&resp, 413, msg);
    return reply_refused_body(st, method, &resp);
}

/* What the headers say of a request's body length, as framing_of gathers it. */
struct framing {
    unsigned lengths;               /* Content-Length fields */
    bool lengths_differ;            /* two of them with different values */
    const char *length;             /* the first one's value */
    unsigned codings;               /* Transfer-Encoding fields */
    bool chunked_only;              /* the only one is exactly "chunked" */
};

static enum MHD_Result framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (!key || !value)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0)
            f->length = value;
        else if (strcmp(f->length, value) != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->chunked_only = f->codings++ == 0 && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/* framing_refusal says why a request's body length is ambiguous (RFC 9112 6.1, 6.3), making resp
 * its 400, or the 501 of a transfer coding not implemented (Go's server answers that for any
 * coding but chunked alone); false when it is not. libmicrohttpd reads the first Content-Length
 * and takes chunked over it: a proxy in front that read the last one, or the Content-Length,
 * would forward as body bytes the worker reads as its next request (request smuggling). */
static bool framing_refusal(struct MHD_Connection *conn, struct http_response *resp)
{
    struct framing f = { 0 };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_field, &f);
    if (f.lengths_differ)
        http_reply_error(resp, 400, "ambiguous request framing: Content-Length given twice with "
                                    "different values");
    else if (f.codings && !f.chunked_only)
        http_reply_error(resp, 501, "unsupported Transfer-Encoding (only chunked is)");
    else if (f.codings && f.lengths)
        http_reply_error(resp, 400, "ambiguous request framing: both Transfer-Encoding and "
                                    "Content-Length");
    else
        return false;
    resp->count = HTTP_COUNT_SKIP;     /* the client's doing: not the worker's readiness */
    return true;
}

/* target_path is the path a request target is routed by, as Go's server reads it: of an
 * origin-form target (`/job/add`), the part before the query; of an absolute-form one
 * (`http://host:port/job/add?x`, RFC 9112 3.2.2, with the http or https scheme in any case), the
 * part between the authority and the query, the authority taking no part in routing. Percent-
 * decoded as libmicrohttpd decodes the URL; *has_nul says whether the decoded path holds a NUL
 * byte (a %00), which a C string would silently end at. Returns a malloc'd string, or NULL. */
static char *target_path(const char *target, bool *has_nul)
{
    const char *path = target;
    if (strncasecmp(target, "http://", 7) == 0)
        path = target + 7;
    else if (strncasecmp(target, "https://", 8) == 0)
        path = target + 8;
    if (path != target)
        path += strcspn(path, "/?");            /* past the authority */
    char *decoded = strndup(path, strcspn(path, "?"));
    if (!decoded)
        return NULL;
    size_t len = MHD_http_unescape(decoded);
    *has_nul = memchr(decoded, '\0', len) != NULL;
    return decoded;
}

/* on_request_line makes the state of a request as soon as its request line is in (libmicrohttpd's
 * URI log callback, which sees the target as sent, before any decoding; what it returns is the
 * request's *con_cls, which on_completed frees whether or not the request reaches on_request).
 * NULL when out of memory: the request is then refused (on_request). */
static void *on_request_line(void *cls, const char *target, struct MHD_Connection *conn)
{
    struct daemon_tag *tag = cls;
    struct req_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->path = target_path(target, &st->path_has_nul);
    st->target_end = target + strlen(target);
    if (!st->path) {
        free(st);
        return NULL;
    }
    st->srv = tag->srv;
    st->tag = tag;
    st->conn = conn;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    st->clock = info ? info->socket_context : NULL;
    return st;
}

/* target_has_raw_nul says whether the request target as sent held a raw NUL byte, which ended the
 * C string libmicrohttpd passed on_request_line there. libmicrohttpd (checked in 0.9.75) leaves the
 * request line in place, the target running up to the one space before the version, which it
 * overwrites with the NUL ending the target: the target was whole only when the version starts
 * right after that NUL. */
static bool target_has_raw_nul(const struct req_state *st, const char *version)
{
    return version != st->target_end + 1;
}

/* malformed_request makes resp the 400 of a request no handler should see: an HTTP/1.1 request
 * without a Host header (RFC 9112 3.2; Go's server answers it so, CONNECT aside, with the same
 * words), or a target holding a NUL byte, raw or as %00 in the path (a C string would end at it:
 * /job/status/<uid>%00x would answer for <uid>; Go's server refuses a raw one with any other
 * control byte). The connection is closed after the answer, as Go's server closes it. False when
 * the request is not malformed. */
static bool malformed_request(const struct req_state *st, const char *method,
                              const char *version, struct http_response *resp)
{
    if (target_has_raw_nul(st, version))
        http_reply_error(resp, 400, "invalid request target: it holds a NUL byte");
    else if (st->path_has_nul)
        http_reply_error(resp, 400, "invalid request path: it holds a NUL byte (%00)");
    else if (strcmp(version, MHD_HTTP_VERSION_1_0) != 0 && strcmp(method, "CONNECT") != 0 &&
             !MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
        http_reply_error(resp, 400, "missing required Host header");
    else
        return false;
    http_add_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    resp->count = HTTP_COUNT_SKIP;     /* the client's doing: not the worker's readiness */
    return true;
}

/* first_call answers at once a request that is malformed (malformed_request), whose body length
 * is ambiguous (framing_refusal) or that the screen refuses (a missing API key), so that none of
 * its body is read or held, and the connection closes after the answer; refuses outright a
 * declared body far above the limit. */
static enum MHD_Result first_call(struct req_state *st, const char *method, const char *version)
{
    struct http_server *srv = st->srv;
    struct MHD_Connection *conn = st->conn;
    st->begun = true;
    struct http_request req = { .method = method, .path = st->path, .conn = conn, .state = st };
    struct http_response resp = { 0 };
    if (!malformed_request(st, method, version, &resp) && !framing_refusal(conn, &resp) &&
        srv->screen)
        srv->screen(srv->ctx, &req, &resp);
    if (resp.status) {
        if (request_received(st))
            return send_answer(srv, &req, &resp);
        http_response_clear(&resp);
        return MHD_NO;
    }
    /* A sealed result travels back in /job/result: it may be far larger than any other request. */
    st->limit = strcmp(st->path, "/job/result") == 0 ? srv->max_result_body : srv->max_body;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > st->limit) {
            st->too_large = true;
            if (errno || *end || n / HTTP_DRAIN_FACTOR > st->limit)
                return request_received(st) ? reply_too_large(st, method) : MHD_NO;
        } else {
            st->first_cap = n < BODY_PRESIZE ? (size_t)n + 1 : BODY_PRESIZE;
        }
    }
    return MHD_YES;
}

/* give_back returns *bytes counted against the body budget and zeroes it. */
static void give_back(struct http_server *srv, size_t *bytes)
{
    if (*bytes)
        __atomic_sub_fetch(&srv->body_held, *bytes, __ATOMIC_RELAXED);
    *bytes = 0;
}

/* release_body gives the bytes this request charged back to the budget. */
static void release_body(struct req_state *st)
{
    give_back(st->srv, &st->charged);
}

/* free_body wipes and frees what was received of the body (a /setkey body holds a key in clear)
 * and gives its bytes back to the budget. */
static void free_body(struct req_state *st)
{
    growbuf_wipe_free(&st->body);
    release_body(st);
}

/* release_reservation gives back what http_reserve_answer reserved and no answer took over. */
static void release_reservation(struct req_state *st)
{
    give_back(st->srv, &st->reserved);
}

/* drop_body frees what was received of the body and sets *why (too_large or over_budget). */
static void drop_body(struct req_state *st, bool *why)
{
    *why = true;
    free_body(st);
}

static void append_body(struct req_state *st, const char *data, size_t n)
{
    st->has_body = true;
    st->received += n;
    if (st->clock)
        deadline_body(st->clock, st->received < st->limit ? st->received : st->limit);
    if (st->too_large || st->over_budget)
        return;
    if (n > st->limit - st->body.len) {
        drop_body(st, &st->too_large);
        return;
    }
    st->charged += n;
    if (__atomic_add_fetch(&st->srv->body_held, n, __ATOMIC_RELAXED) > st->srv->body_budget) {
        drop_body(st, &st->over_budget);
        return;
    }
    if (growbuf_append_wiping(&st->body, data, n, st->first_cap ? st->first_cap : 1024) < 0)
        drop_body(st, &st->too_large);
}

/* busy_reply makes resp the 503 of a spent body budget (what: "request" or "response"). */
static void busy_reply(struct http_response *resp, const char *what)
{
    char msg[96];
    snprintf(msg, sizeof msg, "too many %s bytes in flight on this worker; retry later", what);
    http_reply_error(resp, 503, msg);
    http_add_header(resp, "Retry-After", "1");
}

/* reply_busy answers a request whose body the budget could not take: the clients' load, kept out
 * of the readiness window like the answer budget's 503. */
static enum MHD_Result reply_busy(struct req_state *st, const char *method)
{
    struct http_response resp = { 0 };
    busy_reply(&resp, "request");
    resp.count = HTTP_COUNT_SKIP;
    return reply_refused_body(st, method, &resp);
}

/* take_budget adds n bytes to the body budget's count unless that goes beyond the budget while
 * something besides these n and the own bytes of the asking request is held (so an answer alone,
 * even one larger than the whole budget, is not refused for ever). Returns false when refused. */
static bool take_budget(struct http_server *srv, size_t n, size_t own)
{
    size_t held = __atomic_add_fetch(&srv->body_held, n, __ATOMIC_RELAXED);
    if (held > srv->body_budget && held - n > own) {
        __atomic_sub_fetch(&srv->body_held, n, __ATOMIC_RELAXED);
        return false;
    }
    return true;
}

/* refuse_answer makes resp the 503 of a spent answer budget, kept out of the readiness window
 * (the clients' load, like the request budget's 503). */
static void refuse_answer(struct http_response *resp)
{
    http_response_clear(resp);
    busy_reply(resp, "response");
    resp->count = HTTP_COUNT_SKIP;
}

/* charge_answer counts a large answer in the body budget until the request completes, or, when
 * that would go beyond the budget, replaces it by a 503. The request's body is done with by now:
 * its bytes are freed and given back first (for /job/result the answer is that same buffer). An
 * answer the handler reserved before building it (http_reserve_answer) was admitted then: the
 * reservation becomes its charge, corrected to its real size. */
static void charge_answer(struct req_state *st, struct http_response *resp)
{
    free_body(st);
    struct http_server *srv = st->srv;
    size_t n = resp->body_len;
    if (st->reserved) {
        if (n >= st->reserved)
            __atomic_add_fetch(&srv->body_held, n - st->reserved, __ATOMIC_RELAXED);
        else
            __atomic_sub_fetch(&srv->body_held, st->reserved - n, __ATOMIC_RELAXED);
        st->reserved = 0;
        st->charged = n;
        return;
    }
    if (!take_budget(srv, n, 0)) {
        refuse_answer(resp);
        return;
    }
    st->charged = n;
}

bool http_reserve_answer(const struct http_request *req, size_t n, struct http_response *resp)
{
    struct req_state *st = req->state;
    /* nothing to count: a request built by hand (no server state), a small answer, or one
     * already reserved (settled to its real size when sent) */
    if (!st || n < HTTP_CHARGED_ANSWER_MIN || st->reserved)
        return true;
    if (!take_budget(st->srv, n, st->charged)) {
        refuse_answer(resp);
        return false;
    }
    st->reserved = n;
    return true;
}

/* deferred_done counts one deferred request on tag's daemon answered (or abandoned with its
 * connection). */
static void deferred_done(struct http_server *srv, struct daemon_tag *tag)
{
    pthread_mutex_lock(&srv->defer_lock);
    tag->deferred--;
    if (--srv->deferred == 0 || tag->deferred == 0)
        pthread_cond_broadcast(&srv->defer_idle);
    pthread_mutex_unlock(&srv->defer_lock);
}

struct http_deferred *http_defer(const struct http_request *req)
{
    struct req_state *st = req->state;
    struct http_server *srv = st->srv;
    pthread_mutex_lock(&srv->defer_lock);
    bool ok = !srv->stopping && st->tag != srv->closing;
    if (ok) {
        srv->deferred++;
        st->tag->deferred++;
    }
    pthread_mutex_unlock(&srv->defer_lock);
    if (!ok)
        return NULL;
    st->deferred = true;
    MHD_suspend_connection(st->conn);   /* before anyone can answer: resume follows suspend */
    return (struct http_deferred *)st;
}

void http_deferred_answer(struct http_deferred *d, struct http_response *resp)
{
    struct req_state *st = (struct req_state *)d;
    struct http_server *srv = st->srv;
    struct MHD_Connection *conn = st->conn;
    struct daemon_tag *tag = st->tag;
    /* MHD_resume_connection still reads the daemon after it has marked the connection (to wake
     * the daemon's thread), and by then that thread may have sent the answer and counted the
     * request done. This thread counts as one more deferral on the daemon until it is out, so
     * that neither http_stop nor the reaping of a retired daemon frees the daemon under it. */
    pthread_mutex_lock(&srv->defer_lock);
    srv->deferred++;
    tag->deferred++;
    pthread_mutex_unlock(&srv->defer_lock);
    st->answer = *resp;
    memset(resp, 0, sizeof *resp);
    __atomic_store_n(&st->answered, true, __ATOMIC_RELEASE);
    MHD_resume_connection(conn);    /* st may be freed from here on; srv and tag may not */
    deferred_done(srv, tag);
}

/* wait_deferred waits until no request is deferred, up to SHUTDOWN_DRAIN_SECONDS (then says how
 * many are left). With stop, no request may be deferred any more. Returns how many are left. */
static size_t wait_deferred(struct http_server *srv, bool stop)
{
    unsigned drain_s = srv->cfg->shutdown_drain_s;
    /* monotonic: a wall-clock step during a stop neither cuts the drain short nor stretches it */
    struct timespec until = clock_after_ms(CLOCK_MONOTONIC, (long)drain_s * 1000);
    pthread_mutex_lock(&srv->defer_lock);
    if (stop)
        srv->stopping = true;
    while (srv->deferred > 0 && pthread_cond_clockwait(&srv->defer_idle, &srv->defer_lock,
                                                       CLOCK_MONOTONIC, &until) != ETIMEDOUT) {
    }
    size_t left = srv->deferred;
    pthread_mutex_unlock(&srv->defer_lock);
    if (left)
        log_error("http: %zu deferred requests still unanswered after %u s "
                  "(SHUTDOWN_DRAIN_SECONDS)", left, drain_s);
    return left;
}

/* wait_deferred_on waits until no request is deferred on tag's daemon, up to
 * SHUTDOWN_DRAIN_SECONDS. Returns how many are left. */
static size_t wait_deferred_on(struct http_server *srv, const struct daemon_tag *tag)
{
    struct timespec until = clock_after_ms(CLOCK_MONOTONIC, (long)srv->cfg->shutdown_drain_s * 1000);
    pthread_mutex_lock(&srv->defer_lock);
    while (tag->deferred > 0 && pthread_cond_clockwait(&srv->defer_idle, &srv->defer_lock,
                                                       CLOCK_MONOTONIC, &until) != ETIMEDOUT) {
    }
    size_t left = tag->deferred;
    pthread_mutex_unlock(&srv->defer_lock);
    return left;
}

/* mark_closing names the retired daemon being stopped (NULL: none): from then on a request on it
 * is answered at once instead of being deferred (http_defer). */
static void mark_closing(struct http_server *srv, const struct daemon_tag *tag)
{
    pthread_mutex_lock(&srv->defer_lock);
    srv->closing = tag;
    pthread_mutex_unlock(&srv->defer_lock);
}

/* send_answer charges a large answer to the body budget, shows resp to the answered hook, then
 * sends it. */
static enum MHD_Result send_answer(struct http_server *srv, struct http_request *req,
                                   struct http_response *resp)
{
    if (resp->body_len >= HTTP_CHARGED_ANSWER_MIN) {
        charge_answer(req->state, resp);
        req->body = NULL;           /* freed there */
        req->body_len = 0;
    } else {
        release_reservation(req->state);   /* reserved, then answered small (an error) */
    }
    if (srv->answered)
        srv->answered(srv->ctx, req, resp);
    /* On a retired daemon the connection ends with this answer, so that the daemon (and the old
     * key) goes as soon as the requests under way on it are done. Said as the request's own
     * "Connection: close", which libmicrohttpd honours for every answer, prebuilt ones too. */
    const struct req_state *st = req->state;
    if (__atomic_load_n(&st->tag->retired, __ATOMIC_ACQUIRE))
        MHD_set_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION, "close");
    return send_response(req->conn, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;          /* decoded by libmicrohttpd, which ends it at a NUL: st->path is used */
    struct daemon_tag *tag = cls;
    struct http_server *srv = tag->srv;
    struct req_state *st = *con_cls;
    if (!st)
        return MHD_NO;                  /* no memory for its state at the request line */
    if (!st->begun)
        return first_call(st, method, version);
    if (st->deferred) {
        if (!__atomic_load_n(&st->answered, __ATOMIC_ACQUIRE))
            return MHD_YES;             /* not resumed by us: nothing to do yet */
        st->deferred = false;
        struct http_request req = { .method = method, .path = st->path, .conn = conn,
                                    .state = st };
        enum MHD_Result rc = send_answer(srv, &req, &st->answer);
        deferred_done(srv, tag);
        return rc;
    }
    if (*upload_data_size) {
        append_body(st, upload_data, *upload_data_size);
        /* The piece lies in libmicrohttpd's read buffer, which is freed as it is if the client
         * goes away before the request is complete: wiped once copied (a /setkey body holds a
         * key in clear). The buffer is the connection's own memory; MHD reads nothing back from
         * the bytes this call consumed. */
        explicit_bzero((void *)upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!request_received(st))
        return MHD_NO;
    if (st->too_large)
        return reply_too_large(st, method);
    if (st->over_budget)
        return reply_busy(st, method);
    struct http_request req = {
        .method = method,
        .path = st->path,
        .conn = conn,
        .body = st->has_body ? (st->body.data ? st->body.data : "") : NULL,
        .body_len = st->body.len,
        .state = st,
    };
    struct http_response resp = { 0 };
    srv->dispatch(srv->ctx, &req, &resp);
    if (st->deferred)
        return MHD_YES;     /* answered on resume (the handler left resp empty) */
    return send_answer(srv, &req, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http_server *srv = cls;
    struct req_state *st = *con_cls;
    struct deadline_conn *clock = st ? st->clock : NULL;
    if (!st) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        clock = info ? info->socket_context : NULL;
    }
    if (clock)      /* the connection's next request is due from now */
        deadline_next(srv->deadlines, clock);
    if (st && st->deferred) {           /* answered, but the connection ended before it went out */
        http_response_clear(&st->answer);
        deferred_done(st->srv, st->tag);
    }
    if (st) {
        free_body(st);
        release_reservation(st);
        free(st->path);
        free(st);
        *con_cls = NULL;
    }
}

/* on_connection registers each connection in the deadline table from its start to its close.
 * libmicrohttpd notifies the close before it closes the descriptor (checked in 0.9.75: the cleanup
 * of a connection, and the failure path of its start, both call this first), so a sweep can never
 * shut down a descriptor that was closed and reused. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? deadline_open(srv->deadlines, info->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        deadline_close(srv->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

int http_parse_listen_address(const char *addr, char *host, size_t hostlen, unsigned *port)
{
    const char *colon;
    const char *h = addr;
    size_t hl;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return -1;
        h = addr + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
            return -1;
        hl = (size_t)(colon - addr);
    }
    if (hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535)
        return -1;
    *port = (unsigned)p;
    return 0;
}

/* resolve turns host into a socket address (numeric or by name). */
static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_debug("http: %s", buf);
}

/* GnuTLS priorities of the attested listener: its defaults less TLS 1.0 and 1.1 (RFC 8996). Inside
 * the enclave no system-wide GnuTLS policy applies, so the worker says it itself. */
#define HTTPS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static struct MHD_Daemon *start_daemon(struct http_server *srv, const struct config *cfg,
                                       unsigned flags, unsigned port, const struct sockaddr *sa,
                                       const struct daemon_slot *tls, int listen_fd)
{
    unsigned threads = cfg->http_threads > 1 ? cfg->http_threads : 0;
    bool https = tls && tls->key_pem;
    struct MHD_OptionItem opts[] = {
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->http_timeout_s, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->http_max_connections, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16 * 1024, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv },
        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv },
        { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, tls->tag },
        { MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL },
        { sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, (intptr_t)0, (void *)sa },
        { threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL },
        { https ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, https ? tls->key_pem : NULL },
        { https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, https ? tls->cert_pem : NULL },
        { https ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0,
          https ? (void *)HTTPS_PRIORITIES : NULL },
        { listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, (intptr_t)listen_fd, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    /* Options after an END entry are ignored by MHD: move the optional ones up front. */
    struct MHD_OptionItem packed[sizeof opts / sizeof opts[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].option != MHD_OPTION_END)
            packed[n++] = opts[i];
    packed[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    if (https)
        flags |= MHD_USE_TLS | MHD_USE_ITC;   /* ITC: needed by MHD_quiesce_daemon */
    /* HTTP_CPUS: the daemon's threads inherit the CPUs of the thread that starts them */
    cpu_set_t saved;
    bool pinned = cpu_affinity_enter_loop(&saved);
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request,
                                            tls->tag, MHD_OPTION_ARRAY, packed, MHD_OPTION_END);
    if (pinned)
        cpu_affinity_leave_loop(&saved);
    return d;
}

static void slot_free(struct daemon_slot *slot)
{
    if (slot->daemon)
        MHD_stop_daemon(slot->daemon);
    free(slot->tag);
    if (slot->key_pem) {
        crypto_wipe(slot->key_pem, strlen(slot->key_pem));
        free(slot->key_pem);
    }
    free(slot->cert_pem);
    memset(slot, 0, sizeof *slot);
}

/* slot_init gives slot its daemon's tag and copies the PEM texts into it (tls NULL: plain HTTP).
 * Returns 0 or -1 (out of memory; slot_free frees what was made). */
static int slot_init(struct daemon_slot *slot, struct http_server *srv, const struct http_tls *tls)
{
    slot->tag = calloc(1, sizeof *slot->tag);
    if (!slot->tag)
        return -1;
    slot->tag->srv = srv;
    if (!tls)
        return 0;
    slot->key_pem = strdup(tls->key_pem);
    slot->cert_pem = strdup(tls->cert_pem);
    slot->tag->cert_pem = slot->cert_pem;
    return slot->key_pem && slot->cert_pem ? 0 : -1;
}

static void server_free(struct http_server *srv)
{
    slot_free(&srv->current);
    for (size_t i = 0; i < HTTP_MAX_RETIRED; i++)
        slot_free(&srv->retired[i]);
    deadline_table_free(srv->deadlines);   /* after the daemons: their connections are closed */
    pthread_mutex_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->defer_lock);
    pthread_cond_destroy(&srv->defer_idle);
    free(srv);
}

struct http_server *http_start_tls(const struct config *cfg, const struct http_tls *tls,
                                   http_dispatch_fn dispatch, http_screen_fn screen,
                                   http_answered_fn answered, void *ctx, char *err, size_t errlen)
{
    char host[256];
    unsigned port;
    if (http_parse_listen_address(cfg->listen_address, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "LISTEN_ADDRESS: cannot parse \"%s\" (expected :port, host:port or "
                 "[v6]:port)", cfg->listen_address);
        return NULL;
    }
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->defer_lock, NULL);
    pthread_cond_init(&srv->defer_idle, NULL);
    srv->cfg = cfg;
    srv->dispatch = dispatch;
    srv->screen = screen;
    srv->answered = answered;
    srv->ctx = ctx;
    srv->max_body = cfg->http_max_body;
    srv->max_result_body = cfg->http_max_result_body > cfg->http_max_body ? cfg->http_max_result_body
                                                                          : cfg->http_max_body;
    srv->body_budget = HTTP_BODY_BUDGET_FACTOR * srv->max_result_body;
    srv->deadlines = deadline_table_new(cfg->http_timeout_s, HTTP_BODY_MIN_RATE);
    if (!srv->deadlines || deadline_table_run(srv->deadlines) < 0) {
        snprintf(err, errlen, "cannot start the HTTP request deadline thread");
        server_free(srv);
        return NULL;
    }
    if (slot_init(&srv->current, srv, tls) < 0) {
        snprintf(err, errlen, "out of memory");
        server_free(srv);
        return NULL;
    }
    const struct daemon_slot *t = &srv->current;
    unsigned base = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
                    MHD_ALLOW_SUSPEND_RESUME;
    bool any = host[0] == '\0' || strcmp(host, "::") == 0;
    errno = 0;
    if (any) {
        srv->flags = base | MHD_USE_DUAL_STACK;
        srv->current.daemon = start_daemon(srv, cfg, srv->flags, port, NULL, t, -1);
        if (!srv->current.daemon && host[0] == '\0') {   /* no IPv6 on this host: IPv4 only */
            srv->flags = base;
            srv->current.daemon = start_daemon(srv, cfg, srv->flags, port, NULL, t, -1);
        }
    } else {
        struct sockaddr_storage ss = { 0 };
        if (resolve(host, port, &ss) < 0) {
            snprintf(err, errlen, "LISTEN_ADDRESS: cannot resolve host \"%s\"", host);
            server_free(srv);
            return NULL;
        }
        srv->flags = base | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
        srv->current.daemon = start_daemon(srv, cfg, srv->flags, port,
                                           (const struct sockaddr *)&ss, t, -1);
    }
    if (!srv->current.daemon) {
        snprintf(err, errlen, "cannot listen on %s: %s%s", cfg->listen_address,
                 errno ? strerror(errno) : "bind failed",
                 tls ? " (or the TLS key and certificate were refused)" : "");
        server_free(srv);
        return NULL;
    }
    return srv;
}

struct http_server *http_start(const struct config *cfg, http_dispatch_fn dispatch,
                               http_screen_fn screen, http_answered_fn answered, void *ctx,
                               char *err, size_t errlen)
{
    return http_start_tls(cfg, NULL, dispatch, screen, answered, ctx, err, errlen);
}

/* stop_retired stops and frees a retired slot's daemon if no request is deferred (force: in any
 * case). A request on it that would be deferred meanwhile (a keep-alive connection's next request)
 * is answered at once instead (http_defer): libmicrohttpd aborts the process when a daemon holding
 * a suspended connection is stopped. Returns whether the slot was freed. srv->lock held. */
static bool stop_retired(struct http_server *srv, struct daemon_slot *slot, bool force)
{
    pthread_mutex_lock(&srv->defer_lock);
    bool go = force || slot->tag->deferred == 0;
    if (go)
        srv->closing = slot->tag;
    pthread_mutex_unlock(&srv->defer_lock);
    if (!go)
        return false;
    slot_free(slot);
    mark_closing(srv, NULL);
    return true;
}

/* holds_connections: the slot's daemon has connections open (suspended ones included), or cannot
 * say. */
static bool holds_connections(const struct daemon_slot *slot)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(slot->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return !info || info->num_connections > 0;
}

/* monotonic_s: seconds on the monotonic clock, which a wall-clock step (NTP; in an enclave, the
 * host's time) does not move: a retired daemon's drain is measured on it. */
static time_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* longest_arrival_s: the longest a request may take to arrive whole under the request deadlines
 * (deadline.h): HTTP_TIMEOUT_SECONDS, plus a second per HTTP_BODY_MIN_RATE bytes of the largest
 * body. A retired daemon is kept that long at least, so that a request under way on it when the
 * certificate was replaced (a sealed result posted back over a slow link) is not cut. */
static unsigned long longest_arrival_s(const struct http_server *srv)
{
    return srv->cfg->http_timeout_s + srv->max_result_body / HTTP_BODY_MIN_RATE;
}

int http_replace_tls(struct http_server *srv, const struct http_tls *tls, char *err, size_t errlen)
{
    struct daemon_slot fresh = { 0 };
    pthread_mutex_lock(&srv->lock);
    /* The retired daemon's slot the current one will take: a free one, or the oldest. */
    size_t slot = 0;
    for (size_t i = 0; i < HTTP_MAX_RETIRED; i++)
        if (!srv->retired[i].daemon || srv->retired[i].stop_by < srv->retired[slot].stop_by) {
            slot = i;
            if (!srv->retired[i].daemon)
                break;
        }
    /* All slots busy: the oldest goes now, unless a request deferred on it is still suspended
     * (a write held up by the disk): libmicrohttpd aborts the process when a daemon holding a
     * suspended connection is stopped, and the answer would come into freed memory. It is marked
     * closing first, so that no request on it is deferred after the count is read (its
     * keep-alive connections' next requests are answered at once); the ones deferred before are
     * waited for, up to SHUTDOWN_DRAIN_SECONDS. If some are still out, the current certificate
     * is kept (the renewal tries again). A retired daemon without connections holds none (it
     * accepts no new ones). */
    const struct daemon_tag *oldest = srv->retired[slot].daemon ? srv->retired[slot].tag : NULL;
    if (oldest && holds_connections(&srv->retired[slot])) {
        mark_closing(srv, oldest);
        if (wait_deferred_on(srv, oldest) > 0) {
            mark_closing(srv, NULL);
            log_error("http: requests deferred on the oldest retired listener still unanswered "
                      "after %u s (SHUTDOWN_DRAIN_SECONDS)", srv->cfg->shutdown_drain_s);
            snprintf(err, errlen, "deferred requests (waiting on the disk) are still on every "
                     "retired listener; the current certificate stays");
            pthread_mutex_unlock(&srv->lock);
            return -1;
        }
    }
    const union MHD_DaemonInfo *info = srv->current.key_pem
        ? MHD_get_daemon_info(srv->current.daemon, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
    int fd = info ? fcntl(info->listen_fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd < 0 || slot_init(&fresh, srv, tls) < 0) {
        snprintf(err, errlen, "%s", !info ? "the server does not run HTTPS"
                                          : fd < 0 ? strerror(errno) : "out of memory");
        goto fail;
    }
    fresh.daemon = start_daemon(srv, srv->cfg, srv->flags, 0, NULL, &fresh, fd);
    if (!fresh.daemon) {
        /* fd is not closed here: whether MHD closed a listen socket it was given on a failed
         * start differs between versions, and a double close could hit a reused descriptor. */
        fd = -1;
        snprintf(err, errlen, "cannot start a server with the new TLS certificate");
        goto fail;
    }
    /* From here the new daemon owns fd; the old one stops accepting and drains, closing each
     * connection after its next answer (send_answer). */
    __atomic_store_n(&srv->current.tag->retired, true, __ATOMIC_RELEASE);
    MHD_socket old_fd = MHD_quiesce_daemon(srv->current.daemon);
    if (old_fd != MHD_INVALID_SOCKET)
        close(old_fd);
    stop_retired(srv, &srv->retired[slot], true);   /* nothing deferred on it: see above */
    srv->retired[slot] = srv->current;
    srv->retired[slot].stop_by = monotonic_s() + (time_t)longest_arrival_s(srv) + 1;
    srv->current = fresh;
    pthread_mutex_unlock(&srv->lock);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    slot_free(&fresh);
    mark_closing(srv, NULL);
    pthread_mutex_unlock(&srv->lock);
    return -1;
}

size_t http_reap(struct http_server *srv)
{
    size_t left = 0;
    time_t now = monotonic_s();
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < HTTP_MAX_RETIRED; i++) {
        struct daemon_slot *r = &srv->retired[i];
        if (!r->daemon)
            continue;
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        /* not while a request is deferred: it may be suspended on this daemon */
        if (!((now >= r->stop_by || (info && info->num_connections == 0)) &&
              stop_retired(srv, r, false)))
            left++;
    }
    pthread_mutex_unlock(&srv->lock);
    return left;
}

unsigned http_bound_port(struct http_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->current.daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    pthread_mutex_unlock(&srv->lock);
    return port;
}

bool http_stop(struct http_server *srv)
{
    if (!srv)
        return true;
    /* A request still deferred will be answered by another thread (the store's or the key ring's
     * writer, stuck on a slow disk) into this server's memory, and libmicrohttpd cannot stop a daemon holding a
     * suspended connection: the server is then left running, for the process's exit to end. */
    if (wait_deferred(srv, true) > 0)
        return false;
    server_free(srv);
    return true;
}
