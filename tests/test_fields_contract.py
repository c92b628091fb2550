"""What the one definition of the fields promises: each table's columns, in order, with the
type, description and constraints of fields.yaml (a `<table>.<field>` entry for that table
only, an `enum_from` vocabulary as its enum), generated alike into the pyarrow, Frictionless
and pandera schemas; and the nearest known terms named for an unknown one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest

from pipeline.core.fields import (
    SCHEMAS_DIR,
    closest,
    coerce_frame,
    empty_frame,
    enum_of,
    frictionless_schema,
    pandera_schema,
    pyarrow_schema,
    table_defs,
    vocabulary,
)

FIELDS = """\
id: {type: string, description: The id., constraints: {required: true, pattern: "^[a-z]+$"}}
kind: {type: string, description: A kind., enum_from: units.yaml}
t.kind: {type: string, description: The kind of t., enum_from: shapes.yaml}
count: {type: integer, description: How many., constraints: {minimum: 0}}
share: {type: number, description: A share.}
flag: {type: boolean, description: A flag., constraints: {required: true}}
day: {type: date, description: A day., format: "%Y-%m-%d"}
"""
TABLES = """\
t:
  title: T
  description: The t table.
  fields: [id, kind, count, day]
  primary_key: [id]
  foreign_keys:
    - {fields: [kind], reference: {resource: u, fields: [kind]}}
u:
  title: U
  description: The u table.
  fields: [id, kind, share, flag]
  primary_key: [id, kind]
