"""What anchoring promises (pipeline/core/anchoring.py): a quote is one exact span or an
error saying where the text most resembles it (the line, the stretch cut at word boundaries,
how similar), how often it occurs and on which lines; a nearby quote is found in its
paragraph, the last occurrence before the record else the first after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.anchoring import (
    AnchorError,
    Candidate,
    Span,
    closest_candidate,
    closest_line,
    occurrences,
    resolve_nearby,
    resolve_quote,
)
from pipeline.core.sources import SourceSnapshot

LONG = ("the " * 60) + "Secretariat of the Navy seized over 2,000 kilograms " + ("and the " * 20)


def snapshot(text: str) -> SourceSnapshot:
    return SourceSnapshot("t", Path("."), text, {}, "0" * 64, len(text.encode()))


@pytest.mark.parametrize(
    "text, quote, expected",
    [
        ("over 125,000 hectares of marijuana\nand 80,500 of poppy", "over 125.000 hectares",
         Candidate(1, "over 125,000 hectares", 20 / 21)),
        # an empty line is skipped, not the end of the search; line numbers count it
        ("first line\n\nsame line here\nsame line here", "same lino here",
         Candidate(3, "same line here", 13 / 14)),
        # of two lines as similar, the first is named
        ("x\nab cd ef\nab cd eg", "ab cd ex", Candidate(2, "ab cd ef", 7 / 8)),
        ("A quick brown fox jumps", "quick brown fax", Candidate(1, "quick brown fox", 14 / 15)),
        # the stretch is cut at word boundaries, never inside a word
        ("Theseizure of 300 kg happened", "seizure of 30 kg",
         Candidate(1, "Theseizure of 300 kg", 16 / 18)),
        # a line of more than 200 characters is compared character by character as well
        (LONG, "Secretariat of Navy seized", Candidate(1, "Secretariat of the Navy seized", 52 / 56)),
    ],
)  # fmt: skip
def test_the_closest_candidate_is_the_most_similar_stretch_of_one_line(text, quote, expected):
    found = closest_candidate(snapshot(text), quote)
    assert (found.line, found.text) == (expected.line, expected.text)
    assert found.similarity == pytest.approx(expected.similarity)


def test_a_candidate_is_told_with_its_line_text_and_similarity_in_percent():
    assert (
        str(Candidate(3, "same line here", 13 / 14)) == 'line 3 has "same line here" (93% similar)'
    )
    text = "A quick brown fox jumps"
    assert closest_line(snapshot(text), "quick brown fax") == (
        'line 1 has "quick brown fox" (93% similar)'
    )


def test_an_empty_text_has_no_candidate():
    assert closest_candidate(snapshot(""), "abc") is None
    assert closest_candidate(snapshot("\n\n"), "abc") is None
    assert closest_line(snapshot(""), "abc") == ""


def test_a_missing_quote_names_its_prefix_and_suffix_and_the_closest_text():
    snap = snapshot("over 125,000 hectares of marijuana")
    with pytest.raises(AnchorError) as raised:
        resolve_quote(snap, "125.000", prefix="over ", suffix=" hectares")
    assert raised.value.problem == (
        'the quote "over [125.000] hectares" is not in the source text '
        '(closest: line 1 has "125,000" (86% similar))'
    )
    assert raised.value.action == "" and str(raised.value) == raised.value.problem
    with pytest.raises(AnchorError) as raised:
        resolve_quote(snapshot(""), "abc")
    assert str(raised.value) == 'the quote "abc" is not in the source text'


def test_a_quote_matching_only_without_its_prefix_or_suffix_is_not_found():
    snap = snapshot("in 1999 alone")
    for prefix, suffix in (("on ", ""), ("", " also"), ("xin ", "")):
        with pytest.raises(AnchorError, match="is not in the source text"):
            resolve_quote(snap, "1999", prefix=prefix, suffix=suffix)
    assert resolve_quote(snap, "1999", prefix="in ", suffix=" alone") == Span(3, 7)
    assert resolve_quote(snap, "in", prefix="") == Span(0, 2)


def test_overlapping_occurrences_count_and_the_message_says_so():
    assert occurrences("aaaa", "aa") == [0, 1, 2]
    assert occurrences("aaaa", "aa", 1) == [1, 2]
    assert occurrences("aaaa", "aa", 0, 3) == [0, 1]
    with pytest.raises(AnchorError) as raised:
        resolve_quote(snapshot("x\naaa"), "aa")
    assert str(raised.value) == (
        'the quote "aa" occurs 2 times (lines 2, 2); add a prefix or suffix that tells them apart'
    )
    assert raised.value.action == "add a prefix or suffix that tells them apart"


def test_an_empty_quote_and_a_quote_over_a_line_break_are_refused_with_their_sentences():
    with pytest.raises(AnchorError) as raised:
        resolve_quote(snapshot("abc"), "")
    assert str(raised.value) == "the quote is empty"
    with pytest.raises(AnchorError) as raised:
        resolve_quote(snapshot("a\nb"), "a\nb")
    assert str(raised.value) == "the quote spans a line break; quote within one paragraph"


def test_a_nearby_quote_at_the_records_own_start_is_the_one_before_it():
    text = "1999 seized 1999\nnext 1999"
    snap = snapshot(text)
    assert resolve_nearby(snap, "1999", Span(0, 4)) == Span(0, 4)
    assert resolve_nearby(snap, "1999", Span(5, 11)) == Span(0, 4)
    assert resolve_nearby(snap, "1999", Span(12, 16)) == Span(12, 16)
    assert resolve_nearby(snap, "1999", Span(17, 21)) == Span(22, 26)
    with pytest.raises(AnchorError) as raised:
        resolve_nearby(snap, "seized", Span(17, 21))
    assert str(raised.value) == '"seized" is not printed in the same paragraph (line 2)'


def test_a_span_contains_its_own_edges_and_not_beyond():
    outer = Span(2, 6)
    assert outer.contains(Span(2, 6)) and outer.contains(Span(3, 5))
    assert not outer.contains(Span(1, 6)) and not outer.contains(Span(2, 7))


@pytest.mark.parametrize(
    "text, quote, printed",
    [
        ("Navy seized 2,000 kg in 1999 at the port", "Nawy seized 2,000 kg", "Navy seized 2,000 kg"),
        ("at the port the Navy seized 2,000 kg", "Navy seizd 2,000 kg", "Navy seized 2,000 kg"),
        ("seized 12 labs", "seized 13 labs", "seized 12 labs"),
        ("x\n" + "word " * 50 + "the Navy seized 2,000 kilograms of cocaine " + "word " * 50,
         "the Navy seised 2,000 kilograms", "the Navy seized 2,000 kilograms"),
        ("In 1999 the Secretariat of the Navy seized", "In 1999 the Secretariat of the Navi",
         "In 1999 the Secretariat of the Navy"),
        ("ab", "abc", "ab"),
    ],
)  # fmt: skip
def test_a_quote_with_one_typo_finds_the_printed_stretch_wherever_it_stands(text, quote, printed):
    import difflib

    found = closest_candidate(snapshot(text), quote)
    assert found.text == printed
    assert text.split("\n")[found.line - 1].count(printed) == 1
    assert found.similarity == difflib.SequenceMatcher(None, quote, printed).ratio()
