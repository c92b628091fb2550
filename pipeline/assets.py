"""Dagster assets and asset checks: the data flow from raw/ to outputs/, layer by layer.

sources       source_snapshots        verified text of every raw/<source_id>/
annotations   anchored_annotations    quotes resolved to spans, numerals read
tables        <table>_table           one DataFrame per published table
published     data_package            Parquet + CSV + datapackage.json in outputs/

Each step is short: load inputs, call the module that does the work, return. Checks that
guard what must never be published are blocking, so a failing one stops the build before
`data_package` touches outputs/.
"""

import hashlib
import json
import warnings
from collections import Counter
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.errors

from pipeline import tables
from pipeline.anchor_cache import AnchorCache, source_key
from pipeline.annotations import (
    AnchoredSource,
    anchor_annotations,
    published_positions,
)
from pipeline.errors import REPO_ROOT, display_path
from pipeline.metadata import pandera_schema, table_defs
from pipeline.publish import OUTPUTS_DIR, frictionless_errors, publish, verify_bytes_and_hashes
from pipeline.sources import RAW_DIR, SourceSnapshot, load_snapshot, source_folders

# Observable source assets and Output(data_version=...) are marked beta in dagster 1.13;
# the versions are locked, so the warning tells a user of this project nothing.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

TABLE_NAMES = list(table_defs())
PREVIEW_ROWS = 5


class Layout(dg.ConfigurableResource):
    """Where the build reads and writes; tests point these at temporary copies."""

    raw_dir: str = str(RAW_DIR)
    outputs_dir: str = str(OUTPUTS_DIR)
    cache_dir: str = str(REPO_ROOT / ".cache")


def markdown_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    head = df.head(rows).astype(object).where(df.head(rows).notna(), "")
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    for record in head.itertuples(index=False):
        cells = [str(v).replace("|", "\\|").replace("\n", " ")[:60] for v in record]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_metadata(df: pd.DataFrame, source_sha256: dict[str, str] | None = None) -> dict:
    """Row count, a markdown preview and the sha256 of each source the table was read from."""
    return {
        "dagster/row_count": len(df),
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        **{f"sha256 {sid}": sha for sid, sha in (source_sha256 or {}).items()},
    }


def shas(sources: list) -> dict[str, str]:
    """{source_id: sha256} of snapshots or anchored sources."""
    return {s.source_id: s.sha256 for s in sources}


# --- sources -------------------------------------------------------------------------


