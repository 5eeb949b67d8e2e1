"""The invoke hop's HTTP client against a real socket server: every way an answer can be framed, keep-alive
reuse, and the failures the invoker turns into FC's errors."""
from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from emulator.pool.agent_connections import AgentConnectionError, AgentConnections

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
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

    async def __aenter__(self) -> Server:
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
    pool = AgentConnections()
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
