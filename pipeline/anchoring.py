"""Resolving W3C-style text-quote selectors to code-point spans.

An annotation names its text by `exact` quote, with optional `prefix`/`suffix` printed
right before/after it, and may carry a position hint. The position is trusted only to choose
among exact matches; a quote that is not found exactly, or found more than once, is an
error - never a silent guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pipeline.sources import SourceSnapshot


class AnchorError(ValueError):
    """The quote is missing or ambiguous; the message says which and where."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


def occurrences(text: str, quote: str, start: int = 0, end: int | None = None) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of quote in text[start:end]."""
    end = len(text) if end is None else end
    found, pos = [], text.find(quote, start, end)
    while pos != -1:
        found.append(pos)
        pos = text.find(quote, pos + 1, end)
    return found


def closest_line(snapshot: SourceSnapshot, quote: str) -> str:
    """Where the text most resembles a quote that was not found, for the error message."""
    best_ratio, best = 0.0, ""
    for number, line in enumerate(snapshot.text.split("\n"), start=1):
        if not line:
            continue
        matcher = difflib.SequenceMatcher(None, quote, line, autojunk=False)
        block = matcher.find_longest_match(0, len(quote), 0, len(line))
        lo = max(0, block.b - block.a)
        candidate = line[lo : lo + len(quote)]
        ratio = difflib.SequenceMatcher(None, quote, candidate, autojunk=False).ratio()
        if ratio > best_ratio:
            best_ratio, best = ratio, f'line {number} has "{candidate}" ({ratio:.0%} similar)'
    return best


def resolve_quote(
    snapshot: SourceSnapshot,
    quote: str,
    prefix: str = "",
    suffix: str = "",
    hint: int | None = None,
) -> Span:
    """The one span of the source whose text is `quote`, with prefix before and suffix after."""
    if not quote:
        raise AnchorError("the quote is empty")
    if "\n" in quote:
        raise AnchorError("the quote spans a line break; quote within one paragraph")
    text = snapshot.text
    matches = [
        s
        for s in occurrences(text, quote)
        if text[max(0, s - len(prefix)) : s] == prefix
        and text[s + len(quote) : s + len(quote) + len(suffix)] == suffix
    ]
    if not matches:
        shown = f'"{prefix}[{quote}]{suffix}"' if prefix or suffix else f'"{quote}"'
        hint_text = closest_line(snapshot, quote)
        raise AnchorError(
            f"the quote {shown} is not in the source text"
            + (f" (closest: {hint_text})" if hint_text else "")
        )
    if len(matches) > 1 and hint in matches:
        matches = [hint]
    if len(matches) > 1:
        lines = ", ".join(str(snapshot.line_col(s)[0]) for s in matches)
        raise AnchorError(
            f'the quote "{quote}" occurs {len(matches)} times (lines {lines}); '
            "add a prefix or suffix that tells them apart"
        )
    return Span(matches[0], matches[0] + len(quote))


def resolve_nearby(snapshot: SourceSnapshot, quote: str, near: Span) -> Span:
    """The occurrence of a short quote (a period, a date, a place) in the same paragraph as
    `near`: the last one starting before it, else the first one after it."""
    lo, hi = snapshot.line_bounds(near.start)
    found = occurrences(snapshot.text, quote, lo, hi)
    if not found:
        line = snapshot.line_col(near.start)[0]
        raise AnchorError(f'"{quote}" is not printed in the same paragraph (line {line})')
    before = [s for s in found if s <= near.start]
    start = before[-1] if before else found[0]
    return Span(start, start + len(quote))
