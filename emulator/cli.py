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

    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.functions_dir is not None:
        overrides["functions_dir"] = args.functions_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
