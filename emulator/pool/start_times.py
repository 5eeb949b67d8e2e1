"""How long a function's instances take to start (container, readiness, initializer), from the last few starts:
what a caller that wants an instance ready by a given time must allow for."""
from __future__ import annotations

from collections import deque

# Kept per function: enough to see a slow start again soon, few enough to follow a changed function.
KEPT_STARTS = 8
# Before any start of the function was measured: a cold start here is 0.3-0.7 s, with an initializer more.
DEFAULT_START_S = 1.0


class StartTimes:
    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        # Of every function: for one never started yet, what starting an instance costs on this host now.
        self._any: deque[float] = deque(maxlen=KEPT_STARTS)

    def record(self, function: str, seconds: float) -> None:
        self._seen.setdefault(function, deque(maxlen=KEPT_STARTS)).append(seconds)
        self._any.append(seconds)

    def expected(self, function: str) -> float:
        """The slowest of the function's last few starts: an instance started this long before it is needed is
        ready in time unless this start is slower than all of those (a mean would be late half of the time).
        For a function never started here: the slowest recent start of any, at least the default."""
        own = self._seen.get(function)
        if own:
            return max(own)
        return max([DEFAULT_START_S, *self._any])
