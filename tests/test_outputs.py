"""The published package: valid, complete, byte-identical between builds, never stale."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import OUTPUTS, RAW, tree_digest
from pipeline.cli.main import build
from pipeline.core.errors import REPO_ROOT
from pipeline.core.fields import pyarrow_schema, table_defs
from pipeline.core.sources import sha256_file
from pipeline.publish.validation import frictionless_errors, verify_bytes_and_hashes


def test_frictionless_validate_passes_on_the_committed_package():
    proc = subprocess.run(
        [Path(sys.executable).parent / "frictionless", "validate", "outputs/datapackage.json"],
        cwd=OUTPUTS.parent,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_frictionless_checks_the_parquet_rows(tmp_path, built):
    """Frictionless really reads the Parquet rows: a bad value is reported."""
    broken = tmp_path / "outputs"
    shutil.copytree(built, broken)
    table = pq.read_table(broken / "figures.parquet")
    df = table.to_pandas()
    df.loc[0, "qualifier"] = "roughly"
    import pyarrow

    pq.write_table(pyarrow.Table.from_pandas(df, schema=table.schema), broken / "figures.parquet")
    errors = frictionless_errors(broken)
    assert any("roughly" in e for e in errors), errors


def test_parquet_bytes_and_hashes_match_the_package(built):
    assert verify_bytes_and_hashes(built) == []
    descriptor = json.loads((built / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        path = built / resource["path"]
        # CSV resources carry the standard `bytes`; Parquet ones `x_bytes` (see publish.py)
        assert resource.get("bytes", resource.get("x_bytes")) == path.stat().st_size
        assert resource["hash"] == f"sha256:{sha256_file(path)}"


def test_a_tampered_parquet_file_is_caught_by_the_hash_check(tmp_path, built):
    broken = tmp_path / "outputs"
    shutil.copytree(built, broken)
    path = broken / "figures.parquet"
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    problems = verify_bytes_and_hashes(broken)
    assert problems and "figures.parquet has hash" in problems[0]


def test_the_published_check_finds_an_invalid_descriptor_and_a_changed_file(tmp_path, built):
    from pipeline.publish.validation import published_problems

    folder = tmp_path / "outputs"
    shutil.copytree(built, folder)
    assert published_problems(folder) == []
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text())
    descriptor["resources"][0]["schema"]["fields"][0]["type"] = "no-such-type"
    path.write_text(json.dumps(descriptor))
    assert any("no-such-type" in p for p in published_problems(folder))
    shutil.copyfile(built / "datapackage.json", path)
    parquet = folder / "figures.parquet"
    parquet.write_bytes(parquet.read_bytes()[:-1] + b"\0")
    assert "figures.parquet has hash" in published_problems(folder)[0]


def test_two_builds_from_the_same_inputs_are_byte_identical(tmp_path, built):
    """Two build processes, each with its own cache and Dagster instance and its own string
    hashing (PYTHONHASHSEED), and the build of this process: the same bytes, file for file."""
    digests = []
    for seed in ("1", "2"):
        home, outputs = tmp_path / f"home-{seed}", tmp_path / f"outputs-{seed}"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONHASHSEED": seed,
               "USMX_CACHE_DIR": str(tmp_path / f"cache-{seed}")}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "build", "--raw", str(RAW), "--outputs", str(outputs)],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert list((tmp_path / f"cache-{seed}").iterdir()), "the build did not use its own cache"
        digests.append(tree_digest(outputs))
    assert digests[0] == digests[1] == tree_digest(built)


CODE_PATHS = ("pipeline", "schemas", "raw", "constraints.txt", "pyproject.toml")
TABLE_SUFFIXES = (".parquet", ".csv")


def _flat(value, prefix: str = "") -> dict[str, object]:
    """A JSON value as {dotted path: leaf}; lists of {"path": ...} by their path."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list) and all(isinstance(i, dict) and "path" in i for i in value):
        return {f"{prefix}{i['path']}": i.get("sha256", i) for i in value}
    return {prefix.rstrip("."): value}


