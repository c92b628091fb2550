"""The landing page, outputs/index.html, of a real build (pipeline/site/landing.py): its
schema.org Dataset JSON-LD as a dataset search engine extracts it (extruct), every file's
sha256, every link to the original publication decoded back to the snapshot's characters, a
chart per measure with comparable points, the codebook, and the same bytes when made again.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import extruct
import lxml.html
import pandas as pd
import pytest
from lxml import etree

from pipeline.core.fields import table_defs, vocabulary
from pipeline.core.sources import load_snapshot
from pipeline.publish.pages import write_landing
from pipeline.site.fragments import parse_fragment
from pipeline.site.labels import number, period_label
from pipeline.site.landing import LANDING_FILE

RAW = Path(__file__).parents[1] / "raw"
XLINK = "{http://www.w3.org/1999/xlink}href"
SVG = "{http://www.w3.org/2000/svg}"
REQUIRED = ("name", "description", "version", "license", "creator", "citation",
            "temporalCoverage", "spatialCoverage", "distribution")  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def html(built: Path) -> str:
    return (built / LANDING_FILE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(html: str):
    return lxml.html.fromstring(html)


@pytest.fixture(scope="module")
def tables(built: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(built / f"{name}.parquet") for name in table_defs()}


@pytest.fixture(scope="module")
def quotes(tables) -> pd.DataFrame:
    """Each record's quote: its provenance row of mention 1."""
    prov = tables["provenance"]
    return prov[prov["mention"] == 1].set_index("record_id")


def test_jsonld_dataset_has_the_required_fields_and_every_files_sha256(built, html):
    found = extruct.extract(html, syntaxes=["json-ld"], uniform=True)["json-ld"]
    (dataset,) = [d for d in found if d.get("@type") == "Dataset"]
    assert all(dataset.get(key) for key in REQUIRED), [k for k in REQUIRED if not dataset.get(k)]
    package = json.loads((built / "datapackage.json").read_text(encoding="utf-8"))
    assert dataset["version"] == package["version"] and package["version"] in dataset["citation"]
    assert dataset["license"] == package["licenses"][0]["path"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d/\d{4}-\d\d-\d\d", dataset["temporalCoverage"])
    assert {p["identifier"] for p in dataset["spatialCoverage"]} >= {"MEX", "USA"}
    files = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()} - {
        LANDING_FILE
    }
    downloads = dataset["distribution"]
    assert sorted(d["contentUrl"] for d in downloads) == sorted(files)  # every file, once
    for d in downloads:
        assert d["@type"] == "DataDownload" and d["encodingFormat"]
        assert not urlsplit(d["contentUrl"]).scheme and not d["contentUrl"].startswith("/")
        assert d["sha256"] == _sha256(built / d["contentUrl"]), d["contentUrl"]
        assert d["contentSize"] == f"{(built / d['contentUrl']).stat().st_size} B"


def test_the_downloads_table_shows_each_files_size_and_sha256(built, doc):
    rows = doc.xpath("//table[@id='files_table']/tbody/tr")
    assert rows
    for row in rows:
        link, holds, _, size, sha = row.xpath("td")
        path = built / link[0].get("href")
        assert sha.text_content() == _sha256(path) == link[0].get("data-sha256")
        assert size.text_content() == f"{path.stat().st_size:,}"
        if path.stem in table_defs() and path.parent == built:
            assert holds.text_content() == f"{table_defs()[path.stem].title} (table)"


def test_every_original_link_decodes_to_the_quote_and_its_context(doc, tables, quotes):
    texts = {sid: load_snapshot(RAW / sid).text for sid in tables["sources"]["source_id"]}
    urls = tables["sources"].set_index("source_id")["url"]
    links = doc.xpath("//a[@class='origin']")
    ids = [a.get("data-record") for a in links]
    expected = sorted([*tables["figures"]["figure_id"], *tables["events"]["event_id"]])
    assert sorted(ids) == expected  # every figure and event, once
    for a in links:
        at = quotes.loc[a.get("data-record")]
        text, start, end = texts[at["source_id"]], int(at["char_start"]), int(at["char_end"])
        href = a.get("href")
        assert href.startswith(urls[at["source_id"]] + "#:~:text=")
        prefix, exact, suffix = parse_fragment(href)
        assert exact == text[start:end] == at["quote"]
        line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
        before, after = text[line_start:start], text[end : line_end if line_end >= 0 else None]
        assert before.rstrip().endswith(prefix) and after.lstrip().startswith(suffix)
        assert prefix or suffix, f"{a.get('data-record')}: a quote without context"


