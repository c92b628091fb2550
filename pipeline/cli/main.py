"""Command line: `python -m pipeline build | watch | explain | ui` (also the `usmx-data` script).

`build` materializes every asset and check in-process on a persistent local Dagster
instance (DAGSTER_HOME defaults to .dagster_home/ in the project, telemetry off), so the run
shows in `dagster dev`. A data mistake prints one sentence and exits 1, without traceback.
`watch` keeps one process with the job and the instance open, and builds again whenever a
file under raw/ changes (pipeline/cli/watch.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from pipeline.core.errors import REPO_ROOT, BuildError

DEFAULT_DAGSTER_HOME = REPO_ROOT / ".dagster_home"
WATCH_INTERVAL_SECONDS = 2.0  # how often `watch` looks at raw/
INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's instance folder (unless set) with telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


def _error_lines(result) -> list[str]:
    """The sentences to show for a failed run: BuildErrors first, then failed checks."""
    from dagster import DagsterEventType

    lines: list[str] = []
    for event in result.all_events:
        if event.event_type != DagsterEventType.STEP_FAILURE:
            continue
        error = event.event_specific_data.error
        if error.cls_name == "DagsterAssetCheckFailedError":
            continue  # told below, with the check's own sentence
        found = None
        while error is not None:
            if error.cls_name == "BuildError":
                found = error.message.split(": ", 1)[-1].strip()
                break
            error = error.cause
        if found is None:
            root = event.event_specific_data.error
            while root.cause is not None:
                root = root.cause
            found = f"{event.step_key} failed unexpectedly: {root.message.strip()}"
        lines.append(found)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            meta = evaluation.metadata
            first = meta["first_problem"].value if "first_problem" in meta else ""
            count = meta["problems"].value if "problems" in meta else "?"
            lines.append(
                f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                f"failed with {count} problem(s), the first: {first}; outputs/ was left as it was."
            )
    return lines


INTERRUPTS = {"KeyboardInterrupt", "DagsterExecutionInterruptedError"}


def _interrupted(result) -> bool:
    """Whether a step of the run was stopped by an interrupt (Ctrl-C, SIGTERM)."""
    for event in result.all_events:
        error = event.event_specific_data.error if event.is_step_failure else None
        while error is not None:
            if error.cls_name in INTERRUPTS:
                return True
            error = error.cause
    return False


class BuildRunner:
    """The job, on the project's Dagster instance, ready to run as many times as asked: the
    CLI's `build` runs it once, `watch` (pipeline/cli/watch.py) every time raw/ changes."""

    def __init__(self, raw_dir: Path | None = None, outputs_dir: Path | None = None) -> None:
        ensure_dagster_home()
        from dagster import DagsterInstance

        from pipeline.definitions import build_definitions
        from pipeline.defs.assets import Layout

        cache = os.environ.get("USMX_CACHE_DIR")
        self.layout = Layout(
            **({"raw_dir": str(raw_dir)} if raw_dir else {}),
            **({"outputs_dir": str(outputs_dir)} if outputs_dir else {}),
            **({"cache_dir": cache} if cache else {}),
        )
        self.job = build_definitions(self.layout).resolve_implicit_global_asset_job_def()
        self.instance = DagsterInstance.get()
        self._lock = ExitStack()  # the build lock, from a run to the end of its `finish`

    def run(self, tags: dict[str, str] | None = None, verbose: bool = False) -> int:
        """Materialize everything in-process; print one sentence per failure; exit code.
        The steps hand each other their outputs in memory (pipeline/defs/storage.py); `finish`
        writes them to the instance's storage/, and releases the build lock taken here."""
        from pipeline.core.sources import file_lock
        from pipeline.defs.assets import BUILD_LOCK
        from pipeline.defs.storage import HANDOFF

        self.finish()
        storage = Path(self.instance.storage_directory())
        self._lock.enter_context(file_lock(storage / BUILD_LOCK))
        try:
            with HANDOFF.deferring():
                result = self._execute(tags, verbose)
        except BaseException:
            HANDOFF.kept.clear()  # interrupted: their files were removed, none is stale
            self._lock.close()
            raise
        return self._report(result)

    def finish(self) -> None:
        """Write the last run's outputs to storage/ (for a step started later from the UI),
        then let other runs of the instance start."""
        from pipeline.defs.storage import HANDOFF

        try:
            HANDOFF.flush()
        finally:
            self._lock.close()

    def _execute(self, tags: dict[str, str] | None, verbose: bool):
        level = "DEBUG" if verbose else "CRITICAL"  # the run's full log stays in the instance
        # Python's cyclic garbage collector is off while the run runs: a build allocates
        # millions of short-lived objects (rows, events, pickles), and each full collection
        # walked the whole heap of Dagster, pandas and the tables: at 1,000 sources, 15 s of
        # a 62 s cold build and 1.3 s of a 5.5 s rebuild, for the same peak RSS (1.0 GiB),
        # since refcounting frees nearly everything a build lets go. The caller collects.
        gc.disable()
        try:
            result = self.job.execute_in_process(
                instance=self.instance,
                raise_on_error=False,
                tags=tags,
                run_config={"loggers": {"console": {"config": {"log_level": level}}}},
            )
        finally:
            gc.enable()
        # Dagster ends the run on SIGINT/SIGTERM and returns: an interrupted run is a failed one
        if not result.success and _interrupted(result):
            raise KeyboardInterrupt
        return result

    def _report(self, result) -> int:
        if result.success:
            rows = {
                m.asset_key.to_user_string().removesuffix("_table"): m.metadata["dagster/row_count"]
                for m in (e.materialization for e in result.get_asset_materialization_events())
                if "dagster/row_count" in m.metadata
            }
            counts = ", ".join(f"{name} {rows[name].value}" for name in sorted(rows))
            print(
                f"Built {self.layout.outputs_dir}: {counts} rows (Dagster run {result.run_id}).",
                flush=True,
            )
            return 0
        for line in _error_lines(result) or ["the build failed; see the run in `dagster dev`."]:
            print(f"error: {line}", file=sys.stderr, flush=True)
        return 1

    def close(self) -> None:
        try:
            self.finish()
        finally:
            self.instance.dispose()


