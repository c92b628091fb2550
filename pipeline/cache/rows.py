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
from pipeline.cache.parallel import ordered_map, processes
from pipeline.cache.store import Store
from pipeline.core.annotation_reader import AnchoredSource
from pipeline.core.annotations import anchor_annotations
from pipeline.core.records import SourceRows, make_rows
from pipeline.core.sources import SourceSnapshot, sha256_file
from pipeline.core.yaml_lines import load_yaml
from pipeline.publish.quotes import STORE_KIND as QUOTES_KIND
from pipeline.publish.quotes import Quotes, quotes_in, quotes_key

SOURCE_FILES = ("source.yaml", "annotations.yaml", "corrections.yaml")
ANCHOR_MIN_ITEMS = 16  # fewer sources to anchor are anchored in this process
# sources anchored and typed in one call: pandera's fixed cost is paid once a call (~30 ms),
# so fewer costs more; more holds more rows as Python objects in a worker at once
ANCHOR_CHUNK = 50


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
    quote_store = Store(cache_dir, QUOTES_KIND)
    for (rows, quotes), snapshot in zip(_make(todo), todo, strict=True):
        if _unchanged(snapshot):  # a file saved while the build ran is not kept under its key
            store.put(rows.key, rows)
            if quotes is not None:
                sha256 = snapshot.file_sha256["annotations.yaml"]
                quote_store.put(quotes_key("annotations.yaml", sha256), quotes)
        found[rows.source_id] = rows
    return [found[s.source_id] for s in snapshots], [s.source_id for s in todo]


def _unchanged(snapshot: SourceSnapshot) -> bool:
    folder = snapshot.folder
    now = {n: sha256_file(folder / n) for n in SOURCE_FILES if (folder / n).is_file()}
    return now == snapshot.file_sha256


def anchor_and_quote(snapshot: SourceSnapshot) -> tuple[AnchoredSource, Quotes | None]:
    """A source anchored, and the quotes its annotations.yaml holds for validation, taken
    from the same parse by publish/quotes.py (not by the reader); None when the file is not
    where its sha256 was taken."""
    path = snapshot.annotations_path
    document = load_yaml(path)
    anchored = anchor_annotations(snapshot, document)
    known = "annotations.yaml" in snapshot.file_sha256
    return anchored, quotes_in(path, document) if known else None


def anchor_and_type(snapshots: list[SourceSnapshot]) -> list[tuple[SourceRows, Quotes | None]]:
    """Some sources anchored, then their rows typed and checked together (pandas' and
    pandera's fixed cost once for them all, not once per source): one call of a worker."""
    anchored, quotes = zip(*(anchor_and_quote(s) for s in snapshots), strict=True)
    rows = make_rows(list(anchored), snapshots, [rows_key(s) for s in snapshots])
    return list(zip(rows, quotes, strict=True))


def _make(todo: list[SourceSnapshot]) -> list[tuple[SourceRows, Quotes | None]]:
    """Anchor the sources and type their rows, in chunks of at most ANCHOR_CHUNK sources
    (each chunk in a worker process when there are many sources). A worker sends back typed
    Arrow rows, not the rows as Python objects, so this process never holds those."""
    if not todo:
        return []
    count, size = processes(len(todo), ANCHOR_MIN_ITEMS), len(todo)
    if size >= ANCHOR_MIN_ITEMS:  # a few chunks per process, for an even load and the display
        size = min(ANCHOR_CHUNK, -(-size // (count * 4)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    with progress.step("anchoring and typing", total=len(todo)):
        made = ordered_map(anchor_and_type, chunks, parallel=count > 1, units=len)
    return [pair for chunk in made for pair in chunk]
