"""Each source's rows, typed and checked once, then concatenated into the published tables.

The figures, events, provenance and corrections of a source depend on nothing but that
source (its text, annotations and corrections) and the code: `SourceRows` holds them as
Arrow IPC bytes (in the cache's files, once cached), already given the dtypes of their
schema and sorted by primary key, with the problems of the checks
that are properties of one source (every provenance span holds its quote, one provenance
row per record, each figure's numeral at its numeral span) and the numerals nothing
explains. It is made once per content key (pipeline/anchor_cache.py) and reused until the
source or the code changes, so correcting one source among a thousand types and checks the
rows of that source alone; the tables are the concatenation of every source's rows, in
source_id order, which costs one Arrow concatenation and no sort.

What no single source can show is checked on the whole tables (pipeline/assets.py): unique
keys across sources, foreign keys, pandera's schema, the claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.annotations import AnchoredSource
from pipeline.errors import BuildError
from pipeline.metadata import coerce_frame, empty_frame, pyarrow_schema, table_defs
from pipeline.sources import SourceSnapshot

PER_SOURCE_TABLES = ("figures", "events", "provenance", "corrections")
SPAN_CHECK = "every_span_equals_its_quote"
PROVENANCE_CHECK = "every_record_has_one_provenance_row"


@dataclass
class SourceRows:
    """One source's rows of the per-source tables, typed and checked."""

    source_id: str
    sha256: str  # of the source text
    key: str  # the content key it was made under: the same key gives the same rows
    annotation_file: str
    tables: dict[str, bytes]  # table -> Arrow IPC stream of this source's rows
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows
    claims: list[dict[str, Any]] = field(default_factory=list)  # evaluated on whole tables
    uncovered: list[str] = field(default_factory=list)  # numerals nothing explains
    problems: dict[str, list[str]] = field(default_factory=dict)  # check name -> problems
    used_published_positions: bool = False
    # Once cached (pipeline/anchor_cache.py), the IPC streams live in the cache's files
    # (table -> path, byte size) and `tables` is empty: what Dagster hands from step to step
    # is then a few hundred bytes per source, and the rows are read (memory-mapped) only
    # where they are used.
    table_files: dict[str, tuple[str, int]] = field(default_factory=dict)

    def table(self, name: str) -> pa.Table:
        if name in self.tables:
            return pa.ipc.open_stream(self.tables[name]).read_all()
        path, size = self.table_files[name]
        try:
            with pa.memory_map(path) as source:
                if source.size() != size:
                    raise OSError(f"{size} bytes expected, {source.size()} found")
                return pa.ipc.open_stream(source).read_all()
        except (OSError, pa.ArrowInvalid) as exc:
            raise BuildError(
                path,
                f"the cached {name} rows of source '{self.source_id}' are missing or damaged "
                f"({exc})",
                "materialize anchored_annotations again (or run `python -m pipeline build`), "
                "which makes them anew",
            ) from exc


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def to_arrow(df: pd.DataFrame, table_name: str) -> pa.Table:
    """A typed frame as Arrow with the table's pyarrow schema (pandas metadata kept, so that
    the way back gives the same dtypes)."""
    return pa.Table.from_pandas(
        df, schema=pyarrow_schema(table_defs()[table_name]), preserve_index=False, nthreads=1
    )


def make_rows(
    anchored: list[AnchoredSource], snapshots: list[SourceSnapshot], keys: list[str]
) -> list[SourceRows]:
    """Type and check the rows of several sources at once: one DataFrame per table for all
    of them (pandas' fixed cost paid once, not once per source), cut back into sources."""
    defs = table_defs()
    typed: dict[str, pa.Table] = {}
    for name in PER_SOURCE_TABLES:
        rows = [row for a in anchored for row in getattr(a, name)]
        df = coerce_frame(pd.DataFrame(rows), defs[name]) if rows else empty_frame(defs[name])
        typed[name] = to_arrow(df, name)
    out, offsets = [], dict.fromkeys(PER_SOURCE_TABLES, 0)
    for a, snapshot, key in zip(anchored, snapshots, keys, strict=True):
        tables = {}
        for name in PER_SOURCE_TABLES:
            n = len(getattr(a, name))
            part = typed[name].slice(offsets[name], n)
            offsets[name] += n
            keys = [(k, "ascending") for k in defs[name].primary_key]
            tables[name] = part.take(pc.sort_indices(part, sort_keys=keys)) if n > 1 else part
        out.append(
            SourceRows(
                source_id=a.source_id,
                sha256=a.sha256,
                key=key,
                annotation_file=a.annotation_file,
                tables={name: _ipc(t) for name, t in tables.items()},
                counts={name: t.num_rows for name, t in tables.items()},
                claims=a.claims,
                uncovered=a.uncovered,
                problems=source_problems(tables, snapshot.text),
                used_published_positions=a.used_published_positions,
            )
        )
    return out


def source_problems(tables: dict[str, pa.Table], text: str) -> dict[str, list[str]]:
    """The checks that are properties of one source, on its typed rows."""
    prov = tables["provenance"].to_pydict()
    figures = tables["figures"].to_pydict()
    spans = [
        f"{rid}: characters {start}-{end} differ from its quote"
        for rid, start, end, quote in zip(
            prov["record_id"], prov["char_start"], prov["char_end"], prov["quote"], strict=True
        )
        if text[start:end] != quote
    ]
    records = {("figure", f) for f in figures["figure_id"]}
    records |= {("event", e) for e in tables["events"].column("event_id").to_pylist()}
    rows = list(zip(prov["record_type"], prov["record_id"], strict=True))
    problems = [
        f"{rid}: {rtype} has no provenance row" for rtype, rid in sorted(records - set(rows))
    ]
    problems += [
        f"{rid}: provenance row belongs to no {rtype}" for rtype, rid in sorted(set(rows) - records)
    ]
    printed = dict(zip(figures["figure_id"], figures["value_as_printed"], strict=True))
    for rtype, rid, start, end in zip(
        prov["record_type"], prov["record_id"], prov["numeral_start"], prov["numeral_end"],
        strict=True,
    ):  # fmt: skip
        if rtype == "figure" and text[start:end] != printed.get(rid):
            problems.append(
                f"{rid}: numeral span holds {text[start:end]!r}, not its value_as_printed"
            )
    return {SPAN_CHECK: spans, PROVENANCE_CHECK: problems}


def concatenate(rows: list[SourceRows], name: str) -> pd.DataFrame:
    """One published table: the sources in source_id order, each with its rows in primary
    key order (as `make_rows` sorted them). Nothing is sorted here: a build of 1,000
    sources concatenates them, and the rows of one source stay together, so a correction
    moves only that source's rows."""
    definition = table_defs()[name]
    parts = [r.table(name) for r in sorted(rows, key=lambda r: r.source_id)]
    if not parts or not sum(p.num_rows for p in parts):
        return empty_frame(definition)
    return pa.concat_tables(parts).to_pandas()


def duplicate_provenance(provenance: pd.DataFrame) -> list[str]:
    """The part of the provenance check that needs the whole table: a record with more than
    one provenance row, in one source or across two."""
    key = ["record_type", "record_id"]
    twice = provenance.loc[provenance.duplicated(key, keep="first"), "record_id"]
    return [f"{rid}: more than one provenance row" for rid in sorted(set(twice))]
