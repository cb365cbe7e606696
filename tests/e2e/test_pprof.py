#!/usr/bin/env python3
"""test_pprof.py - the standalone profiling switch (core-protocol.md 1.5.4, issue 10).

Off by default: the dump routes answer 404. POST /debug/pprof/enable (behind the API key) turns
them on; /debug/pprof/profile?seconds=N returns a CPU profile in gperftools' legacy pprof format,
recognised here by its binary header (five machine words: 0, 3, 0, sampling period in
microseconds, 0), its trailer (0, 1, 0) and the memory map text after it; /debug/pprof/heap gives
the allocator summary. Bad `seconds` is 400, a second concurrent profile 409. POST
/debug/pprof/disable really turns them off (404 again), and ENABLE_PPROF=true starts enabled.
Enclave mode (400) cannot run here without Gramine; tests/unit/test_pprof.c covers it."""
import struct
import threading
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status

KEY = "pprof-key-5678"
AUTH = {"X-API-Key": KEY}
WORD = struct.calcsize("<Q")


def check_pprof_profile(body):
    """body must be a gperftools CPU profile (legacy binary format, 64-bit little endian)."""
    check(len(body) >= 8 * WORD, "profile too short: %d bytes" % len(body))
    hdr = struct.unpack_from("<5Q", body, 0)
    check(hdr[0] == 0 and hdr[1] == 3 and hdr[2] == 0 and hdr[4] == 0,
          "not a pprof CPU profile header: %r" % (hdr,))
    check(1 <= hdr[3] <= 1000000, "sampling period %d us is implausible" % hdr[3])
    trailer = struct.pack("<3Q", 0, 1, 0)
    at = body.find(trailer, 5 * WORD)
    check(at >= 0 and at % WORD == 0, "no aligned end-of-profile trailer (0, 1, 0)")
    maps = body[at + len(trailer):].decode("utf-8", errors="replace")
    check("tee-worker" in maps, "the memory map after the trailer does not name the binary")
    return hdr[3]


def burn(w, stop):
    while not stop.is_set():
        w.post("/job/generate", json_body={"type": "telemetry", "arguments": {}}, headers=AUTH)


def test_off_by_default_and_behind_the_key():
    with Worker(api_key=KEY) as w:
        for path in ("/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/heap"):
            expect_status(w.get(path, headers=AUTH), 404, "GET %s while disabled" % path)
        expect_status(w.post("/debug/pprof/enable"), 401, "enable without the API key")
        expect_status(w.get("/debug/pprof/heap", headers=AUTH), 404, "still disabled after a 401")


def test_enable_profile_heap_disable():
    with Worker(api_key=KEY, env={"HTTP_THREADS": "3"}) as w:
        r = expect_status(w.post("/debug/pprof/enable", headers=AUTH), 200, "enable")
        check_eq(r.text, "pprof enabled", "enable body")
        expect_status(w.get("/debug/pprof/", headers=AUTH), 200, "index")
        heap = expect_status(w.get("/debug/pprof/heap", headers=AUTH), 200, "heap")
        check("in_use " in heap.text and "arena " in heap.text, "heap summary: %r" % heap.text)
        expect_status(w.get("/debug/pprof/allocs", headers=AUTH), 200, "allocs")
        for bad in ("0", "301", "abc", "-1"):
            expect_json_error(w.get("/debug/pprof/profile?seconds=" + bad, headers=AUTH), 400,
                              "seconds=" + bad)

        stop = threading.Event()
        burner = threading.Thread(target=burn, args=(w, stop))
        result = {}

        def profile():
            result["r"] = w.get("/debug/pprof/profile?seconds=2", headers=AUTH, timeout=30)

        prof = threading.Thread(target=profile)
        burner.start()
        prof.start()
        time.sleep(0.5)
        expect_json_error(w.get("/debug/pprof/profile?seconds=1", headers=AUTH), 409,
                          "a second profile while one runs")
        prof.join(30)
        stop.set()
        burner.join(10)
        r = result.get("r")
        check(r is not None, "the profile request did not return")
        expect_status(r, 200, "profile")
        check_eq(r.header("Content-Type"), "application/octet-stream", "profile Content-Type")
        check_pprof_profile(r.body)

        r = expect_status(w.post("/debug/pprof/disable", headers=AUTH), 200, "disable")
        check_eq(r.text, "pprof disabled", "disable body")
        for path in ("/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/heap"):
            expect_status(w.get(path, headers=AUTH), 404, "GET %s after disable" % path)
        expect_status(w.post("/debug/pprof/enable", headers=AUTH), 200, "enable again")
        expect_status(w.get("/debug/pprof/heap", headers=AUTH), 200, "heap after re-enable")
        w.healthy("profiling")


def test_profile_does_not_hold_the_server():
    """A CPU profile runs for `seconds` on a thread of its own: with the default single HTTP
    thread, the worker keeps answering (here /healthz and a job) meanwhile, and a SIGTERM during a
    long profile ends it at once instead of waiting for it."""
    with Worker(api_key=KEY) as w:       # HTTP_THREADS defaults to 1
        expect_status(w.post("/debug/pprof/enable", headers=AUTH), 200, "enable")
        result = {}

        def profile():
            result["r"] = w.get("/debug/pprof/profile?seconds=3", headers=AUTH, timeout=30)

        prof = threading.Thread(target=profile)
        prof.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        w.healthy("while a profile runs")
        w.run_job({"type": "telemetry", "arguments": {}}, headers=AUTH)
        took = time.monotonic() - t0
        check(took < 1.5, "requests during a 3 s profile took %.1f s" % took)
        prof.join(30)
        r = result.get("r")
        check(r is not None, "the profile request did not return")
        expect_status(r, 200, "profile")
        check_pprof_profile(r.body)

        def long_profile():
            try:
                w.get("/debug/pprof/profile?seconds=300", headers=AUTH, timeout=30)
            except OSError:
                pass        # the worker stopping may close the connection unanswered

        prof = threading.Thread(target=long_profile)
        prof.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        w.stop()
        check(time.monotonic() - t0 < 5, "stop during a 300 s profile took %.1f s"
              % (time.monotonic() - t0))
        prof.join(30)


def test_index_with_and_without_trailing_slash():
    # Go's index needs the trailing slash (core-protocol.md 10, row 31: fix): both paths answer it
    # while enabled, neither after disable
    with Worker(api_key=KEY) as w:
        expect_status(w.get("/debug/pprof", headers=AUTH), 404, "/debug/pprof while disabled")
        expect_status(w.post("/debug/pprof/enable", headers=AUTH), 200, "enable")
        slash = expect_status(w.get("/debug/pprof/", headers=AUTH), 200, "/debug/pprof/")
        bare = expect_status(w.get("/debug/pprof", headers=AUTH), 200, "/debug/pprof")
        check_eq(bare.text, slash.text, "the same index on both paths")
        expect_status(w.get("/debug/pprof"), 401, "/debug/pprof without the API key")
        expect_status(w.post("/debug/pprof/disable", headers=AUTH), 200, "disable")
        expect_status(w.get("/debug/pprof", headers=AUTH), 404, "/debug/pprof after disable")


def test_enable_pprof_at_start():
    with Worker(env={"ENABLE_PPROF": "true"}) as w:
        expect_status(w.get("/debug/pprof/heap"), 200, "heap with ENABLE_PPROF=true")
        r = expect_status(w.get("/debug/pprof/profile?seconds=1"), 200, "1 s profile")
        check_pprof_profile(r.body)


if __name__ == "__main__":
    harness.main(globals())
