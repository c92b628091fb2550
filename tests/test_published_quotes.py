"""Every published quote is the quote written in raw/, checked by the build before it
publishes (pipeline/publish/validation.quote_problems), and a staged package that fails
validation leaves outputs/ untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.anchoring import Span
from pipeline.core.fields import table_defs
from pipeline.publish.validation import quote_problems

FOLDERS = {SOURCE_ID: RAW / SOURCE_ID}
QUOTE = "Financial Information Exchange Agreement (FIEA)"  # a mention ending in a non-numeral


def published(folder: Path) -> dict:
    defs = table_defs()
    return {n: (defs[n], pd.read_parquet(folder / f"{n}.parquet")) for n in defs}


def test_every_published_quote_is_the_annotated_quote(built, tmp_path):
    assert quote_problems(published(built), FOLDERS, tmp_path / "cache") == []


def test_a_quote_cut_from_a_short_span_is_not_the_annotated_one(built, tmp_path):
    """The span check holds for a span cut short (its quote is cut from it); this one not."""
    tables = published(built)
    table, provenance = tables["provenance"]
    provenance = provenance.copy()
    row = provenance.index[provenance["quote"] == QUOTE][0]
    provenance.loc[row, "quote"] = QUOTE[:-1]
    provenance.loc[row, "char_end"] -= 1
    tables["provenance"] = (table, provenance)
    [problem] = quote_problems(tables, FOLDERS, tmp_path / "cache")
    assert problem.startswith(f"{RAW / SOURCE_ID / 'annotations.yaml'}, line ")
    assert f"is {QUOTE[:-1]!r}, the annotated one {QUOTE!r}" in problem


def test_a_correction_published_with_another_text_is_refused(built, tmp_path):
    tables = published(built)
    table, corrections = tables["corrections"]
    corrections = corrections.copy()
    corrections.loc[corrections.index[0], "corrected"] += "x"
    tables["corrections"] = (table, corrections)
    [problem] = quote_problems(tables, FOLDERS, tmp_path / "cache")
    assert "corrections.yaml, line" in problem and "the published quote of corrected" in problem


def test_a_missing_and_an_extra_record_are_named(built, tmp_path):
    tables = published(built)
    table, provenance = tables["provenance"]
    dropped = provenance[provenance["quote"] != QUOTE].copy()
    extra = dropped.iloc[[0]].assign(record_id="not-annotated")
    tables["provenance"] = (table, pd.concat([dropped, extra], ignore_index=True))
    problems = quote_problems(tables, FOLDERS, tmp_path / "cache")
    assert len(problems) == 2
    assert any("is annotated but not published" in p for p in problems)
    assert any("not-annotated 1 is published but not annotated" in p for p in problems)


def test_a_build_whose_reader_cuts_a_span_short_stops_and_leaves_outputs(
    built, raw_copy, tmp_path, monkeypatch, capsys
):
    """A defect in the reader (one span one character short, its quote cut from it) passes
    every check of the rows; the build refuses it before publishing, naming the annotation."""
    from pipeline.core import annotation_reader

    resolve = annotation_reader.resolve_quote

    def short(snapshot, quote, *args, **kwargs):
        span = resolve(snapshot, quote, *args, **kwargs)
        return Span(span.start, span.end - 1) if quote == QUOTE else span

    monkeypatch.setattr(annotation_reader, "resolve_quote", short)
    monkeypatch.setenv("USMX_CACHE_DIR", str(tmp_path / "cache"))  # no rows made by other code
    outputs = tmp_path / "outputs"
    shutil.copytree(built, outputs)
    before = tree_digest(outputs)
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert "the new data package does not validate" in err
    assert f"is {QUOTE[:-1]!r}, the annotated one {QUOTE!r}" in err
    assert tree_digest(outputs) == before


def test_a_staged_package_that_fails_validation_leaves_outputs_untouched(
    built, raw_copy, tmp_path, monkeypatch, capsys
):
    """A staged file damaged after it was written (a CSV cell that is no number) is found by
    the real validation: the build stops with its sentence, no staging folder is left, and
    outputs/ keeps every byte."""
    from pipeline.publish import package

    write_pages = package.write_pages

    def then_damage_a_file(tables, snapshots, staging, *args, **kwargs):
        result = write_pages(tables, snapshots, staging, *args, **kwargs)
        csv = staging / "figures.csv"
        lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
        header = lines[0].rstrip("\n").split(",")
        cells = lines[1].rstrip("\n").split(",")
        cells[header.index("value")] = "not-a-number"
        lines[1] = ",".join(cells) + "\n"
        csv.write_text("".join(lines), encoding="utf-8")
        return result

    monkeypatch.setattr(package, "write_pages", then_damage_a_file)
    path = raw_copy / SOURCE_ID / "corrections.yaml"  # a change, so that there is a package
    path.write_text(path.read_text(encoding="utf-8").replace("A stray space", "A space"), "utf-8")
    outputs = tmp_path / "outputs"
    shutil.copytree(built, outputs)
    before = tree_digest(outputs)
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert "the new data package does not validate (" in err and "figures.csv" in err
    assert tree_digest(outputs) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("outputs.")] == []


@pytest.fixture(autouse=True)
def _no_rows_of_other_code(tmp_path, monkeypatch):
    monkeypatch.setenv("USMX_CACHE_DIR", str(tmp_path / "cache"))
