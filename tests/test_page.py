"""The provenance pages, driven in a real browser (Debian's Chromium through Playwright).

The pages are written by `write_pages` from the committed outputs/ and raw/ into a temporary
folder and opened from file://, as a reader would open outputs/provenance.html (the index)
and outputs/provenance/<source_id>.html (the page of one source). The browser is the
system's /usr/bin/chromium; none is downloaded. A screenshot of a marked figure is kept in
test-artifacts/provenance-page.png.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import BuildError
from pipeline.core.fields import table_defs
from pipeline.core.sources import SourceSnapshot, load_snapshot
from pipeline.publish.pages import write_pages
from pipeline.site.render import index_page, source_page

REPO = Path(__file__).parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts"
TABLES = ("sources", "figures", "events", "provenance", "corrections", "actors")
KEYS = {
    "sources": "source_id",
    "figures": "figure_id",
    "events": "event_id",
    "provenance": "record_id",
    "corrections": "correction_id",
    "actors": "actor_id",
}
SOURCE_ID = "ondcp-usmx-ch3"  # the one source of the real dataset
COPY_ID = f"{SOURCE_ID}-copy"  # the same source again, its ids suffixed "-copy"

# Outer quote of a nested pair: its quote contains the other figure's quote.
NESTED_OUTER = "semar-eradication-sailors-daily-average"
NESTED_INNER = "sedena-eradication-soldiers-daily-average"
# An event whose quote overlaps two figures.
OVERLAPPING_EVENT = "campaign-usa-media"
# A correction inside a figure's quote ("15. 5" in "15. 5 tons of cocaine") and that figure.
CORRECTION_IN_FIGURE = "stray-space-in-cocaine-tons-2000"
CORRECTED_FIGURE = "mex-cocaine-seized-2000-h1"
# A correction outside every quote ("Unites States").
CORRECTION_ALONE = "unites-states"


# --- inputs and the page ---------------------------------------------------------------


def _tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(REPO / "outputs" / f"{name}.parquet") for name in TABLES}


def _texts(sources: pd.DataFrame) -> dict[str, str]:
    # bytes decoded as they are: no newline translation, so code points match char_start
    return {
        sid: (REPO / "raw" / sid / "source.txt").read_bytes().decode("utf-8")
        for sid in sources["source_id"]
    }


def _version() -> str:
    return json.loads((REPO / "outputs" / "datapackage.json").read_text(encoding="utf-8"))[
        "version"
    ]


def _render(tables: dict[str, pd.DataFrame]) -> str:
    """The page of the one source of `tables`."""
    (text,) = _texts(tables["sources"]).values()
    return source_page(
        tables["sources"],
        tables["figures"],
        tables["events"],
        tables["provenance"],
        text,
        tables["corrections"],
        tables["actors"],
    )


def _snapshots(source_ids: Iterator[str] | list[str]) -> list[SourceSnapshot]:
    """The real snapshot, once per id: a copy holds the same text under another id."""
    real = load_snapshot(REPO / "raw" / SOURCE_ID)
    copies = []
    for sid in source_ids:
        snapshot = copy.copy(real)  # (its text is read again from raw/, verified, when used)
        snapshot.source_id = sid
        copies.append(snapshot)
    return copies


def _with_copy(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The real tables plus a second source: the same rows under COPY_ID, ids suffixed."""

    def suffixed(ids: object) -> object:
        return ";".join(f"{c}-copy" for c in ids.split(";")) if isinstance(ids, str) else ids

    both = {}
    for name, df in tables.items():
        copy = df.copy()
        copy[KEYS[name]] = copy[KEYS[name]] + "-copy"
        copy["source_id"] = COPY_ID
        if "correction_ids" in copy.columns:
            copy["correction_ids"] = copy["correction_ids"].map(suffixed)
        both[name] = pd.concat([df, copy], ignore_index=True)
    return both


def _write(
    tables: dict[str, pd.DataFrame], folder: Path, version: str, cache: Path | None = None
) -> Path:
    defs = table_defs()
    write_pages(
        {name: (defs[name], df) for name, df in tables.items()},
        _snapshots(sorted(tables["sources"]["source_id"])),
        folder,
        version,
        cache_dir=cache,
    )
    return folder


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return _tables()


