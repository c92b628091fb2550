"""Hand annotations anchored to the text: figures, events, ignored numerals and claims.

Reads `raw/<source_id>/annotations.yaml` (format: docs/annotating.md), resolves every quote
to a code-point span and reads each figure's value, unit, qualifier and period from the
characters it points at. The output holds published rows (figures, events, provenance) plus
what the coverage check and the claims need. Any mistake is a `BuildError` that names the
annotation file, line and record.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.core.anchoring import (
    AnchorError,
    Span,
    closest_candidate,
    resolve_nearby,
    resolve_quote,
)
from pipeline.core.corrections import Correction, apply, read_corrections
from pipeline.core.errors import BuildError
from pipeline.core.fields import vocabulary
from pipeline.core.numerals import NumeralError, find_numerals, parse_numeral, read_qualifier
from pipeline.core.periods import ParsedPeriod, PeriodError, parse_period
from pipeline.core.sources import SourceSnapshot
from pipeline.core.yaml_lines import LINE_KEY, load_yaml

CONTEXT = 32  # code points of prefix/suffix published with each provenance row

FIGURE_KEYS = {
    "id", "quote", "prefix", "suffix", "numeral", "unit", "measure", "subject", "country",
    "actor", "counterpart_country", "period", "qualifier", "is_target", "derived_from",
    "value_check", "note",
}  # fmt: skip
EVENT_KEYS = {
    "id", "quote", "prefix", "suffix", "kind", "name", "name_es", "date", "place", "parties",
    "note",
}  # fmt: skip
IGNORE_KEYS = {"quote", "prefix", "suffix", "reason"}
CLAIM_KEYS = {"id", "kind", "stated", "parts", "numerator", "denominator", "computed", "tolerance"}
TOP_KEYS = {"sections", "figures", "events", "ignore", "claims"}

FLAG_NOTES = {
    "stray_space_in_decimal": "The numeral is printed with a stray space after the decimal "
    'point ("{literal}"); it is read as {value}.',
}


@dataclass
class AnchoredSource:
    """Everything read from one source's annotations, ready to become tables."""

    source_id: str
    sha256: str  # of the source text the quotes were resolved in
    annotation_file: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    covered: list[tuple[Span, str]] = field(default_factory=list)  # (span, why it is covered)
    uncovered: list[str] = field(default_factory=list)  # numerals nothing explains
    used_published_positions: bool = False  # a published position chose among matches