def staleness(committed: Path, rebuilt: Path) -> dict[str, list[str]]:
    """What differs between the committed outputs/ and a rebuild of them: the tables (Parquet
    or CSV files), the build record of datapackage.json (each field: old → new), and the
    other files."""
    old, new = tree_digest(committed), tree_digest(rebuilt)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    record = {}
    if "datapackage.json" in changed and (committed / "datapackage.json").exists():
        before, after = (
            _flat(json.loads((f / "datapackage.json").read_text(encoding="utf-8")).get("build", {}))
            for f in (committed, rebuilt)
        )
        record = {
            k: f"{k}: {before.get(k)} → {after.get(k)}"
            for k in sorted(before.keys() | after.keys())
            if before.get(k) != after.get(k)
        }
    return {
        "tables": [k for k in changed if k.endswith(TABLE_SUFFIXES)],
        "build_record": list(record.values()),
        "other": [k for k in changed if not k.endswith(TABLE_SUFFIXES)],
    }


def uncommitted(root: Path = RAW.parent, paths: tuple[str, ...] = CODE_PATHS) -> list[str]:
    """The files of the code and inputs with changes git has not committed ([] outside git)."""
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--", *paths],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    return [line[3:] for line in proc.stdout.splitlines()] if proc.returncode == 0 else []


def stale_message(found: dict[str, list[str]], dirty: list[str]) -> str:
    """One paragraph: what is stale, why, and what to do (never: commit outputs/ built from
    uncommitted code, which would publish a build record naming code no commit holds)."""
    if found["tables"]:
        what = (
            f"the tables differ ({', '.join(found['tables'])}): raw/, schemas/ or the code now "
            "publish other rows than the committed outputs/"
        )
    else:
        what = "no table differs: only the build record and the files that show it"
    why = "; ".join(found["build_record"]) or "the build record is the same"
    if dirty:
        todo = (
            f"commit the change to {', '.join(dirty[:5])} first, then run `python3 dev.py "
            "build` and commit outputs/ on its own; never commit outputs/ built from "
            "uncommitted code"
        )
    else:
        todo = (
            "the code is committed: run `python3 dev.py build`, review `git diff --stat "
            "outputs/` and outputs/CHANGELOG.md (a table that changed with a code-only edit is a "
            "change of what is published), then commit outputs/ on its own"
        )
    files = ", ".join(found["other"][:8])
    return f"outputs/ is stale: {what}. Build record: {why}. Other files: {files}. To do: {todo}."


def test_committed_outputs_are_not_stale_against_raw(tmp_path):
    """Fails when raw/ or the pipeline changed and outputs/ was not rebuilt and committed:
    a build on top of a copy of the committed outputs must find nothing to change. It reads
    the committed outputs/ only."""
    copy = tmp_path / "outputs"
    shutil.copytree(OUTPUTS, copy)
    assert build(RAW, copy) == 0
    found = staleness(OUTPUTS, copy)
    if any(found.values()):
        pytest.fail(stale_message(found, uncommitted()), pytrace=False)


def test_the_stale_message_says_what_is_stale_and_why(tmp_path, built):
    """The tables or only the build record, old → new; and the advice follows git's state."""
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(built, rebuilt)
    path = rebuilt / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    code_sha256 = package["build"]["code"]["code_sha256"]
    package["build"]["code"]["code_sha256"] = "f" * 64
    path.write_text(json.dumps(package), encoding="utf-8")
    found = staleness(built, rebuilt)
    assert found == {
        "tables": [],
        "build_record": [f"code.code_sha256: {code_sha256} → {'f' * 64}"],
        "other": ["datapackage.json"],
    }
    dirty = stale_message(found, ["pipeline/core/figures.py"])
    assert "no table differs: only the build record" in dirty
    assert "commit the change to pipeline/core/figures.py first" in dirty
    assert "never commit outputs/ built from uncommitted code" in dirty
    clean = stale_message(found, [])
    assert "the code is committed: run `python3 dev.py build`" in clean

    csv = rebuilt / "figures.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("34.6", "43.6", 1), encoding="utf-8")
    found = staleness(built, rebuilt)
    assert found["tables"] == ["figures.csv"]
    assert "the tables differ (figures.csv)" in stale_message(found, [])


def test_uncommitted_names_a_changed_file_of_the_code(tmp_path):
    """`uncommitted` reads git's own status: a repository with one edited file names it."""
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    repo = tmp_path / "repo"
    (repo / "pipeline").mkdir(parents=True)
    (repo / "pipeline" / "a.py").write_text("x = 1\n")
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    (repo / "pipeline" / "a.py").write_text("x = 2\n")
    assert uncommitted(repo) == ["pipeline/a.py"]


TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?Z?")


