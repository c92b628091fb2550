"""pipeline/publish/files.py's promises: the same tables give the same Parquet and CSV bytes
and the same resource entries as the published package; the CSV copy writes a null as NA,
an empty string as empty, a boolean as true/false, and refuses a text that reads as NA."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import BuildError
from pipeline.core.fields import coerce_frame, table_defs
from pipeline.publish.files import write_csv, write_tables


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def _published(folder: Path) -> list[dict]:
    resources = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    return [r for r in resources if r["format"] in ("parquet", "csv")]


@pytest.mark.parametrize("cached", [False, True])
def test_the_published_tables_give_the_published_files_and_resource_entries(
    built, tmp_path, cached
):
    cache = tmp_path / "cache" if cached else None
    for run in ("first", "again"):  # again: the CSV copies come from the store when cached
        folder = tmp_path / run / "package"
        resources = write_tables(_tables(built), folder, cache)
        assert resources == _published(built)
        for resource in resources:
            path = resource["path"]
            assert (folder / path).read_bytes() == (built / path).read_bytes(), path
        assert sorted(p.name for p in folder.iterdir()) == sorted(r["path"] for r in resources)


def test_each_csv_copy_is_declared_with_its_missing_value_and_csv_foreign_keys(built):
    resources = {r["name"]: r for r in _published(built)}
    for name, table in table_defs().items():
        parquet, csv = resources[name], resources[f"{name}_csv"]
        assert parquet["schema"]["missingValues"] == ["nan"]
        assert csv["schema"]["missingValues"] == ["NA"]
        assert "bytes" in csv and "bytes" not in parquet and "x_bytes" in parquet
        assert csv["encoding"] == "utf-8" and "encoding" not in parquet
        assert (csv["mediatype"], parquet["mediatype"]) == (
            "text/csv",
            "application/vnd.apache.parquet",
        )
        assert csv["title"] == f"{table.title} (CSV copy)" and parquet["title"] == table.title
        for fk_csv, fk in zip(
            csv["schema"].get("foreignKeys", []), table.foreign_keys, strict=True
        ):
            assert fk_csv["reference"]["resource"] == f"{fk['reference']['resource']}_csv"
        for fk_parquet, fk in zip(
            parquet["schema"].get("foreignKeys", []), table.foreign_keys, strict=True
        ):
            assert fk_parquet["reference"]["resource"] == fk["reference"]["resource"]


def test_the_csv_copy_writes_null_as_na_empty_as_empty_and_booleans_as_words(tmp_path):
    df = pd.DataFrame(
        {
            "text": pd.array(["a", "", None], dtype="string"),
            "flag": [True, False, True],
            "count": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    write_csv(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == b"text,flag,count\na,true,1\n,false,NA\nNA,true,3\n"


def test_a_text_that_reads_as_the_null_mark_is_refused_by_column(tmp_path):
    df = pd.DataFrame({"ok": ["x", "y"], "label": ["fine", "NA"]})
    with pytest.raises(BuildError) as caught:
        write_csv(df, tmp_path / "t.csv")
    assert str(caught.value) == (
        "t.csv: column label holds the text 'NA', which the CSV copy means by null; "
        "annotate the value another way."
    )
    assert not (tmp_path / "t.csv").exists()


def test_a_build_can_be_stopped_between_a_parquet_file_and_its_csv_copy(
    built, tmp_path, monkeypatch
):
    """The fault-injection point "writing" (USMX_KILL_AT, the atomic-publish tests) comes
    after each table's Parquet file and before its CSV copy."""
    from pipeline.publish import files

    folder, seen = tmp_path / "staged", []

    def checkpoint(point, staging=None):
        written = sorted(p.name for p in folder.iterdir())
        seen.append((point, staging, written))

    monkeypatch.setattr(files, "checkpoint", checkpoint)
    tables = _tables(built)
    folder.mkdir()  # a folder that exists already is written into
    write_tables(tables, folder)
    names, done = list(tables), []
    for (point, staging, written), name in zip(seen, names, strict=True):
        done.append(f"{name}.parquet")
        assert (point, staging) == ("writing", None)
        assert written == sorted(done), name
        done.append(f"{name}.csv")


def test_a_csv_copy_of_the_same_parquet_is_linked_from_the_cache_not_written_again(built, tmp_path):
    tables, cache = _tables(built), tmp_path / "cache"
    folders = [tmp_path / run for run in ("first", "second", "third")]
    for folder in folders:
        write_tables(tables, folder, cache)
    for name in tables:
        first, second, third = (folder / f"{name}.csv" for folder in folders)
        assert first.read_bytes() == second.read_bytes() == third.read_bytes()
        assert second.stat().st_ino == third.stat().st_ino, name  # one file, linked twice
        assert third.stat().st_nlink >= 3 and first.stat().st_ino != second.stat().st_ino


def test_a_table_with_another_index_is_written_with_its_columns_only(built, tmp_path):
    import pyarrow.parquet as pq

    from pipeline.core.fields import pyarrow_schema
    from pipeline.publish.files import write_parquet

    table, df = _tables(built)["figures"]
    part = df.iloc[[3, 1, 5]]  # an index that is not 0, 1, 2
    write_parquet(part, table, tmp_path / "f.parquet")
    written = pq.ParquetFile(tmp_path / "f.parquet")
    assert written.schema_arrow.names == pyarrow_schema(table).names
    assert pq.read_table(tmp_path / "f.parquet").to_pandas().equals(part.reset_index(drop=True))
    row_group = written.metadata.row_group(0)
    assert all(row_group.column(i).statistics is not None for i in range(row_group.num_columns))


def test_the_csv_copy_ends_lines_with_lf_whatever_the_platform(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(os, "linesep", "\r\n")
    write_csv(pd.DataFrame({"a": ["x", "y"]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == b"a\nx\ny\n"
