"""One content-addressed store under `.cache/` (or $USMX_CACHE_DIR): bytes by key.

An entry is written to a temporary file and renamed into place, so a reader sees a whole
entry or none. A missing or unreadable entry is simply a miss. Entries are copied into a
package, never linked, so nothing done to a published file can reach the cache. Every key comes from
`pipeline.cache.keys.cache_key`, which includes the code version, so deleting the folder is
always safe and an entry can never outlive the code that made it.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


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

    def put_quietly(self, key: str, data: bytes, suffix: str = "") -> None:
        """Keep `data` if the cache can be written (deleted under a running build, it is
        simply not kept)."""
        try:
            self.put_bytes(key, data, suffix)
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
