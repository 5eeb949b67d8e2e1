"""The emulator's parts, made together at start-up and closed together at shutdown."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from emulator.catalog.catalog import Catalog
from emulator.catalog.loader import load_functions
from emulator.invoker import Invoker
from emulator.pool.agent_client import AgentClient
from emulator.pool.engine import DockerEngine
from emulator.pool.launcher import InstanceLauncher
from emulator.pool.pools import Pools
from emulator.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Core:
    settings: Settings
    catalog: Catalog
    engine: DockerEngine
    agent: AgentClient
    pools: Pools
    invoker: Invoker

    @classmethod
    async def start(cls, settings: Settings) -> Core:
        catalog = Catalog(load_functions(settings.functions_dir), settings.service_name)
        engine = await asyncio.to_thread(DockerEngine)
        removed = await asyncio.to_thread(engine.remove_labelled, settings.owner)
        if removed:
            log.info("removed %d container(s) left by an earlier run", removed)
        agent = AgentClient()
        launcher = InstanceLauncher(engine, agent, settings)
        pools = Pools(launcher, settings)
        invoker = Invoker(pools, launcher, agent, settings.instance_wait_timeout_s)
        core = cls(settings, catalog, engine, agent, pools, invoker)
        if settings.prewarm_instances:
            await pools.prewarm(catalog.all())
        log.info("fcemu ready with functions: %s", ", ".join(catalog.names()) or "(none)")
        return core

    async def close(self) -> None:
        await self.pools.close()
        await self.agent.close()
        await asyncio.to_thread(self.engine.remove_labelled, self.settings.owner)
        self.engine.close()
