"""Publishing: Parquet + CSV per table and a Frictionless data package, swapped in whole.

Files are written to a staging folder beside `outputs/`, validated there (Frictionless
rows, plus the bytes and sha256 of every resource, which frictionless 5.21 skips for
Parquet), and only then swapped in with one atomic exchange of the two directories
(Linux renameat2 RENAME_EXCHANGE), so `outputs/` is at every instant either all old or all
new. Where the exchange is not available, two renames are used and the next build rolls a
half-done swap back. Leftovers of an interrupted publish are removed by the next build.
Nothing written here depends on the clock, so the same inputs give the same bytes.

`USMX_KILL_AT=<point>` makes the process kill itself (SIGKILL) at a named point of
publishing; the tests use it to check that a build killed there leaves a valid outputs/.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import signal
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow
import pyarrow.parquet as pq

from pipeline.cache.parallel import ordered_map
from pipeline.core.errors import REPO_ROOT, BuildError
from pipeline.core.fields import SCHEMAS_DIR, TableDef, frictionless_schema, pyarrow_schema
from pipeline.core.sources import SourceSnapshot, file_lock, sha256_file, write_atomically
from pipeline.core.yaml_lines import load_yaml, strip_lines
from pipeline.publish import changelog
from pipeline.publish.build_record import build_record, created
from pipeline.publish.validation import PackageLedger, RowLedger, key_problems, row_problems
from pipeline.site.pages import (
    SOURCE_PAGES_DIR,
    code_version,
    index_page,
    plain_columns,
    plain_rows,
    source_page_from_rows,
    source_page_path,
)

OUTPUTS_DIR = REPO_ROOT / "outputs"
PACKAGE_FILE = "datapackage.json"
PAGE_FILE = "provenance.html"
# the Parquet and CSV writers live here: their files are kept under keys that name this code
_WRITER_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


# --- writing ---------------------------------------------------------------------------


def to_table(df: pd.DataFrame, table: TableDef) -> pyarrow.Table:
    """The frame as Arrow with the table's schema. One thread: the columns are Arrow-backed
    already, and a thread pool per call costs more than it saves (and a process holding
    threads cannot fork workers, pipeline/cache/parallel.py)."""
    return pyarrow.Table.from_pandas(
        df, schema=pyarrow_schema(table), preserve_index=False, nthreads=1
    )


def parquet_table(df: pd.DataFrame, table: TableDef) -> pyarrow.Table:
    """The Arrow table written to `<table>.parquet`: the table's schema and its metadata."""
    return to_table(df, table).replace_schema_metadata(pyarrow_schema(table).metadata)


def write_parquet(df: pd.DataFrame, table: TableDef, path: Path) -> None:
    _write_parquet(parquet_table(df, table), path)


def _write_parquet(arrow: pyarrow.Table, path: Path) -> None:
    pq.write_table(arrow, path, compression="zstd", write_statistics=True)


class _Digest:
    """A write-only file that hashes what is written to it."""

    def __init__(self, digest) -> None:
        self.digest, self.closed = digest, False

    def write(self, data) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        pass


def arrow_digest(arrow: pyarrow.Table) -> str:
    """sha256 of an Arrow table's schema (metadata included) and every value, as its Arrow
    IPC stream: the same rows give the same digest. (Bytes in a null slot count too, so
    two equal tables may differ here; that costs a Parquet write, never a wrong file.)"""
    digest = hashlib.sha256(f"{_WRITER_CODE} pyarrow {pyarrow.__version__}\n".encode())
    with pyarrow.ipc.new_stream(pyarrow.PythonFile(_Digest(digest), mode="w"), arrow.schema) as w:
        w.write_table(arrow)
    return digest.hexdigest()


