"""Every validation of a new data package, once, on the right format, in the right place.

- Frictionless judges every published row, read from the CSV copies. A row's verdict depends
  on its cells and the schema only, so the digests of rows that passed are kept in the cache
  (keyed by code version and row schema) and a later build sends only the rows not seen pass.
- Keys are properties of whole tables, checked with pandas: primary keys present and unique,
  every foreign key value present in the table it references.
- Every published quote is the one written in raw/ (annotations.yaml, corrections.yaml),
  taken from the YAML by publish/quotes.py, independently of the reader that made the rows.
- Each Parquet file holds exactly the rows of its table; every resource has the bytes and
  sha256 its descriptor declares (frictionless 5.21 does not check Parquet's); the descriptor
  is valid as metadata.
- The SQLite database, Croissant, Web Annotations and archive pass their own tools' checks
  (publish/metadata.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from pipeline import progress
from pipeline.cache.keys import cache_key
from pipeline.cache.parallel import in_background, ordered_map
from pipeline.cache.store import Store
from pipeline.core.fields import TableDef
from pipeline.core.sources import sha256_file
from pipeline.core.tables import not_in
from pipeline.publish.files import to_table
from pipeline.publish.metadata import metadata_problems
from pipeline.publish.quotes import FILES, STORE_KIND, Quotes, quotes_key, read_quotes

PACKAGE_FILE = "datapackage.json"
DIGEST_BYTES = 32
CHUNK_ROWS = 4000  # rows per Frictionless call: pieces to spread over the workers
PARALLEL_MIN_ROWS = 10_000  # fewer rows to check are checked in this process
QUOTE_MIN_ITEMS = 16  # fewer sources' annotations are read again in this process


def _descriptor(folder: Path) -> dict[str, Any]:
    return json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))


def verify_bytes_and_hashes(folder: Path) -> list[str]:
    """What frictionless 5.21 does not check for Parquet: each resource's bytes and sha256."""
    problems = []
    for resource in _descriptor(folder)["resources"]:
        path = folder / resource["path"]
        if not path.exists():
            problems.append(f"{resource['path']} is missing")
            continue
        size, declared = path.stat().st_size, resource.get("bytes", resource.get("x_bytes"))
        if size != declared:
            problems.append(f"{resource['path']} has {size} bytes, the package says {declared}")
        digest = f"sha256:{sha256_file(path)}"
        if digest != resource["hash"]:
            problems.append(
                f"{resource['path']} has hash {digest}, the package says {resource['hash']}"
            )
    return problems


def frictionless_errors(folder: Path, formats: tuple[str, ...] | None = None) -> list[str]:
    """Frictionless validation of the package, rows included, as readable lines; with
    `formats`, of the resources in those formats only."""
    from frictionless import Package, system

    descriptor = _descriptor(folder)
    if formats is not None:
        descriptor["resources"] = [r for r in descriptor["resources"] if r["format"] in formats]
    with system.use_context(trusted=True):
        report = Package(descriptor, basepath=str(folder)).validate()
    return [f"{kind}: {message}" for kind, message in report.flatten(["type", "message"])]


def descriptor_errors(folder: Path) -> list[str]:
    """Frictionless's validation of datapackage.json as metadata, without reading rows."""
    from frictionless import FrictionlessException, Package, system

    try:
        with system.use_context(trusted=True):
            errors = list(Package.metadata_validate(_descriptor(folder)))
    except FrictionlessException as exc:
        errors = exc.reasons or [exc.error]
    return [f"{e.type}: {e.message}" for e in errors]


def published_problems(folder: Path) -> list[str]:
    """The check on what was published: bytes and sha256 as declared, a valid descriptor."""
    return verify_bytes_and_hashes(folder) or descriptor_errors(folder)


def validate_package(folder: Path) -> list[str]:
    """The whole package as `frictionless validate` sees it, plus bytes and hashes."""
    return verify_bytes_and_hashes(folder) + frictionless_errors(folder)


