"""The emulator's parts, made together at start-up and closed together at shutdown."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import DockerException
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from emulator.arns import function_arn_prefix
from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.deployments import Deployments
from emulator.catalog.fingerprints import Fingerprints, fingerprint
from emulator.catalog.loader import ManifestError
from emulator.catalog.published_layers import PublishedLayers
from emulator.catalog.sources import layer_source, load_sources
from emulator.catalog.template import unpacked_zips
from emulator.catalog.watcher import FunctionsWatcher
from emulator.coalesced import Coalesced
from emulator.credentials import FunctionCredentials
from emulator.destinations.deliverer import Deliverer, DeliveryPolicy
from emulator.destinations.local_queues import LocalQueues
from emulator.dispatcher.dispatcher import Dispatcher
from emulator.dispatcher.prestart import Prestarter
from emulator.dispatcher.task_runner import RetryPolicy, TaskRunner
from emulator.fc_endpoint.authority import load_or_make
from emulator.fc_endpoint.endpoint import FcEndpoint, listening_socket
from emulator.fc_endpoint.names import instance_endpoint_names
from emulator.fc_endpoint.role_credentials import role_credentials
from emulator.invoker import Invoker
from emulator.logs.attribution import LogBounds
from emulator.logs.log_hub import log_hub
from emulator.logs.pump import LogPumps
from emulator.logs.writer import LogWriter
from emulator.metrics.counters import Metrics
from emulator.metrics.scrape import MetricsExporter
from emulator.pool.agent_client import AgentClient
from emulator.pool.engine import DockerEngine, remote_engine_host
from emulator.pool.launcher import InstanceLauncher
from emulator.pool.owners import OwnerInUse, OwnerLiveness, new_owner
from emulator.pool.pools import Pools
from emulator.queue.channel_hub import ChannelHub
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import TaskReads, TaskStore
from emulator.queue.task_event_hub import TaskChange, task_event_hub
from emulator.redis_io.client import async_client, close_client
from emulator.redis_io.health import redis_health
from emulator.settings import Settings
from emulator.triggers.definitions import Triggers
from emulator.triggers.mns_topic import TopicSubscribers
from emulator.triggers.timer_scheduler import TimerScheduler

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A part the emulator needs is missing; the message says which and what to do."""


