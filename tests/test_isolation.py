"""Issue 22, item 3: no test reads or writes the developer's own .cache/, .dagster_home/ or
outputs/. Every test process gets its own Dagster instance and cache (conftest), and a run
that changed one of those three folders anyway fails, naming the paths. Both are shown here
on a copy of the project, so that the failing case writes into the copy's folders, never
into this checkout's."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SOURCE_ID
from pipeline.core.errors import REPO_ROOT

WRITES = {
    ".cache": "(root / '.cache').mkdir(exist_ok=True); (root / '.cache' / 'stray').write_text('x')",
    ".dagster_home": "(root / '.dagster_home' / 'runs.db').parent.mkdir(exist_ok=True); "
    "(root / '.dagster_home' / 'runs.db').write_text('x')",
    "outputs": "(root / 'outputs' / 'README.md').write_text('edited')",
}


def _copy(tmp_path: Path, body: str) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "pipeline", copy / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copytree(REPO_ROOT / "outputs", copy / "outputs")
    shutil.copy2(REPO_ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "tests").mkdir()
    shutil.copy2(REPO_ROOT / "tests" / "conftest.py", copy / "tests" / "conftest.py")
    (copy / "tests" / "test_probe.py").write_text(
        "import os\nfrom pathlib import Path\n\n"
        "def test_probe():\n"
        "    root = Path(__file__).resolve().parents[1]\n"
        f"    {body}\n",
        encoding="utf-8",
    )
    return copy


def _pytest(copy: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}  # the copy's pipeline/, not this checkout's
    env.pop("DAGSTER_HOME", None)
    env.pop("USMX_CACHE_DIR", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:xdist",
               "-p", "no:cacheprovider", "-q", "tests/test_probe.py"]  # fmt: skip
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("folder", sorted(WRITES))
def test_a_run_that_writes_into_the_developers_folders_fails_and_names_the_path(
    tmp_path: Path, folder: str
) -> None:
    copy = _copy(tmp_path, WRITES[folder])
    run = _pytest(copy)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the tests changed the developer's own" in run.stdout, run.stdout
    assert f"{folder}/" in run.stdout.split("the first:", 1)[1], run.stdout


def test_a_run_that_writes_only_where_it_is_given_passes(tmp_path: Path) -> None:
    body = (
        "home = Path(os.environ['DAGSTER_HOME']); cache = Path(os.environ['USMX_CACHE_DIR']); "
        "assert root not in home.parents and root not in cache.parents; "
        "cache.mkdir(parents=True, exist_ok=True); (cache / 'x').write_text('x'); "
        "(home / 'y').write_text('y')"
    )
    run = _pytest(_copy(tmp_path, body))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the tests changed" not in run.stdout


def test_this_process_and_its_children_use_their_own_instance_and_cache() -> None:
    for name in ("DAGSTER_HOME", "USMX_CACHE_DIR"):
        here = Path(os.environ[name]).resolve()
        assert REPO_ROOT.resolve() not in here.parents, (name, here)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['DAGSTER_HOME'])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(child.stdout.strip()).resolve() == Path(os.environ["DAGSTER_HOME"]).resolve()


def test_a_build_leaves_open_the_stream_absl_kept_at_its_import(raw_copy: Path, tmp_path: Path):
    """Order independence (seed 714437116 found it): absl, imported with mlcroissant by a test
    module while pytest's capture stood in for stderr, keeps that stream; every Dagster run
    calls `logging.config`, which closes every handler, and absl's handler closes its stream
    with it, so the capture of every later test was closed. A host's stream (a notebook's, a
    test's capture) stays open through a build, here one that stops at its first step."""
    from absl import logging as absl_logging

    from pipeline.cli.main import main

    handler = absl_logging.get_absl_handler().python_handler
    host = io.StringIO()
    handler.stream = host  # as if absl had been imported while stderr was `host`
    annotations = raw_copy / SOURCE_ID / "annotations.yaml"
    text = annotations.read_text(encoding="utf-8")
    annotations.write_text(text.replace("quote:", "quote: zzz not in the text zzz #", 1))
    try:
        code = main(["build", "--raw", str(raw_copy), "--outputs", str(tmp_path / "outputs")])
        assert code == 1  # the run started and stopped: Dagster's logging.config ran
        assert not host.closed, "the build closed the stream absl was given"
        assert handler.stream is sys.__stderr__
    finally:
        handler.stream = sys.__stderr__
