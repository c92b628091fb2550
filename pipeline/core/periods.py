"""Printed periods and dates: read the time span a quote such as "from 1995 to 1999" names.

Turns the words of a printed period or date into its first and last day (inclusive) and the
finest unit printed; the forms read are listed in `ACCEPTED_FORMS`. Finding the period in the
text is pipeline.core.anchoring's. A relative period ("the last five years") is read only
against a reference year (source.yaml's `reference_year`), the assumption said in words;
without one, or a vague period ("early 90s"), it is a `PeriodError`.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from pipeline.core.numerals import CARDINALS

_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
MONTHS: dict[str, int] = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
PRECISIONS = ("day", "month", "year")  # finest first
ACCEPTED_FORMS = (
    "1999, in 1999 alone, year 2005, from 1995 to 1999, 1995–2000, between 1995 and 2000, "
    "first six months of 2000, first semester of 2000, May 2000, 12 May 2000, since 1996, "
    "from 1998 to date, by the year 2007; with a reference year, the last five years, the past "
    "5 years"
)
_EDGE = " \t\r\n,.;:()[]\"'"
# Words of the forms themselves: "between 1995" is an incomplete range, not a bad month.
_FORM_WORDS = frozenset(
    {"between", "from", "to", "and", "since", "by", "in", "for", "during", "on", "over", "the",
     "of", "year", "alone", "period", "until", "till", "before", "after"}
)  # fmt: skip


class PeriodError(ValueError):
    """A text that is not a period this module reads; the message is one sentence."""


@dataclass(frozen=True)
class ParsedPeriod:
    """A period read from its printed text: first and last day (inclusive; None when the
    text leaves that end open) and the finest unit printed ("year", "month" or "day")."""

    start: datetime.date | None
    end: datetime.date | None
    precision: str
    assumption: str | None = None  # how a relative period was resolved, in words


def _fail(text: str, problem: str) -> PeriodError:
    return PeriodError(
        f'The period "{text}" cannot be read: {problem}; the forms read are {ACCEPTED_FORMS}.'
    )


def _normalise(text: str) -> str:
    """Lower case, single spaces, en dashes as hyphens, no surrounding punctuation."""
    words = " ".join(text.split()).strip(_EDGE).lower()
    return re.sub(r"\s*[-–]\s*", "-", words)


def _finest(*precisions: str) -> str:
    return min(precisions, key=PRECISIONS.index)


# -- one point in time: a year, half year, month or day -------------------------------------

_YEAR = re.compile(r"(?:the )?(?:year )?(?P<year>[12][0-9]{3})")
_FIRST_HALF = re.compile(
    r"(?:the )?first (?:six months|semester) of (?:the year )?(?P<year>[12][0-9]{3})"
)
_DAY_FIRST = re.compile(r"(?:(?P<day>[0-9]{1,2}) )?(?P<month>[a-z]+) (?P<year>[12][0-9]{3})")
_MONTH_FIRST = re.compile(r"(?P<month>[a-z]+) (?P<day>[0-9]{1,2}),? (?P<year>[12][0-9]{3})")


def _whole_year(year: int) -> ParsedPeriod:
    return ParsedPeriod(datetime.date(year, 1, 1), datetime.date(year, 12, 31), "year")


def _month_or_day(text: str, month_name: str, day: str | None, year: int) -> ParsedPeriod | None:
    month = MONTHS.get(month_name)
    if month is None and month_name in _FORM_WORDS:
        return None
    if month is None:
        printed = re.search(re.escape(month_name), text, re.IGNORECASE)
        word = printed.group() if printed else month_name
        raise _fail(text, f'"{word}" is not an English month name')
    last = calendar.monthrange(year, month)[1]
    if day is None:
        first, final = datetime.date(year, month, 1), datetime.date(year, month, last)
        return ParsedPeriod(first, final, "month")
    if not 1 <= int(day) <= last:
        raise _fail(text, f"{month_name.capitalize()} {year} has no day {int(day)}")
    date = datetime.date(year, month, int(day))
    return ParsedPeriod(date, date, "day")


def _point(text: str, words: str) -> ParsedPeriod | None:
    """A single year, first half year, month or day; `text` is the original, for errors."""
    if m := _YEAR.fullmatch(words):
        return _whole_year(int(m["year"]))
    if m := _FIRST_HALF.fullmatch(words):
        year = int(m["year"])
        return ParsedPeriod(datetime.date(year, 1, 1), datetime.date(year, 6, 30), "month")
    if m := _MONTH_FIRST.fullmatch(words) or _DAY_FIRST.fullmatch(words):
        return _month_or_day(text, m["month"], m["day"], int(m["year"]))
    return None


# -- whole forms ------------------------------------------------------------------------------

_OPEN_END = re.compile(r"since (?P<point>.+)|(?:from )?(?P<point2>.+) to date")
_OPEN_START = re.compile(r"by (?P<point>.+)")
_RANGE = re.compile(
    r"(?:(?:in|for|during|over) )?(?:the )?"
    r"(?:(?:from )?(?P<a>.+?) to (?P<b>.+?)|between (?P<c>.+?) and (?P<d>.+?)"
    r"|(?:from )?(?P<e>[^-]+)-(?P<f>[^-]+?))"
    r"(?: (?:time )?period)?"
)
_SINGLE = re.compile(r"(?:(?:in|for|during|on) )?(?P<point>.+?)(?: alone)?")


def _open(text: str, words: str) -> ParsedPeriod | None:
    if m := _OPEN_END.fullmatch(words):
        point = _point(text, m["point"] or m["point2"])
        return ParsedPeriod(point.start, None, point.precision) if point else None
    if m := _OPEN_START.fullmatch(words):
        point = _point(text, m["point"])
        return ParsedPeriod(None, point.end, point.precision) if point else None
    return None


def _range(text: str, words: str) -> ParsedPeriod | None:
    m = _RANGE.fullmatch(words)
    if not m:
        return None
    first_words, last_words = (g for g in m.groups() if g is not None)
    first, last = _point(text, first_words), _point(text, last_words)
    if first is None or last is None:
        return None
    if last.end < first.start:
        raise _fail(text, f"it ends ({last.end}) before it starts ({first.start})")
    return ParsedPeriod(first.start, last.end, _finest(first.precision, last.precision))


def _single(text: str, words: str) -> ParsedPeriod | None:
    m = _SINGLE.fullmatch(words)
    return _point(text, m["point"]) if m else None


_RELATIVE = re.compile(r"(?:(?:in|over|during|for) )?the (?:last|past) (?P<n>[0-9]+|[a-z]+) years")


def _relative(text: str, words: str, reference_year: int) -> ParsedPeriod | None:
    """From N years before the reference year to it, for "the last N years" (the chapter
    equates "the last five years" with 1995-2000 when it was written in 2000)."""
    m = _RELATIVE.fullmatch(words)
    n = (int(m["n"]) if m["n"].isdigit() else CARDINALS.get(m["n"])) if m else None
    if not n or not 1 <= reference_year - n:
        return None  # not a period a calendar holds: told as unparseable
    first, last = reference_year - n, reference_year
    return ParsedPeriod(
        datetime.date(first, 1, 1), datetime.date(last, 12, 31), "year",
        f'"{text}" read as {first}-{last} (from {n} years before the reference year to it, as '
        f'the text equates "the last five years" with 1995-2000)',
    )  # fmt: skip


def _reason(words: str) -> str:
    if not words:
        return "it is empty"
    if re.search(r"\b(?:last|past|next|previous|recent)\b", words):
        return "it is relative to an unprinted date"
    return "it is not one of the forms read here"


def parse_period(text: str, reference_year: int | None = None) -> ParsedPeriod:
    """Read a printed period or date (case-insensitive; surrounding spaces and punctuation
    are ignored; en dash and hyphen are the same), a relative one only given the year it is
    relative to; raise `PeriodError` for anything else."""
    words = _normalise(text)
    for reader in (_open, _range, _single):
        if words and (period := reader(text, words)) is not None:
            return period
    if words and reference_year and (period := _relative(text, words, reference_year)):
        return period
    raise _fail(text, _reason(words))
