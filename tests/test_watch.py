"""The build service (`python -m pipeline watch`): one long-lived process that rebuilds
outputs/ when raw/ changes, refuses a bad input without touching outputs/, is stopped by
SIGTERM, and starts again when the code changes; and the publish lock that keeps a
`build` run beside it from colliding with it."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli import watch as watch_module
from pipeline.core.errors import REPO_ROOT
from pipeline.core.sources import RawIndex
from pipeline.publish.package import publish_lock, published_problems

CORRECTION = (
    "\n  - id: test-watch-tehuantepec\n    quote: Tehuantepec Isthmus\n"
    "    corrected: Isthmus of Tehuantepec\n    reason: A test correction.\n"
    "    reported_on: 2026-11-27\n    reported_by: tests\n"
)
BAD_CORRECTION = (
    "\n  - id: test-watch-not-in-the-text\n    quote: words the report never printed\n"
    "    corrected: anything\n    reason: A test correction.\n"
    "    reported_on: 2026-11-27\n    reported_by: tests\n"
)
BUILT = "The build took"
DEADLINE = 180.0


def service_env(home: Path, cache: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "USMX_CACHE_DIR": str(cache),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


def wait_for(log: Path, text: str, count: int, process: subprocess.Popen) -> str:
    """The service's log once `text` appears in it `count` times (it must stay alive)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        content = log.read_text(encoding="utf-8")
        if content.count(text) >= count:
            return content
        assert process.poll() is None, f"the service stopped:\n{content}"
        time.sleep(0.1)
    raise AssertionError(f"no {count} x {text!r} in {DEADLINE} s:\n{log.read_text()}")


def as_a_background_job() -> None:
    """Start as `command &` in a shell script does: with SIGINT ignored (the trap that made
    Dagster's own SIGTERM handling ignore SIGTERM too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_service(
    raw: Path, outputs: Path, home: Path, log: Path, cwd: Path = REPO_ROOT
) -> subprocess.Popen:
    """`python -m pipeline watch` on its own instance and cache, as a background job, in
    `cwd` (first on sys.path: the `pipeline` there is the one imported)."""
    env = service_env(home, home.parent / "cache")
    command = [sys.executable, "-m", "pipeline", "watch", "--raw", str(raw),
               "--outputs", str(outputs), "--interval", "0.2"]  # fmt: skip
    with open(log, "w", encoding="utf-8") as sink:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=as_a_background_job,
        )


def correction_ids(outputs: Path) -> set[str]:
    return set(pq.read_table(outputs / "corrections.parquet")["correction_id"].to_pylist())


def test_the_service_rebuilds_on_a_correction_refuses_a_bad_one_and_stops_on_sigterm(
    raw_copy: Path, tmp_path: Path
):
    outputs, home, log = tmp_path / "outputs", tmp_path / "home", tmp_path / "watch.log"
    service = start_service(raw_copy, outputs, home, log)
    try:
        wait_for(log, BUILT, 1, service)
        first = tree_digest(outputs)
        assert "test-watch-tehuantepec" not in correction_ids(outputs)

        corrections = raw_copy / SOURCE_ID / "corrections.yaml"
        original = corrections.read_text(encoding="utf-8")
        corrections.write_text(original + CORRECTION, encoding="utf-8")
        content = wait_for(log, BUILT, 2, service)
        assert f"raw/ changed (1 file: {SOURCE_ID}/corrections.yaml); building." in content
        assert "test-watch-tehuantepec" in correction_ids(outputs)
        corrected = tree_digest(outputs)
        assert corrected != first

        corrections.write_text(original + CORRECTION + BAD_CORRECTION, encoding="utf-8")
        content = wait_for(log, BUILT, 3, service)
        error = next(line for line in content.splitlines() if line.startswith("error:"))
        assert "corrections.yaml" in error and "test-watch-not-in-the-text" in error
        assert "outputs/ was left as it was" in content
        assert tree_digest(outputs) == corrected
        time.sleep(1.5)  # several looks at an unchanged raw/: the bad input is not retried
        assert log.read_text(encoding="utf-8").count("building.") == 2

        corrections.write_text(original, encoding="utf-8")
        wait_for(log, BUILT, 4, service)
        assert "test-watch-tehuantepec" not in correction_ids(outputs)

        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
        assert log.read_text(encoding="utf-8").rstrip().endswith("Stopped.")
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()

    # every build is a run on the service's instance, tagged with what triggered it
    os.environ["DAGSTER_HOME"], previous = str(home), os.environ["DAGSTER_HOME"]
    try:
        with dg.DagsterInstance.get() as instance:
            runs = list(reversed(instance.get_runs()))
    finally:
        os.environ["DAGSTER_HOME"] = previous
    assert [r.tags.get("usmx/trigger") for r in runs] == [
        "watch: first build of the service",
        *["watch: raw/ changed"] * 3,
    ]
    assert [r.status for r in runs] == [
        dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.SUCCESS,
        dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS,
    ]  # fmt: skip
    assert runs[1].tags["usmx/raw_changed"] == f"1 file: {SOURCE_ID}/corrections.yaml"


def test_the_service_starts_again_when_the_code_changes_before_or_during_a_build(
    raw_copy: Path, tmp_path: Path, monkeypatch
):
    """The loaded code must be the code the build record names: a change seen before a
    build, or during one, ends the service's loop with 'restart' (watch() then execs)."""
    code = {"now": "code-1"}
    monkeypatch.setattr(watch_module, "code_sha256", lambda: code["now"])
    builds: list[dict] = []

    def build(tags: dict[str, str]) -> int:
        builds.append(tags)
        return 0

    service = watch_module.BuildService(raw_copy, RawIndex(tmp_path / "cache", raw_copy), build)
    assert service.look() == "built" and service.look() == "idle"
    code["now"] = "code-2"
    assert service.look() == "restart" and len(builds) == 1  # nothing built with old code

    code["now"] = "code-1"
    (raw_copy / SOURCE_ID / "corrections.yaml").write_text("corrections: []\n")

    def build_while_code_changes(tags: dict[str, str]) -> int:
        code["now"] = "code-3"
        return 0

    service.build = build_while_code_changes
    assert service.look() == "restart"