def parquet_matches_frames(folder: Path, tables: dict[str, tuple[TableDef, pd.DataFrame]]):
    """Each Parquet file holds exactly the rows of the table it was written from."""
    return [
        f"{name}.parquet does not hold the rows of the {name} table"
        for name, (table, df) in tables.items()
        if not pq.read_table(folder / f"{name}.parquet").equals(to_table(df, table))
    ]


def validate_staging(
    folder: Path,
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    cache_dir: Path | None,
    source_folders: dict[str, Path] | None = None,
) -> list[str]:
    """Every check of a staged package (the published quotes against raw/ when the source
    folders are given)."""
    checks = (
        ("quotes", lambda: quote_problems(tables, source_folders or {}, cache_dir)),
        ("bytes, sha256, descriptor", lambda: verify_bytes_and_hashes(folder)
         + descriptor_errors(folder)),
        ("Frictionless rows", lambda: row_problems(folder, _descriptor(folder), cache_dir)),
        ("keys", lambda: key_problems(tables)),
        ("Parquet", lambda: parquet_matches_frames(folder, tables)),
    )  # fmt: skip
    # each format is read back by its own tool in a child process meanwhile (it reads only
    # the staged files; docs/performance.md); the problems come in the same order as ever
    with in_background(_format_problems, folder, tables) as formats:
        problems = progress.checked(checks)  # each a step of its own, timed in the build's log
        return problems + formats()


def _format_problems(folder: Path, tables: dict[str, tuple[TableDef, pd.DataFrame]]):
    return progress.checked([("formats", lambda: metadata_problems(folder, tables))])


def row_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A resource schema without its keys: what Frictionless checks row by row."""
    return {k: v for k, v in schema.items() if k not in ("primaryKey", "foreignKeys")}


def row_ledger_key(schema: dict[str, Any]) -> str:
    return cache_key("validated-rows", json.dumps(row_schema(schema), sort_keys=True))


def row_digest(cells: list[str]) -> bytes:
    """sha256 of a row's cells; repr() of a list of strings is unambiguous (quotes escaped)."""
    return hashlib.sha256(repr(cells).encode("utf-8", "surrogatepass")).digest()


class RowLedger:
    """The digests of rows that passed Frictionless's row checks, one entry per schema."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.store = Store(cache_dir, "validated-rows")

    def passed(self, key: str) -> set[bytes]:
        data, size = self.store.get_bytes(key) or b"", DIGEST_BYTES
        return {data[i : i + size] for i in range(0, len(data) - len(data) % size, size)}

    def add(self, key: str, digests: list[bytes]) -> None:
        if digests:
            self.store.put_bytes(key, b"".join(sorted(self.passed(key) | set(digests))))


def _frictionless_rows(path: str, schema: dict[str, Any]) -> list[list[Any]]:
    """Frictionless's row checks of one CSV file: [row number, field, type, note] each."""
    from frictionless import Resource, Schema, system

    with system.use_context(trusted=True):
        report = Resource(
            path=path, format="csv", encoding="utf-8", schema=Schema.from_descriptor(schema)
        ).validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def _pieces(tmp: Path, path: Path, known: set[bytes]) -> tuple[list[bytes], list[int], list]:
    """The digests of every row of one CSV file, the lines of the fresh ones (not in
    `known`), and those rows as files of CHUNK_ROWS rows in `tmp`, each with its lines: read
    and written row by row, so that no more than a row of the file is held at once."""
    digests: list[bytes] = []
    fresh: list[int] = []
    pieces: list[tuple[str, list[int]]] = []
    tmp.mkdir()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header, out = next(reader, []), None
        for i, record in enumerate(reader):
            digest = row_digest(record)
            digests.append(digest)
            if digest in known:
                continue
            if out is None or len(pieces[-1][1]) == CHUNK_ROWS:
                if out is not None:
                    out.close()
                rows_file = tmp / f"{len(pieces)}-{path.name}"
                out = rows_file.open("w", newline="", encoding="utf-8")
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(header)
                pieces.append((str(rows_file), []))
            writer.writerow(record)
            pieces[-1][1].append(i)
            fresh.append(i)
    if out is not None:
        out.close()
    return digests, fresh, pieces


