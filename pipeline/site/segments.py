"""A source's text cut at every quote boundary, for the page to highlight: its records'
mentions and corrections as spans checked against the text, and the text as segments, each a
stretch covered by the same spans, so nested quotes need no nested markup
(templates/source.html.j2 marks it up). A record's anchor (#id) is at its first mention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Span:
    """A record's mention (its quote is mention 1) or a correction's printed text."""

    span_id: str  # the record or correction id
    kind: str  # "figure", "event", "actor" or "correction"
    start: int
    end: int
    primary: bool = True  # the record's quote, where its anchor is

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Segment:
    """text[start:end], the anchors there and the ids covering it (space-separated, or "")."""

    anchors: list[str]
    text: str
    classes: str
    records: str
    corrections: str


def spans(rows: list[dict[str, Any]], text: str, source_id: str, correction: bool) -> list[Span]:
    """Each provenance row's (or correction's) text[char_start:char_end], checked against its
    quote (or printed text), ordered by start then id (then mention)."""
    key, column = ("correction_id", "printed") if correction else ("record_id", "quote")
    what = "printed text" if correction else "quote"
    found = []
    for row in rows:
        span_id, quoted = row[key], row[column]
        start, end = int(row["char_start"]), int(row["char_end"])
        if not 0 <= start <= end <= len(text) or text[start:end] != quoted:
            name = f"correction {span_id}" if correction else f"provenance of {span_id}"
            raise ValueError(
                f"{name}: text[{start}:{end}] of {source_id} is not its {what} {quoted!r}; "
                "rebuild outputs/ from the same raw/ text."
            )
        kind = "correction" if correction else row["record_type"]
        if not correction and kind not in ("figure", "event", "actor"):
            raise ValueError(f"provenance of {span_id}: unknown type {kind!r}.")
        found.append(Span(str(span_id), str(kind), start, end, row.get("mention", 1) == 1))
    return sorted(found, key=lambda s: (s.start, s.span_id, not s.primary))


def segments(text: str, records: list[Span], corrections: list[Span]) -> list[Segment]:
    """The text as segments, in order: one per stretch between two boundaries of a quote or
    a correction, the last one empty and holding only the anchors at the end of the text."""
    spans = records + corrections
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    starting: dict[int, list[Span]] = {}
    for span in spans:  # records first, each kind in text order
        starting.setdefault(span.start, []).append(span)
    found, covering, fixed = [], [], []
    for here, there in zip(cuts, [*cuts[1:], cuts[-1]], strict=True):
        # the spans open at `here` cover all of text[here:there]: no boundary lies between
        new = starting.get(here, [])
        covering = [r for r in covering + new if r.end > here and r.kind != "correction"]
        fixed = [c for c in fixed + new if c.end > here and c.kind == "correction"]
        classes = []
        if covering:
            classes += ["hl", *(f"hl-{t}" for t in sorted({r.kind for r in covering}))]
            classes += ["hl-many"] if len(covering) > 1 else []
        classes += ["corr"] if fixed else []
        ids = [" ".join(dict.fromkeys(s.span_id for s in group)) for group in (covering, fixed)]
        anchors = [s.span_id for s in new if s.primary]
        found.append(Segment(anchors, text[here:there], " ".join(classes), *ids))
    return found


def check_corrections(
    mentions: list[Span], listed: list[str], corrections: list[Span], known: set[str]
) -> None:
    """A record's correction_ids name exactly the corrections overlapping its mentions."""
    record = mentions[0].span_id
    unknown = sorted(set(listed) - known)
    if unknown:
        raise ValueError(f"{record} lists correction {', '.join(unknown)}, which is not listed.")
    overlapping = {c.span_id for c in corrections for m in mentions if c.overlaps(m.start, m.end)}
    if set(listed) != overlapping:
        raise ValueError(
            f"{record} lists corrections {sorted(set(listed))} but its quote overlaps "
            f"{sorted(overlapping)}; rebuild outputs/ from the same raw/ corrections."
        )
