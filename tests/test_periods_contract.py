"""What parse_period promises (pipeline/core/periods.py, docs/annotating.md "period"): each
printed form read as its first and last day and finest unit, a relative period only against
a reference year with the assumption said in words, and anything else refused with one
sentence naming the text, the problem and the forms read."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.core.periods import ACCEPTED_FORMS, ParsedPeriod, PeriodError, parse_period


def _years(first: int, last: int) -> ParsedPeriod:
    return ParsedPeriod(date(first, 1, 1), date(last, 12, 31), "year")


def _said(text: str, first: int, last: int, n: int) -> str:
    return (
        f'"{text}" read as {first}-{last} (from {n} years before the reference year to it, as '
        'the text equates "the last five years" with 1995-2000)'
    )


@pytest.mark.parametrize(
    "text, year, first, last, n",
    [
        ("the last five years", 2000, 1995, 2000, 5),
        ("the past 5 years", 2000, 1995, 2000, 5),
        ("in the last 3 years", 2000, 1997, 2000, 3),
        ("over the past three years", 2000, 1997, 2000, 3),
        ("during the last two years", 1999, 1997, 1999, 2),
        ("for the past ten years", 2000, 1990, 2000, 10),
        ("THE LAST FIVE YEARS", 2000, 1995, 2000, 5),
        ("the last 1 years", 2000, 1999, 2000, 1),
        ("the last 1999 years", 2000, 1, 2000, 1999),  # the first year a calendar holds
    ],
)
def test_a_relative_period_runs_from_n_years_before_the_reference_year_to_it(
    text, year, first, last, n
):
    period = parse_period(text, year)
    assert (period.start, period.end, period.precision) == (
        date(first, 1, 1),
        date(last, 12, 31),
        "year",
    )
    assert period.assumption == _said(text, first, last, n)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("May 12, 2000", ParsedPeriod(date(2000, 5, 12), date(2000, 5, 12), "day")),
        ("May 12 2000", ParsedPeriod(date(2000, 5, 12), date(2000, 5, 12), "day")),
        ("on 12 May 2000", ParsedPeriod(date(2000, 5, 12), date(2000, 5, 12), "day")),
        ("1 May 2000", ParsedPeriod(date(2000, 5, 1), date(2000, 5, 1), "day")),
        ("30 April 2000", ParsedPeriod(date(2000, 4, 30), date(2000, 4, 30), "day")),
        ("the first six months of the year 2000", ParsedPeriod(date(2000, 1, 1), date(2000, 6, 30), "month")),
        ("the year 2005", _years(2005, 2005)),
        ("(1999).", _years(1999, 1999)),
        ("1999-1999", _years(1999, 1999)),
        ("from 1998 to date", ParsedPeriod(date(1998, 1, 1), None, "year")),
        ("1998 to date", ParsedPeriod(date(1998, 1, 1), None, "year")),
        ("since 12 May 1996", ParsedPeriod(date(1996, 5, 12), None, "day")),
        ("by May 2007", ParsedPeriod(None, date(2007, 5, 31), "month")),
        ("during the 1995-2000 time period", _years(1995, 2000)),
        ("over the 1995–2000 period", _years(1995, 2000)),
        ("1995 – 2000", _years(1995, 2000)),
        ("Between  1995 and\n2000", _years(1995, 2000)),
        ("from 12 May 1998 to June 2000", ParsedPeriod(date(1998, 5, 12), date(2000, 6, 30), "day")),
    ],
)  # fmt: skip
def test_each_printed_form_is_read_as_its_days_and_finest_unit(text, expected):
    assert parse_period(text) == expected
    assert parse_period(text, 2000) == expected  # a reference year changes no absolute period


@pytest.mark.parametrize(
    "text, year, problem",
    [
        ("the last five years", None, "it is relative to an unprinted date"),
        ("last five years", 2000, "it is relative to an unprinted date"),
        ("the last 0 years", 2000, "it is relative to an unprinted date"),
        ("the last 2000 years", 2000, "it is relative to an unprinted date"),
        ("the last many years", 2000, "it is relative to an unprinted date"),
        ("the last five years to date", 2000, "it is relative to an unprinted date"),
        ("the next year", None, "it is relative to an unprinted date"),
        ("previous years", None, "it is relative to an unprinted date"),
        ("recent years", None, "it is relative to an unprinted date"),
        ("", None, "it is empty"),
        ("  ,. ", 2000, "it is empty"),
        ("Mayo 2000", None, '"Mayo" is not an English month name'),
        ("since Mayo 1996", None, '"Mayo" is not an English month name'),
        ("by Mayo 2007", None, '"Mayo" is not an English month name'),
        ("February 29, 2001", None, "February 2001 has no day 29"),
        ("29 February 2001", None, "February 2001 has no day 29"),
        ("0 May 2000", None, "May 2000 has no day 0"),
        ("31 April 2000", None, "April 2000 has no day 31"),
        ("from 2000 to 1995", None, "it ends (1995-12-31) before it starts (2000-01-01)"),
        ("May 2000 to 1999", None, "it ends (1999-12-31) before it starts (2000-05-01)"),
        ("between 1995", None, "it is not one of the forms read here"),
        ("between the year and 2000", None, "it is not one of the forms read here"),
        ("to 2000", None, "it is not one of the forms read here"),
        ("1999 to", None, "it is not one of the forms read here"),
    ],
)
def test_anything_else_is_refused_with_one_sentence_naming_the_problem_and_the_forms(
    text, year, problem
):
    with pytest.raises(PeriodError) as raised:
        parse_period(text, year)
    assert str(raised.value) == (
        f'The period "{text}" cannot be read: {problem}; the forms read are {ACCEPTED_FORMS}.'
    )
