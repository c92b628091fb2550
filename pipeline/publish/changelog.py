"""What changed between the published outputs/ and a new build, and the version that follows.

Versioning rules (README, "Versions"): major when a column or a record id disappears or a
record changes meaning (its measure, subject, unit or kind); minor when records or columns
are added; patch when values are corrected (any other cell, provenance moved, a correction
added or retired). Nothing changed in the tables: the version stays and no entry is written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MEANING = {"measure", "subject", "unit", "kind"}
ERRATA = "corrections"  # adding or retiring an erratum corrects values: a patch
CHANGELOG_MD = "CHANGELOG.md"
CHANGELOG_JSON = "changelog.json"


@dataclass
class Changes:
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns_added: dict[str, list[str]] = field(default_factory=dict)
    columns_removed: dict[str, list[str]] = field(default_factory=dict)

    def level(self) -> str | None:
        meaning = any(c["column"] in MEANING for cs in self.changed.values() for c in cs)
        removed = any(ids for t, ids in self.removed.items() if t != ERRATA)
        added = any(ids for t, ids in self.added.items() if t != ERRATA)
        if removed or any(self.columns_removed.values()) or meaning:
            return "major"
        if added or any(self.columns_added.values()):
            return "minor"
        if any(self.changed.values()) or self.added.get(ERRATA) or self.removed.get(ERRATA):
            return "patch"
        return None


def _null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    if _null(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _candidates(old: pd.DataFrame, new: pd.DataFrame, columns: list[str]) -> list[str]:
    """Ids (the index, aligned in both) of the rows that may differ in `columns`: a
    vectorized first pass in Arrow, so the exact cell-by-cell comparison runs on those rows
    only. It may keep a row that turns out equal, never drops one that differs."""
    differs = pa.array([False] * len(old), pa.bool_())
    for column in columns:
        try:
            a, b = _arrow(old[column]), _arrow(new[column])
            same = pc.or_kleene(
                pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b))
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
            same = pa.array([False] * len(old), pa.bool_())
        differs = pc.or_(differs, pc.invert(same))
    return [rid for rid, d in zip(old.index, differs.to_pylist(), strict=True) if d]


def _arrow(column: pd.Series):
    """The column as an Arrow array: zero-copy for Arrow-backed strings, through Python
    objects only where Arrow cannot take the pandas array as it is."""
    try:
        return pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array(column.astype(object), from_pandas=True)


def _ids(df: pd.DataFrame, keys: list[str]) -> Any:
    """Each row's primary key as text, a key of several fields joined by "/" (record/mention);
    a key field an older table lacks is left out."""
    parts = [df[k].astype(str) for k in keys if k in df.columns]
    return (parts[0].str.cat(parts[1:], sep="/") if len(parts) > 1 else parts[0]).to_numpy()


def compare(
    previous: Path,
    frames: dict[str, tuple[Any, pd.DataFrame]],
    unchanged: set[str] | frozenset[str] = frozenset(),
) -> Changes:
    """Compare new tables (name -> (TableDef, DataFrame)) with the Parquet files in `previous`.
    Tables named in `unchanged` (their new Parquet file has the bytes of the published one)
    are not read."""
    changes = Changes()
    for name, (table, new) in frames.items():
        path = previous / f"{name}.parquet"
        keys = list(table.primary_key)
        if name in unchanged:
            for found in vars(changes).values():
                found[name] = []
            continue
        if not path.exists():
            changes.added[name] = sorted(_ids(new, keys))
            continue
        old = pd.read_parquet(path)
        changes.columns_added[name] = [c for c in new.columns if c not in old.columns]
        changes.columns_removed[name] = [c for c in old.columns if c not in new.columns]
        old, new = old.set_axis(_ids(old, keys)), new.set_axis(_ids(new, keys))
        changes.added[name] = sorted(set(new.index) - set(old.index))
        changes.removed[name] = sorted(set(old.index) - set(new.index))
        shared = [c for c in new.columns if c in old.columns and c not in keys]
        common = sorted(set(old.index) & set(new.index))
        changes.changed[name] = []
        if len(common) == len(old) == len(new) and old[shared].equals(new[shared]):
            continue
        maybe = _candidates(old.loc[common, shared], new.loc[common, shared], shared)
        old_rows = old.loc[maybe, shared].to_dict("index")
        new_rows = new.loc[maybe, shared].to_dict("index")
        for rid in sorted(maybe):
            for col in shared:
                a, b = _plain(old_rows[rid][col]), _plain(new_rows[rid][col])
                if not (_null(b) if _null(a) else a == b):
                    changes.changed[name].append({"id": rid, "column": col, "old": a, "new": b})
    return changes


def bump(version: str, level: str | None) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if level == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def entry(
    version: str, previous: str | None, changes: Changes, reasons: dict[str, str]
) -> dict[str, Any]:
    """A machine-readable changelog entry; `reasons` maps a figure id to why it changed;
    previous None makes the first entry, of level "initial"."""
    changed = []
    for table, rows in changes.changed.items():
        for c in rows:
            why = reasons.get(c["id"]) if table == "figures" else None
            changed.append({"table": table, **c, **({"reason": why} if why else {})})
    return {
        "version": version,
        "previous_version": previous,
        "level": changes.level() if previous else "initial",
        "added": {t: ids for t, ids in changes.added.items() if ids},
        "removed": {t: ids for t, ids in changes.removed.items() if ids},
        "columns_added": {t: c for t, c in changes.columns_added.items() if c},
        "columns_removed": {t: c for t, c in changes.columns_removed.items() if c},
        "changed": changed,
    }


def render_markdown(entries: list[dict[str, Any]]) -> str:
    lines = ["# Changelog of the dataset", "", "Newest first. Written by the build.", ""]
    for e in entries:
        since = f" (from {e['previous_version']})" if e["previous_version"] else ""
        lines += [f"## {e['version']} — {e['level']}{since}", ""]
        for table, ids in e["added"].items():
            lines.append(f"- {table}: {len(ids)} added: {', '.join(ids[:20])}"
                         + (" …" if len(ids) > 20 else ""))  # fmt: skip
        for table, ids in e["removed"].items():
            lines.append(f"- {table}: {len(ids)} removed: {', '.join(ids)}")
        for table, cols in e["columns_added"].items():
            lines.append(f"- {table}: columns added: {', '.join(cols)}")
        for table, cols in e["columns_removed"].items():
            lines.append(f"- {table}: columns removed: {', '.join(cols)}")
        for c in e["changed"]:
            moved = c["table"] == "provenance" and c["column"] in {"char_start", "char_end"}
            what = "provenance moved" if moved else "changed"
            why = f" — {c['reason']}" if c.get("reason") else ""
            lines.append(
                f"- {c['table']} {c['id']}: {c['column']} {what}: {c['old']} → {c['new']}{why}"
            )
        lines.append("")
    return "\n".join(lines)


def read_entries(outputs: Path) -> list[dict[str, Any]]:
    path = outputs / CHANGELOG_JSON
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def write(folder: Path, entries: list[dict[str, Any]], published: Path | None = None) -> None:
    """Write changelog.json and CHANGELOG.md. The entries already in `published`/ (outputs/)
    are copied as text rather than encoded again (the same bytes; json's indenting encoder
    is slow on the first entry, which lists every record id)."""
    old_text = None
    if published is not None and (published / CHANGELOG_JSON).exists():
        old_text = (published / CHANGELOG_JSON).read_text(encoding="utf-8")
    (folder / CHANGELOG_JSON).write_text(encode(entries, old_text), encoding="utf-8")
    (folder / CHANGELOG_MD).write_text(render_markdown(entries), encoding="utf-8")


def encode(entries: list[dict[str, Any]], old_text: str | None = None) -> str:
    """json.dumps(entries, indent=2) + newline; when `old_text` is such a file holding the
    last entries of `entries`, their text is taken from it as it is."""
    framed = old_text is not None and old_text.startswith("[\n") and old_text.endswith("\n]\n")
    old = json.loads(old_text) if framed else None
    new = len(entries) - len(old) if framed else -1
    if new < 0 or entries[new:] != old:
        return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    if not new:
        return old_text
    head = ",\n".join(
        "  " + json.dumps(e, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        for e in entries[:new]
    )
    return "[\n" + head + ",\n" + old_text[2:]
