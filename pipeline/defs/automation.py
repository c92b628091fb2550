"""Rebuild outputs/ unattended: when a file under raw/ changes, and nightly.

rebuild_job        every asset and check: the selection `python -m pipeline build` runs
                   (with the observation of `raw_files`), in one process like the CLI.
raw_files_changed  a sensor; its cursor holds the sha256 of every file under raw/, and it
                   requests a rebuild when one is added, removed or changed.
nightly_rebuild    a schedule at 03:00 UTC; it skips when the raw/ hash equals the one the
                   last published build was made from.

Both are STOPPED by default, so automation starts only when someone switches it on in
`dagster dev` (Automation page) or with `dagster sensor start` / `dagster schedule start`.
They run in `dagster-daemon`, which `dagster dev` starts; unattended, run
`dagster-daemon run -m pipeline.definitions` with the same DAGSTER_HOME. A rebuild with
nothing new is harmless anyway: `data_package` leaves every published byte alone.

USMX_SENSOR_INTERVAL (seconds, default 30) sets how often the sensor looks at raw/.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import dagster as dg

from pipeline.core.sources import raw_file_hashes, raw_tree_sha256
from pipeline.defs.resources import Layout

SENSOR_INTERVAL_SECONDS = int(os.environ.get("USMX_SENSOR_INTERVAL") or 30)
TRIGGER_TAG = "usmx/trigger"
CHANGED_TAG = "usmx/raw_changed"
NAMES_IN_TAG = 3
# Dagster records on each materialization the data version of every input it was built from.
BUILT_FROM_TAG = "dagster/input_data_version/source_snapshots"
PUBLISHED = dg.AssetKey("data_package")

rebuild_job = dg.define_asset_job(
    "rebuild_job",
    selection=dg.AssetSelection.all(include_sources=True),
    executor_def=dg.in_process_executor,
    description="Observe raw/ and rebuild every asset and check, as `python -m pipeline build`.",
)


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths added, removed or changed between two {path: sha256} maps."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def describe_files(paths: list[str]) -> str:
    """A short tag value: the count, then the first few names."""
    shown = ", ".join(paths[:NAMES_IN_TAG])
    more = f" and {len(paths) - NAMES_IN_TAG} more" if len(paths) > NAMES_IN_TAG else ""
    return f"{len(paths)} file{'' if len(paths) == 1 else 's'}: {shown}{more}"


def next_run_key(previous_key: str | None, files: dict[str, str]) -> str:
    """The previous run key chained with the new content hashes.

    Dagster launches at most one run per run key, ever. A key of the contents alone would
    never rebuild after raw/ returns to an earlier state (a reverted correction); chaining
    keeps the key stable when Dagster retries an evaluation, yet never repeated. The first
    evaluation has no previous key and takes a random one."""
    base = previous_key or uuid.uuid4().hex
    content = json.dumps(files, sort_keys=True)
    return hashlib.sha256(f"{base}\n{content}".encode()).hexdigest()[:32]


@dg.sensor(
    job=rebuild_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Rebuilds outputs/ when a file under raw/ is added, removed or changed. The "
    "cursor holds the sha256 of every file; the first evaluation, with no cursor, builds.",
)
def raw_files_changed(
    context: dg.SensorEvaluationContext, layout: Layout
) -> dg.SensorResult | dg.SkipReason:
    """Compare the files under raw/ with the cursor; request a rebuild when they differ.

    With no cursor (the sensor's first evaluation, or after its cursor was cleared) nothing
    says that outputs/ was built from the present raw/, so the first evaluation requests a
    build; when outputs/ is up to date that build changes no published byte."""
    raw = Path(layout.raw_dir)
    files = raw_file_hashes(raw)
    previous = json.loads(context.cursor) if context.cursor else None
    if previous is not None and previous["files"] == files:
        return dg.SkipReason(f"no file under raw/ changed ({len(files)} files compared)")
    changed = changed_files(previous["files"] if previous else {}, files)
    run_key = next_run_key(previous["run_key"] if previous else None, files)
    trigger = "raw/ changed" if previous else "first evaluation of the sensor (no cursor)"
    request = dg.RunRequest(
        run_key=run_key, tags={TRIGGER_TAG: trigger, CHANGED_TAG: describe_files(changed)}
    )
    cursor = json.dumps({"files": files, "run_key": run_key}, sort_keys=True)
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def last_built_raw_sha256(instance: dg.DagsterInstance) -> str | None:
    """The raw/ hash (data version of `source_snapshots`) the last published build read.

    Taken from the last materialization of `data_package`, not of `source_snapshots`: a run
    that stopped between the two (a failed check, a killed process) has read raw/ but not
    published it, and must not make the schedule skip."""
    event = instance.get_latest_materialization_event(PUBLISHED)
    if event is None or event.asset_materialization is None:
        return None
    return (event.asset_materialization.tags or {}).get(BUILT_FROM_TAG)


@dg.schedule(
    job=rebuild_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Rebuilds outputs/ at 03:00 UTC, unless nothing under raw/ changed since the "
    "last published build.",
)
def nightly_rebuild(
    context: dg.ScheduleEvaluationContext, layout: Layout
) -> dg.RunRequest | dg.SkipReason:
    raw = Path(layout.raw_dir)
    current = raw_tree_sha256(raw)
    built = last_built_raw_sha256(context.instance)
    if built == current:
        return dg.SkipReason("nothing under raw/ changed since the last build")
    why = "no published build recorded" if built is None else "raw/ changed since the last build"
    return dg.RunRequest(tags={TRIGGER_TAG: f"nightly: {why}", "usmx/raw_sha256": current[:16]})
