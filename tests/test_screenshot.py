"""A marked link renders without JavaScript timing: `chromium --headless --screenshot` of
provenance/<source_id>.html#<figure_id>, the exact command a reader would run, shows the figure
marked, with or without the page's scripts. The page is that of a build of raw/ into a
temporary folder; the browser is the system's /usr/bin/chromium (none is downloaded); the PNG
is decoded here with zlib. The screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH, HEIGHT = 1280, 900
MARK = (0xB3, 0x12, 0x4F)  # --mark of the page: the marked quote's background
BAR = (0xF6, 0xF6, 0xF9)  # the background of the bar at the top (legend and status)


@pytest.fixture(scope="module")
def page(built: Path) -> tuple[Path, str]:
    """A source's page of a build, and its figure printed last in its text (so far down that
    the page must scroll to show it)."""
    prov = pd.read_parquet(built / "provenance.parquet")
    last = prov[prov["record_type"] == "figure"].sort_values("char_start").iloc[-1]
    return built / "provenance" / f"{last['source_id']}.html", str(last["record_id"])


def _screenshot(url: str, png: Path) -> list[bytearray]:
    """The exact command of the promise, and the screenshot's rows of RGB pixels."""
    cmd = [CHROMIUM, *ARGS, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", url]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return _pixels(png.read_bytes())


def _pixels(data: bytes) -> list[bytearray]:
    """The rows of an 8-bit RGB or RGBA PNG (as Chromium writes them), as RGB bytes."""
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(
                ">IIBBBBB", data[pos + 8 : pos + 21]
            )
            assert depth == 8 and colour in (2, 6) and not interlace, "an unexpected PNG"
        elif kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + size]
        pos += 12 + size
    bpp = 3 if colour == 2 else 4
    raw, stride, prev, rows = zlib.decompress(idat), width * bpp, bytearray(width * bpp), []
    for y in range(height):
        start = y * (stride + 1) + 1
        kind, row = raw[start - 1], bytearray(raw[start : start + stride])
        for i in range(stride) if kind else ():  # filters 1-4: Sub, Up, Average, Paeth
            a, b = row[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + (a, b, (a + b) >> 1, _paeth(a, b, c))[kind - 1]) & 255
        rows.append(row)
        prev = row
    return [
        row if bpp == 3 else bytearray(v for i, v in enumerate(row) if i % 4 != 3) for row in rows
    ]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _count(rows: list[bytearray], colour: tuple[int, int, int], below: int = 0) -> int:
    """How many pixels of `colour` the rows from `below` down hold."""
    return sum(
        1 for row in rows[below:] for x in range(0, len(row), 3) if tuple(row[x : x + 3]) == colour
    )


def _bar_bottom(rows: list[bytearray]) -> int:
    """The first row below the bar (whose left edge is the bar's background)."""
    return next(y for y, row in enumerate(rows) if tuple(row[:3]) != BAR)


def _assert_marked(rows: list[bytearray], what: str) -> None:
    assert len(rows) == HEIGHT and len(rows[0]) == 3 * WIDTH
    white = _count(rows, (255, 255, 255))
    assert white < 0.9 * WIDTH * HEIGHT, f"the screenshot {what} is blank ({white} white pixels)"
    bar = _bar_bottom(rows)
    assert 0 < bar < HEIGHT / 4, f"the screenshot {what} shows no bar at the top"
    # below the bar (whose legend shows the colour too) only the marked quote has it
    marked = _count(rows, MARK, below=bar)
    assert marked > 100, f"the screenshot {what} shows no marked quote ({marked} pixels)"


def test_a_marked_link_screenshots_its_figure(page, tmp_path):
    path, figure_id = page
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    rows = _screenshot(f"{path.as_uri()}#{figure_id}", artifacts / "screenshot-marked.png")
    _assert_marked(rows, f"of {path.name}#{figure_id}")


def test_the_mark_needs_no_script(page, tmp_path):
    """The same page with its scripts taken out marks the figure too: HTML and CSS do it."""
    path, figure_id = page
    html = path.read_text(encoding="utf-8")
    bare, scripts = re.subn(r"<script\b.*?</script>", "", html, flags=re.DOTALL)
    assert scripts >= 2 and "<script" not in bare
    copy = tmp_path / path.name
    copy.write_text(bare, encoding="utf-8")
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    rows = _screenshot(f"{copy.as_uri()}#{figure_id}", artifacts / "screenshot-no-script.png")
    _assert_marked(rows, f"of {path.name}#{figure_id} without its scripts")


def test_the_keys_and_the_wheel_still_scroll_the_page(page):
    """The body scrolls, not the window (so that the screenshot is not blank): it has the focus
    from the start, so Page Down scrolls it as it would the window."""
    from playwright.sync_api import sync_playwright

    path, _ = page
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        tab.goto(path.as_uri())
        tab.wait_for_function("() => document.activeElement === document.body")
        scrolled = "() => Math.max(window.scrollY, document.body.scrollTop)"
        tab.keyboard.press("PageDown")
        tab.wait_for_function(f"() => ({scrolled})() > {HEIGHT // 2}")
        before = tab.evaluate(scrolled)
        tab.mouse.move(WIDTH // 2, HEIGHT // 2)
        tab.mouse.wheel(0, 600)
        tab.wait_for_function(f"() => ({scrolled})() > {before}")
        browser.close()
