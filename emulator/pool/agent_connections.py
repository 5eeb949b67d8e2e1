"""The invoke hop's own HTTP/1.1 client: keep-alive connections to instances, each request written in one
buffer and each answer parsed by httptools (uvicorn's parser), read only up to a limit.

This is the hottest call of every invocation, sync or async. aiohttp's request machinery costs about 0.15 ms of
CPU more per request than a plain protocol (DESIGN.md measured 0.24-0.31 ms a round trip against raw streams'
0.10-0.13 ms), which on two cores was a tenth of an async invocation's whole cost.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

Address = tuple[str, int]

# An answer's status line and headers together (an agent's own are well under 8 KB: FC's response header limit).
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class AgentReply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class AgentConnectionError(Exception):
    """The instance could not be reached, or no whole answer came back (the connection broke, or the answer was
    too large to take)."""


class AnswerTooLarge(AgentConnectionError):
    """The instance's answer is larger than the caller takes. It was read no further: its connection was
    dropped, so the unread rest can never be taken for the next answer on it. `headers` are the answer's when
    they were read whole (a log tail may be among them)."""

    def __init__(self, limit: int, what: str = "response", headers: CIMultiDictProxy[str] | None = None) -> None:
        super().__init__(f"Function {what} size exceeds the limit of {limit} bytes")
        self.limit = limit
        self.headers = headers


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one request at a time."""

    def __init__(self, address: Address, pool: AgentConnections) -> None:
        self.address = address
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._reply: asyncio.Future[AgentReply] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._headers_complete = False
        self._status = 0
        self._limit = 0
        self._size = 0  # of the answer read so far: its head, then its body
        self.reusable = True

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(AgentConnectionError(f"the instance's answer is not valid HTTP ({error})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._pool.forget(self)
        if self._reply is None or self._reply.done():
            return
        if exc is None and self._headers_complete and not self._framed():
            # An answer without Content-Length or chunked encoding ends where the connection does (cleanly).
            self._complete()
        else:
            self._fail(AgentConnectionError(f"the connection to the instance broke ({exc or 'closed'})"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.reusable:
            return  # dropped: httptools goes on through the rest of the bytes it was fed
        self._size += len(name) + len(value)
        if self._size > MAX_HEAD_BYTES:
            self._drop(AnswerTooLarge(MAX_HEAD_BYTES, "response header"))
            return
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._headers_complete = True
        self._size = 0
        if not self.reusable:
            return
        declared = self._declared_length()
        if declared is not None and declared > self._limit:
            self._drop(AnswerTooLarge(self._limit, headers=self._header_proxy()))  # before a byte of it is read

    def on_body(self, body: bytes) -> None:
        if not self.reusable:
            return  # dropped: httptools goes on through the rest of the bytes it was fed
        self._size += len(body)
        if self._size > self._limit:
            self._drop(AnswerTooLarge(self._limit, headers=self._header_proxy()))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the real one follows on the same connection.
            self._headers, self._body, self._headers_complete, self._status = [], [], False, 0
            return
        self.reusable = self.reusable and self._parser.should_keep_alive()
        self._complete()

    # used by AgentConnections

    def send(self, request: bytes, limit: int) -> asyncio.Future[AgentReply]:
        """Sends a request; the answer's body may hold up to `limit` bytes, else AnswerTooLarge."""
        assert self._transport is not None
        self._reply = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._headers_complete, self._status = [], [], False, 0
        self._limit, self._size = limit, 0
        self._transport.write(request)
        return self._reply

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    @property
    def usable(self) -> bool:
        """Whether it can carry another request. A server that closed it while idle is seen here once the loop
        has read the EOF; one closing it just as a request goes out fails that request (as with aiohttp), since
        a POST that may have reached the function is never sent twice."""
        return self.reusable and self._transport is not None and not self._transport.is_closing()

    def _drop(self, error: Exception) -> None:
        """Stops reading an answer: the caller gets the error and the connection is closed, unread data and all
        (the kernel then resets it, so the instance's write fails at once instead of filling a buffer)."""
        self._body = []
        self._fail(error)
        self.close()

    def _declared_length(self) -> int | None:
        for name, value in self._headers:
            if name.lower() == "content-length":
                digits = value.strip()
                if digits.isascii() and digits.isdigit():
                    return int(digits) if len(digits) <= 18 else 10**18  # past any limit, and no huge int
        return None

    def _header_proxy(self) -> CIMultiDictProxy[str]:
        return CIMultiDictProxy(CIMultiDict(self._headers))

    def _framed(self) -> bool:
        names = {name.lower() for name, _ in self._headers}
        return "content-length" in names or "transfer-encoding" in names

    def _complete(self) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_result(AgentReply(self._status, self._header_proxy(), b"".join(self._body)))

    def _fail(self, error: Exception) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)


class AgentConnections:
    """Idle keep-alive connections per instance address; a request takes one or opens one, and gives it back
    once the whole answer is in. A request cancelled mid-answer (a timeout) closes its connection instead, as
    does an answer past the limit."""

    def __init__(self, answer_limit: int) -> None:
        self._idle: dict[Address, list[_Connection]] = {}
        self._answer_limit = answer_limit

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> AgentReply:
        """Raises AgentConnectionError when the instance cannot answer, AnswerTooLarge when its answer's body is
        over the limit."""
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        request = _request(parts.netloc, parts.path or "/", body, headers)
        connection = self._take(address) or await self._open(address)
        reply = connection.send(request, self._answer_limit)
        try:
            answer = await reply
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._idle.setdefault(address, []).append(connection)
        else:
            connection.close()
        return answer

    def forget(self, connection: _Connection) -> None:
        """A closed connection leaves the idle list (the instance went away, or closed it while idle)."""
        idle = self._idle.get(connection.address)
        if idle is not None and connection in idle:
            idle.remove(connection)
            if not idle:
                del self._idle[connection.address]

    def close(self) -> None:
        for idle in list(self._idle.values()):
            for connection in list(idle):
                connection.close()
        self._idle.clear()

    def _take(self, address: Address) -> _Connection | None:
        idle = self._idle.get(address)
        while idle:
            connection = idle.pop()
            if not idle:
                del self._idle[address]
            if connection.usable:
                return connection
            connection.close()
        return None

    async def _open(self, address: Address) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(address, self), *address)
        except OSError as error:
            raise AgentConnectionError(f"cannot connect to the instance ({error})") from error
        return connection


def _request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} holds a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
