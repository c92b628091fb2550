"""Servers started by tests end on SIGTERM, even in a test run started as a background job.

Why the `http.server` of tests/test_landing_browser.py once outlived its SIGTERM: a run
started with SIGINT ignored (`python3 dev.py test &` in a script) made every in-process
Dagster run leave SIGTERM ignored in pytest too, and every child inherited that (see
conftest._stop_signals_as_by_default). The first test shows the cause on Dagster itself; the
second runs pytest as such a background job and shows a server started after an in-process
run ends on SIGTERM alone; the third shows the shared helper escalating to SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import REPO_ROOT, assert_group_stopped, group_members, stop_group

TESTS = Path(__file__).parent


def as_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def sigterm_ignored(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(
        next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16
    )
    return bool(mask & (1 << (signal.SIGTERM - 1)))


MATERIALIZE_THEN_START_A_CHILD = """
import os, subprocess, sys, tempfile
import dagster as dg
os.environ["DAGSTER_HOME"] = tempfile.mkdtemp()
@dg.asset
def one() -> int:
    return 1
assert dg.materialize([one]).success
child = subprocess.Popen(["sleep", "60"])
print(child.pid, flush=True)
sys.stdin.read()
child.kill()
"""


def test_the_cause_an_in_process_dagster_run_passes_an_ignored_sigint_on_to_sigterm(tmp_path):
    """Not our code: if this fails, Dagster no longer does it and the work-around in
    conftest.py may go."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MATERIALIZE_THEN_START_A_CHILD], cwd=tmp_path,
        preexec_fn=as_a_background_job, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        child = int(proc.stdout.readline())
        assert sigterm_ignored(child)
    finally:
        proc.stdin.close()
        assert_group_stopped(proc)


INNER = """
import os, signal, subprocess, sys
import dagster as dg
from conftest import stop_group

@dg.asset
def one() -> int:
    return 1

def test_a_server_started_after_an_in_process_run_ends_on_sigterm():
    assert dg.materialize([one]).success
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(10) == -signal.SIGTERM
    finally:
        assert stop_group(server) == []
"""


def test_a_background_test_run_stops_its_servers_with_sigterm(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:randomly",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=REPO_ROOT, env=env, preexec_fn=as_a_background_job,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed" in proc.stdout


def test_the_helper_kills_what_ignores_sigterm_and_reports_only_what_is_left(tmp_path):
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
         "print('ready', flush=True); time.sleep(120)"],
        start_new_session=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert stubborn.stdout.readline().strip() == "ready"
    started = time.monotonic()
    assert stop_group(stubborn, grace=1.0) == []
    assert stubborn.returncode == -signal.SIGKILL and time.monotonic() - started < 10
    assert group_members(stubborn.pid) == []
