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


SEARCHED = {  # table: (id column, the columns --search looks in besides the id and quote)
    "figures": ("figure_id", ("subject", "measure")),
    "events": ("event_id", ("kind", "name", "name_es")),
    "actors": ("actor_id", ("kind", "name", "name_es", "acronym", "acronym_expanded")),
    "corrections": ("correction_id", ("printed", "corrected", "reason")),
}


def find_by_text(ds: Dataset, needle: str) -> list[tuple[str, dict[str, Any]]]:
    """(table, row) of every figure, event, actor and correction whose id, words or quote
    contains `needle` (case-insensitive)."""
    needle, prov = needle.casefold(), ds.anchors()
    found = []
    for table, (key, columns) in SEARCHED.items():
        for r in ds.rows(table):
            quote = prov.get(r[key], {}).get("quote")
            if any(needle in str(r.get(c) or "").casefold() for c in (key, *columns)) or (
                quote and needle in quote.casefold()
            ):
                found.append((table, r))
    return found


def _listing(ds: Dataset, found: list[tuple[str, dict[str, Any]]]) -> str:
    """One line per record: id, what it is (a figure's value and unit), its quote."""
    prov, lines = ds.anchors(), []
    for table, r in found:
        key = SEARCHED[table][0]
        quote = r["printed"] if table == "corrections" else prov.get(r[key], {}).get("quote", "")
        quote = quote if len(quote) <= 60 else quote[:57] + "..."
        what = f"{r['value']:g} {r['unit']}" if table == "figures" else table[:-1]
        what += f" ({r['kind']})" if table in ("events", "actors") else ""
        lines.append(f'{r[key]}\t{what}\t"{quote}"')
    return "\n".join(lines)


def _render_row(c: dict[str, Any]) -> list[str]:
    return [f"   {k}: {v}" for k, v in c["row"].items() if v is not None and k != "source_id"]


def _render_source(src: dict[str, Any]) -> list[str]:
    lines = [f"   {src[key]}" for key in ("title", "publisher", "url")]
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
    lines = [f"   section: {loc['section']}"] if loc["section"] else []
    lines.append(
        f"   line {loc['line']}, column {loc['column']}; code points "
        f"{loc['char_start']}-{loc['char_end']} (end exclusive)"
    )
    lines.append(f'   {"printed" if kind == "correction" else "quote"}: "{loc["quote"]}"')
    if loc["sentence"]:
        lines += ["   in its sentence ([quote], «numeral»):", f"   {loc['sentence']}"]
    if loc["period_as_printed"]:
        what = "period" if kind == "figure" else "date"
        lines.append(
            f'   {what} read from "{loc["period_as_printed"]}" at code points '
            f"{loc['period_char_start']}-{loc['period_char_end']}"
        )
    for m in loc.get("mentions", []):
        lines.append(
            f'   mention {m["mention"]}: line {m["line"]}, column {m["column"]}: "{m["quote"]}"'
        )
    if loc["link"]:
        lines.append(f"   in the original publication: {loc['link']}")
    return lines


def _render_reading(p: dict[str, Any]) -> list[str]:
    """How a figure's literal was read."""
    lines = [
        f'   literal "{p["value_as_printed"]}" at code points '
        f'{p["numeral_start"]}-{p["numeral_end"]}; unit as printed "{p["unit_as_printed"]}"'
    ]
    return lines + [f"   - {step}" for step in p["steps"]]


def _render_corrections(c: dict[str, Any]) -> list[str]:
    lines = [
        f'   correction {corr["correction_id"]}: printed "{corr["printed"]}" → '
        f'"{corr["corrected"]}" — {corr["reason"]} (reported {corr["reported_on"]} by '
        f"{corr['reported_by']}; {corr['where']})"
        for corr in c.get("corrections", [])
    ]
    return lines + [
        f"   corrects {r['record_type']} {r['record_id']}" for r in c.get("corrects", [])
    ]


def _render_annotation(ann: dict[str, Any]) -> list[str]:
    lines = [f"   {ann['file']}, line {ann['line']}"]
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


def _render_checks(c: dict[str, Any]) -> list[str]:
    lines = []
    for claim in c.get("claims", []):
        verdict = "holds" if claim["holds"] else "DOES NOT HOLD"
        lines.append(f"   claim {claim['claim_id']}: {claim['statement']} — {verdict}")
    for check in c["checks"]:
        lines.append(f"   check: {check['check']} — {'passed' if check['passed'] else 'FAILED'}")
    return lines


def render(c: dict[str, Any]) -> str:
    """The chain as text, in numbered parts (only a figure has "How it was read", only a
    correction "What it corrects"); a record's corrections close the part before its
    annotation."""
    kind = c["record_type"]
    parts = [
        ("The published row", _render_row(c)),
        ("The source", _render_source(c["source"])),
        ("Where it is printed", _render_location(c["location"], kind)),
    ]
    if kind == "figure":
        parts.append(("How it was read", _render_reading(c["parsing"])))
    if kind == "correction":
        parts.append(("What it corrects", []))
    parts[-1][1].extend(_render_corrections(c))
    parts += [
        ("The annotation that produced it", _render_annotation(c["annotation"])),
        ("Claims and checks", _render_checks(c)),
    ]
    lines = [f"{kind} {c['record_id']}  (dataset version {c['dataset_version']})"]
    for number, (title, body) in enumerate(parts, start=1):
        lines += ["", f"{number}. {title}", *body]
    return "\n".join(lines)


def _error(args, message: str, closest: list[str] | None = None) -> int:
    """An error: one line on stderr, or with --json `{"error": ..., "closest": [...]}` on
    stdout; exit code 1."""
    closest = closest or []
    if args.json:
        print(json.dumps({"error": message, "closest": closest}, ensure_ascii=False))
    else:
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        print(f"error: {message}{hint}.", file=sys.stderr)
    return 1


def explain_main(args) -> int:
    outputs = Path(args.outputs) if args.outputs else REPO_ROOT / "outputs"
    raw = Path(args.raw) if args.raw else REPO_ROOT / "raw"
    ds = Dataset(outputs)
    try:
        ids = ds.all_ids()
    except FileNotFoundError:
        return _error(args, f"no published dataset in {outputs}: run python -m pipeline build")
    if args.value is not None or args.search is not None:
        if args.value is None:
            found = find_by_text(ds, args.search)
        else:
            found = [("figures", f) for f in find_by_value(ds, args.value)]
        if not found:
            asked = f"the value {args.value:g}" if args.search is None else f"'{args.search}'"
            close = [] if args.search is None else _closest(args.search, ids)
            return _error(args, f"no figure, event, actor or correction matches {asked}", close)
        keys = [r[SEARCHED[table][0]] for table, r in found]
        print(json.dumps(keys, indent=2) if args.json else _listing(ds, found))
        return 0
    if not args.record_id:
        return _error(
            args, "name a figure, event, actor or correction id, or use --value / --search"
        )
    if args.record_id not in ids:
        message = f"no figure, event, actor or correction has the id '{args.record_id}'"
        return _error(args, message, _closest(args.record_id, ids))
    c = chain(ds, args.record_id, raw)
    print(json.dumps(c, indent=2, ensure_ascii=False) if args.json else render(c))
    return 0


def _closest(asked: str, ids: list[str]) -> list[str]:
    return difflib.get_close_matches(asked, ids, n=3, cutoff=0.4)