def _contents(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of a published file as a reader meets it: a zip's members (and their
    stored dates), a Parquet file's metadata and cells as text, anything else as it is."""
    import zipfile

    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [(f"{path.name}:{i.filename}", archive.read(i)) for i in archive.infolist()]
            dates = ["{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*i.date_time)
                     for i in archive.infolist()]  # fmt: skip
        return members + [(f"{path.name}: member dates", "\n".join(dates).encode())]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        meta = pq.read_metadata(path)
        text = repr(table.schema.metadata) + repr(meta.created_by) + repr(table.to_pylist())
        return [(path.name, text.encode())]
    return [(path.name, path.read_bytes())]


def test_no_wall_clock_time_in_published_files(built):
    """The only timestamp published is `created`, taken from the last commit touching raw/:
    every file under outputs/ is read (subfolders, the SQLite database, the archive's members
    and the dates stored for them, the Parquet files' metadata and cells)."""
    from datetime import UTC, datetime

    created = json.loads((built / "datapackage.json").read_text()).get("created")
    epoch = subprocess.run(
        ["git", "log", "-1", "--format=%ct", "--", "raw"],
        cwd=RAW.parent, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert created == datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    allowed = {created.encode(), created.rstrip("Z").encode()}
    day = created[:10]
    allowed.add(b"1980-01-01T00:00:00")  # the archive's members: the zip format's fixed epoch
    today = datetime.now(UTC).strftime("%Y-%m-%d").encode()
    files = [p for p in sorted(built.rglob("*")) if p.is_file()]
    assert any(p.parent != built for p in files), "the provenance pages were not scanned"
    found = {}
    for path in files:
        for name, data in _contents(path):
            stamps = [
                s for s in TIMESTAMP.findall(data) if not any(s.startswith(a) for a in allowed)
            ]
            if today != day.encode() and today in data:
                stamps.append(today)
            if stamps:
                found[name] = sorted(set(stamps))[:3]
    assert found == {}


def test_source_date_epoch_sets_the_created_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "975628800")  # 2000-12-01
    assert build(RAW, tmp_path / "outputs") == 0
    package = json.loads((tmp_path / "outputs" / "datapackage.json").read_text())
    assert package["created"] == "2000-12-01T00:00:00Z"


def test_package_declares_licences_sources_contributors_and_keys(built):
    descriptor = json.loads((built / "datapackage.json").read_text())
    for key in ("name", "title", "description", "version", "licenses", "sources", "contributors"):
        assert descriptor[key], key
    assert descriptor["licenses"][0]["name"] == "CC0-1.0"
    assert "public domain" in descriptor["licenses"][0]["title"]
    assert descriptor["sources"][0]["path"].startswith("https://www.ncjrs.gov/")
    names = {r["name"] for r in descriptor["resources"]}
    assert set(table_defs()) <= names
    figures = next(r for r in descriptor["resources"] if r["name"] == "figures")
    assert figures["schema"]["primaryKey"] == ["figure_id"]
    refs = {fk["reference"]["resource"] for fk in figures["schema"]["foreignKeys"]}
    assert refs == {"sources", "measures", "provenance"}


def test_parquet_schema_is_the_generated_one(built):
    for name, table in table_defs().items():
        schema = pq.read_schema(built / f"{name}.parquet")
        expected = pyarrow_schema(table)
        assert schema.names == expected.names
        assert [f.type for f in schema] == [f.type for f in expected]


def test_csv_copy_holds_the_same_rows_as_the_parquet(built):
    """Value by value: each CSV copy read by pyarrow with its Parquet file's types (NA the only
    null, true/false the booleans) is the Parquet table, row for row, cell for cell."""
    import pyarrow.csv as pacsv

    for name in table_defs():
        parquet = pq.read_table(built / f"{name}.parquet")
        schema = parquet.schema.remove_metadata()
        options = pacsv.ConvertOptions(
            column_types=schema, null_values=["NA"], strings_can_be_null=True,
            quoted_strings_can_be_null=False, true_values=["true"], false_values=["false"],
        )  # fmt: skip
        csv = pacsv.read_csv(built / f"{name}.csv", convert_options=options)
        assert csv.column_names == schema.names, name
        csv, parquet = csv.cast(schema), parquet.cast(schema)
        assert csv.num_rows == parquet.num_rows > 0, name
        for column in schema.names:
            a, b = csv[column].to_pylist(), parquet[column].to_pylist()
            differ = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
            assert differ == [], f"{name}.{column}: (row, csv, parquet) {differ[:3]}"
