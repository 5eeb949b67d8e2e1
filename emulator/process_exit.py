"""Runs a process's main coroutine so that the process always ends, whatever its tasks do on the way out."""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable

import uvloop

log = logging.getLogger(__name__)

# How long tasks left running after the main coroutine get to end once cancelled.
LEFTOVER_TASKS_TIMEOUT_S = 10.0


def run_to_exit(main: Callable[[], Awaitable[int]]) -> int:
    """Runs `main` on uvloop and returns its exit code.

    asyncio.run cancels the tasks still running at the end and waits for them without a limit; a library that
    loses a cancellation (redis-py can, inside a read) would keep the process alive for ever, as happened after a
    failed start-up. Here they get a bounded time, and a process whose tasks will not end exits anyway.
    """

    async def guarded() -> int:
        code = await main()
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        if leftovers:
            _, stuck = await asyncio.wait(leftovers, timeout=LEFTOVER_TASKS_TIMEOUT_S)
            if stuck:
                log.error("exiting with %d task(s) that did not stop: %s", len(stuck),
                          ", ".join(sorted(task.get_name() for task in stuck)))
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code or 1)
        return code

    return uvloop.run(guarded())
