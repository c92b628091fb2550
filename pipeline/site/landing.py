"""The landing page, outputs/index.html: on its first screen the data in one click each (the
archive, each CSV, each Parquet file, SQLite, with sizes) and the row count of every table;
what the dataset is and how to cite it, every file of the package with its size and sha256,
the codebook (table_defs() and schemas/) and schema.org Dataset JSON-LD.

With one source it also holds a chart per measure with comparable points (Vega-Lite rendered
to SVG by vl-convert, each mark linked to its figure's place on the source page) and every
figure and event, browsable and linked to the original publication at its characters (a text
fragment). From MANY_SOURCES sources on it is an index of sources instead: a row per source
(its counts, its measures, a link to its own page) and a chart per measure drawn from
per-year aggregates, so that its size grows by a row per source, never by a record; each
source's records and charts are on sources/<source_id>.html (`source_landing_page`), a page
the size of its source that depends on that source's rows and text only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
VL_VERSION = "6.4"  # the Vega-Lite of vl-convert the charts are drawn with
CHART_SCRIPT = "charts.js"  # with many sources: sources/charts.js draws their charts
# From this many sources on, index.html is an index of sources (docs/architecture.md): one
# source keeps the page as it is; a second would put two sources' records in one page.
MANY_SOURCES = 2
SOURCE_LANDING_DIR = "sources"  # with many sources, one page per source: sources/<id>.html
# The label of a table's rows on the first screen, where it is not the table's name.
ROW_LABELS = {"provenance": ("mentions", "mention")}
# The columns of the index of sources: a source's rows in these tables.
SOURCE_KINDS = (("figures", "Figures"), ("events", "Events"), ("actors", "Actors"),
                ("provenance", "Mentions"), ("corrections", "Corrections"))  # fmt: skip
# With many sources, the folders of per-source pages, summed up rather than listed file by file.
PAGE_FOLDERS = {"provenance": "each source's text as read, every figure and event marked",
                SOURCE_LANDING_DIR: "each source's figures, events and charts"}  # fmt: skip
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
Drawn = dict[str, str]  # spec_key -> its SVG


@dataclass(frozen=True)
class Download:
    path: str  # relative to the page, "/"-separated
    bytes: int
    sha256: str

    @property
    def format(self) -> str:
        return FORMATS.get(Path(self.path).suffix, "application/octet-stream")


def source_landing_path(source_id: str) -> str:
    """sources/<source_id>.html, the page of one source's records and charts (many sources)."""
    return f"{SOURCE_LANDING_DIR}/{Path(source_page_path(source_id)).name}"


def quick_downloads(files: list[Download]) -> dict[str, list[Download]]:
    """The data in one click each: the archive, the SQLite file, each table's CSV and Parquet
    file (the package's top folder only), for the first screen."""
    top = [f for f in files if "/" not in f.path]
    return {
        "archive": [f for f in top if f.path.endswith(".zip")],
        "sqlite": [f for f in top if f.path.endswith(".sqlite")],
        "csv": [f for f in top if f.path.endswith(".csv") and f.path[:-4] in table_defs()],
        "parquet": [f for f in top if f.path.endswith(".parquet") and f.path[:-8] in table_defs()],
    }


def row_counts(tables: dict[str, Any]) -> list[dict[str, Any]]:
    """Every published table's row count, in the order of schemas/tables.yaml, labelled by what
    a row is (a figure, an event, ... a mention for provenance)."""
    counted = []
    for name in (n for n in table_defs() if n in tables):
        n = len(tables[name])
        plural, singular = ROW_LABELS.get(name, (name, name.removesuffix("s")))
        counted.append({"table": name, "n": n, "label": singular if n == 1 else plural})
    return counted


def downloads(folder: Path) -> list[Download]:
    """Every file of the package but the landing page, by path, with its size and sha256."""
    found = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    found.pop(LANDING_FILE, None)
    return [Download(k, p.stat().st_size, sha256_file(p)) for k, p in sorted(found.items())]


def citation(meta: dict[str, Any], version: str, sources: Rows) -> str:
    """How to cite the dataset, its version filled in, and the texts it was read from."""
    made_by = "; ".join(c["title"] for c in meta["contributors"] if c.get("role") != "author")
    read = "; ".join(f'{s["publisher"]}, "{s["title"]}", {s["url"]}' for s in sources)
    if len(sources) >= MANY_SOURCES:  # a row per source belongs in the sources table
        read = f"{len(sources)} sources, listed in sources.csv"
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


