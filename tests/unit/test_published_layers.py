"""Published layers against a real redis-server, without Docker: numbering, and the per-host mirror never serving
a zip left by an earlier Redis under the same number."""
from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

from redis.asyncio import Redis

from emulator.catalog.layers import LayerSource
from emulator.catalog.published_layers import PublishedLayers
from tests.support.redis_server import RedisServer


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/who.py", text)
    return buffer.getvalue()


def test_the_mirror_replaces_a_zip_an_earlier_redis_left_under_the_same_number(
    tmp_path: Path, own_redis: RedisServer,
) -> None:
    source = LayerSource(roots=(tmp_path / "layers",), cache_dir=tmp_path / "cache")

    async def scenario() -> None:
        redis = Redis.from_url(own_redis.url)
        layers = PublishedLayers(redis, source)
        try:
            first = await layers.publish("lib", _zip("before the flush"), description="", license="",
                                         compatible_runtime=[])
            await layers.mirror()
            await redis.flushall()
            again = await layers.publish("lib", _zip("after the flush"), description="", license="",
                                         compatible_runtime=[])
            assert first.version == again.version == 1
            await layers.mirror()
        finally:
            await redis.aclose()

    asyncio.run(scenario())
    merged, _ = source.resolve(["acs:fc:cn-hangzhou:1:layers/lib/versions/1"])
    assert merged is not None and (merged / "python/who.py").read_text() == "after the flush"
