#!/usr/bin/env python3
"""test_redis_stream_oversize.py - a job stream entry larger than a worker's reply bound is skipped,
and the jobs behind it run.

A worker never admits a job whose sealed text is longer than it reads back (REDIS_MAX_TEXT), and
the connection pool drops a connection once one round trip has read more than REDIS_REPLY_MAX
(one sealed text plus 1 MiB, 129 MiB). An entry larger than that can only come from a hostile or
misconfigured Redis, or another program writing into the stream: every read that includes it
(XREADGROUP, or XAUTOCLAIM taking it over from a worker gone) then fails, and before the fix the
feeder retried it forever while every job behind it waited. Here a real redis-server (as in
test_fleet.py) gets an entry of 130 MiB, in the worker's format (fields uid and job, a job:<uid>
key naming it), written directly; then normal jobs are added through /job/add. They must all
finish, the big entry's job must finish failed with an error naming its size (its uid is learnt
server-side), the stream must end empty, the worker must stay healthy and ready, the error must be
logged with the entry's id and size, and the worker's peak memory must stay within the bound it
reads (the first read of the entry is cut there; nothing reads it again)."""
import socket
import time
import uuid

import harness as h
from test_fleet import TELEMETRY, Redis, _read_reply, fleet_env, keys_file

STREAM = "tee-worker:jobs"
BIG = 130 * 1024 * 1024                          # more than the reply bound below
ENTRY_BYTES = len("uid") + 36 + len("job") + BIG  # the entry's fields, names and values
REPLY_MAX = 128 * 1024 * 1024 + 1024 * 1024      # store_redis.c REDIS_REPLY_MAX


def raw_command(redis, *args, read_reply=True, timeout=120):
    """One command on a fresh connection with a long timeout (a 130 MiB argument); with
    read_reply False only the first line of the answer is read (so the command ran), and the
    rest, possibly huge, is left unread when the connection closes."""
    with socket.create_connection((h.HOST, redis.port), timeout=timeout) as s:
        s.sendall(b"*%d\r\n" % len(args))
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            s.sendall(b"$%d\r\n" % len(a))
            s.sendall(a)
            s.sendall(b"\r\n")
        f = s.makefile("rb")
        if not read_reply:
            return f.readline()
        return _read_reply(f)


def add_big_entry(redis):
    """XADD an entry of the worker's shape whose job field exceeds the bound, and the job:<uid>
    key admission writes next to it. Returns (uid, entry id)."""
    uid = str(uuid.uuid4())
    entry = raw_command(redis, "XADD", STREAM, "*", "uid", uid, "job", b"A" * BIG)
    h.check(isinstance(entry, str) and "-" in entry, "XADD answered %r" % entry)
    h.check_eq(redis.cmd("SET", "tee-worker:job:" + uid, entry, "EX", "3600"), "OK", "SET job key")
    return uid, entry


def wait_group(redis):
    deadline = time.monotonic() + 15
    while True:
        try:
            if redis.cmd("XINFO", "GROUPS", STREAM):
                return
        except OSError:
            pass
        h.check(time.monotonic() < deadline, "the worker never created the consumer group")
        time.sleep(0.05)


def add_retrying(w, sig, deadline):
    """/job/add, again on a 503 (a reconnect back-off after the dropped read may be running)."""
    while True:
        r = w.post("/job/add", json_body={"encrypted_job": sig}, timeout=20.0)
        if r.status == 200:
            return r.json()["uid"]
        h.check(r.status == 503 and time.monotonic() < deadline, "/job/add: %s" % r.describe())
        time.sleep(0.2)


def wait_final(w, uid, deadline, what):
    """Polls /job/status until it is neither pending (404) nor unavailable (503)."""
    while True:
        r = w.get("/job/status/" + uid)
        if r.status not in (404, 503):
            return r
        h.check(time.monotonic() < deadline, "%s still pending: %s\n%s"
                % (what, r.describe(), w.stderr()[-3000:]))
        time.sleep(0.1)


