"""The static provenance pages: every source text with every figure and event highlighted.

What belongs here: turning the published tables (sources, figures, events, provenance,
corrections) and the source texts into self-contained HTML pages that a reader opens from
disk to audit the dataset: one page per source, `outputs/provenance/<source_id>.html`
(`source_page`), and an index, `outputs/provenance.html` (`index_page`).

A source's page shows its text as printed, splits it at every quote boundary into segments
(a segment lists the records covering it, so overlapping and nested quotes need no nested
markup), puts an empty anchor at the start of every record so `#<record_id>` marks that
record's quote, and lists the figures and events in tables that sort and filter. When the
corrections table is given, each correction's printed characters are marked too (the same
segments carry the corrections covering them), `#<correction_id>` marks them, their popover
gives the corrected text, and a third table lists the corrections. The corrected text never
enters the text flow: the page shows the source as printed. It is made from that source's
rows and text alone, without the dataset version, so it only changes when they do (or this
file does: `code_version`), which lets the publisher reuse it from a cache.

The index gives the dataset version and one row per source, and keeps the links shared when
all sources were on one page working: `provenance.html#<id>` goes on to the page of the
source holding that id.

What does not belong here: reading or writing files, parsing annotations or deciding values.
The pages only show what the tables already say; they raise ValueError when the tables
disagree with the text or with each other. They load nothing from the network (inline style
and script only) and are deterministic: the same inputs give the same bytes, whatever the
order of the rows given.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

EXPLAIN_COMMAND = "python -m pipeline explain"
NUMBER_TYPE = ' data-type="number"'
INDEX_FILE = "provenance.html"  # the index, beside the folder of the source pages
SOURCE_PAGES_DIR = "provenance"  # one page per source: provenance/<source_id>.html
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # every id: lowercase kebab-case (schemas/)
# The page's own element ids all hold "_" (text_1, figures_table_1, record_popover,
# records_json, ...), so none can collide with a record id, which is lowercase kebab-case.
_POSITION_COLUMNS = {
    "char_start",
    "char_end",
    "line",
    "column",
    "numeral_start",
    "numeral_end",
    "period_start_char",
    "period_end_char",
    "annotation_line",
}
_PROVENANCE_FIELDS = (
    "char_start",
    "char_end",
    "line",
    "column",
    "quote",
    "numeral_start",
    "numeral_end",
    "annotation_file",
    "annotation_line",
)


@dataclass(frozen=True)
class _Record:
    record_id: str
    record_type: str  # "figure" or "event"
    start: int
    end: int


@dataclass(frozen=True)
class _Correction:
    correction_id: str
    start: int
    end: int

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


# --- values for display --------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A table cell as a JSON-ready Python value (None for every kind of missing)."""
    kind = type(value)
    if value is None:
        return None
    if kind is str or kind is int or kind is bool:  # most cells: nothing to convert
        return value
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, dt.date):
        value = value.item()  # a numpy scalar
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    value = _plain(value)
    return "" if value is None else str(value)


def _number(value: Any) -> str:
    """A value with thousands separators, fixed (no locale): 34600.0 -> '34,600'."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def _as_date(value: Any) -> dt.date | None:
    value = _plain(value)
    if value is None:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def _month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _start_label(day: dt.date) -> str:
    if day.month == 1 and day.day == 1:
        return str(day.year)
    if day.day == 1:
        return f"{calendar.month_name[day.month]} {day.year}"
    return day.isoformat()


def _end_label(day: dt.date) -> str:
    if day.month == 12 and day.day == 31:
        return str(day.year)
    if _month_end(day):
        return f"{calendar.month_name[day.month]} {day.year}"
    return day.isoformat()


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
        years = f"{first.year}" if first.year == last.year else f"{first.year}–{last.year}"
        return years
    if first.day == 1 and _month_end(last):
        if (first.year, first.month) == (last.year, last.month):
            return f"{calendar.month_name[first.month]} {first.year}"
        if first.year == last.year:
            months = f"{calendar.month_name[first.month]}–{calendar.month_name[last.month]}"
            return f"{months} {first.year}"
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()} – {last.isoformat()}"


# --- segments of the text ------------------------------------------------------------


def _records_of(provenance: list[dict[str, Any]], text: str, source_id: str) -> list[_Record]:
    """The source's records ordered by char_start then record id; checks every quote."""
    records = []
    for row in provenance:
        rid, kind, quote = row["record_id"], row["record_type"], row["quote"]
        start, end = int(row["char_start"]), int(row["char_end"])
        if not 0 <= start <= end <= len(text) or text[start:end] != quote:
            raise ValueError(
                f"provenance of {rid}: text[{start}:{end}] of {source_id} is not its "
                f"quote {quote!r}; rebuild outputs/ from the same raw/ text."
            )
        if kind not in ("figure", "event"):
            raise ValueError(f"provenance of {rid}: unknown type {kind!r}.")
        records.append(_Record(str(rid), str(kind), start, end))
    return sorted(records, key=lambda r: (r.start, r.record_id))


def _corrections_of(
    corrections: list[dict[str, Any]], text: str, source_id: str
) -> list[_Correction]:
    """The source's corrections ordered by char_start then id; checks every printed text."""
    found = []
    for row in corrections:
        cid, printed = row["correction_id"], row["printed"]
        start, end = int(row["char_start"]), int(row["char_end"])
        if not 0 <= start <= end <= len(text) or text[start:end] != printed:
            raise ValueError(
                f"correction {cid}: text[{start}:{end}] of {source_id} is not its "
                f"printed text {printed!r}; rebuild outputs/ from the same raw/ text."
            )
        found.append(_Correction(str(cid), start, end))
    return sorted(found, key=lambda c: (c.start, c.correction_id))


