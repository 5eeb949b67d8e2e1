"""The groups of parts `Core.start` builds, in its order. Each builder registers a part's close on the start-up's
stack as soon as the part exists, so that a failure further on closes it again; the stack closes in reverse order,
so a part closes before the parts it uses (its Redis client, its engine)."""
from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from docker.errors import DockerException
from redis.asyncio import Redis

from emulator.arns import function_arn_prefix
from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.concurrency_configs import ConcurrencyConfigs
from emulator.catalog.published_layers import PublishedLayers
from emulator.catalog.sources import layer_source, load_sources
from emulator.catalog.template import Template
from emulator.catalog.versions import Versions
from emulator.credentials import FunctionCredentials
from emulator.destinations.deliverer import Deliverer, DeliveryPolicy
from emulator.destinations.local_queues import LocalQueues
from emulator.dispatcher.dispatcher import Dispatcher
from emulator.dispatcher.prestart import Prestarter
from emulator.dispatcher.task_runner import RetryPolicy, TaskRunner
from emulator.fc_endpoint.authority import load_or_make
from emulator.fc_endpoint.endpoint import FcEndpoint, listening_socket
from emulator.fc_endpoint.names import instance_endpoint_names
from emulator.invoker import Invoker
from emulator.logs.attribution import LogBounds
from emulator.logs.log_hub import log_hub
from emulator.logs.pump import LogPumps
from emulator.logs.writer import LogWriter
from emulator.metrics.counters import Metrics
from emulator.pool.agent_client import AgentClient
from emulator.pool.concurrency import InstanceLimits
from emulator.pool.engine import DockerEngine
from emulator.pool.invocation_controls import InvocationControls
from emulator.pool.launcher import InstanceLauncher
from emulator.pool.owners import OwnerInUse, OwnerLiveness, new_owner
from emulator.pool.pools import Pools
from emulator.queue.channel_hub import ChannelHub
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import TaskStore
from emulator.queue.task_event_hub import TaskChange, task_event_hub
from emulator.redis_io.client import async_client, close_client
from emulator.redis_io.health import redis_health
from emulator.settings import Settings
from emulator.startup_checks import StartupError, check_redis
from emulator.triggers.definitions import Triggers
from emulator.triggers.timer_scheduler import TimerScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Functions:
    """The functions of files and templates, as loaded at start-up, and the published layers they may use."""
    catalog: Catalog
    template: Template | None
    published_layers: PublishedLayers


@dataclass(frozen=True)
class Instances:
    """What runs and invokes the functions' instances."""
    agent: AgentClient
    logs: LogPumps | None
    fc_endpoint: FcEndpoint | None
    fc_endpoint_sockets: list[socket.socket]
    metrics: Metrics
    pools: Pools
    invoker: Invoker


@dataclass(frozen=True)
class ApiReads:
    """The API's own Redis client, and the one subscription per channel its followers share."""
    redis: Redis
    log_hub: ChannelHub[dict[str, Any]]
    task_event_hub: ChannelHub[TaskChange]


async def open_redis(settings: Settings, stack: AsyncExitStack) -> Redis:
    """The queue's client, once its Redis answers."""
    redis = async_client(settings.redis_url, health_check_interval=30)
    on_close(stack, "redis", lambda: close_client(redis))
    # The outage probe (keep_running and the API's 503s start it) ends before the client closes.
    on_close(stack, "redis health probe", lambda: redis_health(redis).close())
    await check_redis(redis, settings.redis_url)
    return redis


async def load_functions(settings: Settings, redis: Redis) -> Functions:
    # Functions in files may name layers published through the API: mirrored to disk before they are loaded.
    published_layers = PublishedLayers(redis, layer_source(settings))
    await published_layers.mirror()
    definitions, template = await asyncio.to_thread(load_sources, settings)
    if template is not None:
        log.info("serving the fc3 resources of %s: %s", template.source,
                 ", ".join(template.definitions) or "(none)")
        if template.not_emulated_summary():
            log.info("%s", template.not_emulated_summary())
    return Functions(Catalog(definitions, settings.service_name), template, published_layers)


