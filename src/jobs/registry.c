/* registry.c - the table of job kinds (one line per kind) and the lookups over it. */
#include "jobs/registry.h"

#include <string.h>

#include "config.h"
#include "jobs/job.h"

extern const struct job_kind reddit_kind;
extern const struct job_kind telemetry_kind;
extern const struct job_kind tiktok_kind;
extern const struct job_kind twitter_kind;
extern const struct job_kind twitter_api_kind;
extern const struct job_kind twitter_credential_kind;
extern const struct job_kind twitter_apify_kind;
extern const struct job_kind web_kind;

/* Sorted by type, so the capability report comes out with sorted keys. */
static const struct job_kind *const kinds[] = {
    &reddit_kind,
    &telemetry_kind,
    &tiktok_kind,
    &twitter_kind,
    &twitter_api_kind,
    &twitter_apify_kind,
    &twitter_credential_kind,
    &web_kind,
};

#define KIND_COUNT (sizeof kinds / sizeof kinds[0])

const struct job_kind *registry_find(const struct config *cfg, const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < KIND_COUNT; i++)
        if (strcmp(kinds[i]->type, type) == 0)
            return (!kinds[i]->available || kinds[i]->available(cfg)) ? kinds[i] : NULL;
    return NULL;
}

const struct job_kind *registry_check(const struct config *cfg, const struct job *job, struct err *e)
{
    if (!job->type || !*job->type) {
        err_set(e, 400, "job type is required");
        return NULL;
    }
    const struct job_kind *kind = registry_find(cfg, job->type);
    if (!kind) {
        err_set(e, 400, "unknown job type: %.64s", job->type);
        return NULL;
    }
    if (kind->validate_for ? kind->validate_for(cfg, job->arguments, e) < 0
                           : kind->validate && kind->validate(job->arguments, e) < 0) {
        if (!e->http)
            err_set(e, 400, "invalid arguments for job type %s", kind->type);
        return NULL;
    }
    return kind;
}

json_t *registry_capabilities(const struct config *cfg)
{
    json_t *report = json_object();
    for (size_t i = 0; report && i < KIND_COUNT; i++) {
        const struct job_kind *k = kinds[i];
        if (k->available && !k->available(cfg))
            continue;
        json_t *list = json_array();
        const char *const *caps = k->capabilities_for ? k->capabilities_for(cfg) : k->capabilities;
        for (const char *const *c = caps; list && *c; c++)
            if (**c)
                json_array_append_new(list, json_string(*c));
        json_object_set_new(report, k->type, list);
    }
    return report;
}
