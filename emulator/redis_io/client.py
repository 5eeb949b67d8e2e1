"""Redis clients from FCEMU_REDIS_URL: a single Redis (`redis://`, `rediss://`, `unix://`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, any of its nodes; `rediss+cluster://` for TLS).

On a Cluster every queue script's keys share one hash tag (see keys.py), so each runs on the master of that
slot; commands without keys (TIME, PUBLISH) go to any node. Classic pub/sub is broadcast to every node of a
cluster, so a subscriber listens on one plain connection to the first node named in the URL.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.cluster
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.crc import key_slot
from redis.exceptions import AskError, ClusterDownError, MovedError, RedisClusterException, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from emulator.redis_io.replies import sync_reply

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# Errors a node answers a command with when it will not run it there: the cluster client knows what to do.
REDIRECTIONS = ("MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN")
# Connections per process to a single Redis, and how long a command waits for one when all are busy.
MAX_CONNECTIONS = 256
CONNECTION_WAIT_S = 20  # whole seconds: redis-py types the pool's timeout as int
# Per node, for the cluster client's own path.
CLUSTER_MAX_CONNECTIONS = 4096
# After a node failed to answer, scripts take the cluster client's own path (which re-reads the cluster's layout)
# for this long: a failover moves slots to another node.
DIRECT_PAUSE_S = 5.0


class ClusterUrl:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme = CLUSTER_SCHEMES[parts.scheme]
        userinfo, _, hosts = parts.netloc.rpartition("@")
        self.nodes: list[tuple[str, int]] = []
        for address in hosts.split(","):
            host, _, port = address.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"FCEMU_REDIS_URL: '{address}' is not host:port")
            self.nodes.append((host.strip("[]"), int(port)))
        # The first node as a plain URL: what redis-py parses credentials and TLS from.
        first_host, first_port = self.nodes[0]
        first_host = f"[{first_host}]" if ":" in first_host else first_host
        self.first_url = urlunsplit((self.scheme, (userinfo + "@" if userinfo else "") + f"{first_host}:{first_port}",
                                     "", parts.query, ""))


def is_cluster(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def is_cluster_client(client: object) -> bool:
    return isinstance(client, (RedisCluster, redis.cluster.RedisCluster))


class AsyncCluster(RedisCluster):
    """redis-py's async cluster client with what fcemu uses of a plain client that it lacks: publish, pubsub."""

    def __init__(self, url: str, **options: Any) -> None:
        parsed = ClusterUrl(url)
        # Its own path has no waiting pool (a burst past max_connections is refused): what goes that way (reads,
        # pipelines) gets room for a large burst; scripts, the bulk, take the bounded direct path.
        super().__init__(startup_nodes=[ClusterNode(host, port) for host, port in parsed.nodes],
                         max_connections=CLUSTER_MAX_CONNECTIONS, **{**options, **_url_options(parsed.first_url)})
        self._node_options = _pool_options({**options, **_url_options(parsed.first_url)})
        self._subscribers: dict[str, Redis] = {}
        self._first_node = parsed.nodes[0]  # until the client has read the cluster's nodes
        # A plain client per master, for scripts: see execute_command.
        self._direct: dict[str, Redis] = {}
        self._direct_paused_until = 0.0

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Scripts (EVALSHA, EVAL) go straight to their slot's master on a plain client: redis-py's cluster path
        costs about 0.2 ms of CPU a command here, three times the command itself, on the path every invocation
        takes. A redirection (a slot that moved) is left to the cluster client, which follows it and updates
        its map; so is everything while a node has lately failed to answer."""
        if args and args[0] in ("EVALSHA", "EVAL") and not kwargs and int(args[2]) > 0 \
                and time.monotonic() >= self._direct_paused_until:
            key = args[3]
            try:
                node = self.nodes_manager.get_node_from_slot(key_slot(key.encode() if isinstance(key, str) else key))
            except (KeyError, RedisClusterException):  # no map yet: the cluster client reads it first
                return await super().execute_command(*args, **kwargs)
            direct = self._direct.get(node.name)
            if direct is None:
                direct = self._direct[node.name] = Redis.from_pool(BlockingConnectionPool(
                    host=node.host, port=node.port, max_connections=MAX_CONNECTIONS, timeout=CONNECTION_WAIT_S,
                    **self._node_options))
            try:
                return await direct.execute_command(*args)
            except ResponseError as error:
                # As MovedError etc., or (some redis-py versions' parsers) as a plain ResponseError.
                redirected = isinstance(error, (MovedError, AskError, TryAgainError, ClusterDownError))
                if not (redirected or str(error).startswith(REDIRECTIONS)):
                    raise
            except (RedisConnectionError, RedisTimeoutError):
                self._direct_paused_until = time.monotonic() + DIRECT_PAUSE_S
                raise
        return await super().execute_command(*args, **kwargs)

    # The two overrides take what fcemu passes, not all that redis-py 8's types declare (wider channels, a
    # ClusterPubSub on a chosen node): fcemu calls them only as the plain client's. redis-py 5 does not check.
    async def publish(self, channel: str, message: Any) -> int:  # type: ignore[override, unused-ignore]
        # Broadcast by the cluster: any node will do. The client knows none before its first command, nor
        # right after redis-py reset its map.
        if not self.nodes_manager.nodes_cache:
            await self.initialize()
        return int(await self.execute_command("PUBLISH", channel, message, target_nodes=self.get_random_node()))

    def pubsub(self, **kwargs: Any) -> PubSub:  # type: ignore[override, unused-ignore]
        """On a node picked anew for each subscription (the loops subscribe again after a failure): one that died
        is not asked again once the cluster client has noticed, as it does on the commands it routes."""
        host, port = self._first_node
        if self.nodes_manager.nodes_cache:
            node = self.get_random_node()
            host, port = node.host, int(node.port)  # redis-py types a node's port as str | int
        subscriber = self._subscribers.get(f"{host}:{port}")
        if subscriber is None:
            subscriber = self._subscribers[f"{host}:{port}"] = Redis.from_pool(BlockingConnectionPool(
                host=host, port=port, max_connections=MAX_CONNECTIONS, timeout=CONNECTION_WAIT_S,
                **self._node_options))
        return subscriber.pubsub(**kwargs)

    async def close_all(self) -> None:
        """Closes the cluster client and fcemu's own clients of its nodes. Not an override of aclose(): redis-py
        calls that itself to reset its map of the cluster (after CLUSTERDOWN, some MOVEDs, a connection error),
        and that must not cut the scripts and subscriptions in flight on the other clients."""
        for client in [*self._subscribers.values(), *self._direct.values()]:
            await client.aclose()
        await super().aclose()


async def close_client(client: Redis) -> None:
    """Closes a client from async_client, whichever kind."""
    if isinstance(client, AsyncCluster):
        await client.close_all()
    else:
        await client.aclose()


def _pool_options(options: dict[str, Any]) -> dict[str, Any]:
    """Client options as a connection pool takes them: TLS is a connection class there, not a flag."""
    options = dict(options)
    if options.pop("ssl", False):
        options["connection_class"] = SSLConnection
    return options


def _url_options(url: str) -> dict[str, Any]:
    """Credentials and TLS named in a node's URL, as cluster client options."""
    parts = urlsplit(url)
    options: dict[str, Any] = {}
    if parts.username:
        options["username"] = parts.username
    if parts.password:
        options["password"] = parts.password
    if parts.scheme == "rediss":
        options["ssl"] = True
    return options


