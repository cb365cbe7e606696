/* ops_api.h - operator routes: GET /metrics (metrics_api.c) and the standalone-only profiling
 * switch and dumps under /debug/pprof/ (pprof_api.c). */
#ifndef TW_OPS_API_H
#define TW_OPS_API_H

#include <stdbool.h>

#include "api/api.h"

void api_metrics(struct app *app, const struct http_request *req, struct http_response *resp);

struct config;
struct pprof;

/* pprof_open creates the profiling switch; with ENABLE_PPROF=true in standalone mode it starts
 * enabled (in enclave mode ENABLE_PPROF is ignored with a warning). NULL only when out of memory.
 * pprof_close frees it (a CPU profiler once loaded stays mapped until the process exits). */
struct pprof *pprof_open(const struct config *cfg);
void pprof_close(struct pprof *p);

/* pprof_stop cuts a running CPU profile short (it answers with what it has) and refuses new ones
 * (503): called before the HTTP server drains, which waits for the profile's deferred answer. */
void pprof_stop(struct pprof *p);

/* pprof_served: the dump routes exist only while profiling is enabled (404 otherwise). */
bool pprof_served(const struct app *app);
void api_pprof_enable(struct app *app, const struct http_request *req, struct http_response *resp);
void api_pprof_disable(struct app *app, const struct http_request *req, struct http_response *resp);
void api_pprof_index(struct app *app, const struct http_request *req, struct http_response *resp);
void api_pprof_profile(struct app *app, const struct http_request *req, struct http_response *resp);
void api_pprof_heap(struct app *app, const struct http_request *req, struct http_response *resp);

#endif
