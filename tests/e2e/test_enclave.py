#!/usr/bin/env python3
"""test_enclave.py - enclave mode (STANDALONE=false, the gramine-sgx backend) against a stand-in of
Gramine's attestation directory (fakes/attestation_fake.py, named by GRAMINE_ATTESTATION_DIR).

What is checked (core-protocol.md 1.1, 3, 6; DECISIONS.md "Platform keys"):
  * HTTPS only; the certificate carries the RA-TLS quote extension (1.2.840.113741.1337.6) whose
    quote has SHA-256 of the certificate's own SubjectPublicKeyInfo as report data, which this
    client checks itself from the DER the handshake delivered (a small DER walker below), and the
    TCG DICE tagged evidence (2.23.133.5.4.9) with a second quote over claims naming that key;
  * GET /attestation returns that same quote and certificate;
  * /setkey and the job flow work over HTTPS; the worker id and the key ring are sealed under the
    signer key and survive a restart; under another signer key the worker refuses to start with
    a clear error (and starts again, data intact, under the right one);
  * the certificate is renewed (new key, new quote) before it expires, and a connection opened
    before the renewal keeps working;
  * attestation_type "none" is refused, or served without a quote under OE_SIMULATION;
  * standalone mode keeps plain HTTP and has no /attestation route;
  * the attested listener speaks TLS 1.2 and 1.3 only (RFC 8996: no TLS 1.0 or 1.1);
  * KEY_DISTRIBUTOR_PUBKEY naming a file is refused in enclave mode (the host could replace the
    file; the measured base64 value is the only accepted form)."""
import base64
import hashlib
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status
from fakes.attestation_fake import REPORT_DATA_OFFSET, AttestationFake

RATLS_QUOTE_OID = "1.2.840.113741.1337.6"
RATLS_EVIDENCE_OID = "2.23.133.5.4.9"
TELEMETRY_JOB = {"type": "telemetry", "arguments": {}}
SK = harness.vectors()["setkey"]


# ---------------------------------------------------------------------------------------------
# a minimal DER reader: enough to find the public key and the extensions of a certificate