"""


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    (tmp_path / "fields.yaml").write_text(FIELDS, encoding="utf-8")
    (tmp_path / "tables.yaml").write_text(TABLES, encoding="utf-8")
    (tmp_path / "units.yaml").write_text("t: {unit: kg}\nkg: {unit: kg}\n$: {unit: USD}\n")
    (tmp_path / "shapes.yaml").write_text("square: {}\nround: {}\n")
    return tmp_path


def test_tables_are_read_in_order_with_their_fields_keys_and_enums(schemas):
    tables = table_defs(schemas)
    assert list(tables) == ["t", "u"]
    t, u = tables["t"], tables["u"]
    assert (t.name, t.title, t.description) == ("t", "T", "The t table.")
    assert t.columns == ["id", "kind", "count", "day"] and u.columns == [
        "id",
        "kind",
        "share",
        "flag",
    ]
    assert t.primary_key == ("id",) and u.primary_key == ("id", "kind")
    assert t.foreign_keys == (
        {"fields": ["kind"], "reference": {"resource": "u", "fields": ["kind"]}},
    )
    assert u.foreign_keys == ()
    assert t.fields[1].description == "The kind of t." and u.fields[1].description == "A kind."
    assert t.fields[1].constraints == {"enum": ["round", "square"]}
    assert u.fields[1].constraints == {"enum": ["USD", "kg"]}  # the normalized units
    assert t.fields[0].constraints == {"required": True, "pattern": "^[a-z]+$"}
    assert t.fields[0].required and not t.fields[2].required and u.fields[3].required
    assert t.fields[3].format == "%Y-%m-%d" and t.fields[0].format is None
    assert (t.fields[2].name, t.fields[2].type) == ("count", "integer")


def test_the_projects_schemas_are_read_from_schemas(schemas):
    assert SCHEMAS_DIR == Path(__file__).resolve().parents[1] / "schemas"
    assert "sources" in table_defs() and "tons" in vocabulary("units.yaml")
    assert "__line__" not in vocabulary("units.yaml")["tons"]
    assert enum_of("figures", "unit") == tuple(
        sorted({a["unit"] for a in vocabulary("units.yaml").values()})
    )


def test_pyarrow_columns_carry_type_nullability_and_description(schemas):
    tables = table_defs(schemas)
    schema = pyarrow_schema(tables["t"])
    assert schema.names == ["id", "kind", "count", "day"]
    assert [f.type for f in schema] == [pyarrow.string(), pyarrow.string(), pyarrow.int64(),
                                        pyarrow.date32()]  # fmt: skip
    assert [f.nullable for f in schema] == [False, True, True, True]
    assert schema.field("count").metadata == {b"description": b"How many."}
    assert schema.metadata == {b"name": b"t", b"description": b"The t table."}
    u = pyarrow_schema(tables["u"])
    assert [f.type for f in u][2:] == [pyarrow.float64(), pyarrow.bool_()]
    assert [f.nullable for f in u] == [False, True, True, False]


def test_frictionless_fields_carry_format_and_constraints_only_when_they_have_them(schemas):
    tables = table_defs(schemas)
    assert frictionless_schema(tables["t"]) == {
        "fields": [
            {"name": "id", "type": "string", "description": "The id.",
             "constraints": {"required": True, "pattern": "^[a-z]+$"}},
            {"name": "kind", "type": "string", "description": "The kind of t.",
             "constraints": {"enum": ["round", "square"]}},
            {"name": "count", "type": "integer", "description": "How many.",
             "constraints": {"minimum": 0}},
            {"name": "day", "type": "date", "description": "A day.", "format": "%Y-%m-%d"},
        ],
        "primaryKey": ["id"],
        "foreignKeys": [{"fields": ["kind"], "reference": {"resource": "u", "fields": ["kind"]}}],
    }  # fmt: skip
    assert "foreignKeys" not in frictionless_schema(tables["u"])
    assert frictionless_schema(tables["u"])["primaryKey"] == ["id", "kind"]


def t_rows(**change):
    rows = {"id": ["a", "b"], "kind": ["round", None], "count": [0, None],
            "day": [dt.date(2000, 1, 2), None]}  # fmt: skip
    return pd.DataFrame({**rows, **change})


def test_pandera_accepts_rows_of_the_table_and_rejects_each_broken_constraint(schemas):
    t = table_defs(schemas)["t"]
    schema = pandera_schema(t)
    schema.validate(coerce_frame(t_rows(), t))
    broken = [
        {"id": ["a", "a"]},  # the primary key repeats
        {"id": ["a", "B"]},  # the pattern
        {"id": ["a", None]},  # required
        {"kind": ["round", "oval"]},  # the enum
        {"count": [0, -1]},  # the minimum
        {"day": [dt.date(2000, 1, 2), "2000-01-02"]},  # not a date
    ]
    for change in broken:
        with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors, ValueError, TypeError)):
            schema.validate(coerce_frame(t_rows(**change), t))
    pandera_schema(t, keys=False).validate(coerce_frame(t_rows(id=["a", "a"]), t))
    assert schema.columns["count"].checks[0].statistics == {"min_value": 0}


def test_pandera_is_strict_and_ordered_and_checks_a_composite_key(schemas):
    tables = table_defs(schemas)
    t, u = tables["t"], tables["u"]
    schema = pandera_schema(t)
    assert (schema.strict, schema.ordered, schema.name) == (True, True, "t")
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)):
        schema.validate(coerce_frame(t_rows(), t)[["kind", "id", "count", "day"]])
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)):
        schema.validate(coerce_frame(t_rows(), t).assign(extra=1))
    rows = pd.DataFrame({"id": ["a", "a"], "kind": ["kg", "USD"], "share": [0.5, None],
                         "flag": [True, False]})  # fmt: skip
    pandera_schema(u).validate(coerce_frame(rows, u))
    assert pandera_schema(u).unique == ["id", "kind"]
    assert pandera_schema(u, keys=False).unique is None and pandera_schema(t).unique is None
    assert not pandera_schema(u).columns["id"].unique and pandera_schema(t).columns["id"].unique
    assert not pandera_schema(t, keys=False).columns["id"].unique
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)):
        pandera_schema(u).validate(coerce_frame(rows.assign(kind=["kg", "kg"]), u))
    assert (
        pandera_schema(u).columns["share"].nullable
        and not pandera_schema(u).columns["flag"].nullable
    )


def test_a_frame_is_coerced_to_the_table_order_and_types(schemas):
    u = table_defs(schemas)["u"]
    rows = pd.DataFrame({"flag": [True], "share": [1], "kind": ["kg"], "id": ["a"]}, index=[7])
    out = coerce_frame(rows, u)
    assert list(out.columns) == ["id", "kind", "share", "flag"] and list(out.index) == [0]
    assert [str(d) for d in out.dtypes] == ["str", "str", "float64", "bool"]
    t = table_defs(schemas)["t"]
    out = coerce_frame(t_rows(), t)
    assert str(out["count"].dtype) == "Int64" and out["day"].tolist() == [dt.date(2000, 1, 2), None]
    assert out["day"].dtype == object
    empty = empty_frame(t)
    assert list(empty.columns) == t.columns and len(empty) == 0
    assert str(empty["count"].dtype) == "Int64"


def test_closest_names_up_to_three_near_terms_or_nothing():
    assert (
        closest("tonz", ["tons", "ton", "tones", "kg", "tonnes"]) == " (closest: ton, tons, tones)"
    )
    assert closest("heroine", {"heroin": 1, "cocaine": 2}) == " (closest: heroin)"
    assert closest("zzz", ["tons"]) == ""
    assert closest(7, [1, 7]) == " (closest: 7)"


def _correction_row(**values) -> dict:
    row = {"correction_id": "c", "source_id": "s", "char_start": 0, "char_end": 1, "line": 1,
           "column": 1, "printed": "a", "corrected": "b", "reason": "r",
           "reported_on": dt.date(2026, 11, 27), "reported_by": "x", "annotation_file": "f",
           "annotation_line": 1}  # fmt: skip
    return {**row, **values}


def test_a_missing_date_is_coerced_to_none_and_a_date_stays_a_date():
    from pipeline.core.fields import coerce_frame, table_defs

    table = table_defs()["corrections"]
    frame = pd.DataFrame([_correction_row(), _correction_row(reported_on=pd.NaT)])
    column = coerce_frame(frame, table)["reported_on"]
    assert column.dtype == object and column.tolist() == [dt.date(2026, 11, 27), None]


def test_a_date_column_holding_text_fails_the_is_date_check_by_name_and_message():
    from pipeline.core.fields import coerce_frame, pandera_schema, table_defs

    table = table_defs()["corrections"]
    frame = coerce_frame(pd.DataFrame([_correction_row(reported_on="2026-11-27")]), table)
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        pandera_schema(table).validate(frame, lazy=True)  # as records.row_problems does
    (failed,) = caught.value.failure_cases.itertuples()
    assert (failed.column, failed.check) == ("reported_on", "values must be datetime.date")
    assert [c.name for c in pandera_schema(table).columns["reported_on"].checks] == ["is_date"]
