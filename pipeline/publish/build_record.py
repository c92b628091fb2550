"""How the published package was made: input checksums, code version, library versions.

Recorded in `datapackage.json` under `build` (and `created`). Nothing here reads the
clock: the date is SOURCE_DATE_EPOCH when set, else the date of the last commit that
touched raw/, so two builds of the same commit give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline.cache.keys import CODE_FILES, CODE_FOLDERS, code_version
from pipeline.core.errors import REPO_ROOT
from pipeline.core.sources import SourceSnapshot

CODE_PATHS = (*CODE_FOLDERS, *CODE_FILES)
LIBRARIES = ("dagster", "pandas", "pandera", "pyarrow", "frictionless")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def code_record() -> dict[str, Any]:
    status = _git("status", "--porcelain", "--", *CODE_PATHS)
    return {
        "code_sha256": code_version(),
        "git_commit": _git("log", "-1", "--format=%H", "--", *CODE_PATHS) or None,
        "git_dirty": None if status is None else bool(status),
    }


def created(raw_dir: Path) -> str | None:
    """SOURCE_DATE_EPOCH, else the date of the last commit that touched raw/ (ISO, UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch and raw_dir.resolve() == (REPO_ROOT / "raw").resolve():
        epoch = _git("log", "-1", "--format=%ct", "--", "raw")
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def build_record(snapshots: list[SourceSnapshot]) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "source_id": s.source_id,
                "source": s.published_path("source.txt"),
                "source_sha256": s.sha256,
                "sidecar_sha256": s.file_sha256["source.yaml"],
                "annotations": s.published_path("annotations.yaml"),
                "annotations_sha256": s.file_sha256.get("annotations.yaml"),
            }
            for s in snapshots
        ],
        "code": code_record(),
        "libraries": library_versions(),
    }