def async_client(url: str, **options: Any) -> Redis:
    """The async client fcemu's processes share; a cluster client where the URL names a cluster."""
    if is_cluster(url):
        # Typed as the plain client: fcemu calls only what both have (AsyncCluster adds publish and pubsub).
        # redis-py 5 also reads the cluster class as abstract; 8 does not.
        return AsyncCluster(url, **options)  # type: ignore[abstract, return-value, unused-ignore]
    # A bounded pool that makes a burst wait for a connection: redis-py 6 and later refuse the 101st concurrent
    # command of their default pool (MaxConnectionsError, which reads as an outage), and an unbounded one would
    # open a socket per concurrent request.
    return Redis.from_pool(BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=CONNECTION_WAIT_S, **options))


def sync_client(url: str, **options: Any) -> redis.Redis:
    """A blocking client (the log writer's thread, the CLI)."""
    if is_cluster(url):
        parsed = ClusterUrl(url)
        options = {k: v for k, v in options.items() if k != "health_check_interval"}
        # Typed as the plain client, as async_client's cluster is: its callers use only what both have. redis-py 5
        # leaves RedisCluster's constructor untyped (mypy sees Any returned), 8 types it (another class).
        return redis.cluster.RedisCluster(  # type: ignore[no-any-return, return-value, unused-ignore]
            startup_nodes=[redis.cluster.ClusterNode(host, port) for host, port in parsed.nodes],
            **{**options, **_url_options(parsed.first_url)})
    return redis.Redis.from_url(url, **options)


def subscriber_count(client: redis.Redis, channel: str) -> int:
    """Subscribers of a channel across the whole deployment: PUBSUB NUMSUB is per node on a cluster."""
    if isinstance(client, redis.cluster.RedisCluster):
        total = 0
        for node in client.get_nodes():
            [(_, count)] = client.pubsub_numsub(channel, target_nodes=node)
            total += int(count)
        return total
    [(_, count)] = sync_reply(client.pubsub_numsub(channel))
    return int(count)