@pytest.fixture(scope="module")
def quotes(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    prov = tables["provenance"].loc[tables["provenance"]["mention"] == 1]
    return dict(zip(prov["record_id"], prov["quote"], strict=True))


@pytest.fixture(scope="module")
def marked(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Each record's highlighted characters: those of all its mentions, in text order."""
    (text,) = _texts(tables["sources"]).values()
    found = {}
    for rid, rows in tables["provenance"].groupby("record_id"):
        spans = zip(rows["char_start"], rows["char_end"], strict=True)
        found[rid] = "".join(text[i] for i in sorted({i for s, e in spans for i in range(s, e)}))
    return found


@pytest.fixture(scope="module")
def corrections(tables: dict[str, pd.DataFrame]) -> dict[str, dict]:
    return {row["correction_id"]: row for row in tables["corrections"].to_dict("records")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tables: dict[str, pd.DataFrame]) -> Path:
    """The pages as publishing writes them: provenance.html and provenance/<id>.html."""
    return _write(tables, tmp_path_factory.mktemp("site") / "outputs", _version())


@pytest.fixture(scope="module")
def page_file(site: Path) -> Path:
    return site / "provenance" / f"{SOURCE_ID}.html"


@pytest.fixture(scope="module")
def page_url(page_file: Path) -> str:
    return page_file.as_uri()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install -y chromium chromium-driver); no browser is downloaded."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(5000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"the page raised JavaScript errors: {errors}"


# --- helpers run in the page -----------------------------------------------------------

MARKED_TEXT = """() => Array.from(document.querySelectorAll('.marked'))
    .map(s => s.textContent).join('')"""

IN_VIEW = """() => {
    const s = document.querySelector('.text .hl.marked');
    if (!s) return false;
    const r = s.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
}"""


def _follow_row_link(page, record_id: str, table_id: str = "figures_table_1") -> None:
    table = page.locator(f"#{table_id}")
    page.fill(f'input[data-table="{table_id}"]', record_id)
    visible = table.locator("tbody tr:visible")
    assert visible.count() >= 1
    link = table.locator(f'a[href="#{record_id}"]')
    assert link.is_visible()
    link.click()
    # the hash changes first; the page marks the quote in its hashchange handler, and says so
    page.wait_for_function(
        "id => location.hash === '#' + id && "
        "document.getElementById('marked_status').textContent === 'Marked: ' + id",
        arg=record_id,
    )


# --- the promises ----------------------------------------------------------------------


def test_following_a_figure_link_marks_exactly_its_quote(page, page_url, quotes):
    page.goto(page_url)
    assert page.evaluate(MARKED_TEXT) == ""

    _follow_row_link(page, "mex-cocaine-seized-1999")
    assert page.evaluate("() => location.hash") == "#mex-cocaine-seized-1999"
    assert page.evaluate(MARKED_TEXT) == quotes["mex-cocaine-seized-1999"]
    assert page.evaluate(IN_VIEW), "the marked quote is not scrolled into view"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "provenance-page.png"))

    # nested quotes: the outer figure marks all of its quote, inner figure included ...
    assert quotes[NESTED_INNER] in quotes[NESTED_OUTER]
    assert quotes[NESTED_INNER] != quotes[NESTED_OUTER]
    _follow_row_link(page, NESTED_OUTER)
    assert page.evaluate(MARKED_TEXT) == quotes[NESTED_OUTER]
    # ... and following the inner one then marks only the inner quote, the outer unmarked
    _follow_row_link(page, NESTED_INNER)
    assert page.evaluate("() => location.hash") == f"#{NESTED_INNER}"
    assert page.evaluate(MARKED_TEXT) == quotes[NESTED_INNER]
    assert page.evaluate(IN_VIEW)


def test_shared_link_marks_the_record_on_load(page, page_url, quotes):
    page.goto(f"{page_url}#{OVERLAPPING_EVENT}")
    page.wait_for_function("() => document.querySelector('.marked') !== null")
    assert page.evaluate(MARKED_TEXT) == quotes[OVERLAPPING_EVENT]
    assert page.evaluate(IN_VIEW), "the shared record is not scrolled into view"
    # its overlap with figures is shown: a marked segment also covers a figure
    covers = page.evaluate(
        "() => Array.from(document.querySelectorAll('.marked')).map(s => s.dataset.records)"
    )
    assert any(len(c.split()) > 1 for c in covers), covers


