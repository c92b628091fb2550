"""Writing the pages of a package: the provenance index, one page per source, and the landing
page (written last: it lists every other file with its sha256).

A source's page depends only on its rows, its text and the code, so it is made once per
content: its key names the key of its rows (`SourceRows.key`), its row of the sources table
and its text's sha256; a page in the store is hard-linked in. Many pages are made in worker
processes, each sent only its own source's rows and text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import progress
from pipeline.cache.keys import cache_key
from pipeline.cache.parallel import ordered_map, processes
from pipeline.cache.store import Store
from pipeline.core.errors import BuildError
from pipeline.core.fields import TableDef
from pipeline.core.sources import SourceSnapshot
from pipeline.site.checks import SOURCE_PAGES_DIR, source_page_path
from pipeline.site.labels import plain_columns, plain_rows
from pipeline.site.landing import (
    CHART_SCRIPT,
    LANDING_FILE,
    MANY_SOURCES,
    SOURCE_LANDING_DIR,
    chart_script,
    downloads,
    draw_charts,
    landing_chart_specs,
    landing_page,
    source_landing_page,
    source_landing_path,
)
from pipeline.site.render import index_page
from pipeline.site.render import source_page as source_page_from_rows

PAGE_FILE = "provenance.html"
PAGE_TABLES = ("sources", "figures", "events", "provenance", "corrections", "actors")
PAGE_MIN_ITEMS = 16  # fewer pages to make are made in this process
PAGE_CHUNK = 25  # sources a worker converts and renders in one call
UTF8: dict[str, Any] = {"encoding": "utf-8", "newline": ""}


def rows_by_source(
    df: pd.DataFrame, source_ids: list[str], at: dict[str, Any] | None = None
) -> dict[str, list[dict]]:
    """The rows of each of `source_ids` as dicts of JSON-ready values, in table order; `at`
    is the table's positions by source (`groupby(...).indices`), when already known. Only
    those sources' rows are converted."""
    if not source_ids or not len(df):
        return {sid: [] for sid in source_ids}
    at = df.groupby("source_id", sort=False).indices if at is None else at
    wanted = [at.get(sid, np.empty(0, dtype=np.intp)) for sid in source_ids]
    columns = plain_columns(df.take(np.concatenate(wanted)))
    ends = np.cumsum([len(w) for w in wanted]).tolist()
    return {sid: plain_rows(columns, range(end - len(w), end))
            for sid, w, end in zip(source_ids, wanted, ends, strict=True)}  # fmt: skip


def _sources_rows(sources: pd.DataFrame) -> dict[str, str]:
    """Each source's row of the sources table, as text (types and nulls kept apart)."""
    cells = sources.astype(object).values.tolist()
    return {str(row[sources.columns.get_loc("source_id")]): repr(row) for row in cells}


def _render_into(path: str, rows: dict[str, list[dict]], text: str, landing: str = "") -> None:
    """A source's page into `path` and, with many sources, its page of records and charts
    into `landing`."""
    try:
        html = source_page_from_rows(
            *(rows[n] for n in PAGE_TABLES[:4]), text, rows["corrections"], rows["actors"]
        )
        records = source_landing_page(rows, text) if landing else ""
    except ValueError as exc:
        raise BuildError(path, str(exc).rstrip("."), "fix the tables") from exc
    Path(path).write_text(html, **UTF8)
    if landing:
        Path(landing).write_text(records, **UTF8)


