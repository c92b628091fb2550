"""Reading one `actors:` entry: a country, body, organization or person the text names.

An actor's name, Spanish name and acronym are printed (docs/annotating.md): the name and the
Spanish name in its quote, the acronym in its quote or a further mention. The acronym counts
as expanded only where the quote prints it with the name; otherwise the note says so. Figures
and events name actors by id (`Reader.actor_ids`), so actors are read first.
"""

from __future__ import annotations

from pipeline.core.annotation_reader import Reader
from pipeline.core.fields import closest, enum_of
from pipeline.core.yaml_lines import LINE_KEY


def read_actor(r: Reader, entry: object) -> None:
    """One actor: its row, a provenance row per mention and the spans they explain."""
    entry = r.require(entry, "actor")
    aid, quote, kind = str(entry["id"]), str(entry["quote"]), entry["kind"]
    r.actors[aid] = entry  # known to figures and events even when its quote is lost
    if kind not in (kinds := enum_of("actors", "kind")):
        raise r.fail(
            entry, f"the actor kind '{kind}' is unknown{closest(kind, kinds)}",
            f"use one of {', '.join(kinds)}",
        )  # fmt: skip
    span, mentions = r.anchor(entry), r.mentions(entry)
    if span is None:
        return
    for key in ("name", "name_es"):
        if entry.get(key) and str(entry[key]) not in quote:
            raise r.fail(entry, f'its {key} "{entry[key]}" is not printed in its quote',
                         "quote the name as printed, or extend the quote")  # fmt: skip
    name, acronym = str(entry["name"]), entry.get("acronym")
    acronym = None if acronym in (None, "") else str(acronym)
    if acronym and not any(acronym in str(m["quote"]) for m in [entry] + [m for m, _ in mentions]):
        raise r.fail(entry, f'its acronym "{acronym}" is printed in none of its quotes',
                     "quote the acronym as printed in a mention, or drop acronym:")  # fmt: skip
    expanded = bool(acronym) and acronym != name and acronym in quote
    notes = [str(entry["note"]).strip()] if entry.get("note") else []
    notes += [f"The text does not expand {acronym}."] if acronym and not expanded else []
    r.out.actors.append({
        "actor_id": aid, "source_id": r.snapshot.source_id, "kind": kind, "name": name,
        "name_es": entry.get("name_es"), "acronym": acronym, "acronym_expanded": expanded,
        "country": entry.get("country"), "note": " ".join(notes) or None,
        "correction_ids": r.correction_ids(span, *(s for _, s in mentions)),
        LINE_KEY: entry[LINE_KEY],
    })  # fmt: skip
    r.mark_read(aid, "actor", entry, span)
    for n, (m, mention_span) in enumerate(mentions, start=2):
        r.mark_read(aid, "actor", m, mention_span, mention=n)
