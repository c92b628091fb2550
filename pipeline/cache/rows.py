"""Each source's rows, made once per content: the key is everything the rows are read from.

The key of one source names the code version, the source's id, the sha256 of its text, of
its sidecar, of its annotations and of its corrections: everything its rows are read from
(nothing published is). Correcting one source among a thousand makes that source's rows
again; the others are read back.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import progress
from pipeline.cache.keys import cache_key
from pipeline.cache.parallel import ordered_map
from pipeline.cache.store import Store
from pipeline.core.annotations import anchor_annotations
from pipeline.core.records import SourceRows, make_rows
from pipeline.core.sources import SourceSnapshot, sha256_file

SOURCE_FILES = ("source.yaml", "annotations.yaml", "corrections.yaml")
ANCHOR_MIN_ITEMS = 16  # fewer sources to anchor are anchored in this process


def rows_key(snapshot: SourceSnapshot) -> str:
    files = snapshot.file_sha256
    parts = [snapshot.source_id, snapshot.sha256]
    parts += [files.get(name, "absent") for name in SOURCE_FILES]
    return cache_key("source-rows", *parts)


def _lookup(store: Store, key: str) -> SourceRows | None:
    found = store.get(key)
    return found if isinstance(found, SourceRows) and found.key == key else None


def source_rows(
    snapshots: list[SourceSnapshot], cache_dir: Path | None
) -> tuple[list[SourceRows], list[str]]:
    """Every source's rows, in the snapshots' order, and the ids of the sources made anew."""
    store = Store(cache_dir, "source-rows")
    found: dict[str, SourceRows] = {}
    todo = []
    for snapshot in snapshots:
        hit = _lookup(store, rows_key(snapshot))
        if hit is not None:
            found[snapshot.source_id] = hit
        else:
            todo.append(snapshot)
    for rows, snapshot in zip(_make(todo), todo, strict=True):
        if _unchanged(snapshot):  # a file saved while the build ran is not kept under its key
            store.put(rows.key, rows)
        found[rows.source_id] = rows
    return [found[s.source_id] for s in snapshots], [s.source_id for s in todo]


def _unchanged(snapshot: SourceSnapshot) -> bool:
    folder = snapshot.folder
    now = {n: sha256_file(folder / n) for n in SOURCE_FILES if (folder / n).is_file()}
    return now == snapshot.file_sha256


def _make(todo: list[SourceSnapshot]) -> list[SourceRows]:
    """Anchor the sources (each in a worker process when there are many), then type and
    check their rows together (pandas' fixed cost once, not once per source)."""
    if not todo:
        return []
    with progress.step("anchoring", total=len(todo)):
        anchored = ordered_map(anchor_annotations, todo, min_items=ANCHOR_MIN_ITEMS)
    with progress.step("typing and checking the rows"):
        return make_rows(anchored, todo, [rows_key(s) for s in todo])
