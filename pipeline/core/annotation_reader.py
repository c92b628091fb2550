"""The state of reading one annotation file, and what every record kind shares.

`Reader` holds the snapshot, the sections, corrections and
actors of the source and the `AnchoredSource` being filled. It anchors quotes and further
mentions (collecting those no longer found, to report them all at once), resolves nearby
quotes, periods and actor ids, makes provenance rows, and turns a mistake into a `BuildError`
naming file, line and record.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.anchoring import (
    AnchorError,
    Span,
    closest_candidate,
    resolve_nearby,
    resolve_quote,
)
from pipeline.core.corrections import Correction, read_corrections
from pipeline.core.entry_keys import check_entry
from pipeline.core.errors import BuildError
from pipeline.core.fields import closest
from pipeline.core.periods import ParsedPeriod, PeriodError, parse_period
from pipeline.core.sources import SourceSnapshot
from pipeline.core.yaml_lines import LINE_KEY, items

CONTEXT = 32  # code points of prefix/suffix published with each provenance row


@dataclass
class AnchoredSource:
    """Everything read from one source's annotations, ready to become tables."""

    source_id: str
    sha256: str  # of the source text the quotes were resolved in
    annotation_file: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    covered: list[tuple[Span, str]] = field(default_factory=list)  # (span, why it is covered)
    uncovered: list[str] = field(default_factory=list)  # numerals nothing explains