def test_a_chart_per_measure_with_comparable_points_each_mark_linked(doc, tables):
    figures = tables["figures"]
    dated = figures[figures["period_start"].notna() | figures["period_end"].notna()]
    sizes = dated.groupby(["measure", "unit"]).size()
    expected = sorted({m for (m, _), n in sizes.items() if n >= 2})
    charts = doc.xpath("//figure[@class='chart']")
    assert sorted(c.get("id").removeprefix("chart_") for c in charts) == expected
    by_id = figures.set_index("figure_id")
    for chart in charts:
        svg = etree.fromstring(etree.tostring(chart.xpath(".//svg")[0]))
        linked = list(svg.iter(f"{SVG}a"))
        assert len({link.get(XLINK) for link in linked}) >= 2
        for link in linked:
            page, _, fid = link.get(XLINK).partition("#")
            fig = by_id.loc[fid]
            assert page == f"provenance/{fig['source_id']}.html"
            assert fig["measure"] == chart.get("id").removeprefix("chart_")
            (mark,) = list(link)
            title = mark.find(f"{SVG}title").text  # the hover tooltip: value, unit, period
            period = period_label(fig["period_start"], fig["period_end"])
            assert f"{number(fig['value'])} {fig['unit']}" in title and period in title, title


def test_targets_at_least_values_and_averages_are_drawn_apart(doc, tables):
    # across every chart: each kind of figure has its own look (shape, and fill for targets)
    figures = tables["figures"].set_index("figure_id")
    looks: dict[str, set] = {}
    for link in doc.xpath("//figure[@class='chart']//*[local-name()='a']"):
        mark = link[0]
        if mark.tag.endswith("path"):
            fig = figures.loc[link.get("xlink:href").partition("#")[2]]
            kind = "target" if fig["is_target"] else fig["qualifier"]
            looks.setdefault(kind, set()).add(
                (re.sub(r"[\d.]+", "n", mark.get("d")), mark.get("fill"))
            )
    assert {"exact", "at_least", "target"} <= set(looks), looks
    kinds = sorted(looks)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1 :]:
            assert not looks[a] & looks[b], (a, b)


def test_the_codebook_holds_every_table_field_measure_and_subject(doc):
    for table in table_defs().values():
        section = doc.get_element_by_id(f"table_{table.name}")
        names = [c.text_content() for c in section.xpath(".//tbody/tr/td[1]/code")]
        assert names == table.columns
        assert table.description in section.text_content()
    for vocab, kind in (("measures.yaml", "measure"), ("subjects.yaml", "subject")):
        for term, attrs in vocabulary(vocab).items():
            row = doc.get_element_by_id(f"{kind}_{term}")
            assert attrs["definition"] in row.text_content()


def test_events_are_listed_by_year_and_the_undated_apart(doc, tables):
    events = tables["events"]
    for event_id, start in zip(events["event_id"], events["date_start"], strict=True):
        (link,) = doc.xpath(f"//a[@class='origin'][@data-record='{event_id}']")
        holder = link.getparent().getparent()
        where = holder.get("class") if start is None else holder.getparent().get("id")
        assert where == ("undated" if start is None else f"year_{start.year}"), event_id


def test_the_page_is_self_contained_and_made_again_to_the_same_bytes(built, html, tmp_path, tables):
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", html)
    assert "vega.github.io/vega-datasets" not in html
    copy = tmp_path / "again"
    for path in built.rglob("*"):
        if path.is_file() and path.name != LANDING_FILE:
            (copy / path.relative_to(built)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(built)).write_bytes(path.read_bytes())
    defs = table_defs()
    snapshots = [load_snapshot(RAW / sid) for sid in tables["sources"]["source_id"]]
    version = json.loads((built / "datapackage.json").read_text(encoding="utf-8"))["version"]
    write_landing({n: (defs[n], df) for n, df in tables.items()}, snapshots, copy, version)
    assert (copy / LANDING_FILE).read_bytes() == html.encode("utf-8")


def test_charts_drawn_ahead_give_the_same_page_and_are_the_ones_used(tables):
    """The build draws the landing page's charts in a child while the rest is written
    (pages.draw_landing); the page is the same with them as when it draws them itself, and
    what it inlines is what it was given, not drawn again."""
    from pipeline.site.landing import draw_charts, landing_chart_specs, landing_page, spec_key

    texts = {sid: load_snapshot(RAW / sid).text for sid in tables["sources"]["source_id"]}
    specs = landing_chart_specs(tables, texts)
    drawn = draw_charts(specs)
    assert len(drawn) == len(specs) >= 2
    assert landing_page(tables, texts, "9.9.9", [], drawn) == landing_page(
        tables, texts, "9.9.9", []
    )
    marked = {**drawn, spec_key(specs[0]): "<svg><title>drawn ahead</title></svg>"}
    assert "<svg><title>drawn ahead</title></svg>" in landing_page(
        tables, texts, "9.9.9", [], marked
    )
