"""What a figure entry publishes, on a source of a few lines: the value, unit, qualifier and
period read from the text (corrections and unit conversions applied, each said in the note),
its provenance rows, and the sentence each mistake stops the reading with
(docs/annotating.md, "Figures")."""

from __future__ import annotations

import datetime as dt

import pytest
from tiny_source import read_tiny, refusal

TEXT = (
    "Seizures\n"
    "In 1999 Mexico seized over 15. 5 tons of cocaine and about 300 kg of heroine.\n"
    "Over the last five years Mexico extradited 11 nationals, and 11 more in 2000.\n"
    "A daily average of 25,000 soldiers and 2,625 sailors.\n"
    "Extraditions grew seven-fold.\n"
)
CORRECTIONS = """
corrections:
  - id: stray
    quote: "15. 5"
    corrected: "15.5"
    reason: a stray space
    reported_on: 2026-11-27
    reported_by: the tests
  - id: heroine
    quote: heroine
    corrected: heroin
    reason: a typo
    reported_on: 2026-11-27
    reported_by: the tests
"""
HEAD = """
sections:
  - Seizures
actors:
  - id: mex
    quote: Mexico seized
    kind: country
    name: Mexico
    country: MEX
  - id: usa
    quote: Extraditions grew
    kind: country
    name: Extraditions
    country: USA
figures:
"""
COCAINE = """
  - id: cocaine
    quote: over 15. 5 tons of cocaine
    numeral: "15. 5"
    measure: drug_seized
    subject: cocaine
    country: MEX
    unit: tons
    period: "1999"
"""
EXTRADITED = """
  - id: extradited
    quote: extradited 11 nationals
    unit: nationals
    measure: persons_extradited
    subject: extradited_mexican_nationals
    country: MEX
    counterpart_country: USA
    period: Over the last five years
"""


def _read(tmp_path, figures: str, corrections: str = CORRECTIONS):
    return read_tiny(tmp_path, TEXT, HEAD + figures, corrections=corrections)


def _figure(tmp_path, figures: str, fid: str, **kw) -> dict:
    return {row["figure_id"]: row for row in _read(tmp_path, figures, **kw).figures}[fid]


def _refusal(tmp_path, figures: str) -> str:
    return refusal(tmp_path, TEXT, HEAD + figures, corrections=CORRECTIONS)


def test_a_corrected_numeral_in_tons_is_published_in_kilograms_with_each_reading_noted(tmp_path):
    anchored = _read(tmp_path, COCAINE + "    note: ' As printed. '\n")
    (row,) = anchored.figures
    assert row == {
        "figure_id": "cocaine", "source_id": "tiny-source", "section": "Seizures",
        "measure": "drug_seized", "subject": "cocaine", "actor": "mex", "country": "MEX",
        "counterpart_country": None, "period_start": dt.date(1999, 1, 1),
        "period_end": dt.date(1999, 12, 31), "period_note": None, "value": 15500.0,
        "unit": "kilograms", "value_as_printed": "15. 5", "unit_as_printed": "tons",
        "qualifier": "at_least", "is_target": False, "is_derived": False, "derived_from": None,
        "note": 'As printed. The value is read from the corrected text "15.5" (printed "15. 5"; '
        "correction stray). The report's tons are taken to be metric tonnes (1 t = 1,000 kg); "
        "the text does not say which ton it means.",
        "correction_ids": "stray",
    }  # fmt: skip
    (prov,) = [p for p in anchored.provenance if p["record_type"] == "figure"]
    at, year = TEXT.index("15. 5"), TEXT.index("1999")
    assert (prov["numeral_start"], prov["numeral_end"]) == (at, at + 5)
    assert (prov["period_start_char"], prov["period_end_char"]) == (year, year + 4)
    assert (prov["mention"], prov["quote"]) == (1, "over 15. 5 tons of cocaine")


def test_a_stray_space_not_corrected_is_read_and_said_in_the_note(tmp_path):
    row = _figure(tmp_path, COCAINE, "cocaine", corrections="")
    assert row["value"] == 15500.0 and row["correction_ids"] is None
    assert row["note"].startswith(
        'The numeral is printed with a stray space after the decimal point ("15. 5"); '
        "it is read as 15.5. The report's tons"
    )


