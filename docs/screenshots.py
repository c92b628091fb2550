"""The README's screenshots, made from the build they show: `python3 dev.py screenshots`.

Serves a built folder (outputs/ unless --outputs) on a free loopback port, opens it in Debian's
Chromium through Playwright (no browser is downloaded) at 1280 x 800 and writes

    docs/landing-page.png      outputs/index.html, its first screen
    docs/provenance-page.png   the first figure of the first source, marked on its page
    docs/screenshots.json      the version and build commit shown, each image's sha256

It refuses to shoot a page whose shown version is not the package's (datapackage.json), so
an image cannot show another build than the one recorded; tests/test_screenshots.py checks
the committed images against the committed outputs/.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import sys
import threading
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
RECORD = "screenshots.json"
IMAGES = {"landing-page.png": "index.html", "provenance-page.png": None}  # None: a source page


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the script prints its own lines
        pass


def _first_figure(outputs: Path) -> str:
    """provenance/<source>.html#<figure>: the first figure of the first source."""
    figures = pd.read_parquet(outputs / "figures.parquet", columns=["figure_id", "source_id"])
    first = figures.sort_values(["source_id", "figure_id"]).iloc[0]
    return f"provenance/{first.source_id}.html#{first.figure_id}"


def shoot(outputs: Path, into: Path) -> dict:
    """The screenshots of the build in `outputs` into `into`; returns what RECORD holds."""
    from playwright.sync_api import sync_playwright

    package = json.loads((outputs / "datapackage.json").read_text("utf-8"))
    version, commit = package["version"], package["build"]["code"]["git_commit"]
    handler = functools.partial(_Quiet, directory=str(outputs))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = {name: page or _first_figure(outputs) for name, page in IMAGES.items()}
    into.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport=VIEWPORT)
            for name, page in pages.items():
                tab.goto(base + page)
                tab.wait_for_load_state("load")
                if page == "index.html":
                    shown = tab.locator("#version").text_content()
                    if shown != version:
                        raise SystemExit(
                            f"{outputs}/index.html shows version {shown}, "
                            f"datapackage.json says {version}: rebuild outputs/."
                        )
                tab.screenshot(path=str(into / name))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    images = {name: {"page": page, "sha256": hashlib.sha256((into / name).read_bytes()).hexdigest()}
              for name, page in pages.items()}  # fmt: skip
    record = {"version": version, "git_commit": commit, "viewport": VIEWPORT, "images": images}
    (into / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", "utf-8")
    return record


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=Path, default=ROOT / "outputs")
    parser.add_argument("--into", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    record = shoot(args.outputs, args.into)
    for name in record["images"]:
        print(f"{args.into / name}: version {record['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
