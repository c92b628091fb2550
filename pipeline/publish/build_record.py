"""How the published package was made: input checksums, code version, library versions.

The inputs are every file of each source folder under raw/ and of schemas/, found on disk
(never listed by hand), by published path in path order, each with its sha256.

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
from pipeline.core.fields import SCHEMAS_DIR
from pipeline.core.sources import SourceSnapshot, sha256_file

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


def _files(folder: Path) -> list[tuple[str, Path]]:
    """(path relative to `folder`, path) of every file under it; links are not followed."""
    return [(p.relative_to(folder).as_posix(), p) for p in folder.rglob("*")
            if p.is_file() and not p.is_symlink()]  # fmt: skip


def input_files(snapshots: list[SourceSnapshot], schemas_dir: Path = SCHEMAS_DIR) -> list[dict]:
    """[{path, sha256}] of every file of each source folder and of schemas/, sorted by path;
    the hashes the snapshots already hold are used, the others are made here."""
    found = {f"schemas/{name}": sha256_file(path) for name, path in _files(schemas_dir)}
    for s in snapshots:
        known = {**s.file_sha256, "source.txt": s.sha256}
        for name, path in _files(s.folder):
            found[s.published_path(name)] = known.get(name) or sha256_file(path)
    return [{"path": path, "sha256": found[path]} for path in sorted(found)]


def build_record(snapshots: list[SourceSnapshot]) -> dict[str, Any]:
    record = {"inputs": input_files(snapshots), "code": code_record()}
    return {**record, "libraries": library_versions()}
