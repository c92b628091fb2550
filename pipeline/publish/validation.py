"""Validating a new data package once, on the right format, in the right place.

Frictionless is the judge of every published row: types, formats, required fields, enums,
patterns and ranges, read from the CSV copies (its Parquet reader goes row by row through
pandas, about 20x slower). Whether a row passes those checks depends on nothing but the
row's cells and the schema, so a row is checked once per schema: the digest of each row
that passed is kept in a ledger (`<cache>/validated-rows/<schema digest>.bin`), and a
later build sends Frictionless only the rows it has not seen pass under that exact schema
(a corrected figure, a new source). Change one field's definition and the schema digest
changes with it, so every row is checked again. Delete the cache and the next build
checks every row.

Keys are properties of whole tables, not of rows, so they are checked here on the whole
tables, with pandas set operations: every primary key present and unique, every foreign
key value present in the table it references (Frictionless's rules: a row whose key fields
are all empty references nothing). `frictionless validate outputs/datapackage.json`, which
checks rows and keys of both formats in one pass, passes on every published package; the
test suite runs it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.cache.parallel import ordered_map
from pipeline.core.fields import TableDef
from pipeline.core.sources import write_atomically

LEDGER_DIR = "validated-rows"
DIGEST_BYTES = 32


def row_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A resource schema without its keys: what Frictionless checks row by row."""
    return {k: v for k, v in schema.items() if k not in ("primaryKey", "foreignKeys")}


