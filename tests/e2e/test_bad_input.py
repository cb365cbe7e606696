#!/usr/bin/env python3
"""test_bad_input.py - hostile and malformed requests are answered with the right status and a JSON
{"error": ...} body, and the server stays up (/healthz after each).

DECISIONS.md: strict JSON (exact member names, no trailing garbage, no empty bodies); bodies that
cannot be read, a wrong Content-Type included, 400; unknown job types refused at generate (400);
Go's status codes otherwise (core-protocol.md 1.5): opening failures, a replay and a target worker
mismatch 500, kept out of /readyz's error rate since they are the client's doing; body limit
HTTP_MAX_BODY_BYTES (default 1 MiB) -> 413."""
import json
import socket
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status
from fakes.site import Site

JOB = {"type": "telemetry", "arguments": {}}
JSON_CT = {"Content-Type": "application/json"}


def raw(w, method, path, body, headers=None):
    return w.request(method, path, body=body, headers=dict(JSON_CT, **(headers or {})))


def test_idle_and_slow_connections_are_closed():
    """HTTP_TIMEOUT_SECONDS bounds a connection that stops sending (slowloris) or sits idle."""
    with Worker(env={"HTTP_TIMEOUT_SECONDS": "1"}) as w:
        for opening in (b"", b"POST /job/add HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
                        b"GET /healthz HTTP/1.1\r\nHost: x\r\n"):
            s = socket.create_connection((harness.HOST, w.port), timeout=10)
            t0 = time.monotonic()
            s.sendall(opening)
            try:
                data = s.recv(4096)
                while data:
                    data = s.recv(4096)
            except ConnectionResetError:
                pass
            elapsed = time.monotonic() - t0
            s.close()
            check(elapsed < 5, "connection after %r stayed open %.1f s" % (opening[:20], elapsed))
        w.healthy("after timed-out connections")


def test_job_result_takes_large_sealed_results():
    """/job/result carries a sealed result back: its own, larger limit (HTTP_MAX_RESULT_BODY_BYTES)."""
    with Worker(env={"HTTP_MAX_BODY_BYTES": "65536", "HTTP_MAX_RESULT_BODY_BYTES": "4194304"}) as w:
        r = w.post("/job/add", json_body={"encrypted_job": "A" * (512 * 1024)})
        expect_json_error(r, 413, "512 KiB /job/add over HTTP_MAX_BODY_BYTES")
        big = "A" * (2 * 1024 * 1024)
        sig = w.generate({"type": "telemetry", "arguments": {}})
        r = w.result(big, sig)
        expect_json_error(r, 500, "2 MiB /job/result under HTTP_MAX_RESULT_BODY_BYTES",
                          prefix="error while unsealing the job result")
        r = w.result("A" * (5 * 1024 * 1024), sig)
        expect_json_error(r, 413, "5 MiB /job/result over HTTP_MAX_RESULT_BODY_BYTES")
        w.healthy("after large bodies")


def test_bodies_in_flight_are_bounded_together():
    """Each body has its limit, and all the bodies being received at once share a budget of four
    times the larger limit: many connections each streaming a body just under the limit cannot
    make the worker buffer connections x limit bytes. The request that would go beyond is
    answered 503 with Retry-After (its bytes are dropped); the others are served, and the budget
    is free again once they are answered."""
    env = {"HTTP_MAX_BODY_BYTES": "4096", "HTTP_MAX_RESULT_BODY_BYTES": "8192"}   # budget 32 KiB
    with Worker(env=env) as w:
        sig = w.generate(JOB)
        head = b'{"encrypted_request":"' + sig.encode() + b'","encrypted_result":"'
        tail = b'"}'
        fill = 8000 - len(head) - len(tail)
        body = head + b"A" * fill + tail
        # 5 x 7999 bytes received and held: the 5th is over 32 KiB
        answers = harness.post_bodies_held_together(w.port, "/job/result", body, 5)
        for i, a in enumerate(answers[:4]):
            check(a.startswith(b"HTTP/1.1 500"), "body %d within the budget: expected 500 (junk "
                  "result), got %r" % (i + 1, a[:200]))
        check(answers[4].startswith(b"HTTP/1.1 503"), "body beyond the budget: expected 503, got %r"
              % answers[4][:300])
        check(b"\r\nRetry-After:" in answers[4], "503 without Retry-After: %r" % answers[4][:300])
        check(b'"error"' in answers[4], "503 without a JSON error: %r" % answers[4][:300])
        # the budget is released: the same body now goes through
        r = w.request("POST", "/job/result", body=body, headers=JSON_CT)
        expect_json_error(r, 500, "a body within the budget after the others ended",
                          prefix="error while unsealing the job result")
        w.healthy("after the body budget was reached")


