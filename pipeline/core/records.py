"""Each source's rows, typed and checked once, then concatenated into the published tables.

The figures, events, actors, provenance and corrections of a source depend on nothing but
that source (its text, annotations and corrections) and the code. `SourceRows` holds them as
Arrow IPC bytes, typed and sorted by primary key, with the problems of the checks that are
properties of one source (pandera row by row, spans hold their quotes, each record's mention
1 provenance row, each figure's numeral at its numeral span) and the numerals nothing explains.
What no single source can show (dtypes, keys across sources, foreign keys, claims) is
checked on the whole tables (pipeline/defs/tables.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.annotations import AnchoredSource
from pipeline.core.fields import (
    coerce_frame,
    empty_frame,
    pandera_schema,
    pyarrow_schema,
    table_defs,
)
from pipeline.core.sources import SourceSnapshot

PER_SOURCE_TABLES = ("figures", "events", "actors", "provenance", "corrections")
SPAN_CHECK = "every_span_equals_its_quote"
PROVENANCE_CHECK = "every_record_has_its_provenance_rows"
RECORD_KEYS = {"figure": "figure_id", "event": "event_id", "actor": "actor_id"}


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

    def table(self, name: str) -> pa.Table:
        return pa.ipc.open_stream(self.tables[name]).read_all()


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
    frames: dict[str, pd.DataFrame] = {}
    for name in PER_SOURCE_TABLES:
        rows = [row for a in anchored for row in getattr(a, name)]
        df = coerce_frame(pd.DataFrame(rows), defs[name]) if rows else empty_frame(defs[name])
        frames[name], typed[name] = df, to_arrow(df, name)
    # pandera, once per row: the new sources' rows together, each failure kept by its source
    # (what needs the whole table, the key's uniqueness, is checked on the whole table)
    failed: dict[tuple[str, str], list[str]] = {}
    ids = {a.source_id for a in anchored}
    for name in PER_SOURCE_TABLES:
        df = frames[name]
        found = schema_failures(name, df, frames["provenance"], keys=False, limit=None)
        for index, problem in found:
            owner = df.at[index, "source_id"] if index is not None else None
            owner = owner if owner in ids else anchored[0].source_id  # a column's problem
            failed.setdefault((name, owner), []).append(problem)
    out, offsets = [], dict.fromkeys(PER_SOURCE_TABLES, 0)
    for a, snapshot, key in zip(anchored, snapshots, keys, strict=True):
        tables = {}
        for name in PER_SOURCE_TABLES:
            n = len(getattr(a, name))
            part = typed[name].slice(offsets[name], n)
            offsets[name] += n
            order = [(k, "ascending") for k in defs[name].primary_key]
            tables[name] = part.take(pc.sort_indices(part, sort_keys=order)) if n > 1 else part
        problems = source_problems(tables, snapshot.text)
        for name in PER_SOURCE_TABLES:
            problems[schema_check(name)] = failed.get((name, a.source_id), [])
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
                problems=problems,
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
    records = {
        (rtype, rid)
        for rtype, key in RECORD_KEYS.items()
        for rid in tables[f"{rtype}s"].column(key).to_pylist()
    }
    rows = list(zip(prov["record_type"], prov["record_id"], strict=True))
    firsts = {row for row, m in zip(rows, prov["mention"], strict=True) if m == 1}
    problems = [
        f"{rid}: {rtype} has no {'mention 1 ' if (rtype, rid) in rows else ''}provenance row"
        for rtype, rid in sorted(records - firsts)
    ]
    problems += [
        f"{rid}: provenance row belongs to no {rtype}" for rtype, rid in sorted(set(rows) - records)
    ]
    printed = dict(zip(figures["figure_id"], figures["value_as_printed"], strict=True))
    for (rtype, rid), m, start, end, a, b in zip(
        rows, prov["mention"], prov["char_start"], prov["char_end"], prov["numeral_start"],
        prov["numeral_end"], strict=True,
    ):  # fmt: skip
        if rtype == "figure" and m == 1 and text[a:b] != printed.get(rid):
            problems.append(f"{rid}: numeral span holds {text[a:b]!r}, not its value_as_printed")
        elif a is not None and not start <= a < b <= end:
            problems.append(f"{rid}: mention {m} has a numeral span outside its quote")
    return {SPAN_CHECK: spans, PROVENANCE_CHECK: problems}


def concatenate(rows: list[SourceRows], name: str) -> pd.DataFrame:
    """One published table: the sources in source_id order, each with its rows in primary
    key order (as `make_rows` sorted them). Nothing is sorted here, and the rows of one
    source stay together, so a correction moves only that source's rows."""
    ordered = sorted(rows, key=lambda r: r.source_id)
    if not sum(r.counts[name] for r in ordered):
        return empty_frame(table_defs()[name])
    table = pa.concat_tables([r.table(name) for r in ordered])
    # one chunk per column, not one per source: later steps walk a column in one piece
    return table.combine_chunks().to_pandas()


