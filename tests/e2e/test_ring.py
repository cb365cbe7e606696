#!/usr/bin/env python3
"""test_ring.py - key-ring mode: /setkey with the distributor key of tests/vectors/sealing.json,
Go-compatible opening of a job signature and a result sealed by Go under ring key K1, replay,
key rotation and persistence of the ring across a restart.

The ring is served in standalone mode too whenever KEY_DISTRIBUTOR_PUBKEY is set (DECISIONS.md),
which is how these tests run (enclave mode needs Gramine).

The Go job in vectors.job.signature opens (with K1, salt "") to
  {"type":"telemetry","arguments":{},"quote":"\\ufffdg...","worker_id":"","target_worker":"","timeout":0}
i.e. a telemetry job with no worker_id, no target and no issued_at: it passes admission here
(telemetry skips the whitelist; an empty target is for any worker; no issued_at = no age check)."""
import json
import os
import shutil
import subprocess

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status

TELEMETRY_JOB = {"type": "telemetry", "arguments": {}}
V = harness.vectors()
SK = V["setkey"]
GO = V["job"]


def ring_worker(data_dir=None, pub=None):
    return Worker(env={"KEY_DISTRIBUTOR_PUBKEY": pub or harness.distributor_pubkey_file()}, data_dir=data_dir)


def setkey(w, key, signature):
    return w.post("/setkey", json_body={"key": key, "signature": signature})


def expect_key_set(r, what):
    expect_status(r, 200, what)
    check_eq(r.header("Content-Type"), "application/json", what + ": Content-Type")
    check_eq(r.json(), {"status": "Key set"}, what + ": body")


def go_result(w):
    return w.result(GO["sealed_result"], GO["signature"])


def open_telemetry(w, sealed, sig, what):
    r = expect_status(w.result(sealed, sig), 200, what)
    doc = r.json()
    check(isinstance(doc, dict) and doc.get("worker_version") == "beta"
          and "reported_capabilities" in doc, "%s: not a telemetry document: %r" % (what, r.body[:200]))
    return doc


def test_setkey_go_vectors_replay_rotation_and_persistence():
    pub = harness.distributor_pubkey_file()
    with ring_worker(pub=pub) as w:
        # Before any /setkey the Go signature cannot be opened (only the local key is known).
        expect_json_error(go_result(w), 500, "/job/result with the Go vectors before /setkey",
                          prefix="error while unsealing the encrypted request:")
        expect_json_error(w.post("/job/add", json_body={"encrypted_job": GO["signature"]}), 500,
                          "/job/add of the Go signature before /setkey",
                          prefix="Error while decrypting job:")
        pre_ring_sig = w.generate(TELEMETRY_JOB)   # sealed under the local key

        # Refused keys.
        r = setkey(w, SK["key"], SK["signature2"])   # a valid signature, but over key2
        expect_json_error(r, 500, "/setkey with a signature over another key")
        r = setkey(w, SK["key"], "!!!not base64!!!")
        expect_json_error(r, 500, "/setkey with a non-base64 signature")
        r = setkey(w, SK["key"][:31], SK["signature"])   # 31 bytes: no valid signature for it exists
        expect_json_error(r, 500, "/setkey with a 31-byte key")
        r = w.post("/setkey", json_body={"key": SK["key"]})
        expect_json_error(r, 400, "/setkey without a signature")
        r = w.post("/setkey", json_body={"key": SK["key"], "signature": SK["signature"], "x": 1})
        expect_json_error(r, 400, "/setkey with an unknown member")
        # none of that installed anything
        expect_json_error(go_result(w), 500, "/job/result with the Go vectors after refused /setkeys")

        # K1
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey K1")
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey K1 again (already present)")

        # Go-compatible opening: the quote (with U+FFFD and escapes) is the salt of the result.
        r = go_result(w)
        expect_status(r, 200, "/job/result with the Go signature and Go sealed result")
        check_eq(r.text, GO["result_plaintext"], "/job/result clear text of the Go vectors")

        # The Go job itself: a telemetry job, admitted once.
        uid = w.add(GO["signature"])
        st = expect_status(w.wait_status(uid), 200, "status of the Go job")
        open_telemetry(w, st.text, GO["signature"], "result of the Go job")
        r = w.post("/job/add", json_body={"encrypted_job": GO["signature"]})
        expect_json_error(r, 500, "second /job/add of the Go signature", message="job already executed")

        # The local key still opens what it sealed before the ring had a key.
        uid = w.add(pre_ring_sig)
        st = expect_status(w.wait_status(uid), 200, "status of the pre-ring job")
        open_telemetry(w, st.text, pre_ring_sig, "result of the pre-ring job")

        # Our own flow now seals under K1.
        k1_sig, _, k1_sealed, body = w.run_job(TELEMETRY_JOB)
        check(json.loads(body).get("worker_version") == "beta", "telemetry under K1: %r" % body[:200])
        k1_unused_sig = w.generate(TELEMETRY_JOB)

        # ... which another worker holding K1 (and a different local key) opens.
        with ring_worker(pub=pub) as peer:
            expect_json_error(peer.post("/job/add", json_body={"encrypted_job": k1_unused_sig}), 500,
                              "peer without K1 adds our signature", prefix="Error while decrypting job:")
            expect_key_set(setkey(peer, SK["key"], SK["signature"]), "/setkey K1 on the peer")
            r = peer.result(k1_sealed, k1_sig)
            expect_status(r, 200, "peer opens our K1 result")
            check_eq(r.body, body, "peer's clear text of our K1 result")
            peer_sig = peer.generate(TELEMETRY_JOB)
        uid = w.add(peer_sig)   # a signature made by the peer under K1 runs here
        expect_status(w.wait_status(uid), 200, "status of the peer's job")

        # Rotation to K2: K1 stays in the ring for opening.
        expect_key_set(setkey(w, SK["key2"], SK["signature2"]), "/setkey K2")
        uid = w.add(k1_unused_sig)
        st = expect_status(w.wait_status(uid), 200, "status of a K1 signature after rotation")
        open_telemetry(w, st.text, k1_unused_sig, "result of a K1 signature after rotation")
        expect_status(go_result(w), 200, "/job/result with the Go vectors after rotation")
        k2_sig, _, k2_sealed, _ = w.run_job(TELEMETRY_JOB)
        # K1 re-sent while still in the ring: accepted, and it does not become the sealing key
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey K1 after K2 (still in the ring)")
        after_resend_sig = w.generate(TELEMETRY_JOB)
        with ring_worker(pub=pub) as peer:
            expect_key_set(setkey(peer, SK["key"], SK["signature"]), "/setkey K1 on a K1-only peer")
            expect_json_error(peer.post("/job/add", json_body={"encrypted_job": after_resend_sig}), 500,
                              "K1-only peer adds a signature made after K1 was re-sent (must be "
                              "sealed under K2, the newest key)", prefix="Error while decrypting job:")
            expect_key_set(setkey(peer, SK["key2"], SK["signature2"]), "/setkey K2 on the peer")
            peer.add(after_resend_sig)

        # Restart with the same DATA_DIR: the ring was persisted (no /setkey after the restart).
        w.restart()
        r = go_result(w)
        expect_status(r, 200, "/job/result with the Go vectors after a restart")
        check_eq(r.text, GO["result_plaintext"], "Go vectors' clear text after a restart")
        open_telemetry(w, k2_sealed, k2_sig, "K2 result sealed before the restart")
        w.run_job(TELEMETRY_JOB)