def row_problems(folder: Path, descriptor: dict[str, Any], cache_dir: Path | None) -> list[str]:
    """Frictionless's row checks on every CSV resource, for the rows not seen passing under
    the same schema (in worker processes when many); problems name file, line and field."""
    ledger, problems = RowLedger(cache_dir), []
    with tempfile.TemporaryDirectory(prefix="usmx-rows-") as tmp:
        todo = []  # (resource, ledger key, file key, digests, fresh rows, pieces)
        for resource in (r for r in descriptor["resources"] if r.get("format") == "csv"):
            path, key = folder / resource["path"], row_ledger_key(resource["schema"])
            whole = cache_key("validated-file", key, resource.get("hash", ""))
            if resource.get("hash") and ledger.store.get_bytes(whole) is not None:
                continue  # this very file passed whole before: every one of its rows did
            digests, fresh, pieces = _pieces(Path(tmp) / resource["name"], path, ledger.passed(key))
            todo.append((resource, key, whole, digests, fresh, pieces))
        files = [(f, row_schema(r["schema"])) for r, *_, pieces in todo for f, _ in pieces]
        parallel = sum(len(fresh) for *_, fresh, _ in todo) >= PARALLEL_MIN_ROWS
        columns = zip(*files, strict=True) if files else ([], [])
        reports = iter(ordered_map(_frictionless_rows, *columns, parallel=parallel))
    for resource, key, whole, digests, fresh, pieces in todo:
        found: dict[str, None] = {}  # in order; a header problem once, not once per piece
        for _, lines in pieces:
            for row, field, kind, note in next(reports):
                # row 2 of a piece is its first record: line lines[0] + 2 of the file
                where = f"line {lines[row - 2] + 2}" if row else "header"
                found[f"{resource['path']} {where}, field {field or '-'}: {kind} ({note})"] = None
        problems += found
        if not found:
            ledger.add(key, [digests[i] for i in fresh])
            if resource.get("hash"):
                ledger.store.put_bytes(whole, b"passed\n")
    return problems


def _primary_key_problems(name: str, table: TableDef, df: pd.DataFrame) -> list[str]:
    pk = list(table.primary_key)
    missing = df[pk].isna().any(axis=1)
    problems = []
    if missing.any():
        problems.append(f"{name}: {int(missing.sum())} row(s) without a primary key {pk}")
    repeated = df.loc[df.duplicated(pk, keep=False) & ~missing, pk]
    for values in sorted({tuple(v) for v in repeated.itertuples(index=False)})[:20]:
        problems.append(f"{name}: primary key {pk} value {list(values)} is not unique")
    return problems


def _foreign_key_problems(name: str, df: pd.DataFrame, fk: dict, target: pd.DataFrame):
    fields, ref = list(fk["fields"]), fk["reference"]
    wanted = df[fields].dropna(how="all")  # a row whose key fields are all empty: no reference
    if len(fields) == 1:
        absent = not_in(wanted[fields[0]], target[ref["fields"][0]])
    else:
        have = pd.MultiIndex.from_frame(target[list(ref["fields"])])
        absent = ~pd.MultiIndex.from_frame(wanted).isin(have)
    return [
        f"{name}: {fields} value {list(values)} is not in {ref['resource']} {list(ref['fields'])}"
        for values in wanted[absent].itertuples(index=False)
    ]


