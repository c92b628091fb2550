"""Publishing is atomic: a real build process killed at any point of publishing leaves an
outputs/ that validates and is either all old or all new; the next build cleans up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.errors import REPO_ROOT
from pipeline.publish.swap import KILL_POINTS
from pipeline.publish.validation import validate_package

CORRECTION = (
    '\n  - id: test-cocaine-1999\n    quote: "34.6"\n    corrected: "43.6"\n'
    "    reason: A test correction.\n    reported_on: 2026-11-27\n    reported_by: tests\n"
)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    """Old outputs built from raw/, a corrected raw/, and the outputs it should publish."""
    base = tmp_path_factory.mktemp("atomic")
    raw = base / "raw"
    shutil.copytree(REPO_ROOT / "raw", raw)
    for p in raw.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    old = base / "old"
    assert main(["build", "--raw", str(raw), "--outputs", str(old)]) == 0
    path = raw / SOURCE_ID / "corrections.yaml"
    path.write_text(path.read_text() + CORRECTION)
    new = base / "new"
    shutil.copytree(old, new)
    assert main(["build", "--raw", str(raw), "--outputs", str(new)]) == 0
    assert tree_digest(new) != tree_digest(old)
    return {"raw": raw, "old": old, "new": new, "base": base}


def build_process(raw: Path, outputs: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"USMX_KILL_AT": kill_at} if kill_at else {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(raw), "--outputs", str(outputs)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_build_killed_while_publishing_leaves_outputs_all_old_or_all_new(scenario, point):
    outputs = scenario["base"] / f"outputs-{point}"
    shutil.copytree(scenario["old"], outputs)
    killed = build_process(scenario["raw"], outputs, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = tree_digest(outputs)
    assert state in (tree_digest(scenario["old"]), tree_digest(scenario["new"]))
    assert validate_package(outputs) == []
    if point == "exchanged":
        assert state == tree_digest(scenario["new"])
    else:
        assert state == tree_digest(scenario["old"])
    # the next build finishes the job and removes the leftovers
    again = build_process(scenario["raw"], outputs, None)
    assert again.returncode == 0, again.stderr
    assert tree_digest(outputs) == tree_digest(scenario["new"])
    leftovers = [p.name for p in outputs.parent.iterdir() if p.name.startswith(outputs.name + ".")]
    assert leftovers == []


def test_no_change_is_judged_on_every_file_subfolders_included(tmp_path):
    """A build whose only change is in a subfolder (a source's provenance page) is a change."""
    from pipeline.publish.swap import same_tree

    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "provenance").mkdir(parents=True)
        (folder / "datapackage.json").write_text("{}")
        (folder / "provenance" / "s.html").write_text("<p>one</p>")
    assert same_tree(a, b)
    (b / "provenance" / "s.html").write_text("<p>two</p>")
    assert not same_tree(a, b)
    (b / "provenance" / "s.html").unlink()
    (b / "provenance" / "t.html").write_text("<p>one</p>")
    assert not same_tree(a, b)
