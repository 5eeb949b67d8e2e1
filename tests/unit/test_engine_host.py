"""Which DOCKER_HOST names another machine (whose instances this process cannot reach), and owner keys that say
which engine their process uses."""
from __future__ import annotations

import socket

import pytest

from emulator.pool.engine import remote_engine_host
from emulator.pool.owners import Holder


@pytest.mark.parametrize("docker_host", [
    "", "unix:///var/run/docker.sock", "npipe:////./pipe/docker_engine", "tcp://127.0.0.1:2375",
    "tcp://localhost:2376", "tcp://[::1]:2375", f"tcp://{socket.gethostname()}:2375",
])
def test_an_engine_of_this_machine_is_local(docker_host: str) -> None:
    assert remote_engine_host(docker_host) is None


@pytest.mark.parametrize(("docker_host", "host"), [
    ("tcp://198.51.100.77:2376", "198.51.100.77"),  # TEST-NET-2: never an address of this machine
    ("ssh://deploy@engine.invalid", "engine.invalid"),  # does not resolve: not known to be local
])
def test_an_engine_of_another_machine_is_remote(docker_host: str, host: str) -> None:
    assert remote_engine_host(docker_host) == host


def test_an_owner_key_names_its_engine_and_old_keys_still_parse() -> None:
    holder = Holder("h", 12, "engine-a")
    assert Holder.parse(holder.dump().encode()) == holder
    assert Holder.parse(b'{"host": "h", "pid": 12}') == Holder("h", 12, "")
    assert holder.uses_another_engine("engine-b")
    assert not holder.uses_another_engine("engine-a")
    # A key written before engines were recorded says nothing about its engine.
    assert not Holder("h", 12, "").uses_another_engine("engine-a")