# AES-256-GCM through the system libcrypto (ctypes is stdlib; the worker uses the same library):
# ciphertexts made here the way a Go worker makes them, and opened here the way a Go worker would.
def _libcrypto():
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("crypto")
    check(name is not None, "libcrypto not found (the worker itself needs it)")
    lib = ctypes.CDLL(name)
    lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
    lib.EVP_aes_256_gcm.restype = ctypes.c_void_p
    for f in ("EVP_EncryptInit_ex", "EVP_DecryptInit_ex"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p,
                                    ctypes.c_char_p]
    for f in ("EVP_EncryptUpdate", "EVP_DecryptUpdate"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                    ctypes.c_char_p, ctypes.c_int]
    for f in ("EVP_EncryptFinal_ex", "EVP_DecryptFinal_ex"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.EVP_CIPHER_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
    lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]
    return ctypes, lib


def _derive(key, salt):
    """core-protocol.md 3.2: the salt is the HMAC key, the ring key the message."""
    import hashlib
    import hmac
    return key if not salt else hmac.new(salt, key, hashlib.sha256).hexdigest()[:32].encode("ascii")


def go_seal(key, salt, plaintext):
    import base64
    ctypes, lib = _libcrypto()
    iv = os.urandom(12)
    ctx = lib.EVP_CIPHER_CTX_new()
    out = ctypes.create_string_buffer(len(plaintext) + 16)
    n = ctypes.c_int(0)
    tag = ctypes.create_string_buffer(16)
    ok = (lib.EVP_EncryptInit_ex(ctx, lib.EVP_aes_256_gcm(), None, _derive(key, salt), iv) == 1
          and lib.EVP_EncryptUpdate(ctx, out, ctypes.byref(n), plaintext, len(plaintext)) == 1)
    ct = out.raw[:n.value]
    ok = ok and lib.EVP_EncryptFinal_ex(ctx, out, ctypes.byref(n)) == 1
    ok = ok and lib.EVP_CIPHER_CTX_ctrl(ctx, 0x10, 16, tag) == 1     # EVP_CTRL_GCM_GET_TAG
    lib.EVP_CIPHER_CTX_free(ctx)
    check(ok, "libcrypto AES-GCM seal failed")
    return base64.b64encode(base64.b64encode(iv + ct + tag.raw)).decode("ascii")


