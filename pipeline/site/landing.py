"""The landing page, outputs/index.html: what the dataset is and how to cite it, every file of
the package with its size and sha256, a chart per measure with comparable points (Vega-Lite
rendered to SVG by vl-convert, each mark linked to its figure's place on the source page),
every figure and event browsable and linked to the original publication at its characters (a
text fragment), the codebook (table_defs() and schemas/) and schema.org Dataset JSON-LD.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import vl_convert
from markupsafe import Markup

from pipeline.core.fields import table_defs, vocabulary
from pipeline.core.sources import sha256_file
from pipeline.site import labels
from pipeline.site.checks import rows_by_id, source_page_path
from pipeline.site.fragments import text_fragment
from pipeline.site.labels import Rows, as_rows, period_label
from pipeline.site.render import _environment

LANDING_FILE = "index.html"
FORMATS = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
           ".json": "application/json", ".jsonld": "application/ld+json", ".md": "text/markdown",
           ".html": "text/html", ".sqlite": "application/vnd.sqlite3",
           ".zip": "application/zip"}  # fmt: skip
VEGA_BASE = 'xlink:href="https://vega.github.io/vega-datasets/'  # vl-convert's loader base URL
LINKED_MARK = re.compile(r'(<a [^>]*><(path|line) aria-label="([^"]*)"[^>]*?)/>')
# A figure's kind (its qualifier, or "target") is drawn as a shape: qualifiers in the order of
# their enum, targets hollow squares.
SHAPES = ("circle", "triangle-up", "triangle-down", "diamond", "cross", "triangle-left", "wedge")
TARGET = "target"


@dataclass(frozen=True)
class Download:
    path: str  # relative to the page, "/"-separated
    bytes: int
    sha256: str

    @property
    def format(self) -> str:
        return FORMATS.get(Path(self.path).suffix, "application/octet-stream")


def downloads(folder: Path) -> list[Download]:
    """Every file of the package but the landing page, by path, with its size and sha256."""
    found = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    found.pop(LANDING_FILE, None)
    return [Download(k, p.stat().st_size, sha256_file(p)) for k, p in sorted(found.items())]


def citation(meta: dict[str, Any], version: str, sources: Rows) -> str:
    """How to cite the dataset, its version filled in, and the texts it was read from."""
    made_by = "; ".join(c["title"] for c in meta["contributors"] if c.get("role") != "author")
    read = "; ".join(f'{s["publisher"]}, "{s["title"]}", {s["url"]}' for s in sources)
    return f"{made_by}. {meta['title']}, version {version} ({meta['name']}). Read from: {read}."


def _first_mentions(provenance: Rows) -> dict[str, dict[str, Any]]:
    """Each record's quote: its provenance row of mention 1 (its only row without mentions)."""
    found: dict[str, dict[str, Any]] = {}
    for row in provenance:
        if row.get("mention", 1) == 1:
            found.setdefault(row["record_id"], row)
    return found


def _as_date(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value)[:10])


def _placed(record: dict[str, Any], sources: dict, anchors: dict, texts: dict) -> dict:
    """Where a record is shown: its place on the source page, and the original publication
    at its quote (a text fragment of the source's published URL)."""
    sid, rid = record["source_id"], record.get("figure_id") or record["event_id"]
    at = anchors[rid]
    url = sources[sid]["url"]
    origin = text_fragment(url, texts[sid], int(at["char_start"]), int(at["char_end"]))
    return {"id": rid, "href": f"{source_page_path(sid)}#{rid}", "origin": origin}


def _figure(fig: dict[str, Any], placed: dict, measures: dict, subjects: dict) -> dict:
    """A figure as the table, the filters and the charts show it."""
    start, end = _as_date(fig["period_start"]), _as_date(fig["period_end"])
    years = list(range((start or end).year, (end or start).year + 1)) if start or end else []
    kind = TARGET if fig["is_target"] else fig["qualifier"]
    value = f"{labels.number(fig['value'])} {fig['unit']}"
    how = "" if fig["qualifier"] == "exact" else f" ({fig['qualifier'].replace('_', ' ')})"
    period = period_label(fig["period_start"], fig["period_end"])
    subject = subjects.get(fig["subject"], {}).get("label", fig["subject"])
    about = f"{'target: ' if fig['is_target'] else ''}{value}{how}, {period or 'no period'}"
    measure = measures.get(fig["measure"], {}).get("label", fig["measure"])
    return {
        **placed,
        "row": fig,
        "measure": measure,
        "subject": subject,
        "period": period,
        "keys": {
            "measure": [(fig["measure"], measure)],
            "country": [(fig["country"],) * 2],
            "subject": [(fig["subject"], subject)],
            "year": [(str(y),) * 2 for y in years],
        },
        "value": value + how,
        "kind": kind,
        "description": f"{about} · {subject} · {fig['country']}",
        "span": (start or end, (end or start) + dt.timedelta(days=1)) if years else None,
    }


