"""How the open-file limit and the client connection cap are made to fit at start (emulator/open_files.py)."""
from __future__ import annotations

from emulator.open_files import ENOUGH, RESERVED, UNLIMITED, FilePlan, fitting_cap, plan


def test_a_soft_limit_below_the_cap_is_raised_towards_the_hard_one_and_the_cap_kept() -> None:
    # Linux's usual 1024 soft under Docker's or systemd's large hard limit.
    assert plan(1000, 1024, 1_048_576) == FilePlan(ENOUGH, 1000)
    assert plan(1000, 1024, 4096) == FilePlan(4096, 1000)
    # macOS: 256 soft, unlimited hard (which setrlimit refuses as a soft limit): asked for what is needed.
    assert plan(1000, 256, UNLIMITED) == FilePlan(ENOUGH, 1000)
    assert plan(100_000, 256, UNLIMITED) == FilePlan(100_000 + RESERVED, 100_000)


def test_a_soft_limit_is_never_lowered() -> None:
    assert plan(1000, 200_000, 1_048_576).soft_limit == 200_000


def test_a_cap_that_cannot_fit_is_lowered_leaving_the_reserve_or_half_the_limit() -> None:
    assert plan(1000, 1024, 1024) == FilePlan(1024, 512)
    assert plan(1000, 1800, 1800) == FilePlan(1800, 900)
    assert plan(3000, 3000, 3000) == FilePlan(3000, 3000 - RESERVED)
    assert plan(1000, 256, 256) == FilePlan(256, 128)
    assert fitting_cap(1000, 1000 + RESERVED) == 1000
    assert fitting_cap(50, 256) == 50


def _in_a_process_with(soft: int, hard: int) -> tuple[int, int]:
    """fit_connection_cap(1000) in a fresh process started with these limits: (the cap, its soft limit after)."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    script = ("import resource; from emulator.open_files import fit_connection_cap; "
              "print(fit_connection_cap(1000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run([sys.executable, "-c", script], preexec_fn=limit, capture_output=True, text=True, check=True)
    cap, after = out.stdout.split()
    return int(cap), int(after)


def test_at_start_the_soft_limit_is_raised_where_the_hard_one_allows_else_the_cap_lowered() -> None:
    assert _in_a_process_with(256, 4096) == (1000, 4096)
    assert _in_a_process_with(300, 300) == (150, 300)
