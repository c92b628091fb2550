"""pipeline/publish/pages.py's promises: the same tables and files give the published pages
byte for byte (made in place or linked from the store); with many sources each also has its
page of records, kept in the store beside its provenance page; the rows of each source are
the same however many sources are asked for; a table the pages cannot show is refused in one
sentence naming the page."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID
from pipeline import progress
from pipeline.core.errors import BuildError
from pipeline.core.fields import coerce_frame, table_defs
from pipeline.core.sources import load_snapshot
from pipeline.publish import pages
from pipeline.site.landing import CHART_SCRIPT

PAGES = ("index.html", "provenance.html", "provenance")
TWIN = f"{SOURCE_ID}-copy"
KEYS = {"sources": "source_id", "figures": "figure_id", "events": "event_id",
        "provenance": "record_id", "corrections": "correction_id", "actors": "actor_id"}  # fmt: skip


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def _version(folder: Path) -> str:
    import json

    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["version"]


def _staged(built: Path, folder: Path) -> Path:
    """The package as staged when its pages are written: every file but the pages."""
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    return folder


def _page_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*.html")) if p.relative_to(folder).parts[0] in PAGES}  # fmt: skip


def _counting(monkeypatch) -> list[str]:
    """The source ids of the provenance pages made (not linked); the landing page, the
    slow one (its own tests below), is left out of these runs and only its call noted."""
    made: list[str] = []
    real = pages.source_page_from_rows

    def counting(sources, *args, **kwargs):
        made.extend(row["source_id"] for row in sources)
        return real(sources, *args, **kwargs)

    monkeypatch.setattr(pages, "source_page_from_rows", counting)
    monkeypatch.setattr(pages, "write_landing", lambda *args: made.append("landing"))
    return made


def test_the_same_tables_give_the_published_pages_made_or_linked(built, tmp_path, monkeypatch):
    made = _counting(monkeypatch)
    tables, snapshots, version = _tables(built), [load_snapshot(RAW / SOURCE_ID)], _version(built)
    expected = _page_files(built)
    del expected["index.html"]  # the landing page: below
    assert sorted(expected) == ["provenance.html", f"provenance/{SOURCE_ID}.html"]
    cache, keys = tmp_path / "cache", {SOURCE_ID: "rows"}
    log = io.StringIO()
    with progress.reporting(log):
        pages.write_pages(tables, snapshots, _staged(built, tmp_path / "a"), version, cache, keys)
    assert re.findall(r"^step (.+): ", log.getvalue(), re.M) == ["source pages"]
    assert "step source pages: 1 source in " in log.getvalue()
    pages.write_pages(tables, snapshots, _staged(built, tmp_path / "b"), version, cache, keys)
    assert made == [SOURCE_ID, "landing", "landing"]  # the second page came from the store
    assert os.stat(tmp_path / "b" / "provenance" / f"{SOURCE_ID}.html").st_nlink == 2
    for run in "ab":
        assert _page_files(tmp_path / run) == expected, run
    assert not (tmp_path / "a" / "sources").exists()  # one source: no page of records


def test_without_a_store_every_page_is_made_in_place(built, tmp_path, monkeypatch):
    made = _counting(monkeypatch)
    tables, snapshots = _tables(built), [load_snapshot(RAW / SOURCE_ID)]
    for _ in range(2):  # the second time into the same folder: its pages are written over
        pages.write_pages(
            tables, snapshots, tmp_path / "o", _version(built), None, {SOURCE_ID: "k"}
        )
    assert made == [SOURCE_ID, "landing", SOURCE_ID, "landing"]
    expected = {k: v for k, v in _page_files(built).items() if k != "index.html"}
    assert _page_files(tmp_path / "o") == expected


def test_the_landing_page_is_what_it_makes_of_the_tables_texts_version_and_files(
    built, tmp_path, monkeypatch
):
    seen = {}

    def landing(frames, texts, version, files, drawn):
        seen.update(frames=frames, texts=texts, version=version, files=files, drawn=drawn)
        return "<p>landing</p>"

    monkeypatch.setattr(pages, "landing_page", landing)
    folder = _staged(built, tmp_path / "o")
    (folder / "index.html").write_text("old", encoding="utf-8")
    tables, snapshot = _tables(built), load_snapshot(RAW / SOURCE_ID)
    log = io.StringIO()
    with progress.reporting(log):
        pages.write_landing(tables, [snapshot], folder, "9.9.9")
    assert re.findall(r"^step (.+): ", log.getvalue(), re.M) == ["landing page"]
    assert (folder / "index.html").read_bytes() == b"<p>landing</p>"
    assert seen["version"] == "9.9.9" and seen["texts"] == {SOURCE_ID: snapshot.text}
    assert seen["drawn"] is None  # nothing drawn ahead: the page draws its charts itself
    assert list(seen["frames"]) == list(tables)
    assert all(seen["frames"][n] is df for n, (_, df) in tables.items())
    listed = [f.path for f in seen["files"]]
    assert "index.html" not in listed and listed == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
        and p.name != "index.html"
    )  # fmt: skip


def _two_sources(tables):
    """The tables with a twin of the one source (every id suffixed -copy)."""
    both = {}
    for name, (definition, df) in tables.items():
        twin = df.copy()
        if "source_id" in twin.columns:
            twin["source_id"] = TWIN
        if name in KEYS and name != "sources":
            twin[KEYS[name]] = twin[KEYS[name]] + "-copy"
        if "correction_ids" in twin.columns:
            twin["correction_ids"] = twin["correction_ids"].map(
                lambda ids: ";".join(f"{c}-copy" for c in ids.split(";"))
                if isinstance(ids, str) else ids
            )  # fmt: skip
        both[name] = (definition, pd.concat([df, twin], ignore_index=True))
    return both


def test_with_many_sources_each_has_a_records_page_kept_and_linked(built, tmp_path, monkeypatch):
    made = _counting(monkeypatch)
    monkeypatch.setattr(  # the records page's own content is site/landing.py's (its tests)
        pages, "source_landing_page",
        lambda rows, text: f"records of {rows['sources'][0]['source_id']}, {len(text)} chars",
    )  # fmt: skip
    monkeypatch.setattr(pages, "chart_script", lambda: "/* the charts */")  # 0.5 s to make
    tables = _two_sources(_tables(built))
    original = load_snapshot(RAW / SOURCE_ID)
    snapshots = [original, dataclasses.replace(original, source_id=TWIN)]
    cache, keys = tmp_path / "cache", {SOURCE_ID: "x", TWIN: "y"}
    for run in ("a", "b"):
        pages.write_pages(tables, snapshots, tmp_path / run, "1.0.0", cache, keys)
    assert sorted(made) == sorted([SOURCE_ID, TWIN, "landing", "landing"])  # made, then linked
    for run in ("a", "b"):
        folder = tmp_path / run
        assert (folder / "sources" / CHART_SCRIPT).read_bytes() == b"/* the charts */"
        for sid in (SOURCE_ID, TWIN):
            assert (folder / "provenance" / f"{sid}.html").is_file()
            assert (folder / "sources" / f"{sid}.html").read_text(encoding="utf-8") == (
                f"records of {sid}, {len(original.text)} chars"
            )
    for sid in (SOURCE_ID, TWIN):
        for sub in ("provenance", "sources"):
            a, b = tmp_path / "a" / sub / f"{sid}.html", tmp_path / "b" / sub / f"{sid}.html"
            assert a.read_bytes() == b.read_bytes() and os.stat(b).st_nlink == 2, (sub, sid)
    made.clear()  # a records page missing from the store: both of the source's pages are made
    for entry in (cache / "pages").glob("*.records.html"):
        entry.unlink()
    shutil.rmtree(tmp_path / "a" / "provenance")  # into a folder that has its sources/ already
    pages.write_pages(tables, snapshots, tmp_path / "a", "1.0.0", cache, keys)
    assert sorted(made) == sorted([SOURCE_ID, TWIN, "landing"])  # both made again
    for sid in (SOURCE_ID, TWIN):
        for sub in ("provenance", "sources"):
            again = tmp_path / "a" / sub / f"{sid}.html"
            assert again.read_bytes() == (tmp_path / "b" / sub / f"{sid}.html").read_bytes()


def test_the_rows_of_each_source_are_the_same_however_many_are_asked(built):
    provenance = _tables(built)["provenance"][1]
    few = pages.rows_by_source(provenance, [SOURCE_ID, "absent"])
    many = pages.rows_by_source(provenance, [SOURCE_ID, *(f"absent-{i}" for i in range(20))])
    assert few[SOURCE_ID] == many[SOURCE_ID] and len(few[SOURCE_ID]) == len(provenance)
    assert few["absent"] == [] and many["absent-3"] == []
    assert list(few) == [SOURCE_ID, "absent"]
    assert pages.rows_by_source(provenance.iloc[:0], [SOURCE_ID]) == {SOURCE_ID: []}
    assert pages.rows_by_source(provenance, []) == {}


def test_a_source_without_its_text_is_refused_by_its_page(built, tmp_path):
    with pytest.raises(BuildError) as caught:
        pages.write_pages(_tables(built), [], tmp_path / "o", "1.0.0")
    assert str(caught.value) == (
        f"{tmp_path / 'o' / 'provenance' / SOURCE_ID}.html: no text given for source "
        f"{SOURCE_ID}; fix the tables."
    )


def test_a_source_id_no_page_could_be_named_by_is_refused_in_one_sentence(built, tmp_path):
    tables = _tables(built)
    sources_def, sources = tables["sources"]
    bad = {**tables, "sources": (sources_def, pd.concat(
        [sources, sources.assign(source_id="Not_Kebab")], ignore_index=True))}  # fmt: skip
    snapshot = load_snapshot(RAW / SOURCE_ID)
    snapshots = [snapshot, dataclasses.replace(snapshot, source_id="Not_Kebab")]
    with pytest.raises(BuildError) as caught:
        pages.write_pages(bad, snapshots, tmp_path / "o", "1.0.0")
    assert str(caught.value) == (
        f"{tmp_path / 'o' / 'provenance.html'}: source id 'Not_Kebab' is not lowercase "
        "kebab-case; fix the tables."
    )


def test_a_table_the_landing_page_cannot_show_is_refused_by_the_landing_page(
    built, tmp_path, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ValueError("a value the landing page cannot show.")

    monkeypatch.setattr(pages, "landing_page", refuse)
    folder = _staged(built, tmp_path / "o")
    with pytest.raises(BuildError) as caught:
        pages.write_landing(_tables(built), [load_snapshot(RAW / SOURCE_ID)], folder, "1.0.0")
    assert str(caught.value) == (
        f"{folder / 'index.html'}: a value the landing page cannot show; fix the tables."
    )
    assert not (folder / "index.html").exists()


def test_a_record_a_source_page_cannot_show_is_refused_by_that_page(built, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("a record the page cannot show.")

    monkeypatch.setattr(pages, "source_page_from_rows", refuse)
    with pytest.raises(BuildError) as caught:
        pages.write_pages(_tables(built), [load_snapshot(RAW / SOURCE_ID)], tmp_path / "o", "1")
    assert str(caught.value) == (
        f"{tmp_path / 'o' / 'provenance' / SOURCE_ID}.html: a record the page cannot show; "
        "fix the tables."
    )
