"""Links to the original publication at the very characters: a URL text fragment
(`#:~:text=prefix-,exact,-suffix`, WICG Scroll-to-Text-Fragment) made from a span of a
snapshot, with a few whole words of context from the same line, and its decoder.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

DIRECTIVE = "#:~:text="
WORD = re.compile(r"\S+")


def encode(term: str) -> str:
    """A text-directive term percent-encoded: everything but unreserved characters, and '-'."""
    return quote(term, safe="").replace("-", "%2D")


def around(text: str, start: int, end: int, words: int = 3) -> tuple[str, str]:
    """(prefix, suffix): up to `words` whole words either side of text[start:end], same line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = len(text) if text.find("\n", end) < 0 else text.find("\n", end)
    lo, hi = max(line_start, start - 400), min(line_end, end + 400)  # a few words, not the line
    head = [m.start() for m in WORD.finditer(text, lo, start)][-words:]
    if lo > line_start and (len(head) < words or head[0] == lo):
        head = [m.start() for m in WORD.finditer(text, line_start, start)][-words:]
    tail = [m.end() for m in WORD.finditer(text, end, hi)][:words]
    if hi < line_end and (len(tail) < words or tail[-1] == hi):
        tail = [m.end() for m in WORD.finditer(text, end, line_end)][:words]
    prefix = text[head[0] : start].rstrip() if head else ""
    return prefix, (text[end : tail[-1]].lstrip() if tail else "")


def text_fragment(url: str, text: str, start: int, end: int, context: int = 3) -> str:
    """`url` (any fragment dropped) + a text fragment that highlights text[start:end] there."""
    prefix, suffix = around(text, start, end, context)
    terms = ([encode(prefix) + "-"] if prefix else []) + [encode(text[start:end])]
    terms += ["-" + encode(suffix)] if suffix else []
    return url.split("#", 1)[0] + DIRECTIVE + ",".join(terms)


def parse_fragment(link: str) -> tuple[str, str, str]:
    """(prefix, exact, suffix) decoded from a link made by `text_fragment` ('' where absent)."""
    terms = link.split(DIRECTIVE, 1)[1].split("&", 1)[0].split(",")
    prefix = unquote(terms.pop(0)[:-1]) if len(terms) > 1 and terms[0].endswith("-") else ""
    suffix = unquote(terms.pop()[1:]) if len(terms) > 1 and terms[-1].startswith("-") else ""
    return prefix, unquote(terms[0]), suffix
