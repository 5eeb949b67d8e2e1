"""Who owns which containers, and which owners are still alive.

Every emulator or dispatcher process labels its containers with its owner and keeps a key
`fcemu:owners:<owner>` in Redis (this host, pid and Docker engine, with a TTL it refreshes). At start-up and on
every refresh it removes the containers of owners that are gone: their process is no longer there (same host),
or their key was missing on two refreshes in a row (another host, or a key that expired). Only containers
labelled with this Redis's cluster id are judged, so emulators on other Redis servers sharing the Docker engine
are never touched.

A process sees only its own engine's containers, so with several engines (one dispatcher per engine host) a dead
owner's containers on each engine are removed by the next fcemu process on that engine; no process deletes
another's key. An owner whose live process uses another engine (a fixed owner restarted elsewhere) still holds
containers here from its earlier life: they are removed too, since its live process never uses them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from docker.errors import DockerException
from redis.asyncio import Redis

from emulator.pool.engine import DockerEngine
from emulator.redis_io.keys import CLUSTER_KEY, OWNER_PREFIX
from emulator.redis_io.replies import as_bytes

log = logging.getLogger(__name__)

# Refreshes per TTL: a key survives two missed refreshes.
REFRESHES_PER_TTL = 3


class OwnerInUse(Exception):
    """An explicitly chosen owner is held by another live process."""


def new_owner(prefix: str) -> str:
    """An owner of one process: a prefix that says what it is, and a random part that no other process has."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Holder:
    """The process an owner key names."""

    host: str
    pid: int
    # The Docker engine's ID its process runs containers on ("" in keys written before engines were recorded).
    engine: str = ""

    @classmethod
    def this_process(cls, engine: str = "") -> Holder:
        return cls(socket.gethostname(), os.getpid(), engine)

    @classmethod
    def parse(cls, raw: bytes | None) -> Holder | None:
        try:
            fields = json.loads(raw or b"")
            return cls(str(fields["host"]), int(fields["pid"]), str(fields.get("engine", "")))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def dump(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "engine": self.engine})

    def uses_another_engine(self, engine: str) -> bool:
        """True when the holder's process is known to run its containers on an engine other than `engine`."""
        return bool(self.engine) and bool(engine) and self.engine != engine

    def is_gone(self) -> bool:
        """True when the holder is known to be gone: a process of this host that no longer runs (or is a zombie).
        A holder on another host is never known to be gone here; its key's TTL says so."""
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        try:
            # A killed child that nobody reaped yet still answers kill -0; its state is Z.
            stat = open(f"/proc/{self.pid}/stat").read()  # noqa: SIM115 - one short read
            return stat.rpartition(")")[2].split()[0] == "Z"
        except (OSError, IndexError):
            return False


class OwnerLiveness:
    def __init__(self, redis: Redis, engine: DockerEngine, owner: str, ttl_s: float) -> None:
        self._redis = redis
        self._engine = engine
        self.owner = owner
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._interval_s = ttl_s / REFRESHES_PER_TTL
        self._engine_id = engine.engine_id
        self._holder = Holder.this_process(self._engine_id).dump()
        self.cluster = ""
        # Owners whose key was missing at the last sweep: gone if it is still missing at the next one.
        self._missing: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def _key(self) -> str:
        return OWNER_PREFIX + self.owner

    async def claim(self, *, exclusive: bool) -> None:
        """Writes this process's key. An exclusive (explicitly chosen) owner held by a live process is refused;
        one left by a process that is gone is taken over."""
        await self._redis.set(CLUSTER_KEY, uuid.uuid4().hex, nx=True)
        self.cluster = as_bytes(await self._redis.get(CLUSTER_KEY) or b"").decode()
        if await self._redis.set(self._key, self._holder, nx=True, px=self._ttl_ms):
            return
        current = Holder.parse(as_bytes(await self._redis.get(self._key)))
        if exclusive and current is not None and not current.is_gone():
            raise OwnerInUse(
                f"owner '{self.owner}' is in use by pid {current.pid} on {current.host}: give each process its own "
                "owner (--owner, FCEMU_OWNER) or leave it unset for a unique one"
            )
        await self._redis.set(self._key, self._holder, px=self._ttl_ms)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="owner liveness")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)

    async def release(self) -> None:
        """Deletes this process's key, if it is still this process's."""
        if await self._redis.get(self._key) == self._holder.encode():
            await self._redis.delete(self._key)

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self._refresh()
                await self.sweep()
            except Exception as error:  # noqa: BLE001 - Redis or Docker away: the next turn tries again
                if not failing:
                    log.warning("owner %s: liveness refresh failed (%s); retrying", self.owner, error)
                failing = True
            else:
                if failing:
                    log.info("owner %s: liveness refresh works again", self.owner)
                failing = False

    async def _refresh(self) -> None:
        if not await self._redis.set(self._key, self._holder, xx=True, px=self._ttl_ms):
            log.warning("owner %s: its liveness key had expired (a stall or a Redis restart); other processes "
                        "may have removed its containers", self.owner)
            await self._redis.set(self._key, self._holder, px=self._ttl_ms)

    async def sweep(self) -> int:
        """Removes the containers of owners that are gone; returns how many."""
        by_owner = await asyncio.to_thread(self._engine.owners_in_cluster, self.cluster)
        by_owner.pop(self.owner, None)
        owners = sorted(by_owner)
        # A pipeline of GETs, not MGET: on a Redis Cluster the owners' keys lie in different slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for owner in owners:
                pipe.get(OWNER_PREFIX + owner)
            values = await pipe.execute() if owners else []
        gone, missing = [], set()
        for owner, raw in zip(owners, values):
            holder = Holder.parse(raw)
            if holder is None:
                missing.add(owner)
                if owner in self._missing:
                    gone.append(owner)
            elif holder.is_gone() or holder.uses_another_engine(self._engine_id):
                gone.append(owner)
        self._missing = missing
        removed = 0
        for owner in gone:
            for container_id in by_owner[owner]:
                try:
                    await asyncio.to_thread(self._engine.remove, container_id)
                except DockerException as error:
                    # One container the engine will not remove must not stop start-up or the sweeps: the next
                    # sweep tries it again.
                    log.warning("could not remove container %s of gone owner %s: %s", container_id[:12], owner, error)
                    continue
                removed += 1
        if removed:
            log.info("removed %d container(s) of owner(s) %s, whose process is gone (or runs on another engine)",
                     removed, ", ".join(gone))
        return removed
