#!/usr/bin/env python3
"""test_fleet.py - fleet mode: three workers share one Redis (STORE_URL=redis://...) and one
SEALING_KEYS_FILE, as behind a load balancer.

redis-server (Debian package, installed by scripts/deps.sh test) runs on a free loopback port with a
temp dir, appendonly yes and appendfsync always. Covered: jobs generated, added, polled and opened on
different workers round-robin; a signature replayed on another worker refused (500, as Go); nothing in
Redis in clear (no quote, job type or result text in any key or value); a worker killed with SIGKILL
mid-job and its job finished by another (XAUTOCLAIM after JOB_TIMEOUT + margin); Redis killed and
restarted mid-run: /job/add answers 503 + Retry-After and /readyz 503 naming the store meanwhile,
the workers reconnect, and every job /job/add acknowledged finishes; and SEALING_KEYS_FILE checks
(mode 0644 refused, a shared store without it refused). Also: results Redis refuses (maxmemory) or
never takes (over proto-max-bulk-len), an admission or a delivery whose answer is lost (a proxy
drops it), a SIGTERM or a restart of Redis while results wait in the worker, a Redis down at
start-up, one that misbehaves (garbage, cut replies, silence) or floods a reply (dropped past the
reply bound), the nonce TTL's clock margin, consumers of workers gone removed (never one with
pending entries), and re-reads after a lost answer that must not count as deliveries.
A missing redis-server fails the test."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness as h
from fakes.site import Site

TELEMETRY = {"type": "telemetry", "arguments": {}}
KEYS = ["8f0c2a4be1d3f5a7092b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f",
        "1111111111111111111111111111111111111111111111111111111111111111"]


# ---------------------------------------------------------------------------------------------
# a private redis-server and a tiny RESP client


def redis_binary():
    path = shutil.which("redis-server") or ("/usr/bin/redis-server"
                                             if os.access("/usr/bin/redis-server", os.X_OK) else None)
    if not path:
        h.fail("redis-server is not installed: scripts/deps.sh test installs it (Debian package "
               "redis-server); the fleet tests need it")
    return path


class Redis:
    def __init__(self, password=None):
        self.dir = h.mkdtemp("tw-redis-")
        self.port = h.free_port()
        self.proc = None
        self.password = password

    def start(self):
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--daemonize", "no", "--logfile", os.path.join(self.dir, "log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=h._die_with_parent)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.cmd("PING") == "PONG":
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                h.fail("redis-server did not answer PING on port %d" % self.port)
            time.sleep(0.05)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def cmd(self, *args, db=None):
        """One command on a fresh connection (AUTH and SELECT first when needed); returns the
        decoded reply (bytes as str when UTF-8)."""
        pre = []
        if self.password:
            pre.append(("AUTH", self.password))
        if db is not None:
            pre.append(("SELECT", db))
        out = b""
        for c in pre + [args]:
            out += b"*%d\r\n" % len(c)
            for a in c:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection((h.HOST, self.port), timeout=5) as s:
            s.sendall(out)
            f = s.makefile("rb")
            for _ in pre:
                _read_reply(f)
            return _read_reply(f)

    def dump_everything(self):
        """Every key and every value (strings, stream entries) as one bytes blob."""
        blob = b""
        keys = self.cmd("KEYS", "*") or []
        for k in keys:
            kb = k.encode() if isinstance(k, str) else k
            blob += kb + b"\n"
            t = self.cmd("TYPE", k)
            if t == "string":
                v = self.cmd("GET", k)
                blob += (v.encode() if isinstance(v, str) else v or b"") + b"\n"
            elif t == "stream":
                for entry in self.cmd("XRANGE", k, "-", "+") or []:
                    blob += json.dumps(entry).encode() + b"\n"
        return blob


def _read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise OSError("redis error: %s" % rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise OSError("unexpected RESP line %r" % line)


def keys_file(keys=KEYS, mode=0o600):
    d = h.mkdtemp("tw-keys-")
    path = os.path.join(d, "sealing-keys")
    with open(path, "w") as f:
        f.write("# newest first\n" + "\n".join(keys) + "\n")
    os.chmod(path, mode)
    return path


def fleet_env(redis, keys_path, **extra):
    env = {"STORE_URL": redis.url(), "SEALING_KEYS_FILE": keys_path, "MAX_JOBS": "4"}
    env.update(extra)
    return env


class Fleet:
    """Three workers on one Redis; leaving the block stops them (checked) and Redis."""

    def __init__(self, n=3, **extra):
        self.redis = Redis().start()
        self.keys = keys_file()
        self.workers = [h.Worker(env=fleet_env(self.redis, self.keys, **extra)) for _ in range(n)]

    def __enter__(self):
        try:
            for w in self.workers:
                w.start()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            for w in self.workers:
                w.__exit__(exc_type, exc, tb)
        finally:
            self.redis.stop()
        return False


def status_until_done(w, uid, timeout=30.0):
    st = w.wait_status(uid, timeout=timeout)
    h.expect_status(st, 200, "status of %s on port %d" % (uid, w.port))
    return st


# ---------------------------------------------------------------------------------------------
# the tests


def test_jobs_round_robin_across_workers():
    with Fleet() as f:
        ws = f.workers
        ids = {w.worker_id() for w in ws}
        h.check_eq(len(ids), 3, "distinct worker ids")
        jobs = []
        for i in range(30):
            gen, add, poll = ws[i % 3], ws[(i + 1) % 3], ws[(i + 2) % 3]
            sig = gen.generate(TELEMETRY)
            jobs.append((sig, add.add(sig), poll, gen))
        ran_on = set()
        quotes = []
        for sig, uid, poll, gen in jobs:
            st = status_until_done(poll, uid)
            # the result opens on a worker other than the one that answered the status
            r = gen.result(st.text, sig)
            h.expect_status(r, 200, "result of %s on another worker" % uid)
            doc = json.loads(r.body)
            h.check("worker_id" in doc or "stats" in doc or "worker_version" in doc,
                    "not a telemetry document: %r" % r.body[:120])
            ran_on.add(doc.get("worker_id"))
            quotes.append(sig)
        # every worker answers the same status for the same job
        sig, uid, _, _ = jobs[0]
        bodies = [status_until_done(w, uid) for w in ws]
        for b in bodies:
            r = ws[0].result(b.text, sig)
            h.expect_status(r, 200, "result read through every worker")
        h.check(len(ran_on - {None}) >= 2,
                "30 jobs over 3 workers ran on fewer than 2 of them: %r" % ran_on)
        # nothing in clear in Redis: no signature, no job type, no telemetry text
        blob = f.redis.dump_everything()
        h.check(b"result:" + uid.encode() in blob, "no result key for %s in redis" % uid)
        for needle in (b"telemetry", b"worker_version", b"quote", b"arguments"):
            h.check(needle not in blob, "redis holds %r in clear" % needle)
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length after every job")


def test_a_second_worker_on_the_same_data_dir_is_refused():
    """Two workers on one DATA_DIR would be one worker id, one consumer of the stream: each
    restart of either would run again the jobs the other runs. The second is refused at start-up,
    with a Redis store as with the SQLite one, and the first serves on."""
    with Fleet(n=1) as f:
        (w,) = f.workers
        w.restart()     # nothing written in DATA_DIR at this start: its files are all there
        env = dict(h.Worker(data_dir=w.data_dir, env=fleet_env(f.redis, f.keys)).environment())
        rc, out = h.run_binary(env, cwd=w.data_dir, timeout=30)
        h.check(rc not in (0, None) and rc > 0,
                "a second worker on one DATA_DIR with a Redis store exited with %r" % rc)
        h.check("DATA_DIR" in out and "locked by another worker" in out,
                "no clear message for a DATA_DIR in use:\n%s" % out[-800:])
        status_until_done(w, w.add(w.generate(TELEMETRY)))


def test_replay_on_another_worker_refused():
    with Fleet() as f:
        a, b, c = f.workers
        sig = a.generate(TELEMETRY)
        uid = b.add(sig)
        for w in (c, b, a):
            r = w.post("/job/add", json_body={"encrypted_job": sig})
            h.expect_json_error(r, 500, "replayed signature on port %d" % w.port,
                                message="job already executed")
        status_until_done(c, uid)
        r = c.post("/job/add", json_body={"encrypted_job": sig})
        h.expect_json_error(r, 500, "replay after the job finished", message="job already executed")


def test_nonce_outlives_the_signature_on_every_clock_of_the_fleet():
    """Each worker judges a signature's age by its own clock, and the nonce's TTL is counted from
    the admitting worker's: Redis must keep the nonce past the signature's expiry by the clock
    difference a fleet tolerates (300 s, as for issued_at in the future), else a worker whose clock
    is behind accepts a replay once the nonce expired."""
    with Fleet(n=1, JOB_SIGNATURE_MAX_AGE_SECONDS="120") as f:
        w = f.workers[0]
        sig = w.generate(TELEMETRY)
        status_until_done(w, w.add(sig))
        keys = f.redis.cmd("KEYS", "tee-worker:nonce:*")
        h.check_eq(len(keys), 1, "nonce keys")
        ttl = f.redis.cmd("TTL", keys[0])
        h.check(ttl >= 120 + 300 - 10, "nonce TTL %d s: a clock 300 s behind finds the signature "
                "valid for %d s after the nonce expired" % (ttl, 120 + 300 - ttl))


def test_fleet_wide_queue_full_is_503_and_keeps_the_nonce():
    """JOB_QUEUE_MAX bounds the jobs waiting or running across the fleet: beyond it /job/add
    answers 503 + Retry-After with a JSON error and records nothing, so the same signature is
    accepted once there is room."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=1.0)
    with site, Fleet(n=2, MAX_JOBS="1", JOB_QUEUE_MAX="2", WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        a, b = f.workers
        uids = [a.add(a.generate({"type": "web", "arguments": {"url": site.url("/slow")}}))
                for _ in range(2)]
        sig = b.generate(TELEMETRY)
        r = b.post("/job/add", json_body={"encrypted_job": sig})
        h.expect_json_error(r, 503, "/job/add beyond the fleet-wide queue bound")
        h.check(r.header("Retry-After"), "503 without Retry-After")
        for uid in uids:
            status_until_done(a, uid)
        uid = b.add(sig)
        status_until_done(a, uid)


def test_worker_killed_mid_job_is_finished_by_another():
    site = Site()
    site.page("/slow", "<h1>Slow page</h1><p>worth the wait</p>", delay=2.0)
    with site, Fleet(JOB_TIMEOUT_SECONDS="5", STORE_REDIS_CLAIM_MARGIN_SECONDS="1",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        ws = f.workers
        sig = ws[0].generate({"type": "web", "arguments": {"url": site.url("/slow")}})
        uid = ws[1].add(sig)
        runner = None
        deadline = time.monotonic() + 10
        while runner is None and time.monotonic() < deadline:
            for w in ws:
                r = w.get("/job/status/" + uid)
                if r.status == 404 and r.json().get("status") == "running":
                    runner = w
                    break
            time.sleep(0.02)
        h.check(runner is not None, "no worker reported the job running")
        while site.count("/slow") < 1:          # mid-job: the page is being fetched
            h.check(time.monotonic() < deadline + 10, "the running job never fetched its page")
            time.sleep(0.02)
        h.check_eq(site.count("/slow"), 1, "fetches before the kill")
        runner.kill()
        runner.stop(check_exit=False, check_report=True)
        runner.proc = None
        t_kill = time.monotonic()
        others = [w for w in ws if w is not runner]
        st = status_until_done(others[0], uid, timeout=40)
        took = time.monotonic() - t_kill
        r = others[1].result(st.text, sig)
        h.expect_status(r, 200, "result of the job taken over")
        h.check(b"Slow page" in r.body, "unexpected result: %r" % r.body[:200])
        h.check(site.count("/slow") >= 2, "the page was fetched %d times; the job should have run "
                "again on another worker" % site.count("/slow"))
        h.check(took >= 3.0, "taken over after %.1f s, before JOB_TIMEOUT + margin" % took)
        print("  job taken over and finished %.1f s after the kill; page fetched %d times"
              % (took, site.count("/slow")))
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length after the take-over")


def test_worker_restarted_runs_its_pending_job_again():
    """A worker killed mid-job and restarted (same DATA_DIR, so the same consumer) runs the job it
    had been given at once, long before another worker could take it over."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=1.5)
    with site, Fleet(n=1, JOB_TIMEOUT_SECONDS="5", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        w = f.workers[0]
        sig = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
        uid = w.add(sig)
        deadline = time.monotonic() + 20
        while w.get("/job/status/" + uid).json().get("status") != "running" or \
                site.count("/slow") < 1:     # mid-job: the page is being fetched
            h.check(time.monotonic() < deadline, "the job never ran")
            time.sleep(0.02)
        w.kill()
        w.stop(check_exit=False, check_report=True)
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 1, "the job is still in the stream")
        w.start()
        st = status_until_done(w, uid, timeout=15)
        r = w.result(st.text, sig)
        h.expect_status(r, 200, "result of the job run again after the restart")
        h.check(b"Slow page" in r.body, "unexpected result: %r" % r.body[:200])
        h.check(site.count("/slow") == 2, "fetched %d times" % site.count("/slow"))
        # /job/status answers "done" from the worker's memory; the writer stores the result and
        # removes the entry just after (seconds later under valgrind)
        deadline = time.monotonic() + 10
        while f.redis.cmd("XLEN", "tee-worker:jobs") != 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


def finish_a_job_while_redis_is_down(f, site):
    """Adds a web job for the site's /slow page on the fleet's first worker, kills Redis once the
    job is fetching it, and waits until the job finished (its result then waits in the worker,
    served from memory). Returns (worker, uid)."""
    w = f.workers[0]
    uid = w.add(w.generate({"type": "web", "arguments": {"url": site.url("/slow")}}))
    deadline = time.monotonic() + 10
    while site.count("/slow") < 1:
        h.check(time.monotonic() < deadline, "the job never fetched its page")
        time.sleep(0.02)
    f.redis.kill()
    status_until_done(w, uid)
    return w, uid


def test_sigterm_while_redis_is_away_waits_for_it_to_store_the_results():
    """A job finishes while Redis is down, then the worker gets SIGTERM: it gives Redis a few
    seconds to come back and stores the result before exiting, instead of dropping it (the job
    then stayed queued fleet-wide and ran again)."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=1.0)
    with site, Fleet(n=1, JOB_TIMEOUT_SECONDS="10", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        w, uid = finish_a_job_while_redis_is_down(f, site)
        time.sleep(0.5)
        w.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        f.redis.start()                           # back while the worker stops
        w.stop()
        h.check("could not be written before exit" not in w.stderr(),
                "results dropped at exit:\n%s" % w.stderr()[-2000:])
        h.check_eq(f.redis.cmd("EXISTS", "tee-worker:result:" + uid), 1, "result stored")
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


def test_results_reach_redis_back_when_the_wall_clock_steps_back():
    """A result that waited in the worker while Redis was down is written within a second or so of
    Redis coming back, even when the wall clock is stepped back meanwhile: the writer waits
    between retries on the monotonic clock. A wait on the wall clock lasted the step longer (here
    an hour; the worker's wall clock runs ahead of the kernel's, tests/e2e/fakes/clock_shift.c)."""
    shim = os.environ.get("TW_CLOCK_SHIFT")
    h.check(shim and os.path.exists(shim), "TW_CLOCK_SHIFT (built by tests/meson.build) missing")
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=1.0)
    with site, Fleet(n=1, JOB_TIMEOUT_SECONDS="10", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true", LD_PRELOAD=h.preload_env(shim),
                     CLOCK_SHIFT_SECONDS="3600") as f:
        w, uid = finish_a_job_while_redis_is_down(f, site)
        time.sleep(1.5)                           # the writer has failed and waits to retry
        f.redis.start()
        deadline = time.monotonic() + 8
        while f.redis.cmd("EXISTS", "tee-worker:result:" + uid) != 1:
            h.check(time.monotonic() < deadline, "the result did not reach Redis within 8 s of "
                    "its return; stderr:\n%s" % w.stderr()[-2000:])
            time.sleep(0.1)


def test_job_killing_every_worker_is_abandoned():
    """A job whose worker is killed mid-job every time is given out at most 5 times (first
    delivery, then re-reads after restarts), then finishes failed instead of running again."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=5.0)
    with site, Fleet(n=1, JOB_TIMEOUT_SECONDS="10", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        w = f.workers[0]
        sig = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
        uid = w.add(sig)
        for kill in range(1, 6):
            deadline = time.monotonic() + 20
            while site.count("/slow") < kill:      # this delivery is fetching the page
                h.check(time.monotonic() < deadline, "delivery %d never fetched the page" % kill)
                time.sleep(0.02)
            w.kill()
            w.stop(check_exit=False, check_report=True)
            w.start()
        st = w.wait_status(uid, timeout=15)
        doc = h.expect_json_error(st, 500, "status of the abandoned job")
        h.check("abandoned" in doc["error"] and "6 times" in doc["error"],
                "unexpected error: %r" % doc["error"])
        h.check_eq(site.count("/slow"), 5, "fetches: one per delivery that ran")
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


def test_result_refused_by_redis_is_written_later():
    """A result Redis refuses to store (maxmemory reached with noeviction: the MULTI is aborted
    with OOM) is kept and written once Redis accepts writes again, as when Redis is unreachable;
    it is not dropped, which left the job "queued" fleet-wide and ran it a second time."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=2.0)
    with site, Fleet(n=2, JOB_TIMEOUT_SECONDS="10", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        a, b = f.workers
        sig = a.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
        uid = a.add(sig)
        deadline = time.monotonic() + 20
        while site.count("/slow") < 1:          # mid-job: the page is being fetched
            h.check(time.monotonic() < deadline, "the job never fetched its page")
            time.sleep(0.02)
        runner = None
        for w in (a, b):
            if w.get("/job/status/" + uid).json().get("status") == "running":
                runner = w
        h.check(runner is not None, "no worker reports the job running")
        other = b if runner is a else a
        f.redis.cmd("CONFIG", "SET", "maxmemory", "1")   # every write refused: OOM
        try:
            status_until_done(runner, uid, timeout=20)   # finished, served from memory
            time.sleep(1.5)                              # the writer tried and was refused
            h.check_eq(f.redis.cmd("EXISTS", "tee-worker:result:" + uid), 0,
                       "result key written while redis refused writes")
        finally:
            f.redis.cmd("CONFIG", "SET", "maxmemory", "0")
        st = status_until_done(other, uid, timeout=10)
        r = other.result(st.text, sig)
        h.expect_status(r, 200, "result read on the other worker")
        h.check(b"Slow page" in r.body, "unexpected result: %r" % r.body[:200])
        h.check_eq(site.count("/slow"), 1, "fetches: the job ran once")
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


class FakeRedisListener:
    """A listener on a free port of 127.0.0.1 that the workers take for Redis (url()); each
    connection it accepts goes to the subclass's connected(c), on the accepting thread."""

    def listen(self, backlog):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((h.HOST, 0))
        self.listener.listen(backlog)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.connected(c)

    def _pump(self, src, dst, forward):
        """Copies src to dst, each read through forward(data): the bytes to pass on (b"" for none),
        or None to stop; ends when src ends or forward says stop, then shuts both down."""
        try:
            while True:
                data = src.recv(65536)
                out = forward(data) if data else None
                if out is None:
                    break
                if out:
                    dst.sendall(out)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _relay(self, c, to_redis, from_redis):
        """Connects the worker's connection c to the real Redis on self.redis_port and pumps both
        ways, each direction through its forward function (see _pump). Returns the connection to
        Redis, or None (c closed) when Redis cannot be reached."""
        try:
            u = socket.create_connection((h.HOST, self.redis_port))
        except OSError:
            c.close()
            return None
        threading.Thread(target=self._pump, args=(c, u, to_redis), daemon=True).start()
        threading.Thread(target=self._pump, args=(u, c, from_redis), daemon=True).start()
        return u

    def close(self):
        """Stops listening and closes the connections a subclass kept in self.conns."""
        self.listener.close()
        for c in getattr(self, "conns", []):
            try:
                c.close()
            except OSError:
                pass


class LostReplyProxy(FakeRedisListener):
    """A TCP proxy to Redis that, once, forwards a command holding `trigger` (by default the
    admission script, the EVAL holding XADD) and then closes the worker's connection instead of
    passing Redis's answer back (only an answer starting with `answer`, if given): Redis ran the
    command, the worker never learns it."""

    def __init__(self, redis_port, trigger=b"XADD", answer=None):
        self.redis_port = redis_port
        self.trigger = trigger
        self.answer = answer
        self.armed = True
        self.dropped = 0
        self.lock = threading.Lock()
        self.listen(16)

    def connected(self, c):
        drop = threading.Event()
        self._relay(c, lambda d: self._command_seen(d, drop),
                    lambda d: self._answer_passes(d, drop))

    def _command_seen(self, data, drop):
        """Worker to Redis: arms drop when the trigger command goes through; passes everything."""
        with self.lock:
            if self.armed and self.trigger in data:
                if self.answer is None:
                    self.armed = False
                drop.set()
        return data

    def _answer_passes(self, data, drop):
        """Redis to worker: the answer, or None (the connection is cut) for the answer to lose."""
        if not drop.is_set():
            return data
        with self.lock:             # Redis answered the command: lose the answer
            lose = self.answer is None or (self.armed and data.startswith(self.answer))
            if lose:
                self.armed = False
                self.dropped += 1
        if not lose:
            drop.clear()
        return None if lose else data


def test_admission_whose_answer_is_lost_is_settled():
    """Redis runs the admission but its answer never reaches the worker (the connection drops):
    /job/add must not answer 503 while the job stays recorded, which refused the client's retry of
    the same signature as a replay ("job already executed") although it never got a uid. Either
    200 with a uid whose result comes (a worker already took the job), or 503 with nothing
    recorded, so the signature is accepted when sent again. Both happen: with the only job thread
    busy the job is withdrawn, with it free the job is already taken."""
    redis = Redis().start()
    proxy = LostReplyProxy(redis.port)
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=3.0)
    try:
        env = fleet_env(redis, keys_file(), MAX_JOBS="1", WEBSCRAPER_ALLOW_PRIVATE="true")
        env["STORE_URL"] = proxy.url()
        with site, h.Worker(env=env) as w:
            busy = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
            with proxy.lock:
                proxy.armed = False
            busy_uid = w.add(busy)
            deadline = time.monotonic() + 10
            while site.count("/slow") < 1:      # the only job thread is busy
                h.check(time.monotonic() < deadline, "the slow job never fetched its page")
                time.sleep(0.02)
            for case in ("thread busy", "thread free"):
                if case == "thread free":
                    status_until_done(w, busy_uid)
                with proxy.lock:
                    proxy.armed = True
                sig = w.generate(TELEMETRY)
                r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=20.0)
                with proxy.lock:
                    h.check(not proxy.armed, "%s: the admission did not go through the proxy" % case)
                if r.status == 200:
                    uid = r.json()["uid"]
                else:
                    h.expect_json_error(r, 503, "%s: /job/add whose answer was lost" % case)
                    h.check(r.header("Retry-After"), "503 without Retry-After")
                    time.sleep(0.5)                     # past the reconnect back-off
                    r2 = w.post("/job/add", json_body={"encrypted_job": sig})
                    h.expect_status(r2, 200, "%s: the same signature sent again after the 503"
                                    % case)
                    uid = r2.json()["uid"]
                st = status_until_done(w, uid)
                h.expect_status(w.result(st.text, sig), 200, "%s: result" % case)
                print("  %s: lost answer settled as %d" % (case, r.status))
            h.check_eq(proxy.dropped, 2, "answers the proxy dropped")
            time.sleep(1.0)
            h.check_eq(redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")
            h.check_eq(len(redis.cmd("KEYS", "tee-worker:result:*") or []), 3,
                       "results: every job ran once")
    finally:
        proxy.close()
        redis.stop()


class BadRedis(FakeRedisListener):
    """A server on Redis's port that misbehaves on every command: 'garbage' answers bytes that are
    not RESP, 'cut' starts a long bulk string and closes mid-reply, 'huge' declares a bulk string
    of 512 MB and an array of 2^31 elements, 'silent' never answers."""

    def __init__(self, mode):
        self.mode = mode
        self.conns = []
        self.listen(64)

    def connected(self, c):
        self.conns.append(c)
        threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            while c.recv(65536):
                if self.mode == "garbage":
                    c.sendall(b"HTTP/1.1 200 OK\r\n\x00\xff?\r\n")
                elif self.mode == "cut":
                    c.sendall(b"$100000\r\n" + b"x" * 5000)
                    break
                elif self.mode == "huge":
                    c.sendall(b"*2\r\n$536870912\r\nabc*2147483647\r\n")
                    break
                elif self.mode == "status":
                    c.sendall(b"+OK\r\n")
                elif self.mode == "int":
                    c.sendall(b":1\r\n")
                elif self.mode == "nested":
                    c.sendall(b"*2\r\n*1\r\n*3\r\n$-1\r\n:7\r\n*0\r\n*-1\r\n")
        except OSError:
            pass
        try:
            c.close()
        except OSError:
            pass


def test_a_redis_that_misbehaves():
    """Garbage, a reply cut mid-way, absurd sizes, no answer at all: the worker stays up, answers
    /readyz, /job/add and /job/status with 503 JSON errors (Retry-After) naming nothing secret,
    keeps its memory bounded and stops cleanly on SIGTERM."""
    for mode in ("garbage", "cut", "huge", "silent"):
        bad = BadRedis(mode)
        try:
            env = {"STORE_URL": bad.url(), "SEALING_KEYS_FILE": keys_file()}
            with h.Worker(env=env) as w:
                sig = w.generate(TELEMETRY)
                for _ in range(3):
                    r = w.get("/readyz")
                    h.check(r.status == 503 and "redis" in r.json()["checks"]["store"],
                            "%s: /readyz %s" % (mode, r.describe()))
                    r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=20.0)
                    h.expect_json_error(r, 503, "%s: /job/add" % mode)
                    h.check(r.header("Retry-After"), "%s: /job/add 503 without Retry-After" % mode)
                    r = w.get("/job/status/" + h.random_uuid(), timeout=20.0)
                    h.expect_json_error(r, 503, "%s: /job/status" % mode)
                    time.sleep(0.3)
                w.healthy("%s redis" % mode)
                with open("/proc/%d/status" % w.proc.pid) as f:
                    rss = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")][0]
                h.check(rss < 200 * 1024, "%s: RSS %d kB" % (mode, rss))
            print("  %s: 503s, healthy, stopped cleanly" % mode)
        finally:
            bad.close()
    # Well-formed replies of the wrong shape (one reply per command, whatever it was): answers
    # stay JSON (a lying server can claim an admission; it decides which jobs run anyway).
    for mode in ("status", "int", "nested"):
        bad = BadRedis(mode)
        try:
            env = {"STORE_URL": bad.url(), "SEALING_KEYS_FILE": keys_file()}
            with h.Worker(env=env) as w:
                for _ in range(3):
                    sig = w.generate(TELEMETRY)
                    r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=20.0)
                    h.check(r.status in (200, 500, 503) and isinstance(r.json(), dict),
                            "%s: /job/add %s" % (mode, r.describe()))
                    uid = r.json().get("uid") or h.random_uuid()
                    r = w.get("/job/status/" + uid, timeout=20.0)
                    h.check(r.status in (404, 500, 503) and isinstance(r.json(), dict),
                            "%s: /job/status %s" % (mode, r.describe()))
                    r = w.get("/readyz")
                    h.check(r.status in (200, 503) and isinstance(r.json(), dict),
                            "%s: /readyz %s" % (mode, r.describe()))
                    time.sleep(0.5)
                w.healthy("%s redis" % mode)
            print("  %s: JSON answers, healthy, stopped cleanly" % mode)
        finally:
            bad.close()