class _Reader:
    """Reads one annotation file against one snapshot, raising sentences on mistakes."""

    def __init__(
        self, snapshot: SourceSnapshot, path: Path, previous: dict[str, tuple[int, int]]
    ) -> None:
        self.snapshot = snapshot
        self.previous = previous  # record id -> (char_start, line) as last published
        self.lost: list[tuple[dict, tuple[int, int] | None]] = []
        self.path = path
        self.units = vocabulary("units.yaml")
        self.measures = vocabulary("measures.yaml")
        self.subjects = vocabulary("subjects.yaml")
        self.event_kinds = _event_kinds()
        self.sections: list[tuple[int, str]] = []
        self.corrections: list[Correction] = []
        self.out = AnchoredSource(
            snapshot.source_id, snapshot.sha256, snapshot.published_path(path.name)
        )

    # -- errors ---------------------------------------------------------------------

    def fail(self, entry: dict | None, problem: str, action: str) -> BuildError:
        line = entry.get(LINE_KEY) if isinstance(entry, dict) else None
        record = entry.get("id") if isinstance(entry, dict) else None
        return BuildError(self.path, problem, action, line=line, record=record)

    def require(self, entry: dict, keys: tuple[str, ...], allowed: set[str], what: str) -> None:
        if not isinstance(entry, dict):
            raise self.fail(None, f"a {what} entry is not a mapping", "write it as key: value")
        unknown = sorted(set(entry) - allowed - {LINE_KEY})
        if unknown:
            raise self.fail(
                entry,
                f"the {what} has an unknown key '{unknown[0]}'",
                f"use only {', '.join(sorted(allowed))} (docs/annotating.md)",
            )
        for key in keys:
            if entry.get(key) in (None, ""):
                raise self.fail(entry, f"the {what} has no '{key}'", f"add {key}:")

    def anchor(self, entry: dict) -> Span | None:
        """The span of a record's quote. The position it had in the published outputs only
        chooses among exact matches. A quote no longer found is collected (None) so that
        every such record is reported at once; any other anchoring error stops at once."""
        hint = self.previous.get(str(entry.get("id")))
        quote, prefix = str(entry["quote"]), str(entry.get("prefix") or "")
        suffix = str(entry.get("suffix") or "")
        try:
            try:
                return resolve_quote(self.snapshot, quote, prefix, suffix)
            except AnchorError as exc:
                if not hint or "occurs" not in str(exc):
                    raise
                span = resolve_quote(self.snapshot, quote, prefix, suffix, hint=hint[0])
                self.out.used_published_positions = True
                return span
        except AnchorError as exc:
            if "not in the source text" in str(exc) and "id" in entry:
                self.lost.append((entry, hint))
                return None
            raise self.fail(entry, str(exc), "copy the quote exactly from source.txt") from exc

    def report_lost(self) -> None:
        """Stop with one line per annotation whose quote is no longer in the text."""
        if not self.lost:
            return
        if len(self.lost) == 1:  # one sentence, like every other bad input
            entry, hint = self.lost[0]
            best = closest_candidate(self.snapshot, str(entry["quote"]))
            old = f", it was at line {hint[1]}" if hint else ""
            edit = f', or, if it says the same, change it to "{best.text}"' if best else ""
            raise self.fail(
                entry,
                f'the quote "{entry["quote"]}" is not in the source text{old} '
                f"(closest: {best or 'nothing similar'})",
                f"copy the quote exactly from source.txt{edit}",
            )
        lines = []
        for entry, hint in self.lost:
            quote = str(entry["quote"])
            best = closest_candidate(self.snapshot, quote)
            old = f"was at line {hint[1]}" if hint else "was not published before"
            edit = (
                f'if it says the same, change quote: "{quote}" to "{best.text}"'
                if best
                else "re-annotate it"
            )
            lines.append(
                f"line {entry[LINE_KEY]}, record '{entry['id']}': {old}; "
                f"closest now: {best or 'nothing similar'}; {edit}"
            )
        raise BuildError(
            self.path,
            f"{len(self.lost)} quote(s) are no longer found exactly in "
            f"{self.snapshot.published_path('source.txt')} and nothing is re-anchored to "
            "changed text silently",
            "edit each quote listed below (and its note) after reading the new text, then "
            "build again",
            details=lines,
        )

    def nearby(self, entry: dict, key: str, near: Span) -> Span:
        try:
            return resolve_nearby(self.snapshot, str(entry[key]), near)
        except AnchorError as exc:
            raise self.fail(
                entry, f"its {key} {exc}", f"quote the {key} as printed in that paragraph"
            ) from exc

    def period(self, entry: dict, key: str, near: Span) -> tuple[ParsedPeriod | None, Span | None]:
        if entry.get(key) in (None, ""):
            return None, None
        span = self.nearby(entry, key, near)
        try:
            return parse_period(str(entry[key])), span
        except PeriodError as exc:
            raise self.fail(
                entry, str(exc).rstrip("."), f"quote a {key} in a parseable form"
            ) from exc

    # -- pieces ---------------------------------------------------------------------

    def correction_ids(self, span: Span) -> str | None:
        ids = [c.correction_id for c in self.corrections if c.overlaps(span)]
        return ";".join(ids) if ids else None

    def read_corrections(self) -> None:
        self.corrections = read_corrections(self.snapshot)
        path = self.snapshot.published_path("corrections.yaml")
        for c in self.corrections:
            line, column = self.snapshot.line_col(c.span.start)
            self.out.corrections.append(
                {
                    "correction_id": c.correction_id,
                    "source_id": self.snapshot.source_id,
                    "char_start": c.span.start,
                    "char_end": c.span.end,
                    "line": line,
                    "column": column,
                    "printed": c.printed,
                    "corrected": c.corrected,
                    "reason": c.reason,
                    "reported_on": c.reported_on,
                    "reported_by": c.reported_by,
                    "annotation_file": path,
                    "annotation_line": c.line,
                }
            )

    def section_of(self, offset: int) -> str:
        current = ""
        for start, heading in self.sections:
            if start <= offset:
                current = heading
        return current

    def provenance_row(
        self, record_id: str, record_type: str, entry: dict, span: Span,
        numeral: Span | None, period: Span | None,
    ) -> dict[str, Any]:  # fmt: skip
        text = self.snapshot.text
        line_lo, line_hi = self.snapshot.line_bounds(span.start)
        line, column = self.snapshot.line_col(span.start)
        return {
            "record_id": record_id,
            "record_type": record_type,
            "source_id": self.snapshot.source_id,
            "char_start": span.start,
            "char_end": span.end,
            "line": line,
            "column": column,
            "quote": text[span.start : span.end],
            "prefix": text[max(line_lo, span.start - CONTEXT) : span.start],
            "suffix": text[span.end : min(line_hi, span.end + CONTEXT)],
            "numeral_start": numeral.start if numeral else None,
            "numeral_end": numeral.end if numeral else None,
            "period_start_char": period.start if period else None,
            "period_end_char": period.end if period else None,
            "annotation_file": self.out.annotation_file,
            "annotation_line": entry[LINE_KEY],
        }

    # -- records --------------------------------------------------------------------

    def read_sections(self, entries: list) -> None:
        """Section headings are whole lines of the text, listed in `sections:`."""
        lines = self.snapshot.text.split("\n")
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        for heading in entries:
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

    def numeral_in(self, entry: dict, quote: str) -> tuple[str, int]:
        literal = entry.get("numeral")
        if literal in (None, ""):
            tokens = find_numerals(quote)
            if len(tokens) != 1:
                found = ", ".join(f'"{t[2]}"' for t in tokens) or "none"
                raise self.fail(
                    entry,
                    f"the quote holds {len(tokens)} numerals ({found})",
                    "say which one is the figure with numeral:",
                )
            return tokens[0][2], tokens[0][0]
        literal = str(literal)
        offset = quote.find(literal)
        if offset == -1:
            raise self.fail(
                entry, f'the numeral "{literal}" is not printed in its quote', "copy it exactly"
            )
        if quote.find(literal, offset + 1) != -1:
            raise self.fail(
                entry, f'the numeral "{literal}" occurs twice in its quote', "shorten the quote"
            )
        return literal, offset

    def qualifier(self, entry: dict, quote: str, offset: int) -> str:
        """Read from the words right before the numeral, or from the printed words the
        annotation names when one qualifier governs several numerals ("A daily average of
        25,000 soldiers and 2,625 sailors")."""
        words = entry.get("qualifier")
        if not words:
            return read_qualifier(quote[:offset])
        words = str(words)
        if words not in quote[:offset]:
            raise self.fail(
                entry,
                f'its qualifier "{words}" is not printed in its quote before the numeral',
                "quote the qualifying words as printed",
            )
        qualifier = read_qualifier(words)
        if qualifier == "exact":
            raise self.fail(entry, f'"{words}" is no qualifier', "drop qualifier:")
        return qualifier

    def read_figure(self, entry: dict) -> None:
        self.require(entry, ("id", "quote", "measure", "subject", "country"), FIGURE_KEYS, "figure")
        fid, quote = str(entry["id"]), str(entry["quote"])
        span = self.anchor(entry)
        if span is None:
            return
        literal, offset = self.numeral_in(entry, quote)
        numeral = Span(span.start + offset, span.start + offset + len(literal))
        touching = [c for c in self.corrections if c.overlaps(numeral)]
        for c in touching:
            if not numeral.contains(c.span):
                raise self.fail(
                    entry,
                    f"correction '{c.correction_id}' overlaps its numeral \"{literal}\" only "
                    "in part",
                    "anchor that correction to characters inside the numeral",
                )
        reading = apply(literal, numeral.start, touching)  # the literal as corrected
        try:
            parsed = parse_numeral(reading)
        except NumeralError as exc:
            raise self.fail(entry, str(exc).rstrip("."), "mark a numeral that parses") from exc
        if entry.get("value_check") is not None:  # checks the reading of the printed literal
            expected = float(entry["value_check"])
            try:
                printed = parse_numeral(literal) if touching else parsed
            except NumeralError:
                printed = parsed
            if abs(float(printed.value) - expected) > 1e-9 * max(1.0, abs(expected)):
                raise self.fail(
                    entry,
                    f'"{literal}" reads as {printed.value} but value_check says {expected:g}',
                    "correct value_check or the numeral",
                )
        unit_printed = str(entry["unit"]) if entry.get("unit") else parsed.unit_hint
        if not unit_printed:
            raise self.fail(entry, f'the numeral "{literal}" carries no unit', "add unit:")
        if entry.get("unit") and unit_printed not in quote:
            raise self.fail(
                entry, f'the unit "{unit_printed}" is not printed in its quote', "extend the quote"
            )
        if unit_printed not in self.units:
            raise self.fail(
                entry,
                f'the unit "{unit_printed}" is unknown',
                "use a printed form listed in schemas/units.yaml, or add it there",
            )
        measure = str(entry["measure"])
        if measure not in self.measures:
            raise self.fail(
                entry, f"the measure '{measure}' is unknown", "use one of schemas/measures.yaml"
            )
        if str(entry["subject"]) not in self.subjects:
            raise self.fail(
                entry,
                f"the subject '{entry['subject']}' is unknown",
                "use one of schemas/subjects.yaml, or add it there",
            )
        conversion = self.units[unit_printed]
        unit = conversion["unit"]
        if unit != self.measures[measure]["unit"]:
            raise self.fail(
                entry,
                f"the measure '{measure}' is in {self.measures[measure]['unit']} "
                f'but the unit "{unit_printed}" is {unit}',
                "choose the measure that matches the printed unit",
            )
        value = float(Decimal(str(parsed.value)) * Decimal(str(conversion.get("factor", 1))))
        period, period_span = self.period(entry, "period", span)
        notes = [str(entry["note"]).strip()] if entry.get("note") else []
        for flag in parsed.flags:
            if flag in FLAG_NOTES:
                notes.append(FLAG_NOTES[flag].format(literal=literal, value=parsed.value))
        for c in touching:
            notes.append(
                f'The value is read from the corrected text "{reading}" (printed "{literal}"; '
                f"correction {c.correction_id})."
            )
        if "assumption" in conversion:
            notes.append(conversion["assumption"])
        derived = entry.get("derived_from") or []
        self.out.figures.append(
            {
                "figure_id": fid,
                "source_id": self.snapshot.source_id,
                "section": self.section_of(span.start),
                "measure": measure,
                "subject": str(entry["subject"]),
                "actor": str(entry.get("actor") or entry["country"]),
                "country": str(entry["country"]),
                "counterpart_country": entry.get("counterpart_country"),
                "period_start": period.start if period else None,
                "period_end": period.end if period else None,
                "value": value,
                "unit": unit,
                "value_as_printed": literal,
                "unit_as_printed": unit_printed,
                "qualifier": self.qualifier(entry, quote, offset),
                "is_target": bool(entry.get("is_target", False)),
                "is_derived": bool(derived),
                "derived_from": ";".join(derived) if derived else None,
                "note": " ".join(notes) if notes else None,
                "correction_ids": self.correction_ids(span),
                LINE_KEY: entry[LINE_KEY],
            }
        )
        self.out.provenance.append(
            self.provenance_row(fid, "figure", entry, span, numeral, period_span)
        )
        self.out.covered.append((span, f"figure {fid}"))
        if period_span:
            self.out.covered.append((period_span, f"period of figure {fid}"))

    def read_event(self, entry: dict) -> None:
        self.require(entry, ("id", "quote", "kind"), EVENT_KEYS, "event")
        eid, quote = str(entry["id"]), str(entry["quote"])
        span = self.anchor(entry)
        if span is None:
            return
        if entry["kind"] not in self.event_kinds:
            raise self.fail(
                entry,
                f"the event kind '{entry['kind']}' is unknown",
                f"use one of {', '.join(self.event_kinds)}",
            )
        for key in ("name", "name_es"):  # printed in the quote or its paragraph
            if entry.get(key) and str(entry[key]) not in quote:
                self.nearby(entry, key, span)
        date, date_span = self.period(entry, "date", span)
        if entry.get("place"):
            self.out.covered.append((self.nearby(entry, "place", span), f"place of {eid}"))
        parties = entry.get("parties") or []
        self.out.events.append(
            {
                "event_id": eid,
                "source_id": self.snapshot.source_id,
                "section": self.section_of(span.start),
                "kind": str(entry["kind"]),
                "name": str(entry.get("name") or quote),
                "name_es": entry.get("name_es"),
                "date_start": date.start if date else None,
                "date_end": date.end if date else None,
                "date_precision": date.precision if date else None,
                "place": entry.get("place"),
                "parties": ";".join(str(p) for p in parties) if parties else None,
                "note": str(entry["note"]).strip() if entry.get("note") else None,
                "correction_ids": self.correction_ids(span),
                LINE_KEY: entry[LINE_KEY],
            }
        )
        self.out.provenance.append(self.provenance_row(eid, "event", entry, span, None, date_span))
        self.out.covered.append((span, f"event {eid}"))
        if date_span:
            self.out.covered.append((date_span, f"date of event {eid}"))

    def read_ignore(self, entry: dict) -> None:
        self.require(entry, ("quote", "reason"), IGNORE_KEYS, "ignore entry")
        span = self.anchor(entry)
        if span is not None:
            self.out.covered.append((span, f"ignored: {entry['reason']}"))

    def read_claim(self, entry: dict, figure_ids: set[str]) -> None:
        self.require(entry, ("id", "kind", "stated"), CLAIM_KEYS, "claim")
        needed = {"sum": ("parts",), "ratio": ("numerator", "denominator"), "bound": ("computed",)}
        kind = entry["kind"]
        if kind not in needed:
            raise self.fail(entry, f"the claim kind '{kind}' is unknown", "use sum, ratio or bound")
        self.require(entry, needed[kind], CLAIM_KEYS, "claim")
        refs = [entry["stated"], *(entry.get("parts") or [])]
        refs += [entry[k] for k in ("numerator", "denominator", "computed") if entry.get(k)]
        for ref in refs:
            if ref not in figure_ids:
                raise self.fail(entry, f"it names an unknown figure '{ref}'", "use a figure id")
        self.out.claims.append({**entry, "source_id": self.snapshot.source_id})

    def check_ids(self) -> None:
        seen: dict[str, int] = {}
        for row in self.out.figures + self.out.events:
            rid = row.get("figure_id") or row.get("event_id")
            if rid in seen:
                raise BuildError(
                    self.path,
                    f"the id '{rid}' is used twice (also at line {seen[rid]})",
                    "give each record its own id",
                    line=row[LINE_KEY],
                    record=rid,
                )
            seen[rid] = row[LINE_KEY]
        for row in self.out.figures:
            for ref in (row["derived_from"] or "").split(";"):
                if ref and ref not in seen:
                    raise BuildError(
                        self.path,
                        f"derived_from names an unknown figure '{ref}'",
                        "use the id of a figure in this file",
                        line=row[LINE_KEY],
                        record=row["figure_id"],
                    )

    def read(self) -> AnchoredSource:
        doc = load_yaml(self.path)
        if not isinstance(doc, dict):
            raise BuildError(self.path, "the file is not a mapping", "see docs/annotating.md")
        unknown = sorted(set(doc) - TOP_KEYS - {LINE_KEY})
        if unknown:
            raise BuildError(
                self.path,
                f"unknown top-level key '{unknown[0]}'",
                f"use only {', '.join(sorted(TOP_KEYS))}",
            )
        self.read_sections(doc.get("sections") or [])
        self.read_corrections()
        for entry in doc.get("figures") or []:
            self.read_figure(entry)
        for entry in doc.get("events") or []:
            self.read_event(entry)
        for entry in doc.get("ignore") or []:
            self.read_ignore(entry)
        self.report_lost()
        self.check_ids()
        figure_ids = {row["figure_id"] for row in self.out.figures}
        for entry in doc.get("claims") or []:
            self.read_claim(entry, figure_ids)
        for row in self.out.figures + self.out.events:
            row.pop(LINE_KEY)
        return self.out


