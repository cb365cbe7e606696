/* registry.h - job type -> job kind, and the capability report built from it.
 *
 * The table of kinds is fixed at build time; which of them are offered depends on configuration
 * (each kind's `available`). Only offered kinds are found, advertised and accepted. */
#ifndef TW_REGISTRY_H
#define TW_REGISTRY_H

#include <jansson.h>

#include "err.h"
#include "jobs/kind.h"

struct config;
struct job;

/* registry_find returns the offered kind for type, or NULL. */
const struct job_kind *registry_find(const struct config *cfg, const char *type);

/* registry_check refuses (400) a job whose type is unknown or not offered, or whose arguments the
 * kind's validate rejects. Returns the kind, or NULL with e set. */
const struct job_kind *registry_check(const struct config *cfg, const struct job *job, struct err *e);

/* registry_capabilities returns a new object: offered type -> array of capability names, keys
 * sorted, no empty names. Caller owns it. */
json_t *registry_capabilities(const struct config *cfg);

#endif
