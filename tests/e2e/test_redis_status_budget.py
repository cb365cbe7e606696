#!/usr/bin/env python3
"""test_redis_status_budget.py - /job/status on a Redis store (STORE_URL=redis://...) reserves a
result in the answer budget before reading it from Redis, and reads no more than it reserved.

A worker of the fleet runs a web job whose result is about 3 MB sealed in Redis; a second worker,
which never saw the job (so it must read the result from Redis), is polled through a TCP proxy that
counts every byte Redis sends it (redis-server on a free loopback port, as in test_fleet.py).
  - 40 polls held unread under a 16 MiB body budget: most are refused with the same 503 as on the
    SQLite store (test_answer_budget.py), and the refused ones read nothing from Redis: the bytes
    Redis sent are those of the served polls (the old order read the whole result for every poll,
    then refused it: 40 results, 120 MB);
  - the result deleted between its length and its read: "Job not found", status "unknown";
  - a length that lies (smaller than the value, as for a result written again in between): the
    read takes no more than the length said, the poll answers 503 and the next one is served;
  - a Redis that answers the read with more than the length it gave: the connection is cut at
    that length (plus framing), the poll answers 503, and the worker serves the next one."""
import re
import threading
import time

import harness as h
from fakes.site import Site
from test_answer_budget import BUDGET, CLIENTS, MIB, RESULT_BODY, big_page, polls_at_once
from test_fleet import FakeRedisListener, Redis, fleet_env, keys_file

STORE_UNAVAILABLE = {"error": "job store unavailable; retry later"}
FRAMING = 1024   # what a read of the result may bring besides its text (the worker allows 256)


class CountingProxy(FakeRedisListener):
    """A TCP proxy to Redis that counts the bytes Redis sends the workers. on_command(c, data),
    when given, sees each chunk a worker sends (c: that worker's connection) and returns the
    bytes to pass on to Redis (b"" for none: it may answer on c itself)."""

    def __init__(self, redis_port, on_command=None):
        self.redis_port = redis_port
        self.on_command = on_command
        self.from_redis = 0
        self.lock = threading.Lock()
        self.conns = []
        self.listen(16)

    def connected(self, c):
        forward = (lambda d: self.on_command(c, d)) if self.on_command else (lambda d: d)
        u = self._relay(c, forward, self._count)
        if u:
            self.conns += [c, u]

    def _count(self, data):
        with self.lock:
            self.from_redis += len(data)
        return data

    def received(self):
        with self.lock:
            return self.from_redis


def finish_big_job(redis, keys):
    """Runs a web job of about 1.7 MB on a worker of the fleet, which stops once it is done (its
    result then in Redis). Returns (uid, length of a sealed answer, length of the stored text)."""
    with Site() as site:
        site.page("/big", big_page())
        env = fleet_env(redis, keys, WEBSCRAPER_ALLOW_PRIVATE="true")
        with h.Worker(env=env) as w:
            sig = w.generate({"type": "web", "arguments": {"url": site.url("/big")}})
            uid = w.add(sig)
            st = w.wait_status(uid, timeout=60)
            h.expect_status(st, 200, "status of the big web job")
            size = len(st.body)
    stored = redis.cmd("STRLEN", "tee-worker:result:" + uid)
    h.check(isinstance(stored, int) and stored > size > MIB,
            "stored result %r bytes, sealed answer %d: expected a stored text longer than the "
            "answer, over 1 MiB" % (stored, size))
    return uid, size, stored


class BigResultInRedis:
    """A redis-server holding a finished big web job's result (finish_big_job: uid, size,
    stored), with proxy() making the CountingProxy a poller goes through; on exit the proxy
    closes and Redis stops."""

    def __enter__(self):
        self.redis = Redis().start()
        self._proxy = None
        try:
            self.keys = keys_file()
            self.uid, self.size, self.stored = finish_big_job(self.redis, self.keys)
        except BaseException:
            self.redis.stop()
            raise
        return self

    def proxy(self, on_command=None):
        self._proxy = CountingProxy(self.redis.port, on_command)
        return self._proxy

    def poller(self):
        """A worker of the fleet polling through the proxy, under the small answer budget."""
        return h.Worker(env=poller_env(self._proxy, self.keys))

    def __exit__(self, *exc):
        if self._proxy:
            self._proxy.close()
        self.redis.stop()
        return False


def poller_env(proxy, keys):
    return fleet_env(proxy, keys, HTTP_MAX_RESULT_BODY_BYTES=str(RESULT_BODY), HTTP_THREADS="4")


def expect_served(w, uid, size, what):
    r = w.get("/job/status/" + uid, timeout=30)
    h.expect_status(r, 200, what)
    h.check_eq(len(r.body), size, what + ": length")


