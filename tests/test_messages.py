"""A bad input's sentence names the line where the problem is and says each thing once.

A YAML syntax error is reported on the line that opens what is left unclosed (a quote, a
flow collection, a key), not where the parser gives up; no sentence repeats a clause (what is
wrong, then what to do, each once). Each case damages a copy of raw/ and runs the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SOURCE_ID
from pipeline.cli.main import main


def build_error(raw: Path, tmp_path: Path, capsys) -> str:
    """The one sentence a build of `raw` stops with."""
    code = main(["build", "--raw", str(raw), "--outputs", str(tmp_path / "outputs")])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("error: "), err
    return err.removeprefix("error: ")


def repeats(sentence: str) -> list[str]:
    """The runs of four words said twice (quoted text and numbers aside), and the clauses."""
    bare = re.sub(r'"[^"]*"', '""', sentence)
    clauses = [c.strip(" .") for c in bare.split(";")]
    words = re.findall(r"[a-z]+", bare.lower())
    runs = [" ".join(words[i : i + 4]) for i in range(len(words) - 3)]
    return sorted(
        {r for r in runs if runs.count(r) > 1} | {c for c in clauses if clauses.count(c) > 1}
    )


def first_figure(path: Path) -> tuple[list[str], int]:
    """The lines of an annotation file and the index of its first figure's `- id:` line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("figures:")
    return lines, next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("- id:"))


def write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- a YAML syntax error names its line --------------------------------------------------


def test_an_unclosed_quote_is_reported_on_the_line_that_opens_it(raw_copy, tmp_path, capsys):
    path = raw_copy / SOURCE_ID / "annotations.yaml"
    lines, start = first_figure(path)
    at = next(i for i in range(start, len(lines)) if re.fullmatch(r'\s+numeral: "[^"]*"', lines[i]))
    lines[at] = lines[at][:-1]  # numeral: "34.6  (the closing quote lost)
    write(path, lines)
    # the quote runs on to the next quote character of the file, where the parser gives up
    rest = "\n".join(lines[at + 1 :])
    runs_to = at + 2 + rest[: rest.index('"')].count("\n")
    assert runs_to > at + 2
    msg = build_error(raw_copy, tmp_path, capsys)
    assert msg == (
        f"{path}, line {at + 1}: the YAML is malformed (a quote opened on this line runs on to "
        f"line {runs_to}); fix the YAML syntax there."
    )
    assert not repeats(msg), repeats(msg)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("quote: [unclosed, flow", "did not find expected ',' or ']'"),
        ("quote: {unclosed: flow", "did not find expected ',' or '}'"),
        ("quote no colon", "could not find expected ':'"),
    ],
)
def test_an_unclosed_collection_or_key_is_reported_on_its_line(
    raw_copy, tmp_path, capsys, damage, problem
):
    path = raw_copy / SOURCE_ID / "annotations.yaml"
    lines, start = first_figure(path)
    at = start + 1
    assert lines[at].lstrip().startswith("quote:"), lines[at]
    lines[at] = lines[at].split("quote:")[0] + damage
    write(path, lines)
    msg = build_error(raw_copy, tmp_path, capsys)
    assert (
        msg
        == f"{path}, line {at + 1}: the YAML is malformed ({problem}); fix the YAML syntax there."
    )


def test_an_unclosed_quote_in_the_corrections_is_reported_on_its_line(raw_copy, tmp_path, capsys):
    path = raw_copy / SOURCE_ID / "corrections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if re.fullmatch(r'\s+corrected: "[^"]*"', line))
    lines[at] = lines[at][:-1]
    write(path, lines)
    msg = build_error(raw_copy, tmp_path, capsys)
    assert msg.startswith(f"{path}, line {at + 1}: the YAML is malformed (a quote opened on this ")


# --- no sentence repeats a clause --------------------------------------------------------


def test_an_ambiguous_correction_says_what_to_add_once(raw_copy, tmp_path, capsys):
    path = raw_copy / SOURCE_ID / "corrections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("quote:"))
    record = lines[at - 1].split("id:")[1].strip()
    lines[at] = lines[at].split("quote:")[0] + "quote: both countries"
    write(path, lines)
    msg = build_error(raw_copy, tmp_path, capsys)
    assert re.fullmatch(
        rf"{re.escape(str(path))}, line {at}, record '{record}': the quote \"both countries\" "
        r"occurs \d+ times \(lines [\d, ]+\); add a prefix or suffix that tells them apart\.",
        msg,
    ), msg
    assert msg.count("prefix or suffix") == 1 and not repeats(msg), msg


def test_a_correction_across_a_line_break_is_told_once(raw_copy, tmp_path, capsys):
    path = raw_copy / SOURCE_ID / "corrections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("quote:"))
    record = lines[at - 1].split("id:")[1].strip()
    lines[at] = lines[at].split("quote:")[0] + 'quote: "each\\nother"'
    write(path, lines)
    msg = build_error(raw_copy, tmp_path, capsys)
    assert msg == (
        f"{path}, line {at}, record '{record}': the quote spans a line break; quote within one "
        "paragraph."
    )


@pytest.mark.parametrize(
    "damage",
    [
        "quote: both countries",  # ambiguous
        'quote: "each\\nother"',  # across a line break
        "quote: zzz not in the text zzz",  # missing
        "quote: ''",  # empty
    ],
)
def test_an_annotation_quote_error_repeats_no_clause(raw_copy, tmp_path, capsys, damage):
    path = raw_copy / SOURCE_ID / "annotations.yaml"
    lines, start = first_figure(path)
    record = lines[start].split("id:")[1].strip()
    lines[start + 1] = lines[start + 1].split("quote:")[0] + damage
    write(path, lines)
    msg = build_error(raw_copy, tmp_path, capsys)
    assert msg.startswith(f"{path}, line {start + 1}, record '{record}': "), msg
    assert not repeats(msg), (repeats(msg), msg)


def test_repeats_finds_the_repeated_clause():
    """The check itself: the sentence issue 16 quotes is caught, today's sentences are not."""
    old = (
        "corrections.yaml, line 22, record 'unites-states': the quote \"x\" occurs 2 times "
        "(lines 3, 4); add a prefix or suffix that tells them apart; add a prefix or suffix."
    )
    assert repeats(old) == ["a prefix or suffix", "add a prefix or"]
    new = old.rsplit("; add", 1)[0] + "."
    assert repeats(new) == []