class Reader:
    """Reads one annotation file against one snapshot, raising sentences on mistakes."""

    def __init__(self, snapshot: SourceSnapshot, path: Path) -> None:
        self.snapshot = snapshot
        self.path = path
        self.lost: list[dict] = []
        self.line: int | None = None  # of the list item being read
        self.sections: list[tuple[int, str]] = []
        self.corrections: list[Correction] = []
        self.actors: dict[str, dict] = {}  # actor id -> its entry, once read
        self.out = AnchoredSource(
            snapshot.source_id, snapshot.sha256, snapshot.published_path(path.name)
        )

    def fail(self, entry: dict, problem: str, action: str) -> BuildError:
        return BuildError(self.path, problem, action, line=entry[LINE_KEY], record=entry.get("id"))

    def require(self, entry: object, kind: str) -> dict:
        # the keys KEYS declares (entry_keys.py)
        return check_entry(self.path, entry, kind, line=self.line)

    def anchor(self, entry: dict) -> Span | None:
        """The span of a record's quote, found exactly once in the text (with its prefix and
        suffix); nothing else, and no earlier build, chooses among matches. A quote no longer
        found is collected (None) so that every such record is reported at once; any other
        anchoring error stops at once."""
        quote, prefix = str(entry["quote"]), str(entry.get("prefix") or "")
        suffix = str(entry.get("suffix") or "")
        try:
            return resolve_quote(self.snapshot, quote, prefix, suffix)
        except AnchorError as exc:
            if "not in the source text" in str(exc) and "id" in entry:
                self.lost.append(entry)
                return None
            action = exc.action or "copy the quote exactly from source.txt"
            if "occurs" in exc.problem:
                action += (
                    f"; `python -m pipeline reanchor {self.snapshot.source_id}` proposes the "
                    "one that picks where it was last published"
                )
            raise self.fail(entry, exc.problem, action) from exc

    def report_lost(self) -> None:
        """Stop with one line per annotation whose quote is no longer in the text."""
        if not self.lost:
            return
        reanchor = f"`python -m pipeline reanchor {self.snapshot.source_id}` makes the edits "
        if len(self.lost) == 1:  # one sentence, like every other bad input
            entry = self.lost[0]
            best = closest_candidate(self.snapshot, str(entry["quote"]))
            edit = f', or, if it says the same, change it to "{best.text}"' if best else ""
            raise self.fail(
                entry,
                f'the quote "{entry["quote"]}" is not in the source text '
                f"(closest: {best or 'nothing similar'})",
                f"copy the quote exactly from source.txt{edit}",
            )
        lines = []
        for entry in self.lost:
            quote = str(entry["quote"])
            best = closest_candidate(self.snapshot, quote)
            edit = f'if it says the same, change quote: "{quote}" to "{best.text}"'
            edit = edit if best else "re-annotate it"
            lines.append(
                f"line {entry[LINE_KEY]}, record '{entry['id']}': "
                f"closest now: {best or 'nothing similar'}; {edit}"
            )
        raise BuildError(
            self.path,
            f"{len(self.lost)} quote(s) are no longer found exactly in "
            f"{self.snapshot.published_path('source.txt')} and nothing is re-anchored to "
            "changed text silently",
            f"edit each quote listed below (and its note) after reading the new text ({reanchor}"
            "it can trust), then build again",
            details=lines,
        )

    def nearby(self, entry: dict, key: str, near: Span) -> Span:
        """The span of `entry[key]`, printed in the paragraph of `near`."""
        try:
            return resolve_nearby(self.snapshot, str(entry[key]), near)
        except AnchorError as exc:
            raise self.fail(
                entry, f"its {key} {exc}", f"quote the {key} as printed in that paragraph"
            ) from exc

    def mentions(self, entry: dict, kind: str = "mention") -> list[tuple[dict, Span]]:
        """A record's further mentions (`mentions:`), each anchored like its quote, as
        (mention entry with the record's id, span)."""
        anchored = []
        for m, line in items(entry, "mentions"):
            m = {**check_entry(self.path, m, kind, str(entry["id"]), line), "id": entry["id"]}
            if (span := self.anchor(m)) is not None:
                anchored.append((m, span))
        return anchored

    def actor_ids(self, entry: dict, key: str, noun: str) -> str | None:
        """The actor ids listed under `key` (a list or 'a;b'), each an actor of this source."""
        value = entry.get(key) or []
        ids = [str(i).strip() for i in value] if isinstance(value, list) else str(value).split(";")
        for i in ids:
            if i not in self.actors:
                raise self.fail(
                    entry,
                    f"its {noun} '{i}' is not an actor of this source{closest(i, self.actors)}",
                    "use the id of an entry of actors: (docs/annotating.md)",
                )
        return ";".join(ids) or None

    def period(
        self, entry: dict, key: str, near: Span, relative: bool = False
    ) -> tuple[ParsedPeriod | None, Span | None]:
        """The period (or date) quoted under `key` near `near`, read, and its span; with
        `relative`, "the last five years" is read against source.yaml's reference_year."""
        if entry.get(key) in (None, ""):
            return None, None
        span = self.nearby(entry, key, near)
        year = self.snapshot.meta.get("reference_year") if relative else None
        try:
            return parse_period(str(entry[key]), year), span
        except PeriodError as exc:
            raise self.fail(
                entry, str(exc).rstrip("."), f"quote a {key} in a parseable form"
            ) from exc

    def read_sections(self, headings: list) -> None:
        """Section headings are whole lines of the text, listed in `sections:`."""
        lines = self.snapshot.text.split("\n")
        starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
        for heading in headings:
            found = [i for i, line in enumerate(lines) if line == heading]
            if len(found) != 1:
                raise BuildError(
                    self.path,
                    f'the section heading "{heading}" is a whole line of the text '
                    f"{len(found)} times, not once",
                    "copy the heading line exactly",
                )
            self.sections.append((starts[found[0]], str(heading)))
        self.sections.sort()

    def section_of(self, offset: int) -> str:
        """The last section heading printed at or before `offset`."""
        current = ""
        for start, heading in self.sections:
            if start <= offset:
                current = heading
        return current

    def read_corrections(self) -> None:
        """The source's corrections: kept to read numerals, and published as rows."""
        self.corrections = read_corrections(self.snapshot)
        path = self.snapshot.published_path("corrections.yaml")
        for c in self.corrections:
            line, column = self.snapshot.line_col(c.span.start)
            self.out.corrections.append(
                {
                    "correction_id": c.correction_id, "source_id": self.snapshot.source_id,
                    "char_start": c.span.start, "char_end": c.span.end,
                    "line": line, "column": column,
                    "printed": c.printed, "corrected": c.corrected, "reason": c.reason,
                    "reported_on": c.reported_on, "reported_by": c.reported_by,
                    "annotation_file": path, "annotation_line": c.line,
                }
            )  # fmt: skip

    def correction_ids(self, *spans: Span) -> str | None:
        ids = [c.correction_id for c in self.corrections if any(map(c.overlaps, spans))]
        return ";".join(ids) if ids else None

    def mark_read(
        self, record_id: str, record_type: str, entry: dict, span: Span,
        numeral: Span | None = None, period: Span | None = None, period_word: str = "",
        mention: int = 1,
    ) -> None:  # fmt: skip
        """Record where a mention of a figure, event or actor was read (its provenance row:
        span, line, column, context, numeral and period spans) and the spans it explains for
        the coverage check."""
        text, snap = self.snapshot.text, self.snapshot
        line_lo, line_hi = snap.line_bounds(span.start)
        line, column = snap.line_col(span.start)
        self.out.provenance.append({
            "record_id": record_id, "mention": mention, "record_type": record_type,
            "source_id": snap.source_id,
            "char_start": span.start, "char_end": span.end, "line": line, "column": column,
            "quote": text[span.start : span.end],
            "prefix": text[max(line_lo, span.start - CONTEXT) : span.start],
            "suffix": text[span.end : min(line_hi, span.end + CONTEXT)],
            "numeral_start": numeral.start if numeral else None,
            "numeral_end": numeral.end if numeral else None,
            "period_start_char": period.start if period else None,
            "period_end_char": period.end if period else None,
            "annotation_file": self.out.annotation_file, "annotation_line": entry[LINE_KEY],
        })  # fmt: skip
        self.out.covered.append((span, f"{record_type} {record_id}"))
        if period:
            self.out.covered.append((period, f"{period_word} of {record_type} {record_id}"))
