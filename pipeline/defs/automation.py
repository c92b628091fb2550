"""Rebuild outputs/ unattended: `rebuild_job` (every asset and check, in one process like the
CLI) run by the sensor `raw_files_changed` when a file under raw/ changes (checked every
USMX_SENSOR_INTERVAL seconds, default 30) and by the schedule `nightly_rebuild` at 03:00 UTC
unless raw/ is as the last published build read it. Both are STOPPED by default: switch them
on in `dagster dev` or with `dagster sensor start` / `dagster schedule start`; they run in
`dagster-daemon` (`dagster-daemon run -m pipeline.definitions` with the same DAGSTER_HOME).
A rebuild with nothing new is harmless: `data_package` leaves every published byte alone.
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
    # everything but the upstream check (pipeline/defs/upstream.py), which fetches
    selection=dg.AssetSelection.all(include_sources=True) - dg.AssetSelection.groups("upstream"),
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
    """The previous run key (the first time a random one) chained with the new hashes: Dagster
    runs a key once ever, so a key of the contents alone would never rebuild raw/ returned to
    an earlier state; a chained key is stable when Dagster retries an evaluation."""
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
    """Request a rebuild when the files under raw/ differ from the cursor, or with no cursor
    (nothing says outputs/ was built from this raw/; an up-to-date build changes no byte)."""
    files = raw_file_hashes(Path(layout.raw_dir))
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
    """The raw/ hash the last published build read: from `data_package`, not `source_snapshots`,
    since a run stopped between the two read raw/ but did not publish it."""
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
    current = raw_tree_sha256(Path(layout.raw_dir))
    built = last_built_raw_sha256(context.instance)
    if built == current:
        return dg.SkipReason("nothing under raw/ changed since the last build")
    why = "no published build recorded" if built is None else "raw/ changed since the last build"
    return dg.RunRequest(tags={TRIGGER_TAG: f"nightly: {why}", "usmx/raw_sha256": current[:16]})
