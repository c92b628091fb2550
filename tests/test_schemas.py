"""Each field is defined once; pandera, pyarrow and Frictionless schemas derive from it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.errors
import pytest

from pipeline.core.fields import (
    SCHEMAS_DIR,
    coerce_frame,
    frictionless_schema,
    pandera_schema,
    pyarrow_schema,
    table_defs,
)
from pipeline.core.yaml_lines import load_yaml, strip_lines

CONTRACT = {
    "sources": ["source_id", "title", "publisher", "url", "archived_url", "sha256", "bytes", "rights"],
    "figures": [
        "figure_id", "source_id", "section", "measure", "subject", "actor", "country",
        "counterpart_country", "period_start", "period_end", "period_note", "value", "unit",
        "value_as_printed", "unit_as_printed", "qualifier", "is_target", "is_derived", "note",
    ],
    "events": [
        "event_id", "source_id", "kind", "name", "name_es", "date_start", "date_end",
        "date_precision", "place", "parties", "note",
    ],
    "actors": [
        "actor_id", "source_id", "kind", "name", "name_es", "acronym", "acronym_expanded",
        "country", "note",
    ],
    "provenance": [
        "record_id", "mention", "record_type", "source_id", "char_start", "char_end", "line", "column", "quote", "prefix",
        "suffix", "numeral_start", "numeral_end", "annotation_file", "annotation_line",
    ],
    "measures": ["measure", "label", "definition", "unit"],
    "claims": ["claim_id", "figure_ids", "stated_value", "computed_value", "holds"],
}  # fmt: skip


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_public_contract_columns_are_published(table):
    assert set(CONTRACT[table]) <= set(table_defs()[table].columns)


@pytest.mark.parametrize("name", list(table_defs()))
def test_three_schemas_have_the_same_columns_types_and_descriptions(name):
    table = table_defs()[name]
    arrow = pyarrow_schema(table)
    fric = frictionless_schema(table)
    pand = pandera_schema(table)
    assert arrow.names == table.columns
    assert [f["name"] for f in fric["fields"]] == table.columns
    assert list(pand.columns) == table.columns
    fields = strip_lines(load_yaml(SCHEMAS_DIR / "fields.yaml"))
    for f in fric["fields"]:  # "<table>.<field>" where that table's field differs
        spec = fields.get(f"{name}.{f['name']}") or fields[f["name"]]
        assert f["type"] == spec["type"]
        assert f["description"] == spec["description"]
        assert arrow.field(f["name"]).metadata[b"description"].decode() == spec["description"]
        assert pand.columns[f["name"]].description == spec["description"]
        assert arrow.field(f["name"]).nullable == (not f.get("constraints", {}).get("required"))
    assert fric["primaryKey"] == list(table.primary_key)


def test_every_table_field_is_defined_once_in_fields_yaml():
    text = (SCHEMAS_DIR / "fields.yaml").read_text()
    fields = strip_lines(load_yaml(SCHEMAS_DIR / "fields.yaml"))
    for name in fields:
        assert text.count(f"\n{name}:\n") + text.startswith(f"{name}:\n") == 1
    used = {c for t in table_defs().values() for c in t.columns}
    assert used <= set(fields)
    # a field of one table only ("actors.kind") is a field of that table, named as it
    for name in (n for n in fields if "." in n):
        table, column = name.split(".")
        assert column in table_defs()[table].columns and column in fields


def test_enum_constraints_come_from_the_vocabularies():
    figures = {f.name: f for f in table_defs()["figures"].fields}
    measures = strip_lines(load_yaml(SCHEMAS_DIR / "measures.yaml"))
    units = strip_lines(load_yaml(SCHEMAS_DIR / "units.yaml"))
    assert figures["measure"].constraints["enum"] == sorted(measures)
    assert set(figures["unit"].constraints["enum"]) == {u["unit"] for u in units.values()}


def _measures_row(**overrides):
    row = {"measure": "area_eradicated", "label": "Area", "definition": "d", "unit": "hectares"}
    return {**row, **overrides}


def test_pandera_schema_accepts_a_valid_row_and_rejects_bad_ones():
    table = table_defs()["measures"]
    schema = pandera_schema(table)
    schema.validate(coerce_frame(pd.DataFrame([_measures_row()]), table))
    with pytest.raises(pandera.errors.SchemaError):
        schema.validate(coerce_frame(pd.DataFrame([_measures_row(unit="furlongs")]), table))
    duplicate = pd.DataFrame([_measures_row(), _measures_row()])
    with pytest.raises(pandera.errors.SchemaError):
        schema.validate(coerce_frame(duplicate, table))


def test_pandera_date_columns_require_dates():
    table = table_defs()["events"]
    row = {c: None for c in table.columns}
    row.update(event_id="e", source_id="s", section="x", kind="law", name="n")
    row.update(date_precision="undated")
    good = coerce_frame(pd.DataFrame([{**row, "date_start": dt.date(1997, 12, 1)}]), table)
    pandera_schema(table).validate(good)
    bad = coerce_frame(pd.DataFrame([{**row, "date_start": "December 1997"}]), table)
    with pytest.raises(pandera.errors.SchemaError):
        pandera_schema(table).validate(bad)
