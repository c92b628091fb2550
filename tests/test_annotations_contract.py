"""What anchor_annotations promises for one source: every figure, event, actor and claim
read (rows without line bookkeeping, claims with their source), each id used once, every
derived_from and claim naming a figure of the file, and every numeral of the text explained
by some record or ignore entry, else listed by line and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import RAW, SOURCE_ID
from pipeline.core.anchoring import Span
from pipeline.core.annotation_reader import AnchoredSource
from pipeline.core.annotations import anchor_annotations, uncovered_numerals
from pipeline.core.errors import BuildError
from pipeline.core.sources import SourceSnapshot, load_snapshot


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / SOURCE_ID
    shutil.copytree(RAW / SOURCE_ID, copy)
    return copy


def edit(folder: Path, old: str, new: str, count: int = 1) -> None:
    path = folder / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def refusal(folder: Path) -> str:
    with pytest.raises(BuildError) as caught:
        anchor_annotations(load_snapshot(folder))
    return str(caught.value).split("annotations.yaml", 1)[1]


def line_of(folder: Path, needle: str) -> int:
    text = (folder / "annotations.yaml").read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def test_the_chapter_is_read_whole_with_every_numeral_explained(folder):
    out = anchor_annotations(load_snapshot(folder))
    assert out.uncovered == [] and out.covered == []
    assert len(out.figures) > 50 and out.events and out.actors and out.provenance
    assert all("__line__" not in row for row in out.figures + out.events + out.actors)
    assert [c["id"] for c in out.claims] == [
        "mex-nationals-birth-plus-naturalization", "mex-extraditions-seven-fold",
        "usa-extraditions-tripled", "dea-meth-labs-1999-over-2000",
    ]  # fmt: skip
    assert {c["source_id"] for c in out.claims} == {SOURCE_ID}
    assert out.claims[1]["tolerance"] == 0.1 and out.corrections


def test_a_numeral_no_longer_ignored_is_listed_by_line_and_column(folder):
    edit(folder, "  - quote: hundreds of convictions\n    reason: unquantified amount\n", "")
    edit(folder, "  - quote: early 90s\n", "  - quote: early 9\n")
    out = anchor_annotations(load_snapshot(folder))
    snap = load_snapshot(folder)
    hundreds = snap.line_col(snap.text.index("hundreds of convictions"))
    ninety = snap.line_col(snap.text.index("early 90s") + len("early "))
    assert out.uncovered == [
        f'line {hundreds[0]}, column {hundreds[1]}: "hundreds"',
        f'line {ninety[0]}, column {ninety[1]}: "90"',
    ]


def test_an_ignore_entry_needs_a_reason(folder):
    edit(folder, "    reason: unquantified amount\n", "")
    assert refusal(folder) == (
        f", line {line_of(folder, '  - quote: many millions of dollars')}: the ignore entry has "
        "no 'reason'; add reason:."
    )


def test_an_id_used_twice_names_both_lines(folder):
    first = line_of(folder, "  - id: binational-demand-conference-attendance-average")
    edit(folder, "  - id: binational-demand-conference-attendance-average",
         "  - id: binational-demand-conferences-held-1998-2000")  # fmt: skip
    held = line_of(folder, "  - id: binational-demand-conferences-held-1998-2000")
    assert refusal(folder) == (
        f", line {first}, record 'binational-demand-conferences-held-1998-2000': the id "
        f"'binational-demand-conferences-held-1998-2000' is used twice (also at line {held}); "
        "give each record its own id."
    )


def test_derived_from_must_name_a_figure_of_the_file(folder):
    edit(
        folder,
        "derived_from: [mex-persons-extradited-1995-2000,",
        "derived_from: [mex-persons-extradited-1995,",
    )
    message = refusal(folder)
    assert (
        ": derived_from names an unknown figure 'mex-persons-extradited-1995'; use the id of a "
        "figure in this file." in message
    )
    assert message.startswith(", line 430, record 'mex-extraditions-growth-seven-fold': "), message


@pytest.mark.parametrize(
    ("old", "new", "unknown"),
    [
        ("    stated: mex-nationals-extradited-1995-2000\n", "    stated: nobody\n", "nobody"),
        ("parts: [mex-nationals-extradited-by-birth,", "parts: [nobody,", "nobody"),
        ("    numerator: mex-persons-extradited-1995-2000\n", "    numerator: nobody\n", "nobody"),
        (
            "    denominator: usa-persons-extradited-1980-1994\n",
            "    denominator: nobody\n",
            "nobody",
        ),
        ("    computed: dea-meth-labs-seized-1999\n", "    computed: nobody\n", "nobody"),
    ],
)
def test_a_claim_must_name_figures_of_the_file(folder, old, new, unknown):
    edit(folder, old, new)
    assert f"': it names an unknown figure '{unknown}'; use a figure id." in refusal(folder)


def test_a_claim_may_name_an_event_id_only_as_a_figure(folder):
    edit(folder, "    computed: dea-meth-labs-seized-1999\n", "    computed: \n")
    assert "the claim has no 'computed'; add computed:." in refusal(folder)


TEXT = "In 1999, 11 tons and 5 people."


def covered(*spans: tuple[int, int]) -> AnchoredSource:
    out = AnchoredSource("s", "0" * 64, "raw/s/annotations.yaml")
    out.covered = [(Span(a, b), "why") for a, b in spans]
    return out


@pytest.mark.parametrize(
    ("spans", "left"),
    [
        ([], ['line 1, column 4: "1999"', 'line 1, column 10: "11"', 'line 1, column 22: "5"']),
        ([(3, 7), (9, 11), (21, 22)], []),
        ([(0, 30)], []),
        ([(3, 6), (9, 12), (20, 22)], ['line 1, column 4: "1999"']),
        (
            [(4, 8), (0, 2)],
            ['line 1, column 4: "1999"', 'line 1, column 10: "11"', 'line 1, column 22: "5"'],
        ),
        ([(2, 3), (3, 11), (21, 25)], []),
        ([(0, 25), (10, 12)], []),
        ([(9, 10), (21, 22)], ['line 1, column 4: "1999"', 'line 1, column 10: "11"']),
    ],
)
def test_a_numeral_is_covered_only_by_a_span_holding_it_whole(spans, left):
    snap = SourceSnapshot("s", Path("/nowhere"), TEXT, {}, "0" * 64, len(TEXT))
    assert uncovered_numerals(snap, covered(*spans)) == left
