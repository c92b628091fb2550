"""Each source's provenance page is made once per content (pipeline/publish/pages.py): its
key names the key the source's rows were made under, its row of the sources table, its
text and the code version."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW
from pipeline.cache import keys
from pipeline.core.fields import table_defs
from pipeline.core.sources import load_snapshot
from pipeline.publish import pages

SOURCE_ID = "ondcp-usmx-ch3"
TABLES = ("sources", "figures", "events", "provenance", "corrections", "actors")


@pytest.fixture(scope="module")
def tables(built) -> dict[str, tuple]:
    defs = table_defs()
    return {n: (defs[n], pd.read_parquet(built / f"{n}.parquet")) for n in TABLES}


def test_the_cache_makes_each_page_once(tmp_path: Path, tables, monkeypatch):
    made: list[str] = []
    real = pages.source_page_from_rows

    def counting(sources, *args, **kwargs):
        made.extend(row["source_id"] for row in sources)
        return real(sources, *args, **kwargs)

    monkeypatch.setattr(pages, "source_page_from_rows", counting)
    snapshots, cache = [load_snapshot(RAW / SOURCE_ID)], tmp_path / "cache"

    def write(name: str, version: str, row_key: str, frames=tables) -> Path:
        folder = tmp_path / name
        pages.write_pages(frames, snapshots, folder, version, cache, {SOURCE_ID: row_key})
        return folder / "provenance" / f"{SOURCE_ID}.html"

    first = write("first", "1.0.0", "rows-a")
    assert made == [SOURCE_ID] and first.is_file()
    assert len(list((cache / "pages").glob("*.html"))) == 1
    made.clear()
    second = write("second", "1.0.1", "rows-a")  # another version, the same rows
    assert made == [] and os.stat(second).st_nlink == 2  # linked from the store, not made
    with open(second, "r+b") as handle:  # an edit in place through the link, in outputs/
        handle.write(b"XX")
    third = write("third", "1.0.0", "rows-a")  # the edited entry is not handed out: made again
    assert made == [SOURCE_ID] and third.read_bytes()[:2] != b"XX"
    made.clear()
    third = write("third-b", "1.0.0", "rows-b")  # the source's rows were made anew
    assert made == [SOURCE_ID]
    made.clear()
    sources_def, sources = tables["sources"]
    renamed = {**tables, "sources": (sources_def, sources.assign(title="Another title"))}
    fourth = write("fourth", "1.0.0", "rows-a", renamed)  # its row of the sources table
    assert made == [SOURCE_ID] and "Another title" in fourth.read_text(encoding="utf-8")
    made.clear()
    monkeypatch.setattr(keys, "code_version", lambda: "other code")
    fifth = write("fifth", "1.0.0", "rows-a")  # other code makes it again, to the same bytes
    assert made == [SOURCE_ID] and fifth.read_bytes() == third.read_bytes()
    assert not list((cache / "pages").glob(".*")), "a temporary file was left in the cache"


def test_without_a_row_key_the_page_is_made_in_place(tmp_path: Path, tables):
    snapshots = [load_snapshot(RAW / SOURCE_ID)]
    pages.write_pages(tables, snapshots, tmp_path / "o", "1.0.0", tmp_path / "cache")
    page = tmp_path / "o" / "provenance" / f"{SOURCE_ID}.html"
    assert not (tmp_path / "cache" / "pages").exists()
    pages.write_pages(
        tables, snapshots, tmp_path / "k", "1.0.0", tmp_path / "cache", {SOURCE_ID: "k"}
    )
    assert page.read_bytes() == (tmp_path / "k" / "provenance" / f"{SOURCE_ID}.html").read_bytes()


def test_a_new_row_key_of_one_source_remakes_that_sources_page_only(tmp_path, tables, monkeypatch):
    import dataclasses

    made: list[str] = []
    real = pages.source_page_from_rows
    monkeypatch.setattr(
        pages,
        "source_page_from_rows",
        lambda sources, *a, **k: (
            made.extend(r["source_id"] for r in sources) or real(sources, *a, **k)
        ),
    )
    copy_id = f"{SOURCE_ID}-copy"
    original = load_snapshot(RAW / SOURCE_ID)
    snapshots = [original, dataclasses.replace(original, source_id=copy_id)]
    both = {}
    for name, (definition, df) in tables.items():
        twin = df.copy()
        twin["source_id"] = copy_id
        key = {"sources": "source_id", "figures": "figure_id", "events": "event_id",
               "provenance": "record_id", "corrections": "correction_id",
               "actors": "actor_id"}[name]  # fmt: skip
        if name != "sources":
            twin[key] = twin[key] + "-copy"
        if "correction_ids" in twin.columns:
            twin["correction_ids"] = twin["correction_ids"].map(
                lambda ids: (
                    ";".join(f"{c}-copy" for c in ids.split(";")) if isinstance(ids, str) else ids
                )
            )
        both[name] = (definition, pd.concat([df, twin], ignore_index=True))
    cache = tmp_path / "cache"
    pages.write_pages(both, snapshots, tmp_path / "a", "1", cache, {SOURCE_ID: "x", copy_id: "y"})
    assert sorted(made) == [SOURCE_ID, copy_id]
    made.clear()
    pages.write_pages(both, snapshots, tmp_path / "b", "1", cache, {SOURCE_ID: "x", copy_id: "z"})
    assert made == [copy_id]
