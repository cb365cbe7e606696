/* http.h - the HTTP layer's face: a request as handlers see it, a response as they fill it.
 *
 * Handlers never touch libmicrohttpd directly except through the small accessors below, so the
 * server glue (server.c) owns every MHD detail: body collection and limits, timeouts, and turning
 * a struct http_response into an MHD response. */
#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct MHD_Connection;
struct MHD_Response;

struct http_request {
    const char *method;
    const char *path;               /* decoded path, no query string */
    struct MHD_Connection *conn;
    const char *body;               /* NULL when the request had no body; NUL-terminated otherwise */
    size_t body_len;
    void *state;                    /* the server's per-request state (http_take_body) */
};

#define HTTP_MAX_HEADERS 4

enum http_count { HTTP_COUNT_AUTO = 0, HTTP_COUNT_SKIP };

struct http_response {
    unsigned status;
    const char *content_type;       /* static string */
    char *body;                     /* owned (malloc), may be NULL */
    size_t body_len;
    struct MHD_Response *shared;    /* a prebuilt response to send instead (not owned) */
    const char *header_names[HTTP_MAX_HEADERS];   /* static strings */
    char *header_values[HTTP_MAX_HEADERS];        /* owned */
    size_t header_count;
    enum http_count count;          /* readiness: HTTP_COUNT_SKIP keeps this answer out of it */
    const char *error_twin;         /* static: http_reply_error also writes its message under
                                     * this member (Go's /setkey reads "status", Echo's errors
                                     * carry "message"); NULL: none */
};

#define HTTP_CT_JSON "application/json"
#define HTTP_CT_TEXT "text/plain; charset=UTF-8"

/* http_header returns the first value of request header name (case-insensitive), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* http_take_body hands the buffer req->body points to over to the caller, who may then write into
 * it (decode in place) and must free it (or pass it to http_reply_text). It is body_len bytes plus
 * a NUL, allocated with malloc. NULL when there is no body buffer (no body, or taken already). */
char *http_take_body(const struct http_request *req);

/* http_tls_cert returns the PEM certificate the request's connection was handshaken with (that of
 * the listener it was accepted on: after a renewal, a connection accepted before it keeps the old
 * one); NULL for plain HTTP or a request without server state (built by hand). */
const char *http_tls_cert(const struct http_request *req);

/* http_query returns the first value of query parameter key, or NULL. */
const char *http_query(const struct http_request *req, const char *key);

/* http_query_has: the query names parameter key, with a value or without one (`?pretty`). */
bool http_query_has(const struct http_request *req, const char *key);

/* http_reply_json answers status with compact JSON + "\n", written as echo's c.JSON writes it
 * (util/json_out.h); takes the reference to value. */
void http_reply_json(struct http_response *resp, unsigned status, json_t *value);

/* http_reply_json_text answers status with text, compact JSON already followed by "\n" (len
 * bytes, malloc'd; ownership taken): for small fixed-shape replies built without a jansson value. */
void http_reply_json_text(struct http_response *resp, unsigned status, char *text, size_t len);

/* http_reply_error answers status with {"error": msg}. */
void http_reply_error(struct http_response *resp, unsigned status, const char *msg);

/* http_reply_text answers status with text/plain; takes ownership of body (malloc'd). */
void http_reply_text(struct http_response *resp, unsigned status, char *body, size_t len);

/* http_add_header adds a response header (value copied). */
void http_add_header(struct http_response *resp, const char *name, const char *value);

/* A request answered later, from any thread (the connection is suspended meanwhile). */
struct http_deferred;

/* http_defer, called by a handler, keeps the request open after the handler returns: the answer
 * is given later with http_deferred_answer (exactly once). The handler leaves resp untouched.
 * Returns NULL when the server is stopping: answer now, as usual. */
struct http_deferred *http_defer(const struct http_request *req);

