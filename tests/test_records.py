"""Tables made source by source (pipeline/core/records.py) are the tables made whole: the same
rows, dtypes and order; the per-source checks find what the whole-table checks found; and
rows read back from the cache are the rows made."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW
from pipeline.cache.store import Store
from pipeline.core import records, tables
from pipeline.core.annotations import anchor_annotations
from pipeline.core.errors import REPO_ROOT
from pipeline.core.fields import table_defs
from pipeline.core.sources import load_snapshot, source_folders
from pipeline.publish.changelog import compare
from pipeline.publish.files import write_parquet

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
        # the published order: grouped by source in source_id order, primary key within
        key = list(table_defs()[name].primary_key)
        whole = whole.sort_values(["source_id", *key], kind="stable").reset_index(drop=True)
        for made in (one_by_one, together, together[::-1]):
            concatenated = records.concatenate(made, name)
            pd.testing.assert_frame_equal(concatenated, whole)
            assert concatenated.dtypes.equals(whole.dtypes)


def test_rows_are_grouped_by_source_and_sorted_by_key_within_it(corpus):
    snapshots, anchored = _sources(corpus)
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    for name in ("figures", "events", "provenance"):
        df = records.concatenate(made[::-1], name)
        key = table_defs()[name].primary_key[0]
        sources = list(dict.fromkeys(df["source_id"]))
        assert sources == sorted(s.source_id for s in snapshots)  # each source's rows together
        for _, part in df.groupby("source_id", sort=False):
            assert list(part[key]) == sorted(part[key]) and part.index.is_monotonic_increasing
        # ids carry the source's suffix, so a global sort would interleave the sources
        assert list(df[key]) != sorted(df[key])


def test_cached_rows_read_back_equal_the_rows_made_and_a_damaged_entry_is_a_miss(tmp_path, corpus):
    snapshots, anchored = _sources(corpus)
    made = records.make_rows(anchored, snapshots, ["k0", "k1", "k2"])
    store = Store(tmp_path, "source-rows")
    for rows in made:
        store.put(rows.key, rows)
    for fresh in made:
        read = store.get(fresh.key)
        assert read is not None and read.key == fresh.key
        for name in records.PER_SOURCE_TABLES:
            assert read.table(name).equals(fresh.table(name))
    entry = store.path("k0", ".pickle")
    entry.write_bytes(entry.read_bytes()[:-8])
    assert store.get("k0") is None


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


def test_pandera_runs_on_each_sources_rows_and_the_whole_table_adds_keys(corpus):
    """pandera checks each new source's rows when they are made, and the failure stays with
    that source; the whole table adds only the key's uniqueness across sources. Together
    they find what pandera finds on the whole table."""
    snapshots, anchored = _sources(corpus)
    bad = anchored[1]
    index = next(i for i, f in enumerate(bad.figures) if f.get("counterpart_country"))
    bad.figures[index] = {**bad.figures[index], "counterpart_country": "Mexico"}
    made = records.make_rows(anchored, snapshots, ["a", "b", "c"])
    check = records.schema_check("figures")
    assert made[0].problems[check] == made[2].problems[check] == []
    (problem,) = made[1].problems[check]
    assert "counterpart_country" in problem and "'Mexico'" in problem
    assert f"record '{bad.figures[index]['figure_id']}'" in problem and ", line " in problem
    # every failing row stays with its own source, however many come before it in the batch
    many = [dataclasses.replace(a, figures=[dict(f) for f in a.figures]) for a in anchored]
    for a in many:
        for f in a.figures:
            f["counterpart_country"] = "Mexico"
    failing = records.make_rows(many, snapshots, ["a", "b", "c"])
    assert all(
        len(r.problems[check]) == len(a.figures) > 20 for r, a in zip(failing, many, strict=True)
    )
    # a key made twice (here: a source's first row under another source_id) is a whole-table
    # matter
    first = {name: records._ipc(made[0].table(name).slice(0, 1)) for name in made[0].tables}
    twin = dataclasses.replace(made[0], source_id="zz-copy", tables=first)
    for name in ("figures", "events", "provenance"):
        df = records.concatenate([*made, twin], name)
        provenance = records.concatenate([*made, twin], "provenance")
        per_source = [p for r in made for p in r.problems[records.schema_check(name)]]
        found = per_source + records.whole_table_schema_problems(name, df, provenance)
        whole = records.schema_problems(name, df, provenance)
        assert whole and sorted(found) == sorted(whole)
        assert (
            records.whole_table_schema_problems(name, records.concatenate(made, name), provenance)
            == []
        )


def test_the_csv_made_once_is_the_csv_made_again(tmp_path, corpus, monkeypatch):
    from pipeline.publish import files
    from pipeline.publish.files import write_csv, write_csv_once

    rendered = []
    monkeypatch.setattr(
        files, "write_csv", lambda df, path: rendered.append(path) or write_csv(df, path)
    )

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
    assert rendered == [first] and second.stat().st_nlink == 2  # linked from the store
    # an edit in place through a link is noticed: the CSV is rendered again
    with open(second, "r+b") as handle:
        handle.write(b"XX")
    fourth = tmp_path / "fourth.csv"
    write_csv_once(df, tmp_path / "figures.parquet", fourth, cache)
    assert fourth.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert rendered == [first, fourth]
    # a changed table has other Parquet bytes, so its CSV is rendered anew
    changed = df.assign(value_as_printed=df["value_as_printed"] + "0")
    write_parquet(changed, definition, tmp_path / "figures.parquet")
    third = tmp_path / "third.csv"
    write_csv_once(changed, tmp_path / "figures.parquet", third, cache)
    write_csv(changed, tmp_path / "plain.csv")
    assert third.read_bytes() == (tmp_path / "plain.csv").read_bytes() != first.read_bytes()
