"""With many sources the landing page is an index of sources (issue 24, item 1): a row per
source with its counts, its measures and a link to a page of its own records and charts,
and charts of per-year aggregates. index.html grows by a row per source, never by a record;
sources/<id>.html depends on its own source alone. In a real browser (Debian's Chromium)
the per-source page draws every chart from the package's own script and loads nothing from
elsewhere. Corpora of 2 and 4 sources are generated (benchmarks/corpus.py), not committed."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from test_landing_browser import CHROMIUM, CHROMIUM_ARGS, site_of

from pipeline.cli.runner import build
from pipeline.core.errors import REPO_ROOT
from pipeline.site.landing import CHART_SCRIPT, SOURCE_LANDING_DIR, _aggregates

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402

SIZES = (2, 4)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The outputs of a 2- and a 4-source corpus (the same first two sources in both)."""
    made = {}
    for n in SIZES:
        root = tmp_path_factory.mktemp(f"corpus{n}")
        generate(root / "raw", n, seed=7)
        assert build(root / "raw", root / "outputs") == 0
        made[n] = root / "outputs"
    return made


def _records(outputs: Path) -> pd.DataFrame:
    """Every figure and event id with its source."""
    figures = pd.read_parquet(outputs / "figures.parquet", columns=["figure_id", "source_id"])
    events = pd.read_parquet(outputs / "events.parquet", columns=["event_id", "source_id"])
    return pd.concat([figures.set_axis(["id", "source_id"], axis=1),
                      events.set_axis(["id", "source_id"], axis=1)])  # fmt: skip


def test_the_index_has_a_row_per_source_and_no_record(corpora):
    outputs = corpora[4]
    html = (outputs / "index.html").read_text("utf-8")
    records = _records(outputs)
    assert len(records) > 4 * 100
    assert not [r for r in records["id"] if r in html], "a record is listed on the index"
    doc = BeautifulSoup(html, "html.parser")
    rows = doc.select("#sources_table_1 tbody tr")
    sources = pd.read_parquet(outputs / "sources.parquet")
    assert [r.select_one("a").get_text() for r in rows] == sorted(sources["source_id"])
    counts = records.groupby("source_id").size()
    figures = pd.read_parquet(outputs / "figures.parquet")
    for row in rows:
        sid = row.select_one("a").get_text()
        href = row.select_one("a")["href"]
        assert href == f"{SOURCE_LANDING_DIR}/{sid}.html" and (outputs / href).is_file()
        cells = [int(td["data-sort"]) for td in row.select("td.num")]
        assert cells[0] + cells[1] == counts[sid]  # its figures and events
        n_measures = figures[figures["source_id"] == sid]["measure"].nunique()
        assert len(row.find_all("td")[-2].get_text().split(", ")) == n_measures
    assert doc.select("#charts ~ .charts figure.chart svg"), "no aggregated chart is drawn"


def _without_charts(html: str) -> str:
    return re.sub(r'<h2 id="charts">.*?<h2 id="downloads">', "", html, flags=re.S)


def test_the_index_grows_by_a_row_per_source_not_by_its_records(corpora):
    small, large = (len(_without_charts((corpora[n] / "index.html").read_text("utf-8")))
                    for n in SIZES)  # fmt: skip
    per_source = (large - small) / (SIZES[1] - SIZES[0])
    records = len(_records(corpora[4])) / 4
    # a row of the index and its source in the JSON-LD, not ~150 records
    assert per_source < 3000, f"index.html grows by {per_source:.0f} bytes a source"
    assert per_source < records * 20


def test_the_index_charts_draw_a_point_per_measure_and_year_not_per_figure(corpora):
    for n in SIZES:
        figures = pd.read_parquet(corpora[n] / "figures.parquet")
        groups = _aggregates(figures)
        drawn = groups.groupby(["measure", "unit"]).filter(lambda g: len(g) >= 2)
        html = (corpora[n] / "index.html").read_text("utf-8")
        charts = re.search(r'<h2 id="charts">.*?<h2 id="downloads">', html, flags=re.S).group()
        assert charts.count('aria-roledescription="point"') == len(drawn) < len(figures) / 2


