"""The emulator's parts, made together at start-up and closed together at shutdown."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.deployments import Deployments
from emulator.catalog.loader import ManifestError, load_functions
from emulator.catalog.watcher import FunctionsWatcher
from emulator.destinations.deliverer import Deliverer, DeliveryPolicy
from emulator.destinations.local_queues import LocalQueues
from emulator.dispatcher.dispatcher import Dispatcher
from emulator.dispatcher.redis_clock import RedisClock
from emulator.dispatcher.task_runner import RetryPolicy, TaskRunner
from emulator.invoker import Invoker
from emulator.pool.agent_client import AgentClient
from emulator.pool.engine import DockerEngine
from emulator.pool.launcher import InstanceLauncher
from emulator.pool.pools import Pools
from emulator.queue.redis_health import redis_health
from emulator.queue.store import TaskStore
from emulator.settings import Settings
from emulator.triggers.definitions import Triggers
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
    redis: Redis
    store: TaskStore
    async_configs: AsyncConfigs
    queues: LocalQueues
    dispatcher: Dispatcher | None
    deployments: Deployments
    triggers: Triggers
    watcher: FunctionsWatcher | None
    # One refresh at a time: the API, the folder watcher and other processes' change messages all ask for one.
    _refreshing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh_catalog(self) -> list[str]:
        """Re-reads functions/ and the deployed functions; changed functions' instances drain, removed ones go."""
        async with self._refreshing:
            return await self._refresh_catalog()

    async def _refresh_catalog(self) -> list[str]:
        try:
            from_files = load_functions(self.settings.functions_dir)
        except ManifestError as error:
            log.error("functions not reloaded, the running ones stay: %s", error)
            return []
        deployed = await self.deployments.definitions()
        changed = self.catalog.replace({**deployed, **from_files}, set(self.deployments.services))
        for name in changed:
            if self.catalog.get(name) is None:
                self.pools.forget(name)
        if changed:
            log.info("reloaded functions: %s", ", ".join(changed))
            self.triggers.changed.set()  # manifests carry triggers too
        return changed

    @classmethod
    async def start(cls, settings: Settings, *, serve_api: bool = True) -> Core:
        catalog = Catalog(load_functions(settings.functions_dir), settings.service_name)
        redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        try:
            await redis.ping()
        except RedisError as error:
            raise StartupError(f"cannot reach Redis at {settings.redis_url} ({error}); `make up` starts one") from error
        engine = await asyncio.to_thread(DockerEngine)
        removed = await asyncio.to_thread(engine.remove_labelled, settings.owner)
        if removed:
            log.info("removed %d container(s) left by an earlier run", removed)
        agent = AgentClient()
        launcher = InstanceLauncher(engine, agent, settings)
        pools = Pools(launcher, settings)
        invoker = Invoker(pools, launcher, agent, settings.instance_wait_timeout_s)
        store = TaskStore(
            redis, shards=settings.queue_shards, lease_ms=int(settings.lease_s * 1000),
            retention_s=settings.task_retention_s, max_lost_leases=settings.max_lost_leases,
        )
        async_configs = AsyncConfigs(redis)
        await async_configs.start()
        queues = LocalQueues(redis)
        triggers = Triggers(redis, catalog)
        dispatcher = None
        if settings.dispatcher_enabled or not serve_api:
            runner = TaskRunner(store, catalog, invoker, RetryPolicy(int(settings.retry_base_delay_s * 1000)))
            deliverer = Deliverer(
                store, catalog, async_configs, queues,
                DeliveryPolicy(
                    max_attempts=settings.destination_max_attempts,
                    base_delay_ms=int(settings.destination_retry_base_delay_s * 1000),
                    lease_ms=int(settings.lease_s * 1000), http_timeout_s=settings.destination_http_timeout_s,
                ),
                function_arn_prefix=f"acs:fc:{settings.region}:{settings.account_id}:functions/",
            )
            clock = RedisClock()
            timers = TimerScheduler(triggers, catalog, store, async_configs, clock)
            dispatcher = Dispatcher(
                store, catalog, pools, runner, deliverer, clock, timers, claim_batch=settings.claim_batch,
                lease_ms=int(settings.lease_s * 1000), shutdown_grace_s=settings.dispatcher_shutdown_grace_s,
            )
        deployments = Deployments(redis, settings.data_dir)
        core = cls(settings, catalog, engine, agent, pools, invoker, redis, store, async_configs, queues, dispatcher,
                   deployments, triggers, None)
        await deployments.start(on_change=core.refresh_catalog)
        await core.refresh_catalog()
        await triggers.start()
        if settings.hot_reload:
            core.watcher = FunctionsWatcher(settings.functions_dir, core.refresh_catalog)
            core.watcher.start()
        if settings.prewarm_instances:
            await pools.prewarm(catalog.all())
        if dispatcher is not None:
            await dispatcher.start()
        log.info("fcemu ready with functions: %s", ", ".join(catalog.names()) or "(none)")
        return core

    async def close(self) -> None:
        if self.watcher is not None:
            await self.watcher.close()
        await self.deployments.close()
        await self.triggers.close()
        if self.dispatcher is not None:
            await self.dispatcher.close()
        await self.async_configs.close()
        await self.pools.close()
        await self.agent.close()
        await asyncio.to_thread(self.engine.remove_labelled, self.settings.owner)
        self.engine.close()
        await redis_health(self.redis).close()
        await self.redis.aclose()