def write_parquet_once(arrow: pyarrow.Table, path: Path, cache_dir: Path | None) -> None:
    """`<table>.parquet`, written once per content: with a `cache_dir` the file is kept in
    `cache_dir/parquet/<digest of the rows>.parquet` beside the sha256 it was written
    with, and hard-linked while the table does not change. A kept file whose bytes no
    longer have that sha256 (edited through a link in outputs/, say) is written again."""
    if cache_dir is None:
        _write_parquet(arrow, path)
        return
    cached = cache_dir / "parquet" / f"{arrow_digest(arrow)}.parquet"
    recorded = cached.with_suffix(".sha256")
    try:
        kept = cached.is_file() and recorded.read_text(encoding="ascii") == sha256_file(cached)
    except OSError:
        kept = False
    if not kept:
        _write_parquet(arrow, path)
        write_atomically(cached, path.read_bytes())
        write_atomically(recorded, sha256_file(cached).encode("ascii"))
    _link_or_copy(cached, path)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


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
        # frictionless 5.21 cannot count a Parquet file's bytes (it reports a byte-count error
        # for any declared size), so a Parquet resource records its size as x_bytes; both
        # sizes and both hashes are verified by verify_bytes_and_hashes().
        "bytes" if csv else "x_bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
        "schema": _csv_schema(table) if csv else _parquet_schema(table),
    }


def _parquet_schema(table: TableDef) -> dict[str, Any]:
    """The Parquet resource's schema. frictionless 5.21 reads Parquet through pandas, which
    turns a null integer into the float NaN; declaring "nan" a missing value lets it read
    those nulls as nulls (no published string is "nan")."""
    return {**frictionless_schema(table), "missingValues": ["", "nan"]}


def _csv_schema(table: TableDef) -> dict[str, Any]:
    """The CSV copy's schema: the same fields, with foreign keys pointing at CSV copies."""
    schema = frictionless_schema(table)
    for fk in schema.get("foreignKeys", []):
        fk["reference"]["resource"] = f"{fk['reference']['resource']}_csv"
    return schema


def package_meta() -> dict[str, Any]:
    return strip_lines(load_yaml(SCHEMAS_DIR / "package.yaml"))


def package_descriptor(
    resources: list[dict[str, Any]], snapshots: list[SourceSnapshot], version: str
) -> dict[str, Any]:
    meta = package_meta()
    when = created(snapshots[0].folder.parent) if snapshots else None
    return {
        "$schema": "https://datapackage.org/profiles/1.0/datapackage.json",
        "name": meta["name"],
        "title": meta["title"],
        "description": meta["description"],
        "version": version,
        "keywords": meta["keywords"],
        "licenses": meta["licenses"],
        "sources": [
            {
                "title": s.meta["title"],
                "path": s.meta["url"],
                **({"archived_url": s.meta["archived_url"]} if s.meta.get("archived_url") else {}),
                "sha256": s.sha256,
            }
            for s in snapshots
        ],
        "contributors": meta["contributors"],
        **({"created": when} if when else {}),
        "build": build_record(snapshots),
        "resources": resources,
    }