def build(
    raw_dir: Path | None = None, outputs_dir: Path | None = None, verbose: bool = False
) -> int:
    """Materialize everything in-process once; print one sentence per failure."""
    runner = BuildRunner(raw_dir, outputs_dir)
    try:
        return runner.run(verbose=verbose)
    finally:
        runner.close()


def ui() -> int:
    """Start `dagster dev` on the project's instance."""
    ensure_dagster_home()
    os.execvp("dagster", ["dagster", "dev", "-m", "pipeline.definitions"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build outputs/ from raw/")
    b.add_argument("--raw", type=Path, help="raw/ folder to read (default: the project's)")
    b.add_argument("--outputs", type=Path, help="outputs/ folder to write (default: the project's)")
    b.add_argument("--verbose", action="store_true", help="print Dagster's log of the run")
    w = sub.add_parser("watch", help="a build service: build, then rebuild whenever raw/ changes")
    w.add_argument("--raw", type=Path, help="raw/ folder to watch (default: the project's)")
    w.add_argument("--outputs", type=Path, help="outputs/ folder to write (default: the project's)")
    w.add_argument(
        "--interval",
        type=float,
        default=WATCH_INTERVAL_SECONDS,
        help=f"seconds between looks at raw/ (default {WATCH_INTERVAL_SECONDS:g})",
    )
    w.add_argument("--max-builds", type=int, help="stop after this many builds (for scripts)")
    sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the project's instance")
    e = sub.add_parser("explain", help="the lineage of one figure or event, top to bottom")
    e.add_argument("record_id", nargs="?", help="a figure_id or event_id")
    e.add_argument("--value", type=float, help="list the figures with this value")
    e.add_argument("--search", help="list the figures whose id, subject or quote contains this")
    e.add_argument("--json", action="store_true", help="print the chain as one JSON object")
    e.add_argument("--outputs", type=Path, help="published outputs/ to read")
    e.add_argument("--raw", type=Path, help="raw/ to read")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return build(args.raw, args.outputs, args.verbose)
        if args.command == "watch":
            from pipeline.cli.watch import watch

            return watch(args.raw, args.outputs, args.interval, args.max_builds)
        if args.command == "explain":
            from pipeline.cli.explain import explain_main

            return explain_main(args)
        return ui()
    except BuildError as exc:  # raised before Dagster starts, e.g. a missing schema file
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; outputs/ was left as the last complete build left it.", file=sys.stderr)
        return 130
