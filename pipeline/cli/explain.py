"""`python -m pipeline explain`: the lineage of one published number, top to bottom.

It reads only the published `outputs/`, `raw/`, `schemas/` and (when present) git, so it answers
on a downloaded copy without running Dagster. pipeline/cli/lineage.py gathers the chain; here
it is found, listed and told as text. Both import pyarrow and the standard library only.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.cli.lineage import Dataset, chain
from pipeline.core.errors import REPO_ROOT
from pipeline.core.numerals import NumeralError, parse_numeral


def find_by_value(ds: Dataset, value: float) -> list[dict[str, Any]]:
    found = []
    for f in ds.rows("figures"):
        try:
            printed = float(parse_numeral(f["value_as_printed"]).value)
        except NumeralError:
            printed = None
        if value in (printed, f["value"]):
            found.append(f)
    return found


def find_by_text(ds: Dataset, needle: str) -> list[dict[str, Any]]:
    needle = needle.casefold()
    prov = ds.by_id("provenance", "record_id")
    return [
        f
        for f in ds.rows("figures")
        if any(
            needle in str(v).casefold()
            for v in (f["figure_id"], f["subject"], f["measure"], prov[f["figure_id"]]["quote"])
        )
    ]


def _listing(ds: Dataset, figures: list[dict[str, Any]]) -> str:
    prov = ds.by_id("provenance", "record_id")
    lines = []
    for f in figures:
        quote = prov[f["figure_id"]]["quote"]
        quote = quote if len(quote) <= 60 else quote[:57] + "..."
        lines.append(f'{f["figure_id"]}\t{f["value"]:g} {f["unit"]}\t"{quote}"')
    return "\n".join(lines) or "no figure matches."


def _render_row(c: dict[str, Any]) -> list[str]:
    lines = [f"{c['record_type']} {c['record_id']}  (dataset version {c['dataset_version']})"]
    lines += ["", "1. The published row"]
    lines += [f"   {k}: {v}" for k, v in c["row"].items() if v is not None and k != "source_id"]
    return lines


def _render_source(src: dict[str, Any]) -> list[str]:
    lines = ["", "2. The source", *(f"   {src[key]}" for key in ("title", "publisher", "url"))]
    if src["sha256_matches"]:
        lines.append(f"   sha256 {src['sha256_now']} (re-computed now: matches the dataset)")
    elif src["sha256_now"] is None:
        lines.append("   the source text is missing from raw/: cannot re-compute its sha256")
    else:
        lines.append(
            f"   WARNING: raw/ text now has sha256 {src['sha256_now']}, "
            f"but the dataset was built from {src['sha256_published']}"
        )
    return lines


def _render_location(loc: dict[str, Any], kind: str) -> list[str]:
    lines = ["", "3. Where it is printed", f"   section: {loc['section']}"]
    lines.append(
        f"   line {loc['line']}, column {loc['column']}; code points "
        f"{loc['char_start']}-{loc['char_end']} (end exclusive)"
    )
    lines.append(f'   quote: "{loc["quote"]}"')
    if loc["sentence"]:
        lines += ["   in its sentence ([quote], «numeral»):", f"   {loc['sentence']}"]
    if loc["period_as_printed"]:
        what = "period" if kind == "figure" else "date"
        lines.append(
            f'   {what} read from "{loc["period_as_printed"]}" at code points '
            f"{loc['period_char_start']}-{loc['period_char_end']}"
        )
    return lines


def _render_reading(c: dict[str, Any]) -> list[str]:
    """How a figure's literal was read (nothing for an event), then the corrections."""
    lines = []
    if c["record_type"] == "figure":
        p = c["parsing"]
        lines += ["", "4. How it was read"]
        lines.append(
            f'   literal "{p["value_as_printed"]}" at code points '
            f'{p["numeral_start"]}-{p["numeral_end"]}; unit as printed "{p["unit_as_printed"]}"'
        )
        lines += [f"   - {step}" for step in p["steps"]]
    for corr in c["corrections"]:
        lines.append(
            f'   correction {corr["correction_id"]}: printed "{corr["printed"]}" → '
            f'"{corr["corrected"]}" — {corr["reason"]} (reported {corr["reported_on"]} by '
            f"{corr['reported_by']}; {corr['where']})"
        )
    return lines


def _render_annotation(ann: dict[str, Any], number: int) -> list[str]:
    lines = [
        "",
        f"{number}. The annotation that produced it",
        f"   {ann['file']}, line {ann['line']}",
    ]
    change = ann["last_change"]
    if change is None:
        lines.append("   (not a git checkout: the history of that line is not available)")
    elif change["commit"] is None:
        lines.append("   the line has uncommitted changes")
    else:
        lines.append(
            f"   last changed in commit {change['commit'][:12]} on {change['date']}: "
            f"{change['message']}"
        )
    return lines


def _render_checks(c: dict[str, Any], number: int) -> list[str]:
    lines = ["", f"{number}. Claims and checks"]
    for claim in c.get("claims", []):
        verdict = "holds" if claim["holds"] else "DOES NOT HOLD"
        lines.append(f"   claim {claim['claim_id']}: {claim['statement']} — {verdict}")
    for check in c["checks"]:
        lines.append(f"   check: {check['check']} — {'passed' if check['passed'] else 'FAILED'}")
    return lines


def render(c: dict[str, Any]) -> str:
    """The chain as text, in numbered parts (an event has no part 4, "How it was read")."""
    after = 5 if c["record_type"] == "figure" else 4
    parts = [
        _render_row(c),
        _render_source(c["source"]),
        _render_location(c["location"], c["record_type"]),
        _render_reading(c),
        _render_annotation(c["annotation"], after),
        _render_checks(c, after + 1),
    ]
    return "\n".join(line for part in parts for line in part)


def explain_main(args) -> int:
    outputs = Path(args.outputs) if args.outputs else REPO_ROOT / "outputs"
    raw = Path(args.raw) if args.raw else REPO_ROOT / "raw"
    ds = Dataset(outputs)
    if args.value is not None or args.search is not None:
        value = args.value
        figures = find_by_text(ds, args.search) if value is None else find_by_value(ds, value)
        ids = [f["figure_id"] for f in figures]
        print(json.dumps(ids, indent=2) if args.json else _listing(ds, figures))
        return 0 if figures else 1
    if not args.record_id:
        print("error: name a figure or event id, or use --value / --search.", file=sys.stderr)
        return 2
    ids = ds.all_ids()
    if args.record_id not in ids:
        close = difflib.get_close_matches(args.record_id, ids, n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        print(f"error: no figure or event has the id '{args.record_id}'{hint}.", file=sys.stderr)
        return 1
    c = chain(ds, args.record_id, raw)
    print(json.dumps(c, indent=2, ensure_ascii=False) if args.json else render(c))
    return 0
