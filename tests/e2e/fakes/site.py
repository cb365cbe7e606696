"""site.py - a tiny web site for the `web` job's end-to-end tests (Python 3 stdlib only).

A Site holds routes: path -> Route (status, headers, body, optional delay, optional gzip) or a
callable(handler, hit_number) returning (status, headers, body). It serves them on 127.0.0.1 with
a ThreadingHTTPServer on a free port, counts hits per path (and their monotonic times) so the
tests can assert what the crawler fetched, and how often. Unknown paths answer 404.

    site = Site()
    site.page("/", "<h1>x</h1>")
    with site:                     # starts and stops the server
        url = site.url("/")
"""
import gzip as gzip_module
import http.server
import threading
import time

from fakes.base import LocalServer


class Route:
    def __init__(self, body=b"", status=200, content_type="text/html; charset=utf-8",
                 headers=None, delay=0.0, gzip=False):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status = status
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.delay = delay
        self.gzip = gzip


class Site(LocalServer):
    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.routes = {}
        self.hits = {}
        self.hit_times = {}
        self.request_headers = {}
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    # routes

    def page(self, path, body, **kw):
        self.routes[path] = Route(body, **kw)

    def handler(self, path, fn):
        """fn(request_handler, hit_number starting at 1) -> (status, headers dict, body bytes)."""
        self.routes[path] = fn

    def redirect(self, path, location, status=302):
        self.routes[path] = Route(b"", status=status, content_type="text/html",
                                  headers={"Location": location})

    # bookkeeping

    def _record(self, path, headers):
        with self.lock:
            n = self.hits.get(path, 0) + 1
            self.hits[path] = n
            self.hit_times.setdefault(path, []).append(time.monotonic())
            self.request_headers[path] = headers
            return n

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def total_hits(self):
        with self.lock:
            return sum(self.hits.values())

    def fetched(self):
        with self.lock:
            return set(self.hits)

    # serving

    def url(self, path="/", host=None):
        return "http://%s:%d%s" % (host or self.host, self.port, path)

    def start(self):
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                n = site._record(self.path, dict(self.headers))
                route = site.routes.get(self.path, site.routes.get(path))
                if route is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"not found")
                elif callable(route):
                    status, headers, body = route(self, n)
                    self._send(status, headers, body)
                else:
                    if route.delay:
                        time.sleep(route.delay)
                    headers = dict(route.headers)
                    headers.setdefault("Content-Type", route.content_type)
                    body = route.body
                    if route.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                        body = gzip_module.compress(body)
                        headers["Content-Encoding"] = "gzip"
                    self._send(route.status, headers, body)

            def _send(self, status, headers, body):
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        if v is not None:
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass    # clients hanging up (the crawler cutting a transfer) are expected

        return self.serve(Server((self.host, 0), Handler))