def _highlighted_text(
    text: str, records: list[_Record], corrections: list[_Correction] | None = None
) -> str:
    """The text as HTML: one <span> per stretch covered by the same records and corrections,
    an empty anchor where each record or correction starts."""
    corrections = corrections or []
    spans = [(r.start, r.end) for r in records] + [(c.start, c.end) for c in corrections]
    cuts = sorted({0, len(text), *(a for a, _ in spans), *(b for _, b in spans)})
    starting: dict[int, list[str]] = {}
    for record in records:
        starting.setdefault(record.start, []).append(record.record_id)
    for correction in corrections:
        starting.setdefault(correction.start, []).append(correction.correction_id)
    parts: list[str] = []
    for i, here in enumerate(cuts):
        for anchor_id in starting.get(here, []):
            parts.append(f'<a class="anchor" id="{escape(anchor_id)}"></a>')
        if i + 1 == len(cuts):
            break
        there = cuts[i + 1]
        piece = escape(text[here:there], quote=False)
        covering = [r for r in records if r.start <= here and there <= r.end]
        corrected = [c for c in corrections if c.start <= here and there <= c.end]
        if not covering and not corrected:
            parts.append(piece)
            continue
        classes: list[str] = []
        attributes = ""
        if covering:
            types = sorted({r.record_type for r in covering})
            classes += ["hl", *(f"hl-{t}" for t in types)]
            if len(covering) > 1:
                classes.append("hl-many")
            ids = " ".join(r.record_id for r in covering)
            attributes += f' data-records="{escape(ids)}"'
        if corrected:
            classes.append("corr")
            ids = " ".join(c.correction_id for c in corrected)
            attributes += f' data-corrections="{escape(ids)}"'
        parts.append(f'<span class="{" ".join(classes)}"{attributes} tabindex="0">{piece}</span>')
    return "".join(parts)


# --- tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    label: str
    numeric: bool = False


_FIGURE_COLUMNS = (
    _Column("Figure"),
    _Column("Value", numeric=True),
    _Column("Unit"),
    _Column("As printed"),
    _Column("Qualifier"),
    _Column("Period"),
    _Column("Measure"),
    _Column("Subject"),
    _Column("Line", numeric=True),
)
_EVENT_COLUMNS = (
    _Column("Event"),
    _Column("Kind"),
    _Column("Name"),
    _Column("Date"),
    _Column("Place"),
    _Column("Parties"),
    _Column("Line", numeric=True),
)
_CORRECTION_COLUMNS = (
    _Column("Correction"),
    _Column("Printed"),
    _Column("Corrected"),
    _Column("Reason"),
    _Column("Line", numeric=True),
)


def _cell(shown: str, sort: str | None = None, raw_html: bool = False) -> str:
    body = shown if raw_html else escape(shown)
    key = "" if sort is None else f' data-sort="{escape(sort)}"'
    return f"<td{key}>{body}</td>"


def _id_link(record_id: str) -> str:
    return f'<a href="#{escape(record_id)}">{escape(record_id)}</a>'


def _table(
    kind: str,
    label: str,
    number: int,
    columns: Iterable[_Column],
    rows: list[str],
    caption: str = "select a column header to sort, follow an id to its place in the text.",
    placeholder: str = "id, word or number",
) -> str:
    heads = "".join(
        f'<th scope="col"{NUMBER_TYPE if c.numeric else ""}>'
        f'<button type="button">{escape(c.label)}</button></th>'
        for c in columns
    )
    total = len(rows)
    return (
        f'<h2 id="{kind}_{number}">{escape(label)} <span class="n">({total})</span></h2>\n'
        f'<div class="controls"><label>Filter {escape(label.lower())} '
        f'<input type="search" class="filter" data-table="{kind}_table_{number}" '
        f'placeholder="{escape(placeholder)}" autocomplete="off"></label>'
        f' <span class="count" aria-live="polite" id="{kind}_count_{number}">'
        f"{total} of {total} shown</span></div>\n"
        f'<div class="table-wrap"><table id="{kind}_table_{number}" class="records">'
        f"<caption>{escape(label)}: {escape(caption)}</caption>\n"
        f"<thead><tr>{heads}</tr></thead>\n<tbody>\n" + "".join(rows) + "</tbody></table></div>\n"
    )


def _figure_row(index: int, fig: dict[str, Any], prov: dict[str, Any]) -> str:
    printed, unit = fig["value_as_printed"] or "", fig["unit_as_printed"] or ""
    if unit and unit.lower() not in printed.lower():  # "34.6" "tons", not "$6 billion" "$"
        printed = f"{printed} {unit}"
    qualifier = fig["qualifier"] or ""
    if fig.get("is_target"):
        qualifier += " (target)"
    cells = [
        _cell(_id_link(fig["figure_id"]), fig["figure_id"], raw_html=True),
        _cell(_number(fig["value"]), "" if fig["value"] is None else repr(float(fig["value"]))),
        _cell(_text(fig["unit"])),
        _cell(printed),
        _cell(qualifier),
        _cell(
            period_label(fig["period_start"], fig["period_end"]),
            f"{fig['period_start'] or ''}/{fig['period_end'] or ''}",
        ),
        _cell(_text(fig["measure"])),
        _cell(_text(fig["subject"])),
        _cell(str(prov["line"]), str(prov["char_start"])),
    ]
    return f'<tr data-index="{index}">{"".join(cells)}</tr>\n'


def _event_row(index: int, event: dict[str, Any], prov: dict[str, Any]) -> str:
    cells = [
        _cell(_id_link(event["event_id"]), event["event_id"], raw_html=True),
        _cell(_text(event["kind"])),
        _cell(_text(event["name"])),
        _cell(
            period_label(event["date_start"], event["date_end"]),
            f"{event['date_start'] or ''}/{event['date_end'] or ''}",
        ),
        _cell(_text(event["place"])),
        _cell(_text(event["parties"]).replace(";", ", ")),
        _cell(str(prov["line"]), str(prov["char_start"])),
    ]
    return f'<tr data-index="{index}">{"".join(cells)}</tr>\n'