def test_a_sources_page_depends_on_its_source_alone(corpora):
    for sid in ("synthetic-0000", "synthetic-0001"):
        pages = [(corpora[n] / SOURCE_LANDING_DIR / f"{sid}.html").read_bytes() for n in SIZES]
        assert pages[0] == pages[1], f"{sid}'s page changed when other sources were added"
    outputs = corpora[4]
    records = _records(outputs)
    for sid, own in records.groupby("source_id"):
        html = (outputs / SOURCE_LANDING_DIR / f"{sid}.html").read_text("utf-8")
        assert all(r in html for r in own["id"])
        others = records[records["source_id"] != sid]["id"]
        assert not [r for r in others if r in html]


@pytest.fixture(scope="module")
def site(corpora) -> Iterator[str]:
    yield from site_of(corpora[4])


@pytest.fixture
def browser(corpora) -> Iterator[object]:
    """Chromium for one test, after the corpora are built: a Dagster run while Playwright's
    event loop is open warns that the loop's async generators were never shut down."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_a_sources_page_draws_its_charts_from_the_package_alone(corpora, site, browser):
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, elsewhere = [], []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("request", lambda r: r.url.startswith(site) or elsewhere.append(r.url))
    tab.goto(site)
    tab.locator("#sources_table_1 tbody tr td:first-child a").nth(2).click()
    assert tab.url == f"{site}{SOURCE_LANDING_DIR}/synthetic-0002.html"
    charts = tab.locator("figure.chart div.vl")
    assert charts.count() >= 2
    tab.wait_for_function(
        "n => document.querySelectorAll('figure.chart div.vl[data-drawn] svg').length === n",
        arg=charts.count(),
    )
    assert (corpora[4] / SOURCE_LANDING_DIR / CHART_SCRIPT).is_file()
    own = pd.read_parquet(corpora[4] / "figures.parquet").query("source_id == 'synthetic-0002'")
    assert tab.locator("#figures_table tbody tr").count() == len(own)
    # a mark opens its figure's place in the text (Vega follows a mark's href on a click)
    tab.locator("figure.chart svg path[aria-roledescription='point']").first.click()
    tab.wait_for_url(f"{site}provenance/synthetic-0002.html#*")
    tab.wait_for_function(
        "() => document.getElementById('marked_status').textContent === "
        "'Marked: ' + location.hash.slice(1)"
    )
    assert tab.url.partition("#")[2] in set(own["figure_id"])
    tab.close()
    assert not errors and not elsewhere, (errors, elsewhere)


def test_warm_equals_cold_for_the_pages_of_many_sources(tmp_path, monkeypatch):
    """A source's two pages come from the cache when its rows are unchanged: after one
    source is corrected, a warm build publishes every file a build with an empty cache does
    (from the same earlier outputs/), byte for byte."""
    from conftest import tree_digest

    raw = tmp_path / "raw"
    generate(raw, 2, seed=7)
    monkeypatch.setenv("USMX_CACHE_DIR", str(tmp_path / "warm-cache"))
    assert build(raw, tmp_path / "warm") == 0
    shutil.copytree(tmp_path / "warm", tmp_path / "cold")  # the same published history
    corrections = raw / "synthetic-0001" / "corrections.yaml"
    corrections.write_text(
        corrections.read_text("utf-8")
        + "- id: test-warm-cold\n  quote: Tehuantepec Isthmus\n  corrected: Isthmus of Tehuantepec\n"
        "  reason: A test correction.\n  reported_on: 2026-11-27\n  reported_by: tests\n",
        "utf-8",
    )
    assert build(raw, tmp_path / "warm") == 0
    assert any((tmp_path / "warm-cache").rglob("*.records.html")), "no source page was cached"
    monkeypatch.setenv("USMX_CACHE_DIR", str(tmp_path / "cold-cache"))
    assert build(raw, tmp_path / "cold") == 0
    assert tree_digest(tmp_path / "warm") == tree_digest(tmp_path / "cold")
