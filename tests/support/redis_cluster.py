"""A real Redis Cluster for tests: three masters (no replicas) on free loopback ports, each in its own folder."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

from tests.support.emulator_process import free_port
from tests.support.redis_server import RedisServer


class RedisCluster:
    def __init__(self, folder: Path, masters: int = 3) -> None:
        self.nodes = [RedisServer(folder / f"node{index}", port=_node_port(), appendfsync="no",
                                  extra_args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                              "--cluster-node-timeout", "2000", "--appendonly", "no"))
                      for index in range(masters)]
        self.url = "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def start(self, timeout: float = 30) -> RedisCluster:
        for node in self.nodes:
            node.start()
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in self.nodes),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, text=True, timeout=timeout)
        # Every node must agree the cluster is whole before a client's first command lands on it; there is no
        # event to await for the gossip, so each node is asked until it says so.
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            with node.client() as client:
                while _state(client) != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the cluster on port {node.port} never became ok")
                    time.sleep(0.05)
        return self

    def client(self) -> redis.cluster.RedisCluster:
        return redis.cluster.RedisCluster(host="127.0.0.1", port=self.nodes[0].port)

    def node_of_slot(self, slot: int) -> int:
        """The port of the master serving `slot`."""
        with self.nodes[0].client() as client:
            for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                if int(start) <= slot <= int(end):
                    return int(master[1])
        raise LookupError(slot)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


def _state(client: redis.Redis) -> str:
    info = client.execute_command("CLUSTER INFO")
    if isinstance(info, dict):
        return str(info.get("cluster_state"))
    text = info.decode() if isinstance(info, bytes) else str(info)
    return dict(line.split(":", 1) for line in text.split() if ":" in line).get("cluster_state", "")


def _node_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
