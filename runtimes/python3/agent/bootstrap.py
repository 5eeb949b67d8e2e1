"""fcemu's python runtime agent: FC's custom-runtime HTTP contract on port 9000, standard library only.

It loads `module.function` from the mounted code (FC_FUNC_CODE_PATH, /code) and calls
`handler(event, context)` the way FC's python runtime does. Each invocation's output is framed by FC's
`FC Invoke Start/End RequestId:` lines on stdout; with `x-fc-log-type: Tail` the last 4 KB of that
invocation's output come back, base64, in `x-fc-log-result`.

Only the emulator drives it: every request must carry the secret the emulator gave this instance (the
FCEMU_AGENT_TOKEN variable at start, the `x-fcemu-agent-token` header on each request), or it is refused with 403
and nothing runs. The secret leaves the environment before any of the function's code loads, and its header
never reaches a handler.
"""
from __future__ import annotations

import base64
import decimal
import importlib
import io
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
import urllib.parse
# hmac.compare_digest's own fallback, the same constant-time C comparison: importing hmac loads OpenSSL, ~4 ms of
# every cold start here.
from _operator import _compare_digest as compare_digest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import fc_relay  # beside this file in /opt/fcemu

CODE_DIR = os.environ.get("FC_FUNC_CODE_PATH", "/code")
PORT = int(os.environ.get("FC_SERVER_PORT", "9000"))
LOG_TAIL_BYTES = 4096
TOKEN_VARIABLE = "FCEMU_AGENT_TOKEN"
TOKEN_HEADER = "x-fcemu-agent-token"
# Set by main() from the environment; empty (no secret given) refuses every request.
_token = b""


class _InvocationOutput(threading.local):
    """The output buffer of the invocation running on this thread, if any."""

    buffer: io.StringIO | None = None
    request_id: str = ""


_current = _InvocationOutput()


class _TeeStream(io.TextIOBase):
    """Writes through to the real stream and, on an invocation's thread, into that invocation's buffer."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def write(self, text: str) -> int:
        buffer = _current.buffer
        if buffer is not None:
            buffer.write(text)
        self._real.write(text)
        self._real.flush()
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._real.encoding


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.fc_request_id = _current.request_id
        return True


def _configure_logging() -> None:
    # FC's python runtime logs through the root logger, in UTC, with the request id in every line.
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_RequestIdFilter())
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(fc_request_id)s [%(levelname)s] %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("FC_SERVER_LOG_LEVEL", "INFO").upper())


class Credentials:
    def __init__(self, headers: Any) -> None:
        self.access_key_id = headers.get("x-fc-access-key-id", "")
        self.access_key_secret = headers.get("x-fc-access-key-secret", "")
        self.security_token = headers.get("x-fc-security-token", "")


class FunctionMeta:
    def __init__(self, headers: Any) -> None:
        self.name = headers.get("x-fc-function-name", "")
        self.handler = headers.get("x-fc-function-handler", "")
        self.memory = int(headers.get("x-fc-function-memory", "0") or 0)
        self.timeout = int(headers.get("x-fc-function-timeout", "0") or 0)
        self.initializer = headers.get("x-fc-function-initializer", "")
        self.initialization_timeout = int(headers.get("x-fc-initialization-timeout", "0") or 0)


class ServiceMeta:
    def __init__(self, headers: Any) -> None:
        self.name = headers.get("x-fc-service-name", "")
        self.log_project = headers.get("x-fc-service-logproject", "")
        self.log_store = headers.get("x-fc-service-logstore", "")
        self.qualifier = headers.get("x-fc-qualifier", "LATEST")
        self.version_id = headers.get("x-fc-version-id", "")


class Tracing:
    def __init__(self, headers: Any) -> None:
        self.span_context = headers.get("x-fc-tracing-opentracing-span-context", "")
        self.jaeger_endpoint = headers.get("x-fc-tracing-jaeger-endpoint", "")
        self.span_baggages = headers.get("x-fc-tracing-opentracing-span-baggages", "")


class Context:
    """The `context` FC's python runtime passes to handlers and initializers."""

    def __init__(self, headers: Any) -> None:
        self.request_id = headers.get("x-fc-request-id", "")
        self.credentials = Credentials(headers)
        self.function = FunctionMeta(headers)
        self.service = ServiceMeta(headers)
        self.region = headers.get("x-fc-region", "")
        self.account_id = headers.get("x-fc-account-id", "")
        self.retry_count = int(headers.get("x-fc-retry-count", "0") or 0)
        self.tracing = Tracing(headers)
        self.logger = logging.getLogger()

    def get_logger(self) -> logging.Logger:
        return logging.getLogger()


