"""Bounds on HTTP clients, with raw sockets against `fcemu serve` (real Redis and Docker): a client that is slow
to send its request's headers (slowloris) is disconnected after FCEMU_HEADER_TIMEOUT_S while keep-alive clients
are not, and a connection past FCEMU_MAX_CONNECTIONS gets FC's 503 in the SDKs' shape."""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

HEADER_TIMEOUT_S = 1.0
# Far longer than the header timeout: reaching it means the connection was never closed.
SAFETY_S = 30.0


@pytest.fixture()
def bounded(functions_dir: Path, tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url,
                              header_timeout_s=str(HEADER_TIMEOUT_S), max_connections="3").start()
    yield process
    process.stop()


def _connect(process: EmulatorProcess) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", process.port), timeout=SAFETY_S)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def _closed_by_server(client: socket.socket) -> bool:
    """Waits for the server's end of the connection: True once it is closed, False if it stays open."""
    try:
        return client.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _response(client: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length, read off a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = client.recv(65536)
        assert chunk, "closed in the middle of a body"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_client_sending_half_a_request_line_is_disconnected(bounded: EmulatorProcess) -> None:
    with _connect(bounded) as client:
        client.sendall(b"GET /_fcemu/cl")
        assert _closed_by_server(client)


def test_a_client_that_never_sends_anything_is_disconnected(bounded: EmulatorProcess) -> None:
    with _connect(bounded) as client:
        assert _closed_by_server(client)


def test_a_client_dripping_its_headers_a_byte_at_a_time_is_disconnected(bounded: EmulatorProcess) -> None:
    """The slowloris pattern: each byte resets no timer, so the whole headers are due within the limit."""
    request = b"GET /_fcemu/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Padding: " + b"x" * 200 + b"\r\n\r\n"
    with _connect(bounded) as client:
        sent = 0
        try:
            for byte in request[:-1]:  # never the end of the headers
                client.sendall(bytes([byte]))
                sent += 1
                time.sleep(HEADER_TIMEOUT_S / 10)  # the client's own pace, a tenth of the limit a byte
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < len(request) - 1, "the server kept the connection open through every byte"
        assert _closed_by_server(client)


def test_keep_alive_clients_are_unaffected(bounded: EmulatorProcess) -> None:
    """Several requests on one connection, idle between them for longer than the header limit (less than
    uvicorn's keep-alive timeout), each sending its headers at once."""
    with _connect(bounded) as client:
        for _ in range(3):
            client.sendall(b"GET /_fcemu/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, _, body = _response(client)
            assert status == 200 and "virtualTime" in json.loads(body)
            time.sleep(HEADER_TIMEOUT_S * 1.5)  # the client's idle time between requests, not a synchronisation


def test_a_connection_past_the_cap_gets_fc_503_and_the_others_are_served(bounded: EmulatorProcess) -> None:
    # Three connections in the middle of a request: headers sent (no header timer), body still to come.
    held = [_connect(bounded) for _ in range(3)]
    body = json.dumps({"seconds": 1}).encode()
    try:
        for client in held:
            client.sendall(b"POST /_fcemu/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                           b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        with _connect(bounded) as extra:
            extra.sendall(b"GET /2023-03-30/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, headers, answer = _response(extra)
            assert status == 503
            error = json.loads(answer)
            assert error["Code"] == "ResourceThrottled" and "FCEMU_MAX_CONNECTIONS" in error["Message"], error
            assert error["RequestId"] == headers["x-fc-request-id"]
            assert headers["connection"] == "close" and _closed_by_server(extra)
        for client in held:
            client.sendall(body)
            status, _, answer = _response(client)
            assert status == 200, answer
    finally:
        for client in held:
            client.close()
