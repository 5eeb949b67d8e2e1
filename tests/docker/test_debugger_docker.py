"""FCEMU_DEBUG end to end: a real `fcemu serve` runs a python function under debugpy and a nodejs one under
node --inspect, in real containers; a DAP client (and the inspector's HTTP and WebSocket API) attaches to the
published loopback ports, as VS Code would."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest
import requests

from tests.support.emulator_process import EmulatorProcess, gather_functions
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.docker

DEBUG_FUNCTIONS = Path(__file__).parents[1] / "debug_functions"
PLAIN_FUNCTION = Path(__file__).parents[1] / "functions" / "echo"
LISTENING = re.compile(r"debugger for (\S+) listening on 127\.0\.0\.1:(\d+)")


def breakpoint_line(source: Path) -> int:
    return next(number for number, line in enumerate(source.read_text().splitlines(), 1)
                if "the test's breakpoint" in line)


class DapClient:
    """The Debug Adapter Protocol over TCP: Content-Length framed JSON, requests answered by responses, events
    in between."""

    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=60)  # a guard, not a delay
        self._buffer = b""
        self._seq = 0
        self.seen: list[dict[str, Any]] = []

    def close(self) -> None:
        self._socket.close()

    def send(self, command: str, **arguments: Any) -> int:
        self._seq += 1
        body = json.dumps({"seq": self._seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self._socket.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self._buffer:
            self._receive()
        header, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", header, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            self._buffer = header + b"\r\n\r\n" + rest
            self._receive()
            header, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = rest[length:]
        return json.loads(rest[:length])

    def _receive(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        self._buffer += chunk

    def wait(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first message, already seen or coming, that matches."""
        for message in self.seen:
            if matches(message):
                self.seen.remove(message)
                return message
        while True:
            message = self._read()
            if matches(message):
                return message
            self.seen.append(message)

    def response(self, seq: int) -> dict[str, Any]:
        reply = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq)
        assert reply["success"], reply
        return reply

    def event(self, name: str) -> dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name)


@pytest.fixture(scope="module")
def debug_functions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = gather_functions(tmp_path_factory.mktemp("debug-functions"), DEBUG_FUNCTIONS)
    shutil.copytree(PLAIN_FUNCTION, target / "echo")
    return target


@pytest.fixture(scope="module")
def debugging(debug_functions: Path, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer,
              docker_client: docker.DockerClient) -> Iterator[tuple[EmulatorProcess, dict[str, int]]]:
    """An emulator that debugs debug-py and debug-node, on free host ports (":0"), and the ports it logged."""
    log = tmp_path_factory.mktemp("debug-logs") / "fcemu.log"
    process = EmulatorProcess(debug_functions, log, redis_url=redis_server.url,
                              debug="debug-py:0, debug-node:0").start()
    try:
        # The debugged instances start with the emulator, so that a debugger can attach before the first invoke.
        process.wait_for_log("debugger for debug-py listening")
        process.wait_for_log("debugger for debug-node listening")
        ports = {name: int(port) for name, port in LISTENING.findall(log.read_text())}
        yield process, ports
    finally:
        process.stop()
    assert docker_client.containers.list(all=True, filters={"label": f"fcemu.owner={process.owner}"}) == []


def test_python_breakpoint_hit_through_dap(debugging: tuple[EmulatorProcess, dict[str, int]],
                                           debug_functions: Path, http: requests.Session) -> None:
    emulator, ports = debugging
    handler = debug_functions / "debug-py" / "index.py"
    client = DapClient(ports["debug-py"])
    try:
        client.response(client.send("initialize", clientID="fcemu-test", adapterID="python", pathFormat="path",
                                    linesStartAt1=True, columnsStartAt1=True))
        # As VS Code's "attach" with pathMappings: the function's folder here is /code in the instance.
        attach = client.send("attach", justMyCode=False,
                             pathMappings=[{"localRoot": str(debug_functions / "debug-py"), "remoteRoot": "/code"}])
        client.event("initialized")
        line = breakpoint_line(handler)
        placed = client.response(client.send("setBreakpoints", source={"path": str(handler)},
                                             breakpoints=[{"line": line}]))
        assert placed["body"]["breakpoints"][0]["verified"], placed
        client.response(client.send("configurationDone"))
        client.response(attach)

        with ThreadPoolExecutor(1) as pool:
            invoking = pool.submit(http.post, v3(emulator, "debug-py"), data=b"hello")
            stopped = client.event("stopped")
            assert stopped["body"]["reason"] == "breakpoint"
            thread = stopped["body"]["threadId"]
            frames = client.response(client.send("stackTrace", threadId=thread, levels=1))["body"]["stackFrames"]
            assert frames[0]["line"] == line and frames[0]["source"]["path"] == str(handler)
            assert not invoking.done()  # held at the breakpoint
            client.response(client.send("continue", threadId=thread))
            reply = invoking.result(timeout=60)
        assert reply.status_code == 200, reply.text
        assert json.loads(reply.content) == {"got": "hello"}
        client.response(client.send("disconnect", terminateDebuggee=False))
    finally:
        client.close()


