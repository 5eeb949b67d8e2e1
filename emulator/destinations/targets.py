"""Destination addresses, parsed: FC's ARN formats for functions and MNS, and plain URLs (fcemu's addition)."""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# FC 3.0's, with fcemu's `:qualifier` (arns.qualified_name); FC 2.0's with the service's `.qualifier`.
FC3_FUNCTION = re.compile(r"^acs:fc:[^:]*:[^:]*:functions/(?P<function>[^/:]+)(:(?P<qualifier>[^/:]+))?$")
FC2_FUNCTION = re.compile(r"^acs:fc:[^:]*:[^:]*:services/(?P<service>[^/.]+)(\.(?P<qualifier>[^/]+))?/functions/(?P<function>[^/]+)$")
MNS = re.compile(r"^acs:mns:[^:]*:[^:]*:/(?P<kind>queues|topics)/(?P<name>[^/]+)/messages$")
OTHER_ARN = re.compile(r"^acs:(?P<product>[a-z0-9-]+):")
HOST_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
# A task id as FC takes one (x-fc-async-task-id).
TASK_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")


@dataclass(frozen=True)
class FunctionTarget:
    service: str | None
    function: str
    # The version or alias to invoke; "" for LATEST.
    qualifier: str = ""


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


def target_type(target: Target) -> str:
    """The kind of target, as the metrics label it: function, queue, topic, http or unsupported."""
    if isinstance(target, QueueTarget):
        return target.kind
    return {FunctionTarget: "function", HttpTarget: "http"}.get(type(target), "unsupported")


def parse_destination(destination: str) -> Target:
    if match := FC3_FUNCTION.match(destination):
        return FunctionTarget(None, match["function"], match["qualifier"] or "")
    if match := FC2_FUNCTION.match(destination):
        return FunctionTarget(match["service"], match["function"], match["qualifier"] or "")
    if match := MNS.match(destination):
        # MNS names have no braces; the local topics' outboxes rely on it (see keys.mns_outbox_key).
        if "{" in match["name"] or "}" in match["name"]:
            return Unsupported(f"'{match['name']}' is not an MNS {match['kind'][:-1]} name: it has a brace")
        return QueueTarget(match["kind"][:-1], match["name"])
    if destination.startswith(("http://", "https://")):
        problem = _url_problem(destination)
        if problem is not None:
            return Unsupported(f"'{destination}' is not a URL fcemu can deliver to: {problem}")
        return HttpTarget(destination)
    if match := OTHER_ARN.match(destination):
        return Unsupported(
            f"fcemu cannot deliver to {match['product']} destinations ('{destination}'); it delivers to FC "
            "functions, MNS queues and topics (kept locally) and http(s) URLs"
        )
    return Unsupported(f"'{destination}' is not a destination fcemu knows (an acs:fc or acs:mns ARN, or a URL)")


def _url_problem(url: str) -> str | None:
    """Why a URL can never be posted to (no retry will help), or None."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as error:
        return str(error)
    if not host:
        return "it names no host"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode()
    except UnicodeError:
        return f"'{host}' is not a valid host name"
    if not all(HOST_LABEL.match(label) for label in ascii_host.removesuffix(".").split(".")):
        return f"'{host}' is not a valid host name"
    return None


def function_task_id(function: str, task_id: str) -> str:
    """The task id of a function destination's invocation for one source task: the same on every delivery
    attempt (a repeat finds it taken, so the destination runs once), and different for any other source task.

    `<function>_<task id>` when that is a valid task id and the function's name has no '_' (the first '_'
    then separates the two unambiguously); otherwise '_' (which starts no readable id, as those start with
    the function's name), a readable hint and a digest of both.
    """
    readable = f"{function}_{task_id}"
    if "_" not in function and TASK_ID.match(readable):
        return readable
    digest = hashlib.sha256(f"{function}\0{task_id}".encode()).hexdigest()[:32]
    hint = re.sub(r"[^A-Za-z0-9_-]", "_", readable)[:60]
    return f"_{hint}_{digest}"
