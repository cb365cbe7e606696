"""hostile_worker.py - a plain-HTTP stand-in for a malicious or broken worker, for the client's
handling of hostile answers: error texts, states and headers that carry terminal escape sequences,
newlines and invalid UTF-8.

`answers` maps (method, path prefix) to (status, headers dict, body bytes), or to a list of them
given one per request in turn (the last one then stays); the first matching prefix wins, anything
else is 404 {"error":"not here"}. Usage:
    with HostileWorker() as h: h.answers[("POST", "/job/generate")] = (400, {}, b'...'); h.url"""
from http.server import BaseHTTPRequestHandler

from fakes.base import LocalServer, loopback_server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, method):
        n = int(self.headers.get("Content-Length", "0") or "0")
        if n:
            self.rfile.read(n)
        status, headers, body = 404, {}, b'{"error":"not here"}'
        for (m, prefix), value in self.server.fake.answers.items():
            if m == method and self.path.startswith(prefix):
                if isinstance(value, list):
                    value = value.pop(0) if len(value) > 1 else value[0]
                status, headers, body = value
                break
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")


class HostileWorker(LocalServer):
    def __init__(self):
        self.answers = {}

    def start(self):
        return self.serve(loopback_server(_Handler))

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port
