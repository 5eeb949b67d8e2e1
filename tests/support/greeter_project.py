"""The greeter project the project commands' and the installed package's tests run: a Serverless Devs s.yaml of
one python function, and the function's code."""
from __future__ import annotations

import textwrap
from pathlib import Path

PROJECT = textwrap.dedent("""\
    edition: 3.0.0
    name: {name}
    access: default
    resources:
      greeter:
        component: fc3
        props:
          region: cn-hangzhou
          functionName: greeter
          runtime: python3.10
          handler: index.handler
          code: ./code
          memorySize: 128
          timeout: 5
""")
GREETER = textwrap.dedent("""\
    def handler(event, context):
        if event == b"fail":
            raise ValueError("asked to fail")
        print("greeting " + event.decode())
        return b"hello " + event
""")


def write_greeter_project(root: Path, name: str) -> None:
    """The project in the folder root, named name in its s.yaml."""
    (root / "code").mkdir(parents=True)
    (root / "s.yaml").write_text(PROJECT.format(name=name))
    (root / "code" / "index.py").write_text(GREETER)