REPLY_MAX = 128 * 1024 * 1024 + 1024 * 1024   # store_redis.c: one sealed text at most, plus framing


class FloodRedis(FakeRedisListener):
    """A server on Redis's port that answers the first `floods` connections' first command with
    a bulk string declared 1 GiB long and streams it (1 MiB at a time, `cap` bytes at most, then
    holds the connection), and every later command with an error. sent[i] is what connection i
    sent before the worker closed it (or the cap); cut[i] whether the worker closed it first."""

    def __init__(self, floods, cap):
        self.floods = floods
        self.cap = cap
        self.sent = []
        self.cut = []
        self.conns = []
        self.lock = threading.Lock()
        self.listen(64)

    def connected(self, c):
        with self.lock:
            self.conns.append(c)
            i = len(self.sent)
            flood = i < self.floods
            if flood:
                self.sent.append(0)
                self.cut.append(False)
        threading.Thread(target=self._flood if flood else self._refuse, args=(c, i),
                         daemon=True).start()

    def _flood(self, c, i):
        chunk = b"x" * (1024 * 1024)
        try:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            if c.recv(65536):
                c.sendall(b"$1073741824\r\n")
                while self.sent[i] < self.cap:
                    c.sendall(chunk)
                    with self.lock:
                        self.sent[i] += len(chunk)
                while c.recv(65536):
                    pass
        except OSError:
            with self.lock:
                self.cut[i] = True

    def _refuse(self, c, i):
        try:
            while c.recv(65536):
                c.sendall(b"-ERR flooded enough\r\n")
        except OSError:
            pass


