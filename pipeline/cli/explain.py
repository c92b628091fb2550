"""`python -m pipeline explain`: the lineage of one published number, top to bottom.

Reads only the published `outputs/` and `raw/` (plus the vocabularies in `schemas/` and,
when present, git), so it answers on a downloaded copy of the repository without running
Dagster. It imports pyarrow and the standard library only, to answer fast.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.core.errors import REPO_ROOT
from pipeline.core.numerals import NumeralError, parse_numeral

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


class Dataset:
    """The published tables, read lazily from an outputs/ folder."""

    def __init__(self, outputs: Path, root: Path = REPO_ROOT) -> None:
        self.outputs = outputs
        self.root = root
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def rows(self, table: str) -> list[dict[str, Any]]:
        if table not in self._cache:
            self._cache[table] = pq.read_table(self.outputs / f"{table}.parquet").to_pylist()
        return self._cache[table]

    def by_id(self, table: str, key: str) -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in self.rows(table)}

    def package(self) -> dict[str, Any]:
        return json.loads((self.outputs / "datapackage.json").read_text(encoding="utf-8"))

    def all_ids(self) -> list[str]:
        return [r["record_id"] for r in self.rows("provenance")]


# --- pieces of the chain ---------------------------------------------------------------


def _sentence(text: str, start: int, end: int, numeral: tuple[int, int] | None) -> str:
    """The sentence around a span, with the quote in [ ] and the numeral in « »."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    cuts = [line_start] + [
        line_start + m.end() for m in SENTENCE_END.finditer(text[line_start:line_end])
    ]
    s_start = max(c for c in cuts if c <= start)
    later = [c for c in cuts if c >= end]
    s_end = min(later) if later else line_end
    marks = [(start, "["), (end, "]")]
    if numeral:
        marks += [(numeral[0], "«"), (numeral[1], "»")]
    out, pos = [], s_start
    for offset, mark in sorted(marks, key=lambda m: (m[0], m[1] in "]»")):
        out += [text[pos:offset], mark]
        pos = offset
    out.append(text[pos:s_end])
    return "".join(out).strip()


