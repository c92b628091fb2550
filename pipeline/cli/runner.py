"""Running the build: the job on the project's Dagster instance, and what a failure prints.

`BuildRunner` opens the definitions and the instance once and runs the job in-process as many
times as asked (`build` once, the build service on every change). DAGSTER_HOME defaults to
.dagster_home/ in the project, telemetry off. A data mistake prints one sentence per failure.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from pipeline import progress
from pipeline.core.errors import REPO_ROOT

DEFAULT_DAGSTER_HOME = REPO_ROOT / ".dagster_home"
INSTANCE_YAML = "telemetry:\n  enabled: false\n"
INTERRUPTS = {"KeyboardInterrupt", "DagsterExecutionInterruptedError"}


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


def _step_error_line(event) -> str:
    """The sentence of a failed step: its BuildError's, else the root cause's message."""
    error = root = event.event_specific_data.error
    while error is not None:
        if error.cls_name == "BuildError":
            return error.message.split(": ", 1)[-1].strip()
        root, error = error, error.cause
    return f"{event.step_key} failed unexpectedly: {root.message.strip()}"


def _error_lines(result) -> list[str]:
    """The sentences to show for a failed run: BuildErrors first, then failed checks."""
    from dagster import DagsterEventType

    lines = [
        _step_error_line(event)
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_FAILURE
        # a failed check is told below, with the check's own sentence
        and event.event_specific_data.error.cls_name != "DagsterAssetCheckFailedError"
    ]
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
    """The job, on the project's Dagster instance, ready to run as many times as asked. The
    steps of a run hand each other their outputs in memory (Dagster's `mem_io_manager`)."""

    def __init__(self, raw_dir: Path | None = None, outputs_dir: Path | None = None) -> None:
        ensure_dagster_home()
        from dagster import DagsterInstance, mem_io_manager

        from pipeline.definitions import build_definitions
        from pipeline.defs.resources import layout_from_environment

        self.layout = layout_from_environment(
            raw_dir=str(raw_dir or ""), outputs_dir=str(outputs_dir or "")
        )
        definitions = build_definitions(self.layout, io_manager=mem_io_manager)
        self.job = definitions.resolve_implicit_global_asset_job_def()
        self.assets = definitions.resolve_asset_graph().materializable_asset_keys
        self.instance = DagsterInstance.get()

    def run(self, tags: dict[str, str] | None = None, verbose: bool = False) -> int:
        """Materialize everything in-process; print one sentence per failure; exit code.
        What an earlier run from the UI left in storage/ is removed first, so no step can
        load an older output."""
        storage = Path(self.instance.storage_directory())
        for key in self.assets:
            storage.joinpath(*key.path).unlink(missing_ok=True)
        return self._report(self._execute(tags, verbose))

    def _execute(self, tags: dict[str, str] | None, verbose: bool):
        level = "DEBUG" if verbose else "CRITICAL"  # the run's full log stays in the instance
        # the cyclic collector is off during the run: a build makes millions of short-lived
        # objects that refcounting frees (docs/performance.md); the caller collects afterwards
        gc.disable()
        from pipeline.publish.metadata import absl_on_a_standard_stream

        absl_on_a_standard_stream()  # else the run's logging.config would close a host's stream
        try:
            with progress.reporting():
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
