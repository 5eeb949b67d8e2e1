"""Every setting of fcemu, read from FCEMU_* environment variables (each documented by its description:
the docs site's Settings page is generated from them)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from emulator.credentials import FunctionCredentials, credentials_from, read_credentials_file
from emulator.local_address import local_url

# A DNS name's labels (letters, digits, hyphens, underscores as some local resolvers allow), dot-separated.
HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FCEMU_", extra="ignore")

    host: str = Field("127.0.0.1", description=(
        "Listen address; one beyond loopback only with access keys, or with `FCEMU_ALLOW_UNAUTHENTICATED_REMOTE`."))
    access_keys: str = Field("", description=(
        "Access keys that requests must be signed with, `ak:secret,ak2:secret2` (see "
        "[Signed requests](api.md#signed-requests)). With none (here and in the file), any signature (or none) is "
        "accepted, and the API listens on loopback only unless `FCEMU_ALLOW_UNAUTHENTICATED_REMOTE` says otherwise."))
    access_keys_file: Path | None = Field(None, description=(
        "A file of `ak:secret` lines (`#` comments), added to `FCEMU_ACCESS_KEYS`."))
    allow_unauthenticated_remote: bool = Field(False, description=(
        "Allow a non-loopback listen address without access keys."))
    # See api/origin_guard.py for the names always served.
    allowed_hosts: str = Field("", description=(
        "More `Host` names the API, the console and HTTP triggers answer besides loopback names, IP literals, "
        "`host.docker.internal` and `FCEMU_HOST`, comma-separated: `name`, `.name` (it and its subdomains), "
        "`*.name` (its subdomains), or `*` (any: gives up the DNS rebinding guard); see "
        "[Host names and origins](security.md#host-names-and-origins)."))
    port: int = Field(9000, ge=1, le=65535, description="Listen port (`make up PORT=9100` too).")
    # Lowered at start where the open-file limit cannot hold it: see open_files.py.
    max_connections: int = Field(1000, ge=1, description=(
        "Client connections open at once; past it a new connection's request is answered FC's 503 "
        "`ResourceThrottled` and the connection closed (lowered, and logged, where the open-file limit cannot hold "
        "it; see [Bounds on clients and work](security.md#bounds-on-clients-and-work))."))
    header_timeout_s: float = Field(10.0, gt=0, description=(
        "How long a client may take to send a request's headers, counted from its connection (first request) or "
        "from the request's first byte (later ones), before it is disconnected."))
    functions_dir: Path = Field(Path("functions"), description="Folder of function definitions.")
    template: Path | None = Field(None, description=(
        "A Serverless Devs `s.yaml` whose fc3 and legacy fc resources are served too, besides "
        "`FCEMU_FUNCTIONS_DIR` (`fcemu serve --template`, `make up TEMPLATE=...`); unset, an `s.yaml` in the current "
        "folder is used if there is one."))
    # Their source of truth is Redis.
    data_dir: Path = Field(Path(".fcemu/data"), description=(
        "Where functions deployed through the API are unpacked (and layers merged, FC's endpoint's certificate "
        "authority kept)."))
    layers_dir: Path = Field(Path("layers"), description=(
        "FC layers by ARN: `acs:fc:<region>:<account>:layers/<name>/versions/<n>` is `<name>/<n>/` (or "
        "`<name>/<n>.zip`) here, else the served template's `<folder>/layers/<name>/<n>/`, else a version published "
        "through the layer API (see [Layers](layers.md))."))
    hot_reload: bool = Field(True, description=(
        "Pick up edits under `FCEMU_FUNCTIONS_DIR` (and the served template) without a restart."))
    service_name: str = Field("default", description=(
        "The FC 2.0 service that holds the functions of `FCEMU_FUNCTIONS_DIR` (FC 2.0 routes name a service)."))
    region: str = Field("cn-hangzhou", description="What functions see as their region.")
    account_id: str = Field("1234567890123456", description="What functions see as their account.")

    # Container pool.
    owner: str = Field("", description=(
        "A fixed owner label for this process's containers: its leftovers (of a crash) are removed at start-up, and "
        "a second live process with the same owner is refused. Unset, each process gets a unique one "
        "(`fcemu-<random>`, `fcemu-dispatcher-<random>`); see [Containers](architecture.md#containers)."))
    owner_ttl_s: float = Field(30.0, gt=0, description=(
        "Lifetime of a process's owner key in Redis, refreshed every third of it; containers of owners whose key is "
        "gone (or whose process on this host is) are removed by the other processes."))
    idle_timeout_s: float = Field(300.0, gt=0, description="Idle time before an instance is removed.")
    prewarm_instances: int = Field(0, ge=0, le=16, description=(
        "Instances started per function at start-up, never reclaimed."))
    max_instances_per_function: int = Field(4, ge=1, le=256, description=(
        "Most instances of a function with no reserved concurrency (`PutConcurrencyConfig`, or its manifest's "
        "`concurrencyConfig`): fcemu's own cap, so an invoke past it waits for a slot (up to "
        "`FCEMU_INSTANCE_WAIT_TIMEOUT_S`) rather than being throttled."))
    account_instance_limit: int = Field(100, ge=1, le=10000, description=(
        "FC's account-wide concurrency limit: the most instances of all functions together, counted per emulator "
        "process. Past it an invoke is throttled (429 `ResourceThrottled`) and an async task waits. 100 is FC 3.0's "
        "default quota per region; it is also the most a function's `reservedConcurrency` may be."))
    instance_start_timeout_s: float = Field(30.0, gt=0, description="How long a new instance may take to answer.")
    instance_wait_timeout_s: float = Field(30.0, gt=0, description=(
        "How long an invoke of a function with no reserved concurrency waits for a free instance slot (under "
        "`FCEMU_MAX_INSTANCES_PER_FUNCTION`) before a 429 `ResourceExhausted`."))
    instance_address: Literal["auto", "published", "bridge"] = Field("auto", description=(
        "How fcemu reaches an instance: `published` (a port published on 127.0.0.1; works with every engine), "
        "`bridge` (the container's address on its bridge network, `fcemu-instances`: Linux hosts only, and it skips "
        "docker-proxy, which costs more CPU per invoke than the rest of the hop), or `auto` (the first instance is "
        "tried on its bridge address once it answers on its port; the verdict holds for the process's life and is "
        "logged)."))
    python_runtime_image: str = Field("fcemu/runtime-python3:latest", description=(
        "Image of the python runtimes (also the tag `runtimes/build.sh` builds)."))
    nodejs_runtime_image: str = Field("fcemu/runtime-nodejs:latest", description=(
        "Image of the nodejs runtimes (nodejs14 to nodejs20), built from `runtimes/nodejs` (also the tag "
        "`runtimes/build.sh` builds)."))
    go_runtime_image: str = Field("fcemu/runtime-go1:latest", description=(
        "Image of the go1 runtime, built from `runtimes/go1` (also the tag `runtimes/build.sh` builds)."))
    java_runtime_image: str = Field("fcemu/runtime-java:latest", description=(
        "Image of the java8 and java11 runtimes (OpenJDK 17), built from `runtimes/java` (also the tag "
        "`runtimes/build.sh` builds)."))
    pids_limit: int = Field(256, ge=16, description="Most processes in one instance's container.")
    debug: str = Field("", description=(
        "Functions run under a debugger (as `s local invoke -d`), `fn` or `fn:PORT`, comma-separated "
        "(`fcemu serve --debug`, `make up DEBUG=`). Each runs one instance, kept warm, with debugpy (python) or the "
        "inspector (nodejs) or JDWP (java) published on 127.0.0.1 and its invoke and initializer timeouts lifted; see "
        "[Debugging](debugging.md)."))
    debug_port: int | None = Field(None, ge=0, le=65535, description=(
        "Host port (on 127.0.0.1) of a debugged function given none, plus its place in the `FCEMU_DEBUG` list so that "
        "several never collide; unset: 5678 for python, 9229 for nodejs, 5005 for java; `0`: a free port, logged."))
    tmp_size_mb: int = Field(64, ge=1, description="Size of the `/tmp` tmpfs of an instance's container (MB).")

    # Async queue (Redis) and dispatcher.
    redis_url: str = Field("redis://127.0.0.1:6390/0", description=(
        "The queue's Redis (`fcemu up` starts the project's own unless this is set: see "
        "[Project commands](projects.md#project-commands)); `redis+cluster://host:port[,host:port...]` for a Redis "
        "Cluster (see [Redis Cluster](architecture.md#redis-cluster))."))
    queue_shards: int = Field(1, ge=1, le=1024, description=(
        "Shards of the queue; keys carry a `{sN}` hash tag, so that on a Redis Cluster the shards spread over its "
        "masters."))
    dispatcher_enabled: bool = Field(True, description="Whether `fcemu serve` runs a dispatcher too.")
    claim_batch: int = Field(100, ge=1, le=1000, description="Most tasks one claim takes.")
    lease_s: float = Field(15.0, gt=0, description=(
        "Lease of a claimed task, extended every lease/3 while it runs."))
    max_lost_leases: int = Field(3, ge=0, description="Lost leases before a task ends `Failed`.")
    retry_base_delay_s: float = Field(1.0, ge=0, description=(
        "A failed async invocation's first retry delay; doubles each retry, capped at 5 min."))
    task_retention_s: int = Field(7 * 24 * 3600, ge=1, description=(
        "How long finished task records are kept (and every invocation's log lines)."))
    dispatcher_shutdown_grace_s: float = Field(5.0, ge=0, description=(
        "How long a stopping dispatcher lets running tasks finish before handing them back to the queue."))
    prestart: bool = Field(True, description=(
        "Start an instance of a function with no free warm one ahead of its next due time (deferred task, retry, "
        "timer), by its measured start time plus `FCEMU_PRESTART_MARGIN_MS`, so that the task starts on time."))
    prestart_margin_ms: int = Field(200, ge=0, le=60_000, description=(
        "How much earlier than the function's expected start time a pre-start begins."))

    # Each stream costs a small queue, not a Redis connection: all share one subscription.
    max_streams: int = Field(64, ge=1, le=100_000, description=(
        "Server-sent event streams (log followers, console event streams) one process serves at once; past it FC's "
        "429 `ResourceExhausted` (see [Streams and connections](security.md#streams-and-connections))."))

    # Function logs, bounded per invocation.
    function_logs: bool = Field(True, description=(
        "Keep every invocation's log lines in Redis, for `FCEMU_TASK_RETENTION_S` (see [Logs](logs.md))."))
    log_max_lines: int = Field(1000, ge=1, description="Lines kept per invocation before the truncation marker.")
    log_max_bytes: int = Field(64 * 1024, ge=1024, description=(
        "Bytes kept per invocation before the truncation marker."))

    # Destinations (onSuccess / onFailure).
    destination_max_attempts: int = Field(8, ge=1, le=100, description=(
        "Delivery tries before a destination is given up."))
    destination_retry_base_delay_s: float = Field(1.0, ge=0, description=(
        "First delivery retry's delay; doubles each retry, capped at 5 min."))
    destination_http_timeout_s: float = Field(10.0, gt=0, description="Timeout of a POST to an HTTP destination.")

    def local_url(self) -> str:
        """The emulator's address as a client on this machine reaches it (listening on any address: loopback)."""
        return local_url(self.host, self.port)

    def debug_ports(self) -> dict[str, int | None]:
        """The debugged functions, in order, and each one's own host port (None: none given); raises
        ValueError for an entry that is not "fn" or "fn:port"."""
        targets: dict[str, int | None] = {}
        for entry in (item.strip() for item in self.debug.split(",")):
            if not entry:
                continue
            name, separator, port_text = entry.rpartition(":") if ":" in entry else (entry, "", "")
            port: int | None = None
            if separator:
                if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
                    raise ValueError(f"debug entry '{entry}' (FCEMU_DEBUG or --debug) is not 'function' or 'function:port'")
                port = int(port_text)
            if not name:
                raise ValueError(f"debug entry '{entry}' (FCEMU_DEBUG or --debug) names no function")
            targets[name] = port
        return targets

    def allowed_host_patterns(self) -> tuple[str, ...]:
        """FCEMU_ALLOWED_HOSTS's entries, lower-cased; raises ValueError for one that is not a host name pattern."""
        patterns = []
        for entry in (item.strip().lower() for item in self.allowed_hosts.split(",")):
            if not entry:
                continue
            if entry == "*":
                patterns.append(entry)
                continue
            prefix = "*." if entry.startswith("*.") else "." if entry.startswith(".") else ""
            name = entry.removeprefix(prefix).removesuffix(".")  # a final dot names the same host
            if not HOST_NAME.fullmatch(name):
                raise ValueError(f"FCEMU_ALLOWED_HOSTS entry '{entry}' is not a host name, '.name', '*.name' or '*' "
                                 "(no scheme, port or path)")
            patterns.append(prefix + name)
        return tuple(patterns)

    def access_key_pairs(self) -> dict[str, str]:
        entries = [entry for entry in self.access_keys.split(",") if entry.strip()]
        if self.access_keys_file is not None:
            lines = self.access_keys_file.read_text().splitlines()
            entries += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        pairs = {}
        for entry in entries:
            access_key_id, separator, secret = entry.strip().partition(":")
            if not separator or not access_key_id or not secret:
                raise ValueError(f"access key entry '{entry.strip()}' is not 'id:secret'")
            pairs[access_key_id] = secret
        return pairs

    # Read once, at start-up.
    function_credentials_access_key_id: str = Field("", description=(
        "The temporary credentials FC gives a function that has a `role` (the `ALIBABA_CLOUD_*` variables, the "
        "`x-fc-access-key-*` headers, `context.credentials`), with the two below; the token is optional. Unset (and "
        "no file), fcemu makes some up per emulator. See [Functions](functions.md)."))
    function_credentials_access_key_secret: SecretStr = Field(SecretStr(""), description=(
        "The secret of `FCEMU_FUNCTION_CREDENTIALS_ACCESS_KEY_ID`."))
    function_credentials_security_token: SecretStr = Field(SecretStr(""), description=(
        "The security token of `FCEMU_FUNCTION_CREDENTIALS_ACCESS_KEY_ID` (optional)."))
    function_credentials_file: Path | None = Field(None, description=(
        "Or a JSON file of those credentials, shaped like STS AssumeRole's answer (not with the three above)."))
    _function_credentials: tuple[FunctionCredentials | None] | None = PrivateAttr(None)

    def function_credentials(self) -> FunctionCredentials | None:
        """The credentials for functions with a role, None when none are configured; raises ValueError (or
        OSError for an unreadable file) when they are set wrongly."""
        if self._function_credentials is None:
            given = credentials_from(
                self.function_credentials_access_key_id,
                self.function_credentials_access_key_secret.get_secret_value(),
                self.function_credentials_security_token.get_secret_value(),
            )
            if given is not None and self.function_credentials_file is not None:
                raise ValueError("set FCEMU_FUNCTION_CREDENTIALS_FILE or the FCEMU_FUNCTION_CREDENTIALS_ACCESS_KEY_* "
                                 "variables, not both")
            if self.function_credentials_file is not None:
                given = read_credentials_file(self.function_credentials_file)
            self._function_credentials = (given,)
        return self._function_credentials[0]

    # Served by emulator/fc_endpoint/.
    fc_endpoint: bool = Field(True, description=(
        "FC's endpoints for this account and region (`<account>.<region>[-internal].fc.aliyuncs.com`, HTTP and "
        "HTTPS) reach the API from inside instances, signed with a role's credentials (see "
        "[FC's API from inside a function](inside-functions.md#fcs-api-from-inside-a-function))."))

    # FC's request limits.
    sync_payload_limit_bytes: int = Field(32 * 1024 * 1024, description=(
        "FC 3.0's sync payload limit: a sync request's body, and any answer of a function that is read whole."))
    async_payload_limit_bytes: int = Field(128 * 1024, description="FC's async payload limit.")
