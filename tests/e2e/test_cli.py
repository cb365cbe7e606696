#!/usr/bin/env python3
"""test_cli.py - tee-worker-cli (on libteeworker) against the real worker.

Success (run; the four steps one by one; the sealed result opened later), flags over environment
(TEE_WORKER_URL, TEE_WORKER_API_KEY), the server's own error text and a non-zero exit (bad
arguments at /job/generate, a failing job, a bad API key), an unreachable server, progress on a
terminal and silence when piped, TLS (a self-signed certificate refused by default, accepted with
--insecure or a pin of its key, refused with a wrong pin), --next following X-Next-Cursor (opened through /job/result)
against the local Apify fake, a --help that names every long option in the source, and a hostile
worker whose error texts, job states and cursor header carry terminal escapes and newlines (the CLI
prints the words, never the control bytes)."""
import json
import os
import pty
import re
import subprocess
import time

import harness
from harness import UUID_RE, Worker, check, check_eq, fail, free_port
from fakes.apify_fake import ApifyFake
from fakes.hostile_worker import HostileWorker
from fakes.tls_worker import TlsWorker

KEY = "cli-api-key-42"
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "tools", "tee-worker-cli.c")


def cli_path():
    path = os.environ.get("TW_CLI") or os.path.join(os.path.dirname(harness.binary()), "tools",
                                                    "tee-worker-cli")
    check(os.access(path, os.X_OK), "tee-worker-cli not found at %s (set TW_CLI)" % path)
    return path


