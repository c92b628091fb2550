"""What reading one annotation file promises, record kind by record kind: a quote anchored
exactly once (its prefix and suffix telling printings apart), a quote no longer found
collected so that all are reported at once with their closest candidates, nearby periods
and actor ids resolved in the text and the source, sections by whole heading lines, and a
provenance row (span, line, column, 32 code points of context on its line) for each mention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.core.anchoring import Span
from pipeline.core.annotation_reader import CONTEXT, AnchoredSource, Reader
from pipeline.core.errors import BuildError
from pipeline.core.sources import SourceSnapshot

LONG = "In the first semester of the year two thousand, Mexico eradicated 15,000 hectares of poppy and more."
TEXT = (
    "Results\n"
    "Mexico seized 11 tons of cocaine in 1999 and 11 tons in the last five years.\n"
    "Cooperation\n"
    "The PGR arrested 5 people.\n" + LONG + "\n"
)
L = "__line__"


@pytest.fixture
def reader(tmp_path: Path) -> Reader:
    snap = SourceSnapshot("s", tmp_path, TEXT, {"reference_year": 2000}, "0" * 64, len(TEXT))
    return Reader(snap, tmp_path / "annotations.yaml")


def refusal(call, *args) -> str:
    with pytest.raises(BuildError) as caught:
        call(*args)
    return str(caught.value).split("annotations.yaml", 1)[1]


def test_a_new_reader_has_nothing_read_and_publishes_its_file_as_in_the_repository(reader):
    assert reader.out == AnchoredSource("s", "0" * 64, "raw/s/annotations.yaml")
    assert (reader.lost, reader.sections, reader.corrections, reader.actors) == ([], [], [], {})
    assert reader.line is None and CONTEXT == 32


def test_a_quote_is_anchored_once_with_its_prefix_or_suffix(reader):
    assert reader.anchor({"id": "f", "quote": "11 tons", "prefix": "seized ", L: 3}) == Span(22, 29)
    assert reader.anchor({"id": "f", "quote": "11 tons", "suffix": " in the", L: 3}) == Span(53, 60)
    assert reader.anchor(
        {"id": "f", "quote": "5 people", "prefix": None, "suffix": None, L: 3}
    ) == (Span(114, 122))


def test_a_quote_printed_twice_asks_for_a_prefix_and_names_the_reanchor_command(reader):
    assert refusal(reader.anchor, {"id": "f", "quote": "11 tons", L: 3}) == (
        ", line 3, record 'f': the quote \"11 tons\" occurs 2 times (lines 2, 2); add a prefix or "
        "suffix that tells them apart; `python -m pipeline reanchor s` proposes the one that "
        "picks where it was last published."
    )


def test_a_quote_across_a_line_break_stops_at_once(reader):
    assert refusal(reader.anchor, {"id": "f", "quote": "a\nb", L: 3}) == (
        ", line 3, record 'f': the quote spans a line break; quote within one paragraph."
    )
    assert reader.lost == []


def test_a_lost_quote_is_collected_and_one_lost_quote_is_one_sentence(reader):
    entry = {"id": "f", "quote": "12 tons", L: 3}
    assert reader.anchor(entry) is None and reader.lost == [entry]
    assert refusal(reader.report_lost) == (
        ", line 3, record 'f': the quote \"12 tons\" is not in the source text (closest: line 2 "
        'has "11 tons" (86% similar)); copy the quote exactly from source.txt, or, if it says '
        'the same, change it to "11 tons".'
    )


def test_a_lost_quote_without_an_id_stops_at_once(reader):
    assert refusal(reader.anchor, {"quote": "12 tons", L: 3}) == (
        ', line 3: the quote "12 tons" is not in the source text (closest: line 2 has "11 tons" '
        "(86% similar)); copy the quote exactly from source.txt."
    )
    assert reader.lost == []


def test_several_lost_quotes_are_listed_each_with_its_closest_candidate(reader):
    reader.anchor({"id": "f", "quote": "12 tons", L: 3})
    reader.anchor({"id": "g", "quote": "zzzzqqq", L: 9})
    assert refusal(reader.report_lost) == (
        ": 2 quote(s) are no longer found exactly in raw/s/source.txt and nothing is re-anchored "
        "to changed text silently; edit each quote listed below (and its note) after reading the "
        "new text (`python -m pipeline reanchor s` makes the edits it can trust), then build "
        "again.\n"
        "  - line 3, record 'f': closest now: line 2 has \"11 tons\" (86% similar); if it says the "
        'same, change quote: "12 tons" to "11 tons"\n'
        "  - line 9, record 'g': closest now: line 2 has \"seized\" (15% similar); if it says the "
        'same, change quote: "zzzzqqq" to "seized"'
    )


def test_nothing_lost_reports_nothing(reader):
    assert reader.report_lost() is None


def test_a_period_is_read_where_it_is_printed_near_its_figure(reader):
    entry = {"id": "f", "period": "1999", L: 3}
    period, span = reader.period(entry, "period", Span(22, 29))
    assert span == Span(44, 48) and (period.start, period.end) == (
        dt.date(1999, 1, 1),
        dt.date(1999, 12, 31),
    )
    assert reader.period({"id": "f", "period": "", L: 3}, "period", Span(22, 29)) == (None, None)
    assert reader.period({"id": "f", L: 3}, "period", Span(22, 29)) == (None, None)


def test_a_relative_period_is_read_against_the_reference_year_only_when_asked(reader):
    entry = {"id": "f", "period": "the last five years", L: 3}
    period, span = reader.period(entry, "period", Span(22, 29), relative=True)
    assert span == Span(64, 83) and (period.start, period.end) == (
        dt.date(1995, 1, 1),
        dt.date(2000, 12, 31),
    )
    message = refusal(reader.period, entry, "period", Span(22, 29))
    assert message.startswith(", line 3, record 'f': The period \"the last five years\" cannot be "
                              "read: it is relative to an unprinted date; the forms read are ")  # fmt: skip
    assert message.endswith("the past 5 years; quote a period in a parseable form.")


def test_a_period_not_printed_in_the_paragraph_is_named(reader):
    entry = {"id": "f", "period": "2001", L: 3}
    assert refusal(reader.period, entry, "period", Span(22, 29)) == (
        ", line 3, record 'f': its period \"2001\" is not printed in the same paragraph (line 2); "
        "quote the period as printed in that paragraph."
    )


def test_actor_ids_are_a_list_or_semicolons_each_an_actor_of_the_source(reader):
    reader.actors = {"pgr": {}, "mx": {}}
    assert reader.actor_ids({"actor": ["pgr", " mx "]}, "actor", "actor") == "pgr;mx"
    assert reader.actor_ids({"actor": "pgr;mx"}, "actor", "actor") == "pgr;mx"
    assert reader.actor_ids({"actor": None}, "actor", "actor") is None
    assert reader.actor_ids({}, "actor", "actor") is None
    assert refusal(
        reader.actor_ids, {"id": "e", "parties": "pgr;pgx", L: 8}, "parties", "party"
    ) == (
        ", line 8, record 'e': its party 'pgx' is not an actor of this source (closest: pgr); "
        "use the id of an entry of actors: (docs/annotating.md)."
    )


def test_sections_are_whole_heading_lines_and_a_span_takes_the_last_before_it(reader):
    reader.read_sections(["Cooperation", "Results"])
    assert reader.sections == [(0, "Results"), (85, "Cooperation")]
    assert [reader.section_of(o) for o in (0, 84, 85, len(TEXT))] == [
        "Results", "Results", "Cooperation", "Cooperation",
    ]  # fmt: skip


def test_no_section_before_the_first_heading_is_empty(reader):
    reader.read_sections(["Cooperation"])
    assert reader.section_of(10) == "" and reader.section_of(85) == "Cooperation"


@pytest.mark.parametrize(("heading", "times"), [("Mexico", 0), ("Result", 0)])
def test_a_heading_that_is_not_a_whole_line_once_is_refused(reader, heading, times):
    assert refusal(reader.read_sections, [heading]) == (
        f': the section heading "{heading}" is a whole line of the text {times} times, not once; '
        "copy the heading line exactly."
    )


def test_a_heading_printed_twice_is_refused(tmp_path):
    text = "A\nx\nA\n"
    r = Reader(SourceSnapshot("s", tmp_path, text, {}, "0" * 64, 6), tmp_path / "annotations.yaml")
    assert '"A" is a whole line of the text 2 times, not once' in refusal(r.read_sections, ["A"])


def test_further_mentions_are_anchored_with_the_records_id(reader):
    entry = {"id": "f", "quote": "x", "mentions": [{"quote": "5 people", L: 7}], L: 3}
    assert reader.mentions(entry) == [({"quote": "5 people", L: 7, "id": "f"}, Span(114, 122))]
    entry["mentions"] = [{"quote": "5 people", "numeral": "5", L: 7}]
    assert reader.mentions(entry, "figure mention")[0][0]["numeral"] == "5"
    assert "unknown key 'numeral'" in refusal(reader.mentions, entry)
    entry["mentions"] = [{"quote": "5 peoplez", L: 7}]
    assert reader.mentions(entry) == [] and reader.lost == [{"quote": "5 peoplez", L: 7, "id": "f"}]
    assert reader.mentions({"id": "f", L: 3}) == []


def test_a_mention_that_is_not_a_mapping_names_its_record(reader):
    assert refusal(reader.mentions, {"id": "f", "mentions": ["bad"], L: 3}) == (
        ", record 'f': a mention entry is text 'bad', not a mapping of keys; write it as - quote: ...."
    )


def test_require_names_the_line_of_the_item_being_read(reader):
    assert refusal(reader.require, {"quote": "x", L: 4}, "ignore") == (
        ", line 4: the ignore entry has no 'reason'; add reason:."
    )
    reader.line = 12
    assert refusal(reader.require, "x", "ignore") == (
        ", line 12: an ignore entry is text 'x', not a mapping of keys; write it as key: value."
    )
    entry = {"quote": "x", "reason": "a year", L: 4}
    assert reader.require(entry, "ignore") is entry


def test_a_mention_read_is_a_provenance_row_and_covers_its_spans(reader):
    reader.mark_read("f", "figure", {L: 3}, Span(22, 29), numeral=Span(22, 24),
                     period=Span(44, 48), period_word="period", mention=2)  # fmt: skip
    assert reader.out.provenance == [{
        "record_id": "f", "mention": 2, "record_type": "figure", "source_id": "s",
        "char_start": 22, "char_end": 29, "line": 2, "column": 15, "quote": "11 tons",
        "prefix": "Mexico seized ", "suffix": " of cocaine in 1999 and 11 tons ",
        "numeral_start": 22, "numeral_end": 24, "period_start_char": 44, "period_end_char": 48,
        "annotation_file": "raw/s/annotations.yaml", "annotation_line": 3,
    }]  # fmt: skip
    assert reader.out.covered == [(Span(22, 29), "figure f"), (Span(44, 48), "period of figure f")]


def test_the_context_of_a_provenance_row_stops_at_its_line_or_at_32_code_points(reader):
    start = TEXT.index("15,000")
    reader.mark_read("h", "figure", {L: 5}, Span(start, start + 6))
    row = reader.out.provenance[0]
    assert row["prefix"] == LONG[LONG.index("15,000") - 32 : LONG.index("15,000")]
    assert row["suffix"] == LONG[LONG.index("15,000") + 6 :][:32]
    assert (row["mention"], row["numeral_start"], row["period_end_char"]) == (1, None, None)
    last = TEXT.index("more.")
    reader.mark_read("k", "event", {L: 6}, Span(last, last + 5))
    assert reader.out.provenance[1]["suffix"] == ""
    assert reader.out.provenance[1]["column"] == LONG.index("more.") + 1
    assert reader.out.covered == [
        (Span(start, start + 6), "figure h"),
        (Span(last, last + 5), "event k"),
    ]


def test_the_sources_corrections_are_published_rows_and_name_the_spans_they_touch(reader, tmp_path):
    (tmp_path / "corrections.yaml").write_text(
        'corrections:\n  - id: c1\n    quote: "5 people"\n    corrected: "6 people"\n'
        "    reason: r\n    reported_on: 2026-11-27\n    reported_by: me\n"
        '  - id: c0\n    quote: "Mexico seized"\n    corrected: "Mexico took"\n'
        "    reason: r0\n    reported_on: 2026-11-28\n    reported_by: you\n",
        encoding="utf-8",
    )
    reader.read_corrections()
    assert [c.correction_id for c in reader.corrections] == ["c0", "c1"]
    assert reader.out.corrections[1] == {
        "correction_id": "c1", "source_id": "s", "char_start": 114, "char_end": 122,
        "line": 4, "column": 18, "printed": "5 people", "corrected": "6 people", "reason": "r",
        "reported_on": dt.date(2026, 11, 27), "reported_by": "me",
        "annotation_file": "raw/s/corrections.yaml", "annotation_line": 2,
    }  # fmt: skip
    assert reader.correction_ids(Span(113, 115)) == "c1"
    assert reader.correction_ids(Span(0, 3), Span(121, 130), Span(8, 9)) == "c0;c1"
    assert reader.correction_ids(Span(122, 125), Span(0, 8)) is None
