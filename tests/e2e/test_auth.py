#!/usr/bin/env python3
"""test_auth.py - the API-key middleware (core-protocol.md 8, DECISIONS.md "Errors"):
Authorization: Bearer <key> (exact, case-sensitive scheme, one space) or X-API-Key: <key>, the
blanks around a header's value not part of it; /healthz and /readyz open; everything else,
unknown paths included, 401 without the key, with a body carrying both "error" and Go's
"message". The key is checked as soon as a request's headers are in, before any of its body is
read (as Echo's middleware does): a client without the key cannot make the worker buffer bodies
(up to HTTP_MAX_RESULT_BODY_BYTES each) or fill the budget all bodies in flight share."""
import socket
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status

KEY = "secret"
JOB = {"type": "telemetry", "arguments": {}}
MESSAGE = "missing or invalid API key"


def expect_401(resp, what):
    doc = expect_json_error(resp, 401, what, message=MESSAGE)
    check_eq(doc.get("message"), MESSAGE, what + ": \"message\" member")


def test_generate_needs_the_key():
    with Worker(api_key=KEY) as w:
        expect_401(w.post("/job/generate", json_body=JOB), "/job/generate without credentials")
        for name, headers in [
            ("wrong bearer key", {"Authorization": "Bearer wrong"}),
            ("wrong X-API-Key", {"X-API-Key": "wrong"}),
            ("key as a prefix", {"Authorization": "Bearer secretX"}),
            ("key truncated", {"X-API-Key": "secre"}),
            ("two spaces", {"Authorization": "Bearer  secret"}),
            ("lower-case scheme", {"Authorization": "bearer secret"}),
            ("no scheme", {"Authorization": "secret"}),
            ("X-API-Key with Bearer", {"X-API-Key": "Bearer secret"}),
            ("empty X-API-Key", {"X-API-Key": ""}),
        ]:
            expect_401(w.post("/job/generate", json_body=JOB, headers=headers),
                       "/job/generate with " + name)

        r = w.post("/job/generate", json_body=JOB, headers={"Authorization": "Bearer " + KEY})
        expect_status(r, 200, "/job/generate with Authorization: Bearer secret")
        r = w.post("/job/generate", json_body=JOB, headers={"X-API-Key": KEY})
        expect_status(r, 200, "/job/generate with X-API-Key: secret")
        r = w.post("/job/generate", json_body=JOB, headers={"x-api-key": KEY})
        expect_status(r, 200, "/job/generate with x-api-key (header names are case-insensitive)")
        # blanks around a field value are not part of it (RFC 9110 5.5; Go's server drops them)
        for name, headers in [("X-API-Key with a trailing space", {"X-API-Key": KEY + " "}),
                              ("X-API-Key with a trailing tab", {"X-API-Key": KEY + "\t"}),
                              ("bearer with blanks after it", {"Authorization": "Bearer " + KEY + " \t"})]:
            expect_status(w.post("/job/generate", json_body=JOB, headers=headers), 200,
                          "/job/generate with " + name)
        # one good credential is enough even when the other header is wrong
        r = w.post("/job/generate", json_body=JOB,
                   headers={"Authorization": "Bearer wrong", "X-API-Key": KEY})
        expect_status(r, 200, "/job/generate with a wrong bearer but a good X-API-Key")


def test_open_and_closed_routes():
    with Worker(api_key=KEY) as w:
        r = w.get("/healthz")
        expect_status(r, 200, "/healthz without credentials")
        check_eq(r.json(), {"status": "ok", "service": "tee-worker"}, "/healthz body")
        r = w.get("/readyz")
        expect_status(r, 200, "/readyz without credentials")
        check_eq(r.json().get("ready"), True, "/readyz ready")
        expect_status(w.get("/healthz?x=1"), 200, "/healthz with a query string")

        expect_401(w.get("/no/such/path"), "unknown path without credentials")
        expect_401(w.get("/healthz/"), "/healthz/ (trailing slash) without credentials")
        expect_401(w.get("/job/status/" + harness.random_uuid()), "/job/status without credentials")
        expect_401(w.post("/job/add", json_body={"encrypted_job": "x"}), "/job/add without credentials")
        expect_401(w.post("/job/result", json_body={"encrypted_result": "x", "encrypted_request": "y"}),
                   "/job/result without credentials")
        expect_401(w.request("PUT", "/debug/loglevel?level=debug"), "/debug/loglevel without credentials")
        expect_401(w.get("/job/add"), "wrong method without credentials")

        auth = {"Authorization": "Bearer " + KEY}
        expect_json_error(w.get("/no/such/path", headers=auth), 404, "unknown path with the key")
        r = w.request("PUT", "/debug/loglevel?level=debug", headers=auth)
        expect_status(r, 200, "/debug/loglevel with the key")
        # the whole flow with the key
        _, _, _, body = w.run_job(JOB, headers=auth)
        check(body.startswith(b"{\"boot_time\""), "telemetry result: %r" % body[:100])


def test_body_of_a_request_without_the_key_is_not_read():
    """An unauthorized request is answered 401 from its headers alone: the worker neither waits
    for its body nor holds any of it (the connection is closed after the answer)."""
    with Worker(api_key=KEY) as w:
        for path in ("/job/result", "/job/add", "/no/such/path"):
            s = socket.create_connection((harness.HOST, w.port), timeout=10)
            s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000000\r\n\r\n" % path.encode() + b"{" * 1000)
            t0 = time.monotonic()
            s.settimeout(3.0)
            data, how = harness.read_until_ended(s)
            closed = how != "timeout"
            s.close()
            check(data.startswith(b"HTTP/1.1 401 "),
                  "POST %s without the key, body not sent: no 401 within %.1f s (got %r)"
                  % (path, time.monotonic() - t0, data[:80]))
            check(b'"message":"missing or invalid API key"' in data,
                  "POST %s: 401 body %r" % (path, data[-120:]))
            check(closed, "POST %s: connection left open after the 401 (waiting for the body)"
                  % path)
        # with the key, the same request still waits for its body and is served
        r = w.post("/job/add", json_body={"encrypted_job": "x"}, headers={"X-API-Key": KEY})
        expect_json_error(r, 500, "/job/add with the key", prefix="Error while decrypting job")
        w.healthy("after unauthorized bodies")


if __name__ == "__main__":
    harness.main(globals())
