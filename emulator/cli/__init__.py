"""The `fcemu` command: `fcemu serve` runs the emulator, `fcemu up` a project's, and the others call a running one
(arguments.py holds the commands and their flags)."""
from __future__ import annotations

import logging

from emulator.cli.arguments import parser

# Commands that talk to a running emulator (or its Redis): run in a project's folder, they find the one `fcemu up`
# started there.
PROJECT_CLIENTS = frozenset({"logs", "clock", "task", "trigger", "mns", "invoke"})


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in PROJECT_CLIENTS:
        from emulator.project.state import ProjectState

        ProjectState.here().apply_to_environment()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.run(args))

