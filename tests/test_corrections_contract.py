"""What corrections.yaml promises: each erratum anchored once in the text as printed, with
its corrected text, reason, date and reporter; refused with one sentence (file, line, record)
when its id repeats, it overlaps another, its printed text has gone, it is ambiguous, or it
corrects nothing; and applied to a piece of text only where it lies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.core.anchoring import Span
from pipeline.core.corrections import Correction, apply, read_corrections
from pipeline.core.errors import BuildError
from pipeline.core.sources import SourceSnapshot

TEXT = "The heroine was seized.\nUnites States and Mexico: 15. 5 tons; heroine again.\n"


def snapshot(folder: Path, corrections: str | None) -> SourceSnapshot:
    if corrections is not None:
        (folder / "corrections.yaml").write_text(corrections, encoding="utf-8")
    return SourceSnapshot("s", folder, TEXT, {}, "0" * 64, len(TEXT.encode()))


def entry(cid: str, quote: str, corrected: str, extra: str = "") -> str:
    return (
        f'  - id: {cid}\n    quote: "{quote}"\n    corrected: "{corrected}"\n{extra}'
        "    reason: misprinted\n    reported_on: 2026-11-27\n    reported_by: a reader\n"
    )


def refusal(tmp_path: Path, body: str) -> str:
    with pytest.raises(BuildError) as caught:
        read_corrections(snapshot(tmp_path, "corrections:\n" + body))
    return str(caught.value)


def test_a_source_without_a_corrections_file_has_none(tmp_path):
    assert read_corrections(snapshot(tmp_path, None)) == []


def test_an_empty_corrections_file_has_none(tmp_path):
    assert read_corrections(snapshot(tmp_path, "")) == []
    assert read_corrections(snapshot(tmp_path, "corrections: []\n")) == []


def test_each_correction_is_read_with_its_span_and_sorted_by_where_it_is_printed(tmp_path):
    body = entry("spaced", "15. 5", "15.5") + entry("unites", "Unites States", "United States")
    found = read_corrections(snapshot(tmp_path, "corrections:\n" + body))
    start = TEXT.index("Unites")
    assert found == [
        Correction("unites", Span(start, start + 13), "Unites States", "United States",
                   "misprinted", dt.date(2026, 11, 27), "a reader", 8),
        Correction("spaced", Span(TEXT.index("15. 5"), TEXT.index("15. 5") + 5), "15. 5",
                   "15.5", "misprinted", dt.date(2026, 11, 27), "a reader", 2),
    ]  # fmt: skip


def test_a_prefix_or_suffix_picks_one_of_several_printings(tmp_path):
    body = entry("her", "heroine", "heroin", '    suffix: " again"\n')
    (found,) = read_corrections(snapshot(tmp_path, "corrections:\n" + body))
    assert found.span == Span(TEXT.rindex("heroine"), TEXT.rindex("heroine") + 7)
    body = entry("her", "heroine", "heroin", '    prefix: "The "\n')
    (found,) = read_corrections(snapshot(tmp_path, "corrections:\n" + body))
    assert found.span == Span(4, 11)


def test_an_id_used_twice_is_refused_at_its_first_line(tmp_path):
    body = entry("dup", "15. 5", "15.5") + entry("dup", "Unites States", "United States")
    message = refusal(tmp_path, body)
    assert message.endswith(
        ", line 2, record 'dup': the id 'dup' is used twice; give each its own id."
    )


def test_two_overlapping_corrections_are_refused_at_the_one_printed_later(tmp_path):
    body = entry("states", "States and", "States, and") + entry("unit", "Unites States", "USA")
    message = refusal(tmp_path, body)
    assert message.endswith(
        ", line 2, record 'states': it overlaps correction 'unit' (line 8); "
        "merge the two into one correction."
    )


def test_corrections_that_touch_without_overlapping_are_both_kept(tmp_path):
    body = entry("a", "Unites", "United") + entry("b", " States", " States!")
    found = read_corrections(snapshot(tmp_path, "corrections:\n" + body))
    assert [c.correction_id for c in found] == ["a", "b"]


def test_a_printed_text_no_longer_in_the_source_asks_to_retire_the_correction(tmp_path):
    message = refusal(tmp_path, entry("gone", "heroinee", "heroin"))
    assert message == (
        f"{tmp_path / 'corrections.yaml'}, line 2, record 'gone': the printed text \"heroinee\" "
        f"is no longer in {tmp_path / 'source.txt'}, so the upstream has probably fixed it; "
        "retire this correction (delete the entry) after checking the corrected source."
    )


def test_an_ambiguous_printed_text_asks_for_a_prefix_or_suffix(tmp_path):
    message = refusal(tmp_path, entry("her", "heroine", "heroin"))
    assert message.endswith(
        "line 2, record 'her': the quote \"heroine\" occurs 2 times (lines 1, 2); "
        "add a prefix or suffix that tells them apart."
    )


def test_a_printed_text_across_a_line_break_is_refused_with_the_anchoring_advice(tmp_path):
    message = refusal(tmp_path, entry("nl", "seized.\\nUnites", "seized. United"))
    assert message.endswith(
        "line 2, record 'nl': the quote spans a line break; quote within one paragraph."
    )


def test_a_correction_that_changes_nothing_is_refused(tmp_path):
    message = refusal(tmp_path, entry("same", "15. 5", "15. 5"))
    assert message.endswith(
        "line 2, record 'same': the corrected text equals the printed one; fix it."
    )


def test_a_reported_on_that_is_not_a_date_is_refused(tmp_path):
    body = entry("d", "15. 5", "15.5").replace("2026-11-27", "'27 Nov 2026'")
    assert "reported_on" in refusal(tmp_path, body)


def correction(start: int, end: int, corrected: str, cid: str = "c") -> Correction:
    return Correction(cid, Span(start, end), TEXT[start:end], corrected, "r",
                      dt.date(2026, 1, 1), "me", 1)  # fmt: skip


def test_apply_replaces_each_correction_inside_the_piece_of_text_it_is_given():
    start = TEXT.index("Unites")
    piece = TEXT[start : TEXT.index(" tons")]
    fixes = [correction(TEXT.index("15. 5"), TEXT.index("15. 5") + 5, "15.5"),
             correction(start, start + 6, "United")]  # fmt: skip
    assert apply(piece, start, fixes) == "United States and Mexico: 15.5"
    assert apply(piece, start, []) == piece


def test_a_correction_overlaps_a_span_that_shares_a_code_point_only():
    c = correction(4, 11, "heroin")
    assert c.overlaps(Span(10, 12)) and c.overlaps(Span(0, 5)) and c.overlaps(Span(5, 6))
    assert not c.overlaps(Span(11, 12)) and not c.overlaps(Span(0, 4))


def test_a_correction_that_is_not_a_mapping_is_named_on_its_own_line(tmp_path):
    message = refusal(tmp_path, entry("c1", "Unites", "United") + "  - just a note\n")
    assert message.startswith(f"{tmp_path / 'corrections.yaml'}, line 8: a correction entry is"), (
        message
    )
