"""harness.py - shared helpers for the end-to-end tests (Python 3 standard library only).

The tests start the real worker binary (path in TW_BINARY) on a free port of 127.0.0.1 with a fresh
DATA_DIR, talk HTTP/1.1 to it, and stop it with SIGTERM. A worker that does not exit with status 0
within 10 s of SIGTERM fails the test (an AddressSanitizer/UBSan/LeakSanitizer report makes the
process exit non-zero, and its stderr is printed).

Each test file defines test_* functions and ends with `harness.main(globals())`; run a subset with
`python3 test_x.py test_a test_b`.
"""
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HOST = "127.0.0.1"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 30.0 if os.environ.get("TW_VALGRIND") == "1" else 10.0
# How much longer a job may take under valgrind (~20x slower on CPU-bound work such as parsing a
# 5 MiB page) before wait_status gives up; 1 otherwise, so the ASan run fails as fast as before.
JOB_TIMEOUT_SCALE = 10.0 if os.environ.get("TW_VALGRIND") == "1" else 1.0

# Variables passed through from the test environment; everything else is dropped so that stray
# worker configuration (API_KEY, MAX_JOBS, ...) in the caller's environment cannot leak in.
PASSTHROUGH_VARS = ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
                    "MSAN_OPTIONS", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")
# memcheck's error lines (TW_VALGRIND=1): "==PID== Invalid read of size 8" and the like. Its other
# lines (warnings about large allocations, unhandled ioctls) are not errors.
MEMCHECK_ERROR_RE = re.compile(
    r"^==\d+== (Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised"
    r"|Syscall param|Source and destination overlap|.* are (definitely|indirectly) lost"
    r"|Process terminating)", re.M)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

_temp_dirs = []


class TestFailure(AssertionError):
    pass


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def check_eq(got, want, what):
    if got != want:
        fail("%s: expected %r, got %r" % (what, want, got))


# ---------------------------------------------------------------------------------------------
# environment


def binary():
    path = os.environ.get("TW_BINARY")
    if not path:
        fail("TW_BINARY is not set (path of the tee-worker binary)")
    if not os.access(path, os.X_OK):
        fail("TW_BINARY=%s is not an executable file" % path)
    return path


# With TW_VALGRIND=1 every long-running worker runs under valgrind's memcheck: an invalid access or a
# definite leak makes it exit 99 at SIGTERM, which Worker.stop reports as a failure. tests/valgrind.supp
# holds the system libraries' known false positives (each with the reason).
VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
            "--suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                             "valgrind.supp")]


def valgrind_prefix():
    """The argv prefix that runs a program under memcheck when TW_VALGRIND=1, else []."""
    return list(VALGRIND) if os.environ.get("TW_VALGRIND") == "1" else []


def command():
    return valgrind_prefix() + [binary()]


def preload_env(library):
    """The LD_PRELOAD value that loads `library` (a test-only shim) into the worker. In a build
    that links the AddressSanitizer runtime dynamically, that runtime must come first in the list
    of loaded libraries (it refuses to start otherwise), so it is named first."""
    out = subprocess.run(["ldd", binary()], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=base_env(), check=False).stdout.decode("utf-8", errors="replace")
    first = [m.group(1) for m in re.finditer(r"^\s*lib(?:asan|clang_rt\.asan)[^ ]* => (\S+)", out,
                                             re.MULTILINE)]
    return ":".join(first[:1] + [library])


def stall_io_library():
    """The path of the stall_io shim (tests/e2e/fakes/stall_io.c) that tests/meson.build builds
    and names in TW_STALL_IO: preloaded, it holds the store's writes while a file exists."""
    path = os.environ.get("TW_STALL_IO")
    check(path and os.path.exists(path),
          "TW_STALL_IO (the stall_io shim built by tests/meson.build) is not set or missing: %r"
          % path)
    return path