def write_pages(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    folder: Path,
    version: str,
    cache_dir: Path | None = None,
    row_keys: dict[str, str] | None = None,
    others_written: Callable[[], object] | None = None,
    drawn: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """outputs/provenance.html (the index; it also sends a shared `provenance.html#<id>` on
    to the right page), outputs/provenance/<source_id>.html, one page per source, and last
    outputs/index.html, the landing page, which lists every other file of `folder` (once
    `others_written` returns, when files are being written beside the pages). `drawn` gives
    what `draw_landing` drew ahead; without it the charts are drawn here."""
    frames = {name: tables[name][1] for name in PAGE_TABLES}
    try:
        index = index_page(*(frames[n] for n in PAGE_TABLES[:4]), frames["corrections"], version)
    except ValueError as exc:
        raise BuildError(folder / PAGE_FILE, str(exc).rstrip("."), "fix the tables") from exc
    texts = {s.source_id: s for s in snapshots}
    store, row_keys = Store(cache_dir, "pages"), row_keys or {}
    (folder / SOURCE_PAGES_DIR).mkdir(parents=True, exist_ok=True)
    many = len(frames["sources"]) >= MANY_SOURCES  # then each source has a page of its records
    if many:
        (folder / SOURCE_LANDING_DIR).mkdir(exist_ok=True)
        script = drawn()["script"] if drawn else None
        (folder / SOURCE_LANDING_DIR / CHART_SCRIPT).write_text(script or chart_script(), **UTF8)
    described = _sources_rows(frames["sources"])
    todo: dict[str, str | None] = {}  # source id -> its key in the store, for pages to make
    for sid in sorted(frames["sources"]["source_id"]):
        page = folder / _page_path(folder, sid)
        if sid not in texts:
            raise BuildError(page, f"no text given for source {sid}", "fix the tables")
        key = None
        if sid in row_keys:
            key = cache_key("page", row_keys[sid], texts[sid].sha256, described[sid])
        landing = folder / source_landing_path(sid)
        if not (key and store.link_to(key, ".html", page)
                and (not many or store.link_to(key, ".records.html", landing))):  # fmt: skip
            todo[sid] = key
    _make_pages(frames, texts, folder, list(todo), many)
    for sid, key in todo.items():
        if key:
            store.keep(key, ".html", folder / source_page_path(sid))
            if many:
                store.keep(key, ".records.html", folder / source_landing_path(sid))
    (folder / PAGE_FILE).write_text(index, **UTF8)
    if others_written is not None:
        others_written()
    write_landing(tables, snapshots, folder, version, drawn)


def _page_path(folder: Path, sid: str) -> str:
    try:
        return source_page_path(sid)
    except ValueError as exc:
        raise BuildError(folder / PAGE_FILE, str(exc).rstrip("."), "fix the tables") from exc


def _make_pages(frames, texts, folder: Path, todo: list[str], many: bool = False) -> None:
    """Make the pages of `todo` into the package, in worker processes when many: chunks of
    sources, each converting its own sources' rows (the tables are in the workers' memory)."""
    at = {name: df.groupby("source_id", sort=False).indices for name, df in frames.items()}
    count = processes(len(todo), PAGE_MIN_ITEMS)
    size = max(1, min(PAGE_CHUNK, -(-len(todo) // (count * 4))))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    n = len(chunks)
    with progress.step("source pages", total=len(todo)):
        ordered_map(_render_chunk, [str(folder)] * n, [frames] * n, [at] * n, [texts] * n,
                    chunks, [many] * n, parallel=count > 1, units=len)  # fmt: skip


def _render_chunk(folder: str, frames, at, texts, sids: list[str], many: bool) -> list[str]:
    """The pages of some sources; their ids, once made."""
    by_table = {name: rows_by_source(frames[name], sids, at[name]) for name in PAGE_TABLES}
    for sid in sids:
        _render_into(
            str(Path(folder) / source_page_path(sid)),
            {name: by_table[name][sid] for name in PAGE_TABLES},
            texts[sid].text,
            str(Path(folder) / source_landing_path(sid)) if many else "",
        )
    return sids


def draw_landing(
    tables: dict[str, tuple[TableDef, pd.DataFrame]], snapshots: list[SourceSnapshot]
) -> dict[str, Any]:
    """What vl-convert makes for the pages, made ahead (in a child while the package is
    written): the landing page's charts, and with many sources sources/charts.js."""
    with progress.step("charts"):
        frames = {n: df for n, (_, df) in tables.items()}
        texts = {s.source_id: s.text for s in snapshots}
        many = len(frames["sources"]) >= MANY_SOURCES
        return {"svg": draw_charts(landing_chart_specs(frames, texts)),
                "script": chart_script() if many else None}  # fmt: skip


def write_landing(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    folder: Path,
    version: str,
    drawn: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """outputs/index.html, the landing page, once every other file of `folder` is written."""
    with progress.step("landing page"):
        _write_landing(tables, snapshots, folder, version, drawn)


def _write_landing(tables, snapshots, folder: Path, version: str, drawn=None) -> None:
    files, page = downloads(folder), folder / LANDING_FILE
    texts = {s.source_id: s.text for s in snapshots}
    try:
        frames = {n: df for n, (_, df) in tables.items()}
        html = landing_page(frames, texts, version, files, drawn()["svg"] if drawn else None)
    except ValueError as exc:
        raise BuildError(page, str(exc).rstrip("."), "fix the tables") from exc
    page.write_text(html, **UTF8)
