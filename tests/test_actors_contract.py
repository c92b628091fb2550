"""What an actor entry publishes, on a source of a few lines: its row (name, acronym and
whether the text expands it, note, corrections), its provenance rows, and the sentence a
mistake stops the reading with (docs/annotating.md, "Actors")."""

from __future__ import annotations

from tiny_source import read_tiny, refusal

TEXT = (
    "Intro\n"
    "The Federal Bureau of Investigation (FBI) worked with the Secretaria de Marina of Mexico.\n"
    "Later the FBI and the Bureau met; the Unites States agreed.\n"
    "The FBI seized 12 labs in 1999.\n"
)
CORRECTIONS = """
corrections:
  - id: unites
    quote: Unites States
    corrected: United States
    reason: a typo
    reported_on: 2026-11-27
    reported_by: the tests
"""


def _actor(extra: str = "", quote: str = "Federal Bureau of Investigation (FBI)") -> str:
    return f"""
actors:
  - id: fbi
    quote: {quote}
    kind: government_body
    name: Federal Bureau of Investigation
    country: USA
{extra}"""


def _row(tmp_path, annotations: str, **kw) -> dict:
    anchored = read_tiny(tmp_path, TEXT, annotations, **kw)
    return {row["actor_id"]: row for row in anchored.actors}["fbi"] | {"_": anchored}


def test_an_acronym_printed_with_the_name_in_the_quote_is_expanded(tmp_path):
    row = _row(tmp_path, _actor("    acronym: FBI\n"))
    assert row["acronym"] == "FBI" and row["acronym_expanded"] is True
    assert row["note"] is None and row["kind"] == "government_body"
    assert row["name"] == "Federal Bureau of Investigation" and row["country"] == "USA"
    assert row["source_id"] == "tiny-source" and row["name_es"] is None


def test_an_acronym_printed_only_in_a_mention_is_not_expanded_and_the_note_says_so(tmp_path):
    extra = "    acronym: FBI\n    note: ' A body of the USA. '\n    mentions:\n      - quote: Later the FBI\n"
    row = _row(tmp_path, _actor(extra, quote="Federal Bureau of Investigation"))
    assert row["acronym"] == "FBI" and row["acronym_expanded"] is False
    assert row["note"] == "A body of the USA. The text does not expand FBI."


def test_an_acronym_equal_to_the_name_is_not_an_expansion(tmp_path):
    annotations = """
actors:
  - id: fbi
    quote: Later the FBI
    kind: government_body
    name: FBI
    acronym: FBI
"""
    row = _row(tmp_path, annotations)
    assert row["acronym_expanded"] is False
    assert row["note"] == "The text does not expand FBI."


def test_an_empty_acronym_is_no_acronym(tmp_path):
    row = _row(tmp_path, _actor("    acronym: ''\n"))
    assert row["acronym"] is None and row["acronym_expanded"] is False and row["note"] is None


def test_an_acronym_printed_in_no_quote_stops_the_reading(tmp_path):
    error = refusal(tmp_path, TEXT, _actor("    acronym: BFI\n"))
    assert "record 'fbi'" in error
    assert 'its acronym "BFI" is printed in none of its quotes' in error
    assert error.endswith("quote the acronym as printed in a mention, or drop acronym:.")


def test_a_spanish_name_not_printed_in_the_quote_stops_the_reading(tmp_path):
    error = refusal(tmp_path, TEXT, _actor("    name_es: Buró Federal\n"))
    assert "record 'fbi'" in error and 'its name_es "Buró Federal" is not printed' in error
    assert error.endswith("quote the name as printed, or extend the quote.")


def test_a_spanish_name_printed_in_the_quote_is_published(tmp_path):
    annotations = """
actors:
  - id: semar
    quote: Secretaria de Marina of Mexico
    kind: government_body
    name: Secretaria de Marina of Mexico
    name_es: Secretaria de Marina
    country: MEX
"""
    (row,) = read_tiny(tmp_path, TEXT, annotations).actors
    assert row["name_es"] == "Secretaria de Marina"


def test_each_mention_is_a_provenance_row_numbered_from_two_and_its_corrections_named(
    tmp_path,
):
    annotations = """
actors:
  - id: usa
    quote: the Bureau met
    kind: country
    name: Bureau
    mentions:
      - quote: Later the FBI
      - quote: the Unites States agreed
"""
    anchored = read_tiny(tmp_path, TEXT, annotations, corrections=CORRECTIONS)
    (row,) = anchored.actors
    assert row["correction_ids"] == "unites"
    prov = [(p["record_id"], p["mention"], p["quote"]) for p in anchored.provenance]
    assert prov == [
        ("usa", 1, "the Bureau met"),
        ("usa", 2, "Later the FBI"),
        ("usa", 3, "the Unites States agreed"),
    ]
    assert {p["record_type"] for p in anchored.provenance} == {"actor"}


def test_an_actor_whose_quote_is_lost_is_still_known_to_the_figures_naming_it(tmp_path):
    """The lost quote is what the reading stops with, not an unknown actor id."""
    annotations = (
        _actor(quote="Federal Bureau of Investigations")
        + """
figures:
  - id: labs
    quote: seized 12 labs
    unit: labs
    measure: laboratories_seized
    subject: methamphetamine_laboratories
    country: USA
    actor: fbi
    period_note: none printed
"""
    )
    error = refusal(tmp_path, TEXT, annotations)
    assert "record 'fbi'" in error
    assert 'the quote "Federal Bureau of Investigations" is not in the source text' in error


def test_a_correction_in_the_actors_own_quote_is_named(tmp_path):
    annotations = """
actors:
  - id: usa
    quote: the Unites States agreed
    kind: country
    name: Unites States
"""
    (row,) = read_tiny(tmp_path, TEXT, annotations, corrections=CORRECTIONS).actors
    assert row["correction_ids"] == "unites"


def test_an_unknown_actor_kind_says_which_kinds_there_are(tmp_path):
    from pipeline.core.fields import enum_of

    error = refusal(tmp_path, TEXT, _actor().replace("government_body", "police"))
    kinds = enum_of("actors", "kind")
    assert len(kinds) > 1 and error.endswith(f"; use one of {', '.join(kinds)}."), error
