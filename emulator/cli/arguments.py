"""`fcemu`'s command line: its commands and their flags, each command's `run` the function that does it."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.cli import emulator_calls, project_commands, serving

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def parser() -> argparse.ArgumentParser:
    """The commands in the order `fcemu --help` lists them."""
    parser = argparse.ArgumentParser(prog="fcemu", description="A local emulator of Alibaba Cloud Function Compute")
    commands = parser.add_subparsers(dest="command", required=True)
    _serving(commands)
    _project(commands)
    _mail_sink(commands)
    _mns(commands)
    _steering(commands)
    _logs(commands)
    return parser


def _serving(commands: Commands) -> None:
    """The emulator's own processes, and their containers."""
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
    serve.set_defaults(run=serving.serve)
    dispatcher = commands.add_parser("dispatcher", help="run a dispatcher only, against the shared Redis")
    dispatcher.add_argument("--owner", help="this process's fixed container owner (default: FCEMU_OWNER + '-dispatcher' if set, else unique)")
    dispatcher.set_defaults(run=serving.dispatcher)
    cleanup = commands.add_parser("cleanup", help="remove fcemu's containers")
    cleanup.add_argument("--all", action="store_true", help="every owner's containers (`make down`), not only FCEMU_OWNER's")
    cleanup.set_defaults(run=serving.cleanup)


def _project(commands: Commands) -> None:
    """What is run in a project's folder."""
    project_up = commands.add_parser("up", help="start this project's emulator in the background (its state in "
                                     "./.fcemu/), building the images and starting a Redis first where needed")
    project_up.add_argument("--port", type=int, help="listen port (default FCEMU_PORT or 9000)")
    project_up.add_argument("--template", type=Path, help="a Serverless Devs s.yaml (default ./s.yaml if present)")
    project_up.add_argument("--debug", action="append", metavar="FUNCTION[:PORT]",
                            help="run this function under a debugger (see `fcemu serve --debug`)")
    project_up.add_argument("--no-images", action="store_true", help="do not check or build the runtime images")
    project_up.set_defaults(run=project_commands.up)
    commands.add_parser("down", help="stop this project's emulator and Redis and remove its containers").set_defaults(
        run=project_commands.down)
    commands.add_parser("status", help="what runs for this project, and where").set_defaults(run=project_commands.status)
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
    invoke.set_defaults(run=project_commands.invoke)
    images = commands.add_parser("images", help="build the runtime images, python, Node.js, go1 and java (FC's "
                                 "built-in modules too, unless FCEMU_SLIM_IMAGES=1); unchanged ones are left as they are")
    images.set_defaults(run=project_commands.images)


def _mail_sink(commands: Commands) -> None:
    sink = commands.add_parser("mail-sink", help="an SMTP sink that prints what functions send (send-email)")
    sink.add_argument("--host", help="listen address (default: Docker's bridge gateway)")
    sink.add_argument("--port", type=int, default=1025)
    sink.set_defaults(run=serving.mail_sink)


def _mns(commands: Commands) -> None:
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
    mns.set_defaults(run=emulator_calls.mns)


def _steering(commands: Commands) -> None:
    """The running emulator's clock, tasks and triggers."""
    clock = commands.add_parser("clock", help="the emulator's clock: advance it past delays, backoff and timers")
    clock_actions = clock.add_subparsers(dest="action", required=True)
    advance = clock_actions.add_parser("advance", help="move it forward for every process (never back)")
    advance.add_argument("duration", help="30s, 15m, 1h, 2d (or plain seconds)")
    clock_actions.add_parser("show", help="the offset, the real and the advanced time")
    clock.set_defaults(run=emulator_calls.clock)
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
    task.set_defaults(run=emulator_calls.task)
    trigger = commands.add_parser("trigger", help="steer a trigger")
    trigger_actions = trigger.add_subparsers(dest="action", required=True)
    fire = trigger_actions.add_parser("fire", help="a timer trigger fires now (even a disabled one)")
    fire.add_argument("function")
    fire.add_argument("trigger")
    trigger.set_defaults(run=emulator_calls.trigger)


def _logs(commands: Commands) -> None:
    logs = commands.add_parser("logs", help="function log lines kept per invocation (FCEMU_PORT: the emulator's port)")
    logs.add_argument("function", nargs="?", help="only this function's lines (its recent invocations)")
    logs.add_argument("--task", help="one async task's lines (needs FUNCTION)")
    logs.add_argument("--request-id", help="one invocation's lines")
    logs.add_argument("-f", "--follow", action="store_true", help="stream new lines as they are printed")
    logs.add_argument("--json", action="store_true", help="print each line's JSON entry (with its timestamp)")
    logs.set_defaults(run=emulator_calls.logs)
