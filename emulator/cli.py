"""The `fcemu` command: `fcemu serve` runs the emulator, `fcemu cleanup` removes its containers."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from emulator.settings import Settings


def _preflight(settings: Settings) -> str | None:
    """Checked before the server starts, so that a bad manifest or a missing Redis is one clear line."""
    import ipaddress

    import redis

    from emulator.catalog.loader import ManifestError
    from emulator.catalog.sources import load_sources

    try:
        keys = settings.access_key_pairs()
    except (OSError, ValueError) as error:
        return f"access keys: {error}"
    try:
        settings.function_credentials()
    except (OSError, ValueError) as error:
        return f"function credentials: {error}"
    try:
        loopback = settings.host == "localhost" or ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = False
    if not keys and not loopback and not settings.allow_unauthenticated_remote:
        return (
            f"refusing to listen on {settings.host} without access keys: set FCEMU_ACCESS_KEYS (or "
            "FCEMU_ACCESS_KEYS_FILE), or FCEMU_ALLOW_UNAUTHENTICATED_REMOTE=true to accept unsigned requests from "
            "other machines"
        )
    try:
        load_sources(settings)
    except ManifestError as error:
        return str(error)
    try:
        with redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3) as client:
            client.ping()
    except redis.RedisError as error:
        return f"cannot reach Redis at {settings.redis_url} ({error}); `make up` starts one"
    return None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from emulator.api.app import create_app
    from emulator.process_exit import run_to_exit

    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.functions_dir is not None:
        overrides["functions_dir"] = args.functions_dir
    if args.template is not None:
        overrides["template"] = args.template
    settings = Settings(**overrides)  # type: ignore[arg-type]
    problem = _preflight(settings)
    if problem:
        print(f"fcemu: {problem}", file=sys.stderr)
        return 2
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, loop="uvloop", http="httptools",
        log_level="info", access_log=False, timeout_graceful_shutdown=10,
    ))

    async def serve() -> int:
        try:
            await server.serve()
        except SystemExit as exit_:
            # uvicorn's way out of a failed start-up (the lifespan has closed what it had started).
            return exit_.code if isinstance(exit_.code, int) else 1
        return 0

    return run_to_exit(serve)


def _dispatcher(args: argparse.Namespace) -> int:
    """A dispatcher on its own: claims from the shared Redis and runs on this host's Docker engine."""
    import asyncio
    import os
    import signal

    from emulator.core import Core
    from emulator.process_exit import run_to_exit

    # --owner is this process's fixed owner; so is FCEMU_OWNER + '-dispatcher'; with neither, a unique one.
    env_owner = os.environ.get("FCEMU_OWNER", "")
    owner = args.owner or (f"{env_owner}-dispatcher" if env_owner else "")
    settings = Settings(owner=owner, dispatcher_enabled=True)

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
        except Exception as error:  # every part started is closed again by now
            print(f"fcemu dispatcher: could not start: {error}", file=sys.stderr, flush=True)
            return 2
        print(f"fcemu dispatcher running (owner {core.settings.owner})", flush=True)
        await stopping
        await core.close()
        return 0

    return run_to_exit(run)


def _cleanup(args: argparse.Namespace) -> int:
    from emulator.pool.engine import DockerEngine, EngineError

    try:
        engine = DockerEngine()
    except EngineError as error:
        print(f"fcemu cleanup: {error}", file=sys.stderr)
        return 0
    owner = None if args.all else Settings().owner
    if owner == "":
        # Unset FCEMU_OWNER means a unique owner per process: leftovers of a crashed one are removed by the
        # next emulator or dispatcher that starts on the same Redis.
        print("fcemu cleanup: pass --all, or set FCEMU_OWNER to remove one owner's containers", file=sys.stderr)
        return 2
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


