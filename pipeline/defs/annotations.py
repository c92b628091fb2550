"""Assets of the `annotations` group: every source's annotations anchored to its text."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipeline import progress
from pipeline.cache.keys import code_version
from pipeline.cache.parallel import processes
from pipeline.cache.rows import ANCHOR_MIN_ITEMS, source_rows
from pipeline.core.errors import display_path
from pipeline.core.records import SourceRows
from pipeline.core.sources import SourceSnapshot
from pipeline.defs.metadata import blocking_check, check_result, shas, sources_metadata
from pipeline.defs.resources import Layout

COVERAGE_CHECK = blocking_check(
    "anchored_annotations",
    "every_numeral_is_explained",
    "Every numeral of the text lies in a figure, event, period or ignore entry.",
)


@dg.asset(
    group_name="annotations",
    code_version=code_version(),
    description="Hand annotations with every quote resolved to a code-point span: each "
    "source's figures, events, provenance and corrections, typed and checked once per content.",
    check_specs=[COVERAGE_CHECK],
)
def anchored_annotations(layout: Layout, source_snapshots: list[SourceSnapshot]):
    with progress.step("anchored_annotations"):
        rows, remade = source_rows(source_snapshots, Path(layout.cache_dir))
    yield dg.Output(
        rows,
        metadata={
            "figures": sum(r.counts["figures"] for r in rows),
            "events": sum(r.counts["events"] for r in rows),
            "sources re-anchored": len(remade),
            "sources reused unchanged": len(rows) - len(remade),
            "anchoring processes": processes(len(remade), ANCHOR_MIN_ITEMS),
            "re-anchored": ", ".join(remade[:20]) + (" …" if len(remade) > 20 else ""),
            **sources_metadata(shas(source_snapshots)),
        },
    )
    yield dg.AssetCheckResult(
        check_name=COVERAGE_CHECK.name, **check_result(uncovered(source_snapshots, rows))
    )


def uncovered(snapshots: list[SourceSnapshot], rows: list[SourceRows]) -> list[str]:
    return [
        f"{display_path(snapshot.text_path)}, {where} is in no figure, event, period or "
        f"ignore entry of {r.annotation_file}; annotate it there, or add an ignore "
        "entry with a reason"
        for snapshot, r in zip(snapshots, rows, strict=True)
        for where in r.uncovered
    ]
