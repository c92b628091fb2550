"""Assets of the `tables` group: one DataFrame per published table, and their checks.

One step makes the eight tables and runs their checks: each table stays its own asset (its
own lineage, metadata and checks in the UI), but the anchored annotations are loaded once.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipeline import progress
from pipeline.cache.keys import code_version
from pipeline.core import tables
from pipeline.core.records import (
    PER_SOURCE_TABLES,
    PROVENANCE_CHECK,
    SPAN_CHECK,
    SourceRows,
    concatenate,
    duplicate_provenance,
    schema_check,
    schema_problems,
    whole_table_schema_problems,
)
from pipeline.core.sources import SourceSnapshot
from pipeline.defs.metadata import blocking_check, check_result, shas, table_metadata

ACTOR_CHECK = "actor_ids_are_actors"
TABLE_ASSETS = {
    "sources": ({"source_snapshots"}, "The sources table: one row per source document."),
    "figures": ({"anchored_annotations"}, "The figures table: one row per printed figure."),
    "events": ({"anchored_annotations"}, "The events table: treaties, laws, conferences..."),
    "actors": ({"anchored_annotations"}, "The actors table: countries, bodies, people..."),
    "provenance": ({"anchored_annotations"}, "One provenance row per mention of a record."),
    "measures": (set(), "The codebook of measures."),
    "claims": ({"anchored_annotations", "figures_table"}, "The text's own claims, recomputed."),
    "corrections": ({"anchored_annotations"}, "Errata of the sources, as data."),
}
TABLE_CHECKS = [
    *(
        blocking_check(f"{name}_table", schema_check(name),
                       f"pandera validation of the {name} table against schemas/"
                       + (" (each source's rows when they are made; the whole table's dtypes "
                          "and key uniqueness in every build)." if name in PER_SOURCE_TABLES
                          else "."))
        for name in TABLE_ASSETS
    ),
    blocking_check("provenance_table", SPAN_CHECK,
                   "Every provenance span holds its quote, and its numeral span the printed "
                   "literal."),
    blocking_check("provenance_table", PROVENANCE_CHECK,
                   "Every figure, event and actor has its mention 1 provenance row (and one "
                   "row per mention), and every row one record; every figure's printed "
                   "numeral is at its numeral span."),
    blocking_check("figures_table", "figures_foreign_keys",
                   "Foreign keys: every figure's measure and source exist."),
    blocking_check("actors_table", ACTOR_CHECK,
                   "Every id in figures.actor and events.parties is an actor of the same "
                   "source."),
]  # fmt: skip


def foreign_key_problems(frames: dict[str, pd.DataFrame]) -> list[str]:
    figures, problems = frames["figures"], []
    for column, table in (("measure", "measures"), ("source_id", "sources")):
        bad = figures.loc[tables.not_in(figures[column], frames[table][column])]
        problems += [
            f"{fid}: {column.removesuffix('_id')} '{value}' is not in the {table} table"
            for fid, value in zip(bad["figure_id"], bad[column], strict=True)
        ]
    return problems


def actor_id_problems(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The actor ids of figures.actor and events.parties (lists, which no foreign key of the
    descriptor can say) that are no actor of the record's own source."""
    actors = frames["actors"]
    known = set(zip(actors["source_id"], actors["actor_id"], strict=True))
    lists = (("figures", "figure_id", "actor"), ("events", "event_id", "parties"))
    return [
        f"{rid}: {column} '{aid}' is not an actor of source {sid}"
        for table, key, column in lists
        for rid, sid, ids in zip(
            *(frames[table][c].fillna("") for c in (key, "source_id", column)), strict=True
        )
        for aid in ids.split(";")
        if aid and (sid, aid) not in known
    ]


def table_problems(frames: dict, rows: list[SourceRows]) -> dict[str, list[str]]:
    """Each check's problems: those found on each source's rows when they were made, and
    what only the whole tables show."""

    def per_source(check: str) -> list[str]:
        return [p for r in rows for p in r.problems.get(check, [])]

    provenance = frames["provenance"]
    found = {
        schema_check(name): per_source(schema_check(name))
        + whole_table_schema_problems(name, frames[name], provenance)
        for name in PER_SOURCE_TABLES
    }
    for name in TABLE_ASSETS.keys() - set(PER_SOURCE_TABLES):
        found[schema_check(name)] = schema_problems(name, frames[name], provenance)
    found[SPAN_CHECK] = per_source(SPAN_CHECK)
    found[PROVENANCE_CHECK] = per_source(PROVENANCE_CHECK) + duplicate_provenance(provenance)
    found["figures_foreign_keys"] = foreign_key_problems(frames)
    found[ACTOR_CHECK] = actor_id_problems(frames)
    return found


@dg.multi_asset(
    name="tables",
    outs={
        f"{name}_table": dg.AssetOut(
            group_name="tables", code_version=code_version(), description=description
        )
        for name, (_, description) in TABLE_ASSETS.items()
    },
    internal_asset_deps={
        f"{name}_table": {dg.AssetKey(dep) for dep in deps}
        for name, (deps, _) in TABLE_ASSETS.items()
    },
    check_specs=TABLE_CHECKS,
)
def table_assets(source_snapshots: list[SourceSnapshot], anchored_annotations: list[SourceRows]):
    with progress.step("tables"):
        yield from _tables(source_snapshots, anchored_annotations)


def _tables(source_snapshots: list[SourceSnapshot], rows: list[SourceRows]):
    frames = {
        "sources": tables.sources_table(source_snapshots),
        **{name: concatenate(rows, name) for name in PER_SOURCE_TABLES},
        "measures": tables.measures_table(),
    }
    frames["claims"] = tables.claims_table([c for r in rows for c in r.claims], frames["figures"])
    sha = shas(rows)
    for name in TABLE_ASSETS:
        metadata = table_metadata(frames[name], None if name == "measures" else sha)
        yield dg.Output(frames[name], output_name=f"{name}_table", metadata=metadata)
    found = table_problems(frames, rows)
    for spec in TABLE_CHECKS:
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key, check_name=spec.name, **check_result(found[spec.name])
        )
