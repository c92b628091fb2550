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
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from pipeline.cache.parallel import ordered_map, processes
from pipeline.cache.rows import AnchorCache, CorpusTables, source_key
from pipeline.core import tables
from pipeline.core.annotations import anchor_annotations, published_positions
from pipeline.core.errors import REPO_ROOT, display_path
from pipeline.core.fields import table_defs
from pipeline.core.records import (
    PER_SOURCE_TABLES,
    PROVENANCE_CHECK,
    SPAN_CHECK,
    SourceRows,
    concatenate,
    duplicate_provenance,
    make_rows,
    schema_check,
    schema_problems,
    whole_table_schema_problems,
)
from pipeline.core.sources import (
    RAW_DIR,
    RawIndex,
    SourceSnapshot,
    file_lock,
    load_snapshot,
    raw_file_digests,
    source_folders,
)
from pipeline.publish.package import OUTPUTS_DIR, publish, published_problems
from pipeline.publish.validation import not_in

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


BUILD_LOCK = ".usmx-build.lock"  # in the instance's storage folder


class BuildLock(dg.ConfigurableResource):
    """One build at a time per Dagster instance. Steps hand each other their outputs through
    the instance's storage folder (the IO manager writes storage/<asset>, the same path in
    every run), so two builds at once (`watch` and a `build`, or a run from the UI) would
    read each other's half-written files. Each step of the build needs this resource, so a
    run holds an exclusive flock on storage/.usmx-build.lock from its start to its end (the
    in-process executor sets resources up once per run; the multiprocess one, per step) and
    a second run waits. The kernel releases the lock when its process ends. `BuildRunner`
    (pipeline/cli/main.py) takes the same lock before its run and keeps it until the run's
    outputs are written to storage/ (pipeline/defs/storage.py); the lock is re-entrant within a
    process, so the run's steps go on."""

    _held: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        storage = Path(context.instance.storage_directory())
        self._held.enter_context(file_lock(storage / BUILD_LOCK))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._held.close()


def markdown_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    head = df.head(rows).astype(object).where(df.head(rows).notna(), "")
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    for record in head.itertuples(index=False):
        cells = [str(v).replace("|", "\\|").replace("\n", " ")[:60] for v in record]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SHOWN_SOURCES = 20  # per-source metadata entries on a materialization; the rest in one digest


def table_metadata(df: pd.DataFrame, source_sha256: dict[str, str] | None = None) -> dict:
    """Row count, a markdown preview and the sources the table was read from: their number,
    one sha256 over all their sha256s, and each sha256 for the first SHOWN_SOURCES. (Every
    source on every event made each materialization ~230 KB at 1,000 sources, and storing
    those events cost more than building the tables; the sources table holds them all.)"""
    source_sha256 = source_sha256 or {}
    return {
        "dagster/row_count": len(df),
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        **sources_metadata(source_sha256),
    }


