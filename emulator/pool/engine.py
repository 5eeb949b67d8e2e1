"""The one place that speaks to the Docker Engine API. Blocking calls: run them in a worker thread."""
from __future__ import annotations

import hashlib
import ipaddress
import socket
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

LABEL_APP = "fcemu"
LABEL_OWNER = "fcemu.owner"
LABEL_FUNCTION = "fcemu.function"
# Which Redis (its fcemu:cluster-id) the owner's liveness key lives in: the sweep of dead owners' containers
# only judges containers of its own Redis, never those of emulators on another Redis sharing this engine.
LABEL_CLUSTER = "fcemu.cluster"
# The bridge network every instance joins, one per engine, made on first use and shared by every fcemu process of
# that engine. Docker drops traffic between two containers of a network whose ICC is off (iptables rules dockerd
# keeps): an instance reaches the host (host.docker.internal, the published ports stay on 127.0.0.1) and the
# outside world, never another instance's agent or debugger.
INSTANCE_NETWORK = "fcemu-instances"
ICC_OPTION = "com.docker.network.bridge.enable_icc"


class EngineError(Exception):
    """Docker refused or failed; the message says what to do where we know."""


class _NetworkGone(Exception):
    """The instances' network was removed since this process looked it up."""


def remote_engine_host(docker_host: str) -> str | None:
    """The host a DOCKER_HOST (tcp://, ssh://, http(s)://) names when it is another machine, else None (unset, a
    unix socket or named pipe, or an address of this machine). Instances publish their ports on 127.0.0.1 of the
    engine's host, so a process whose engine is on another machine could never reach them."""
    parts = urlsplit(docker_host)
    if parts.scheme not in ("tcp", "ssh", "http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if host in ("localhost", socket.gethostname(), socket.getfqdn()):
        return None
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except OSError:
        return host
    for address in addresses:
        if ipaddress.ip_address(address.split("%")[0]).is_loopback:
            return None
        # An address this machine can bind is one of its own.
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((address, 0))
            return None
        except OSError:
            continue
    return host


@dataclass(frozen=True)
class ContainerSpec:
    """Everything a function instance's container is started with."""

    image: str
    name: str
    port: int
    code_dir: Path
    memory_mb: int
    labels: dict[str, str]
    environment: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    pids_limit: int = 256
    tmp_size_mb: int = 64
    # The function's merged layers: each entry in it is mounted read-only at /opt/<entry> (not the folder at /opt,
    # which would hide the runtime's own /opt/fcemu agent).
    opt_dir: Path | None = None
    # More container ports to publish on 127.0.0.1, each on its host port (0: any free one): a debugger's.
    extra_ports: dict[int, int] = field(default_factory=dict)
    # More host folders mounted read-only, host path -> container path: the host's debugpy.
    extra_mounts: dict[str, str] = field(default_factory=dict)
    # More names in the container's /etc/hosts, name -> address: FC's endpoint names.
    extra_hosts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartedContainer:
    container_id: str
    # The port published on 127.0.0.1: reachable wherever the engine runs (Docker Desktop too).
    published_port: int
    # The container's address on its bridge network (INSTANCE_NETWORK), "" if it has none: reachable from a Linux
    # host without docker-proxy in the path.
    bridge_address: str
    # The host ports that spec.extra_ports were published on, by container port.
    extra_published: dict[int, int] = field(default_factory=dict)


def _layer_mounts(opt_dir: Path | None) -> dict[str, dict[str, str]]:
    if opt_dir is None:
        return {}
    return {
        str(entry): {"bind": f"/opt/{entry.name}", "mode": "ro"}
        for entry in sorted(opt_dir.iterdir()) if entry.name != "fcemu"
    }


class FollowedLogs:
    """A followed log stream that closes its own client when it ends or is closed."""

    def __init__(self, client: Any, stream: Any) -> None:
        self._client = client
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        finally:
            self._client.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._client.close()


class DockerEngine:
    def __init__(self) -> None:
        try:
            self._client = docker.from_env()
            info = self._client.info()
        except DockerException as error:
            raise EngineError(f"cannot reach the Docker engine ({error}); is dockerd running?") from error
        # Which engine this is: several can hold containers of one Redis, and an owner's liveness key says which
        # one its live process uses. Docker's own ID alone does not tell two engines of one host apart (it
        # comes from /etc/docker/key.json, which they share); with the host's name and the data root it does.
        identity = f"{info.get('ID', '')}|{info.get('Name', '')}|{info.get('DockerRootDir', '')}"
        self.engine_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self._network_id: str | None = None
        self._network_lock = threading.Lock()

    def instance_network(self) -> str:
        """The id of INSTANCE_NETWORK, made if the engine has none."""
        with self._network_lock:
            if self._network_id is None:
                self._network_id = self._find_or_make_network()
            return self._network_id

    def _find_or_make_network(self) -> str:
        found = self._networks_named(INSTANCE_NETWORK)
        if not found:
            try:
                self._client.api.create_network(INSTANCE_NETWORK, driver="bridge", options={ICC_OPTION: "false"},
                                                labels={LABEL_APP: "1"}, check_duplicate=True)
            except APIError as error:
                # 409: another process made it meanwhile.
                if error.status_code != 409:
                    raise EngineError(f"cannot create the Docker network '{INSTANCE_NETWORK}': {error}") from error
            found = self._networks_named(INSTANCE_NETWORK)
        if not found:
            raise EngineError(f"the Docker network '{INSTANCE_NETWORK}' vanished as it was made")
        # Docker's duplicate check is best effort: should two processes have made one each, all take the oldest.
        network = min(found, key=lambda item: (item.get("Created", ""), item["Id"]))
        if (network.get("Options") or {}).get(ICC_OPTION) != "false" or network.get("Driver") != "bridge":
            raise EngineError(f"the Docker network '{INSTANCE_NETWORK}' lets its containers reach each other; fcemu "
                              f"made it a bridge with {ICC_OPTION}=false. Remove it (`docker network rm "
                              f"{INSTANCE_NETWORK}` once no container uses it) and fcemu makes it again")
        return str(network["Id"])

    def instance_network_addresses(self) -> tuple[str, str]:
        """The host's address on INSTANCE_NETWORK (its gateway) and the network's subnet: where the host listens
        for instances alone, and where their connections come from."""
        network_id = self.instance_network()
        config = (self._client.api.inspect_network(network_id)["IPAM"]["Config"] or [{}])[0]
        subnet = ipaddress.ip_network(config.get("Subnet", ""), strict=False)
        gateway = config.get("Gateway") or str(subnet.network_address + 1)
        return str(gateway), str(subnet)

    def _networks_named(self, name: str) -> list[dict[str, Any]]:
        # Docker's name filter matches parts of names too.
        return [item for item in self._client.api.networks(names=[name]) if item.get("Name") == name]

    def start(self, spec: ContainerSpec) -> StartedContainer:
        try:
            return self._start(spec, self.instance_network())
        except _NetworkGone:
            # Removed since this process found it (`make down` of another checkout, `docker network prune`).
            with self._network_lock:
                self._network_id = None
            return self._start(spec, self.instance_network())

    def _start(self, spec: ContainerSpec, network: str) -> StartedContainer:
        # Unprivileged by default: read-only root, no capabilities, no new privileges, bounded pids and memory,
        # code mounted read-only, never the Docker socket, and on a network where instances cannot reach each
        # other.
        port_key = f"{spec.port}/tcp"
        try:
            # A port bound as (address, None) takes any free host port, as docker-py documents; types-docker's
            # ports type has no None there, so no overload matches (and the container is typed Any, as before).
            container = self._client.containers.run(  # type: ignore[call-overload]
                spec.image,
                command=spec.command,
                entrypoint=spec.entrypoint,
                name=spec.name,
                detach=True,
                labels=spec.labels,
                environment=spec.environment,
                ports={port_key: ("127.0.0.1", None),
                       **{f"{port}/tcp": ("127.0.0.1", host_port or None) for port, host_port in spec.extra_ports.items()}},
                volumes={str(spec.code_dir): {"bind": "/code", "mode": "ro"}, **_layer_mounts(spec.opt_dir),
                         **{host: {"bind": target, "mode": "ro"} for host, target in spec.extra_mounts.items()}},
                working_dir="/code",
                read_only=True,
                tmpfs={"/tmp": f"rw,nosuid,nodev,size={spec.tmp_size_mb}m"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=spec.pids_limit,
                mem_limit=f"{spec.memory_mb}m",
                memswap_limit=f"{spec.memory_mb}m",
                user="65534:65534",
                extra_hosts={"host.docker.internal": "host-gateway", **spec.extra_hosts},
                # What Docker >= 20.10 sets anyway, said for other engines: the instance's unprivileged user may
                # listen on ports below 1024 of its own network namespace (FC's endpoints' relay, on 80 and 443).
                sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
                network=network,
            )
            container.reload()
            binding = container.ports[port_key][0]
            bridge_address = next((str(attached["IPAddress"]) for attached in
                                   (container.attrs["NetworkSettings"].get("Networks") or {}).values()
                                   if attached.get("IPAddress")), "")
            extra = {port: int(container.ports[f"{port}/tcp"][0]["HostPort"]) for port in spec.extra_ports}
        except ImageNotFound as error:
            raise EngineError(f"image '{spec.image}' is not present; run `make images` or build it") from error
        except (APIError, KeyError, IndexError) as error:
            # `run` creates before it starts: a start that failed leaves a created container behind, and every
            # invoke of such a function would leave one more.
            self._remove_quietly(spec.name)
            if isinstance(error, APIError) and error.status_code == 404 and "network" in str(error.explanation):
                raise _NetworkGone() from error
            raise EngineError(f"cannot start a container from '{spec.image}': {error}") from error
        return StartedContainer(container.id, int(binding["HostPort"]), bridge_address, extra)

    def _remove_quietly(self, name_or_id: str) -> None:
        try:
            self._client.api.remove_container(name_or_id, force=True)
        except (NotFound, APIError):
            pass

    def remove(self, container_id: str) -> None:
        try:
            self._client.api.remove_container(container_id, force=True)
        except NotFound:
            pass
        except APIError as error:
            # Another process sweeping the same dead owner got there first: the container is going anyway.
            if error.status_code != 409 or "already in progress" not in str(error.explanation):
                raise

    def exit_reason(self, container_id: str) -> str | None:
        """Why a container stopped, or None while it runs."""
        try:
            state = self._client.api.inspect_container(container_id)["State"]
        except NotFound:
            return "the instance was removed"
        if state.get("Running"):
            return None
        if state.get("OOMKilled"):
            return "the instance ran out of memory"
        return f"the instance exited with code {state.get('ExitCode')}"

    def logs(self, container_id: str, tail: int | Literal["all"] = 50) -> str:
        try:
            return self._client.api.logs(container_id, tail=tail).decode(errors="replace")
        except NotFound:
            return ""

    def output_since(self, container_id: str, since: float) -> Generator[bytes, None, None]:
        """A container's output since a Unix time, not followed, in the pieces Docker sends: to be read as it
        comes, never whole (a function may have printed gigabytes). Its reader closes it (it holds a connection
        to the engine until then), in the thread that reads it."""
        try:
            stream = self._client.api.logs(container_id, stream=True, follow=False, since=since)
        except NotFound:
            return
        try:
            yield from stream
        except NotFound:
            return
        finally:
            stream.close()

    def follow_logs(self, container_id: str) -> FollowedLogs:
        """A container's output from its start, followed until it is removed (or the stream is closed), each
        line prefixed with its timestamp. On a client of its own: a stream holds its connection for the
        instance's life, and the shared client's pool is for the quick calls."""
        client = docker.from_env(version=self._client.api.api_version)
        try:
            return FollowedLogs(client, client.api.logs(container_id, stream=True, follow=True, timestamps=True))
        except BaseException:
            client.close()
            raise

    def remove_labelled(self, owner: str | None = None) -> int:
        """Removes fcemu's containers (one owner's, or all of them and then the instances' network); returns how
        many containers."""
        label = f"{LABEL_OWNER}={owner}" if owner is not None else LABEL_APP
        found = self._client.api.containers(all=True, filters={"label": label}, quiet=True)
        for item in found:
            self.remove(item["Id"])
        if owner is None:
            for network in self._networks_named(INSTANCE_NETWORK):
                try:
                    self._client.api.remove_network(network["Id"])
                except APIError:
                    pass  # a container of another process joined it meanwhile: it is theirs to use
        return len(found)

    def owners_in_cluster(self, cluster: str) -> dict[str, list[str]]:
        """The containers labelled with this cluster, by owner."""
        found = self._client.api.containers(all=True, filters={"label": f"{LABEL_CLUSTER}={cluster}"})
        by_owner: dict[str, list[str]] = {}
        for item in found:
            owner = (item.get("Labels") or {}).get(LABEL_OWNER)
            if owner:
                by_owner.setdefault(owner, []).append(item["Id"])
        return by_owner

    def bridge_gateway(self) -> str:
        """The host's address on Docker's default bridge: where a container's host.docker.internal points."""
        config = (self._client.api.inspect_network("bridge")["IPAM"]["Config"] or [{}])[0]
        if config.get("Gateway"):
            return str(config["Gateway"])
        # Engines that leave Gateway out give the bridge its subnet's first address.
        subnet = config.get("Subnet", "172.17.0.0/16")
        return str(ipaddress.ip_network(subnet).network_address + 1)

    def close(self) -> None:
        self._client.close()
