"""Validation once, in the right place: Frictionless checks each row once per schema (a
ledger of the rows that passed), keys are checked on whole tables, and a bad row or key is
named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cache.store import Store
from pipeline.core.fields import table_defs
from pipeline.core.sources import sha256_file
from pipeline.publish.validation import (
    RowLedger,
    key_problems,
    row_digest,
    row_ledger_key,
    row_problems,
)

SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True}},
        {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["id"],
}


def _package(folder: Path, rows: list[tuple[str, str]], schema: dict = SCHEMA) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,n", *(f"{a},{b}" for a, b in rows)]
    (folder / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"resources": [{"name": "t_csv", "path": "t.csv", "format": "csv", "schema": schema}]}


def test_a_bad_row_is_named_by_file_line_and_field(tmp_path):
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "-3"), ("c", "x")])
    problems = row_problems(tmp_path / "p", descriptor, None)
    assert len(problems) == 2
    assert problems[0].startswith("t.csv line 3, field n: constraint-error")
    assert problems[1].startswith("t.csv line 4, field n: type-error")


def test_rows_that_passed_are_recorded_once_per_schema(tmp_path):
    cache = tmp_path / "cache"
    ledger = RowLedger(cache)
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "2")])
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    assert ledger.passed(row_ledger_key(SCHEMA)) == {row_digest(["a", "1"]), row_digest(["b", "2"])}
    # one row changes to a bad value: it is checked (it is not in the ledger) and fails,
    # and is not recorded
    descriptor = _package(tmp_path / "p", [("a", "1"), ("b", "-2")])
    assert [p.split(":")[0] for p in row_problems(tmp_path / "p", descriptor, cache)] == [
        "t.csv line 3, field n"
    ]
    assert row_digest(["b", "-2"]) not in ledger.passed(row_ledger_key(SCHEMA))


def test_a_row_the_ledger_lists_is_not_sent_again_but_a_new_schema_or_code_checks_it(
    tmp_path, monkeypatch
):
    """The ledger is what makes validation incremental: a row it lists under this schema is
    skipped (shown here by planting a bad row's digest), and a schema change or a code
    change - a new key - checks every row again."""
    from pipeline.cache import keys

    cache = tmp_path / "cache"
    ledger = RowLedger(cache)
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    ledger.add(row_ledger_key(SCHEMA), [row_digest(["a", "-1"])])
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    monkeypatch.setattr(keys, "code_version", lambda: "other code")
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1
    monkeypatch.undo()
    stricter = json.loads(json.dumps(SCHEMA))
    stricter["fields"][1]["constraints"]["maximum"] = 100
    assert row_ledger_key(stricter) != row_ledger_key(SCHEMA)
    descriptor = _package(tmp_path / "p", [("a", "-1")], stricter)
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1


def test_keys_are_schema_properties_not_row_properties():
    assert row_ledger_key(SCHEMA) == row_ledger_key({**SCHEMA, "primaryKey": ["n"]})


@pytest.fixture(scope="module")
def published(built) -> dict[str, tuple]:
    defs = table_defs()
    return {n: (defs[n], pd.read_parquet(built / f"{n}.parquet")) for n in defs}


def test_published_tables_have_no_key_problems(published):
    assert key_problems(published) == []


def test_a_repeated_primary_key_is_found(published):
    tables = dict(published)
    table, figures = tables["figures"]
    tables["figures"] = (table, pd.concat([figures, figures.iloc[[0]]], ignore_index=True))
    problems = key_problems(tables)
    assert problems == [
        f"figures: primary key ['figure_id'] value ['{figures.iloc[0, 0]}'] is not unique"
    ]


def test_a_dangling_foreign_key_is_found(published):
    tables = dict(published)
    table, figures = tables["figures"]
    figures = figures.copy()
    figures.loc[0, "measure"] = "no_such_measure"
    tables["figures"] = (table, figures)
    assert key_problems(tables) == [
        "figures: ['measure'] value ['no_such_measure'] is not in measures ['measure']"
    ]


def test_a_file_that_passed_whole_is_not_read_again(tmp_path):
    """The file-level entry: the sha256 the descriptor declares (verified against the file
    by verify_bytes_and_hashes) is enough to skip a file that passed under this schema."""
    import hashlib

    from pipeline.cache.keys import cache_key

    cache = tmp_path / "cache"
    descriptor = _package(tmp_path / "p", [("a", "-1")])
    digest = hashlib.sha256((tmp_path / "p" / "t.csv").read_bytes()).hexdigest()
    descriptor["resources"][0]["hash"] = f"sha256:{digest}"
    assert len(row_problems(tmp_path / "p", descriptor, cache)) == 1  # not recorded
    whole = cache_key("validated-file", row_ledger_key(SCHEMA), f"sha256:{digest}")
    RowLedger(cache).store.put_bytes(whole, b"passed\n")  # planted: the file is skipped
    (tmp_path / "p" / "t.csv").write_text("id,n\nz,-5\n")  # a bad row: not read at all
    assert row_problems(tmp_path / "p", descriptor, cache) == []
    good = _package(tmp_path / "q", [("a", "1")])
    good_digest = hashlib.sha256((tmp_path / "q" / "t.csv").read_bytes()).hexdigest()
    good["resources"][0]["hash"] = f"sha256:{good_digest}"
    assert row_problems(tmp_path / "q", good, cache) == []
    good_key = cache_key("validated-file", row_ledger_key(SCHEMA), f"sha256:{good_digest}")
    assert RowLedger(cache).store.get_bytes(good_key) is not None


@pytest.fixture
def package(built, tmp_path) -> Path:
    """A writable copy of a real built package."""
    import shutil

    copy = tmp_path / "outputs"
    shutil.copytree(built, copy)
    return copy


def _resources(folder: Path) -> list[dict]:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["resources"]


def test_a_whole_package_passes_every_check(package, published):
    from conftest import RAW, SOURCE_ID
    from pipeline.publish.validation import (
        descriptor_errors,
        published_problems,
        validate_package,
        validate_staging,
        verify_bytes_and_hashes,
    )

    assert verify_bytes_and_hashes(package) == []
    assert descriptor_errors(package) == []
    assert published_problems(package) == []
    assert validate_package(package) == []
    folders = {SOURCE_ID: RAW / SOURCE_ID}
    assert validate_staging(package, published, package.parent / "cache", folders) == []


def test_each_resource_is_checked_for_its_bytes_and_sha256_and_a_missing_one_named(package):
    """A missing file, a file with a byte added (CSV: `bytes`), a Parquet file with a byte
    added (`x_bytes`, which Frictionless does not check): each named, every resource read."""
    import hashlib

    from pipeline.publish.validation import published_problems, verify_bytes_and_hashes

    by_path = {r["path"]: r for r in _resources(package)}
    (package / "sources.parquet").unlink()  # the first resource
    grown = {}
    for name in ("figures.csv", "events.parquet"):
        with open(package / name, "ab") as handle:
            handle.write(b"\n")
        grown[name] = "sha256:" + hashlib.sha256((package / name).read_bytes()).hexdigest()
    figures, events = by_path["figures.csv"], by_path["events.parquet"]
    expected = [
        "sources.parquet is missing",
        f"events.parquet has {events['x_bytes'] + 1} bytes, the package says {events['x_bytes']}",
        f"events.parquet has hash {grown['events.parquet']}, the package says {events['hash']}",
        f"figures.csv has {figures['bytes'] + 1} bytes, the package says {figures['bytes']}",
        f"figures.csv has hash {grown['figures.csv']}, the package says {figures['hash']}",
    ]
    found = verify_bytes_and_hashes(package)
    assert sorted(found) == sorted(expected)
    assert published_problems(package) == found  # the descriptor's own check is not reached


def test_a_descriptor_that_is_not_valid_metadata_is_refused(package):
    from pipeline.publish.validation import descriptor_errors, published_problems

    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"][0]["name"] = "Not a valid name!"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    errors = descriptor_errors(package)
    assert errors and all(": " in e for e in errors), errors
    assert any("Not a valid name!" in e for e in errors), errors
    assert published_problems(package) == errors


def test_frictionless_judges_the_rows_of_the_formats_asked(package):
    from pipeline.publish.validation import frictionless_errors, validate_package

    path = package / "figures.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    cells[header.index("figure_id")] = ""  # a required field emptied
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    csv_errors = frictionless_errors(package, ("csv",))
    assert any(e.startswith("constraint-error: ") for e in csv_errors), csv_errors
    assert frictionless_errors(package, ("parquet",)) == []
    assert set(csv_errors) <= set(frictionless_errors(package))
    every = validate_package(package)
    assert any(e.startswith("figures.csv has hash") for e in every)
    assert set(csv_errors) <= set(every)


def test_each_check_of_a_staged_package_reports_into_one_list(package, published):
    """validate_staging runs every check: a quote that is not the annotated one, a byte
    added, a repeated key, a table whose Parquet file holds other rows; each is listed."""
    from conftest import RAW, SOURCE_ID
    from pipeline.publish.validation import validate_staging

    tables = dict(published)
    table, provenance = tables["provenance"]
    provenance = provenance.copy()
    provenance.loc[0, "quote"] = provenance.loc[0, "quote"] + " (altered)"
    tables["provenance"] = (table, provenance)
    table, figures = tables["figures"]
    tables["figures"] = (table, pd.concat([figures, figures.iloc[[0]]], ignore_index=True))
    with open(package / "events.csv", "ab") as handle:
        handle.write(b"\n")
    found = validate_staging(
        package, tables, package.parent / "cache", {SOURCE_ID: RAW / SOURCE_ID}
    )
    wanted = {
        "quote": "the published quote of",
        "bytes": "events.csv has ",
        "key": "figures: primary key ['figure_id']",
        "parquet": "figures.parquet does not hold the rows of the figures table",
        "provenance parquet": "provenance.parquet does not hold the rows of the provenance table",
    }
    missing = [what for what, text in wanted.items() if not any(text in p for p in found)]
    assert missing == [], found
    assert validate_staging(package, tables, None) != []  # without source folders, the rest
    assert not any("the published quote of" in p for p in validate_staging(package, tables, None))


def _line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of `path` that holds `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_a_changed_quote_is_named_by_the_line_of_its_mention_or_correction(published):
    """The problem names the line of annotations.yaml (or corrections.yaml) where the
    annotator wrote the quote: the mention's own line for a later mention."""
    from conftest import RAW, SOURCE_ID
    from pipeline.publish.validation import quote_problems

    folder = RAW / SOURCE_ID
    tables = dict(published)
    table, provenance = tables["provenance"]
    provenance = provenance.copy()
    second = provenance.index[provenance["mention"] == 2][0]
    rid, quote = provenance.loc[second, "record_id"], provenance.loc[second, "quote"]
    provenance.loc[second, "quote"] = quote + "!"
    dropped = provenance.iloc[[0]]
    provenance = provenance.drop(provenance.index[0])
    tables["provenance"] = (table, provenance)
    table, corrections = tables["corrections"]
    corrections = corrections.copy()
    cid, printed = corrections.loc[0, "correction_id"], corrections.loc[0, "printed"]
    corrections.loc[0, "printed"] = printed + "0"
    tables["corrections"] = (table, corrections)
    found = quote_problems(tables, {SOURCE_ID: folder})
    annotations, errata = folder / "annotations.yaml", folder / "corrections.yaml"
    mention_line = _line_of(annotations, f"- quote: {quote}")
    first = dropped.iloc[0]
    first_line = _line_of(annotations, f"id: {first['record_id']}")
    assert sorted(found) == sorted([
        f"{annotations}, line {mention_line}: the published quote of mention 2 of {rid} is "
        f"{quote + '!'!r}, the annotated one {quote!r}",
        f"{annotations}, line {first_line}: {first['record_id']} {first['mention']} is "
        "annotated but not published",
        f"{errata}, line {_line_of(errata, f'id: {cid}')}: the published quote of correction "
        f"{cid} is {printed + '0'!r}, the annotated one {printed!r}",
    ])  # fmt: skip


def test_the_annotated_quotes_kept_in_the_cache_follow_an_edit_of_the_annotations(
    published, tmp_path
):
    import shutil

    from conftest import RAW, SOURCE_ID
    from pipeline.publish.validation import quote_problems

    folder = tmp_path / "raw" / SOURCE_ID
    shutil.copytree(RAW / SOURCE_ID, folder)
    cache = tmp_path / "cache"
    assert quote_problems(published, {SOURCE_ID: folder}, cache) == []
    assert quote_problems(published, {SOURCE_ID: folder}, cache) == []  # read back
    for name in ("annotations.yaml", "corrections.yaml"):
        path = folder / name
        path.chmod(0o644)
        text = path.read_text(encoding="utf-8")
        at = text.index("quote: ") + len("quote: ")
        end = text.index("\n", at)
        value = text[at:end].rstrip()
        edited = value[:-1] + ' edited"' if value.startswith('"') else value + " edited"
        path.write_text(text[:at] + edited + text[end:], encoding="utf-8")
        found = quote_problems(published, {SOURCE_ID: folder}, cache)
        assert len(found) == 1 and "edited" in found[0] and str(path) in found[0], (name, found)
        path.write_text(text, encoding="utf-8")
        assert quote_problems(published, {SOURCE_ID: folder}, cache) == []


def test_records_without_a_primary_key_and_many_repeats_are_counted_and_capped(published):
    tables = dict(published)
    table, figures = tables["figures"]
    unkeyed = figures.iloc[:2].assign(figure_id=None)
    repeated = figures.iloc[:25]
    tables["figures"] = (table, pd.concat([figures, unkeyed, repeated], ignore_index=True))
    problems = key_problems(tables)
    assert problems[0] == "figures: 2 row(s) without a primary key ['figure_id']"
    repeats = [p for p in problems if p.endswith("is not unique")]
    firsts = sorted(figures["figure_id"].iloc[:25])[:20]
    assert repeats == [
        f"figures: primary key ['figure_id'] value ['{v}'] is not unique" for v in firsts
    ]


def test_at_most_51_key_problems_are_listed(published):
    tables = dict(published)
    table, figures = tables["figures"]
    figures = pd.concat([figures] * 2, ignore_index=True)
    figures["measure"] = [f"nowhere-{i}" for i in range(len(figures))]
    tables["figures"] = (table, figures)
    assert len(figures) > 60
    assert len(key_problems(tables)) == 51


def test_a_foreign_key_of_two_fields_is_looked_up_as_a_pair():
    from pipeline.publish.validation import _foreign_key_problems

    target = pd.DataFrame({"x": ["a", "a", "b"], "y": ["1", "2", "1"]})
    df = pd.DataFrame({"p": ["a", "b", "b", None], "q": ["2", "1", "2", None]})
    fk = {"fields": ["p", "q"], "reference": {"resource": "pairs", "fields": ["x", "y"]}}
    assert _foreign_key_problems("t", df, fk, target) == [
        "t: ['p', 'q'] value ['b', '2'] is not in pairs ['x', 'y']"
    ]


def test_the_ledger_keeps_every_row_that_passed_across_additions(tmp_path):
    ledger = RowLedger(tmp_path / "cache")
    key = row_ledger_key(SCHEMA)
    ledger.add(key, [row_digest(["a", "1"])])
    ledger.add(key, [row_digest(["b", "2"])])
    ledger.add(key, [])
    assert RowLedger(tmp_path / "cache").passed(key) == {
        row_digest(["a", "1"]), row_digest(["b", "2"])
    }  # fmt: skip


def test_rows_are_read_and_judged_as_utf8_whatever_the_locale(tmp_path):
    """Under the C locale (ASCII) a row with accented text is read, split and judged as the
    UTF-8 it is: no problem for a good row, the bad one named."""
    import locale

    descriptor = _package(tmp_path / "p", [("Ciudad Juárez", "1"), ("Tijuana–San Diego", "-1")])
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        problems = row_problems(tmp_path / "p", descriptor, tmp_path / "cache")
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert len(problems) == 1 and problems[0].startswith("t.csv line 3, field n: constraint-error")
    assert '"minimum"' in problems[0]  # Frictionless's note says which constraint


def test_a_primary_key_repeated_with_other_values_is_found(published):
    tables = dict(published)
    table, figures = tables["figures"]
    again = figures.iloc[[0]].assign(note="another note")
    tables["figures"] = (table, pd.concat([figures, again], ignore_index=True))
    assert key_problems(tables) == [
        f"figures: primary key ['figure_id'] value ['{figures.iloc[0, 0]}'] is not unique"
    ]


def test_anchoring_keeps_the_quotes_validation_reads_so_a_build_parses_the_annotations_once(
    published, tmp_path, monkeypatch
):
    """Anchoring keeps the quotes of the annotations.yaml it parsed (publish/quotes.py, not the
    reader) under the file's sha256: they are what validation would read itself, and
    validation then reads only corrections.yaml again."""
    from conftest import RAW, SOURCE_ID
    from pipeline.cache.rows import source_rows
    from pipeline.core.sources import load_snapshot
    from pipeline.publish import quotes, validation

    cache, folder = tmp_path / "cache", RAW / SOURCE_ID
    source_rows([load_snapshot(folder)], cache)
    read = []
    monkeypatch.setattr(
        validation, "read_quotes", lambda p: read.append(p) or quotes.read_quotes(p)
    )
    assert validation.quote_problems(published, {SOURCE_ID: folder}, cache) == []
    assert read == [str(folder / "corrections.yaml")]
    kept = Store(cache, quotes.STORE_KIND).get(
        quotes.quotes_key("annotations.yaml", sha256_file(folder / "annotations.yaml"))
    )
    assert kept == quotes.read_quotes(folder / "annotations.yaml") and len(kept) > 100


def test_anchoring_reads_the_document_it_is_given_and_changes_nothing_in_it():
    """The quotes are taken from the document after the reader has read it: the reader must
    leave it as it was, or validation would compare with what the reader made of it."""
    import copy

    from conftest import RAW, SOURCE_ID
    from pipeline.core.annotations import anchor_annotations
    from pipeline.core.sources import load_snapshot
    from pipeline.core.yaml_lines import load_yaml

    snapshot = load_snapshot(RAW / SOURCE_ID)
    document = load_yaml(snapshot.annotations_path)
    before = copy.deepcopy(document)
    assert anchor_annotations(snapshot, document) == anchor_annotations(snapshot)
    assert document == before


def test_a_kept_quote_names_the_folder_being_validated_not_the_one_first_read(published, tmp_path):
    """The store holds each quote with its line only, so a problem names the raw/ folder of
    this build even when the same file was read from another folder before."""
    import shutil

    from conftest import RAW, SOURCE_ID
    from pipeline.publish.validation import quote_problems

    cache, moved = tmp_path / "cache", tmp_path / "elsewhere" / SOURCE_ID
    shutil.copytree(RAW / SOURCE_ID, moved)
    assert quote_problems(published, {SOURCE_ID: RAW / SOURCE_ID}, cache) == []
    tables = dict(published)
    table, provenance = tables["provenance"]
    tables["provenance"] = (table, provenance.assign(quote=provenance["quote"] + "!"))
    found = quote_problems(tables, {SOURCE_ID: moved}, cache)
    assert found and all(p.startswith(str(moved / "annotations.yaml")) for p in found)
