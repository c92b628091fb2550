"""Source snapshots: one folder per source under raw/, verified against its recorded sha256.

A source is `raw/<source_id>/source.txt` (the text byte for byte as published), its sidecar
`source.yaml` (origin, rights, sha256) and the hand annotations `annotations.yaml`. Adding
a source is adding a folder; nothing here names a particular source.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.errors import REPO_ROOT, BuildError
from pipeline.yaml_lines import load_yaml, strip_lines

RAW_DIR = REPO_ROOT / "raw"
SIDECAR_REQUIRED = ("source_id", "title", "publisher", "url", "rights", "encoding", "sha256")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


_FILE_DIGESTS: dict[str, tuple[tuple[int, ...], bytes]] = {}
_RACY_NS = 2_000_000_000


def file_digest(path: str | os.PathLike) -> bytes:
    """A file's sha256, read once per process while its stat (size, times, inode) is the
    same: raw/ is hashed by `raw_files` and again by `source_snapshots` in one build, and
    the build record names the digests of the sidecars and annotations. As in git's index,
    a file changed within the last seconds is not remembered: a second write in the same
    clock tick of the file system would keep its times."""
    path = os.path.abspath(path)
    info = os.stat(path)
    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    known = _FILE_DIGESTS.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").digest()
    if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > _RACY_NS:
        _FILE_DIGESTS[path] = (stamp, digest)
    return digest


@dataclass(frozen=True)
class SourceSnapshot:
    """The verified text of one source and what its sidecar says about it."""

    source_id: str
    folder: Path
    text: str
    meta: dict
    sha256: str
    bytes: int

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


def load_snapshot(folder: Path) -> SourceSnapshot:
    """Read one source folder and refuse it unless the text matches its recorded sha256."""
    sidecar = folder / "source.yaml"
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
    text_path = folder / "source.txt"
    try:
        data = text_path.read_bytes()
    except FileNotFoundError as exc:
        raise BuildError(text_path, "the source text is missing", "restore it") from exc
    digest = sha256_bytes(data)
    if digest != meta["sha256"]:
        raise BuildError(
            text_path,
            f"its sha256 is {digest} but {sidecar.name} records {meta['sha256']}",
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
    return SourceSnapshot(meta["source_id"], folder, text, meta, digest, len(data))


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and one rename: a reader (another
    build sharing the cache) sees the whole file or none."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
