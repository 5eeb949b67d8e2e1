"""Prints what it is asked to between FC's framing lines, then answers "done" (no fcemu code)."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LINE = "y" * 1023 + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request_id = self.headers.get("x-fc-request-id")
        sys.stdout.write(f"FC Invoke Start RequestId: {request_id}\n")
        for _ in range(int(json.loads(body or b"{}").get("megabytes", 0)) * 1024):
            sys.stdout.write(LINE)
        sys.stdout.write(f"the last line of {request_id}\nFC Invoke End RequestId: {request_id}\n")
        sys.stdout.flush()
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"done")


ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
