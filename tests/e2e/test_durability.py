#!/usr/bin/env python3
"""test_durability.py - nothing accepted is lost: kill -9 while jobs are queued and running, then a
restart runs them under the same uids; results and replay memory survive a restart; the store keeps
the newest results of the cache size; results beyond RESULT_CACHE_MAX_BYTES leave memory and are
read back from the store; a signature past
its max age is refused; a full queue answers 503 without consuming the nonce (and does not hold an
instant telemetry job), and its 503s stay out of /readyz's error rate, while a replay is refused as
such even then; a full disk refuses new
jobs and keeps the results of running ones until it can write them; a corrupt or unusable store
stops start-up with a clear message and a non-zero exit; a SIGTERM waits for the running jobs only
and exits cleanly; whatever the umask it is started with, the files it creates in DATA_DIR are
private to its user."""
import os
import resource
import sqlite3
import subprocess
import threading
import time

import harness as h
from fakes.site import Site

TELEMETRY = {"type": "telemetry", "arguments": {}}


def pending_rows(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "tee-worker.db"))
    try:
        return db.execute("SELECT count(*) FROM jobs").fetchone()[0]
    finally:
        db.close()


def add_all(w, sigs, uids, lock, stop):
    for sig in sigs:
        if stop.is_set():
            return
        try:
            r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=5.0)
        except OSError:
            return   # the worker was killed mid-request: not accepted, not counted
        if r.status == 200:
            with lock:
                uids.append((r.json()["uid"], sig))


