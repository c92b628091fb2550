"""The files of the package: each table as Parquet and as CSV, and their resource entries.

Nothing written here depends on the clock, so the same tables give the same bytes. A CSV
copy writes a null as NA (R's default; its schema declares it the one missing value), so
an empty string stays an empty string; integers print as integers, booleans as true/false.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.cache.keys import cache_key
from pipeline.cache.store import Store
from pipeline.core.errors import BuildError
from pipeline.core.fields import TableDef, frictionless_schema, pyarrow_schema
from pipeline.core.sources import sha256_file
from pipeline.publish.swap import checkpoint

NULL = "NA"


def to_table(df: pd.DataFrame, table: TableDef) -> pa.Table:
    """The frame as Arrow with the table's schema (one thread: the columns are Arrow already)."""
    return pa.Table.from_pandas(df, schema=pyarrow_schema(table), preserve_index=False, nthreads=1)


def write_parquet(df: pd.DataFrame, table: TableDef, path: Path) -> None:
    arrow = to_table(df, table).replace_schema_metadata(pyarrow_schema(table).metadata)
    pq.write_table(arrow, path, compression="zstd", write_statistics=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "true", False: "false"})
        elif (out[column].astype(object) == NULL).any():
            problem = f"column {column} holds the text {NULL!r}, which the CSV copy means by null"
            raise BuildError(path.name, problem, "annotate the value another way")
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", na_rep=NULL)


def resource_descriptor(table: TableDef, path: Path, folder: Path, fmt: str) -> dict[str, Any]:
    csv = fmt == "csv"
    return {
        "name": f"{table.name}_csv" if csv else table.name,
        "type": "table",
        "path": path.relative_to(folder).as_posix(),
        "scheme": "file",
        "format": fmt,
        "mediatype": "text/csv" if csv else "application/vnd.apache.parquet",
        **({"encoding": "utf-8"} if csv else {}),
        "title": table.title + (" (CSV copy)" if csv else ""),
        "description": table.description,
        # frictionless 5.21 reports a byte-count error for any size declared for Parquet, so
        # Parquet records x_bytes; verify_bytes_and_hashes() checks both sizes and hashes.
        "bytes" if csv else "x_bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
        "schema": _csv_schema(table) if csv else _parquet_schema(table),
    }


def _parquet_schema(table: TableDef) -> dict[str, Any]:
    """frictionless 5.21 reads Parquet through pandas, which makes a null integer NaN: "nan"
    is declared the missing value (no published string is "nan"; "" is an empty string)."""
    return {**frictionless_schema(table), "missingValues": ["nan"]}


def _csv_schema(table: TableDef) -> dict[str, Any]:
    """The CSV copy's schema: the same fields, NA for a null, foreign keys pointing at the
    CSV copies."""
    schema = {**frictionless_schema(table), "missingValues": [NULL]}
    for fk in schema.get("foreignKeys", []):
        fk["reference"]["resource"] = f"{fk['reference']['resource']}_csv"
    return schema


def write_csv_once(df: pd.DataFrame, parquet: Path, path: Path, cache_dir: Path | None) -> None:
    """The CSV copy of a table, made once per content: kept in the store under the Parquet
    file's sha256 (the same bytes, the same table) and hard-linked from there."""
    store, key = Store(cache_dir, "csv"), cache_key("csv", sha256_file(parquet))
    if not store.link_to(key, ".csv", path):
        write_csv(df, path)
        store.keep(key, ".csv", path)


def write_tables(
    tables: dict[str, tuple[TableDef, pd.DataFrame]], folder: Path, cache_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Write every table as Parquet and CSV into `folder`; their descriptors, Parquet first."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = [], []
    for name, (table, df) in tables.items():
        parquet_path, csv_path = folder / f"{name}.parquet", folder / f"{name}.csv"
        write_parquet(df, table, parquet_path)
        checkpoint("writing")
        write_csv_once(df, parquet_path, csv_path, cache_dir)
        parquet.append(resource_descriptor(table, parquet_path, folder, "parquet"))
        csv.append(resource_descriptor(table, csv_path, folder, "csv"))
    return parquet + csv