def _placed(
    record: dict[str, Any], sources: dict, anchors: dict, texts: dict, base: str = ""
) -> dict:
    """Where a record is shown: its place on the source page (relative to a page in `base`),
    and the original publication at its quote (a text fragment of the source's URL)."""
    sid, rid = record["source_id"], record.get("figure_id") or record["event_id"]
    at = anchors[rid]
    url = sources[sid]["url"]
    origin = text_fragment(url, texts[sid], int(at["char_start"]), int(at["char_end"]))
    return {"id": rid, "href": f"{base}{source_page_path(sid)}#{rid}", "origin": origin}


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


def _frame(label: str, unit: str, values: list[dict]) -> dict:
    """What every chart's spec shares: the schema, its title, its size and its data."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": f"{label} ({unit})",
        "width": 560,
        "height": 220,
        "data": {"values": values},
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
        **_frame(label, unit, values),
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


def chart_svg(spec: dict, drawn: Drawn | None = None) -> Markup:
    """The chart as SVG to inline: relative links kept relative, each linked mark's label
    (its `description`) also its <title>, which a browser shows on hover. Taken from `drawn`
    (`draw_charts`) when it holds this very spec."""
    found = (drawn or {}).get(spec_key(spec))
    if found is not None:
        return Markup(found)
    svg = _engine().vegalite_to_svg(spec, vl_version=VL_VERSION).replace(VEGA_BASE, 'xlink:href="')
    svg = LINKED_MARK.sub(r"\1><title>\3</title></\2>", svg)
    return Markup(svg)


def spec_key(spec: dict) -> str:
    """A Vega-Lite spec as canonical JSON: what its drawing depends on, besides VL_VERSION."""
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def landing_chart_specs(tables: dict[str, pd.DataFrame], texts: dict[str, str]) -> list[dict]:
    """The Vega-Lite specs of the charts index.html draws: per measure, the aggregates with
    many sources, the figures with one. A record `landing_page` refuses gives no spec here
    (the page itself names it)."""
    if len(tables["sources"]) >= MANY_SOURCES:
        return [spec for *_, spec in _aggregate_groups(tables["figures"])]
    try:
        rows = {name: as_rows(t) for name, t in tables.items()}
        return [c["spec"] for c in _records(rows, texts, draw=False)["charts"]]
    except ValueError:
        return []


def draw_charts(specs: list[dict]) -> Drawn:
    """{spec_key: SVG} of each spec: what chart_svg gives, drawn ahead (the first drawing in a
    process starts vl-convert's JavaScript engine, ~0.5 s), e.g. in a child process while the
    rest of the package is written."""
    return {spec_key(spec): str(chart_svg(spec)) for spec in specs}


def chart_specs(figures: list[dict], measures: dict) -> list[dict]:
    """One chart per measure and unit with two or more figures that have a period: its
    Vega-Lite spec, label and counts."""
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
        made.append({"measure": measure, "label": label, "unit": unit,
                     "spec": _chart_spec(label, unit, points, kinds),
                     "points": len(points), "undrawn": undrawn})  # fmt: skip
    return made


def charts(figures: list[dict], measures: dict, drawn: Drawn | None = None) -> list[dict]:
    """The charts of `chart_specs`, each drawn to SVG."""
    return [c | {"svg": chart_svg(c["spec"], drawn)} for c in chart_specs(figures, measures)]


def chart_script() -> str:
    """sources/charts.js: Vega-Embed, Vega-Lite and Vega in one script that defines
    `vegaEmbed`, for the pages of many sources (drawing their charts at build time would cost
    ~85 ms a chart: 600 s of CPU for 1,000 sources). The same library version gives the same
    bytes."""
    return _engine().javascript_bundle(vl_version=VL_VERSION)


_started: list[int] = []  # the process ids where vl-convert's engine was started


def _engine():
    """vl-convert, noting that its engine (native threads, started at the first call) runs in
    this process from now on."""
    if os.getpid() not in _started:
        _started.append(os.getpid())
    return vl_convert


def engine_started() -> bool:
    """Whether vl-convert's engine runs in this process. A child forked from it must not call
    vl-convert: it would inherit an engine without its threads, and wait for them forever."""
    return os.getpid() in _started


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


def _records(
    rows: dict[str, Rows], texts: dict[str, str], base: str = "", draw: bool = True,
    drawn: Drawn | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The figures and events of `rows` as the charts, the figure table and the timeline show
    them, each placed on its source page (relative to a page in `base`). ValueError when a
    record has no quote or no source."""
    measures, subjects = vocabulary("measures.yaml"), vocabulary("subjects.yaml")
    sources = rows_by_id(sorted(rows["sources"], key=lambda s: s["source_id"]), "source_id")
    anchors = _first_mentions(rows["provenance"])
    missing = [r for n, k in (("figures", "figure_id"), ("events", "event_id")) for r in rows[n]
               if r[k] not in anchors or r["source_id"] not in sources]  # fmt: skip
    if missing:
        rid = missing[0].get("figure_id") or missing[0]["event_id"]
        raise ValueError(f"record {rid} has no provenance row of mention 1 or no source row.")
    figures = [
        _figure(f, _placed(f, sources, anchors, texts, base), measures, subjects)
        for f in sorted(rows["figures"], key=lambda f: f["figure_id"])
    ]
    events = [_placed(e, sources, anchors, texts, base) | {"row": e}
              for e in sorted(rows["events"], key=lambda e: e["event_id"])]  # fmt: skip
    dated, undated = events_by_year(events)
    return {
        "charts": charts(figures, measures, drawn) if draw else chart_specs(figures, measures),
        "figures": figures,
        "filters": {k: _options(figures, k) for k in ("measure", "country", "subject", "year")},
        "dated": dated,
        "n_events": len(events),
        "undated": undated,
    }


def _aggregates(figures: pd.DataFrame) -> pd.DataFrame:
    """Per measure, unit and year (the middle of a figure's period), over every source: how
    many figures, from how many sources, and their lowest, median and highest value."""
    start = pd.to_datetime(figures["period_start"].fillna(figures["period_end"]))
    end = pd.to_datetime(figures["period_end"].fillna(figures["period_start"]))
    dated = figures.assign(year=(start + (end - start) / 2).dt.year)[start.notna()]
    grouped = dated.groupby(["measure", "unit", "year"], sort=True)
    return grouped.agg(
        n=("figure_id", "size"), sources=("source_id", "nunique"), low=("value", "min"),
        median=("value", "median"), high=("value", "max"),
    ).reset_index()  # fmt: skip


def _aggregate_spec(label: str, unit: str, points: pd.DataFrame) -> dict:
    """The Vega-Lite spec of one measure's aggregates: a line from the lowest to the highest
    value of each year, a point at the median."""
    values = [
        {"year": f"{int(r.year):04d}-07-01", "low": float(r.low), "median": float(r.median),
         "high": float(r.high),
         "description": f"{int(r.year)}: median {labels.number(float(r.median))} {unit}, "
                        f"{labels.number(float(r.low))} to {labels.number(float(r.high))}, "
                        f"{int(r.n)} figures from {int(r.sources)} sources"}
        for r in points.itertuples()
    ]  # fmt: skip
    low, high = min(v["low"] for v in values), max(v["high"] for v in values)
    scale = {"type": "log"} if low > 0 and high >= 100 * low else {}
    x = {"field": "year", "type": "temporal", "scale": {"type": "utc"}, "title": "year",
         "axis": {"format": "%Y", "tickCount": {"interval": "year", "step": 1}}}  # fmt: skip
    y = {"type": "quantitative", "title": unit, **({"scale": scale} if scale else {})}
    return {
        **_frame(label, unit, values),
        "encoding": {"x": x, "description": {"field": "description"}},
        "layer": [
            {"mark": {"type": "rule", "strokeWidth": 3, "opacity": 0.4},
             "encoding": {"y": {**y, "field": "low"}, "y2": {"field": "high"}}},
            {"mark": {"type": "point", "filled": True, "size": 70},
             "encoding": {"y": {**y, "field": "median"}}},
        ],
    }  # fmt: skip


def _aggregate_groups(figures: pd.DataFrame):
    """(measure, unit, label, points, spec) of each measure and unit with two or more years."""
    measures = vocabulary("measures.yaml")
    for (measure, unit), points in _aggregates(figures).groupby(["measure", "unit"], sort=True):
        if len(points) >= 2:
            label = measures.get(measure, {}).get("label", measure)
            yield measure, unit, label, points, _aggregate_spec(label, unit, points)


def aggregate_charts(figures: pd.DataFrame, drawn: Drawn | None = None) -> list[dict]:
    """One chart per measure and unit with two or more years of figures, drawn from the
    per-year aggregates of every source (so its size does not grow with the sources)."""
    return [{"measure": measure, "label": label, "unit": unit, "svg": chart_svg(spec, drawn),
             "years": len(points), "figures": int(points["n"].sum())}
            for measure, unit, label, points, spec in _aggregate_groups(figures)]  # fmt: skip


def _per_source(tables: dict[str, pd.DataFrame], source_ids: list[str]) -> dict[str, dict]:
    """Each source's row count in every table with a source_id, and the measures of its
    figures."""
    counted: dict[str, dict] = {sid: {"n": {}, "measures": []} for sid in source_ids}
    for name in table_defs():
        df = tables.get(name)
        if df is None or name == "sources" or "source_id" not in df.columns:
            continue
        for sid, n in df.groupby("source_id", sort=False).size().items():  # noqa: PD011
            if sid in counted:
                counted[sid]["n"][name] = int(n)
    figures = tables["figures"]
    for sid, listed in figures.groupby("source_id", sort=False)["measure"].unique().items():
        if sid in counted:
            counted[sid]["measures"] = sorted(listed)
    return counted


def _folders(files: list[Download]) -> list[dict[str, Any]]:
    """The folders of per-source pages: what they hold, how many files, how many bytes."""
    return [{"path": d, "what": what, "files": len(inside), "bytes": sum(f.bytes for f in inside)}
            for d, what in PAGE_FOLDERS.items()
            if (inside := [f for f in files if f.path.startswith(f"{d}/")])]  # fmt: skip


def landing_page(
    tables: dict[str, pd.DataFrame | Rows], texts: dict[str, str], version: str,
    files: list[Download], drawn: Drawn | None = None,
) -> str:  # fmt: skip
    """outputs/index.html from the tables, the source texts (by source id), the version and
    the package's other files. With one source it holds every figure and event; from
    MANY_SOURCES on, a row per source and aggregated charts. ValueError when a record has no
    quote or no source. `drawn` holds charts drawn ahead (`draw_charts`): the same bytes."""
    meta = vocabulary("package.yaml")
    listed = sorted(as_rows(tables["sources"]), key=lambda s: s["source_id"])
    sources = rows_by_id(listed, "source_id")
    many = len(sources) >= MANY_SOURCES
    if many:  # the package's top folder file by file, the folders of pages summed up
        files, folders = [f for f in files if "/" not in f.path], _folders(files)
    common = {
        "meta": meta,
        "version": version,
        "files": files,
        "folders": folders if many else [],
        "quick": quick_downloads(files),
        "counts": row_counts(tables),
        "codebook": codebook(),
        "titles": {t.name: f"{t.title} (table)" for t in table_defs().values()},
        "page": source_page_path,
    }
    if many:
        frames = {n: t if isinstance(t, pd.DataFrame) else pd.DataFrame(t)
                  for n, t in tables.items()}  # fmt: skip
        return _index_of_sources(frames, listed, common, drawn)
    rows = {name: as_rows(t) for name, t in tables.items()}
    cite = citation(meta, version, listed)
    return _environment().get_template("landing.html.j2").render(
        **common, **_records(rows, texts, drawn=drawn), mode="one", cite=cite, sources=listed,
        jsonld=dataset_jsonld(meta, version, rows, files, cite),
    )  # fmt: skip


def _index_of_sources(
    frames: dict[str, pd.DataFrame], listed: Rows, common: dict, drawn: Drawn | None = None
) -> str:
    """index.html with many sources: a row per source, charts of per-year aggregates."""
    meta, version, files = common["meta"], common["version"], common["files"]
    cite = citation(meta, version, listed)
    per_source = _per_source(frames, [s["source_id"] for s in listed])
    labelled = vocabulary("measures.yaml")
    for counted in per_source.values():
        counted["measures"] = [labelled.get(m, {}).get("label", m) for m in counted["measures"]]
    columns = [("Source", False), ("Title", False), *((label, True) for _, label in SOURCE_KINDS),
               ("Measures", False), ("Text", False)]  # fmt: skip
    jsonld_rows = {
        "figures": as_rows(frames["figures"][["country", "counterpart_country", "period_start",
                                              "period_end"]]),
        "events": as_rows(frames["events"][["date_start", "date_end"]]),
        "actors": as_rows(frames["actors"][["kind", "country", "name"]]),
        "sources": listed,
    }  # fmt: skip
    return _environment().get_template("landing.html.j2").render(
        **common, mode="many", cite=cite, sources=listed, per_source=per_source,
        landing=source_landing_path, charts=aggregate_charts(frames["figures"], drawn),
        kinds=SOURCE_KINDS, columns=columns,
        jsonld=dataset_jsonld(meta, version, jsonld_rows, files, cite),
    )  # fmt: skip


def source_landing_page(rows: dict[str, Rows], text: str) -> str:
    """sources/<source_id>.html: one source's counts, charts, figures and events, linked back
    to the index. `rows` holds that source's row of the sources table and its rows of the
    figures, events, provenance, actors and corrections tables; the page depends on nothing
    else (not even the dataset version), so its size is that of its source."""
    (source,) = rows["sources"]
    sid = source["source_id"]
    counts = [c for c in row_counts(rows) if c["table"] != "sources"]
    return _environment().get_template("landing.html.j2").render(
        **_records(rows, {sid: text}, base="../", draw=False), mode="source",
        meta=vocabulary("package.yaml"), source=source, counts=counts, page=source_page_path,
        chart_script=CHART_SCRIPT,
    )  # fmt: skip
