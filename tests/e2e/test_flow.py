#!/usr/bin/env python3
"""test_flow.py - the README's four-step flow in standalone mode with a telemetry job, plus the
generic HTTP behaviour (health, readiness, log level, 404/405/OPTIONS).

core-protocol.md sections 0, 1, 2; DECISIONS.md (pending 404 carries "status"; capabilities have no
empty names; every error body has "error")."""
import calendar
import collections
import json
import os
import re
import subprocess
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status, fail

TELEMETRY_JOB = {"type": "telemetry", "arguments": {}}
TELEMETRY_KEYS = ["boot_time", "last_operation_time", "current_time", "worker_id", "stats",
                  "reported_capabilities", "worker_version", "application_version"]


def app_version():
    out = subprocess.run([harness.binary(), "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=10, env=harness.base_env())
    text = out.stdout.decode().strip()
    check(out.returncode == 0 and text.startswith("tee-worker "),
          "--version: status %d, output %r" % (out.returncode, text))
    return text.split(" ", 1)[1]


def check_telemetry(body, worker_id):
    """body: the clear /job/result bytes of a telemetry job. Returns the parsed document."""
    try:
        pairs = json.loads(body.decode("utf-8"), object_pairs_hook=lambda kv: kv)
        doc = json.loads(body.decode("utf-8"))
    except ValueError as e:
        fail("telemetry result is not JSON (%s): %r" % (e, body[:300]))
    check(isinstance(doc, dict), "telemetry result is not an object: %r" % body[:300])
    check_eq([k for k, _ in pairs], TELEMETRY_KEYS, "telemetry member order")
    now = time.time()
    for k in ("boot_time", "last_operation_time", "current_time"):
        check(isinstance(doc[k], int) and not isinstance(doc[k], bool),
              "telemetry %s should be an integer (Unix seconds): %r" % (k, doc[k]))
    check(abs(doc["current_time"] - now) < 120, "current_time %r is not now (%d)" % (doc["current_time"], now))
    check(doc["boot_time"] <= doc["current_time"], "boot_time after current_time: %r" % doc)
    check(now - doc["boot_time"] < 600, "boot_time %r is not this process's start" % doc["boot_time"])
    check_eq(doc["worker_id"], worker_id, "telemetry worker_id (the DATA_DIR identity)")
    check(isinstance(doc["stats"], dict), "telemetry stats should be an object: %r" % doc["stats"])
    for wid, counters in doc["stats"].items():
        check(isinstance(counters, dict), "stats[%r] should be an object: %r" % (wid, counters))
        for name, n in counters.items():
            check(isinstance(n, int) and n >= 0, "stats[%r][%r] = %r" % (wid, name, n))
    check_eq(doc["reported_capabilities"], {"telemetry": ["telemetry"], "tiktok": ["transcription"], "web": ["scraper"]}, "reported_capabilities")
    for kind, caps in doc["reported_capabilities"].items():
        check(all(isinstance(c, str) and c for c in caps), "empty capability name in %r" % caps)
    check_eq(doc["worker_version"], "beta", "worker_version")
    check_eq(doc["application_version"], app_version(), "application_version (= tee-worker --version)")
    return doc


def test_four_step_flow_and_identity_across_restart():
    with Worker() as w:
        wid = w.worker_id()
        check(harness.UUID_RE.match(wid), "worker id is not a UUIDv4: %r" % wid)
        check(os.path.isfile(os.path.join(w.data_dir, "tee-worker.db")),
              "no store (which holds the worker id) in DATA_DIR: %r" % os.listdir(w.data_dir))

        # 1. generate
        r = w.post("/job/generate", json_body=TELEMETRY_JOB)
        expect_status(r, 200, "POST /job/generate")
        check_eq(r.header("Content-Type"), "text/plain; charset=UTF-8", "/job/generate Content-Type")
        sig = r.text
        check(len(sig) > 40 and sig.isascii(), "signature does not look sealed: %r" % sig[:100])
        check(b"telemetry" not in r.body, "signature leaks the job in clear: %r" % r.body[:200])
        # 2. add
        uid = w.add(sig)
        # 3. status (404 + status queued/running meanwhile, asserted by wait_status)
        st = w.wait_status(uid)
        expect_status(st, 200, "GET /job/status/<uid>")
        check_eq(st.header("Content-Type"), "text/plain; charset=UTF-8", "/job/status Content-Type")
        check(st.header("X-Next-Cursor") is None, "telemetry has no cursor, got X-Next-Cursor %r"
              % st.header("X-Next-Cursor"))
        # 4. result
        r = w.result(st.text, sig)
        expect_status(r, 200, "POST /job/result")
        check_eq(r.header("Content-Type"), "text/plain; charset=UTF-8", "/job/result Content-Type")
        first = check_telemetry(r.body, wid)

        # restart with the same DATA_DIR: same identity
        w.restart()
        check_eq(w.worker_id(), wid, "worker id after a restart with the same DATA_DIR")
        _, _, _, body = w.run_job(TELEMETRY_JOB)
        second = check_telemetry(body, wid)
        check_eq(second["worker_id"], first["worker_id"], "telemetry worker_id across a restart")

    # a fresh DATA_DIR is a different worker
    with Worker() as other:
        check(other.worker_id() != wid, "two DATA_DIRs produced the same worker id %s" % wid)


def test_polls_reseal_with_fresh_iv():
    with Worker() as w:
        wid = w.worker_id()
        sig = w.generate(TELEMETRY_JOB)
        uid = w.add(sig)
        first = expect_status(w.wait_status(uid), 200, "first poll")
        second = expect_status(w.get("/job/status/" + uid), 200, "second poll")
        check(first.text != second.text,
              "two polls of the same job gave the same ciphertext (IV reused): %r" % first.text[:80])
        a = expect_status(w.result(first.text, sig), 200, "open first poll")
        b = expect_status(w.result(second.text, sig), 200, "open second poll")
        check_eq(a.body, b.body, "both polls open to the same text")
        check_telemetry(a.body, wid)
        # a result opened with another job's signature (another quote = another salt) fails
        other_sig = w.generate(TELEMETRY_JOB)
        r = w.result(first.text, other_sig)
        expect_json_error(r, 500, "/job/result with the wrong job's signature",
                          prefix="error while unsealing the job result:")


def test_threads_run_under_sched_batch_unless_disabled():
    # SCHED_BATCH=true (the default): every thread, the HTTP, store and job threads started after
    # the set-up included, runs under SCHED_BATCH (3); SCHED_BATCH=false leaves SCHED_OTHER (0)
    job = {"type": "telemetry", "arguments": {}}
    for env, want in (({}, 3), ({"SCHED_BATCH": "false"}, 0)):
        with Worker(env=env) as w:
            expect_status(w.wait_status(w.add(w.generate(job))), 200, "telemetry job")
            threads = harness.threads_of(w.proc.pid)
            check(len(threads) >= 3, "threads: %r" % threads)
            check_eq({t["policy"] for t in threads}, {want}, "thread policies with %r" % env)


def test_unknown_uid():
    with Worker() as w:
        r = w.get("/job/status/" + harness.random_uuid())
        doc = expect_json_error(r, 404, "GET /job/status/<unknown uuid>", message="Job not found")
        check_eq(doc.get("status"), "unknown", "status member for an unknown uid")
        r = w.get("/job/status/not-a-uuid")
        doc = expect_json_error(r, 404, "GET /job/status/not-a-uuid", message="Job not found")
        check_eq(doc.get("status"), "unknown", "status member for a malformed uid")
        # the id must be non-empty: /job/status/ is an unknown route
        r = w.get("/job/status/")
        expect_json_error(r, 404, "GET /job/status/")
        # ids are matched as the worker writes them (lower case), as Go's map of ids matches
        # them and the shared store does: the upper-case spelling of a finished job's id is unknown
        _, uid, _, _ = w.run_job(TELEMETRY_JOB)
        r = w.get("/job/status/" + uid.upper())
        doc = expect_json_error(r, 404, "GET /job/status/<upper-case uid>", message="Job not found")
        check_eq(doc.get("status"), "unknown", "status member for an upper-case uid")


def test_health_readiness_loglevel_and_routing():
    with Worker() as w:
        r = w.get("/healthz")
        expect_status(r, 200, "GET /healthz")
        check_eq(r.header("Content-Type"), "application/json", "/healthz Content-Type")
        check_eq(r.json(), {"status": "ok", "service": "tee-worker"}, "/healthz body")

        r = w.get("/readyz")
        expect_status(r, 200, "GET /readyz")
        check_eq(r.header("Content-Type"), "application/json", "/readyz Content-Type")
        doc = r.json()
        check_eq(doc.get("service"), "tee-worker", "/readyz service")
        check_eq(doc.get("ready"), True, "/readyz ready")
        checks = doc.get("checks")
        check(isinstance(checks, dict), "/readyz checks should be an object: %r" % r.body)
        check_eq(checks.get("job_server"), "ok", "/readyz checks.job_server")
        check_eq(checks.get("error_rate"), "healthy", "/readyz checks.error_rate")
        # a float64 0 as Go writes it (0, not jansson's 0.0)
        check(b'"stats":{"error_count":0,"error_rate":0,"success_count":0,' in r.body,
              "/readyz stats.error_rate not written as Go writes a float64: %r" % r.body)

        r = w.request("PUT", "/debug/loglevel?level=debug")
        expect_status(r, 200, "PUT /debug/loglevel?level=debug")
        check(r.header("Content-Type", "").startswith("text/plain"),
              "/debug/loglevel Content-Type: %r" % r.header("Content-Type"))
        check_eq(r.text, "log level set to debug", "/debug/loglevel body")
        r = w.request("PUT", "/debug/loglevel?level=bogus")
        expect_json_error(r, 400, "PUT /debug/loglevel?level=bogus")
        # a level that is not UTF-8 (or cut inside a character) still gets the whole message
        for level in ("%C3" * 10, "%E2%82%AC" * 30, "%FF"):
            r = w.request("PUT", "/debug/loglevel?level=" + level)
            doc = expect_json_error(r, 400, "PUT /debug/loglevel?level=" + level)
            check(doc["error"].endswith("(expected debug, info, warn or error)"),
                  "invalid level message cut short: %r" % doc["error"])
        r = w.request("PUT", "/debug/loglevel?level=INFO")
        expect_status(r, 200, "PUT /debug/loglevel?level=INFO")
        check_eq(r.text, "log level set to info", "/debug/loglevel?level=INFO body")
        w.request("PUT", "/debug/loglevel?level=debug")

        # Echo's own errors carry {"message": ...}: kept beside "error" (core-protocol.md 1.2)
        r = w.get("/no/such/path")
        doc = expect_json_error(r, 404, "GET /no/such/path", message="Not Found")
        check_eq(doc.get("message"), "Not Found", "404 body \"message\" (Echo's member)")
        r = w.get("/healthz/")
        expect_json_error(r, 404, "GET /healthz/ (no trailing-slash redirect)")

        r = w.get("/job/add")
        doc = expect_json_error(r, 405, "GET /job/add", message="Method Not Allowed")
        check_eq(doc.get("message"), "Method Not Allowed", "405 body \"message\" (Echo's member)")
        check_eq(r.header("Allow", ""), "OPTIONS, POST", "405 Allow header of /job/add")

        r = w.request("OPTIONS", "/job/add")
        expect_status(r, 204, "OPTIONS /job/add")
        check_eq(r.body, b"", "OPTIONS body")
        allow = r.header("Allow", "")
        check("POST" in [m.strip() for m in allow.split(",")],
              "OPTIONS Allow header should list POST, got %r" % allow)

        # /setkey is not served without KEY_DISTRIBUTOR_PUBKEY
        r = w.post("/setkey", json_body={"key": "0" * 32, "signature": "AAAA"})
        expect_json_error(r, 404, "POST /setkey without a distributor key")
        w.healthy("routing checks")


def go_indent(compact):
    """Go's json.Indent(dst, compact, "", "  ") for a body of ASCII text without escapes: the
    same layout as Python's indent=2 (members kept in order, {} and [] on one line)."""
    doc = json.loads(compact, object_pairs_hook=collections.OrderedDict)
    return (json.dumps(doc, indent=2) + "\n").encode()


def test_readyz_window_start_in_the_local_zone():
    """window_start is the server's local time, as Go writes it: "Z" for a zero offset, else the
    offset as +hh:mm (core-protocol.md: RFC 3339, whole seconds, server's local zone)."""
    for tz, suffix, offset_s in (("UTC0", "Z", 0), ("XYZ-5:30", "+05:30", 19800),
                                 ("ABC+3", "-03:00", -10800)):
        with Worker(env={"TZ": tz}) as w:
            before = int(time.time())
            r = expect_status(w.get("/readyz"), 200, "GET /readyz with TZ=%s" % tz)
            after = int(time.time())
            start = r.json()["checks"]["stats"]["window_start"]
            check(start.endswith(suffix), "TZ=%s: window_start %r should end with %r"
                  % (tz, start, suffix))
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" + re.escape(suffix), start),
                  "TZ=%s: window_start %r is not RFC 3339 in whole seconds" % (tz, start))
            local = calendar.timegm(time.strptime(start[:19], "%Y-%m-%dT%H:%M:%S")) - offset_s
            # time(2) reads a coarse clock, which may still show the second before time.time()
            check(before - 601 <= local <= after - 600,
                  "TZ=%s: window_start %r is not ten minutes ago (%d..%d)"
                  % (tz, start, before - 600, after - 600))


def test_pretty_query_lays_json_answers_out_as_echo():
    """A `pretty` query parameter (any value, or none) gets every JSON answer indented as echo's
    c.JSON indents it (core-protocol.md 1); text answers are unchanged."""
    with Worker() as w:
        r = expect_status(w.get("/healthz?pretty"), 200, "GET /healthz?pretty")
        check_eq(r.body, b'{\n  "status": "ok",\n  "service": "tee-worker"\n}\n', "/healthz?pretty body")
        check_eq(r.header("Content-Type"), "application/json", "/healthz?pretty Content-Type")
        unknown = "/job/status/" + harness.random_uuid()
        for path, method, status in ((unknown, "GET", 404), ("/no/such/path", "GET", 404),
                                     ("/job/add", "GET", 405), ("/healthz", "GET", 200)):
            compact = w.request(method, path)
            expect_status(compact, status, method + " " + path)
            check(b"\n" not in compact.body[:-1], "%s without pretty is not compact: %r" % (path, compact.body))
            for query in ("?pretty", "?pretty=1", "?a=b&pretty=", "?pr%65tty"):
                r = w.request(method, path + query)
                expect_status(r, status, method + " " + path + query)
                check_eq(r.body, go_indent(compact.body), method + " " + path + query + " body")
        r = w.post("/job/generate?pretty", body=b"{", headers={"Content-Type": "application/json"})
        expect_status(r, 400, "POST /job/generate?pretty with a malformed body")
        check(r.body.startswith(b'{\n  "error": "') and r.body.endswith(b'"\n}\n'),
              "400 error not indented: %r" % r.body)
        r = expect_status(w.get("/readyz?pretty"), 200, "GET /readyz?pretty")
        check(r.body.startswith(b'{\n  "service": "tee-worker",\n  "ready": true,\n  "checks": {\n    "'),
              "/readyz?pretty not indented: %r" % r.body[:200])
        check_eq(r.body, go_indent(r.body.decode()), "/readyz?pretty layout")

        # the answer of /job/add comes back from the store's writer: indented too
        r = expect_status(w.post("/job/generate?pretty", json_body=TELEMETRY_JOB), 200,
                          "POST /job/generate?pretty")
        check(b"\n" not in r.body and not r.body.startswith(b"{"),
              "a text answer (the signature) is not JSON to indent: %r" % r.body[:100])
        sig = r.text
        r = expect_status(w.post("/job/add?pretty", json_body={"encrypted_job": sig}), 200,
                          "POST /job/add?pretty")
        uid = json.loads(r.body)["uid"]
        check_eq(r.body, ('{\n  "uid": "%s"\n}\n' % uid).encode(), "/job/add?pretty body")
        st = expect_status(w.wait_status(uid), 200, "status of the job added with ?pretty")
        r = expect_status(w.get("/job/status/" + uid + "?pretty"), 200, "GET /job/status/<uid>?pretty")
        check(b"\n" not in r.body, "the sealed result (text) was laid out: %r" % r.body[:100])
        w.healthy("pretty answers")


def test_keep_alive_chunked_and_concurrent_jobs():
    import http.client
    import socket
    import threading
    with Worker(env={"MAX_JOBS": "2"}) as w:
        wid = w.worker_id()
        body = json.dumps(TELEMETRY_JOB).encode()
        # several requests, good and bad, on one kept-alive connection
        c = http.client.HTTPConnection(harness.HOST, w.port, timeout=10)
        try:
            for method, path, data, want in [
                ("POST", "/job/generate", body, 200), ("GET", "/no/such/path", None, 404),
                ("POST", "/job/add", b"{bad", 400), ("POST", "/job/generate", body, 200),
                ("GET", "/healthz", None, 200),
            ]:
                c.request(method, path, body=data, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                got = r.read()
                check(r.status == want, "keep-alive %s %s: expected %d, got %d %r"
                      % (method, path, want, r.status, got[:200]))
        finally:
            c.close()

        # a chunked request body
        s = socket.create_connection((harness.HOST, w.port), timeout=10)
        try:
            s.sendall(b"POST /job/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      + b"%x\r\n" % 10 + body[:10] + b"\r\n"
                      + b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
            data = harness.read_until_closed(s)
        finally:
            s.close()
        head, _, sig = data.partition(b"\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 200"), "chunked /job/generate: %r" % data[:300])
        uid = w.add(sig.decode())
        expect_status(w.wait_status(uid), 200, "status of the job generated with a chunked body")

        # concurrent clients, each running whole jobs; polls start right after /job/add
        errors = []
        pending_seen = []

        def client():
            try:
                for _ in range(8):
                    sig = w.generate(TELEMETRY_JOB)
                    uid = w.add(sig)
                    first = w.get("/job/status/" + uid)
                    if first.status == 404:
                        pending_seen.append(first.json().get("status"))
                    st = expect_status(w.wait_status(uid), 200, "concurrent status")
                    r = expect_status(w.result(st.text, sig), 200, "concurrent result")
                    check(json.loads(r.body)["worker_id"] == wid, "concurrent telemetry: %r" % r.body[:200])
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check(not errors, "concurrent clients failed: %s" % "; ".join(str(e)[:300] for e in errors[:3]))
        check(all(p in ("queued", "running") for p in pending_seen),
              "pending polls answered with status %r" % pending_seen)
        r = expect_status(w.get("/readyz"), 200, "/readyz after the concurrent run")
        stats = r.json()["checks"].get("stats", {})
        check(stats.get("error_count", 0) == 0, "/readyz counted errors: %r" % stats)
        w.healthy("concurrent clients")


if __name__ == "__main__":
    harness.main(globals())