@dataclass
class Core:
    settings: Settings
    catalog: Catalog
    engine: DockerEngine
    agent: AgentClient
    pools: Pools
    invoker: Invoker
    # The queue's client (accept, claim, heartbeat, reaper, timers, owner liveness, and the API's changes of a
    # task: stop, run-now): a bounded pool that nothing a client of the API holds open can take.
    redis: Redis
    # What the API reads for its own views and streams (tasks, kept log lines, the console's queue view, the one
    # subscription per channel that log followers and consoles share): a pool of its own, so that a burst of slow
    # clients waits on this one, never on the queue's.
    api_redis: Redis
    log_hub: ChannelHub[dict[str, Any]]
    task_event_hub: ChannelHub[TaskChange]
    store: TaskStore
    # The store's reads on api_redis: what GetAsyncTask, ListAsyncTasks and the console's task views read through.
    task_reads: TaskReads
    async_configs: AsyncConfigs
    queues: LocalQueues
    dispatcher: Dispatcher | None
    deployments: Deployments
    triggers: Triggers
    watcher: FunctionsWatcher | None
    owners: OwnerLiveness
    # This process's counters, and the scrape that adds the gauges read from Redis and the pools.
    metrics: Metrics
    exporter: MetricsExporter
    published_layers: PublishedLayers
    _stack: AsyncExitStack
    # One refresh at a time, and no pile-up: the API, the folder watcher and other processes' change messages
    # all ask for one; those who ask while one runs share the next.
    _refreshes: Coalesced[list[str]] = field(init=False)
    # The code folders' fingerprints, kept between refreshes while the watcher reports every change to them;
    # None (every refresh walks every folder) without hot reload.
    _fingerprints: Fingerprints | None = None
    # The credentials of functions with a role; and, in a process serving the API, FC's endpoint for instances
    # with its listening sockets (served by the API's own server: api/instance_endpoint.py).
    role_credentials: FunctionCredentials | None = None
    fc_endpoint: FcEndpoint | None = None
    fc_endpoint_sockets: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._refreshes = Coalesced(self._refresh_catalog, "catalog refresh")

    async def refresh_catalog(self) -> list[str]:
        """Re-reads functions/ and the deployed functions; changed functions' instances drain, removed ones go.
        Returns the functions that changed, once a refresh begun after the call has run."""
        return await self._refreshes()

    async def files_changed(self, paths: Iterable[Path]) -> list[str]:
        """The watcher's report: these files changed; the folders holding them are walked again."""
        if self._fingerprints is not None:
            self._fingerprints.changed(paths)
        return await self.refresh_catalog()

    async def _refresh_catalog(self) -> list[str]:
        # Published layers reach this host's disk first: LayerSource, which every loader below uses, reads files.
        try:
            await self.published_layers.mirror()
        except RedisError as error:
            log.error("published layers not mirrored (functions using a new one may show Failed): %s", error)
        try:
            # Reads and fingerprints the code folders (unless known unchanged): off the event loop, whose lease
            # heartbeats a large folder would otherwise hold up.
            fingerprint_of = self._fingerprints.of if self._fingerprints is not None else fingerprint
            from_files, _ = await asyncio.to_thread(load_sources, self.settings, fingerprint_of)
        except ManifestError as error:
            log.error("functions not reloaded, the running ones stay: %s", error)
            return []
        deployed = await self.deployments.definitions()
        changed = self.catalog.replace({**deployed, **from_files}, set(self.deployments.services))
        for name in changed:
            definition = self.catalog.get(name)
            if definition is None:
                self.pools.forget(name)
            else:
                self.pools.update(definition)
        if changed:
            log.info("reloaded functions: %s", ", ".join(changed))
            self.triggers.changed.set()  # manifests carry triggers too
        return changed

    async def forget_function(self, name: str) -> None:
        """What goes with a deleted function, as in FC: its queued tasks end (Invalid; running ones are
        stopped), its async invoke configs and its triggers are removed."""
        ended, stopping = await self.store.delete_function(name)
        configs = await self.async_configs.forget(name)
        triggers = await self.triggers.forget(name)
        log.info("function %s deleted: %d queued task(s) ended, %d running one(s) stopped, %d async config(s) "
                 "and %d trigger(s) removed", name, ended, stopping, configs, triggers)

    @classmethod
    async def start(cls, settings: Settings, *, serve_api: bool = True) -> Core:
        """Starts every part. If one fails, the parts already started are closed again (in reverse order) before
        the error goes on: a failed start-up leaves no task, connection, thread or container behind, and the
        process can exit."""
        stack = AsyncExitStack()
        try:
            return await cls._start(settings, serve_api, stack)
        except BaseException as error:
            await stack.aclose()
            log.error("fcemu could not start: %s: %s", type(error).__name__, error)
            raise

    @classmethod
    async def _start(cls, settings: Settings, serve_api: bool, stack: AsyncExitStack) -> Core:
        try:
            configured_credentials = settings.function_credentials()  # read once, now: a bad file fails the start
        except (OSError, ValueError) as error:
            raise StartupError(f"function credentials: {error}") from error
        redis = async_client(settings.redis_url, health_check_interval=30)
        _on_close(stack, "redis", lambda: close_client(redis))
        # The outage probe (keep_running and the API's 503s start it) ends before the client closes.
        _on_close(stack, "redis health probe", lambda: redis_health(redis).close())
        try:
            await redis.ping()
        except (RedisError, RedisClusterException) as error:  # the latter: no node of a cluster answers
            raise StartupError(f"cannot reach Redis at {settings.redis_url} ({error}); `make up` starts one") from error
        role = await role_credentials(redis, configured_credentials)
        # Functions in files may name layers published through the API: mirrored to disk before they are loaded.
        published_layers = PublishedLayers(redis, layer_source(settings))
        await published_layers.mirror()
        definitions, template = await asyncio.to_thread(load_sources, settings)
        if template is not None:
            log.info("serving the fc3 resources of %s: %s", template.source,
                     ", ".join(template.definitions) or "(none)")
            if template.not_emulated_summary():
                log.info("%s", template.not_emulated_summary())
        catalog = Catalog(definitions, settings.service_name)
        remote = remote_engine_host(os.environ.get("DOCKER_HOST", ""))
        if remote is not None and settings.instance_address != "bridge":
            # Instances publish their ports on 127.0.0.1 of the engine's host: unreachable from here.
            raise StartupError(
                f"DOCKER_HOST names the engine of another machine ({remote}): its instances publish their ports on "
                "that machine's 127.0.0.1, out of this process's reach; run this process (one dispatcher per engine) "
                "on the engine's host, or set FCEMU_INSTANCE_ADDRESS=bridge if this host routes to its containers' "
                "bridge addresses"
            )
        engine = await asyncio.to_thread(DockerEngine)
        _on_close(stack, "docker client", lambda: asyncio.to_thread(engine.close))
        # An owner set explicitly is this process's alone; unset, every process gets its own.
        explicit_owner = bool(settings.owner)
        settings = settings.model_copy(update={
            "owner": settings.owner or new_owner("fcemu" if serve_api else "fcemu-dispatcher"),
        })
        owners = OwnerLiveness(redis, engine, settings.owner, settings.owner_ttl_s)
        try:
            await owners.claim(exclusive=explicit_owner)
        except OwnerInUse as error:
            raise StartupError(str(error)) from error
        _on_close(stack, "owner key", owners.release)
        _on_close(stack, "containers", lambda: asyncio.to_thread(engine.remove_labelled, settings.owner))
        if explicit_owner:
            removed = await asyncio.to_thread(engine.remove_labelled, settings.owner)
            if removed:
                log.info("removed %d container(s) left by an earlier run", removed)
        await owners.sweep()
        _on_close(stack, "owner liveness", owners.close)
        owners.start()
        agent = AgentClient(settings.sync_payload_limit_bytes)
        _on_close(stack, "agent client", agent.close)
        logs: LogPumps | None = None
        if settings.function_logs:
            pumps = logs = LogPumps(LogWriter(settings.redis_url, settings.task_retention_s), engine.follow_logs,
                                    LogBounds(settings.log_max_lines, settings.log_max_bytes))
            _on_close(stack, "function logs", lambda: asyncio.to_thread(pumps.close))
        fc_endpoint = None
        endpoint_sockets: list[socket.socket] = []
        if serve_api and settings.fc_endpoint:
            try:
                fc_endpoint, endpoint_sockets = await asyncio.to_thread(open_fc_endpoint, engine, settings)
            except (OSError, ValueError, DockerException) as error:
                # Mostly an engine whose networks are not this host's (another machine, Docker Desktop's VM, a
                # rootless engine's namespace), where the gateway cannot be listened on: functions run without it.
                log.warning("FC's endpoint for instances is not served, so functions cannot call FC's API: %s", error)
            else:
                _on_close(stack, "FC endpoint's sockets", lambda: asyncio.to_thread(_close_sockets, endpoint_sockets))
                log.info("FC's endpoints for instances (%s) on %s, ports %d (HTTP) and %d (HTTPS)", ", ".join(
                    fc_endpoint.names), fc_endpoint.address, fc_endpoint.http_port, fc_endpoint.https_port)
        launcher = InstanceLauncher(engine, agent, settings, cluster=owners.cluster, logs=logs, role=role,
                                    fc_endpoint=fc_endpoint)
        metrics = Metrics()
        pools = Pools(launcher, settings, metrics)
        _on_close(stack, "pools", pools.close)
        invoker = Invoker(pools, launcher, agent, settings.instance_wait_timeout_s, logs=logs)
        store = TaskStore(
            redis, shards=settings.queue_shards, lease_ms=int(settings.lease_s * 1000),
            retention_s=settings.task_retention_s, max_lost_leases=settings.max_lost_leases,
        )
        _on_close(stack, "clock", store.clock.close)
        await store.clock.start()
        async_configs = AsyncConfigs(redis)
        _on_close(stack, "async configs", async_configs.close)
        await async_configs.start()
        queues = LocalQueues(redis)
        triggers = Triggers(redis, catalog)
        # Publishing to a local topic invokes the functions subscribed to it, in any process that publishes.
        queues.on_topic_message(TopicSubscribers(triggers, catalog, store, async_configs, settings.account_id).notify)
        dispatcher = None
        if settings.dispatcher_enabled or not serve_api:
            runner = TaskRunner(store, catalog, invoker, RetryPolicy(int(settings.retry_base_delay_s * 1000)),
                                account_id=settings.account_id, metrics=metrics)
            deliverer = Deliverer(
                store, catalog, async_configs, queues,
                DeliveryPolicy(
                    max_attempts=settings.destination_max_attempts,
                    base_delay_ms=int(settings.destination_retry_base_delay_s * 1000),
                    lease_ms=int(settings.lease_s * 1000), http_timeout_s=settings.destination_http_timeout_s,
                ),
                function_arn_prefix=function_arn_prefix(settings.region, settings.account_id), metrics=metrics,
            )
            # Each keeps its own anchor on Redis's clock, re-read when it wakes.
            dispatch_clock = RedisClock(store.clock)
            prestart = (Prestarter(store, catalog, pools, dispatch_clock, metrics, margin_ms=settings.prestart_margin_ms)
                        if settings.prestart else None)
            timers = TimerScheduler(triggers, catalog, store, async_configs, RedisClock(store.clock),
                                    on_planned=prestart.timers if prestart is not None else None)
            dispatcher = Dispatcher(
                store, catalog, pools, runner, deliverer, dispatch_clock, timers,
                claim_batch=settings.claim_batch,
                lease_ms=int(settings.lease_s * 1000), shutdown_grace_s=settings.dispatcher_shutdown_grace_s,
                prestart=prestart,
            )
        deployments = Deployments(redis, settings.data_dir, layer_source(settings))
        api_redis = async_client(settings.redis_url, health_check_interval=30)
        _on_close(stack, "API's redis", lambda: close_client(api_redis))
        # Closed before their client: a subscription's connection goes back first.
        followers = log_hub(api_redis)
        _on_close(stack, "log followers' subscription", followers.close)
        task_events = task_event_hub(api_redis)
        _on_close(stack, "task events' subscription", task_events.close)
        core = cls(settings, catalog, engine, agent, pools, invoker, redis, api_redis, followers, task_events, store,
                   store.reads_on(api_redis),
                   async_configs, queues, dispatcher, deployments, triggers, None, owners, metrics,
                   MetricsExporter(metrics, store, pools), published_layers, stack, role_credentials=role,
                   fc_endpoint=fc_endpoint, fc_endpoint_sockets=endpoint_sockets)
        _on_close(stack, "deployments", deployments.close)
        _on_close(stack, "catalog refreshes", core._refreshes.close)
        await deployments.start(on_change=core.refresh_catalog)
        await core.refresh_catalog()
        _on_close(stack, "triggers", triggers.close)
        await triggers.start()
        # With the triggers known: messages a publisher stored but did not get to tell their subscribers about.
        _on_close(stack, "mns outbox", queues.close)
        await queues.start()
        if settings.hot_reload:
            watcher = core.watcher = FunctionsWatcher(settings.functions_dir, core.files_changed,
                                                      template.watched if template is not None else ())
            # Kept for the watched folders, and for the zips a template names, unpacked once per checksum.
            core._fingerprints = Fingerprints([*watcher.folders, unpacked_zips(settings.data_dir)])
            _on_close(stack, "functions watcher", watcher.close)
            watcher.start()
        if settings.prewarm_instances:
            await pools.prewarm(catalog.all())
        elif settings.debug:
            await pools.prewarm_debugged(catalog.all())
        if dispatcher is not None:
            await dispatcher.start()
            _on_close(stack, "dispatcher", dispatcher.close)
        log.info("fcemu ready with functions: %s (owner %s)", ", ".join(catalog.names()) or "(none)", settings.owner)
        return core

    async def close(self) -> None:
        """Closes every part, in the reverse order of start-up."""
        await self._stack.aclose()


