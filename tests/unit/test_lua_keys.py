"""Every Lua script declares every key it touches (a Redis Cluster routes a script by its KEYS, and a key built
inside the script may live on another node): read from the sources, no Redis needed."""
from __future__ import annotations

import re

import pytest

from emulator.redis_io.keys import DELIVER_CHANNEL, TASK_EVENTS_CHANNEL
from tests.support.lua_files import scripts_with_preludes

# Commands whose first argument is not a key.
KEYLESS = {"TIME", "PUBLISH"}
CALL = re.compile(r"redis\.call\(\s*'([A-Z]+)'\s*,\s*([^,)]+)")
# A key argument: KEYS[n], or a name (a local or parameter, a field of one such as t.task) holding one.
PLAIN = re.compile(r"^(KEYS\[[^\]]+\]|[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_]+)?)$")
# Where a name gets a value: `local a, b = x, y`, `a = x`, or a table field `task = x`.
ASSIGN = re.compile(r"(?:local\s+)?([A-Za-z_][\w, ]*?)\s*=\s*([^=\n][^\n]*)")


def sources() -> dict[str, str]:
    """Every script of emulator/ (queue/lua/, catalog/lua/, destinations/lua/) after its folder's preludes."""
    return scripts_with_preludes()


def key_arguments(source: str) -> list[tuple[str, str]]:
    return [(command, argument.strip()) for command, argument in CALL.findall(source) if command not in KEYLESS]


def built_names(source: str) -> set[str]:
    """Names ever given a value built from text: a concatenation, or a string function's result."""
    built: set[str] = set()
    for targets, values in ASSIGN.findall(source):
        names = [name.strip() for name in targets.split(",")]
        parts = [part.strip() for part in values.split(",")]
        for index, name in enumerate(names):
            value = parts[index] if index < len(parts) else ""
            if ".." in value or "string." in value or value.startswith("'"):
                built.add(name)
    return built


@pytest.mark.parametrize("name", sorted(sources()))
def test_no_script_builds_a_key(name: str) -> None:
    source = sources()[name]
    calls = key_arguments(source)
    assert calls, "the pattern finds the script's calls"
    built = built_names(source)
    for command, argument in calls:
        assert PLAIN.match(argument), f"{command}'s key is an expression: {argument}"
        assert argument.split(".")[-1] not in built, f"{command}'s key {argument} is built from text in the script"


def test_the_check_catches_a_built_key() -> None:
    """What the test above forbids, as the scripts were before: a key made of a prefix and a member."""
    before = "local task_key = task_prefix .. member\nredis.call('HGET', task_key, 'fn')"
    built = built_names(before)
    assert any(argument in built for _, argument in key_arguments(before))
    assert not PLAIN.match(key_arguments("redis.call('DEL', prefix .. sum)")[0][1])


def test_the_channels_the_scripts_publish_are_the_keys_modules() -> None:
    """A script's channel is a literal (PUBLISH takes no key, so a Cluster needs none declared): the literals are
    held to redis_io/keys.py's names, so the name is still defined once."""
    published = set(re.findall(r"'(fcemu:[a-z-]+)'", "\n".join(sources().values())))
    assert published == {DELIVER_CHANNEL, TASK_EVENTS_CHANNEL}
