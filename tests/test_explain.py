"""`explain`: the lineage of any published number, from the row back to the characters."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import OUTPUTS, RAW, SOURCE_ID
from pipeline.cli.main import main
from pipeline.core.errors import REPO_ROOT

PROVENANCE = pq.read_table(OUTPUTS / "provenance.parquet").to_pylist()
TEXT = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")


def explain(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_explains_the_cocaine_figure_top_to_bottom(capsys):
    code, out, _ = explain(capsys, "mex-cocaine-seized-1999")
    assert code == 0
    for expected in (
        "value: 34600.0", "unit: kilograms", "value_as_printed: 34.6",
        "dataset version 1.0.0",
        "Office of National Drug Control Policy",
        "re-computed now: matches the dataset",
        "line 124, column 533",
        "[«34.6» tons of cocaine]",
        '"tons" → kilograms: × 1000',
        "metric tonnes",
        "raw/ondcp-usmx-ch3/annotations.yaml, line",
        'period read from "in 1999 alone"',
        "the span of the source holds the quote — passed",
    ):  # fmt: skip
        assert expected in out, expected


@pytest.mark.parametrize("row", PROVENANCE, ids=[r["record_id"] for r in PROVENANCE])
def test_every_figure_and_event_is_explained_as_json(capsys, row):
    code, out, _ = explain(capsys, "--json", row["record_id"])
    assert code == 0
    chain = json.loads(out)
    assert chain["record_type"] == row["record_type"]
    assert chain["location"]["quote"] == TEXT[row["char_start"] : row["char_end"]]
    assert all(c["passed"] for c in chain["checks"])
    assert chain["source"]["sha256_matches"]


def test_claims_the_figure_takes_part_in_are_listed(capsys):
    code, out, _ = explain(capsys, "mex-persons-extradited-1995-2000")
    assert "claim mex-extraditions-seven-fold" in out and "holds" in out


def test_find_by_value_and_by_search(capsys):
    code, out, _ = explain(capsys, "--value", "34.6")
    assert code == 0 and out.startswith("mex-cocaine-seized-1999\t34600 kilograms")
    code, out, _ = explain(capsys, "--search", "opium gum")
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert ids == ["mex-opium-gum-seized-1999", "mex-opium-gum-seized-2000-h1"]


def test_unknown_id_exits_nonzero_with_one_line_and_the_closest_ids(capsys):
    code, out, err = explain(capsys, "mex-cocain-seized")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "closest: mex-cocaine-seized-1999" in err


def test_a_changed_source_is_reported_plainly(tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    path = raw / SOURCE_ID / "source.txt"
    path.chmod(0o644)
    path.write_text(TEXT.replace("Unites", "United"), encoding="utf-8")
    code, out, _ = explain(capsys, "mex-cocaine-seized-1999", "--raw", str(raw))
    assert code == 0 and "WARNING: raw/ text now has sha256" in out


def test_works_on_a_downloaded_copy_without_git(tmp_path):
    """A copy of the repo with no .git still explains; it says the history is unavailable."""
    copy = tmp_path / "copy"
    for part in ("pipeline", "raw", "outputs", "schemas"):
        shutil.copytree(REPO_ROOT / part, copy / part)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "mex-cocaine-seized-1999"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "not a git checkout" in proc.stdout
    assert "[«34.6» tons of cocaine]" in proc.stdout


def test_build_record_names_inputs_code_and_library_versions(built: Path):
    package = json.loads((built / "datapackage.json").read_text())
    record = package["build"]
    inputs = record["inputs"][0]
    assert (
        inputs["source_sha256"]
        == (RAW / SOURCE_ID / "source.yaml").read_text().split("sha256: ")[1].split()[0]
    )
    import hashlib

    assert (
        inputs["annotations_sha256"]
        == hashlib.sha256((RAW / SOURCE_ID / "annotations.yaml").read_bytes()).hexdigest()
    )
    assert set(record["libraries"]) == {"dagster", "pandas", "pandera", "pyarrow", "frictionless"}
    assert record["code"]["git_commit"] and len(record["code"]["code_sha256"]) == 64
    assert isinstance(record["code"]["git_dirty"], bool)


def test_corrections_appear_in_the_chain(capsys):
    code, out, _ = explain(capsys, "mex-cocaine-seized-2000-h1")
    assert '"15. 5" is read as "15.5" (correction stray-space-in-cocaine-tons-2000)' in out
    assert "published value 15500 kilograms = parsed value × factor" in out
    code, out, _ = explain(capsys, "--json", "mex-heroin-seized-1999")
    chain = json.loads(out)
    assert [c["correction_id"] for c in chain["corrections"]] == ["heroine-for-heroin"]
    assert chain["corrections"][0]["where"].startswith("raw/ondcp-usmx-ch3/corrections.yaml, line")
