#!/usr/bin/env python3
"""test_redis_lookup_bound.py - /job/status on a Redis store reads a job's result within the
connection's reply bound (REDIS_REPLY_MAX, one sealed text plus a margin) even when the job's own
text is large.

A result text may be ~114 MiB (a 64 MiB result sealed) and, with HTTP_MAX_BODY_BYTES raised, a job
text tens of MiB: a lookup that read both in one answer (MGET result job) went past the bound, so
the connection was dropped, the pool backed off and the poll answered 503 every time. Here Redis
(redis-server on a free loopback port, as in test_fleet.py) holds a 100 MiB result and a 40 MiB job
under one uid; the poll must get an answer about the result (not openable with this fleet's keys:
404 "unknown") and no connection may be dropped for the reply bound."""
import json
import uuid

import harness as h
from test_fleet import Redis, fleet_env, keys_file


def test_status_of_a_large_result_with_a_large_job_stays_within_the_reply_bound():
    redis = Redis().start()
    try:
        uid = str(uuid.uuid4())
        redis.cmd("SET", "tee-worker:result:" + uid, b"A" * (100 << 20))
        redis.cmd("SET", "tee-worker:job:" + uid, b"A" * (40 << 20))
        with h.Worker(env=fleet_env(redis, keys_file())) as w:
            r = w.get("/job/status/" + uid, timeout=120)
            h.expect_status(r, 404, "status of a job whose result this fleet cannot open")
            h.check(json.loads(r.body).get("status") == "unknown",
                    "status member: expected \"unknown\", got %r" % r.body[:200])
            h.check("reply larger than" not in w.stderr(),
                    "a connection was dropped for the reply bound:\n%s" % w.stderr()[-3000:])
    finally:
        redis.stop()


if __name__ == "__main__":
    h.main(globals())