def test_a_shared_link_marks_every_mention_of_the_record(page, page_url, marked, quotes):
    """An actor printed nine times (the Government of Mexico): #gom marks all nine mentions,
    and the page scrolls to its quote, the first."""
    page.goto(f"{page_url}#gom")
    page.wait_for_function("() => document.querySelector('.marked') !== null")
    assert page.evaluate(MARKED_TEXT) == marked["gom"] != quotes["gom"]
    assert page.evaluate("() => document.querySelectorAll('.text .hl.marked').length") >= 9
    assert page.evaluate(IN_VIEW)


def test_every_figure_and_event_has_its_highlight(page, page_url, tables, marked):
    page.goto(page_url)
    found = page.evaluate(
        """() => {
        const text = {}, classes = {}, anchors = {};
        for (const s of document.querySelectorAll('.text span.hl')) {
            for (const id of s.dataset.records.split(' ')) {
                text[id] = (text[id] || '') + s.textContent;
                (classes[id] = classes[id] || new Set()).add(s.className);
            }
        }
        for (const id of Object.keys(text)) {
            const a = document.getElementById(id);
            let next = a && a.nextSibling;  // a node: no text between anchor and highlight
            while (next && next.classList && next.classList.contains('anchor')) {
                next = next.nextSibling;
            }
            anchors[id] = Boolean(a && a.classList.contains('anchor') && a.textContent === ''
                && next && next.dataset && next.dataset.records.split(' ').includes(id));
        }
        const whole = document.querySelector('.text').textContent;
        return {text, anchors, whole, classes: Object.fromEntries(
            Object.entries(classes).map(([k, v]) => [k, Array.from(v)]))};
    }"""
    )
    (source_text,) = _texts(tables["sources"]).values()
    assert found["whole"] == source_text, "the text shown is not the source text as printed"
    assert found["text"] == marked  # every mention of a record is highlighted
    assert all(found["anchors"].values()), [k for k, ok in found["anchors"].items() if not ok]
    types = dict(
        zip(tables["provenance"]["record_id"], tables["provenance"]["record_type"], strict=True)
    )
    for record_id, class_lists in found["classes"].items():
        assert all(f"hl-{types[record_id]}" in c.split() for c in class_lists), record_id


def test_focusing_a_highlight_shows_its_row(page, page_url, tables):
    figures = tables["figures"].set_index("figure_id")
    page.goto(page_url)
    popover = page.locator("#record_popover")
    assert popover.is_hidden()

    seen_figure = False
    for _ in range(400):
        page.keyboard.press("Tab")
        records = page.evaluate(
            "() => document.activeElement.classList.contains('hl')"
            " ? document.activeElement.dataset.records : null"
        )
        if records is None:
            continue
        assert popover.is_visible(), f"no popover while {records} is focused"
        shown = popover.inner_text()
        for record_id in records.split():
            assert record_id in shown
            if record_id in figures.index:
                assert figures.loc[record_id, "value_as_printed"] in shown
                seen_figure = True
        if seen_figure:
            break
    assert seen_figure, "Tab never reached a highlighted figure"

    page.keyboard.press("Escape")
    assert popover.is_hidden()
    # hovering shows the row too
    page.hover('.text .hl[data-records="mex-cocaine-seized-1999"]')
    assert popover.is_visible()
    assert "34.6" in popover.inner_text()


