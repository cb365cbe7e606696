/* api.h - the route handlers. Each takes the app, the request, and fills the response. */
#ifndef TW_API_H
#define TW_API_H

#include "app.h"
#include "http/http.h"

typedef void (*api_handler)(struct app *app, const struct http_request *req,
                            struct http_response *resp);

void api_healthz(struct app *app, const struct http_request *req, struct http_response *resp);
void api_readyz(struct app *app, const struct http_request *req, struct http_response *resp);
void api_loglevel(struct app *app, const struct http_request *req, struct http_response *resp);
void api_setkey(struct app *app, const struct http_request *req, struct http_response *resp);
void api_job_generate(struct app *app, const struct http_request *req, struct http_response *resp);
void api_job_add(struct app *app, const struct http_request *req, struct http_response *resp);
void api_job_status(struct app *app, const struct http_request *req, struct http_response *resp);
void api_job_result(struct app *app, const struct http_request *req, struct http_response *resp);
void api_attestation(struct app *app, const struct http_request *req, struct http_response *resp);

/* api_parse_body parses a JSON request body strictly: Content-Type must be application/json
 * (400 otherwise, as Go answers its binder's 415), the body must be present and one JSON object
 * with nothing after it (400), members outside `allowed` (NULL-terminated) are refused (400).
 * Returns the object (caller decrefs) or NULL after answering resp with the error. */
json_t *api_parse_body(const struct http_request *req, struct http_response *resp,
                       const char *const *allowed);

/* api_parse_json_text is api_parse_body given the Content-Type value (NULL when absent) and the
 * body (NULL or empty when absent): the part that needs no connection (fuzzed on its own). */
json_t *api_parse_json_text(const char *content_type, const char *body, size_t body_len,
                            struct http_response *resp, const char *const *allowed);

/* api_string_member returns the string member name of obj, or NULL after answering 400 (missing,
 * not a string, or empty). */
const char *api_string_member(const json_t *obj, const char *name, size_t *len,
                              struct http_response *resp);

/* A body of string members read without copying them (the sealed texts of /job/add and
 * /job/result, up to HTTP_MAX_RESULT_BODY_BYTES): the common shape, one object of plain ASCII
 * strings, is read as slices of the request body; anything else goes through api_parse_body, with
 * its checks and errors, and the texts then live in root. */
#define API_MAX_MEMBERS 8

struct api_strings {
    json_t *root;                           /* NULL on the fast path */
    const char *value[API_MAX_MEMBERS];     /* by index in allowed; NULL: absent or not a string */
    size_t len[API_MAX_MEMBERS];
};

/* api_parse_strings checks and reads the body as api_parse_body does; returns 0, or -1 after
 * answering resp. Clear out with api_strings_clear either way. */
int api_parse_strings(const struct http_request *req, struct http_response *resp,
                      const char *const *allowed, struct api_strings *out);

/* api_parse_strings_in_place is api_parse_strings for a body that holds a secret, which the
 * caller took (body: req->body, from http_take_body) and wipes after use: a flat object of string
 * members is decoded in the body's own buffer, JSON escapes and UTF-8 included, so that no copy
 * of a value is made; the values are then slices of body (not NUL-terminated). Any other body,
 * or one holding what jansson would refuse, goes through api_parse_body as before. */
int api_parse_strings_in_place(const struct http_request *req, char *body,
                               struct http_response *resp, const char *const *allowed,
                               struct api_strings *out);

/* api_decode_flat_in_place is that decoding alone, for body[0..len): true with out's values as
 * decoded slices of body, or false (body untouched, out cleared) for any other body. */
bool api_decode_flat_in_place(char *body, size_t len, const char *const *allowed,
                              struct api_strings *out);

/* api_strings_get is api_string_member for a parsed body: the value (not NUL-terminated on the
 * fast path; len bytes) or NULL after answering 400 (missing, not a string, or empty). */
const char *api_strings_get(const struct api_strings *s, const char *const *allowed,
                            const char *name, size_t *len, struct http_response *resp);
void api_strings_clear(struct api_strings *s);

/* api_strings_clear_wiped is api_strings_clear for secrets: every string member of root (a body
 * the fast path declined) is zeroed before the tree is freed. The fast path's values are slices
 * of the request body, which the caller takes (http_take_body) and wipes itself. jansson's own
 * scratch buffers, freed inside its parser, are out of reach. */
void api_strings_clear_wiped(struct api_strings *s);

#endif
