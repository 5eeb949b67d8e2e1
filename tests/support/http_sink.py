"""An HTTP endpoint on 127.0.0.1 that records the bodies POSTed to it, for destination tests."""
from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.emulator_process import free_port


class HttpSink:
    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        """`host` is where it listens: a container reaches the Docker bridge's gateway, not 127.0.0.1."""
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}/records"
        self.received: queue.Queue[bytes] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> HttpSink:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.put(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def next_body(self, timeout: float = 30) -> bytes:
        return self.received.get(timeout=timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
