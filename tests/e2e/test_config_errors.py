#!/usr/bin/env python3
"""test_config_errors.py - bad configuration makes the worker refuse to start: a non-zero exit
(never a crash or a sanitizer report) and a message on stderr naming what is wrong.

DECISIONS.md / config.h: "A value that does not parse is a start-up error naming the variable";
core-protocol.md 10 #30 (a listen failure must not exit 0)."""
import os
import socket

import harness
from harness import check, run_binary


def env_for(data_dir=None, **overrides):
    env = {
        "DATA_DIR": data_dir or harness.mkdtemp("tw-data-"),
        "LISTEN_ADDRESS": "%s:%d" % (harness.HOST, harness.free_port()),
        "LOG_LEVEL": "debug",
        "STANDALONE": "true",
    }
    env.update(overrides)
    return env


def expect_refusal(env, must_mention, what):
    rc, out = run_binary(env)
    check(rc != 0, "%s: expected a non-zero exit, got 0; output:\n%s" % (what, out))
    check(rc > 0, "%s: the worker died of signal %d instead of exiting with an error; output:\n%s"
          % (what, -rc, out))
    check(not harness.sanitizer_report(out), "%s: sanitizer report:\n%s" % (what, out))
    for word in must_mention:
        check(word in out, "%s: stderr should mention %r; output:\n%s" % (what, word, out))
    return rc, out


def test_bad_values_name_the_variable():
    cases = [
        ("MAX_JOBS", "abc"),
        ("MAX_JOBS", "0"),
        ("LISTEN_ADDRESS", "nonsense"),
        ("STANDALONE", "maybe"),
        ("JOB_TIMEOUT_SECONDS", "-1"),
        ("JOB_TIMEOUT_SECONDS", "10s"),
    ]
    for name, value in cases:
        expect_refusal(env_for(**{name: value}), [name], "%s=%r" % (name, value))


def test_every_kind_of_value_is_checked():
    """One bad value of each kind of setting (README "Configuration": levels, formats, bounds,
    ratios, URLs, lists of a given shape, JSON) stops the start-up with exit status 2 and one line
    naming the variable and the value. STORE_URL's value is never shown: it may hold a password.
    (Every integer variable's two bounds, as README documents them, are checked by the unit test
    test_config.c, test_documented_defaults_and_bounds_are_the_code_s.)"""
    cases = [
        ("LOG_LEVEL", "verbose", "expected debug, info, warn, warning or error"),
        ("LOG_FORMAT", "xml", "expected text or json"),
        ("DURABILITY", "sync", "expected normal or full"),
        ("HTTP_MAX_BODY_BYTES", "1023", "expected an integer from 1024 to 67108864"),
        ("READYZ_ERROR_THRESHOLD", "1.5", "expected a decimal number greater than 0 and at most 1"),
        ("ENABLE_PPROF", "on", "expected true or false"),
        ("APIFY_BASE_URL", "ftp://apify.example", "expected an http:// or https:// URL"),
        ("TWITTER_QUERY_IDS", "SearchTimeline", "expected Operation=queryId[@GET|@POST]"),
        ("TWITTER_FEATURES", "[true]", "expected a JSON object"),
        ("STORE_URL", "mysql://user:s3cret@db", "expected sqlite:[PATH] or redis://"),
    ]
    for name, value, expected in cases:
        what = "%s=%r" % (name, value)
        rc, out = expect_refusal(env_for(**{name: value}), ["configuration error: %s: %s" % (name, expected)],
                                 what)
        check(rc == 2, "%s: exit %d, expected 2 (configuration error)" % (what, rc))
        if name == "STORE_URL":
            check("s3cret" not in out, "%s: the password was printed: %s" % (what, out))
        else:
            check(value in out, "%s: the value is not shown: %s" % (what, out))


def test_http_cpus_are_checked():
    """HTTP_CPUS: each item a CPU number the process may run on, else exit 2 naming it."""
    allowed = os.sched_getaffinity(0)
    outside = next(c for c in range(1023, -1, -1) if c not in allowed)
    cases = [
        ("x1", 'HTTP_CPUS: "x1" is not a CPU number'),
        ("-1", 'HTTP_CPUS: "-1" is not a CPU number'),
        ("4096", 'HTTP_CPUS: "4096" is not a CPU number'),
        ("%d,%d" % (min(allowed), outside), "HTTP_CPUS: CPU %d is not one this process may run on"
         % outside),
    ]
    for value, message in cases:
        what = "HTTP_CPUS=%r" % value
        rc, _ = expect_refusal(env_for(HTTP_CPUS=value), ["configuration error: " + message], what)
        check(rc == 2, "%s: exit %d, expected 2 (configuration error)" % (what, rc))


def test_what_a_variable_names_is_checked_at_start():
    """A file, store or prefix a variable names that turns out unusable stops the start-up with
    exit status 1 and a message naming the variable (README "Configuration")."""
    d = harness.mkdtemp("tw-names-")
    missing = os.path.join(d, "missing")
    cases = [
        ({"SEALING_KEYS_FILE": missing}, "SEALING_KEYS_FILE"),
        ({"TWITTER_COOKIES_FILE": missing}, "TWITTER_COOKIES_FILE"),
        ({"KEY_DISTRIBUTOR_PUBKEY": "not base64 !"}, "KEY_DISTRIBUTOR_PUBKEY"),
        ({"STORE_URL": "sqlite:" + os.path.join(missing, "tee-worker.db")}, "STORE_URL"),
        ({"STORE_URL": "rediss://127.0.0.1:1/0"}, "STORE_URL"),
        ({"STORE_URL": "redis://127.0.0.1:1/0", "STORE_REDIS_PREFIX": "two words"},
         "STORE_REDIS_PREFIX"),
    ]
    for overrides, name in cases:
        what = " ".join("%s=%r" % kv for kv in sorted(overrides.items()))
        rc, _ = expect_refusal(env_for(**overrides), ["start-up failed: " + name], what)
        check(rc == 1, "%s: exit %d, expected 1 (a problem found after parsing)" % (what, rc))


