"""pipeline/publish/validation.py's promises, each on a small input: every check of a staged
package reports into one list, in order, each a step of the build's log; the descriptor is
read as UTF-8 whatever the locale; a header problem is named as the header's; at most 51
key problems are listed, whichever tables hold them."""

from __future__ import annotations

import io
import json
import locale
import re
import shutil

import pandas as pd

from pipeline import progress
from pipeline.core.fields import FieldDef, TableDef
from pipeline.publish import validation
from pipeline.publish.validation import key_problems, row_problems, verify_bytes_and_hashes

SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True}},
        {"name": "n", "type": "integer"},
    ],
}


def test_every_check_of_a_staged_package_is_a_step_and_reports_in_order(tmp_path, monkeypatch):
    seen = []

    def check(name):
        def run(*args):
            seen.append((name, args))
            return [f"{name} problem"]

        return run

    for name in (
        "quote_problems",
        "verify_bytes_and_hashes",
        "descriptor_errors",
        "row_problems",
        "key_problems",
        "parquet_matches_frames",
    ):
        monkeypatch.setattr(validation, name, check(name))  # fmt: skip

    def formats(
        folder, tables
    ):  # may run in a child process: what it saw comes back in its problem
        return [f"metadata_problems problem ({folder.name}, {sorted(tables)})"]

    monkeypatch.setattr(validation, "metadata_problems", formats)
    monkeypatch.setattr(validation, "_descriptor", lambda folder: {"of": str(folder)})
    tables, folder, cache = {"t": "the tables"}, tmp_path / "staged", tmp_path / "cache"
    log = io.StringIO()
    with progress.reporting(log):
        problems = validation.validate_staging(folder, tables, cache)
    assert problems == [f"{name} problem" for name in (
        "quote_problems", "verify_bytes_and_hashes", "descriptor_errors", "row_problems",
        "key_problems", "parquet_matches_frames")] + [
        "metadata_problems problem (staged, ['t'])"]  # fmt: skip
    # the formats are read back beside the other checks (in a child process where the build
    # can fork, here in this one at once): each is still a step of its own, reported once
    assert sorted(re.findall(r"^step (.+): [0-9.]+ s$", log.getvalue(), re.M)) == sorted([
        "quotes", "bytes, sha256, descriptor", "Frictionless rows", "keys", "Parquet", "formats"
    ])  # fmt: skip
    assert dict(seen) == {
        "quote_problems": (tables, {}, cache),  # no source folders given: no quote to compare
        "verify_bytes_and_hashes": (folder,),
        "descriptor_errors": (folder,),
        "row_problems": (folder, {"of": str(folder)}, cache),
        "key_problems": (tables,),
        "parquet_matches_frames": (folder, tables),
    }
    seen.clear()
    validation.validate_staging(folder, tables, cache, {"a-source": tmp_path / "raw"})
    assert dict(seen)["quote_problems"] == (tables, {"a-source": tmp_path / "raw"}, cache)


def test_the_descriptor_is_read_as_utf8_whatever_the_locale(built, tmp_path):
    folder = tmp_path / "staged"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns("*.html", "provenance"))
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"][0]["title"] = "Ciudad Juárez – Tijuana"
    path.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        problems = verify_bytes_and_hashes(folder)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert problems == []


def test_a_header_problem_is_named_as_the_headers_with_no_field(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "t.csv").write_text("id,n,extra\na,1,x\n", encoding="utf-8")
    descriptor = {"resources": [{"name": "t_csv", "path": "t.csv", "format": "csv",
                                 "schema": SCHEMA}]}  # fmt: skip
    problems = row_problems(folder, descriptor, None)
    assert problems and problems[0].startswith("t.csv header, field -: "), problems
    assert all(" line " not in p.split(",")[0] for p in problems if "header" in p)


def _table(name: str, fks: list[dict]) -> TableDef:
    fields = [FieldDef(name="id", type="string", description="", constraints={}),
              FieldDef(name="ref", type="string", description="", constraints={})]  # fmt: skip
    return TableDef(name=name, title=name, description="", fields=fields,
                    primary_key=("id",), foreign_keys=fks)  # fmt: skip


def _tables(dangling: int, repeated: int) -> dict:
    """`a`: `dangling` rows referring to no row of `b`; `c` (no foreign key): `repeated`
    rows under one id."""
    fk = {"fields": ["ref"], "reference": {"resource": "b", "fields": ["id"]}}
    a = pd.DataFrame({"id": [f"a{i}" for i in range(dangling)],
                      "ref": [f"nowhere-{i}" for i in range(dangling)]})  # fmt: skip
    b = pd.DataFrame({"id": ["b0"], "ref": [None]})
    c = pd.DataFrame({"id": ["same"] * repeated, "ref": [None] * repeated})
    return {"a": (_table("a", [fk]), a), "b": (_table("b", []), b), "c": (_table("c", []), c)}


def test_fifty_key_problems_do_not_stop_the_checks_of_the_other_tables():
    problems = key_problems(_tables(50, 2))
    assert len(problems) == 51
    assert problems[-1] == "c: primary key ['id'] value ['same'] is not unique"


def test_past_fifty_key_problems_the_list_stops_at_51():
    problems = key_problems(_tables(51, 2))
    assert len(problems) == 51 and not any(p.startswith("c:") for p in problems)
    assert problems[0] == "a: ['ref'] value ['nowhere-0'] is not in b ['id']"
