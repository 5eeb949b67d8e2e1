"""A second Docker engine on this machine, for tests of dispatchers on several engines.

It runs as root beside the first engine with everything of its own: API socket, data root, exec root (and so its
own containerd, which dockerd starts under the exec root), pidfile and bridge. It never touches the first engine's
networking: `--iptables=false` (no rules, so none of the first engine's chains are rewritten; published ports are
then served by docker-proxy, which is all a process on this host needs to reach 127.0.0.1:<port>),
`--ip-masq=false` (masquerading is an iptables rule) and `--ip-forward=false` (the sysctl stays as it is). Its
containers have no route out of the machine, which the tests' functions do not need.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import docker
from docker.errors import DockerException

# Between pings of a starting daemon: there is no event for "the API now answers".
PING_INTERVAL_S = 0.05
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def unavailable_reason() -> str | None:
    """Why a second engine cannot be started here, or None."""
    if os.geteuid() != 0:
        return "a second dockerd needs root"
    for tool in ("dockerd", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: {'docker.io' if tool == 'dockerd' else 'iproute2'})"
    return None


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 172.30.0.0/16 that no interface of this machine is on."""
    taken = subprocess.run(["ip", "-o", "-4", "addr", "show"], check=True, capture_output=True, text=True).stdout
    used = [ipaddress.ip_interface(word).network for line in taken.splitlines()
            for word in line.split()[3:4]]
    for subnet in ipaddress.ip_network("172.30.0.0/16").subnets(new_prefix=24):
        if not any(subnet.overlaps(network) for network in used):
            return subnet
    raise RuntimeError("no free /24 in 172.30.0.0/16 for the second engine's bridge")


class SecondDocker:
    """Start with start(), end with stop() (which removes everything, whatever state start() left)."""

    def __init__(self) -> None:
        # Short: a unix socket's path is limited to 108 bytes, and containerd's sockets live under the exec root.
        self.root = Path(tempfile.mkdtemp(prefix="fcd-", dir="/tmp"))
        self.bridge = f"fcd{uuid.uuid4().hex[:8]}"  # interface names are at most 15 bytes
        self.host = f"unix://{self.root}/docker.sock"
        self._process: subprocess.Popen[bytes] | None = None
        self._bridge_made = False
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        assert self._client is not None, "start() first"
        return self._client

    @property
    def log(self) -> str:
        try:
            return (self.root / "dockerd.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def start(self) -> SecondDocker:
        subnet = _free_subnet()
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        self._bridge_made = True
        subprocess.run(["ip", "addr", "add", f"{subnet.network_address + 1}/{subnet.prefixlen}", "dev", self.bridge],
                       check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        with (self.root / "dockerd.log").open("wb") as log:
            self._process = subprocess.Popen(
                ["dockerd", "--host", self.host, "--data-root", str(self.root / "data"),
                 "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
                 "--bridge", self.bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the second dockerd exited with {self._process.returncode}:\n{self.log}")
            try:
                # The client asks the API's version as it is made: that is the ping.
                self._client = docker.DockerClient(base_url=self.host)
                return self
            except DockerException:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"the second dockerd did not answer within {START_TIMEOUT_S} s:\n{self.log}")
                time.sleep(PING_INTERVAL_S)

    def load_image(self, first: docker.DockerClient, name: str) -> None:
        """Copies an image from the first engine: streamed from its save into this one's load."""
        for event in self.client.api.load_image(first.api.get_image(name), quiet=True) or ():
            if isinstance(event, dict) and event.get("error"):
                raise RuntimeError(f"loading {name} into the second engine failed: {event['error']}")

    def stop(self) -> None:
        try:
            if self._client is not None:
                try:
                    for container in self._client.containers.list(all=True):
                        container.remove(force=True)
                    # Its networks too (fcemu-instances): a stopped daemon leaves their bridge interfaces on the host,
                    # where, its data folder gone, nothing removes them; a few dozen runs used up Docker's address
                    # pools and the next engine could create no network at all.
                    for network in self._client.networks.list():
                        if network.name not in ("bridge", "host", "none"):
                            network.remove()
                except DockerException:
                    pass  # the daemon is down already: its containers went with it
                self._client.close()
            if self._process is not None and self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
                try:
                    self._process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            if self._bridge_made:
                subprocess.run(["ip", "link", "del", self.bridge], check=False)
            _unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)


def _unmount_under(root: Path) -> None:
    """Unmounts what a killed daemon may have left mounted under its folders (deepest first), so that they can go."""
    try:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return
    for target in sorted((m for m in mounts if m.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False, capture_output=True)
