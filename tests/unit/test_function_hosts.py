"""Which function a `*.localhost` Host names, and the trigger URLs fcemu advertises (emulator/api/function_hosts.py;
pure, no Docker)."""
from __future__ import annotations

import pytest

from emulator.api.function_hosts import AmbiguousHost, function_host_labels, function_of_host, trigger_urls
from emulator.settings import Settings


@pytest.mark.parametrize(("host", "labels"), [
    ("web.localhost:9000", "web"),
    ("Web.LocalHost", "web"),
    ("web.localhost.:9000", "web"),
    ("my_fn.localhost", "my_fn"),
    ("greeter.svc.localhost:9000", "greeter.svc"),
    ("localhost:9000", None),
    (".localhost", None),
    ("127.0.0.1:9000", None),
    ("[::1]:9000", None),
    ("web.localhost.evil.test", None),
    ("weblocalhost", None),
    ("", None),
])
def test_the_labels_a_host_names(host: str, labels: str | None) -> None:
    assert function_host_labels(host) == labels


def test_a_host_names_the_function_equal_to_it_ignoring_case() -> None:
    names = ["web", "My_Fn", "svc$Greeter", "other"]
    assert function_of_host("my_fn", names) == "My_Fn"
    assert function_of_host("greeter.svc", names) == "svc$Greeter"
    assert function_of_host("greeter", names) is None
    assert function_of_host("svc$greeter", names) is None
    with pytest.raises(AmbiguousHost, match="Web, web"):
        function_of_host("web", [*names, "Web"])


def test_trigger_urls() -> None:
    assert trigger_urls(Settings(host="127.0.0.1", port=9100), "My_Fn") == {
        "urlInternet": "http://my_fn.localhost:9100/", "urlIntranet": "http://127.0.0.1:9100/http/My_Fn/"}
    assert trigger_urls(Settings(host="0.0.0.0", port=9000), "svc$Greeter") == {
        "urlInternet": "http://greeter.svc.localhost:9000/", "urlIntranet": "http://127.0.0.1:9000/http/svc$Greeter/"}
    assert trigger_urls(Settings(host="::1", port=9000), "web")["urlIntranet"] == "http://[::1]:9000/http/web/"
