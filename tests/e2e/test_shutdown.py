#!/usr/bin/env python3
"""test_shutdown.py - a SIGTERM while the disk does not answer. The worker runs with
tests/e2e/fakes/stall_io.c preloaded (TW_STALL_IO): while a control file exists, the store's
writes and syncs hang, so a /job/add waits for a commit that does not come. The shutdown then
waits SHUTDOWN_DRAIN_SECONDS for such admissions and exits with status 1 and a clear log line if
they are still waiting; the waiting client gets no 200 (its connection closes); after a restart the
job is either absent (its signature can be added again, and runs) or present and runs - never
half-done. A disk that answers again within the drain lets the admission finish: 200, a clean exit,
and the job's result after the restart, while a /job/add that comes during the drain is refused
at once (503 + Retry-After). A stop whose store cannot write a finished job's result is
bounded the same way, and that job runs again after the restart. A /setkey whose key-ring write
hangs on the disk waits away from the HTTP thread: other requests are answered meanwhile, its own
answer comes when the disk does, and at a stop it is drained like a /job/add. A SIGTERM during start-up (here while the Apify key
check or the X API key probe waits for a slow answer) ends start-up promptly: status 0, nothing
served, nothing leaked."""
import http.client
import os
import signal
import sqlite3
import threading
import time

import harness as h
from fakes.apify_fake import ApifyFake
from fakes.site import Site
from fakes.x_api_fake import XApiFake

TELEMETRY = {"type": "telemetry", "arguments": {}}
# How much longer than SHUTDOWN_DRAIN_SECONDS the exit may take (the job threads, the sanitizer's
# exit checks; far more under valgrind).
EXIT_SLACK_S = 60.0 if os.environ.get("TW_VALGRIND") == "1" else 8.0


class Stall:
    """The control file of the shim: the disk hangs while it exists."""

    def __init__(self):
        self.path = os.path.join(h.mkdtemp("tw-stall-"), "stall")

    def env(self, drain_s, calls=None):
        env = {"LD_PRELOAD": h.preload_env(h.stall_io_library()), "STALL_IO_FILE": self.path,
               "SHUTDOWN_DRAIN_SECONDS": str(drain_s)}
        if calls:
            env["STALL_IO_CALLS"] = calls
        return env

    def on(self):
        open(self.path, "w").close()

    def off(self):
        os.unlink(self.path)

    def wait_hit(self, timeout=10.0):
        """Waits until a stalled call is actually hanging (the shim's .hit marker)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path + ".hit"):
            h.check(time.monotonic() < deadline,
                    "the store never wrote while the disk was stalled (no %s.hit)" % self.path)
            time.sleep(0.01)


class PendingAdd(threading.Thread):
    """POST /job/add in a thread; outcome is ("answer", Response) or ("closed", exception)."""

    def __init__(self, port, sig):
        super().__init__(daemon=True)
        self.port, self.sig = port, sig
        self.outcome = None

    def run(self):
        try:
            r = h.http_request(self.port, "POST", "/job/add", json_body={"encrypted_job": self.sig},
                               timeout=120.0)
            self.outcome = ("answer", r)
        except (OSError, http.client.HTTPException) as e:
            self.outcome = ("closed", e)

    def check_not_acknowledged(self, what):
        """No 200: either no answer yet, a closed connection, or a JSON error."""
        if self.outcome and self.outcome[0] == "answer":
            r = self.outcome[1]
            h.check(r.status != 200, "%s: /job/add answered 200 though its commit never "
                    "completed: %s" % (what, r.describe()))
            h.expect_json_error(r, r.status, what)


def sigterm_and_wait(w, bound_s):
    """SIGTERM; returns (exit status, seconds it took). Fails when it takes longer than bound_s,
    or on a sanitizer or memcheck report in the worker's stderr."""
    t0 = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    try:
        rc = w.proc.wait(bound_s)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        w.kill()
        h.fail("worker still running %.0f s after SIGTERM; stderr:\n%s" % (bound_s, w.stderr()))
    took = time.monotonic() - t0
    w.stop(check_exit=False, check_report=True)   # closes the log
    return rc, took


