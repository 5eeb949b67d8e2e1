"""The `fcemu` command: `fcemu serve` runs the emulator, `fcemu cleanup` removes its containers."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from emulator.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from emulator.api.app import create_app
    from emulator.catalog.loader import ManifestError, load_functions

    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.functions_dir is not None:
        overrides["functions_dir"] = args.functions_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        # Checked before the server starts so that a bad manifest is one clear line, not a startup traceback.
        load_functions(settings.functions_dir)
    except ManifestError as error:
        print(f"fcemu: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, loop="uvloop", http="httptools",
        log_level="info", access_log=False, timeout_graceful_shutdown=10,
    )
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from emulator.pool.engine import DockerEngine, EngineError

    try:
        engine = DockerEngine()
    except EngineError as error:
        print(f"fcemu cleanup: {error}", file=sys.stderr)
        return 0
    owner = None if args.all else Settings().owner
    removed = engine.remove_labelled(owner)
    print(f"removed {removed} fcemu container(s)")
    return 0


def _mail_sink(args: argparse.Namespace) -> int:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fcemu", description="A local emulator of Alibaba Cloud Function Compute")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and the container pool")
    serve.add_argument("--host", help="listen address (default FCEMU_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default FCEMU_PORT or 9000)")
    serve.add_argument("--functions-dir", type=Path, help="folder of function definitions (default ./functions)")
    serve.set_defaults(run=_serve)
    cleanup = commands.add_parser("cleanup", help="remove fcemu's containers")
    cleanup.add_argument("--all", action="store_true", help="every owner's containers, not only FCEMU_OWNER's")
    cleanup.set_defaults(run=_cleanup)
    sink = commands.add_parser("mail-sink", help="an SMTP sink that prints what functions send (send-email)")
    sink.add_argument("--host", help="listen address (default: Docker's bridge gateway)")
    sink.add_argument("--port", type=int, default=1025)
    sink.set_defaults(run=_mail_sink)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
