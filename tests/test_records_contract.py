"""What the per-source rows promise (pipeline/core/records.py): each check names the record
and what is wrong in one line (a span that no longer holds its quote, a record without its
mention 1 provenance row, a row of no record, a numeral span that is not its numeral), rows
are sorted by key, the whole table adds only what one source cannot show, and an empty table
keeps its columns."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyarrow as pa
from tiny_source import read_tiny, tiny_snapshot

from pipeline.core import records
from pipeline.core.fields import empty_frame, table_defs

TEXT = "Seizures\nMexico seized 300 kg of heroin and 20 kg of opium gum in 1999.\n"
ANNOTATIONS = """
sections:
  - Seizures
actors:
  - id: mex
    quote: Mexico seized
    kind: country
    name: Mexico
    country: MEX
figures:
  - id: opium
    quote: 20 kg of opium gum
    unit: kg
    measure: drug_seized
    subject: opium_gum
    country: MEX
    period: "1999"
  - id: heroin
    quote: 300 kg of heroin
    unit: kg
    measure: drug_seized
    subject: heroin
    country: MEX
    period: "1999"
    mentions:
      - quote: seized 300
"""


def _made(tmp_path, edit=None):
    snapshot = tiny_snapshot(tmp_path, TEXT, ANNOTATIONS)
    anchored = read_tiny(tmp_path / "again", TEXT, ANNOTATIONS)
    if edit:
        edit(anchored)
    (rows,) = records.make_rows([anchored], [snapshot], ["key-1"])
    return rows


def _tables(rows: records.SourceRows) -> dict[str, pa.Table]:
    return {name: rows.table(name) for name in records.PER_SOURCE_TABLES}


def _with(table: pa.Table, row: int, **values) -> pa.Table:
    data = table.to_pylist()
    data[row] = {**data[row], **values}
    return pa.Table.from_pylist(data, schema=table.schema)


def test_the_rows_of_a_source_are_sorted_by_key_and_pass_every_check(tmp_path):
    rows = _made(tmp_path)
    assert (rows.source_id, rows.key, rows.annotation_file) == (
        "tiny-source",
        "key-1",
        "raw/tiny-source/annotations.yaml",
    )
    assert rows.counts == {
        "figures": 2,
        "events": 0,
        "actors": 1,
        "provenance": 4,
        "corrections": 0,
    }
    assert rows.table("figures").column("figure_id").to_pylist() == ["heroin", "opium"]
    prov = rows.table("provenance")
    assert list(zip(prov.column("record_id").to_pylist(), prov.column("mention").to_pylist(),
                    strict=True)) == [("heroin", 1), ("heroin", 2), ("mex", 1), ("opium", 1)]  # fmt: skip
    assert all(problems == [] for problems in rows.problems.values())
    assert set(rows.problems) == {
        records.SPAN_CHECK, records.PROVENANCE_CHECK,
        *(records.schema_check(name) for name in records.PER_SOURCE_TABLES),
    }  # fmt: skip
    assert records.schema_check("figures") == "figures_matches_schema"


def test_a_span_not_holding_its_quote_is_named_with_its_characters(tmp_path):
    tables = _tables(_made(tmp_path))
    tables["provenance"] = _with(tables["provenance"], 2, quote="Mexico seize")
    found = records.source_problems(tables, TEXT)
    start = TEXT.index("Mexico seized")
    assert found[records.SPAN_CHECK] == [
        f"mex: characters {start}-{start + 13} differ from its quote"
    ]


def test_a_record_without_its_first_provenance_row_and_a_row_of_no_record_are_named(tmp_path):
    tables = _tables(_made(tmp_path))
    prov = tables["provenance"]
    tables["provenance"] = _with(prov, 0, mention=3)  # heroin keeps only mentions 2 and 3
    found = records.source_problems(tables, TEXT)[records.PROVENANCE_CHECK]
    assert found == ["heroin: figure has no mention 1 provenance row"]
    tables["provenance"] = prov.filter(
        pa.array([r != "mex" for r in prov.column("record_id").to_pylist()])
    )
    found = records.source_problems(tables, TEXT)[records.PROVENANCE_CHECK]
    assert found == ["mex: actor has no provenance row"]
    tables["provenance"] = _with(prov, 2, record_type="event")
    found = records.source_problems(tables, TEXT)[records.PROVENANCE_CHECK]
    assert found == ["mex: actor has no provenance row", "mex: provenance row belongs to no event"]


def test_a_numeral_span_that_is_not_the_figures_numeral_or_outside_its_mention_is_named(tmp_path):
    tables = _tables(_made(tmp_path))
    prov = tables["provenance"]
    at = TEXT.index("300")
    tables["provenance"] = _with(prov, 0, numeral_start=at, numeral_end=at + 2)
    found = records.source_problems(tables, TEXT)[records.PROVENANCE_CHECK]
    assert found == ["heroin: numeral span holds '30', not its value_as_printed"]
    mention = prov.to_pylist()[1]
    assert (mention["numeral_start"], mention["numeral_end"]) == (None, None)
    start, end = mention["char_start"], mention["char_end"]
    for a, b, bad in ((start, end, False), (start - 1, end, True), (start, end + 1, True),
                      (end, end, True), (start + 2, start + 1, True)):  # fmt: skip
        tables["provenance"] = _with(prov, 1, numeral_start=a, numeral_end=b)
        found = records.source_problems(tables, TEXT)[records.PROVENANCE_CHECK]
        assert found == (["heroin: mention 2 has a numeral span outside its quote"] if bad else [])


def test_an_empty_table_concatenates_to_its_typed_columns(tmp_path):
    rows = _made(tmp_path)
    events = records.concatenate([rows], "events")
    expected = empty_frame(table_defs()["events"])
    assert list(events.columns) == list(expected.columns) and events.dtypes.equals(expected.dtypes)
    assert len(events) == 0
    figures = records.concatenate([dataclasses.replace(rows, source_id="zz"), rows], "figures")
    assert figures["figure_id"].tolist() == ["heroin", "opium", "heroin", "opium"]


def test_a_failing_row_is_located_by_its_annotation_line_or_else_by_its_table(tmp_path):
    rows = _made(tmp_path)
    figures = records.concatenate([rows], "figures")
    provenance = records.concatenate([rows], "provenance")
    bad = figures.assign(country=["Mexico", "MEX"])
    (problem,) = records.schema_problems("figures", bad, provenance)
    assert problem.startswith(
        "raw/tiny-source/annotations.yaml, line 18, record 'heroin': column country fails "
    )
    assert problem.endswith("with value 'Mexico'; correct the annotation")
    (problem,) = records.schema_problems("figures", bad)
    assert problem.startswith("table figures, record 'heroin': column country fails ")
    (problem,) = records.schema_problems("figures", bad, provenance.iloc[0:0])
    assert problem.startswith("table figures, record 'heroin': column country fails ")


def test_the_whole_table_names_each_row_of_a_key_made_twice(tmp_path):
    rows = _made(tmp_path)
    twin = dataclasses.replace(rows, source_id="zz")
    figures = records.concatenate([rows, twin], "figures")
    provenance = records.concatenate([rows, twin], "provenance")
    found = records.whole_table_schema_problems("figures", figures, provenance)
    line = "raw/tiny-source/annotations.yaml, line {}, record '{}': column figure_id fails "
    assert found == [
        line.format(n, r) + f"field_uniqueness with value '{r}'; correct the annotation"
        for n, r in ((18, "heroin"), (11, "opium")) * 2
    ]
    assert records.whole_table_schema_problems("figures", records.concatenate([rows], "figures"),
                                               provenance) == []  # fmt: skip
    assert records.duplicate_provenance(provenance) == [
        "heroin: more than one provenance row", "mex: more than one provenance row",
        "opium: more than one provenance row",
    ]  # fmt: skip
    assert records.whole_table_schema_problems("provenance", provenance, None)
    single = records.concatenate([rows], "provenance")
    assert records.whole_table_schema_problems("provenance", single, None) == []


def test_a_table_with_other_columns_is_told_what_pandera_finds(tmp_path):
    rows = _made(tmp_path)
    figures = records.concatenate([rows], "figures").drop(columns=["note"])
    found = records.whole_table_schema_problems("figures", figures, None)
    assert found and all(p.startswith("table figures") for p in found)
    assert any("note" in p for p in found)
    retyped = records.concatenate([rows], "figures").astype({"value": "object"})
    assert records.whole_table_schema_problems("figures", retyped, None) != []


def test_only_the_first_twenty_failures_are_told_unless_all_are_asked_for(tmp_path):
    rows = _made(tmp_path)
    figures = records.concatenate([rows], "figures")
    many = pd.concat([figures] * 15, ignore_index=True).assign(country="Mexico")
    assert len(records.schema_failures("figures", many, keys=False)) == 20
    assert len(records.schema_failures("figures", many, keys=False, limit=None)) == 30
    everything = records.schema_failures("figures", many, keys=False, limit=None)
    assert [index for index, _ in everything] == list(range(30))


def test_rows_of_several_sources_typed_together_are_cut_back_into_each_source_in_key_order(
    tmp_path,
):
    """make_rows types every source's rows in one frame per table, then gives each source its
    own rows only, sorted by the table's key."""
    import dataclasses

    from tiny_source import tiny_snapshot

    from pipeline.core.annotations import anchor_annotations
    from pipeline.core.records import make_rows

    def source(name: str, figures: list[tuple[str, str]]):
        text = "Intro\n" + "".join(f"They seized {n} labs in 1999.\n" for _, n in figures)
        actors = "actors:\n  - id: mex\n    quote: Intro\n    kind: country\n    name: Intro\n"
        annotations = (
            actors
            + "figures:\n"
            + "".join(
                f"  - id: {fid}\n    quote: seized {n} labs\n    unit: labs\n"
                "    measure: laboratories_seized\n    subject: methamphetamine_laboratories\n"
                "    country: MEX\n    actor: mex\n    period_note: none printed\n"
                for fid, n in figures
            )
            + "ignore:\n"
            + "".join(
                f"  - quote: seized {n} labs in 1999\n    reason: a test\n" for _, n in figures
            )
        )
        snapshot = tiny_snapshot(tmp_path / name, text, annotations)
        return dataclasses.replace(snapshot, source_id=name)

    a = source("a", [("a-zeta", "12"), ("a-alpha", "30")])
    b = source("b", [("b-one", "7")])
    c = source("c", [("c-beta", "5"), ("c-alpha", "40"), ("c-gamma", "8")])
    snapshots = [a, b, c]
    rows = make_rows([anchor_annotations(s) for s in snapshots], snapshots, ["ka", "kb", "kc"])
    got = {r.source_id: (r.key, r.table("figures").column("figure_id").to_pylist()) for r in rows}
    assert got == {
        "a": ("ka", ["a-alpha", "a-zeta"]),
        "b": ("kb", ["b-one"]),
        "c": ("kc", ["c-alpha", "c-beta", "c-gamma"]),
    }
    values = {r.source_id: r.table("figures").column("value").to_pylist() for r in rows}
    assert values == {"a": [30, 12], "b": [7], "c": [40, 5, 8]}
    assert all(r.counts["figures"] == len(got[r.source_id][1]) for r in rows)
