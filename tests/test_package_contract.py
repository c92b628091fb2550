"""pipeline/publish/package.py's promises, without a build: the descriptor says what the
package is (its metadata, version, sources, date and build record, then the resources);
the changelog's entry is made from the published package in outputs/ (the first, a new
version with the reasons of the corrections, or nothing when nothing changed); a folder or
disk that refuses a write is one sentence saying what to do."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID
from pipeline import progress
from pipeline.core.fields import coerce_frame, table_defs
from pipeline.core.sources import load_snapshot
from pipeline.publish import changelog
from pipeline.publish.build_record import build_record
from pipeline.publish.files import write_tables
from pipeline.publish.package import (
    _reasons,
    _unwritable,
    _version_and_entries,
    package_descriptor,
    package_meta,
)


def _tables(folder: Path):
    return {n: (t, coerce_frame(pd.read_parquet(folder / f"{n}.parquet"), t))
            for n, t in table_defs().items()}  # fmt: skip


def _descriptor(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_the_descriptor_is_the_published_one_for_the_same_resources_and_sources(built, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")  # 2000-01-01
    published = _descriptor(built)
    snapshots = [load_snapshot(RAW / SOURCE_ID)]
    made = package_descriptor(published["resources"], snapshots, published["version"])
    expected = {**published, "created": "2000-01-01T00:00:00Z", "build": build_record(snapshots)}
    assert made == expected
    assert list(made) == list(published)  # the same keys in the same order: the same bytes


def test_a_source_without_an_archived_copy_and_a_package_without_sources(built, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    snapshot = load_snapshot(RAW / SOURCE_ID)
    meta = {k: v for k, v in snapshot.meta.items() if k != "archived_url"}
    bare = dataclasses.replace(snapshot, meta=meta)
    made = package_descriptor([], [bare], "3.0.0")
    assert made["sources"] == [
        {"title": meta["title"], "path": meta["url"], "sha256": snapshot.sha256}
    ]
    assert (made["version"], made["resources"]) == ("3.0.0", [])
    assert [c["role"] for c in made["contributors"]] == [
        c["role"] for c in package_meta()["contributors"]
    ]
    empty = package_descriptor([], [], "3.0.0")
    assert "created" not in empty and empty["sources"] == []


def test_a_figure_touched_by_corrections_carries_each_reason_in_order():
    tables = {
        "corrections": (None, pd.DataFrame(
            {"correction_id": ["c1", "c2"], "reason": ["a misprint", "a sum that is off"]})),
        "figures": (None, pd.DataFrame(
            {"figure_id": ["f1", "f2", "f3"], "correction_ids": ["c2;c1", None, ""]})),
    }  # fmt: skip
    assert _reasons(tables) == {"f1": "correction c2: a sum that is off; correction c1: a misprint"}


def _staged(tables, folder: Path) -> Path:
    write_tables(tables, folder)
    return folder


def test_the_first_publication_is_the_package_version_and_one_initial_entry(built, tmp_path):
    tables = _tables(built)
    staging = _staged(tables, tmp_path / "staging")
    previous, version, entries, changes = _version_and_entries(tmp_path / "none", staging, tables)
    assert (previous, version) == (None, package_meta()["version"])
    assert [e["level"] for e in entries] == ["initial"]
    assert entries[0]["version"] == version and entries[0]["previous_version"] is None
    assert entries[0]["added"]["figures"] == sorted(tables["figures"][1]["figure_id"])
    assert changes.added["figures"] == entries[0]["added"]["figures"]


def test_the_same_tables_keep_the_version_and_the_published_entries(built, tmp_path):
    tables = _tables(built)
    staging = _staged(tables, tmp_path / "staging")
    previous, version, entries, changes = _version_and_entries(built, staging, tables)
    published = _descriptor(built)["version"]
    assert (previous, version, changes.level()) == (published, published, None)
    assert entries == changelog.read_entries(built)


def test_a_changed_value_bumps_the_version_and_adds_an_entry_with_its_reason(built, tmp_path):
    outputs = tmp_path / "outputs"
    shutil.copytree(built, outputs)
    tables = _tables(built)
    figures = tables["figures"][1].copy()
    touched = figures["correction_ids"].fillna("").astype(str) != ""
    row = figures.index[touched][0]
    fid, ids = figures.at[row, "figure_id"], figures.at[row, "correction_ids"]
    figures.loc[row, "value"] = figures.at[row, "value"] + 1
    tables["figures"] = (tables["figures"][0], figures)
    staging = _staged(tables, tmp_path / "staging")
    previous, version, entries, changes = _version_and_entries(outputs, staging, tables)
    published = _descriptor(built)["version"]
    assert previous == published
    assert version == changelog.bump(published, "patch") == entries[0]["version"]
    assert entries[1:] == changelog.read_entries(built)
    assert entries[0]["previous_version"] == published and entries[0]["level"] == "patch"
    [change] = entries[0]["changed"]
    assert (change["table"], change["id"], change["column"]) == ("figures", fid, "value")
    reasons = tables["corrections"][1].set_index("correction_id")["reason"]
    assert change["reason"] == "; ".join(f"correction {c}: {reasons[c]}" for c in ids.split(";"))
    assert changes.level() == "patch"


WHERE = "/nowhere/outputs"


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (errno.ENOSPC, f"free space on the disk that holds {WHERE}"),
        (errno.EDQUOT, f"free space on the disk that holds {WHERE}"),
        (errno.EFBIG, "lift the limit on the size of a file (ulimit -f)"),
        *[
            (code, f"make {WHERE} and the folder that holds it writable, or build into "
                   "another folder with --outputs DIR")
            for code in (errno.EACCES, errno.EPERM, errno.EROFS)
        ],
        (errno.ENOENT, "something removed the build's folder beside it while it ran; run one "
                       "build at a time"),
        (errno.EIO, "fix what the system reports there"),
    ],
)  # fmt: skip
def test_a_refused_write_is_one_sentence_with_what_to_do(code, action):
    exc = OSError(code, "the system's words", "/nowhere/outputs.staging-1/figures.csv")
    error = _unwritable(exc, Path(WHERE))
    assert str(error) == (
        "/nowhere/outputs.staging-1/figures.csv: the new data package could not be written "
        f"(the system's words), so nothing was published and {WHERE} was left as it was; "
        f"{action}, then build again."
    )


def test_a_refused_write_without_a_file_name_or_words_names_the_outputs_folder():
    error = _unwritable(OSError("no words"), Path(WHERE))
    assert str(error) == (
        f"{WHERE}: the new data package could not be written (no words), so nothing was "
        f"published and {WHERE} was left as it was; fix what the system reports there, "
        "then build again."
    )


# --- publish, with the slow formats stood in for (their own tests check their bytes) -------


@pytest.fixture
def quick(monkeypatch):
    """publish() with the metadata, pages and validation replaced by stand-ins that write one
    marker file each (validation returns `problems`); the tables, changelog, SQLite database
    and descriptor are the real ones. Yields what the stand-ins saw."""
    from pipeline.publish import package

    seen: dict = {"problems": [], "validated": 0, "points": []}

    def metadata(tables, folder, descriptor, listed):
        (folder / "metadata.txt").write_text(descriptor["version"], encoding="utf-8")

    def pages(tables, snapshots, folder, version, cache_dir, row_keys, others_written, drawn):
        seen["pages"] = (version, cache_dir, row_keys)
        others_written()  # the metadata, written beside the pages, is done before the landing
        seen["drawn"] = drawn()  # so are the landing page's charts, drawn from the start
        (folder / "pages.txt").write_text(version, encoding="utf-8")

    def validate(staging, tables, cache_dir, folders):
        seen["validated"] += 1
        seen["validation"] = (cache_dir, folders)
        return list(seen["problems"])

    monkeypatch.setattr(package, "write_metadata", metadata)
    monkeypatch.setattr(package, "write_pages", pages)
    monkeypatch.setattr(package, "validate_staging", validate)
    real = package.swap.checkpoint
    monkeypatch.setattr(
        package.swap, "checkpoint",
        lambda point, staging=None: seen["points"].append(point) or real(point, staging),
    )  # fmt: skip
    return seen


def _staging_left(outputs: Path) -> list[str]:
    return sorted(p.name for p in outputs.parent.iterdir() if ".staging-" in p.name)


def test_a_first_publication_stages_validates_and_swaps_in_every_file(built, tmp_path, quick):
    from pipeline.publish.package import publish
    from pipeline.site.landing import landing_chart_specs, spec_key

    snapshots, tables, outputs = [load_snapshot(RAW / SOURCE_ID)], _tables(built), tmp_path / "o"
    log = io.StringIO()
    with progress.reporting(log):
        result = publish(tables, snapshots, outputs, tmp_path / "cache", {SOURCE_ID: "rows"})
    version = package_meta()["version"]
    assert result == {"version": version, "level": "initial"}
    steps = re.findall(r"^step (.+): [0-9.]+ s$", log.getvalue(), re.M)
    # SQLite is written beside the Parquet and CSV files, the charts drawn beside everything
    # until the landing page: each reported when it is collected, when a child made it; first,
    # when it ran at once in this process (a process with other threads, or one worker)
    assert sorted(steps) == sorted(
        ["charts", "Parquet and CSV", "changelog", "SQLite", "metadata", "pages", "validation"]
    )
    assert sorted(quick["drawn"]["svg"]) == sorted(
        spec_key(spec) for spec in landing_chart_specs(
            {n: df for n, (_, df) in tables.items()}, {SOURCE_ID: snapshots[0].text})
    ) and quick["drawn"]["script"] is None  # fmt: skip
    assert [s for s in steps if s not in ("SQLite", "charts")] == [
        "Parquet and CSV", "changelog", "metadata", "pages", "validation"
    ]  # fmt: skip
    assert quick["validated"] == 1 and quick["validation"] == (
        tmp_path / "cache",
        {SOURCE_ID: RAW / SOURCE_ID},
    )
    assert quick["pages"] == (version, tmp_path / "cache", {SOURCE_ID: "rows"})
    assert quick["points"][-2:] == ["staged", "validated"]
    descriptor = _descriptor(outputs)
    assert descriptor["version"] == version
    assert [r["path"] for r in descriptor["resources"]] == [
        r["path"] for r in _descriptor(built)["resources"]
    ]
    for name in ("metadata.txt", "pages.txt", "changelog.json", "CHANGELOG.md"):
        assert (outputs / name).is_file(), name
    assert (outputs / "datapackage.json").read_text(encoding="utf-8") == (
        json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    )
    assert _staging_left(outputs) == []


def test_the_same_tables_again_leave_every_published_byte_and_skip_validation(
    built, tmp_path, quick
):
    from conftest import tree_digest
    from pipeline.publish.package import publish

    snapshots, tables, outputs = [load_snapshot(RAW / SOURCE_ID)], _tables(built), tmp_path / "o"
    publish(tables, snapshots, outputs)
    before = tree_digest(outputs)
    result = publish(tables, snapshots, outputs)
    assert result == {"version": package_meta()["version"], "level": None}
    assert quick["validated"] == 1  # the second build found nothing to publish
    assert tree_digest(outputs) == before and _staging_left(outputs) == []


def test_a_changed_table_is_published_as_its_level(built, tmp_path, quick):
    from pipeline.publish.package import publish

    snapshots, tables, outputs = [load_snapshot(RAW / SOURCE_ID)], _tables(built), tmp_path / "o"
    shutil.copytree(built, outputs)
    published = _descriptor(built)["version"]
    figures_def, figures = tables["figures"]
    changed = {**tables, "figures": (figures_def, figures.iloc[1:])}  # a figure removed
    result = publish(changed, snapshots, outputs)
    version = changelog.bump(published, "major")
    assert result == {"version": version, "level": "major"}
    assert _descriptor(outputs)["version"] == version
    assert changelog.read_entries(outputs)[1:] == changelog.read_entries(built)
    assert changelog.read_entries(outputs)[0]["removed"] == {
        "figures": [figures["figure_id"].iloc[0]]
    }


@pytest.mark.parametrize(
    ("problems", "said"),
    [
        (["t.csv line 3: bad"], "(t.csv line 3: bad)"),
        (["t.csv line 3: bad", "u.csv line 4: worse", "v"], "(t.csv line 3: bad, and 2 more "
                                                           "problems)"),
    ],
)  # fmt: skip
def test_a_package_that_does_not_validate_stops_the_build_and_leaves_outputs(
    built, tmp_path, quick, problems, said
):
    from conftest import tree_digest
    from pipeline.core.errors import BuildError
    from pipeline.publish.package import publish

    snapshots, tables, outputs = [load_snapshot(RAW / SOURCE_ID)], _tables(built), tmp_path / "o"
    shutil.copytree(built, outputs)
    before = tree_digest(outputs)
    quick["problems"] = problems
    figures_def, figures = tables["figures"]
    with pytest.raises(BuildError) as caught:
        publish({**tables, "figures": (figures_def, figures.iloc[1:])}, snapshots, outputs)
    message = str(caught.value)
    assert message.endswith(
        f": the new data package does not validate {said}; fix the table or schema named "
        "there; outputs/ was left as it was."
    ), message
    assert caught.value.file.endswith("/datapackage.json") and ".staging-" in caught.value.file
    assert "validated" not in quick["points"][-1:]
    assert tree_digest(outputs) == before and _staging_left(outputs) == []


def test_a_folder_that_refuses_a_write_is_one_sentence_and_no_staging_is_left(
    built, tmp_path, quick, monkeypatch
):
    from pipeline.core.errors import BuildError
    from pipeline.publish import package
    from pipeline.publish.package import publish

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o.x"))

    monkeypatch.setattr(package, "write_sqlite", full)
    with pytest.raises(BuildError) as caught:
        publish(_tables(built), [load_snapshot(RAW / SOURCE_ID)], tmp_path / "o")
    assert "could not be written (No space left on device)" in str(caught.value)
    assert "free space on the disk that holds" in str(caught.value)
    assert not (tmp_path / "o").exists() and _staging_left(tmp_path / "o") == []
