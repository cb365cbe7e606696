/* cpu_affinity.h - HTTP_CPUS: keep the threads of the request path on chosen CPUs.
 *
 * A job's requests are handed from an HTTP thread to the store's writer and back; when the two
 * run on different cores each hand-off wakes the other core, which on a virtual machine costs
 * more than the work handed over (bench/README.md, eleventh session: 5-9 % less CPU per job with
 * the two on one core). With HTTP_CPUS set, the HTTP threads and the store's writer run on those
 * CPUs only; job threads stay on every CPU the process may use. Empty (the default): nothing is
 * pinned. */
#ifndef TW_CPU_AFFINITY_H
#define TW_CPU_AFFINITY_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* cpu_affinity_init reads HTTP_CPUS (cpus: decimal CPU numbers) against the CPUs the process may
 * run on. Call once, before any thread starts. Returns 0, or -1 with err naming the variable. */
int cpu_affinity_init(const struct str_list *cpus, char *err, size_t errlen);

/* cpu_affinity_enter_loop puts the calling thread on HTTP_CPUS (its mask before in *saved), so
 * that the HTTP threads it starts inherit them. Returns whether to call cpu_affinity_leave_loop. */
bool cpu_affinity_enter_loop(cpu_set_t *saved);
void cpu_affinity_leave_loop(const cpu_set_t *saved);

/* cpu_affinity_pin_self puts the calling thread (what: for the log) on HTTP_CPUS;
 * cpu_affinity_unpin_self puts it back on every CPU of the process. No-ops without HTTP_CPUS. */
void cpu_affinity_pin_self(const char *what);
void cpu_affinity_unpin_self(void);

#endif
