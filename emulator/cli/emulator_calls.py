"""The commands that call a running emulator (logs, mns, clock, task, trigger) through its routes, or read its
Redis."""
from __future__ import annotations

import argparse
import sys


def _publish(topic: str, body: str, tag: str) -> None:
    """Through the running emulator's route, not Redis: the emulator is who knows the topic's triggers."""
    import json
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the emulator's own URL
        f"{emulator_url()}/_fcemu/mns/topics/{topic}/messages", method="POST",
        data=json.dumps({"MessageBody": body, "MessageTag": tag}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - the emulator's own URL
        print(reply.read().decode())


def emulator_url() -> str:
    """The running emulator's address, as this machine's settings give it (any address: loopback)."""
    import os

    from emulator.local_address import local_url

    # What Settings().local_url() says, without importing pydantic (a third of a second of each `fcemu invoke`).
    return local_url(os.environ.get("FCEMU_HOST", "127.0.0.1"), int(os.environ.get("FCEMU_PORT") or 9000))


def _log_line(entry: dict[str, object]) -> str:
    """`function request-id: message`; an instance's line that belongs to no request names the instance."""
    owner = entry.get("requestId") or f"instance:{entry.get('instanceId', '')}"
    return f"{entry.get('functionName', '')} {owner}: {entry.get('message', '')}"


def logs(args: argparse.Namespace) -> int:
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
    url = f"{emulator_url()}/_fcemu/logs?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}"
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
        print(f"fcemu logs: the emulator does not answer at {emulator_url()} ({error.reason}); `make up`",
              file=sys.stderr)
        return 1
    except (http.client.HTTPException, ConnectionError) as error:
        # The emulator went away mid-stream (stopped, restarted): the lines so far are printed, and that is all.
        print(f"fcemu logs: the emulator closed the stream ({type(error).__name__})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def mns(args: argparse.Namespace) -> int:
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

    url = f"{emulator_url()}{path}"
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


def clock(args: argparse.Namespace) -> int:
    """Through the running emulator's route, which checks the duration and tells every process."""
    view = (_call_emulator("/_fcemu/clock/advance", {"by": args.duration}) if args.action == "advance"
            else _call_emulator("/_fcemu/clock"))
    if view is None:
        return 2
    print(f"advanced by {view['offsetSeconds']:g} s in all; virtual time {view['virtualTime']} ms, "
          f"real time {view['realTime']} ms")
    return 0


def task(args: argparse.Namespace) -> int:
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


def trigger(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    reply = _call_emulator(f"/_fcemu/triggers/{quote(args.function, safe='')}/{quote(args.trigger, safe='')}/fire", {})
    if reply is None:
        return 2
    print(f"trigger {args.trigger} of {args.function} fired: task {reply['taskId']}")
    return 0