def sigterm_during_start_up(env, asked, what):
    """Starts a worker with env, sends SIGTERM once asked() says its start-up is waiting on a slow
    upstream (which answers after 8 s; each of the worker's waits is bounded at 5 s), and checks a
    prompt, clean exit that served nothing."""
    bound_s = 4.5 if os.environ.get("TW_VALGRIND") == "1" else 3.0
    w = h.Worker(env=env)
    try:
        w.start(wait=False)
        until = time.monotonic() + 30
        while not asked():
            if w.proc.poll() is not None:
                h.fail("worker exited before %s; stderr:\n%s" % (what, w.stderr()))
            if time.monotonic() > until:
                h.fail("the worker never reached %s; stderr:\n%s" % (what, w.stderr()))
            time.sleep(0.02)
        rc, took = sigterm_and_wait(w, 10.0)
        log = w.stderr()
        h.check_eq(rc, 0, "exit status of a SIGTERM during %s" % what)
        h.check(took < bound_s, "SIGTERM during %s took %.1f s to end the worker; stderr:\n%s"
                % (what, took, log))
        h.check("signal %d during start-up: stopped" % signal.SIGTERM in log,
                "the log should say start-up was stopped:\n%s" % log)
        h.check("listening on" not in log, "nothing is served after a SIGTERM during "
                "start-up:\n%s" % log)
        return log
    finally:
        w.kill()


def test_sigterm_during_start_up_exits_promptly():
    # the Apify key check (5 s at most) while /users/me takes 8 s
    with ApifyFake() as fake:
        fake.users_me_delay_s = 8.0
        sigterm_during_start_up(fake.worker_env(),
                                lambda: any(r[1] == "/v2/users/me" for r in list(fake.requests)),
                                "the Apify key check")
    # the X API keys' probe (5 s a key, 15 s in all) while each probe takes 8 s
    with XApiFake() as fake:
        fake.search_all_delay_s = 8.0
        log = sigterm_during_start_up(fake.worker_env(["k1", "k2", "k3"]),
                                      lambda: len(fake.requests) > 0, "the X API key probe")
        h.check_eq(len(fake.requests), 1, "keys probed after the SIGTERM")
        h.check("X API keys #2 to #3 not probed: the worker is stopping" in log,
                "the log should name the keys left unprobed:\n%s" % log)


def stored_job_uids(data_dir, table="jobs"):
    db = sqlite3.connect(os.path.join(data_dir, "tee-worker.db"))
    try:
        return [row[0] for row in db.execute("SELECT uid FROM " + table)]
    finally:
        db.close()


def recorded_uids(data_dir):
    """The uids the store recorded: unfinished jobs, and results (a telemetry job is instant: it
    is recorded with its result, never as an unfinished job)."""
    return stored_job_uids(data_dir) + stored_job_uids(data_dir, "results")


def stalled_shutdown(w, stall, drain_s):
    """Stalls the disk, leaves a /job/add hanging on it, SIGTERMs the worker and checks the exit:
    after the drain, status 1, the log says why, no sanitizer report, the client got no 200.
    Returns the job's signature."""
    sig = w.generate(TELEMETRY)
    stall.on()
    add = PendingAdd(w.port, sig)
    add.start()
    stall.wait_hit()
    time.sleep(0.5)
    add.check_not_acknowledged("while the disk is stalled")
    h.check(add.outcome is None, "/job/add answered while its commit hangs: %r" % (add.outcome,))
    rc, took = sigterm_and_wait(w, drain_s + EXIT_SLACK_S)
    log = w.stderr()
    h.check_eq(rc, 1, "exit status of a shutdown that left an admission waiting (log:\n%s)" % log)
    h.check(took >= drain_s - 0.5, "the worker exited after %.1f s, before the %d s drain"
            % (took, drain_s))
    h.check("1 deferred requests still unanswered after %d s (SHUTDOWN_DRAIN_SECONDS)" % drain_s
            in log, "no log line naming the unanswered request and the drain:\n%s" % log[-3000:])
    h.check("shutdown: requests still wait for the disk" in log,
            "no log line saying why the shutdown is not clean:\n%s" % log[-3000:])
    add.join(10.0)
    h.check(not add.is_alive(), "the waiting client's connection stayed open after the exit")
    add.check_not_acknowledged("after the stalled exit")
    return sig


def test_stalled_write_exits_after_the_drain_and_the_job_is_not_recorded():
    # DURABILITY=normal: the commit hangs in its WAL write, so nothing of the job reached the file.
    stall = Stall()
    drain_s = 2
    w = h.Worker(env=stall.env(drain_s))
    try:
        w.start()
        sig = stalled_shutdown(w, stall, drain_s)
        stall.off()
        h.check_eq(recorded_uids(w.data_dir), [], "jobs in the store after the stalled exit")
        w.start()
        # absent, so its signature was never remembered: it is accepted now, and runs
        uid = w.add(sig)
        st = w.wait_status(uid)
        h.expect_status(st, 200, "status of the job added again after the restart")
        h.expect_status(w.result(st.text, sig), 200, "its result")
        w.stop()
    finally:
        w.kill()


