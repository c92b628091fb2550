"""The IO manager through which the steps hand each other their outputs, and the handoff
that lets `build` and `watch` write storage/ after the outputs are published.

Dagster's filesystem IO manager pickles every output to storage/<asset> when the step ends
and unpickles it in each step that needs it. That is how a step started later from the UI
finds its inputs, and how the multiprocess executor hands outputs from one process to
another. In a run whose steps all run in this process (`build`, `watch`: the in-process
executor), the same objects are in memory already; at 1,000 sources, pickling the seven
tables (84 MB) and reading them back cost about half a second of a three-second rebuild.

So `BuildRunner` (pipeline/cli/main.py) runs the job inside `HANDOFF.deferring()`: each output
is kept in memory and handed to the steps of the run as it is, its old file in storage/ is
removed at once (no later run can load a stale value), and `HANDOFF.flush()` pickles the
kept outputs to storage/ when the run is over: `build` before it exits, `watch` after it
has reported the build. The runner holds the instance's build lock (`BuildLock`,
pipeline/defs/assets.py) from the start of the run to the end of the flush, so no other run can
read storage/ before it is complete. Any other run (the UI, the sensor, the multiprocess
executor, a test calling the job directly) writes each output before its step ends, as
Dagster's own IO manager does. Files are replaced by rename, so a reader sees a whole
file, old or new, never a torn one.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.fs_io_manager import PickledObjectFilesystemIOManager

from pipeline.core.sources import write_atomically


class Handoff:
    """The outputs of the run this process is running in-process, until they are written."""

    def __init__(self) -> None:
        self.active = False
        self.kept: dict[str, Any] = {}  # storage path -> the object the step returned

    @contextmanager
    def deferring(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False

    def flush(self) -> None:
        """Pickle every kept output to its file in storage/ (the caller holds the lock)."""
        kept, self.kept = self.kept, {}
        for path, obj in kept.items():
            _store(Path(path), obj)


HANDOFF = Handoff()
_ABSENT = object()


def _store(path: Path, obj: Any) -> None:
    """storage/<asset> as Dagster's filesystem IO manager writes it (a pickle), by rename."""
    write_atomically(path, pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))


def _whole_plan_here(context: dg.OutputContext) -> bool:
    """Whether this process runs every step of the run's plan (the in-process executor); the
    multiprocess executor runs each step in a process of its own."""
    try:
        plan = context.step_context.execution_plan
    except Exception:  # no step context (an IO manager called directly): write now
        return False
    return set(plan.step_keys_to_execute) == {handle.to_key() for handle in plan.step_dict}


class HandoffIOManager(PickledObjectFilesystemIOManager):
    """storage/<asset> as Dagster's filesystem IO manager writes it (a pickle), written by
    rename; inside `HANDOFF.deferring()`, in a run of the whole plan in this process, kept
    in memory until `HANDOFF.flush()`."""

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path) -> None:
        target = Path(path)
        if HANDOFF.active and _whole_plan_here(context):
            target.unlink(missing_ok=True)  # the old value is not this run's
            HANDOFF.kept[str(target)] = obj
            return
        _store(target, obj)

    def load_from_path(self, context: dg.InputContext, path) -> Any:
        kept = HANDOFF.kept.get(str(Path(path)), _ABSENT)
        if kept is not _ABSENT:
            return kept
        return super().load_from_path(context, path)


class HandoffIOManagerFactory(dg.ConfigurableIOManagerFactory):
    """The project's `io_manager`: files under the instance's storage folder, where
    Dagster's default puts them (and where `BuildLock` takes its lock)."""

    def create_io_manager(self, context: dg.InitResourceContext) -> HandoffIOManager:
        return HandoffIOManager(base_dir=context.instance.storage_directory())
