"""The counters and histograms the emulator's parts update as things happen, in one registry per Core.

Updating one is a dictionary look-up and an add: cheap enough for the invoke path, and never a Redis call.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Invocations run from a few milliseconds to FC's longest timeout (a day); lateness from none to hours (a
# dispatcher that was down, a clock advanced).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400)
LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

# Invocation outcomes.
SUCCESS = "success"
ERROR = "error"
TIMEOUT = "timeout"
THROTTLED = "throttled"
# A task whose function this process does not have (deleted, or a newer version): it ends Invalid.
INVALID = "invalid"


def outcome(succeeded: bool, timed_out: bool = False) -> str:
    return TIMEOUT if timed_out else SUCCESS if succeeded else ERROR


def task_kind(kind: str) -> str:
    """An async task's kind label: how it got onto the queue (an HTTP function's async request is "async")."""
    return kind if kind in ("timer", "mns") else "async"


class Metrics:
    def __init__(self) -> None:
        # Never prometheus_client's global REGISTRY: each Core (and each test's emulator) counts on its own.
        self.registry = CollectorRegistry(auto_describe=True)
        self.streams = Gauge(
            "fcemu_streams_open", "Server-sent event streams (log followers, console event streams) this process "
            "serves now; at most FCEMU_MAX_STREAMS", registry=self.registry)
        self.invocations = Counter(
            "fcemu_invocations", "Invocations run, by function, kind (sync, http, async, timer, mns) and outcome "
            "(success, error, timeout, throttled, invalid)", ["function", "kind", "outcome"], registry=self.registry)
        self.duration = Histogram(
            "fcemu_invocation_duration_seconds", "How long invocations ran on their instance (instance start "
            "included), by function and kind", ["function", "kind"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.cold_starts = Counter(
            "fcemu_cold_starts", "Instances started because an invocation found none free (pre-warmed and pre-started "
            "ones are not counted), by function", ["function"], registry=self.registry)
        self.start_time = Histogram(
            "fcemu_instance_start_seconds", "How long instances took to start (container, readiness, initializer), "
            "whatever started them, by function", ["function"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.prestarted = Counter(
            "fcemu_prestarted_instances", "Instances the dispatcher started ahead of a due time (a deferred task, "
            "a timer) of a function with no free warm instance, by function", ["function"], registry=self.registry)
        self.prestarted_unused = Counter(
            "fcemu_prestarted_instances_unused", "Pre-started instances removed without serving an invocation "
            "(their task was stopped, or served by another instance), by function", ["function"],
            registry=self.registry)
        self.lateness = Histogram(
            "fcemu_async_lateness_seconds", "How long after its due time an async task was claimed to run, by "
            "function", ["function"], buckets=LATENESS_BUCKETS, registry=self.registry)
        self.deliveries = Counter(
            "fcemu_destination_deliveries", "Destination delivery attempts, by function, kind (success, failure), "
            "target (queue, topic, http, function, unsupported) and result (ok, retry, fail)",
            ["function", "kind", "target", "result"], registry=self.registry)

    def invoked(self, function: str, kind: str, outcome: str, duration_s: float | None = None) -> None:
        self.invocations.labels(function, kind, outcome).inc()
        if duration_s is not None:
            self.duration.labels(function, kind).observe(duration_s)

    def cold_start(self, function: str) -> None:
        self.cold_starts.labels(function).inc()

    def instance_started(self, function: str, seconds: float) -> None:
        self.start_time.labels(function).observe(seconds)

    def prestart(self, function: str, count: int) -> None:
        self.prestarted.labels(function).inc(count)

    def prestart_unused(self, function: str) -> None:
        self.prestarted_unused.labels(function).inc()

    def late(self, function: str, lateness_ms: int) -> None:
        self.lateness.labels(function).observe(max(0, lateness_ms) / 1000)

    def delivered(self, function: str, kind: str, target: str, result: str) -> None:
        self.deliveries.labels(function, kind, target, result).inc()