async def open_engine(stack: AsyncExitStack) -> DockerEngine:
    engine = await asyncio.to_thread(DockerEngine)
    on_close(stack, "docker client", lambda: asyncio.to_thread(engine.close))
    return engine


async def claim_owner(settings: Settings, serve_api: bool, redis: Redis, engine: DockerEngine,
                      stack: AsyncExitStack) -> tuple[Settings, OwnerLiveness]:
    """This process's container owner (the settings returned name it), claimed in Redis; the containers of owners
    whose process is gone are removed, and so are this owner's own leftovers when it is set explicitly."""
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
    on_close(stack, "owner key", owners.release)
    on_close(stack, "containers", lambda: asyncio.to_thread(engine.remove_labelled, settings.owner))
    if explicit_owner:
        removed = await asyncio.to_thread(engine.remove_labelled, settings.owner)
        if removed:
            log.info("removed %d container(s) left by an earlier run", removed)
    await owners.sweep()
    on_close(stack, "owner liveness", owners.close)
    owners.start()
    return settings, owners


async def start_concurrency_configs(redis: Redis, stack: AsyncExitStack) -> ConcurrencyConfigs:
    """The reserved concurrency of every function, kept in step with the other processes."""
    configs = ConcurrencyConfigs(redis)
    on_close(stack, "concurrency configs", configs.close)
    await configs.start()
    return configs


async def build_instances(settings: Settings, serve_api: bool, engine: DockerEngine, owners: OwnerLiveness,
                          role: FunctionCredentials, concurrency: ConcurrencyConfigs, catalog: Catalog,
                          stack: AsyncExitStack) -> Instances:
    agent = AgentClient(settings.sync_payload_limit_bytes)
    on_close(stack, "agent client", agent.close)
    logs: LogPumps | None = None
    if settings.function_logs:
        pumps = logs = LogPumps(LogWriter(settings.redis_url, settings.task_retention_s), engine.follow_logs,
                                LogBounds(settings.log_max_lines, settings.log_max_bytes))
        on_close(stack, "function logs", lambda: asyncio.to_thread(pumps.close))
    # FC's endpoint is served by the API's server: a dispatcher alone has none.
    fc_endpoint, endpoint_sockets = (await serve_fc_endpoint(engine, settings, stack) if serve_api and
                                     settings.fc_endpoint else (None, []))
    launcher = InstanceLauncher(engine, agent, settings, cluster=owners.cluster, logs=logs, role=role,
                                fc_endpoint=fc_endpoint)
    metrics = Metrics()
    # Reserved concurrency is the function's, as LATEST declares it (a version's snapshot may carry an older one).
    limits = InstanceLimits(settings.account_instance_limit, settings.max_instances_per_function,
                            lambda definition: concurrency.reserved(catalog.get(definition.name) or definition))
    concurrency.on_change(limits.changed)
    pools = Pools(launcher, settings, metrics, limits)
    on_close(stack, "pools", pools.close)
    invoker = Invoker(pools, launcher, agent, settings.instance_wait_timeout_s, logs=logs)
    return Instances(agent=agent, logs=logs, fc_endpoint=fc_endpoint, fc_endpoint_sockets=endpoint_sockets,
                     metrics=metrics, pools=pools, invoker=invoker)