def schema_digest(schema: dict[str, Any]) -> str:
    """The digest a ledger is kept under: the row schema and the Frictionless version."""
    from frictionless import __version__

    text = json.dumps([row_schema(schema), "frictionless", __version__], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_digest(cells: list[str]) -> bytes:
    """sha256 of a row's cells; repr() of a list of strings is unambiguous (quotes escaped)."""
    return hashlib.sha256(repr(cells).encode("utf-8", "surrogatepass")).digest()


class RowLedger:
    """The digests of rows that passed Frictionless's row checks, one file per schema.
    Without a folder it remembers nothing, and every row is checked."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / LEDGER_DIR if folder is not None else None

    def _path(self, schema_key: str) -> Path | None:
        return self.folder / f"{schema_key}.bin" if self.folder is not None else None

    def passed(self, schema_key: str) -> set[bytes]:
        path = self._path(schema_key)
        try:
            data = path.read_bytes() if path is not None else b""
        except OSError:
            return set()
        size = DIGEST_BYTES
        return {data[i : i + size] for i in range(0, len(data) - len(data) % size, size)}

    def passed_file(self, schema_key: str, file_sha256: str) -> bool:
        """Whether a whole file with this sha256 passed under this schema."""
        path = self._path(schema_key)
        try:
            return (
                path is not None
                and file_sha256 in path.with_suffix(".files").read_text(encoding="ascii").split()
            )
        except OSError:
            return False

    def add_file(self, schema_key: str, file_sha256: str) -> None:
        path = self._path(schema_key)
        if path is None or not file_sha256 or self.passed_file(schema_key, file_sha256):
            return
        files = path.with_suffix(".files")
        known = files.read_text(encoding="ascii") if files.exists() else ""
        write_atomically(files, (known + file_sha256 + "\n").encode("ascii"))

    def add(self, schema_key: str, digests: list[bytes]) -> None:
        path = self._path(schema_key)
        if path is None or not digests:
            return
        known = self.passed(schema_key)
        write_atomically(path, b"".join(sorted(known | set(digests))))


PACKAGE_LEDGER_DIR = "validated-packages"


class PackageLedger:
    """The sha256 of every datapackage.json that Frictionless found valid, one file per
    Frictionless version. A published descriptor with the same bytes, whose resources have
    the bytes and sha256 it declares, is the package already validated: it is not sent to
    Frictionless again. Without a folder it remembers nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / PACKAGE_LEDGER_DIR if folder is not None else None

    def _path(self) -> Path | None:
        from importlib.metadata import version  # not `import frictionless`: 0.2 s

        return self.folder / f"frictionless-{version('frictionless')}.txt" if self.folder else None

    def _known(self) -> list[str]:
        path = self._path()
        try:
            return path.read_text(encoding="ascii").split() if path is not None else []
        except OSError:
            return []

    def passed(self, descriptor_sha256: str) -> bool:
        return descriptor_sha256 in self._known()

    def add(self, descriptor_sha256: str) -> None:
        path, known = self._path(), self._known()
        if path is not None and descriptor_sha256 not in known:
            write_atomically(path, "".join(f"{d}\n" for d in known + [descriptor_sha256]).encode())


def _records(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, list(reader)


CHUNK_ROWS = 4000  # rows per Frictionless call: pieces to spread over the workers
PARALLEL_MIN_ROWS = 10_000  # fewer rows to check are checked in this process


def _frictionless_rows(path: str, schema: dict[str, Any]) -> list[list[Any]]:
    """Frictionless's row checks of one CSV file: [row number, field, type, note] each."""
    from frictionless import Resource, Schema, system

    with system.use_context(trusted=True):
        report = Resource(
            path=path, format="csv", encoding="utf-8", schema=Schema.from_descriptor(schema)
        ).validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def row_problems(folder: Path, descriptor: dict[str, Any], ledger: RowLedger) -> list[str]:
    """Frictionless's row checks on every CSV resource of `descriptor` (in `folder`), for
    the rows the ledger has not seen pass under the same schema (a file whose sha256 passed
    whole is not even read). The hash is the one `descriptor` declares, which
    verify_bytes_and_hashes() checks against the file. Problems name the file, its line and
    the field.

    A row's checks need no other row, so the rows to check are cut into pieces of
    CHUNK_ROWS, checked in worker processes when there are many (pipeline/cache/parallel.py), and
    their problems put back in line order."""
    todo = []  # (resource, schema key, file sha256, digests, fresh rows, pieces of them)
    with tempfile.TemporaryDirectory(prefix="usmx-rows-") as tmp:
        files: list[str] = []
        schemas: list[dict[str, Any]] = []
        for resource in descriptor["resources"]:
            if resource.get("format") != "csv":
                continue
            path = folder / resource["path"]
            key = schema_digest(resource["schema"])
            file_sha256 = resource.get("hash", "").removeprefix("sha256:")
            if file_sha256 and ledger.passed_file(key, file_sha256):
                continue  # this very file passed before: every one of its rows did
            header, records = _records(path)
            known = ledger.passed(key)
            digests = [row_digest(r) for r in records]
            fresh = [i for i, d in enumerate(digests) if d not in known]
            if not fresh:
                ledger.add_file(key, file_sha256)
                continue
            pieces = [fresh[i : i + CHUNK_ROWS] for i in range(0, len(fresh), CHUNK_ROWS)]
            for n, piece in enumerate(pieces):
                rows_file = Path(tmp) / f"{len(files)}-{n}-{path.name}"
                with rows_file.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle, lineterminator="\n")
                    writer.writerow(header)
                    writer.writerows(records[i] for i in piece)
                files.append(str(rows_file))
                schemas.append(row_schema(resource["schema"]))
            todo.append((resource, key, file_sha256, digests, fresh, pieces))
        rows = sum(len(fresh) for *_, fresh, _ in todo)
        reports = iter(ordered_map(_frictionless_rows, files, schemas,
                                   parallel=rows >= PARALLEL_MIN_ROWS))  # fmt: skip
    problems: list[str] = []
    for resource, key, file_sha256, digests, fresh, pieces in todo:
        found: dict[str, None] = {}  # in order, a header problem once, not once per piece
        for piece in pieces:
            for row, field, kind, note in next(reports):
                # row 2 of a piece's file is its first record, which is line piece[0] + 2 of
                # the published file (line 1 is the header)
                line = piece[row - 2] + 2 if row else None
                where = f"line {line}" if line else "header"
                found[f"{resource['path']} {where}, field {field or '-'}: {kind} ({note})"] = None
        if found:
            problems += found
        else:
            ledger.add(key, [digests[i] for i in fresh])
            ledger.add_file(key, file_sha256)
    return problems


def not_in(values: pd.Series, allowed: pd.Series) -> Any:
    """A boolean mask of the values that are not among `allowed`. Arrow's hash lookup:
    pandas' isin on Arrow-backed strings took over a second for 59,000 ids against 110,000."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.is_in(pa.array(values, from_pandas=True), value_set=pa.array(allowed))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return ~values.isin(allowed).to_numpy()
    return ~np.asarray(found.fill_null(False), dtype=bool)


def key_problems(
    tables: dict[str, tuple[TableDef, pd.DataFrame]], known: frozenset = frozenset()
) -> list[str]:
    """Primary keys present and unique, foreign keys resolved, on the whole tables. The
    `known` tables passed these checks before with these very rows (publish.py
    validate_staging): their own keys are not checked again, nor a foreign key between two
    of them; a foreign key from or into any other table is."""
    problems: list[str] = []
    for name, (table, df) in tables.items():
        if name not in known:
            pk = list(table.primary_key)
            missing = df[pk].isna().any(axis=1)
            if missing.any():
                problems.append(f"{name}: {int(missing.sum())} row(s) without a primary key {pk}")
            repeated = df.loc[df.duplicated(pk, keep=False) & ~missing, pk]
            for values in sorted({tuple(v) for v in repeated.itertuples(index=False)})[:20]:
                problems.append(f"{name}: primary key {pk} value {list(values)} is not unique")
        for fk in table.foreign_keys:
            fields, ref = list(fk["fields"]), fk["reference"]
            if name in known and ref["resource"] in known:
                continue
            target = tables[ref["resource"]][1]
            wanted = df[fields].dropna(how="all")
            if len(fields) == 1:  # the usual case, without building MultiIndexes
                absent = not_in(wanted[fields[0]], target[ref["fields"][0]])
            else:
                have = pd.MultiIndex.from_frame(target[list(ref["fields"])])
                absent = ~pd.MultiIndex.from_frame(wanted).isin(have)
            for values in wanted[absent].itertuples(index=False):
                problems.append(
                    f"{name}: {fields} value {list(values)} is not in "
                    f"{ref['resource']} {list(ref['fields'])}"
                )
                if len(problems) > 50:
                    return problems
    return problems