def der_item(buf, pos):
    """(tag, start of contents, end of contents, end of item) of the DER item at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        count = n & 0x7F
        check(0 < count <= 4, "DER: unsupported length form")
        n = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    check(pos + n <= len(buf), "DER: item runs past the end")
    return tag, pos, pos + n, pos + n


def der_children(buf, start, end):
    out = []
    pos = start
    while pos < end:
        tag, cs, ce, nxt = der_item(buf, pos)
        out.append((tag, cs, ce, pos, nxt))
        pos = nxt
    return out


def oid_text(raw):
    first = raw[0]
    parts = [first // 40, first % 40] if first < 80 else [2, first - 80]
    value = 0
    for b in raw[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def parse_certificate(der):
    """Returns (SubjectPublicKeyInfo DER, {oid: (critical, value bytes)})."""
    _, cs, ce, _ = der_item(der, 0)
    tbs_tag, tcs, tce, _, _ = der_children(der, cs, ce)[0]
    check(tbs_tag == 0x30, "certificate: no tbsCertificate")
    fields = der_children(der, tcs, tce)
    if fields[0][0] == 0xA0:          # [0] version
        fields = fields[1:]
    # serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    spki = fields[5]
    spki_der = der[spki[3]:spki[4]]
    extensions = {}
    for tag, xs, xe, _, _ in fields[6:]:
        if tag != 0xA3:
            continue
        _, ls, le, _ = der_item(der, xs)
        for _, es, ee, _, _ in der_children(der, ls, le):
            parts = der_children(der, es, ee)
            oid = oid_text(der[parts[0][1]:parts[0][2]])
            critical = len(parts) == 3 and der[parts[1][1]] != 0
            value = parts[-1]
            check(value[0] == 0x04, "extension %s: value is not an OCTET STRING" % oid)
            extensions[oid] = (critical, der[value[1]:value[2]])
    return spki_der, extensions


def cbor_bstr(buf, pos):
    """(bytes, next position) of the CBOR byte string at pos."""
    head = buf[pos]
    check(head >> 5 == 2, "CBOR: expected a byte string at %d" % pos)
    ai = head & 31
    if ai < 24:
        n, pos = ai, pos + 1
    else:
        size = {24: 1, 25: 2, 26: 4}.get(ai)
        check(size is not None, "CBOR: unsupported length form")
        n, pos = int.from_bytes(buf[pos + 1:pos + 1 + size], "big"), pos + 1 + size
    check(pos + n <= len(buf), "CBOR: byte string runs past the end")
    return buf[pos:pos + n], pos + n


def check_tagged_evidence(evidence, spki, what):
    """TCG DICE tagged evidence (Gramine 1.8): tag 60000 over [bstr(quote2), bstr(claims)], claims
    = {"pubkey-hash": bstr([1, bstr(SHA-256(SPKI))])}, quote2's report data = SHA-256(claims)."""
    check_eq(evidence[:4], b"\xd9\xea\x60\x82", what + ": CBOR tag 60000 and a 2-array")
    quote2, pos = cbor_bstr(evidence, 4)
    claims, pos = cbor_bstr(evidence, pos)
    check_eq(pos, len(evidence), what + ": bytes after the evidence array")
    want = (b"\xa1\x6bpubkey-hash\x58\x24\x82\x01\x58\x20" + hashlib.sha256(spki).digest())
    check_eq(claims.hex(), want.hex(), what + ": claims naming the certificate's key")
    rd = quote2[REPORT_DATA_OFFSET:REPORT_DATA_OFFSET + 64]
    check_eq(rd.hex(), (hashlib.sha256(claims).digest() + b"\0" * 32).hex(),
             what + ": report data of the evidence quote = SHA-256(claims)")


def check_attested(der, what):
    """The certificate carries a quote whose report data is SHA-256(its SPKI) || 32 zeros, and the
    same attestation as TCG DICE tagged evidence. Returns (quote, SPKI DER)."""
    spki, exts = parse_certificate(der)
    check(RATLS_EVIDENCE_OID in exts, "%s: no TCG DICE evidence extension" % what)
    check(not exts[RATLS_EVIDENCE_OID][0], "%s: the evidence extension must not be critical" % what)
    check_tagged_evidence(exts[RATLS_EVIDENCE_OID][1], spki, what)
    check(RATLS_QUOTE_OID in exts, "%s: no RA-TLS quote extension; extensions %r"
          % (what, sorted(exts)))
    critical, quote = exts[RATLS_QUOTE_OID]
    check(not critical, "%s: the quote extension must not be critical" % what)
    check(len(quote) >= REPORT_DATA_OFFSET + 64, "%s: quote of %d bytes" % (what, len(quote)))
    check_eq(quote[:2], b"\x03\x00", what + ": quote version")
    rd = quote[REPORT_DATA_OFFSET:REPORT_DATA_OFFSET + 64]
    check_eq(rd[:32].hex(), hashlib.sha256(spki).hexdigest(),
             what + ": report data = SHA-256 of the certificate's public key")
    check_eq(rd[32:], b"\0" * 32, what + ": report data bytes 32..63")
    return quote, spki


# ---------------------------------------------------------------------------------------------
# HTTPS


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE       # self-signed: verified through the quote instead
    return ctx


def https_connection(port, timeout=15.0):
    """A keep-alive HTTPS connection to the worker on port (not connected until first used)."""
    return http.client.HTTPSConnection(harness.HOST, port, timeout=timeout, context=tls_context())


