"""FCEMU_REDIS_URL's cluster form, parsed without a Redis."""
from __future__ import annotations

import pytest

from emulator.queue.redis_client import ClusterUrl, is_cluster


def test_a_cluster_url_names_every_node_and_keeps_credentials_and_tls() -> None:
    parsed = ClusterUrl("rediss+cluster://user:secret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002")
    assert parsed.nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002)]
    assert parsed.first_url == "rediss://user:secret@10.0.0.1:7000"
    assert is_cluster("redis+cluster://127.0.0.1:7000") and not is_cluster("redis://127.0.0.1:6390/0")


@pytest.mark.parametrize("url", ["redis+cluster://127.0.0.1", "redis+cluster://127.0.0.1:7000,:7001",
                                 "redis+cluster://127.0.0.1:port"])
def test_a_node_without_host_and_port_is_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="is not host:port"):
        ClusterUrl(url)
