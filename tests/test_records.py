"""Tables made source by source (pipeline/records.py) are the tables made whole: the same
rows, dtypes and order; the per-source checks find what the whole-table checks found; and
what is made once per content (rows, CSV copies) is what would be made again."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW
from pipeline import records, tables
from pipeline.annotations import anchor_annotations
from pipeline.changelog import compare
from pipeline.errors import REPO_ROOT
from pipeline.metadata import table_defs
from pipeline.publish import write_csv, write_csv_once, write_parquet
from pipeline.sources import load_snapshot, source_folders

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402


def _sources(raw: Path):
    snapshots = [load_snapshot(folder) for folder in source_folders(raw)]
    return snapshots, [anchor_annotations(s) for s in snapshots]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    generate(raw, 3, seed=11)
    return raw


@pytest.mark.parametrize("which", ["project", "corpus"])
def test_tables_from_source_rows_equal_tables_made_whole(which, corpus):
    snapshots, anchored = _sources(RAW if which == "project" else corpus)
    keys = [f"key-{s.source_id}" for s in snapshots]
    # made one source at a time and all at once: the same rows either way
    one_by_one = [
        rows
        for a, s, k in zip(anchored, snapshots, keys, strict=True)
        for rows in records.make_rows([a], [s], [k])
    ]
    together = records.make_rows(anchored, snapshots, keys)
    for name in records.PER_SOURCE_TABLES:
        whole = tables._frame(name, (row for a in anchored for row in getattr(a, name)))
        assert len(whole) > 0 or name == "corrections"
        for made in (one_by_one, together):
            concatenated = records.concatenate(made, name)
            pd.testing.assert_frame_equal(concatenated, whole.reset_index(drop=True))
            assert concatenated.dtypes.equals(whole.dtypes)


def test_a_span_that_no_longer_holds_its_quote_is_reported_by_its_source(corpus):
    snapshots, anchored = _sources(corpus)
    bad = anchored[1]
    row = bad.provenance[0]
    bad.provenance[0] = {**row, "quote": row["quote"] + "x"}
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    assert made[0].problems[records.SPAN_CHECK] == []
    assert made[1].problems[records.SPAN_CHECK] == [
        f"{row['record_id']}: characters {row['char_start']}-{row['char_end']} differ from its quote"
    ]


def test_a_record_without_provenance_and_a_duplicate_across_sources_are_found(corpus):
    snapshots, anchored = _sources(corpus)
    lost = anchored[0].provenance.pop()
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    assert (
        f"{lost['record_id']}: {lost['record_type']} has no provenance row"
        in made[0].problems[records.PROVENANCE_CHECK]
    )
    # the same record's provenance row in two sources: only the whole table can see it
    twin = dataclasses.replace(made[2], source_id="copy")
    provenance = records.concatenate([*made, twin], "provenance")
    found = records.duplicate_provenance(provenance)
    assert found and all(p.endswith("more than one provenance row") for p in found)
    assert records.duplicate_provenance(records.concatenate(made, "provenance")) == []


def test_the_csv_made_once_is_the_csv_made_again(tmp_path, corpus):
    snapshots, anchored = _sources(corpus)
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    df = records.concatenate(made, "figures")
    definition = table_defs()["figures"]
    write_parquet(df, definition, tmp_path / "figures.parquet")
    write_csv(df, tmp_path / "plain.csv")
    cache = tmp_path / "cache"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_csv_once(df, tmp_path / "figures.parquet", first, cache)
    write_csv_once(df, tmp_path / "figures.parquet", second, cache)
    assert first.read_bytes() == second.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert second.stat().st_ino == first.stat().st_ino  # the second was linked, not rendered
    # a changed table has other Parquet bytes, so its CSV is rendered anew
    changed = df.assign(value_as_printed=df["value_as_printed"] + "0")
    write_parquet(changed, definition, tmp_path / "figures.parquet")
    third = tmp_path / "third.csv"
    write_csv_once(changed, tmp_path / "figures.parquet", third, cache)
    write_csv(changed, tmp_path / "plain.csv")
    assert third.read_bytes() == (tmp_path / "plain.csv").read_bytes() != first.read_bytes()


def test_a_table_named_unchanged_is_not_compared(tmp_path, corpus):
    snapshots, anchored = _sources(corpus)
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    definition = table_defs()["figures"]
    df = records.concatenate(made, "figures")
    write_parquet(df, definition, tmp_path / "figures.parquet")
    changed = df.assign(value=df["value"] + 1)
    found = compare(tmp_path, {"figures": (definition, changed)})
    assert {c["id"] for c in found.changed["figures"]} == set(
        df.loc[df["value"].notna(), "figure_id"]
    )
    skipped = compare(tmp_path, {"figures": (definition, changed)}, {"figures"})
    assert skipped.changed["figures"] == [] and skipped.level() is None
