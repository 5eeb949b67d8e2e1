"""The address a client on this machine reaches a server listening on host:port at (any address: loopback)."""
from __future__ import annotations

ANY_ADDRESSES = ("0.0.0.0", "", "::")  # noqa: S104 - the names of "any address": compared, never bound


def local_url(host: str, port: int) -> str:
    reach = "127.0.0.1" if host in ANY_ADDRESSES else host
    return f"http://{f'[{reach}]' if ':' in reach else reach}:{port}"