def cli(args, env=None, stdin=None, timeout=30):
    """Runs the CLI (under memcheck when TW_VALGRIND=1); returns (exit status, stdout text,
    stderr text)."""
    full = harness.base_env()
    full.update(env or {})
    p = subprocess.run(harness.valgrind_prefix() + [cli_path()] + args, env=full,
                       input=(stdin or "").encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    check(not harness.sanitizer_report(err), "sanitizer report from the CLI:\n%s" % err)
    return p.returncode, out, err


def env_for(w, key=KEY):
    return {"TEE_WORKER_URL": "http://127.0.0.1:%d" % w.port, "TEE_WORKER_API_KEY": key}


def test_help_covers_every_flag():
    rc, out, _ = cli(["--help"])
    check_eq(rc, 0, "--help exit status")
    with open(SOURCE, "r", encoding="utf-8") as f:
        names = re.findall(r'\{ "([a-z-]+)", (?:no|required)_argument', f.read())
    check(len(names) >= 15, "could not read the option table: %r" % names)
    for name in names:
        check("--" + name in out, "--help does not mention --%s" % name)
    for command in ("generate", "add", "status", "result", "run", "TEE_WORKER_URL",
                    "TEE_WORKER_API_KEY"):
        check(command in out, "--help does not mention %s" % command)
    rc, _, err = cli(["--no-such-flag", "run", "telemetry"])
    check_eq(rc, 2, "unknown flag exit status")
    check('"--no-such-flag"' in err, "unknown flag not named: %r" % err)
    for args, named in ((["-xs", "run", "telemetry"], '"-x"'), (["-sx", "run"], '"-x"'),
                        (["run", "telemetry", "-t"], '"-t"'), (["--url"], '"--url"')):
        rc, _, err = cli(args)
        check_eq(rc, 2, "%r exit status" % args)
        check(named in err and err.count("\n") == 2, "%r: the refusal names %s: %r" % (args, named, err))
    rc, _, err = cli(["frobnicate"])
    check_eq(rc, 2, "unknown command exit status")
    check("frobnicate" in err, "unknown command not named: %r" % err)


def test_run_prints_the_result_quietly_when_piped():
    with Worker(api_key=KEY) as w:
        rc, out, err = cli(["run", "telemetry", "--delay", "50"], env=env_for(w))
        check_eq(rc, 0, "run exit status (stderr %r)" % err)
        check_eq(err, "", "stderr when piped (no progress)")
        check(out.endswith("\n") and out.count("\n") == 1, "one line of output: %r" % out)
        doc = json.loads(out)
        check_eq(doc.get("worker_id"), w.worker_id(), "telemetry worker_id")


def test_four_steps_and_opening_later():
    with Worker(api_key=KEY) as w:
        env = env_for(w)
        rc, sig, err = cli(["generate", "telemetry"], env=env)
        check_eq(rc, 0, "generate (%r)" % err)
        sig = sig.strip()
        rc, uid, err = cli(["add", "-"], env=env, stdin=sig + "\n")
        check_eq(rc, 0, "add (%r)" % err)
        uid = uid.strip()
        check(UUID_RE.match(uid), "add printed %r" % uid)
        deadline = time.monotonic() + 15
        while True:
            rc, sealed, err = cli(["status", uid], env=env)
            if rc != 3:
                break
            check(re.search(r"is (queued|running)", err), "pending message: %r" % err)
            check(time.monotonic() < deadline, "job still pending")
            time.sleep(0.05)
        check_eq(rc, 0, "status (%r)" % err)
        rc, clear, err = cli(["result", sig, "-"], env=env, stdin=sealed)
        check_eq(rc, 0, "result (%r)" % err)
        check_eq(json.loads(clear).get("worker_id"), w.worker_id(), "opened result")

        rc, sealed2, err = cli(["run", "--sealed", "-d", "50", "--job",
                                '{"type":"telemetry","arguments":{}}'], env=env)
        check_eq(rc, 0, "run --sealed (%r)" % err)
        check(not sealed2.lstrip().startswith("{"), "--sealed printed clear text: %r" % sealed2)
        rc, _, err = cli(["result", sig, sealed2.strip()], env=env)
        check_eq(rc, 1, "a result opened with another job's signature fails")
        check(err.startswith("tee-worker-cli: ") and "HTTP" in err, "error line: %r" % err)

        rc, _, err = cli(["status", harness.random_uuid()], env=env)
        check_eq(rc, 1, "status of an unknown uid")


def test_flags_win_over_environment():
    with Worker(api_key=KEY) as w:
        bad_env = {"TEE_WORKER_URL": "http://127.0.0.1:%d" % free_port(),
                   "TEE_WORKER_API_KEY": "wrong"}
        rc, out, err = cli(["--url", "http://127.0.0.1:%d" % w.port, "--api-key", KEY, "run",
                            "telemetry", "--delay", "50", "--quiet"], env=bad_env)
        check_eq(rc, 0, "flags over env (%r)" % err)
        check("worker_id" in out, "result: %r" % out)


def test_server_errors_reach_the_user():
    with Worker(api_key=KEY, env={"WEBSCRAPER_ALLOW_PRIVATE": "true"}) as w:
        env = env_for(w)
        direct = w.post("/job/generate", json_body={"type": "web", "arguments": {}},
                        headers={"X-API-Key": KEY})
        message = direct.json()["error"]
        rc, out, err = cli(["run", "web"], env=env)
        check_eq(rc, 1, "run web without url")
        check_eq(out, "", "no stdout on failure")
        check_eq(err.strip(), "tee-worker-cli: %s (HTTP 400)" % message, "the server's message")

        rc, out, err = cli(["run", "web", "url=http://127.0.0.1:%d/" % free_port(),
                            "--delay", "50"], env=env)
        check_eq(rc, 1, "a failing job")
        check("(HTTP 500)" in err and "127.0.0.1" in err, "the job's own error: %r" % err)

        rc, out, err = cli(["run", "telemetry"], env=env_for(w, key="not-the-key"))
        check_eq(rc, 1, "bad API key")
        check_eq(err.strip(), "tee-worker-cli: missing or invalid API key (HTTP 401)", "401 text")
        rc, _, err = cli(["run", "telemetry"], env={"TEE_WORKER_URL": env["TEE_WORKER_URL"]})
        check_eq(rc, 1, "no API key")


def test_unreachable_server():
    url = "http://127.0.0.1:%d" % free_port()
    t0 = time.monotonic()
    rc, out, err = cli(["--url", url, "run", "telemetry"])
    check_eq(rc, 1, "unreachable exit status")
    check(time.monotonic() - t0 < 10, "giving up took too long")
    check("cannot reach " + url in err, "the message names the URL: %r" % err)
    rc, _, err = cli(["--url", "ftp://x", "run", "telemetry"])
    check_eq(rc, 1, "a non-HTTP URL")


def read_terminal(master):
    """Everything the CLI wrote to the pseudo-terminal whose master side is `master` (read until
    the other side is closed), decoded; closes master."""
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal():
    with Worker(api_key=KEY, env={"MAX_JOBS": "1"}) as w:
        master, slave = pty.openpty()
        full = harness.base_env()
        full.update(env_for(w))
        p = subprocess.Popen([cli_path(), "run", "web", "url=http://127.0.0.1:%d/" % free_port(),
                              "--delay", "50"],
                             env=full, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        out, _ = p.communicate(timeout=30)
        tty = read_terminal(master)
        check_eq(p.returncode, 1, "the failing job's exit status")
        check("\x1b[K" in tty and "failed" in tty, "progress line on the terminal: %r" % tty)
        check_eq(out, b"", "nothing on stdout")


def test_tls_verification_skip_and_pinning():
    with TlsWorker() as t:
        gen = ["--url", t.url, "--timeout", "10", "generate", "telemetry"]
        rc, out, err = cli(gen)
        check_eq(rc, 1, "a self-signed certificate is refused by default")
        check("cannot reach" in err, "TLS failure message: %r" % err)
        rc, out, err = cli(["--insecure"] + gen)
        check_eq((rc, out), (0, "tls-signature\n"), "--insecure (%r)" % err)
        rc, out, err = cli(["--pin-pubkey", t.pin] + gen)
        check_eq((rc, out), (0, "tls-signature\n"), "--pin-pubkey with the server's key (%r)" % err)
        rc, out, err = cli(["--pin-pubkey", t.pubkey_path] + gen)
        check_eq((rc, out), (0, "tls-signature\n"), "--pin-pubkey with a key file (%r)" % err)
        wrong = "sha256//" + "A" * 43 + "="
        rc, out, err = cli(["--pin-pubkey", wrong] + gen)
        check_eq(rc, 1, "a wrong pin is refused")
        check_eq(out, "", "no output with a wrong pin")
        rc, out, err = cli(["--cacert", t.cert_path] + gen)
        check_eq(rc, 1, "CN=EGo does not match 127.0.0.1 even with the certificate as CA")


def peak_rss_kb(args):
    """Runs the CLI from a fresh Python process and returns (exit status, the CLI's peak RSS in KiB)."""
    probe = ("import resource, subprocess, sys\n"
             "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
             " stderr=subprocess.DEVNULL).returncode\n"
             "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    p = subprocess.run(["python3", "-c", probe, cli_path()] + args, env=harness.base_env(),
                       stdout=subprocess.PIPE, timeout=120)
    rc, kb = p.stdout.decode().split()
    return int(rc), int(kb)


def test_certificate_name_cannot_write_control_sequences():
    # curl's TLS errors quote the server certificate's name: a hostile server chooses it
    with TlsWorker(subject="/CN=\x1b]0;pwned\x07\x1b[2Jevil") as t:
        rc, out, err = cli(["--url", t.url, "--cacert", t.cert_path, "generate", "telemetry"])
        check_eq((rc, out), (1, ""), "a certificate whose name does not match")
        check("evil" in err and "does not match" in err, "curl's reason still shown: %r" % err)
        terminal_safe(err, "TLS error with the certificate's name")


def test_huge_error_answer_is_not_held():
    # an error answer is only read for its message: a hostile worker's 200 MB error body must not
    # become 200 MB (or, doubling, 256 MB) of the client's memory
    with HostileWorker() as h:
        args = ["--url", h.url, "--timeout", "60", "generate", "telemetry"]
        h.answers[("POST", "/job/generate")] = (400, {"Content-Type": "application/json"},
                                                 b'{"error":"small"}')
        rc, base_kb = peak_rss_kb(args)
        check_eq(rc, 1, "a small error answer")
        h.answers[("POST", "/job/generate")] = (500, {"Content-Type": "text/plain"},
                                                 b"x" * (200 * 1024 * 1024))
        rc, big_kb = peak_rss_kb(args)
        check_eq(rc, 1, "a huge error answer is still an error")
        check(big_kb - base_kb < 32 * 1024,
              "a 200 MB error answer grew the client from %d to %d KiB" % (base_kb, big_kb))


def test_huge_stdin_is_not_read_whole():
    # "-" reads one line of at most 64 MiB: a longer one is refused once the limit is passed,
    # not after the whole input was taken into memory
    p = subprocess.Popen(harness.valgrind_prefix() + [cli_path(), "--url", "http://127.0.0.1:9",
                                                      "add", "-"],
                         env=harness.base_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0)
    chunk, sent = b"A" * (1 << 20), 0
    try:
        while sent < 160 << 20:
            sent += p.stdin.write(chunk)
    except BrokenPipeError:
        pass
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    p.wait(timeout=120)
    out, err = p.stdout.read(), p.stderr.read().decode("utf-8", "replace")
    p.stdout.close()
    p.stderr.close()
    check(not harness.sanitizer_report(err), "sanitizer report from the CLI:\n%s" % err)
    check_eq((p.returncode, out), (2, b""), "a 160 MiB line on stdin (%r)" % err)
    check("stdin" in err, "the refusal names stdin: %r" % err)
    check(sent <= 80 << 20, "the CLI read %d MiB of stdin before refusing it" % (sent >> 20))


def test_tls_options_need_https():
    # a pin or a CA file asks for a verified server: over plain HTTP it would silently protect
    # nothing, so the client refuses before sending anything (the API key included)
    with HostileWorker() as h:
        h.answers[("POST", "/job/generate")] = (200, {}, b"sig")
        for opt in (["--pin-pubkey", "sha256//" + "A" * 43 + "="], ["--cacert", "/etc/hosts"]):
            rc, out, err = cli(opt + ["--url", h.url, "--api-key", "k", "generate", "telemetry"])
            check_eq((rc, out), (1, ""), "%s with an http:// URL (%r)" % (opt[0], err))
            check("https://" in err, "the refusal says https:// is needed: %r" % err)


def test_next_follows_cursors():
    from test_reddit import ACTOR, FIXTURE
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = FIXTURE[:4] * 2
        env = {"TEE_WORKER_URL": "http://127.0.0.1:%d" % w.port}
        args = ["run", "reddit", "type=searchposts", 'queries=["NASA"]', "max_results=3",
                "--delay", "50", "--next"]
        rc, out, err = cli(args, env=env)
        check_eq(rc, 0, "run --next (%r)" % err)
        pages = [json.loads(l) for l in out.splitlines()]
        check_eq([len(p) for p in pages], [3, 3, 2], "items per page")
        check_eq([r["offset"] for r in fake.dataset_reads], ["0", "3", "6"], "dataset offsets")
        rc, out, err = cli(args + ["--max-pages", "2"], env=env)
        check_eq(rc, 0, "run --next --max-pages 2 (%r)" % err)
        check_eq(len(out.splitlines()), 2, "pages with --max-pages 2")
        rc, out, err = cli(args[:-1], env=env)
        check_eq(len(out.splitlines()), 1, "without --next, one page")


def terminal_safe(text, what):
    """No control byte but the line ends the CLI writes itself, no C1 control, no U+FFFD from
    invalid UTF-8 passed through."""
    for ch in text:
        check(ch == "\n" or (ord(ch) >= 0x20 and ch != "\x7f" and not 0x80 <= ord(ch) < 0xa0)
              and ch != "\ufffd", "%s: %r reaches the terminal in %r" % (what, ch, text))


ESCAPES = b"\x1b]0;pwned\x07\x1b[2J\nforged: line\r\x9b31m\xc2\x9b\xff"


def test_hostile_worker_cannot_write_control_sequences():
    with HostileWorker() as h:
        gen = ["--url", h.url, "generate", "telemetry"]
        h.answers[("POST", "/job/generate")] = (
            400, {"Content-Type": "application/json"},
            b'{"error":"bad \\u001b]0;pwned\\u0007\\u001b[2J\\nforged: line \\u009b"}')
        rc, out, err = cli(gen)
        check_eq(rc, 1, "JSON error exit status")
        terminal_safe(err, "JSON error text")
        check(err.startswith("tee-worker-cli: bad ") and err.count("\n") == 1,
              "the server's words on one line: %r" % err)
        h.answers[("POST", "/job/generate")] = (500, {"Content-Type": "text/plain"},
                                                 b"oops " + ESCAPES)
        rc, out, err = cli(gen)
        check_eq(rc, 1, "text error exit status")
        terminal_safe(err, "text error body")
        check("oops" in err and err.count("\n") == 1, "one line: %r" % err)

        h.answers[("GET", "/job/status/")] = (404, {"Content-Type": "application/json"},
                                              b'{"status":"\\u001b[2Jqueued"}')
        rc, out, err = cli(["--url", h.url, "status", "u1"])
        check_eq(rc, 3, "pending exit status")
        terminal_safe(err, "pending state")

        h.answers[("GET", "/job/status/")] = (200, {"X-Next-Cursor": "\x1b[31mcursor\x07"},
                                              b"c2VhbGVk")
        rc, out, err = cli(["--url", h.url, "status", "u1"])
        terminal_safe(err, "sealed cursor header")

        h.answers[("POST", "/job/add")] = (200, {}, b'{"uid":"\\u001b]0;x\\u0007u1"}')
        rc, out, err = cli(["--url", h.url, "add", "sig"])
        check_eq(rc, 1, "a uid with control characters is refused")
        terminal_safe(out + err, "uid")

        h.answers[("POST", "/job/generate")] = (200, {}, b"sig")
        h.answers[("POST", "/job/add")] = (200, {}, b'{"uid":"u1"}')
        h.answers[("GET", "/job/status/")] = (404, {}, b'{"status":"\\u001b]0;x\\u0007"}')
        master, slave = pty.openpty()
        full = harness.base_env()
        p = subprocess.Popen([cli_path(), "--url", h.url, "run", "telemetry", "--delay", "10",
                              "--retries", "3"], env=full, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        p.communicate(timeout=30)
        tty = read_terminal(master)
        check_eq(p.returncode, 1, "still pending after the retries")
        # the CLI's own progress line uses ESC [ K; nothing else may reach the terminal
        terminal_safe(tty.replace("\x1b[K", "").replace("\r", "").replace("\n", ""),
                      "progress line")


def test_hostile_sealed_values_are_refused():
    # a signature and a sealed result are base64 text, printed as they come on stdout (generate,
    # status, run --sealed): one that carries anything else is refused, never printed
    with HostileWorker() as h:
        h.answers[("POST", "/job/generate")] = (200, {}, b"c2ln" + ESCAPES)
        rc, out, err = cli(["--url", h.url, "generate", "telemetry"])
        check_eq((rc, out), (1, ""), "a signature with control characters (%r)" % err)
        terminal_safe(err, "signature refusal")

        h.answers[("GET", "/job/status/")] = (200, {}, b"c2VhbGVk" + ESCAPES)
        rc, out, err = cli(["--url", h.url, "status", "u1"])
        check_eq((rc, out), (1, ""), "a sealed result with control characters (%r)" % err)
        terminal_safe(err, "sealed result refusal")

        h.answers[("POST", "/job/generate")] = (200, {}, b"c2ln")
        h.answers[("POST", "/job/add")] = (200, {}, b'{"uid":"u1"}')
        rc, out, err = cli(["--url", h.url, "--sealed", "--delay", "10", "run", "telemetry"])
        check_eq((rc, out), (1, ""), "run --sealed, a sealed result with control characters")
        terminal_safe(err, "run --sealed refusal")

        h.answers[("GET", "/job/status/")] = (200, {}, b"c2VhbGVk")
        rc, out, err = cli(["--url", h.url, "--sealed", "--delay", "10", "run", "telemetry"])
        check_eq((rc, out), (0, "c2VhbGVk\n"), "run --sealed, a clean sealed result (%r)" % err)


def test_text_that_is_not_utf8_is_named():
    # JSON carries UTF-8 only: an argument that is not is a bad argument, said so (not "out of
    # memory"), and a next cursor that is not is an error, not a silent restart from page one
    bad = os.fsdecode(b"\xff")
    with HostileWorker() as h:
        h.answers[("POST", "/job/generate")] = (200, {}, b"c2ln")
        h.answers[("POST", "/job/add")] = (200, {}, b'{"uid":"u1"}')
        h.answers[("POST", "/job/result")] = (200, {}, b"clear")
        for args in (["generate", bad], ["run", bad], ["add", bad], ["result", bad, "c2VhbGVk"],
                     ["result", "c2ln", bad]):
            rc, out, err = cli(["--url", h.url] + args)
            check(rc in (1, 2) and out == "", "%r: exit %d, output %r" % (args, rc, out))
            check("UTF-8" in err and "memory" not in err, "%r: the refusal %r" % (args, err))

        h.answers[("GET", "/job/status/")] = (200, {"X-Next-Cursor": "Y3Vyc29y"}, b"c2VhbGVk")
        h.answers[("POST", "/job/result")] = (200, {}, b"page \xff")
        rc, out, err = cli(["--url", h.url, "--delay", "10", "--next", "run", "telemetry"])
        check_eq((rc, out.count("\n")), (1, 1), "a cursor that is not UTF-8 ends the run (%r)" % err)
        check("cursor" in err and "UTF-8" in err, "the refusal names the cursor: %r" % err)


def test_polls_retry_a_busy_worker():
    # a worker answers a poll 503 + Retry-After when its answer budget is spent or its Redis store
    # is away, and counts on the client to poll again (README, HTTP API and Fleet mode): that is
    # not the end of the job; a failed job (500) still is
    busy = (503, {"Retry-After": "1", "Content-Type": "application/json"},
            b'{"error":"too many response bytes in flight on this worker; retry later"}')
    with HostileWorker() as h:
        h.answers[("POST", "/job/generate")] = (200, {}, b"c2ln")
        h.answers[("POST", "/job/add")] = (200, {}, b'{"uid":"u1"}')
        h.answers[("GET", "/job/status/")] = [busy, busy, (200, {}, b"c2VhbGVk")]
        args = ["--url", h.url, "--sealed", "--delay", "10", "--retries", "5", "run", "telemetry"]
        rc, out, err = cli(args)
        check_eq((rc, out), (0, "c2VhbGVk\n"), "two busy polls, then the result (%r)" % err)

        h.answers[("GET", "/job/status/")] = busy
        rc, out, err = cli(args)
        check_eq((rc, out), (1, ""), "busy at every poll: the budget runs out (%r)" % err)
        check("5 polls" in err, "the budget is named: %r" % err)

        h.answers[("GET", "/job/status/")] = [(500, {}, b'{"error":"job failed: boom"}'),
                                              (200, {}, b"c2VhbGVk")]
        rc, out, err = cli(args)
        check_eq((rc, out), (1, ""), "a failed job ends the wait at once (%r)" % err)
        check("boom" in err, "the job's own error: %r" % err)

        # /job/result's answer counts against the same budget: opening the result is retried too
        h.answers[("GET", "/job/status/")] = (200, {}, b"c2VhbGVk")
        h.answers[("POST", "/job/result")] = [busy, busy, (200, {}, b'{"clear":1}')]
        rc, out, err = cli([a for a in args if a != "--sealed"])
        check_eq((rc, out), (0, '{"clear":1}\n'), "opening the result after two busy answers (%r)"
                 % err)
        h.answers[("POST", "/job/result")] = busy
        rc, out, err = cli([a for a in args if a != "--sealed"])
        check_eq((rc, out), (1, ""), "busy at every try: the budget runs out (%r)" % err)
        check("retry later" in err, "the worker's reason: %r" % err)

        # a full queue (or a store away) answers /job/add 503 without admitting the job or
        # recording its signature: `run` sends it again within the budget
        full = (503, {"Retry-After": "1", "Content-Type": "application/json"},
                b'{"error":"job queue is full (2 jobs); retry later"}')
        h.answers[("POST", "/job/result")] = (200, {}, b'{"clear":1}')
        h.answers[("POST", "/job/add")] = [full, full, (200, {}, b'{"uid":"u1"}')]
        rc, out, err = cli(args)
        check_eq((rc, out), (0, "c2VhbGVk\n"), "queued after two busy answers (%r)" % err)
        h.answers[("POST", "/job/add")] = full
        rc, out, err = cli(args)
        check_eq((rc, out), (1, ""), "busy at every try: the budget runs out (%r)" % err)
        check("queue is full" in err, "the worker's reason: %r" % err)
        h.answers[("POST", "/job/add")] = (400, {}, b'{"error":"replayed signature"}')
        rc, out, err = cli(args)
        check_eq((rc, out), (1, ""), "a refusal is not retried (%r)" % err)


if __name__ == "__main__":
    harness.main(globals())