def open_fc_endpoint(engine: DockerEngine, settings: Settings) -> tuple[FcEndpoint, list[socket.socket]]:
    """FC's endpoint for this emulator's instances: its names' certificate (made in the data folder) and two
    sockets listening on the host's address on the instances' network. Blocking: run in a thread."""
    names = instance_endpoint_names(settings.account_id, settings.region)
    tls = load_or_make(settings.data_dir.resolve() / "fc-endpoint", names)
    address, subnet = engine.instance_network_addresses()
    sockets = [listening_socket(address)]
    try:
        sockets.append(listening_socket(address))
    except OSError:
        _close_sockets(sockets)
        raise
    endpoint = FcEndpoint(names=names, address=address, subnet=subnet, http_port=sockets[0].getsockname()[1],
                          https_port=sockets[1].getsockname()[1], tls=tls)
    return endpoint, sockets


def _close_sockets(sockets: list[socket.socket]) -> None:
    for listener in sockets:
        listener.close()


def _on_close(stack: AsyncExitStack, what: str, close: Callable[[], Awaitable[object]]) -> None:
    """Registers a part's close; one that fails is logged and the others still run."""
    async def run() -> None:
        try:
            await close()
        except Exception:
            log.exception("closing the %s failed", what)

    stack.push_async_callback(run)