def test_a_named_pipe_where_a_file_belongs_is_refused_at_once():
    """A named pipe at a path the worker reads at start-up (a key file, the cookies file, the root
    key in DATA_DIR) is refused as not a regular file: opening one for reading would wait for a
    writer for ever, and SIGTERM is not acted on during start-up."""
    d = harness.mkdtemp("tw-fifo-")
    fifo = os.path.join(d, "pipe")
    os.mkfifo(fifo, 0o600)
    cases = [
        ({"SEALING_KEYS_FILE": fifo}, "SEALING_KEYS_FILE"),
        ({"TWITTER_COOKIES_FILE": fifo}, "TWITTER_COOKIES_FILE"),
        ({"KEY_DISTRIBUTOR_PUBKEY": fifo}, "KEY_DISTRIBUTOR_PUBKEY"),
    ]
    for overrides, name in cases:
        expect_refusal(env_for(**overrides), [name], "%s is a named pipe" % name)
    data = harness.mkdtemp("tw-fifo-data-")
    os.mkfifo(os.path.join(data, "platform.key"), 0o600)
    expect_refusal(env_for(data_dir=data), ["platform.key"], "DATA_DIR/platform.key is a named pipe")


def test_enclave_mode_without_gramine():
    if os.path.exists("/dev/attestation/attestation_type"):
        print("  (skipped: this machine runs under Gramine)")
        return
    expect_refusal(env_for(STANDALONE="false"), ["STANDALONE"], "STANDALONE=false without Gramine")
    env = env_for()
    del env["STANDALONE"]
    expect_refusal(env, ["STANDALONE"], "STANDALONE unset (enclave mode) without Gramine")


def test_address_in_use():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((harness.HOST, 0))
        s.listen(1)
        port = s.getsockname()[1]
        addr = "%s:%d" % (harness.HOST, port)
        expect_refusal(env_for(LISTEN_ADDRESS=addr), [str(port)], "LISTEN_ADDRESS %s already in use" % addr)
    finally:
        s.close()


def test_data_dir_is_a_regular_file():
    d = harness.mkdtemp("tw-file-")
    path = os.path.join(d, "not-a-dir")
    with open(path, "w") as f:
        f.write("x")
    expect_refusal(env_for(data_dir=path), ["DATA_DIR"], "DATA_DIR is a regular file")
    with open(path) as f:
        check(f.read() == "x", "the regular file given as DATA_DIR was modified")


def test_unreadable_distributor_key():
    d = harness.mkdtemp("tw-kd-")
    path = os.path.join(d, "missing.pub")
    expect_refusal(env_for(KEY_DISTRIBUTOR_PUBKEY=path), ["KEY_DISTRIBUTOR_PUBKEY"],
                   "KEY_DISTRIBUTOR_PUBKEY pointing to a missing file")


def test_malformed_twitter_accounts():
    """A TWITTER_ACCOUNTS item that is not user:password[:totp_secret], or whose TOTP secret is not
    base32, stops the start-up as a configuration error (exit 2) naming the variable and the item
    (README: any value that does not parse stops start-up), without the password in the message."""
    cases = [
        ("alice:hunter2,justbob", "#2"),
        ("alice:hunter2:extra:colons", "#1"),
        ("alice:hunter2:NOT-BASE32!", "#1"),
        ("alice:hunter2:0189", "#1"),
    ]
    for value, item in cases:
        rc, out = expect_refusal(env_for(TWITTER_ACCOUNTS=value), ["TWITTER_ACCOUNTS", item],
                                 "TWITTER_ACCOUNTS=%r" % value)
        check(rc == 2, "TWITTER_ACCOUNTS=%r: exit %d, expected 2 (configuration error)" % (value, rc))
        check("hunter2" not in out, "the password was printed: %s" % out)
    # a valid list still starts: a plain account and one with a base32 secret
    with harness.Worker(env={"TWITTER_ACCOUNTS": "alice:hunter2, bob:pw:JBSWY3DPEHPK3PXP"}) as w:
        check(w.get("/healthz").status == 200, "worker with valid TWITTER_ACCOUNTS not serving")


def test_corrupt_worker_id_secret():
    """The worker id lives sealed in the store; a tampered row stops start-up, it is not replaced."""
    import sqlite3
    d = harness.mkdtemp("tw-data-")
    with harness.Worker(data_dir=d):
        pass
    db = sqlite3.connect(os.path.join(d, "tee-worker.db"))
    blob = bytearray(db.execute("SELECT blob FROM secrets WHERE name = 'worker_id'").fetchone()[0])
    blob[-1] ^= 0xFF
    db.execute("UPDATE secrets SET blob = ? WHERE name = 'worker_id'", (bytes(blob),))
    db.commit()
    db.close()
    expect_refusal(env_for(data_dir=d), ["worker_id"], "corrupt worker id in the store")
    db = sqlite3.connect(os.path.join(d, "tee-worker.db"))
    kept = db.execute("SELECT blob FROM secrets WHERE name = 'worker_id'").fetchone()[0]
    db.close()
    check(bytes(kept) == bytes(blob), "the corrupt worker id was replaced")


if __name__ == "__main__":
    harness.main(globals())
