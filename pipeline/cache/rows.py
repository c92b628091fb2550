"""A content-addressed cache of each source's typed and checked rows (pipeline/core/records.py),
so a rebuild re-reads only what changed.

The key of one source is the sha256 of everything its anchoring reads: the code and
vocabularies and table schemas, the source's name and snapshot, its annotations and
corrections, and - only when anchoring needed them - the positions its records had in the
published outputs. Correcting one source among a thousand re-anchors that one; the others
are loaded as they were. A corrupt or unreadable entry is ignored and recomputed. Entries
live under `.cache/` (gitignored) and can be deleted between builds. The rows themselves
stay in the cache's files while a build runs (Dagster hands the steps light objects that
name them): deleting the cache during a build stops it with a sentence that says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from pipeline.core.records import SourceRows
from pipeline.core.sources import SourceSnapshot, atomic_file, file_digest, write_atomically


def source_key(snapshot: SourceSnapshot, code: str, positions: dict | None = None) -> str:
    """The cache key of one source. Positions enter it only for a source whose anchoring
    needed them (a quote with several exact matches chosen by its published position)."""
    digest = hashlib.sha256(code.encode())
    # the rows name their source: a copy of a source under another name is another key
    digest.update(f"{snapshot.source_id}\0{snapshot.sha256}".encode())
    for name in ("annotations.yaml", "corrections.yaml"):
        try:  # the file's sha256, read only if its stat changed (pipeline/core/sources.py)
            digest.update(name.encode() + file_digest(snapshot.folder / name))
        except FileNotFoundError:
            digest.update(name.encode() + b"\0absent")
    if positions is not None:
        digest.update(json.dumps(sorted(positions.items())).encode())
    return digest.hexdigest()


class AnchorCache:
    """`<key>.pickle` holds a source's SourceRows without its rows; `<key>.<table>.arrows`
    holds the rows of each table as an Arrow IPC stream, read memory-mapped when used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "source-rows"
        self._where = str(self.folder.resolve())  # (os.path on strings: 1,000 sources)

    def get(self, key: str) -> SourceRows | None:
        try:
            with open(os.path.join(self._where, f"{key}.pickle"), "rb") as handle:
                value = pickle.loads(handle.read())
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
            path = os.path.join(self._where, os.path.basename(file))
            try:
                if os.stat(path).st_size != size:
                    return None
            except OSError:
                return None
            files[name] = (path, size)
        value.table_files = files  # a fresh object, just unpickled or stored
        return value

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


class CorpusTables:
    """A concatenation of every source's rows made by an earlier build, one Arrow IPC file
    per table (`<cache>/source-rows/corpus.<table>.arrows`), with its layout - the
    (source_id, key, rows) of each source in order - in the file's schema metadata.

    The same key gives the same rows, so a source whose key is in that layout takes its
    rows from the file as a slice (adjacent sources as one slice), and only a source new
    since then is read from its own file: correcting one source among a thousand reads one
    memory-mapped file and that source's rows, not a thousand files. The file is written
    anew only when none is there or when more than a twentieth of the sources (at least
    REWRITE_AFTER) are read from their own files, so a build after one correction does not
    write 80 MB. A missing, damaged or inconsistent file only means the sources' own files
    are read."""

    REWRITE_AFTER = 16
    LAYOUT = b"usmx_layout"

    def __init__(self, cache: AnchorCache) -> None:
        self.folder = cache.folder

    def _path(self, name: str) -> Path:
        return self.folder / f"corpus.{name}.arrows"

    def _last(self, name: str):
        try:
            with pa.memory_map(str(self._path(name))) as source:
                table = pa.ipc.open_stream(source).read_all()
            layout = json.loads(table.schema.metadata[self.LAYOUT])
        except (OSError, pa.ArrowInvalid, KeyError, TypeError, ValueError):
            return None
        if sum(count for _, _, count in layout) != table.num_rows:
            return None
        metadata = {k: v for k, v in table.schema.metadata.items() if k != self.LAYOUT}
        return layout, table.replace_schema_metadata(metadata)

    def concatenate(self, ordered: list[SourceRows], name: str):
        """The sources' rows of table `name`, in the given order, as one Arrow table."""
        layout = [[r.source_id, r.key, r.counts[name]] for r in ordered]
        last = self._last(name)
        at: dict[str, tuple[int, int]] = {}
        if last is not None:
            start = 0
            for _, key, count in last[0]:
                at[key] = (start, count)
                start += count
        parts: list[list[int] | pa.Table] = []  # [start, length] in the last file, or rows
        own = 0  # sources read from their own files
        for rows, (_, key, count) in zip(ordered, layout, strict=True):
            hit = at.get(key)
            if hit is None or hit[1] != count:
                parts.append(rows.table(name))
                own += 1
            elif parts and isinstance(parts[-1], list) and sum(parts[-1]) == hit[0]:
                parts[-1][1] += count  # the next source in the file: one slice
            else:
                parts.append([hit[0], count])
        table = pa.concat_tables([last[1].slice(*p) if isinstance(p, list) else p for p in parts])
        if last is None or own > max(self.REWRITE_AFTER, len(ordered) // 20):
            self._keep(name, table, layout)
        return table

    def _keep(self, name: str, table: pa.Table, layout: list) -> None:
        metadata = {**(table.schema.metadata or {}), self.LAYOUT: json.dumps(layout).encode()}
        table = table.replace_schema_metadata(metadata)
        with (  # streamed to the file, without a copy in memory
            atomic_file(self._path(name)) as tmp,
            pa.OSFile(tmp, "wb") as sink,
            pa.ipc.new_stream(sink, table.schema) as writer,
        ):
            writer.write_table(table)
