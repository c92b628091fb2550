"""Corrections (errata) of a source snapshot, kept as reviewable data.

`raw/<source_id>/corrections.yaml` anchors each erratum by quote, like an annotation, and
gives the corrected text with a reason, a date and who reported it. The snapshot is never
edited. Guard: a correction whose printed text is no longer in the source (the upstream has
fixed it) stops the build with a request to retire it, so it is never applied to text it
does not find.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.anchoring import AnchorError, Span, resolve_quote
from pipeline.core.entry_keys import check_entry, check_file
from pipeline.core.errors import BuildError, display_path
from pipeline.core.sources import SourceSnapshot
from pipeline.core.yaml_lines import LINE_KEY, items, load_yaml


@dataclass(frozen=True)
class Correction:
    correction_id: str
    span: Span
    printed: str
    corrected: str
    reason: str
    reported_on: dt.date
    reported_by: str
    line: int  # in the corrections file

    def overlaps(self, span: Span) -> bool:
        return self.span.start < span.end and span.start < self.span.end


def read_corrections(snapshot: SourceSnapshot) -> list[Correction]:
    """Every correction of one source, anchored; none when the file does not exist."""
    path = snapshot.folder / "corrections.yaml"
    if not path.exists():
        return []
    doc = check_file(path, load_yaml(path) or {}, "corrections.yaml")
    found = [_read_one(snapshot, path, entry, line) for entry, line in items(doc, "corrections")]
    ids = [c.correction_id for c in found]
    for c in found:
        if ids.count(c.correction_id) > 1:
            raise BuildError(
                path, f"the id '{c.correction_id}' is used twice", "give each its own id",
                line=c.line, record=c.correction_id,
            )  # fmt: skip
    found.sort(key=lambda c: c.span.start)
    for before, after in zip(found, found[1:], strict=False):
        if after.overlaps(before.span):
            raise BuildError(
                path,
                f"it overlaps correction '{before.correction_id}' (line {before.line})",
                "merge the two into one correction",
                line=after.line,
                record=after.correction_id,
            )
    return found


def _read_one(snapshot: SourceSnapshot, path: Path, entry: object, line: int | None) -> Correction:
    """One correction, its keys checked (entry_keys.py) and its printed text anchored."""
    entry = check_entry(path, entry, "correction", line=line)
    line, record, quote = entry[LINE_KEY], entry["id"], str(entry["quote"])
    try:
        span = resolve_quote(
            snapshot, quote, str(entry.get("prefix") or ""), str(entry.get("suffix") or "")
        )
    except AnchorError as exc:
        if "not in the source text" in str(exc):
            raise BuildError(
                path,
                f'the printed text "{quote}" is no longer in '
                f"{display_path(snapshot.text_path)}, so the upstream has probably fixed it",
                "retire this correction (delete the entry) after checking the corrected source",
                line=line,
                record=record,
            ) from exc
        action = exc.action or "copy the printed text exactly from source.txt"
        raise BuildError(path, exc.problem, action, line, record) from exc
    reported = entry["reported_on"]  # a date: check_entry refuses any other type
    if str(entry["corrected"]) == quote:
        raise BuildError(path, "the corrected text equals the printed one", "fix it", line, record)
    return Correction(
        str(entry["id"]), span, quote, str(entry["corrected"]), str(entry["reason"]),
        reported, str(entry["reported_by"]), line,
    )  # fmt: skip


def apply(text: str, start: int, corrections: list[Correction]) -> str:
    """`text` (printed at code point `start`) with every correction inside it applied."""
    out, pos = [], start
    for c in sorted(corrections, key=lambda c: c.span.start):
        out += [text[pos - start : c.span.start - start], c.corrected]
        pos = c.span.end
    out.append(text[pos - start :])
    return "".join(out)
