"""Starts a function's instance (container, readiness, initializer) and stops it again."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import RuntimeFamily
from emulator.credentials import FunctionCredentials
from emulator.fc_endpoint.endpoint import FcEndpoint
from emulator.logs.pump import LogPumps
from emulator.logs.tail import framed_tail
from emulator.pool import contract
from emulator.pool.agent_client import AgentClient
from emulator.pool.agent_connections import AgentConnectionError, AgentReply
from emulator.pool.debugging import (
    DEBUGGERS,
    DEFAULT_PORTS,
    DebugUnavailable,
    debug_launch,
    default_port,
    why_not_debugged,
)
from emulator.pool.engine import (
    LABEL_APP,
    LABEL_CLUSTER,
    LABEL_FUNCTION,
    LABEL_OWNER,
    ContainerSpec,
    DockerEngine,
    EngineError,
    StartedContainer,
)
from emulator.pool.instance import Instance
from emulator.settings import Settings

log = logging.getLogger(__name__)

# The python image's relay of FC's endpoint ports (runtimes/python3/agent/fc_relay.py), run before a custom
# runtime's command.
RELAY_SCRIPT = "/opt/fcemu/fc_relay.py"
# Between readiness probes of a starting agent; there is no event to await for "the port now listens".
READY_PROBE_INTERVAL_S = 0.003
EXIT_CHECK_INTERVAL_S = 0.25
# A custom runtime's Tail: Docker's copy of the End line may trail the reply, so the output is read again after
# 0.01, 0.02, ... 0.16 s (0.31 s in all) before the tail is taken as it is.
LOG_READ_ATTEMPTS = 6
LOG_FIRST_REREAD_S = 0.01


class InstanceStartError(Exception):
    """The instance did not come up; the message says why (image, exit, timeout)."""


class InitializerError(Exception):
    """The function's initializer failed; carries the agent's reply for the caller to report."""

    def __init__(self, reply: AgentReply) -> None:
        super().__init__(reply.body.decode(errors="replace"))
        self.reply = reply


def runtime_image(settings: Settings, family: RuntimeFamily) -> str:
    """The image of fcemu's runtime for a function of this family; a custom runtime's command runs in the python
    image (a custom container names its own)."""
    images = {"nodejs": settings.nodejs_runtime_image, "go": settings.go_runtime_image,
              "java": settings.java_runtime_image}
    return images.get(family, settings.python_runtime_image)


class InstanceLauncher:
    def __init__(self, engine: DockerEngine, agent: AgentClient, settings: Settings, cluster: str = "",
                 logs: LogPumps | None = None, role: FunctionCredentials | None = None,
                 fc_endpoint: FcEndpoint | None = None) -> None:
        self._engine = engine
        # The credentials of a function with a role, and where its instance reaches FC's API (None: nowhere, as in
        # a dispatcher of its own, which serves no API).
        self.role = role
        self._fc_endpoint = fc_endpoint
        self._logs = logs
        self._agent = agent
        self._settings = settings
        self._cluster = cluster
        # For FCEMU_INSTANCE_ADDRESS=auto: whether a container's bridge address answers from here, once known.
        self._bridge_reachable: bool | None = None
        self._address_logged = False
        # FCEMU_DEBUG: the debugged functions and their host ports (validated by the CLI's preflight).
        self._debug_ports = settings.debug_ports()
        self._debug_refused: set[str] = set()

    def debugs(self, definition: FunctionDefinition) -> bool:
        """Whether the function's instance runs under a debugger (FCEMU_DEBUG names it and its runtime allows);
        says once why not when it is named but cannot be."""
        if not self._debug_target(definition):
            return False
        family = definition.manifest.runtime_family
        if family in DEFAULT_PORTS:
            return True
        if definition.name not in self._debug_refused:
            self._debug_refused.add(definition.name)
            log.warning("cannot run %s under a debugger: %s; it runs as usual", definition.name,
                        why_not_debugged(family))
        return False

    def _debug_target(self, definition: FunctionDefinition) -> str | None:
        if definition.version_id:
            return None  # the debugger attaches to LATEST's one instance; a published version runs as usual
        for name in (definition.name, definition.manifest.functionName):
            if name in self._debug_ports:
                return name
        return None

    def _debug_host_port(self, definition: FunctionDefinition) -> int:
        """The entry's own port, else the base (FCEMU_DEBUG_PORT or the runtime's conventional one) plus the
        entry's place in FCEMU_DEBUG; 0 is a free port that Docker picks."""
        target = self._debug_target(definition)
        assert target is not None
        given = self._debug_ports[target]
        if given is not None:
            return given
        base = self._settings.debug_port
        if base == 0:
            return 0
        place = list(self._debug_ports).index(target)
        return (default_port(definition.manifest.runtime_family) if base is None else base) + place

    def container_spec(self, definition: FunctionDefinition) -> ContainerSpec:
        """What the instance's container starts with; its agent's secret is in the environment, under
        contract.AGENT_TOKEN_VARIABLE (set last: no variable of the function's replaces it)."""
        manifest = definition.manifest
        environment = contract.environment(definition, self._settings, self.role)
        extra_ports: dict[int, int] = {}
        extra_mounts: dict[str, str] = {}
        extra_hosts: dict[str, str] = {}
        image, command, entrypoint = runtime_image(self._settings, manifest.runtime_family), None, None
        if manifest.customContainerConfig is not None:
            container = manifest.customContainerConfig
            image, entrypoint, command = container.image, container.entrypoint, container.command
        elif manifest.customRuntimeConfig is not None:
            runtime = manifest.customRuntimeConfig
            command = [*runtime.command, *(runtime.args or [])]
        elif self.debugs(definition):
            try:
                debug = debug_launch(manifest.runtime_family, environment)
            except DebugUnavailable as error:
                raise InstanceStartError(f"cannot run {definition.name} under a debugger: {error}") from error
            command = debug.command
            environment = {**environment, **debug.environment}
            extra_ports = {debug.container_port: self._debug_host_port(definition)}
            extra_mounts = debug.mounts
        if self._fc_endpoint is not None and manifest.customContainerConfig is None:
            # fcemu's images carry the relay (a custom runtime's command runs behind it); a custom container's
            # image is the user's own, whose trust store and ports fcemu leaves alone.
            if manifest.customRuntimeConfig is not None and command and image == self._settings.python_runtime_image:
                command = ["python3", RELAY_SCRIPT, *command]
            environment = {**self._fc_endpoint.environment(), **environment}
            extra_mounts = {**extra_mounts, **self._fc_endpoint.mounts()}
            extra_hosts = self._fc_endpoint.hosts()
        environment = {**environment, contract.AGENT_TOKEN_VARIABLE: contract.new_agent_token()}
        return ContainerSpec(
            image=image,
            name=f"fcemu-{self._settings.owner}-{manifest.functionName.replace('$', '-')}-{uuid.uuid4().hex[:8]}",
            port=manifest.agent_port,
            code_dir=definition.code_dir,
            memory_mb=manifest.memorySize,
            labels={
                LABEL_APP: "1",
                LABEL_OWNER: self._settings.owner,
                LABEL_FUNCTION: manifest.functionName,
                LABEL_CLUSTER: self._cluster,
            },
            environment=environment,
            command=command,
            entrypoint=entrypoint,
            pids_limit=self._settings.pids_limit,
            tmp_size_mb=self._settings.tmp_size_mb,
            opt_dir=definition.opt_dir,
            extra_ports=extra_ports,
            extra_mounts=extra_mounts,
            extra_hosts=extra_hosts,
        )

    async def launch(self, definition: FunctionDefinition, headers: dict[str, str]) -> Instance:
        spec = self.container_spec(definition)
        starting = asyncio.ensure_future(asyncio.to_thread(self._engine.start, spec))
        try:
            started = await asyncio.shield(starting)
        except EngineError as error:
            if spec.extra_ports and ("allocated" in str(error) or "address already in use" in str(error)):
                raise InstanceStartError(f"{error} (the debugger's port is taken: name another one in FCEMU_DEBUG, "
                                         f"'{definition.name}:PORT', or 0 for a free one)") from error
            raise InstanceStartError(str(error)) from error
        except asyncio.CancelledError:
            # The engine call goes on in its thread and Docker finishes the container regardless: wait for it
            # and remove it, or it would outlive this process's clean-up.
            with contextlib.suppress(Exception):
                orphan = await starting
                await asyncio.to_thread(self._engine.remove, orphan.container_id)
            raise
        if self._logs is not None:
            # From the container's start: its start-up output and the initializer's lines are kept too.
            self._logs.start(definition.name, started.container_id)
        instance = Instance(
            function_name=definition.name,
            container_id=started.container_id,
            base_url=f"http://127.0.0.1:{started.published_port}",
            capacity=definition.manifest.instanceConcurrency,
            agent_token=spec.environment[contract.AGENT_TOKEN_VARIABLE],
            debug_port=next(iter(started.extra_published.values()), None),
        )
        try:
            instance.base_url = await self._base_url(instance, started, definition.manifest.agent_port)
            await self._wait_ready(instance)
            if instance.debug_port is not None:
                log.info("debugger for %s listening on 127.0.0.1:%d (%s; invoke and initializer timeouts lifted)",
                         definition.name, instance.debug_port,
                         DEBUGGERS[definition.manifest.runtime_family])
            if definition.manifest.initializer:
                await self._initialize(instance, definition, headers)
        except BaseException:
            await self.destroy(instance)
            raise
        return instance

    async def _base_url(self, instance: Instance, started: StartedContainer, port: int) -> str:
        """Where this process reaches the instance (FCEMU_INSTANCE_ADDRESS). For "auto" the first instance
        answers on its published port first, then is tried on its bridge address, and that verdict holds for
        every later instance: a Linux host reaches the bridge, Docker Desktop and rootless engines do not."""
        mode = self._settings.instance_address
        bridge_url = f"http://{started.bridge_address}:{port}" if started.bridge_address else ""
        if mode == "auto" and bridge_url and self._bridge_reachable is None:
            await self._wait_ready(instance)
            self._bridge_reachable = await self._agent.is_up(bridge_url + "/")
        use_bridge = bool(bridge_url) and (mode == "bridge" or (mode == "auto" and bool(self._bridge_reachable)))
        if not self._address_logged:
            self._address_logged = True
            log.info("instances are reached %s (FCEMU_INSTANCE_ADDRESS=%s)",
                     "on Docker's bridge" if use_bridge else "on ports published on 127.0.0.1", mode)
        return bridge_url if use_bridge else instance.base_url

    async def _wait_ready(self, instance: Instance) -> None:
        deadline = time.monotonic() + self._settings.instance_start_timeout_s
        next_exit_check = time.monotonic() + EXIT_CHECK_INTERVAL_S
        while not await self._agent.is_up(instance.base_url + "/"):
            now = time.monotonic()
            if now >= next_exit_check:
                next_exit_check = now + EXIT_CHECK_INTERVAL_S
                reason = await asyncio.to_thread(self._engine.exit_reason, instance.container_id)
                if reason is not None:
                    logs = await asyncio.to_thread(self._engine.logs, instance.container_id)
                    raise InstanceStartError(f"{reason} before it listened; its last output:\n{logs}")
            if now >= deadline:
                raise InstanceStartError(
                    f"the instance did not answer on its port within {self._settings.instance_start_timeout_s} s"
                )
            await asyncio.sleep(READY_PROBE_INTERVAL_S)

    async def _initialize(self, instance: Instance, definition: FunctionDefinition, headers: dict[str, str]) -> None:
        # Under a debugger the initializer may stop at a breakpoint for as long as its user looks.
        timeout = None if instance.debug_port is not None else definition.manifest.initializationTimeout
        request_headers = {**headers, **contract.control_headers(instance, contract.INITIALIZE, str(uuid.uuid4()),
                                                                 self._logs)}
        try:
            async with asyncio.timeout(timeout):
                reply = await self._agent.post(instance.base_url + contract.INITIALIZE, b"", request_headers)
        except TimeoutError as error:
            raise InstanceStartError(f"Function initialization timed out after {timeout} seconds") from error
        except AgentConnectionError as error:
            raise InstanceStartError(f"the instance failed during initialization: {error}") from error
        if reply.status != 200 or contract.reports_failure(reply.headers):
            raise InitializerError(reply)

    async def invocation_log(self, instance: Instance, request_id: str, since: float, keep: int) -> str:
        """The last `keep` bytes of the instance's stdout between FC's Start and End lines for one request, as
        FC cuts it for Tail; the output is read as it comes, never held whole.

        Docker copies a container's output asynchronously, so the End line may trail the reply; re-reads, each
        after twice the wait of the one before (best effort, bounded), wait for it.
        """
        text = ""
        for attempt in range(LOG_READ_ATTEMPTS):
            if attempt:
                await asyncio.sleep(LOG_FIRST_REREAD_S * 2 ** (attempt - 1))
            text, ended = await asyncio.to_thread(self._read_tail, instance.container_id, since, request_id, keep)
            if ended:
                break
        return text

    def _read_tail(self, container_id: str, since: float, request_id: str, keep: int) -> tuple[str, bool]:
        """framed_tail of the container's output, in a worker thread. The tail is cut at the End line, before the
        end of Docker's stream: the stream is closed here, in the same thread, not whenever (and on whichever
        thread, the event loop's) the half-read generator happens to be collected."""
        with contextlib.closing(self._engine.output_since(container_id, since)) as output:
            return framed_tail(output, request_id, keep)

    async def exit_reason(self, instance: Instance) -> str | None:
        return await asyncio.to_thread(self._engine.exit_reason, instance.container_id)

    async def stop(self, instance: Instance, definition: FunctionDefinition, headers: dict[str, str]) -> None:
        """Removes an instance that leaves service in good order (idle, drained, shut down): FC's PreStop hook
        runs first when the function configures one. The hook cannot keep the instance: it is removed whatever
        the hook does."""
        try:
            if definition.manifest.pre_stop is not None:
                await self._pre_stop(instance, definition, headers)
        finally:
            await self.destroy(instance)

    async def _pre_stop(self, instance: Instance, definition: FunctionDefinition, headers: dict[str, str]) -> None:
        hook = definition.manifest.pre_stop
        assert hook is not None
        request_id = str(uuid.uuid4())
        request_headers = {**headers, **contract.control_headers(instance, contract.PRE_STOP, request_id, self._logs)}
        try:
            async with asyncio.timeout(hook.timeout):
                reply = await self._agent.request("GET", instance.base_url + contract.PRE_STOP, b"",
                                                  list(request_headers.items()))
        except TimeoutError:
            log.warning("preStop hook of %s on instance %s timed out after %s s (request %s); removing it anyway",
                        definition.name, instance.instance_id, hook.timeout, request_id)
            return
        except Exception as error:  # noqa: BLE001 - whatever the agent does, the instance still goes
            log.warning("preStop hook of %s on instance %s could not be called (%s); removing it anyway",
                        definition.name, instance.instance_id, error or type(error).__name__)
            return
        if not 200 <= reply.status < 300 or contract.reports_failure(reply.headers):
            log.warning("preStop hook of %s on instance %s failed (request %s, status %s): %s",
                        definition.name, instance.instance_id, request_id, reply.status,
                        reply.body[:512].decode(errors="replace"))
            return
        log.info("preStop hook of %s ran on instance %s (request %s)", definition.name, instance.instance_id,
                 request_id)

    async def destroy(self, instance: Instance) -> None:
        try:
            await asyncio.to_thread(self._engine.remove, instance.container_id)
        finally:
            if self._logs is not None:
                self._logs.stop(instance.container_id)
