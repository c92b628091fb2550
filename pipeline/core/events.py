"""Reading one `events:` entry: a treaty, meeting or operation the text names.

An event's kind is one of the events table's `kind` values (schemas/fields.yaml); its name,
place and date, when given, are printed in its quote or its paragraph, and the date is read
from the text like a figure's period (docs/annotating.md).
"""

from __future__ import annotations

from functools import cache

from pipeline.core.annotation_reader import Reader
from pipeline.core.fields import table_defs
from pipeline.core.yaml_lines import LINE_KEY


@cache
def event_kinds() -> tuple[str, ...]:
    """The kinds an event may have: the enum of the events table's `kind` field."""
    kind = next(f for f in table_defs()["events"].fields if f.name == "kind")
    return tuple(kind.constraints["enum"])


def read_event(r: Reader, entry: object) -> None:
    """One event: its row, its provenance row and the spans it explains."""
    entry = r.require(entry, "event")
    eid, quote = str(entry["id"]), str(entry["quote"])
    span = r.anchor(entry)
    if span is None:
        return
    if entry["kind"] not in event_kinds():
        raise r.fail(
            entry,
            f"the event kind '{entry['kind']}' is unknown",
            f"use one of {', '.join(event_kinds())}",
        )
    for key in ("name", "name_es"):  # printed in the quote or its paragraph
        if entry.get(key) and str(entry[key]) not in quote:
            r.nearby(entry, key, span)
    date, date_span = r.period(entry, "date", span)
    if entry.get("place"):
        r.out.covered.append((r.nearby(entry, "place", span), f"place of {eid}"))
    parties = entry.get("parties") or []
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
            "date_precision": date.precision if date else None,
            "place": entry.get("place"),
            "parties": ";".join(str(p) for p in parties) if parties else None,
            "note": str(entry["note"]).strip() if entry.get("note") else None,
            "correction_ids": r.correction_ids(span),
            LINE_KEY: entry[LINE_KEY],
        }
    )
    r.mark_read(eid, "event", entry, span, None, date_span, "date")
