#!/usr/bin/env python3
"""test_metrics.py - GET /metrics in the Prometheus text format, and LOG_FORMAT=json.

The exposition is parsed by a small Prometheus text-format (0.0.4) parser written here: every
sample must belong to a family declared by # TYPE, names and labels must be well formed, label
values unescaped, histogram buckets cumulative with +Inf equal to _count. Then the values are
checked against what the test did: requests by route and status (401s and unknown paths
included), jobs by kind and outcome (a success and a failure), the latency histogram, the queue,
the result cache, the key ring and the process gauges. The JSON-log test checks one JSON object
per line with the job's uid and kind on the job's line, and that the API key is never logged."""
import json
import re
import socket
import time

import harness
from harness import Worker, check, check_eq, expect_status, fail, free_port
from fakes.site import Site

KEY = "metrics-secret-key-1234"
AUTH = {"Authorization": "Bearer " + KEY}

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


# ---- a Prometheus text-format parser ----------------------------------------------------------

def parse_labels(text, pos, line):
    """Parses {a="x",b="y"} starting at text[pos] == '{'; returns (dict, position after '}')."""
    labels = {}
    pos += 1
    while True:
        if text[pos] == "}":
            return labels, pos + 1
        m = LABEL_RE.match(text, pos)
        check(m, "bad label name in %r" % line)
        name = m.group(0)
        pos = m.end()
        check(text[pos:pos + 2] == '="', "expected =\" after label %s in %r" % (name, line))
        pos += 2
        value = []
        while True:
            check(pos < len(text), "unterminated label value in %r" % line)
            c = text[pos]
            if c == "\\":
                esc = text[pos + 1]
                check(esc in '\\"n', "bad escape \\%s in %r" % (esc, line))
                value.append("\n" if esc == "n" else esc)
                pos += 2
            elif c == '"':
                pos += 1
                break
            else:
                value.append(c)
                pos += 1
        check(name not in labels, "duplicate label %s in %r" % (name, line))
        labels[name] = "".join(value)
        if text[pos] == ",":
            pos += 1
        else:
            check(text[pos] == "}", "expected , or } in %r" % line)


def parse_value(s, line):
    if s in ("+Inf", "Inf"):
        return float("inf")
    if s == "-Inf":
        return float("-inf")
    if s == "NaN":
        return float("nan")
    try:
        return float(s)
    except ValueError:
        fail("bad sample value %r in %r" % (s, line))


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in ("histogram", "summary"):
            return name[:-len(suffix)]
    fail("sample %s has no # TYPE line before it" % name)


def parse_exposition(text):
    """Returns (types {family: type}, samples [(name, labels, value)])."""
    check(text.endswith("\n"), "the exposition must end with a newline")
    types, helps, samples = {}, {}, []
    for line in text.split("\n")[:-1]:
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                check(NAME_RE.fullmatch(parts[2]), "bad metric name in %r" % line)
                if parts[1] == "TYPE":
                    check(len(parts) == 4 and parts[3] in TYPES, "bad TYPE line %r" % line)
                    check(parts[2] not in types, "TYPE declared twice: %r" % line)
                    check(not any(s[0] == parts[2] for s in samples), "TYPE after samples: %r" % line)
                    types[parts[2]] = parts[3]
                else:
                    check(parts[2] not in helps, "HELP declared twice: %r" % line)
                    helps[parts[2]] = parts[3] if len(parts) == 4 else ""
            continue
        m = NAME_RE.match(line)
        check(m, "bad sample line %r" % line)
        name, pos = m.group(0), m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line, pos, line)
        rest = line[pos:].split()
        check(line[pos:pos + 1] == " " and len(rest) in (1, 2), "bad sample line %r" % line)
        samples.append((name, labels, parse_value(rest[0], line)))
        family_of(name, types)
    return types, samples


def check_histograms(types, samples):
    for fam, typ in types.items():
        if typ != "histogram":
            continue
        series = {}
        for name, labels, value in samples:
            if name == fam + "_bucket":
                key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                series.setdefault(key, []).append((parse_value(labels["le"], name), value))
        for key, buckets in series.items():
            les = [b[0] for b in buckets]
            check(les == sorted(les) and les[-1] == float("inf"), "%s%r: buckets out of order" % (fam, key))
            counts = [b[1] for b in buckets]
            check(counts == sorted(counts), "%s%r: buckets not cumulative: %r" % (fam, key, counts))
            count = value_of(samples, fam + "_count", dict(key))
            check_eq(counts[-1], count, "%s%r: +Inf bucket vs _count" % (fam, key))
            check(value_of(samples, fam + "_sum", dict(key)) >= 0, "%s: negative _sum" % fam)


def value_of(samples, name, labels=None, default=None):
    want = labels or {}
    found = [v for n, l, v in samples if n == name and l == want]
    if not found:
        if default is not None:
            return default
        fail("no sample %s%r" % (name, want))
    check(len(found) == 1, "duplicate series %s%r" % (name, want))
    return found[0]


