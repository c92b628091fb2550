"""pipeline.core.numerals: every printed form of the source is read to the exact value, unit hint
and flags; malformed literals are refused with one sentence; the scanner finds every numeral
of the real source text; the qualifier is read from whole words before the numeral."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from pipeline.core.numerals import (
    NumeralError,
    ParsedNumeral,
    find_numerals,
    parse_numeral,
    read_qualifier,
)

SOURCE = Path(__file__).parents[1] / "raw" / "ondcp-usmx-ch3" / "source.txt"


def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def source_line(number: int) -> str:
    return source_text().split("\n")[number - 1]


def literals(text: str) -> list[str]:
    return [literal for _, _, literal in find_numerals(text)]


def assert_parsed(literal, value, unit_hint, flags=(), denominator=None):
    parsed = parse_numeral(literal)
    assert parsed == ParsedNumeral(literal, value, unit_hint, flags, denominator)
    assert type(parsed.value) is type(value), (literal, parsed.value)


# -- parse_numeral: the forms the text prints -----------------------------------------------


@pytest.mark.parametrize(
    "literal, value",
    [
        ("125,000", 125000),
        ("80,500", 80500),
        ("1,472", 1472),
        ("2000", 2000),
        ("213", 213),
        ("8", 8),
        ("34.6", 34.6),
        ("801.2", 801.2),
        ("1,014.9", 1014.9),
    ],
)
def test_digit_numerals_are_read_as_printed(literal, value):
    assert_parsed(literal, value, None)


@pytest.mark.parametrize(
    "literal, value",
    [("125,000", 125000), ("2000", 2000), ("34.6", 34.6), ("3.0", 3.0), ("15. 5", 15.5)],
)
def test_value_is_int_only_when_integral_and_printed_without_decimal_point(literal, value):
    parsed = parse_numeral(literal)
    assert parsed.value == value
    assert isinstance(parsed.value, int) == ("." not in literal)


def test_stray_space_in_decimal_is_parsed_and_flagged():
    assert_parsed("15. 5", 15.5, None, ("stray_space_in_decimal",))


@pytest.mark.parametrize("literal", ["15.  5", "15 .5", "15 . 5", "15.\t5"])
def test_only_a_single_space_after_the_decimal_point_is_a_stray_space(literal):
    with pytest.raises(NumeralError, match="cannot be read"):
        parse_numeral(literal)


@pytest.mark.parametrize(
    "literal, value, unit_hint",
    [
        ("$6 billion", 6000000000, "$"),
        ("$2 billion", 2000000000, "$"),
        ("US$500 million", 500000000, "US$"),
        ("$13 million", 13000000, "$"),
        ("$6 million", 6000000, "$"),
        ("$95 million", 95000000, "$"),
        ("9.4 million", 9400000.0, None),
    ],
)
def test_scale_words_are_applied_and_flagged(literal, value, unit_hint):
    assert_parsed(literal, value, unit_hint, ("scale_word",))


@pytest.mark.parametrize("literal, unit_hint", [("$95", "$"), ("US$500", "US$")])
def test_currency_prefix_is_the_unit_hint(literal, unit_hint):
    assert parse_numeral(literal).unit_hint == unit_hint
    assert parse_numeral(literal).flags == ()


@pytest.mark.parametrize(
    "literal, value, unit_hint, flags",
    [
        ("3.1 percent", 3.1, "percent", ()),
        ("5.27%", 5.27, "%", ()),
        ("1%", 1, "%", ()),
        ("one percent", 1, "percent", ("number_word",)),
    ],
)
def test_percent_is_the_unit_hint_and_the_value_stays_in_percent(literal, value, unit_hint, flags):
    assert_parsed(literal, value, unit_hint, flags)


@pytest.mark.parametrize(
    "literal, value",
    [
        ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6),
        ("seven", 7), ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11), ("twelve", 12),
        ("thirteen", 13), ("fourteen", 14), ("fifteen", 15), ("sixteen", 16),
        ("seventeen", 17), ("eighteen", 18), ("nineteen", 19), ("twenty", 20), ("thirty", 30),
        ("Three", 3), ("EIGHT", 8),
    ],
)  # fmt: skip
def test_number_words_are_read_in_any_case_and_flagged(literal, value):
    assert_parsed(literal, value, None, ("number_word",))


@pytest.mark.parametrize(
    "literal, value, unit_hint, flags",
    [
        ("two-day", 2, "day", ("number_word",)),
        ("60-mile", 60, "mile", ()),
        ("5-year", 5, "year", ()),
        ("three-year", 3, "year", ("number_word",)),
        ("seven-fold", 7, "fold", ("number_word",)),
        ("10-fold", 10, "fold", ()),
    ],
)
def test_hyphenated_units_carry_their_unit(literal, value, unit_hint, flags):
    assert_parsed(literal, value, unit_hint, flags)


@pytest.mark.parametrize(
    "literal, value, unit_hint",
    [("tripled", 3, "tripled"), ("half", 0.5, "half"), ("in half", 0.5, "half")],
)
def test_multiples_and_halves_are_read_as_ratios(literal, value, unit_hint):
    assert_parsed(literal, value, unit_hint, ("number_word",))


def test_share_of_a_whole_keeps_its_denominator():
    assert_parsed("three of the four", 3, None, ("number_word",), denominator=4)
    assert_parsed("3 of 4", 3, None, (), denominator=4)


def test_literal_is_kept_exactly_as_printed():
    assert parse_numeral("US$500 million").literal == "US$500 million"
    assert parse_numeral("15. 5").literal == "15. 5"


def test_parsed_numeral_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_numeral("34.6").value = 35  # type: ignore[misc]


# -- parse_numeral: refusals ----------------------------------------------------------------


@pytest.mark.parametrize("literal", ["12,34", "1,0000", "1234,567", "12,3456"])
def test_thousands_comma_requires_three_digits(literal):
    with pytest.raises(NumeralError, match="thousands comma"):
        parse_numeral(literal)


@pytest.mark.parametrize(
    "literal, problem",
    [
        ("", "empty"),
        ("abc", "not one of the forms"),
        ("of poppy", "not one of the forms"),
        ("1.2.3", "more than one decimal point"),
        ("$", "currency sign needs a number"),
        ("US$", "currency sign needs a number"),
        ("million", "scale word needs a number"),
        ("hundred", "scale word needs a number"),
        ("hundreds", "vague amount"),
        ("millions", "vague amount"),
        (" 125,000", "spaces around it"),
        ("$5%", "money cannot also be a percentage"),
        ("many-fold", '"many" before "-fold" is not a number word'),
        ("five of the four", "5 cannot be a share of 4"),
        ("6 trillion", "not one of the forms"),
        ("twenty-one", "not one of the forms"),
    ],
)
def test_malformed_literals_are_rejected_with_one_sentence_naming_them(literal, problem):
    with pytest.raises(NumeralError) as caught:
        parse_numeral(literal)
    message = str(caught.value)
    assert f'"{literal}"' in message and problem in message
    without_literal = message.replace(f'"{literal}"', "")
    assert message.endswith(".") and ". " not in without_literal


def test_numeral_error_is_a_value_error():
    assert issubclass(NumeralError, ValueError)


# -- find_numerals --------------------------------------------------------------------------


def test_find_numerals_gives_code_point_offsets_end_exclusive():
    text = "Procuraduría General de la República–PGR over 125,000 hectares"
    [(start, end, literal)] = find_numerals(text)
    assert literal == "125,000"
    assert (start, end) == (46, 53)
    assert text[start:end] == literal


def test_thousands_comma_only_before_exactly_three_digits():
    assert literals("in the first six months of 2000, 9,700 hectares") == ["six", "2000", "9,700"]
    assert literals("1,0000 and 12,34") == ["1", "0000", "12", "34"]
    assert literals("1,014.9 tons and 1,000,000 plants") == ["1,014.9", "1,000,000"]


def test_stray_space_decimal_is_two_tokens():
    assert literals("15. 5 tons") == ["15", "5"]


@pytest.mark.parametrize(
    "text, token",
    [
        ("to over $6 billion.", "$6 billion"),
        ("close to US$500 million, has", "US$500 million"),
        ("eliminated 9.4 million cultivated", "9.4 million"),
        ("to 3.1 percent of the population", "3.1 percent"),
        ("to 5.27% according", "5.27%"),
        ("reducing 1% prevalence", "1%"),
        ("by one percent by", "one percent"),
        ("ten million plants", "ten million"),
    ],
)
def test_currency_scale_and_percent_belong_to_the_token(text, token):
    assert literals(text) == [token]


@pytest.mark.parametrize(
    "text, token",
    [
        ("the 60-mile region", "60-mile"),
        ("A 5-year $2 billion", "5-year"),
        ("a two-day training", "two-day"),
        ("a three-year budget", "three-year"),
        ("grew seven-fold.", "seven-fold"),
        ("grew 10-fold", "10-fold"),
        ("a manifold of many-fold gains", "many-fold"),
    ],
)
def test_hyphenated_units_are_one_token(text, token):
    assert literals(text)[0] == token


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Three successful Binational Conferences", ["Three"]),
        ("three of the four main", ["three", "four"]),
        ("winning hundreds of convictions", ["hundreds"]),
        ("many millions of dollars", ["millions"]),
        ("cut drug use in half", ["half"]),
        ("tripled the number", ["tripled"]),
        ("Moreover, someone often once gave none to a tenant", []),
        ("Mexico–U.S. Extradition Treaty", []),
    ],
)
def test_number_words_are_whole_words_in_any_case(text, expected):
    assert literals(text) == expected


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            44,
            ["1995", "1999", "125,000", "80,500", "six", "2000", "9,700", "8,800", "25,000",
             "2,625", "five"],
        ),
        (
            46,
            ["three", "2000", "$13 million", "1997", "1999", "9.4 million", "650,000",
             "$95 million"],
        ),
        (
            64,
            ["six", "15", "1980", "1994", "eight", "30", "1995", "2000", "61", "five", "15",
             "seven-fold", "1995", "2000", "tripled", "86"],
        ),
        (122, ["1998", "1999", "five", "21", "1000", "31"]),
        (
            124,
            ["1999", "three-year", "US$500 million", "1999", "34.6", "1,472", "801.2", "260.2",
             "2000", "15", "5", "1,014.9", "149.8", "203.7"],
        ),
    ],
)  # fmt: skip
def test_find_numerals_on_source_lines(line, expected):
    text = source_line(line)
    tokens = find_numerals(text)
    assert [literal for _, _, literal in tokens] == expected
    assert all(text[start:end] == literal for start, end, literal in tokens)


def test_tokens_of_the_source_are_in_order_non_overlapping_and_at_their_offsets():
    text = source_text()
    tokens = find_numerals(text)
    assert len(tokens) == 140  # the snapshot is immutable (sha256 in source.yaml)
    for (_, previous_end, _), (start, _, _) in itertools.pairwise(tokens):
        assert previous_end <= start
    assert all(text[start:end] == literal for start, end, literal in tokens)


def test_every_token_of_the_source_parses_except_vague_words():
    refused = set()
    for _, _, literal in find_numerals(source_text()):
        try:
            parse_numeral(literal)
        except NumeralError:
            refused.add(literal)
    assert refused == {"hundreds", "millions"}


def test_source_values_are_read_where_they_are_printed():
    values = {literal: parse_numeral(literal) for _, _, literal in find_numerals(source_text())
              if literal not in {"hundreds", "millions"}}  # fmt: skip
    assert values["$6 billion"].value == 6_000_000_000
    assert values["9.4 million"].value == 9_400_000.0
    assert values["1,014.9"].value == 1014.9
    assert values["5.27%"].value == 5.27
    assert values["seven-fold"].value == 7


# -- read_qualifier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text_before, qualifier",
    [
        ("over ", "at_least"),
        ("Mexico has eradicated over ", "at_least"),
        ("and over  ", "at_least"),
        ("Over ", "at_least"),
        ("more than ", "at_least"),
        ("state and local police seized More Than ", "at_least"),
        ("approximately ", "approximately"),
        ("a three-year budget close to ", "approximately"),
        ("about ", "approximately"),
        ("nearly ", "approximately"),
        ("around ", "approximately"),
        ("funding was up to ", "at_most"),
        ("an average of ", "average"),
        ("A daily average of", "average"),
        ("average of ", "average"),
        ("bringing together an\naverage   of ", "average"),
        ("", "exact"),
        ("a total of ", "exact"),
    ],
)
def test_qualifier_is_read_from_the_words_right_before_the_numeral(text_before, qualifier):
    assert read_qualifier(text_before) == qualifier


@pytest.mark.parametrize(
    "text_before",
    ["Moreover ", "hangover ", "backup to ", "turnabout ", "carryover", "evermore than"],
)
def test_qualifier_matches_whole_words_only(text_before):
    assert read_qualifier(text_before) == "exact"


@pytest.mark.parametrize(
    "text_before",
    ["over 125,000 hectares of marijuana and ", "approximately, ", "up to date with "],
)
def test_qualifier_must_end_the_text_before_the_numeral(text_before):
    assert read_qualifier(text_before) == "exact"
