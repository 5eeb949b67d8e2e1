"""The hop from the control plane to a runtime agent: invokes on fcemu's own keep-alive connections, HTTP
functions' requests (any method, streamed answers) and probes on aiohttp. An answer that is read whole is read
only up to the answer limit (FC's sync payload limit): past it, AnswerTooLarge, and its connection is dropped."""
from __future__ import annotations

import aiohttp
from multidict import CIMultiDict

from emulator.pool.agent_connections import AgentConnections, AgentReply, AnswerTooLarge

READ_CHUNK_BYTES = 64 * 1024


class AgentClient:
    """One of each client for every instance; both keep idle connections per host:port."""

    def __init__(self, answer_limit: int) -> None:
        self._answer_limit = answer_limit
        self._connections = AgentConnections(answer_limit)
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=3600, enable_cleanup_closed=True)
        # Bodies are passed through untouched: no decompression, no cookie handling.
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
        )

    @property
    def answer_limit(self) -> int:
        return self._answer_limit

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> AgentReply:
        """An invoke or initialize request; raises AgentConnectionError when the instance cannot answer (its
        subclass AnswerTooLarge when the answer is over the limit)."""
        return await self._connections.post(url, body, headers)

    async def request(self, method: str, url: str, body: bytes, headers: list[tuple[str, str]]) -> AgentReply:
        """Any method, repeated header names kept: an HTTP function's request, passed on, its answer read whole
        (AnswerTooLarge past the limit)."""
        async with self._session.request(method, url, data=body or None, headers=CIMultiDict(headers),
                                         allow_redirects=False) as response:
            return AgentReply(response.status, response.headers, await self.read(response))

    async def open(self, method: str, url: str, body: bytes, headers: list[tuple[str, str]]
                   ) -> aiohttp.ClientResponse:
        """Sends a request and returns once the answer's headers are in; the caller reads the body (streamed, or
        whole with `read`) and must release the response."""
        return await self._session.request(method, url, data=body or None, headers=CIMultiDict(headers),
                                           allow_redirects=False)

    async def read(self, response: aiohttp.ClientResponse) -> bytes:
        """An answer's whole body, up to the limit; past it the connection is closed, not reused (its unread
        rest would be taken for the next answer), and AnswerTooLarge is raised."""
        limit = self._answer_limit
        declared = response.content_length
        body = bytearray()
        if declared is None or declared <= limit:
            async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
                if len(body) + len(chunk) > limit:
                    break
                body += chunk
            else:
                return bytes(body)
        response.close()
        raise AnswerTooLarge(limit, headers=response.headers)

    async def is_up(self, url: str) -> bool:
        """True once something answers HTTP at the url (docker-proxy accepts TCP before the agent listens). Sent
        without the instance's secret: fcemu's agents answer 403, which is an answer."""
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
                await self.read(response)
                return True
        except AnswerTooLarge:
            return True  # an answer all the same
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def close(self) -> None:
        self._connections.close()
        await self._session.close()