/* http_deferred_answer sends resp (taken over) as the answer of a deferred request; any thread. */
void http_deferred_answer(struct http_deferred *d, struct http_response *resp);

/* http_reserve_answer counts an answer of n bytes against the body budget before the handler
 * builds it, so that an answer the budget cannot take costs no memory. Answers under the charged
 * size (64 KiB) need no reservation: true at once. Otherwise true when it fits (the reservation
 * becomes the answer's charge when it is sent, corrected to its real size, and is given back
 * however else the request ends), or false after making resp the 503 + Retry-After of a spent
 * budget, which the handler then returns as it is. */
bool http_reserve_answer(const struct http_request *req, size_t n, struct http_response *resp);

/* http_response_clear frees what resp owns. */
void http_response_clear(struct http_response *resp);

/* The server: one dispatch function receives every complete request; the answered function sees
 * every answer a dispatched request gets, when it is sent (for a deferred request, later), and
 * the answers the server makes itself to a request whose body it refused (413, or the 503 of a
 * spent body budget). */
typedef void (*http_dispatch_fn)(void *ctx, const struct http_request *req,
                                 struct http_response *resp);
/* The screen function (optional) sees each request as soon as its headers are in, before any of
 * its body is read (req->body is NULL): it may answer it then, by setting resp->status (the
 * answered function sees that answer too), and the body is then never read (the connection
 * closes after the answer); a resp left untouched lets the request through to dispatch. */
typedef void (*http_screen_fn)(void *ctx, const struct http_request *req,
                               struct http_response *resp);
typedef void (*http_answered_fn)(void *ctx, const struct http_request *req,
                                 const struct http_response *resp);

struct config;
struct http_server;

/* http_start listens on cfg->listen_address and serves until http_stop. Returns NULL with err when
 * the address is invalid or cannot be bound. */
struct http_server *http_start(const struct config *cfg, http_dispatch_fn dispatch,
                               http_screen_fn screen, http_answered_fn answered, void *ctx,
                               char *err, size_t errlen);

/* http_stop refuses new deferrals, waits (up to SHUTDOWN_DRAIN_SECONDS) for the deferred requests to be
 * answered, then stops serving and frees the server. Returns false when requests are still
 * deferred after that: the server is then left serving, since whoever holds them will answer
 * into it, and the caller must not free what those answers use (the process should just exit). */
bool http_stop(struct http_server *srv);

/* HTTPS: a private key and its certificate, both PEM (copied by the server). */
struct http_tls {
    const char *key_pem;
    const char *cert_pem;
};

/* http_start_tls is http_start serving HTTPS with tls (NULL: plain HTTP, as http_start). */
struct http_server *http_start_tls(const struct config *cfg, const struct http_tls *tls,
                                   http_dispatch_fn dispatch, http_screen_fn screen,
                                   http_answered_fn answered, void *ctx, char *err, size_t errlen);

/* http_replace_tls serves new connections with tls from now on, on the same listening socket;
 * connections already open finish on the old certificate (see http_reap). Only for a server
 * started with TLS. Returns 0, or -1 with err (the old certificate stays in service). */
int http_replace_tls(struct http_server *srv, const struct http_tls *tls, char *err, size_t errlen);

/* http_reap stops the replaced servers whose connections have all ended, or on which a request
 * begun before the replacement can no longer be arriving (HTTP_TIMEOUT_SECONDS plus a second per
 * 16 KiB of HTTP_MAX_RESULT_BODY_BYTES since it). Returns how many are still draining. */
size_t http_reap(struct http_server *srv);

/* http_bound_port returns the port actually listened on (useful with port 0). */
unsigned http_bound_port(struct http_server *srv);

/* http_parse_listen_address splits ":8080", "host:8080", "[::1]:8080" into host (may be "") and
 * port. Returns 0 or -1. host receives at most hostlen-1 characters. */
int http_parse_listen_address(const char *addr, char *host, size_t hostlen, unsigned *port);

#endif