def write_tables(
    tables: dict[str, tuple[TableDef, pd.DataFrame]], folder: Path, cache_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Write every table as Parquet and CSV into `folder`; return their resource descriptors
    (the Parquet ones first)."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = [], []
    for name, (table, df) in tables.items():
        parquet_path, csv_path = folder / f"{name}.parquet", folder / f"{name}.csv"
        write_parquet_once(parquet_table(df, table), parquet_path, cache_dir)
        checkpoint("writing")
        write_csv_once(df, parquet_path, csv_path, cache_dir)
        parquet.append(resource_descriptor(table, parquet_path, folder, "parquet"))
        csv.append(resource_descriptor(table, csv_path, folder, "csv"))
    return parquet + csv


def write_csv_once(df: pd.DataFrame, parquet_path: Path, csv_path: Path, cache_dir: Path | None):
    """The CSV copy of a table, made once per content: the same Parquet bytes come from the
    same table, and with the same code and pandas give the same CSV, so with a `cache_dir`
    the CSV is kept in `cache_dir/csv/<key>.csv` and hard-linked (not rendered again) while
    the table does not change."""
    if cache_dir is None:
        write_csv(df, csv_path)
        return
    digest = hashlib.sha256(f"{_WRITER_CODE} pandas {pd.__version__}\n".encode())
    digest.update(sha256_file(parquet_path).encode())
    cached = cache_dir / "csv" / f"{digest.hexdigest()}.csv"
    if not cached.is_file():
        write_csv(df, csv_path)
        write_atomically(cached, csv_path.read_bytes())
    _link_or_copy(cached, csv_path)


def write_package(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    folder: Path,
    version: str,
    cache_dir: Path | None = None,
    resources: list[dict[str, Any]] | None = None,
    row_keys: dict[str, str] | None = None,
) -> Path:
    """Write every table as Parquet and CSV (unless `resources` says they are written
    already), the provenance pages and datapackage.json into `folder`."""
    if resources is None:
        resources = write_tables(tables, folder, cache_dir)
    descriptor = package_descriptor(resources, snapshots, version)
    write_page(tables, snapshots, folder, version, cache_dir, row_keys)
    path = folder / PACKAGE_FILE
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_page(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    folder: Path,
    version: str,
    cache_dir: Path | None = None,
    row_keys: dict[str, str] | None = None,
) -> None:
    """The provenance pages: outputs/provenance.html, the index of the sources (it also sends
    a shared `provenance.html#<id>` on to the right page), and outputs/provenance/
    <source_id>.html, one page per source with its text and every figure and event
    highlighted.

    A source's page depends only on that source's rows, its text and pipeline/site/pages.py, so
    with a `cache_dir` it is made once per content: its key is the sha256 of those three, and
    a page already in `cache_dir/pages/<key>.html` is hard-linked into `folder` (copied where
    it cannot be linked) instead of being made again. The rows are grouped by source once,
    never looked up source by source. `row_keys` (source id -> the content key its rows were
    made under, pipeline/core/records.py) spares reading those rows for the key: the same row
    key gives the same rows."""
    frames = {name: tables[name][1] for name in _PAGE_TABLES}
    try:
        index = index_page(
            frames["sources"], frames["figures"], frames["events"], frames["provenance"],
            frames["corrections"], version,
        )  # fmt: skip
    except ValueError as exc:
        raise BuildError(folder / PAGE_FILE, str(exc).rstrip("."), "fix the tables") from exc
    texts = {s.source_id: s for s in snapshots}  # each text is read only for a page to make
    groups = {name: _RowsBySource(df) for name, df in frames.items()}
    store = None if cache_dir is None else cache_dir / "pages"
    pages = folder / SOURCE_PAGES_DIR
    pages.mkdir(parents=True, exist_ok=True)
    if store is not None:
        store.mkdir(parents=True, exist_ok=True)
    source_ids = sorted(frames["sources"]["source_id"])
    cached: dict[str, Path] = {}
    for sid in source_ids:
        path = folder / source_page_path(sid)
        try:
            if sid not in texts:
                raise ValueError(f"no text given for source {sid}")
            if store is None:
                path.write_text(_render_source_page(groups, sid, texts[sid].text), **_UTF8)
                continue
            key = (
                _page_key(groups, sid, texts[sid].text_id)
                if row_keys is None or sid not in row_keys
                else _page_key_from_rows(groups["sources"], sid, texts[sid].text_id, row_keys[sid])
            )
        except ValueError as exc:
            raise BuildError(path, str(exc).rstrip("."), "fix the tables") from exc
        cached[sid] = store / f"{key}.html"
    missing = [sid for sid, page in cached.items() if not page.is_file()]
    _make_pages(groups, texts, folder, missing, cached)
    for sid, page in cached.items():
        _link_or_copy(page, folder / source_page_path(sid))
    current = {f"{sid}.html" for sid in source_ids}
    for stale in sorted(pages.glob("*.html")):  # a source that left since the last write here
        if stale.name not in current:
            stale.unlink()
    (folder / PAGE_FILE).write_text(index, **_UTF8)


_PAGE_TABLES = ("sources", "figures", "events", "provenance", "corrections")
_UTF8: dict[str, Any] = {"encoding": "utf-8", "newline": ""}


class _RowsBySource:
    """One table's rows grouped by source once (positions per source_id), so that a source's
    rows cost what they hold, not a scan of the whole table."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.header = repr([(str(c), str(t)) for c, t in df.dtypes.items()])
        self._lines: list[str] | None = None
        self._positions: dict | None = None
        self._columns: list[tuple[str, list[Any]]] | None = None

    @property
    def positions(self) -> dict:
        if self._positions is None:  # grouped when first needed (a page to make or to key)
            df = self.df
            self._positions = df.groupby("source_id", sort=False).indices if len(df) else {}
        return self._positions

    def prepare(self) -> None:
        """Group the rows and turn the columns into Python objects, once for the table."""
        if self._columns is None:
            self._columns = plain_columns(self.df)
        _ = self.positions

    def rows(self, source_id: str) -> list[dict[str, Any]]:
        """The source's rows as dicts of JSON-ready values, in table order; only the
        source's own rows are made into dicts (from the whole table's Python objects when
        `prepare` made them, else from the source's slice alone)."""
        positions = self.positions.get(source_id, ())
        if self._columns is None:
            return plain_rows(plain_columns(self.df.take(positions)))
        return plain_rows(self._columns, positions)

    def lines(self, source_id: str) -> list[str]:
        """The source's rows as text, one line each (repr of the row's values: types and
        missing values kept apart, no newline inside), sorted so row order does not count."""
        if self._lines is None:  # the whole table at once: far faster than per source
            columns = [self.df[c].tolist() for c in self.df.columns]
            self._lines = [repr(row) for row in zip(*columns, strict=True)]
        return sorted(self._lines[i] for i in self.positions.get(source_id, ()))


def _page_key(groups: dict[str, _RowsBySource], source_id: str, text_id: str) -> str:
    """The content key of a source's page: sha256 of the page code, the text (named by the
    sha256 of its bytes and their encoding, `SourceSnapshot.text_id`, so it is not read) and
    the source's rows of every table the page shows."""
    digest = hashlib.sha256()
    digest.update(f"page.py {code_version()}\n".encode())
    digest.update(f"text {text_id}\n".encode())
    for name, group in groups.items():
        rows = group.lines(source_id)
        digest.update(f"table {name} {group.header} {len(rows)}\n".encode())
        digest.update("".join(f"{row}\n" for row in rows).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _page_key_from_rows(sources: _RowsBySource, source_id: str, text_id: str, row_key: str) -> str:
    """The content key of a source's page from the key its rows were made under (figures,
    events, provenance, corrections), its row of the sources table and its text's id."""
    digest = hashlib.sha256()
    digest.update(f"page.py {code_version()}\nrows {row_key}\n".encode())
    digest.update(f"text {text_id}\nsources {sources.header}\n".encode())
    digest.update("".join(f"{row}\n" for row in sources.lines(source_id)).encode())
    return digest.hexdigest()


PAGE_MIN_ITEMS = 16  # fewer pages to make are made in this process
_PAGE_WORK: tuple[dict[str, _RowsBySource], dict[str, SourceSnapshot], Path] | None = None


def _make_pages(
    groups: dict[str, _RowsBySource],
    texts: dict[str, SourceSnapshot],
    folder: Path,
    source_ids: list[str],
    cached: dict[str, Path],
) -> None:
    """Make the pages of `source_ids` into their cache files, in worker processes when there
    are many (pipeline/cache/parallel.py). The workers are forked after the tables were turned
    into Python rows once, and find them in `_PAGE_WORK`: inherited, never pickled. A few
    pages (a rebuild after one correction) take only their own sources' rows."""
    global _PAGE_WORK
    if not source_ids:
        return
    if len(source_ids) >= PAGE_MIN_ITEMS:  # many pages: convert each table once, not per page
        for group in groups.values():
            group.prepare()
    _PAGE_WORK = (groups, texts, folder)
    try:
        paths = [str(cached[sid]) for sid in source_ids]
        ordered_map(_make_page, source_ids, paths, min_items=PAGE_MIN_ITEMS)
    finally:
        _PAGE_WORK = None


def _make_page(source_id: str, cached: str) -> None:
    assert _PAGE_WORK is not None
    groups, texts, folder = _PAGE_WORK
    try:
        html = _render_source_page(groups, source_id, texts[source_id].text)
    except ValueError as exc:
        path = folder / source_page_path(source_id)
        raise BuildError(path, str(exc).rstrip("."), "fix the tables") from exc
    write_atomically(Path(cached), html.encode())


def _render_source_page(groups: dict[str, _RowsBySource], source_id: str, text: str) -> str:
    rows = {name: group.rows(source_id) for name, group in groups.items()}
    return source_page_from_rows(
        rows["sources"], rows["figures"], rows["events"], rows["provenance"], text,
        rows["corrections"],
    )  # fmt: skip


def _link_or_copy(cached: Path, path: Path) -> None:
    """Hard-link the cached page to `path` (no bytes copied), or copy it where a link cannot
    be made (another file system, no hard links)."""
    path.unlink(missing_ok=True)
    try:
        os.link(cached, path)
    except OSError:
        shutil.copyfile(cached, path)


# --- validation ----------------------------------------------------------------------


def verify_bytes_and_hashes(folder: Path) -> list[str]:
    """What frictionless 5.21 does not check for Parquet: each resource's bytes and sha256."""
    descriptor = json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))
    problems = []
    for resource in descriptor["resources"]:
        path = folder / resource["path"]
        if not path.exists():
            problems.append(f"{resource['path']} is missing")
            continue
        declared = resource.get("bytes", resource.get("x_bytes"))
        if path.stat().st_size != declared:
            problems.append(
                f"{resource['path']} has {path.stat().st_size} bytes, the package says {declared}"
            )
        digest = f"sha256:{sha256_file(path)}"
        if digest != resource["hash"]:
            problems.append(
                f"{resource['path']} has hash {digest}, the package says {resource['hash']}"
            )
    return problems