def sources_metadata(source_sha256: dict[str, str]) -> dict:
    if not source_sha256:
        return {}
    combined = hashlib.sha256(
        "".join(f"{sid} {sha}\n" for sid, sha in sorted(source_sha256.items())).encode()
    ).hexdigest()
    shown = sorted(source_sha256.items())[:SHOWN_SOURCES]
    return {
        "sources": len(source_sha256),
        "sha256 of all sources": combined,
        **{f"sha256 {sid}": sha for sid, sha in shown},
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


def raw_tree_sha256(raw_dir: Path, index: RawIndex | None = None) -> str:
    """One hash of every file under raw/ (relative path and content), in path order
    (pipeline/core/sources.py `raw_file_digests`, which reads only files changed since `index`
    saw them)."""
    digest = hashlib.sha256()
    for parts, file_sha256 in raw_file_digests(raw_dir, index):
        digest.update("/".join(parts).encode() + b"\0")
        digest.update(file_sha256)
    return digest.hexdigest()


@dg.observable_source_asset(
    group_name="sources",
    description="The files under raw/ (snapshots, sidecars, annotations); observing it records "
    "their content hash as the data version, so a change marks everything downstream stale.",
)
def raw_files(layout: Layout) -> dg.DataVersion:
    raw = Path(layout.raw_dir)
    return dg.DataVersion(raw_tree_sha256(raw, RawIndex(Path(layout.cache_dir), raw)))


@dg.asset(
    group_name="sources",
    deps=[raw_files],
    code_version=code_version("pipeline/core/sources.py", "pipeline/core/yaml_lines.py"),
    description="Every raw/<source_id>/ snapshot, sha256-verified.",
)
def source_snapshots(
    context: dg.AssetExecutionContext, layout: Layout, build_lock: BuildLock
) -> dg.Output:
    raw = Path(layout.raw_dir)
    index = RawIndex(Path(layout.cache_dir), raw).load()
    snapshots = [load_snapshot(folder) for folder in source_folders(raw)]
    return dg.Output(
        snapshots,
        data_version=dg.DataVersion(raw_tree_sha256(raw, index)),
        metadata={
            **sources_metadata(shas(snapshots)),
        },
    )


# --- annotations ---------------------------------------------------------------------


ANNOTATION_CODE = (
    "pipeline/core/annotations.py", "pipeline/core/anchoring.py", "pipeline/core/numerals.py",
    "pipeline/core/periods.py", "pipeline/core/corrections.py", "schemas/units.yaml",
    "schemas/measures.yaml", "schemas/subjects.yaml",
)  # fmt: skip
TABLE_CODE = (
    "pipeline/core/tables.py",
    "pipeline/core/fields.py",
    "schemas/fields.yaml",
    "schemas/tables.yaml",
)


def _result(problems: list[str], **metadata) -> dict:
    """The passed flag and metadata of a check: the number of problems, the first (the
    sentence the command line prints) and all of them."""
    return {
        "passed": not problems,
        "metadata": {
            "problems": len(problems),
            "first_problem": problems[0] if problems else "",
            "all_problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
            **metadata,
        },
    }


def _check(asset: str, name: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name=name, asset=asset, blocking=True, description=description)


COVERAGE_CHECK = _check(
    "anchored_annotations",
    "every_numeral_is_explained",
    "Every numeral of the text lies in a figure, event, period or ignore entry.",
)


ANCHOR_MIN_ITEMS = 16  # fewer sources to anchor are anchored in this process

ROWS_CODE = (
    *ANNOTATION_CODE, "schemas/fields.yaml", "schemas/tables.yaml", "pipeline/core/fields.py",
    "pipeline/core/records.py", "pipeline/core/yaml_lines.py", "pipeline/cache/rows.py",
)  # fmt: skip


@dg.asset(
    group_name="annotations",
    code_version=code_version(*ROWS_CODE),
    description="Hand annotations with every quote resolved to a code-point span: each "
    "source's figures, events, provenance and corrections, typed and checked once per content.",
    check_specs=[COVERAGE_CHECK],
)
def anchored_annotations(
    context: dg.AssetExecutionContext,
    layout: Layout,
    build_lock: BuildLock,
    source_snapshots: list[SourceSnapshot],
):
    cache = AnchorCache(Path(layout.cache_dir))
    code = code_version(*ROWS_CODE)
    found: dict[str, SourceRows] = {}
    missed: list[tuple[SourceSnapshot, str]] = []
    for snapshot in source_snapshots:
        plain = source_key(snapshot, code)
        hit = cache.get(plain)
        if hit is not None:
            found[snapshot.source_id] = hit
        else:
            missed.append((snapshot, plain))
    # a source not found under its plain key may have been made with the positions its
    # records had in the published outputs (read for the missed sources only)
    positions = (
        published_positions(Path(layout.outputs_dir), [s.source_id for s, _ in missed])
        if missed
        else {}
    )
    todo: list[tuple[SourceSnapshot, dict, str, str]] = []  # snapshot, hints, both keys
    for snapshot, plain in missed:
        previous = positions.get(snapshot.source_id, {})
        hinted = source_key(snapshot, code, previous)
        hit = cache.get(hinted)
        if hit is not None:
            found[snapshot.source_id] = hit
        else:
            todo.append((snapshot, previous, plain, hinted))
    if todo:
        snapshots, hints, plains, hinteds = (list(column) for column in zip(*todo, strict=True))
        # sources are the unit of parallelism: each anchored in a worker process
        anchored = ordered_map(anchor_annotations, snapshots, hints, min_items=ANCHOR_MIN_ITEMS)
        keys = [
            hinted if a.used_published_positions else plain
            for a, plain, hinted in zip(anchored, plains, hinteds, strict=True)
        ]
        # typed and checked together: pandas' fixed cost once, not once per source
        for rows in make_rows(anchored, snapshots, keys):
            found[rows.source_id] = cache.put(rows.key, rows)
    recomputed = [snapshot.source_id for snapshot, *_ in todo]
    result = [found[s.source_id] for s in source_snapshots]
    yield dg.Output(
        result,
        metadata={
            "figures": sum(r.counts["figures"] for r in result),
            "events": sum(r.counts["events"] for r in result),
            "sources re-anchored": len(recomputed),
            "sources reused unchanged": len(result) - len(recomputed),
            "anchoring processes": processes(len(recomputed), ANCHOR_MIN_ITEMS),
            "re-anchored": ", ".join(recomputed[:20]) + (" …" if len(recomputed) > 20 else ""),
            **sources_metadata(shas(source_snapshots)),
        },
    )
    problems = [
        f"{display_path(snapshot.text_path)}, {where} is in no figure, event, period or "
        f"ignore entry of {rows.annotation_file}; annotate it there, or add an ignore "
        "entry with a reason"
        for snapshot, rows in zip(source_snapshots, result, strict=True)
        for where in rows.uncovered
    ]
    yield dg.AssetCheckResult(check_name=COVERAGE_CHECK.name, **_result(problems))


# --- tables --------------------------------------------------------------------------
#
# One step makes the seven tables and runs their checks: each table stays its own asset
# (its own lineage, code version, metadata and checks in the UI), but the anchored
# annotations are loaded once and Dagster records one step instead of eighteen.

TABLE_ASSETS = {
    "sources": ({"source_snapshots"}, "The sources table: one row per source document."),
    "figures": ({"anchored_annotations"}, "The figures table: one row per printed figure."),
    "events": ({"anchored_annotations"}, "The events table: treaties, laws, conferences..."),
    "provenance": ({"anchored_annotations"}, "One provenance row per figure and per event."),
    "measures": (set(), "The codebook of measures."),
    "claims": (
        {"anchored_annotations", "figures_table"},
        "The text's own claims, recomputed.",
    ),
    "corrections": ({"anchored_annotations"}, "Errata of the sources, as data."),
}
TABLE_EXTRA_CODE = {"measures": ("schemas/measures.yaml",), "claims": ("pipeline/core/claims.py",)}
TABLE_CHECKS = [
    *(
        _check(f"{name}_table", f"{name}_matches_schema",
               f"pandera validation of the {name} table against schemas/"
               + (" (each source's rows when they are made; the whole table's dtypes and "
                  "key uniqueness in every build)." if name in PER_SOURCE_TABLES else "."))
        for name in TABLE_ASSETS
    ),
    _check("provenance_table", "every_span_equals_its_quote",
           "Every provenance span holds its quote, and its numeral span the printed literal."),
    _check("provenance_table", "every_record_has_one_provenance_row",
           "Every figure and event has exactly one provenance row, and every row one record; "
           "every figure's printed numeral is at its numeral span."),
    _check("figures_table", "figures_foreign_keys",
           "Foreign keys: every figure's measure and source exist."),
]  # fmt: skip


def foreign_key_problems(
    figures: pd.DataFrame, measures: pd.DataFrame, sources: pd.DataFrame
) -> list[str]:
    problems = [
        f"{fid}: measure '{m}' is not in the measures table"
        for fid, m in _missing(figures, "measure", measures["measure"])
    ]
    problems += [
        f"{fid}: source '{s}' is not in the sources table"
        for fid, s in _missing(figures, "source_id", sources["source_id"])
    ]
    return problems


def _missing(figures: pd.DataFrame, column: str, allowed: pd.Series) -> list[tuple[str, str]]:
    """(figure_id, value) of the figures whose `column` is not among `allowed` (vectorized)."""
    bad = figures.loc[not_in(figures[column], allowed)]
    return list(zip(bad["figure_id"], bad[column], strict=True))


@dg.multi_asset(
    name="tables",
    outs={
        f"{name}_table": dg.AssetOut(
            group_name="tables",
            code_version=code_version(*TABLE_CODE, *TABLE_EXTRA_CODE.get(name, ())),
            description=description,
        )
        for name, (_, description) in TABLE_ASSETS.items()
    },
    internal_asset_deps={
        f"{name}_table": {dg.AssetKey(dep) for dep in deps}
        for name, (deps, _) in TABLE_ASSETS.items()
    },
    check_specs=TABLE_CHECKS,
)
def table_assets(
    context: dg.AssetExecutionContext,
    layout: Layout,
    build_lock: BuildLock,
    source_snapshots: list[SourceSnapshot],
    anchored_annotations: list[SourceRows],
):
    rows = anchored_annotations
    corpus = CorpusTables(AnchorCache(Path(layout.cache_dir)))
    frames = {
        "sources": tables.sources_table(source_snapshots),
        **{name: concatenate(rows, name, corpus) for name in PER_SOURCE_TABLES},
        "measures": tables.measures_table(),
    }
    frames["claims"] = tables.claims_table([c for r in rows for c in r.claims], frames["figures"])
    sha = shas(rows)
    for name in TABLE_ASSETS:
        df = frames[name]
        yield dg.Output(
            df,
            output_name=f"{name}_table",
            metadata=table_metadata(df, None if name == "measures" else sha),
        )
    found = {
        # pandera: the rows of each source were validated when they were made (and cached);
        # the whole table adds its dtypes and the primary key's uniqueness across sources
        **{schema_check(name): [p for r in rows for p in r.problems[schema_check(name)]]
           + whole_table_schema_problems(name, frames[name], frames["provenance"])
           for name in PER_SOURCE_TABLES},
        **{schema_check(name): schema_problems(name, frames[name], frames["provenance"])
           for name in TABLE_ASSETS if name not in PER_SOURCE_TABLES},
        # properties of one source, checked when its rows were made (pipeline/core/records.py)
        SPAN_CHECK: [p for r in rows for p in r.problems[SPAN_CHECK]],
        PROVENANCE_CHECK: [p for r in rows for p in r.problems[PROVENANCE_CHECK]]
        + duplicate_provenance(frames["provenance"]),
        "figures_foreign_keys": foreign_key_problems(
            frames["figures"], frames["measures"], frames["sources"]
        ),
    }  # fmt: skip
    for spec in TABLE_CHECKS:
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key, check_name=spec.name, **_result(found[spec.name])
        )


