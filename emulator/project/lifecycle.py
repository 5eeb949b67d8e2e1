"""`fcemu up`, `down` and `status` for the project in the current folder. A running emulator is one that answers
on its health route with this project's owner, not a pid that exists: a stale pid file, a silent (stopped) process
or another project's emulator on the port are each told apart and said."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emulator.local_address import local_url
from emulator.project.processes import is_fcemu, running, stop
from emulator.project.redis_server import RedisStartError, project_redis, stop_project_redis
from emulator.project.state import ProjectState

START_TIMEOUT_S = 60.0
# Between health probes of a starting emulator: nothing tells when its port starts answering.
START_POLL_S = 0.05
CONSOLE_PATH = "/_fcemu/console/"
# The lines of the log that say why a start failed (the preflight's "fcemu: ...", the lifespan's "could not start").
REASON = re.compile(r"could not start|^fcemu: ")


@dataclass(frozen=True)
class UpOptions:
    host: str
    port: int
    template: Path | None = None
    debug: str = ""


def health(url: str) -> dict[str, object] | None:
    """The emulator's health answer, None when nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(f"{url}/_fcemu/health", timeout=2) as reply:  # noqa: S310 - a local URL
            found = json.loads(reply.read())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("status") == "ok" else None


def _reason(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found, showing = [], False
    for line in lines:
        if REASON.search(line):
            showing = True
        elif showing and re.match(r"(ERROR|INFO): |\d{4}-\d{2}-\d{2} ", line):
            showing = False
        if showing:
            found.append(line)
    return "\n".join(found or lines[-30:])


def _has_functions(root: Path) -> bool:
    from emulator.catalog.template import find_template

    functions = Path(os.environ.get("FCEMU_FUNCTIONS_DIR") or "functions")
    return find_template(root) is not None or (root / functions).is_dir()


def _ours(answer: dict[str, object] | None, state: ProjectState) -> bool:
    return answer is not None and answer.get("owner") == _owner(state)


def _owner(state: ProjectState) -> str:
    """FCEMU_OWNER, else the one the running emulator was started with (kept in .fcemu/), else the project's."""
    return os.environ.get("FCEMU_OWNER") or state.read(state.owner_file) or state.owner


def up(state: ProjectState, options: UpOptions) -> int:
    if options.template is None and not os.environ.get("FCEMU_TEMPLATE") and not _has_functions(state.root):
        print(f"fcemu up: no s.yaml or functions/ in {state.root}: run it in your project's folder, or name an "
              "s.yaml with --template (an empty functions/ serves only what is deployed through the API)",
              file=sys.stderr)
        return 2
    url = local_url(options.host, options.port)
    redis_url = _redis_url(state)
    if redis_url is None:
        return 1
    if _already_up(state, url):
        return 0
    if health(url) is not None:
        print(f"fcemu up: another fcemu already answers on {url}; stop it, or use another port (--port)",
              file=sys.stderr)
        return 1
    return _wait_until_up(state, url, _launch(state, options, redis_url))


def _redis_url(state: ProjectState) -> str | None:
    """FCEMU_REDIS_URL, else the project's own Redis (started if it does not run); None (said) if it cannot be."""
    redis_url, started = os.environ.get("FCEMU_REDIS_URL", ""), False
    try:
        if not redis_url:
            redis_url, started = project_redis(state)
    except RedisStartError as error:
        print(f"fcemu up: {error}", file=sys.stderr)
        return None
    if started:
        print(f"redis started on {redis_url.removeprefix('redis://').removesuffix('/0')} "
              f"(AOF in {state.redis_folder})")
    return redis_url


def _already_up(state: ProjectState, url: str) -> bool:
    """True when the emulator of the pid file runs and answers; else a silent one is stopped, and the pid file
    (stale, or of a process that is not fcemu) goes."""
    old = state.pid()
    if old is None:
        return False
    answer = health(state.read(state.url_file) or url)
    if running(old) and _ours(answer, state):
        print(f"fcemu already runs (pid {old}) on {state.read(state.url_file) or url}")
        return True
    if running(old) and is_fcemu(old, state.root):
        print(f"fcemu (pid {old}) runs but does not answer on {url}/_fcemu/health; stopping it")
        stop(old)
    else:
        print(f"stale {state.pid_file} (pid {old} is gone or is not fcemu); starting anew")
    state.pid_file.unlink(missing_ok=True)
    return False


def _launch(state: ProjectState, options: UpOptions, redis_url: str) -> subprocess.Popen[bytes]:
    """`fcemu serve` in the background, its output in the project's log; its pid and owner kept in .fcemu/."""
    arguments = [sys.executable, "-m", "emulator", "serve"]
    if options.template is not None:
        arguments += ["--template", str(options.template)]
    if options.debug:
        arguments += ["--debug", options.debug]
    environment = {**os.environ, "FCEMU_HOST": options.host, "FCEMU_PORT": str(options.port),
                   "FCEMU_REDIS_URL": redis_url, "FCEMU_OWNER": _owner(state)}
    state.folder.mkdir(parents=True, exist_ok=True)
    with state.log_file.open("w") as log:
        # Its own session: a Ctrl-C in this terminal, or its closing, does not reach it.
        process = subprocess.Popen(arguments, cwd=state.root, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    state.write(state.pid_file, str(process.pid))
    state.write(state.owner_file, environment["FCEMU_OWNER"])
    return process


def _wait_until_up(state: ProjectState, url: str, process: subprocess.Popen[bytes]) -> int:
    """Until the started emulator answers as this project's, it exits (its log says why) or the time is up."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _ours(health(url), state):
            state.write(state.url_file, url)
            print(f"fcemu is up on {url} (console: {url}{CONSOLE_PATH}, log: {state.log_file}, stop: fcemu down)")
            return 0
        code = process.poll()
        if code is not None:
            state.pid_file.unlink(missing_ok=True)
            print(f"fcemu failed to start (exit code {code}):", file=sys.stderr)
            print(_reason(state.log_file), file=sys.stderr)
            print(f"(full log: {state.log_file})", file=sys.stderr)
            return 1
        time.sleep(START_POLL_S)
    print(f"fcemu did not answer on {url}/_fcemu/health within {START_TIMEOUT_S:g} s; see {state.log_file}",
          file=sys.stderr)
    return 1


def down(state: ProjectState, remove_containers: bool = True) -> int:
    """Stops this project's emulator and its Redis, and removes its containers: another project's run on."""
    pid = state.pid()
    if pid is not None:
        if running(pid) and is_fcemu(pid, state.root):
            stop(pid)
            print("fcemu stopped")
        state.pid_file.unlink(missing_ok=True)
    state.url_file.unlink(missing_ok=True)
    if remove_containers:
        removed = _remove_containers(_owner(state))
        if removed:
            print(f"removed {removed} container(s)")
        state.owner_file.unlink(missing_ok=True)
    if stop_project_redis(state):
        print(f"redis stopped (data kept in {state.redis_folder})")
    return 0


def _remove_containers(owner: str) -> int:
    from emulator.pool.engine import DockerEngine, EngineError

    try:
        engine = DockerEngine()
    except EngineError:
        return 0
    try:
        return engine.remove_labelled(owner)
    finally:
        engine.close()


def status(state: ProjectState) -> int:
    """What runs for this project, and where; exit code 0 when its emulator answers."""
    pid, url = state.pid(), state.read(state.url_file)
    answer = health(url) if url else None
    if pid is not None and running(pid) and _ours(answer, state) and answer is not None:
        functions = answer.get("functions")
        count = len(functions) if isinstance(functions, list) else 0
        print(f"fcemu runs (pid {pid}) on {url} with {count} function(s); console {url}{CONSOLE_PATH}; "
              f"log {state.log_file}")
        redis_url = state.read(state.redis_url_file)
        if redis_url:
            print(f"redis: {redis_url}")
        return 0
    print(f"fcemu does not run for {state.root}" + (f" (stale pid {pid})" if pid is not None else ""))
    return 3

