"""Processes by pid, as a pid file names them: whether one runs (not a zombie), whether it is fcemu, and stopping
it. Linux's /proc says; elsewhere a process that exists counts as running."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

# Between looks at a process that is asked to end: it is not this process's child, so there is no exit to await.
EXIT_POLL_S = 0.05


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def is_fcemu(pid: int, folder: Path) -> bool:
    """Whether the pid runs `fcemu serve` (or `python -m emulator serve`) in `folder`: not another process that got
    the pid after a reboot, nor another project's emulator."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except FileNotFoundError:
        return False  # gone meanwhile
    except OSError:
        return running(pid)  # no /proc to ask (or not ours to read): the pid file's word is all there is
    text = b" ".join(words).decode(errors="replace")
    return ("fcemu serve" in text or "emulator serve" in text) and cwd == folder and running(pid)


def wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(EXIT_POLL_S)
    return True


def stop(pid: int, grace_s: float = 15.0) -> None:
    """TERM (a stopped process gets it once it continues), then KILL if it outlives `grace_s`."""
    for signum in (signal.SIGTERM, signal.SIGCONT):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
    if not wait_gone(pid, grace_s):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_gone(pid, 5.0)
