"""Resolving W3C-style text-quote selectors to code-point spans.

An annotation names its text by `exact` quote, with optional `prefix`/`suffix` printed
right before/after it, and may carry a position hint. The position is trusted only to choose
among exact matches; a quote that is not found exactly, or found more than once, is an
error - never a silent guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pipeline.core.sources import SourceSnapshot


class AnchorError(ValueError):
    """The quote is missing or ambiguous: `problem` says which and where, `action` (if any)
    what to do; the message is both, for a caller with no action of its own to add."""

    def __init__(self, problem: str, action: str = "") -> None:
        super().__init__(f"{problem}; {action}" if action else problem)
        self.problem, self.action = problem, action


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


@dataclass(frozen=True)
class Candidate:
    """The text most resembling a quote that is no longer found exactly."""

    line: int
    text: str
    similarity: float

    def __str__(self) -> str:
        return f'line {self.line} has "{self.text}" ({self.similarity:.0%} similar)'


def closest_candidate(snapshot: SourceSnapshot, quote: str) -> Candidate | None:
    """The stretch of one line of the text that best matches `quote` (difflib ratio): the
    line whose window aligned on the longest common block matches best, then the window's
    start and length refined around it."""

    def ratio(a: str) -> float:
        return difflib.SequenceMatcher(None, quote, a, autojunk=False).ratio()

    best: tuple[float, int, int, str] | None = None  # ratio, line, start, line text
    for number, line in enumerate(snapshot.text.split("\n"), start=1):
        if not line:
            continue
        matcher = difflib.SequenceMatcher(None, quote, line, autojunk=False)
        block = matcher.find_longest_match(0, len(quote), 0, len(line))
        lo = max(0, block.b - block.a)
        r = ratio(line[lo : lo + len(quote)])
        if best is None or r > best[0]:
            best = (r, number, lo, line)
    if best is None:
        return None
    _, number, lo, line = best
    slack = max(3, len(quote) // 4)

    def edge(i: int) -> bool:  # a word boundary, so candidates do not cut words
        return i in (0, len(line)) or not (line[i - 1].isalnum() and line[i].isalnum())

    windows = (
        (ratio(line[a:b]), -abs(b - a - len(quote)), a, b)
        for a in range(max(0, lo - slack), min(len(line), lo + slack) + 1)
        for b in range(a + max(1, len(quote) // 2), min(len(line), a + len(quote) + slack) + 1)
        if edge(a) and edge(b)
    )
    r, _, a, b = max(windows, default=(best[0], 0, lo, lo + len(quote)))
    return Candidate(number, line[a:b].strip(), r)


def closest_line(snapshot: SourceSnapshot, quote: str) -> str:
    """Where the text most resembles a quote that was not found, for the error message."""
    best = closest_candidate(snapshot, quote)
    return str(best) if best else ""


def resolve_quote(
    snapshot: SourceSnapshot,
    quote: str,
    prefix: str = "",
    suffix: str = "",
) -> Span:
    """The one span of the source whose text is `quote`, with prefix before and suffix after."""
    if not quote:
        raise AnchorError("the quote is empty")
    if "\n" in quote:
        raise AnchorError("the quote spans a line break", "quote within one paragraph")
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
    if len(matches) > 1:
        lines = ", ".join(str(snapshot.line_col(s)[0]) for s in matches)
        raise AnchorError(
            f'the quote "{quote}" occurs {len(matches)} times (lines {lines})',
            "add a prefix or suffix that tells them apart",
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
