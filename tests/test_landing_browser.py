"""The landing page of a real build in a real browser (Debian's Chromium through Playwright),
served from 127.0.0.1 as a reader's web server would serve outputs/: it renders, a chart mark
opens the source page with that figure marked, every download link gives a file whose sha256
is the one shown, and the figure table filters. A screenshot is kept in
test-artifacts/landing-page.png. No browser is downloaded.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_group_stopped

REPO = Path(__file__).parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts"
MARKED_TEXT = (
    "() => Array.from(document.querySelectorAll('.marked')).map(s => s.textContent).join('')"
)
SHOWN = "() => Array.from(document.querySelectorAll('#figures_table tbody tr')).filter(r => !r.hidden).map(r => r.querySelector('a').textContent)"  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_of(folder: Path) -> Iterator[str]:
    """`folder` served on a free loopback port; the server's group stopped by its PID
    (SIGTERM, then SIGKILL), the test failing only if something of it is left running."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        assert_group_stopped(server)


@pytest.fixture(scope="module")
def site(built: Path) -> Iterator[str]:
    """The built folder served as a reader's web server would serve outputs/."""
    yield from site_of(built)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"the page raised JavaScript errors: {errors}"


@pytest.fixture(scope="module")
def figures(built: Path) -> pd.DataFrame:
    return pd.read_parquet(built / "figures.parquet")


def test_the_landing_page_renders(page, site, figures):
    page.goto(site)
    assert page.title().endswith(")") and "version" in page.title()
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 1 and charts.first.is_visible()
    assert page.locator("#figures_table tbody tr").count() == len(figures)
    assert (
        page.locator("#figures_count").text_content() == f"{len(figures)} of {len(figures)} shown"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landing-page.png"))


def test_a_chart_mark_opens_the_source_page_with_that_figure_marked(page, site, built):
    page.goto(site)
    mark = page.locator("figure.chart svg a:has(path[aria-roledescription='point'])").first
    href = mark.get_attribute("xlink:href")
    figure_id = href.partition("#")[2]
    prov = pd.read_parquet(built / "provenance.parquet")
    quote = prov[(prov["record_id"] == figure_id) & (prov["mention"] == 1)]["quote"].item()
    mark.click()
    page.wait_for_function(
        "id => location.hash === '#' + id && "
        "document.getElementById('marked_status').textContent === 'Marked: ' + id",
        arg=figure_id,
    )
    assert page.url == site + href
    assert page.evaluate(MARKED_TEXT) == quote


def test_every_download_link_gives_a_file_with_the_sha256_shown(page, site):
    page.goto(site)
    found = page.evaluate(
        """async () => {
        const hex = b => Array.from(new Uint8Array(b)).map(x => x.toString(16).padStart(2, '0')).join('');
        const rows = Array.from(document.querySelectorAll('#files_table tbody tr'));
        return Promise.all(rows.map(async r => {
            const a = r.querySelector('a'), shown = r.querySelector('code.sha').textContent;
            const got = await fetch(a.href);
            const body = await got.arrayBuffer();
            return [a.getAttribute('href'), got.status, shown, hex(await crypto.subtle.digest('SHA-256', body))];
        }));
    }"""
    )
    assert len(found) >= 10
    for href, status, shown, digest in found:
        assert status == 200 and digest == shown, href


def test_the_figure_table_filters(page, site, figures):
    page.goto(site)
    page.select_option('select[data-filter="measure"]', "drug_seized")
    seized = figures[figures["measure"] == "drug_seized"]
    assert sorted(page.evaluate(SHOWN)) == sorted(seized["figure_id"])
    page.select_option('select[data-filter="subject"]', "cocaine")
    cocaine = seized[seized["subject"] == "cocaine"]
    assert sorted(page.evaluate(SHOWN)) == sorted(cocaine["figure_id"]) and len(cocaine) >= 2
    page.select_option('select[data-filter="year"]', "1999")
    spans = zip(cocaine["figure_id"], cocaine["period_start"], cocaine["period_end"], strict=True)
    in_1999 = [f for f, a, b in spans if a.year <= 1999 <= (b or a).year]
    assert page.evaluate(SHOWN) == in_1999 and 0 < len(in_1999) < len(cocaine)
    assert page.locator("#figures_count").text_content() == f"1 of {len(figures)} shown"
    for key in ("measure", "subject", "year"):
        page.select_option(f'select[data-filter="{key}"]', "")
    page.select_option('select[data-filter="country"]', "USA")
    usa = figures[figures["country"] == "USA"]
    assert sorted(page.evaluate(SHOWN)) == sorted(usa["figure_id"])
    page.fill('input[data-filter="text"]', "meth labs 1999")
    assert sorted(page.evaluate(SHOWN)) == sorted(
        f for f in usa["figure_id"] if "meth-labs-seized-1999" in f
    )


def test_the_first_screen_offers_the_data_and_the_count_of_every_record_kind(page, site, built):
    """Issue 24 item 7: at 1280 x 800, before any scroll, one link each to the archive,
    SQLite and every table's CSV and Parquet file, each with its size, and the row count of
    every table; the file table with the sha256s is below the first screen."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site)
    package = json.loads((built / "datapackage.json").read_text("utf-8"))
    tables = [r["name"] for r in package["resources"] if r["path"].endswith(".parquet")]
    wanted = [f"{package['name']}-{package['version']}.zip", f"{package['name']}.sqlite"]
    wanted += [f"{t}.csv" for t in tables] + [f"{t}.parquet" for t in tables]

    def on_first_screen(locator) -> bool:
        box = locator.bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800

    for path in wanted:
        link = page.locator(f'#get a[href="{path}"]')
        assert link.count() == 1, path
        assert on_first_screen(link), f"{path} is not on the first screen"
        assert int(link.get_attribute("data-bytes")) == (built / path).stat().st_size
        size = link.locator("xpath=following-sibling::span[1]").text_content()
        assert re.fullmatch(r"[\d.]+ (B|kB|MB|GB)", size), size
    for table in tables:
        count = page.locator(f'#counts li[data-table="{table}"]')
        assert on_first_screen(count), f"the count of {table} is not on the first screen"
        n = len(pd.read_parquet(built / f"{table}.parquet"))
        assert count.locator("strong").text_content().replace(",", "") == str(n)
    assert page.locator("#files_table").bounding_box()["y"] > 800
