"""`fcemu serve`, `fcemu dispatcher`, `fcemu mail-sink` and `fcemu cleanup`: the processes fcemu runs, and the
containers they leave."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.settings import Settings


def _serve_settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with `fcemu serve`'s flags over them."""
    from emulator.settings import Settings

    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.functions_dir is not None:
        overrides["functions_dir"] = args.functions_dir
    if args.template is not None:
        overrides["template"] = args.template
    if args.debug:
        overrides["debug"] = ",".join(args.debug)
    return Settings(**overrides)  # type: ignore[arg-type]


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from emulator.api.app import create_app
    from emulator.api.http_protocol import bounded_protocol
    from emulator.cli.preflight import preflight
    from emulator.open_files import fit_connection_cap
    from emulator.process_exit import run_to_exit

    settings = _serve_settings(args)
    problem = preflight(settings)
    if problem:
        print(f"fcemu: {problem}", file=sys.stderr)
        return 2
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(
        app, host=settings.host, port=settings.port, loop="uvloop",
        http=bounded_protocol(settings.header_timeout_s, fit_connection_cap(settings.max_connections)),
        log_level="info", access_log=False, timeout_graceful_shutdown=10,
    ))
    # Server-sent events (the console's, logs' follow mode) end once the server is asked to exit, instead of
    # holding its shutdown for the graceful timeout (see api/event_stream.py).
    app.state.exiting = lambda: server.should_exit

    async def run_server() -> int:
        try:
            await server.serve()
        except SystemExit as exit_:
            # uvicorn's way out of a failed start-up (the lifespan has closed what it had started).
            return exit_.code if isinstance(exit_.code, int) else 1
        return 0

    return run_to_exit(run_server)


def dispatcher(args: argparse.Namespace) -> int:
    """A dispatcher on its own: claims from the shared Redis and runs on this host's Docker engine."""
    import asyncio
    import os
    import signal

    from emulator.core import Core
    from emulator.process_exit import run_to_exit

    # --owner is this process's fixed owner; so is FCEMU_OWNER + '-dispatcher'; with neither, a unique one.
    env_owner = os.environ.get("FCEMU_OWNER", "")
    owner = args.owner or (f"{env_owner}-dispatcher" if env_owner else "")
    # FCEMU_DEBUG is for `fcemu serve`: its debugged instance holds the debugger's port on this host, which a
    # second process's instance of the same function could not publish again.
    from emulator.settings import Settings

    settings = Settings(owner=owner, dispatcher_enabled=True, debug="")

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        starting = asyncio.create_task(Core.start(settings, serve_api=False))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            # Stopped while starting: Core.start closes what it had started when cancelled.
            starting.cancel()
            await asyncio.wait([starting])
            return 0
        try:
            core = starting.result()
        except Exception as error:  # noqa: BLE001 - whatever failed, every part started is closed again by now
            print(f"fcemu dispatcher: could not start: {error}", file=sys.stderr, flush=True)
            return 2
        print(f"fcemu dispatcher running (owner {core.settings.owner})", flush=True)
        await stopping
        await core.close()
        return 0

    return run_to_exit(run)


def cleanup(args: argparse.Namespace) -> int:
    from emulator.pool.engine import DockerEngine, EngineError

    try:
        engine = DockerEngine()
    except EngineError as error:
        print(f"fcemu cleanup: {error}", file=sys.stderr)
        return 0
    from emulator.settings import Settings

    owner = None if args.all else Settings().owner
    if owner == "":
        # Unset FCEMU_OWNER means a unique owner per process: leftovers of a crashed one are removed by the
        # next emulator or dispatcher that starts on the same Redis.
        print("fcemu cleanup: pass --all, or set FCEMU_OWNER to remove one owner's containers", file=sys.stderr)
        return 2
    removed = engine.remove_labelled(owner)
    print(f"removed {removed} fcemu container(s)")
    return 0


def mail_sink(args: argparse.Namespace) -> int:
    import asyncio

    from emulator.devtools.mail_sink import serve_forever
    from emulator.pool.engine import DockerEngine

    # Containers reach the host at the bridge's gateway; listening there keeps the sink off other networks.
    host = args.host or DockerEngine().bridge_gateway()
    try:
        asyncio.run(serve_forever(host, args.port))
    except KeyboardInterrupt:
        pass
    return 0
