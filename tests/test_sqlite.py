"""outputs/<name>.sqlite: every table with its keys, views to provenance and source, column
descriptions for Datasette, byte-identical between builds, served by a real Datasette."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_group_stopped
from pipeline.core.fields import coerce_frame, table_defs
from pipeline.publish.package import package_meta
from pipeline.publish.sqlite import enforceable_keys, write_sqlite

NAME = package_meta()["name"]


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def test_every_table_has_its_rows_keys_and_column_descriptions(built):
    tables, db = _tables(built), sqlite3.connect(built / f"{NAME}.sqlite")
    meta = json.loads((built / f"{NAME}.metadata.json").read_text(encoding="utf-8"))
    described = meta["databases"][NAME]["tables"]
    for name, (table, df) in tables.items():
        info = db.execute(f"pragma table_info([{name}])").fetchall()
        assert [row[1] for row in info] == table.columns
        assert [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]] == list(
            table.primary_key
        )
        fks = {(r[3], r[2], r[4]) for r in db.execute(f"pragma foreign_key_list([{name}])")}
        assert fks == set(enforceable_keys(name, tables))
        assert db.execute(f"select count(*) from [{name}]").fetchone()[0] == len(df)
        assert described[name]["columns"] == {f.name: f.description for f in table.fields}
    assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert db.execute("pragma foreign_key_check").fetchall() == []
    resource = next(r for r in json.loads((built / "datapackage.json").read_text())["resources"]
                    if r["path"] == f"{NAME}.sqlite")  # fmt: skip
    assert resource["bytes"] == (built / f"{NAME}.sqlite").stat().st_size


def test_views_join_each_record_to_its_first_mention_and_source(built):
    db = sqlite3.connect(built / f"{NAME}.sqlite")
    db.row_factory = sqlite3.Row
    provenance = pd.read_parquet(built / "provenance.parquet")
    first = provenance[provenance["mention"] == 1].set_index("record_id")
    for table, key in (("figures", "figure_id"), ("events", "event_id")):
        rows = db.execute(f"select * from {table}_provenance").fetchall()
        assert len(rows) == len(pd.read_parquet(built / f"{table}.parquet"))
        for row in rows:
            assert row["quote"] == first.loc[row[key], "quote"]
            assert row["char_start"] == first.loc[row[key], "char_start"]
            assert row["source_sha256"] is not None


def test_the_same_tables_give_the_same_bytes(built, tmp_path):
    tables = _tables(built)
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        write_sqlite(tables, tmp_path / run, package_meta())
    for path in (f"{NAME}.sqlite", f"{NAME}.metadata.json"):
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
        assert (tmp_path / "a" / path).read_bytes() == (built / path).read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def datasette(built):
    """A real Datasette on 127.0.0.1 serving the database read-only; stopped by its PID."""
    port, exe = _free_port(), Path(sys.executable).parent / "datasette"
    proc = subprocess.Popen(
        [exe, "serve", "-i", built / f"{NAME}.sqlite", "-h", "127.0.0.1", "-p", str(port),
         "-m", built / f"{NAME}.metadata.json"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, "datasette exited"
                time.sleep(0.1)
        yield lambda path: json.load(urllib.request.urlopen(base + path, timeout=10))
    finally:
        assert_group_stopped(proc)


def test_datasette_serves_a_figure_and_its_provenance(built, datasette):
    figures = pd.read_parquet(built / "figures.parquet")
    provenance = pd.read_parquet(built / "provenance.parquet")
    figure = figures.iloc[len(figures) // 2]
    fid = urllib.parse.quote(figure["figure_id"])
    [row] = datasette(f"/{NAME}/figures.json?_shape=array&figure_id={fid}")
    assert row["value"] == figure["value"] and row["unit"] == figure["unit"]
    [joined] = datasette(f"/{NAME}/figures_provenance.json?_shape=array&figure_id={fid}")
    mention = provenance[(provenance["record_id"] == figure["figure_id"])
                         & (provenance["mention"] == 1)].iloc[0]  # fmt: skip
    assert (joined["quote"], joined["char_start"], joined["char_end"]) == (
        mention["quote"], mention["char_start"], mention["char_end"])  # fmt: skip
    assert joined["value_as_printed"] in joined["quote"]
    rows = datasette(f"/{NAME}/provenance.json?_shape=array&record_id={fid}")
    assert len(rows) == (provenance["record_id"] == figure["figure_id"]).sum()
    columns = datasette("/-/metadata.json")["databases"][NAME]["tables"]["figures"]["columns"]
    assert columns["value"] == next(f.description for f in table_defs()["figures"].fields
                                    if f.name == "value")  # fmt: skip