def frictionless_errors(folder: Path, formats: tuple[str, ...] | None = None) -> list[str]:
    """Frictionless validation of the package, rows included, as readable lines; with
    `formats`, of the resources in those formats only (the descriptor as a whole is still
    validated)."""
    from frictionless import Package, system

    descriptor = json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))
    if formats is not None:
        descriptor["resources"] = [r for r in descriptor["resources"] if r["format"] in formats]
    with system.use_context(trusted=True):
        report = Package(descriptor, basepath=str(folder)).validate()
    return [f"{kind}: {message}" for kind, message in report.flatten(["type", "message"])]


def descriptor_errors(folder: Path) -> list[str]:
    """Frictionless's validation of datapackage.json as metadata, every resource and its
    schema, keys and dialect included, without reading rows (those are checked on the CSV
    copies, pipeline/publish/validation.py)."""
    from frictionless import FrictionlessException, Package, system

    descriptor = json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))
    try:
        with system.use_context(trusted=True):
            errors = list(Package.metadata_validate(descriptor))
    except FrictionlessException as exc:
        errors = exc.reasons or [exc.error]
    return [f"{e.type}: {e.message}" for e in errors]


def parquet_matches_frames(
    folder: Path, tables: dict[str, tuple[TableDef, pd.DataFrame]], known: frozenset = frozenset()
) -> list[str]:
    """Each Parquet file holds exactly the rows of the table it was written from (the
    `known` tables excepted, see validate_staging)."""
    problems = []
    for name, (table, df) in tables.items():
        if name in known:
            continue
        expected = to_table(df, table)
        if not pq.read_table(folder / f"{name}.parquet").equals(expected):
            problems.append(f"{name}.parquet does not hold the rows of the {name} table")
    return problems


