"""The build service (`python -m pipeline watch`): one long-lived process that rebuilds
outputs/ when raw/ changes, one build at a time, refuses a bad input without touching
outputs/ and waits for the next change, is stopped by SIGTERM or SIGINT with no process left,
and starts again when the code changes; and the publish lock that keeps a `build` run
beside it from colliding with it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from conftest import SOURCE_ID, assert_group_stopped, tree_digest
from pipeline.cli import watch as watch_module
from pipeline.core.errors import REPO_ROOT
from pipeline.publish.swap import publish_lock
from pipeline.publish.validation import published_problems

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
    """`python -m pipeline watch` on its own instance and cache, as a background job in a
    process group of its own, in `cwd` (first on sys.path: the `pipeline` there is the one
    imported)."""
    env = service_env(home, home.parent / "cache")
    command = [sys.executable, "-m", "pipeline", "watch", "--raw", str(raw),
               "--outputs", str(outputs)]  # fmt: skip
    with open(log, "w", encoding="utf-8") as sink:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=as_a_background_job,
            process_group=0,
        )


def left_in_group(group: int) -> list[str]:
    """The processes still running in a process group (`ps`), zombies aside."""
    out = subprocess.run(
        ["ps", "-eo", "pgid=,stat=,pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    return [" ".join(r) for r in rows if r[0] == str(group) and not r[1].startswith("Z")]


def stop_and_check(service: subprocess.Popen, signum: int, log: Path) -> None:
    """Send `signum`; the service ends with exit code 0 and 'Stopped.', leaving no process."""
    service.send_signal(signum)
    assert service.wait(timeout=60) == 0, log.read_text()
    assert log.read_text(encoding="utf-8").rstrip().endswith("Stopped.")
    end = time.monotonic() + 10
    while left_in_group(service.pid) and time.monotonic() < end:
        time.sleep(0.1)  # a child told to end by the service may take a moment
    assert left_in_group(service.pid) == []


def end_group(service: subprocess.Popen) -> None:
    """Whatever of the service's group a failed test left: SIGTERM, SIGKILL, then checked."""
    assert_group_stopped(service, grace=5.0)


def correction_ids(outputs: Path) -> set[str]:
    return set(pq.read_table(outputs / "corrections.parquet")["correction_id"].to_pylist())


def test_the_service_rebuilds_on_a_correction_refuses_a_bad_one_and_stops_on_sigterm(
    raw_copy: Path, tmp_path: Path
):
    outputs, home, log = tmp_path / "outputs", tmp_path / "home", tmp_path / "watch.log"
    service = start_service(raw_copy, outputs, home, log)
    try:
        wait_for(log, "Waiting for a change", 1, service)
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
        # the same bytes written again: a change seen, but the refused input is not retried
        corrections.write_text(original + CORRECTION + BAD_CORRECTION, encoding="utf-8")
        time.sleep(1.5)
        assert log.read_text(encoding="utf-8").count("building.") == 2

        corrections.write_text(original, encoding="utf-8")
        wait_for(log, BUILT, 4, service)
        assert "test-watch-tehuantepec" not in correction_ids(outputs)
        wait_for(log, "Waiting for a change", 4, service)
        stop_and_check(service, signal.SIGTERM, log)
    finally:
        end_group(service)

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


def later(seconds: float, function, *args) -> None:
    timer = threading.Timer(seconds, function, args)
    timer.daemon = True
    timer.start()


class StopAfter:
    """A stop request (what `serve` reads) that comes by itself after some seconds."""

    def __init__(self, seconds: float) -> None:
        self.requested = False
        later(seconds, setattr, self, "requested", True)

    def is_set(self) -> bool:
        return self.requested


