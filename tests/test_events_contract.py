"""What an event entry publishes, on a source of a few lines: its row (kind, name, dates read
from the text, place, parties, note, corrections), its provenance rows, and the sentence a
mistake stops the reading with (docs/annotating.md, "Events")."""

from __future__ import annotations

import datetime as dt

from tiny_source import read_tiny, refusal

TEXT = (
    "Intro\n"
    "Treaties\n"
    "In May 1998 the Unites States and Mexico signed the Mutual Treaty (Tratado Mutuo) in Vienna.\n"
    "This treaty was ratified over the last five years.\n"
)
ACTORS = """
actors:
  - id: usa
    quote: the Unites States
    kind: country
    name: Unites States
  - id: mex
    quote: Mexico signed
    kind: country
    name: Mexico
"""
CORRECTIONS = """
corrections:
  - id: unites
    quote: Unites States
    corrected: United States
    reason: a typo
    reported_on: 2026-11-27
    reported_by: the tests
"""
SECTIONS = "sections:\n  - Intro\n  - Treaties\n"


def _event(extra: str = "", quote: str = "the Mutual Treaty") -> str:
    return (
        SECTIONS
        + ACTORS
        + f"""
events:
  - id: treaty
    quote: {quote}
    kind: treaty
{extra}"""
    )


def _read(tmp_path, annotations: str):
    return read_tiny(tmp_path, TEXT, annotations, corrections=CORRECTIONS)


def test_an_event_is_published_with_its_date_place_parties_and_section(tmp_path):
    extra = (
        "    name: Mutual Treaty\n    name_es: Tratado Mutuo\n    date: May 1998\n"
        "    place: Vienna\n    parties: [usa, mex]\n    note: ' Signed twice. '\n"
    )
    anchored = _read(tmp_path, _event(extra))
    (row,) = anchored.events
    assert row == {
        "event_id": "treaty", "source_id": "tiny-source", "section": "Treaties",
        "kind": "treaty", "name": "Mutual Treaty", "name_es": "Tratado Mutuo",
        "date_start": dt.date(1998, 5, 1), "date_end": dt.date(1998, 5, 31),
        "date_precision": "month", "place": "Vienna", "parties": "usa;mex",
        "note": "Signed twice.", "correction_ids": None,
    }  # fmt: skip
    (prov,) = [p for p in anchored.provenance if p["record_type"] == "event"]
    assert (prov["record_id"], prov["mention"], prov["quote"]) == ("treaty", 1, "the Mutual Treaty")
    date_at = TEXT.index("May 1998")
    assert (prov["period_start_char"], prov["period_end_char"]) == (date_at, date_at + 8)
    assert prov["numeral_start"] is None
    # the date's numeral is explained by the event; "five" of the next line by nothing
    assert anchored.uncovered == ['line 4, column 40: "five"']


def test_an_event_without_a_name_or_date_is_named_by_its_quote_and_undated(tmp_path):
    (row,) = _read(tmp_path, _event()).events
    assert row["name"] == "the Mutual Treaty" and row["name_es"] is None
    assert (row["date_start"], row["date_end"], row["date_precision"]) == (None, None, "undated")
    assert row["parties"] is None and row["note"] is None and row["place"] is None


def test_a_name_printed_in_the_paragraph_but_not_in_the_quote_is_accepted(tmp_path):
    (row,) = _read(tmp_path, _event("    name_es: Tratado Mutuo\n")).events
    assert row["name_es"] == "Tratado Mutuo"


def test_a_name_printed_nowhere_in_the_paragraph_stops_the_reading(tmp_path):
    error = refusal(tmp_path, TEXT, _event("    name_es: Tratado Bilateral\n"))
    assert "record 'treaty'" in error
    assert 'its name_es "Tratado Bilateral" is not printed in the same paragraph (line 3)' in error
    assert error.endswith("quote the name_es as printed in that paragraph.")


def test_a_place_not_printed_in_the_paragraph_stops_the_reading(tmp_path):
    error = refusal(tmp_path, TEXT, _event("    place: Geneva\n"))
    assert "record 'treaty'" in error and 'its place "Geneva" is not printed' in error


def test_an_event_date_is_never_read_relative_to_the_reference_year(tmp_path):
    """A figure's "the last five years" is read against reference_year; an event's date is not."""
    annotations = _event("    date: the last five years\n", quote="This treaty was ratified")
    error = refusal(tmp_path, TEXT, annotations)
    assert "record 'treaty'" in error and "relative to an unprinted date" in error
    assert error.endswith("quote a date in a parseable form.")


def test_an_unknown_kind_names_the_closest_and_the_kinds(tmp_path):
    error = refusal(tmp_path, TEXT, _event().replace("kind: treaty", "kind: treatie"))
    assert "the event kind 'treatie' is unknown (closest: treaty" in error
    assert "; use one of treaty, agreement, " in error


def test_each_mention_is_a_provenance_row_and_its_corrections_are_named(tmp_path):
    extra = "    mentions:\n      - quote: This treaty\n      - quote: the Unites States and\n"
    anchored = _read(tmp_path, _event(extra))
    (row,) = anchored.events
    assert row["correction_ids"] == "unites"
    prov = [(p["mention"], p["quote"]) for p in anchored.provenance if p["record_id"] == "treaty"]
    assert prov == [(1, "the Mutual Treaty"), (2, "This treaty"), (3, "the Unites States and")]


def test_a_name_printed_nowhere_in_the_paragraph_stops_the_reading_too(tmp_path):
    error = refusal(tmp_path, TEXT, _event("    name: Vienna Convention\n"))
    assert "record 'treaty'" in error
    assert 'its name "Vienna Convention" is not printed in the same paragraph (line 3)' in error


def test_a_correction_in_the_events_own_quote_is_named(tmp_path):
    anchored = _read(tmp_path, _event(quote="the Unites States and Mexico signed"))
    (row,) = anchored.events
    assert row["correction_ids"] == "unites"


def test_every_provenance_row_of_an_event_says_event(tmp_path):
    extra = "    mentions:\n      - quote: This treaty\n"
    anchored = _read(tmp_path, _event(extra))
    kinds = [p["record_type"] for p in anchored.provenance if p["record_id"] == "treaty"]
    assert kinds == ["event", "event"]
