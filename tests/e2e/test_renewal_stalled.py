#!/usr/bin/env python3
"""test_renewal_stalled.py - the enclave's certificate renewals while a /setkey waits on a disk that
does not answer (tests/e2e/fakes/stall_io.c preloaded, as in test_shutdown.py).

Each renewal starts a listener with the new certificate and retires the old one; a retired
listener holding the suspended /setkey cannot be stopped (libmicrohttpd aborts the process when a
daemon with a suspended connection is stopped, and the late answer would go to freed memory). The
other retired listeners are reaped as they empty, so the renewals go on (their slots free up),
the listener holding the /setkey is kept past its time, the worker stays up, other requests are
answered, and the /setkey gets its 200 when the disk answers again. (When every retired slot
holds a deferred request, a renewal keeps the current certificate: test_http_defer.)"""
import time

import harness as h
from fakes.attestation_fake import AttestationFake
from test_enclave import EnclaveWorker, distributor_pubkey_base64, https_request
from test_shutdown import PendingSetkey, Stall

# validity 3 s: a renewal every 2 s; four retired slots, so the sixth renewal would stop the
# listener of the /setkey if it were still in a slot of its own age
RENEWALS = 6


class PendingHttpsSetkey(PendingSetkey):
    """POST /setkey over HTTPS in a thread; outcome ("answer", Response) or ("closed", error)."""

    def send(self):
        r, _ = https_request(self.port, "POST", "/setkey", json_body=self.body, timeout=120.0)
        return r


def test_renewals_keep_the_listener_of_a_setkey_waiting_on_the_disk():
    stall = Stall()
    env = stall.env(1)
    env.update({"TLS_CERT_VALIDITY_SECONDS": "3", "HTTP_THREADS": "2",
                "KEY_DISTRIBUTOR_PUBKEY": distributor_pubkey_base64()})
    sk = h.vectors()["setkey"]
    with AttestationFake() as fake:
        w = EnclaveWorker(fake, env=env)
        try:
            w.start()
            stall.on()
            pending = PendingHttpsSetkey(w.port, sk["key"], sk["signature"])
            pending.start()
            stall.wait_hit()
            renewed_before = w.stderr().count("TLS certificate renewed")
            # wait for more renewals than there are retired slots
            deadline = time.monotonic() + 40.0
            while time.monotonic() < deadline and w.proc.poll() is None:
                if w.stderr().count("TLS certificate renewed") - renewed_before >= RENEWALS:
                    break
                time.sleep(0.2)
            log = w.stderr()
            h.check(w.proc.poll() is None,
                    "the worker died during the renewals while /setkey waited on the disk "
                    "(exit %r):\n%s" % (w.proc.poll(), log[-3000:]))
            h.check(not h.sanitizer_report(log), "sanitizer report:\n%s" % log)
            h.check(log.count("TLS certificate renewed") - renewed_before >= RENEWALS,
                    "the renewals stopped while /setkey waited on the disk:\n%s" % log[-3000:])
            h.check(pending.outcome is None,
                    "/setkey answered while its write hangs: %r" % (pending.outcome,))
            r, _ = https_request(w.port, "GET", "/healthz", timeout=5.0)
            h.expect_status(r, 200, "/healthz while /setkey waits on the disk")

            stall.off()
            pending.join(30.0)
            h.check(not pending.is_alive(), "/setkey: no answer 30 s after the disk came back")
            h.check_eq(pending.outcome[0], "answer", "/setkey after the disk came back (%r)"
                       % (pending.outcome,))
            r = h.expect_status(pending.outcome[1], 200, "/setkey after the disk came back")
            h.check_eq(r.json(), {"status": "Key set"}, "/setkey body")
            h.check(not h.sanitizer_report(w.stderr()), "sanitizer report:\n%s" % w.stderr())
            w.stop()
        finally:
            w.kill()


if __name__ == "__main__":
    h.main(globals())