def test_table_sorts_and_filters(page, page_url, tables):
    page.goto(page_url)
    table = page.locator("#figures_table_1")
    rows = table.locator("tbody tr:visible")
    total = len(tables["figures"])
    assert rows.count() == total

    page.fill('input[data-table="figures_table_1"]', "cocaine")
    cocaine = tables["figures"]["subject"].eq("cocaine").sum()
    assert 0 < rows.count() < total
    assert rows.count() >= cocaine
    assert all("cocaine" in t.lower() for t in rows.all_inner_texts())
    assert f"{rows.count()} of {total} shown" in page.inner_text("#figures_count_1")
    page.fill('input[data-table="figures_table_1"]', "")
    assert rows.count() == total

    def values() -> list[float]:
        return [
            float(v)
            for v in table.locator("tbody tr td:nth-child(2)").evaluate_all(
                "cells => cells.map(c => c.dataset.sort)"
            )
        ]

    first_two = values()[:2]
    value_header = table.locator("thead th", has_text="Value")
    value_header.locator("button").click()
    assert value_header.get_attribute("aria-sort") == "ascending"
    ascending = values()
    assert ascending == sorted(ascending)
    assert ascending[:2] != first_two
    assert ascending[0] == tables["figures"]["value"].min()

    value_header.locator("button").focus()  # headers are buttons: the keyboard sorts too
    page.keyboard.press("Enter")
    assert value_header.get_attribute("aria-sort") == "descending"
    descending = values()
    assert descending == sorted(descending, reverse=True)
    assert descending[0] == tables["figures"]["value"].max()
    assert descending[:2] != ascending[:2]


def test_page_is_self_contained_and_deterministic(browser, page_file, page_url, tables):
    html = page_file.read_text(encoding="utf-8")
    assert html.endswith("</html>\n")
    external = re.findall(
        r"<(?:script|link|img|style|iframe|source|video|audio|object|embed)\b[^>]*"
        r"(?:src|href|data)\s*=\s*[\"']?(?:https?:)?//",
        html,
        flags=re.IGNORECASE,
    )
    assert not external, external
    assert not re.search(r"@import|url\(", html), "the style loads something"
    # the JSON data cannot close its script block
    data = html.split('<script type="application/json" id="records_json">', 1)[1]
    assert "</" not in data.split("</script>", 1)[0]

    # same inputs, in any row order, give the same bytes; the title names the text's sha256
    shuffled = {name: df.sample(frac=1, random_state=7) for name, df in tables.items()}
    assert _render(tables) == html
    assert _render(shuffled) == html
    sha256 = tables["sources"]["sha256"].iloc[0]
    assert f"(sha256 {sha256[:12]})</title>" in html
    assert _version() not in html.split("<style>", 1)[0]

    context = browser.new_context()
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.goto(f"{page_url}#mex-cocaine-seized-1999")
    tab.hover(".text .hl.marked")
    tab.wait_for_timeout(200)
    context.close()
    assert requests, "the page was not requested at all"
    assert {r.split("#")[0] for r in requests} == {page_url}, requests


def test_markup_in_the_data_is_shown_not_run(page, tmp_path, tables):
    """A note or title holding markup, even "</script>", shows as text and breaks nothing."""
    hostile = '</script><script>window.pwned = 1</script><!-- <b id="bold">x</b>'
    changed = {name: df.copy() for name, df in tables.items()}
    figures = changed["figures"]
    figures.loc[figures["figure_id"] == "mex-cocaine-seized-1999", "note"] = hostile
    changed["sources"]["title"] = changed["sources"]["title"] + " <i>&amp;</i>"
    path = tmp_path / f"{SOURCE_ID}.html"
    path.write_text(_render(changed), encoding="utf-8")
    page.goto(f"{path.as_uri()}#mex-cocaine-seized-1999")
    page.wait_for_function("() => document.querySelector('.marked') !== null")
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#bold").count() == 0
    assert hostile in page.locator("#record_popover").inner_text()
    assert page.locator("h1").inner_text().endswith(" <i>&amp;</i>")


# --- corrections -----------------------------------------------------------------------

MARKED_IN_VIEW = """() => {
    const s = document.querySelector('.text .marked');
    if (!s) return false;
    const r = s.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
}"""


