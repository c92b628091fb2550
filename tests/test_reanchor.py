"""`reanchor`: after a corrected edition, the quotes that moved only slightly are re-anchored
in annotations.yaml (comments and layout kept), the rest are listed for a person."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SOURCE_ID
from pipeline.cli.main import build, main
from pipeline.cli.reanchor import THRESHOLD

NUMERAL = ("an average of 350 experts", "an average of 355 experts")
REWRITTEN = (
    "Three successful Binational Conferences",
    "Three well-attended Binational Conferences",
)
FEW = ("Brownsville Letter agreements", "Brownsville Letter agreement")


@pytest.fixture
def raw(raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's raw/ copied, named by USMX_RAW_DIR, with a private cache."""
    monkeypatch.setenv("USMX_RAW_DIR", str(raw_copy))
    monkeypatch.setenv("USMX_CACHE_DIR", str(tmp_path / "cache"))
    return raw_copy


def new_edition(raw: Path, *changes: tuple[str, str]) -> None:
    """Replace source.txt by an edition with `changes` and record its sha256 in the sidecar."""
    folder = raw / SOURCE_ID
    text = (folder / "source.txt").read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "source.txt").write_text(text, encoding="utf-8")
    digest = hashlib.sha256((folder / "source.txt").read_bytes()).hexdigest()
    sidecar = (folder / "source.yaml").read_text(encoding="utf-8")
    sidecar = re.sub(r"^sha256: \w+$", f"sha256: {digest}", sidecar, flags=re.M)
    (folder / "source.yaml").write_text(sidecar, encoding="utf-8")


def reanchor(capsys, *args: str) -> tuple[int, str]:
    code = main(["reanchor", SOURCE_ID, *args])
    return code, capsys.readouterr().out


def test_a_changed_numeral_is_reanchored_and_the_next_build_passes(raw, tmp_path, capsys):
    annotations = raw / SOURCE_ID / "annotations.yaml"
    before = annotations.read_text(encoding="utf-8")
    assert f"quote: {NUMERAL[0]}\n" in before and '    numeral: "350"\n' in before
    outputs = tmp_path / "outputs"
    assert build(raw, outputs) == 0  # the edition published before
    new_edition(raw, NUMERAL)
    assert build(raw, outputs) != 0  # refused, with the candidate
    assert f'change it to "{NUMERAL[1]}"' in capsys.readouterr().err
    code, out = reanchor(capsys)
    assert code == 0, out
    for line in (f"-    quote: {NUMERAL[0]}", f"+    quote: {NUMERAL[1]}", '-    numeral: "350"',
                 '+    numeral: "355"', "-    value_check: 350", "+    value_check: 355"):  # fmt: skip
        assert line + "\n" in out, line
    assert "Left for a person" not in out
    after = annotations.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n"), strict=True) if a != b]
    assert [b.strip() for _, b in changed] == [
        f"quote: {NUMERAL[1]}",
        'numeral: "355"',
        "value_check: 355",
    ]  # every other line (comments, blank lines, order) is as it was
    assert build(raw, outputs) == 0
    figure = next(f for f in pq.read_table(outputs / "figures.parquet").to_pylist()
                  if f["value_as_printed"] == "355")  # fmt: skip
    assert figure["value"] == 355
    assert "value_as_printed changed: 350 → 355" in (outputs / "CHANGELOG.md").read_text()
    code, out = reanchor(capsys)
    assert code == 0 and "nothing to re-anchor" in out


def test_a_rewritten_sentence_is_left_and_listed(raw, capsys):
    annotations = raw / SOURCE_ID / "annotations.yaml"
    new_edition(raw, REWRITTEN, NUMERAL)
    code, out = reanchor(capsys)
    assert code == 1
    listed = out.split("Left for a person (1)")[1]
    assert "record 'binational-demand-conferences-held-1998-2000': closest: line" in listed
    similarity = int(re.search(r"\((\d+)% similar\)", listed).group(1))
    assert similarity < THRESHOLD * 100 and f"below the {THRESHOLD:.0%} threshold" in listed
    text = annotations.read_text(encoding="utf-8")
    assert f"quote: {REWRITTEN[0]}\n" in text and REWRITTEN[1] not in text
    assert f"quote: {NUMERAL[1]}\n" in text  # the numeral beside it was still re-anchored
    assert "nothing was committed" in out


def test_a_change_of_a_few_characters_keeps_comments_on_the_line(raw, capsys):
    annotations = raw / SOURCE_ID / "annotations.yaml"
    text = annotations.read_text(encoding="utf-8")
    assert text.count(f"quote: {FEW[0]}\n") == 1
    text = text.replace(f"quote: {FEW[0]}\n", f"quote: {FEW[0]}  # as printed\n")
    annotations.write_text(text, encoding="utf-8")
    new_edition(raw, FEW)
    code, out = reanchor(capsys, "--dry-run")
    assert code == 0 and annotations.read_text(encoding="utf-8") == text  # wrote nothing
    assert f"+    quote: {FEW[1]}  # as printed\n" in out
    code, out = reanchor(capsys)
    after = annotations.read_text(encoding="utf-8")
    assert code == 0 and after == text.replace(f"quote: {FEW[0]}  #", f"quote: {FEW[1]}  #")
    assert after.count("\n#") == text.count("\n#") and after.count("# ") == text.count("# ")


def test_an_unknown_source_is_one_sentence(raw, capsys):
    assert main(["reanchor", SOURCE_ID + "x"]) == 2
    assert f"closest: {SOURCE_ID}" in capsys.readouterr().err


def test_a_quote_printed_twice_gets_the_prefix_that_picks_its_published_place(
    raw, built, tmp_path, capsys
):
    rows = pq.read_table(built / "provenance.parquet").to_pylist()
    published = next(r for r in rows if r["quote"] == FEW[0] and r.get("mention", 1) == 1)
    folder = raw / SOURCE_ID
    text = (folder / "source.txt").read_text(encoding="utf-8")
    new_edition(raw, (text[-40:], text[-40:] + f"\nThe {FEW[0]} were renewed."))
    code, out = reanchor(capsys, "--outputs", str(built))
    assert code == 0, out
    assert f"     quote: {FEW[0]}\n" + '+    prefix: "the "\n' in out  # added after the quote
    assert build(raw, tmp_path / "outputs") == 0
    rows = pq.read_table(tmp_path / "outputs" / "provenance.parquet").to_pylist()
    moved = next(r for r in rows if r["record_id"] == published["record_id"])
    assert (moved["char_start"], moved["line"]) == (published["char_start"], published["line"])


def test_a_quote_printed_twice_and_not_published_lists_the_choices(raw, tmp_path, capsys):
    text = (raw / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
    new_edition(raw, (text[-40:], text[-40:] + f"\nThe {FEW[0]} were renewed."))
    code, out = reanchor(capsys, "--outputs", str(tmp_path / "none"))
    assert code == 1 and "it was not published before" in out
    assert 'prefix "the " picks line' in out and 'prefix "The " picks line' in out
