"""How the emulator reads a request's Host: written once for the Host allow-list (origin_guard.py) and for
functions' own origins (function_hosts.py), so that both always see the same name for the same request."""
from __future__ import annotations

import ipaddress

from starlette.types import Scope

# RFC 6761 keeps `localhost` and every name below it on loopback; browsers resolve them so themselves.
LOCALHOST = "localhost"
LOCALHOST_DOMAIN = f".{LOCALHOST}"


class SeveralHosts(Exception):
    """A request with more than one Host header: which one names the site is a guess (RFC 9112 says 400)."""

    def __init__(self, count: int) -> None:
        super().__init__(f"the request has {count} Host headers; HTTP allows exactly one")


def host_header(scope: Scope) -> str | None:
    """The request's one Host header (None: it sent none, as an HTTP/1.0 client may); SeveralHosts if it sent
    more than one."""
    values = [value for name, value in scope["headers"] if name == b"host"]
    if len(values) > 1:
        raise SeveralHosts(len(values))
    return values[0].decode("latin-1") if values else None


def host_name(header: str) -> str:
    """The name or address of a Host header, without its port, brackets or a final dot, lower-cased."""
    host = header.strip().lower()
    if host.startswith("["):  # [v6] or [v6]:port
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_ip_literal(name: str) -> bool:
    """An address needs no DNS, so no page can re-resolve it: every IP literal is safe from rebinding."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def localhost_labels(name: str) -> str | None:
    """What a host name (as host_name gives it) names below `.localhost` (`web` for `web.localhost`); None for
    any other name, `localhost` itself included."""
    if not name.endswith(LOCALHOST_DOMAIN) or len(name) == len(LOCALHOST_DOMAIN):
        return None
    return name[:-len(LOCALHOST_DOMAIN)]
