"""pipeline.core.periods: every printed period form is read to its first and last day and the
finest unit printed; open ends stay open; anything else is refused with one sentence."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from pipeline.core.periods import ParsedPeriod, PeriodError, parse_period


@pytest.mark.parametrize(
    "text, year",
    [
        ("1999", 1999),
        ("in 1999", 1999),
        ("In 1999 alone", 1999),
        ("1999 alone", 1999),
        ("in 1999 alone,", 1999),
        ("2000,", 2000),
        ("  1988 ", 1988),
        ("year 2005", 2005),
        ("for year 2005", 2005),
        ("the year 2000", 2000),
    ],
)
def test_a_year_spans_its_first_to_last_day(text, year):
    assert parse_period(text) == ParsedPeriod(date(year, 1, 1), date(year, 12, 31), "year")


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("from 1995 to 1999", 1995, 1999),
        ("From 1997 to 1999", 1997, 1999),
        ("1995 to 1999", 1995, 1999),
        ("1995–2000", 1995, 2000),
        ("1995-2000", 1995, 2000),
        ("1980–1994", 1980, 1994),
        ("(1980–1994)", 1980, 1994),
        ("the 1995–2000 period", 1995, 2000),
        ("1995-2000 time period", 1995, 2000),
        ("During the 1995-2000 time period", 1995, 2000),
        ("Between 1995 and 2000", 1995, 2000),
        ("from 1996-2000", 1996, 2000),
        ("1999–1999", 1999, 1999),
    ],
)
def test_a_range_of_years_spans_first_day_of_first_year_to_last_day_of_last(text, first, last):
    assert parse_period(text) == ParsedPeriod(date(first, 1, 1), date(last, 12, 31), "year")


@pytest.mark.parametrize("text", ["1995–2000", "1995-2000", "1995 – 2000", "1995 - 2000"])
def test_en_dash_and_hyphen_are_the_same(text):
    assert parse_period(text) == parse_period("from 1995 to 2000")


@pytest.mark.parametrize(
    "text", ["first six months of 2000", "first semester of 2000", "the first semester of 2000"]
)
def test_first_half_of_a_year_is_january_to_june_in_months(text):
    assert parse_period(text) == ParsedPeriod(date(2000, 1, 1), date(2000, 6, 30), "month")


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("May 2000", date(2000, 5, 1), date(2000, 5, 31)),
        ("November 1997", date(1997, 11, 1), date(1997, 11, 30)),
        ("June 1998", date(1998, 6, 1), date(1998, 6, 30)),
        ("in June 2000,", date(2000, 6, 1), date(2000, 6, 30)),
        ("January 2000", date(2000, 1, 1), date(2000, 1, 31)),
        ("(August 1999)", date(1999, 8, 1), date(1999, 8, 31)),
        ("December 1997", date(1997, 12, 1), date(1997, 12, 31)),
        ("march 2001", date(2001, 3, 1), date(2001, 3, 31)),
        ("April 2001", date(2001, 4, 1), date(2001, 4, 30)),
        ("July 2001", date(2001, 7, 1), date(2001, 7, 31)),
        ("September 2001", date(2001, 9, 1), date(2001, 9, 30)),
        ("OCTOBER 2001", date(2001, 10, 1), date(2001, 10, 31)),
    ],
)
def test_a_month_spans_its_first_to_last_day(text, first, last):
    assert parse_period(text) == ParsedPeriod(first, last, "month")


@pytest.mark.parametrize(
    "text, last_day",
    [("February 2000", 29), ("February 1900", 28), ("February 2004", 29), ("February 1999", 28)],
)
def test_leap_years_are_handled(text, last_day):
    assert parse_period(text).end == date(int(text[-4:]), 2, last_day)


@pytest.mark.parametrize(
    "text, day",
    [
        ("12 May 2000", date(2000, 5, 12)),
        ("May 12, 2000", date(2000, 5, 12)),
        ("May 12 2000", date(2000, 5, 12)),
        ("29 February 2000", date(2000, 2, 29)),
        ("on 1 June 1998.", date(1998, 6, 1)),
    ],
)
def test_a_day_is_that_day(text, day):
    assert parse_period(text) == ParsedPeriod(day, day, "day")


@pytest.mark.parametrize(
    "text, start, precision",
    [
        ("since 1996", date(1996, 1, 1), "year"),
        ("Since 1998", date(1998, 1, 1), "year"),
        ("From 1998 to date", date(1998, 1, 1), "year"),
        ("since May 2000", date(2000, 5, 1), "month"),
    ],
)
def test_since_and_to_date_leave_the_end_open(text, start, precision):
    assert parse_period(text) == ParsedPeriod(start, None, precision)


@pytest.mark.parametrize(
    "text, end",
    [
        ("by the year 2007", date(2007, 12, 31)),
        ("by year 2010", date(2010, 12, 31)),
        ("by 2007", date(2007, 12, 31)),
    ],
)
def test_by_leaves_the_start_open(text, end):
    assert parse_period(text) == ParsedPeriod(None, end, "year")


def test_a_range_takes_the_finest_unit_printed():
    assert parse_period("from May 1998 to 2000") == ParsedPeriod(
        date(1998, 5, 1), date(2000, 12, 31), "month"
    )


@pytest.mark.parametrize("text", ["from 1999 to 1995", "2000–1995", "Between 2000 and 1999"])
def test_a_range_ending_before_it_starts_is_refused(text):
    with pytest.raises(PeriodError, match="before it starts"):
        parse_period(text)


@pytest.mark.parametrize("text, word", [("Mayo 2000", "Mayo"), ("12 Febtober 2000", "Febtober")])
def test_an_unknown_month_is_refused(text, word):
    with pytest.raises(PeriodError, match=f'"{word}" is not an English month name'):
        parse_period(text)


@pytest.mark.parametrize("text", ["31 June 2000", "29 February 1999", "0 May 2000"])
def test_a_day_the_month_does_not_have_is_refused(text):
    with pytest.raises(PeriodError, match="has no day"):
        parse_period(text)


@pytest.mark.parametrize(
    "text",
    [
        "the last five years",
        "Over the last five years",
        "early 90s",
        "",
        "   ",
        "1995 and 2000",
        "between 1995",
        "from 1995",
        "to 1999",
        "99",
        "1990s",
        "12 May",
        "first nine months of 2000",
    ],
)
def test_anything_else_is_refused_with_one_sentence_naming_it_and_the_forms(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert message.startswith(f'The period "{text}" cannot be read: ')
    assert "from 1995 to 1999" in message and "since 1996" in message
    assert message.endswith(".") and ". " not in message


def test_period_error_is_a_value_error():
    assert issubclass(PeriodError, ValueError)


def test_parsed_period_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_period("1999").start = None  # type: ignore[misc]
