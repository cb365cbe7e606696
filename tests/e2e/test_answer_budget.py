#!/usr/bin/env python3
"""test_answer_budget.py - many concurrent /job/status polls of a big result. Every poll seals a
fresh copy of the result (about 16/9 of its size), counted against the body budget (four times
HTTP_MAX_RESULT_BODY_BYTES here). The polls the budget cannot take get 503 + Retry-After + a JSON
error, and they are refused before their copy is built: the worker's peak memory (VmHWM) grows by
the copies it served, never by the ones it refused. (With AddressSanitizer, whose quarantine keeps
freed memory resident, a refused poll that sealed first shows as one more copy each: 160 MiB
instead of 17 here; without it, as the copies sealed at once by the HTTP threads.)"""
import json
import select
import socket
import time

import harness as h
from fakes.site import Site

RESULT_BODY = 4 * 1024 * 1024           # HTTP_MAX_RESULT_BODY_BYTES
BUDGET = 4 * RESULT_BODY                # HTTP_BODY_BUDGET_FACTOR x the larger body limit
CLIENTS = 40
MIB = 1024 * 1024


def sealed_len(plain_len):
    """Length of B64(B64(IV12 || ciphertext || tag16)) for plain_len bytes."""
    inner = 4 * ((12 + plain_len + 16 + 2) // 3)
    return 4 * ((inner + 2) // 3)


def big_page():
    """About 1.7 MB of distinct paragraphs (repeated ones would be merged), in sections of 1000
    (a section keeps at most 5000)."""
    parts = []
    for i in range(28000):
        if i % 1000 == 0:
            parts.append(b"<h2>part %d</h2>" % (i // 1000))
        parts.append(b"<p>paragraph %d of the big page: %s</p>" % (i, b"x" * 40))
    return (b"<html><head><title>Big</title></head><body><h1>Big</h1>" + b"".join(parts)
            + b"</body></html>")


def memory_kib(pid, field):
    with open("/proc/%d/status" % pid, "r", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    h.fail("no %s in /proc/%d/status" % (field, pid))


def reset_peak(pid):
    """Sets the process's VmHWM back to its current VmRSS (proc(5): clear_refs, value 5)."""
    with open("/proc/%d/clear_refs" % pid, "w", encoding="ascii") as f:
        f.write("5")


def sanitized():
    """True when the worker carries AddressSanitizer: its allocator keeps freed memory in a
    quarantine (256 MB by default), so every copy ever made stays resident for a while."""
    with open(h.binary(), "rb") as f:
        return b"__asan_init" in f.read()


def poll_without_reading(port, uid, count):
    """Opens count connections with tiny receive buffers and sends a GET /job/status on each,
    reading nothing: the answers that fit the budget stay held by the worker."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30.0)
        s.connect((h.HOST, port))
        s.sendall(("GET /job/status/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % uid).encode("ascii"))
        socks.append(s)
    return socks


def wait_all_answered(socks, timeout=60.0):
    """Waits until every connection has the start of its answer to read: every request was
    handled, the served ones' answers are held (their readers read nothing yet)."""
    deadline = time.monotonic() + timeout
    pending = list(socks)
    while pending:
        h.check(time.monotonic() < deadline, "%d of %d polls still unanswered after %.0f s"
                % (len(pending), len(socks), timeout))
        ready, _, _ = select.select(pending, [], [], 0.5)
        pending = [s for s in pending if s not in ready]


def parse_answer(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


BUDGET_REFUSAL = {"error": "too many response bytes in flight on this worker; retry later"}


def polls_at_once(port, uid, size):
    """CLIENTS polls of uid sent together and read once all are answered: (served, refused),
    each checked: 200 with the sealed result (size bytes), or the budget's 503."""
    socks = poll_without_reading(port, uid, CLIENTS)
    wait_all_answered(socks)
    answers = [parse_answer(h.read_until_closed(s)) for s in socks]
    for s in socks:
        s.close()
    served = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 503]
    h.check_eq(len(served) + len(refused), CLIENTS,
               "answers 200 or 503 (got %r)" % sorted(a[0] for a in answers))
    for _, _, body in served:
        h.check_eq(len(body), size, "length of a served sealed result")
    for _, headers, body in refused:
        h.check_eq(headers.get("retry-after"), "1", "Retry-After of a refused poll")
        h.check(headers.get("content-type", "").startswith("application/json"),
                "Content-Type of a refused poll: %r" % headers.get("content-type"))
        h.check_eq(json.loads(body.decode("utf-8")), BUDGET_REFUSAL, "body of a refused poll")
    return served, refused


def test_polls_over_the_budget_are_refused_before_sealing():
    with Site() as site:
        site.page("/big", big_page())
        # Four HTTP threads: with the old order, as many copies could be sealed at once only to
        # be refused.
        env = {"WEBSCRAPER_ALLOW_PRIVATE": "true", "HTTP_MAX_RESULT_BODY_BYTES": str(RESULT_BODY),
               "HTTP_THREADS": "4"}
        with h.Worker(env=env) as w:
            sig = w.generate({"type": "web", "arguments": {"url": site.url("/big")}})
            uid = w.add(sig)
            st = w.wait_status(uid, timeout=60)
            h.expect_status(st, 200, "status of the big web job")
            r = w.result(st.text, sig)
            h.expect_status(r, 200, "its result")
            plain = len(r.body)
            size = len(st.body)
            h.check_eq(size, sealed_len(plain), "sealed answer length for %d bytes" % plain)
            h.check(MIB < size <= BUDGET // 4,
                    "the sealed result (%d bytes) should be over 1 MiB and fit the budget at "
                    "least 4 times" % size)
            fit = BUDGET // size

            pid = w.proc.pid
            reset_peak(pid)     # the crawl's own peak is not this test's business
            rss_before = memory_kib(pid, "VmHWM") * 1024
            served, refused = polls_at_once(w.port, uid, size)
            peak = memory_kib(pid, "VmHWM") * 1024
            # Held unread, the answers that fit the budget block the others: at most `fit` at
            # once, so most of the 40 are refused (a served one may complete into the socket
            # buffers and make room for a few more).
            h.check(len(refused) >= CLIENTS // 2,
                    "only %d of %d polls refused with a budget for %d answers"
                    % (len(refused), CLIENTS, fit))
            h.check(len(served) >= 1, "no poll served")

            # Memory: the served copies (resident until freed; with AddressSanitizer's quarantine,
            # each of them for the rest of the test) and a little for the connections. A refused
            # poll that sealed its copy first (the old order) adds one copy each.
            slack = 3 * MIB
            grown = peak - rss_before
            print("%d served, %d refused, sealed answer %.2f MiB, budget %.0f MiB, peak grew by "
                  "%.2f MiB" % (len(served), len(refused), size / MIB, BUDGET / MIB, grown / MIB))
            # (AddressSanitizer adds its shadow, an eighth, to every byte allocated)
            copy = size * 9 // 8 if sanitized() else size
            bound = (len(served) + 1) * copy + slack
            h.check(grown <= bound,
                    "peak memory grew by %.1f MiB for %d served and %d refused polls of a %.1f MiB "
                    "answer (bound %.1f MiB): refused polls built their copies"
                    % (grown / MIB, len(served), len(refused), size / MIB, bound / MIB))
            if not sanitized():
                # Freed copies go back to the system: no more than the budget alive at once. (The
                # old order added the copies the HTTP threads were sealing to be refused: 22 to
                # 28 MiB here, against 11 to 15 MiB now.)
                h.check(grown <= BUDGET + 2 * MIB,
                        "peak memory grew by %.1f MiB, over the %.0f MiB budget"
                        % (grown / MIB, BUDGET / MIB))
            # Every byte went back to the budget: polls one at a time are all served.
            for i in range(2 * fit):
                r = w.get("/job/status/" + uid)
                h.expect_status(r, 200, "poll %d after the burst" % (i + 1))
                h.check_eq(len(r.body), size, "its length")
            w.healthy("the polls")


if __name__ == "__main__":
    h.main(globals())