async def serve_fc_endpoint(engine: DockerEngine, settings: Settings, stack: AsyncExitStack
                            ) -> tuple[FcEndpoint | None, list[socket.socket]]:
    """FC's endpoint for instances with its listening sockets; none (logged) where it cannot be served."""
    try:
        fc_endpoint, endpoint_sockets = await asyncio.to_thread(open_fc_endpoint, engine, settings)
    except (OSError, ValueError, DockerException) as error:
        # Mostly an engine whose networks are not this host's (another machine, Docker Desktop's VM, a
        # rootless engine's namespace), where the gateway cannot be listened on: functions run without it.
        log.warning("FC's endpoint for instances is not served, so functions cannot call FC's API: %s", error)
        return None, []
    on_close(stack, "FC endpoint's sockets", lambda: asyncio.to_thread(_close_sockets, endpoint_sockets))
    log.info("FC's endpoints for instances (%s) on %s, ports %d (HTTP) and %d (HTTPS)", ", ".join(
        fc_endpoint.names), fc_endpoint.address, fc_endpoint.http_port, fc_endpoint.https_port)
    return fc_endpoint, endpoint_sockets


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


async def start_queue(settings: Settings, redis: Redis, stack: AsyncExitStack) -> tuple[TaskStore, AsyncConfigs]:
    """The task store, with its anchor on Redis's clock, and the async invoke configs it reads."""
    store = TaskStore(
        redis, shards=settings.queue_shards, lease_ms=int(settings.lease_s * 1000),
        retention_s=settings.task_retention_s, max_lost_leases=settings.max_lost_leases,
    )
    on_close(stack, "clock", store.clock.close)
    await store.clock.start()
    async_configs = AsyncConfigs(redis)
    on_close(stack, "async configs", async_configs.close)
    await async_configs.start()
    return store, async_configs


async def start_controls(redis: Redis, pools: Pools, catalog: Catalog, versions: Versions, serve_api: bool,
                         stack: AsyncExitStack) -> InvocationControls:
    """The invocation restrictions and provision configs, read and followed (and the aliases the configs name);
    applied to the pools once the functions are loaded (InvocationControls.apply_all)."""
    controls = InvocationControls(redis, pools, catalog, versions, keep_warm=serve_api)
    on_close(stack, "invocation controls", controls.close)
    await controls.start()
    return controls


def build_dispatcher(settings: Settings, catalog: Catalog, instances: Instances, store: TaskStore,
                     async_configs: AsyncConfigs, queues: LocalQueues, triggers: Triggers, versions: Versions
                     ) -> Dispatcher:
    """The dispatcher with what it drives: the task runner, the deliverer, the timers and the prestarter. Not
    started: its start is the last step of start-up."""
    metrics, pools = instances.metrics, instances.pools
    runner = TaskRunner(store, catalog, instances.invoker, RetryPolicy(int(settings.retry_base_delay_s * 1000)),
                        account_id=settings.account_id, metrics=metrics, versions=versions)
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
                            on_planned=prestart.timers if prestart is not None else None,
                            disabled=lambda function: function in pools.disabled)
    return Dispatcher(
        store, catalog, pools, runner, deliverer, dispatch_clock, timers,
        claim_batch=settings.claim_batch,
        lease_ms=int(settings.lease_s * 1000), shutdown_grace_s=settings.dispatcher_shutdown_grace_s,
        prestart=prestart,
    )


def open_api_reads(settings: Settings, stack: AsyncExitStack) -> ApiReads:
    api_redis = async_client(settings.redis_url, health_check_interval=30)
    on_close(stack, "API's redis", lambda: close_client(api_redis))
    # Closed before their client: a subscription's connection goes back first.
    followers = log_hub(api_redis)
    on_close(stack, "log followers' subscription", followers.close)
    task_events = task_event_hub(api_redis)
    on_close(stack, "task events' subscription", task_events.close)
    return ApiReads(redis=api_redis, log_hub=followers, task_event_hub=task_events)


def on_close(stack: AsyncExitStack, what: str, close: Callable[[], Awaitable[object]]) -> None:
    """Registers a part's close; one that fails is logged and the others still run."""
    async def run() -> None:
        try:
            await close()
        except Exception:
            log.exception("closing the %s failed", what)

    stack.push_async_callback(run)