def burst(w, count, interrupt, after, job=TELEMETRY):
    """Adds `count` fresh signatures of `job` from 8 threads, calls interrupt() once `after` of
    them were answered 200, lets the threads end, and returns the (uid, signature) pairs answered
    200."""
    sigs = [w.generate(job) for _ in range(count)]
    uids, lock, stop = [], threading.Lock(), threading.Event()
    threads = [threading.Thread(target=add_all, args=(w, sigs[i::8], uids, lock, stop))
               for i in range(8)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(uids) >= after:
                break
        time.sleep(0.001)
    interrupt()
    stop.set()
    for t in threads:
        t.join()
    return uids


def burst_then_kill(w, count, job):
    """Kills the worker with SIGKILL in a burst of `count` adds of `job`, once half were accepted.
    Returns the (uid, signature) pairs answered 200 and the pending rows left."""
    uids = burst(w, count, w.kill, count // 2, job)
    return uids, pending_rows(w.data_dir)


def wait_no_pending_jobs(w, timeout):
    """Polls /metrics until the worker has no queued or running job."""
    line = 'tee_worker_result_cache_entries{state="pending"} '
    deadline = time.monotonic() + timeout
    while True:
        r = w.get("/metrics")
        h.expect_status(r, 200, "/metrics")
        left = [l for l in r.text.splitlines() if l.startswith(line)]
        h.check(len(left) == 1, "no pending entries gauge in /metrics")
        if left[0][len(line):] == "0":
            return
        if time.monotonic() > deadline:
            h.fail("jobs still pending after %d s: %s" % (timeout, left[0]))
        time.sleep(0.05)


def test_kill9_with_jobs_queued_and_running_loses_nothing():
    # One worker thread and web jobs on a page that takes 20 ms: a burst of adds builds a backlog.
    with Site() as site:
        site.page("/p", "<h1>Kept</h1><p>page</p>", delay=0.02)
        job = {"type": "web", "arguments": {"url": site.url("/p")}}
        w = h.Worker(env={"MAX_JOBS": "1", "WEBSCRAPER_ALLOW_PRIVATE": "true"})
        w.start()
        accepted, pending = [], 0
        for _ in range(6):
            uids, left = burst_then_kill(w, 200, job)
            accepted += uids
            pending = max(pending, left)
            w.start()
            if pending:
                break
        h.check(pending > 0, "never caught the worker with unfinished jobs in the store")
        for uid, sig in accepted:
            st = w.wait_status(uid, timeout=60)
            h.expect_status(st, 200, "status of %s after the restart" % uid)
            r = w.result(st.text, sig)
            h.expect_status(r, 200, "result of %s after the restart" % uid)
            h.check(b"Kept" in r.body, "not the page's text: %r" % r.body[:80])
        # The adds in flight at the kill may have been recorded without their answer: those jobs
        # run too, after the accepted ones (they came last); a SIGTERM before they end would
        # leave them in the store, to run at the next start, as it should.
        wait_no_pending_jobs(w, 60)
        w.stop()    # the worker holds the database exclusively while it runs
        h.check_eq(pending_rows(w.data_dir), 0, "unfinished jobs left after recovery")


def test_sigterm_during_a_burst_of_adds_answers_and_keeps_every_accepted_job():
    # /job/add answers once the store's writer has committed the job (the connection waits
    # meanwhile); a SIGTERM in the middle of a burst must answer or refuse every add in flight,
    # exit 0, and keep every job it answered 200 for.
    w = h.Worker(env={"MAX_JOBS": "1"})
    w.start()
    uids = burst(w, 300, w.stop, 100)     # w.stop asserts exit status 0, no sanitizer report
    h.check(len(uids) >= 100, "fewer adds accepted than waited for")
    w.start()
    for uid, sig in uids:
        st = w.wait_status(uid, timeout=30)
        h.expect_status(st, 200, "status of %s after the restart" % uid)
    w.stop()


def add_slow_web_jobs(w, site, count):
    """Adds `count` web jobs for the site's /slow page; returns their (uid, signature) pairs."""
    jobs = []
    for _ in range(count):
        sig = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
        jobs.append((w.add(sig), sig))
    return jobs


def test_sigterm_does_not_run_the_queued_jobs_first():
    # The queued jobs are in the store and run after the restart: a SIGTERM waits for the running
    # job only, not for every queued one (a long queue of slow jobs made the stop last as long as
    # running all of them).
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=1.0)
        w = h.Worker(env={"MAX_JOBS": "1", "WEBSCRAPER_ALLOW_PRIVATE": "true"})
        w.start()
        uids = add_slow_web_jobs(w, site, 15)
        deadline = time.monotonic() + 10
        while site.count("/slow") < 1:
            h.check(time.monotonic() < deadline, "the first job never fetched its page")
            time.sleep(0.02)
        t0 = time.monotonic()
        w.stop()
        took = time.monotonic() - t0
        h.check(took < 5.0, "SIGTERM took %.1f s: the queued jobs ran before the exit" % took)
        ran = site.count("/slow")
        h.check(ran <= 3, "%d jobs ran after the SIGTERM" % ran)
        h.check(pending_rows(w.data_dir) >= 15 - ran, "queued jobs missing from the store")
        w.start()
        for uid, sig in uids:
            st = w.wait_status(uid, timeout=40)
            h.expect_status(st, 200, "status of %s after the restart" % uid)
            h.expect_status(w.result(st.text, sig), 200, "its result")
        w.stop()


def test_sigterm_after_concurrent_web_jobs_exits_cleanly():
    # Web jobs finishing together each call malloc_trim; in the sanitizer build glibc's allocator
    # was first set up by those calls, racing, and a job thread's exit at shutdown then aborted
    # ("malloc assertion failure in __malloc_arena_thread_freeres"). Several fresh workers, since
    # only the first trims of a process race.
    with Site() as site:
        site.page("/page", "<h1>Page</h1><p>text</p>", delay=0.5)
        for round_ in range(6):
            w = h.Worker(env={"MAX_JOBS": "8", "WEBSCRAPER_ALLOW_PRIVATE": "true"})
            w.start()
            uids = [w.add(w.generate({"type": "web", "arguments": {"url": site.url("/page")}}))
                    for _ in range(8)]
            for uid in uids:
                h.expect_status(w.wait_status(uid, timeout=20), 200, "web job %d" % round_)
            w.stop()     # asserts exit status 0 and no sanitizer report


def test_results_and_replay_memory_survive_a_restart():
    with h.Worker() as w:
        sig, uid, _, clear = w.run_job(TELEMETRY)
        w.restart()
        st = w.get("/job/status/" + uid)
        h.expect_status(st, 200, "finished result after a restart")
        r = w.result(st.text, sig)
        h.check_eq(r.body, clear, "result after a restart")
        again = w.post("/job/add", json_body={"encrypted_job": sig})
        h.expect_json_error(again, 500, "replay after a restart", message="job already executed")


def test_store_keeps_only_the_newest_results_of_the_cache_size():
    """Between maintenance passes (every 5 s at most) the results table grows by a row per finished
    job; a pass cuts it back to the newest RESULT_CACHE_MAX_SIZE, in the order the jobs finished."""
    with h.Worker(env={"RESULT_CACHE_MAX_SIZE": "20"}) as w:
        uids = []
        for _ in range(60):
            _, uid, _, _ = w.run_job(TELEMETRY)
            uids.append(uid)
        time.sleep(7.5)             # a pass at most 5 s after the last job, and some slack
        w.stop()
        db = sqlite3.connect(os.path.join(w.data_dir, "tee-worker.db"))
        try:
            kept = [row[0] for row in db.execute("SELECT uid FROM results ORDER BY rowid")]
            nonces = db.execute("SELECT count(*) FROM nonces").fetchone()[0]
        finally:
            db.close()
        h.check_eq(kept, uids[-20:], "results left in the store after a maintenance pass")
        h.check_eq(nonces, 60, "nonces kept (none expired)")
        w.start()
        h.expect_status(w.get("/job/status/" + uids[-1]), 200, "newest result after a restart")


def cache_bytes(w):
    """tee_worker_result_cache_bytes from /metrics."""
    r = w.get("/metrics")
    h.expect_status(r, 200, "GET /metrics")
    for line in r.text.splitlines():
        if line.startswith("tee_worker_result_cache_bytes "):
            return float(line.split()[1])
    h.fail("/metrics has no tee_worker_result_cache_bytes")


def test_results_beyond_the_byte_bound_are_read_back_from_the_store():
    """Results whose bytes pass RESULT_CACHE_MAX_BYTES leave memory, least recently read first, and
    a poll for one is answered from the SQLite store; an unknown uid is still 404."""
    bound = 1 << 20
    with Site() as site:
        for n in range(3):
            site.page("/big%d" % n, "<h1>Big %d</h1><p>%s</p>" % (n, ("w%d " % n) * 150000))
        env = {"RESULT_CACHE_MAX_BYTES": str(bound), "WEBSCRAPER_ALLOW_PRIVATE": "true"}
        with h.Worker(env=env) as w:
            done = []
            for n in range(3):
                sig, uid, _, clear = w.run_job({"type": "web",
                                                "arguments": {"url": site.url("/big%d" % n)}})
                h.check(len(clear) > bound // 3, "result %d is only %d bytes" % (n, len(clear)))
                done.append((sig, uid, clear))
            held = cache_bytes(w)
            h.check(0 <= held <= bound, "result bytes in memory: %d, above %d" % (held, bound))
            for n, (sig, uid, clear) in enumerate(done):
                st = w.get("/job/status/" + uid)
                h.expect_status(st, 200, "status of result %d" % n)
                r = w.result(st.text, sig)
                h.expect_status(r, 200, "/job/result of result %d" % n)
                h.check_eq(r.body, clear, "result %d read back" % n)
            h.expect_json_error(w.get("/job/status/00000000-0000-4000-8000-000000000000"), 404,
                                "unknown uid", message="Job not found")


def clock_ahead_env(seconds):
    """Preloads tests/e2e/fakes/clock_shift.c: the worker's wall clock runs `seconds` ahead of the
    kernel's, so a timed wait on the wall clock lasts that much longer (a clock stepped back)."""
    path = os.environ.get("TW_CLOCK_SHIFT")
    h.check(path and os.path.exists(path), "TW_CLOCK_SHIFT (built by tests/meson.build) missing")
    return {"LD_PRELOAD": h.preload_env(path), "CLOCK_SHIFT_SECONDS": str(seconds)}


def test_maintenance_passes_do_not_follow_the_wall_clock():
    """The store is pruned every 5 s at most even when the wall clock is stepped back meanwhile
    (an NTP correction): the maintenance thread's wait counts on the monotonic clock. A wait on the
    wall clock lasted the step longer, and the results table grew by a row per job all along."""
    with h.Worker(env=dict(clock_ahead_env(3600), RESULT_CACHE_MAX_SIZE="20")) as w:
        for _ in range(40):
            w.run_job(TELEMETRY)
        time.sleep(7.5)             # a pass at most 5 s after the last job, and some slack
        # (the store is locked while the worker runs: its debug line tells the pass happened)
        h.check("20 store rows pruned" in w.stderr(),
                "no maintenance pass pruned the 20 extra result rows within 7.5 s; stderr:\n%s"
                % w.stderr()[-2000:])


def result_uids(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "tee-worker.db"))
    try:
        return {row[0] for row in db.execute("SELECT uid FROM results")}
    finally:
        db.close()


def test_results_reach_the_store_when_the_wall_clock_steps_back():
    """A finished job's result is committed within milliseconds even when the wall clock is stepped
    back meanwhile: the store's writer waits for the next batch on the monotonic clock. A wait on
    the wall clock lasted the step longer, and a crash then lost results already served (their jobs
    ran again after the restart)."""
    w = h.Worker(env=clock_ahead_env(3600))
    w.start()
    _, uid, _, _ = w.run_job(TELEMETRY)
    time.sleep(1.0)                 # the writer's batch delay is a few milliseconds
    w.kill()                        # kill -9: only what was committed is in the file
    w.stop(check_exit=False)
    h.check(uid in result_uids(w.data_dir),
            "the result of a job finished 1 s before a kill -9 is not in the store")


def test_full_disk_refuses_new_jobs_and_keeps_the_results_of_running_ones():
    # A soft file-size limit of 0 makes every write of the worker to a file fail (EFBIG; the
    # worker ignores SIGXFSZ): to SQLite that is a full disk. Web jobs on a slow page are running
    # when it fills, so their results are due while nothing can be written.
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=1.5)
        w = h.Worker(env={"WEBSCRAPER_ALLOW_PRIVATE": "true"})
        w.start()
        running = add_slow_web_jobs(w, site, 3)
        telemetry = w.generate(TELEMETRY)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(w.proc.pid, resource.RLIMIT_FSIZE, (0, hard))
        try:
            refused = w.post("/job/add", json_body={"encrypted_job": telemetry})
            h.expect_json_error(refused, 500, "add while the disk is full",
                                message="cannot record the job durably (storage error)")
            w.healthy("while the disk is full")
            for uid, sig in running:   # finished meanwhile: served from memory
                st = w.wait_status(uid, timeout=20)
                h.expect_status(st, 200, "status of a job that finished on a full disk")
                h.expect_status(w.result(st.text, sig), 200, "its result")
        finally:
            resource.prlimit(w.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
        deadline = time.time() + 10
        while "finished jobs are written again" not in w.stderr() and time.time() < deadline:
            time.sleep(0.1)
        h.check("finished jobs are written again" in w.stderr(),
                "no retry of the unwritten results once space was back:\n%s" % w.stderr())
        h.check("cannot rollback" not in w.stderr(), "misleading rollback error:\n%s" % w.stderr())
        w.stop()
        h.check_eq(pending_rows(w.data_dir), 0, "jobs left to run again after the restart")
        h.check({uid for uid, _ in running} <= result_uids(w.data_dir),
                "results of the jobs that finished on a full disk are not in the store")
        # The refused add recorded nothing: the same signature is accepted now.
        w.start()
        uid = w.add(telemetry)
        h.expect_status(w.wait_status(uid), 200, "the refused job, added again")
        w.stop()


def test_stored_backlog_above_a_lowered_queue_bound_does_not_hold_start_up():
    # Three slow jobs stored (kill -9 with MAX_JOBS=1), then a restart with JOB_QUEUE_MAX=1: all
    # three are queued at once and the worker listens at once. Before, start-up waited for room in
    # the queue, i.e. for the first job to finish (2 s) before it even listened.
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=2.0)
        w = h.Worker(env={"WEBSCRAPER_ALLOW_PRIVATE": "true", "MAX_JOBS": "1"})
        w.start()
        jobs = add_slow_web_jobs(w, site, 3)
        w.kill()
        w.extra_env["JOB_QUEUE_MAX"] = "1"
        began = time.monotonic()
        w.start()
        took = time.monotonic() - began
        h.check(took < 1.5, "start-up took %.1f s with 3 stored jobs over JOB_QUEUE_MAX=1" % took)
        for uid, _ in jobs:
            h.expect_status(w.wait_status(uid, timeout=30), 200, "stored job %s" % uid)
        w.stop()


