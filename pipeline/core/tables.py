"""The tables that are not made source by source (pipeline/core/records.py makes those): the
sources, the codebook of measures and the claims.

Each function returns one published table as a DataFrame with the dtypes its schema
(pipeline/core/fields.py) maps to, sorted by its primary key so that builds are
deterministic whatever order the annotations are written in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.claims import evaluate_claim
from pipeline.core.fields import coerce_frame, empty_frame, table_defs, vocabulary
from pipeline.core.sources import SourceSnapshot


def _frame(table: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    definition = table_defs()[table]
    rows = list(rows)
    if not rows:
        return empty_frame(definition)
    df = pd.DataFrame(rows)
    df = df.sort_values(list(definition.primary_key), kind="stable")
    return coerce_frame(df, definition)


def sources_table(snapshots: list[SourceSnapshot]) -> pd.DataFrame:
    return _frame(
        "sources",
        (
            {
                "source_id": s.source_id,
                "title": s.meta["title"],
                "publisher": s.meta["publisher"],
                "url": s.meta["url"],
                "archived_url": s.meta.get("archived_url"),
                "rights": s.meta["rights"],
                "encoding": s.meta["encoding"],
                "bytes": s.bytes,
                "code_points": s.code_points,
                "sha256": s.sha256,
                "annotations_sha256": s.file_sha256.get("annotations.yaml"),
            }
            for s in snapshots
        ),
    )


def measures_table() -> pd.DataFrame:
    return _frame(
        "measures",
        (
            {"measure": name, "label": m["label"], "definition": m["definition"], "unit": m["unit"]}
            for name, m in vocabulary("measures.yaml").items()
        ),
    )


def claims_table(specs: list[dict[str, Any]], figures: pd.DataFrame) -> pd.DataFrame:
    """The claims of every source (their specs from the annotations), evaluated on the
    figures table."""
    named = {
        fid
        for c in specs
        for key in ("stated", "numerator", "denominator", "computed", "parts")
        for fid in ([c[key]] if isinstance(c.get(key), str) else c.get(key) or [])
    }
    columns = ["figure_id", "value", "value_as_printed", "qualifier"]
    wanted = figures.loc[~not_in(figures["figure_id"], pd.Series(sorted(named), dtype=str))]
    by_id = {row["figure_id"]: row for row in wanted[columns].to_dict("records")}
    return _frame("claims", (evaluate_claim(c, by_id) for c in specs))


def not_in(values: pd.Series, allowed: pd.Series) -> Any:
    """A boolean mask of the values that are not among `allowed`, by Arrow's hash lookup."""
    try:
        found = pc.is_in(pa.array(values, from_pandas=True), value_set=pa.array(allowed))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return ~values.isin(allowed).to_numpy()
    return ~np.asarray(found.fill_null(False), dtype=bool)