def go_open(key, salt, sealed):
    """The plaintext, or None when authentication fails."""
    import base64
    ctypes, lib = _libcrypto()
    x = base64.b64decode(base64.b64decode(sealed, validate=True), validate=True)
    iv, ct, tag = x[:12], x[12:-16], x[-16:]
    ctx = lib.EVP_CIPHER_CTX_new()
    out = ctypes.create_string_buffer(len(ct) + 16)
    n = ctypes.c_int(0)
    ok = (lib.EVP_DecryptInit_ex(ctx, lib.EVP_aes_256_gcm(), None, _derive(key, salt), iv) == 1
          and lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(n), ct, len(ct)) == 1)
    pt = out.raw[:n.value]
    ok = ok and lib.EVP_CIPHER_CTX_ctrl(ctx, 0x11, 16, tag) == 1     # EVP_CTRL_GCM_SET_TAG
    ok = ok and lib.EVP_DecryptFinal_ex(ctx, out, ctypes.byref(n)) == 1
    lib.EVP_CIPHER_CTX_free(ctx)
    return pt if ok else None


def test_go_signature_whose_quote_holds_nul_bytes():
    """Go writes the raw SHA-256 bytes of its quote into the job JSON: invalid UTF-8 becomes
    \\ufffd, and a 0x00 byte (in about one signature in eight) becomes \\u0000. Such a signature
    is accepted, and its result is sealed with the quote's exact bytes (NUL included) as the
    salt, so a Go worker (or this test) opens it with the same quote."""
    key = SK["key"].encode("ascii")
    quote_json = "\\ufffd\\u0000g\\u0000\\u0007\\ufffd-" + "aB3!" * 20
    quote = json.loads('"%s"' % quote_json).encode("utf-8")
    check(b"\x00" in quote, "test quote has no NUL byte")
    plain = ('{"type":"telemetry","arguments":{},"quote":"%s","worker_id":"","target_worker":"",'
             '"timeout":0}' % quote_json).encode("ascii")
    sig = go_seal(key, b"", plain)
    check(go_open(key, b"", sig) == plain, "the test's own AES-GCM does not round-trip")
    with ring_worker() as w:
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey K1")
        uid = w.add(sig)
        st = expect_status(w.wait_status(uid), 200, "status of a Go job whose quote holds NULs")
        opened = go_open(key, quote, st.text)
        check(opened is not None, "the result is not sealed with the quote's exact bytes as salt")
        doc = json.loads(opened.decode("utf-8"))
        check_eq(doc.get("worker_version"), "beta", "opened result is the telemetry document")
        r = expect_status(w.result(st.text, sig), 200, "/job/result of that job")
        check_eq(r.body, opened, "/job/result gives the same clear text")
        # A result sealed by a Go worker under the same quote opens here too.
        r = expect_status(w.result(go_seal(key, quote, b'{"ok":true}'), sig), 200,
                          "/job/result of a Go-sealed result")
        check_eq(r.body, b'{"ok":true}', "Go-sealed result under a quote with NULs")
        # The quote is the replay key: all of its bytes, not the part before the first NUL.
        expect_json_error(w.post("/job/add", json_body={"encrypted_job": sig}), 500,
                          "the same signature again", message="job already executed")
        other = plain.replace(b"aB3!", b"zZ9(")
        w.add(go_seal(key, b"", other))


def test_sealed_job_writes_missing_arguments_as_null():
    """A job sent without arguments, or with null, is sealed with "arguments":null, as Go writes
    its nil map (core-protocol.md 2.1); {} stays {}. The worker accepts both back, and a Go
    signature with null arguments."""
    key = SK["key"].encode("ascii")
    with ring_worker() as w:
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey K1")
        for job, want in (({"type": "telemetry"}, b'"arguments":null,'),
                          ({"type": "telemetry", "arguments": None}, b'"arguments":null,'),
                          ({"type": "telemetry", "arguments": {}}, b'"arguments":{},')):
            sig = w.generate(job)
            plain = go_open(key, b"", sig)
            check(plain is not None and plain.startswith(b'{"type":"telemetry",' + want),
                  "%r sealed as %r" % (job, plain))
            expect_status(w.wait_status(w.add(sig)), 200, "the job %r runs" % job)
        plain = (b'{"type":"telemetry","arguments":null,"quote":"go-null-args-' + b"x" * 40 +
                 b'","worker_id":"","target_worker":"","timeout":0}')
        expect_status(w.wait_status(w.add(go_seal(key, b"", plain))), 200,
                      "a Go signature with null arguments")


