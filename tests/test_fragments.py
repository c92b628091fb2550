"""Text-fragment links to the original publication: each decodes to the quote and its context."""

from __future__ import annotations

import re

import pyarrow.parquet as pq

from conftest import RAW, SOURCE_ID
from pipeline.site.fragments import parse_fragment, text_fragment

TEXT = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")


def test_each_fragment_decodes_to_the_quote_and_its_context(built):
    """Every provenance row of a build (not of the developer's outputs/), each one checked."""
    rows = pq.read_table(built / "provenance.parquet").to_pylist()
    url = pq.read_table(built / "sources.parquet").to_pylist()[0]["url"]
    failed = []
    for row in rows:
        try:
            check_fragment(row, url)
        except AssertionError as exc:
            failed.append(f"{row['record_id']}:{row['mention']}: {exc!r}")
    assert rows and failed == [], failed[:5]


def check_fragment(row: dict, url: str) -> None:
    start, end = row["char_start"], row["char_end"]
    link = text_fragment(url, TEXT, start, end)
    assert link.startswith(url + "#:~:text=")
    directive = link.split("#:~:text=", 1)[1]
    assert re.fullmatch(
        r"(?:[A-Za-z0-9._~]|%[0-9A-F]{2})+", directive.replace("-,", "").replace(",-", "")
    )
    prefix, exact, suffix = parse_fragment(link)
    assert exact == row["quote"] == TEXT[start:end]
    line_start, line_end = TEXT.rfind("\n", 0, start) + 1, TEXT.find("\n", end)
    before, after = TEXT[line_start:start], TEXT[end : line_end if line_end >= 0 else None]
    assert re.search(r"(^|\s)" + re.escape(prefix) + r"\s*$", before), (prefix, before[-40:])
    assert re.match(r"^\s*" + re.escape(suffix) + r"(\s|$)", after), (suffix, after[:40])
    assert prefix.strip() == prefix and suffix.strip() == suffix
    assert (prefix != "") == (before.strip() != "") and (suffix != "") == (after.strip() != "")


def test_delimiters_and_reserved_characters_are_encoded():
    text = "a-b, c&d (e) 1,000 f-g h"
    link = text_fragment("https://example.org/p.html#old", text, 13, 18)
    assert (
        link == "https://example.org/p.html#:~:text=a%2Db%2C%20c%26d%20%28e%29-,1%2C000,-f%2Dg%20h"
    )
    assert parse_fragment(link) == ("a-b, c&d (e)", "1,000", "f-g h")
    assert text_fragment("u", "12 tons\nnext", 0, 2) == "u#:~:text=12,-tons"