def test_every_correction_is_marked_on_its_printed_text(page, page_url, tables, corrections):
    assert corrections, "the committed outputs have no corrections to show"
    page.goto(page_url)
    found = page.evaluate(
        """() => {
        const text = {}, records = {}, anchors = {};
        for (const s of document.querySelectorAll('.text [data-corrections]')) {
            for (const id of s.dataset.corrections.split(' ')) {
                text[id] = (text[id] || '') + s.textContent;
                records[id] = (records[id] || []).concat(
                    s.dataset.records ? s.dataset.records.split(' ') : []);
            }
        }
        for (const id of Object.keys(text)) {
            const a = document.getElementById(id);
            let next = a && a.nextSibling;
            while (next && next.classList && next.classList.contains('anchor')) {
                next = next.nextSibling;
            }
            anchors[id] = Boolean(a && a.classList.contains('anchor') && a.textContent === ''
                && next && next.dataset && next.dataset.corrections
                && next.dataset.corrections.split(' ').includes(id)
                && next.classList.contains('corr'));
        }
        return {text, records, anchors, whole: document.querySelector('.text').textContent};
    }"""
    )
    (source_text,) = _texts(tables["sources"]).values()
    assert found["whole"] == source_text, "a correction changed the text shown"
    assert found["text"] == {cid: c["printed"] for cid, c in corrections.items()}
    assert all(found["anchors"].values()), [k for k, ok in found["anchors"].items() if not ok]
    # a correction inside a figure's quote keeps that figure's highlight on its characters
    assert set(found["records"][CORRECTION_IN_FIGURE]) == {CORRECTED_FIGURE}
    assert found["records"][CORRECTION_ALONE] == []
    # every correction listed on a figure or event lies on that record's highlight
    for df, key in ((tables["figures"], "figure_id"), (tables["events"], "event_id")):
        for rid, ids in zip(df[key], df["correction_ids"], strict=True):
            for cid in ids.split(";") if isinstance(ids, str) else []:
                assert rid in found["records"][cid], (rid, cid)


