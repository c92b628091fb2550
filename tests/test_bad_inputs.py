"""A bad input stops the build with one sentence naming file, line and record, exits
non-zero without a traceback, and leaves the published outputs exactly as they were."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.errors import REPO_ROOT


@pytest.fixture
def outputs_before(tmp_path: Path, built: Path) -> Path:
    """A published outputs/ folder that a failing build must not touch."""
    outputs = tmp_path / "outputs"
    shutil.copytree(built, outputs)
    return outputs


def annotations(raw: Path) -> Path:
    return raw / SOURCE_ID / "annotations.yaml"


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"fixture text {old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def run_build(raw: Path, outputs: Path, capsys) -> str:
    before = tree_digest(outputs)
    code = main(["build", "--raw", str(raw), "--outputs", str(outputs)])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert tree_digest(outputs) == before, "a failed build changed outputs/"
    assert not list(outputs.parent.glob("outputs.staging-*")), "staging left behind"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def first_figure_entry(path: Path) -> tuple[str, int]:
    """The id and the line of the entry of the first figure in an annotation file."""
    text = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(text, start=1):
        m = re.match(r"\s*- id: (\S+)", line)
        if m:
            return m.group(1), number
    raise AssertionError("no figure")


def test_missing_quote(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    quote_line = path.read_text().splitlines()[line]  # the line after "- id:"
    assert "quote:" in quote_line
    replace_once(path, quote_line, quote_line.rstrip() + " zzz")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"{SOURCE_ID}/annotations.yaml, line {line}, record '{fid}'" in msg
    assert "is not in the source text" in msg and "copy the quote" in msg
    assert "it was at line" not in msg  # nothing published chooses or tells (reanchor does)
    assert 'change it to "Three successful Binational Conferences"' in msg


def test_ambiguous_quote(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    quote_line = path.read_text().splitlines()[line]
    replace_once(path, quote_line, quote_line.split("quote:")[0] + "quote: both countries")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"line {line}, record '{fid}'" in msg and "occurs" in msg and "prefix" in msg


def test_unknown_measure(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    text = path.read_text().splitlines()
    mline = next(i for i in range(line, len(text)) if "measure:" in text[i])
    replace_once(path, text[mline], text[mline].split("measure:")[0] + "measure: happiness")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"line {line}, record '{fid}'" in msg and "measure 'happiness' is unknown" in msg


def test_unknown_unit(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    text = path.read_text()
    fid = "mex-poppy-eradicated-1995-1999"
    assert fid in text
    line = line_of(path, f"id: {fid}")
    # make "hectares of poppy" an unknown printed unit by naming "poppy" the unit
    lines = text.splitlines()
    uline = next(i for i in range(line, len(lines)) if "unit:" in lines[i])
    lines[uline] = lines[uline].split("unit:")[0] + "unit: poppy"
    path.write_text("\n".join(lines) + "\n")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"line {line}, record '{fid}'" in msg and 'unit "poppy" is unknown' in msg


def test_numeral_that_does_not_parse(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid = "mex-poppy-eradicated-1995-1999"
    line = line_of(path, f"id: {fid}")
    lines = path.read_text().splitlines()
    nline = next(i for i in range(line, len(lines)) if "numeral:" in lines[i])
    lines[nline] = lines[nline].split("numeral:")[0] + "numeral: 80,500 hectares"
    path.write_text("\n".join(lines) + "\n")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"line {line}, record '{fid}'" in msg and '"80,500 hectares"' in msg


def test_duplicate_id(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    second = line_of(path, "id: mex-poppy-eradicated-1995-1999")
    replace_once(path, "id: mex-poppy-eradicated-1995-1999", f"id: {fid}")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"line {second}, record '{fid}'" in msg and f"also at line {line}" in msg


def test_malformed_yaml(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    lines = path.read_text().splitlines()
    lines[line] = lines[line].split("quote:")[0] + "quote: [unclosed, flow"
    path.write_text("\n".join(lines) + "\n")
    msg = run_build(raw_copy, outputs_before, capsys)
    # reported on the line of the unclosed "[", not on the next one, where the parser gives up
    assert f"{SOURCE_ID}/annotations.yaml, line {line + 1}: the YAML is malformed" in msg


def test_source_whose_sha256_differs(raw_copy, outputs_before, capsys):
    source = raw_copy / SOURCE_ID / "source.txt"
    source.write_text(
        source.read_text(encoding="utf-8").replace("Unites", "United"), encoding="utf-8"
    )
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"{SOURCE_ID}/source.yaml, line 22, record '{SOURCE_ID}'" in msg
    assert "the sha256 recorded here" in msg and "is not that of source.txt" in msg


def test_unexplained_numeral(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    text = path.read_text()
    # drop the ignore entry that explains the "one" of "learn from one another"
    start = text.index("quote: learn from one another")
    entry_start = text.rindex("\n  - ", 0, start)
    entry_end = text.find("\n  - ", start)
    path.write_text(text[:entry_start] + text[entry_end:])
    msg = run_build(raw_copy, outputs_before, capsys)
    assert "every_numeral_is_explained" in msg and 'line 30, column 360: "one"' in msg


def test_cli_exits_nonzero_without_traceback(raw_copy, outputs_before, tmp_path):
    path = annotations(raw_copy)
    replace_once(path, "measure: drug_seized", "measure: drug_sized")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--raw",
            str(raw_copy),
            "--outputs",
            str(outputs_before),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "drug_sized" in proc.stderr


def test_value_breaking_the_schema_is_stopped_by_the_pandera_check(
    raw_copy, outputs_before, capsys
):
    path = annotations(raw_copy)
    fid = "mex-persons-extradited-1995-2000"
    line = line_of(path, f"id: {fid}")
    lines = path.read_text().splitlines()
    cline = next(i for i in range(line, len(lines)) if "counterpart_country:" in lines[i])
    lines[cline] = lines[cline].split("counterpart_country:")[0] + "counterpart_country: Mexico"
    path.write_text("\n".join(lines) + "\n")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert "figures_matches_schema" in msg
    assert f"annotations.yaml, line {line}, record '{fid}'" in msg
    assert "counterpart_country" in msg and "'Mexico'" in msg


def test_a_corrected_snapshot_reports_every_lost_quote_with_its_fuzzy_candidate(
    raw_copy, outputs_before, capsys
):
    """The source is replaced (sha256 updated): quotes still found keep their ids; each quote
    no longer found is reported with the best candidate and the edit (its old line is
    reanchor's to tell: the build reads nothing published)."""
    import hashlib
    import re

    source = raw_copy / SOURCE_ID / "source.txt"
    text = source.read_text(encoding="utf-8")
    text = "A line inserted at the top.\n" + text.replace(
        "Three successful Binational Conferences", "Three Binational Conferences"
    ).replace("over 80,500 hectares of poppy", "over 80,600 hectares of poppy")
    source.write_text(text, encoding="utf-8")
    sidecar = raw_copy / SOURCE_ID / "source.yaml"
    sha = hashlib.sha256(text.encode()).hexdigest()
    sidecar.write_text(re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha}", sidecar.read_text()))
    before = tree_digest(outputs_before)
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs_before)]) == 1
    err = capsys.readouterr().err
    assert tree_digest(outputs_before) == before
    assert "2 quote(s) are no longer found exactly" in err
    assert "nothing is re-anchored to changed text silently" in err
    poppy = next(line for line in err.splitlines() if "mex-poppy-eradicated-1995-1999" in line)
    assert "was at line" not in poppy and 'line 45 has "over 80,600 hectares of poppy"' in poppy
    assert (
        'change quote: "over 80,500 hectares of poppy" to "over 80,600 hectares of poppy"' in poppy
    )
    conf = next(line for line in err.splitlines() if "binational-demand-conferences-held" in line)
    assert 'line 23 has "Three Binational Conferences"' in conf


