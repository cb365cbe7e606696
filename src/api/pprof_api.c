/* pprof_api.c - the standalone-only profiling switch and its dumps (core-protocol.md 1.5.4).
 *
 *   POST /debug/pprof/enable   -> "pprof enabled"   (400 {"error":"pprof not supported"} in
 *                                                    enclave mode: DECISIONS.md's error body)
 *   POST /debug/pprof/disable  -> "pprof disabled"  (idem)
 *   GET  /debug/pprof/               index of the dumps (also without the trailing slash, which
 *                                    Go's needs: core-protocol.md 10, row 31)
 *   GET  /debug/pprof/profile?seconds=N   CPU profile of the whole process for N seconds
 *                                         (default 30, 1..300) in gperftools' pprof format
 *   GET  /debug/pprof/heap (= allocs)     allocator summary from glibc's mallinfo2, as text
 * The dump routes exist only while enabled: disabled, they answer 404 like unknown paths.
 *
 * The CPU profiler is gperftools' libprofiler (Debian libgoogle-perftools4), opened with dlopen
 * the first time profiling is enabled, so a normal run neither links nor loads it and the worker
 * runs without the package (the profile then answers 501 saying what to install). Once loaded it
 * stays mapped: unloading a library that may still own a SIGPROF handler is not safe. A profile
 * runs for its N seconds on a thread of its own, the request deferred meanwhile (http_defer), so
 * the HTTP thread goes on serving (with the default HTTP_THREADS=1 a profile used to stop the
 * whole server for up to five minutes); only one profile runs at a time (409 otherwise), and a
 * stop (pprof_stop, before the server drains) cuts a running one short. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/ops_api.h"
#include "config.h"
#include "log.h"
#include "util/clock_after.h"
#include "util/file_read.h"

#define PROFILER_LIBRARY "libprofiler.so.0"
#define PROFILE_DEFAULT_SECONDS 30
#define PROFILE_MAX_SECONDS 300
#define PROFILE_MAX_BYTES (256u * 1024u * 1024u)

struct pprof {
    atomic_bool enabled;
    pthread_mutex_t lock;            /* guards everything below */
    pthread_cond_t wake;             /* a running profile's wait: signalled by pprof_stop */
    bool stopping;                   /* pprof_stop: no profile runs any more */
    bool profiling;
    void *library;                   /* never closed, see the top comment */
    int (*profiler_start)(const char *fname);
    void (*profiler_stop)(void);
    char load_error[200];
};

/* load_profiler dlopens libprofiler once. Lock held. */
static void load_profiler(struct pprof *p)
{
    if (p->library)
        return;
    void *lib = dlopen(PROFILER_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(p->load_error, sizeof p->load_error, "%s", why ? why : "dlopen failed");
        log_warn("pprof: CPU profiler unavailable (%s); install libgoogle-perftools4",
                 p->load_error);
        return;
    }
    p->profiler_start = (int (*)(const char *))dlsym(lib, "ProfilerStart");
    p->profiler_stop = (void (*)(void))dlsym(lib, "ProfilerStop");
    if (!p->profiler_start || !p->profiler_stop) {
        snprintf(p->load_error, sizeof p->load_error, "%s lacks ProfilerStart/ProfilerStop",
                 PROFILER_LIBRARY);
        p->profiler_start = NULL;
        p->profiler_stop = NULL;
    }
    p->library = lib;
}

static void pprof_set(struct pprof *p, bool on)
{
    if (on) {
        pthread_mutex_lock(&p->lock);
        load_profiler(p);
        pthread_mutex_unlock(&p->lock);
    }
    atomic_store(&p->enabled, on);
    log_info("pprof %s", on ? "enabled" : "disabled");
}

struct pprof *pprof_open(const struct config *cfg)
{
    struct pprof *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (cfg->enable_pprof && cfg->standalone)
        pprof_set(p, true);
    else if (cfg->enable_pprof)
        log_warn("ENABLE_PPROF is ignored in enclave mode (profiling is standalone only)");
    return p;
}

void pprof_stop(struct pprof *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void pprof_close(struct pprof *p)
{
    if (!p)
        return;
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

bool pprof_served(const struct app *app)
{
    return app->pprof && atomic_load(&app->pprof->enabled);
}

static void reply_static_text(struct http_response *resp, unsigned status, const char *text)
{
    char *body = strdup(text);
    if (!body) {
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    http_reply_text(resp, status, body, strlen(body));
}

static void toggle(struct app *app, struct http_response *resp, bool on)
{
    if (!app->cfg.standalone || !app->pprof) {
        http_reply_error(resp, 400, "pprof not supported");
        return;
    }
    pprof_set(app->pprof, on);
    reply_static_text(resp, 200, on ? "pprof enabled" : "pprof disabled");
}

void api_pprof_enable(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    toggle(app, resp, true);
}

void api_pprof_disable(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    toggle(app, resp, false);
}

void api_pprof_index(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)app;
    (void)req;
    reply_static_text(resp, 200,
                      "/debug/pprof/\n"
                      "profile?seconds=N  CPU profile (gperftools pprof format), default 30 s\n"
                      "heap               allocator summary (glibc mallinfo2), text\n"
                      "allocs             same as heap\n");
}

/* ---- CPU profile ------------------------------------------------------------------------- */

/* parse_seconds reads ?seconds=N; returns N, or 0 when invalid. */
static unsigned parse_seconds(const struct http_request *req)
{
    const char *s = http_query(req, "seconds");
    if (!s || !*s)
        return PROFILE_DEFAULT_SECONDS;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || s[0] == '+' || v < 1 || v > PROFILE_MAX_SECONDS)
        return 0;
    return (unsigned)v;
}

/* wait_seconds waits `seconds`, or less when pprof_stop comes first. */
static void wait_seconds(struct pprof *p, unsigned seconds)
{
    struct timespec until = clock_after_ms(CLOCK_MONOTONIC, (long)seconds * 1000);
    pthread_mutex_lock(&p->lock);
    while (!p->stopping &&
           pthread_cond_clockwait(&p->wake, &p->lock, CLOCK_MONOTONIC, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&p->lock);
}

/* slurp reads the whole file at path (at most PROFILE_MAX_BYTES) into *out. Returns 0 or -1. */
static int slurp(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > PROFILE_MAX_BYTES ||
        !(buf = malloc((size_t)st.st_size))) {
        close(fd);
        return -1;
    }
    ssize_t got = read_upto_fd(fd, buf, (size_t)st.st_size);
    close(fd);
    if (got < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = (size_t)got;
    return 0;
}

/* take_profile runs the profiler for seconds into a private temporary file and returns its
 * bytes. Returns 0, or an HTTP status with msg. */
static unsigned take_profile(struct pprof *p, unsigned seconds, char **data, size_t *len,
                             char *msg, size_t msglen)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/tw-cpu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot create a temporary file for the profile: %s",
                 strerror(errno));
        return 500;
    }
    close(fd);
    unsigned status = 0;
    if (!p->profiler_start(path)) {
        snprintf(msg, msglen, "the CPU profiler did not start");
        status = 500;
    } else {
        wait_seconds(p, seconds);
        p->profiler_stop();
        if (slurp(path, data, len) < 0) {
            snprintf(msg, msglen, "the CPU profile could not be read back");
            status = 500;
        }
    }
    unlink(path);
    return status;
}

