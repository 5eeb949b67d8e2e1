"""Every setting of fcemu, read from FCEMU_* environment variables (documented in the README)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from emulator.catalog.layers import LayerSource
from emulator.catalog.template import find_template
from emulator.credentials import FunctionCredentials, credentials_from, read_credentials_file
from emulator.local_address import local_url

# A DNS name's labels (letters, digits, hyphens, underscores as some local resolvers allow), dot-separated.
HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FCEMU_", extra="ignore")

    host: str = "127.0.0.1"
    # Access keys that requests must be signed with, "ak:secret,ak2:secret2", and/or a file of "ak:secret"
    # lines. With none, any signature (or none) is accepted, and the API listens on loopback only unless
    # allow_unauthenticated_remote says otherwise.
    access_keys: str = ""
    access_keys_file: Path | None = None
    allow_unauthenticated_remote: bool = False
    # Host names the API, the console and HTTP triggers answer besides loopback names, IP literals,
    # host.docker.internal and `host` (see api/origin_guard.py): "name", ".name" (it and its subdomains),
    # "*.name" (its subdomains), or "*" (any: gives up the DNS rebinding guard), comma-separated.
    allowed_hosts: str = ""
    port: int = Field(9000, ge=1, le=65535)
    # Bounds on HTTP clients: connections open at once (past it, a new connection's request is answered FC's
    # 503 ResourceThrottled and the connection closed; lowered at start where the open-file limit cannot hold it,
    # see open_files.py), and how long a client may take to send a request's headers, counted from its connection
    # (first request) or from the request's first byte (later ones), before it is disconnected.
    max_connections: int = Field(1000, ge=1)
    header_timeout_s: float = Field(10.0, gt=0)
    functions_dir: Path = Path("functions")
    # A Serverless Devs project's s.yaml whose fc3 resources are served too (besides functions_dir); unset, an
    # s.yaml in the current folder is used if there is one.
    template: Path | None = None
    # Where functions deployed through the API are unpacked (their source of truth is Redis).
    data_dir: Path = Path(".fcemu/data")
    # FC layers by ARN: acs:fc:<region>:<account>:layers/<name>/versions/<n> is <layers_dir>/<name>/<n>/ (or <n>.zip),
    # else the served template's <folder>/layers/<name>/<n>/, else a version published through the layer API.
    layers_dir: Path = Path("layers")
    # Edits under functions_dir take effect without a restart.
    hot_reload: bool = True
    # FC 2.0 routes name a service; functions from functions_dir belong to this one.
    service_name: str = "default"
    region: str = "cn-hangzhou"
    account_id: str = "1234567890123456"

    # Container pool.
    # Containers carry their process's owner label. Unset (""), each process gets a unique one ("fcemu-<random>",
    # "fcemu-dispatcher-<random>"); set, it is this process's fixed owner: its leftovers (of a crash) are removed at
    # start-up, and a second live process with the same owner is refused.
    owner: str = ""
    # The owner's liveness key in Redis lives this long and is refreshed three times as often; containers of
    # owners whose key is gone (or whose process on this host is) are removed by the other processes.
    owner_ttl_s: float = Field(30.0, gt=0)
    idle_timeout_s: float = Field(300.0, gt=0)
    prewarm_instances: int = Field(0, ge=0, le=16)
    max_instances_per_function: int = Field(4, ge=1, le=256)
    instance_start_timeout_s: float = Field(30.0, gt=0)
    # How long a sync invoke waits for a free instance before FC's 429 ResourceExhausted.
    instance_wait_timeout_s: float = Field(30.0, gt=0)
    # How the control plane reaches an instance: "published" (a port on 127.0.0.1, works everywhere),
    # "bridge" (the container's address on its bridge network, fcemu-instances: Linux hosts only, skips
    # docker-proxy, which costs more CPU per invoke than the rest of the hop) or "auto" (bridge if the first
    # instance answers there).
    instance_address: Literal["auto", "published", "bridge"] = "auto"
    python_runtime_image: str = "fcemu/runtime-python3:latest"
    # Runs every nodejs* runtime (nodejs14 to nodejs20); built from runtimes/nodejs by runtimes/build.sh.
    nodejs_runtime_image: str = "fcemu/runtime-nodejs:latest"
    pids_limit: int = Field(256, ge=16)
    # Functions run under a debugger (`s local invoke -d`): "fn" or "fn:port", comma-separated. Each runs one
    # instance, kept warm, with debugpy (python) or the inspector (nodejs) published on 127.0.0.1 and its invoke
    # and initializer timeouts lifted. An entry without a port gets debug_port (unset: 5678 for python, 9229 for
    # nodejs; 0: a free port, logged) plus its place in the list, so that several never collide.
    debug: str = ""
    debug_port: int | None = Field(None, ge=0, le=65535)
    tmp_size_mb: int = Field(64, ge=1)

    # Async queue (Redis) and dispatcher.
    redis_url: str = "redis://127.0.0.1:6390/0"
    # Shards of the queue: keys carry a {sN} hash tag so that a Redis Cluster can spread them.
    queue_shards: int = Field(1, ge=1, le=1024)
    dispatcher_enabled: bool = True
    claim_batch: int = Field(100, ge=1, le=1000)
    lease_s: float = Field(15.0, gt=0)
    max_lost_leases: int = Field(3, ge=0)
    retry_base_delay_s: float = Field(1.0, ge=0)
    task_retention_s: int = Field(7 * 24 * 3600, ge=1)
    dispatcher_shutdown_grace_s: float = Field(5.0, ge=0)
    # Start an instance of a function with no free warm one ahead of its next due time (deferred task, retry,
    # timer), by its measured start time plus this margin, so that the task starts on time.
    prestart: bool = True
    prestart_margin_ms: int = Field(200, ge=0, le=60_000)

    # Server-sent event streams (log followers, console event streams) this process serves at once; past it, FC's
    # 429 ResourceExhausted. Each costs a small queue, not a Redis connection: all share one subscription.
    max_streams: int = Field(64, ge=1, le=100_000)

    # Function logs kept per invocation in Redis (for task_retention_s); bounded per invocation.
    function_logs: bool = True
    log_max_lines: int = Field(1000, ge=1)
    log_max_bytes: int = Field(64 * 1024, ge=1024)

    # Destinations (onSuccess / onFailure): delivery attempts, first retry delay (doubling), HTTP timeout.
    destination_max_attempts: int = Field(8, ge=1, le=100)
    destination_retry_base_delay_s: float = Field(1.0, ge=0)
    destination_http_timeout_s: float = Field(10.0, gt=0)

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

    def layer_source(self) -> LayerSource:
        """Where functions' layers come from; zips are unpacked and layers merged (and published ones mirrored)
        under data_dir."""
        roots = [self.layers_dir.resolve()]
        template = self.template if self.template is not None else find_template(Path.cwd())
        if template is not None:
            roots.append(template.resolve().parent / "layers")
        return LayerSource(roots=tuple(roots), cache_dir=self.data_dir.resolve() / "layers")

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

    # The temporary credentials FC gives a function that has a `role` (ALIBABA_CLOUD_* variables, x-fc-access-key-*
    # headers, context.credentials): from these three, or from a JSON file shaped like STS AssumeRole's answer.
    # Read once, at start-up.
    function_credentials_access_key_id: str = ""
    function_credentials_access_key_secret: SecretStr = SecretStr("")
    function_credentials_security_token: SecretStr = SecretStr("")
    function_credentials_file: Path | None = None
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

    # FC's endpoints for this account and region (`<account>.<region>[-internal].fc.aliyuncs.com`, HTTP and HTTPS)
    # reach the API from inside instances (emulator/fc_endpoint/), signed with a role's credentials.
    fc_endpoint: bool = True

    # FC's request limits.
    sync_payload_limit_bytes: int = 32 * 1024 * 1024
    async_payload_limit_bytes: int = 128 * 1024