def test_a_redis_flooding_a_reply_is_dropped():
    """Redis (host-controlled, so possibly hostile) answers with a bulk string declared 1 GiB long
    and streams it: hiredis would buffer all of it. The worker drops the connection once it has
    read more than any legitimate answer (one sealed result of 128 MiB plus framing), logs why,
    reconnects with back-off, stays up and answers 503s, and its memory stays bounded."""
    slack = 24 * 1024 * 1024            # socket buffers on both sides
    flood = FloodRedis(floods=1, cap=REPLY_MAX + 3 * slack)
    try:
        env = {"STORE_URL": flood.url(), "SEALING_KEYS_FILE": keys_file()}
        # start-up's first connection reads the flood up to the bound before giving up: seconds
        # under the sanitizers, more on a loaded machine (14 s seen with the suite in parallel)
        with h.Worker(env=env, start_timeout=90.0) as w:
            deadline = time.monotonic() + 60
            while True:
                with flood.lock:
                    if flood.cut and flood.cut[0]:
                        break
                    sent = list(flood.sent)
                h.check(time.monotonic() < deadline, "the worker did not drop the flooding "
                        "connections in 60 s; bytes sent on each: %r" % sent)
                time.sleep(0.1)
            with flood.lock:
                sent = list(flood.sent)
            for n in sent:
                h.check(REPLY_MAX - slack <= n <= REPLY_MAX + slack,
                        "the worker read %d bytes of a flooded reply before dropping it (bound %d)"
                        % (n, REPLY_MAX))
            h.check("reply larger than %d bytes" % REPLY_MAX in w.stderr(),
                    "the drop is not logged:\n%s" % w.stderr()[-1500:])
            r = w.get("/readyz")
            h.check(r.status == 503 and "redis" in r.json()["checks"]["store"],
                    "/readyz %s" % r.describe())
            r = w.post("/job/add", json_body={"encrypted_job": w.generate(TELEMETRY)},
                       timeout=20.0)
            h.expect_json_error(r, 503, "/job/add while redis floods")
            w.healthy("flooding redis")
            with open("/proc/%d/status" % w.proc.pid) as f:
                status = f.read()
            kb = {l.split(":")[0]: int(l.split()[1]) for l in status.splitlines()
                  if l.startswith(("VmRSS:", "VmHWM:"))}
            print("  flooded connection dropped after %d bytes; RSS %d kB, peak %d kB"
                  % (sent[0], kb["VmRSS"], kb["VmHWM"]))
            # the bounded reply, hiredis's copy of it were it complete, and (under ASan) the
            # quarantine of the buffers the reader grew through; an unbounded reader holds 1 GiB
            h.check(kb["VmHWM"] < (2 * REPLY_MAX + 512 * 1024 * 1024) // 1024,
                    "peak RSS %d kB" % kb["VmHWM"])
    finally:
        flood.close()