def _chart_spec(label: str, unit: str, figures: list[dict], kinds: list[str]) -> dict:
    """The Vega-Lite spec of one measure: a point per figure at the middle of its period, a
    line across the period, coloured by subject, shaped by kind; every mark links to its place."""
    values = [
        {"x0": a.isoformat(), "x1": b.isoformat(), "x": (a + (b - a) / 2).isoformat(),
         "value": f["row"]["value"], "href": f["href"], "description": f["description"],
         "subject": f["subject"], "kind": f["kind"]}
        for f in figures
        for a, b in [f["span"]]
    ]  # fmt: skip
    low, high = min(v["value"] for v in values), max(v["value"] for v in values)
    y = {"field": "value", "type": "quantitative", "title": unit}
    if low > 0 and high >= 100 * low:
        y["scale"] = {"type": "log"}
    common = {"y": y, "href": {"field": "href"}, "description": {"field": "description"},
              "color": {"field": "subject", "type": "nominal", "title": "subject"}}  # fmt: skip
    x = {"field": "x", "type": "temporal", "scale": {"type": "utc"}, "title": "period",
         "axis": {"format": "%Y", "tickCount": {"interval": "year", "step": 1}}}  # fmt: skip
    shape = {"field": "kind", "type": "nominal", "title": "kind",
             "scale": {"domain": kinds, "range": [_shape(k) for k in kinds]},
             "legend": {"labelExpr": "replace(datum.label, '_', ' ')"}}  # fmt: skip

    def points(targets: bool) -> dict:
        test = f"datum.kind {'==' if targets else '!='} '{TARGET}'"
        mark = {"type": "point", "filled": not targets, "size": 90, "strokeWidth": 2, "opacity": 1}
        return {"transform": [{"filter": test}], "mark": mark,
                "encoding": {**common, "x": x, "shape": shape}}  # fmt: skip

    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": f"{label} ({unit})",
        "width": 560,
        "height": 220,
        "data": {"values": values},
        "layer": [
            {"mark": {"type": "rule", "strokeWidth": 3, "opacity": 0.4},
             "encoding": {**common, "x": {**x, "field": "x0"}, "x2": {"field": "x1"}}},
            points(targets=False),
            points(targets=True),
        ],
    }  # fmt: skip


def _order(kind: str) -> int:
    """A kind's place: the qualifiers in the order of their enum, then targets."""
    field = next(f for f in table_defs()["figures"].fields if f.name == "qualifier")
    qualifiers = list(field.constraints["enum"])
    return qualifiers.index(kind) if kind in qualifiers else len(qualifiers)


def _shape(kind: str) -> str:
    return "square" if kind == TARGET else SHAPES[_order(kind) % len(SHAPES)]


def chart_svg(spec: dict) -> Markup:
    """The chart as SVG to inline: relative links kept relative, each linked mark's label
    (its `description`) also its <title>, which a browser shows on hover."""
    svg = vl_convert.vegalite_to_svg(spec, vl_version="6.4").replace(VEGA_BASE, 'xlink:href="')
    svg = LINKED_MARK.sub(r"\1><title>\3</title></\2>", svg)
    return Markup(svg)