def duplicate_provenance(provenance: pd.DataFrame) -> list[str]:
    """The part of the provenance check that needs the whole table: a record with more than
    one provenance row of the same mention, in one source or across two."""
    key = ["record_type", "record_id", "mention"]
    twice = provenance.loc[provenance.duplicated(key, keep="first"), "record_id"]
    return [f"{rid}: more than one provenance row" for rid in sorted(set(twice))]


def _where(table_name: str, df: pd.DataFrame, index, provenance: pd.DataFrame | None) -> str:
    """'file, line L, record 'id'' for a row of figures/events (from its provenance row); the
    table and key otherwise."""
    key = table_defs()[table_name].primary_key[0]
    if index is None or index not in df.index:
        return f"table {table_name}"
    record = df.at[index, key]
    if provenance is not None:
        found = provenance.loc[provenance["record_id"] == record]
        if len(found):
            row = found.iloc[0]
            return f"{row['annotation_file']}, line {row['annotation_line']}, record '{record}'"
    return f"table {table_name}, record '{record}'"


def schema_failures(
    table_name: str,
    df: pd.DataFrame,
    provenance: pd.DataFrame | None = None,
    keys: bool = True,
    limit: int | None = 20,
) -> list[tuple[Any, str]]:
    """pandera validation of a table's rows against the schema generated from schemas/, as
    (row index or None, problem), the first `limit` of them (None: all, as the rows of
    sources that are cached need: each must keep its own). Failures of figures and events
    name the annotation file and line of the record."""
    try:
        pandera_schema(table_defs()[table_name], keys=keys).validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        located = provenance if table_name in ("figures", "events", "actors") else None
        return [
            (
                row.index if row.index in df.index else None,
                f"{_where(table_name, df, row.index, located)}: column {row.column} "
                f"fails {row.check} with value {row.failure_case!r}; correct the annotation",
            )
            for row in (
                exc.failure_cases if limit is None else exc.failure_cases.head(limit)
            ).itertuples()
        ]
    return []


def schema_problems(
    table_name: str, df: pd.DataFrame, provenance: pd.DataFrame | None = None
) -> list[str]:
    """pandera validation of one whole table."""
    return [problem for _, problem in schema_failures(table_name, df, provenance)]


def schema_check(name: str) -> str:
    return f"{name}_matches_schema"


def whole_table_schema_problems(
    name: str, df: pd.DataFrame, provenance: pd.DataFrame | None
) -> list[str]:
    """What pandera would add, on a table concatenated from sources whose rows it already
    validated: the columns and dtypes (the same Arrow schema for every source, checked
    here all the same) and the primary key's uniqueness across sources."""
    definition = table_defs()[name]
    expected = empty_frame(definition).dtypes
    if list(df.columns) != list(expected.index) or not df.dtypes.equals(expected):
        return schema_problems(name, df, provenance)  # pandera names what differs
    key = list(definition.primary_key)
    if len(key) > 1:  # provenance's [record_id, mention]: pandera says it as it would
        return schema_problems(name, df, provenance) if df.duplicated(key).any() else []
    twice = df.index[df.duplicated(key, keep=False)]  # every row of the key, as pandera does
    located = provenance if name in ("figures", "events", "actors") else None
    return [
        f"{_where(name, df, i, located)}: column {key[0]} fails field_uniqueness "
        f"with value {df.at[i, key[0]]!r}; correct the annotation"
        for i in twice[:20]
    ]
