/* metrics_api.c - GET /metrics: Prometheus text exposition format 0.0.4.
 *
 * The counters come from metrics.c (requests by route and status, jobs by kind and outcome, job
 * latency histogram); the gauges are read here at scrape time from the app (queue depth and
 * capacity, result cache entries, key ring size) and from /proc/self (resident memory, CPU time,
 * threads, start time). Behind the API key like every non-health route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ops_api.h"
#include "jobs/results.h"
#include "jobs/server.h"
#include "metrics.h"
#include "tee/keyring.h"

#define PROMETHEUS_CT "text/plain; version=0.0.4; charset=utf-8"

struct proc_sample {
    double cpu_seconds;
    double resident_bytes;
    double virtual_bytes;
    double threads;
    double start_time_seconds;
};

/* stat_field returns token `n` (1-based, as proc(5) numbers them; n >= 3) of /proc/self/stat,
 * counting from the text after the command name's closing parenthesis. */
static const char *stat_field(const char *after_comm, int n, char *tok, size_t toklen)
{
    const char *p = after_comm;
    for (int field = 3; *p; field++) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " \n");
        if (field == n) {
            snprintf(tok, toklen, "%.*s", (int)len, p);
            return tok;
        }
        p += len;
    }
    return "0";
}

static double boot_time_seconds(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[256];
    double btime = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            btime = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return btime;
}

static int read_proc_self(struct proc_sample *s)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')');
    if (!close)
        return -1;
    close++;
    char tok[32];
    double ticks = (double)sysconf(_SC_CLK_TCK);
    double page = (double)sysconf(_SC_PAGESIZE);
    if (ticks <= 0)
        ticks = 100;
    s->cpu_seconds = (strtod(stat_field(close, 14, tok, sizeof tok), NULL) +
                      strtod(stat_field(close, 15, tok, sizeof tok), NULL)) / ticks;
    s->threads = strtod(stat_field(close, 20, tok, sizeof tok), NULL);
    s->start_time_seconds = boot_time_seconds() +
                            strtod(stat_field(close, 22, tok, sizeof tok), NULL) / ticks;
    s->virtual_bytes = strtod(stat_field(close, 23, tok, sizeof tok), NULL);
    s->resident_bytes = strtod(stat_field(close, 24, tok, sizeof tok), NULL) * page;
    return 0;
}

static void gauge(FILE *out, const char *name, const char *type, const char *help, double value)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", name, help, name, type, name, value);
}

static void write_app_gauges(FILE *out, struct app *app)
{
    fprintf(out, "# HELP tee_worker_build_info Version of this worker.\n"
                 "# TYPE tee_worker_build_info gauge\n"
                 "tee_worker_build_info{version=\"%s\",mode=\"%s\"} 1\n",
            TW_VERSION, app->cfg.standalone ? "standalone" : "enclave");
    gauge(out, "tee_worker_job_queue_depth", "gauge", "Jobs waiting in the queue.",
          (double)jobserver_queue_length(app->jobs));
    gauge(out, "tee_worker_job_queue_capacity", "gauge", "Room of the job queue (JOB_QUEUE_MAX).",
          (double)jobserver_queue_capacity(app->jobs));
    size_t finished = 0, pending = 0, bytes = 0;
    results_counts(app->results, &finished, &pending, &bytes);
    fprintf(out, "# HELP tee_worker_result_cache_entries Entries of the result table by state.\n"
                 "# TYPE tee_worker_result_cache_entries gauge\n"
                 "tee_worker_result_cache_entries{state=\"finished\"} %zu\n"
                 "tee_worker_result_cache_entries{state=\"pending\"} %zu\n",
            finished, pending);
    gauge(out, "tee_worker_result_cache_bytes", "gauge",
          "Bytes the finished results hold in memory (RESULT_CACHE_MAX_BYTES).", (double)bytes);
    gauge(out, "tee_worker_keyring_keys", "gauge", "Keys in the key ring.",
          (double)keyring_count(app->keyring));
}

static void write_process(FILE *out)
{
    struct proc_sample s;
    if (read_proc_self(&s) < 0)
        return;
    gauge(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
          s.cpu_seconds);
    gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          s.resident_bytes);
    gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          s.virtual_bytes);
    gauge(out, "process_threads", "gauge", "Threads of the process.", s.threads);
    gauge(out, "process_start_time_seconds", "gauge",
          "Start time of the process since the Unix epoch in seconds.", s.start_time_seconds);
}

void api_metrics(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    metrics_write_counters(out);
    write_app_gauges(out, app);
    write_process(out);
    if (fclose(out) != 0 || !text) {
        free(text);
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    http_reply_text(resp, 200, text, len);
    resp->content_type = PROMETHEUS_CT;
}