def _correction_row(index: int, correction: dict[str, Any]) -> str:
    printed = f'<span class="printed">{escape(_text(correction["printed"]))}</span>'
    cells = [
        _cell(_id_link(correction["correction_id"]), correction["correction_id"], raw_html=True),
        _cell(printed, _text(correction["printed"]), raw_html=True),
        _cell(_text(correction["corrected"])),
        _cell(_text(correction["reason"])),
        _cell(str(correction["line"]), str(correction["char_start"])),
    ]
    return f'<tr data-index="{index}">{"".join(cells)}</tr>\n'


# --- the page ------------------------------------------------------------------------


Rows = list[dict[str, Any]]


def plain_columns(df: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """Every column of a table as (name, its cells as Python objects), one conversion per
    column: the cheap part of turning a table into rows, done once for a whole table."""
    return [(str(c), df[c].astype(object).tolist()) for c in df.columns]


def plain_rows(columns: list[tuple[str, list[Any]]], positions: Any = None) -> Rows:
    """The rows at `positions` (all when None) of columns from `plain_columns`, each a dict
    of JSON-ready values (`_plain`)."""
    names = [name for name, _ in columns]
    cells = [values for _, values in columns]
    if positions is None:
        positions = range(len(cells[0]) if cells else 0)
    return [{n: _plain(c[i]) for n, c in zip(names, cells, strict=True)} for i in positions]


def _as_rows(table: pd.DataFrame | Rows) -> Rows:
    return plain_rows(plain_columns(table)) if isinstance(table, pd.DataFrame) else table


def _rows_by_id(table: pd.DataFrame | Rows, key: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for item in _as_rows(table):
        if item[key] in rows:
            raise ValueError(f"{key} {item[key]} appears twice.")
        rows[item[key]] = item
    return rows


def _source_meta(source: dict[str, Any], text: str) -> str:
    url = _text(source.get("url"))
    items = [
        ("Publisher", escape(_text(source.get("publisher")))),
        ("Source", f'<a href="{escape(url)}" rel="noreferrer">{escape(url)}</a>' if url else ""),
        ("Snapshot", f"<code>raw/{escape(source['source_id'])}/source.txt</code>"),
        ("sha256", f'<code class="hash">{escape(_text(source.get("sha256")))}</code>'),
        ("Length", f"{len(text):,} code points"),
    ]
    return (
        '<dl class="meta">'
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items if v)
        + "</dl>\n"
    )


def _listed_corrections(row: dict[str, Any]) -> list[str]:
    """The ids in a figure's or event's correction_ids ("a;b"), none when the column is absent."""
    return [c for c in _text(row.get("correction_ids")).split(";") if c]


def _check_corrections(
    record: _Record, listed: list[str], corrections: list[_Correction], known: set[str]
) -> None:
    """A record's correction_ids name exactly the corrections overlapping its quote."""
    unknown = sorted(set(listed) - known)
    if unknown:
        raise ValueError(
            f"{record.record_id} lists correction {', '.join(unknown)}, which is not listed."
        )
    overlapping = {c.correction_id for c in corrections if c.overlaps(record.start, record.end)}
    if set(listed) != overlapping:
        raise ValueError(
            f"{record.record_id} lists corrections {sorted(set(listed))} but its quote overlaps "
            f"{sorted(overlapping)}; rebuild outputs/ from the same raw/ corrections."
        )


def _audit_line(with_corrections: bool) -> str:
    errata = (
        'A <span class="corr">wavy red underline</span> marks an erratum: the text stays as '
        "printed, the correction is in its popover and the corrections table. "
        if with_corrections
        else ""
    )
    return (
        '<p class="audit"><strong>How to audit:</strong> each highlight is exactly the characters '
        "a record was read from. Hover or focus one (Tab) to see its row; follow an id in the "
        "tables to mark its quote; share the address ending in <code>#&lt;id&gt;</code> to point "
        f"at one number. {errata}For its full lineage run "
        f"<code>{EXPLAIN_COMMAND} &lt;id&gt;</code>.</p>\n"
    )


def source_page_path(source_id: str) -> str:
    """Where the page of a source lies, relative to the folder of the index:
    provenance/<source_id>.html. Refuses an id that is not lowercase kebab-case, so no id
    can name a file elsewhere."""
    if not isinstance(source_id, str) or not _ID.fullmatch(source_id):
        raise ValueError(f"source id {source_id!r} is not lowercase kebab-case.")
    return f"{SOURCE_PAGES_DIR}/{source_id}.html"


@functools.cache
def code_version() -> str:
    """sha256 of this file's bytes: the part of a cached page's key that says which code
    made it, so any change here makes every page again."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _foreign_rows(rows: Rows, key: str, source_id: str) -> str | None:
    """The first row (by id) that names another source than `source_id`."""
    other = [r for r in rows if "source_id" in r and r["source_id"] != source_id]
    if not other:
        return None
    first = min(other, key=lambda r: str(r[key]))
    return f"{first[key]} belongs to source {first['source_id']}"


def source_page(
    sources: pd.DataFrame,
    figures: pd.DataFrame,
    events: pd.DataFrame,
    provenance: pd.DataFrame,
    text: str,
    corrections: pd.DataFrame | None = None,
) -> str:
    """The provenance page of one source (outputs/provenance/<source_id>.html) as one HTML
    string.

    `sources` holds that one source's row and the other tables that source's rows only
    (ValueError otherwise): the page depends on nothing else, not even the dataset version,
    so a source whose rows and text did not change gives the same bytes in every build.
    Without `corrections` (a caller from before the corrections table) the page marks no
    corrections and has no corrections table; with it, even empty, it has both.
    """
    return source_page_from_rows(
        _as_rows(sources), _as_rows(figures), _as_rows(events), _as_rows(provenance), text,
        None if corrections is None else _as_rows(corrections),
    )  # fmt: skip


def source_page_from_rows(
    sources: Rows,
    figures: Rows,
    events: Rows,
    provenance: Rows,
    text: str,
    corrections: Rows | None = None,
) -> str:
    """`source_page` from the tables' rows as dicts of JSON-ready values (`plain_rows`), so
    that a caller making many pages converts each table once, not once per page."""
    source_rows = list(_rows_by_id(sources, "source_id").values())
    if len(source_rows) != 1:
        raise ValueError(f"a source page shows one source; {len(source_rows)} were given.")
    source = source_rows[0]
    sid = source["source_id"]
    source_page_path(sid)  # a usable file name
    with_corrections = corrections is not None
    if corrections is None:
        corrections = []
    for kind, df, key in (
        ("figure", figures, "figure_id"),
        ("event", events, "event_id"),
        ("provenance of", provenance, "record_id"),
        ("correction", corrections, "correction_id"),
    ):
        foreign = _foreign_rows(df, key, sid)
        if foreign:
            raise ValueError(f"{kind} {foreign}, not {sid}; a page shows one source's rows.")
    figure_rows = _rows_by_id(figures, "figure_id")
    event_rows = _rows_by_id(events, "event_id")
    prov_rows = _rows_by_id(provenance, "record_id")
    correction_rows = _rows_by_id(corrections, "correction_id")
    for cid in correction_rows:
        if cid in figure_rows or cid in event_rows or cid in prov_rows:
            raise ValueError(f"correction {cid} has the id of a figure or event.")
    for rid, prov in prov_rows.items():
        table = figure_rows if prov["record_type"] == "figure" else event_rows
        if rid not in table:
            raise ValueError(f"provenance names {prov['record_type']} {rid}, which is not listed.")
    for rid in sorted(set(figure_rows) | set(event_rows)):
        if rid not in prov_rows:
            raise ValueError(f"{rid} has no provenance row.")

    records = _records_of(provenance, text, sid)
    fixes = _corrections_of(corrections, text, sid)
    data: dict[str, Any] = {}
    figure_html: list[str] = []
    event_html: list[str] = []
    correction_html: list[str] = []
    for fix in fixes:
        row = correction_rows[fix.correction_id]
        correction_html.append(_correction_row(len(correction_html), row))
        data[fix.correction_id] = {"type": "correction", "row": row}
    for record in records:
        prov = prov_rows[record.record_id]
        where = {k: prov.get(k) for k in _PROVENANCE_FIELDS}
        for k in _POSITION_COLUMNS & where.keys():
            if where[k] is not None:
                where[k] = int(where[k])
        if record.record_type == "figure":
            row = figure_rows[record.record_id]
            figure_html.append(_figure_row(len(figure_html), row, where))
            shown = {
                "value": _number(row["value"]),
                "period": period_label(row["period_start"], row["period_end"]),
            }
        else:
            row = event_rows[record.record_id]
            event_html.append(_event_row(len(event_html), row, where))
            shown = {"date": period_label(row["date_start"], row["date_end"])}
        if with_corrections:
            _check_corrections(record, _listed_corrections(row), fixes, set(correction_rows))
        data[record.record_id] = {
            "type": record.record_type,
            "row": row,
            "provenance": where,
            "shown": shown,
        }

    title = _text(source["title"])
    short = _text(source.get("sha256"))[:12]
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")  # so "</script>" or "<!--" cannot end the block
    counts = f"{len(figure_html)} figures, {len(event_html)} events"
    if with_corrections:
        counts += f", {len(correction_html)} corrections"
    correction_legend = (
        '<span class="sw corr">correction (as printed)</span> ' if with_corrections else ""
    )
    correction_nav = ' <a href="#corrections_1">Corrections</a>' if with_corrections else ""
    edition = f" · text sha256 <code>{escape(short)}</code>" if short else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Provenance: {escape(title)}"
        + (f" (sha256 {escape(short)})" if short else "")
        + "</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        '<a class="skip" href="#figures_1">Skip to the figures table</a>\n'
        '<div class="bar" role="region" aria-label="Legend">'
        '<span class="legend"><span class="sw hl hl-figure">figure</span> '
        '<span class="sw hl hl-event">event</span> '
        '<span class="sw hl hl-figure hl-event">figure in an event</span> '
        '<span class="sw hl hl-figure hl-many">overlapping figures</span> '
        + correction_legend
        + '<span class="sw sw-marked">marked (#id)</span></span>'
        '<span class="status" id="marked_status" aria-live="polite"></span>'
        f'<nav aria-label="Sections"><a href="../{INDEX_FILE}">All sources</a> '
        '<a href="#text_1">Text</a> <a href="#figures_1">Figures</a> '
        f'<a href="#events_1">Events</a>{correction_nav}</nav></div>\n'
        "<header>\n"
        f'<p class="kicker">Provenance page{edition} · {counts}</p>\n'
        f"<h1>{escape(title)}</h1>\n"
        + _source_meta(source, text)
        + _audit_line(with_corrections)
        + "</header>\n<main>\n"
        + f'<section class="source" aria-label="{escape(title)}">\n'
        + '<h2 id="text_1">Text as printed</h2>\n'
        + '<div class="text" id="source_text_1">'
        + _highlighted_text(text, records, fixes)
        + "</div>\n"
        + _table("figures", "Figures", 1, _FIGURE_COLUMNS, figure_html)
        + _table("events", "Events", 1, _EVENT_COLUMNS, event_html)
        + (
            _table("corrections", "Corrections", 1, _CORRECTION_COLUMNS, correction_html)
            if with_corrections
            else ""
        )
        + "</section>\n</main>\n"
        + _FOOTER
        + '<div id="record_popover" role="tooltip" hidden></div>\n'
        f'<script type="application/json" id="records_json">{payload}</script>\n'
        f"<script>{_JS}{_TABLE_JS}</script>\n"
        "</body>\n</html>\n"
    )


# --- the index -------------------------------------------------------------------------

_SOURCE_COLUMNS = (
    _Column("Source"),
    _Column("Source id"),
    _Column("Figures", numeric=True),
    _Column("Events", numeric=True),
    _Column("Corrections", numeric=True),
)


def _ids_by_source(
    provenance: pd.DataFrame, corrections: pd.DataFrame, known: set[str]
) -> dict[str, str]:
    """{source_id: "id id ..."}: every record and correction id, sorted, under its source.
    Refuses an id used twice, an id that is not kebab-case (the map is space-separated)
    and an id of an unknown source. Arrow does the whole-column work (counting, matching,
    sorting; UTF-8 byte order is code-point order); Python only joins the sorted ids."""
    pairs = pa.table(
        {
            "id": _strings(provenance["record_id"], corrections["correction_id"]),
            "source_id": _strings(provenance["source_id"], corrections["source_id"]),
        }
    )
    ids = pairs["id"]
    if pc.count_distinct(ids).as_py() < len(ids):
        counted = pc.value_counts(ids)
        twice = counted.field("values").filter(pc.greater(counted.field("counts"), 1))
        raise ValueError(
            f"id {min(twice.to_pylist())} names two records or corrections; "
            "ids are unique across all sources."
        )
    kebab = pc.match_substring_regex(ids, f"^(?:{_ID.pattern})$")
    bad = ids.filter(pc.invert(kebab))
    if len(bad):
        raise ValueError(f"id {min(bad.to_pylist())!r} is not lowercase kebab-case.")
    foreign = pairs.filter(
        pc.invert(pc.is_in(pairs["source_id"], pa.array(sorted(known), pa.large_string())))
    )
    if foreign.num_rows:
        first_id, first_source = min(zip(*foreign.to_pydict().values(), strict=True))
        raise ValueError(f"{first_id} names unknown source {first_source}.")
    ordered = pairs.sort_by([("source_id", "ascending"), ("id", "ascending")])
    grouped = itertools.groupby(
        zip(ordered["source_id"].to_pylist(), ordered["id"].to_pylist(), strict=True),
        key=operator.itemgetter(0),
    )
    return {sid: " ".join(i for _, i in items) for sid, items in grouped}


def _strings(*columns: pd.Series) -> pa.ChunkedArray:
    """Columns of ids, one after the other, as Arrow strings, without a copy when they are
    Arrow-backed (a missing id as "", which no id matches)."""
    arrays = [pa.array(column, from_pandas=True) for column in columns]
    return pc.fill_null(pa.chunked_array(arrays), "").cast(pa.large_string())


def _counts(df: pd.DataFrame, kind: str, key: str, known: set[str]) -> dict[str, int]:
    counts = df["source_id"].value_counts()
    unknown = sorted(set(counts.index) - known)
    if unknown:
        first = df.loc[df["source_id"] == unknown[0], key].min()
        raise ValueError(f"{kind} {first} names unknown source {unknown[0]}.")
    return {str(k): int(v) for k, v in counts.items()}


def index_page(
    sources: pd.DataFrame,
    figures: pd.DataFrame,
    events: pd.DataFrame,
    provenance: pd.DataFrame,
    corrections: pd.DataFrame,
    version: str,
) -> str:
    """The index of the provenance pages (outputs/provenance.html) as one HTML string: the
    dataset version and one row per source (its title, id, counts and a link to its page).

    Links shared before there was one page per source keep working: an inline map of every
    record and correction id to its source sends `provenance.html#<id>` on to
    `provenance/<source_id>.html#<id>`; an empty or unknown fragment shows the index. The
    tables are checked as a whole here (ids unique across sources, every row of a known
    source), which no single source page can do.
    """
    source_rows = sorted(_rows_by_id(sources, "source_id").values(), key=lambda s: s["source_id"])
    known = {s["source_id"] for s in source_rows}
    for sid in sorted(known):
        source_page_path(sid)
    n_figures = _counts(figures, "figure", "figure_id", known)
    n_events = _counts(events, "event", "event_id", known)
    n_corrections = _counts(corrections, "correction", "correction_id", known)
    _counts(provenance, "provenance of", "record_id", known)
    ids = _ids_by_source(provenance, corrections, known)

    rows = []
    for index, source in enumerate(source_rows):
        sid, title = source["source_id"], _text(source["title"])
        link = f'<a href="{escape(source_page_path(sid))}">{escape(title)}</a>'
        cells = [
            _cell(link, title.lower(), raw_html=True),
            _cell(f"<code>{escape(sid)}</code>", sid, raw_html=True),
            _cell(str(n_figures.get(sid, 0))),
            _cell(str(n_events.get(sid, 0))),
            _cell(str(n_corrections.get(sid, 0))),
        ]
        rows.append(f'<tr data-index="{index}">{"".join(cells)}</tr>\n')
    totals = (
        f"{len(source_rows)} sources, {len(figures)} figures, {len(events)} events, "
        f"{len(corrections)} corrections"
    )
    payload = json.dumps(
        {"dir": SOURCE_PAGES_DIR, "ids": ids},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).replace("<", "\\u003c")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Provenance of {len(source_rows)} sources (version {escape(version)})</title>\n"
        f"<style>{_CSS}</style>\n"
        # before <body>: an old link is sent on before the index is drawn
        f'<script type="application/json" id="ids_json">{payload}</script>\n'
        f"<script>{_INDEX_JS}</script>\n"
        "</head>\n<body>\n"
        "<header>\n"
        f'<p class="kicker">Provenance pages · dataset version <strong>{escape(version)}'
        f"</strong> · {totals}</p>\n"
        "<h1>Where every figure and event was read</h1>\n"
        '<p class="audit"><strong>How to audit:</strong> each source has its own page: its text '
        "as printed with every figure and event highlighted, their rows in popovers and tables "
        "that sort and filter. An address ending in <code>#&lt;id&gt;</code>, on this page or "
        "on a source's page, opens the source holding that figure, event or correction and "
        f"marks it. For the full lineage of one number run <code>{EXPLAIN_COMMAND} &lt;id&gt;"
        "</code>.</p>\n"
        '<p class="status" id="index_status" aria-live="polite"></p>\n'
        "</header>\n<main>\n"
        + _table(
            "sources",
            "Sources",
            1,
            _SOURCE_COLUMNS,
            rows,
            caption="select a column header to sort, follow a title to the source's page.",
            placeholder="title, id or number",
        )
        + "</main>\n"
        "<footer>Made by <code>pipeline/site/pages.py</code> from the published tables "
        "(<code>outputs/*.parquet</code>). One page per source: "
        f"<code>{SOURCE_PAGES_DIR}/&lt;source_id&gt;.html</code>.</footer>\n"
        f"<script>{_TABLE_JS}</script>\n"
        "</body>\n</html>\n"
    )


_FOOTER = (
    "<footer>Made by <code>pipeline/site/pages.py</code> from the published tables "
    "(<code>outputs/*.parquet</code>) and the source snapshots (<code>raw/&lt;source_id&gt;/"
    "source.txt</code>). Positions are code points of the snapshot, end exclusive.</footer>\n"
)


_CSS = """
:root { color-scheme: light; --fig: #fff0a3; --fig-edge: #c99a00; --fig-many: #ffd95a;
  --evt: #dcecff; --evt-edge: #2f6fd6; --evt-many: #b9d6ff; --mark: #b3124f; --ink: #1b1b1f;
  --muted: #5b5b66; --line: #d9d9e0; --corr: #d1122e; --corr-bg: #fde9ec; }
* { box-sizing: border-box; }
html { scroll-padding-top: 4rem; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Liberation Sans", sans-serif; font-size: 1rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
  monospace; font-size: .9em; }
a { color: #1a4fb3; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; z-index: 30; }
.skip:focus { left: .5rem; }
.bar { position: sticky; top: 0; z-index: 10; display: flex; flex-wrap: wrap; gap: .3rem 1rem;
  align-items: center; padding: .45rem 1rem; background: #f6f6f9; border-bottom: 1px solid
  var(--line); font-size: .85rem; }
.bar nav { margin-left: auto; display: flex; gap: .8rem; }
.legend { display: flex; flex-wrap: wrap; gap: .35rem; }
.sw { padding: 0 .35rem; border-radius: 3px; }
.status { font-weight: 600; color: var(--mark); }
header, main { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: .3rem 0 .6rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
h2 .n { color: var(--muted); font-weight: 400; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0;
  font-size: .9rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.audit { background: #f6f6f9; border-left: 4px solid var(--evt-edge); padding: .5rem .75rem;
  font-size: .92rem; }
.text { white-space: pre-wrap; overflow-wrap: break-word; font-size: 1.02rem; line-height: 1.75;
  border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; background: #fdfdfb; }
.hl { border-radius: 2px; cursor: help; }
.hl-figure { background: var(--fig); box-shadow: inset 0 -2px 0 var(--fig-edge); }
.hl-event { background: var(--evt); box-shadow: inset 0 -2px 0 var(--evt-edge); }
.hl-figure.hl-event { background: var(--fig); box-shadow: inset 0 -3px 0 var(--evt-edge); }
.hl-figure.hl-many { background: var(--fig-many); }
.hl-event.hl-many:not(.hl-figure) { background: var(--evt-many); }
.corr, .printed { text-decoration: underline wavy var(--corr); text-decoration-thickness: 1.5px;
  text-underline-offset: .3em; text-decoration-skip-ink: none; }
.text .corr { cursor: help; }
.corr:not(.hl) { background: var(--corr-bg); border-radius: 2px; }
.hl:hover, .text .corr:hover { filter: brightness(.93); }
.hl.marked, .corr.marked, .sw-marked { background: var(--mark); color: #fff; box-shadow: none;
  outline: 2px solid var(--mark); }
.corr.marked { text-decoration-color: #fff; }
.hl:focus-visible, .corr:focus-visible { outline: 3px solid #111; outline-offset: 1px; }
.hl.marked:focus-visible, .corr.marked:focus-visible { outline: 3px solid #111; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
  margin-bottom: .5rem; font-size: .92rem; }
.controls input { font: inherit; padding: .3rem .5rem; min-width: 14rem; max-width: 100%;
  border: 1px solid #9a9aa6; border-radius: 4px; }
.count { color: var(--muted); }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table.records { border-collapse: collapse; width: 100%; font-size: .88rem; }
caption { text-align: left; padding: .4rem .6rem; color: var(--muted); font-size: .85rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-top: 1px solid
  var(--line); }
td:first-child { min-width: 15rem; }
th { background: #f6f6f9; white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
  cursor: pointer; color: inherit; text-align: left; }
th button::after { content: " ↕"; color: #9a9aa6; }
th[aria-sort="ascending"] button::after { content: " ▲"; color: var(--ink); }
th[aria-sort="descending"] button::after { content: " ▼"; color: var(--ink); }
tbody tr:hover { background: #f3f6fc; }
tr.current { background: #fbe3ec; }
#record_popover { position: absolute; z-index: 20; max-width: min(27rem, calc(100vw - 1rem));
  max-height: 70vh; overflow: auto; background: #fff; border: 1px solid #b9b9c4;
  border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.18); padding: .55rem .75rem;
  font-size: .86rem; line-height: 1.4; }
#record_popover[hidden] { display: none; }
.card + .card { border-top: 1px solid var(--line); margin-top: .5rem; padding-top: .5rem; }
.card.is-marked { border-left: 4px solid var(--mark); padding-left: .5rem; }
.card.correction { border-left: 4px solid var(--corr); padding-left: .5rem; }
.card.correction.is-marked { border-left-color: var(--mark); }
.card .fix { margin: 0 0 .3rem; }
.card .fix .was { text-decoration: underline wavy var(--corr); text-decoration-skip-ink: none;
  text-underline-offset: .25em; }
.card h3 { font-size: .9rem; margin: 0 0 .3rem; display: flex; gap: .4rem; align-items: baseline;
  flex-wrap: wrap; }
.badge { font-size: .72rem; text-transform: uppercase; letter-spacing: .04em; padding: 0 .35rem;
  border-radius: 3px; }
.badge.figure { background: var(--fig); box-shadow: inset 0 -2px 0 var(--fig-edge); }
.badge.event { background: var(--evt); box-shadow: inset 0 -2px 0 var(--evt-edge); }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: .05rem .6rem; margin: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card .big { font-size: 1.05rem; font-weight: 700; }
footer { max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: var(--muted);
  font-size: .85rem; }
@media (max-width: 40rem) {
  .bar { position: static; }
  html { scroll-padding-top: 0; }
  .bar nav { margin-left: 0; }
  .text { padding: .7rem; font-size: 1rem; }
  h1 { font-size: 1.2rem; }
}
@media (prefers-reduced-motion: no-preference) { html { scroll-behavior: auto; } }
"""

_JS = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("records_json").textContent);
  var pop = document.getElementById("record_popover");
  var status = document.getElementById("marked_status");
  // a segment lists the records (data-records) and corrections (data-corrections) covering it
  function idsOf(seg, attr) {
    var v = seg.getAttribute(attr);
    return v ? v.split(" ") : [];
  }
  var segsById = {};
  var segments = Array.prototype.slice.call(document.querySelectorAll(".text .hl, .text .corr"));
  segments.forEach(function (seg) {
    idsOf(seg, "data-records").concat(idsOf(seg, "data-corrections")).forEach(function (id) {
      (segsById[id] = segsById[id] || []).push(seg);
    });
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function field(dl, label, value, cls) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", cls, value));
  }
  function fixLine(id) {
    // Correction <id>: printed "<printed>" -> "<corrected>" - <reason> (reported <date> by <who>)
    var row = DATA[id].row;
    var p = el("p", "fix");
    var head = el("strong", null, "Correction ");
    head.appendChild(el("code", null, id));
    head.appendChild(document.createTextNode(":"));
    p.appendChild(head);
    p.appendChild(document.createTextNode(" printed \""));
    p.appendChild(el("span", "was", row.printed));
    p.appendChild(document.createTextNode("\" \u2192 \""));
    p.appendChild(el("span", "now", row.corrected));
    p.appendChild(document.createTextNode("\" \u2014 " + row.reason +
      " (reported " + row.reported_on + " by " + row.reported_by + ")"));
    return p;
  }
  function correctionCard(id, markedId) {
    var row = DATA[id].row;
    var box = el("div", "card correction" + (id === markedId ? " is-marked" : ""));
    box.appendChild(fixLine(id));
    var dl = el("dl");
    field(dl, "Printed at", "line " + row.line + ", column " + row.column);
    field(dl, "Annotation", row.annotation_file + ":" + row.annotation_line);
    box.appendChild(dl);
    return box;
  }
  function card(id, markedId) {
    var rec = DATA[id], row = rec.row, where = rec.provenance;
    if (rec.type === "correction") return correctionCard(id, markedId);
    var box = el("div", "card" + (id === markedId ? " is-marked" : ""));
    var h = el("h3");
    h.appendChild(el("span", "badge " + rec.type, rec.type));
    h.appendChild(el("code", null, id));
    box.appendChild(h);
    var dl = el("dl");
    if (rec.type === "figure") {
      field(dl, "Value", [rec.shown.value, row.unit].join(" ").trim(), "big");
      field(dl, "As printed", row.value_as_printed);
      field(dl, "Unit as printed", row.unit_as_printed);
      field(dl, "Qualifier", row.qualifier + (row.is_target ? " (target)" : ""));
      field(dl, "Period", rec.shown.period || "not stated");
      field(dl, "Measure", row.measure);
      field(dl, "Subject", row.subject);
      field(dl, "Actor", row.actor);
      field(dl, "Derived from", row.derived_from);
    } else {
      field(dl, "Kind", row.kind);
      field(dl, "Name", row.name, "big");
      field(dl, "Name (es)", row.name_es);
      field(dl, "Date", rec.shown.date || "not stated");
      field(dl, "Place", row.place);
      field(dl, "Parties", row.parties && row.parties.split(";").join(", "));
    }
    field(dl, "Quote", "\u201c" + where.quote + "\u201d");
    field(dl, "Corrections", (row.correction_ids || "").split(";").filter(Boolean)
      .map(function (c) {
        var fix = DATA[c] && DATA[c].row;
        return fix ? c + " (\"" + fix.printed + "\" \u2192 \"" + fix.corrected + "\")" : c;
      }).join("; "));
    field(dl, "Note", row.note);
    field(dl, "Printed at", "line " + where.line + ", column " + where.column);
    field(dl, "Annotation", where.annotation_file + ":" + where.annotation_line);
    field(dl, "Audit", "python -m pipeline explain " + id);
    box.appendChild(dl);
    return box;
  }

  var shownFor = null;
  function show(seg) {
    var markedId = currentId();
    var ids = idsOf(seg, "data-records").concat(idsOf(seg, "data-corrections"));
    ids.sort(function (a, b) {
      // the marked record or correction first, else records then corrections in text order
      return (b === markedId) - (a === markedId);
    });
    pop.textContent = "";
    ids.forEach(function (id) { if (DATA[id]) pop.appendChild(card(id, markedId)); });
    pop.hidden = false;
    shownFor = seg;
    seg.setAttribute("aria-describedby", "record_popover");
    var rects = seg.getClientRects();
    var r = rects.length ? rects[0] : seg.getBoundingClientRect();
    pop.style.left = "0px";
    pop.style.top = "0px";
    var pw = pop.offsetWidth, ph = pop.offsetHeight;
    var vw = document.documentElement.clientWidth, vh = window.innerHeight;
    var left = Math.max(8, Math.min(r.left, vw - pw - 8));
    var bar = document.querySelector(".bar").getBoundingClientRect();
    var top = r.bottom + 8;
    if (top + ph > vh - 8 && r.top - ph - 8 > Math.max(0, bar.bottom)) top = r.top - ph - 8;
    pop.style.left = (left + window.scrollX) + "px";
    pop.style.top = (top + window.scrollY) + "px";
  }
  function hide() {
    if (shownFor) shownFor.removeAttribute("aria-describedby");
    pop.hidden = true;
    shownFor = null;
  }
  function isSeg(node) {
    return Boolean(node && node.classList &&
      (node.classList.contains("hl") || node.classList.contains("corr")) &&
      (node.hasAttribute("data-records") || node.hasAttribute("data-corrections")));
  }
  document.addEventListener("mouseover", function (e) {
    if (isSeg(e.target)) show(e.target);
  });
  document.addEventListener("mouseout", function (e) {
    if (!isSeg(e.target)) return;
    var active = document.activeElement;
    if (isSeg(active)) show(active); else hide();
  });
  document.addEventListener("focusin", function (e) {
    if (isSeg(e.target)) show(e.target); else hide();
  });
  document.addEventListener("focusout", function (e) {
    if (isSeg(e.target) && !isSeg(e.relatedTarget)) hide();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") hide();
  });

  function currentId() {
    var raw = location.hash.slice(1);
    try { return decodeURIComponent(raw); } catch (err) { return raw; }
  }
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".marked"), function (s) {
      s.classList.remove("marked");
    });
    Array.prototype.forEach.call(document.querySelectorAll("tr.current"), function (r) {
      r.classList.remove("current");
    });
    var id = currentId();
    var segs = segsById[id];
    if (!segs || !DATA[id]) { status.textContent = ""; return; }
    segs.forEach(function (s) { s.classList.add("marked"); });
    Array.prototype.forEach.call(
      document.querySelectorAll('table.records a[href="#' + id + '"]'),
      function (a) { a.closest("tr").classList.add("current"); });
    status.textContent = "Marked: " + id;
    // the quote a third down the window, below the bar, leaving room for its popover
    var r = segs[0].getBoundingClientRect();
    var barBottom = Math.max(0, document.querySelector(".bar").getBoundingClientRect().bottom);
    window.scrollTo(0, window.scrollY + r.top - Math.max(barBottom + 16, window.innerHeight / 3));
    segs[0].focus({ preventScroll: true });
    show(segs[0]);
  }
  window.addEventListener("hashchange", mark);
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (a && a.getAttribute("href") === location.hash) { e.preventDefault(); mark(); }
  });

  // After the browser's own jump to the fragment, which would put the quote under the bar.
  if (document.readyState === "complete") mark();
  else window.addEventListener("load", function () { setTimeout(mark, 0); });
})();
"""

# Filtering and sorting of every table.records, on the source pages and the index.
_TABLE_JS = r"""
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(table.id.replace("_table_", "_count_"));
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var hay = rows.map(function (r) { return r.textContent.toLowerCase(); });
    input.addEventListener("input", function () {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (r, i) {
        var ok = terms.every(function (t) { return hay[i].indexOf(t) !== -1; });
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("table.records"), function (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(r) {
          var c = r.cells[col];
          var k = c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent;
          if (!numeric) return k.toLowerCase();
          return k === "" ? null : parseFloat(k);
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), order = 0;
          if (x === null || x === "") order = (y === null || y === "") ? 0 : 1;
          else if (y === null || y === "") order = -1;
          else order = dir * (x < y ? -1 : x > y ? 1 : 0);
          return order || (+a.getAttribute("data-index") - +b.getAttribute("data-index"));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""

# The index: sends a link of the time of the single page (provenance.html#<id>) on to the page
# of the source holding that id. Runs in <head>, before the index is drawn.
_INDEX_JS = r"""
(function () {
  "use strict";
  var MAP = JSON.parse(document.getElementById("ids_json").textContent);
  var ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  function wanted() {
    var raw = location.hash.slice(1);
    try { return decodeURIComponent(raw); } catch (err) { return raw; }
  }
  function sourceOf(id) {
    if (!ID.test(id)) return null;
    var needle = " " + id + " ";
    var sources = Object.keys(MAP.ids);
    for (var i = 0; i < sources.length; i++) {
      if ((" " + MAP.ids[sources[i]] + " ").indexOf(needle) !== -1) return sources[i];
    }
    return null;
  }
  function forward() {
    var id = wanted();
    var source = id ? sourceOf(id) : null;
    if (source) location.replace(MAP.dir + "/" + source + ".html#" + id);
    return Boolean(source);
  }
  function note() {
    if (forward()) return;
    var id = wanted();
    document.getElementById("index_status").textContent = id
      ? "No figure, event or correction has the id \u201c" + id + "\u201d in this version."
      : "";
  }
  if (!forward()) document.addEventListener("DOMContentLoaded", note);
  window.addEventListener("hashchange", note);
})();
"""
