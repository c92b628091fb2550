"""Publishing a build: the package staged beside outputs/, compared, validated, swapped in.

`publish` reads top to bottom: write the tables in staging; compare them with the published
ones (changelog, version); write the pages, descriptor and changelog; leave outputs/ alone
when nothing changed; validate; swap. A package that does not validate stops the build.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import progress
from pipeline.cache import parallel
from pipeline.core.errors import REPO_ROOT, BuildError, display_path
from pipeline.core.fields import SCHEMAS_DIR, TableDef
from pipeline.core.sources import SourceSnapshot
from pipeline.core.yaml_lines import load_yaml, strip_lines
from pipeline.publish import changelog, swap
from pipeline.publish.build_record import build_record, created
from pipeline.publish.files import write_tables
from pipeline.publish.metadata import listed_files, write_metadata
from pipeline.publish.pages import draw_landing, write_pages
from pipeline.publish.sqlite import write_sqlite
from pipeline.publish.validation import PACKAGE_FILE, validate_staging
from pipeline.site.landing import engine_started

OUTPUTS_DIR = REPO_ROOT / "outputs"
Tables = dict[str, tuple[TableDef, pd.DataFrame]]


def package_meta() -> dict[str, Any]:
    return strip_lines(load_yaml(SCHEMAS_DIR / "package.yaml"))


def package_descriptor(
    resources: list[dict[str, Any]], snapshots: list[SourceSnapshot], version: str
) -> dict[str, Any]:
    meta = package_meta()
    when = created(snapshots[0].folder.parent) if snapshots else None
    return {
        "$schema": "https://datapackage.org/profiles/1.0/datapackage.json",
        **{key: meta[key] for key in ("name", "title", "description")},
        "version": version,
        **{key: meta[key] for key in ("keywords", "licenses")},
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


def _reasons(tables: Tables) -> dict[str, str]:
    """figure_id -> the reasons of the corrections that touch it."""
    corrections = tables["corrections"][1].set_index("correction_id")["reason"].to_dict()
    figures = tables["figures"][1]
    touched = figures.loc[figures["correction_ids"].fillna("").astype(str) != ""]
    return {
        fid: "; ".join(f"correction {c}: {corrections[c]}" for c in ids.split(";"))
        for fid, ids in zip(touched["figure_id"], touched["correction_ids"], strict=True)
    }


def _version_and_entries(
    outputs: Path, staging: Path, tables: Tables
) -> tuple[str | None, str, list, Any]:
    """The published version, the new one, the changelog's entries and the changes. A table
    whose new Parquet file has the published bytes holds the published rows: it is not
    compared row by row."""
    published = outputs / PACKAGE_FILE
    if not published.exists():
        version = package_meta()["version"]
        changes = changelog.compare(outputs, tables)
        return None, version, [changelog.entry(version, None, changes, {})], changes
    previous = json.loads(published.read_text(encoding="utf-8"))["version"]
    same = {
        n for n in tables if swap.same_bytes(staging / f"{n}.parquet", outputs / f"{n}.parquet")
    }
    changes = changelog.compare(outputs, tables, same)
    version = changelog.bump(previous, changes.level())
    entries = changelog.read_entries(outputs)
    if changes.level():
        entries = [changelog.entry(version, previous, changes, _reasons(tables))] + entries
    return previous, version, entries, changes


def publish(
    tables: Tables,
    snapshots: list[SourceSnapshot],
    outputs: Path = OUTPUTS_DIR,
    cache_dir: Path | None = None,
    row_keys: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Stage, compare, validate and swap in the package; one build at a time publishes into
    a folder. Returns the version and the change level (None when nothing changed). Whatever
    stops it, the staging folder is gone when it returns, and a folder or disk that cannot
    be written is one sentence."""
    try:
        with swap.publish_lock(outputs):
            swap.recover(outputs)
            staging = swap.staging_folder(outputs)
            try:
                return _stage_and_swap(tables, snapshots, outputs, staging, cache_dir, row_keys)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise _unwritable(exc, outputs) from None


