"""attestation_fake.py - a stand-in for Gramine's /dev/attestation, for tests only.

The worker in enclave mode (STANDALONE=false) reads everything from GRAMINE_ATTESTATION_DIR; the
Gramine manifest fixes that to /dev/attestation, so this stand-in is reachable only when a test
sets the variable. The directory holds:
  attestation_type      "dcap" (or what the test asks for)
  keys/_sgx_mrsigner    16 bytes: the "enclave signer" sealing key (change it = another signer)
  user_report_data      64 bytes, written by the worker before each quote
  quote                 a FIFO: each time the worker writes new report data and opens it, a
                        thread here answers with a fake SGX quote v3 whose report-data field
                        (byte 368) holds exactly the bytes the worker wrote, like Gramine does

The fake quote has the real layout (48-byte header, 384-byte report body, then a signature-data
length of 0) but no signature: it proves nothing to a real verifier. Tests use it to check that
the worker put the hash of its own TLS key into the quote it serves. Every quote served is kept in
.served (report data, quote bytes).

Usage: with AttestationFake() as fake: env = fake.worker_env(); ...
"""
import hashlib
import os
import shutil
import struct
import tempfile
import threading
import time

REPORT_DATA_OFFSET = 368
MRENCLAVE = hashlib.sha256(b"tee-worker stand-in enclave").digest()
MRSIGNER_MEASUREMENT = hashlib.sha256(b"tee-worker stand-in signer").digest()


def fake_quote(report_data):
    """An SGX quote v3 (ECDSA-256) with the given 64 bytes of report data and no signature."""
    if len(report_data) != 64:
        raise ValueError("report data must be 64 bytes, got %d" % len(report_data))
    header = struct.pack("<HHIHH16s20s", 3, 2, 0, 0, 0, b"\x93\x9a\x72\x33\xf7\x9c\x4c\xa9"
                         b"\x94\x0a\x0d\xb3\x95\x7f\x06\x07", b"\0" * 20)
    body = bytearray(384)
    body[64:96] = MRENCLAVE            # mr_enclave
    body[128:160] = MRSIGNER_MEASUREMENT  # mr_signer
    struct.pack_into("<HH", body, 256, 1, 5)   # isv_prod_id 1, isv_svn 5 (the manifest's)
    body[320:384] = report_data
    quote = header + bytes(body) + struct.pack("<I", 0)
    assert quote[REPORT_DATA_OFFSET:REPORT_DATA_OFFSET + 64] == report_data
    return quote


class AttestationFake:
    def __init__(self, attestation_type="dcap", mrsigner_key=None, serve_quotes=True):
        self.dir = tempfile.mkdtemp(prefix="tw-attest-")
        self.served = []
        self._stop = False
        self._thread = None
        os.mkdir(os.path.join(self.dir, "keys"))
        self.set_type(attestation_type)
        self.set_mrsigner_key(mrsigner_key or bytes(range(16)))
        with open(self.report_data_path, "wb") as f:
            f.write(b"\0" * 64)
        os.mkfifo(self.quote_path, 0o600)
        if serve_quotes:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    @property
    def report_data_path(self):
        return os.path.join(self.dir, "user_report_data")

    @property
    def quote_path(self):
        return os.path.join(self.dir, "quote")

    def set_type(self, attestation_type):
        with open(os.path.join(self.dir, "attestation_type"), "w", encoding="ascii") as f:
            f.write(attestation_type)

    def set_mrsigner_key(self, key):
        with open(os.path.join(self.dir, "keys", "_sgx_mrsigner"), "wb") as f:
            f.write(key)

    def worker_env(self):
        return {"STANDALONE": "false", "GRAMINE_ATTESTATION_DIR": self.dir}

    def _report_data_state(self):
        try:
            st = os.stat(self.report_data_path)
            with open(self.report_data_path, "rb") as f:
                return (st.st_mtime_ns, st.st_size, f.read())
        except OSError:
            return None

    def _serve(self):
        # Answer once per new report data: reopening the FIFO while the worker still reads the
        # previous answer would append a second quote to it.
        last = self._report_data_state()
        while not self._stop:
            state = self._report_data_state()
            if state is None or state == last:
                time.sleep(0.005)
                continue
            last = state
            fd = os.open(self.quote_path, os.O_WRONLY)   # blocks until the worker opens it
            try:
                if self._stop:
                    break
                with open(self.report_data_path, "rb") as f:
                    report_data = f.read()
                if len(report_data) != 64:
                    continue   # the worker wrote something else: it gets no quote (EOF)
                quote = fake_quote(report_data)
                self.served.append((report_data, quote))
                view = memoryview(quote)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            except OSError:
                pass
            finally:
                os.close(fd)

    def close(self):
        self._stop = True
        if self._thread:
            # unblock a writer waiting in open(): a reader that opens and goes at once
            try:
                fd = os.open(self.quote_path, os.O_RDONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
            self._thread.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