def vectors():
    path = os.environ.get("TW_VECTORS")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "vectors", "sealing.json")
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def mkdtemp(prefix="tw-e2e-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _temp_dirs.append(d)
    return d


def _ephemeral_ports():
    """The kernel's range of ports for outgoing connections (and for bind to port 0)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", "r", encoding="ascii") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now, taken below the kernel's
    ephemeral range: a port from that range (bind to port 0) can be handed meanwhile to an
    outgoing connection of any process as its local port, and the worker, started seconds later
    under load, then fails with "Address already in use"."""
    low, _ = _ephemeral_ports()
    first, last = 10000, low - 1
    for _ in range(200 if last - first >= 1000 else 0):
        port = random.randint(first, last)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def read_until_closed(sock):
    """Every byte sock receives until the other side closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def read_until_ended(sock):
    """Every byte sock receives until the connection ends: (data, how), how being "closed" (the
    other side closed it), "reset" (it reset it) or "timeout" (the socket's timeout passed first,
    the connection still open)."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, "closed"
            data += chunk
    except socket.timeout:
        return data, "timeout"
    except ConnectionResetError:
        return data, "reset"


def post_bodies_held_together(port, path, body, count, extra_headers=b""):
    """Sends count POST requests of body on count connections, each whole but its last byte, a
    0.2 s pause after each (for the worker to read it), so that all of them are held by the worker
    at once; then the last bytes, and returns the count answers (read until each connection
    closes). extra_headers: header lines, each ending in CRLF."""
    socks, answers = [], []
    try:
        for _ in range(count):
            s = socket.create_connection((HOST, port), timeout=10)
            s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra_headers +
                      b"Content-Type: application/json\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            s.sendall(body[:-1])
            socks.append(s)
            time.sleep(0.2)
        for s in socks:
            s.sendall(body[-1:])
            answers.append(read_until_closed(s))
    finally:
        for s in socks:
            s.close()
    return answers


def base_env():
    env = {}
    for k in PASSTHROUGH_VARS:
        if k in os.environ:
            env[k] = os.environ[k]
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def _die_with_parent():
    """preexec_fn: have the kernel SIGKILL the worker if this test process dies (e.g. killed by a
    meson timeout), so no worker outlives its test."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort (non-Linux)
        pass


def proc_status(path):
    """The "Name:\tvalue" lines of a /proc status file, as a dict."""
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def threads_of(pid):
    """Each of pid's threads as a dict: "tid", "name", "cpus" (Cpus_allowed_list) and "policy"
    (its scheduling policy, /proc/PID/task/TID/stat field 41: 0 SCHED_OTHER, 3 SCHED_BATCH)."""
    threads = []
    for tid in os.listdir("/proc/%d/task" % pid):
        task = "/proc/%d/task/%s/" % (pid, tid)
        try:
            status = proc_status(task + "status")
            with open(task + "stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()   # fields 3.. after "pid (comm)"
        except FileNotFoundError:
            continue                                        # the thread ended meanwhile
        threads.append({"tid": int(tid), "name": status["Name"],
                        "cpus": status["Cpus_allowed_list"], "policy": int(fields[41 - 3])})
    return threads


def sanitizer_report(text):
    """Whether a worker's stderr holds a sanitizer's or memcheck's error report."""
    return any(m in text for m in SANITIZER_MARKERS) or bool(MEMCHECK_ERROR_RE.search(text))


# ---------------------------------------------------------------------------------------------
# HTTP


class Response:
    """status, headers (case-insensitive .get), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def __iter__(self):  # allows: status, headers, body = http_request(...)
        return iter((self.status, self.headers, self.body))

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception as e:  # noqa: BLE001
            fail("response body is not JSON (%s): %r" % (e, self.body[:300]))

    def describe(self):
        return "%d %s %r" % (self.status, self.headers.get("Content-Type"), self.body[:400])


def http_request(port, method, path, body=None, headers=None, json_body=None, timeout=15.0,
                 host=HOST):
    """One request on a fresh connection. body: bytes/str; json_body: an object sent as
    application/json (unless headers say otherwise). Returns a Response (iterable as a
    (status, headers, body) triple)."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data)
    finally:
        conn.close()


def expect_status(resp, status, what):
    if resp.status != status:
        fail("%s: expected HTTP %d, got %s" % (what, status, resp.describe()))
    return resp


def expect_json_error(resp, status, what, message=None, prefix=None):
    """resp must have the given status, Content-Type application/json and a JSON object body
    with a string "error" member (equal to message / starting with prefix when given)."""
    expect_status(resp, status, what)
    ctype = resp.header("Content-Type", "")
    check(ctype.split(";")[0].strip() == "application/json",
          "%s: Content-Type should be application/json, got %r" % (what, ctype))
    doc = resp.json()
    check(isinstance(doc, dict), "%s: body is not a JSON object: %r" % (what, resp.body))
    err = doc.get("error")
    check(isinstance(err, str) and err, "%s: no non-empty \"error\" member in %r" % (what, resp.body))
    if message is not None:
        check_eq(err, message, what + ": error text")
    if prefix is not None:
        check(err.startswith(prefix), "%s: error should start with %r, got %r" % (what, prefix, err))
    return doc


# ---------------------------------------------------------------------------------------------
# the worker process


class Worker:
    """A running tee-worker. Use as a context manager: `with Worker() as w: ...`; leaving the block
    stops it and asserts a clean exit (status 0, no sanitizer report)."""

    def __init__(self, env=None, data_dir=None, standalone=True, port=None, api_key=None,
                 start_timeout=START_TIMEOUT_S):
        self.start_timeout = start_timeout
        self.data_dir = data_dir or mkdtemp("tw-data-")
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        if api_key is not None:
            self.extra_env["API_KEY"] = api_key
        self.standalone = standalone
        self.proc = None
        self.log_path = None
        self._log_file = None

    # environment actually given to the process
    def environment(self):
        env = base_env()
        env["DATA_DIR"] = self.data_dir
        env["LISTEN_ADDRESS"] = "%s:%d" % (HOST, self.port)
        env["LOG_LEVEL"] = "debug"
        if self.standalone:
            env["STANDALONE"] = "true"
        for k, v in self.extra_env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def start(self, wait=True):
        """Starts the process; with wait, returns once /healthz answers 200."""
        if self.log_path:   # a restart: the previous process's log is no longer needed
            try:
                os.unlink(self.log_path)
            except OSError:
                pass
        fd, self.log_path = tempfile.mkstemp(prefix="tw-stderr-", suffix=".log")
        os.close(fd)
        self._log_file = open(self.log_path, "wb")
        # cwd = DATA_DIR so that a stray ./.env in the test's directory is never read.
        self.proc = subprocess.Popen(command(), env=self.environment(), cwd=self.data_dir,
                                     stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        if wait:
            self.wait_healthy(self.start_timeout)
        return self

    def stderr(self):
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    # how wait_healthy's failure names the transport ("" for plain HTTP; a subclass whose
    # request() speaks another, e.g. " over HTTPS", says so)
    transport_note = ""

    def wait_healthy(self, timeout=START_TIMEOUT_S):
        """Polls GET /healthz through self.request until it answers 200; fails the test when the
        worker exits or the time runs out."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                fail("worker exited with status %d during start-up; stderr:\n%s"
                     % (rc, self.stderr()))
            try:
                r = self.request("GET", "/healthz", timeout=2.0)
                if r.status == 200:
                    return
                last = r.describe()
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        self.kill()
        fail("worker did not answer /healthz%s within %.0f s (last: %s); stderr:\n%s"
             % (self.transport_note, timeout, last, self.stderr()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, check_exit=True, check_report=None):
        """SIGTERM, wait up to 10 s; with check_exit, assert status 0. With check_report (by
        default check_exit), assert no sanitizer or memcheck report in stderr: a worker a test
        killed or expects to fail is still checked for one."""
        if check_report is None:
            check_report = check_exit
        if not self.proc:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
                self._close_log()
                if check_exit:
                    fail("worker did not exit within %.0f s of SIGTERM; stderr:\n%s"
                         % (STOP_TIMEOUT_S, self.stderr()))
                rc = None
        self._close_log()
        text = self.stderr()
        if check_exit:
            if rc != 0:
                fail("worker exited with status %d after SIGTERM (expected 0); stderr:\n%s"
                     % (rc, text))
        if check_report and sanitizer_report(text):
            fail("sanitizer report in the worker's stderr:\n%s" % text)
        return rc

    def _close_log(self):
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def restart(self):
        """Stop (checked) and start again with the same DATA_DIR, port and environment."""
        self.stop()
        self.start()
        return self

    def __enter__(self):
        if not self.proc:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            rc = self.stop(check_exit=False)
            text = self.stderr()
            sys.stdout.write("---- worker stderr (port %d, exit %r) ----\n%s\n----\n"
                             % (self.port, rc, text[-6000:]))
        if self.log_path:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass
        return False

    # conveniences

    def request(self, method, path, **kw):
        return http_request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def healthy(self, what=""):
        """Assert the server is still up: /healthz answers 200."""
        check(self.proc.poll() is None,
              "worker died%s (status %r); stderr:\n%s" % (" after " + what if what else "",
                                                          self.proc.poll(), self.stderr()))
        r = self.get("/healthz")
        check(r.status == 200, "/healthz after %s: %s" % (what, r.describe()))

    def worker_id(self):
        """The worker id this process logged at start-up (the DATA_DIR-backed identity)."""
        # The start-up line is written just after the listener opens, so /healthz may answer a
        # moment before it is in the log: wait for it.
        pattern = r"worker id ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
        deadline = time.monotonic() + 5.0
        while True:
            ids = re.findall(pattern, self.stderr())
            if ids or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        check(ids, "no 'worker id <uuid>' line in the worker's stderr:\n%s" % self.stderr()[-3000:])
        return ids[-1]

    # the job flow

    def generate(self, job, headers=None):
        r = self.post("/job/generate", json_body=job, headers=headers)
        expect_status(r, 200, "POST /job/generate %s" % json.dumps(job))
        ctype = r.header("Content-Type", "")
        check(ctype.startswith("text/plain"), "/job/generate Content-Type: %r" % ctype)
        sig = r.text
        check(sig and "\n" not in sig, "/job/generate body is not one line of text: %r" % r.body[:200])
        return sig

    def add(self, signature, headers=None):
        r = self.post("/job/add", json_body={"encrypted_job": signature}, headers=headers)
        expect_status(r, 200, "POST /job/add")
        ctype = r.header("Content-Type", "")
        check(ctype.split(";")[0] == "application/json", "/job/add Content-Type: %r" % ctype)
        doc = r.json()
        uid = doc.get("uid") if isinstance(doc, dict) else None
        check(isinstance(uid, str) and UUID_RE.match(uid), "/job/add uid is not a UUIDv4: %r" % r.body)
        return uid

    def wait_status(self, uid, timeout=15.0, headers=None):
        """Poll /job/status/<uid> until it is not 404; asserts the pending 404 shape. Returns the
        final Response (200 sealed result, or 500 on failure). timeout is stretched by
        JOB_TIMEOUT_SCALE under valgrind."""
        timeout *= JOB_TIMEOUT_SCALE
        deadline = time.monotonic() + timeout
        while True:
            r = self.get("/job/status/" + uid, headers=headers)
            if r.status != 404:
                return r
            doc = expect_json_error(r, 404, "pending /job/status", message="Job not found")
            check(doc.get("status") in ("queued", "running"),
                  "pending /job/status: status member should be queued/running, got %r" % r.body)
            if time.monotonic() > deadline:
                fail("job %s still pending after %.0f s: %s" % (uid, timeout, r.describe()))
            time.sleep(0.05)

    def result(self, encrypted_result, encrypted_request, headers=None):
        return self.post("/job/result", json_body={"encrypted_result": encrypted_result,
                                                   "encrypted_request": encrypted_request},
                         headers=headers)

    def run_job(self, job, headers=None):
        """generate + add + status + result. Returns (signature, uid, sealed result, clear bytes)."""
        sig = self.generate(job, headers=headers)
        uid = self.add(sig, headers=headers)
        st = self.wait_status(uid, headers=headers)
        expect_status(st, 200, "GET /job/status/%s" % uid)
        check(st.header("Content-Type", "").startswith("text/plain"),
              "/job/status Content-Type: %r" % st.header("Content-Type"))
        sealed = st.text
        r = self.result(sealed, sig, headers=headers)
        expect_status(r, 200, "POST /job/result")
        return sig, uid, sealed, r.body

    def run_paged_job(self, job, timeout=20.0):
        """The four-step flow for a job that may page. Returns (clear result bytes, the opened
        X-Next-Cursor text or None when the status carried no cursor)."""
        sig = self.generate(job)
        uid = self.add(sig)
        st = self.wait_status(uid, timeout=timeout)
        expect_status(st, 200, "job status for %s" % json.dumps(job))
        r = self.result(st.text, sig)
        expect_status(r, 200, "/job/result")
        cursor = None
        if st.header("X-Next-Cursor"):
            c = self.result(st.header("X-Next-Cursor"), sig)
            expect_status(c, 200, "/job/result on X-Next-Cursor")
            cursor = c.text
        return r.body, cursor

    def run_failing_job(self, job, timeout=20.0):
        """Runs job and expects it to fail (status 500 with {"error": ...}); returns the error
        text."""
        uid = self.add(self.generate(job))
        doc = expect_json_error(self.wait_status(uid, timeout=timeout), 500,
                                "failed job %s" % json.dumps(job))
        return doc["error"]

    def capabilities_and_stats(self):
        """Runs a telemetry job; returns (reported_capabilities, this worker's stats or {})."""
        _, _, _, body = self.run_job({"type": "telemetry", "arguments": {}})
        doc = json.loads(body.decode("utf-8"))
        return doc["reported_capabilities"], doc["stats"].get(self.worker_id(), {})


def distributor_pubkey_file():
    """A fresh file holding the test vectors' key-distributor public key (PEM), for
    KEY_DISTRIBUTOR_PUBKEY."""
    path = os.path.join(mkdtemp("tw-kd-"), "distributor.pub")
    with open(path, "w", encoding="ascii") as f:
        f.write(vectors()["setkey"]["distributor_public_key_pem"])
    return path


def run_binary(env, timeout=15.0, cwd=None):
    """Run the binary to completion with exactly env (plus passthrough vars); returns
    (exit status, combined stdout+stderr text). Fails when it is still running after timeout.
    Under TW_VALGRIND=1 it runs under memcheck too (an error or leak on the way out turns the
    status into 99) and the timeout is stretched by JOB_TIMEOUT_SCALE."""
    full = base_env()
    full.update(env)
    full = {k: v for k, v in full.items() if v is not None}
    cwd = cwd or mkdtemp("tw-cwd-")
    timeout *= JOB_TIMEOUT_SCALE
    try:
        p = subprocess.run(command(), env=full, cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode("utf-8", errors="replace")
        fail("worker still running after %.0f s with %r (expected it to refuse to start); "
             "output:\n%s" % (timeout, env, out))
    return p.returncode, p.stdout.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# sealed-text helpers (no AES in the stdlib: only envelope manipulation)


def tamper_ciphertext(sealed):
    """Flip one bit of the AES-GCM ciphertext inside a ring-mode envelope B64(B64(IV||ct||tag)),
    keeping both base64 layers valid, so that only authentication can fail."""
    inner = base64.b64decode(sealed, validate=True)
    blob = bytearray(base64.b64decode(inner, validate=True))
    check(len(blob) > 28, "sealed value too short to tamper with: %d bytes" % len(blob))
    blob[12] ^= 0x01
    return base64.b64encode(base64.b64encode(bytes(blob))).decode("ascii")


def random_uuid():
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------------------------
# the runner


def main(namespace):
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    wanted = sys.argv[1:]
    if wanted:
        tests = [(n, f) for n, f in tests if n in wanted]
    failed = 0
    t_all = time.monotonic()
    for name, fn in tests:
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            failed += 1
            detail = str(e) if isinstance(e, TestFailure) else "%s: %s" % (type(e).__name__, e)
            print("FAIL %s: %s" % (name, detail))
            if not isinstance(e, TestFailure):
                traceback.print_exc(file=sys.stdout)
        else:
            print("ok %s" % name)
        sys.stdout.flush()
    for d in _temp_dirs:
        shutil.rmtree(d, ignore_errors=True)
    print("%d/%d passed in %.1f s" % (len(tests) - failed, len(tests), time.monotonic() - t_all))
    sys.exit(1 if failed else 0)
