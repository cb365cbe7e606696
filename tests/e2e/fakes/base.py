"""base.py - what every local fake shares: one HTTP server on 127.0.0.1 served from a daemon
thread, started by start() or `with`, stopped by stop() or leaving the `with` block.

A fake subclasses LocalServer and defines start() as `return self.serve(server)` with its own
ThreadingHTTPServer; the handler reaches the fake as self.server.fake."""
import threading
from http.server import ThreadingHTTPServer


def loopback_server(handler):
    """A threading HTTP server on a free loopback port whose threads never block exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server


class LocalServer:
    server = None
    thread = None

    def serve(self, server):
        self.server = server
        server.fake = self
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
