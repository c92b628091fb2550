"""Shared fixtures: a private Dagster instance, temporary copies of raw/, one real build."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pipeline.cli.main import build
from pipeline.core.errors import REPO_ROOT

RAW = REPO_ROOT / "raw"
OUTPUTS = REPO_ROOT / "outputs"
SOURCE_ID = "ondcp-usmx-ch3"


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test runs against its own Dagster instance, never the project's."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """outputs/ built once from the project's raw/ into a temporary folder."""
    outputs = tmp_path_factory.mktemp("build") / "outputs"
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