def https_request(port, method, path, body=None, headers=None, json_body=None, timeout=15.0,
                  conn=None):
    """Like harness.http_request over TLS; returns (Response, peer certificate DER)."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    own = conn is None
    conn = conn or https_connection(port, timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        # read before the answer: one that closes the connection (a 401 is answered from the
        # headers and closes it) leaves http.client no socket once read
        der = conn.sock.getpeercert(binary_form=True)
        resp = conn.getresponse()
        data = resp.read()
        return harness.Response(resp.status, resp.headers, data), der
    finally:
        if own:
            conn.close()


class EnclaveWorker(Worker):
    """A worker in enclave mode against fake (an AttestationFake), spoken to over HTTPS."""

    transport_note = " over HTTPS"

    def __init__(self, fake, env=None, **kw):
        full = fake.worker_env()
        full.update(env or {})
        super().__init__(env=full, standalone=False, **kw)

    def request(self, method, path, **kw):
        return https_request(self.port, method, path, **kw)[0]

    def peer_certificate(self):
        return https_request(self.port, "GET", "/healthz")[1]



# ---------------------------------------------------------------------------------------------
# tests


def test_https_certificate_carries_quote_over_its_key():
    with AttestationFake() as fake, EnclaveWorker(fake) as w:
        r, der = https_request(w.port, "GET", "/healthz")
        expect_status(r, 200, "/healthz over HTTPS")
        quote, _ = check_attested(der, "served certificate")
        check(any(q == quote for _, q in fake.served),
              "the quote in the certificate is not one the attestation stand-in produced")

        # plain HTTP is not served in enclave mode
        try:
            plain = harness.http_request(w.port, "GET", "/healthz", timeout=5.0)
            harness.fail("plain HTTP answered in enclave mode: %s" % plain.describe())
        except (OSError, http.client.HTTPException):
            pass
        w.healthy("a plain-HTTP attempt")

        # /attestation: open (no API key needed), the same quote and certificate
        r, der2 = https_request(w.port, "GET", "/attestation")
        expect_status(r, 200, "GET /attestation")
        check_eq(r.header("Content-Type"), "application/json", "/attestation Content-Type")
        doc = r.json()
        check_eq(sorted(doc), ["attestation_type", "certificate", "expires_at", "not_before",
                               "quote", "report_data"], "/attestation members")
        check_eq(doc["attestation_type"], "dcap", "/attestation attestation_type")
        check_eq(der2, der, "the certificate did not change between two requests")
        check_eq(base64.b64decode(doc["quote"]), quote, "/attestation quote = certificate's quote")
        check_eq(doc["report_data"], quote[REPORT_DATA_OFFSET:REPORT_DATA_OFFSET + 64].hex(),
                 "/attestation report_data")
        pem = doc["certificate"]
        check(pem.startswith("-----BEGIN CERTIFICATE-----\n"), "/attestation certificate is not PEM")
        body = "".join(pem.strip().splitlines()[1:-1])
        check_eq(base64.b64decode(body), der, "/attestation certificate = the served certificate")
        check(doc["expires_at"].endswith("Z"), "expires_at is RFC 3339 UTC: %r" % doc["expires_at"])


def test_api_key_still_guards_the_rest_over_https():
    with AttestationFake() as fake, EnclaveWorker(fake, api_key="s3cret") as w:
        expect_status(w.get("/attestation"), 200, "/attestation without the API key (open)")
        expect_json_error(w.post("/job/generate", json_body=TELEMETRY_JOB), 401,
                          "/job/generate without the API key")


def distributor_pubkey_base64():
    """KEY_DISTRIBUTOR_PUBKEY as the manifest renders it in enclave mode: base64 of the PEM."""
    pem = harness.vectors()["setkey"]["distributor_public_key_pem"]
    return base64.b64encode(pem.encode("ascii")).decode("ascii")


def test_setkey_jobs_restart_and_another_signer():
    pub = distributor_pubkey_base64()
    data = harness.mkdtemp("tw-enclave-data-")
    with AttestationFake() as fake:
        with EnclaveWorker(fake, env={"KEY_DISTRIBUTOR_PUBKEY": pub}, data_dir=data) as w:
            wid = w.worker_id()
            # enclave mode: no local key; an empty ring cannot seal
            expect_json_error(w.post("/job/generate", json_body=TELEMETRY_JOB), 500,
                              "/job/generate before /setkey", message="no keys available in key ring")
            r = w.post("/setkey", json_body={"key": SK["key"], "signature": SK["signature"]})
            expect_status(r, 200, "/setkey over HTTPS")
            check_eq(r.json(), {"status": "Key set"}, "/setkey body")
            sig = w.generate(TELEMETRY_JOB)
            uid = w.add(sig)
            sealed = expect_status(w.wait_status(uid), 200, "job status").text
            clear = expect_status(w.result(sealed, sig), 200, "/job/result").json()
            check(isinstance(clear, dict) and "reported_capabilities" in clear,
                  "/job/result is not the telemetry document: %r" % clear)

            # restart: same signer, same worker id, the ring is back without /setkey
            w.restart()
            check_eq(w.worker_id(), wid, "worker id after a restart")
            r = expect_status(w.result(sealed, sig), 200, "/job/result after a restart")
            check_eq(r.json(), clear, "result opened after a restart")
            sig2 = w.generate(TELEMETRY_JOB)
            check(sig2 != sig, "a new signature after the restart")

        # another enclave signer: nothing sealed opens; a clear refusal, no crash
        fake.set_mrsigner_key(bytes(range(100, 116)))
        env = dict(fake.worker_env(), DATA_DIR=data, KEY_DISTRIBUTOR_PUBKEY=pub,
                   LISTEN_ADDRESS="%s:%d" % (harness.HOST, harness.free_port()))
        rc, out = harness.run_binary(env, timeout=30.0)
        check(rc > 0, "start under another signer key: expected an error exit, got %d:\n%s" % (rc, out))
        check(not harness.sanitizer_report(out), "sanitizer report:\n%s" % out)
        check("start-up failed" in out and ("another key" in out or "another platform key" in out),
              "the refusal should say the sealed data is under another key:\n%s" % out)

        # the right signer again: the data was not touched
        fake.set_mrsigner_key(bytes(range(16)))
        with EnclaveWorker(fake, env={"KEY_DISTRIBUTOR_PUBKEY": pub}, data_dir=data) as w:
            check_eq(w.worker_id(), wid, "worker id after the refused start")
            expect_status(w.result(sealed, sig), 200, "/job/result after the refused start")


def wait_renewed(w, first, seconds):
    """The worker's certificate once it differs from first (DER), within seconds; fails if not."""
    deadline = time.monotonic() + seconds
    renewed = first
    while renewed == first and time.monotonic() < deadline:
        time.sleep(0.3)
        renewed = w.peer_certificate()
    check(renewed != first, "the certificate was not renewed within %d s" % seconds)
    return renewed