def test_quotes_still_found_in_a_shifted_snapshot_keep_their_ids(raw_copy, tmp_path, built):
    """Text inserted before every quote moves all spans; ids and values stay."""
    import hashlib
    import re

    import pandas as pd

    source = raw_copy / SOURCE_ID / "source.txt"
    text = "A line inserted at the top.\n" + source.read_text(encoding="utf-8")
    source.write_text(text, encoding="utf-8")
    sidecar = raw_copy / SOURCE_ID / "source.yaml"
    sha = hashlib.sha256(text.encode()).hexdigest()
    sidecar.write_text(re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha}", sidecar.read_text()))
    outputs = tmp_path / "shifted"
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 0
    key = ["record_id", "mention"]  # a record has a row per mention
    new = pd.read_parquet(outputs / "provenance.parquet").set_index(key)
    old = pd.read_parquet(built / "provenance.parquet").set_index(key)  # not the developer's
    assert set(new.index) == set(old.index)
    assert (new["line"] == old.loc[new.index, "line"] + 1).all()
    shift = len("A line inserted at the top.\n")
    assert (new["char_start"] == old.loc[new.index, "char_start"] + shift).all()


FIGURE = "  - id: binational-demand-conferences-held-1998-2000\n"
IGNORED = "  - quote: learn from one another\n"
_LINES = (REPO_ROOT / "raw" / SOURCE_ID / "annotations.yaml").read_text(encoding="utf-8")
FIGURE_LINE, IGNORED_LINE = (_LINES[: _LINES.index(t)].count("\n") + 1 for t in (FIGURE, IGNORED))
CLAIM = "  - id: mex-nationals-birth-plus-naturalization\n    kind: sum\n"
CORRECTION = "  - id: heroine-for-heroin\n    quote: heroine\n"
KEY_PROBLEMS = [  # (file, text, replacement, the sentence's problem and action)
    ("annotations.yaml", FIGURE, FIGURE + "    colour: red\n",
     f"line {FIGURE_LINE}, record 'binational-demand-conferences-held-1998-2000': the figure "
     "has an unknown key 'colour'; use only actor, counterpart_country, country, derived_from, "
     "id, is_target, measure, mentions, note, numeral, period, period_note, prefix, qualifier, "
     "quote, subject, suffix, unit, value_check (docs/annotating.md)."),
    ("annotations.yaml", "    subject: binational_demand_reduction_conferences\n", "",
     f"line {FIGURE_LINE}, record 'binational-demand-conferences-held-1998-2000': the figure "
     "has no 'subject'; add subject:."),
    ("annotations.yaml", "events:\n", "events:\n  - 3\n",
     "annotations.yaml, line 829: an event entry is int '3', not a mapping of keys; write it as key: value."),
    ("annotations.yaml", IGNORED + "    reason: pronoun phrase, not a quantity\n", IGNORED,
     f"line {IGNORED_LINE}: the ignore entry has no 'reason'; add reason:."),
    ("annotations.yaml", CLAIM, CLAIM.replace("sum", "product"),
     "record 'mex-nationals-birth-plus-naturalization': the claim kind 'product' is unknown; "
     "use sum, ratio or bound."),
    ("annotations.yaml", "    parts: [mex-nationals-extradited-by-birth, mex-nationals-extradited-by-naturalization]\n",
     "", "record 'mex-nationals-birth-plus-naturalization': the claim has no 'parts'; add parts:."),
    ("annotations.yaml", "claims:\n", "claimz: []\nclaims:\n",
     "annotations.yaml, line 2118: unknown top-level key 'claimz'; use only actors, claims, events, "
     "figures, ignore, sections."),
    ("corrections.yaml", CORRECTION, CORRECTION + "    colour: red\n",
     "corrections.yaml, line 15, record 'heroine-for-heroin': the correction has an unknown "
     "key 'colour'; use only corrected, id, prefix, quote, reason, reported_by, reported_on, "
     "suffix."),
    ("corrections.yaml", "corrections:\n", "correctionz: []\ncorrections:\n",
     "corrections.yaml, line 7: unknown top-level key 'correctionz'; use only corrections."),
]  # fmt: skip


@pytest.mark.parametrize("file, old, new, expected", KEY_PROBLEMS)
def test_keys_are_checked_against_the_declared_table(raw_copy, file, old, new, expected):
    """A missing, unknown or misplaced key of any record kind (pipeline/core/entry_keys.py)
    stops the reading with one sentence: file, line, record, what is wrong, what to do."""
    from pipeline.core.annotations import anchor_annotations
    from pipeline.core.errors import BuildError
    from pipeline.core.sources import load_snapshot

    replace_once(raw_copy / SOURCE_ID / file, old, new)
    with pytest.raises(BuildError) as raised:
        anchor_annotations(load_snapshot(raw_copy / SOURCE_ID))
    assert str(raised.value).endswith(expected), str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_unknown_key_stops_the_build(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    fid, line = first_figure_entry(path)
    replace_once(path, f"- id: {fid}\n", f"- id: {fid}\n    colour: red\n")
    msg = run_build(raw_copy, outputs_before, capsys)
    assert f"{SOURCE_ID}/annotations.yaml, line {line}, record '{fid}'" in msg
    assert "the figure has an unknown key 'colour'; use only actor," in msg
