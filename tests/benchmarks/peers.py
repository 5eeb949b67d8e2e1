"""What every peer of `make bench` reports, and the table's cells that set fcemu's figures beside the best peer's."""
from __future__ import annotations

import statistics
from dataclasses import dataclass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class QueuePeer:
    """A job queue's enqueue rate (jobs per second, 16 concurrent clients) and its deferred jobs' lateness (ms)."""

    name: str
    setup: str
    rate: float
    lateness: list[float]

    @property
    def p99(self) -> float:
        return percentile(self.lateness, 0.99)


# The resolution of the latencies that are timestamps' differences (lateness).
WHOLE_MS = 1.0


@dataclass
class LatencyPeer:
    """A peer's latencies (ms) for a measure fcemu reports as latencies."""

    name: str
    values: list[float]


def latency_cells(fcemu: list[float], peers: list[LatencyPeer]) -> tuple[str, str, float | None]:
    """The best peer's cell (lowest p99), the ratio cell (peer / fcemu, p50 and p99) and that peer's p99."""
    if not peers:
        return "-", "-", None
    best = min(peers, key=lambda peer: percentile(peer.values, 0.99))
    p50, p99 = statistics.median(best.values), percentile(best.values, 0.99)
    ratio = f"{_ratio(p50, statistics.median(fcemu))} / {_ratio(p99, percentile(fcemu, 0.99))}"
    return f"{best.name}: {p50:.2f} / {p99:.2f}", ratio, p99


def _ratio(peer: float, ours: float) -> str:
    """The peer's value over fcemu's. Lateness counts whole milliseconds: fcemu's 0 means under 1 ms, so the
    ratio is more than the peer's value over 1 ms."""
    if ours <= 0:
        return f">{peer / WHOLE_MS:.1f}x"
    return f"{peer / ours:.1f}x"


def rate_cells(fcemu: float, peers: list[QueuePeer]) -> tuple[str, str, float | None]:
    """The best peer's cell (highest rate), the ratio cell (fcemu / peer) and that peer's rate."""
    if not peers:
        return "-", "-", None
    best = max(peers, key=lambda peer: peer.rate)
    return f"{best.name}: {best.rate:.0f}/s", f"{fcemu / best.rate:.2f}x", best.rate
