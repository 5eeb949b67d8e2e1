"""FCEMU_REDIS_URL's cluster form, parsed without a Redis, and the cluster client's direct path for scripts."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.crc import key_slot

from emulator.redis_io.client import MAX_CONNECTIONS, ClusterUrl, async_client, close_client, is_cluster
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServer


def test_a_cluster_url_names_every_node_and_keeps_credentials_and_tls() -> None:
    parsed = ClusterUrl("rediss+cluster://user:secret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002")
    assert parsed.nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002)]
    assert parsed.first_url == "rediss://user:secret@10.0.0.1:7000"
    assert is_cluster("redis+cluster://127.0.0.1:7000") and not is_cluster("redis://127.0.0.1:6390/0")


@pytest.mark.parametrize("url", ["redis+cluster://127.0.0.1", "redis+cluster://127.0.0.1:7000,:7001",
                                 "redis+cluster://127.0.0.1:port"])
def test_a_node_without_host_and_port_is_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="is not host:port"):
        ClusterUrl(url)


def test_a_script_sent_to_a_node_that_no_longer_holds_its_slot_is_redirected(tmp_path: Path) -> None:
    """Scripts go straight to the master the client's map names; when the map is stale (a slot moved), the
    node's MOVED sends the script through the cluster client, which follows it: the script runs once."""
    cluster = RedisCluster(tmp_path).start()

    async def run() -> None:
        client = async_client(cluster.url)
        try:
            await client.initialize()
            key = "fcemu:{s0}:redirect"
            slot = key_slot(key.encode())
            manager = client.nodes_manager
            owner = manager.get_node_from_slot(slot)
            # Make the map name another master for the slot, as it would after a resharding.
            other = next(node for node in manager.startup_nodes.values() if node.name != owner.name)
            manager.slots_cache[slot] = [manager.get_node(other.host, other.port) or other]
            added = await client.execute_command("EVAL", "return redis.call('INCR', KEYS[1])", 1, key)
            assert added == 1
            assert int(await client.get(key)) == 1
            assert manager.get_node_from_slot(slot).name == owner.name  # the map was put right
        finally:
            await client.aclose()

    try:
        asyncio.run(run())
    finally:
        cluster.stop()


@pytest.mark.parametrize("backend", ["single", "cluster"])
def test_a_burst_of_scripts_waits_for_a_connection_instead_of_failing(tmp_path: Path, backend: str) -> None:
    """More concurrent scripts than the pool has connections: they queue for one. redis-py 6 and later refuse
    the 101st command on their default pool (MaxConnectionsError, read as a Redis outage)."""
    server = RedisServer(tmp_path / "redis") if backend == "single" else RedisCluster(tmp_path / "cluster")
    server.start()

    async def run() -> list[object]:
        client = async_client(server.url)
        try:
            return await asyncio.gather(*(client.execute_command("EVAL", "return 1", 1, f"fcemu:{{s{index % 7}}}:x")
                                          for index in range(3 * MAX_CONNECTIONS)), return_exceptions=True)
        finally:
            await client.aclose()

    try:
        assert asyncio.run(run()) == [1] * (3 * MAX_CONNECTIONS)
    finally:
        server.kill() if isinstance(server, RedisServer) else server.stop()


def test_the_cluster_client_resetting_its_map_leaves_subscriptions_and_scripts_alone(tmp_path: Path) -> None:
    """redis-py calls the cluster client's aclose() itself to reset its map (after CLUSTERDOWN, some MOVEDs):
    fcemu's subscriptions and direct script connections must survive it."""
    cluster = RedisCluster(tmp_path).start()

    async def run() -> None:
        client = async_client(cluster.url)
        publisher = async_client(cluster.url)
        try:
            await client.ping()
            assert await client.execute_command("EVAL", "return 1", 1, "fcemu:{s0}:x") == 1
            subscription = client.pubsub(ignore_subscribe_messages=True)
            await subscription.subscribe("fcemu:test")
            await AsyncRedisCluster.aclose(client)  # what redis-py does on CLUSTERDOWN
            await publisher.publish("fcemu:test", "still here")
            message = None
            while message is None:
                message = await subscription.get_message(timeout=5)
            assert message["data"] == b"still here"
            assert await client.execute_command("EVAL", "return 2", 1, "fcemu:{s0}:x") == 2
            await subscription.aclose()
        finally:
            await close_client(client)
            await close_client(publisher)

    try:
        asyncio.run(run())
    finally:
        cluster.stop()