def published_problems(folder: Path, cache_dir: Path | None = None) -> list[str]:
    """The check on what was published: every resource has the bytes and sha256 that
    datapackage.json declares, and the descriptor is valid. A descriptor byte for byte
    equal to one Frictionless found valid (in staging, or in an earlier check) is not
    validated again; any other is."""
    problems = verify_bytes_and_hashes(folder)
    if problems:
        return problems
    ledger, digest = PackageLedger(cache_dir), sha256_file(folder / PACKAGE_FILE)
    if ledger.passed(digest):
        return []
    problems = descriptor_errors(folder)
    if not problems:
        ledger.add(digest)
    return problems


def validate_package(folder: Path) -> list[str]:
    """The whole package as `frictionless validate` sees it, plus bytes and hashes."""
    return verify_bytes_and_hashes(folder) + frictionless_errors(folder)


def validate_staging(
    folder: Path,
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    cache_dir: Path | None = None,
    known: frozenset = frozenset(),
) -> list[str]:
    """Validate once, on the right format, in the right place (pipeline/publish/validation.py):
    Frictionless's row checks on the CSV copies, each row once per schema; keys on the
    whole tables; each Parquet file shown to hold exactly the same rows (the same
    DataFrame, already validated by pandera); bytes and sha256 of every resource; and the
    descriptor itself. `frictionless validate outputs/datapackage.json`, which reads both
    formats, passes on the result (the test suite runs it).

    The `known` tables are those whose Parquet file is byte for byte the one published by
    this very code and these libraries (`_known_tables`): the same bytes hold the same
    rows, which passed these same key and Parquet checks when they were published, so
    those two checks are not run on them again (a foreign key into a table that changed
    still is). Their rows still pass through the row ledger and every file's bytes and
    sha256 are still checked."""
    descriptor = json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))
    return (
        verify_bytes_and_hashes(folder)
        + descriptor_errors(folder)
        + row_problems(folder, descriptor, RowLedger(cache_dir))
        + key_problems(tables, known)
        + parquet_matches_frames(folder, tables, known)
    )