def test_setkey_errors_carry_status():
    """Go answers every /setkey error as KeyResponse {"status": "<text>"} (core-protocol.md 1.5.9),
    and its key broker reads "status": every error body has it, equal to "error", bad requests
    included."""
    cases = [
        ("not JSON", {"Content-Type": "application/json"}, b"{not json", 400),
        ("trailing garbage", {"Content-Type": "application/json"},
         json.dumps({"key": SK["key"], "signature": SK["signature"]}).encode() + b" x", 400),
        ("empty body", {"Content-Type": "application/json"}, b"", 400),
        ("form body", {"Content-Type": "application/x-www-form-urlencoded"}, b"key=a", 400),
        ("no signature", {"Content-Type": "application/json"},
         json.dumps({"key": SK["key"]}).encode(), 400),
        ("unknown member", {"Content-Type": "application/json"},
         json.dumps({"key": SK["key"], "signature": SK["signature"], "x": 1}).encode(), 400),
        ("key not a string", {"Content-Type": "application/json"},
         json.dumps({"key": 5, "signature": SK["signature"]}).encode(), 400),
        ("signature over another key", {"Content-Type": "application/json"},
         json.dumps({"key": SK["key"], "signature": SK["signature2"]}).encode(), 500),
    ]
    with ring_worker() as w:
        for what, headers, body, status in cases:
            r = w.post("/setkey", body=body, headers=headers)
            doc = expect_json_error(r, status, "/setkey with " + what)
            check_eq(doc.get("status"), doc["error"], "/setkey with %s: \"status\" member" % what)


def test_setkey_not_served_without_distributor_key():
    with Worker() as w:
        expect_json_error(setkey(w, SK["key"], SK["signature"]), 404, "/setkey without KEY_DISTRIBUTOR_PUBKEY")
        expect_json_error(go_result(w), 500, "/job/result with the Go vectors, no ring")


def test_distributor_key_as_base64_of_pem():
    import base64
    b64 = base64.b64encode(SK["distributor_public_key_pem"].encode()).decode()
    with Worker(env={"KEY_DISTRIBUTOR_PUBKEY": b64}) as w:
        expect_key_set(setkey(w, SK["key"], SK["signature"]), "/setkey with a base64 distributor key")
        expect_status(go_result(w), 200, "/job/result with the Go vectors")


# With the openssl command line available, a distributor key pair of our own lets us sign any key:
# the length check (after the signature) and retired keys.
def _openssl():
    return shutil.which("openssl")


def _sign(openssl, priv, key_bytes, d):
    msg = os.path.join(d, "key.bin")
    with open(msg, "wb") as f:
        f.write(key_bytes)
    out = subprocess.run([openssl, "dgst", "-sha256", "-sign", priv, "-sigopt", "rsa_padding_mode:pss",
                          "-sigopt", "rsa_pss_saltlen:max", msg], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30)
    check(out.returncode == 0, "openssl dgst failed: %r" % out.stderr)
    import base64
    return base64.b64encode(out.stdout).decode()


def test_own_distributor_key_length_and_retired_keys():
    openssl = _openssl()
    if not openssl:
        print("  (skipped: no openssl command line)")
        return
    d = harness.mkdtemp("tw-kd-own-")
    priv, pub = os.path.join(d, "kb.pem"), os.path.join(d, "kb.pub")
    for cmd in ([openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                 "-pkeyopt", "rsa_keygen_pubexp:3", "-out", priv],
                [openssl, "pkey", "-in", priv, "-pubout", "-out", pub]):
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(out.returncode == 0, "%s failed: %r" % (cmd[1], out.stderr))
    keys = [b"A" * 32, b"B" * 32, b"C" * 32]
    short, long_ = b"s" * 31, b"l" * 33
    with ring_worker(pub=pub) as w:
        for k, what in ((short, "31-byte"), (long_, "33-byte")):
            r = setkey(w, k.decode(), _sign(openssl, priv, k, d))
            expect_json_error(r, 500, "/setkey with a validly signed %s key" % what,
                              message="invalid key length: got %d bytes, expected 32 bytes for "
                                      "AES-256 encryption" % len(k))
        for k in keys:
            expect_key_set(setkey(w, k.decode(), _sign(openssl, priv, k, d)), "/setkey %r" % k[:1])
        # A was dropped from the two-key ring: re-sending it must not make it the sealing key again.
        r = setkey(w, keys[0].decode(), _sign(openssl, priv, keys[0], d))
        expect_json_error(r, 500, "/setkey of a retired key")
        w.run_job(TELEMETRY_JOB)
        w.restart()
        r = setkey(w, keys[0].decode(), _sign(openssl, priv, keys[0], d))
        expect_json_error(r, 500, "/setkey of a retired key after a restart")


if __name__ == "__main__":
    harness.main(globals())