def test_a_relative_period_is_read_against_the_reference_year_and_said_in_the_period_note(
    tmp_path,
):
    row = _figure(tmp_path, EXTRADITED + "    period_note: ' Read as printed. '\n", "extradited")
    assert (row["period_start"], row["period_end"]) == (dt.date(1995, 1, 1), dt.date(2000, 12, 31))
    assert row["period_note"] == (
        "Read as printed. Relative period resolved against the reference year 2000 of "
        'source.yaml: "Over the last five years" read as 1995-2000 (from 5 years before the '
        'reference year to it, as the text equates "the last five years" with 1995-2000).'
    )
    assert row["value"] == 11 and row["unit"] == "persons" and row["qualifier"] == "exact"
    assert row["counterpart_country"] == "USA" and row["actor"] == "mex" and row["note"] is None


def test_a_period_note_alone_is_published_stripped(tmp_path):
    figure = EXTRADITED.replace("period: Over the last five years", "period_note: ' None. '")
    row = _figure(tmp_path, figure, "extradited")
    assert row["period_note"] == "None." and row["period_start"] is None


def test_a_figure_with_neither_period_nor_period_note_stops_the_reading(tmp_path):
    error = _refusal(tmp_path, EXTRADITED.replace("    period: Over the last five years\n", ""))
    assert "record 'extradited'" in error and "it has no period and no period_note" in error
    assert error.endswith("gives none>.")


def test_a_mention_of_the_same_value_is_a_provenance_row_with_its_numeral(tmp_path):
    figure = EXTRADITED + (
        "    mentions:\n      - quote: 11 more\n        numeral: '11'\n"
        "      - quote: Extraditions grew\n"
    )
    anchored = _read(tmp_path, figure)
    rows = [p for p in anchored.provenance if p["record_id"] == "extradited"]
    at = TEXT.index("11 more")
    assert [(p["mention"], p["numeral_start"], p["numeral_end"]) for p in rows] == [
        (1, TEXT.index("11 nationals"), TEXT.index("11 nationals") + 2),
        (2, at, at + 2),
        (3, None, None),
    ]


def test_a_mention_printing_another_value_stops_the_reading(tmp_path):
    figure = EXTRADITED + "    mentions:\n      - quote: 2,625 sailors\n        numeral: 2,625\n"
    error = _refusal(tmp_path, figure)
    assert (
        'its mention "2,625 sailors" prints "2,625", which reads as 2625, not 11 as the figure'
        in error
    )
    assert error.endswith("or annotate it as a figure of its own.")


def test_a_mention_numeral_that_does_not_parse_stops_the_reading(tmp_path):
    figure = EXTRADITED + "    mentions:\n      - quote: 15. 5 tons\n        numeral: 15. 5 tons\n"
    error = _refusal(tmp_path, figure)
    assert 'The numeral "15.5 tons" cannot be read: it is not one of the forms' in error
    assert error.endswith("; mark a numeral that parses.")


def test_the_qualifier_named_by_the_annotation_governs_a_later_numeral(tmp_path):
    figure = """
  - id: sailors
    quote: A daily average of 25,000 soldiers and 2,625 sailors
    numeral: 2,625
    qualifier: A daily average of
    unit: sailors
    measure: personnel
    subject: crop_eradication_personnel
    country: MEX
    period_note: none
    is_target: true
"""
    row = _figure(tmp_path, figure, "sailors")
    assert row["qualifier"] == "average" and row["value"] == 2625 and row["is_target"] is True


@pytest.mark.parametrize(
    "qualifier, expected",
    [
        ("soldiers and", '"soldiers and" is no qualifier; drop qualifier:.'),
        ("sailors", 'its qualifier "sailors" is not printed in its quote before the numeral'),
    ],
)
def test_a_qualifier_that_is_none_or_not_before_the_numeral_stops_the_reading(
    tmp_path, qualifier, expected
):
    figure = f"""
  - id: sailors
    quote: 25,000 soldiers and 2,625 sailors
    numeral: 2,625
    qualifier: {qualifier}
    unit: sailors
    measure: personnel
    subject: crop_eradication_personnel
    country: MEX
    period_note: none
"""
    assert expected in _refusal(tmp_path, figure)


def test_a_derived_figure_names_what_it_is_derived_from(tmp_path):
    figure = (
        EXTRADITED
        + """
  - id: growth
    quote: grew seven-fold
    measure: growth_multiple
    subject: extradited_persons
    country: MEX
    actor: [mex, usa]
    period_note: none
    derived_from: [extradited, extradited]
"""
    )
    row = _figure(tmp_path, figure, "growth")
    assert row["is_derived"] is True and row["derived_from"] == "extradited;extradited"
    assert row["value"] == 7 and row["unit"] == "ratio" and row["unit_as_printed"] == "fold"
    assert row["actor"] == "mex;usa"