def check_skipped(redis, w, uid, entry, sigs_uids, deadline, entry_bytes=ENTRY_BYTES):
    """The jobs behind the big entry ran, it finished failed, the stream is empty, the worker is
    healthy and its memory stayed within the bound."""
    for sig, job_uid in sigs_uids:
        st = wait_final(w, job_uid, deadline, "the job behind the big entry")
        h.expect_status(st, 200, "status of a job behind the big entry")
        h.expect_status(w.result(st.text, sig), 200, "result of a job behind the big entry")
    st = wait_final(w, uid, deadline, "the big entry's job")
    doc = h.expect_json_error(st, 500, "status of the big entry's job")
    h.check(str(entry_bytes) in doc["error"] and "too large" in doc["error"],
            "the big entry's error does not say why: %r" % doc["error"])
    log = w.stderr()
    h.check(any(entry in line and str(entry_bytes) in line and " error " in line
                for line in log.splitlines()),
            "no error line naming entry %s and its size %d:\n%s" % (entry, entry_bytes,
                                                                    log[-3000:]))
    while redis.cmd("XLEN", STREAM) != 0:
        h.check(time.monotonic() < deadline, "stream length %r at the end"
                % redis.cmd("XLEN", STREAM))
        time.sleep(0.1)
    h.check_eq(redis.cmd("XPENDING", STREAM, "workers")[0], 0, "entries pending at the end")
    h.check_eq(redis.cmd("EXISTS", "tee-worker:job:" + uid), 0, "the big entry's job key")
    w.healthy("the big entry")
    r = w.get("/readyz")
    h.expect_status(r, 200, "/readyz after the big entry")
    with open("/proc/%d/status" % w.proc.pid) as f:
        kb = {l.split(":")[0]: int(l.split()[1]) for l in f.read().splitlines()
              if l.startswith(("VmRSS:", "VmHWM:"))}
    print("  big entry %s skipped; RSS %d kB, peak %d kB" % (entry, kb["VmRSS"], kb["VmHWM"]))
    # one read cut at the bound, and (under ASan) the quarantine of the buffers the reader grew
    # through; a worker reading the entry whole, or once per retry, goes past it
    h.check(kb["VmHWM"] < (2 * REPLY_MAX + 512 * 1024 * 1024) // 1024,
            "peak RSS %d kB" % kb["VmHWM"])
    reads = log.count("reply larger than")
    h.check(reads <= 1, "the big entry was read %d times" % reads)


def test_entry_over_the_bound_is_skipped_and_the_jobs_behind_it_run():
    redis = Redis().start()
    try:
        env = fleet_env(redis, keys_file(), STORE_REDIS_CLAIM_MARGIN_SECONDS="600")
        with h.Worker(env=env) as w:
            wait_group(redis)
            uid, entry = add_big_entry(redis)
            deadline = time.monotonic() + 60
            sigs = [w.generate(TELEMETRY) for _ in range(6)]
            sigs_uids = [(sig, add_retrying(w, sig, deadline)) for sig in sigs]
            check_skipped(redis, w, uid, entry, sigs_uids, deadline)
            for _ in range(3):      # and the worker goes on taking jobs
                w.run_job(TELEMETRY)
    finally:
        redis.stop()


def test_entry_over_the_bound_left_by_a_worker_gone_is_skipped_when_taken_over():
    """The big entry was given to a worker that stopped (it sits in that consumer's pending list):
    taking it over (XAUTOCLAIM, once idle past JOB_TIMEOUT + margin) fails the same way, and the
    worker that took it over must skip it too."""
    redis = Redis().start()
    try:
        env = fleet_env(redis, keys_file(), JOB_TIMEOUT_SECONDS="2",
                        STORE_REDIS_CLAIM_MARGIN_SECONDS="1")
        redis.cmd("XGROUP", "CREATE", STREAM, "workers", "0", "MKSTREAM")
        uid, entry = add_big_entry(redis)
        first = raw_command(redis, "XREADGROUP", "GROUP", "workers", "gone-worker", "COUNT", "1",
                            "STREAMS", STREAM, ">", read_reply=False)
        h.check_eq(first, b"*1\r\n", "first line of the gone worker's read")
        pending = redis.cmd("XPENDING", STREAM, "workers", "-", "+", "10")
        h.check(len(pending) == 1 and pending[0][0] == entry and pending[0][1] == "gone-worker",
                "pending entries before the worker starts: %r" % pending)
        with h.Worker(env=env) as w:
            deadline = time.monotonic() + 60
            while "reply larger than" not in w.stderr():    # the take-over read was cut
                h.check(time.monotonic() < deadline, "the worker never took the big entry over:"
                        "\n%s" % w.stderr()[-3000:])
                time.sleep(0.05)
            sigs = [w.generate(TELEMETRY) for _ in range(3)]
            sigs_uids = [(sig, add_retrying(w, sig, deadline)) for sig in sigs]
            check_skipped(redis, w, uid, entry, sigs_uids, deadline)
    finally:
        redis.stop()


def test_entry_with_more_fields_than_a_reply_may_hold_is_skipped():
    """An entry of 70000 small fields (names and values) is small, but its field array is longer
    than the reader takes (REDIS_REPLY_ARRAY_MAX, 65536: hiredis would allocate whatever count a
    reply declares), so every read including it fails the same way as one over the byte bound."""
    redis = Redis().start()
    try:
        with h.Worker(env=fleet_env(redis, keys_file())) as w:
            wait_group(redis)
            uid = str(uuid.uuid4())
            args = ["uid", uid, "job", "x"]
            for i in range(34998):
                args += ["f%d" % i, "v"]
            entry = raw_command(redis, "XADD", STREAM, "*", *args)
            h.check_eq(len(args), 70000, "fields of the entry")
            h.check_eq(redis.cmd("SET", "tee-worker:job:" + uid, entry), "OK", "SET job key")
            deadline = time.monotonic() + 60
            sigs = [w.generate(TELEMETRY) for _ in range(3)]
            sigs_uids = [(sig, add_retrying(w, sig, deadline)) for sig in sigs]
            check_skipped(redis, w, uid, entry, sigs_uids, deadline,
                          entry_bytes=sum(len(a) for a in args))
            h.check("70000 fields" in w.stderr(), "the field count is not logged")
    finally:
        redis.stop()


if __name__ == "__main__":
    h.main(globals())
