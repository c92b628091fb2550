"""Automation: the sensor on raw/ and the nightly schedule, evaluated with Dagster's test
contexts, and once end to end with a real `dagster-daemon` on a private DAGSTER_HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from conftest import SOURCE_ID, stop_group
from pipeline.core.errors import REPO_ROOT
from pipeline.core.sources import raw_tree_sha256
from pipeline.definitions import build_definitions, defs
from pipeline.defs.automation import (
    CHANGED_TAG,
    TRIGGER_TAG,
    describe_files,
    nightly_rebuild,
    raw_files_changed,
    rebuild_job,
)
from pipeline.defs.resources import layout_from_environment

ANNOTATIONS = f"{SOURCE_ID}/annotations.yaml"
CORRECTIONS = f"{SOURCE_ID}/corrections.yaml"
COCAINE_CORRECTION = (
    '\n  - id: test-cocaine-1999\n    quote: "34.6"\n    corrected: "43.6"\n'
    "    reason: A test correction.\n    reported_on: 2026-11-27\n    reported_by: tests\n"
)
E2E_TIMEOUT_SECONDS = 240
ENDED_BADLY = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def touch_comment(raw: Path) -> None:
    """Change one byte of a comment line of the annotations (the data stay the same)."""
    path = raw / ANNOTATIONS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.lstrip().startswith("#"))
    lines[index] = lines[index].replace("#", "#!", 1)
    path.write_text("".join(lines), encoding="utf-8")


def evaluate_sensor(instance, raw: Path, cursor: str | None) -> dg.SensorExecutionData:
    layout = layout_from_environment(raw_dir=str(raw), outputs_dir=str(raw.parent / "outputs"))
    # `with`: the context opens its own instance from the ref and must close it again
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"layout": layout}
    ) as context:
        return raw_files_changed.evaluate_tick(context)


def evaluate_schedule(instance, raw: Path, outputs: Path) -> dg.ScheduleExecutionData:
    layout = layout_from_environment(raw_dir=str(raw), outputs_dir=str(outputs))
    with dg.build_schedule_context(instance=instance, resources={"layout": layout}) as context:
        return nightly_rebuild.evaluate_tick(context)


# --- the job ---------------------------------------------------------------------------


def test_rebuild_job_runs_what_the_build_command_runs():
    rebuild = defs.resolve_job_def("rebuild_job")
    build = build_definitions().resolve_implicit_global_asset_job_def()  # as BuildRunner runs it
    assert rebuild.asset_layer.selected_asset_keys == build.asset_layer.selected_asset_keys
    checks = rebuild.asset_layer.asset_graph.asset_check_keys
    assert checks == build.asset_layer.asset_graph.asset_check_keys and len(checks) == 14
    assert rebuild.asset_check_selection is build.asset_check_selection is None  # all of them
    assert rebuild.executor_def.name == "in_process"


def test_sensor_and_schedule_are_registered_and_off_until_switched_on():
    assert defs.resolve_sensor_def("raw_files_changed").job_name == rebuild_job.name
    assert defs.resolve_schedule_def("nightly_rebuild").job_name == rebuild_job.name
    assert raw_files_changed.default_status == dg.DefaultSensorStatus.STOPPED
    assert nightly_rebuild.default_status == dg.DefaultScheduleStatus.STOPPED
    assert nightly_rebuild.cron_schedule == "0 3 * * *"


# --- the sensor ------------------------------------------------------------------------


def test_sensor_first_evaluation_requests_a_build_and_keeps_every_file_hash(instance, raw_copy):
    tick = evaluate_sensor(instance, raw_copy, cursor=None)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    assert request.run_key and "first evaluation" in request.tags[TRIGGER_TAG]
    files = json.loads(tick.cursor)["files"]
    assert set(files) == {
        p.relative_to(raw_copy).as_posix() for p in raw_copy.rglob("*") if p.is_file()
    }
    assert request.tags[CHANGED_TAG].startswith(f"{len(files)} files: ")


def test_sensor_skips_when_no_file_under_raw_changed(instance, raw_copy):
    first = evaluate_sensor(instance, raw_copy, cursor=None)
    again = evaluate_sensor(instance, raw_copy, cursor=first.cursor)
    assert not again.run_requests
    assert "no file under raw/ changed" in again.skip_message


def test_sensor_requests_a_rebuild_naming_the_changed_file(instance, raw_copy):
    first = evaluate_sensor(instance, raw_copy, cursor=None)
    touch_comment(raw_copy)
    tick = evaluate_sensor(instance, raw_copy, cursor=first.cursor)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    assert request.tags[CHANGED_TAG] == f"1 file: {ANNOTATIONS}"
    assert request.tags[TRIGGER_TAG] == "raw/ changed"
    assert request.run_key != first.run_requests[0].run_key
    before, after = json.loads(first.cursor)["files"], json.loads(tick.cursor)["files"]
    assert {p for p in after if after[p] != before[p]} == {ANNOTATIONS}
    assert not evaluate_sensor(instance, raw_copy, cursor=tick.cursor).run_requests


def test_sensor_rebuilds_when_raw_returns_to_an_earlier_state(instance, raw_copy):
    """Dagster launches one run per run key, ever: a reverted change needs a new key."""
    original = (raw_copy / ANNOTATIONS).read_bytes()
    ticks = [evaluate_sensor(instance, raw_copy, cursor=None)]
    for _ in range(2):
        touch_comment(raw_copy)
        ticks.append(evaluate_sensor(instance, raw_copy, cursor=ticks[-1].cursor))
        (raw_copy / ANNOTATIONS).write_bytes(original)
        ticks.append(evaluate_sensor(instance, raw_copy, cursor=ticks[-1].cursor))
    keys = [tick.run_requests[0].run_key for tick in ticks]
    assert len(set(keys)) == len(keys) == 5


def test_sensor_sees_added_and_removed_files(instance, raw_copy):
    first = evaluate_sensor(instance, raw_copy, cursor=None)
    (raw_copy / SOURCE_ID / "corrections.yaml").unlink()
    (raw_copy / SOURCE_ID / "notes.txt").write_text("a new file\n")
    tick = evaluate_sensor(instance, raw_copy, cursor=first.cursor)
    assert tick.run_requests[0].tags[CHANGED_TAG] == (
        f"2 files: {CORRECTIONS}, {SOURCE_ID}/notes.txt"
    )


def test_changed_files_tag_is_short_count_then_first_names():
    names = [f"s/{n}.yaml" for n in "abcdefgh"]
    assert describe_files(names) == "8 files: s/a.yaml, s/b.yaml, s/c.yaml and 5 more"


# --- the schedule ----------------------------------------------------------------------


def materialize(instance, raw: Path, outputs: Path, only: str | None = None) -> None:
    job = build_definitions(
        layout_from_environment(raw_dir=str(raw), outputs_dir=str(outputs)),
    ).resolve_job_def("rebuild_job")
    selection = [dg.AssetKey(only)] if only else None
    result = job.execute_in_process(instance=instance, asset_selection=selection)
    assert result.success
    if only is None:  # every check ran, and passed
        assert len([e for e in result.get_asset_check_evaluations() if e.passed]) == 14


def test_schedule_skips_when_nothing_under_raw_changed_since_the_last_build(
    instance, raw_copy, tmp_path
):
    materialize(instance, raw_copy, tmp_path / "outputs")
    tick = evaluate_schedule(instance, raw_copy, tmp_path / "outputs")
    assert not tick.run_requests
    assert tick.skip_message == "nothing under raw/ changed since the last build"


def test_schedule_requests_a_rebuild_after_a_raw_file_changed(instance, raw_copy, tmp_path):
    materialize(instance, raw_copy, tmp_path / "outputs")
    touch_comment(raw_copy)
    tick = evaluate_schedule(instance, raw_copy, tmp_path / "outputs")
    assert len(tick.run_requests) == 1
    assert tick.run_requests[0].tags[TRIGGER_TAG] == "nightly: raw/ changed since the last build"


def test_schedule_builds_when_no_build_was_ever_published(instance, raw_copy, tmp_path):
    tick = evaluate_schedule(instance, raw_copy, tmp_path / "outputs")
    assert tick.run_requests[0].tags[TRIGGER_TAG] == "nightly: no published build recorded"


def test_schedule_ignores_a_run_that_read_raw_but_did_not_publish(instance, raw_copy, tmp_path):
    """source_snapshots already carries the new hash, but outputs/ was not rebuilt from it."""
    materialize(instance, raw_copy, tmp_path / "outputs")
    touch_comment(raw_copy)
    materialize(instance, raw_copy, tmp_path / "outputs", only="source_snapshots")
    latest = instance.get_latest_materialization_event(dg.AssetKey("source_snapshots"))
    assert latest.asset_materialization.tags["dagster/data_version"] == raw_tree_sha256(raw_copy)
    assert len(evaluate_schedule(instance, raw_copy, tmp_path / "outputs").run_requests) == 1


# --- end to end, with the daemon -------------------------------------------------------


def copy_writable(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return target


def wait_for_sensor_runs(instance, count: int, daemon, log: Path, deadline: float) -> list:
    """The successful runs launched by the sensor, newest first, once there are `count`."""
    while True:
        runs = instance.get_runs(
            filters=dg.RunsFilter(tags={"dagster/sensor_name": "raw_files_changed"})
        )
        bad = [r for r in runs if r.status in ENDED_BADLY]
        assert not bad, f"run {bad[0].run_id} ended {bad[0].status}; daemon log:\n{log.read_text()}"
        done = [r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS]
        if len(done) >= count:
            return done
        assert daemon.poll() is None, f"dagster-daemon exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no run {count} in time; log:\n{log.read_text()}"
        time.sleep(1)


def test_daemon_rebuilds_outputs_when_a_file_under_raw_changes(tmp_path, built):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    raw = copy_writable(REPO_ROOT / "raw", tmp_path / "raw")
    outputs = copy_writable(built, tmp_path / "outputs")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "USMX_RAW_DIR": str(raw),
        "USMX_OUTPUTS_DIR": str(outputs),
        "USMX_SENSOR_INTERVAL": "1",
    }
    bin_dir = Path(sys.executable).parent
    location = ["-m", "pipeline.definitions"]
    deadline = time.monotonic() + E2E_TIMEOUT_SECONDS
    start = subprocess.Popen(
        [bin_dir / "dagster", "sensor", "start", "raw_files_changed", *location],
        cwd=REPO_ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        out, _ = start.communicate(timeout=120)
    finally:
        assert stop_group(start, grace=20.0) == []
    assert start.returncode == 0, out

    log = tmp_path / "daemon.log"
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [bin_dir / "dagster-daemon", "run", *location],
            cwd=REPO_ROOT, env=env, start_new_session=True, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            first = wait_for_sensor_runs(instance, 1, daemon, log, deadline)
            assert "first evaluation" in first[0].tags[TRIGGER_TAG]
            path = raw / CORRECTIONS
            path.write_text(path.read_text(encoding="utf-8") + COCAINE_CORRECTION, "utf-8")
            runs = wait_for_sensor_runs(instance, 2, daemon, log, deadline)
            assert runs[0].tags[CHANGED_TAG] == f"1 file: {CORRECTIONS}"
            assert runs[0].job_name == "rebuild_job"
        figures = pd.read_parquet(outputs / "figures.parquet").set_index("figure_id")
        assert figures.loc["mex-cocaine-seized-1999", "value"] == 43_600
        assert figures.loc["mex-cocaine-seized-1999", "value_as_printed"] == "34.6"
    finally:
        left = stop_group(daemon, grace=20.0)
    assert left == [], f"processes of the daemon's group still alive: {left}"
