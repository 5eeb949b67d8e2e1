"""What an alias costs a warm sync invoke: the same no-op function invoked as LATEST and through an alias naming
its published version (each on warm instances of its own pool), interleaved one for one (each first every other
time) on one keep-alive connection, so that both see the same machine at the same moments."""
from __future__ import annotations

import http.client
import json
import statistics
import time

from tests.support.emulator_process import EmulatorProcess

ALIAS = "bench"


def _call(connection: http.client.HTTPConnection, method: str, path: str, body: bytes) -> bytes:
    connection.request(method, path, body=body, headers={"content-type": "application/json"})
    reply = connection.getresponse()
    answer = reply.read()
    if reply.status >= 300:
        raise RuntimeError(f"{method} {path}: {reply.status} {answer[:200]!r}")
    return answer


def measure(emulator: EmulatorProcess, function: str, runs: int, warmup: int = 100) -> tuple[list[float], list[float]]:
    """Publishes the function, names its version by an alias, and times `runs` invokes of each (ms)."""
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port)
    base = f"/2023-03-30/functions/{function}"
    version = json.loads(_call(connection, "POST", base + "/versions", b"{}"))["versionId"]
    _call(connection, "POST", base + "/aliases", json.dumps({"aliasName": ALIAS, "versionId": version}).encode())
    paths = (base + "/invocations", base + f"/invocations?qualifier={ALIAS}")
    timings: tuple[list[float], list[float]] = ([], [])
    for index in range(warmup + runs):
        # Each goes first every other time: neither pays for going right after the other.
        for which in (0, 1) if index % 2 else (1, 0):
            path = paths[which]
            started = time.perf_counter()
            _call(connection, "POST", path, b"{}")
            if index >= warmup:
                timings[which].append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings


def target(latest: list[float]) -> tuple[str, float]:
    """The issue's bar: an alias within 5 % of LATEST's p50."""
    bound = 1.05 * statistics.median(latest)
    return f"p50 <= {bound:.3f} (1.05x LATEST's, interleaved)", bound
