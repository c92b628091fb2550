"""A content-addressed cache of each source's typed and checked rows (pipeline/records.py),
so a rebuild re-reads only what changed.

The key of one source is the sha256 of everything its anchoring reads: the code and
vocabularies and table schemas, the snapshot, its annotations and corrections, and - only
when anchoring needed them - the positions its records had in the published outputs. Correcting
one source among a thousand re-anchors that one; the others are loaded as they were. A
corrupt or unreadable entry is ignored and recomputed. Entries live under `.cache/`
(gitignored) and can be deleted between builds. The rows themselves stay in the cache's
files while a build runs (Dagster hands the steps light objects that name them): deleting
the cache during a build stops it with a sentence that says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

from pipeline.records import SourceRows
from pipeline.sources import SourceSnapshot, write_atomically


def source_key(snapshot: SourceSnapshot, code: str, positions: dict | None = None) -> str:
    """The cache key of one source. Positions enter it only for a source whose anchoring
    needed them (a quote with several exact matches chosen by its published position)."""
    digest = hashlib.sha256(code.encode())
    digest.update(snapshot.sha256.encode())
    for name in ("annotations.yaml", "corrections.yaml"):
        path = snapshot.folder / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"\0absent"))
    if positions is not None:
        digest.update(json.dumps(sorted(positions.items())).encode())
    return digest.hexdigest()


class AnchorCache:
    """`<key>.pickle` holds a source's SourceRows without its rows; `<key>.<table>.arrows`
    holds the rows of each table as an Arrow IPC stream, read memory-mapped when used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "source-rows"
        self._where = self.folder.resolve()

    def get(self, key: str) -> SourceRows | None:
        path = self.folder / f"{key}.pickle"
        try:
            value = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        if not isinstance(value, SourceRows) or value.key != key or value.tables:
            return None
        return self._located(value)

    def _located(self, value: SourceRows) -> SourceRows | None:
        """`value` with its files named by their place now (the entry stores bare names, so
        a moved cache folder still works), or None if one is missing or of another size."""
        files = {}
        for name, (file, size) in value.table_files.items():
            path = self._where / Path(file).name
            try:
                if os.stat(path).st_size != size:
                    return None
            except OSError:
                return None
            files[name] = (str(path), size)
        return replace(value, table_files=files)

    def put(self, key: str, value: SourceRows) -> SourceRows:
        """Store `value` and return it as stored: its rows in files, the object light."""
        files = {}
        for name, data in value.tables.items():
            path = self.folder / f"{key}.{name}.arrows"
            write_atomically(path, data)
            files[name] = (path.name, len(data))
        stored = replace(value, tables={}, table_files=files)
        data = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(self.folder / f"{key}.pickle", data)  # last: it names the others
        return self._located(stored) or value  # or its own bytes, if the files just went
