"""One function instance: a container and its agent, with how many invokes it serves now."""
from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field


class InstanceState(enum.Enum):
    READY = "ready"
    # Serves its running invocations, takes no new one, and is removed when the last one ends.
    DRAINING = "draining"
    REMOVING = "removing"


@dataclass(eq=False)
class Instance:
    function_name: str
    container_id: str
    base_url: str
    capacity: int
    # The secret the instance was given at start (contract.AGENT_TOKEN_VARIABLE); every request to it carries it.
    agent_token: str = ""
    active: int = 0
    state: InstanceState = InstanceState.READY
    idle_timer: asyncio.TimerHandle | None = None
    # The host port (on 127.0.0.1) its debugger listens on, when its function runs under one (FCEMU_DEBUG).
    debug_port: int | None = None
    # Started ahead of a due time (the dispatcher's pre-start) rather than for an invocation waiting for it.
    prestarted: bool = False
    served: bool = False
    # Why it was removed while busy, when the invocation-control API removed it (its invocations fail so).
    abort_reason: str | None = None
    # When it was started (Unix ms), for ListInstances.
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def instance_id(self) -> str:
        return self.container_id[:12]

    @property
    def has_free_slot(self) -> bool:
        return self.state is InstanceState.READY and self.active < self.capacity

    def take_slot(self) -> None:
        self.active += 1
        self.served = True
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def give_slot(self) -> None:
        self.active -= 1