def test_one_build_at_a_time_changes_during_a_build_make_one_more_and_code_restarts(
    raw_copy: Path, tmp_path: Path, monkeypatch
):
    """`serve` on a real watcher with a stand-in build: two changes made during a build
    make exactly one more build after it; a change with nothing new builds nothing; a
    change of the code ends the service with 'restart', before anything is built with the
    old code, whether it comes when idle or during a build."""
    code = {"now": "code-1"}
    monkeypatch.setattr(watch_module, "code_sha256", lambda: code["now"])
    monkeypatch.setattr(watch_module, "code_version", lambda: code["now"])  # the loaded code
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    monkeypatch.setattr(watch_module, "watched_paths", lambda raw: [raw, code_dir])
    corrections = raw_copy / SOURCE_ID / "corrections.yaml"
    original = corrections.read_text(encoding="utf-8")
    builds: list[dict[str, str]] = []

    def build(tags: dict[str, str]) -> int:
        builds.append(tags)
        if len(builds) == 1:  # the first build, while it runs: two edits of one file
            corrections.write_text(original + "\n# one\n", encoding="utf-8")
            time.sleep(0.5)
            corrections.write_text(original + "\n# one\n# two\n", encoding="utf-8")
        return 0

    service = watch_module.BuildService(raw_copy, build)
    assert watch_module.serve(service, StopAfter(60), max_builds=2) == "done"
    assert [tags["usmx/trigger"] for tags in builds] == [
        "watch: first build of the service",
        "watch: raw/ changed",
    ]
    assert builds[1]["usmx/raw_changed"] == f"1 file: {SOURCE_ID}/corrections.yaml"

    # the same bytes written again once the watch runs, then nothing: no build until stopped
    later(0.5, corrections.write_text, original + "\n# one\n# two\n")
    assert watch_module.serve(service, StopAfter(1.5), max_builds=None) == "stopped"
    assert len(builds) == 2

    code["now"] = "code-2"  # the code changes while the service waits
    later(0.5, (code_dir / "module.py").write_text, "# a new code version\n")
    assert watch_module.serve(service, StopAfter(60), max_builds=None) == "restart"
    assert len(builds) == 2  # nothing built with the old code

    def build_while_the_code_changes(tags: dict[str, str]) -> int:
        builds.append(tags)
        code["now"] = "code-3"
        (code_dir / "module.py").write_text("# another code version\n")
        return 0

    fresh = watch_module.BuildService(raw_copy, build_while_the_code_changes, code="code-2")
    assert watch_module.serve(fresh, StopAfter(60), max_builds=None) == "restart"
    assert len(builds) == 3  # the build in flight ran to its end, and no other


def test_a_code_change_restarts_the_service_with_the_new_code(tmp_path: Path):
    """End to end, on a copy of the project: editing a file of pipeline/ makes the running
    service start again (a new process image, a new code hash) and build with it; SIGINT
    then stops it, though it was started with SIGINT ignored."""
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
        wait_for(log, "Waiting for a change", 1, service)
        module = project / "pipeline" / "cli" / "watch.py"
        module.write_text(module.read_text() + "\n# a comment, and so a new code version\n")
        content = wait_for(log, "Waiting for a change", 2, service)
        assert "The code or schemas changed: starting again with the new code." in content
        headers = [line for line in content.splitlines() if line.startswith("Watching ")]
        assert len(headers) == 2 and headers[0] != headers[1]  # the code hash they name
        assert content.count(BUILT) == 2
        stop_and_check(service, signal.SIGINT, log)
    finally:
        end_group(service)


def test_sigterm_during_a_build_stops_the_service_and_outputs_stay_complete(
    raw_copy: Path, tmp_path: Path
):
    outputs, log = tmp_path / "outputs", tmp_path / "watch.log"
    service = start_service(raw_copy, outputs, tmp_path / "home", log)
    try:
        wait_for(log, "Waiting for a change", 1, service)
        corrections = raw_copy / SOURCE_ID / "corrections.yaml"
        corrections.write_text(corrections.read_text(encoding="utf-8") + CORRECTION)
        wait_for(log, "building.", 1, service)
        stop_and_check(service, signal.SIGTERM, log)
    finally:
        end_group(service)
    assert BUILT not in log.read_text(encoding="utf-8").split("building.")[1]  # stopped in it
    assert published_problems(outputs) == []  # the old package or the new one, whole


def waits_for_a_lock(pid: int) -> bool:
    """Linux lists a process blocked in flock() in /proc/locks with '->' before its entry."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and f" {pid} " in f" {line} " for line in lines)


def test_a_build_waits_while_another_publish_holds_the_outputs(tmp_path: Path):
    outputs, home = tmp_path / "outputs", tmp_path / "home"
    env = service_env(home, tmp_path / "cache")
    command = [sys.executable, "-m", "pipeline", "build", "--outputs", str(outputs)]
    with publish_lock(outputs):
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
