"""pipeline/publish/sqlite.py's promises: the database's resource entry is the published one
for the same tables, and the check of a staged database names a missing file, what SQLite's
integrity and foreign key checks report, and a table whose row count is not the table's."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd

from pipeline.core.fields import coerce_frame, table_defs
from pipeline.publish.package import package_meta
from pipeline.publish.sqlite import sqlite_problems, write_sqlite

NAME = package_meta()["name"]
FILE = f"{NAME}.sqlite"


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def test_the_database_entry_is_the_published_one(built, tmp_path):
    entry = write_sqlite(_tables(built), tmp_path, package_meta())
    resources = json.loads((built / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    assert entry == next(r for r in resources if r["format"] == "sqlite")
    assert list(entry) == list(next(r for r in resources if r["format"] == "sqlite"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{NAME}.metadata.json", FILE]


def test_a_published_database_has_no_problems(built):
    assert sqlite_problems(built, _tables(built), NAME) == []


def test_a_missing_database_is_named(built, tmp_path):
    assert sqlite_problems(tmp_path, _tables(built), NAME) == [f"{FILE} is missing"]


def _copy(built: Path, folder: Path) -> Path:
    folder.mkdir()
    shutil.copy2(built / FILE, folder / FILE)
    return folder / FILE


def test_a_row_count_that_is_not_the_tables_is_named(built, tmp_path):
    tables = _tables(built)
    figures_def, figures = tables["figures"]
    tables["figures"] = (figures_def, figures.iloc[1:])
    _copy(built, tmp_path / "db")
    assert sqlite_problems(tmp_path / "db", tables, NAME) == [
        f"{FILE}: figures has {len(figures)} rows, the table {len(figures) - 1}"
    ]


def test_a_reference_to_a_row_that_is_gone_is_named_by_table_and_row(built, tmp_path):
    path = _copy(built, tmp_path / "db")
    with sqlite3.connect(path) as db:  # foreign keys are not enforced on this connection
        (measure,) = db.execute("select measure from figures where rowid = 1").fetchone()
        db.execute("delete from measures where measure = ?", (measure,))
        referring = [r for (r,) in db.execute(
            "select rowid from figures where measure = ? order by rowid", (measure,))]  # fmt: skip
    db.close()
    tables = _tables(built)
    measures_def, measures = tables["measures"]
    tables["measures"] = (measures_def, measures[measures["measure"] != measure])
    assert sqlite_problems(tmp_path / "db", tables, NAME) == [
        f"{FILE}: figures row {r} has no measures row it references" for r in referring
    ]


def test_what_the_integrity_check_reports_is_named(built, tmp_path):
    path = _copy(built, tmp_path / "db")
    with sqlite3.connect(path) as db:  # an index whose declared columns are not its entries
        db.execute("pragma writable_schema = on")
        db.execute("update sqlite_master set sql = 'CREATE INDEX [idx_figures_measure] ON "
                   "[figures] ([figure_id])' where name = 'idx_figures_measure'")  # fmt: skip
    db.close()
    problems = sqlite_problems(tmp_path / "db", _tables(built), NAME)
    assert problems and all(
        p.startswith(f"{FILE}: integrity_check says ") and "idx_figures_measure" in p
        for p in problems
    ), problems


def test_the_same_tables_give_the_published_database_and_metadata_bytes_whatever_the_locale(
    built, tmp_path
):
    """The database (its schema, keys and indexes) and Datasette's metadata are the published
    bytes, also when written under the C locale (ASCII); accented text in the metadata is
    written as UTF-8 characters, not escapes."""
    import locale

    accented = {**package_meta(), "title": "Cooperación bilateral México–EE. UU."}
    (tmp_path / "same").mkdir()
    (tmp_path / "accented").mkdir()
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        assert locale.getpreferredencoding(False) != "UTF-8"  # else this shows nothing
        write_sqlite(_tables(built), tmp_path / "same", package_meta())
        write_sqlite(_tables(built), tmp_path / "accented", accented)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    metadata = f"{NAME}.metadata.json"
    for name in (FILE, metadata):
        assert (tmp_path / "same" / name).read_bytes() == (built / name).read_bytes(), name
    written = (tmp_path / "accented" / metadata).read_bytes()
    assert accented["title"].encode("utf-8") in written
    assert json.loads(written.decode("utf-8"))["title"] == accented["title"]
