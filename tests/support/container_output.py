"""A container's output, followed until a text appears in it, for no longer than a deadline: a test that waits for
a line never hangs on a container that does not print it."""
from __future__ import annotations

import threading

from docker.models.containers import Container


def output_until(container: Container, text: str, timeout: float = 60) -> str:
    """The container's output from its start up to the piece that holds `text` (stdout and stderr). The followed
    stream is closed by a timer at the deadline, which ends the read; then the test fails, saying what came."""
    stream = container.logs(stream=True, follow=True)
    deadline = threading.Timer(timeout, stream.close)
    deadline.start()
    output = ""
    try:
        for raw in stream:
            output += raw.decode(errors="replace")
            if text in output:
                return output
    finally:
        deadline.cancel()
        stream.close()
    raise AssertionError(f"{text!r} did not come in the container's output within {timeout} s; its end: "
                         f"{output[-500:]!r}")
