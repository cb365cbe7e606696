/* job_fixtures.h - building the jobs that the job-server unit tests (test_server.c,
 * test_server_shared.c) admit: a complete, signed-looking job as the API would hand it over. */
#ifndef TW_TEST_JOB_FIXTURES_H
#define TW_TEST_JOB_FIXTURES_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "jobs/job.h"

/* make_job fills j with a job of the given type and quote, empty arguments, addressed by
 * worker_id to no particular target and issued now. jobserver_admit takes the strings over. */
static inline void make_job(struct job *j, const char *type, const char *quote,
                            const char *worker_id)
{
    memset(j, 0, sizeof *j);
    j->type = strdup(type);
    j->arguments = json_object();
    j->quote = strdup(quote);
    j->quote_len = strlen(quote);
    j->worker_id = strdup(worker_id);
    j->target_worker = strdup("");
    j->issued_at = time(NULL);
}

#endif
