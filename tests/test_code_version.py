"""One code version, derived from the files, never listed by hand: any change to pipeline/,
schemas/ or the lock makes the next build recompute what the cache holds, and a warm build
publishes exactly what a cold build publishes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tree_digest
from pipeline.cache.keys import code_files, code_sha256
from pipeline.core.errors import REPO_ROOT

# prints the ids of the sources whose rows the next build would make anew (not read back)
REMADE = """
import sys
from pathlib import Path
from pipeline.cache.rows import source_rows
from pipeline.core.sources import load_snapshot, source_folders
raw, cache, outputs = (Path(a) for a in sys.argv[1:4])
_, remade = source_rows([load_snapshot(f) for f in source_folders(raw)], cache)
print(",".join(remade))
"""


def copy_project(target: Path) -> Path:
    for name in ("pipeline", "schemas", "raw"):
        shutil.copytree(
            REPO_ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(REPO_ROOT / name, target / name)
    return target


def run_in(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A Python process whose `pipeline` is the copy's (its folder first on sys.path)."""
    environment = {**os.environ, "PYTHONPATH": str(project), **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=environment, capture_output=True, text=True
    )


def test_every_file_of_the_code_changes_the_code_version(tmp_path: Path):
    project = copy_project(tmp_path / "project")
    files = code_files(project)
    names = {p.relative_to(project).as_posix() for p in files}
    assert {"constraints.txt", "pyproject.toml", "schemas/fields.yaml"} <= names
    assert {p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.glob("pipeline/**/*.py")
            if "__pycache__" not in p.parts} <= names  # fmt: skip
    before = code_sha256(project)
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert code_sha256(project) != before, path
        path.write_bytes(original)
    assert code_sha256(project) == before


def test_a_comment_in_any_module_makes_the_next_build_remake_the_rows(tmp_path: Path):
    project = copy_project(tmp_path / "project")
    cache, outputs = tmp_path / "cache", tmp_path / "outputs"
    args = ["-c", REMADE, str(project / "raw"), str(cache), str(outputs)]
    first = run_in(project, *args)
    assert first.returncode == 0 and first.stdout.strip() == "ondcp-usmx-ch3", first.stderr
    assert run_in(project, *args).stdout.strip() == ""  # unchanged code: read back
    modules = sorted((project / "pipeline").rglob("*.py"))
    assert len(modules) > 20
    for module in modules:
        module.write_text(module.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
        again = run_in(project, *args)
        assert again.stdout.strip() == "ondcp-usmx-ch3", (module, again.stderr[-2000:])
    # so does each file of the source itself, its sidecar (the text's encoding) included
    for name in ("source.yaml", "annotations.yaml", "corrections.yaml"):
        path = project / "raw" / "ondcp-usmx-ch3" / name
        path.write_text(path.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
        again = run_in(project, *args)
        assert again.stdout.strip() == "ondcp-usmx-ch3", (name, again.stderr[-2000:])


CHANGES = {
    # every published line number moves: the checks refuse it, warm and cold alike
    "line numbers shifted": (
        "core/sources.py",
        "        return index + 1, offset - self._line_starts[index] + 1",
        "        return index + 2, offset - self._line_starts[index] + 1",
    ),
    # every number on the pages is written otherwise: a build that publishes
    "page numbers spaced": (
        "site/labels.py",
        'return f"{int(value):,}"',
        'return f"{int(value):,}".replace(",", " ")',
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_function_publishes_warm_exactly_what_it_publishes_cold(
    tmp_path: Path, change: str
):
    """The hazard of a hand-kept list of files: a cache that outlives the code that made it.
    Build, change what a function returns, then build with the cache kept (warm) and with a
    new one (cold): the two publish the same bytes and say the same."""
    project = copy_project(tmp_path / "project")
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    def build(name: str, cache: str) -> tuple[int, str, dict]:
        outputs = tmp_path / name
        if not outputs.exists() and (tmp_path / "first").exists():
            shutil.copytree(tmp_path / "first", outputs)
        env = {"DAGSTER_HOME": str(home), "USMX_CACHE_DIR": str(tmp_path / cache)}
        done = run_in(project, "-m", "pipeline", "build", "--outputs", str(outputs), env=env)
        return done.returncode, done.stderr.replace(str(outputs), "O"), tree_digest(outputs)

    first = build("first", "warm")
    assert first[0] == 0, first[1]
    name, old, new = CHANGES[change]
    module = project / "pipeline" / name
    text = module.read_text(encoding="utf-8")
    assert old in text
    module.write_text(text.replace(old, new), encoding="utf-8")
    warm, cold = build("warm-outputs", "warm"), build("cold-outputs", "cold")
    assert warm == cold
    if change == "page numbers spaced":
        assert warm[0] == 0 and warm[2] != first[2]  # published, with the new pages
    else:
        assert warm[0] == 1 and warm[2] == first[2]  # refused, outputs left as they were