def test_following_a_correction_link_marks_the_printed_text(page, page_url, corrections, quotes):
    page.goto(page_url)
    table = page.locator("#corrections_table_1")
    assert table.locator("tbody tr").count() == len(corrections)

    _follow_row_link(page, CORRECTION_IN_FIGURE, "corrections_table_1")
    assert page.evaluate(MARKED_TEXT) == corrections[CORRECTION_IN_FIGURE]["printed"] == "15. 5"
    assert page.evaluate(MARKED_IN_VIEW), "the marked correction is not scrolled into view"
    assert page.inner_text("#marked_status") == f"Marked: {CORRECTION_IN_FIGURE}"
    current = table.locator("tr.current")
    assert current.count() == 1 and CORRECTION_IN_FIGURE in current.inner_text()
    popover = page.locator("#record_popover")
    assert popover.is_visible()
    marked_card = popover.locator(".card.is-marked")
    assert marked_card.count() == 1 and CORRECTION_IN_FIGURE in marked_card.inner_text()

    # a correction outside every quote is marked alone
    _follow_row_link(page, CORRECTION_ALONE, "corrections_table_1")
    assert page.evaluate(MARKED_TEXT) == corrections[CORRECTION_ALONE]["printed"]
    assert page.evaluate(MARKED_IN_VIEW)
    assert "United States" in popover.inner_text()

    # the figure holding the first correction still marks its whole quote, correction included
    _follow_row_link(page, CORRECTED_FIGURE)
    assert page.evaluate(MARKED_TEXT) == quotes[CORRECTED_FIGURE]

    # the corrections table sorts by line and filters like the others
    line_header = table.locator("thead th", has_text="Line")
    line_header.locator("button").click()
    lines = [int(t) for t in table.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert lines == sorted(lines) and len(lines) == len(corrections)
    page.fill('input[data-table="corrections_table_1"]', "heroin")
    assert table.locator("tbody tr:visible").count() == 1
    assert "1 of" in page.inner_text("#corrections_count_1")


def test_popover_of_a_corrected_figure_shows_printed_and_corrected(page, page_url, corrections):
    fix = corrections[CORRECTION_IN_FIGURE]
    page.goto(page_url)
    popover = page.locator("#record_popover")
    segments = page.locator(f'.text .hl[data-records~="{CORRECTED_FIGURE}"]')
    assert segments.count() >= 2  # the corrected "15. 5" and the rest of the quote

    segments.first.focus()
    assert segments.first.get_attribute("data-corrections") == CORRECTION_IN_FIGURE
    assert popover.is_visible()
    shown = popover.inner_text()
    assert "15. 5" in shown and "15.5" in shown and CORRECTION_IN_FIGURE in shown
    assert CORRECTED_FIGURE in shown
    sentence = (
        f'Correction {CORRECTION_IN_FIGURE}: printed "{fix["printed"]}" \u2192 '
        f'"{fix["corrected"]}" \u2014 {fix["reason"]} '
        f"(reported {fix['reported_on'].isoformat()} by {fix['reported_by']})"
    )
    assert sentence in shown
    # the figure's card lists its correction ids, also on the segment no correction covers
    segments.last.focus()
    assert segments.last.get_attribute("data-corrections") is None
    shown = popover.inner_text()
    assert CORRECTION_IN_FIGURE in shown and "15.5" in shown

    # a correction outside every quote shows its own popover when focused
    page.locator(f'.text .corr[data-corrections="{CORRECTION_ALONE}"]').focus()
    assert popover.is_visible()
    assert "Unites States" in popover.inner_text() and "United States" in popover.inner_text()


def test_page_without_corrections_still_renders(tables):
    """Older callers pass no corrections: no marks, no corrections table, no error."""
    html = source_page(
        tables["sources"],
        tables["figures"],
        tables["events"],
        tables["provenance"],
        _texts(tables["sources"])[SOURCE_ID],
        actors=tables["actors"],
    )
    assert ' data-corrections="' not in html
    assert "corrections_table_1" not in html
    assert 'id="mex-cocaine-seized-1999"' in html


def test_a_correction_off_its_printed_text_is_refused(tables):
    changed = {name: df.copy() for name, df in tables.items()}
    fixes = changed["corrections"]
    fixes.loc[fixes["correction_id"] == CORRECTION_ALONE, "char_start"] += 1
    with pytest.raises(ValueError, match=CORRECTION_ALONE):
        _render(changed)

    changed = {name: df.copy() for name, df in tables.items()}
    figures = changed["figures"]
    figures.loc[figures["figure_id"] == CORRECTED_FIGURE, "correction_ids"] = None
    with pytest.raises(ValueError, match=CORRECTED_FIGURE):
        _render(changed)


# --- the index, one page per source ------------------------------------------


def test_index_lists_the_sources_and_forwards_old_links(page, site, tables, quotes, corrections):
    index = site / "provenance.html"
    html = index.read_text(encoding="utf-8")
    assert f"dataset version <strong>{_version()}</strong>" in html
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), "loads something"
    page_size = (site / "provenance" / f"{SOURCE_ID}.html").stat().st_size
    assert len(html.encode()) < page_size / 4, "the index is not small"
    assert quotes["mex-cocaine-seized-1999"] not in html, "the index holds a text"

    # an old shared link goes on to the source's page, which marks that quote
    page.goto(f"{index.as_uri()}#mex-cocaine-seized-1999")
    page.wait_for_url(f"**/provenance/{SOURCE_ID}.html#mex-cocaine-seized-1999")
    page.wait_for_function("() => document.querySelector('.text .hl.marked') !== null")
    assert page.evaluate(MARKED_TEXT) == quotes["mex-cocaine-seized-1999"]
    assert page.evaluate(IN_VIEW)
    page.go_back()  # the index replaced itself: back leaves the pages, no loop
    assert page.url in ("about:blank", "")

    # so does a correction's id
    page.goto(f"{index.as_uri()}#{CORRECTION_ALONE}")
    page.wait_for_url(f"**/provenance/{SOURCE_ID}.html#{CORRECTION_ALONE}")
    page.wait_for_function("() => document.querySelector('.text .marked') !== null")
    assert page.evaluate(MARKED_TEXT) == corrections[CORRECTION_ALONE]["printed"]

    # an unknown or missing fragment shows the index, whose row links to the page
    for fragment in ("#no-such-record", "#", ""):
        page.goto(f"{index.as_uri()}{fragment}")
        page.wait_for_load_state("load")
        assert page.url.split("#")[0] == index.as_uri()
        status = page.inner_text("#index_status")
        assert ("no-such-record" in status) == (fragment == "#no-such-record")
    rows = page.locator("#sources_table_1 tbody tr")
    assert rows.count() == 1
    assert rows.locator("td").nth(1).inner_text() == SOURCE_ID
    counts = [int(t) for t in rows.locator("td").all_inner_texts()[2:]]
    assert counts == [len(tables["figures"]), len(tables["events"]), len(tables["corrections"])]
    rows.locator("a").click()
    page.wait_for_url(f"**/provenance/{SOURCE_ID}.html")
    page.locator(".bar nav a", has_text="All sources").click()
    page.wait_for_url("**/provenance.html")