def test_stalled_sync_exits_after_the_drain_and_the_recorded_job_runs():
    # DURABILITY=full with only the syncs stalled: the commit reached the WAL (the page cache), its
    # fsync hangs. The client never heard of it, yet the job is recorded (telemetry, an instant
    # kind, with its result): after the restart it is answered under its uid and its signature
    # counts as used.
    stall = Stall()
    drain_s = 2
    env = stall.env(drain_s, calls="fsync,fdatasync,sync_file_range")
    env["DURABILITY"] = "full"
    w = h.Worker(env=env)
    try:
        w.start()
        sig = stalled_shutdown(w, stall, drain_s)
        stall.off()
        uids = recorded_uids(w.data_dir)
        h.check_eq(len(uids), 1, "jobs recorded by the commit whose fsync hung")
        w.start()
        st = w.wait_status(uids[0])
        h.expect_status(st, 200, "status of the recovered job")
        h.expect_status(w.result(st.text, sig), 200, "its result")
        r = w.post("/job/add", json_body={"encrypted_job": sig})
        h.expect_json_error(r, 500, "the recorded job's signature again",
                            message="job already executed")
        w.stop()
    finally:
        w.kill()


def test_disk_back_within_the_drain_completes_the_admission():
    stall = Stall()
    drain_s = 20
    w = h.Worker(env=stall.env(drain_s))
    try:
        w.start()
        sig = w.generate(TELEMETRY)
        late_sig = w.generate(TELEMETRY)
        stall.on()
        add = PendingAdd(w.port, sig)
        add.start()
        stall.wait_hit()
        t0 = time.monotonic()
        w.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        h.check(w.proc.poll() is None, "the worker exited while an admission was still waiting")
        add.check_not_acknowledged("during the drain, disk still stalled")
        # A /job/add that comes during the drain is refused at once: recording it would hold an
        # HTTP thread on the stalled disk, and the stop has to wait for the HTTP threads.
        r = w.post("/job/add", json_body={"encrypted_job": late_sig}, timeout=5.0)
        h.expect_json_error(r, 503, "/job/add during the drain",
                            message="worker shutting down; retry later")
        h.check(r.header("Retry-After"), "no Retry-After on the 503 of a stopping worker")
        stall.off()
        add.join(drain_s)
        h.check(not add.is_alive(), "/job/add still unanswered after the disk came back")
        h.check_eq(add.outcome[0], "answer", "the drained /job/add (%r)" % (add.outcome,))
        uid = (add.outcome[1].json() or {}).get("uid")
        h.expect_status(add.outcome[1], 200, "the drained /job/add")
        h.check(isinstance(uid, str) and h.UUID_RE.match(uid), "drained uid: %r" % uid)
        rc = w.stop()   # status 0, no sanitizer report
        took = time.monotonic() - t0
        h.check(took < drain_s, "the exit took %.1f s: it waited the whole drain" % took)
        log = w.stderr()
        h.check("still unanswered" not in log and "still wait for the disk" not in log,
                "a drained shutdown logged unanswered requests:\n%s" % log[-3000:])
        h.check_eq(rc, 0, "exit status")
        # Accepted means durable: it ran before the exit or runs now, under the same uid.
        w.start()
        st = w.wait_status(uid)
        h.expect_status(st, 200, "status of the drained job after the restart")
        h.expect_status(w.result(st.text, sig), 200, "its result")
        w.add(late_sig)     # the refused one was not recorded: its signature is still good
        w.stop()
    finally:
        w.kill()


