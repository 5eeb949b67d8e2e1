"""The due tasks a dispatcher expects to claim next, per shard and function: a claim script may only touch the
keys it declares, so it is told which tasks to look at. Each claim's reply brings the first members of the
function's due set (kept here for the next claim, or the next finish that claims for the slot it frees), and a
wake (published when a task becomes its function's earliest) names its task. The scripts check every
candidate; a stale list costs one more round trip, never a wrong claim."""
from __future__ import annotations

# How many of a function's first due members a finish returns (a claim: at least as many as it may claim).
UPCOMING = 16


class UpcomingTasks:
    def __init__(self, limit: int = UPCOMING) -> None:
        self.limit = limit
        self._known: dict[tuple[int, str], list[str]] = {}

    def get(self, shard: int, function: str) -> list[str] | None:
        """The candidates, or None when this process has not seen the function's due set yet."""
        return self._known.get((shard, function))

    def replace(self, shard: int, function: str, members: list[str]) -> None:
        self._known[(shard, function)] = members

    def announce(self, shard: int, function: str, member: str) -> None:
        """A task became its function's earliest due one. Only a list already known takes it: an unknown one is
        read in full at the next claim."""
        members = self._known.get((shard, function))
        if members is not None and member not in members:
            members.insert(0, member)
            del members[max(self.limit, len(members) - 1):]  # bounded by the reply it came with

    def forget(self, function: str) -> None:
        for key in [key for key in self._known if key[1] == function]:
            del self._known[key]