def requests_of(samples, route, status):
    """tee_worker_http_requests_total of route and status (0 when the series is absent)."""
    return value_of(samples, "tee_worker_http_requests_total",
                    {"route": route, "status": str(status)}, 0.0)


def scrape(w):
    r = w.get("/metrics", headers=AUTH)
    expect_status(r, 200, "GET /metrics")
    ctype = r.header("Content-Type", "")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype, "Content-Type %r" % ctype)
    types, samples = parse_exposition(r.text)
    check_histograms(types, samples)
    return types, samples


# ---- tests -----------------------------------------------------------------------------------

def test_parser_rejects_malformed_text():
    """The parser used below is strict enough to catch what a real scraper would refuse."""
    for bad in ("no_type_metric 1\n", "# TYPE x counter\nx{a=\"1} 2\n", "# TYPE x counter\nx 1",
                "# TYPE x counter\nx one\n", "# TYPE x flute\nx 1\n"):
        try:
            parse_exposition(bad)
        except harness.TestFailure:
            continue
        fail("the parser accepted %r" % bad)
    types, samples = parse_exposition('# TYPE x counter\nx{a="q\\"\\\\\\n"} 3\n')
    check_eq(samples, [("x", {"a": 'q"\\\n'}, 3.0)], "escaped label parse")


def test_metrics_count_what_happened():
    env = {"JOB_QUEUE_MAX": "77", "WEBSCRAPER_ALLOW_PRIVATE": "true"}
    with Worker(env=env, api_key=KEY) as w:
        expect_status(w.get("/metrics"), 401, "/metrics without the API key")
        types, samples = scrape(w)
        check_eq(types.get("tee_worker_http_requests_total"), "counter", "requests TYPE")
        check_eq(value_of(samples, "tee_worker_http_requests_total",
                          {"route": "/metrics", "status": "401"}), 1.0, "the 401 on /metrics")

        for _ in range(2):
            w.run_job({"type": "telemetry", "arguments": {}}, headers=AUTH)
        sig = w.generate({"type": "web", "arguments": {"url": "http://127.0.0.1:%d/" % free_port()}},
                         headers=AUTH)
        uid = w.add(sig, headers=AUTH)
        expect_status(w.wait_status(uid, headers=AUTH), 500, "status of a failing web job")
        expect_status(w.post("/job/add", body="{}", headers=dict(AUTH, **{"Content-Type": "application/json"})),
                      400, "bad /job/add")
        expect_status(w.get("/no/such/path", headers=AUTH), 404, "unknown path")
        w.healthy("jobs")

        types, samples = scrape(w)
        req = lambda route, status: requests_of(samples, route, status)
        check_eq(req("/job/generate", 200), 3.0, "generate 200s")
        check_eq(req("/job/add", 200), 3.0, "add 200s")
        check_eq(req("/job/add", 400), 1.0, "add 400s")
        check_eq(req("/job/result", 200), 2.0, "result 200s")
        check_eq(req("/job/status/", 500), 1.0, "status 500 (the failed job)")
        check(req("/job/status/", 200) == 2.0, "status 200s: %r" % req("/job/status/", 200))
        check_eq(req("other", 404), 1.0, "unknown paths are counted as route other")
        check_eq(req("/metrics", 200), 1.0, "the first scrape")
        check_eq(req("/healthz", 200) >= 2, True, "healthz answers counted")

        job = lambda kind, outcome: value_of(samples, "tee_worker_jobs_total",
                                             {"kind": kind, "outcome": outcome}, 0.0)
        check_eq(job("telemetry", "success"), 2.0, "telemetry successes")
        check_eq(job("telemetry", "error"), 0.0, "telemetry errors")
        check_eq(job("web", "error"), 1.0, "web errors")
        check_eq(job("web", "success"), 0.0, "web successes")
        check_eq(types.get("tee_worker_job_duration_seconds"), "histogram", "latency TYPE")
        check_eq(value_of(samples, "tee_worker_job_duration_seconds_count", {"kind": "telemetry"}),
                 2.0, "telemetry latency observations")
        check_eq(value_of(samples, "tee_worker_job_duration_seconds_count", {"kind": "web"}),
                 1.0, "web latency observations")

        check_eq(value_of(samples, "tee_worker_job_queue_depth"), 0.0, "queue depth when idle")
        check_eq(value_of(samples, "tee_worker_job_queue_capacity"), 77.0, "queue capacity")
        check_eq(value_of(samples, "tee_worker_result_cache_entries", {"state": "finished"}), 3.0,
                 "finished results cached")
        check_eq(value_of(samples, "tee_worker_result_cache_entries", {"state": "pending"}), 0.0,
                 "pending results")
        check_eq(value_of(samples, "tee_worker_keyring_keys"), 0.0, "key ring (standalone, no /setkey)")
        check(value_of(samples, "process_resident_memory_bytes") > 1e6, "RSS should be over 1 MB")
        check(value_of(samples, "process_cpu_seconds_total") > 0, "CPU time should be positive")
        check_eq(types.get("process_cpu_seconds_total"), "counter", "cpu TYPE")
        check(abs(value_of(samples, "process_start_time_seconds") - time.time()) < 120,
              "process start time should be within two minutes of now")
        check(value_of(samples, "process_threads") >= 2, "threads")