def _heroin(extra: str = "", quote: str = "about 300 kg of heroine") -> str:
    return f"""
  - id: heroin
    quote: {quote}
    measure: drug_seized
    subject: heroin
    country: MEX
    period_note: none
{extra}"""


@pytest.mark.parametrize(
    "figure, expected",
    [
        (_heroin(), 'the numeral "300" carries no unit; add unit:.'),
        (_heroin("    unit: tons\n"), 'the unit "tons" is not printed in its quote; extend the quote.'),
        (_heroin("    unit: k\n"), 'the unit "k" is unknown (closest: kg'),
        (_heroin("    unit: kg\n").replace("drug_seized", "drug_sized"),
         "the measure 'drug_sized' is unknown (closest: drug_seized); use one of schemas/measures.yaml."),
        (_heroin("    unit: kg\n").replace("subject: heroin", "subject: heroine"),
         "the subject 'heroine' is unknown (closest: heroin"),
        (_heroin("    unit: kg\n").replace("drug_seized", "personnel"),
         "the measure 'personnel' is in persons but the unit \"kg\" is kilograms; choose the measure"),
        (_heroin("    unit: kg\n    value_check: 30\n"),
         '"300" reads as 300 but value_check says 30; correct value_check or the numeral.'),
        (_heroin("    unit: kg\n    numeral: '301'\n"),
         'the numeral "301" is not printed in its quote; copy it exactly.'),
        (_heroin("    unit: kg\n    numeral: '0'\n"),
         'the numeral "0" occurs twice in its quote; shorten the quote.'),
        (_heroin(quote="of heroine"), 'the quote holds 0 numerals (none); say which one'),
        (_heroin(quote="In 1999 Mexico seized over 15"),
         'the quote holds 2 numerals ("1999", "15"); say which one is the figure with numeral:.'),
        (_heroin("    unit: kg\n    actor: mex;pgr\n"),
         "its actor 'pgr' is not an actor of this source"),
        (_heroin("    unit: kg\n").replace("country: MEX", "country: CAN"),
         "it names no actor and no actor of kind country has country CAN; add actor: <actor ids>"),
    ],
)  # fmt: skip
def test_each_mistake_of_a_figure_stops_the_reading_with_its_sentence(tmp_path, figure, expected):
    error = _refusal(tmp_path, figure)
    assert "record 'heroin'" in error and expected in error


def test_a_value_check_reads_the_numeral_as_printed_not_as_corrected(tmp_path):
    corrections = """
corrections:
  - id: three-hundred
    quote: "300"
    corrected: "3.0"
    reason: a test
    reported_on: 2026-11-27
    reported_by: the tests
"""
    row = _figure(tmp_path, _heroin("    unit: kg\n    value_check: 300\n"), "heroin",
                  corrections=corrections)  # fmt: skip
    assert row["value"] == 3.0 and row["qualifier"] == "approximately"
    assert row["correction_ids"] == "three-hundred"
    error = refusal(tmp_path / "again", TEXT, HEAD + _heroin("    unit: kg\n    value_check: 3\n"),
                    corrections=corrections)  # fmt: skip
    assert '"300" reads as 300 but value_check says 3;' in error


def test_a_value_check_within_a_billionth_passes(tmp_path):
    row = _figure(tmp_path, _heroin("    unit: kg\n    value_check: 300.0000001\n"), "heroin")
    assert row["value"] == 300
    error = refusal(tmp_path / "again", TEXT,
                    HEAD + _heroin("    unit: kg\n    value_check: 300.000001\n"))  # fmt: skip
    assert "but value_check says 300" in error


def test_a_correction_overlapping_the_numeral_in_part_stops_the_reading(tmp_path):
    corrections = """
corrections:
  - id: partial
    quote: "00 kg"
    corrected: "00 kg."
    reason: a test
    reported_on: 2026-11-27
    reported_by: the tests
"""
    error = refusal(tmp_path, TEXT, HEAD + _heroin("    unit: kg\n"), corrections=corrections)
    assert "correction 'partial' overlaps its numeral \"300\" only in part" in error
