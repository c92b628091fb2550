"""Anchoring: a quote resolves to exactly one code-point span, or the build stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.anchoring import AnchorError, Span, resolve_nearby, resolve_quote
from pipeline.core.sources import SourceSnapshot


def snapshot(text: str) -> SourceSnapshot:
    return SourceSnapshot("t", Path("."), text, {}, "0" * 64, len(text.encode()))


def test_unique_quote_resolves_to_its_code_point_span():
    snap = snapshot("Procuraduría General — 125,000 hectares")
    span = resolve_quote(snap, "125,000 hectares")
    # code points, not bytes: "í" and "—" are one code point each
    assert span == Span(23, 39)
    assert snap.text[span.start : span.end] == "125,000 hectares"


def test_missing_quote_is_an_error_naming_the_closest_text():
    snap = snapshot("over 125,000 hectares of marijuana\nand 80,500 of poppy")
    with pytest.raises(AnchorError, match="not in the source text.*closest: line 1"):
        resolve_quote(snap, "over 125.000 hectares")


def test_ambiguous_quote_is_an_error_listing_the_lines():
    snap = snapshot("two countries\nthe two countries")
    with pytest.raises(AnchorError, match="occurs 2 times \\(lines 1, 2\\)"):
        resolve_quote(snap, "two countries")


def test_prefix_and_suffix_choose_among_repeated_quotes():
    snap = snapshot("in 1999 alone; in 1999 the DEA")
    assert resolve_quote(snap, "1999", prefix="in ", suffix=" the").start == 18
    assert resolve_quote(snap, "1999", suffix=" alone").start == 3


def test_a_repeated_quote_is_refused_and_nothing_but_prefix_or_suffix_chooses():
    snap = snapshot("x abc y abc")
    with pytest.raises(AnchorError, match="occurs 2 times"):
        resolve_quote(snap, "abc")
    assert resolve_quote(snap, "abc", prefix="y ").start == 8
    assert resolve_quote(snap, "abc", suffix=" y").start == 2


def test_quote_across_a_line_break_is_refused():
    with pytest.raises(AnchorError, match="line break"):
        resolve_quote(snapshot("a\nb"), "a\nb")


def test_nearby_quote_prefers_the_nearest_occurrence_before_in_the_same_paragraph():
    text = "In 1998 one; in 1999 two and 1999 three\nIn 2000 other"
    snap = snapshot(text)
    figure = resolve_quote(snap, "three")
    assert resolve_nearby(snap, "1999", figure).start == text.index("1999 three")
    first = resolve_quote(snap, "one")
    assert resolve_nearby(snap, "1999", first).start == text.index("1999")
    with pytest.raises(AnchorError, match="same paragraph"):
        resolve_nearby(snap, "2000", figure)