def test_certificate_renewed_before_expiry():
    # two event-loop threads: the replacement listener and the quiesced one are thread pools
    env = {"TLS_CERT_VALIDITY_SECONDS": "3", "HTTP_THREADS": "2"}
    with AttestationFake() as fake, EnclaveWorker(fake, env=env) as w:
        old_conn = https_connection(w.port, timeout=10)
        try:
            r, first = https_request(w.port, "GET", "/healthz", conn=old_conn)
            expect_status(r, 200, "/healthz on the first connection")
            _, spki1 = check_attested(first, "first certificate")
            renewed = wait_renewed(w, first, 15)
            _, spki2 = check_attested(renewed, "renewed certificate")
            check(spki2 != spki1, "the renewed certificate must have a new key")
            doc = w.get("/attestation").json()
            check(doc["report_data"][:64] != hashlib.sha256(spki1).hexdigest(),
                  "/attestation still describes the first certificate")
            # the connection opened before the renewal is still served
            r, still = https_request(w.port, "GET", "/healthz", conn=old_conn)
            expect_status(r, 200, "/healthz on a connection opened before the renewal")
            check_eq(still, first, "the old connection keeps its certificate")
        finally:
            old_conn.close()
        check("TLS certificate renewed" in w.stderr(), "no renewal line in the log")