# --- published -----------------------------------------------------------------------

PACKAGE_CHECK = _check(
    "data_package",
    "data_package_validates",
    "The published files are those the publish step validated in staging (Frictionless "
    "rows on the CSV copies, keys on the whole tables, Parquet equal to the same tables): "
    "every resource's bytes and sha256 match datapackage.json, and the descriptor is valid "
    "(one byte for byte equal to a descriptor Frictionless already found valid is not sent "
    "again).",
)


@dg.asset(
    group_name="published",
    code_version=code_version(
        "pipeline/publish/package.py",
        "pipeline/publish/build_record.py",
        "pipeline/publish/changelog.py",
        "pipeline/site/pages.py",
        "schemas/package.yaml",
    ),
    description="outputs/: one Parquet and one CSV file per table and datapackage.json.",
    check_specs=[PACKAGE_CHECK],
)
def data_package(
    context: dg.AssetExecutionContext,
    layout: Layout,
    build_lock: BuildLock,
    source_snapshots: list[SourceSnapshot],
    anchored_annotations: list[SourceRows],
    sources_table: pd.DataFrame,
    figures_table: pd.DataFrame,
    events_table: pd.DataFrame,
    provenance_table: pd.DataFrame,
    measures_table: pd.DataFrame,
    claims_table: pd.DataFrame,
    corrections_table: pd.DataFrame,
):
    table_frames = {
        "sources_table": sources_table,
        "figures_table": figures_table,
        "events_table": events_table,
        "provenance_table": provenance_table,
        "measures_table": measures_table,
        "claims_table": claims_table,
        "corrections_table": corrections_table,
    }
    defs = table_defs()
    outputs = Path(layout.outputs_dir)
    result = publish(
        {name: (defs[name], table_frames[f"{name}_table"]) for name in TABLE_NAMES},
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
    problems = published_problems(outputs, Path(layout.cache_dir))
    yield dg.AssetCheckResult(check_name=PACKAGE_CHECK.name, **_result(problems))


ALL_ASSETS = [raw_files, source_snapshots, anchored_annotations, table_assets, data_package]
# The checks run inside the steps of the assets they check (one step per layer, not one
# per check), and they are blocking: a failed one stops the build before anything
# downstream runs.
ALL_CHECK_SPECS = [COVERAGE_CHECK, *TABLE_CHECKS, PACKAGE_CHECK]