def test_full_queue_stays_out_of_the_readiness_error_rate():
    """A full queue's 503 is the clients' load, not a failure of the worker (like the body budget's
    503): /readyz says "queue": "full" while it is, and once the queue has room the worker is
    ready again, not held unready by an error rate made of those 503s for the next ten minutes."""
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=2.0)
        env = {"MAX_JOBS": "1", "JOB_QUEUE_MAX": "1", "WEBSCRAPER_ALLOW_PRIVATE": "true",
               "READYZ_MIN_SAMPLES": "2"}
        with h.Worker(env=env) as w:
            job = {"type": "web", "arguments": {"url": site.url("/slow")}}
            sigs = [w.generate(job) for _ in range(6)]
            uids = [w.add(sigs[0])]
            deadline = time.monotonic() + 10
            while site.count("/slow") < 1 and time.monotonic() < deadline:
                time.sleep(0.05)        # the first job runs: the next one fills the queue
            uids.append(w.add(sigs[1]))
            for s in sigs[2:]:
                r = w.post("/job/add", json_body={"encrypted_job": s})
                h.expect_json_error(r, 503, "add to a full queue", prefix="job queue is full")
            for uid in uids:
                h.expect_status(w.wait_status(uid, timeout=20), 200, "a queued job's status")
            r = w.get("/readyz")
            doc = r.json()
            h.check_eq(doc["checks"]["stats"]["error_count"], 0, "errors counted in /readyz")
            h.check_eq((r.status, doc["ready"]), (200, True), "/readyz once the queue has room")


