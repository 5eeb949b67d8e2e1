"""How a function's instance runs under a debugger (FCEMU_DEBUG): debugpy for python, the inspector for nodejs,
JDWP for java (the JDK's own agent, which the java image's start script turns on from FCEMU_JDWP_ADDRESS).

Works offline: nothing is downloaded into the container. Node.js has its inspector built in; debugpy is fcemu's
own dependency, and the host's installed copy is mounted read-only into the debugged instance and put on its
PYTHONPATH (pure Python plus optional speed-ups for the same CPython minor version, 3.11 on both sides; debugpy
falls back to pure Python where they do not load). The runtime images stay as they are.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from emulator.catalog.manifest import RuntimeFamily

# The ports the debuggers conventionally listen on; VS Code's attach configurations default to them too.
DEBUGPY_PORT = 5678
INSPECTOR_PORT = 9229
JDWP_PORT = 5005
# Read by the java image's start script (runtimes/java): set, the JVM starts with JDWP listening there.
JDWP_VARIABLE = "FCEMU_JDWP_ADDRESS"
DEFAULT_PORTS = {"python": DEBUGPY_PORT, "nodejs": INSPECTOR_PORT, "java": JDWP_PORT}
# What listens on that port, as the log names it.
DEBUGGERS = {"python": "debugpy", "nodejs": "node --inspect", "java": "JDWP"}
# Where the host's debugpy is mounted in a python instance (beside the agent, which layers never hide).
DEBUGPY_MOUNT = "/opt/fcemu/debug"


class DebugUnavailable(Exception):
    """The function cannot run under a debugger here; the message says why."""


@dataclass(frozen=True)
class DebugLaunch:
    """What a debugged instance's container gets besides the usual."""

    container_port: int
    command: list[str] | None  # None: the image's own
    environment: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)


def debugpy_dir() -> Path:
    """The host's installed debugpy package folder."""
    spec = importlib.util.find_spec("debugpy")
    if spec is None or spec.origin is None:
        raise DebugUnavailable("debugpy is not installed next to fcemu (pip install debugpy)")
    return Path(spec.origin).parent


def default_port(family: str) -> int:
    return DEFAULT_PORTS.get(family, INSPECTOR_PORT)


def debug_launch(family: RuntimeFamily, environment: dict[str, str]) -> DebugLaunch:
    """The debugger's command line, variables and mounts for a function of this runtime family, whose instance
    would otherwise get `environment`."""
    if family == "python":
        # The function's own PYTHONPATH first: a function that brings its own debugpy keeps it.
        search = ":".join(path for path in (environment.get("PYTHONPATH", ""), DEBUGPY_MOUNT) if path)
        return DebugLaunch(
            container_port=DEBUGPY_PORT,
            # Without --wait-for-client: the agent serves at once and a debugger may attach at any time.
            # -Xfrozen_modules=off: else pydevd warns that breakpoints in frozen stdlib modules may be missed.
            command=["python3", "-Xfrozen_modules=off", "-m", "debugpy", "--listen", f"0.0.0.0:{DEBUGPY_PORT}",
                     "/opt/fcemu/bootstrap.py"],
            environment={"PYTHONPATH": search, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
            mounts={str(debugpy_dir()): f"{DEBUGPY_MOUNT}/debugpy"},
        )
    if family == "nodejs":
        # On the command line, not NODE_OPTIONS: a child process the function spawns must not claim the port.
        return DebugLaunch(
            container_port=INSPECTOR_PORT,
            command=["node", f"--inspect=0.0.0.0:{INSPECTOR_PORT}", "/opt/fcemu/bootstrap.js"],
        )
    if family == "java":
        # suspend=n: the agent serves at once, as the others; a debugger attaches when it likes.
        return DebugLaunch(container_port=JDWP_PORT, command=None, environment={JDWP_VARIABLE: f"*:{JDWP_PORT}"})
    raise DebugUnavailable(why_not_debugged(family))


def why_not_debugged(family: RuntimeFamily) -> str:
    """Why a function of a family without a debugger here (DEFAULT_PORTS has none) runs as usual."""
    if family == "go":
        return ("a go1 function is the binary you built: fcemu has no Go debugger to attach to it (see "
                "docs/go-runtime.md, Debugging)")
    return (f"a {family} function runs its own command; fcemu can attach a debugger only to the python, nodejs and "
            "java runtimes (start your debugger from the function's command)")
