"""Times as FC's APIs write them: ISO 8601 in UTC, to the second (`2026-11-23T12:00:00Z`)."""
from __future__ import annotations

from datetime import UTC, datetime

FC_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_utc(moment: datetime | float | None = None) -> str:
    """Now, an aware datetime, or a Unix timestamp, as FC's time string."""
    if moment is None:
        moment = datetime.now(UTC)
    elif not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime(FC_TIME_FORMAT)
