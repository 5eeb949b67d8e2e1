"""The `fcemu` command: `fcemu serve` runs the emulator, `fcemu cleanup` removes its containers."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.settings import Settings


def _preflight(settings: Settings) -> str | None:
    """Checked before the server starts, so that a bad manifest or a missing Redis is one clear line."""
    import ipaddress

    import redis

    from emulator.catalog.loader import ManifestError
    from emulator.catalog.sources import load_sources
    from emulator.redis_io.client import sync_client

    try:
        keys = settings.access_key_pairs()
    except (OSError, ValueError) as error:
        return f"access keys: {error}"
    try:
        settings.debug_ports()
        settings.allowed_host_patterns()
    except ValueError as error:
        return str(error)
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
        # It may name a layer published through the API, which is on this host's disk once mirrored from Redis.
        if not _mirror_published_layers(settings):
            return str(error)
        try:
            load_sources(settings)
        except ManifestError as again:
            return str(again)
    try:
        with sync_client(settings.redis_url, socket_connect_timeout=3) as client:
            client.ping()
    except (redis.RedisError, redis.exceptions.RedisClusterException) as error:
        return f"cannot reach Redis at {settings.redis_url} ({error}); `make up` starts one"
    except ValueError as error:  # a URL that names no Redis
        return str(error)
    return None


def _mirror_published_layers(settings: Settings) -> bool:
    """Mirrors the published layers to disk; False when Redis cannot be reached (the caller's error stands)."""
    import asyncio

    from redis.exceptions import RedisError

    from emulator.catalog.published_layers import PublishedLayers
    from emulator.catalog.sources import layer_source
    from emulator.redis_io.client import async_client, close_client

    async def mirror() -> None:
        client = async_client(settings.redis_url, socket_connect_timeout=3)
        try:
            await PublishedLayers(client, layer_source(settings)).mirror()
        finally:
            await close_client(client)

    try:
        asyncio.run(mirror())
    except (RedisError, OSError):
        return False
    return True


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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from emulator.api.app import create_app
    from emulator.api.http_protocol import bounded_protocol
    from emulator.open_files import fit_connection_cap
    from emulator.process_exit import run_to_exit

    settings = _serve_settings(args)
    problem = _preflight(settings)
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


def _cleanup(args: argparse.Namespace) -> int:
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


def _up(args: argparse.Namespace) -> int:
    import os

    from emulator.project.lifecycle import UpOptions, up
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
    options = UpOptions(host=os.environ.get("FCEMU_HOST") or "127.0.0.1", port=port, template=args.template,
                        debug=",".join(args.debug or []))
    return up(ProjectState.here(), options)


def _down(args: argparse.Namespace) -> int:
    from emulator.project.lifecycle import down
    from emulator.project.state import ProjectState

    return down(ProjectState.here())


def _status(args: argparse.Namespace) -> int:
    from emulator.project.lifecycle import status
    from emulator.project.state import ProjectState

    return status(ProjectState.here())


def _invoke(args: argparse.Namespace) -> int:
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
        return (invoke_async if args.asynchronous else invoke_sync)(_emulator_url(), invocation)
    except InvokeError as error:
        print(f"fcemu invoke: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _images(args: argparse.Namespace) -> int:
    from emulator.runtime_files import build_images

    return build_images()


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

    request = urllib.request.Request(  # noqa: S310 - the emulator's own URL
        f"{_emulator_url()}/_fcemu/mns/topics/{topic}/messages", method="POST",
        data=json.dumps({"MessageBody": body, "MessageTag": tag}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - the emulator's own URL
        print(reply.read().decode())


def _emulator_url() -> str:
    """The running emulator's address, as this machine's settings give it (any address: loopback)."""
    import os

    from emulator.local_address import local_url

    # What Settings().local_url() says, without importing pydantic (a third of a second of each `fcemu invoke`).
    return local_url(os.environ.get("FCEMU_HOST", "127.0.0.1"), int(os.environ.get("FCEMU_PORT") or 9000))


def _log_line(entry: dict[str, object]) -> str:
    """`function request-id: message`; an instance's line that belongs to no request names the instance."""
    owner = entry.get("requestId") or f"instance:{entry.get('instanceId', '')}"
    return f"{entry.get('functionName', '')} {owner}: {entry.get('message', '')}"


def _logs(args: argparse.Namespace) -> int:
    """Through the running emulator's route (/_fcemu/logs), which the console reads too."""
    import http.client
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from emulator.logs.reader import ANSWER_MAX_BYTES, TRUNCATED_HEADER

    if args.task and not args.function:
        print("fcemu logs: --task needs the FUNCTION (task ids are unique per function)", file=sys.stderr)
        return 2
    query = {"function": args.function or "", "requestId": args.request_id or "", "taskId": args.task or ""}
    if args.follow:
        query["follow"] = "true"
    url = f"{_emulator_url()}/_fcemu/logs?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}"
    try:
        # No timeout while following: the route sends a comment line when idle, and the user ends it (Ctrl-C).
        with urllib.request.urlopen(url, timeout=None if args.follow else 30) as reply:  # noqa: S310 - our URL
            if reply.headers.get(TRUNCATED_HEADER):
                print(f"fcemu logs: older lines left out (an answer holds at most {ANSWER_MAX_BYTES // 2**20} MiB); "
                      "name a --request-id or --task for the rest", file=sys.stderr)
            for raw in reply:
                line = raw.decode(errors="replace").rstrip("\n")
                if args.follow:
                    if line == ": following":
                        # On stderr, out of the lines' way: from now on no new line is missed.
                        print("following function logs (Ctrl-C ends)", file=sys.stderr, flush=True)
                    elif line == "event: behind":
                        print("fcemu logs: lines were missed (this terminal read them too slowly, or Redis was away) "
                              "and the stream ended; read them back with --request-id", file=sys.stderr)
                        return 1
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
    except (http.client.HTTPException, ConnectionError) as error:
        # The emulator went away mid-stream (stopped, restarted): the lines so far are printed, and that is all.
        print(f"fcemu logs: the emulator closed the stream ({type(error).__name__})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _mns(args: argparse.Namespace) -> int:
    """Reads the local MNS queues and topics that destinations deliver to, straight from Redis."""
    import asyncio
    import json

    from emulator.destinations.local_queues import LocalQueues
    from emulator.redis_io.client import async_client, close_client

    async def run() -> None:
        from emulator.settings import Settings

        redis = async_client(Settings().redis_url)
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
            await close_client(redis)

    asyncio.run(run())
    return 0


def _call_emulator(path: str, body: object | None = None, method: str | None = None) -> dict[str, object] | None:
    """POSTs `body` (GETs without one, unless `method` says otherwise) to the running emulator's route; prints
    its error and returns None. An answer without a body is {}."""
    import json
    import urllib.error
    import urllib.request

    url = f"{_emulator_url()}{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the emulator's own URL
        url, method=method or ("GET" if body is None else "POST"), data=data,
        headers={"Content-Type": "application/json"} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - the emulator's own URL
            raw = reply.read()
            return dict(json.loads(raw)) if raw.strip() else {}
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("Message", error.reason)
        except ValueError:
            message = error.reason
        print(f"fcemu: {message}", file=sys.stderr)
    except urllib.error.URLError as error:
        print(f"fcemu: cannot reach the emulator at {url} ({error.reason})", file=sys.stderr)
    return None


def _clock(args: argparse.Namespace) -> int:
    """Through the running emulator's route, which checks the duration and tells every process."""
    view = (_call_emulator("/_fcemu/clock/advance", {"by": args.duration}) if args.action == "advance"
            else _call_emulator("/_fcemu/clock"))
    if view is None:
        return 2
    print(f"advanced by {view['offsetSeconds']:g} s in all; virtual time {view['virtualTime']} ms, "
          f"real time {view['realTime']} ms")
    return 0


def _task(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    function, task_id = quote(args.function, safe=""), quote(args.task_id, safe="")
    if args.action == "stop":  # FC's own StopAsyncTask
        if _call_emulator(f"/2023-03-30/functions/{function}/async-tasks/{task_id}/stop", method="PUT") is None:
            return 2
        print(f"task {args.task_id} of {args.function} is stopping (or stopped)")
        return 0
    if args.action == "rerun":
        body = {} if args.payload is None else {"payload": args.payload}
        reply = _call_emulator(f"/_fcemu/tasks/{function}/{task_id}/rerun", body)
        if reply is None:
            return 2
        print(f"task {reply['taskId']} of {args.function} re-runs {reply['rerunOf']}")
        return 0
    reply = _call_emulator(f"/_fcemu/tasks/{function}/{task_id}/run-now", {})
    if reply is None:
        return 2
    print(f"task {reply['taskId']} of {args.function} is due now ({reply['status']})")
    return 0


def _trigger(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    reply = _call_emulator(f"/_fcemu/triggers/{quote(args.function, safe='')}/{quote(args.trigger, safe='')}/fire", {})
    if reply is None:
        return 2
    print(f"trigger {args.trigger} of {args.function} fired: task {reply['taskId']}")
    return 0


# Commands that talk to a running emulator (or its Redis): run in a project's folder, they find the one `fcemu up`
# started there.
PROJECT_CLIENTS = frozenset({"logs", "clock", "task", "trigger", "mns", "invoke"})


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
    serve.add_argument("--debug", action="append", metavar="FUNCTION[:PORT]",
                       help="run this function under a debugger (debugpy or node --inspect) on 127.0.0.1:PORT "
                            "(default 5678 for python, 9229 for nodejs); repeatable; replaces FCEMU_DEBUG")
    serve.set_defaults(run=_serve)
    dispatcher = commands.add_parser("dispatcher", help="run a dispatcher only, against the shared Redis")
    dispatcher.add_argument("--owner", help="this process's fixed container owner (default: FCEMU_OWNER + '-dispatcher' if set, else unique)")
    dispatcher.set_defaults(run=_dispatcher)
    cleanup = commands.add_parser("cleanup", help="remove fcemu's containers")
    cleanup.add_argument("--all", action="store_true", help="every owner's containers (`make down`), not only FCEMU_OWNER's")
    cleanup.set_defaults(run=_cleanup)
    project_up = commands.add_parser("up", help="start this project's emulator in the background (its state in "
                                     "./.fcemu/), building the images and starting a Redis first where needed")
    project_up.add_argument("--port", type=int, help="listen port (default FCEMU_PORT or 9000)")
    project_up.add_argument("--template", type=Path, help="a Serverless Devs s.yaml (default ./s.yaml if present)")
    project_up.add_argument("--debug", action="append", metavar="FUNCTION[:PORT]",
                            help="run this function under a debugger (see `fcemu serve --debug`)")
    project_up.add_argument("--no-images", action="store_true", help="do not check or build the runtime images")
    project_up.set_defaults(run=_up)
    commands.add_parser("down", help="stop this project's emulator and Redis and remove its containers").set_defaults(
        run=_down)
    commands.add_parser("status", help="what runs for this project, and where").set_defaults(run=_status)
    invoke = commands.add_parser("invoke", help="invoke a function of this project's emulator (sync: the result "
                                 "and the log tail; --async [--wait])")
    invoke.add_argument("function")
    invoke.add_argument("stdin", nargs="?", choices=["-"], help="read the event from stdin")
    given = invoke.add_mutually_exclusive_group()
    given.add_argument("-e", "--event", help="the event, as text (JSON or anything)")
    given.add_argument("-f", "--event-file", type=Path, help="a file holding the event")
    invoke.add_argument("--async", dest="asynchronous", action="store_true", help="an async invocation (202)")
    invoke.add_argument("--delay", type=int, help="x-fc-async-delay, seconds (0-3600)")
    invoke.add_argument("--task-id", help="x-fc-async-task-id")
    invoke.add_argument("--wait", action="store_true", help="follow the task to its end, with its log lines")
    invoke.set_defaults(run=_invoke)
    images = commands.add_parser("images", help="build the python and Node.js runtime images (FC's built-in modules "
                                 "too, unless FCEMU_SLIM_IMAGES=1); unchanged ones are left as they are")
    images.set_defaults(run=_images)
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
    clock = commands.add_parser("clock", help="the emulator's clock: advance it past delays, backoff and timers")
    clock_actions = clock.add_subparsers(dest="action", required=True)
    advance = clock_actions.add_parser("advance", help="move it forward for every process (never back)")
    advance.add_argument("duration", help="30s, 15m, 1h, 2d (or plain seconds)")
    clock_actions.add_parser("show", help="the offset, the real and the advanced time")
    clock.set_defaults(run=_clock)
    task = commands.add_parser("task", help="steer an async task")
    task_actions = task.add_subparsers(dest="action", required=True)
    run_now = task_actions.add_parser("run-now", help="a deferred or retrying task becomes due now")
    run_now.add_argument("function")
    run_now.add_argument("task_id")
    rerun = task_actions.add_parser("rerun", help="a finished task runs again as a new task (same payload, "
                                    "the function's current async config)")
    rerun.add_argument("function")
    rerun.add_argument("task_id")
    rerun.add_argument("--payload", help="run it with this payload instead (not for an HTTP request)")
    stop = task_actions.add_parser("stop", help="stop a task (FC's StopAsyncTask)")
    stop.add_argument("function")
    stop.add_argument("task_id")
    task.set_defaults(run=_task)
    trigger = commands.add_parser("trigger", help="steer a trigger")
    trigger_actions = trigger.add_subparsers(dest="action", required=True)
    fire = trigger_actions.add_parser("fire", help="a timer trigger fires now (even a disabled one)")
    fire.add_argument("function")
    fire.add_argument("trigger")
    trigger.set_defaults(run=_trigger)
    logs = commands.add_parser("logs", help="function log lines kept per invocation (FCEMU_PORT: the emulator's port)")
    logs.add_argument("function", nargs="?", help="only this function's lines (its recent invocations)")
    logs.add_argument("--task", help="one async task's lines (needs FUNCTION)")
    logs.add_argument("--request-id", help="one invocation's lines")
    logs.add_argument("-f", "--follow", action="store_true", help="stream new lines as they are printed")
    logs.add_argument("--json", action="store_true", help="print each line's JSON entry (with its timestamp)")
    logs.set_defaults(run=_logs)
    args = parser.parse_args(argv)
    if args.command in PROJECT_CLIENTS:
        from emulator.project.state import ProjectState

        ProjectState.here().apply_to_environment()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
