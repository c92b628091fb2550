"""Validation once, in the right place: Frictionless checks each row once per schema (a
ledger of the rows that passed), keys are checked on whole tables, and a bad row or key is
named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import OUTPUTS
from pipeline.core.fields import table_defs
from pipeline.publish.validation import (
    RowLedger,
    key_problems,
    row_digest,
    row_problems,
    schema_digest,
)

SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True}},
        {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["id"],
}


def _package(folder: Path, rows: list[tuple[str, str]], schema: dict = SCHEMA) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,n", *(f"{a},{b}" for a, b in rows)]
    (folder / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"resources": [{"name": "t_csv", "path": "t.csv", "format": "csv", "schema": schema}]}


def test_a_bad_row_is_named_by_file_line_and_field(tmp_path):
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "-3"), ("c", "x")])
    problems = row_problems(tmp_path / "p", descriptor, RowLedger(None))
    assert len(problems) == 2
    assert problems[0].startswith("t.csv line 3, field n: constraint-error")
    assert problems[1].startswith("t.csv line 4, field n: type-error")


def test_rows_that_passed_are_recorded_once_per_schema(tmp_path):
    ledger = RowLedger(tmp_path / "cache")
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "2")])
    assert row_problems(tmp_path / "p", descriptor, ledger) == []
    assert ledger.passed(schema_digest(SCHEMA)) == {row_digest(["a", "1"]), row_digest(["b", "2"])}
    # one row changes to a bad value: it is checked (it is not in the ledger) and fails,
    # and is not recorded
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "-2")])
    assert [p.split(":")[0] for p in row_problems(tmp_path / "p", descriptor, ledger)] == [
        "t.csv line 3, field n"
    ]
    assert row_digest(["b", "-2"]) not in ledger.passed(schema_digest(SCHEMA))


def test_a_row_the_ledger_lists_is_not_sent_again_but_a_new_schema_checks_it(tmp_path):
    """The ledger is what makes validation incremental: a row it lists under this schema is
    skipped (shown here by planting a bad row's digest), and a schema change - a new digest
    - checks every row again."""
    ledger = RowLedger(tmp_path / "cache")
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    ledger.add(schema_digest(SCHEMA), [row_digest(["a", "-1"])])
    assert row_problems(tmp_path / "p", descriptor, ledger) == []
    stricter = json.loads(json.dumps(SCHEMA))
    stricter["fields"][1]["constraints"]["maximum"] = 100
    assert schema_digest(stricter) != schema_digest(SCHEMA)
    descriptor = _package(tmp_path / "p", [("a", "-1")], stricter)
    assert len(row_problems(tmp_path / "p", descriptor, ledger)) == 1


def test_keys_are_schema_properties_not_row_properties():
    assert schema_digest(SCHEMA) == schema_digest({**SCHEMA, "primaryKey": ["n"]})


@pytest.fixture(scope="module")
def published() -> dict[str, tuple]:
    defs = table_defs()
    return {n: (defs[n], pd.read_parquet(OUTPUTS / f"{n}.parquet")) for n in defs}


def test_published_tables_have_no_key_problems(published):
    assert key_problems(published) == []


def test_a_repeated_primary_key_is_found(published):
    tables = dict(published)
    table, figures = tables["figures"]
    tables["figures"] = (table, pd.concat([figures, figures.iloc[[0]]], ignore_index=True))
    problems = key_problems(tables)
    assert problems == [
        f"figures: primary key ['figure_id'] value ['{figures.iloc[0, 0]}'] is not unique"
    ]


def test_a_dangling_foreign_key_is_found(published):
    tables = dict(published)
    table, figures = tables["figures"]
    figures = figures.copy()
    figures.loc[0, "measure"] = "no_such_measure"
    tables["figures"] = (table, figures)
    assert key_problems(tables) == [
        "figures: ['measure'] value ['no_such_measure'] is not in measures ['measure']"
    ]


def test_known_tables_skip_their_own_key_checks_but_not_a_key_into_a_changed_table(published):
    """A table known to hold the rows already published by this code (publish.py
    validate_staging) is not checked for its own keys again, nor for a foreign key into
    another known table; a foreign key from it into a table that changed still is."""
    tables = dict(published)
    table, figures = tables["figures"]
    twice = pd.concat([figures, figures.iloc[[0]]], ignore_index=True)
    tables["figures"] = (table, twice)
    assert key_problems(tables) != []
    everything = frozenset(tables)
    assert key_problems(tables, everything) == []
    # measures changed: figures' foreign key into it is checked, figures' own key is not
    measures_def, measures = tables["measures"]
    first = twice.loc[0, "measure"]
    tables["measures"] = (measures_def, measures.loc[measures["measure"] != first])
    found = key_problems(tables, everything - {"measures"})
    assert found and all(p.startswith("figures: ['measure'] value") for p in found)
    assert all(f"'{first}'" in p for p in found)


def test_tables_are_known_only_when_the_published_package_had_the_same_code(tmp_path):
    """Unchanged tables skip their key and Parquet checks only when the published package
    was built by the same code and libraries (a new check must see every table once)."""
    from pipeline.publish.package import _known_tables

    def package(folder: Path, code: str, pandas: str = "3.1.1") -> Path:
        folder.mkdir(exist_ok=True)
        build = {"code": {"code_sha256": code}, "libraries": {"pandas": pandas}}
        (folder / "datapackage.json").write_text(json.dumps({"build": build}))
        return folder

    def build_of(folder: Path) -> dict:
        return json.loads((folder / "datapackage.json").read_text())["build"]

    outputs, staging = package(tmp_path / "outputs", "a"), package(tmp_path / "staging", "a")
    assert _known_tables(staging, build_of(outputs), {"figures"}) == {"figures"}
    package(staging, "b")
    assert _known_tables(staging, build_of(outputs), {"figures"}) == frozenset()
    package(staging, "a", pandas="3.2.0")
    assert _known_tables(staging, build_of(outputs), {"figures"}) == frozenset()
    assert _known_tables(staging, None, {"figures"}) == frozenset()  # nothing published


def test_a_file_that_passed_whole_is_not_read_again(tmp_path):
    """The file-level ledger: the sha256 the descriptor declares (verified against the file
    by verify_bytes_and_hashes) is enough to skip a file that passed under this schema."""
    import hashlib

    ledger = RowLedger(tmp_path / "cache")
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    digest = hashlib.sha256((tmp_path / "p" / "t.csv").read_bytes()).hexdigest()
    descriptor["resources"][0]["hash"] = f"sha256:{digest}"
    assert len(row_problems(tmp_path / "p", descriptor, ledger)) == 1  # not recorded
    assert not ledger.passed_file(schema_digest(SCHEMA), digest)
    ledger.add_file(schema_digest(SCHEMA), digest)  # planted: the file is skipped
    assert row_problems(tmp_path / "p", descriptor, ledger) == []
    good = _package(tmp_path / "q", [("a", "1")])
    good_digest = hashlib.sha256((tmp_path / "q" / "t.csv").read_bytes()).hexdigest()
    good["resources"][0]["hash"] = f"sha256:{good_digest}"
    assert row_problems(tmp_path / "q", good, ledger) == []
    assert ledger.passed_file(schema_digest(SCHEMA), good_digest)