def _publish(topic: str, body: str, tag: str) -> None:
    """Through the running emulator's route, not Redis: the emulator is who knows the topic's triggers."""
    import json
    import urllib.request

    settings = Settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host  # noqa: S104 - any address
    request = urllib.request.Request(
        f"http://{host}:{settings.port}/_fcemu/mns/topics/{topic}/messages", method="POST",
        data=json.dumps({"MessageBody": body, "MessageTag": tag}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - the emulator's own URL
        print(reply.read().decode())


def _emulator_url() -> str:
    settings = Settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.port}"


def _log_line(entry: dict[str, object]) -> str:
    """`function request-id: message`; an instance's line that belongs to no request names the instance."""
    owner = entry.get("requestId") or f"instance:{entry.get('instanceId', '')}"
    return f"{entry.get('functionName', '')} {owner}: {entry.get('message', '')}"


def _logs(args: argparse.Namespace) -> int:
    """Through the running emulator's route (/_fcemu/logs), which the console reads too."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    if args.task and not args.function:
        print("fcemu logs: --task needs the FUNCTION (task ids are unique per function)", file=sys.stderr)
        return 2
    query = {"function": args.function or "", "requestId": args.request_id or "", "taskId": args.task or ""}
    if args.follow:
        query["follow"] = "true"
    url = f"{_emulator_url()}/_fcemu/logs?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}"
    try:
        # No timeout while following: the route sends a comment line when idle, and the user ends it (Ctrl-C).
        with urllib.request.urlopen(url, timeout=None if args.follow else 30) as reply:
            for raw in reply:
                line = raw.decode(errors="replace").rstrip("\n")
                if args.follow:
                    if line == ": following":
                        # On stderr, out of the lines' way: from now on no new line is missed.
                        print("following function logs (Ctrl-C ends)", file=sys.stderr, flush=True)
                    if not line.startswith("data: "):
                        continue
                    line = line[len("data: "):]
                if not line:
                    continue
                entry = json.loads(line)
                print(json.dumps(entry) if args.json else _log_line(entry), flush=True)
    except urllib.error.HTTPError as error:
        print(f"fcemu logs: {error.code} {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"fcemu logs: the emulator does not answer at {_emulator_url()} ({error.reason}); `make up`",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _mns(args: argparse.Namespace) -> int:
    """Reads the local MNS queues and topics that destinations deliver to, straight from Redis."""
    import asyncio
    import json

    from redis.asyncio import Redis

    from emulator.destinations.local_queues import LocalQueues

    async def run() -> None:
        redis = Redis.from_url(Settings().redis_url)
        try:
            queues = LocalQueues(redis)
            if args.action == "publish":
                _publish(args.topic, args.body, args.tag)
                return
            if args.action == "list":
                for kind, name, count in await queues.names():
                    print(f"{kind}\t{name}\t{count} message(s)")
                return
            kind, _, name = args.name.rpartition("/")
            messages = await queues.receive(kind or "queue", name, args.count, args.peek)
            for message in messages:
                print(json.dumps(message))
        finally:
            await redis.aclose()

    asyncio.run(run())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fcemu", description="A local emulator of Alibaba Cloud Function Compute")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and the container pool")
    serve.add_argument("--host", help="listen address (default FCEMU_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default FCEMU_PORT or 9000)")
    serve.add_argument("--functions-dir", type=Path, help="folder of function definitions (default ./functions)")
    serve.add_argument("--template", type=Path,
                       help="a Serverless Devs s.yaml whose fc3 resources are served too (default FCEMU_TEMPLATE, "
                            "else ./s.yaml if present)")
    serve.set_defaults(run=_serve)
    dispatcher = commands.add_parser("dispatcher", help="run a dispatcher only, against the shared Redis")
    dispatcher.add_argument("--owner", help="this process's fixed container owner (default: FCEMU_OWNER + '-dispatcher' if set, else unique)")
    dispatcher.set_defaults(run=_dispatcher)
    cleanup = commands.add_parser("cleanup", help="remove fcemu's containers")
    cleanup.add_argument("--all", action="store_true", help="every owner's containers (`make down`), not only FCEMU_OWNER's")
    cleanup.set_defaults(run=_cleanup)
    sink = commands.add_parser("mail-sink", help="an SMTP sink that prints what functions send (send-email)")
    sink.add_argument("--host", help="listen address (default: Docker's bridge gateway)")
    sink.add_argument("--port", type=int, default=1025)
    sink.set_defaults(run=_mail_sink)
    mns = commands.add_parser("mns", help="read the local MNS queues and topics that destinations deliver to")
    mns_actions = mns.add_subparsers(dest="action", required=True)
    mns_actions.add_parser("list", help="queues and topics with their message counts")
    receive = mns_actions.add_parser("receive", help="take (or peek at) the oldest messages, one JSON per line")
    receive.add_argument("name", help="a queue name, or topic/<name> for a topic")
    receive.add_argument("-n", "--count", type=int, default=16, help="most messages to take (default 16)")
    receive.add_argument("--peek", action="store_true", help="leave them on the queue")
    publish = mns_actions.add_parser("publish", help="publish to a local topic (invokes its mns_topic triggers)")
    publish.add_argument("topic")
    publish.add_argument("body")
    publish.add_argument("--tag", default="", help="the message's MessageTag")
    mns.set_defaults(run=_mns)
    logs = commands.add_parser("logs", help="function log lines kept per invocation (FCEMU_PORT: the emulator's port)")
    logs.add_argument("function", nargs="?", help="only this function's lines (its recent invocations)")
    logs.add_argument("--task", help="one async task's lines (needs FUNCTION)")
    logs.add_argument("--request-id", help="one invocation's lines")
    logs.add_argument("-f", "--follow", action="store_true", help="stream new lines as they are printed")
    logs.add_argument("--json", action="store_true", help="print each line's JSON entry (with its timestamp)")
    logs.set_defaults(run=_logs)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