def test_replay_while_the_queue_is_full_is_refused_as_a_replay():
    """The checks of /job/add come in order (core-protocol.md 1.5.6; the queue bound of
    DECISIONS.md "Overload" is its last step): a signature already admitted answers "job already
    executed" (Go's 500) whether or not the queue has room, not the full queue's 503, which would
    tell the client to send it again later."""
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=2.0)
        env = {"MAX_JOBS": "1", "JOB_QUEUE_MAX": "1", "WEBSCRAPER_ALLOW_PRIVATE": "true"}
        with h.Worker(env=env) as w:
            job = {"type": "web", "arguments": {"url": site.url("/slow")}}
            sigs = [w.generate(job) for _ in range(3)]
            uids = [w.add(sigs[0])]
            deadline = time.monotonic() + 10
            while site.count("/slow") < 1 and time.monotonic() < deadline:
                time.sleep(0.05)        # the first job runs: the next one fills the queue
            uids.append(w.add(sigs[1]))
            r = w.post("/job/add", json_body={"encrypted_job": sigs[2]})
            h.expect_json_error(r, 503, "a new signature, queue full", prefix="job queue is full")
            for what, sig in (("the running job", sigs[0]), ("the queued job", sigs[1])):
                r = w.post("/job/add", json_body={"encrypted_job": sig})
                h.expect_json_error(r, 500, "replay of %s, queue full" % what,
                                    message="job already executed")
            for uid in uids:
                h.expect_status(w.wait_status(uid, timeout=20), 200, "a queued job's status")
            w.add(sigs[2])      # refused for the full queue only: its nonce was not consumed


