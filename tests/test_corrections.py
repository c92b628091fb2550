"""Corrections are data: the snapshot is never edited, a corrected figure keeps what was
printed and where, and a correction whose printed text has gone stops the build."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.corrections import read_corrections
from pipeline.core.sources import load_snapshot, sha256_file

SEED_MISPRINTS = {"15. 5": "15.5", "heroine": "heroin", "Unites States": "United States",
                  "is assets": "in assets"}  # fmt: skip


@pytest.fixture(scope="module")
def corrections(built: Path) -> pd.DataFrame:
    return pd.read_parquet(built / "corrections.parquet").set_index("correction_id")


def test_the_seed_misprints_are_published_corrections(corrections):
    published = dict(zip(corrections["printed"], corrections["corrected"], strict=True))
    for printed, corrected in SEED_MISPRINTS.items():
        assert published[printed] == corrected
    assert corrections["reason"].str.len().min() > 10
    assert corrections["reported_by"].notna().all()


def test_every_correction_span_holds_the_printed_text(corrections):
    text = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
    for cid, row in corrections.iterrows():
        assert text[row["char_start"] : row["char_end"]] == row["printed"], cid


def test_the_snapshot_is_untouched_by_corrections():
    sidecar = (RAW / SOURCE_ID / "source.yaml").read_text()
    assert sha256_file(RAW / SOURCE_ID / "source.txt") in sidecar


def test_corrected_figure_keeps_printed_literal_and_span_and_links_the_correction(built: Path):
    figures = pd.read_parquet(built / "figures.parquet").set_index("figure_id")
    provenance = pd.read_parquet(built / "provenance.parquet").set_index("record_id")
    row = figures.loc["mex-cocaine-seized-2000-h1"]
    assert row["value_as_printed"] == "15. 5" and row["value"] == 15_500
    assert row["correction_ids"] == "stray-space-in-cocaine-tons-2000"
    assert 'corrected text "15.5"' in row["note"]
    text = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
    prov = provenance.loc["mex-cocaine-seized-2000-h1"]
    assert text[int(prov["numeral_start"]) : int(prov["numeral_end"])] == "15. 5"
    assert figures.loc["mex-heroin-seized-1999", "correction_ids"] == "heroine-for-heroin"


def test_value_comes_from_the_corrected_text(raw_copy, tmp_path, capsys):
    """A correction of a numeral changes the published value, not value_as_printed."""
    path = raw_copy / SOURCE_ID / "corrections.yaml"
    text = path.read_text(encoding="utf-8")
    text += (
        '\n  - id: test-cocaine-1999\n    quote: "34.6"\n    corrected: "43.6"\n'
        "    reason: A test correction.\n    reported_on: 2026-11-27\n    reported_by: tests\n"
    )
    path.write_text(text, encoding="utf-8")
    outputs = tmp_path / "outputs"
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 0
    figures = pd.read_parquet(outputs / "figures.parquet").set_index("figure_id")
    assert figures.loc["mex-cocaine-seized-1999", "value"] == 43_600
    assert figures.loc["mex-cocaine-seized-1999", "value_as_printed"] == "34.6"
    assert figures.loc["mex-cocaine-seized-1999", "correction_ids"] == "test-cocaine-1999"


def test_a_correction_whose_printed_text_is_gone_stops_the_build(raw_copy, built, tmp_path, capsys):
    """The upstream fixed "Unites States": the build asks to retire the correction."""
    source = raw_copy / SOURCE_ID / "source.txt"
    fixed = source.read_text(encoding="utf-8").replace("Unites States", "United States")
    source.write_text(fixed, encoding="utf-8")
    sidecar = raw_copy / SOURCE_ID / "source.yaml"
    old = sha256_file(RAW / SOURCE_ID / "source.txt")
    sidecar.write_text(sidecar.read_text().replace(old, sha256_file(source)))
    outputs = tmp_path / "outputs"
    import shutil

    shutil.copytree(built, outputs)
    before = tree_digest(outputs)
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert "corrections.yaml, line" in err and "record 'unites-states'" in err
    assert "no longer in" in err and "retire this correction" in err
    assert tree_digest(outputs) == before


def test_corrections_are_anchored_like_annotations():
    found = read_corrections(load_snapshot(RAW / SOURCE_ID))
    assert [c.span.start for c in found] == sorted(c.span.start for c in found)
    assert {c.printed for c in found} >= set(SEED_MISPRINTS)
