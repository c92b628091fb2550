"""The provenance pages rendered: a source's page and the index, each from its template in
templates/ with static/ inlined (a page opened from disk loads nothing). Values are escaped as
html.escape does; the same inputs give the same bytes, whatever the order of the rows given.
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

from pipeline.site import checks, labels
from pipeline.site.labels import Rows, as_rows, period_label
from pipeline.site.segments import check_corrections, segments, spans

INDEX_FILE = "provenance.html"  # the index, beside the folder of the source pages
# The provenance fields a record's popover shows; all but the two texts are positions (ints).
_PROVENANCE_FIELDS = ("char_start", "char_end", "line", "column", "quote", "numeral_start",
                      "numeral_end", "annotation_file", "annotation_line")  # fmt: skip
_TEXT_FIELDS = ("quote", "annotation_file")


def _escaped(value: Any) -> Markup:
    """A value escaped, quotes included, unless it is markup already (a macro, a static file)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


def _json_script(value: Any) -> Markup:
    """Data for a <script type="application/json"> block: sorted keys, no "<" to end it."""
    dumped = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Markup(dumped.replace("<", "\\u003c"))


@functools.cache
def _static(name: str) -> Markup:
    """A file of static/ (style or script), inlined into the page."""
    return Markup(resources.files("pipeline.site").joinpath("static", name).read_text("utf-8"))


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates' environment, made once per process; an undefined name is an error."""
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
        size=labels.size,
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
        period = period_label(row["period_start"], row["period_end"])
        return {"value": labels.number(row["value"]), "period": period}
    return {"date": period_label(row["date_start"], row["date_end"])} if kind == "event" else {}


def source_page(
    sources: pd.DataFrame | Rows,
    figures: pd.DataFrame | Rows,
    events: pd.DataFrame | Rows,
    provenance: pd.DataFrame | Rows,
    text: str,
    corrections: pd.DataFrame | Rows | None = None,
    actors: pd.DataFrame | Rows = (),
) -> str:
    """The page of one source (outputs/provenance/<source_id>.html), from tables or their rows
    as `plain_rows` gives them (a caller making many pages converts each table once).

    `sources` holds that one source's row and the other tables that source's rows only
    (ValueError otherwise): the page depends on nothing else, not even the dataset version.
    Without `corrections` the page marks no corrections and has no corrections table. Every
    mention of a record is marked; its anchor (#id) is at its quote.
    """
    with_corrections = corrections is not None
    corrections = as_rows(corrections) if with_corrections else []
    provenance = as_rows(provenance)
    source, record_rows, prov_rows, correction_rows = checks.source_rows(
        as_rows(sources), as_rows(figures), as_rows(events), provenance, corrections,
        as_rows(actors),
    )  # fmt: skip
    sid = source["source_id"]
    records = spans(provenance, text, sid, correction=False)
    fixes = spans(corrections, text, sid, correction=True)
    data = {c.span_id: {"type": "correction", "row": correction_rows[c.span_id]} for c in fixes}
    listed: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {k: [] for k in record_rows}
    mentions: dict[str, list] = {}
    for record in records:
        mentions.setdefault(record.span_id, []).append(record)
    for record in (r for r in records if r.primary):
        row = record_rows[record.kind][record.span_id]
        where = _where(prov_rows[record.span_id])
        if with_corrections:
            ids = [c for c in labels.text(row.get("correction_ids")).split(";") if c]
            check_corrections(mentions[record.span_id], ids, fixes, set(correction_rows))
        listed[record.kind].append((row, where))
        data[record.span_id] = {
            "type": record.kind,
            "row": row,
            "provenance": where,
            "shown": _shown(record.kind, row),
        }
    template = _environment().get_template("source.html.j2")
    return template.render(
        source=source,
        sha256=labels.text(source.get("sha256")),
        length=len(text),
        segments=segments(text, records, fixes),
        figures=listed["figure"],
        events=listed["event"],
        corrections=[correction_rows[c.span_id] for c in fixes] if with_corrections else None,
        data=data,
    )


def index_page(
    sources: pd.DataFrame,
    figures: pd.DataFrame,
    events: pd.DataFrame,
    provenance: pd.DataFrame,
    corrections: pd.DataFrame,
    version: str,
) -> str:
    """The index (outputs/provenance.html): the version and one row per source. An inline map
    of every id to its source sends an old link `provenance.html#<id>` on to the source's page.
    The tables are checked as a whole here (ids unique, every row of a known source)."""
    listed = sorted(
        checks.rows_by_id(as_rows(sources), "source_id").values(), key=lambda s: s["source_id"]
    )
    known = {s["source_id"] for s in listed}
    for sid in sorted(known):
        checks.source_page_path(sid)
    counted = {
        "figures": checks.counts(figures, "figure", "figure_id", known),
        "events": checks.counts(events, "event", "event_id", known),
        "corrections": checks.counts(corrections, "correction", "correction_id", known),
    }
    checks.counts(provenance, "provenance of", "record_id", known)
    ids = checks.ids_by_source(provenance.loc[provenance["mention"] == 1], corrections, known)
    template = _environment().get_template("index.html.j2")
    return template.render(
        sources=[(s, checks.source_page_path(s["source_id"])) for s in listed],
        counted=counted,
        totals={"figures": len(figures), "events": len(events), "corrections": len(corrections)},
        version=version,
        ids={"dir": checks.SOURCE_PAGES_DIR, "ids": ids},
    )
