"""Assets of the `published` group: the data package in outputs/, and its check."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline import progress
from pipeline.cache.keys import code_version
from pipeline.core.fields import table_defs
from pipeline.core.records import SourceRows
from pipeline.core.sources import SourceSnapshot
from pipeline.defs.metadata import blocking_check, check_result
from pipeline.defs.resources import Layout
from pipeline.publish.package import publish
from pipeline.publish.validation import published_problems

PACKAGE_CHECK = blocking_check(
    "data_package",
    "data_package_validates",
    "The published files are those the publish step validated in staging (Frictionless "
    "rows on the CSV copies, keys on the whole tables, Parquet equal to the same tables): "
    "every resource's bytes and sha256 match datapackage.json, and the descriptor is valid.",
)


@dg.asset(
    group_name="published",
    code_version=code_version(),
    description="outputs/: one Parquet and one CSV file per table and datapackage.json.",
    check_specs=[PACKAGE_CHECK],
)
def data_package(
    layout: Layout,
    source_snapshots: list[SourceSnapshot],
    anchored_annotations: list[SourceRows],
    sources_table: pd.DataFrame,
    figures_table: pd.DataFrame,
    events_table: pd.DataFrame,
    actors_table: pd.DataFrame,
    provenance_table: pd.DataFrame,
    measures_table: pd.DataFrame,
    claims_table: pd.DataFrame,
    corrections_table: pd.DataFrame,
):
    frames = {name: df for name, df in locals().items() if name.endswith("_table")}
    outputs = Path(layout.outputs_dir)
    with progress.step("data_package"):
        yield from _publish(layout, source_snapshots, anchored_annotations, frames, outputs)


def _publish(layout: Layout, source_snapshots, anchored_annotations, frames, outputs: Path):
    result = publish(
        {name: (table, frames[f"{name}_table"]) for name, table in table_defs().items()},
        source_snapshots,
        outputs,
        cache_dir=Path(layout.cache_dir),
        row_keys={rows.source_id: rows.key for rows in anchored_annotations},
    )
    package = json.loads((outputs / "datapackage.json").read_text(encoding="utf-8"))
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(outputs)),
            "provenance_page": dg.MetadataValue.url((outputs / "provenance.html").as_uri()),
            "version": package["version"],
            "change": result["level"] or "none: every published byte left as it was",
            **{f"sha256 {r['path']}": r["hash"].split(":", 1)[1] for r in package["resources"]},
            **{f"sha256 source {s.source_id}": s.sha256 for s in source_snapshots[:20]},
        }
    )
    problems = published_problems(outputs)
    yield dg.AssetCheckResult(check_name=PACKAGE_CHECK.name, **check_result(problems))
