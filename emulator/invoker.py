"""Runs one invocation of a function on a pooled instance and says how it ended, in FC's terms.

Shared by the sync API and the async dispatcher; knows nothing of HTTP routes or Redis.
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from emulator.catalog.loader import FunctionDefinition
from emulator.logs.pump import LogPumps
from emulator.pool import contract
from emulator.pool.agent_client import AgentClient
from emulator.pool.agent_connections import AgentConnectionError, AgentReply, AnswerTooLarge
from emulator.pool.function_pool import FunctionPool
from emulator.pool.instance import Instance, InstanceState
from emulator.pool.launcher import InitializerError, InstanceLauncher, InstanceStartError
from emulator.pool.pools import Pools

UNHANDLED = "UnhandledInvocationError"
STREAM_CHUNK_BYTES = 64 * 1024
# Headers of the agent's reply that are the contract's or the connection's, not the HTTP function's answer.
AGENT_ONLY_HEADERS = frozenset(
    {contract.STATUS_HEADER, contract.LOG_RESULT_HEADER, "content-length", "connection", "keep-alive",
     "transfer-encoding", "date", "server"}
)
LOG_TAIL_BYTES = 4096
@dataclass(frozen=True)
class HttpRequest:
    """A request to an HTTP function, passed on to its server as the user sent it (FC's /http-invoke), or made
    into FC 3.0's event (emulator/http_event.py), which also needs where and when it arrived."""

    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]
    body: bytes
    raw_path: str = ""  # the path below the function as the client encoded it, without the query
    host: str = ""  # the Host the client addressed
    domain_prefix: str = ""  # what names the trigger's URL (locally the function, FC's per-function domain)
    source_ip: str = ""
    protocol: str = "HTTP/1.1"
    received_ms: int = 0  # Unix time in milliseconds

    def to_payload(self) -> bytes:
        """How an async HTTP invocation waits in the queue."""
        return json.dumps({
            "method": self.method, "path": self.path, "headers": self.headers,
            "body": base64.b64encode(self.body).decode(), "rawPath": self.raw_path, "host": self.host,
            "domainPrefix": self.domain_prefix, "sourceIp": self.source_ip, "protocol": self.protocol,
            "receivedMs": self.received_ms,
        }).encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> HttpRequest:
        raw = json.loads(payload)
        # The fields after the body are absent from requests queued by an older fcemu.
        return cls(raw["method"], raw["path"], [tuple(pair) for pair in raw["headers"]], base64.b64decode(raw["body"]),
                   raw_path=raw.get("rawPath", ""), host=raw.get("host", ""), domain_prefix=raw.get("domainPrefix", ""),
                   source_ip=raw.get("sourceIp", ""), protocol=raw.get("protocol", "HTTP/1.1"),
                   received_ms=int(raw.get("receivedMs", 0)))

    def headers_with(self, own: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers to send an instance: the client's without any of the contract's, then the emulator's
        own last. Filtered here too, not only where the request came in, so that no path (an async request
        queued by an older fcemu, another caller) can forward a client's contract header."""
        return [*(pair for pair in self.headers if not contract.is_contract_header(pair[0])), *own]


@dataclass(frozen=True)
class HttpStream:
    """An HTTP function's answer whose body is still arriving."""

    status: int
    headers: tuple[tuple[str, str], ...]
    instance_id: str
    body: AsyncIterator[bytes]
    # Refuses the answer without reading its body (which then must not be read): the instance is left
    # mid-answer, so it goes, as when a reader leaves.
    abandon: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class InvocationResult:
    body: bytes
    # For an HTTP function: the status and headers its server answered with.
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    # FC's x-fc-error-type for a function error; None when the function succeeded.
    error_type: str | None = None
    log_result: str | None = None
    instance_id: str = ""
    duration_ms: float = 0.0
    timed_out: bool = False  # the function ran past its timeout (an error, told apart in the metrics)

    @property
    def succeeded(self) -> bool:
        return self.error_type is None

    def http_response_record(self) -> bytes:
        """An HTTP function's answer as a task's returnPayload: status, headers and body (text, or base64)."""
        try:
            body, encoded = self.body.decode(), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(self.body).decode(), True
        return json.dumps({"status": self.status, "headers": [list(pair) for pair in self.headers],
                           "body": body, "isBase64Encoded": encoded}).encode()

    @property
    def error_message(self) -> str:
        """The function error's `errorMessage`, as FC records it on a task."""
        if self.succeeded:
            return ""
        try:
            return str(json.loads(self.body).get("errorMessage", ""))
        except (ValueError, AttributeError):
            return self.body.decode(errors="replace")


class InstanceSlot:
    """A slot on a warm instance kept between consecutive invocations of one function by a caller with more of
    them to run (a dispatcher's slot): the next one skips the pool and can be marked Running in the same Redis
    call that records the previous one's end. Empty until the first invocation takes an instance."""

    def __init__(self) -> None:
        self.pool: FunctionPool | None = None
        self.instance: Instance | None = None

    def serves(self, definition: FunctionDefinition) -> bool:
        """True while the kept instance may take another invocation of this definition."""
        return (self.instance is not None and self.pool is not None and self.pool.definition is definition
                and self.instance.state is InstanceState.READY)

    def take(self, pool: FunctionPool, instance: Instance) -> None:
        self.pool, self.instance = pool, instance

    def empty(self) -> tuple[FunctionPool, Instance] | None:
        held = None if self.pool is None or self.instance is None else (self.pool, self.instance)
        self.pool = self.instance = None
        return held


def platform_error(message: str) -> bytes:
    """The body FC gives a function error that the platform, not the handler, reported."""
    return json.dumps({"errorMessage": message}).encode()


class Invoker:
    def __init__(self, pools: Pools, launcher: InstanceLauncher, agent: AgentClient, wait_timeout_s: float,
                 logs: LogPumps | None = None) -> None:
        self._pools = pools
        self._logs = logs
        self._launcher = launcher
        self._agent = agent
        self._wait_timeout_s = wait_timeout_s

    @property
    def answer_limit(self) -> int:
        """The most bytes of an answer read from an instance (FC's sync payload limit)."""
        return self._agent.answer_limit

    async def invoke(
        self, definition: FunctionDefinition, payload: bytes, request_id: str, *, log_tail: bool = False,
        retry_count: int = 0, before_run: Callable[[str], Awaitable[bool]] | None = None,
        http: HttpRequest | None = None, slot: InstanceSlot | None = None, task_id: str = "", qualifier: str = "",
    ) -> InvocationResult | None:
        """Raises Throttled past FC's limits (pool/concurrency.py) and PoolExhausted when no instance is free in time
        under fcemu's own cap; every other failure is a result.

        `before_run` is told the instance id once one is acquired; when it answers False the invocation is not
        run and None comes back. With `http`, the function is an HTTP function and gets that request (the
        payload is unused). With a `slot`, a healthy instance stays in it afterwards instead of going back to
        the pool; a slot that already holds one runs the invocation there, without `before_run` (the caller
        marked it running already). An async task's `task_id` is kept with its log lines; a `qualifier` (an alias)
        is what the function is told it was invoked with, instead of its version's id.
        """
        if task_id and self._logs is not None:
            self._logs.note_task(request_id, task_id)
        started, wall_started = time.perf_counter(), time.time()
        taken = await self._take_instance(definition, slot, before_run)
        if taken is None or isinstance(taken, InvocationResult):
            return taken
        pool, instance = taken
        control = contract.invoke_headers(instance, request_id, self._logs, http=http is not None, log_tail=log_tail,
                                          retry_count=retry_count)
        if qualifier:
            control["x-fc-qualifier"] = qualifier
        answer = await self._call_agent(pool, instance, definition.manifest.timeout, payload, http, control, started)
        if isinstance(answer, InvocationResult):
            return answer
        if slot is not None:
            slot.take(pool, instance)
        else:
            await pool.release(instance)
        reply, too_large = answer
        return await self._reply_result(reply, too_large, instance, request_id, http=http, log_tail=log_tail,
                                        started=started, wall_started=wall_started)

    async def _take_instance(self, definition: FunctionDefinition, slot: InstanceSlot | None,
                             before_run: Callable[[str], Awaitable[bool]] | None
                             ) -> tuple[FunctionPool, Instance] | InvocationResult | None:
        """The instance an invocation runs on: the one its slot holds (its caller marked it running), else one from
        the pool once `before_run` lets it run (None when it does not: the instance goes back). The function error
        FC reports when none could start."""
        held = slot.empty() if slot is not None else None
        if held is not None:
            return held
        pool = self._pools.for_function(definition)
        instance = await self._acquire(pool)
        if isinstance(instance, InvocationResult):
            return instance
        if before_run is not None:
            try:
                go_ahead = await before_run(instance.instance_id)
            except BaseException:
                await pool.release(instance)
                raise
            if not go_ahead:
                await pool.release(instance)
                return None
        return pool, instance

    async def _call_agent(self, pool: FunctionPool, instance: Instance, timeout: int, payload: bytes,
                          http: HttpRequest | None, control: dict[str, str], started: float
                          ) -> tuple[AgentReply, bool] | InvocationResult:
        """The invocation sent to the agent and its answer read whole, within the function's timeout (none under a
        debugger): the reply, and whether its body was refused as too large. A timeout or a broken connection is
        the function error FC reports, and costs the instance, as does a cancellation."""
        try:
            async with asyncio.timeout(None if pool.debugging else timeout):
                if http is None:
                    reply = await self._agent.post(instance.base_url + contract.INVOKE, payload,
                                                   {**pool.headers, **control})
                else:
                    headers = http.headers_with([*pool.headers.items(), *control.items()])
                    reply = await self._agent.request(http.method, instance.base_url + http.path, http.body, headers)
        except AnswerTooLarge as error:
            # The function ran to its end and its instance is sound: only the answer is refused, a function
            # error as FC makes it. Nothing of the body was kept; the answer's headers may carry a log tail.
            return AgentReply(200, error.headers or _NO_HEADERS, platform_error(str(error))), True
        except (TimeoutError, AgentConnectionError, aiohttp.ClientError) as error:
            return await self._broken(pool, instance, error, timeout, started)
        except BaseException:
            # Cancelled mid-invoke: the handler may still be running in there, so the instance cannot serve again.
            await pool.discard(instance)
            raise
        return reply, False

    async def _reply_result(self, reply: AgentReply, too_large: bool, instance: Instance, request_id: str, *,
                            http: HttpRequest | None, log_tail: bool, started: float, wall_started: float
                            ) -> InvocationResult:
        """The agent's reply as FC tells how the invocation ended: whether the function failed, the log's tail, and
        an HTTP function's own status and headers."""
        # An HTTP function's own status is its answer; only x-fc-status says that the function failed.
        failed = too_large or contract.reports_failure(reply.headers) or (http is None and reply.status != 200)
        log_result = _log(reply.headers)
        if log_tail and log_result is None:
            # A custom runtime prints the framing lines itself and FC cuts the log from its stdout; docker's
            # log copy may trail the reply by a moment, so this tail is best effort.
            text = await self._launcher.invocation_log(instance, request_id, since=wall_started - 1,
                                                       keep=LOG_TAIL_BYTES)
            log_result = base64.b64encode(text.encode()[-LOG_TAIL_BYTES:]).decode()
        response_headers = _answer_headers(reply.headers) if http and not too_large else ()
        return self._result(started, instance.instance_id, reply.body, UNHANDLED if failed else None, log_result,
                            reply.status, response_headers)

    async def stream_http(self, definition: FunctionDefinition, http: HttpRequest, request_id: str,
                          qualifier: str = "") -> HttpStream | InvocationResult:
        """An HTTP function's answer with its body streamed, not buffered: the status and headers once they
        arrive, then the body in chunks. The instance's slot is held until the body has been read (or the reader
        gave up, which costs the instance). Failures before the headers come back as an InvocationResult.
        `qualifier` as for invoke."""
        pool = self._pools.for_function(definition)
        started = time.perf_counter()
        instance = await self._acquire(pool)
        if isinstance(instance, InvocationResult):
            return instance
        timeout = definition.manifest.timeout
        deadline = None if pool.debugging else asyncio.get_running_loop().time() + timeout
        control = contract.invoke_headers(instance, request_id, self._logs, http=True)
        if qualifier:
            control["x-fc-qualifier"] = qualifier
        headers = http.headers_with([*pool.headers.items(), *control.items()])
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._agent.open(http.method, instance.base_url + http.path, http.body, headers)
        except (TimeoutError, aiohttp.ClientError) as error:
            return await self._broken(pool, instance, error, timeout, started)
        except BaseException:
            await pool.discard(instance)
            raise
        if contract.reports_failure(response.headers):
            try:
                async with asyncio.timeout_at(deadline):
                    body = await self._agent.read(response)
            except AnswerTooLarge as error:
                body = platform_error(str(error))
            except (TimeoutError, aiohttp.ClientError) as error:
                response.release()
                return await self._broken(pool, instance, error, timeout, started)
            except BaseException:
                response.release()
                await pool.discard(instance)
                raise
            response.release()
            await pool.release(instance)
            return self._result(started, instance.instance_id, body, UNHANDLED)

        async def chunks() -> AsyncIterator[bytes]:
            finished = False
            try:
                async with asyncio.timeout_at(deadline):
                    async for chunk in response.content.iter_chunked(STREAM_CHUNK_BYTES):
                        yield chunk
                finished = True
            finally:
                response.release()
                # A body cut short (timeout, crash, a reader that left) leaves the instance mid-answer.
                await (pool.release(instance) if finished else pool.discard(instance))

        async def abandon() -> None:
            response.close()
            await pool.discard(instance)

        return HttpStream(response.status, _answer_headers(response.headers), instance.instance_id, chunks(), abandon)

    def reserve(self, definition: FunctionDefinition, count: int) -> list[InstanceSlot]:
        """Slots holding up to `count` warm instances of the function that are free now (none is started)."""
        pool = self._pools.for_function(definition)
        slots = []
        for instance in pool.take_free(count):
            slot = InstanceSlot()
            slot.take(pool, instance)
            slots.append(slot)
        return slots

    async def release(self, slot: InstanceSlot) -> None:
        """Gives a slot's instance, if it holds one, back to its pool, even if the caller is cancelled
        meanwhile (the pool's lock may make it wait)."""
        held = slot.empty()
        if held is not None:
            pool, instance = held
            await asyncio.shield(pool.release(instance))

    async def _acquire(self, pool: FunctionPool) -> Instance | InvocationResult:
        """A slot on an instance, or the function error FC reports when none could start."""
        try:
            return await pool.acquire(self._wait_timeout_s)
        except InitializerError as error:
            return InvocationResult(body=error.reply.body, error_type=UNHANDLED, log_result=_log(error.reply.headers))
        except InstanceStartError as error:
            return InvocationResult(body=platform_error(f"Function instance failed to start: {error}"),
                                    error_type=UNHANDLED)

    async def _broken(self, pool: FunctionPool, instance: Instance, error: BaseException, timeout: int,
                      started: float) -> InvocationResult:
        """A timed-out or crashed invocation: FC stops the instance, so do we (the pool starts a fresh one)."""
        await pool.discard(instance)
        if instance.abort_reason is not None:
            message = instance.abort_reason
        elif isinstance(error, TimeoutError):
            message = f"Function timed out after {timeout} seconds"
        else:
            reason = await self._launcher.exit_reason(instance) or "the connection to the instance broke"
            message = f"Process exited unexpectedly before completing request ({reason})"
        return replace(self._result(started, instance.instance_id, platform_error(message), UNHANDLED),
                       timed_out=isinstance(error, TimeoutError))

    @staticmethod
    def _result(
        started: float, instance_id: str, body: bytes, error_type: str | None, log_result: str | None = None,
        status: int = 200, headers: tuple[tuple[str, str], ...] = (),
    ) -> InvocationResult:
        return InvocationResult(
            body=body, status=status, headers=headers, error_type=error_type, log_result=log_result,
            instance_id=instance_id, duration_ms=(time.perf_counter() - started) * 1000,
        )


_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def _log(headers: CIMultiDictProxy[str]) -> str | None:
    return headers.get(contract.LOG_RESULT_HEADER)


def _answer_headers(headers: CIMultiDictProxy[str]) -> tuple[tuple[str, str], ...]:
    """An HTTP function's own answer headers: the agent's reply's, without the contract's and the connection's."""
    return tuple((name, value) for name, value in headers.items() if name.lower() not in AGENT_ONLY_HEADERS)
