/* cpu_affinity.h - keep the threads of the request path on one core: HTTP_CPUS, or else the
 * store's writer following the HTTP thread (WRITER_FOLLOWS_HTTP).
 *
 * A job's requests are handed from an HTTP thread to the store's writer and back; when the two
 * run on different cores each hand-off wakes the other core, which on a virtual machine costs
 * more than the work handed over (bench/README.md, eleventh and fourteenth sessions). With
 * HTTP_CPUS set, the HTTP threads and the store's writer run on those CPUs only. Without it, with
 * one HTTP thread and in standalone mode (in an enclave getcpu does not name the host CPU), the
 * writer follows that thread: each hand-off notes the CPU the HTTP thread runs on, and the writer
 * moves there when it takes the work and is elsewhere, so that the two share a core while the HTTP
 * thread stays free to go where the kernel puts it. Job threads always keep every CPU the process
 * may use. */
#ifndef TW_CPU_AFFINITY_H
#define TW_CPU_AFFINITY_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* cpu_affinity_init reads HTTP_CPUS (cpus: decimal CPU numbers) against the CPUs the process may
 * run on; without them, follow turns the writer's following on. Call once, before any thread
 * starts. Returns 0, or -1 with err naming the variable. */
int cpu_affinity_init(const struct str_list *cpus, bool follow, char *err, size_t errlen);

/* cpu_affinity_enter_loop puts the calling thread on HTTP_CPUS (its mask before in *saved), so
 * that the HTTP threads it starts inherit them. Returns whether to call cpu_affinity_leave_loop. */
bool cpu_affinity_enter_loop(cpu_set_t *saved);
void cpu_affinity_leave_loop(const cpu_set_t *saved);

/* cpu_affinity_pin_self puts the calling thread (what: for the log) on HTTP_CPUS;
 * cpu_affinity_unpin_self puts it back on every CPU of the process. No-ops when nothing is pinned
 * or followed. */
void cpu_affinity_pin_self(const char *what);
void cpu_affinity_unpin_self(void);

/* cpu_affinity_note_handoff records the CPU of the calling thread, which hands work over (an HTTP
 * thread); cpu_affinity_follow moves the calling thread, which takes it (the store's writer), to
 * the last CPU recorded when it runs elsewhere. No-ops unless following is on; a refusal (a
 * sandbox, an enclave's host) is logged once and turns following off. */
void cpu_affinity_note_handoff(void);
void cpu_affinity_follow(void);

#endif
