"""The single definition of every published field, and the schemas generated from it.

`schemas/fields.yaml` defines each field once (type, description, constraints);
`schemas/tables.yaml` lists which fields make up each table, with its keys. From these two
files this module generates the three schemas the pipeline needs - pandera (validation),
pyarrow (Parquet) and Frictionless (the data package) - so no column list is kept twice.
Vocabulary files in `schemas/` (measures, subjects, units) fill `enum_from` constraints;
`closest` names the known terms nearest to an unknown one, for error messages.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow

from pipeline.core.errors import REPO_ROOT
from pipeline.core.yaml_lines import load_yaml, strip_lines

SCHEMAS_DIR = REPO_ROOT / "schemas"

_PYARROW_TYPES = {
    "string": pyarrow.string(),
    "integer": pyarrow.int64(),
    "number": pyarrow.float64(),
    "boolean": pyarrow.bool_(),
    "date": pyarrow.date32(),
}
_PANDERA_TYPES: dict[str, Any] = {
    "string": pd.StringDtype(na_value=float("nan")),
    "integer": "Int64",
    "number": "float64",
    "boolean": "bool",
    "date": object,
}


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    description: str
    constraints: dict[str, Any] = field(default_factory=dict)
    format: str | None = None

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))


@dataclass(frozen=True)
class TableDef:
    name: str
    title: str
    description: str
    fields: tuple[FieldDef, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict[str, Any], ...]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


@cache
def vocabulary(file_name: str, schemas_dir: Path = SCHEMAS_DIR) -> dict[str, dict[str, Any]]:
    """A vocabulary file of schemas/ as {term: attributes}, without line bookkeeping.
    Read once per process: schemas/ is code, not data that changes during a build."""
    return strip_lines(load_yaml(schemas_dir / file_name))


def closest(word: object, known) -> str:
    """' (closest: a, b)': up to three known terms nearest to `word`, or "" when none is."""
    near = difflib.get_close_matches(str(word), sorted(map(str, known)), n=3)
    return f" (closest: {', '.join(near)})" if near else ""


def enum_of(table: str, field_name: str) -> tuple[str, ...]:
    """The values a field of a table may take (its enum constraint)."""
    found = next(f for f in table_defs()[table].fields if f.name == field_name)
    return tuple(found.constraints["enum"])


def _enum_values(file_name: str, schemas_dir: Path) -> list[str]:
    terms = vocabulary(file_name, schemas_dir)
    if file_name == "units.yaml":  # the normalized units, not the printed forms
        return sorted({attrs["unit"] for attrs in terms.values()})
    return sorted(terms)


@cache
def table_defs(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, TableDef]:
    """Every published table, in publishing order, with its fields resolved."""
    raw_fields = strip_lines(load_yaml(schemas_dir / "fields.yaml"))
    fields: dict[str, FieldDef] = {}
    for name, spec in raw_fields.items():
        constraints = dict(spec.get("constraints") or {})
        if "enum_from" in spec:
            constraints["enum"] = _enum_values(spec["enum_from"], schemas_dir)
        fields[name] = FieldDef(  # "<table>.<field>": that table's field of that name
            name.rpartition(".")[2], spec["type"], spec["description"], constraints,
            spec.get("format"),
        )  # fmt: skip
    tables = strip_lines(load_yaml(schemas_dir / "tables.yaml"))
    return {
        name: TableDef(
            name=name,
            title=spec["title"],
            description=spec["description"],
            fields=tuple(fields.get(f"{name}.{f}") or fields[f] for f in spec["fields"]),
            primary_key=tuple(spec["primary_key"]),
            foreign_keys=tuple(spec.get("foreign_keys") or ()),
        )
        for name, spec in tables.items()
    }


# --- pyarrow -------------------------------------------------------------------------


def pyarrow_schema(table: TableDef) -> pyarrow.Schema:
    columns = [
        pyarrow.field(
            f.name, _PYARROW_TYPES[f.type], not f.required, {"description": f.description}
        )
        for f in table.fields
    ]
    return pyarrow.schema(columns, {"name": table.name, "description": table.description})


# --- Frictionless ----------------------------------------------------------------------


def frictionless_schema(table: TableDef) -> dict[str, Any]:
    schema_fields = []
    for f in table.fields:
        entry: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
        if f.format:
            entry["format"] = f.format
        if f.constraints:
            entry["constraints"] = dict(f.constraints)
        schema_fields.append(entry)
    schema: dict[str, Any] = {"fields": schema_fields, "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": fk["fields"], "reference": dict(fk["reference"])}
            for fk in table.foreign_keys
        ]
    return schema


# --- pandera -------------------------------------------------------------------------


def _pandera_checks(f: FieldDef) -> list[pa.Check]:
    c = f.constraints
    checks: list[pa.Check] = []
    if "enum" in c:
        checks.append(pa.Check.isin(c["enum"]))
    if "pattern" in c:
        checks.append(pa.Check.str_matches(c["pattern"]))
    if "minimum" in c:
        checks.append(pa.Check.ge(c["minimum"]))
    if f.type == "date":
        is_date = lambda s: s.map(lambda v: isinstance(v, dt.date))  # noqa: E731
        checks.append(pa.Check(is_date, name="is_date", error="values must be datetime.date"))
    return checks


def pandera_schema(table: TableDef, keys: bool = True) -> pa.DataFrameSchema:
    """The table's pandera schema; with keys=False, without the primary key's uniqueness
    (for the rows of some sources, whose keys are checked on the whole table)."""
    columns = {
        f.name: pa.Column(
            _PANDERA_TYPES[f.type],
            checks=_pandera_checks(f),
            nullable=not f.required,
            unique=keys and list(table.primary_key) == [f.name],
            description=f.description,
        )
        for f in table.fields
    }
    return pa.DataFrameSchema(
        columns,
        strict=True,
        ordered=True,
        unique=list(table.primary_key) if keys and len(table.primary_key) > 1 else None,
        name=table.name,
    )


def empty_frame(table: TableDef) -> pd.DataFrame:
    return coerce_frame(pd.DataFrame({c: [] for c in table.columns}), table)


def coerce_frame(df: pd.DataFrame, table: TableDef) -> pd.DataFrame:
    """Give each column the dtype its field type maps to, in the table's column order."""
    out = pd.DataFrame(index=range(len(df)))
    for f in table.fields:
        col = df[f.name].reset_index(drop=True)
        if f.type == "date":
            out[f.name] = col.astype(object).where(col.notna(), None)
        else:
            out[f.name] = col.astype(_PANDERA_TYPES[f.type])
    return out
