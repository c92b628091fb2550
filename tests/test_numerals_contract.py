"""What the numeral reader promises (pipeline/core/numerals.py, docs/annotating.md
"numeral"): each printed form read as its exact value (an int unless a decimal point is
printed), the unit it carries, how it was read, the whole of a share; the tokens the
coverage check sees; the qualifier before a numeral; and one sentence for anything else."""

from __future__ import annotations

import pytest

from pipeline.core.numerals import (
    ACCEPTED_FORMS,
    NumeralError,
    find_numerals,
    parse_numeral,
    read_qualifier,
)

NW, SW, STRAY = "number_word", "scale_word", "stray_space_in_decimal"


@pytest.mark.parametrize(
    "literal, value, unit, flags, denominator",
    [
        ("125,000", 125000, None, (), None),
        ("1,000,000", 1000000, None, (), None),
        ("1,014.9", 1014.9, None, (), None),
        ("007", 7, None, (), None),
        ("0.5", 0.5, None, (), None),
        ("$6 billion", 6000000000, "$", (SW,), None),
        ("US$500 million", 500000000, "US$", (SW,), None),
        ("us$5", 5, "US$", (), None),
        ("$1.5 billion", 1500000000.0, "$", (SW,), None),
        ("9.4 million", 9400000.0, None, (SW,), None),
        ("1,000.50 million", 1000500000.0, None, (SW,), None),
        ("3.1 percent", 3.1, "percent", (), None),
        ("5.27%", 5.27, "%", (), None),
        ("15. 5", 15.5, None, (STRAY,), None),
        ("Eight", 8, None, (NW,), None),
        ("one percent", 1, "percent", (NW,), None),
        ("Twenty Percent", 20, "percent", (NW,), None),
        ("twenty million", 20000000, None, (NW, SW), None),
        ("five billion", 5000000000, None, (NW, SW), None),
        ("60-mile", 60, "mile", (), None),
        ("2.5-day", 2.5, "day", (), None),
        ("twenty-day", 20, "day", (NW,), None),
        ("Seven-Fold", 7, "fold", (NW,), None),
        ("21-fold", 21, "fold", (), None),
        ("Tripled", 3, "tripled", (NW,), None),
        ("half", 0.5, "half", (NW,), None),
        ("In Half", 0.5, "half", (NW,), None),
        ("three of the four", 3, None, (NW,), 4),
        ("three of four", 3, None, (NW,), 4),
        ("3 of 4", 3, None, (), 4),
        ("4 of 4", 4, None, (), 4),
    ],
)
def test_each_printed_form_is_read_as_its_exact_value_and_unit(
    literal, value, unit, flags, denominator
):
    parsed = parse_numeral(literal)
    assert parsed.literal == literal
    assert parsed.value == value and type(parsed.value) is type(value)
    assert (parsed.unit_hint, parsed.flags, parsed.denominator) == (unit, flags, denominator)


@pytest.mark.parametrize(
    "literal, problem",
    [
        ("", "it is empty"),
        ("  ", "it is empty"),
        (" 5", "it has spaces around it; copy only the characters of the numeral"),
        ("5 ", "it has spaces around it; copy only the characters of the numeral"),
        ("hundred", "a scale word needs a number printed before it"),
        ("Million", "a scale word needs a number printed before it"),
        ("Millions", "it is a vague amount, not a number"),
        ("hundreds", "it is a vague amount, not a number"),
        ("$", "a currency sign needs a number printed after it"),
        ("us$", "a currency sign needs a number printed after it"),
        ("$5%", "an amount of money cannot also be a percentage"),
        ("US$5 percent", "an amount of money cannot also be a percentage"),
        ("1,00", "a thousands comma must follow one to three digits and precede exactly three"),
        ("1,0000", "a thousands comma must follow one to three digits and precede exactly three"),
        (
            "12345,000",
            "a thousands comma must follow one to three digits and precede exactly three",
        ),
        ("1.2.3", "it has more than one decimal point"),
        ("1.  5", "only a single space right after the decimal point is read as a stray space"),
        ("1 .5", "only a single space right after the decimal point is read as a stray space"),
        ("0 of 0", "0 cannot be a share of 0"),
        ("5 of 4", "5 cannot be a share of 4"),
        ("abc-fold", '"abc" before "-fold" is not a number word'),
        ("foo", f"it is not one of the forms read here ({ACCEPTED_FORMS})"),
        ("twenty-one", f"it is not one of the forms read here ({ACCEPTED_FORMS})"),
        ("many of the four", f"it is not one of the forms read here ({ACCEPTED_FORMS})"),
    ],
)
def test_anything_else_is_refused_with_one_sentence_saying_why(literal, problem):
    with pytest.raises(NumeralError) as raised:
        parse_numeral(literal)
    assert str(raised.value) == f'The numeral "{literal}" cannot be read: {problem}.'


def test_the_coverage_scan_finds_every_token_once_with_its_code_point_span():
    text = (
        "In 1999, over 125,000 hectares; US$500 million and $6 billion, 9.4 million, "
        "3.1 percent, 5.27%, three of them, one percent, 60-mile two-day seven-fold "
        "hundreds of half tripled Moreover 1,00 12,3456 thousands Ten million"
    )
    found = find_numerals(text)
    assert [literal for _, _, literal in found] == [
        "1999", "125,000", "US$500 million", "$6 billion", "9.4 million", "3.1 percent",
        "5.27%", "three", "one percent", "60-mile", "two-day", "seven-fold", "hundreds",
        "half", "tripled", "1", "00", "12", "3456", "thousands", "Ten million",
    ]  # fmt: skip
    assert all(text[a:b] == literal for a, b, literal in found)
    assert found[0] == (3, 7, "1999")


@pytest.mark.parametrize(
    "before, qualifier",
    [
        ("over", "at_least"), ("Sales grew by more than", "at_least"), ("X over", "at_least"),
        ("Approximately", "approximately"), ("close to ", "approximately"),
        ("about  ", "approximately"), ("nearly", "approximately"), ("around", "approximately"),
        ("approximately\n", "approximately"), ("up to\t", "at_most"), ("an average of", "average"),
        ("A daily average of", "average"), ("Moreover", "exact"), ("lover", "exact"),
        ("", "exact"), ("over the", "exact"),
    ],
)  # fmt: skip
def test_the_qualifier_is_the_whole_words_printed_right_before_the_numeral(before, qualifier):
    assert read_qualifier(before) == qualifier
