"""One content-addressed store under `.cache/` (or $USMX_CACHE_DIR): bytes by key.

An entry is renamed into place whole; a missing or unreadable entry is a miss. Every key
comes from `pipeline.cache.keys.cache_key` (code version included), so deleting the folder
is always safe and an entry never outlives the code that made it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from pipeline.core.sources import sha256_file


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` by rename: a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """Entries of one kind in `<cache>/<kind>/<key><suffix>`; no folder, no caching."""

    def __init__(self, cache_dir: Path | str | None, kind: str) -> None:
        self.folder = Path(cache_dir) / kind if cache_dir is not None else None

    def path(self, key: str, suffix: str = "") -> Path | None:
        return self.folder / f"{key}{suffix}" if self.folder is not None else None

    def get_bytes(self, key: str, suffix: str = "") -> bytes | None:
        path = self.path(key, suffix)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def put_bytes(self, key: str, data: bytes, suffix: str = "") -> None:
        path = self.path(key, suffix)
        if path is not None:
            write_atomically(path, data)

    def link_to(self, key: str, suffix: str, target: Path) -> bool:
        """Hard-link the entry to `target` if its bytes still have the sha256 it was kept
        with (a file edited in place through a link in outputs/ is not handed out again);
        False when there is no such entry, or it changed, or it cannot be linked."""
        path = self.path(key, suffix)
        try:
            if path is None or sha256_file(path) != Path(f"{path}.sha256").read_text():
                return False
            target.unlink(missing_ok=True)
            os.link(path, target)
        except OSError:
            return False
        return True

    def keep(self, key: str, suffix: str, source: Path) -> None:
        """Keep a copy of the file `source` under `key`, with its sha256 (nothing is kept if
        the cache cannot be written, as when it was deleted under a running build)."""
        try:
            data = source.read_bytes()
            self.put_bytes(key, data, suffix)
            self.put_bytes(key, hashlib.sha256(data).hexdigest().encode(), suffix + ".sha256")
        except OSError:
            pass

    def get(self, key: str) -> Any | None:
        """The object stored under `key`, or None when absent or unreadable."""
        data = self.get_bytes(key, ".pickle")
        try:
            return pickle.loads(data) if data is not None else None
        except Exception:  # a damaged entry is a miss; it is made again
            return None

    def put(self, key: str, value: Any) -> None:
        self.put_bytes(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), ".pickle")