def test_a_source_page_depends_on_nothing_but_its_source(page, tmp_path, site, tables):
    """Another source beside it and another version leave the page of a source byte for
    byte as it was; the index lists both and forwards the other source's ids to its page."""
    both = _write(_with_copy(tables), tmp_path / "outputs", "99.0.0")
    alone = (site / "provenance" / f"{SOURCE_ID}.html").read_bytes()
    assert (both / "provenance" / f"{SOURCE_ID}.html").read_bytes() == alone
    copy = (both / "provenance" / f"{COPY_ID}.html").read_text(encoding="utf-8")
    assert 'id="mex-cocaine-seized-1999-copy"' in copy
    assert 'id="mex-cocaine-seized-1999"' not in copy
    assert sorted(p.name for p in (both / "provenance").iterdir()) == [
        f"{COPY_ID}.html",
        f"{SOURCE_ID}.html",
    ]

    index = both / "provenance.html"
    assert "dataset version <strong>99.0.0</strong>" in index.read_text(encoding="utf-8")
    page.goto(f"{index.as_uri()}#mex-cocaine-seized-1999-copy")
    page.wait_for_url(f"**/provenance/{COPY_ID}.html#mex-cocaine-seized-1999-copy")
    page.wait_for_function("() => document.querySelector('.text .hl.marked') !== null")
    page.goto(index.as_uri())
    assert page.locator("#sources_table_1 tbody tr").count() == 2


def test_write_pages_refuses_tables_the_pages_cannot_show(tmp_path, tables):
    changed = {name: df.copy() for name, df in tables.items()}
    fixes = changed["corrections"]
    fixes.loc[fixes["correction_id"] == CORRECTION_ALONE, "char_start"] += 1
    with pytest.raises(BuildError, match=rf"provenance/{SOURCE_ID}\.html: .*{CORRECTION_ALONE}"):
        _write(changed, tmp_path / "a", "1.0.0", tmp_path / "cache")

    changed = {name: df.copy() for name, df in tables.items()}
    prov = changed["provenance"]
    prov.loc[prov["record_id"] == CORRECTED_FIGURE, "source_id"] = "no-such-source"
    with pytest.raises(
        BuildError, match=rf"provenance\.html: .*{CORRECTED_FIGURE}.*no-such-source"
    ):
        _write(changed, tmp_path / "b", "1.0.0")

    changed = _with_copy(tables)
    prov = changed["provenance"]
    prov.loc[prov["record_id"] == "campaign-usa-media-copy", "record_id"] = OVERLAPPING_EVENT
    with pytest.raises(BuildError, match=rf"id {OVERLAPPING_EVENT} names two"):
        _write(changed, tmp_path / "c", "1.0.0")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("twice", "id mex-cocaine-seized-1999 names two records or corrections"),
        ("not kebab", "id 'Mex_Cocaine' is not lowercase kebab-case"),
        ("unknown source", "mex-cocaine-seized-1999 names unknown source elsewhere"),
    ],
)
def test_the_index_refuses_ids_no_link_could_tell_apart(tables, damage, message):
    """The index maps every id to its source's page: an id used twice, an id that cannot be
    a fragment of the space-separated map, or an id of no listed source stops it."""
    provenance = tables["provenance"].copy()
    corrections = tables["corrections"].copy()
    at = provenance.index[provenance["record_id"] == "mex-cocaine-seized-1999"][0]
    if damage == "twice":
        corrections.loc[corrections.index[0], "correction_id"] = "mex-cocaine-seized-1999"
    elif damage == "not kebab":
        provenance.loc[at, "record_id"] = "Mex_Cocaine"
    else:
        provenance.loc[at, "source_id"] = "elsewhere"
    with pytest.raises(ValueError, match=re.escape(message)):
        index_page(tables["sources"], tables["figures"], tables["events"], provenance,
                   corrections, "1.0.0")  # fmt: skip
