"""The build service: `python -m pipeline watch` rebuilds outputs/ whenever raw/ changes.

It pays the start of Dagster and the data libraries once, then waits on `watchfiles` for a
change under raw/ or the code and runs the job in-process (each run tagged with its trigger).
One build at a time: what changes meanwhile makes one more build after it. A refused input
prints its sentences and is not retried until the next change. A new code version ends the
watch and the service execs itself with the new code, so the build record names the code that
ran (not `watchfiles.run_process`, which stops it mid-build). SIGINT and SIGTERM stop it.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from pipeline.cache.keys import CODE_FILES, CODE_FOLDERS, code_sha256, code_version
from pipeline.cli.runner import BuildRunner
from pipeline.core.errors import REPO_ROOT, BuildError
from pipeline.core.sources import raw_file_hashes
from pipeline.defs.automation import CHANGED_TAG, TRIGGER_TAG, changed_files, describe_files

FIRST_LOOK_MS = 200  # the watch yields this long after it starts, if nothing changed: build


def raw_state(raw_dir: Path) -> dict[str, str]:
    """{path under raw/: sha256} of every file; empty when raw/ is missing or holds a link (the
    build says so)."""
    try:
        return raw_file_hashes(raw_dir)
    except (FileNotFoundError, BuildError):
        return {}


def watched_paths(raw_dir: Path) -> list[Path]:
    """raw/, and every folder and file the code version covers."""
    code = [REPO_ROOT / name for name in (*CODE_FOLDERS, *CODE_FILES)]
    return [raw_dir, *(path for path in code if path.exists())]


def not_bytecode(change: watchfiles.Change, path: str) -> bool:
    """Every change but Python's bytecode caches (not part of the code version)."""
    return "__pycache__" not in Path(path).parts and not path.endswith(".pyc")


@dataclass
class BuildService:
    """The files of the last build the service started and the code it started with; `build`
    runs one build with the given tags and returns its exit code (0 built, 1 refused)."""

    raw_dir: Path
    build: Callable[[dict[str, str]], int]
    code: str = ""
    built_from: dict[str, str] | None = None
    builds: int = 0
    last_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.code = self.code or code_version()

    def code_changed(self) -> bool:
        try:
            return code_sha256() != self.code
        except OSError:  # a file removed while being hashed: changed, and being changed
            return True

    def look(self) -> str:
        """Look once: 'restart' when the code changed, 'built' or 'failed' when raw/ differs
        from the last build (or nothing was built yet), else 'idle'."""
        if self.code_changed():
            return "restart"
        files = raw_state(self.raw_dir)
        if files == self.built_from:
            return "idle"
        if self.built_from is None:
            tags = {TRIGGER_TAG: "watch: first build of the service"}
        else:
            paths = changed_files(self.built_from, files)
            tags = {TRIGGER_TAG: "watch: raw/ changed", CHANGED_TAG: describe_files(paths)}
            print(f"raw/ changed ({describe_files(paths)}); building.", flush=True)
        self.built_from = files  # a failed build is not retried until raw/ changes again
        started = time.perf_counter()
        code = self.build(tags)
        self.last_seconds = time.perf_counter() - started
        self.builds += 1
        return "built" if code == 0 else "failed"


class StopRequest:
    """SIGINT and SIGTERM stop the service, idle or building: the handler raises
    KeyboardInterrupt and keeps a flag (for the loop and the watcher), since one that lands in
    a finalizer, as during a garbage collection, is dropped. Set here, not inherited: a shell's
    background process ignores SIGINT; Dagster gives SIGTERM the SIGINT handler after a run."""

    def __init__(self) -> None:
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum, frame) -> None:
        self.requested = True
        raise KeyboardInterrupt

    def is_set(self) -> bool:
        return self.requested


def serve(service: BuildService, stop: StopRequest, max_builds: int | None) -> str:
    """Build once, then once after each change, until stopped ('stopped'), `max_builds`
    builds ('done') or a change of the code ('restart')."""
    changes = watchfiles.watch(
        *watched_paths(service.raw_dir),
        watch_filter=not_bytecode,
        stop_event=stop,
        yield_on_timeout=True,
        rust_timeout=FIRST_LOOK_MS,
    )
    with closing(changes):
        for changed in changes:
            if stop.requested:
                break
            if not changed and service.built_from is not None:
                continue  # a timeout of the watcher: nothing changed
            outcome = service.look()
            if outcome == "restart":
                return outcome
            if outcome == "failed":
                print("outputs/ was left as it was; waiting for the next change.", flush=True)
            if outcome in ("built", "failed"):
                print(f"The build took {service.last_seconds:.2f} s.", flush=True)
                gc.collect()  # what the build left in cycles (its collector is off: runner.py)
                if max_builds is not None and service.builds >= max_builds:
                    return "done"
                print("Waiting for a change under raw/.", flush=True)
    return "stopped"


def watch(raw_dir: Path | None, outputs_dir: Path | None, max_builds: int | None = None) -> int:
    """Run the service until stopped (or `max_builds` builds, for scripts); exit code 0."""
    stop = StopRequest()
    runner = BuildRunner(raw_dir, outputs_dir)
    service = BuildService(Path(runner.layout.raw_dir), runner.run)
    try:
        if not service.raw_dir.is_dir():
            raise BuildError(service.raw_dir, "the folder does not exist", "create it first")
        print(
            f"Watching {service.raw_dir} and the code (version {service.code[:12]}); Dagster "
            f"instance {os.environ['DAGSTER_HOME']}. Stop with Ctrl-C.",
            flush=True,
        )
        outcome = serve(service, stop, max_builds)
    except KeyboardInterrupt:  # from the handler, or a build Dagster ended on the signal
        outcome = "stopped"
    finally:
        runner.close()
    if outcome == "restart" and not stop.requested:
        print("The code or schemas changed: starting again with the new code.", flush=True)
        os.execv(sys.executable, [sys.executable, "-m", "pipeline", *sys.argv[1:]])
    if stop.requested or outcome == "stopped":
        print("Stopped.", flush=True)
    return 0
