"""Destination addresses, parsed: FC's ARN formats for functions and MNS, and plain URLs (fcemu's addition)."""
from __future__ import annotations

import re
from dataclasses import dataclass

FC3_FUNCTION = re.compile(r"^acs:fc:[^:]*:[^:]*:functions/(?P<function>[^/]+)$")
FC2_FUNCTION = re.compile(r"^acs:fc:[^:]*:[^:]*:services/(?P<service>[^/.]+)(\.(?P<qualifier>[^/]+))?/functions/(?P<function>[^/]+)$")
MNS = re.compile(r"^acs:mns:[^:]*:[^:]*:/(?P<kind>queues|topics)/(?P<name>[^/]+)/messages$")
OTHER_ARN = re.compile(r"^acs:(?P<product>[a-z0-9-]+):")


@dataclass(frozen=True)
class FunctionTarget:
    service: str | None
    function: str


@dataclass(frozen=True)
class QueueTarget:
    """An MNS queue or topic, kept as a local queue in Redis."""

    kind: str  # "queue" or "topic"
    name: str


@dataclass(frozen=True)
class HttpTarget:
    url: str


@dataclass(frozen=True)
class Unsupported:
    reason: str


Target = FunctionTarget | QueueTarget | HttpTarget | Unsupported


def parse_destination(destination: str) -> Target:
    if match := FC3_FUNCTION.match(destination):
        return FunctionTarget(None, match["function"])
    if match := FC2_FUNCTION.match(destination):
        return FunctionTarget(match["service"], match["function"])
    if match := MNS.match(destination):
        return QueueTarget(match["kind"][:-1], match["name"])
    if destination.startswith(("http://", "https://")):
        return HttpTarget(destination)
    if match := OTHER_ARN.match(destination):
        return Unsupported(
            f"fcemu cannot deliver to {match['product']} destinations ('{destination}'); it delivers to FC "
            "functions, MNS queues and topics (kept locally) and http(s) URLs"
        )
    return Unsupported(f"'{destination}' is not a destination fcemu knows (an acs:fc or acs:mns ARN, or a URL)")