def test_signature_past_its_max_age_is_refused():
    with h.Worker(env={"JOB_SIGNATURE_MAX_AGE_SECONDS": "1"}) as w:
        sig = w.generate(TELEMETRY)
        time.sleep(2.2)
        r = w.post("/job/add", json_body={"encrypted_job": sig})
        h.expect_json_error(r, 400, "expired signature", prefix="job signature expired")


def test_full_queue_is_503_and_keeps_the_nonce():
    # Web jobs on a page that takes a second: one runs, one waits, the rest find the queue full.
    with Site() as site, h.Worker(env={"MAX_JOBS": "1", "JOB_QUEUE_MAX": "1",
                                       "WEBSCRAPER_ALLOW_PRIVATE": "true"}) as w:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=1.0)
        job = {"type": "web", "arguments": {"url": site.url("/slow")}}
        sigs = [w.generate(job) for _ in range(300)]
        refused = []
        lock = threading.Lock()

        def add(batch):
            for s in batch:
                r = w.post("/job/add", json_body={"encrypted_job": s})
                if r.status == 503:
                    h.check(r.header("Retry-After") is not None, "503 without Retry-After")
                    h.check("error" in r.json(), "503 without a JSON error: %r" % r.body)
                    with lock:
                        refused.append(s)
                else:
                    h.expect_status(r, 200, "add under load")
        saw_full = []
        done = threading.Event()

        def watch_readiness():
            while not done.is_set() and not saw_full:
                r = w.get("/readyz")
                doc = r.json()
                if r.status == 503 and doc["checks"]["queue"] == "full" and not doc["ready"]:
                    saw_full.append(doc["checks"]["queue_stats"])
        watcher = threading.Thread(target=watch_readiness)
        watcher.start()
        threads = [threading.Thread(target=add, args=(sigs[i::6],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        watcher.join()
        h.check(refused, "the queue of 1 never filled under a burst of 300 adds")
        # A telemetry job is instant: it runs as it is admitted, so a full queue does not hold it,
        # and it is done when /job/add answers. Checked between two refused web jobs (nothing
        # else adds meanwhile, so the queue stayed full in between).
        for _ in range(3):
            before = w.post("/job/add", json_body={"encrypted_job": w.generate(job)})
            telemetry = w.post("/job/add", json_body={"encrypted_job": w.generate(TELEMETRY)})
            after = w.post("/job/add", json_body={"encrypted_job": w.generate(job)})
            if before.status == 503 and after.status == 503:
                break
        h.expect_status(before, 503, "a web job while the queue is full")
        h.expect_status(after, 503, "a web job while the queue is still full")
        h.expect_status(telemetry, 200, "a telemetry job while the queue is full")
        st = w.get("/job/status/" + telemetry.json()["uid"])
        h.expect_status(st, 200, "status of the telemetry job right after its admission")
        h.check(saw_full, "/readyz never reported the full queue (503, checks.queue \"full\")")
        h.check_eq(saw_full[0], {"length": 1, "capacity": 1}, "/readyz queue_stats when full")
        deadline = time.monotonic() + 20    # the refused signature is still good, once there is room
        while True:
            r = w.post("/job/add", json_body={"encrypted_job": refused[0]})
            if r.status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        h.expect_status(r, 200, "a once-refused signature, sent again")
        h.expect_status(w.wait_status(r.json()["uid"]), 200, "a once-refused signature runs later")


def test_a_second_worker_on_the_same_data_dir_is_refused():
    with h.Worker() as w:
        env = dict(h.Worker(data_dir=w.data_dir).environment())
        rc, out = h.run_binary(env, cwd=w.data_dir, timeout=30)
        h.check(rc not in (0, None) and rc > 0, "a second worker on one DATA_DIR exited with %r" % rc)
        h.check("locked" in out, "no clear message for a DATA_DIR in use:\n%s" % out)
        w.healthy("the first worker after the second was refused")


def test_a_second_worker_is_refused_after_a_restart_too():
    """A worker restarted on its DATA_DIR writes nothing while it starts (the store exists, its
    id and keys are there): a second worker started then must still be refused, not recover and
    run the same unfinished jobs on the same database (it once was, the lock being taken only at
    the first worker's first write)."""
    with h.Worker() as w:
        w.restart()
        env = dict(h.Worker(data_dir=w.data_dir).environment())
        rc, out = h.run_binary(env, cwd=w.data_dir, timeout=30)
        h.check(rc not in (0, None) and rc > 0,
                "a second worker on one DATA_DIR, after the first restarted, exited with %r" % rc)
        h.check("locked" in out, "no clear message for a DATA_DIR in use:\n%s" % out)
        w.healthy("the restarted worker after the second was refused")
        w.run_job({"type": "telemetry", "arguments": {}})   # its store is still its own
        # exclusive from the first read: the WAL index in heap memory, no shared-memory file
        h.check(not os.path.exists(os.path.join(w.data_dir, "tee-worker.db-shm")),
                "the restarted worker shares its WAL index in tee-worker.db-shm")


def test_corrupt_store_stops_start_up():
    d = h.mkdtemp("tw-data-")
    with h.Worker(data_dir=d) as w:
        w.run_job(TELEMETRY)
    path = os.path.join(d, "tee-worker.db")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    with open(path, "r+b") as f:
        f.seek(0)
        f.write(b"this is not a database" * 100)
    env = dict(h.Worker(data_dir=d).environment())
    rc, out = h.run_binary(env, cwd=d)
    h.check(rc not in (0, None) and rc > 0, "start-up on a corrupt store exited with %r" % rc)
    h.check("tee-worker.db" in out and "not a database" in out,
            "no clear message about the corrupt store:\n%s" % out)
    with open(path, "rb") as f:
        h.check(f.read(22) == b"this is not a database", "the corrupt store was replaced")


def test_unusable_store_path_stops_start_up():
    d = h.mkdtemp("tw-data-")
    os.mkdir(os.path.join(d, "tee-worker.db"))
    env = dict(h.Worker(data_dir=d).environment())
    rc, out = h.run_binary(env, cwd=d)
    h.check(rc not in (0, None) and rc > 0, "start-up with a directory as store exited with %r" % rc)
    h.check("tee-worker.db" in out, "no message naming the store:\n%s" % out)


def test_data_dir_files_are_private_whatever_the_umask():
    old = os.umask(0o022)      # the usual login umask, inherited by the worker
    try:
        with h.Worker() as w:
            w.run_job(TELEMETRY)
            names = sorted(os.listdir(w.data_dir))
            modes = {n: os.stat(os.path.join(w.data_dir, n)).st_mode & 0o777 for n in names}
    finally:
        os.umask(old)
    h.check("tee-worker.db" in modes and "platform.key" in modes, "files: %r" % names)
    loose = {n: oct(m) for n, m in modes.items() if m & 0o077}
    h.check(not loose, "DATA_DIR files that group or others may read: %r" % loose)


def test_kill9_while_the_root_key_is_written_does_not_block_later_starts():
    """The standalone root key (DATA_DIR/platform.key) is created whole or not at all: a first
    start killed (kill -9, a power cut) while writing it must not leave a short key file behind,
    which every later start refuses as damaged. The first start is held at its first write (the
    key's; tests/e2e/fakes/stall_io.c), killed there, and a second start must then succeed. The
    temporary file the first start was writing is left behind; once stale (older than a minute:
    its times are set back here), the second start removes it."""
    from test_shutdown import Stall
    stall = Stall()
    stall.on()
    first = h.Worker(env=stall.env(10, calls="write"))
    log = open(os.path.join(h.mkdtemp("tw-log-"), "stderr"), "wb")
    proc = subprocess.Popen(h.command(), env=first.environment(), cwd=first.data_dir,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        stall.wait_hit()
        names = os.listdir(first.data_dir)
        h.check(any("platform.key" in n for n in names),
                "the first write of the first start should be the root key's; DATA_DIR: %r" % names)
    finally:
        proc.kill()
        proc.wait(10)
        log.close()
        stall.off()
    left = [n for n in os.listdir(first.data_dir) if n.startswith(".platform.key.tw-tmp.")]
    h.check_eq(len(left), 1, "temporary root key files left by the killed start (%r)"
               % os.listdir(first.data_dir))
    old = time.time() - 120
    os.utime(os.path.join(first.data_dir, left[0]), (old, old))
    with h.Worker(data_dir=first.data_dir) as w:
        w.run_job(TELEMETRY)
    key = os.path.join(first.data_dir, "platform.key")
    h.check_eq(os.stat(key).st_size, 32, "size of the root key made by the second start")
    names = os.listdir(first.data_dir)
    h.check(left[0] not in names, "the stale temporary file %s is still in DATA_DIR: %r"
            % (left[0], names))


if __name__ == "__main__":
    h.main(globals())
