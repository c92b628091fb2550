"""The package as one SQLite database for Datasette: outputs/<name>.sqlite and its metadata.

Every table of table_defs() with its primary key and the foreign keys SQLite can enforce
(those naming the whole primary key of the table they reference), and one view per table
whose records have provenance, joining each record to its quote and to its source. Column
descriptions live in the Datasette metadata file outputs/<name>.metadata.json beside it
(SQLite has no column comments). Same tables, same SQLite library: the same bytes.
"""

from __future__ import annotations

import json
import sqlite3
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from pipeline.core.fields import TableDef
from pipeline.core.sources import sha256_file
from pipeline.site.labels import plain

Tables = dict[str, tuple[TableDef, pd.DataFrame]]
SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "date": str}
PROVENANCE, SOURCES = "provenance", "sources"


def enforceable_keys(name: str, tables: Tables) -> list[tuple[str, str, str]]:
    """(column, table, column) of each one-column foreign key of `name` that references a
    whole primary key: SQLite refuses a foreign key to a column that is not unique."""
    return [
        (fk["fields"][0], ref["resource"], ref["fields"][0])
        for fk in tables[name][0].foreign_keys
        if len(fk["fields"]) == 1
        and [*(ref := fk["reference"])["fields"]] == [*tables[ref["resource"]][0].primary_key]
    ]


def _creation_order(tables: Tables) -> list[str]:
    """The tables, each after the tables its enforceable foreign keys reference."""
    refs = {n: {t for _, t, _ in enforceable_keys(n, tables)} - {n} for n in tables}
    return list(TopologicalSorter(refs).static_order())


def views(tables: Tables) -> dict[str, tuple[str, dict[str, str]]]:
    """<table>_provenance for each table with a foreign key to provenance: each record with
    the columns of its provenance row (mention 1 when mentions are numbered) and its source's
    columns as source_<column>; the view's SQL and its columns' descriptions."""
    found = {}
    prov_def, src_def = tables[PROVENANCE][0], tables[SOURCES][0]
    for name, (table, _) in tables.items():
        links = [fk for fk in table.foreign_keys if fk["reference"]["resource"] == PROVENANCE]
        if not links or name == PROVENANCE:
            continue
        key, ref = links[0]["fields"][0], links[0]["reference"]["fields"][0]
        prov = [f for f in prov_def.fields if f.name not in table.columns]
        src = [f for f in src_def.fields if f.name != "source_id"]
        mention = " and p.mention = 1" if "mention" in prov_def.columns else ""
        sql = (
            f"select t.*, {', '.join(f'p.[{f.name}]' for f in prov)}, "
            f"{', '.join(f's.[{f.name}] as [source_{f.name}]' for f in src)}\n"
            f"from [{name}] t\njoin [{PROVENANCE}] p on p.[{ref}] = t.[{key}]{mention}\n"
            f"join [{SOURCES}] s on s.source_id = t.source_id\norder by t.rowid"
        )
        columns = {f.name: f.description for f in (*table.fields, *prov)}
        columns |= {f"source_{f.name}": f.description for f in src}
        found[f"{name}_provenance"] = (sql, columns)
    return found


def index_columns(name: str, tables: Tables) -> list[str]:
    """The columns of `name` its foreign keys join on (Datasette's facets and the views
    follow them): each gets an index, made after the rows are in."""
    pk = list(tables[name][0].primary_key)
    return sorted({column for column, _, _ in enforceable_keys(name, tables)} - set(pk[:1]))


def write_database(tables: Tables, path: Path) -> None:
    """The tables in bulk: the schema first, then every row in one transaction (no journal:
    the file is in staging, and a build that stops there leaves nothing), then the indexes."""
    path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    order = _creation_order(tables)
    for name in order:
        table, _ = tables[name]
        db[name].create(
            {f.name: SQL_TYPES[f.type] for f in table.fields},
            pk=table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key,
            not_null={f.name for f in table.fields if f.required},
            foreign_keys=enforceable_keys(name, tables),
        )
    conn = db.conn
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    with conn:  # one transaction for every row of every table
        for name in order:
            table, df = tables[name]
            columns = [f.name for f in table.fields]
            cells = [[plain(v) for v in df[c].astype(object).tolist()] for c in columns]
            marks = ", ".join("?" for _ in columns)
            names = ", ".join(f"[{c}]" for c in columns)
            insert = f"insert into [{name}] ({names}) values ({marks})"
            conn.executemany(insert, zip(*cells, strict=True))
    with conn:
        for name in order:
            for column in index_columns(name, tables):
                conn.execute(f"create index [idx_{name}_{column}] on [{name}] ([{column}])")
        for view, (sql, _) in views(tables).items():
            conn.execute(f"create view [{view}] as {sql}")
    db.close()


def datasette_metadata(tables: Tables, meta: dict[str, Any], stem: str) -> dict[str, Any]:
    """Datasette's metadata: the package's title and licence, every table's and view's
    title, description and column descriptions."""
    described = {n: {"title": t.title, "description": t.description,
                     "columns": {f.name: f.description for f in t.fields}}
                 for n, (t, _) in tables.items()}  # fmt: skip
    for view, (_, columns) in views(tables).items():
        name = view.removesuffix("_provenance")
        described[view] = {
            "title": f"{described[name]['title']} with provenance",
            "description": f"Each row of {name} with its quote (provenance) and its source.",
            "columns": columns,
        }
    licence = meta["licenses"][0]
    return {
        "title": meta["title"], "description": meta["description"],
        "license": licence["name"], "license_url": licence["path"],
        "databases": {stem: {"tables": described}},
    }  # fmt: skip


def write_sqlite(tables: Tables, folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write <name>.sqlite and <name>.metadata.json into `folder`; the database's resource
    entry for datapackage.json."""
    path = folder / f"{meta['name']}.sqlite"
    write_database(tables, path)
    described = datasette_metadata(tables, meta, path.stem)
    (folder / f"{path.stem}.metadata.json").write_text(
        json.dumps(described, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return {
        "name": "sqlite",
        "type": "file",
        "path": path.name,
        "scheme": "file",
        "format": "sqlite",
        "mediatype": "application/vnd.sqlite3",
        "title": "All tables as one SQLite database",
        "description": "Every table with its keys, and views joining records to their "
        f"provenance and source; column descriptions for Datasette in {path.stem}.metadata.json.",
        "bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
    }


def sqlite_problems(folder: Path, tables: Tables, name: str) -> list[str]:
    """SQLite's own checks of the staged database, and its row counts against the tables."""
    path = folder / f"{name}.sqlite"
    if not path.exists():
        return [f"{path.name} is missing"]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        problems = [f"{path.name}: integrity_check says {row[0]}"
                    for row in db.execute("pragma integrity_check") if row[0] != "ok"]  # fmt: skip
        problems += [f"{path.name}: {row[0]} row {row[1]} has no {row[2]} row it references"
                     for row in db.execute("pragma foreign_key_check")]  # fmt: skip
        for table, (_, df) in tables.items():
            count = db.execute(f"select count(*) from [{table}]").fetchone()[0]
            if count != len(df):
                problems.append(f"{path.name}: {table} has {count} rows, the table {len(df)}")
    db.close()
    return problems
