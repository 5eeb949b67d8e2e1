"""The gauges read at scrape time: queue depth from Redis (shared by every process on it) and this process's
instances. The counters of the same registry come with them in one exposition."""
from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from emulator.metrics.counters import Metrics
from emulator.pool.pools import Pools
from emulator.queue.store import FunctionDepth, TaskStore

QUEUE_STATES = ("due", "deferred", "retrying", "in_flight")


class ScrapeGauges(Collector):
    """Yields the gauges of the last snapshot taken; `exposition` takes one right before each render."""

    def __init__(self) -> None:
        self._queue: dict[str, FunctionDepth] = {}
        self._instances: dict[str, dict[str, int]] = {}

    def take(self, queue: dict[str, FunctionDepth], instances: dict[str, dict[str, int]]) -> None:
        self._queue, self._instances = queue, instances

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tasks = GaugeMetricFamily(
            "fcemu_queue_tasks", "Async tasks not finished, by function and state: due (first attempts due now), "
            "deferred (due later), retrying (waiting for or due for a retry), in_flight (claimed or running); "
            "from Redis, for every process sharing it", labels=["function", "state"])
        oldest = GaugeMetricFamily(
            "fcemu_queue_oldest_due_age_seconds", "How long the earliest due task of a function has waited past "
            "its due time (0 when none is due); from Redis", labels=["function"])
        for function, depth in sorted(self._queue.items()):
            for state in QUEUE_STATES:
                tasks.add_metric([function, state], getattr(depth, state))
            oldest.add_metric([function], depth.oldest_due_age_ms / 1000)
        instances = GaugeMetricFamily(
            "fcemu_instances", "This process's function instances, by function and state (idle, busy, starting)",
            labels=["function", "state"])
        for function, states in sorted(self._instances.items()):
            for state, count in states.items():
                instances.add_metric([function, state], count)
        yield tasks
        yield oldest
        yield instances


class MetricsExporter:
    """Renders the registry in Prometheus' text format, with fresh gauges (one Redis round trip per scrape)."""

    def __init__(self, metrics: Metrics, store: TaskStore, pools: Pools) -> None:
        self._metrics = metrics
        self._store = store
        self._pools = pools
        self._gauges = ScrapeGauges()
        metrics.registry.register(self._gauges)

    async def exposition(self) -> bytes:
        queue = await self._store.depth()
        # No await between the snapshot and the render: a concurrent scrape cannot swap the snapshot midway.
        self._gauges.take(queue, self._pools.instance_states())
        return generate_latest(self._metrics.registry)