def _event_kinds() -> list[str]:
    from pipeline.core.fields import table_defs

    kind = next(f for f in table_defs()["events"].fields if f.name == "kind")
    return list(kind.constraints["enum"])


def anchor_annotations(
    snapshot: SourceSnapshot, previous: dict[str, tuple[int, int]] | None = None
) -> AnchoredSource:
    """Resolve and read every annotation of one source. `previous` maps record ids to the
    (char_start, line) they had in the published outputs: a hint among exact matches."""
    anchored = _Reader(snapshot, snapshot.annotations_path, previous or {}).read()
    anchored.uncovered = uncovered_numerals(snapshot, anchored)
    anchored.covered = []  # only needed to find the uncovered ones; kept out of the cache
    return anchored


def published_positions(
    outputs: Path, source_ids: Iterable[str] | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """source id -> record id -> (char_start, line), from the published provenance table;
    of the sources `source_ids` only, when given (the rows of the others are not made into
    Python objects)."""
    path = outputs / "provenance.parquet"
    if not path.exists():
        return {}
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = ["record_id", "source_id", "char_start", "line"]
    table = pq.read_table(path, columns=columns)
    if source_ids is not None:
        wanted = pa.array(sorted(source_ids), type=table.schema.field("source_id").type)
        table = table.filter(pc.is_in(table["source_id"], value_set=wanted))
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for r in table.to_pylist():
        found.setdefault(r["source_id"], {})[r["record_id"]] = (r["char_start"], r["line"])
    return found


def uncovered_numerals(snapshot: SourceSnapshot, anchored: AnchoredSource) -> list[str]:
    """Every numeral of the text that no figure, event, period, date or ignore entry explains,
    as 'line L, column C: "literal"' strings."""
    # a token is covered when some span starts at or before it and ends at or after it:
    # spans sorted by start, the furthest end among those starting at or before each point
    spans = sorted((span.start, span.end) for span, _ in anchored.covered)
    starts = [a for a, _ in spans]
    furthest = list(itertools.accumulate((b for _, b in spans), max))
    problems = []
    for start, end, literal in find_numerals(snapshot.text):
        before = bisect.bisect_right(starts, start)
        if not (before and furthest[before - 1] >= end):
            line, column = snapshot.line_col(start)
            problems.append(f'line {line}, column {column}: "{literal}"')
    return problems
