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
 * (415 otherwise), the body must be present and one JSON object with nothing after it (400),
 * members outside `allowed` (NULL-terminated) are refused (400). Returns the object (caller
 * decrefs) or NULL after answering resp with the error. */
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

#endif
