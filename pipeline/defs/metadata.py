"""What the assets and checks record on each materialization: row counts, previews, the
sha256 of their sources, and the passed flag and sentences of a check."""

from __future__ import annotations

import hashlib

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 5
SHOWN_SOURCES = 20  # per-source entries on a materialization; the rest in one digest


def markdown_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    head = df.head(rows).astype(object).where(df.head(rows).notna(), "")
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    for record in head.itertuples(index=False):
        cells = [str(v).replace("|", "\\|").replace("\n", " ")[:60] for v in record]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sources_metadata(source_sha256: dict[str, str]) -> dict:
    """The sources a result was read from: their number, one sha256 over all their sha256s,
    and each sha256 for the first SHOWN_SOURCES (the sources table holds them all)."""
    if not source_sha256:
        return {}
    pairs = sorted(source_sha256.items())
    combined = hashlib.sha256("".join(f"{sid} {sha}\n" for sid, sha in pairs).encode()).hexdigest()
    return {
        "sources": len(pairs),
        "sha256 of all sources": combined,
        **{f"sha256 {sid}": sha for sid, sha in pairs[:SHOWN_SOURCES]},
    }


def table_metadata(df: pd.DataFrame, source_sha256: dict[str, str] | None = None) -> dict:
    """Row count, a markdown preview and the sources the table was read from."""
    return {
        "dagster/row_count": len(df),
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        **sources_metadata(source_sha256 or {}),
    }


def shas(sources: list) -> dict[str, str]:
    """{source_id: sha256} of snapshots or source rows."""
    return {s.source_id: s.sha256 for s in sources}


def blocking_check(asset: str, name: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name=name, asset=asset, blocking=True, description=description)


def check_result(problems: list[str], **metadata) -> dict:
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
