"""Runs every peer of `make bench` on the bench's Redis and machine, skipping (with the reason) those that cannot
run here, while no emulator runs, so that each peer has the machine fcemu had."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks import peers_arq, peers_bullmq, peers_docker_run
from tests.benchmarks.peers import LatencyPeer, QueuePeer, percentile


@dataclass
class Peers:
    docker_run: peers_docker_run.DockerRunTimes | None = None
    queues: list[QueuePeer] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def invoke_peers(self) -> list[LatencyPeer]:
        return [LatencyPeer("docker run", self.docker_run.answer)] if self.docker_run else []

    def lateness_peers(self) -> list[LatencyPeer]:
        return [LatencyPeer(queue.name, queue.lateness) for queue in self.queues]

    def lines(self) -> list[str]:
        """What each peer measured, under the table: its setup and the figures the table leaves out."""
        out = []
        if self.docker_run:
            times = self.docker_run
            out.append(f"- docker run --rm per invoke ({len(times.answer)} runs): answer p50 "
                       f"{_median(times.answer):.0f} ms p99 {percentile(times.answer, 0.99):.0f} ms; command exit "
                       f"(container removed) p50 {_median(times.exit):.0f} ms p99 {percentile(times.exit, 0.99):.0f} ms")
        for queue in self.queues:
            out.append(f"- {queue.setup}: enqueue {queue.rate:.0f}/s (16 concurrent clients); lateness "
                       f"({len(queue.lateness)} jobs) p50 {_median(queue.lateness):.1f} ms p99 {queue.p99:.1f} ms")
        out.extend(f"- skipped {reason}" for reason in self.skipped)
        return out


def _median(values: list[float]) -> float:
    return percentile(values, 0.5)


def run_peers(redis_url: str, code_dir: Path, image: str, docker_runs: int, pending: int, count: int) -> Peers:
    peers = Peers()
    reason = peers_docker_run.available()
    if reason:
        peers.skipped.append(f"docker run: {reason}")
    else:
        peers.docker_run = peers_docker_run.measure(code_dir, image, docker_runs)
    peers.queues.append(peers_arq.measure(redis_url, pending, count))
    reason = peers_bullmq.prepare()
    if reason:
        peers.skipped.append(f"BullMQ: {reason}")
    else:
        peers.queues.append(peers_bullmq.measure(redis_url, pending, count))
    return peers
