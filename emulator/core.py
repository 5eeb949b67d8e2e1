"""The emulator's parts, made together at start-up and closed together at shutdown."""
from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.concurrency_configs import ConcurrencyConfigs
from emulator.catalog.deployments import Deployments
from emulator.catalog.fingerprints import Fingerprints, fingerprint
from emulator.catalog.loader import ManifestError
from emulator.catalog.published_layers import PublishedLayers
from emulator.catalog.service_versions import ServiceVersions
from emulator.catalog.sources import layer_source, load_sources
from emulator.catalog.template import Template, unpacked_zips
from emulator.catalog.versions import Versions
from emulator.catalog.watcher import FunctionsWatcher
from emulator.coalesced import Coalesced
from emulator.core_parts import (
    build_dispatcher,
    build_instances,
    claim_owner,
    load_functions,
    on_close,
    open_api_reads,
    open_engine,
    open_redis,
    start_concurrency_configs,
    start_controls,
    start_queue,
)
from emulator.credentials import FunctionCredentials
from emulator.destinations.local_queues import LocalQueues
from emulator.dispatcher.dispatcher import Dispatcher
from emulator.fc_endpoint.endpoint import FcEndpoint
from emulator.fc_endpoint.role_credentials import role_credentials
from emulator.invoker import Invoker
from emulator.metrics.counters import Metrics
from emulator.metrics.scrape import MetricsExporter
from emulator.pool.agent_client import AgentClient
from emulator.pool.engine import DockerEngine
from emulator.pool.invocation_controls import InvocationControls
from emulator.pool.owners import OwnerLiveness
from emulator.pool.pools import Pools
from emulator.queue.channel_hub import ChannelHub
from emulator.queue.store import TaskReads, TaskStore
from emulator.queue.task_event_hub import TaskChange
from emulator.settings import Settings
from emulator.startup_checks import check_engine_host, configured_function_credentials
from emulator.triggers.definitions import Triggers
from emulator.triggers.mns_topic import TopicSubscribers

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Core:
    """Every part of one emulator process: made by Core.start (checks, building, starting), closed by close()."""

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
    # Reserved concurrency (PutConcurrencyConfig over the manifests'), read by the pools' limits.
    concurrency_configs: ConcurrencyConfigs
    queues: LocalQueues
    dispatcher: Dispatcher | None
    deployments: Deployments
    # Published versions and aliases (each version runs in a pool of its own).
    versions: Versions
    # FC 2.0's versions and aliases of a service, kept as its functions' (see service_versions.py).
    service_versions: ServiceVersions
    triggers: Triggers
    watcher: FunctionsWatcher | None
    owners: OwnerLiveness
    # This process's counters, and the scrape that adds the gauges read from Redis and the pools.
    metrics: Metrics
    exporter: MetricsExporter
    published_layers: PublishedLayers
    # Disabled invocation and provision configs (the invocation-control API), as the pools apply them.
    controls: InvocationControls
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
            await self.controls.functions_changed(changed)  # and provision configs
        return changed

    async def forget_function(self, name: str) -> None:
        """What goes with a deleted function, as in FC: its queued tasks end (Invalid; running ones are
        stopped), its async invoke configs and its triggers are removed; and its versions and aliases (fcemu's
        choice: the delete cascades)."""
        ended, stopping = await self.store.delete_function(name)
        configs = await self.async_configs.forget(name)
        await self.concurrency_configs.delete(name)
        triggers = await self.triggers.forget(name)
        await self.controls.forget(name)
        versions = await self.versions.forget(name)
        log.info("function %s deleted: %d queued task(s) ended, %d running one(s) stopped, %d async config(s), "
                 "%d trigger(s) and %d version(s) removed", name, ended, stopping, configs, triggers, versions)

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
        """The checks first, then the parts built (each with its close on the stack), then the ones that run."""
        configured_credentials = configured_function_credentials(settings)
        check_engine_host(settings)
        core, template = await cls._build(settings, serve_api, configured_credentials, stack)
        await core._start_parts(template)
        log.info("fcemu ready with functions: %s (owner %s)", ", ".join(core.catalog.names()) or "(none)",
                 core.settings.owner)
        return core

    @classmethod
    async def _build(cls, settings: Settings, serve_api: bool, configured_credentials: FunctionCredentials | None,
                     stack: AsyncExitStack) -> tuple[Core, Template | None]:
        """Every part, in the order their closes must run backwards; the template the functions came from."""
        redis = await open_redis(settings, stack)
        role = await role_credentials(redis, configured_credentials)
        functions = await load_functions(settings, redis)
        catalog = functions.catalog
        engine = await open_engine(stack)
        settings, owners = await claim_owner(settings, serve_api, redis, engine, stack)
        concurrency_configs = await start_concurrency_configs(redis, stack)
        instances = await build_instances(settings, serve_api, engine, owners, role, concurrency_configs, catalog,
                                          stack)
        store, async_configs = await start_queue(settings, redis, stack)
        versions = Versions(redis, settings.data_dir, layer_source(settings))
        controls = await start_controls(redis, instances.pools, catalog, versions, serve_api, stack)
        queues = LocalQueues(redis)
        triggers = Triggers(redis, catalog)
        # Publishing to a local topic invokes the functions subscribed to it, in any process that publishes.
        queues.on_topic_message(TopicSubscribers(triggers, catalog, store, async_configs, settings.account_id).notify)
        dispatcher = (build_dispatcher(settings, catalog, instances, store, async_configs, queues, triggers, versions)
                      if settings.dispatcher_enabled or not serve_api else None)
        deployments = Deployments(redis, settings.data_dir, layer_source(settings))
        api = open_api_reads(settings, stack)
        core = cls(
            settings=settings, catalog=catalog, engine=engine, agent=instances.agent, pools=instances.pools,
            invoker=instances.invoker, redis=redis, api_redis=api.redis, log_hub=api.log_hub,
            task_event_hub=api.task_event_hub, store=store, task_reads=store.reads_on(api.redis),
            async_configs=async_configs, concurrency_configs=concurrency_configs, queues=queues, dispatcher=dispatcher,
            deployments=deployments, versions=versions, service_versions=ServiceVersions(redis, versions),
            triggers=triggers, watcher=None, owners=owners, metrics=instances.metrics,
            exporter=MetricsExporter(instances.metrics, store, instances.pools),
            published_layers=functions.published_layers, controls=controls, _stack=stack, role_credentials=role,
            fc_endpoint=instances.fc_endpoint, fc_endpoint_sockets=instances.fc_endpoint_sockets,
        )
        return core, functions.template

    async def _start_parts(self, template: Template | None) -> None:
        """Starts what runs on its own, the dispatcher last; each one's close is on the stack."""
        settings, stack = self.settings, self._stack
        on_close(stack, "deployments", self.deployments.close)
        on_close(stack, "catalog refreshes", self._refreshes.close)
        await self.deployments.start(on_change=self.refresh_catalog)
        await self.refresh_catalog()
        on_close(stack, "versions", self.versions.close)
        await self.versions.start(on_removed=self.pools.forget)
        await self.controls.apply_all()
        on_close(stack, "triggers", self.triggers.close)
        await self.triggers.start()
        # With the triggers known: messages a publisher stored but did not get to tell their subscribers about.
        on_close(stack, "mns outbox", self.queues.close)
        await self.queues.start()
        if settings.hot_reload:
            watcher = self.watcher = FunctionsWatcher(settings.functions_dir, self.files_changed,
                                                      template.watched if template is not None else ())
            # Kept for the watched folders, and for the zips a template names, unpacked once per checksum.
            self._fingerprints = Fingerprints([*watcher.folders, unpacked_zips(settings.data_dir)])
            on_close(stack, "functions watcher", watcher.close)
            watcher.start()
        if settings.prewarm_instances:
            await self.pools.prewarm(self.catalog.all())
        elif settings.debug:
            await self.pools.prewarm_debugged(self.catalog.all())
        if self.dispatcher is not None:
            await self.dispatcher.start()
            on_close(stack, "dispatcher", self.dispatcher.close)

    async def close(self) -> None:
        """Closes every part, in the reverse order of start-up."""
        await self._stack.aclose()

