"""Putting a validated package in place: one publish at a time, swapped in whole.

The package is staged beside `outputs/` and swapped in with one atomic exchange of the two
directories (Linux renameat2 RENAME_EXCHANGE), so `outputs/` is all old or all new. Elsewhere
two renames are used, and the next build rolls a half-done swap back and removes leftovers.
`USMX_KILL_AT=<point>` makes the process SIGKILL itself at a named point of publishing, and
`USMX_REMOVE_STAGING_AT=<point>` removes the staging folder there; the tests use them to check
that a build killed there, or robbed of its staging folder, leaves a valid outputs/.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KILL_POINTS = ("writing", "staged", "validated", "exchanged")


def checkpoint(point: str, staging: Path | None = None) -> None:
    """Fault injection for the tests: die here, as a killed build would, or lose `staging`."""
    if os.environ.get("USMX_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if staging is not None and os.environ.get("USMX_REMOVE_STAGING_AT") == point:
        shutil.rmtree(staging)


@contextmanager
def publish_lock(outputs: Path) -> Iterator[None]:
    """An exclusive flock beside outputs/ while a build compares, stages and swaps: two builds
    wait for each other; the kernel releases it when the process ends, however it ends."""
    path = outputs.parent / f".{outputs.name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def staging_folder(outputs: Path) -> Path:
    staging = outputs.parent / f"{outputs.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories; False where the system cannot."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def _siblings(outputs: Path, kind: str) -> list[Path]:
    return sorted(outputs.parent.glob(f"{outputs.name}.{kind}-*"))


def recover(outputs: Path) -> None:
    """Clean up after an interrupted publish: roll back a half-done swap, drop leftovers."""
    previous = _siblings(outputs, "previous")
    if not outputs.exists() and previous:
        os.replace(previous[-1], outputs)
        previous = previous[:-1]
    for leftover in previous + _siblings(outputs, "staging"):
        shutil.rmtree(leftover, ignore_errors=True)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def same_bytes(x: Path, y: Path) -> bool:
    """The two files hold the same bytes (one file hard-linked to both is not read); False
    when either cannot be read."""
    try:
        size = x.stat().st_size == y.stat().st_size
        return size and (os.path.samefile(x, y) or x.read_bytes() == y.read_bytes())
    except OSError:
        return False


def same_tree(a: Path, b: Path) -> bool:
    """The two folders hold the same files with the same bytes (subfolders included)."""
    names = _files(a)
    return names == _files(b) and all(same_bytes(a / name, b / name) for name in names)


def swap(staging: Path, outputs: Path) -> None:
    """Put `staging` in place of `outputs` (atomically where the system can). Where the second
    rename fails, the first is undone: outputs/ is never left missing."""
    if not staging.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the staging folder vanished", str(staging))
    if outputs.exists() and _exchange(staging, outputs):
        checkpoint("exchanged")  # outputs/ is new; the old files are in staging, to remove
        shutil.rmtree(staging, ignore_errors=True)
        return
    previous = outputs.parent / f"{outputs.name}.previous-{os.getpid()}"
    if outputs.exists():
        os.replace(outputs, previous)
    try:
        os.replace(staging, outputs)
    except OSError:
        if previous.exists() and not outputs.exists():
            os.replace(previous, outputs)
        raise
    shutil.rmtree(previous, ignore_errors=True)