def test_result_redis_never_takes_does_not_wedge_the_worker():
    """A result Redis will never take (larger than its proto-max-bulk-len: Redis closes the
    connection on it) is given up after a few tries (its job runs again elsewhere, or is abandoned
    after 5 deliveries); it must not be retried forever, holding up the results finished after it
    and making every reconnect arm the back-off that answers /job/add 503."""
    site = Site()
    site.page("/big", "<h1>Big</h1><p>" + "many words here " * 100000 + "</p>")
    with site, Fleet(n=1, MAX_JOBS="1", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        w = f.workers[0]
        f.redis.cmd("CONFIG", "SET", "proto-max-bulk-len", str(1024 * 1024))
        big = w.generate({"type": "web", "arguments": {"url": site.url("/big")}})
        big_uid = w.add(big)
        status_until_done(w, big_uid)             # served from memory
        small = w.generate(TELEMETRY)
        deadline = time.monotonic() + 15
        while True:
            r = w.post("/job/add", json_body={"encrypted_job": small})
            if r.status == 200:
                break
            h.check(r.status == 503 and time.monotonic() < deadline,
                    "/job/add while the big result is tried: %s" % r.describe())
            time.sleep(0.2)
        small_uid = r.json()["uid"]
        while True:     # 503 while a reconnect back-off runs; the job must run and finish
            st = w.get("/job/status/" + small_uid)
            if st.status == 200:
                break
            h.check(st.status in (404, 503) and time.monotonic() < deadline,
                    "status of the job after the big one: %s" % st.describe())
            time.sleep(0.1)
        while f.redis.cmd("EXISTS", "tee-worker:result:" + small_uid) != 1:
            h.check(time.monotonic() < deadline, "the small result was never written:\n%s"
                    % w.stderr()[-1500:])
            time.sleep(0.1)
        h.check_eq(f.redis.cmd("EXISTS", "tee-worker:result:" + big_uid), 0, "big result stored")
        for _ in range(5):
            h.expect_status(w.post("/job/add", json_body={"encrypted_job": w.generate(TELEMETRY)}),
                            200, "/job/add after the result Redis never takes")


def consumers(redis):
    """{name: pending} of the group's consumers, read from Redis."""
    out = {}
    for c in redis.cmd("XINFO", "CONSUMERS", "tee-worker:jobs", "workers") or []:
        d = dict(zip(c[::2], c[1::2]))
        out[d["name"]] = d["pending"]
    return out


def leave_consumers(redis, idle, busy):
    """The group with consumers `idle` (nothing pending) and `busy` (one junk entry pending each),
    as workers that are gone leave them."""
    redis.cmd("XGROUP", "CREATE", "tee-worker:jobs", "workers", "0", "MKSTREAM")
    for name in idle:
        redis.cmd("XGROUP", "CREATECONSUMER", "tee-worker:jobs", "workers", name)
    for name in busy:
        redis.cmd("XADD", "tee-worker:jobs", "*", "uid", "not-a-uid", "job", "junk")
        redis.cmd("XREADGROUP", "GROUP", "workers", name, "COUNT", "1", "STREAMS",
                  "tee-worker:jobs", ">")


def test_consumers_of_workers_gone_are_removed():
    """Every worker id ever used leaves a consumer in the group. A worker removes those idle for
    4 claim delays with nothing pending (here 4 x 2 s), 256 per pass (300 here: two passes); one
    with a pending entry stays until the entry was taken over (the entry is not lost with it); the
    worker's own consumer stays."""
    redis = Redis().start()
    try:
        leave_consumers(redis, idle=["gone-%d" % i for i in range(300)], busy=["gone-busy"])
        time.sleep(8.5)             # idle past 4 claim delays
        env = fleet_env(redis, keys_file(), JOB_TIMEOUT_SECONDS="1",
                        STORE_REDIS_CLAIM_MARGIN_SECONDS="1")
        with h.Worker(env=env) as w:
            me = w.worker_id()
            deadline = time.monotonic() + 15
            while set(consumers(redis)) != {me}:
                h.check(time.monotonic() < deadline, "consumers after 15 s: %r (worker %s)\n%s"
                        % (consumers(redis), me, w.stderr()[-1500:]))
                time.sleep(0.2)
            # the junk entry gone-busy held was taken over and acknowledged away, not dropped
            # from the pending list with its consumer
            h.check_eq(redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length")
            # first pass: 256 of the 300; second: the other 44 and gone-busy, its entry taken over
            h.check("removed 256 consumer(s) of workers gone" in w.stderr() and
                    "removed 45 consumer(s) of workers gone" in w.stderr(),
                    "passes not logged:\n%s" % w.stderr()[-1500:])
            sig, uid, sealed, body = w.run_job(TELEMETRY)      # still takes jobs
            h.check_eq(set(consumers(redis)), {me}, "consumers at the end")
    finally:
        redis.stop()


class XinfoLiar(FakeRedisListener):
    """A TCP proxy to Redis that answers XINFO CONSUMERS itself with `answer` (RESP bytes) and
    passes everything else through."""

    def __init__(self, redis_port, answer):
        self.redis_port = redis_port
        self.answer = answer
        self.lied = 0
        self.listen(16)

    def connected(self, c):
        self._relay(c, lambda d: self._command(c, d), lambda d: d)

    def _command(self, c, data):
        """Worker to Redis: XINFO (one command alone: the worker waits for its answer) is answered
        here with the lie; anything else passes."""
        if b"XINFO" not in data:
            return data
        self.lied += 1
        c.sendall(self.answer)
        return b""


def test_consumer_with_pending_entries_is_never_removed():
    """However Redis describes the consumers (here a proxy claims that gone-busy, which holds a
    pending entry, has none, and adds malformed descriptions), a consumer is removed only if it
    holds no pending entry when it is removed: the removal checks again, atomically."""
    redis = Redis().start()
    long_idle = b":999999999\r\n"

    def consumer(name, pending=b":0\r\n", idle=long_idle):
        return (b"*6\r\n$4\r\nname\r\n$%d\r\n%s\r\n$7\r\npending\r\n%s$4\r\nidle\r\n%s"
                % (len(name), name, pending, idle))
    answer = (b"*6\r\n" + consumer(b"gone-1") + consumer(b"gone-busy") +
              consumer(b"gone-2", pending=b"$1\r\n0\r\n") + consumer(b"gone-3", idle=b":-5\r\n") +
              b":7\r\n" + b"*2\r\n$4\r\nname\r\n$6\r\ngone-4\r\n")
    proxy = XinfoLiar(redis.port, answer)
    try:
        leave_consumers(redis, idle=["gone-1", "gone-2", "gone-3", "gone-4"], busy=["gone-busy"])
        env = fleet_env(redis, keys_file(), STORE_REDIS_CLAIM_MARGIN_SECONDS="600")
        env["STORE_URL"] = proxy.url()
        with h.Worker(env=env) as w:
            deadline = time.monotonic() + 15
            while "gone-1" in consumers(redis):
                h.check(time.monotonic() < deadline, "gone-1 not removed in 15 s:\n%s"
                        % w.stderr()[-1500:])
                time.sleep(0.2)
            h.check(proxy.lied >= 1, "the worker's XINFO did not go through the proxy")
            left = consumers(redis)
            h.check_eq(left.get("gone-busy"), 1, "gone-busy and its pending entry (%r)" % left)
            for name in ("gone-2", "gone-3", "gone-4"):    # described malformed: left alone
                h.check(name in left, "%s removed: %r" % (name, left))
            h.check("removed 1 consumer(s) of workers gone" in w.stderr(),
                    "the removal should count gone-1 only:\n%s" % w.stderr()[-1500:])
            h.check_eq(len(redis.cmd("XPENDING", "tee-worker:jobs", "workers", "-", "+", "10")
                           or []), 1, "pending entries")
    finally:
        proxy.close()
        redis.stop()


def test_jobs_whose_delivery_is_lost_run_without_waiting_for_the_claim_delay():
    """Redis gives a job to the worker (XREADGROUP moves it to the worker's pending list) but the
    answer is lost (the connection drops): the worker must read its own pending entries again,
    not leave the job idle until it may be taken over (JOB_TIMEOUT + margin, 330 s by default)."""
    redis = Redis().start()
    proxy = LostReplyProxy(redis.port, trigger=b"$1\r\n>\r\n", answer=b"*1\r\n")
    try:
        env = fleet_env(redis, keys_file(), JOB_TIMEOUT_SECONDS="10",
                        STORE_REDIS_CLAIM_MARGIN_SECONDS="600")
        env["STORE_URL"] = proxy.url()
        with h.Worker(env=env) as w:
            sig = w.generate(TELEMETRY)
            uid = w.add(sig)
            deadline = time.monotonic() + 15
            while True:
                st = w.get("/job/status/" + uid)
                if st.status == 200:
                    break
                h.check(st.status in (404, 503) and time.monotonic() < deadline,
                        "job whose delivery was lost: %s" % st.describe())
                time.sleep(0.1)
            h.check_eq(proxy.dropped, 1, "deliveries the proxy dropped")
            h.expect_status(w.result(st.text, sig), 200, "result")
            time.sleep(0.5)
            h.check_eq(redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")
    finally:
        proxy.close()
        redis.stop()


def test_reading_own_entries_again_does_not_count_as_deliveries():
    """After a lost answer the worker reads its own pending entries again; Redis counts every such
    read as one more delivery of each entry, the one the worker is running included. Those counts
    decide when a job is abandoned (given out more than 5 times): re-reads that run nothing must
    not raise them, else a job running while the connection failed a few times would be abandoned
    at its first real redelivery."""
    redis = Redis().start()
    proxy = LostReplyProxy(redis.port, trigger=b"$1\r\n>\r\n")
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=12.0)
    try:
        env = fleet_env(redis, keys_file(), MAX_JOBS="2", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                        WEBSCRAPER_ALLOW_PRIVATE="true")
        env["STORE_URL"] = proxy.url()
        with site, h.Worker(env=env) as w:
            with proxy.lock:
                proxy.armed = False
            sig = w.generate({"type": "web", "arguments": {"url": site.url("/slow")}})
            uid = w.add(sig)
            deadline = time.monotonic() + 10
            while site.count("/slow") < 1:          # running: the page is being fetched
                h.check(time.monotonic() < deadline, "the job never fetched its page")
                time.sleep(0.02)
            for drop in range(1, 4):                # three answers lost while it runs
                with proxy.lock:
                    proxy.armed = True
                while proxy.dropped < drop:
                    h.check(time.monotonic() < deadline + 10, "answer %d never dropped" % drop)
                    time.sleep(0.02)
            time.sleep(1.0)                         # the re-read after the last loss
            pending = redis.cmd("XPENDING", "tee-worker:jobs", "workers", "-", "+", "10")
            h.check_eq(len(pending), 1, "pending entries: %r" % pending)
            h.check_eq(pending[0][3], 1, "delivery count of the job running since its only "
                       "delivery, after 3 lost answers and re-reads")
            st = status_until_done(w, uid, timeout=20)
            h.expect_status(w.result(st.text, sig), 200, "result")
            h.check_eq(site.count("/slow"), 1, "fetches: the job ran once")
    finally:
        proxy.close()
        redis.stop()


def test_redis_killed_while_a_result_waits_does_not_run_the_job_twice():
    """Redis dies while the worker's feeder waits on it (so the worker reads its own pending
    entries again once Redis is back) and a job finishes meanwhile: its entry is still pending in
    Redis but its result waits in the worker; it must not be run a second time."""
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=1.5)
    with site, Fleet(n=1, JOB_TIMEOUT_SECONDS="10", STORE_REDIS_CLAIM_MARGIN_SECONDS="600",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        w, uid = finish_a_job_while_redis_is_down(f, site)
        f.redis.start()
        deadline = time.monotonic() + 15
        while f.redis.cmd("EXISTS", "tee-worker:result:" + uid) != 1:
            h.check(time.monotonic() < deadline, "result never written")
            time.sleep(0.1)
        time.sleep(2.0)
        h.check_eq(site.count("/slow"), 1, "fetches: the job ran once")
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


def adder(w, sigs, accepted, refused, lock, stop):
    for sig in sigs:
        if stop.is_set():
            return
        try:
            r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=10.0)
        except OSError:
            continue
        with lock:
            if r.status == 200:
                accepted.append((r.json()["uid"], sig))
            else:
                refused.append((r.status, r.header("Retry-After"), r.body[:200]))
        time.sleep(0.01 if r.status == 200 else 0.1)


def test_redis_restart_loses_no_acknowledged_job():
    site = Site()
    site.page("/slow", "<h1>Slow page</h1>", delay=0.5)
    with site, Fleet(JOB_TIMEOUT_SECONDS="5", STORE_REDIS_CLAIM_MARGIN_SECONDS="1", MAX_JOBS="2",
                     WEBSCRAPER_ALLOW_PRIVATE="true") as f:
        ws = f.workers
        accepted, refused, lock, stop = [], [], threading.Lock(), threading.Event()
        sigs = [ws[i % 3].generate(TELEMETRY) for i in range(1500)]
        # a backlog of slow jobs, so some are queued or running when redis dies
        slow = [ws[i % 3].generate({"type": "web", "arguments": {"url": site.url("/slow")}})
                for i in range(36)]
        for i, sig in enumerate(slow):
            accepted.append((ws[(i + 1) % 3].add(sig), sig))
        threads = [threading.Thread(target=adder, args=(ws[i], sigs[i::3], accepted, refused,
                                                         lock, stop)) for i in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while True:
            with lock:
                if len(accepted) >= 36 + 30:
                    break
            if time.monotonic() > deadline:
                stop.set()
                h.fail("only %d jobs accepted in 60 s; refusals: %r" % (len(accepted), refused[:3]))
            time.sleep(0.01)
        backlog = f.redis.cmd("XLEN", "tee-worker:jobs")
        f.redis.kill()          # SIGKILL: only what was fsynced to the AOF survives
        with lock:
            before = len(accepted)
        h.check(backlog > 0, "no job was queued or running when redis was killed")
        time.sleep(0.3)
        r = ws[0].get("/readyz")
        doc = r.json()
        h.check(r.status == 503 and not doc.get("ready"), "/readyz with redis down: %s" % r.describe())
        h.check("redis" in doc["checks"].get("store", ""),
                "/readyz checks.store should name redis: %r" % doc["checks"])
        r = ws[1].post("/job/add", json_body={"encrypted_job": ws[1].generate(TELEMETRY)})
        h.expect_json_error(r, 503, "/job/add with redis down")
        h.check(r.header("Retry-After"), "/job/add 503 without Retry-After")
        r = ws[2].get("/job/status/" + h.random_uuid())   # not in this worker's memory
        h.expect_json_error(r, 503, "/job/status needing redis while it is down")
        h.check(r.header("Retry-After"), "/job/status 503 without Retry-After")
        time.sleep(1.0)
        f.redis.start()         # same port, same dir: the AOF is replayed
        deadline = time.monotonic() + 30
        while True:
            with lock:
                if len(accepted) >= before + 60:
                    break
            if time.monotonic() > deadline:
                h.fail("the workers accepted no jobs again after redis came back")
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        h.check(any(s == 503 for s, _, _ in refused),
                "no 503 while redis was down: %r" % refused[:3])
        h.check(all(s == 503 and ra for s, ra, _ in refused),
                "refusals other than 503 + Retry-After: %r" % [x for x in refused if x[0] != 503][:3])
        print("  %d jobs acknowledged (%d before the kill, %d of them pending in redis), %d "
              "refused with 503 + Retry-After" % (len(accepted), before, backlog, len(refused)))
        # Every worker, not one: each has its own reconnect back-off (up to 5 s), so one may
        # still be waiting to try again when another already took jobs.
        deadline = time.monotonic() + 30
        for w in ws:
            while True:
                r = w.get("/readyz")
                if r.status == 200 and r.json()["checks"]["store"] == "ok":
                    break
                if time.monotonic() > deadline:
                    h.fail("/readyz of port %d not ready 30 s after redis came back: %s"
                           % (w.port, r.describe()))
                time.sleep(0.2)
        for i, (uid, sig) in enumerate(accepted):
            w = ws[i % 3]
            st = status_until_done(w, uid, timeout=40)
            r = ws[(i + 1) % 3].result(st.text, sig)
            h.expect_status(r, 200, "result of acknowledged job %s" % uid)
        h.check_eq(f.redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")


def test_redis_down_at_start_up_then_back():
    """A worker started while Redis is down starts not ready (503s, not an exit), and once Redis
    comes up it creates the group, takes jobs and serves them without a restart."""
    redis = Redis()
    try:
        with h.Worker(env=fleet_env(redis, keys_file())) as w:
            sig = w.generate(TELEMETRY)
            r = w.get("/readyz")
            h.check(r.status == 503 and "redis" in r.json()["checks"]["store"],
                    "/readyz before redis is up: %s" % r.describe())
            r = w.post("/job/add", json_body={"encrypted_job": sig})
            h.expect_json_error(r, 503, "/job/add before redis is up")
            h.check(r.header("Retry-After"), "503 without Retry-After")
            redis.start()
            deadline = time.monotonic() + 15
            while w.get("/readyz").status != 200:
                h.check(time.monotonic() < deadline, "not ready 15 s after redis came up")
                time.sleep(0.1)
            uid = w.add(sig)      # the signature refused with 503 was not consumed
            st = status_until_done(w, uid)
            h.expect_status(w.result(st.text, sig), 200, "result once redis is up")
            h.check_eq(redis.cmd("XLEN", "tee-worker:jobs"), 0, "stream length at the end")
    finally:
        redis.stop()


def test_password_and_database():
    """AUTH with a password from the URL (percent-encoded '@'), SELECT of database 3, a custom key
    prefix; a wrong password leaves the worker not ready, naming AUTH."""
    redis = Redis(password="s3cret@x").start()
    try:
        keys = keys_file()
        env = {"STORE_URL": "redis://:s3cret%%40x@127.0.0.1:%d/3" % redis.port,
               "SEALING_KEYS_FILE": keys, "STORE_REDIS_PREFIX": "fleet-a:"}
        with h.Worker(env=env) as w:
            sig, uid, sealed, body = w.run_job(TELEMETRY)
            h.check(b"worker_version" in body, "not a telemetry document: %r" % body[:100])
            # the worker that ran the job answers from memory; its store's writer sends the result
            # to Redis on its own time
            deadline = time.monotonic() + 5
            while redis.cmd("EXISTS", "fleet-a:result:" + uid, db=3) != 1:
                h.check(time.monotonic() < deadline, "no result key in database 3 under the prefix")
                time.sleep(0.05)
            h.check(redis.cmd("EXISTS", "fleet-a:result:" + uid) == 0, "result key in database 0")
            h.check("s3cret" not in w.stderr(), "the password appears in the log")
            r = w.get("/readyz")
            h.expect_status(r, 200, "/readyz with the right password")
        env["STORE_URL"] = "redis://:wrong@127.0.0.1:%d/3" % redis.port
        with h.Worker(env=env) as w:
            r = w.get("/readyz")
            doc = r.json()
            h.check(r.status == 503 and "AUTH" in doc["checks"]["store"],
                    "/readyz with a wrong password: %s" % r.describe())
            r = w.post("/job/add", json_body={"encrypted_job": w.generate(TELEMETRY)})
            h.expect_json_error(r, 503, "/job/add with a wrong password")
    finally:
        redis.stop()


def test_sealing_keys_file_checks():
    redis = Redis().start()
    try:
        loose = keys_file(mode=0o644)
        rc, out = h.run_binary({"STANDALONE": "true", "DATA_DIR": h.mkdtemp("tw-data-"),
                                "LISTEN_ADDRESS": "127.0.0.1:%d" % h.free_port(),
                                "STORE_URL": redis.url(), "SEALING_KEYS_FILE": loose})
        h.check(rc != 0, "a 0644 SEALING_KEYS_FILE was accepted")
        h.check("0644" in out and "0600" in out, "the refusal should name the modes: %r" % out[-400:])
        rc, out = h.run_binary({"STANDALONE": "true", "DATA_DIR": h.mkdtemp("tw-data-"),
                                "LISTEN_ADDRESS": "127.0.0.1:%d" % h.free_port(),
                                "STORE_URL": redis.url()})
        h.check(rc != 0, "a shared store without SEALING_KEYS_FILE was accepted")
        h.check("SEALING_KEYS_FILE" in out, "the refusal should name SEALING_KEYS_FILE: %r" % out[-400:])
        rc, out = h.run_binary({"STANDALONE": "true", "DATA_DIR": h.mkdtemp("tw-data-"),
                                "LISTEN_ADDRESS": "127.0.0.1:%d" % h.free_port(),
                                "STORE_URL": "rediss://127.0.0.1:%d" % redis.port,
                                "SEALING_KEYS_FILE": keys_file()})
        h.check(rc != 0 and "TLS" in out, "rediss:// should be refused naming TLS: %r" % out[-400:])
    finally:
        redis.stop()


if __name__ == "__main__":
    h.main(globals())
