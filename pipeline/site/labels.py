"""Table cells as the pages show them: plain JSON-ready values (`plain`, `plain_rows`) and the
text a reader sees (`text`, `number`, `period_label`). No markup and no checks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

import pandas as pd

Rows = list[dict[str, Any]]


def plain(value: Any) -> Any:
    """A table cell as a JSON-ready Python value (None for every kind of missing)."""
    if value is None or type(value) in (int, bool) or isinstance(value, str):  # most cells
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, dt.date):
        value = value.item()  # a numpy scalar
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    return value


def plain_columns(df: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """Every column of a table as (name, its cells as Python objects): one conversion a column."""
    return [(str(c), df[c].astype(object).tolist()) for c in df.columns]


def plain_rows(columns: list[tuple[str, list[Any]]], positions: Any = None) -> Rows:
    """The rows at `positions` (all when None) of `plain_columns`, as dicts of `plain` values."""
    names = [name for name, _ in columns]
    cells = [values for _, values in columns]
    if positions is None:
        positions = range(len(cells[0]) if cells else 0)
    return [{n: plain(c[i]) for n, c in zip(names, cells, strict=True)} for i in positions]


def as_rows(table: pd.DataFrame | Rows) -> Rows:
    """A table's rows as dicts of JSON-ready values, whether a DataFrame or rows already."""
    return plain_rows(plain_columns(table)) if isinstance(table, pd.DataFrame) else table


def text(value: Any) -> str:
    """A cell as text, "" when missing."""
    value = plain(value)
    return "" if value is None else str(value)


def size(n_bytes: int) -> str:
    """A file's size as a reader reads it: 812 B, 40.3 kB, 1.2 MB (powers of 1,000)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"


def number(value: Any) -> str:
    """A value with thousands separators, fixed (no locale): 34600.0 -> '34,600'."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def _as_date(value: Any) -> dt.date | None:
    value = plain(value)
    return None if value is None else dt.date.fromisoformat(str(value)[:10])


def _month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _month(day: dt.date) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def _start_label(day: dt.date) -> str:
    if day.month == 1 and day.day == 1:
        return str(day.year)
    return _month(day) if day.day == 1 else day.isoformat()


def _end_label(day: dt.date) -> str:
    if day.month == 12 and day.day == 31:
        return str(day.year)
    return _month(day) if _month_end(day) else day.isoformat()


def period_label(start: Any, end: Any) -> str:
    """A period for people: '1999', '1995–1999', 'January–June 2000', 'since 1998'."""
    first, last = _as_date(start), _as_date(end)
    if first is None and last is None:
        return ""
    if last is None:
        return f"since {_start_label(first)}"
    if first is None:
        return f"by {_end_label(last)}"
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31):
        return f"{first.year}" if first.year == last.year else f"{first.year}–{last.year}"
    if first.day == 1 and _month_end(last):
        if (first.year, first.month) == (last.year, last.month):
            return _month(first)
        if first.year == last.year:
            months = f"{calendar.month_name[first.month]}–{calendar.month_name[last.month]}"
            return f"{months} {first.year}"
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()} – {last.isoformat()}"
