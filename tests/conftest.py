"""Shared fixtures: a private Dagster instance and cache, temporary copies of raw/, one real
build, and the one way a test stops a server it started.

Isolation: no test reads or writes the developer's own `.cache/`, `.dagster_home/` or
`outputs/` (the committed-outputs tests in tests/test_outputs.py only read `outputs/`).
Every process of the run gets its own DAGSTER_HOME and USMX_CACHE_DIR (children inherit
them), and the run fails at its end, naming the files, if any of those three folders changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from pipeline.cli.main import build
from pipeline.core.errors import REPO_ROOT

RAW = REPO_ROOT / "raw"
OUTPUTS = REPO_ROOT / "outputs"
SOURCE_ID = "ondcp-usmx-ch3"
DEVELOPER_STATE = (REPO_ROOT / ".cache", REPO_ROOT / ".dagster_home", OUTPUTS)


def _stop_signals_as_by_default() -> None:
    """A test run started as a background job (`python3 dev.py test &` in a script, CI)
    inherits SIGINT ignored. Every in-process Dagster run then copies SIGINT's disposition to
    SIGTERM when it ends (dagster's `capture_interrupts` restores SIGINT and sets SIGTERM to
    the same handler), so SIGTERM became ignored in pytest, and every server started after
    that inherited it ignored: `http.server`, which sets no handler of its own, then outlived
    its SIGTERM. Ignored dispositions survive exec, handlers do not: give pytest SIGINT's
    usual handler and SIGTERM its default, and children start with both at their defaults."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _state_of(folders: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """{path: (size, mtime_ns)} of every file and folder under `folders`: any write shows."""
    state = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            st = path.lstat()
            state[path.relative_to(REPO_ROOT).as_posix()] = (st.st_size, st.st_mtime_ns)
    return state


def pytest_configure(config: pytest.Config) -> None:
    _stop_signals_as_by_default()
    # before collection: a module that makes Definitions on import (pipeline.definitions'
    # `defs`) reads its folders then, before any fixture runs
    private = Path(tempfile.mkdtemp(prefix="usmx-test-state-"))
    (private / "dagster_home").mkdir()
    (private / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(private / "dagster_home")
    os.environ["USMX_CACHE_DIR"] = str(private / "cache")
    if not hasattr(config, "workerinput"):  # the controlling process (or a run without xdist)
        config.stash[_STATE] = _state_of(DEVELOPER_STATE)


_STATE = pytest.StashKey[dict]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_STATE, None)
    if before is None:
        return
    after = _state_of(DEVELOPER_STATE)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (
            f"the tests changed the developer's own .cache/, .dagster_home/ or outputs/: "
            f"{len(changed)} path(s), the first: {', '.join(changed[:5])}"
        )
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _stop_signals_stay_default() -> None:
    """After each test, put back what an in-process Dagster run (or anything) changed."""
    yield
    _stop_signals_as_by_default()


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test runs against its own Dagster instance and cache, never the project's."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(home))
    mp.setenv("USMX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """outputs/ built once from the project's raw/ into a temporary folder (a copy of
    $USMX_TEST_BUILT instead, when benchmarks/mutation.py hands the tests a build it made)."""
    outputs = tmp_path_factory.mktemp("build") / "outputs"
    if os.environ.get("USMX_TEST_BUILT"):
        shutil.copytree(os.environ["USMX_TEST_BUILT"], outputs)
        return outputs
    assert build(RAW, outputs) == 0
    return outputs


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of raw/ for tests that damage an input."""
    copy = tmp_path / "raw"
    shutil.copytree(RAW, copy)
    for path in copy.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return copy


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under a folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def group_members(pgid: int) -> list[int]:
    """PIDs of the live processes (zombies excluded) whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def stop_group(leader: subprocess.Popen, grace: float = 10.0) -> list[int]:
    """Stop the process group led by `leader` (started with start_new_session=True or
    process_group=0, so the group id is its PID): SIGTERM, then SIGKILL for whatever is left
    after `grace` seconds. Returns the PIDs still alive after that: only those are a failure
    (a server slow to end on SIGTERM is killed, not reported)."""
    pgid = leader.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        leader.poll()  # reap the leader if it already ended
        if not group_members(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while group_members(pgid) and time.monotonic() < deadline:
            leader.poll()  # reap the leader as soon as it exits
            time.sleep(0.1)
    try:
        leader.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass  # reported below: it is still in the group
    return group_members(pgid)


def assert_group_stopped(leader: subprocess.Popen, grace: float = 10.0) -> None:
    """stop_group, failing the test only when something of the group is really left running."""
    left = stop_group(leader, grace)
    assert left == [], f"still running after SIGTERM and SIGKILL (group {leader.pid}): {left}"
