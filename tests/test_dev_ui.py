"""`python3 dev.py ui` starts the Dagster UI on loopback, whose GraphQL answers, and SIGTERM
(to dev.py) or Ctrl-C (SIGINT to its process group, as a terminal sends it) stops it with
every process it started: none of its session is left."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.core.errors import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_members(sid: int) -> list[int]:
    """The pids of every live process of a session (a process group and its own groups)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone while listed
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; zombies are not running
            found.append(int(stat.parent.name))
    return found


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl-C"])
def test_dev_ui_answers_on_loopback_and_stops_leaving_no_process(tmp_path: Path, stop: str):
    (tmp_path / "dh").mkdir()
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh"), "DAGSTER_DISABLE_TELEMETRY": "1"}
    log = (tmp_path / "ui.log").open("wb")
    proc = subprocess.Popen(
        ["python3", "dev.py", "ui", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, answer = time.monotonic() + 180, None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = graphql(port, "{ version repositoriesOrError { __typename } }")
            except OSError:
                time.sleep(1)
        assert answer is not None, (tmp_path / "ui.log").read_text()[-3000:]
        assert answer["data"]["version"], answer
        assert answer["data"]["repositoriesOrError"]["__typename"] == "RepositoryConnection"
        assert len(session_members(proc.pid)) >= 3  # dev.py, dagster dev, webserver, daemon...

        if stop == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 60
        while session_members(proc.pid) and time.monotonic() < deadline:
            proc.poll()  # reap dev.py once it ends
            time.sleep(0.5)
        assert session_members(proc.pid) == [], (tmp_path / "ui.log").read_text()[-3000:]
        assert proc.wait(timeout=5) == 128 + (
            signal.SIGTERM if stop == "SIGTERM" else signal.SIGINT
        )
    finally:
        for pid in session_members(proc.pid):  # only this test's own processes, by pid
            os.kill(pid, signal.SIGKILL)
        proc.wait()
