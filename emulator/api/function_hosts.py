"""HTTP functions' own host names: which function a `*.localhost` Host names, and the URLs fcemu advertises for
an HTTP trigger (FC 3.0's `httpTrigger.urlInternet` and `urlIntranet`).

A function's own origin is `http://<function>.localhost:<port>/`; an FC 2.0 function of a service other than
the default one (FC 3.0 name `service$function`) is `<function>.<service>.localhost`. Browsers resolve every
`*.localhost` name to loopback themselves and lower-case host names, while FC's function names are
case-sensitive: a host names the function whose name equals it ignoring case, and a host that several functions
equal that way (`Web` and `web`) names none of them rather than a guess.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from emulator.api.host_names import LOCALHOST_DOMAIN, host_name, localhost_labels
from emulator.settings import Settings

# FC 3.0's per-function trigger URL on the emulator's own (shared, sandboxed) origin, and FC 2.0's proxy route.
TRIGGER_PATH_PREFIX = "/http/"
PROXY_PATH_PREFIX = "/2016-08-15/proxy/"
# The HTTP trigger routes on the emulator's own origin, each a prefix and the path parameters naming the function
# below it: http_trigger_routes.py declares its routes from these, the origin checks recognise them by prefix.
SHARED_TRIGGER_ROUTES = ((TRIGGER_PATH_PREFIX, "{function_name}"), (PROXY_PATH_PREFIX, "{service}/{function_name}"))
SHARED_TRIGGER_PREFIXES = tuple(prefix for prefix, _ in SHARED_TRIGGER_ROUTES)
# Where FunctionOriginMiddleware keeps, in the scope of a request to a function's own origin, the path the client
# sent (the one it signed), and why the host names no function (the trigger route answers it, after the signature).
CLIENT_RAW_PATH = "fcemu.client_raw_path"
HOST_PROBLEM = "fcemu.host_problem"


class AmbiguousHost(Exception):
    """A host name that several functions' names equal ignoring case."""

    def __init__(self, labels: str, names: list[str]) -> None:
        super().__init__(f"host '{labels}{LOCALHOST_DOMAIN}' names {len(names)} functions whose names differ only "
                         f"in case ({', '.join(sorted(names))}); reach one at /http/{{function}}/ instead")


def function_host_labels(host_header: str) -> str | None:
    """What a Host header names below `.localhost`, lower-cased, without its port or a trailing dot
    (`web` for `Web.localhost:9000`); None for any other host, `localhost` itself included."""
    return localhost_labels(host_name(host_header))


def on_shared_trigger_route(path: str) -> bool:
    return path.startswith(SHARED_TRIGGER_PREFIXES) or path + "/" in SHARED_TRIGGER_PREFIXES


def is_public_endpoint(name: str, path: str) -> bool:
    """A request to a function's public endpoint: on its own origin (host name `name`, any path) or on a shared
    trigger route."""
    return localhost_labels(name) is not None or on_shared_trigger_route(path)


def host_labels_of(name: str) -> str:
    """The labels naming a function below `.localhost`: its name, or `function.service` for `service$function`."""
    service, separator, function = name.rpartition("$")
    return f"{function}.{service}".lower() if separator else name.lower()


def function_of_host(labels: str, names: Iterable[str]) -> str | None:
    """The one function of `names` that `labels` names (None: none); AmbiguousHost if several do."""
    matches = [name for name in names if host_labels_of(name) == labels]
    if len(matches) > 1:
        raise AmbiguousHost(labels, matches)
    return matches[0] if matches else None


def trigger_urls(settings: Settings, name: str) -> dict[str, str]:
    """An HTTP trigger's URLs in FC 3.0's shape. urlInternet is the function's own origin (what a browser should
    open); urlIntranet the path route on the emulator's address, which any HTTP client resolves (Python's
    resolver does not resolve `*.localhost` without nss-myhostname) but where browsers get a sandboxed page."""
    return {
        "urlInternet": f"http://{host_labels_of(name)}{LOCALHOST_DOMAIN}:{settings.port}/",
        "urlIntranet": f"{settings.local_url()}{TRIGGER_PATH_PREFIX}{quote(name, safe='$')}/",
    }
