"""Source snapshots: one folder per source under raw/, verified against its recorded sha256.

A source is `raw/<source_id>/source.txt` (the text byte for byte as published), its sidecar
`source.yaml` (origin, rights, sha256) and the hand annotations `annotations.yaml`. Adding
a source is adding a folder; nothing here names a particular source.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import pickle
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from pipeline.core.errors import REPO_ROOT, BuildError
from pipeline.core.yaml_lines import load_yaml, strip_lines

RAW_DIR = REPO_ROOT / "raw"
SIDECAR_REQUIRED = ("source_id", "title", "publisher", "url", "rights", "encoding", "sha256")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


_FILE_DIGESTS: dict[str, tuple[tuple[int, ...], bytes]] = {}
_RACY_NS = 2_000_000_000
# what a sidecar (by its sha256) says, and the code points and bytes of a text verified and
# decoded before (by its sha256 and encoding): read once, then known wherever the same
# bytes are found again
_SIDECARS: dict[bytes, dict] = {}
_TEXTS: dict[tuple[str, str], tuple[int, int]] = {}


def file_digest(path: str | os.PathLike) -> bytes:
    """A file's sha256, read once while its stat (size, times, inode) is the same: raw/ is
    hashed by `raw_files` and again by `source_snapshots` in one build, and the build record
    names the digests of the sidecars and annotations. As in git's index, a file changed
    within the last seconds is not remembered: a second write in the same clock tick of the
    file system would keep its times. What is remembered lasts the process, and across
    builds through `RawIndex`."""
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


class RawIndex:
    """git's index for one raw/ folder, kept in the cache between builds
    (`<cache>/raw-index/<hash of the folder's path>.pickle`): each file's sha256 with the
    stat it was read under, each sidecar's content by its sha256, each text's code-point
    count by its sha256 and encoding. A file whose stat (size, modification and change
    times, inode, device) is the one recorded is not read again; any change of its bytes
    changes its change time (which no program can set), so it is read and hashed anew. A
    fresh cache (or none) reads and verifies everything. The sensor, `raw_files` and
    `source_snapshots` share it, so a rebuild of 1,000 unchanged sources stats 4,000 files
    instead of hashing 32 MB and parsing 1,000 sidecars."""

    def __init__(self, cache_dir: Path | None, raw_dir: Path) -> None:
        self.raw = os.path.abspath(raw_dir)
        name = hashlib.sha256(self.raw.encode()).hexdigest()[:16]
        self.path = None if cache_dir is None else Path(cache_dir) / "raw-index" / f"{name}.pickle"
        self._stored: dict | None = None
        self._loaded = False

    def load(self) -> RawIndex:
        """Make what the index holds known to this process (stats are still compared); read
        once per RawIndex."""
        if self.path is None or self._loaded:
            return self
        self._loaded = True
        try:
            stored = pickle.loads(self.path.read_bytes())
            files, sidecars, texts = stored["files"], stored["sidecars"], stored["texts"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
            return self  # none yet, or unreadable: everything is read and verified
        self._stored = stored
        for path, entry in files.items():
            _FILE_DIGESTS.setdefault(path, entry)
        for digest, meta in sidecars.items():
            _SIDECARS.setdefault(digest, meta)
        for key, count in texts.items():
            _TEXTS.setdefault(key, count)
        return self

    def save(self, paths: list[str]) -> None:
        """Keep what this process knows of `paths` (the files now under raw/; entries of
        files that left are dropped) and of their sidecars and texts; written only when it
        differs from what is stored."""
        if self.path is None:
            return
        files = {p: _FILE_DIGESTS[p] for p in paths if p in _FILE_DIGESTS}
        digests = {digest for _, digest in files.values()}
        hexes = {digest.hex() for digest in digests}
        stored = {
            "files": files,
            "sidecars": {d: m for d, m in _SIDECARS.items() if d in digests},
            "texts": {k: n for k, n in _TEXTS.items() if k[0] in hexes},
        }
        if stored != self._stored:
            write_atomically(self.path, pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL))
            self._stored = stored


class SourceSnapshot:
    """The verified text of one source and what its sidecar says about it.

    A snapshot loaded from raw/ whose text was verified before (`RawIndex`) does not hold its
    text: it is read, verified against the sha256 again and decoded when first used, and it
    is not pickled with the snapshot (Dagster hands light snapshots from step to step)."""

    def __init__(
        self,
        source_id: str,
        folder: Path,
        text: str | None,
        meta: dict,
        sha256: str,
        bytes: int,  # noqa: A002 - the sources table's column
        code_points: int | None = None,
        rereadable: bool = False,
    ) -> None:
        if text is None and code_points is None:
            raise ValueError("a snapshot without its text needs its code-point count")
        self.source_id, self.folder, self.meta = source_id, folder, meta
        self.sha256, self.bytes = sha256, bytes
        self._text = text
        self.code_points = len(text) if text is not None else code_points
        # loaded from raw/ (load_snapshot): the text is not pickled, and is read again
        self._rereadable = rereadable or text is None

    def __repr__(self) -> str:
        return f"SourceSnapshot({self.source_id!r}, {str(self.folder)!r}, sha256={self.sha256!r})"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_line_starts", None)
        if state["_rereadable"]:
            state["_text"] = None
        return state

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._read_text()
        return self._text

    def _read_text(self) -> str:
        try:
            data = self.text_path.read_bytes()
        except OSError as exc:
            raise BuildError(
                self.text_path,
                f"the source text of '{self.source_id}' went missing while the build ran",
                "restore it and build again",
            ) from exc
        digest = sha256_bytes(data)
        if digest != self.sha256:
            raise BuildError(
                self.text_path,
                f"the source text changed while the build ran (its sha256 is {digest}, the "
                f"snapshot verified {self.sha256})",
                "build again, which verifies it anew",
                record=self.source_id,
            )
        return data.decode(self.meta["encoding"])

    @property
    def text_id(self) -> str:
        """Names the text without reading it: the sha256 of its bytes and their encoding."""
        return f"{self.sha256} {self.meta.get('encoding', '')}"

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


def raw_file_digests(
    raw_dir: Path, index: RawIndex | None = None
) -> list[tuple[tuple[str, ...], bytes]]:
    """Every file under raw/ as (its relative path's parts, its sha256), in path order
    (folder by folder, as pathlib sorts paths); links to folders are not followed. With an
    `index`, a file whose stat is the one it was hashed under in an earlier build is not
    read again, and the index keeps what was read."""
    if index is not None:
        index.load()
    files: list[tuple[tuple[str, ...], str]] = []  # (relative path's parts, path)

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, (*parts, entry.name))
                elif entry.is_file():
                    files.append(((*parts, entry.name), entry.path))

    walk(os.path.abspath(raw_dir), ())
    files.sort()
    digests = [(parts, file_digest(path)) for parts, path in files]
    if index is not None:
        index.save([path for _, path in files])
    return digests


def _sidecar(path: Path) -> dict:
    """A sidecar's content, parsed once per content (its sha256)."""
    try:
        digest = file_digest(path)
    except FileNotFoundError as exc:
        raise BuildError(path, "the file is missing", "create it or restore it from git") from exc
    if digest not in _SIDECARS:
        _SIDECARS[digest] = strip_lines(load_yaml(path))
    return _SIDECARS[digest]


def load_snapshot(folder: Path) -> SourceSnapshot:
    """Read one source folder and refuse it unless the text matches its recorded sha256.
    A text verified and decoded before (the same bytes, see `RawIndex`) is not read now."""
    sidecar = folder / "source.yaml"
    meta = _sidecar(sidecar)
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
        digest = file_digest(text_path).hex()
    except FileNotFoundError as exc:
        raise BuildError(text_path, "the source text is missing", "restore it") from exc
    known = _TEXTS.get((digest, meta["encoding"]))
    if digest == meta["sha256"] and known is not None:
        code_points, size = known
        return SourceSnapshot(
            meta["source_id"], folder, None, meta, digest, size, code_points, rereadable=True
        )
    data = text_path.read_bytes()
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
    _TEXTS[(digest, meta["encoding"])] = (len(text), len(data))
    return SourceSnapshot(meta["source_id"], folder, text, meta, digest, len(data), rereadable=True)


@contextmanager
def atomic_file(path: Path) -> Iterator[str]:
    """A temporary file in `path`'s folder to write, renamed to `path` once the block ends
    without an error (and removed if it does not): a reader (another build sharing the
    cache) sees the whole file or none."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through `atomic_file`."""
    with atomic_file(path) as tmp, open(tmp, "wb") as out:
        out.write(data)


_LOCKS_HELD: dict[str, int] = {}  # lock file -> how many blocks of this process hold it


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `path` (created if missing) for the block: a second process
    asking for it waits. The kernel releases it when its process ends, however it ends.
    Within one process the lock is re-entrant: a block nested in one that holds it (the
    build lock a step asks for while its runner holds it, pipeline/cli/main.py) goes on."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(path)
    if _LOCKS_HELD.get(key):
        _LOCKS_HELD[key] += 1
        try:
            yield
        finally:
            _LOCKS_HELD[key] -= 1
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _LOCKS_HELD[key] = 1
        try:
            yield  # closing the file releases the lock
        finally:
            del _LOCKS_HELD[key]
