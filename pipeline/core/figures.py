"""Reading one `figures:` entry: its value, unit, qualifier and period, read from the text.

The annotation says where the figure is printed and what it means; the numeral, the unit
as printed, the qualifier ("over", "approximately") and the period come from the characters
its quote points at, with any correction inside the numeral applied (docs/annotating.md).
A figure has a period or a period_note; a further mention's numeral reads as the same value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pipeline.core.anchoring import Span
from pipeline.core.annotation_reader import Reader
from pipeline.core.corrections import Correction, apply
from pipeline.core.fields import closest, vocabulary
from pipeline.core.numerals import (
    NumeralError,
    ParsedNumeral,
    find_numerals,
    parse_numeral,
    read_qualifier,
)
from pipeline.core.periods import ParsedPeriod
from pipeline.core.yaml_lines import LINE_KEY

FLAG_NOTES = {
    "stray_space_in_decimal": "The numeral is printed with a stray space after the decimal "
    'point ("{literal}"); it is read as {value}.',
}


def read_figure(r: Reader, entry: object) -> None:
    """One figure: its row, its provenance row and the spans it explains."""
    entry = r.require(entry, "figure")
    fid, quote = str(entry["id"]), str(entry["quote"])
    span = r.anchor(entry)
    if span is None:
        return
    literal, offset = _numeral_in(r, entry, quote)
    numeral = Span(span.start + offset, span.start + offset + len(literal))
    touching = _corrections_of(r, entry, numeral, literal)
    reading = apply(literal, numeral.start, touching)  # the literal as corrected
    parsed = _parse(r, entry, literal, reading, touching)
    unit_printed, conversion = _unit(r, entry, quote, literal, parsed)
    value = float(Decimal(str(parsed.value)) * Decimal(str(conversion.get("factor", 1))))
    period, period_span = r.period(entry, "period", span, relative=True)
    mentions = r.mentions(entry, "figure mention")
    mentions = [(m, s, _mention_numeral(r, m, s, parsed)) for m, s in mentions]
    notes = [str(entry["note"]).strip()] if entry.get("note") else []
    flags = [FLAG_NOTES[flag] for flag in parsed.flags if flag in FLAG_NOTES]
    notes += [note.format(literal=literal, value=parsed.value) for note in flags]
    notes += [
        f'The value is read from the corrected text "{reading}" (printed "{literal}"; '
        f"correction {c.correction_id})."
        for c in touching
    ]
    if "assumption" in conversion:
        notes.append(conversion["assumption"])
    derived = entry.get("derived_from") or []
    r.out.figures.append(
        {
            "figure_id": fid,
            "source_id": r.snapshot.source_id,
            "section": r.section_of(span.start),
            "measure": str(entry["measure"]),
            "subject": str(entry["subject"]),
            "actor": r.actor_ids(entry, "actor", "actor") or _country_actor(r, entry),
            "country": str(entry["country"]),
            "counterpart_country": entry.get("counterpart_country"),
            "period_start": period.start if period else None,
            "period_end": period.end if period else None,
            "period_note": _period_note(r, entry, period),
            "value": value,
            "unit": conversion["unit"],
            "value_as_printed": literal,
            "unit_as_printed": unit_printed,
            "qualifier": _qualifier(r, entry, quote, offset),
            "is_target": bool(entry.get("is_target", False)),
            "is_derived": bool(derived),
            "derived_from": ";".join(derived) if derived else None,
            "note": " ".join(notes) if notes else None,
            "correction_ids": r.correction_ids(span, *(s for _, s, _ in mentions)),
            LINE_KEY: entry[LINE_KEY],
        }
    )
    r.mark_read(fid, "figure", entry, span, numeral, period_span, "period")
    for n, (m, mention_span, mention_numeral) in enumerate(mentions, start=2):
        r.mark_read(fid, "figure", m, mention_span, mention_numeral, mention=n)


def _country_actor(r: Reader, entry: dict) -> str:
    """The actor of kind country of the figure's country: who a figure is credited to when
    the text names no body."""
    code = entry["country"]
    found = [a for a, e in r.actors.items() if e["kind"] == "country" and e.get("country") == code]
    if not found:
        raise r.fail(entry, f"it names no actor and no actor of kind country has country {code}",
                     "add actor: <actor ids>, or an actor of kind country to actors:")  # fmt: skip
    return found[0]


def _period_note(r: Reader, entry: dict, period: ParsedPeriod | None) -> str | None:
    """Why the figure has no period (typed), and how a relative period was read (the build's)."""
    notes = [str(entry["period_note"]).strip()] if entry.get("period_note") else []
    if period is None and not notes:
        raise r.fail(entry, "it has no period and no period_note",
                     "add period: <the period as printed> or period_note: <why the text "
                     "gives none>")  # fmt: skip
    if period is not None and period.assumption:
        year = r.snapshot.meta["reference_year"]
        notes.append(f"Relative period resolved against the reference year {year} of "
                     f"source.yaml: {period.assumption}.")  # fmt: skip
    return " ".join(notes) or None


def _mention_numeral(r: Reader, mention: dict, span: Span, parsed: ParsedNumeral) -> Span | None:
    """The span of a further mention's `numeral:`, once it reads as the figure's value."""
    if mention.get("numeral") in (None, ""):
        return None
    literal, offset = _numeral_in(r, mention, str(mention["quote"]))
    numeral = Span(span.start + offset, span.start + offset + len(literal))
    reading = apply(literal, numeral.start, _corrections_of(r, mention, numeral, literal))
    try:
        value = parse_numeral(reading).value
    except NumeralError as exc:
        raise r.fail(mention, str(exc).rstrip("."), "mark a numeral that parses") from exc
    if value != parsed.value:
        raise r.fail(
            mention, f'its mention "{mention["quote"]}" prints "{literal}", which reads as '
            f"{value}, not {parsed.value} as the figure",
            "quote a mention of the same figure, or annotate it as a figure of its own",
        )  # fmt: skip
    return numeral


def _numeral_in(r: Reader, entry: dict, quote: str) -> tuple[str, int]:
    """The figure's numeral as printed and its offset in the quote: the one named by
    `numeral:`, else the only numeral the quote holds."""
    literal = entry.get("numeral")
    if literal in (None, ""):
        tokens = find_numerals(quote)
        if len(tokens) != 1:
            found = ", ".join(f'"{t[2]}"' for t in tokens) or "none"
            raise r.fail(
                entry,
                f"the quote holds {len(tokens)} numerals ({found})",
                "say which one is the figure with numeral:",
            )
        return tokens[0][2], tokens[0][0]
    literal = str(literal)
    offset = quote.find(literal)
    if offset == -1:
        raise r.fail(
            entry, f'the numeral "{literal}" is not printed in its quote', "copy it exactly"
        )
    if quote.find(literal, offset + 1) != -1:
        raise r.fail(
            entry, f'the numeral "{literal}" occurs twice in its quote', "shorten the quote"
        )
    return literal, offset


def _corrections_of(r: Reader, entry: dict, numeral: Span, literal: str) -> list[Correction]:
    """The corrections inside the numeral; one that overlaps it only in part stops."""
    touching = [c for c in r.corrections if c.overlaps(numeral)]
    for c in touching:
        if not numeral.contains(c.span):
            raise r.fail(
                entry,
                f"correction '{c.correction_id}' overlaps its numeral \"{literal}\" only in part",
                "anchor that correction to characters inside the numeral",
            )
    return touching


def _parse(
    r: Reader, entry: dict, literal: str, reading: str, touching: list[Correction]
) -> ParsedNumeral:
    """The numeral as corrected, parsed; `value_check` checks the reading of the literal
    as printed."""
    try:
        parsed = parse_numeral(reading)
    except NumeralError as exc:
        raise r.fail(entry, str(exc).rstrip("."), "mark a numeral that parses") from exc
    if entry.get("value_check") is not None:
        expected = float(entry["value_check"])
        try:
            printed = parse_numeral(literal) if touching else parsed
        except NumeralError:
            printed = parsed
        if abs(float(printed.value) - expected) > 1e-9 * max(1.0, abs(expected)):
            raise r.fail(
                entry,
                f'"{literal}" reads as {printed.value} but value_check says {expected:g}',
                "correct value_check or the numeral",
            )
    return parsed


def _unit(
    r: Reader, entry: dict, quote: str, literal: str, parsed: ParsedNumeral
) -> tuple[str, dict[str, Any]]:
    """The unit as printed and its conversion (schemas/units.yaml), once it, the measure
    and the subject are known and the measure is in that unit."""
    units, measures = vocabulary("units.yaml"), vocabulary("measures.yaml")
    printed = str(entry["unit"]) if entry.get("unit") else parsed.unit_hint
    if not printed:
        raise r.fail(entry, f'the numeral "{literal}" carries no unit', "add unit:")
    if entry.get("unit") and printed not in quote:
        raise r.fail(entry, f'the unit "{printed}" is not printed in its quote', "extend the quote")
    if printed not in units:
        raise r.fail(
            entry,
            f'the unit "{printed}" is unknown{closest(printed, units)}',
            "use a printed form listed in schemas/units.yaml, or add it there",
        )
    measure, subject = str(entry["measure"]), entry["subject"]
    subjects = vocabulary("subjects.yaml")
    if measure not in measures:
        raise r.fail(
            entry,
            f"the measure '{measure}' is unknown{closest(measure, measures)}",
            "use one of schemas/measures.yaml",
        )
    if str(subject) not in subjects:
        raise r.fail(
            entry,
            f"the subject '{subject}' is unknown{closest(subject, subjects)}",
            "use one of schemas/subjects.yaml, or add it there",
        )
    unit = units[printed]["unit"]
    if unit != measures[measure]["unit"]:
        raise r.fail(
            entry,
            f"the measure '{measure}' is in {measures[measure]['unit']} "
            f'but the unit "{printed}" is {unit}',
            "choose the measure that matches the printed unit",
        )
    return printed, units[printed]


def _qualifier(r: Reader, entry: dict, quote: str, offset: int) -> str:
    """Read from the words right before the numeral, or from the printed words the
    annotation names when one qualifier governs several numerals ("A daily average of
    25,000 soldiers and 2,625 sailors")."""
    words = entry.get("qualifier")
    if not words:
        return read_qualifier(quote[:offset])
    words = str(words)
    if words not in quote[:offset]:
        raise r.fail(
            entry,
            f'its qualifier "{words}" is not printed in its quote before the numeral',
            "quote the qualifying words as printed",
        )
    qualifier = read_qualifier(words)
    if qualifier == "exact":
        raise r.fail(entry, f'"{words}" is no qualifier', "drop qualifier:")
    return qualifier