def charts(figures: list[dict], measures: dict) -> list[dict]:
    """One chart per measure and unit with two or more figures that have a period."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for f in figures:
        if f["span"]:
            groups.setdefault((f["row"]["measure"], f["row"]["unit"]), []).append(f)
    made = []
    for (measure, unit), points in sorted(groups.items()):
        if len(points) < 2:
            continue
        kinds = sorted({p["kind"] for p in points}, key=lambda k: (_order(k), k))
        label = measures.get(measure, {}).get("label", measure)
        undrawn = sum(1 for f in figures if f["row"]["measure"] == measure and not f["span"])
        svg = chart_svg(_chart_spec(label, unit, points, kinds))
        made.append({"measure": measure, "label": label, "unit": unit, "svg": svg,
                     "points": len(points), "undrawn": undrawn})  # fmt: skip
    return made


def events_by_year(events: list[dict]) -> tuple[list[tuple[int, list[dict]]], list[dict]]:
    """The events under the year they start in (in date order), and the undated ones."""
    years: dict[int, list[dict]] = {}
    for e in events:
        day = _as_date(e["row"]["date_start"]) or _as_date(e["row"]["date_end"])
        if day:
            years.setdefault(day.year, []).append(e)
    for listed in years.values():
        listed.sort(key=lambda e: (str(e["row"]["date_start"] or e["row"]["date_end"]), e["id"]))
    undated = [e for e in events if not (e["row"]["date_start"] or e["row"]["date_end"])]
    return sorted(years.items()), undated


def _dates(figures: Rows, events: Rows) -> list[str]:
    cells = [f[k] for f in figures for k in ("period_start", "period_end")]
    cells += [e[k] for e in events for k in ("date_start", "date_end")]
    return sorted(str(v)[:10] for v in cells if v)


def dataset_jsonld(meta: dict, version: str, tables: dict[str, Rows], files: list[Download],
                   cite: str) -> dict[str, Any]:  # fmt: skip
    """The schema.org Dataset: one DataDownload per file, its contentUrl relative to the page."""
    figures, actors = tables["figures"], tables.get("actors", [])
    names = {a["country"]: a["name"] for a in actors if a.get("kind") == "country"}
    codes = sorted({f[k] for f in figures for k in ("country", "counterpart_country") if f.get(k)})
    dates = _dates(figures, tables["events"])
    return {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": meta["title"],
        "alternateName": meta["name"],
        "description": meta["description"],
        "version": version,
        "keywords": meta["keywords"],
        "license": meta["licenses"][0]["path"],
        "isAccessibleForFree": True,
        "creator": [{"@type": "Organization", "name": c["title"]} for c in meta["contributors"]],
        "citation": cite,
        **({"temporalCoverage": f"{dates[0]}/{dates[-1]}"} if dates else {}),
        "spatialCoverage": [
            {"@type": "Country", "identifier": c, "name": names.get(c, c)} for c in codes
        ],
        "isBasedOn": [
            {
                "@type": "CreativeWork",
                "name": s["title"],
                "url": s["url"],
                "publisher": {"@type": "Organization", "name": s["publisher"]},
            }
            for s in tables["sources"]
        ],  # fmt: skip
        "distribution": [
            {
                "@type": "DataDownload",
                "name": f.path,
                "contentUrl": f.path,
                "encodingFormat": f.format,
                "contentSize": f"{f.bytes} B",
                "sha256": f.sha256,
            }
            for f in files
        ],  # fmt: skip
    }


def codebook() -> dict[str, Any]:
    """Every table and field from table_defs(), every measure and subject from schemas/."""
    return {
        "tables": list(table_defs().values()),
        "measures": sorted(vocabulary("measures.yaml").items()),
        "subjects": sorted(vocabulary("subjects.yaml").items()),
    }


def _options(figures: list[dict], key: str) -> list[tuple[str, str]]:
    """The (value, label) pairs a filter of the figure table offers, by label."""
    return sorted({pair for f in figures for pair in f["keys"][key]}, key=lambda p: (p[1], p[0]))


def landing_page(
    tables: dict[str, pd.DataFrame | Rows], texts: dict[str, str], version: str,
    files: list[Download],
) -> str:  # fmt: skip
    """outputs/index.html from the tables, the source texts (by source id), the version and
    the package's other files. ValueError when a record has no quote
    or no source."""
    rows = {name: as_rows(t) for name, t in tables.items()}
    meta = vocabulary("package.yaml")
    measures, subjects = vocabulary("measures.yaml"), vocabulary("subjects.yaml")
    sources = rows_by_id(sorted(rows["sources"], key=lambda s: s["source_id"]), "source_id")
    anchors = _first_mentions(rows["provenance"])
    missing = [r for n, k in (("figures", "figure_id"), ("events", "event_id")) for r in rows[n]
               if r[k] not in anchors or r["source_id"] not in sources]  # fmt: skip
    if missing:
        rid = missing[0].get("figure_id") or missing[0]["event_id"]
        raise ValueError(f"record {rid} has no provenance row of mention 1 or no source row.")
    figures = [
        _figure(f, _placed(f, sources, anchors, texts), measures, subjects)
        for f in sorted(rows["figures"], key=lambda f: f["figure_id"])
    ]
    events = [_placed(e, sources, anchors, texts) | {"row": e}
              for e in sorted(rows["events"], key=lambda e: e["event_id"])]  # fmt: skip
    cite = citation(meta, version, list(sources.values()))
    dated, undated = events_by_year(events)
    template = _environment().get_template("landing.html.j2")
    return template.render(
        meta=meta,
        version=version,
        sources=list(sources.values()),
        cite=cite,
        files=files,
        charts=charts(figures, measures),
        figures=figures,
        filters={k: _options(figures, k) for k in ("measure", "country", "subject", "year")},
        dated=dated,
        n_events=len(events),
        page=source_page_path,
        undated=undated,
        codebook=codebook(),
        titles={t.name: f"{t.title} (table)" for t in table_defs().values()},
        jsonld=dataset_jsonld(meta, version, rows, files, cite),
    )
