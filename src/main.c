/* main.c - tee-worker: load configuration, build the app, serve until SIGINT/SIGTERM.
 *
 * Exit status: 0 after a clean shutdown, 2 for a configuration error, 1 when start-up fails
 * (unwritable DATA_DIR, bad key file, address in use, ...) or when a shutdown had to leave
 * /job/add or /setkey requests waiting for the disk (see app_close). Signals are blocked in every thread
 * and taken synchronously here with sigwait, so no handler runs inside library code. One that comes
 * during start-up stays pending: app_open sees it at its next step (or during the Apify key check)
 * and tears down what it built, and the worker exits with status 0 without serving. */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "cpu_affinity.h"
#include "http/http.h"
#include "log.h"
#include "net/fetch.h"

/* apply_sched_policy puts this thread, and so every thread started after it (they inherit the
 * policy), under SCHED_BATCH when SCHED_BATCH is set (the default). The worker's threads hand each
 * request to one another (HTTP thread -> store writer -> job thread -> HTTP thread); under the
 * default policy each woken thread preempts the one that woke it, which costs a context switch
 * pair per hand-off and splits the store's group commits into commits of one admission. A batch
 * thread that wakes up waits for the running one to block or use up its slice. Best effort: it
 * needs no privilege on Linux, but a seccomp sandbox may refuse it, and inside Gramine the host's
 * threads are what the kernel schedules (README: start the loader under the policy). Called
 * before any thread is started. */
static void apply_sched_policy(const struct config *cfg)
{
    if (!cfg->sched_batch)
        return;
    struct sched_param param = { .sched_priority = 0 };
    if (sched_setscheduler(0, SCHED_BATCH, &param) < 0)
        log_info("SCHED_BATCH not applied (%s); running under the default policy", strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
        printf("tee-worker %s\n", TW_VERSION);
        return 0;
    }
    /* Everything the worker creates (the store and its WAL, sealed files, a CPU profile) is for
     * its own user only, whatever umask it was started with (systemd's unit sets the same). */
    umask(077);
    /* Job and HTTP threads each got a malloc arena of their own (up to 8 per core): memory freed
     * in one was not reused by another, and RSS crept up with the thread count. Two arenas keep
     * contention low on this workload and RSS flat. */
    mallopt(M_ARENA_MAX, 2);
    /* Large buffers (a sealed result, a request body, the JSON of a big job result: 1 MB and more
     * for a web crawl) get pages of their own that go back to the system when freed. Without a
     * fixed threshold glibc raises it to the size of the largest buffer freed so far, after which
     * such buffers come from the arenas, whose freed memory stays resident: the peaks of the
     * crawl, /job/status and /job/result then pile up (web bench peak: 21.4 MB -> 20.2 MB). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* glibc sets its allocator up on first use, and that set-up is not thread-safe. Normally the
     * first malloc here does it; in the sanitizer build malloc and mallopt are the sanitizer's,
     * so the first glibc call was web.c's malloc_trim, from job threads at once, and a thread's
     * exit then aborted ("__malloc_arena_thread_freeres: a->attached_threads > 0"). Trimming
     * once here, single-threaded, sets it up (nothing to trim yet). */
    malloc_trim(0);
    static struct app app;
    char err[512];
    if (config_load(&app.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "tee-worker: configuration error: %s\n", err);
        return 2;
    }
    /* Following needs one HTTP thread to follow (HTTP_THREADS above 1 spread over the cores), and
     * the CPU it runs on: in an enclave (Gramine) getcpu is emulated (CPU 0, or a random CPU of
     * the thread's mask) and each move is a call to the host, so standalone mode only. */
    bool follow = app.cfg.writer_follows_http && app.cfg.http_threads == 1 && app.cfg.standalone;
    if (cpu_affinity_init(&app.cfg.http_cpus, follow, err, sizeof err) < 0) {
        fprintf(stderr, "tee-worker: configuration error: %s\n", err);
        return 2;
    }
    log_init(app.cfg.log_level, app.cfg.log_json);
    apply_sched_policy(&app.cfg);
    /* libcurl, libxml2, libhiredis and libcrypto are opened (and libcurl and libcrypto
     * initialised) by the first job, store or key check that needs them, not here: see
     * util/lazy_lib.h. */

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Past a file-size limit (ulimit -f) a write fails with EFBIG, which the store reports like a
     * full disk; the signal's default would kill the worker instead (Go's runtime ignores it too). */
    signal(SIGXFSZ, SIG_IGN);

    int sig = 0;
    int opened = app_open(&app, &stop, err, sizeof err);
    if (opened < 0) {
        log_error("start-up failed: %s", err);
        return 1;
    }
    if (opened > 0) {          /* a stop signal came during start-up: nothing was served */
        sigwait(&stop, &sig);
        log_info("signal %d during start-up: stopped", sig);
        fetch_global_cleanup();
        return 0;
    }
    /* What start-up allocated and freed (configuration, the store's checks and migration, the
     * prepared statements' scratch) goes back to the system instead of staying in the heap. */
    malloc_trim(0);
    log_info("tee-worker %s listening on %s (port %u), %s mode, worker id %s, up to %u job threads",
             TW_VERSION, app.cfg.listen_address, http_bound_port(app.http),
             app.cfg.standalone ? "standalone" : "enclave", app.worker_id, app.cfg.max_jobs);

    sigwait(&stop, &sig);
    log_info("signal %d: shutting down", sig);
    /* Not a clean stop (app_close said why): threads still wait on the store and use what the
     * app holds, so the process ends at once, without exit()'s handlers and destructors running
     * under them. */
    if (!app_close(&app))
        _exit(1);
    fetch_global_cleanup();
    return 0;
}