def test_renewal_keeps_a_slow_upload_under_way():
    """A body the request deadlines allow (HTTP_TIMEOUT_SECONDS plus a second per 16 KiB) still
    arrives, and is answered, on a connection opened before a renewal: the listener it was
    accepted on is retired, not cut, while a request on it may still be arriving. The retired
    listener was stopped HTTP_TIMEOUT_SECONDS + 1 s after the renewal, cutting the upload."""
    env = {"TLS_CERT_VALIDITY_SECONDS": "3", "HTTP_THREADS": "2", "HTTP_TIMEOUT_SECONDS": "2"}
    chunk, pause, chunks = 8 * 1024, 0.25, 40      # 32 KiB/s for 10 s
    filler = chunk * chunks - len(b'{"encrypted_result":"","encrypted_request":"x"}')
    body = b'{"encrypted_result":"' + b"A" * filler + b'","encrypted_request":"x"}'
    with AttestationFake() as fake, EnclaveWorker(fake, env=env) as w:
        first = w.peer_certificate()
        raw = socket.create_connection((harness.HOST, w.port), timeout=10)
        sock = tls_context().wrap_socket(raw, server_hostname=harness.HOST)
        try:
            sock.sendall(b"POST /job/result HTTP/1.1\r\nHost: worker\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body))
            for i in range(chunks):
                try:
                    sock.sendall(body[i * chunk:(i + 1) * chunk])
                except OSError as e:
                    check(False, "the upload was cut after %d of %d bytes (%s)"
                          % (i * chunk, len(body), e))
                time.sleep(pause)
            check(w.peer_certificate() != first, "no renewal happened during the upload")
            answer = b""
            while b"\r\n\r\n" not in answer:
                try:
                    piece = sock.recv(4096)
                except OSError as e:
                    check(False, "no answer to the upload (%s)" % e)
                check(piece, "the connection closed without an answer to the upload")
                answer += piece
            check(answer.startswith(b"HTTP/1.1 500"), "unexpected answer: %r" % answer[:200])
        finally:
            sock.close()


def test_renewal_closes_kept_alive_connections_after_their_request():
    """After a renewal, an answer on a connection accepted with the old certificate says
    Connection: close and the connection ends there, so the old listener (and its private key)
    is gone once its requests are done, not kept as long as a client keeps polling on a
    kept-alive connection, to be cut then, maybe in the middle of a request."""
    env = {"TLS_CERT_VALIDITY_SECONDS": "3", "HTTP_THREADS": "2"}
    get = b"GET /job/status/x HTTP/1.1\r\nHost: worker\r\nConnection: keep-alive\r\n\r\n"
    with AttestationFake() as fake, EnclaveWorker(fake, env=env) as w:
        raw = socket.create_connection((harness.HOST, w.port), timeout=10)
        sock = tls_context().wrap_socket(raw, server_hostname=harness.HOST)
        try:
            first = sock.getpeercert(binary_form=True)
            sock.sendall(get)
            answer = b""
            while not answer.endswith(b"}\n"):     # the whole JSON body
                piece = sock.recv(65536)
                check(piece, "before the renewal: closed after %r" % answer)
                answer += piece
            check(answer.startswith(b"HTTP/1.1 404") and b"Connection: close" not in answer,
                  "before the renewal: expected a kept-alive 404, got %r" % answer)
            wait_renewed(w, first, 15)
            sock.sendall(get)
            answer = harness.read_until_closed(sock)
            check(answer.startswith(b"HTTP/1.1 404") and b"\r\nConnection: close\r\n" in answer,
                  "after the renewal: expected a 404 saying Connection: close, got %r" % answer)
            check(answer.count(b"HTTP/1.1 ") == 1, "one answer expected, got %r" % answer)
        finally:
            sock.close()


def test_attestation_describes_the_certificate_of_its_connection():
    """GET /attestation on a connection accepted with a certificate since renewed does not
    describe the new certificate, which that connection never presented (a verifier comparing
    the two would refuse the worker): it is a 503 with Retry-After, and the connection closes;
    on a new connection the answer describes the certificate of that connection."""
    env = {"TLS_CERT_VALIDITY_SECONDS": "3", "HTTP_THREADS": "2"}
    with AttestationFake() as fake, EnclaveWorker(fake, env=env) as w:
        old_conn = https_connection(w.port, timeout=10)
        try:
            r, first = https_request(w.port, "GET", "/healthz", conn=old_conn)
            expect_status(r, 200, "/healthz before the renewal")
            wait_renewed(w, first, 15)
            r, der = https_request(w.port, "GET", "/attestation", conn=old_conn)
            check_eq(der, first, "the old connection's certificate")
            if r.status == 200:
                pem = r.json()["certificate"]
                check(ssl.PEM_cert_to_DER_cert(pem) == der, "/attestation on a connection opened "
                      "before the renewal describes another certificate than the connection's")
            expect_status(r, 503, "/attestation on a connection opened before the renewal")
            check(r.headers.get("Retry-After"), "the 503 must say Retry-After")
        finally:
            old_conn.close()
        r, der = https_request(w.port, "GET", "/attestation")
        expect_status(r, 200, "/attestation on a new connection")
        check(ssl.PEM_cert_to_DER_cert(r.json()["certificate"]) == der,
              "/attestation on a new connection describes another certificate than its own")


def test_renewal_does_not_wait_on_the_wall_clock():
    """The renewal thread wakes every second on the monotonic clock: with the worker's wall clock
    an hour ahead of the kernel's (tests/e2e/fakes/clock_shift.c; what a step backwards does to a
    wait under way) the certificate is still renewed after two thirds of its validity. A wait on
    the wall clock lasted the hour, and the certificate expired unrenewed."""
    from test_durability import clock_ahead_env
    env = dict(clock_ahead_env(3600), TLS_CERT_VALIDITY_SECONDS="3")
    with AttestationFake() as fake, EnclaveWorker(fake, env=env) as w:
        wait_renewed(w, w.peer_certificate(), 10)


def test_attestation_type_none():
    with AttestationFake(attestation_type="none", serve_quotes=False) as fake:
        env = dict(fake.worker_env(), DATA_DIR=harness.mkdtemp("tw-data-"),
                   LISTEN_ADDRESS="%s:%d" % (harness.HOST, harness.free_port()))
        rc, out = harness.run_binary(env)
        check(rc > 0, "attestation_type none without OE_SIMULATION: expected a refusal, got %d" % rc)
        check("OE_SIMULATION" in out and "attestation_type" in out,
              "the refusal should name attestation_type and OE_SIMULATION:\n%s" % out)

        with EnclaveWorker(fake, env={"OE_SIMULATION": "1"}) as w:
            r, der = https_request(w.port, "GET", "/healthz")
            expect_status(r, 200, "/healthz under OE_SIMULATION")
            _, exts = parse_certificate(der)
            check(RATLS_QUOTE_OID not in exts and RATLS_EVIDENCE_OID not in exts,
                  "no quote or evidence extension without attestation: %r" % sorted(exts))
            expect_json_error(w.get("/attestation"), 503, "/attestation without attestation",
                              prefix="attestation unavailable")


def test_missing_attestation_dir_is_refused():
    env = {"STANDALONE": "false", "GRAMINE_ATTESTATION_DIR": "/nonexistent/tw-attestation",
           "DATA_DIR": harness.mkdtemp("tw-data-"),
           "LISTEN_ADDRESS": "%s:%d" % (harness.HOST, harness.free_port())}
    rc, out = harness.run_binary(env)
    check(rc > 0, "no attestation directory: expected a refusal, got %d:\n%s" % (rc, out))
    check("/nonexistent/tw-attestation/attestation_type" in out and "STANDALONE=true" in out,
          "the refusal should name the missing file and the way out:\n%s" % out)


def test_standalone_keeps_plain_http_and_no_attestation_route():
    with Worker() as w:
        expect_status(w.get("/healthz"), 200, "standalone /healthz over plain HTTP")
        expect_json_error(w.get("/attestation"), 404, "/attestation in standalone mode")


def test_distributor_key_file_refused_in_enclave_mode():
    path = harness.distributor_pubkey_file()
    with AttestationFake() as fake:
        env = dict(fake.worker_env(), DATA_DIR=harness.mkdtemp("tw-data-"),
                   KEY_DISTRIBUTOR_PUBKEY=path,
                   LISTEN_ADDRESS="%s:%d" % (harness.HOST, harness.free_port()))
        rc, out = harness.run_binary(env, timeout=30.0)
    check(rc > 0, "a distributor key file in enclave mode: expected a refusal, got %d:\n%s" % (rc, out))
    check("KEY_DISTRIBUTOR_PUBKEY" in out and "base64" in out,
          "the refusal should name the variable and the accepted form:\n%s" % out)
    check(not harness.sanitizer_report(out), "sanitizer report:\n%s" % out)


def handshake(port, version_flag):
    """openssl s_client with one protocol version and every cipher allowed on its side; returns
    the protocol the server agreed to, or None when the handshake failed."""
    p = subprocess.run(["openssl", "s_client", version_flag, "-cipher", "DEFAULT:@SECLEVEL=0",
                        "-connect", "%s:%d" % (harness.HOST, port)],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("Protocol") and ":" in line and p.returncode == 0:
            return line.split(":", 1)[1].strip()
        if line.startswith("New, TLSv1.3"):
            return "TLSv1.3"
    return None


def test_only_tls_12_and_13():
    check(shutil.which("openssl"), "the openssl command is needed (scripts/deps.sh)")
    with AttestationFake() as fake, EnclaveWorker(fake) as w:
        check_eq(handshake(w.port, "-tls1_3"), "TLSv1.3", "TLS 1.3 handshake")
        check_eq(handshake(w.port, "-tls1_2"), "TLSv1.2", "TLS 1.2 handshake")
        for old in ("-tls1", "-tls1_1"):
            check_eq(handshake(w.port, old), None, "a %s handshake is refused" % old)


def test_store_writer_does_not_follow_in_an_enclave():
    # In an enclave (Gramine) getcpu is emulated: it names CPU 0, or a random CPU of the calling
    # thread's mask, not the host CPU the HTTP thread runs on, and each move of the writer is a
    # call to the host. WRITER_FOLLOWS_HTTP (on by default) is for standalone mode only: after
    # admissions the store's writer keeps the process's CPUs.
    everything = harness.proc_status("/proc/self/status")["Cpus_allowed_list"]
    pub = distributor_pubkey_base64()
    with AttestationFake() as fake:
        with EnclaveWorker(fake, env={"KEY_DISTRIBUTOR_PUBKEY": pub}) as w:
            r = w.post("/setkey", json_body={"key": SK["key"], "signature": SK["signature"]})
            expect_status(r, 200, "/setkey over HTTPS")
            for _ in range(20):
                uid = w.add(w.generate(TELEMETRY_JOB))
                expect_status(w.wait_status(uid), 200, "telemetry job status")
            threads = harness.threads_of(w.proc.pid)
    writer = [t for t in threads if t["name"] == "tw-store"]
    check_eq(len(writer), 1, "store writers in %r" % [t["name"] for t in threads])
    check_eq(writer[0]["cpus"], everything, "the writer's CPUs in enclave mode")


if __name__ == "__main__":
    harness.main(globals())