def test_stalled_result_commit_exits_after_the_drain_and_the_job_runs_again():
    # No admission waits, but a finished job's result is being committed when the disk stops:
    # the close of the store is given SHUTDOWN_DRAIN_SECONDS too, then the worker exits (as after
    # kill -9), and the job, whose result was never written, runs again after the restart.
    stall = Stall()
    drain_s = 2
    env = stall.env(drain_s)
    env["WEBSCRAPER_ALLOW_PRIVATE"] = "true"
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>page</p>", delay=1.0)
        w = h.Worker(env=env)
        try:
            w.start()
            sig = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
            uid = w.add(sig)
            deadline = time.monotonic() + 10
            while site.count("/slow") < 1:
                h.check(time.monotonic() < deadline, "the job never fetched its page")
                time.sleep(0.01)
            stall.on()
            stall.wait_hit()    # the job finished; the writer is stuck committing its result
            rc, took = sigterm_and_wait(w, drain_s + EXIT_SLACK_S)
            log = w.stderr()
            h.check_eq(rc, 1, "exit status of a shutdown whose store did not close (log:\n%s)"
                       % log)
            h.check(took >= drain_s - 0.5, "the worker exited after %.1f s, before the %d s "
                    "drain" % (took, drain_s))
            h.check("shutdown: the store did not finish writing within %d s" % drain_s in log,
                    "no log line saying why the shutdown is not clean:\n%s" % log[-3000:])
            stall.off()
            h.check_eq(stored_job_uids(w.data_dir), [uid], "the job whose result was not written")
            w.start()
            st = w.wait_status(uid)
            h.expect_status(st, 200, "status of the job run again after the restart")
            h.expect_status(w.result(st.text, sig), 200, "its result")
            h.check_eq(site.count("/slow"), 2, "fetches of the page (the job ran twice)")
            w.stop()
        finally:
            w.kill()


class PendingSetkey(threading.Thread):
    """POST /setkey in a thread; outcome as PendingAdd's."""

    def __init__(self, port, key, signature):
        super().__init__(daemon=True)
        self.port, self.body = port, {"key": key, "signature": signature}
        self.outcome = None

    def send(self):
        """The request itself (plain HTTP here); returns the response."""
        return h.http_request(self.port, "POST", "/setkey", json_body=self.body, timeout=120.0)

    def run(self):
        try:
            self.outcome = ("answer", self.send())
        except (OSError, http.client.HTTPException) as e:
            self.outcome = ("closed", e)

    def key_set(self, what):
        """Waits for the answer, which must be /setkey's 200 {"status": "Key set"}."""
        self.join(30.0)
        h.check(not self.is_alive(), "%s: no answer 30 s after the disk came back" % what)
        h.check_eq(self.outcome[0], "answer", "%s (%r)" % (what, self.outcome))
        r = h.expect_status(self.outcome[1], 200, what)
        h.check_eq(r.header("Content-Type"), "application/json", what + ": Content-Type")
        h.check_eq(r.json(), {"status": "Key set"}, what + ": body")


def prompt(w, method, path, what, **kw):
    """A request that must be answered within a few seconds although a /setkey waits on the disk
    (with HTTP_THREADS=1 an HTTP thread held by that write would leave it unanswered)."""
    try:
        return w.request(method, path, timeout=5.0, **kw)
    except (OSError, http.client.HTTPException) as e:
        h.fail("%s: no answer within 5 s while a /setkey waits on the stalled disk (%s)"
               % (what, e))


def test_setkey_on_a_stalled_disk_leaves_the_other_requests_answered():
    # /setkey's key-ring write waits on the disk away from the HTTP thread: with one HTTP thread,
    # /healthz, /job/status and /job/result (which seal and open with the ring) are answered
    # meanwhile, and a /job/add waits for its commit without holding the thread either; two
    # /setkeys waiting at once are applied in their order once the disk answers (K2, sent second,
    # is the newest key and seals), and the ring is on disk after a restart.
    stall = Stall()
    env = stall.env(20)
    env["KEY_DISTRIBUTOR_PUBKEY"] = h.distributor_pubkey_file()
    env["HTTP_THREADS"] = "1"
    sk = h.vectors()["setkey"]
    go = h.vectors()["job"]
    w = h.Worker(env=env)
    try:
        w.start()
        sig, uid, sealed, _ = w.run_job(TELEMETRY)
        later_sig = w.generate(TELEMETRY)
        stall.on()
        first = PendingSetkey(w.port, sk["key"], sk["signature"])
        first.start()
        stall.wait_hit()
        second = PendingSetkey(w.port, sk["key2"], sk["signature2"])
        second.start()
        add = PendingAdd(w.port, later_sig)     # its commit waits on the disk too
        add.start()
        time.sleep(0.2)
        h.expect_status(prompt(w, "GET", "/healthz", "/healthz"), 200, "/healthz")
        st = h.expect_status(prompt(w, "GET", "/job/status/" + uid, "/job/status"), 200,
                             "/job/status of a finished job")
        r = prompt(w, "POST", "/job/result", "/job/result",
                   json_body={"encrypted_result": st.text, "encrypted_request": sig})
        h.expect_status(r, 200, "/job/result of a finished job")
        h.check(first.outcome is None and second.outcome is None,
                "/setkey answered while its write hangs: %r, %r"
                % (first.outcome, second.outcome))
        add.check_not_acknowledged("while the disk is stalled")
        stall.off()
        first.key_set("/setkey K1 after the disk came back")
        second.key_set("/setkey K2 after the disk came back")
        add.join(30.0)
        h.check(add.outcome and add.outcome[0] == "answer", "/job/add after the disk came back: "
                "%r" % (add.outcome,))
        later_uid = (add.outcome[1].json() or {}).get("uid")
        h.expect_status(add.outcome[1], 200, "/job/add after the disk came back")
        h.expect_status(w.wait_status(later_uid), 200, "status of the job added while stalled")
        w.stop()
        w.start()
        # K1 (the Go vectors' key) was persisted ...
        r = w.result(go["sealed_result"], go["signature"])
        h.expect_status(r, 200, "/job/result with the Go vectors (K1) after a restart")
        h.check_eq(r.text, go["result_plaintext"], "Go vectors' clear text after a restart")
        # ... and K2, the newest, seals: a peer holding K2 only opens what this worker seals now.
        new_sig = w.generate(TELEMETRY)
        h.expect_status(w.result(sealed, sig), 200, "a result sealed before the keys came")
        with h.Worker(env={"KEY_DISTRIBUTOR_PUBKEY": env["KEY_DISTRIBUTOR_PUBKEY"]}) as peer:
            r = peer.post("/setkey", json_body={"key": sk["key2"], "signature": sk["signature2"]})
            h.expect_status(r, 200, "/setkey K2 on the peer")
            peer.add(new_sig)
        w.stop()
    finally:
        w.kill()


