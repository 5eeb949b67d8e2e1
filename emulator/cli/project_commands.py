"""`fcemu up`, `down`, `status`, `invoke` and `images`: the commands run in a project's folder."""
from __future__ import annotations

import argparse
import sys

from emulator.cli.emulator_calls import emulator_url


def _docker_problem() -> str | None:
    """Why no Docker engine answers, with the command that fixes it; None when one does."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except DockerException as error:
        return (f"no Docker engine answers ({error}); start it (sudo systemctl start docker, or dockerd as root; "
                "Debian/Ubuntu without one: sudo apt-get install -y docker.io)")
    return None


def up(args: argparse.Namespace) -> int:
    import os

    from emulator.project import lifecycle
    from emulator.project.state import ProjectState
    from emulator.runtime_files import build_images

    problem = _docker_problem()
    if problem:
        print(f"fcemu up: {problem}", file=sys.stderr)
        return 1
    if not args.no_images and build_images() != 0:
        print("fcemu up: the runtime images did not build (see above)", file=sys.stderr)
        return 1
    port = args.port or int(os.environ.get("FCEMU_PORT") or 9000)
    options = lifecycle.UpOptions(host=os.environ.get("FCEMU_HOST") or "127.0.0.1", port=port, template=args.template,
                                  debug=",".join(args.debug or []))
    return lifecycle.up(ProjectState.here(), options)


def down(args: argparse.Namespace) -> int:
    from emulator.project import lifecycle
    from emulator.project.state import ProjectState

    return lifecycle.down(ProjectState.here())


def status(args: argparse.Namespace) -> int:
    from emulator.project import lifecycle
    from emulator.project.state import ProjectState

    return lifecycle.status(ProjectState.here())


def invoke(args: argparse.Namespace) -> int:
    from emulator.project.invoke import Invocation, InvokeError, invoke_async, invoke_sync

    if args.event is not None:
        event = args.event.encode()
    elif args.event_file is not None:
        event = args.event_file.read_bytes()
    elif args.stdin == "-":
        event = sys.stdin.buffer.read()
    else:
        event = b""
    if (args.delay is not None or args.task_id or args.wait) and not args.asynchronous:
        print("fcemu invoke: --delay, --task-id and --wait go with --async", file=sys.stderr)
        return 2
    invocation = Invocation(args.function, event, args.asynchronous, args.delay, args.task_id, args.wait)
    try:
        return (invoke_async if args.asynchronous else invoke_sync)(emulator_url(), invocation)
    except InvokeError as error:
        print(f"fcemu invoke: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def images(args: argparse.Namespace) -> int:
    from emulator.runtime_files import build_images

    return build_images()
