"""Where a long build is: the step it is in and, in a per-source step, the sources done of the
total.

The pipeline's code says `with step(name, total=...)` and `advance()`; both do nothing unless
the command line has installed a reporter for the run (`reporting`), so a run started from
the UI or a test is unchanged. The reporter writes to a copy of the stream's file descriptor
taken before Dagster starts, because Dagster sends a step's own stdout and stderr to its
compute logs while the step runs.

- On a terminal: rich's live display on stderr, the step (nested steps joined by ` › `), a bar
  and done/total for a per-source step, the time so far; each finished step stays as a line.
- Not on a terminal (piped to a file, CI): one plain line per finished step on stdout, e.g.
  `step anchored_annotations › anchoring and typing: 1000 sources in 17.4 s`.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO

REFRESH_SECONDS = 0.1  # how often a terminal's display is redrawn while a step advances


def _units(count: int, unit: str) -> str:
    return unit.removesuffix("s") if count == 1 else unit


class PlainReporter:
    """One line per finished step: its name, what it went through, its time."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def start(self, name: str, total: int | None, unit: str) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, name: str, done: int, total: int | None, unit: str, seconds: float) -> None:
        what = f"{done} {_units(done, unit)} in " if total is not None else ""
        self.stream.write(f"step {name}: {what}{seconds:.1f} s\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class RichReporter:
    """rich's live display: a line per step, a bar for a step with a total. It is redrawn by
    the steps themselves (at most every REFRESH_SECONDS while one advances), not by rich's
    refresh thread: a live thread would keep the build from forking its workers
    (`parallel.can_fork`), so a build on a terminal would run on one core."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=stream, force_terminal=True)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, auto_refresh=False,
        )  # fmt: skip
        self.progress.start()
        self.tasks: list = []
        self.drawn = 0.0

    def start(self, name: str, total: int | None, unit: str) -> None:
        self.tasks.append(self.progress.add_task(name, total=total))
        self._draw()

    def advance(self, done: int) -> None:
        self.progress.update(self.tasks[-1], completed=done)
        if time.monotonic() - self.drawn >= REFRESH_SECONDS:
            self._draw()

    def _draw(self) -> None:
        self.progress.refresh()
        self.drawn = time.monotonic()

    def finish(self, name: str, done: int, total: int | None, unit: str, seconds: float) -> None:
        task = self.tasks.pop()
        what = f"{done} {_units(done, unit)}, " if total is not None else ""
        self.progress.update(task, description=f"{name} ({what}{seconds:.1f} s)", completed=done)
        self._draw()

    def close(self) -> None:
        self.progress.stop()


class Recorder:
    """The steps finished in a forked child (`parallel.in_background`), kept for the parent to
    report when it collects the child's result (`replay`)."""

    def __init__(self) -> None:
        self.finished: list[tuple[str, int, int | None, str, float]] = []

    def start(self, name: str, total: int | None, unit: str) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, name: str, done: int, total: int | None, unit: str, seconds: float) -> None:
        self.finished.append((name, done, total, unit, seconds))

    def close(self) -> None:
        pass


_reporter: PlainReporter | RichReporter | Recorder | None = None
_steps: list[list] = []  # [name, done, total] of each open step, outermost first


@contextmanager
def reporting(stream: IO[str] | None = None) -> Iterator[None]:
    """Report the steps run inside to `stream` (default: stderr on a terminal, else stdout)."""
    global _reporter
    if stream is None:
        terminal = sys.stderr.isatty()
        stream = sys.stderr if terminal else sys.stdout
    else:
        terminal = stream.isatty()
    stream.flush()
    try:
        copy = os.fdopen(os.dup(stream.fileno()), "w", encoding="utf-8", closefd=True)
    except (OSError, ValueError, io.UnsupportedOperation):
        copy = None  # a stream without a descriptor (a test's capture): Dagster leaves it alone
    reporter = (RichReporter if terminal else PlainReporter)(copy or stream)
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous
        reporter.close()
        if copy is not None:
            copy.close()


@contextmanager
def recording() -> Iterator[list[tuple[str, int, int | None, str, float]]]:
    """In a forked child: the steps finished inside are kept (in the list it gives), not
    written, so that the parent reports them once (`replay`). Nothing is kept when the
    parent reports nothing."""
    global _reporter
    previous, recorder = _reporter, Recorder()
    _reporter = recorder if previous is not None else None
    try:
        yield recorder.finished
    finally:
        _reporter = previous


def replay(finished: Iterable[tuple[str, int, int | None, str, float]]) -> None:
    """Report steps that a child finished (`recording`), as if they had run here."""
    if _reporter is None:
        return
    for name, done, total, unit, seconds in finished:
        _reporter.start(name, total, unit)
        _reporter.finish(name, done, total, unit, seconds)


@contextmanager
def step(name: str, total: int | None = None, unit: str = "sources") -> Iterator[None]:
    """A step of the build; `total` when it goes through that many `unit`s (`advance`)."""
    if _reporter is None:
        yield
        return
    full = " › ".join([*(s[0] for s in _steps), name])
    _steps.append([name, 0, total])
    started = time.monotonic()
    _reporter.start(full, total, unit)
    try:
        yield
    finally:
        _, done, _ = _steps.pop()
        _reporter.finish(full, done, total, unit, time.monotonic() - started)


def checked(checks: Iterable[tuple[str, Callable[[], list[str]]]]) -> list[str]:
    """Run each (name, check) as a step of its own; every check's problems, in order."""
    problems: list[str] = []
    for name, check in checks:
        with step(name):
            problems += check()
    return problems


def advance(count: int = 1) -> None:
    """`count` more units of the innermost open step are done."""
    if _reporter is not None and _steps:
        _steps[-1][1] += count
        _reporter.advance(_steps[-1][1])
