#!/usr/bin/env python3
"""test_request_deadline.py - a request must arrive whole within HTTP_TIMEOUT_SECONDS of its
connection becoming ready for it (accepted, or the previous request completed), plus a second per
16 KiB of body received. Clients that trickle a header or a body a byte at a time (slowloris) are
cut a little after the bound, so that HTTP_MAX_CONNECTIONS of them cannot lock /healthz out;
a keep-alive client that pauses between requests (the pause counts in the next request's bound),
a large body that keeps coming at a fair rate and a /job/add deferred while the store commits are
not disturbed."""
import http.client
import os
import select
import socket
import threading
import time

import harness as h

LIMIT_S = 3
# how late after the bound a cut may come: the sweep runs once a second and counts whole ticks
# (up to 2 s), plus a loaded machine's scheduling (ASan tests run two at a time on 2 cores) and
# the worker's own slowness under valgrind; the old code still held the connections 4 s later
SLACK_S = 6.0 if os.environ.get("TW_VALGRIND") == "1" else 3.5


def connect(port):
    s = socket.create_connection((h.HOST, port), timeout=10.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_peer(sock, wait_s):
    """Waits up to wait_s for the worker to close sock; True when it did."""
    r, _, _ = select.select([sock], [], [], wait_s)
    if not r:
        return False
    try:
        return sock.recv(65536) == b""
    except OSError:
        return True


def trickle(sock, head, every_s, stop_after_s, stop=None):
    """Sends head, then one byte every every_s seconds until the worker closes the connection
    (returns the seconds that took) or stop_after_s pass (returns None)."""
    t0 = time.monotonic()
    sock.sendall(head)
    while time.monotonic() - t0 < stop_after_s:
        if stop is not None and stop.is_set():
            return None
        if closed_by_peer(sock, every_s):
            return time.monotonic() - t0
        try:
            sock.sendall(b"a")
        except OSError:
            return time.monotonic() - t0
    return None


def check_cut(took, what):
    h.check(took is not None, "%s: still connected %.0f s after the bound of %d s"
            % (what, LIMIT_S + SLACK_S + 6, LIMIT_S))
    h.check(took >= LIMIT_S - 0.5, "%s: cut after %.1f s, before the bound of %d s"
            % (what, took, LIMIT_S))
    h.check(took <= LIMIT_S + SLACK_S, "%s: cut only after %.1f s (bound %d s)"
            % (what, took, LIMIT_S))


def read_response(sock):
    """One HTTP/1.1 response with a Content-Length from sock: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        h.check(chunk, "connection closed before a response (got %r)" % data)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        h.check(chunk, "connection closed in the middle of a response body")
        body += chunk
    h.check_eq(len(body), length, "response body length")
    return status, body


def worker(extra=None):
    env = {"HTTP_TIMEOUT_SECONDS": str(LIMIT_S)}
    env.update(extra or {})
    return h.Worker(env=env)


def test_trickled_header_is_cut():
    with worker({"HTTP_THREADS": "2"}) as w:     # a pool of event loops: the same
        s = connect(w.port)
        took = trickle(s, b"GET /healthz HTTP/1.1\r\nHost: worker\r\nX-Slow: ", 1.0,
                       LIMIT_S + SLACK_S + 6)
        s.close()
        check_cut(took, "a header trickled a byte a second")
        w.healthy("a trickled header")
        h.check("closed 1 connections whose request did not arrive whole in time" in w.stderr(),
                "no log line for the cut connection:\n%s" % w.stderr()[-3000:])


def test_trickled_body_is_cut():
    with worker() as w:
        s = connect(w.port)
        head = (b"POST /job/result HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{")
        took = trickle(s, head, 1.0, LIMIT_S + SLACK_S + 6)
        s.close()
        check_cut(took, "a body trickled a byte a second")
        w.healthy("a trickled body")


def test_body_arriving_at_a_fair_rate_is_not_cut():
    # 32 KiB a second (twice the minimum rate) for 2 x LIMIT_S seconds: each second earns two
    with worker() as w:
        chunk, seconds = 32 * 1024, 2 * LIMIT_S
        s = connect(w.port)
        s.sendall(b"POST /job/result HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (chunk * seconds))
        t0 = time.monotonic()
        for i in range(seconds):
            s.sendall(b" " * chunk)
            time.sleep(max(0.0, t0 + i + 1 - time.monotonic()))
        status, body = read_response(s)
        s.close()
        h.check_eq(status, 400, "answer to the slow but steady body (blanks: not a JSON object; "
                   "body %r)" % body[:200])


def test_trickling_clients_cannot_lock_out_healthz():
    n = 8
    with worker({"HTTP_MAX_CONNECTIONS": str(n)}) as w:
        stop = threading.Event()
        results = [None] * n
        socks = [connect(w.port) for _ in range(n)]

        def run(i):
            results[i] = trickle(socks[i], b"GET /readyz HTTP/1.1\r\nHost: w\r\nX-Slow: ", 1.0,
                                 LIMIT_S + SLACK_S + 20, stop)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(0.5)     # all n are accepted and trickling: every slot is taken
        t0 = time.monotonic()
        try:
            r = w.get("/healthz", timeout=LIMIT_S + SLACK_S + 10)
            took = time.monotonic() - t0
        except (OSError, http.client.HTTPException) as e:
            h.fail("/healthz with %d trickling clients holding every connection: %r" % (n, e))
        finally:
            stop.set()
            for t in threads:
                t.join(15)
            for s in socks:
                s.close()
        h.expect_status(r, 200, "/healthz once the trickling clients were cut")
        h.check(took <= LIMIT_S + SLACK_S + 1, "/healthz answered only after %.1f s" % took)
        cut = [x for x in results if x is not None]
        h.check_eq(len(cut), n, "trickling clients cut (seconds each: %r)" % results)
        w.healthy("%d trickling clients" % n)


def test_keep_alive_client_with_pauses_is_not_disturbed():
    with worker() as w:
        s = connect(w.port)
        pause = LIMIT_S - 1.2
        t0 = time.monotonic()
        for i in range(5):
            if i == 2:      # a request sent in two halves, the whole within the bound
                s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
                time.sleep(pause)
                s.sendall(b"st: worker\r\n\r\n")
            else:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: worker\r\n\r\n")
            status, _ = read_response(s)
            h.check_eq(status, 200, "request %d on the kept-alive connection" % i)
            if i != 1:      # the pause before a request counts in its bound: none before the halves
                time.sleep(pause)
        h.check(time.monotonic() - t0 > 2 * LIMIT_S, "the connection did not outlast the bound")
        h.check(not closed_by_peer(s, 0.0), "the kept-alive connection was closed")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: worker\r\n\r\n")
        status, _ = read_response(s)
        h.check_eq(status, 200, "last request on the kept-alive connection")
        s.close()


def test_trickled_header_over_https_is_cut():
    from fakes.attestation_fake import AttestationFake
    from test_enclave import EnclaveWorker, tls_context

    with AttestationFake() as fake, \
            EnclaveWorker(fake, env={"HTTP_TIMEOUT_SECONDS": str(LIMIT_S)}) as w:
        s = tls_context().wrap_socket(connect(w.port))
        took = trickle(s, b"GET /healthz HTTP/1.1\r\nHost: worker\r\nX-Slow: ", 1.0,
                       LIMIT_S + SLACK_S + 6)
        s.close()
        check_cut(took, "a header trickled over TLS")
        w.healthy("a header trickled over TLS")


def test_deferred_add_is_never_cut():
    # The store's writes hang (tests/e2e/fakes/stall_io.c) for twice the bound while a /job/add
    # waits for its commit, suspended: it arrived whole, so it is answered when the disk is back.
    stall = os.path.join(h.mkdtemp("tw-stall-"), "stall")
    env = {"LD_PRELOAD": h.preload_env(h.stall_io_library()), "STALL_IO_FILE": stall,
           "SHUTDOWN_DRAIN_SECONDS": "30"}
    with worker(env) as w:
        sig = w.generate({"type": "telemetry", "arguments": {}})
        outcome = []

        def add():
            try:
                outcome.append(("answer", w.post("/job/add", json_body={"encrypted_job": sig},
                                                 timeout=60.0)))
            except (OSError, http.client.HTTPException) as e:
                outcome.append(("closed", e))

        open(stall, "w").close()
        t = threading.Thread(target=add, daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while not os.path.exists(stall + ".hit"):
            h.check(time.monotonic() < deadline, "the store never wrote while the disk stalled")
            time.sleep(0.01)
        time.sleep(2 * LIMIT_S + SLACK_S)
        h.check(not outcome, "the deferred /job/add ended while its commit hung: %r" % outcome)
        os.unlink(stall)
        t.join(30)
        h.check(outcome, "/job/add still unanswered after the disk came back")
        h.check_eq(outcome[0][0], "answer", "the deferred /job/add (%r)" % (outcome,))
        h.expect_status(outcome[0][1], 200, "the deferred /job/add")
        uid = (outcome[0][1].json() or {}).get("uid")
        h.expect_status(w.wait_status(uid), 200, "status of the deferred job")


if __name__ == "__main__":
    h.main(globals())
