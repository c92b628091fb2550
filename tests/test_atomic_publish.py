"""Publishing is atomic: a real build process killed at any point of publishing leaves an
outputs/ that validates and is either all old or all new; the next build cleans up."""

from __future__ import annotations

import json
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
from pipeline.publish.swap import KILL_POINTS, recover
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


HARNESS = Path(__file__).parent / "kill_harness.py"


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HARNESS), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def kill_points(steps: list[list]) -> list[int]:
    """Step numbers to kill before: each step of the swap itself (depth 0), and midway
    through each composite one (after its first inner step)."""
    points = []
    for i, (_name, depth) in enumerate(steps, start=1):
        if depth == 0:
            points.append(i)
            if i < len(steps) and steps[i][1] > 0 and i + 1 < len(steps) and steps[i + 1][1] > 0:
                points.append(i + 2)  # its first inner step done, the next not
    return points


def whole(outputs: Path, scenario: dict) -> str:
    """'old' or 'new' when outputs/ is one of them whole and validates; otherwise a problem."""
    state = tree_digest(outputs) if outputs.exists() else {}
    name = {repr(tree_digest(scenario["old"])): "old", repr(tree_digest(scenario["new"])): "new"}
    found = name.get(repr(state))
    if found is None:
        return f"neither old nor new ({len(state)} files)" if state else "outputs/ is missing"
    problems = validate_package(outputs)
    return found if not problems else f"{found}, invalid: {problems[0]}"


@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_a_kill_inside_the_swap_leaves_a_whole_valid_outputs(scenario, path, tmp_path):
    """Killed before every step of the swap itself (the atomic exchange, or where it is not
    available the two renames) and midway through each composite step, then recovered as the
    next build does first: outputs/ is all old or all new, and validates."""
    extra = ["--no-exchange"] if path == "fallback" else []
    build = ["--", "build", "--raw", str(scenario["raw"])]
    record, outputs = tmp_path / "steps.json", tmp_path / "outputs"
    shutil.copytree(scenario["old"], outputs)
    done = harness("build", "--record", str(record), *extra, *build, "--outputs", str(outputs))
    assert done.returncode == 0, done.stderr[-3000:]
    assert whole(outputs, scenario) == "new"
    steps = json.loads(record.read_text())
    points = kill_points(steps)
    assert points, f"no step of the swap was seen: {steps}"
    seen = {}
    for n in points:
        outputs = tmp_path / f"outputs-{n}"
        shutil.copytree(scenario["old"], outputs)
        killed = harness("build", "--kill", str(n), *extra, *build, "--outputs", str(outputs))
        assert killed.returncode == -signal.SIGKILL, (n, steps, killed.stderr[-3000:])
        recover(outputs)
        seen[f"{n}:{steps[n - 1][0]}"] = whole(outputs, scenario)
        leftovers = [
            p.name for p in outputs.parent.iterdir() if p.name.startswith(f"{outputs.name}.")
        ]
        assert leftovers == [], (n, leftovers)
    assert set(seen.values()) <= {"old", "new"}, seen


def test_a_kill_inside_recovery_leaves_a_whole_valid_outputs(scenario, tmp_path):
    """A fallback swap killed between its two renames (outputs/ moved aside, the new one not
    yet in place), then its recovery killed before each of its steps and midway through each:
    the recovery after that still gives back the old outputs/, whole and valid."""
    build = ["--", "build", "--raw", str(scenario["raw"])]

    def half_swapped(outputs: Path) -> None:
        shutil.copytree(scenario["old"], outputs)
        record = outputs.parent / "swap-steps.json"
        done = harness(
            "build", "--record", str(record), "--no-exchange", *build, "--outputs", str(outputs)
        )
        assert done.returncode == 0, done.stderr[-3000:]
        shutil.rmtree(outputs)
        shutil.copytree(scenario["old"], outputs)
        renames = [i for i, (name, depth) in enumerate(json.loads(record.read_text()), 1)
                   if depth == 0 and name in ("replace", "rename")]  # fmt: skip
        assert len(renames) >= 2, f"the fallback swap did not rename twice: {renames}"
        kill = str(renames[1])  # before the second rename: the old one moved aside, no new one
        killed = harness(
            "build", "--kill", kill, "--no-exchange", *build, "--outputs", str(outputs)
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        assert not outputs.exists(), "the kill did not fall between the two renames"

    template = tmp_path / "template" / "outputs"
    half_swapped(template)
    record = tmp_path / "steps.json"
    first = tmp_path / "first" / "outputs"
    (template.parent / "swap-steps.json").unlink()
    shutil.copytree(template.parent, first.parent, symlinks=True)
    assert harness("recover", "--record", str(record), str(first)).returncode == 0
    assert whole(first, scenario) == "old"
    steps = json.loads(record.read_text())
    points = kill_points(steps)
    assert len(points) >= 2, steps
    seen = {}
    for n in points:
        outputs = tmp_path / f"run-{n}" / "outputs"
        shutil.copytree(template.parent, outputs.parent, symlinks=True)
        killed = harness("recover", "--kill", str(n), str(outputs))
        assert killed.returncode == -signal.SIGKILL, (n, killed.stderr[-2000:])
        recover(outputs)
        seen[f"{n}:{steps[n - 1][0]}"] = whole(outputs, scenario)
        assert [p.name for p in outputs.parent.iterdir() if p.name.startswith("outputs.")] == [], n
    assert set(seen.values()) == {"old"}, seen