def key_problems(tables: dict[str, tuple[TableDef, pd.DataFrame]]) -> list[str]:
    """Primary keys present and unique, foreign keys resolved, on the whole tables (at most
    about 50 problems are listed)."""
    problems: list[str] = []
    for name, (table, df) in tables.items():
        problems += _primary_key_problems(name, table, df)
        for fk in table.foreign_keys:
            target = tables[fk["reference"]["resource"]][1]
            problems += _foreign_key_problems(name, df, fk, target)
            if len(problems) > 50:
                return problems[:51]
    return problems


def _annotated_quotes_of(folders: list[Path], store: Store) -> list[Quotes]:
    """Each folder's quotes as written in its annotations.yaml and corrections.yaml (keys of
    `quotes_in`), each "where" naming the file and line. A file's quotes are kept under its
    sha256: anchoring keeps those of the annotations it parsed (publish/quotes.py), so a
    build reads a file again here only when its entry is absent, in worker processes when
    many (QUOTE_MIN_ITEMS)."""
    files = [[folder / name for name in FILES if (folder / name).exists()] for folder in folders]
    wanted = [(path, quotes_key(path.name, sha256_file(path))) for paths in files for path in paths]
    found = {key: store.get(key) for _, key in wanted}
    todo = [(path, key) for path, key in wanted if found[key] is None]
    made = ordered_map(read_quotes, [str(path) for path, _ in todo], min_items=QUOTE_MIN_ITEMS)
    for (_, key), quotes in zip(todo, made, strict=True):
        store.put(key, quotes)
        found[key] = quotes
    per_folder, at = [], iter(wanted)
    for paths in files:
        quotes: Quotes = {}
        for path, key in (next(at) for _ in paths):
            quotes.update((k, (q, f"{path}, line {line}")) for k, (q, line) in found[key].items())
        per_folder.append(quotes)
    return per_folder


def quote_problems(
    tables: dict[str, tuple[TableDef, pd.DataFrame]], folders: dict[str, Path], cache_dir=None
) -> list[str]:
    """Every published quote is the quote written in raw/: each provenance row's `quote` the
    annotation's (`quote` of the record, then of each of its `mentions`, in order), each
    correction's `printed` and `corrected` those of corrections.yaml; no record or mention
    missing, none added. The span check compares a span with a quote cut from it; this one
    compares the published quote with what the annotator wrote, so a span cut short fails."""
    store, problems = Store(cache_dir, STORE_KIND), []
    provenance = tables["provenance"][1]
    corrections = tables["corrections"][1] if "corrections" in tables else pd.DataFrame()
    prov_at = provenance.groupby("source_id", sort=False).indices
    prov_cols = [provenance[c].tolist() for c in ("record_id", "mention", "quote")]
    fix_at = corrections.groupby("source_id", sort=False).indices if len(corrections) else {}
    fix_cols = [corrections[c].tolist() for c in ("correction_id", "printed", "corrected")
                ] if len(corrections) else []  # fmt: skip
    ordered = sorted(folders.items())
    annotated = _annotated_quotes_of([folder for _, folder in ordered], store)
    for (source_id, folder), expected in zip(ordered, annotated, strict=True):
        ids, mentions, quotes = prov_cols
        published = {(ids[i], int(mentions[i])): quotes[i] for i in prov_at.get(source_id, [])}
        for i in fix_at.get(source_id, []):
            published[("correction", fix_cols[0][i])] = fix_cols[1][i]
            published[("corrected", fix_cols[0][i])] = fix_cols[2][i]
        for key in sorted(expected.keys() | published.keys(), key=str):
            quote, where = expected.get(key, (None, f"{folder}"))
            if key not in published:
                problems.append(f"{where}: {key[0]} {key[1]} is annotated but not published")
            elif key not in expected:
                problems.append(f"{source_id}: {key[0]} {key[1]} is published but not annotated")
            elif published[key] != quote:
                number = key[1]
                what = f"mention {number} of {key[0]}" if isinstance(number, int) else " ".join(key)
                problems.append(
                    f"{where}: the published quote of {what} is {published[key]!r}, "
                    f"the annotated one {quote!r}"
                )
    return problems
