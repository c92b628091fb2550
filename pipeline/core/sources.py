"""Source snapshots: one folder per source under raw/, verified against its recorded sha256.

A source is `raw/<source_id>/source.txt` (the text byte for byte as published), its sidecar
`source.yaml` (origin, rights, sha256; optionally the `reference_year` its relative periods
are read against) and the hand annotations `annotations.yaml`. Adding a source is adding a
folder; nothing here names a particular source.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pipeline.core.errors import REPO_ROOT, BuildError
from pipeline.core.yaml_lines import load_yaml, strip_lines

RAW_DIR = REPO_ROOT / "raw"
SIDECAR_REQUIRED = ("source_id", "title", "publisher", "url", "rights", "encoding", "sha256")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(eq=False)
class SourceSnapshot:
    """The verified text of one source and what its sidecar says about it."""

    source_id: str
    folder: Path
    text: str
    meta: dict
    sha256: str  # of the text's bytes
    bytes: int  # noqa: A003 - the sources table's column
    file_sha256: dict[str, str] = field(default_factory=dict)  # file name -> sha256

    def __repr__(self) -> str:
        return f"SourceSnapshot({self.source_id!r}, {str(self.folder)!r}, sha256={self.sha256!r})"

    @property
    def code_points(self) -> int:
        return len(self.text)

    @property
    def text_path(self) -> Path:
        return self.folder / "source.txt"

    @property
    def annotations_path(self) -> Path:
        return self.folder / "annotations.yaml"

    def published_path(self, name: str) -> str:
        """How a file of this source is named in published data: raw/<source_id>/<name>,
        the repository layout, wherever the raw/ folder being built happens to be."""
        return f"raw/{self.source_id}/{name}"

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        return starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in code points) of a code-point offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """Code-point span of the line (paragraph) holding an offset, newline excluded."""
        line, _ = self.line_col(offset)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return start, len(self.text) if end == -1 else end


def source_folders(raw_dir: Path = RAW_DIR) -> list[Path]:
    """Every source folder under raw/, in a stable order."""
    return sorted(p for p in raw_dir.iterdir() if p.is_dir() and (p / "source.yaml").exists())


def raw_file_hashes(raw_dir: Path) -> dict[str, str]:
    """{path relative to raw/: sha256} of every file under raw/, in path order (folder by
    folder, as pathlib sorts paths); links to folders are not followed."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"the raw/ folder {raw_dir} does not exist")
    files: list[tuple[tuple[str, ...], str]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, (*parts, entry.name))
                elif entry.is_file():
                    files.append(((*parts, entry.name), entry.path))

    walk(os.path.abspath(raw_dir), ())
    return {"/".join(parts): sha256_file(path) for parts, path in sorted(files)}


def raw_tree_sha256(raw_dir: Path, hashes: dict[str, str] | None = None) -> str:
    """One hash of every file under raw/ (relative path and content), in path order, from
    `hashes` (`raw_file_hashes`) when given."""
    digest = hashlib.sha256()
    for path, file_sha256 in (hashes or raw_file_hashes(raw_dir)).items():
        digest.update(path.encode() + b"\0" + bytes.fromhex(file_sha256))
    return digest.hexdigest()


def _sidecar(folder: Path) -> dict:
    sidecar = folder / "source.yaml"
    if not sidecar.is_file():
        raise BuildError(sidecar, "the file is missing", "create it or restore it from git")
    meta = strip_lines(load_yaml(sidecar))
    if not isinstance(meta, dict):
        raise BuildError(sidecar, "the sidecar is not a mapping", "write it as key: value lines")
    missing = [k for k in SIDECAR_REQUIRED if not meta.get(k)]
    if missing:
        raise BuildError(sidecar, f"the sidecar lacks {', '.join(missing)}", "add the missing keys")
    if meta["source_id"] != folder.name:
        raise BuildError(
            sidecar,
            f"source_id '{meta['source_id']}' differs from the folder name '{folder.name}'",
            "make them equal",
        )
    year = meta.get("reference_year")
    if year is not None and not (type(year) is int and meta.get("reference_year_basis")):
        raise BuildError(
            sidecar, f"reference_year {year!r} is not a year with its reference_year_basis",
            "give the year the text is written in as a number (reference_year: 2000) and "
            "quote where the text makes it clear under reference_year_basis:",
        )  # fmt: skip
    return meta


def load_snapshot(folder: Path, hashes: dict[str, str] | None = None) -> SourceSnapshot:
    """Read one source folder and refuse it unless the text matches its recorded sha256;
    `hashes` (`raw_file_hashes` of its raw/) spares hashing its other files again."""
    meta = _sidecar(folder)
    text_path = folder / "source.txt"
    try:
        data = text_path.read_bytes()
    except FileNotFoundError as exc:
        raise BuildError(text_path, "the source text is missing", "restore it") from exc
    digest = sha256_bytes(data)
    if digest != meta["sha256"]:
        raise BuildError(
            text_path,
            f"its sha256 is {digest} but source.yaml records {meta['sha256']}",
            "restore the snapshot from git, or, if the source was really corrected, "
            "record the new sha256 in the sidecar and review every annotation",
            record=meta["source_id"],
        )
    try:
        text = data.decode(meta["encoding"])
    except (UnicodeDecodeError, LookupError) as exc:
        raise BuildError(
            text_path, f"the text does not decode as {meta['encoding']}", "fix the encoding"
        ) from exc
    known = hashes or {}
    files = {
        name: known.get(f"{folder.name}/{name}") or sha256_file(folder / name)
        for name in ("source.yaml", "annotations.yaml", "corrections.yaml")
        if (folder / name).is_file()
    }
    return SourceSnapshot(meta["source_id"], folder, text, meta, digest, len(data), files)