# --- atomic swap ---------------------------------------------------------------------

KILL_POINTS = ("writing", "staged", "validated", "exchanged")


def checkpoint(point: str) -> None:
    """Fault injection for the tests: die here, as a killed build would."""
    if os.environ.get("USMX_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories; False where the system cannot."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def _siblings(outputs: Path, kind: str) -> list[Path]:
    return sorted(outputs.parent.glob(f"{outputs.name}.{kind}-*"))


def recover(outputs: Path = OUTPUTS_DIR) -> None:
    """Clean up after an interrupted publish: roll back a half-done swap, drop leftovers."""
    previous = _siblings(outputs, "previous")
    if not outputs.exists() and previous:
        os.replace(previous[-1], outputs)
        previous = previous[:-1]
    for leftover in previous + _siblings(outputs, "staging"):
        shutil.rmtree(leftover, ignore_errors=True)


def _reasons(tables: dict[str, tuple[TableDef, pd.DataFrame]]) -> dict[str, str]:
    """figure_id -> the reasons of the corrections that touch it."""
    corrections = tables["corrections"][1].set_index("correction_id")["reason"].to_dict()
    figures = tables["figures"][1]
    touched = figures.loc[figures["correction_ids"].fillna("").astype(str) != ""]
    return {
        fid: "; ".join(f"correction {c}: {corrections[c]}" for c in ids.split(";"))
        for fid, ids in zip(touched["figure_id"], touched["correction_ids"], strict=True)
    }


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def same_tree(a: Path, b: Path) -> bool:
    """The two folders hold the same files with the same bytes (subfolders included). A
    page hard-linked from the cache into both is the same file, and is not read."""
    names = _files(a)
    if names != _files(b):
        return False
    for name in names:
        x, y = a / name, b / name
        if x.stat().st_size != y.stat().st_size:
            return False
        if not os.path.samefile(x, y) and x.read_bytes() != y.read_bytes():
            return False
    return True


def publish(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    outputs: Path = OUTPUTS_DIR,
    cache_dir: Path | None = None,
    row_keys: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write the tables in staging, compare them with the published outputs, write the rest
    of the package with the version that follows, validate it, then swap it in. Returns
    the changelog entry's version and level (level None when nothing changed). One build
    at a time publishes into a folder (`publish_lock`)."""
    with publish_lock(outputs):
        return _publish(tables, snapshots, outputs, cache_dir, row_keys)


def publish_lock(outputs: Path) -> AbstractContextManager[None]:
    """The lock on `.<outputs>.lock` beside outputs/, held while a build compares, stages and
    swaps: a `build` started while `watch` publishes (or two builds) wait for each other
    instead of removing each other's staging folder."""
    return file_lock(outputs.parent / f".{outputs.name}.lock")


def _publish(
    tables: dict[str, tuple[TableDef, pd.DataFrame]],
    snapshots: list[SourceSnapshot],
    outputs: Path,
    cache_dir: Path | None,
    row_keys: dict[str, str] | None,
) -> dict[str, Any]:
    recover(outputs)
    staging = outputs.parent / f"{outputs.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    resources = write_tables(tables, staging, cache_dir)
    # the same Parquet bytes hold the same table: only the others are compared row by row
    unchanged = {name for name in tables if _same_file(staging, outputs, f"{name}.parquet")}
    published = outputs / PACKAGE_FILE
    published_build = None
    if published.exists():
        descriptor = json.loads(published.read_text(encoding="utf-8"))
        previous, published_build = descriptor["version"], descriptor.get("build")
        changes = changelog.compare(outputs, tables, unchanged)
        version = changelog.bump(previous, changes.level())
        entries = changelog.read_entries(outputs)
        if changes.level():
            entries = [changelog.entry(version, previous, changes, _reasons(tables))] + entries
    else:
        previous, version = None, package_meta()["version"]
        changes = changelog.compare(outputs, tables)
        entries = [changelog.entry(version, None, changes, {})]
    write_package(tables, snapshots, staging, version, cache_dir, resources, row_keys)
    changelog.write(staging, entries, outputs)
    checkpoint("staged")
    # a table whose Parquet bytes changed already tells the trees apart
    if outputs.exists() and unchanged == set(tables) and same_tree(staging, outputs):
        shutil.rmtree(staging)  # nothing changed: every published byte stays as it is
        return {"version": version, "level": None}
    known = _known_tables(staging, published_build, unchanged)
    problems = validate_staging(staging, tables, cache_dir, known)
    if problems:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(
            staging / PACKAGE_FILE,
            f"the new data package does not validate ({problems[0]}"
            + (f", and {len(problems) - 1} more problems" if len(problems) > 1 else "")
            + ")",
            "fix the table or schema named there; outputs/ was left as it was",
        )
    PackageLedger(cache_dir).add(sha256_file(staging / PACKAGE_FILE))
    checkpoint("validated")
    _swap(staging, outputs)
    return {"version": version, "level": changes.level() if previous else "initial"}


def _same_file(a: Path, b: Path, name: str) -> bool:
    x, y = a / name, b / name
    try:
        if os.path.samefile(x, y):  # both linked from the cache: one file
            return True
        return x.stat().st_size == y.stat().st_size and x.read_bytes() == y.read_bytes()
    except OSError:
        return False


def _known_tables(staging: Path, published_build: dict | None, unchanged: set[str]) -> frozenset:
    """The `unchanged` tables (same Parquet bytes as published), when the published package
    (its build record `published_build`) was built by the same code and libraries as the
    staged one, so its tables passed the same checks; none otherwise."""
    try:
        new = json.loads((staging / PACKAGE_FILE).read_text(encoding="utf-8"))["build"]
        same = (published_build["code"]["code_sha256"], published_build["libraries"]) == (
            new["code"]["code_sha256"], new["libraries"])  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(unchanged) if same else frozenset()


def _swap(staging: Path, outputs: Path) -> None:
    if outputs.exists() and _exchange(staging, outputs):
        checkpoint("exchanged")  # outputs/ is new; the old files are in staging, to remove
        shutil.rmtree(staging, ignore_errors=True)
        return
    previous = outputs.parent / f"{outputs.name}.previous-{os.getpid()}"
    if outputs.exists():
        os.replace(outputs, previous)
    os.replace(staging, outputs)
    shutil.rmtree(previous, ignore_errors=True)