def test_setkey_on_a_stalled_disk_does_not_hold_the_stop_for_ever():
    # A /setkey whose key-ring write hangs on the disk is a deferred request like a /job/add
    # waiting for its commit: the stop waits SHUTDOWN_DRAIN_SECONDS for it, then exits with status
    # 1 (the client gets no 200); a /setkey that comes during that drain is refused at once.
    stall = Stall()
    drain_s = 3
    env = stall.env(drain_s)
    env["KEY_DISTRIBUTOR_PUBKEY"] = h.distributor_pubkey_file()
    sk = h.vectors()["setkey"]
    w = h.Worker(env=env)
    try:
        w.start()
        stall.on()
        pending = PendingSetkey(w.port, sk["key"], sk["signature"])
        pending.start()
        stall.wait_hit()
        t0 = time.monotonic()
        w.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        h.check(w.proc.poll() is None, "the worker exited while a /setkey was still waiting")
        r = w.post("/setkey", json_body={"key": sk["key2"], "signature": sk["signature2"]},
                   timeout=2.0)
        doc = h.expect_json_error(r, 503, "/setkey during the drain",
                                  message="worker shutting down; retry later")
        h.check_eq(doc.get("status"), doc["error"], "/setkey during the drain: \"status\" member")
        h.check(r.header("Retry-After"), "no Retry-After on the 503 of a stopping worker")
        try:
            rc = w.proc.wait(drain_s + EXIT_SLACK_S)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
            w.kill()
            h.fail("worker still running %.0f s after SIGTERM" % (drain_s + EXIT_SLACK_S))
        took = time.monotonic() - t0
        w.stop(check_exit=False, check_report=True)
        log = w.stderr()
        h.check_eq(rc, 1, "exit status of a shutdown that left a /setkey waiting (log:\n%s)" % log)
        h.check(took >= drain_s - 0.5, "the worker exited after %.1f s, before the %d s drain"
                % (took, drain_s))
        h.check("1 deferred requests still unanswered after %d s (SHUTDOWN_DRAIN_SECONDS)"
                % drain_s in log, "no log line naming the unanswered request:\n%s" % log[-3000:])
        h.check("shutdown: requests still wait for the disk" in log,
                "no log line saying why the shutdown is not clean:\n%s" % log[-3000:])
        pending.join(10.0)
        h.check(not pending.is_alive(), "the waiting /setkey's connection stayed open after the exit")
        if pending.outcome[0] == "answer":
            h.check(pending.outcome[1].status != 200, "/setkey answered 200 though its write "
                    "never completed: %s" % pending.outcome[1].describe())
        stall.off()
        w.start()   # the store opens again; the key is in the ring or not, and can be sent again
        pending = PendingSetkey(w.port, sk["key"], sk["signature"])
        pending.start()
        pending.key_set("/setkey after the restart")
        w.stop()
    finally:
        w.kill()


if __name__ == "__main__":
    h.main(globals())
