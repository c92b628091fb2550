"""The lineage of one published figure, event, actor or correction, as a JSON-ready dict.

Read from the published tables and raw/ only, for `python -m pipeline explain`: the row, its
source (sha256 re-computed now), where it is printed (with its further mentions and a link to
the original at those characters), how its literal was read, its corrections, its annotation
and its git history, the claims it takes part in; for a correction, the records it corrects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.core.errors import REPO_ROOT
from pipeline.core.numerals import NumeralError, parse_numeral
from pipeline.site.fragments import text_fragment

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


class Dataset:
    """The published tables, read lazily from an outputs/ folder (a table it lacks is empty)."""

    def __init__(self, outputs: Path, root: Path = REPO_ROOT) -> None:
        self.outputs = outputs
        self.root = root
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def has(self, table: str) -> bool:
        return (self.outputs / f"{table}.parquet").exists()

    def rows(self, table: str) -> list[dict[str, Any]]:
        if table not in self._cache:
            path = self.outputs / f"{table}.parquet"
            required = table in ("provenance", "sources")  # optional: actors, corrections
            self._cache[table] = (
                pq.read_table(path).to_pylist() if required or path.exists() else []
            )
        return self._cache[table]

    def by_id(self, table: str, key: str) -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in self.rows(table)}

    def package(self) -> dict[str, Any]:
        return json.loads((self.outputs / "datapackage.json").read_text(encoding="utf-8"))

    def anchors(self) -> dict[str, dict[str, Any]]:
        """Each record's primary provenance row: mention 1 (the only row before mentions)."""
        return {r["record_id"]: r for r in self.rows("provenance") if r.get("mention", 1) == 1}

    def mentions(self, record_id: str) -> list[dict[str, Any]]:
        """A record's further mentions (2, 3, ...) in their order."""
        found = [r for r in self.rows("provenance") if r["record_id"] == record_id]
        return sorted((r for r in found if r.get("mention", 1) > 1), key=lambda r: r["mention"])

    def all_ids(self) -> list[str]:
        """Every id explain answers for: figures, events and actors, then corrections."""
        return [*self.anchors(), *(c["correction_id"] for c in self.rows("corrections"))]


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
    blame = ["git", "blame", "-L", f"{line},{line}", "--porcelain", "--", file]
    try:
        out = subprocess.run(blame, cwd=root, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout:
        return None
    lines = out.stdout.splitlines()
    info = dict(ln.split(" ", 1) for ln in lines[1:] if " " in ln and not ln.startswith("\t"))
    commit = lines[0].split()[0]
    if set(commit) == {"0"}:
        return {"commit": None, "date": None, "message": "not committed yet"}
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
        steps += [f"parser flag: {flag}" for flag in parsed.flags]
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


def _source(source: dict[str, Any], data: bytes) -> dict[str, Any]:
    """The source's record, with its sha256 re-computed from raw/ now."""
    sha_now = hashlib.sha256(data).hexdigest() if data else None
    return {
        **{key: source[key] for key in ("source_id", "title", "publisher", "url")},
        "sha256_published": source["sha256"],
        "sha256_now": sha_now,
        "sha256_matches": sha_now == source["sha256"],
    }


def _location(prov: dict[str, Any], row: dict[str, Any], text: str, url: str) -> dict[str, Any]:
    """Where the record is printed: line, column, code points, its sentence and period, the
    link to the very characters in the original publication."""
    start, end = prov["char_start"], prov["char_end"]
    span_ok = text[start:end] == prov["quote"]
    numeral = None
    if prov.get("numeral_start") is not None:
        numeral = (prov["numeral_start"], prov["numeral_end"])
    period = prov.get("period_start_char"), prov.get("period_end_char")
    return {
        "section": row.get("section"),
        **{key: prov[key] for key in ("line", "column", "char_start", "char_end", "quote")},
        "sentence": _sentence(text, start, end, numeral) if span_ok else None,
        "period_as_printed": text[period[0] : period[1]] if period[0] is not None else None,
        "period_char_start": period[0],
        "period_char_end": period[1],
        "link": text_fragment(url, text, start, end) if span_ok else None,
    }


def _mentions(ds: Dataset, record_id: str, text: str, url: str) -> list[dict[str, Any]]:
    """The record's further mentions, each where it is printed and whether its span holds."""
    return [
        {
            **{key: m[key] for key in ("mention", "line", "column", "char_start", "char_end")},
            "quote": m["quote"],
            "holds": text[m["char_start"] : m["char_end"]] == m["quote"],
            "link": text_fragment(url, text, m["char_start"], m["char_end"]),
        }
        for m in ds.mentions(record_id)
    ]


def _applied_corrections(ds: Dataset, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The corrections the row names, each with where it is recorded."""
    return [
        {
            **{key: c[key] for key in ("correction_id", "printed", "corrected", "reason")},
            "reported_on": c["reported_on"].isoformat(),
            "reported_by": c["reported_by"],
            "where": f"{c['annotation_file']}, line {c['annotation_line']}",
        }
        for c in ds.rows("corrections")
        if c["correction_id"] in (row.get("correction_ids") or "").split(";")
    ]


def _figure_parts(ds: Dataset, record_id: str, row, prov, text: str) -> dict[str, Any]:
    """What only a figure has: the numeral's check, how it was read, the claims on it."""
    start, end = prov["numeral_start"], prov["numeral_end"]
    numeral_ok = start is not None and text[start:end] == row["value_as_printed"]
    return {
        "check": {"check": "the numeral span holds the printed literal", "passed": numeral_ok},
        "parsing": {
            **{key: row[key] for key in ("value_as_printed", "unit_as_printed")},
            **{key: prov[key] for key in ("numeral_start", "numeral_end")},
            "steps": _normalizations(row, ds.root, prov, ds.rows("corrections")),
        },
        "claims": [
            {"claim_id": c["claim_id"], "statement": c["statement"], "holds": c["holds"]}
            for c in ds.rows("claims")
            if record_id in c["figure_ids"].split(";")
        ],
    }


TABLES = {
    "figure": ("figures", "figure_id"),
    "event": ("events", "event_id"),
    "actor": ("actors", "actor_id"),
    "correction": ("corrections", "correction_id"),
}


def _common(ds: Dataset, kind: str, row: dict, prov: dict, raw: Path) -> tuple[dict, str]:
    """What every record's chain has (row, source, location, annotation, the span's check),
    and the source text now."""
    path = raw / prov["source_id"] / "source.txt"
    data = path.read_bytes() if path.exists() else b""
    text = data.decode("utf-8", errors="replace")
    source = ds.by_id("sources", "source_id")[prov["source_id"]]
    ann = {"file": prov["annotation_file"], "line": prov["annotation_line"]}
    span_ok = text[prov["char_start"] : prov["char_end"]] == prov["quote"]
    what = "printed text" if kind == "correction" else "quote"
    return {
        "record_id": prov["record_id"],
        "record_type": kind,
        "dataset_version": ds.package().get("version"),
        "row": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
        "source": _source(source, data),
        "location": _location(prov, row, text, source["url"]),
        "annotation": {**ann, "last_change": _git_last_change(ds.root, ann["file"], ann["line"])},
        "checks": [{"check": f"the span of the source holds the {what}", "passed": span_ok}],
    }, text


def _correction_chain(ds: Dataset, correction_id: str, raw: Path) -> dict[str, Any]:
    """A correction's chain: where its printed text is, and the records it corrects."""
    row = ds.by_id("corrections", "correction_id")[correction_id]
    prov = {**row, "record_id": correction_id, "quote": row["printed"]}
    out, _ = _common(ds, "correction", row, prov, raw)
    out["corrects"] = [
        {"record_type": kind, "record_id": r[key]}
        for kind, (table, key) in TABLES.items()
        if kind != "correction"
        for r in ds.rows(table)
        if correction_id in (r.get("correction_ids") or "").split(";")
    ]
    return out


def chain(ds: Dataset, record_id: str, raw: Path) -> dict[str, Any]:
    """The whole lineage of one figure, event, actor or correction as a JSON-ready dict."""
    prov = ds.anchors().get(record_id)
    if prov is None:
        return _correction_chain(ds, record_id, raw)
    kind = prov["record_type"]
    table, key = TABLES[kind]
    row = ds.by_id(table, key).get(record_id, {key: record_id})
    out, text = _common(ds, kind, row, prov, raw)
    mentions = out["location"]["mentions"] = _mentions(ds, record_id, text, out["source"]["url"])
    if mentions:
        held = all(m["holds"] for m in mentions)
        out["checks"].append({"check": "every further mention's span holds it", "passed": held})
    out["corrections"] = _applied_corrections(ds, row)
    if kind == "figure":
        parts = _figure_parts(ds, record_id, row, prov, text)
        out["checks"].append(parts["check"])
        out["parsing"], out["claims"] = parts["parsing"], parts["claims"]
    return out