def test_a_code_change_restarts_the_service_with_the_new_code(tmp_path: Path):
    """End to end, on a copy of the project: editing a file of pipeline/ makes the running
    service start again (a new process image, a new code hash) and build with it."""
    project = tmp_path / "project"
    for name in ("pipeline", "schemas", "raw"):
        shutil.copytree(
            REPO_ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(REPO_ROOT / name, project / name)
    outputs, log = tmp_path / "outputs", tmp_path / "watch.log"
    service = start_service(project / "raw", outputs, tmp_path / "home", log, cwd=project)
    try:
        wait_for(log, BUILT, 1, service)
        module = project / "pipeline" / "watch.py"
        module.write_text(module.read_text() + "\n# a comment, and so a new code version\n")
        content = wait_for(log, BUILT, 2, service)
        assert "The code or schemas changed: starting again with the new code." in content
        headers = [line for line in content.splitlines() if line.startswith("Watching ")]
        assert len(headers) == 2 and headers[0] != headers[1]  # the code hash they name
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()


def test_sigterm_during_a_build_stops_the_service_and_outputs_stay_complete(
    raw_copy: Path, tmp_path: Path
):
    outputs, log = tmp_path / "outputs", tmp_path / "watch.log"
    service = start_service(raw_copy, outputs, tmp_path / "home", log)
    try:
        wait_for(log, BUILT, 1, service)
        corrections = raw_copy / SOURCE_ID / "corrections.yaml"
        corrections.write_text(corrections.read_text(encoding="utf-8") + CORRECTION)
        wait_for(log, "building.", 1, service)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, log.read_text()
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    assert log.read_text(encoding="utf-8").rstrip().endswith("Stopped.")
    assert published_problems(outputs) == []  # the old package or the new one, whole


def waits_for_a_lock(pid: int) -> bool:
    """Linux lists a process blocked in flock() in /proc/locks with '->' before its entry."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and f" {pid} " in f" {line} " for line in lines)


@contextmanager
def build_lock_held(home: Path):
    """What a running build holds: the lock on its instance's storage folder."""
    (home / "storage").mkdir(parents=True, exist_ok=True)
    with open(home / "storage" / ".usmx-build.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.mark.parametrize("held", ["another build on the same instance", "another publish"])
def test_a_build_waits_while_another_build_holds_the_instance_or_the_outputs(
    tmp_path: Path, held: str
):
    outputs, home = tmp_path / "outputs", tmp_path / "home"
    env = service_env(home, tmp_path / "cache")
    command = [sys.executable, "-m", "pipeline", "build", "--outputs", str(outputs)]
    lock = build_lock_held(home) if held.endswith("instance") else publish_lock(outputs)
    with lock:
        build = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end and not waits_for_a_lock(build.pid):
            assert build.poll() is None, build.communicate()[0]
            time.sleep(0.05)  # the build reaches publishing, then must wait for the lock
        assert waits_for_a_lock(build.pid), "the build never waited for the publish lock"
        time.sleep(1.0)
        assert build.poll() is None and not outputs.exists()
    out, _ = build.communicate(timeout=DEADLINE)
    assert build.returncode == 0, out
    assert (outputs / "datapackage.json").is_file()
