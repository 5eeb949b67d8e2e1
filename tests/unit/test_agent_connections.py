"""The invoke hop's HTTP client against a real socket server: every way an answer can be framed, keep-alive
reuse, and the failures the invoker turns into FC's errors."""
from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Self

import pytest

from emulator.pool.agent_client import AgentClient
from emulator.pool.agent_connections import MAX_HEAD_BYTES, AgentConnectionError, AgentConnections, AnswerTooLarge

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
LIMIT = 1000  # the answer limit of these tests' clients
pytestmark = pytest.mark.anyio


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return head + await reader.readexactly(length)


class Server:
    """Answers each request with `answer`; counts the connections it accepted."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/invoke"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        finally:
            writer.close()


def _content_length(body: bytes) -> Answer:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nx-fc-status: 200\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        return True
    return answer


@pytest.fixture()
async def connections() -> AsyncIterator[AgentConnections]:
    pool = AgentConnections(LIMIT)
    yield pool
    pool.close()


async def test_keep_alive_connections_are_reused(connections: AgentConnections) -> None:
    async with Server(_content_length(b"pong")) as server:
        for index in range(3):
            reply = await connections.post(server.url, b"ping %d" % index, {"x-fc-request-id": f"r{index}"})
            assert (reply.status, reply.body, reply.headers["X-FC-Status"]) == (200, b"pong", "200")
        assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /invoke HTTP/1.1\r\n")
    assert b"\r\nx-fc-request-id: r0\r\n" in first and first.endswith(b"\r\n\r\nping 0")


async def test_concurrent_requests_use_a_connection_each(connections: AgentConnections) -> None:
    async with Server(_content_length(b"ok")) as server:
        replies = await asyncio.gather(*(connections.post(server.url, b"", {}) for _ in range(3)))
        assert [reply.body for reply in replies] == [b"ok"] * 3
        assert server.connections == 3
        await connections.post(server.url, b"", {})
        assert server.connections == 3


async def test_a_chunked_answer(connections: AgentConnections) -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        await writer.drain()
        writer.write(b"2\r\nde\r\n0\r\n\r\n")
        return True

    async with Server(chunked) as server:
        assert (await connections.post(server.url, b"", {})).body == b"abcde"
        assert (await connections.post(server.url, b"", {})).body == b"abcde"
        assert server.connections == 1


async def test_an_answer_ended_by_closing_the_connection(connections: AgentConnections) -> None:
    async def until_close(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()
        return False

    async with Server(until_close) as server:
        assert (await connections.post(server.url, b"", {})).body == b"all of it"
        assert (await connections.post(server.url, b"", {})).body == b"all of it"
        assert server.connections == 2


async def test_an_interim_answer_is_skipped(connections: AgentConnections) -> None:
    async def early_hints(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nx-final: 1\r\nContent-Length: 5\r\n\r\nfinal")
        await writer.drain()
        return True

    async with Server(early_hints) as server:
        reply = await connections.post(server.url, b"", {})
        assert (reply.status, reply.body, reply.headers.get("x-final"), "Link" in reply.headers) == (
            200, b"final", "1", False)


async def test_an_unframed_answer_cut_by_a_reset_is_an_error(connections: AgentConnections) -> None:
    async def reset(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\npart of")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        return False

    async with Server(reset) as server:
        with pytest.raises(AgentConnectionError, match="broke"):
            await connections.post(server.url, b"", {})


async def test_connection_close_is_honoured(connections: AgentConnections) -> None:
    async def closing(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")
        await writer.drain()
        return True  # the client must not reuse it even though this server would go on

    async with Server(closing) as server:
        for _ in range(2):
            assert (await connections.post(server.url, b"", {})).body == b"x"
        assert server.connections == 2


async def test_an_idle_connection_the_server_closed_is_not_reused(connections: AgentConnections) -> None:
    async def once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return False  # closes the connection, as a server with a keep-alive timeout does when it runs out

    async with Server(once) as server:
        await connections.post(server.url, b"", {})
        # Let the event loop run (no timer) until the client has read the EOF on its idle connection.
        for _ in range(1000):
            if not connections._idle:
                break
            await asyncio.sleep(0)
        assert not connections._idle
        assert (await connections.post(server.url, b"", {})).body == b"ok"
        assert server.connections == 2


async def test_a_connection_that_breaks_mid_answer_is_an_error(connections: AgentConnections) -> None:
    async def broken(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()
        return False

    async with Server(broken) as server:
        with pytest.raises(AgentConnectionError, match="broke"):
            await connections.post(server.url, b"", {})


async def test_nothing_listening_is_an_error(connections: AgentConnections) -> None:
    async with Server(_content_length(b"")) as server:
        url = server.url
    with pytest.raises(AgentConnectionError, match="cannot connect"):
        await connections.post(url, b"", {})


async def test_a_request_cancelled_mid_answer_closes_its_connection(connections: AgentConnections) -> None:
    answered = asyncio.Event()

    async def slow_then_fast(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"slow" in request:
            answered.set()
            await asyncio.sleep(3600)  # never answers; the client gives up first
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast")
        await writer.drain()
        return True

    async with Server(slow_then_fast) as server:
        slow = asyncio.ensure_future(connections.post(server.url, b"slow", {}))
        await answered.wait()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The next request must not wait on (or read) the cancelled one's connection.
        async with asyncio.timeout(10):
            assert (await connections.post(server.url, b"next", {})).body == b"fast"
        assert server.connections == 2


async def test_a_header_with_a_line_break_is_refused(connections: AgentConnections) -> None:
    with pytest.raises(ValueError, match="line break"):
        await connections.post("http://127.0.0.1:1/invoke", b"", {"x-fc-request-id": "a\r\nInjected: 1"})


class _Sent:
    """How much of each answer the server could write before its client went away."""

    def __init__(self) -> None:
        self.broken = asyncio.Event()


def _huge(framing: bytes, body_piece: bytes, pieces: int, sent: _Sent) -> Answer:
    """An answer far over the limit, written piece by piece; a small one to any request marked `small`."""
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"small" in request:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall")
            await writer.drain()
            return True
        try:
            writer.write(b"HTTP/1.1 200 OK\r\nx-fc-log-result: dGFpbA==\r\n" + framing + b"\r\n")
            for _ in range(pieces):
                writer.write(body_piece)
                await writer.drain()
        except (ConnectionError, OSError):
            sent.broken.set()
            return False
        return True
    return answer


@pytest.mark.parametrize("framing, piece", [
    (b"Content-Length: %d\r\n" % (64 * 1024 * 4096), b"x" * 64 * 1024),
    (b"Transfer-Encoding: chunked\r\n", b"10000\r\n" + b"x" * 0x10000 + b"\r\n"),
    (b"", b"x" * 64 * 1024),  # ends where the connection does
], ids=["content-length", "chunked", "unframed"])
async def test_an_answer_over_the_limit_is_refused_and_its_connection_dropped(
    connections: AgentConnections, framing: bytes, piece: bytes,
) -> None:
    sent = _Sent()
    async with Server(_huge(framing, piece, 4096, sent)) as server:  # 256 MB if it were all read
        with pytest.raises(AnswerTooLarge, match=f"exceeds the limit of {LIMIT} bytes") as refused:
            await connections.post(server.url, b"", {})
        assert refused.value.headers is not None and refused.value.headers["x-fc-log-result"] == "dGFpbA=="
        async with asyncio.timeout(30):
            await sent.broken.wait()  # the server's writes failed: nobody reads the rest
        # The next answer comes whole on a new connection, not out of the refused one's unread bytes.
        assert (await connections.post(server.url, b"small", {})).body == b"small"
        assert server.connections == 2


async def test_an_answer_of_exactly_the_limit_is_taken(connections: AgentConnections) -> None:
    async with Server(_content_length(b"y" * LIMIT)) as server:
        assert (await connections.post(server.url, b"", {})).body == b"y" * LIMIT
        assert (await connections.post(server.url, b"", {})).body == b"y" * LIMIT
        assert server.connections == 1


async def test_endless_headers_are_refused(connections: AgentConnections) -> None:
    async def headers(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        try:
            for number in range(100_000):
                writer.write(b"x-h%d: %s\r\n" % (number, b"v" * 1000))
                await writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async with Server(headers) as server:
        with pytest.raises(AnswerTooLarge, match=f"header size exceeds the limit of {MAX_HEAD_BYTES} bytes"):
            await connections.post(server.url, b"", {})


async def test_the_http_function_client_reads_an_answer_only_up_to_the_limit() -> None:
    sent = _Sent()
    client = AgentClient(LIMIT)
    try:
        async with Server(_huge(b"Transfer-Encoding: chunked\r\n", b"10000\r\n" + b"x" * 0x10000 + b"\r\n",
                                4096, sent)) as server:
            with pytest.raises(AnswerTooLarge):
                await client.request("GET", server.url, b"", [])
            async with asyncio.timeout(30):
                await sent.broken.wait()
            reply = await client.request("GET", server.url, b"small", [])
            assert (reply.status, reply.body) == (200, b"small")
    finally:
        await client.close()