def test_responses_in_flight_are_bounded_together():
    """Large response bodies held at once share the body budget too: each poll of a finished job
    seals a fresh copy of its result, kept until it is sent, so many slow readers of a big result
    could make the worker hold connections x result bytes. A large answer that would go beyond the
    budget is answered 503 with Retry-After and a JSON error instead (the Go client retries it);
    small answers are not charged; the bytes are given back when the slow readers go away."""
    # A 3 MiB paragraph seals to about 5.3 MiB (16/9, double base64): more than the loopback
    # socket buffers take in (about 3-4 MiB), so a reader that does not read keeps it held.
    site = Site()
    site.page("/", "<h1>Big</h1><p>" + "lorem ipsum dolor sit amet " * (3 * 1024 * 1024 // 27)
              + "</p>")
    env = {"WEBSCRAPER_ALLOW_PRIVATE": "true",
           "HTTP_MAX_RESULT_BODY_BYTES": str(3 * 1024 * 1024)}     # budget 12 MiB: two answers
    with site, Worker(env=env) as w:
        uid = w.add(w.generate({"type": "web", "arguments": {"url": site.url("/")}}))
        st = expect_status(w.wait_status(uid), 200, "status of the big web job")
        size = len(st.body)
        check(5 * 1024 * 1024 < size < 6 * 1024 * 1024, "sealed result of %d bytes, expected "
              "about 5.3 MiB" % size)
        request = b"GET /job/status/%s HTTP/1.1\r\nHost: x\r\n\r\n" % uid.encode()
        slow = []
        try:
            for _ in range(3):      # two answers held (10.7 MiB), the third over 12 MiB
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.settimeout(10 * harness.JOB_TIMEOUT_SCALE)
                s.connect((harness.HOST, w.port))
                s.sendall(request)
                slow.append(s)
                time.sleep(0.3)     # in turn (which two get the room does not matter)
            heads = [s.recv(12) for s in slow]      # the status line only: the rest stays unsent
            check(sorted(heads) == [b"HTTP/1.1 200"] * 2 + [b"HTTP/1.1 503"],
                  "three slow readers, room for two answers: %r" % heads)
            r = w.get("/job/status/" + uid)
            expect_json_error(r, 503, "a poll while two big answers are held",
                              prefix="too many response bytes in flight")
            check(r.header("Retry-After"), "503 without Retry-After: %s" % r.describe())
            w.healthy("with the response budget spent")     # small answers are not charged
            w.generate(JOB)
        finally:
            for s in slow:
                s.close()
        deadline = time.monotonic() + 5 * harness.JOB_TIMEOUT_SCALE
        while True:
            r = w.get("/job/status/" + uid)
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        expect_status(r, 200, "a poll after the slow readers closed")
        check(len(r.body) == size, "answer of %d bytes after the slow readers, expected %d"
              % (len(r.body), size))
        w.healthy("after the response budget was reached")


def test_malformed_bodies():
    with Worker() as w:
        cases = [
            ("malformed JSON", "/job/generate", b'{"type": "telemetry", "arguments": {', 400),
            ("not JSON at all", "/job/add", b"encrypted_job=abc", 400),
            ("trailing garbage", "/job/generate", b'{"type":"telemetry","arguments":{}} x', 400),
            ("two JSON values", "/job/add", b'{"encrypted_job":"a"}{"encrypted_job":"b"}', 400),
            ("empty body", "/job/generate", b"", 400),
            ("empty body at add", "/job/add", b"", 400),
            ("JSON array", "/job/generate", b"[1,2,3]", 400),
            ("JSON string", "/job/result", b'"x"', 400),
            ("duplicate member", "/job/add", b'{"encrypted_job":"a","encrypted_job":"b"}', 400),
            ("unknown member at generate", "/job/generate",
             b'{"type":"telemetry","arguments":{},"bogus":1}', 400),
            ("member name in another case", "/job/generate", b'{"Type":"telemetry","arguments":{}}', 400),
            ("unknown member at add", "/job/add", b'{"encrypted_job":"abc","extra":true}', 400),
            ("unknown member at result", "/job/result",
             b'{"encrypted_result":"a","encrypted_request":"b","x":null}', 400),
            ("encrypted_job not a string", "/job/add", b'{"encrypted_job":42}', 400),
            ("encrypted_job missing", "/job/add", b"{}", 400),
            ("encrypted_job empty", "/job/add", b'{"encrypted_job":""}', 400),
            ("encrypted_request missing", "/job/result", b'{"encrypted_result":"abc"}', 400),
            ("type not a string", "/job/generate", b'{"type":1,"arguments":{}}', 400),
            ("arguments not an object", "/job/generate", b'{"type":"telemetry","arguments":[1]}', 400),
            ("timeout not an integer", "/job/generate", b'{"type":"telemetry","arguments":{},"timeout":"5"}', 400),
            ("no type", "/job/generate", b'{"arguments":{}}', 400),
            ("invalid UTF-8", "/job/generate", b'{"type":"tele\xffmetry","arguments":{}}', 400),
            ("NUL in a string", "/job/generate", b'{"type":"tele\\u0000metry","arguments":{}}', 400),
            ("NUL in an argument", "/job/generate",
             b'{"type":"web","arguments":{"url":"https://example.com/\\u0000x"}}', 400),
            # a queued job is a jansson tree, ~80 times its text for small values: bounded (job.h)
            ("arguments holding too many values", "/job/generate",
             b'{"type":"telemetry","arguments":{"a":[' + b",".join([b"{}"] * 2000) + b']}}', 400),
            ("arguments holding too much text", "/job/generate",
             b'{"type":"telemetry","arguments":{"a":"' + b"x" * (65 * 1024) + b'"}}', 400),
        ]
        for what, path, body, status in cases:
            expect_json_error(raw(w, "POST", path, body), status, "%s (POST %s %r)" % (what, path, body[:60]))
            w.healthy(what)

        r = w.post("/job/generate", body=b'{"type":"telemetry","arguments":{}}',
                   headers={"Content-Type": "text/plain"})
        expect_json_error(r, 400, "wrong Content-Type (text/plain)")
        w.healthy("wrong Content-Type")
        r = w.post("/job/add", body=b'{"encrypted_job":"abc"}')   # no Content-Type at all
        expect_json_error(r, 400, "missing Content-Type")
        w.healthy("missing Content-Type")
        r = w.post("/job/generate", body=b'{"type":"telemetry","arguments":{}}',
                   headers={"Content-Type": "application/json; charset=utf-8"})
        expect_status(r, 200, "Content-Type with a charset parameter")

        r = w.post("/job/generate", json_body={"type": "foo", "arguments": {}})
        expect_json_error(r, 400, "unknown job type at generate", message="unknown job type: foo")
        w.healthy("unknown job type")

        r = w.request("PUT", "/debug/loglevel?level=verbose")
        expect_json_error(r, 400, "invalid log level")
        w.healthy("invalid log level")

        r = w.get("/job/status/" + harness.random_uuid())
        expect_json_error(r, 404, "unknown job id", message="Job not found")
        r = w.get("/job/status/" + "x" * 3000)
        expect_json_error(r, 404, "very long job id", message="Job not found")
        w.healthy("unknown job id")


def test_generate_reads_integers_beyond_int64_as_go_does():
    """An argument integer outside int64 is a float64 in Go's /job/generate (its arguments are a
    map[string]any), as /job/add reads it in a Go worker's signature: accepted, not 400 "too big
    integer". A timeout that large is still refused (an int64 in Go too), and the signature made
    is one /job/add takes and runs."""
    with Worker() as w:
        body = (b'{"type":"telemetry","arguments":{"n":12345678901234567890123,'
                b'"u":18446744073709551615,"neg":-9223372036854775809,"a":[1e2,99999999999999999999]}}')
        r = raw(w, "POST", "/job/generate", body)
        expect_status(r, 200, "generate with integers beyond int64 in the arguments")
        uid = w.add(r.text)
        status = w.wait_status(uid)
        expect_status(status, 200, "status of the job generated with big integers")
        r = raw(w, "POST", "/job/generate",
                b'{"type":"telemetry","arguments":{},"timeout":99999999999999999999}')
        expect_json_error(r, 400, "timeout beyond int64")
        w.healthy("after integers beyond int64")


def test_costly_job_text_refused_before_decoding():
    """A job text that would decode to far more memory than any job within the bounds may take
    (~900 KB of [{},{},...], about 80 MB as a jansson tree) is refused from its size estimate at
    /job/generate, before it is decoded; the worker stays up and serves the next request."""
    with Worker() as w:
        body = b'{"type":"telemetry","arguments":{"a":[' + b",".join([b"{}"] * 300000) + b']}}'
        r = raw(w, "POST", "/job/generate", body)
        expect_json_error(r, 400, "costly job text", prefix="invalid job: the job text would take")
        w.healthy("after a costly job text")
        w.run_job(JOB)


def test_body_limits():
    with Worker() as w:
        big = b'{"type":"' + b"a" * (2 * 1024 * 1024) + b'","arguments":{}}'
        t0 = time.monotonic()
        try:
            r = raw(w, "POST", "/job/generate", big)
            expect_json_error(r, 413, "2 MiB body")
        except (ConnectionResetError, BrokenPipeError) as e:
            # A server may answer 413 and close before reading everything; the client then sees a
            # reset while sending. Accept only if the server is still up.
            print("  (2 MiB body: connection closed while sending: %r)" % e)
        w.healthy("2 MiB body")
        check(time.monotonic() - t0 < 10, "2 MiB body took %.1f s" % (time.monotonic() - t0))

        # Content-Length of 100 MB declared, body never sent: refused at once.
        s = socket.create_connection((harness.HOST, w.port), timeout=5)
        try:
            t0 = time.monotonic()
            s.sendall(b"POST /job/add HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            elapsed = time.monotonic() - t0
        finally:
            s.close()
        check(data.startswith(b"HTTP/1.1 413"),
              "100 MB declared, nothing sent: expected an immediate 413, got %r after %.1f s"
              % (data[:200], elapsed))
        check(elapsed < 3, "413 for a declared 100 MB body took %.1f s" % elapsed)
        w.healthy("100 MB declared")

        # A bogus Content-Length is refused too.
        s = socket.create_connection((harness.HOST, w.port), timeout=5)
        try:
            s.sendall(b"POST /job/add HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n")
            try:
                data = s.recv(4096)
            except socket.timeout:
                data = b""
        finally:
            s.close()
        check(data[:12] in (b"HTTP/1.1 413", b"HTTP/1.1 400"),
              "absurd Content-Length: expected 413 or 400, got %r" % data[:200])
        w.healthy("absurd Content-Length")

        # A chunked body growing past the limit (no Content-Length to refuse up front).
        s = socket.create_connection((harness.HOST, w.port), timeout=10)
        try:
            piece = b"A" * 65536
            s.sendall(b"POST /job/add HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            data = b""
            try:
                for _ in range(20):
                    s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            data += harness.read_until_ended(s)[0]
        finally:
            s.close()
        check(data.startswith(b"HTTP/1.1 413"), "1.25 MiB chunked body: expected 413, got %r" % data[:200])
        w.healthy("oversized chunked body")

        # Just under the limit is still parsed (and refused on content, not size).
        body = b'{"encrypted_job":"' + b"A" * (1024 * 1024 - 100) + b'"}'
        r = raw(w, "POST", "/job/add", body)
        expect_json_error(r, 500, "1 MiB - 80 bytes body with a junk signature",
                          prefix="Error while decrypting job:")
        w.healthy("body just under the limit")


def framing_answer(w, head, rest):
    """Sends a POST /job/generate with header lines head (CRLF-ended) then the bytes rest, which
    hold a pipelined GET /healthz after the body; returns every byte the worker sends back until
    it closes the connection (or 5 s pass)."""
    s = socket.create_connection((harness.HOST, w.port), timeout=5)
    try:
        s.sendall(b"POST /job/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                  head + b"\r\n" + rest)
        data, how = harness.read_until_ended(s)
        if how != "closed":
            data += b"<not closed>"
    finally:
        s.close()
    return data


def test_ambiguous_body_framing_refused():
    """A request whose body length two parsers may read differently (RFC 9112 6.1, 6.3): Content-
    Length twice with different values, Transfer-Encoding beside Content-Length, or a transfer
    coding other than chunked alone. A proxy in front that reads the other length would forward
    bytes the worker takes for the next request (request smuggling). Refused from the headers
    (400; 501 for a coding it does not implement, as Go's server answers), the connection closed
    after the answer, so nothing after the headers is ever served as a request."""
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    cases = [
        ("two Content-Length values", b"Content-Length: 2\r\nContent-Length: 40\r\n",
         b"{}" + smuggled, 400),
        ("Transfer-Encoding and Content-Length",
         b"Content-Length: 40\r\nTransfer-Encoding: chunked\r\n",
         b"2\r\n{}\r\n0\r\n\r\n" + smuggled, 400),
        ("a coding before chunked", b"Transfer-Encoding: gzip, chunked\r\n",
         b"2\r\n{}\r\n0\r\n\r\n" + smuggled, 501),
        ("two Transfer-Encoding fields", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n",
         b"2\r\n{}\r\n0\r\n\r\n" + smuggled, 501),
    ]
    with Worker() as w:
        for what, head, rest, status in cases:
            data = framing_answer(w, head, rest)
            check(data.startswith(b"HTTP/1.1 %d" % status),
                  "%s: expected %d, got %r" % (what, status, data[:300]))
            check(data.count(b"HTTP/1.1 ") == 1 and not data.endswith(b"<not closed>"),
                  "%s: the connection must close after the one answer, got %r" % (what, data))
            check(b'"error":' in data, "%s: expected a JSON error body, got %r" % (what, data))
        # the same value twice is one length (RFC 9110 8.6), and chunked alone is served
        data = framing_answer(w, b"Content-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n",
                              b"{}")
        check(data.startswith(b"HTTP/1.1 400") and b"job type is required" in data,
              "Content-Length twice with one value: expected the handler's answer, got %r" % data)
        data = framing_answer(w, b"Transfer-Encoding: chunked\r\nConnection: close\r\n",
                              b"2\r\n{}\r\n0\r\n\r\n")
        check(data.startswith(b"HTTP/1.1 400") and b"job type is required" in data,
              "a chunked body: expected the handler's answer, got %r" % data)
        stats = w.get("/readyz").json()["checks"]["stats"]
        check_eq(stats["error_count"], 0, "readiness errors counted for refused framings")
        w.healthy("ambiguous framing")


def exchange(w, request):
    """Sends the raw bytes request on a new connection; returns (status, body, how): the status
    code of the first answer, the bytes after its head, and how the connection ended (harness
    read_until_ended: "closed" when the worker closed it)."""
    s = socket.create_connection((harness.HOST, w.port), timeout=5)
    try:
        s.sendall(request)
        data, how = harness.read_until_ended(s)
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 "), "no HTTP answer to %r: %r" % (request[:80], data[:200]))
    return int(head[9:12]), body, how


def expect_refused(w, request, message, what):
    """request is answered 400 with the JSON error message, the only answer on its connection,
    which the worker then closes."""
    status, body, how = exchange(w, request)
    check_eq(status, 400, what + ": status")
    check_eq(how, "closed", what + ": how the connection ended")
    check_eq(body.count(b"HTTP/1.1 "), 0, what + ": answers after the 400")
    check_eq(json.loads(body), {"error": message}, what + ": body")


def test_http11_request_without_host_is_refused():
    """An HTTP/1.1 request must name its Host (RFC 9112 3.2): Go's server answers one without it
    400 "missing required Host header" and closes the connection, before any handler or the API
    key check. HTTP/1.0 has no such rule, and an empty Host is still a Host."""
    with Worker(api_key="secret") as w:
        for what, request in [
                ("GET /healthz", b"GET /healthz HTTP/1.1\r\n\r\n"),
                ("pipelined GET after it", b"GET /healthz HTTP/1.1\r\n\r\n"
                                           b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
                ("POST with a body", b"POST /job/generate HTTP/1.1\r\n"
                                     b"Content-Type: application/json\r\nContent-Length: 37\r\n\r\n"
                                     b'{"type":"telemetry","arguments":{}}\r\n'),
                ("without the API key", b"GET /job/status/x HTTP/1.1\r\n\r\n")]:
            expect_refused(w, request, "missing required Host header", what)
            w.healthy(what)
        status, body, how = exchange(w, b"GET /healthz HTTP/1.0\r\n\r\n")
        check_eq((status, how), (200, "closed"), "HTTP/1.0 without Host")
        status, body, how = exchange(w, b"GET /healthz HTTP/1.1\r\nHost:\r\n"
                                     b"Connection: close\r\n\r\n")
        check_eq(status, 200, "HTTP/1.1 with an empty Host")
        stats = w.get("/readyz").json()["checks"]["stats"]
        check_eq(stats["error_count"], 0, "readiness errors counted for missing Hosts")


def test_nul_in_path_is_refused():
    """A percent-encoded NUL in the path is refused 400: libmicrohttpd decodes the path into a C
    string, which ends at the NUL, so /job/status/<uid>%00xyz would otherwise answer the status of
    <uid>. Other escapes keep working, and a NUL in the query (not the path) is not refused."""
    with Worker() as w:
        uid = w.add(w.generate(JOB))
        real = expect_status(w.wait_status(uid), 200, "status of the job")
        message = "invalid request path: it holds a NUL byte (%00)"
        for what, path in [("after a real uid", b"/job/status/" + uid.encode() + b"%00xyz"),
                           ("at the end of a real uid", b"/job/status/" + uid.encode() + b"%00"),
                           ("as the job id", b"/job/status/%00"),
                           ("after /healthz", b"/healthz%00"),
                           ("before the query", b"/healthz%00?pretty"),
                           ("after a lone %", b"/heal%%00thz")]:
            expect_refused(w, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n", message, what)
        escaped = uid.replace("-", "%2D", 1).replace("-", "%2d", 1).encode()
        status, body, _ = exchange(w, b"GET /job/status/" + escaped +
                                   b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check_eq(status, 200, "status of the job by an escaped uid")
        check_eq(len(body), len(real.body), "answer for the escaped uid")
        for what, path in [("an escaped letter", b"/heal%74hz"), ("a NUL in the query",
                                                                  b"/healthz?x=%00")]:
            status, body, _ = exchange(w, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n")
            check_eq((status, json.loads(body).get("status")), (200, "ok"), what)
        w.healthy("NUL in the path")


def test_raw_nul_in_target_is_refused():
    """A raw NUL byte in the request target is refused 400, like a %00: libmicrohttpd hands the
    target on as a C string, which ends at the NUL, so `GET /job/status/<uid>\\0xyz` would
    otherwise answer the status of <uid> (Go's server refuses any control byte in the target)."""
    with Worker() as w:
        uid = w.add(w.generate(JOB))
        expect_status(w.wait_status(uid), 200, "status of the job")
        message = "invalid request target: it holds a NUL byte"
        for what, target in [("after a real uid", b"/job/status/" + uid.encode() + b"\0xyz"),
                             ("at the end of a real uid", b"/job/status/" + uid.encode() + b"\0"),
                             ("after /healthz", b"/healthz\0junk"),
                             ("in the query", b"/healthz?pretty\0"),
                             ("before a second version", b"/healthz\0 HTTP/1.1"),
                             ("in an absolute form", b"http://x/healthz\0")]:
            expect_refused(w, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", message, what)
        status, body, _ = exchange(w, b"GET /healthz  HTTP/1.1\r\nHost: x\r\n"
                                   b"Connection: close\r\n\r\n")
        check_eq(status, 404, "a target ending in a space (no NUL)")
        status, body, _ = exchange(w, b"GET /job/status/" + uid.encode() +
                                   b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check_eq(status, 200, "status of the job, no NUL")
        w.healthy("raw NUL in the target")


def test_absolute_form_target_is_routed_by_its_path():
    """A request target in absolute form (RFC 9112 3.2.2: `GET http://host/healthz`), which a
    server must accept, is routed by its path, as Go's server routes it: the authority takes no
    part in routing, the query is read as usual. Only the http and https schemes are taken."""
    with Worker() as w:
        uid = w.add(w.generate(JOB))
        expect_status(w.wait_status(uid), 200, "status of the job")
        tail = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        for what, target in [("http, this worker", b"http://127.0.0.1:%d/healthz" % w.port),
                             ("https, another host", b"https://other.example/healthz"),
                             ("scheme in capitals", b"HTTP://other.example/healthz"),
                             ("an escaped path", b"http://x/heal%74hz"),
                             ("a query", b"http://x/healthz?pretty")]:
            status, body, _ = exchange(w, b"GET " + target + tail)
            check_eq((status, json.loads(body).get("status")), (200, "ok"), what)
        status, body, _ = exchange(w, b"GET http://x/healthz?pretty" + tail)
        check(body.startswith(b"{\n"), "?pretty of an absolute-form target: %r" % body)
        status, body, _ = exchange(w, b"GET http://x/job/status/" + uid.encode() + tail)
        check_eq(status, 200, "job status by an absolute-form target")
        job = json.dumps(JOB).encode()
        status, body, _ = exchange(w, b"POST http://x/job/generate HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nConnection: close\r\n"
                                   b"Content-Length: %d\r\n\r\n" % len(job) + job)
        check_eq(status, 200, "POST /job/generate by an absolute-form target")
        for what, target in [("another scheme", b"ftp://x/healthz"), ("no path", b"http://x"),
                             ("an authority only, then a query", b"http://x?/healthz")]:
            status, body, _ = exchange(w, b"GET " + target + tail)
            check_eq(status, 404, what)
        expect_refused(w, b"GET http://x/healthz%00 HTTP/1.1\r\nHost: x\r\n\r\n",
                       "invalid request path: it holds a NUL byte (%00)", "NUL in an absolute form")
        w.healthy("absolute-form targets")


def test_bad_signatures_and_admission():
    with Worker() as a, Worker() as b:
        sig = a.generate(JOB)

        for what, bad in [
            ("bad base64", "!!!" + sig[3:]),
            ("URL-safe base64", sig.replace("+", "-").replace("/", "_") + "-_"),
            ("spaces inside", sig[:20] + " " + sig[20:]),
            ("truncated", sig[: len(sig) // 2 - 1]),
            ("short", "QUFB"),
        ]:
            r = a.post("/job/add", json_body={"encrypted_job": bad})
            expect_json_error(r, 500, "/job/add with %s" % what, prefix="Error while decrypting job:")
            a.healthy(what)

        tampered = harness.tamper_ciphertext(sig)
        r = a.post("/job/add", json_body={"encrypted_job": tampered})
        expect_json_error(r, 500, "/job/add with a tampered ciphertext", prefix="Error while decrypting job:")
        # flipping one character of the text (not the first/last, which may only touch padding bits)
        i = len(sig) // 3
        flipped = sig[:i] + ("B" if sig[i] != "B" else "C") + sig[i + 1:]
        r = a.post("/job/add", json_body={"encrypted_job": flipped})
        expect_json_error(r, 500, "/job/add with one character changed", prefix="Error while decrypting job:")
        a.healthy("tampered signature")

        # sealed by another worker (another local key)
        r = b.post("/job/add", json_body={"encrypted_job": sig})
        expect_json_error(r, 500, "/job/add of another worker's signature", prefix="Error while decrypting job:")
        r = b.result("QUFB", sig)
        expect_json_error(r, 500, "/job/result with another worker's signature",
                          prefix="error while unsealing the encrypted request:")
        b.healthy("foreign signature")

        # replay
        uid = a.add(sig)
        r = a.post("/job/add", json_body={"encrypted_job": sig})
        expect_json_error(r, 500, "replayed signature", message="job already executed")
        expect_status(a.wait_status(uid), 200, "status of the first admission")
        r = a.post("/job/add", json_body={"encrypted_job": sig})
        expect_json_error(r, 500, "replayed signature after the job finished", message="job already executed")
        a.healthy("replay")

        # /job/result with a tampered result
        st = expect_status(a.get("/job/status/" + uid), 200, "status")
        r = a.result(harness.tamper_ciphertext(st.text), sig)
        expect_json_error(r, 500, "/job/result with a tampered result",
                          prefix="error while unsealing the job result:")
        r = a.result(st.text, tampered)
        expect_json_error(r, 500, "/job/result with a tampered request",
                          prefix="error while unsealing the encrypted request:")

        # target worker
        other = a.generate({"type": "telemetry", "arguments": {}, "target_worker": b.worker_id()})
        r = a.post("/job/add", json_body={"encrypted_job": other})
        expect_json_error(r, 500, "job for another worker", message="this job is not for this worker")
        # a refused job does not burn its nonce: still refused for the same reason, not as a replay
        r = a.post("/job/add", json_body={"encrypted_job": other})
        expect_json_error(r, 500, "job for another worker, again", message="this job is not for this worker")
        mine = a.generate({"type": "telemetry", "arguments": {}, "target_worker": a.worker_id()})
        a.add(mine)
        a.healthy("target worker")

        # Go answers those refusals 500, but they are the client's doing: /readyz counts none of
        # them as the worker's errors.
        for what, w in (("a", a), ("b", b)):
            r = expect_status(w.get("/readyz"), 200, "/readyz of worker %s after the refusals" % what)
            stats = r.json()["checks"].get("stats", {})
            check_eq(stats.get("error_count"), 0, "worker %s: refusals counted as errors" % what)


if __name__ == "__main__":
    harness.main(globals())