def _git_last_change(root: Path, file: str, line: int) -> dict[str, Any] | None:
    """The last commit that changed one line of a file, from git blame; None outside git."""
    try:
        out = subprocess.run(
            ["git", "blame", "-L", f"{line},{line}", "--porcelain", "--", file],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout:
        return None
    lines = out.stdout.splitlines()
    info = dict(ln.split(" ", 1) for ln in lines[1:] if " " in ln and not ln.startswith("\t"))
    commit = lines[0].split()[0]
    if set(commit) == {"0"}:
        return {"commit": None, "date": None, "message": "not committed yet"}
    import datetime as dt

    date = dt.datetime.fromtimestamp(int(info.get("author-time", 0)), dt.UTC).date().isoformat()
    return {"commit": commit, "date": date, "message": info.get("summary", "")}


def _corrected_literal(prov: dict[str, Any], corrections: list[dict[str, Any]]) -> tuple[str, list]:
    """The printed numeral with the corrections that lie inside it applied."""
    start, end = prov["numeral_start"], prov["numeral_end"]
    inside = sorted(
        (c for c in corrections if start <= c["char_start"] and c["char_end"] <= end),
        key=lambda c: c["char_start"],
    )
    literal = prov["quote"][start - prov["char_start"] : end - prov["char_start"]]
    out, pos = [], start
    for c in inside:
        out += [literal[pos - start : c["char_start"] - start], c["corrected"]]
        pos = c["char_end"]
    out.append(literal[pos - start :])
    return "".join(out), [c["correction_id"] for c in inside]


def _normalizations(
    figure: dict[str, Any], root: Path, prov: dict[str, Any], corrections: list[dict[str, Any]]
) -> list[str]:
    import yaml

    steps = []
    reading, applied = _corrected_literal(prov, corrections)
    if applied:
        steps.append(
            f'"{figure["value_as_printed"]}" is read as "{reading}" '
            f"(correction {', '.join(applied)})"
        )
    try:
        parsed = parse_numeral(reading)
        steps.append(f'"{reading}" parsed as {parsed.value:g}')
        for flag in parsed.flags:
            steps.append(f"parser flag: {flag}")
    except NumeralError as exc:
        steps.append(f"the literal no longer parses: {exc}")
        parsed = None
    units = yaml.safe_load((root / "schemas" / "units.yaml").read_text(encoding="utf-8"))
    conversion = units.get(figure["unit_as_printed"], {})
    factor = conversion.get("factor", 1)
    if factor != 1:
        steps.append(
            f'"{figure["unit_as_printed"]}" → {conversion["unit"]}: × {factor:g} '
            f"({conversion.get('assumption', 'no assumption recorded')})"
        )
    else:
        steps.append(f'"{figure["unit_as_printed"]}" is normalized to {figure["unit"]}')
    if parsed is not None:
        expected = float(parsed.value) * factor
        agree = abs(expected - figure["value"]) <= 1e-9 * max(1.0, abs(expected))
        steps.append(
            f"published value {figure['value']:g} {figure['unit']} "
            + ("= parsed value × factor" if agree else f"≠ {expected:g}: the outputs are stale")
        )
    return steps


def chain(ds: Dataset, record_id: str, raw: Path) -> dict[str, Any]:
    """The whole lineage of one figure or event as a JSON-ready dict."""
    prov = ds.by_id("provenance", "record_id")[record_id]
    kind = prov["record_type"]
    table, key = ("figures", "figure_id") if kind == "figure" else ("events", "event_id")
    row = ds.by_id(table, key)[record_id]
    source = ds.by_id("sources", "source_id")[prov["source_id"]]
    text_path = raw / prov["source_id"] / "source.txt"
    data = text_path.read_bytes() if text_path.exists() else b""
    sha_now = hashlib.sha256(data).hexdigest() if data else None
    text = data.decode("utf-8") if data else ""
    span_ok = text[prov["char_start"] : prov["char_end"]] == prov["quote"]
    numeral = None
    if prov["numeral_start"] is not None:
        numeral = (prov["numeral_start"], prov["numeral_end"])
    out: dict[str, Any] = {
        "record_id": record_id,
        "record_type": kind,
        "dataset_version": ds.package().get("version"),
        "row": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
        "source": {
            "source_id": source["source_id"],
            "title": source["title"],
            "publisher": source["publisher"],
            "url": source["url"],
            "sha256_published": source["sha256"],
            "sha256_now": sha_now,
            "sha256_matches": sha_now == source["sha256"],
        },
        "location": {
            "section": row.get("section"),
            "line": prov["line"],
            "column": prov["column"],
            "char_start": prov["char_start"],
            "char_end": prov["char_end"],
            "quote": prov["quote"],
            "sentence": _sentence(text, prov["char_start"], prov["char_end"], numeral)
            if span_ok
            else None,
            "period_as_printed": text[prov["period_start_char"] : prov["period_end_char"]]
            if prov["period_start_char"] is not None
            else None,
            "period_char_start": prov["period_start_char"],
            "period_char_end": prov["period_end_char"],
        },
        "annotation": {
            "file": prov["annotation_file"],
            "line": prov["annotation_line"],
            "last_change": _git_last_change(
                ds.root, prov["annotation_file"], prov["annotation_line"]
            ),
        },
        "checks": [{"check": "the span of the source holds the quote", "passed": span_ok}],
        "corrections": [
            {
                "correction_id": c["correction_id"],
                "printed": c["printed"],
                "corrected": c["corrected"],
                "reason": c["reason"],
                "reported_on": c["reported_on"].isoformat(),
                "reported_by": c["reported_by"],
                "where": f"{c['annotation_file']}, line {c['annotation_line']}",
            }
            for c in _corrections(ds)
            if c["correction_id"] in (row.get("correction_ids") or "").split(";")
        ],
    }
    if kind == "figure":
        numeral_ok = bool(numeral) and text[numeral[0] : numeral[1]] == row["value_as_printed"]
        out["checks"].append(
            {"check": "the numeral span holds the printed literal", "passed": numeral_ok}
        )
        out["parsing"] = {
            "value_as_printed": row["value_as_printed"],
            "unit_as_printed": row["unit_as_printed"],
            "numeral_start": prov["numeral_start"],
            "numeral_end": prov["numeral_end"],
            "steps": _normalizations(row, ds.root, prov, _corrections(ds)),
        }
        out["claims"] = [
            {"claim_id": c["claim_id"], "statement": c["statement"], "holds": c["holds"]}
            for c in ds.rows("claims")
            if record_id in c["figure_ids"].split(";")
        ]
    return out


def _corrections(ds: Dataset) -> list[dict[str, Any]]:
    """The corrections table; empty for a dataset published before corrections existed."""
    return ds.rows("corrections") if (ds.outputs / "corrections.parquet").exists() else []


# --- finding ---------------------------------------------------------------------------


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
    if not figures:
        return "no figure matches."
    lines = []
    for f in figures:
        quote = prov[f["figure_id"]]["quote"]
        quote = quote if len(quote) <= 60 else quote[:57] + "..."
        lines.append(f'{f["figure_id"]}\t{f["value"]:g} {f["unit"]}\t"{quote}"')
    return "\n".join(lines)


# --- text ------------------------------------------------------------------------------


def render(c: dict[str, Any]) -> str:
    row, src, loc, ann = c["row"], c["source"], c["location"], c["annotation"]
    kind = c["record_type"]
    lines = [f"{kind} {c['record_id']}  (dataset version {c['dataset_version']})", ""]
    lines.append("1. The published row")
    for k, v in row.items():
        if v is not None and k not in ("source_id",):
            lines.append(f"   {k}: {v}")
    lines += ["", "2. The source"]
    lines.append(f"   {src['title']}")
    lines.append(f"   {src['publisher']}")
    lines.append(f"   {src['url']}")
    if src["sha256_matches"]:
        lines.append(f"   sha256 {src['sha256_now']} (re-computed now: matches the dataset)")
    elif src["sha256_now"] is None:
        lines.append("   the source text is missing from raw/: cannot re-compute its sha256")
    else:
        lines.append(
            f"   WARNING: raw/ text now has sha256 {src['sha256_now']}, "
            f"but the dataset was built from {src['sha256_published']}"
        )
    lines += ["", "3. Where it is printed"]
    lines.append(f"   section: {loc['section']}")
    lines.append(
        f"   line {loc['line']}, column {loc['column']}; code points "
        f"{loc['char_start']}-{loc['char_end']} (end exclusive)"
    )
    lines.append(f'   quote: "{loc["quote"]}"')
    if loc["sentence"]:
        lines.append("   in its sentence ([quote], «numeral»):")
        lines.append(f"   {loc['sentence']}")
    if loc["period_as_printed"]:
        what = "period" if kind == "figure" else "date"
        lines.append(
            f'   {what} read from "{loc["period_as_printed"]}" at code points '
            f"{loc['period_char_start']}-{loc['period_char_end']}"
        )
    if kind == "figure":
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
    lines += ["", f"{5 if kind == 'figure' else 4}. The annotation that produced it"]
    lines.append(f"   {ann['file']}, line {ann['line']}")
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
    lines += ["", f"{6 if kind == 'figure' else 5}. Claims and checks"]
    for claim in c.get("claims", []):
        verdict = "holds" if claim["holds"] else "DOES NOT HOLD"
        lines.append(f"   claim {claim['claim_id']}: {claim['statement']} — {verdict}")
    for check in c["checks"]:
        lines.append(f"   check: {check['check']} — {'passed' if check['passed'] else 'FAILED'}")
    return "\n".join(lines)


def explain_main(args) -> int:
    outputs = Path(args.outputs) if args.outputs else REPO_ROOT / "outputs"
    raw = Path(args.raw) if args.raw else REPO_ROOT / "raw"
    ds = Dataset(outputs)
    if args.value is not None or args.search is not None:
        figures = (
            find_by_value(ds, args.value)
            if args.value is not None
            else find_by_text(ds, args.search)
        )
        if args.json:
            print(json.dumps([f["figure_id"] for f in figures], indent=2))
        else:
            print(_listing(ds, figures))
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
