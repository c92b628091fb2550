"""CSV copies say what the Parquet says: read back with pandas (the missing values the
descriptor declares, nothing else) and with Frictionless, every CSV copy gives the values of
its Parquet file, nulls as nulls, empty strings as empty strings, integers as integers; and
Frictionless reads the Parquet files themselves as pyarrow does."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import RAW
from pipeline.cli.main import build

PARSE = {
    "string": str,
    "integer": lambda s: int(s) if re.fullmatch(r"-?[0-9]+", s) else f"not an integer: {s}",
    "number": float,
    "boolean": {"true": True, "false": False}.get,
    "date": dt.date.fromisoformat,
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("USMX_CACHE_DIR", str(folder / "cache"))
        assert build(RAW, folder / "outputs") == 0
    descriptor = json.loads((folder / "outputs" / "datapackage.json").read_text())
    return folder / "outputs", descriptor


def tables(descriptor: dict) -> list[tuple[dict, dict]]:
    """(Parquet resource, its CSV copy's resource) of every table."""
    by_name = {r["name"]: r for r in descriptor["resources"]}
    return [(r, by_name[f"{r['name']}_csv"]) for r in by_name.values() if r["format"] == "parquet"]


def test_the_csv_copies_declare_their_one_missing_value(package):
    _, descriptor = package
    for _, csv in tables(descriptor):
        assert csv["schema"]["missingValues"] == ["NA"], csv["name"]
    assert len(tables(descriptor)) >= 8


def test_pandas_reads_each_csv_copy_as_its_parquet(package):
    outputs, descriptor = package
    seen = {"null": 0, "empty": 0, "int": 0}
    for parquet, csv in tables(descriptor):
        expected = pq.read_table(outputs / parquet["path"]).to_pylist()
        cells = pd.read_csv(outputs / csv["path"], dtype=str, keep_default_na=False,
                            na_values=csv["schema"]["missingValues"])  # fmt: skip
        types = {f["name"]: f["type"] for f in csv["schema"]["fields"]}
        assert list(cells.columns) == list(types), csv["name"]
        read = [
            {k: None if pd.isna(v) else PARSE[types[k]](v) for k, v in row.items()}
            for row in cells.to_dict("records")
        ]
        assert read == expected, csv["name"]
        for row in expected:
            seen["null"] += sum(v is None for v in row.values())
            seen["empty"] += sum(v == "" for v in row.values())
            seen["int"] += sum(types[k] == "integer" and v is not None for k, v in row.items())
    assert all(seen.values()), seen  # the tables hold all three cases


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_frictionless_reads_each_file_as_the_parquet_holds_it(package, fmt: str):
    from frictionless import Package, system

    outputs, descriptor = package
    with system.use_context(trusted=True):
        pkg = Package(descriptor, basepath=str(outputs))
        for parquet, csv in tables(descriptor):
            resource = csv if fmt == "csv" else parquet
            expected = pq.read_table(outputs / parquet["path"]).to_pylist()
            types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
            rows = [row.to_dict() for row in pkg.get_resource(resource["name"]).read_rows()]
            read = [
                {k: float(v) if types[k] == "number" and v is not None else v
                 for k, v in row.items()}
                for row in rows
            ]  # fmt: skip
            assert read == expected, resource["name"]
            ints = [v for row in rows for k, v in row.items() if types[k] == "integer"]
            assert all(v is None or type(v) is int for v in ints), resource["name"]


def test_the_readme_names_the_cell_that_means_missing(package):
    outputs, descriptor = package
    readme = (outputs / "README.md").read_text(encoding="utf-8")
    said = re.findall(r"a cell `([^`]*)` = missing", readme)
    declared = {v for _, csv in tables(descriptor) for v in csv["schema"]["missingValues"]}
    assert said and declared == set(said), (said, declared)
    nulls = 0
    for parquet, csv in tables(descriptor):
        frame = pq.read_table(outputs / parquet["path"]).to_pandas()
        cells = pd.read_csv(outputs / csv["path"], dtype=str, keep_default_na=False)
        for column in frame.columns:
            missing = frame[column].isna().to_numpy()
            assert (cells[column].to_numpy()[missing] == said[0]).all(), (csv["path"], column)
            nulls += int(missing.sum())
    assert nulls > 0  # the dataset has missing values, and each is written as said