/* claim_profiler marks a profile as running; returns 0, or an HTTP status with msg. */
static unsigned claim_profiler(struct pprof *p, char *msg, size_t msglen)
{
    unsigned status = 0;
    pthread_mutex_lock(&p->lock);
    if (!p->profiler_start) {
        snprintf(msg, msglen, "CPU profiler unavailable (%s); install libgoogle-perftools4",
                 p->load_error[0] ? p->load_error : "not loaded");
        status = 501;
    } else if (p->profiling) {
        snprintf(msg, msglen, "a CPU profile is already being taken");
        status = 409;
    } else if (p->stopping) {
        snprintf(msg, msglen, "worker shutting down");
        status = 503;
    } else {
        p->profiling = true;
    }
    pthread_mutex_unlock(&p->lock);
    return status;
}

/* release_profiler marks the profile done. */
static void release_profiler(struct pprof *p)
{
    pthread_mutex_lock(&p->lock);
    p->profiling = false;
    pthread_mutex_unlock(&p->lock);
}

/* A profile being taken, and the request waiting for it. */
struct profile_run {
    struct pprof *p;
    unsigned seconds;
    struct http_deferred *later;
};

/* profile_main takes the profile and answers the deferred request with it. */
static void *profile_main(void *arg)
{
    struct profile_run *run = arg;
    pthread_setname_np(pthread_self(), "tw-profile");
    struct http_response resp = { 0 };
    char *data = NULL;
    size_t len = 0;
    char msg[300];
    unsigned status = take_profile(run->p, run->seconds, &data, &len, msg, sizeof msg);
    release_profiler(run->p);   /* before answering: once answered, p may be freed */
    if (status) {
        http_reply_error(&resp, status, msg);
    } else {
        http_reply_text(&resp, 200, data, len);
        resp.content_type = "application/octet-stream";
        http_add_header(&resp, "Content-Disposition", "attachment; filename=\"profile\"");
    }
    http_deferred_answer(run->later, &resp);
    free(run);
    return NULL;
}

void api_pprof_profile(struct app *app, const struct http_request *req, struct http_response *resp)
{
    struct pprof *p = app->pprof;
    unsigned seconds = parse_seconds(req);
    if (!seconds) {
        http_reply_error(resp, 400, "seconds: expected an integer from 1 to 300");
        return;
    }
    char msg[300];
    unsigned status = claim_profiler(p, msg, sizeof msg);
    if (status) {
        http_reply_error(resp, status, msg);
        return;
    }
    struct profile_run *run = calloc(1, sizeof *run);
    if (!run) {
        release_profiler(p);
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    run->p = p;
    run->seconds = seconds;
    run->later = http_defer(req);
    if (!run->later) {              /* the server is stopping */
        free(run);
        release_profiler(p);
        http_reply_error(resp, 503, "worker shutting down");
        return;
    }
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, profile_main, run);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        struct http_deferred *later = run->later;
        free(run);
        release_profiler(p);
        struct http_response failed = { 0 };
        http_reply_error(&failed, 500, "cannot start the profiling thread");
        http_deferred_answer(later, &failed);
    }
}

/* ---- allocator summary ------------------------------------------------------------------- */

void api_pprof_heap(struct app *app, const struct http_request *req, struct http_response *resp)
{
    (void)app;
    (void)req;
    struct mallinfo2 mi = mallinfo2();
    char *text = NULL;
    int n = asprintf(&text,
                     "# heap summary (glibc mallinfo2), bytes unless noted\n"
                     "arena %zu\n"             /* non-mmapped space from the system */
                     "free_chunks %zu\n"       /* count */
                     "fastbin_blocks %zu\n"    /* count */
                     "mmapped_regions %zu\n"   /* count */
                     "mmapped %zu\n"
                     "fastbin_free %zu\n"
                     "in_use %zu\n"
                     "free %zu\n"
                     "releasable %zu\n",
                     mi.arena, mi.ordblks, mi.smblks, mi.hblks, mi.hblkhd, mi.fsmblks,
                     mi.uordblks, mi.fordblks, mi.keepcost);
    if (n < 0) {
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    http_reply_text(resp, 200, text, (size_t)n);
}
