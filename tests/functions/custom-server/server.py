"""A user's own HTTP server following FC's custom-runtime contract (no fcemu code)."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request_id = self.headers.get("x-fc-request-id")
        print(f"FC Invoke Start RequestId: {request_id}", flush=True)
        if self.path.startswith("/big"):
            # 8 MB sent in pieces without a Content-Length: only a streaming control plane passes it on as sent.
            print(f"FC Invoke End RequestId: {request_id}", flush=True)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            piece = b"0123456789abcdef" * 65536
            for _ in range(8):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/contract"):
            # Every x-fc-* header line this server received, duplicates included.
            lines = [[name, value] for name, value in self.headers.items() if name.lower().startswith("x-fc-")]
            status, reply = 200, json.dumps({"fcHeaders": lines}).encode()
        elif body == b"fail":
            status, reply = 404, json.dumps({"errorMessage": "asked to fail"}).encode()
        else:
            reply = json.dumps({
                "path": self.path,
                "controlPath": self.headers.get("x-fc-control-path"),
                "function": self.headers.get("x-fc-function-name"),
                "event": body.decode(),
            }).encode()
            status = 200
        print(f"FC Invoke End RequestId: {request_id}", flush=True)
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("x-fc-status", str(status))
        self.end_headers()
        self.wfile.write(reply)


ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
