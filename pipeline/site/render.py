"""The provenance pages rendered: the Jinja environment, a source's page and the index.

What belongs here: checking the tables (checks.py, segments.py), gathering what a page
shows and handing it to its template (templates/source.html.j2, templates/index.html.j2),
with the style and script of static/ inlined so a page opened from disk loads nothing.
Every value is escaped as html.escape escapes it; the text as printed keeps its quotes.
The same inputs give the same bytes, whatever the order of the rows given.
"""

from __future__ import annotations

import functools
import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from pipeline.site import labels
from pipeline.site.checks import (
    SOURCE_PAGES_DIR,
    counts,
    ids_by_source,
    rows_by_id,
    source_page_path,
    source_rows,
)
from pipeline.site.labels import Rows, as_rows, period_label
from pipeline.site.segments import check_corrections, corrections_of, records_of, segments

INDEX_FILE = "provenance.html"  # the index, beside the folder of the source pages
# The provenance fields a record's popover shows; all but the two texts are positions (ints).
_PROVENANCE_FIELDS = ("char_start", "char_end", "line", "column", "quote", "numeral_start",
                      "numeral_end", "annotation_file", "annotation_line")  # fmt: skip
_TEXT_FIELDS = ("quote", "annotation_file")


def _escaped(value: Any) -> Markup:
    """A value as the page shows it: escaped, quotes included, unless it is markup already
    (a macro's output, a static file)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


def _json_script(value: Any) -> Markup:
    """Data for a <script type="application/json"> block: sorted keys, and no "<", so
    "</script>" or "<!--" in the data cannot end the block."""
    dumped = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Markup(dumped.replace("<", "\\u003c"))


@functools.cache
def _static(name: str) -> Markup:
    """A file of static/ (style or script), inlined into the page."""
    return Markup(resources.files("pipeline.site").joinpath("static", name).read_text("utf-8"))


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates' environment, made once per process: values escaped as `_escaped`
    does, block tags leave no blank lines, an undefined name is an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        auto_reload=False,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        text=labels.text,
        number=labels.number,
        prose=lambda s: Markup(html.escape(s, quote=False)),  # the text keeps its quotes
        json_script=_json_script,
        as_printed=_as_printed,
    )
    env.globals.update(static=_static, period=period_label, index_file=INDEX_FILE)
    return env


def _as_printed(fig: dict[str, Any]) -> str:
    """A figure's value as printed with its unit: "34.6" "tons", not "$6 billion" "$"."""
    printed, unit = fig["value_as_printed"] or "", fig["unit_as_printed"] or ""
    return f"{printed} {unit}" if unit and unit.lower() not in printed.lower() else printed


def _where(prov: dict[str, Any]) -> dict[str, Any]:
    """A record's provenance fields, its positions as ints."""
    where = {k: prov.get(k) for k in _PROVENANCE_FIELDS}
    return {k: v if v is None or k in _TEXT_FIELDS else int(v) for k, v in where.items()}


def _shown(kind: str, row: dict[str, Any]) -> dict[str, str]:
    """A record's value and period (a figure) or date (an event) as the popover shows them."""
    if kind == "figure":
        return {
            "value": labels.number(row["value"]),
            "period": period_label(row["period_start"], row["period_end"]),
        }
    return {"date": period_label(row["date_start"], row["date_end"])}


def _listed_corrections(row: dict[str, Any]) -> list[str]:
    """The ids in a figure's or event's correction_ids ("a;b"), none when the column is absent."""
    return [c for c in labels.text(row.get("correction_ids")).split(";") if c]


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
        as_rows(sources), as_rows(figures), as_rows(events), as_rows(provenance), text,
        None if corrections is None else as_rows(corrections),
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
    with_corrections = corrections is not None
    corrections = corrections or []
    source, figure_rows, event_rows, prov_rows, correction_rows = source_rows(
        sources, figures, events, provenance, corrections
    )
    sid = source["source_id"]
    records = records_of(provenance, text, sid)
    fixes = corrections_of(corrections, text, sid)
    data = {c.span_id: {"type": "correction", "row": correction_rows[c.span_id]} for c in fixes}
    listed: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {"figure": [], "event": []}
    for record in records:
        row = (figure_rows if record.kind == "figure" else event_rows)[record.span_id]
        where = _where(prov_rows[record.span_id])
        if with_corrections:
            check_corrections(record, _listed_corrections(row), fixes, set(correction_rows))
        listed[record.kind].append((row, where))
        data[record.span_id] = {
            "type": record.kind,
            "row": row,
            "provenance": where,
            "shown": _shown(record.kind, row),
        }
    return (
        _environment()
        .get_template("source.html.j2")
        .render(
            source=source,
            sha256=labels.text(source.get("sha256")),
            length=len(text),
            segments=segments(text, records, fixes),
            figures=listed["figure"],
            events=listed["event"],
            corrections=[correction_rows[c.span_id] for c in fixes] if with_corrections else None,
            data=data,
        )
    )


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
    listed = sorted(
        rows_by_id(as_rows(sources), "source_id").values(), key=lambda s: s["source_id"]
    )
    known = {s["source_id"] for s in listed}
    for sid in sorted(known):
        source_page_path(sid)
    counted = {
        "figures": counts(figures, "figure", "figure_id", known),
        "events": counts(events, "event", "event_id", known),
        "corrections": counts(corrections, "correction", "correction_id", known),
    }
    counts(provenance, "provenance of", "record_id", known)
    ids = ids_by_source(provenance, corrections, known)
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            sources=[(s, source_page_path(s["source_id"])) for s in listed],
            counted=counted,
            totals={
                "figures": len(figures),
                "events": len(events),
                "corrections": len(corrections),
            },
            version=version,
            ids={"dir": SOURCE_PAGES_DIR, "ids": ids},
        )
    )
