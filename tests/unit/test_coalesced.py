"""Coalesced runs (catalog refreshes): one at a time, a call made during a run waits for a run that begins after
it (so a refresh asked for after a save sees the save), calls made together share that run, and a run's error
reaches each of its callers."""
from __future__ import annotations

import asyncio

import pytest

from emulator.coalesced import Coalesced


def test_calls_during_a_run_share_the_next_one_which_begins_after_them() -> None:
    async def body() -> None:
        began: list[int] = []
        first_running, release = asyncio.Event(), asyncio.Event()
        state = {"saved": 0}

        async def job() -> int:
            seen = state["saved"]  # what the run reads, when it begins
            began.append(seen)
            if len(began) == 1:
                first_running.set()
                await release.wait()
            return seen

        runs = Coalesced(job, "test")
        first = asyncio.create_task(runs())
        await first_running.wait()
        state["saved"] = 1  # a save made while the first run is under way
        later = [asyncio.create_task(runs()) for _ in range(5)]
        release.set()
        assert await first == 0
        assert await asyncio.gather(*later) == [1] * 5, "they waited for a run that saw the save"
        assert began == [0, 1], "five calls during a run share one next run"
        await runs.close()

    asyncio.run(body())


def test_a_failed_run_reaches_its_callers_and_the_next_call_runs_again() -> None:
    async def body() -> None:
        outcomes = iter([ValueError("broken"), 7])

        async def job() -> int:
            outcome = next(outcomes)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        runs = Coalesced(job, "test")
        with pytest.raises(ValueError, match="broken"):
            await runs()
        assert await runs() == 7
        await runs.close()

    asyncio.run(body())