def code_version(*files: str) -> str:
    """A short hash of the code and schema files an asset's output depends on, so Dagster
    marks it stale exactly when one of them changes."""
    digest = hashlib.sha256()
    for name in files:
        digest.update((REPO_ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def raw_tree_sha256(raw_dir: Path) -> str:
    """One hash of every file under raw/ (relative path and content)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(raw_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dg.observable_source_asset(
    group_name="sources",
    description="The files under raw/ (snapshots, sidecars, annotations); observing it records "
    "their content hash as the data version, so a change marks everything downstream stale.",
)
def raw_files(layout: Layout) -> dg.DataVersion:
    return dg.DataVersion(raw_tree_sha256(Path(layout.raw_dir)))


@dg.asset(
    group_name="sources",
    deps=[raw_files],
    code_version=code_version("pipeline/sources.py", "pipeline/yaml_lines.py"),
    description="Every raw/<source_id>/ snapshot, sha256-verified.",
)
def source_snapshots(context: dg.AssetExecutionContext, layout: Layout) -> dg.Output:
    snapshots = [load_snapshot(folder) for folder in source_folders(Path(layout.raw_dir))]
    return dg.Output(
        snapshots,
        data_version=dg.DataVersion(raw_tree_sha256(Path(layout.raw_dir))),
        metadata={
            "sources": len(snapshots),
            **{f"sha256 {s.source_id}": s.sha256 for s in snapshots},
        },
    )


# --- annotations ---------------------------------------------------------------------


ANNOTATION_CODE = (
    "pipeline/annotations.py", "pipeline/anchoring.py", "pipeline/numerals.py",
    "pipeline/periods.py", "pipeline/corrections.py", "schemas/units.yaml",
    "schemas/measures.yaml", "schemas/subjects.yaml",
)  # fmt: skip
TABLE_CODE = (
    "pipeline/tables.py",
    "pipeline/metadata.py",
    "schemas/fields.yaml",
    "schemas/tables.yaml",
)


@dg.asset(
    group_name="annotations",
    code_version=code_version(*ANNOTATION_CODE),
    description="Hand annotations with every quote resolved to a code-point span.",
)
def anchored_annotations(
    context: dg.AssetExecutionContext, layout: Layout, source_snapshots: list[SourceSnapshot]
) -> list:
    positions = published_positions(Path(layout.outputs_dir))
    cache = AnchorCache(Path(layout.cache_dir))
    code = code_version(
        *ANNOTATION_CODE,
        "schemas/fields.yaml",
        "pipeline/yaml_lines.py",
        "pipeline/anchor_cache.py",
    )
    anchored, recomputed = [], []
    for snapshot in source_snapshots:
        previous = positions.get(snapshot.source_id, {})
        plain, hinted = source_key(snapshot, code), source_key(snapshot, code, previous)
        found = cache.get(plain) or cache.get(hinted)
        if found is None:
            found = anchor_annotations(snapshot, previous)
            cache.put(hinted if found.used_published_positions else plain, found)
            recomputed.append(snapshot.source_id)
        anchored.append(found)
    context.add_output_metadata(
        {
            "figures": sum(len(a.figures) for a in anchored),
            "events": sum(len(a.events) for a in anchored),
            "sources re-anchored": len(recomputed),
            "sources reused unchanged": len(anchored) - len(recomputed),
            "re-anchored": ", ".join(recomputed[:20]) + (" …" if len(recomputed) > 20 else ""),
            **{f"sha256 {s.source_id}": s.sha256 for s in source_snapshots[:20]},
        }
    )
    return anchored


@dg.asset_check(
    asset=anchored_annotations,
    blocking=True,
    additional_ins={"source_snapshots": dg.AssetIn()},
    description="Every numeral of the text lies in a figure, event, period or ignore entry.",
)
def every_numeral_is_explained(
    anchored_annotations: list[AnchoredSource], source_snapshots: list[SourceSnapshot]
) -> dg.AssetCheckResult:
    problems = [
        f"{display_path(snapshot.text_path)}, {where} is in no figure, event, period or "
        f"ignore entry of {anchored.annotation_file}; annotate it there, or add an ignore "
        "entry with a reason"
        for snapshot, anchored in zip(source_snapshots, anchored_annotations, strict=True)
        for where in anchored.uncovered
    ]
    return _result(problems)


# --- tables --------------------------------------------------------------------------


@dg.asset(
    group_name="tables",
    code_version=code_version(*TABLE_CODE),
    description="The sources table: one row per source document.",
)
def sources_table(
    context: dg.AssetExecutionContext, source_snapshots: list[SourceSnapshot]
) -> pd.DataFrame:
    df = tables.sources_table(source_snapshots)
    context.add_output_metadata(table_metadata(df, shas(source_snapshots)))
    return df


def _anchored_table(name: str, description: str) -> dg.AssetsDefinition:
    """A table asset built from the anchored annotations alone (figures, events, provenance)."""
    build_table = getattr(tables, f"{name}_table")

    @dg.asset(
        name=f"{name}_table",
        group_name="tables",
        code_version=code_version(*TABLE_CODE),
        description=description,
    )
    def _table(
        context: dg.AssetExecutionContext, anchored_annotations: list[AnchoredSource]
    ) -> pd.DataFrame:
        df = build_table(anchored_annotations)
        context.add_output_metadata(table_metadata(df, shas(anchored_annotations)))
        return df

    return _table


figures_table = _anchored_table("figures", "The figures table: one row per printed figure.")
events_table = _anchored_table("events", "The events table: treaties, laws, conferences...")
provenance_table = _anchored_table("provenance", "One provenance row per figure and per event.")
corrections_table = _anchored_table("corrections", "Errata of the sources, as data.")


@dg.asset(
    group_name="tables",
    code_version=code_version(*TABLE_CODE, "schemas/measures.yaml"),
    description="The codebook of measures.",
)
def measures_table(context: dg.AssetExecutionContext) -> pd.DataFrame:
    df = tables.measures_table()
    context.add_output_metadata(table_metadata(df))
    return df


@dg.asset(
    group_name="tables",
    code_version=code_version(*TABLE_CODE, "pipeline/claims.py"),
    description="The text's internal claims, recomputed.",
)
def claims_table(
    context: dg.AssetExecutionContext,
    anchored_annotations: list[AnchoredSource],
    figures_table: pd.DataFrame,
) -> pd.DataFrame:
    df = tables.claims_table(anchored_annotations, figures_table)
    context.add_output_metadata(table_metadata(df, shas(anchored_annotations)))
    return df


TABLE_ASSETS = {
    "sources": sources_table,
    "figures": figures_table,
    "events": events_table,
    "provenance": provenance_table,
    "measures": measures_table,
    "claims": claims_table,
    "corrections": corrections_table,
}


def _result(problems: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "problems": len(problems),
            "first_problem": problems[0] if problems else "",
            "all_problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
            **metadata,
        },
    )


def _where(table_name: str, df: pd.DataFrame, index, anchored: list | None) -> str:
    """'file, line L, record 'id'' for a row of figures/events; the table and key otherwise."""
    key = table_defs()[table_name].primary_key[0]
    if index is None or index not in df.index:
        return f"table {table_name}"
    record = df.at[index, key]
    for row in (p for a in anchored or [] for p in a.provenance):
        if row["record_id"] == record:
            return f"{row['annotation_file']}, line {row['annotation_line']}, record '{record}'"
    return f"table {table_name}, record '{record}'"


def pandera_check(table_name: str) -> dg.AssetChecksDefinition:
    """A blocking check validating one table against the schema generated from schemas/.
    Failures of figures and events name the annotation file and line of the record."""
    schema = pandera_schema(table_defs()[table_name])

    def validate(df: pd.DataFrame, anchored: list | None) -> dg.AssetCheckResult:
        try:
            schema.validate(df, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            return _result(
                [
                    f"{_where(table_name, df, row.index, anchored)}: column {row.column} "
                    f"fails {row.check} with value {row.failure_case!r}; correct the annotation"
                    for row in exc.failure_cases.head(20).itertuples()
                ]
            )
        return _result([])

    spec = {
        "asset": TABLE_ASSETS[table_name],
        "name": f"{table_name}_matches_schema",
        "blocking": True,
        "description": f"pandera validation of the {table_name} table against schemas/.",
    }
    if table_name in ("figures", "events"):

        @dg.asset_check(**spec, additional_ins={"anchored_annotations": dg.AssetIn()})
        def _annotated(df: pd.DataFrame, anchored_annotations: list) -> dg.AssetCheckResult:
            return validate(df, anchored_annotations)

        return _annotated

    @dg.asset_check(**spec)
    def _plain(df: pd.DataFrame) -> dg.AssetCheckResult:
        return validate(df, None)

    return _plain


@dg.asset_check(
    asset=provenance_table,
    blocking=True,
    additional_ins={"source_snapshots": dg.AssetIn()},
    description="Every provenance span holds its quote, and its numeral span the printed literal.",
)
def every_span_equals_its_quote(
    provenance_table: pd.DataFrame, source_snapshots: list[SourceSnapshot]
) -> dg.AssetCheckResult:
    texts = {s.source_id: s.text for s in source_snapshots}
    problems = []
    for row in provenance_table.itertuples():
        text = texts[row.source_id]
        if text[row.char_start : row.char_end] != row.quote:
            problems.append(
                f"{row.record_id}: characters {row.char_start}-{row.char_end} differ from its quote"
            )
    return _result(problems)


@dg.asset_check(
    asset=provenance_table,
    blocking=True,
    additional_ins={
        "figures_table": dg.AssetIn(),
        "events_table": dg.AssetIn(),
        "source_snapshots": dg.AssetIn(),
    },
    description="Every figure and event has exactly one provenance row, and every row one record;"
    " every figure's printed numeral is at its numeral span.",
)
def every_record_has_one_provenance_row(
    provenance_table: pd.DataFrame,
    figures_table: pd.DataFrame,
    events_table: pd.DataFrame,
    source_snapshots: list[SourceSnapshot],
) -> dg.AssetCheckResult:
    records = {("figure", f) for f in figures_table["figure_id"]}
    records |= {("event", e) for e in events_table["event_id"]}
    rows = list(zip(provenance_table["record_type"], provenance_table["record_id"], strict=True))
    problems = [
        f"{rid}: {rtype} has no provenance row" for rtype, rid in sorted(records - set(rows))
    ]
    problems += [
        f"{rid}: provenance row belongs to no {rtype}" for rtype, rid in sorted(set(rows) - records)
    ]
    problems += [
        f"{rid}: more than one provenance row"
        for (_, rid), n in sorted(Counter(rows).items())
        if n > 1
    ]
    texts = {s.source_id: s.text for s in source_snapshots}
    printed = figures_table.set_index("figure_id")["value_as_printed"]
    for row in provenance_table[provenance_table["record_type"] == "figure"].itertuples():
        at_span = texts[row.source_id][row.numeral_start : row.numeral_end]
        if at_span != printed.get(row.record_id):
            problems.append(
                f"{row.record_id}: numeral span holds {at_span!r}, not its value_as_printed"
            )
    return _result(problems)


@dg.asset_check(
    asset=figures_table,
    blocking=True,
    additional_ins={"measures_table": dg.AssetIn(), "sources_table": dg.AssetIn()},
    description="Foreign keys: every figure's measure and source exist.",
)
def figures_foreign_keys(
    figures_table: pd.DataFrame, measures_table: pd.DataFrame, sources_table: pd.DataFrame
) -> dg.AssetCheckResult:
    measures, sources = set(measures_table["measure"]), set(sources_table["source_id"])
    problems = [
        f"{fid}: measure '{m}' is not in the measures table"
        for fid, m in zip(figures_table["figure_id"], figures_table["measure"], strict=True)
        if m not in measures
    ]
    problems += [
        f"{fid}: source '{s}' is not in the sources table"
        for fid, s in zip(figures_table["figure_id"], figures_table["source_id"], strict=True)
        if s not in sources
    ]
    return _result(problems)


# --- published -----------------------------------------------------------------------


@dg.asset(
    group_name="published",
    code_version=code_version(
        "pipeline/publish.py",
        "pipeline/build_record.py",
        "pipeline/changelog.py",
        "schemas/package.yaml",
    ),
    description="outputs/: one Parquet and one CSV file per table and datapackage.json.",
)
def data_package(
    context: dg.AssetExecutionContext,
    layout: Layout,
    source_snapshots: list[SourceSnapshot],
    sources_table: pd.DataFrame,
    figures_table: pd.DataFrame,
    events_table: pd.DataFrame,
    provenance_table: pd.DataFrame,
    measures_table: pd.DataFrame,
    claims_table: pd.DataFrame,
    corrections_table: pd.DataFrame,
) -> dg.MaterializeResult:
    frames = {
        "sources": sources_table,
        "figures": figures_table,
        "events": events_table,
        "provenance": provenance_table,
        "measures": measures_table,
        "claims": claims_table,
        "corrections": corrections_table,
    }
    defs = table_defs()
    outputs = Path(layout.outputs_dir)
    result = publish(
        {name: (defs[name], frames[name]) for name in TABLE_NAMES}, source_snapshots, outputs
    )
    package = json.loads((outputs / "datapackage.json").read_text(encoding="utf-8"))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(outputs)),
            "provenance_page": dg.MetadataValue.url((outputs / "provenance.html").as_uri()),
            "version": package["version"],
            "change": result["level"] or "none: every published byte left as it was",
            **{f"sha256 {r['path']}": r["hash"].split(":", 1)[1] for r in package["resources"]},
            **{f"sha256 source {s.source_id}": s.sha256 for s in source_snapshots},
        }
    )


@dg.asset_check(
    asset=data_package,
    blocking=True,
    description="The published files are those the publish step validated in staging "
    "(Frictionless rows and keys on the CSV copies, Parquet equal to the same tables): every "
    "resource's bytes and sha256 match datapackage.json, and the descriptor is valid.",
)
def data_package_validates(layout: Layout) -> dg.AssetCheckResult:
    outputs = Path(layout.outputs_dir)
    return _result(verify_bytes_and_hashes(outputs) + frictionless_errors(outputs, formats=()))


ALL_ASSETS = [
    raw_files,
    source_snapshots,
    anchored_annotations,
    *TABLE_ASSETS.values(),
    data_package,
]
ALL_CHECKS = [
    every_numeral_is_explained,
    *(pandera_check(name) for name in TABLE_ASSETS),
    every_span_equals_its_quote,
    every_record_has_one_provenance_row,
    figures_foreign_keys,
    data_package_validates,
]