def test_debugged_function_outlasts_its_timeout(debugging: tuple[EmulatorProcess, dict[str, int]],
                                                http: requests.Session) -> None:
    """debug-py's timeout is 1 s and this invoke takes 2 s: under a debugger the timeout is lifted."""
    emulator, _ = debugging
    reply = http.post(v3(emulator, "debug-py"), data=b"outlast")
    assert reply.status_code == 200, reply.text
    assert "x-fc-error-type" not in reply.headers, reply.text
    assert json.loads(reply.content) == {"got": "outlast"}


def test_nodejs_inspector_answers(debugging: tuple[EmulatorProcess, dict[str, int]], http: requests.Session,
                                  debug_functions: Path) -> None:
    emulator, ports = debugging
    port = ports["debug-node"]
    targets = http.get(f"http://127.0.0.1:{port}/json/list").json()
    assert len(targets) == 1 and targets[0]["type"] == "node", targets
    socket_url = f"ws://127.0.0.1:{port}/{targets[0]['id']}"
    line = breakpoint_line(debug_functions / "debug-node" / "index.js")

    async def attach_and_break() -> requests.Response:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url) as ws:
            sent = 0

            async def call(method: str, **params: Any) -> dict[str, Any]:
                nonlocal sent
                sent += 1
                await ws.send_json({"id": sent, "method": method, "params": params})
                return await message(lambda m: m.get("id") == sent)

            async def message(matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
                while True:
                    received = await ws.receive_json(timeout=60)  # a guard, not a delay
                    if matches(received):
                        return received

            enabled = await call("Debugger.enable")
            assert "debuggerId" in enabled["result"], enabled
            placed = await call("Debugger.setBreakpointByUrl", lineNumber=line - 1, url="file:///code/index.js")
            assert "breakpointId" in placed["result"], placed
            invoking = asyncio.ensure_future(asyncio.to_thread(http.post, v3(emulator, "debug-node"), data=b"hi"))
            paused = await message(lambda m: m.get("method") == "Debugger.paused")
            assert paused["params"]["hitBreakpoints"] == [placed["result"]["breakpointId"]]
            assert not invoking.done()
            await call("Debugger.resume")
            return await invoking

    reply = asyncio.run(attach_and_break())
    assert reply.status_code == 200, reply.text
    assert json.loads(reply.content) == {"got": "hi"}


def test_function_not_debugged_runs_as_before(debugging: tuple[EmulatorProcess, dict[str, int]],
                                              http: requests.Session, docker_client: docker.DockerClient) -> None:
    emulator, ports = debugging
    assert "echo" not in ports
    reply = http.post(v3(emulator, "echo"), data=b"plain")
    assert reply.status_code == 200 and reply.content == b"plain", reply.text
    containers = docker_client.containers.list(filters={"label": [f"fcemu.owner={emulator.owner}",
                                                                 "fcemu.function=echo"]})
    assert len(containers) == 1
    assert set(containers[0].ports) == {"9000/tcp"}  # the agent's port only
    assert "debugpy" not in " ".join(containers[0].attrs["Config"]["Cmd"] or [])


def test_a_taken_debug_port_is_a_clear_start_error(debug_functions: Path, tmp_path: Path,
                                                    redis_server: RedisServer, http: requests.Session) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        process = EmulatorProcess(debug_functions, tmp_path / "fcemu.log", redis_url=redis_server.url,
                                  debug=f"debug-py:{taken}").start()
        try:
            reply = http.post(v3(process, "debug-py"), data=b"x")
        finally:
            process.stop()
    assert reply.headers.get("x-fc-error-type") == "UnhandledInvocationError", reply.text
    assert "the debugger's port is taken" in reply.json()["errorMessage"], reply.text
