"""One run at a time of a job many ask for, and no pile-up: whoever asks while a run is under way shares the
next run (which starts after their request, so it sees what they did before asking), however many they are."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalesced(Generic[T]):
    def __init__(self, job: Callable[[], Awaitable[T]], name: str) -> None:
        self._job = job
        self._name = name
        # The run the next callers share, not begun yet; None when nobody waits for one.
        self._next: asyncio.Future[T] | None = None
        self._driver: asyncio.Task[None] | None = None

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiting = self._next
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive(), name=self._name)
        # A caller that goes away (a request whose client left) does not cancel the run the others share.
        return await asyncio.shield(waiting)

    async def _drive(self) -> None:
        while self._next is not None:
            current, self._next = self._next, None
            try:
                result = await self._job()
            except asyncio.CancelledError:
                current.cancel()
                raise
            except Exception as error:  # noqa: BLE001 - handed to every caller of this run
                current.set_exception(error)
                # Its callers each get it; if all of them went away, it is theirs to have missed, not a leak.
                current.exception()
            else:
                current.set_result(result)

    async def close(self) -> None:
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
        if self._next is not None:
            self._next.cancel()
