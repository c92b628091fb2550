"""The published package: valid, complete, byte-identical between builds, never stale."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from conftest import OUTPUTS, RAW, tree_digest
from pipeline.cli.main import build
from pipeline.core.fields import pyarrow_schema, table_defs
from pipeline.core.sources import sha256_file
from pipeline.publish.validation import frictionless_errors, verify_bytes_and_hashes


def test_frictionless_validate_passes_on_the_committed_package():
    proc = subprocess.run(
        [Path(sys.executable).parent / "frictionless", "validate", "outputs/datapackage.json"],
        cwd=OUTPUTS.parent,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_frictionless_checks_the_parquet_rows(tmp_path, built):
    """Frictionless really reads the Parquet rows: a bad value is reported."""
    broken = tmp_path / "outputs"
    shutil.copytree(built, broken)
    table = pq.read_table(broken / "figures.parquet")
    df = table.to_pandas()
    df.loc[0, "qualifier"] = "roughly"
    import pyarrow

    pq.write_table(pyarrow.Table.from_pandas(df, schema=table.schema), broken / "figures.parquet")
    errors = frictionless_errors(broken)
    assert any("roughly" in e for e in errors), errors


def test_parquet_bytes_and_hashes_match_the_package(built):
    assert verify_bytes_and_hashes(built) == []
    descriptor = json.loads((built / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        path = built / resource["path"]
        # CSV resources carry the standard `bytes`; Parquet ones `x_bytes` (see publish.py)
        assert resource.get("bytes", resource.get("x_bytes")) == path.stat().st_size
        assert resource["hash"] == f"sha256:{sha256_file(path)}"


def test_a_tampered_parquet_file_is_caught_by_the_hash_check(tmp_path, built):
    broken = tmp_path / "outputs"
    shutil.copytree(built, broken)
    path = broken / "figures.parquet"
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    problems = verify_bytes_and_hashes(broken)
    assert problems and "figures.parquet has hash" in problems[0]


def test_the_published_check_finds_an_invalid_descriptor_and_a_changed_file(tmp_path, built):
    from pipeline.publish.validation import published_problems

    folder = tmp_path / "outputs"
    shutil.copytree(built, folder)
    assert published_problems(folder) == []
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text())
    descriptor["resources"][0]["schema"]["fields"][0]["type"] = "no-such-type"
    path.write_text(json.dumps(descriptor))
    assert any("no-such-type" in p for p in published_problems(folder))
    shutil.copyfile(built / "datapackage.json", path)
    parquet = folder / "figures.parquet"
    parquet.write_bytes(parquet.read_bytes()[:-1] + b"\0")
    assert "figures.parquet has hash" in published_problems(folder)[0]


def test_two_builds_from_the_same_inputs_are_byte_identical(tmp_path, built):
    again = tmp_path / "outputs"
    assert build(RAW, again) == 0
    assert tree_digest(again) == tree_digest(built)


def test_committed_outputs_are_not_stale_against_raw(tmp_path):
    """Fails when raw/ or the pipeline changed and outputs/ was not rebuilt and committed:
    a build on top of a copy of the committed outputs must find nothing to change."""
    copy = tmp_path / "outputs"
    shutil.copytree(OUTPUTS, copy)
    assert build(RAW, copy) == 0
    assert tree_digest(copy) == tree_digest(OUTPUTS), (
        "outputs/ is stale: commit the code, run `python -m pipeline build`, commit outputs/"
    )


def test_no_wall_clock_time_in_published_files(built):
    """The only timestamp published is `created`, taken from the last commit touching raw/."""
    import re

    stamps = []
    for path in built.iterdir():
        if path.suffix in {".json", ".csv", ".html"}:
            stamps += re.findall(r"\d{4}-\d\d-\d\dT[\d:]+Z?", path.read_text(encoding="utf-8"))
    created = json.loads((built / "datapackage.json").read_text()).get("created")
    assert stamps == ([created] if created else [])
    if created:
        epoch = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "raw"],
            cwd=RAW.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        from datetime import UTC, datetime

        assert created == datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_source_date_epoch_sets_the_created_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "975628800")  # 2000-12-01
    assert build(RAW, tmp_path / "outputs") == 0
    package = json.loads((tmp_path / "outputs" / "datapackage.json").read_text())
    assert package["created"] == "2000-12-01T00:00:00Z"


def test_package_declares_licences_sources_contributors_and_keys(built):
    descriptor = json.loads((built / "datapackage.json").read_text())
    for key in ("name", "title", "description", "version", "licenses", "sources", "contributors"):
        assert descriptor[key], key
    assert descriptor["licenses"][0]["name"] == "CC0-1.0"
    assert "public domain" in descriptor["licenses"][0]["title"]
    assert descriptor["sources"][0]["path"].startswith("https://www.ncjrs.gov/")
    names = {r["name"] for r in descriptor["resources"]}
    assert set(table_defs()) <= names
    figures = next(r for r in descriptor["resources"] if r["name"] == "figures")
    assert figures["schema"]["primaryKey"] == ["figure_id"]
    refs = {fk["reference"]["resource"] for fk in figures["schema"]["foreignKeys"]}
    assert refs == {"sources", "measures", "provenance"}


def test_parquet_schema_is_the_generated_one(built):
    for name, table in table_defs().items():
        schema = pq.read_schema(built / f"{name}.parquet")
        expected = pyarrow_schema(table)
        assert schema.names == expected.names
        assert [f.type for f in schema] == [f.type for f in expected]


def test_csv_copy_holds_the_same_rows_as_the_parquet(built):
    for name in table_defs():
        parquet = pd.read_parquet(built / f"{name}.parquet")
        csv = pd.read_csv(built / f"{name}.csv", keep_default_na=False)
        assert len(parquet) == len(csv)
        assert list(parquet.columns) == list(csv.columns)
