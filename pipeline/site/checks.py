"""What the pages refuse, each with one sentence (ValueError): a source page's tables holding
another source's rows or not naming each other (`source_rows`: every provenance row a mention
of a listed record, every record its mention 1), and index ids that are not unique, not
kebab-case or of no listed source (`ids_by_source`, `counts`).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import Counter
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.site.labels import Rows

SOURCE_PAGES_DIR = "provenance"  # one page per source: provenance/<source_id>.html
ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # every id: lowercase kebab-case (schemas/)
# The page's own element ids all hold "_" (text_1, figures_table_1, record_popover,
# records_json, ...), so none can collide with a record id, which is lowercase kebab-case.


def source_page_path(source_id: str) -> str:
    """provenance/<source_id>.html; refuses an id not kebab-case, so none names a file elsewhere."""
    if not isinstance(source_id, str) or not ID.fullmatch(source_id):
        raise ValueError(f"source id {source_id!r} is not lowercase kebab-case.")
    return f"{SOURCE_PAGES_DIR}/{source_id}.html"


def rows_by_id(rows: Rows, key: str) -> dict[str, dict[str, Any]]:
    """The rows by their id; refuses an id used twice."""
    found: dict[str, dict[str, Any]] = {}
    for item in rows:
        if item[key] in found:
            raise ValueError(f"{key} {item[key]} appears twice.")
        found[item[key]] = item
    return found


def source_rows(
    sources: Rows, figures: Rows, events: Rows, provenance: Rows, corrections: Rows,
    actors: Rows = (),
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], ...]:  # fmt: skip
    """The one source of a page, then its figures, events, actors, provenance (each record's
    mention 1) and corrections by id, checked to be that source's rows only and to name each
    other."""
    found = list(rows_by_id(sources, "source_id").values())
    if len(found) != 1:
        raise ValueError(f"a source page shows one source; {len(found)} were given.")
    sid = found[0]["source_id"]
    source_page_path(sid)  # a usable file name
    tables = (
        ("figure", figures, "figure_id"),
        ("event", events, "event_id"),
        ("actor", actors, "actor_id"),
        ("provenance of", provenance, "record_id"),
        ("correction", corrections, "correction_id"),
    )
    for kind, rows, key in tables:
        if other := [r for r in rows if "source_id" in r and r["source_id"] != sid]:
            first = min(other, key=lambda r: str(r[key]))
            raise ValueError(
                f"{kind} {first[key]} belongs to source {first['source_id']}, not {sid}; "
                "a page shows one source's rows."
            )
    records = {t: rows_by_id(r, k) for t, r, k in tables if t in ("figure", "event", "actor")}
    correction_rows = rows_by_id(corrections, "correction_id")
    counted = Counter((p["record_id"], p.get("mention", 1)) for p in provenance)
    if twice := sorted(m for m, n in counted.items() if n > 1):
        raise ValueError(f"provenance of {twice[0][0]} mention {twice[0][1]} appears twice.")
    prov_rows = {p["record_id"]: p for p in provenance if p.get("mention", 1) == 1}
    for cid in correction_rows:
        if cid in prov_rows or any(cid in rows for rows in records.values()):
            raise ValueError(f"correction {cid} has the id of a figure or event.")
    for prov in provenance:
        if prov["record_id"] not in records.get(prov["record_type"], {}):
            kind, rid = prov["record_type"], prov["record_id"]
            raise ValueError(f"provenance names {kind} {rid}, which is not listed.")
    for rid in sorted(set().union(*records.values())):
        if rid not in prov_rows:
            raise ValueError(f"{rid} has no provenance row.")
    return found[0], records, prov_rows, correction_rows


def ids_by_source(
    provenance: pd.DataFrame, corrections: pd.DataFrame, known: set[str]
) -> dict[str, str]:
    """{source_id: "id id ..."}: every record and correction id, sorted, under its source.
    Refuses an id used twice, not kebab-case (the map is space-separated) or of an unknown
    source. Arrow sorts (UTF-8 byte order is code-point order); Python only joins the ids."""
    ids = _strings(provenance["record_id"], corrections["correction_id"])
    sources = _strings(provenance["source_id"], corrections["source_id"])
    pairs = pa.table({"id": ids, "source_id": sources})
    if pc.count_distinct(ids).as_py() < len(ids):
        counted = pc.value_counts(ids)
        twice = counted.field("values").filter(pc.greater(counted.field("counts"), 1))
        raise ValueError(
            f"id {min(twice.to_pylist())} names two records or corrections; "
            "ids are unique across all sources."
        )
    bad = ids.filter(pc.invert(pc.match_substring_regex(ids, f"^(?:{ID.pattern})$")))
    if len(bad):
        raise ValueError(f"id {min(bad.to_pylist())!r} is not lowercase kebab-case.")
    foreign = pairs.filter(
        pc.invert(pc.is_in(pairs["source_id"], pa.array(sorted(known), pa.large_string())))
    )
    if foreign.num_rows:
        first_id, first_source = min(zip(*foreign.to_pydict().values(), strict=True))
        raise ValueError(f"{first_id} names unknown source {first_source}.")
    ordered = pairs.sort_by([("source_id", "ascending"), ("id", "ascending")])
    grouped = itertools.groupby(
        zip(ordered["source_id"].to_pylist(), ordered["id"].to_pylist(), strict=True),
        key=operator.itemgetter(0),
    )
    return {sid: " ".join(i for _, i in items) for sid, items in grouped}


def _strings(*columns: pd.Series) -> pa.ChunkedArray:
    """Columns one after the other as Arrow strings (a missing id as "", which no id matches)."""
    arrays = [pa.array(column, from_pandas=True) for column in columns]
    return pc.fill_null(pa.chunked_array(arrays), "").cast(pa.large_string())


def counts(df: pd.DataFrame, kind: str, key: str, known: set[str]) -> dict[str, int]:
    """The number of rows of each source; refuses a row of a source not listed."""
    counted = df["source_id"].value_counts()
    unknown = sorted(set(counted.index) - known)
    if unknown:
        first = df.loc[df["source_id"] == unknown[0], key].min()
        raise ValueError(f"{kind} {first} names unknown source {unknown[0]}.")
    return {str(k): int(v) for k, v in counted.items()}
