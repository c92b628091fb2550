"""Independent work spread over the machine's cores, results in input order.

Sources are the unit of parallelism. `ordered_map` runs the calls in forked worker processes
(they start with everything imported) and returns the results in input order, so outputs are
the same bytes whatever the number of workers; the first failure in input order is raised.
It stays serial with one worker (`USMX_WORKERS=1`), without `fork`, in a process that already
runs other threads (a child would inherit their locks), under `min_items`, or in a worker.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from pipeline import progress
from pipeline.core.errors import BuildError

WORKERS_ENV = "USMX_WORKERS"
T = TypeVar("T")

_in_worker = False
_calls: Sequence[tuple[Any, ...]] = ()  # what the workers of the running ordered_map call


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def workers() -> int:
    """How many processes `ordered_map` uses: $USMX_WORKERS, else the usable cores."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if not value:
        return usable_cores()
    if not value.isdigit() or int(value) < 1:
        raise BuildError(
            f"${WORKERS_ENV}", f"the number of workers is {value!r}, not a whole number ≥ 1",
            f"set {WORKERS_ENV} to 1 (serial) or more, or unset it to use every usable core",
        )  # fmt: skip
    return int(value)


def can_fork() -> bool:
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not _in_worker
    )


def processes(calls: int, min_items: int = 2, parallel: bool = True) -> int:
    """How many processes `ordered_map` runs `calls` calls in: 1 (this one) or more workers."""
    count = min(workers(), calls)
    return 1 if not parallel or count < 2 or calls < min_items or not can_fork() else count


def _mark_worker() -> None:
    global _in_worker
    _in_worker = True


def ordered_map(
    function: Callable[..., T],
    *iterables: Iterable[Any],
    min_items: int = 2,
    chunksize: int | None = None,
    parallel: bool = True,
    units: Callable[[T], int] | None = None,
) -> list[T]:
    """[function(*args) for args in zip(*iterables)], in worker processes when worth it
    (`parallel` and at least `min_items` calls). `function` must be a module-level function
    (it is sent to the workers by name) and its results picklable. Each call done advances
    the innermost progress step by one, or by `units(result)` (a call that does several)."""
    calls: Sequence[tuple[Any, ...]] = list(zip(*iterables, strict=True))
    count = processes(len(calls), min_items, parallel)
    if count == 1:
        return [_done(function(*args), units) for args in calls]
    if chunksize is None:  # a few chunks per worker: even load, little messaging
        chunksize = max(1, len(calls) // (count * 4))
    global _calls
    # the workers are forked when the first chunk is sent, after `_calls` is set: each finds
    # the arguments in its copy of this memory, and only their positions are pickled
    _calls, context = calls, multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(count, mp_context=context, initializer=_mark_worker) as pool:
            results = pool.map(_call, [function] * len(calls), range(len(calls)),
                               chunksize=chunksize)  # fmt: skip
            return [_done(r, units) for r in results]
    finally:
        _calls = ()


def _call(function: Callable[..., T], position: int) -> T:
    return function(*_calls[position])


@contextmanager
def in_background(
    function: Callable[..., T], *args: Any, here: bool = False
) -> Iterator[Callable[[], T]]:
    """function(*args) in a forked child while this process goes on; gives the call that waits
    for it and returns its result (or raises its exception here, and reports the steps it
    timed). The child sees this process's memory as it was at the fork: nothing is pickled on
    the way in, only the result on the way back. Where `ordered_map` would not fork (one
    worker, no `fork`, other threads, in a worker), function runs here at once instead. A
    child still running when the block is left (an error before the wait) is killed, so it
    writes nothing after it. Waiting again gives the same result (or raises the same error).
    `here` runs it here at once in any case (a call a forked child cannot make)."""
    if here or processes(2) == 1:
        value = function(*args)
        yield lambda: value
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        # its copy of the reading end closed: if the build dies, sending a result larger than
        # the pipe holds fails at once instead of waiting forever for a reader
        receive.close()
        _mark_worker()
        try:
            with progress.recording() as finished:
                outcome: tuple = (True, function(*args), finished)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
            outcome = (False, exc, [])
        try:
            send.send(outcome)
        except Exception as exc:  # noqa: BLE001 - a result or an error that does not pickle
            send.send((False, RuntimeError(f"{function.__name__}: {exc!r}"), []))

    process = context.Process(target=child, name=f"usmx-{function.__name__}")
    process.start()
    send.close()

    outcome: list[tuple] = []  # the child's outcome once received: a second wait returns it

    def wait() -> T:
        if outcome:
            ok, value = outcome[0]
            if not ok:
                raise value
            return value
        try:
            ok, value, finished = receive.recv()
        except EOFError:
            process.join()
            raise BuildError(
                function.__name__, f"its process stopped (exit code {process.exitcode}) "
                "before it finished", f"build again; set {WORKERS_ENV}=1 to run it in the "
                "build's own process and see why",
            ) from None  # fmt: skip
        process.join()
        progress.replay(finished)
        outcome.append((ok, value))
        if not ok:
            raise value
        return value

    try:
        yield wait
    finally:
        receive.close()
        if process.is_alive():
            process.kill()
        process.join()


def _done(result: T, units: Callable[[T], int] | None = None) -> T:
    progress.advance(1 if units is None else units(result))
    return result
