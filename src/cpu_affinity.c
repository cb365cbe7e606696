/* cpu_affinity.c - HTTP_CPUS and the writer's following: the CPUs of the request path (see
 * cpu_affinity.h).
 *
 * The sets live in two process-wide masks set once at start-up (cpu_affinity_init, before any
 * thread exists) and only read afterwards. A thread's mask is inherited by the threads it starts,
 * so the pinned threads' children would be pinned too: the job threads, which a pinned thread
 * (the store's writer, an HTTP thread) may start, put themselves back on the process's CPUs:
 * with HTTP_CPUS those of the start-up; with following those it may use now (the main thread's,
 * which follows a taskset -a -p or a CPU brought online while the worker runs).
 * Following keeps the last hand-off's CPU in one atomic, and the follower's own CPU in a
 * thread-local: sched_getcpu costs nanoseconds (rseq), a move one system call, made only when
 * the HTTP thread has changed cores. */
#include "cpu_affinity.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static bool configured;
static cpu_set_t loop_cpus;     /* HTTP_CPUS */
static cpu_set_t all_cpus;      /* the process's CPUs at start-up */
static bool follow_enabled;     /* following was turned on at start-up */
static bool following;          /* and is still on (atomic: a refusal clears it) */
static int handoff_cpu = -1;    /* CPU of the last hand-off (atomic) */
static __thread int follower_cpu = -1;  /* the CPU the calling follower was moved to */

/* parse_cpu reads one CPU number (decimal, no sign) from text. Returns it, or -1. */
static int parse_cpu(const char *text)
{
    if (!*text || strlen(text) > 5)
        return -1;
    int cpu = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        cpu = cpu * 10 + (*p - '0');
    }
    return cpu < CPU_SETSIZE ? cpu : -1;
}

int cpu_affinity_init(const struct str_list *cpus, bool follow, char *err, size_t errlen)
{
    configured = false;
    follow_enabled = following = false;
    if (!cpus || cpus->count == 0) {
        if (follow && sched_getaffinity(0, sizeof all_cpus, &all_cpus) == 0 &&
            CPU_COUNT(&all_cpus) > 1)
            follow_enabled = following = true;
        return 0;
    }
    if (sched_getaffinity(0, sizeof all_cpus, &all_cpus) < 0) {
        snprintf(err, errlen, "HTTP_CPUS: cannot read the CPUs this process may use (%s)",
                 strerror(errno));
        return -1;
    }
    CPU_ZERO(&loop_cpus);
    for (size_t i = 0; i < cpus->count; i++) {
        int cpu = parse_cpu(cpus->items[i]);
        if (cpu < 0) {
            snprintf(err, errlen, "HTTP_CPUS: \"%.32s\" is not a CPU number (0 to %d)",
                     cpus->items[i], CPU_SETSIZE - 1);
            return -1;
        }
        if (!CPU_ISSET(cpu, &all_cpus)) {
            snprintf(err, errlen, "HTTP_CPUS: CPU %d is not one this process may run on", cpu);
            return -1;
        }
        CPU_SET(cpu, &loop_cpus);
    }
    configured = true;
    return 0;
}

/* set_self puts the calling thread on set; a refusal (a sandbox, an enclave's host) is logged. */
static bool set_self(const cpu_set_t *set, const char *what)
{
    int rc = pthread_setaffinity_np(pthread_self(), sizeof *set, set);
    if (rc != 0)
        log_warn("HTTP_CPUS: cannot put the %s on its CPUs (%s)", what, strerror(rc));
    return rc == 0;
}

bool cpu_affinity_enter_loop(cpu_set_t *saved)
{
    if (!configured || pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0)
        return false;
    return set_self(&loop_cpus, "HTTP threads");
}

void cpu_affinity_leave_loop(const cpu_set_t *saved)
{
    pthread_setaffinity_np(pthread_self(), sizeof *saved, saved);
}

void cpu_affinity_pin_self(const char *what)
{
    if (configured)
        set_self(&loop_cpus, what);
}

/* process_cpus: the CPUs the process may use now, when the writer follows (the main thread's,
 * which nothing pins then: an operator's taskset -a -p or a CPU brought online since start-up
 * shows there), else those of the start-up. */
static void process_cpus(cpu_set_t *set)
{
    if (configured || sched_getaffinity(getpid(), sizeof *set, set) < 0 || CPU_COUNT(set) == 0)
        *set = all_cpus;
}

void cpu_affinity_unpin_self(void)
{
    if (configured) {
        set_self(&all_cpus, "job thread");
        return;
    }
    if (!follow_enabled)
        return;
    /* a writer that followed may have started this thread on its one CPU: back on the process's
     * CPUs (a thread already there, as every thread is when following was refused, is left) */
    cpu_set_t process, mine;
    process_cpus(&process);
    if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) == 0 &&
        CPU_EQUAL(&mine, &process))
        return;
    int rc = pthread_setaffinity_np(pthread_self(), sizeof process, &process);
    if (rc != 0)
        log_warn("WRITER_FOLLOWS_HTTP: cannot put a job thread back on every CPU (%s)",
                 strerror(rc));
}

void cpu_affinity_note_handoff(void)
{
    if (__atomic_load_n(&following, __ATOMIC_RELAXED))
        __atomic_store_n(&handoff_cpu, sched_getcpu(), __ATOMIC_RELAXED);
}

void cpu_affinity_follow(void)
{
    if (!__atomic_load_n(&following, __ATOMIC_RELAXED))
        return;
    int cpu = __atomic_load_n(&handoff_cpu, __ATOMIC_RELAXED);
    if (cpu < 0 || cpu == follower_cpu || !CPU_ISSET(cpu, &all_cpus))
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    if (rc == 0) {
        follower_cpu = cpu;
        return;
    }
    /* refused (a sandbox, an enclave's host, a cpuset changed since start-up): stop following,
     * and leave this thread where the kernel will put it */
    __atomic_store_n(&following, false, __ATOMIC_RELAXED);
    cpu_set_t process;
    process_cpus(&process);
    pthread_setaffinity_np(pthread_self(), sizeof process, &process);
    log_info("WRITER_FOLLOWS_HTTP: the store's writer cannot move to CPU %d (%s); it no longer "
             "follows the HTTP thread", cpu, strerror(rc));
}