_loaded: dict[str, Callable[..., Any]] = {}
_load_lock = threading.Lock()
_initialized = False
_init_lock = threading.Lock()


class ImportModuleError(Exception):
    pass


class HandlerNotFound(Exception):
    pass


def _resolve(handler_name: str) -> Callable[..., Any]:
    """Imports `module.function` once; FC's handler strings split at the last dot."""
    found = _loaded.get(handler_name)
    if found is not None:
        return found
    with _load_lock:
        module_name, _, attribute = handler_name.rpartition(".")
        if not module_name or not attribute:
            raise HandlerNotFound(f"Invalid handler '{handler_name}'")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            raise ImportModuleError(f"Unable to import module '{module_name}'") from error
        function = getattr(module, attribute, None)
        if not callable(function):
            raise HandlerNotFound(f"Handler '{attribute}' is missing on module '{module_name}'")
        _loaded[handler_name] = function
        return function


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    # As FC's runtime does: anything else (None included) becomes indented JSON with sorted keys.
    return json.dumps(value, indent=4, sort_keys=True, default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _user_frames(error: BaseException) -> list[list[str]]:
    """The traceback without the agent's own frames, each as FC lists it: file, line, function, code."""
    return [
        [f'File "{frame.filename}"', f"line {frame.lineno}", f"in {frame.name}", frame.line or ""]
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != __file__
    ]


def _error_body(error: BaseException) -> bytes:
    return json.dumps(
        {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": _user_frames(error)}
    ).encode()


Reply = tuple[int, list[tuple[str, str]], bytes]
HTTP_INVOKE = "/http-invoke"
PRE_STOP_HANDLER = "x-fc-instance-lifecycle-pre-stop-handler"


def _event_reply(value: Any) -> Reply:
    return 200, [("Content-Type", "application/octet-stream")], _as_bytes(value)


def _wsgi_environ(handler: BaseHTTPRequestHandler, body: bytes, context: Context) -> dict[str, Any]:
    path, _, query = handler.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(path),
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": handler.headers.get("Host", "localhost").split(":")[0],
        "SERVER_PORT": str(PORT),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": handler.headers.get("x-forwarded-for", handler.client_address[0]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        # FC's python runtime hands the context and the original URI to WSGI apps too.
        "fc.context": context,
        "fc.request_uri": handler.path,
    }
    for name, value in handler.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _call_wsgi(handler: BaseHTTPRequestHandler, body: bytes, context: Context) -> Reply:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started["status"], started["headers"] = status, headers
        return lambda chunk: chunks.append(chunk)

    chunks: list[bytes] = []
    application = _resolve(context.function.handler)
    result = application(_wsgi_environ(handler, body, context), start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in started:
        raise RuntimeError("the WSGI application did not call start_response")
    headers = [(name, value) for name, value in started["headers"] if name.lower() != "content-length"]
    return int(started["status"].split()[0]), headers, b"".join(chunks)


class _Headers:
    """A request's headers: case-insensitive lookup of the last value, and every line in order.

    The last, because the control plane sends its own x-fc-* headers (handler, control path, credentials)
    after those of the request it forwards: should a client's copy ever get through, the emulator's wins.
    The instance's secret is kept apart (`token`), out of the lines a handler sees."""

    def __init__(self) -> None:
        self._lines: list[tuple[str, str]] = []
        self._last: dict[str, str] = {}
        self.token: str | None = None

    def add(self, name: str, value: str) -> None:
        if name.lower() == TOKEN_HEADER:
            self.token = value
            return
        self._lines.append((name, value))
        self._last[name.lower()] = value

    def get(self, name: str, default: Any = None) -> Any:
        return self._last.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)


MAX_LINE = 65536
MAX_HEADERS = 200


def _carries_token(headers: _Headers) -> bool:
    """Whether the request carries this instance's secret; compared in constant time."""
    given = headers.token
    return bool(_token) and given is not None and compare_digest(given.encode("latin-1"), _token)


class AgentHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The reply is one write, but the socket stays NODELAY too so no write can wait for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def handle_one_request(self) -> None:
        """Reads one request's head and runs it. The standard library parses headers with the email package,
        which was half of this agent's CPU per invocation; the control plane's requests need much less."""
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            self.close_connection = True
            return
        parts = line.decode("latin-1").split()
        well_formed = len(parts) == 3 and len(line) <= MAX_LINE and parts[2].startswith("HTTP/")
        headers = _Headers()
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if not raw:
                self.close_connection = True  # the client went away mid-request
                return
            if raw in (b"\r\n", b"\n"):
                break
            name, separator, value = raw.decode("latin-1").partition(":")
            well_formed = well_formed and bool(separator) and len(raw) <= MAX_LINE
            headers.add(name.strip(), value.strip())
        else:
            well_formed = False
        if not well_formed:
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        self.command, self.path, self.request_version = parts
        self.requestline = line.decode("latin-1").rstrip("\r\n")
        if not _carries_token(headers):
            # Before the body is read and anything runs; the connection goes, its unread body with it.
            self.close_connection = True
            body = b"this instance answers only the emulator that started it\n"
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            return
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("Connection", "").lower()
        self.close_connection = connection == "close" or (self.request_version == "HTTP/1.0" and connection != "keep-alive")
        if headers.get("Expect", "").lower() == "100-continue" and self.request_version != "HTTP/1.0":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self._handle()
        self.wfile.flush()

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        if self.headers.get("x-fc-control-path") == HTTP_INVOKE:
            # An HTTP function: the request is the user's own (method, path, headers, body), for the WSGI app.
            self._run("Invoke", lambda context: _call_wsgi(self, body, context))
        elif self.command == "POST" and self.path.startswith("/invoke"):
            self._run("Invoke", lambda context: _event_reply(_resolve(context.function.handler)(body, context)))
        elif self.command == "POST" and self.path.startswith("/initialize"):
            self._run("Initialize", lambda context: _event_reply(self._initialize(context)))
        elif self.command == "GET" and self.path.startswith("/pre-stop") and self.headers.get(PRE_STOP_HANDLER):
            # FC's PreStop hook, `handler(context)`, before the instance is removed; its return value is the body.
            self._run("PreStop", lambda context: _event_reply(_resolve(self.headers.get(PRE_STOP_HANDLER))(context)))
        else:
            # /pre-freeze, a /pre-stop without a hook, and liveness probes: nothing to do in this runtime.
            self._reply(200, b"", [])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    @staticmethod
    def _initialize(context: Context) -> None:
        global _initialized
        with _init_lock:
            if _initialized or not context.function.initializer:
                return
            _resolve(context.function.initializer)(context)
            _initialized = True

    def _run(self, stage: str, call: Callable[[Context], Reply]) -> None:
        context = Context(self.headers)
        want_tail = self.headers.get("x-fc-log-type", "").lower() == "tail"
        _current.buffer = io.StringIO()
        _current.request_id = context.request_id
        # Each framing line in one write (print() makes two): every write wakes Docker's log copier.
        sys.stdout.write(f"FC {stage} Start RequestId: {context.request_id}\n")
        suffix = ""
        try:
            status, headers, body = call(context)
        except BaseException as error:  # a handler's SystemExit is its error too, not the agent's
            traceback.print_exception(error, file=sys.stdout)
            status, body, suffix = 404, _error_body(error), ", Error: Unhandled function error"
            headers = [("Content-Type", "application/json"), ("x-fc-status", "404")]
        sys.stdout.write(f"FC {stage} End RequestId: {context.request_id}{suffix}\n")
        output = _current.buffer.getvalue().encode()
        _current.buffer = None
        _current.request_id = ""
        if want_tail:
            headers.append(("x-fc-log-result", base64.b64encode(output[-LOG_TAIL_BYTES:]).decode()))
        self._reply(status, body, headers)


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    address_family = socket.AF_INET


def main() -> None:
    global _token
    # Out of the environment before any of the function's code loads (handlers load on their first call):
    # neither os.environ nor a child process's environment holds it.
    _token = os.environ.pop(TOKEN_VARIABLE, "").encode("latin-1")
    sys.path.insert(0, CODE_DIR)
    sys.stdout = _TeeStream(sys.__stdout__)
    sys.stderr = _TeeStream(sys.__stderr__)
    _configure_logging()
    # FC's endpoints (https://<account>.<region>-internal.fc.aliyuncs.com) reach the emulator's API from here.
    fc_relay.start()
    server = AgentServer(("0.0.0.0", PORT), AgentHandler)
    print("FunctionCompute python3 runtime inited.")
    server.serve_forever()


if __name__ == "__main__":
    main()
