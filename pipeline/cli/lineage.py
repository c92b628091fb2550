"""The lineage of one published figure or event, as a JSON-ready dict (`chain`).

Read from the published tables and raw/ only, for `python -m pipeline explain`: the row, its
source (sha256 re-computed now), where it is printed, how its literal was read, its
corrections, its annotation and its git history, the claims it takes part in.
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


def _location(prov: dict[str, Any], row: dict[str, Any], text: str, span_ok: bool):
    """Where the record is printed: line, column, code points, its sentence and period."""
    numeral = None
    if prov["numeral_start"] is not None:
        numeral = (prov["numeral_start"], prov["numeral_end"])
    period = prov["period_start_char"], prov["period_end_char"]
    sentence = _sentence(text, prov["char_start"], prov["char_end"], numeral) if span_ok else None
    return {
        "section": row.get("section"),
        **{key: prov[key] for key in ("line", "column", "char_start", "char_end", "quote")},
        "sentence": sentence,
        "period_as_printed": text[period[0] : period[1]] if period[0] is not None else None,
        "period_char_start": period[0],
        "period_char_end": period[1],
    }


def _applied_corrections(ds: Dataset, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The corrections the row names, each with where it is recorded."""
    return [
        {
            **{key: c[key] for key in ("correction_id", "printed", "corrected", "reason")},
            "reported_on": c["reported_on"].isoformat(),
            "reported_by": c["reported_by"],
            "where": f"{c['annotation_file']}, line {c['annotation_line']}",
        }
        for c in _corrections(ds)
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
            "steps": _normalizations(row, ds.root, prov, _corrections(ds)),
        },
        "claims": [
            {"claim_id": c["claim_id"], "statement": c["statement"], "holds": c["holds"]}
            for c in ds.rows("claims")
            if record_id in c["figure_ids"].split(";")
        ],
    }


def chain(ds: Dataset, record_id: str, raw: Path) -> dict[str, Any]:
    """The whole lineage of one figure or event as a JSON-ready dict."""
    prov = ds.by_id("provenance", "record_id")[record_id]
    kind = prov["record_type"]
    table, key = ("figures", "figure_id") if kind == "figure" else ("events", "event_id")
    row = ds.by_id(table, key)[record_id]
    text_path = raw / prov["source_id"] / "source.txt"
    data = text_path.read_bytes() if text_path.exists() else b""
    text = data.decode("utf-8")
    span_ok = text[prov["char_start"] : prov["char_end"]] == prov["quote"]
    ann = {"file": prov["annotation_file"], "line": prov["annotation_line"]}
    out: dict[str, Any] = {
        "record_id": record_id,
        "record_type": kind,
        "dataset_version": ds.package().get("version"),
        "row": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
        "source": _source(ds.by_id("sources", "source_id")[prov["source_id"]], data),
        "location": _location(prov, row, text, span_ok),
        "annotation": {**ann, "last_change": _git_last_change(ds.root, ann["file"], ann["line"])},
        "checks": [{"check": "the span of the source holds the quote", "passed": span_ok}],
        "corrections": _applied_corrections(ds, row),
    }
    if kind == "figure":
        parts = _figure_parts(ds, record_id, row, prov, text)
        out["checks"].append(parts["check"])
        out["parsing"], out["claims"] = parts["parsing"], parts["claims"]
    return out


def _corrections(ds: Dataset) -> list[dict[str, Any]]:
    """The corrections table; empty for a dataset published before corrections existed."""
    return ds.rows("corrections") if (ds.outputs / "corrections.parquet").exists() else []
