"""pipeline/publish/metadata.py's promises: the same tables and files give the published
croissant.json, annotations.jsonld, README.md and archive byte for byte; the citation names
the makers (not the author), the year and the sources; each file has its note; and each
check of the staged metadata names what it found in one sentence."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from absl import logging as absl_logging

from pipeline import progress
from pipeline.core.fields import coerce_frame, table_defs
from pipeline.publish.metadata import (
    ANNOTATIONS,
    CROISSANT,
    README,
    annotation_problems,
    archive_name,
    archive_problems,
    citation,
    croissant,
    croissant_problems,
    describe,
    metadata_problems,
    write_metadata,
)

MADE_HERE = (CROISSANT, ANNOTATIONS, README)
PAGES = ("index.html", "provenance.html", "provenance")  # written after the metadata


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def _descriptor(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def _staged(built: Path, folder: Path) -> Path:
    """The package as staged when its metadata is written: no metadata, archive or pages."""
    archive = archive_name(_descriptor(built))
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*MADE_HERE, archive, *PAGES))
    return folder


def _steps(log: io.StringIO) -> list[str]:
    return re.findall(r"^step (.+): [0-9.]+ s$", log.getvalue(), re.M)


@pytest.mark.parametrize("ctype", ["", "C"])
def test_the_same_tables_and_files_give_the_published_metadata_and_archive(built, tmp_path, ctype):
    """Also under the C locale (ASCII): annotations.jsonld holds accented quotes."""
    import locale

    folder = _staged(built, tmp_path / "staged")
    descriptor = _descriptor(built)
    log = io.StringIO()
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, ctype or before)
    try:
        assert not ctype or locale.getpreferredencoding(False) != "UTF-8"
        with progress.reporting(log):
            write_metadata(_tables(built), folder, descriptor)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert not (built / ANNOTATIONS).read_bytes().isascii()
    for name in (*MADE_HERE, archive_name(descriptor)):
        assert (folder / name).read_bytes() == (built / name).read_bytes(), name
    assert _steps(log) == ["Croissant", "Web Annotations", "README", "archive"]  # each timed


def test_the_citation_names_the_makers_year_version_and_sources():
    descriptor = {
        "title": "T", "version": "1.2.3", "created": "2001-02-03T04:05:06Z",
        "contributors": [{"title": "Agency (A)", "role": "author"},
                         {"title": "Maker one (hand work)", "role": "contributor"},
                         {"title": "Maker two", "role": "maintainer"}],
        "sources": [{"title": "Report one"}, {"title": "Report two"}],
    }  # fmt: skip
    assert citation(descriptor) == (
        "Maker one, Maker two (2001). T (version 1.2.3). Derived from Report one; Report two."
    )
    undated = {k: v for k, v in descriptor.items() if k != "created"}
    assert citation(undated) == (
        "Maker one, Maker two. T (version 1.2.3). Derived from Report one; Report two."
    )


def test_croissant_dates_a_dated_package_only(built):
    tables, descriptor = _tables(built), _descriptor(built)
    dated = croissant(tables, {**descriptor, "created": "2001-02-03T04:05:06Z"})
    assert dated["datePublished"] == "2001-02-03"
    undated = croissant(tables, {k: v for k, v in descriptor.items() if k != "created"})
    assert "datePublished" not in undated


@pytest.mark.parametrize(
    ("path", "note"),
    [
        ("datapackage.json", "The Frictionless data package: every table's schema, keys, "
                             "bytes, sha256"),
        ("CHANGELOG.md", "What changed in each version"),
        ("usmx.metadata.json", "Datasette metadata of the SQLite database: titles, column "
                               "descriptions"),
        ("figures.parquet", ""),
    ],
)  # fmt: skip
def test_each_file_that_is_not_a_table_has_its_note(path, note):
    assert describe(path) == note


def _lines(folder: Path) -> list[str]:
    return (folder / ANNOTATIONS).read_text(encoding="utf-8").splitlines(keepends=True)


def test_an_annotation_line_that_is_not_json_is_named(built, tmp_path):
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    lines = _lines(folder)
    lines[3] = lines[3][:-5] + "\n"
    (folder / ANNOTATIONS).write_text("".join(lines), encoding="utf-8")
    [problem] = annotation_problems(folder, _tables(built))
    assert problem.startswith(f"{ANNOTATIONS} does not read back as JSON (")


def test_an_annotation_without_a_provenance_row_and_a_file_without_a_graph_are_named(
    built, tmp_path
):
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    tables = _tables(built)
    provenance_def, provenance = tables["provenance"]
    fewer = {**tables, "provenance": (provenance_def, provenance.iloc[:-1])}
    last = json.loads(_lines(folder)[-2])
    assert annotation_problems(folder, fewer) == [
        f"{ANNOTATIONS}: annotation {last['id']} does not select its row"
    ]
    text = (folder / ANNOTATIONS).read_text(encoding="utf-8")
    (folder / ANNOTATIONS).write_text(text.replace('"@graph"', '"graph"', 1), encoding="utf-8")
    assert annotation_problems(folder, tables) == [
        f"{ANNOTATIONS} has fewer annotations than provenance rows"
    ]
    assert annotation_problems(built, tables) == []


def test_an_archive_that_is_missing_lacks_a_file_or_holds_another_is_named(built, tmp_path):
    descriptor = _descriptor(built)
    name = archive_name(descriptor)
    assert archive_problems(tmp_path, descriptor) == [f"{name} is missing"]
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    top = name.removesuffix(".zip")
    with zipfile.ZipFile(built / name) as old, zipfile.ZipFile(folder / name, "w") as new:
        for member in old.namelist():
            if member not in (f"{top}/{README}", f"{top}/figures.csv"):
                new.writestr(member, old.read(member))
        new.writestr(f"{top}/extra.txt", b"not staged")
    assert archive_problems(folder, descriptor) == [
        f"{name} lacks {README}",
        f"{name} lacks figures.csv",
        f"{name} holds a extra.txt that is not the staged one",
    ]


def test_the_staged_metadata_checks_report_into_one_list_in_order(built, tmp_path):
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    tables = _tables(built)
    descriptor = _descriptor(built)
    (folder / f"{descriptor['name']}.sqlite").unlink()
    (folder / archive_name(descriptor)).unlink()
    log = io.StringIO()
    with progress.reporting(log):
        problems = metadata_problems(folder, tables)
    assert _steps(log) == ["SQLite", "Croissant", "Web Annotations", "archive"]
    assert problems == [
        f"{descriptor['name']}.sqlite is missing",
        f"{archive_name(descriptor)} is missing",
    ]


def test_a_croissant_file_that_is_not_the_described_one_is_named_in_one_line(built, tmp_path):
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns(*PAGES))
    doc = json.loads((folder / CROISSANT).read_text(encoding="utf-8"))
    doc["distribution"][0]["sha256"] = "0" * 64
    (folder / CROISSANT).write_text(json.dumps(doc), encoding="utf-8")
    root = logging.getLogger()
    handlers = list(root.handlers)
    [problem] = croissant_problems(folder)
    assert problem.startswith(f"{CROISSANT}: ") and "\n" not in problem
    assert "sources-parquet" in problem  # the file whose bytes are not the described ones
    assert root.handlers == handlers  # the root logger is left as it was found
    # absl's handler writes to a standard stream, not to whatever stderr was at its import
    # (a test's capture, closed later by a logging.config call that closes every handler)
    assert absl_logging.get_absl_handler().python_handler.stream is sys.__stderr__