def test_polls_the_budget_refuses_read_nothing_from_redis():
    with BigResultInRedis() as big:
        uid, size, stored = big.uid, big.size, big.stored
        fit = BUDGET // stored
        h.check(fit >= 4, "the stored result (%d bytes) should fit the budget 4 times" % stored)
        proxy = big.proxy()
        with big.poller() as w:
            expect_served(w, uid, size, "a first poll, alone")
            before = proxy.received()
            # each answer checked as the SQLite store's (test_answer_budget.py)
            served, refused = polls_at_once(w.port, uid, size)
            read = proxy.received() - before
            h.check(len(refused) >= CLIENTS // 2,
                    "only %d of %d polls refused with a budget for %d results"
                    % (len(refused), CLIENTS, fit))
            h.check(len(served) >= 1, "no poll served")
            print("%d served, %d refused, stored result %.2f MiB, %.2f MiB read from redis"
                  % (len(served), len(refused), stored / MIB, read / MIB))
            # Every served poll read the result once; a refused one read nothing of it (the old
            # order read it for every poll: CLIENTS times).
            bound = len(served) * stored + MIB
            h.check(read <= bound,
                    "redis sent %.1f MiB for %d served and %d refused polls of a %.2f MiB result "
                    "(bound %.1f MiB): refused polls read the result"
                    % (read / MIB, len(served), len(refused), stored / MIB, bound / MIB))
            # Every byte went back to the budget: polls one at a time are all served.
            for i in range(2 * fit):
                expect_served(w, uid, size, "poll %d after the burst" % (i + 1))
            w.healthy("the polls")


def test_result_deleted_between_its_length_and_its_read_is_not_found():
    with BigResultInRedis() as big:
        uid, size = big.uid, big.size
        armed = threading.Event()

        def delete_first(c, data):
            if armed.is_set() and b"GETRANGE" in data:   # the read, after the length was seen
                armed.clear()
                big.redis.cmd("DEL", "tee-worker:result:" + uid)
            return data

        big.proxy(delete_first)
        with big.poller() as w:
            expect_served(w, uid, size, "a poll before the result goes")
            armed.set()
            r = w.get("/job/status/" + uid, timeout=30)
            doc = h.expect_json_error(r, 404, "a poll whose result was deleted while read",
                                      message="Job not found")
            h.check_eq(doc.get("status"), "unknown", "its status member")
            h.check(not armed.is_set(), "the read of the result never went to redis")
            w.healthy("the poll")


def test_length_smaller_than_the_value_reads_no_more_than_it_said():
    with BigResultInRedis() as big:
        uid, size, stored = big.uid, big.size, big.stored
        said = stored // 2
        armed = threading.Event()

        def lie_about_length(c, data):
            # the lookup's first round trip: STRLEN of the result and EXISTS of the job
            if armed.is_set() and b"STRLEN" in data and b"MULTI" not in data:
                armed.clear()
                c.sendall(b":%d\r\n:0\r\n" % said)
                return b""
            return data

        proxy = big.proxy(lie_about_length)
        with big.poller() as w:
            armed.set()
            before = proxy.received()
            r = w.get("/job/status/" + uid, timeout=30)
            read = proxy.received() - before
            h.expect_json_error(r, 503, "a poll whose result is longer than its length said")
            h.check_eq(r.json(), STORE_UNAVAILABLE, "its body")
            h.check(not armed.is_set(), "the length was never asked")
            h.check(read <= said + FRAMING,
                    "redis sent %d bytes for a result said to be %d bytes long" % (read, said))
            h.check("changed while read" in w.stderr(),
                    "no log line about the result changing:\n%s" % w.stderr()[-3000:])
            expect_served(w, uid, size, "the next poll")
            w.healthy("the polls")


def test_redis_sending_more_than_the_length_it_gave_is_cut_off():
    with BigResultInRedis() as big:
        uid, size, stored = big.uid, big.size, big.stored
        flood = 64 * MIB
        armed = threading.Event()
        pushed = []

        def push_flood(c):
            """EXEC's answer with a text of `flood` bytes, whatever was asked."""
            n = 0
            try:
                head = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$%d\r\n" % flood
                c.sendall(head)
                chunk = b"A" * 65536
                while n < flood:
                    c.sendall(chunk)
                    n += len(chunk)
                c.sendall(b"\r\n:%d\r\n" % flood)
            except OSError:
                pass
            pushed.append(n)

        def answer_the_read(c, data):
            if armed.is_set() and b"GETRANGE" in data:
                armed.clear()
                threading.Thread(target=push_flood, args=(c,), daemon=True).start()
                return b""
            return data

        big.proxy(answer_the_read)
        with big.poller() as w:
            armed.set()
            r = w.get("/job/status/" + uid, timeout=30)
            h.expect_json_error(r, 503, "a poll whose read redis answers with too much")
            h.check_eq(r.json(), STORE_UNAVAILABLE, "its body")
            bounds = [int(n) for n in re.findall(r"reply larger than (\d+) bytes", w.stderr())]
            h.check(bounds and stored <= bounds[-1] <= stored + FRAMING,
                    "no connection cut at the result's length (%d bytes + framing); bounds "
                    "logged: %r\n%s" % (stored, bounds, w.stderr()[-3000:]))
            deadline = time.monotonic() + 10
            while not pushed and time.monotonic() < deadline:
                time.sleep(0.05)
            h.check(pushed and pushed[0] < flood, "the worker read the whole %d MiB flood"
                    % (flood // MIB))
            # after the pool's reconnect back-off, the next poll is served
            deadline = time.monotonic() + 10
            while True:
                r = w.get("/job/status/" + uid, timeout=30)
                if r.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            h.expect_status(r, 200, "a poll after the connection was cut")
            h.check_eq(len(r.body), size, "its length")
            w.healthy("the polls")


if __name__ == "__main__":
    h.main(globals())
