"""Where the runtime images' recipes and agents are, and how they are built: inside the installed package
(emulator/_runtimes, as the wheel holds them) or, in a checkout, its runtimes/ folder beside the package.

A build installs FC's built-in modules into the recipe's folders, so an installed package's recipes are built from
a copy in fcemu's cache folder (site-packages may be read-only, and is no place for hundreds of MB); a checkout
builds in place, as `make images` always has.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGED = Path(__file__).parent / "_runtimes"
CHECKOUT = Path(__file__).parent.parent / "runtimes"
# What a build writes into a recipe's folder, kept between builds of the cached copy (build.sh's stamps say when
# they are stale).
BUILD_OUTPUTS = ("builtins", "builtins.tmp", "builtins.log")


def recipes() -> Path:
    """The folder holding build.sh, python3/ and nodejs/."""
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


def cache_dir() -> Path:
    """FCEMU_CACHE_DIR, else $XDG_CACHE_HOME/fcemu, else ~/.cache/fcemu."""
    given = os.environ.get("FCEMU_CACHE_DIR")
    if given:
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fcemu"


def build_folder() -> Path:
    """Where the images are built from: the checkout's runtimes/, or a fresh copy of the packaged recipes in the
    cache folder (with the built-in modules an earlier build installed there)."""
    source = recipes()
    if source == CHECKOUT:
        return source
    target = cache_dir() / "runtimes"
    target.mkdir(parents=True, exist_ok=True)
    for entry in target.iterdir():  # the recipes of another fcemu version go, its build outputs stay
        if entry.is_dir() and not entry.is_symlink():
            for inner in entry.iterdir():
                if inner.name not in BUILD_OUTPUTS:
                    _remove(inner)
        else:
            _remove(entry)
    shutil.copytree(source, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*BUILD_OUTPUTS, "__pycache__"))
    return target


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def build_images() -> int:
    """Builds (or leaves as they are, when their inputs did not change) the runtime images (python, Node.js, go1,
    java) to the tags their settings (FCEMU_*_RUNTIME_IMAGE) name; returns build.sh's exit code. pip
    runs under this interpreter unless FCEMU_PIP_PYTHON names another."""
    environment = {**os.environ}
    environment.setdefault("FCEMU_PIP_PYTHON", sys.executable)
    lock_path = (cache_dir() if recipes() != CHECKOUT else CHECKOUT) / "build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # Two projects' `fcemu up` at once take turns: one's copy must not be wiped under the other's build.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder = build_folder()
        return subprocess.run(["bash", str(folder / "build.sh")], env=environment, check=False).returncode