def _stage_and_swap(
    tables: Tables,
    snapshots: list[SourceSnapshot],
    outputs: Path,
    staging: Path,
    cache_dir: Path | None,
    row_keys: dict[str, str] | None,
) -> dict[str, Any]:
    # SQLite is written in a child process while the Parquet and CSV files are written here;
    # the folder is made first, so that neither process can find it missing
    staging.mkdir(parents=True, exist_ok=True)
    # the landing page's charts are drawn in a child from the start (vl-convert's engine takes
    # ~0.5 s to start, its bundle for the pages of many sources ~2 s); the pages wait for them.
    # Where the engine already runs here (a long-lived process), they are drawn here: a child
    # would inherit the engine without its threads
    inline = engine_started()
    with parallel.in_background(draw_landing, tables, snapshots, here=inline) as drawn:
        with parallel.in_background(_write_sqlite, tables, staging) as sqlite:
            with progress.step("Parquet and CSV"):
                resources = write_tables(tables, staging, cache_dir)
            with progress.step("changelog"):
                previous, version, entries, changes = _version_and_entries(outputs, staging, tables)
            resources.append(sqlite())
        descriptor = package_descriptor(resources, snapshots, version)
        descriptor_text = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
        (staging / PACKAGE_FILE).write_text(descriptor_text, encoding="utf-8")
        changelog.write(staging, entries, outputs)
        # the metadata files and the archive are made in a child process while the pages are
        # written (docs/performance.md); they hold the files there before the pages, and the
        # landing page, which lists every file, waits for them
        listed = listed_files(staging)
        metadata = (_write_metadata, tables, staging, descriptor, listed)
        with parallel.in_background(*metadata) as done, progress.step("pages"):
            write_pages(tables, snapshots, staging, version, cache_dir, row_keys, done, drawn)
    swap.checkpoint("staged", staging)
    if outputs.exists() and swap.same_tree(staging, outputs):
        return {"version": version, "level": None}  # every published byte stays as it is
    folders = {s.source_id: s.folder for s in snapshots}
    with progress.step("validation"):
        problems = validate_staging(staging, tables, cache_dir, folders)
    if problems:
        raise BuildError(
            staging / PACKAGE_FILE,
            f"the new data package does not validate ({problems[0]}"
            + (f", and {len(problems) - 1} more problems" if len(problems) > 1 else "")
            + ")",
            "fix the table or schema named there; outputs/ was left as it was",
        )
    swap.checkpoint("validated", staging)
    swap.swap(staging, outputs)
    return {"version": version, "level": changes.level() if previous else "initial"}


def _write_sqlite(tables: Tables, staging: Path) -> dict[str, Any]:
    with progress.step("SQLite"):
        return write_sqlite(tables, staging, package_meta())


def _write_metadata(tables: Tables, staging: Path, descriptor: dict, listed: frozenset) -> None:
    with progress.step("metadata"):
        write_metadata(tables, staging, descriptor, listed)


def _unwritable(exc: OSError, outputs: Path) -> BuildError:
    """The sentence for a folder or disk that refused a write while publishing."""
    where = display_path(outputs)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        action = f"free space on the disk that holds {where}"
    elif exc.errno == errno.EFBIG:
        action = "lift the limit on the size of a file (ulimit -f)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        action = f"make {where} and the folder that holds it writable, or build into another "
        action += "folder with --outputs DIR"
    elif exc.errno == errno.ENOENT:
        action = "something removed the build's folder beside it while it ran; run one build "
        action += "at a time"
    else:
        action = "fix what the system reports there"
    return BuildError(
        exc.filename or outputs,
        f"the new data package could not be written ({exc.strerror or exc}), so nothing was "
        f"published and {where} was left as it was",
        f"{action}, then build again",
    )
