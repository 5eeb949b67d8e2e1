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

    def record(self, function: str, seconds: float) -> None:
        self._seen.setdefault(function, deque(maxlen=KEPT_STARTS)).append(seconds)

    def expected(self, function: str) -> float:
        """The slowest of the function's last few starts: an instance started this long before it is needed is
        ready in time unless this start is slower than all of those (a mean would be late half of the time)."""
        seen = self._seen.get(function)
        return max(seen) if seen else DEFAULT_START_S
