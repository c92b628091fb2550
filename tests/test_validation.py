"""Validation once, in the right place: Frictionless checks each row once per schema (a
ledger of the rows that passed), keys are checked on whole tables, and a bad row or key is
named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.fields import table_defs
from pipeline.publish.validation import (
    RowLedger,
    key_problems,
    row_digest,
    row_ledger_key,
    row_problems,
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
    problems = row_problems(tmp_path / "p", descriptor, None)
    assert len(problems) == 2
    assert problems[0].startswith("t.csv line 3, field n: constraint-error")
    assert problems[1].startswith("t.csv line 4, field n: type-error")


def test_rows_that_passed_are_recorded_once_per_schema(tmp_path):
    cache = tmp_path / "cache"
    ledger = RowLedger(cache)
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "2")])
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    assert ledger.passed(row_ledger_key(SCHEMA)) == {row_digest(["a", "1"]), row_digest(["b", "2"])}
    # one row changes to a bad value: it is checked (it is not in the ledger) and fails,
    # and is not recorded
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "-2")])
    assert [p.split(":")[0] for p in row_problems(tmp_path / "p", descriptor, cache)] == [
        "t.csv line 3, field n"
    ]
    assert row_digest(["b", "-2"]) not in ledger.passed(row_ledger_key(SCHEMA))


def test_a_row_the_ledger_lists_is_not_sent_again_but_a_new_schema_or_code_checks_it(
    tmp_path, monkeypatch
):
    """The ledger is what makes validation incremental: a row it lists under this schema is
    skipped (shown here by planting a bad row's digest), and a schema change or a code
    change - a new key - checks every row again."""
    from pipeline.cache import keys

    cache = tmp_path / "cache"
    ledger = RowLedger(cache)
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    ledger.add(row_ledger_key(SCHEMA), [row_digest(["a", "-1"])])
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    monkeypatch.setattr(keys, "code_version", lambda: "other code")
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1
    monkeypatch.undo()
    stricter = json.loads(json.dumps(SCHEMA))
    stricter["fields"][1]["constraints"]["maximum"] = 100
    assert row_ledger_key(stricter) != row_ledger_key(SCHEMA)
    descriptor = _package(tmp_path / "p", [("a", "-1")], stricter)
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1


def test_keys_are_schema_properties_not_row_properties():
    assert row_ledger_key(SCHEMA) == row_ledger_key({**SCHEMA, "primaryKey": ["n"]})


@pytest.fixture(scope="module")
def published(built) -> dict[str, tuple]:
    defs = table_defs()
    return {n: (defs[n], pd.read_parquet(built / f"{n}.parquet")) for n in defs}


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


def test_a_file_that_passed_whole_is_not_read_again(tmp_path):
    """The file-level entry: the sha256 the descriptor declares (verified against the file
    by verify_bytes_and_hashes) is enough to skip a file that passed under this schema."""
    import hashlib

    from pipeline.cache.keys import cache_key

    cache = tmp_path / "cache"
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    digest = hashlib.sha256((tmp_path / "p" / "t.csv").read_bytes()).hexdigest()
    descriptor["resources"][0]["hash"] = f"sha256:{digest}"
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1  # not recorded
    whole = cache_key("validated-file", row_ledger_key(SCHEMA), f"sha256:{digest}")
    RowLedger(cache).store.put_bytes(whole, b"passed\n")  # planted: the file is skipped
    (tmp_path / "p" / "t.csv").write_text("not, even, csv\n")  # and not read at all
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    good = _package(tmp_path / "q", [("a", "1")])
    good_digest = hashlib.sha256((tmp_path / "q" / "t.csv").read_bytes()).hexdigest()
    good["resources"][0]["hash"] = f"sha256:{good_digest}"
    assert row_problems(tmp_path / "q", good, cache) == []
    good_key = cache_key("validated-file", row_ledger_key(SCHEMA), f"sha256:{good_digest}")
    assert RowLedger(cache).store.get_bytes(good_key) is not None
