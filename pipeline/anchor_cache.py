"""A content-addressed cache of each source's typed and checked rows (pipeline/records.py),
so a rebuild re-reads only what changed.

The key of one source is the sha256 of everything its anchoring reads: the code and
vocabularies and table schemas, the snapshot, its annotations and corrections, and - only
when anchoring needed them - the positions its records had in the published outputs. Correcting
one source among a thousand re-anchors that one; the others are loaded as they were. A
corrupt or unreadable entry is ignored and recomputed. Entries live under `.cache/`
(gitignored) and can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import json
import pickle
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
    def __init__(self, folder: Path) -> None:
        self.folder = folder / "source-rows"

    def get(self, key: str) -> SourceRows | None:
        path = self.folder / f"{key}.pickle"
        try:
            value = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        return value if isinstance(value, SourceRows) and value.key == key else None

    def put(self, key: str, value: SourceRows) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(self.folder / f"{key}.pickle", data)
