"""A long-lived build service: `python -m pipeline watch` rebuilds outputs/ when raw/ changes.

Every `python -m pipeline build` is a new process, and about 4 s of it pass before the run
starts (importing Dagster, pandas, pyarrow, pandera and Frictionless, opening the instance's
SQLite storage, planning the run); Dagster's own run launcher also starts a new process
for every run its sensor or schedule requests. That start is a fixed cost that a
correction to one source among a thousand pays in full. This service pays it once: it
imports everything, opens the project's Dagster instance, builds once, then looks at raw/
every few seconds (a stat of each file, through the same `RawIndex` as the build and the
sensor) and, when a file was added, removed or changed, runs the same job in-process on
the same instance. Each run is recorded as any build is (tagged with what triggered it, so
it shows in `dagster dev`), and each build is the same build: same assets, same checks,
same bytes.

Whatever the loaded code could get wrong is guarded:
- the code and schemas (`build_record.code_sha256`) are hashed at start and before and after
  every build; when they differ, the service starts again with `os.execv` (a fresh
  process, so the build record never names code that is not the code that ran);
- a build that fails prints its sentences and leaves outputs/ as it was (the build is
  atomic); the service then waits for the next change instead of retrying the same input;
- a file that changes while a build runs is seen at the next look, and built again.

Stop it with Ctrl-C or SIGTERM; a build in flight is abandoned, leaving outputs/ as the
last complete build left it.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.cli.main import WATCH_INTERVAL_SECONDS, BuildRunner
from pipeline.core.sources import RawIndex
from pipeline.defs.automation import (
    CHANGED_TAG,
    TRIGGER_TAG,
    changed_files,
    describe_files,
    raw_file_hashes,
)
from pipeline.publish.build_record import code_sha256


def raw_state(raw_dir: Path, index: RawIndex) -> dict[str, str]:
    """{path relative to raw/: sha256} of every file under raw/ (an unchanged file is only
    stat-ed); an empty map when raw/ is missing, which the build then reports."""
    try:
        return raw_file_hashes(raw_dir, index)
    except FileNotFoundError:
        return {}


@dataclass
class BuildService:
    """What the service remembers between looks at raw/: the files of the last build it
    started and the code it was started with. `build` runs one build with the given tags
    and returns its exit code (0 built, 1 refused with sentences printed)."""

    raw_dir: Path
    index: RawIndex
    build: Callable[[dict[str, str]], int]
    code: str = ""
    built_from: dict[str, str] | None = None
    builds: int = 0
    last_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.code = self.code or code_sha256()

    def code_changed(self) -> bool:
        try:
            return code_sha256() != self.code
        except OSError:  # a file removed while being hashed: changed, and being changed
            return True

    def look(self) -> str:
        """Look at raw/ and the code once: 'restart' when the code changed, 'built' or
        'failed' when raw/ differed from the last build (or nothing was built yet), else
        'idle'."""
        if self.code_changed():
            return "restart"
        files = raw_state(self.raw_dir, self.index)
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
        if self.code_changed():
            return "restart"
        return "built" if code == 0 else "failed"


class StopRequest:
    """SIGINT and SIGTERM stop the service, idle or building. The handler raises
    KeyboardInterrupt to end a sleep or a look at once, and also keeps a flag, since a
    KeyboardInterrupt that lands in a finalizer or a weakref callback (as during a garbage
    collection) is printed and dropped by Python: the loop reads the flag before every step.
    Set here, not inherited: a process started in the background by a shell ignores SIGINT,
    and Dagster gives SIGTERM the SIGINT handler it finds after each run, so an ignored
    SIGINT would make SIGTERM ignored too."""

    def __init__(self) -> None:
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum, frame) -> None:
        self.requested = True
        raise KeyboardInterrupt


def watch(
    raw_dir: Path | None,
    outputs_dir: Path | None,
    interval: float = WATCH_INTERVAL_SECONDS,
    max_builds: int | None = None,
) -> int:
    """Run the service until stopped (or `max_builds` builds, for scripts); exit code 0."""
    stop = StopRequest()
    runner = BuildRunner(raw_dir, outputs_dir)
    layout = runner.layout
    raw = Path(layout.raw_dir)
    service = BuildService(raw, RawIndex(Path(layout.cache_dir), raw), runner.run)
    print(
        f"Watching {raw} every {interval:g} s; Dagster instance {os.environ['DAGSTER_HOME']}; "
        f"code {service.code[:12]}. Stop with Ctrl-C.",
        flush=True,
    )
    try:
        while not stop.requested:
            outcome = service.look()
            if outcome == "restart":
                print("The code or schemas changed: starting again with the new code.", flush=True)
                runner.close()
                os.execv(sys.executable, [sys.executable, "-m", "pipeline", *sys.argv[1:]])
            if outcome == "failed":
                print("outputs/ was left as it was; waiting for the next change.", flush=True)
            if outcome in ("built", "failed"):
                print(f"The build took {service.last_seconds:.2f} s.", flush=True)
                runner.finish()  # storage/ for the UI, once outputs/ is published and told
                gc.collect()  # what the build left in cycles (its collector is off: cli.py)
                if max_builds is not None and service.builds >= max_builds:
                    break
                if not stop.requested:
                    print("Waiting for a change under raw/.", flush=True)
            if not stop.requested:
                time.sleep(interval)
    except KeyboardInterrupt:  # from the handler, or a build Dagster ended on the signal
        stop.requested = True
    finally:
        runner.close()
    if stop.requested:
        print("Stopped.", flush=True)
    return 0