def test_metrics_count_refused_bodies():
    """Answers made before a request reaches its route are answers too: a body over its limit
    (413, read and dropped, or refused at once from Content-Length) and a body the request budget
    cannot take (503) are counted by route and status; the 503 (the clients' load) stays out of
    the readiness window."""
    env = {"HTTP_MAX_BODY_BYTES": "4096", "HTTP_MAX_RESULT_BODY_BYTES": "8192"}   # budget 32 KiB
    with Worker(env=env, api_key=KEY) as w:
        json_auth = dict(AUTH, **{"Content-Type": "application/json"})
        r = w.post("/job/generate", body=b'{"type":"' + b"a" * 5000 + b'"}', headers=json_auth)
        expect_status(r, 413, "a body over HTTP_MAX_BODY_BYTES")
        s = socket.create_connection((harness.HOST, w.port), timeout=10)
        s.sendall(b"POST /job/add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
        answer = harness.read_until_closed(s)
        s.close()
        check(answer.startswith(b"HTTP/1.1 413"), "a declared 100 MB body: %r" % answer[:100])

        body = b'{"encrypted_request":"x","encrypted_result":"' + b"A" * 7900 + b'"}'
        # 5 x ~7950 bytes held at once: the 5th is over 32 KiB
        answers = harness.post_bodies_held_together(
            w.port, "/job/result", body, 5, b"Authorization: Bearer " + KEY.encode() + b"\r\n")
        check(answers[4].startswith(b"HTTP/1.1 503"), "body beyond the budget: %r" % answers[4][:100])

        types, samples = scrape(w)
        req = lambda route, status: requests_of(samples, route, status)
        check_eq(req("/job/generate", 413), 1.0, "413 of a body read and dropped")
        check_eq(req("/job/add", 413), 1.0, "413 of a declared length refused at once")
        check_eq(req("/job/result", 503), 1.0, "503 of the spent request budget")
        check_eq(req("/job/result", 500), 4.0, "500s of the bodies within the budget")
        ready = w.get("/readyz").json()
        # the 500s are refusals of the client's input and the 503 its load: none is the worker's
        check_eq(ready["checks"]["stats"]["error_count"], 0, "readiness errors")


def test_json_logs_carry_job_uid_and_kind_and_no_secret():
    env = {"LOG_FORMAT": "json"}
    with Worker(env=env, api_key=KEY) as w:
        _, uid, _, _ = w.run_job({"type": "telemetry", "arguments": {}}, headers=AUTH)
        expect_status(w.get("/metrics", headers={"X-API-Key": KEY + "x"}), 401, "wrong key")
        time.sleep(0.1)
        text = w.stderr()
    check(KEY not in text, "the API key appears in the log")
    lines = [l for l in text.splitlines() if l.strip()]
    check(lines, "no log lines")
    job_lines = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            fail("log line is not JSON: %r" % line)
        check(isinstance(obj, dict) and isinstance(obj.get("time"), str)
              and obj.get("level") in ("debug", "info", "warn", "error")
              and isinstance(obj.get("msg"), str), "log object lacks time/level/msg: %r" % line)
        if obj.get("job_uid") == uid:
            job_lines.append(obj)
    check(job_lines, "no log line carries job_uid %s:\n%s" % (uid, text[-2000:]))
    check(all(o.get("kind") == "telemetry" for o in job_lines), "kind member: %r" % job_lines)


def test_job_contents_stay_out_of_info_logs():
    # In enclave mode the host reads the logs: at the default level they must not show what a
    # client asked for (a URL, a query) or an error text that quotes it. Debug shows them.
    marker = "private-marker-7f3a"
    with Site() as site:
        site.page("/" + marker, "<h1>Page</h1><p>text</p>")
        for level, shown in (("info", False), ("debug", True)):
            with Worker(env={"WEBSCRAPER_ALLOW_PRIVATE": "true", "LOG_LEVEL": level}) as w:
                w.run_job({"type": "web", "arguments": {"url": site.url("/" + marker)}})
                err = w.run_failing_job({"type": "web", "arguments": {
                    "url": "http://127.0.0.1:%d/%s-refused" % (free_port(), marker)}})
                check(marker in err, "the job's own error names its URL: %r" % err)
                time.sleep(0.1)
                text = w.stderr()
            check((marker in text) == shown, "LOG_LEVEL=%s: job URL %s the log:\n%s"
                  % (level, "missing from" if shown else "in", text[-2000:]))
            check("failed" in text, "LOG_LEVEL=%s: the failed job is not logged" % level)


def test_text_logs_stay_text():
    with Worker() as w:
        _, uid, _, _ = w.run_job({"type": "telemetry", "arguments": {}})
        time.sleep(0.1)
        text = w.stderr()
    check(("job %s (telemetry) done" % uid) in text, "text job line missing:\n%s" % text[-2000:])
    check(not text.lstrip().startswith("{"), "text mode wrote JSON")


if __name__ == "__main__":
    harness.main(globals())
