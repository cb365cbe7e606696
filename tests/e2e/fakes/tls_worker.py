"""tls_worker.py - a tiny HTTPS stand-in for an enclave worker, for the client's TLS options.

It makes a fresh self-signed certificate (openssl command line, ECDSA P-256, like the enclave's)
in a temporary directory, serves HTTPS on 127.0.0.1 (port 0) and answers POST /job/generate with
the text "tls-signature". `pin` is the curl public-key pin of its key: sha256//base64(SHA-256 of
the DER SubjectPublicKeyInfo). `subject` names the certificate (default "/CN=EGo"; a hostile one
may carry control characters). Usage: with TlsWorker() as t: t.url, t.pin, t.key_path"""
import base64
import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile
from http.server import BaseHTTPRequestHandler

from fakes.base import LocalServer, loopback_server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        body = b"tls-signature" if self.path == "/job/generate" else b'{"error":"not here"}'
        self.send_response(200 if self.path == "/job/generate" else 404)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TlsWorker(LocalServer):
    def __init__(self, subject="/CN=EGo"):
        self.dir = tempfile.mkdtemp(prefix="tw-tls-")
        self.key_path = os.path.join(self.dir, "key.pem")
        self.cert_path = os.path.join(self.dir, "cert.pem")
        self.pubkey_path = os.path.join(self.dir, "pub.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key_path,
                        "-out", self.cert_path, "-days", "1", "-subj", subject],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        der = subprocess.run(["openssl", "x509", "-in", self.cert_path, "-pubkey", "-noout"],
                             check=True, stdout=subprocess.PIPE).stdout
        with open(self.pubkey_path, "wb") as f:
            f.write(der)
        spki = subprocess.run(["openssl", "pkey", "-pubin", "-in", self.pubkey_path,
                               "-outform", "der"], check=True, stdout=subprocess.PIPE).stdout
        self.pin = "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(self.cert_path, self.key_path)

    # ---- lifecycle (`with` and port come from LocalServer)

    def start(self):
        server = loopback_server(_Handler)
        server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % server.server_address[1]
        return self.serve(server)

    def stop(self):
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
