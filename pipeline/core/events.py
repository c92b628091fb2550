"""Reading one `events:` entry: a treaty, meeting or operation the text names.

An event's kind is one of the events table's `kind` values (schemas/fields.yaml); its name,
place and date, when given, are printed in its quote or its paragraph, and the date is read
from the text like a figure's period (docs/annotating.md); without one it is `undated`. Its
parties are actor ids.
"""

from __future__ import annotations

from pipeline.core.annotation_reader import Reader
from pipeline.core.fields import closest, enum_of
from pipeline.core.yaml_lines import LINE_KEY


def read_event(r: Reader, entry: object) -> None:
    """One event: its row, its provenance row and the spans it explains."""
    entry = r.require(entry, "event")
    eid, quote = str(entry["id"]), str(entry["quote"])
    span, mentions = r.anchor(entry), r.mentions(entry)
    if span is None:
        return
    if (kind := entry["kind"]) not in (kinds := enum_of("events", "kind")):
        raise r.fail(
            entry,
            f"the event kind '{kind}' is unknown{closest(kind, kinds)}",
            f"use one of {', '.join(kinds)}",
        )
    for key in ("name", "name_es"):  # printed in the quote or its paragraph
        if entry.get(key) and str(entry[key]) not in quote:
            r.nearby(entry, key, span)
    date, date_span = r.period(entry, "date", span)
    if entry.get("place"):
        r.out.covered.append((r.nearby(entry, "place", span), f"place of {eid}"))
    r.out.events.append(
        {
            "event_id": eid,
            "source_id": r.snapshot.source_id,
            "section": r.section_of(span.start),
            "kind": str(entry["kind"]),
            "name": str(entry.get("name") or quote),
            "name_es": entry.get("name_es"),
            "date_start": date.start if date else None,
            "date_end": date.end if date else None,
            "date_precision": date.precision if date else "undated",
            "place": entry.get("place"),
            "parties": r.actor_ids(entry, "parties", "party"),
            "note": str(entry["note"]).strip() if entry.get("note") else None,
            "correction_ids": r.correction_ids(span, *(s for _, s in mentions)),
            LINE_KEY: entry[LINE_KEY],
        }
    )
    r.mark_read(eid, "event", entry, span, None, date_span, "date")
    for n, (m, mention_span) in enumerate(mentions, start=2):
        r.mark_read(eid, "event", m, mention_span, mention=n)
