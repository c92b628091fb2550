"""The quotes an annotator wrote, taken straight from the YAML documents of raw/: what
validation compares every published quote with (publish/validation.quote_problems).

This is not the reader that made the rows (core/annotation_reader): it takes each `quote` as
the YAML holds it and cuts, anchors and cleans nothing, so a reader that cut a span short or
published another quote is caught. The two share only libyaml's parse of the file. Anchoring
hands the parse it already made to `quotes_in` (cache/rows.py) and keeps the result under the
sha256 of the file; validation reads the file again only when that entry is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.cache.keys import cache_key
from pipeline.core.yaml_lines import LINE_KEY, load_yaml

STORE_KIND = "annotated-quotes"
FILES = ("annotations.yaml", "corrections.yaml")
# (record id, mention) -> (quote, its line): no path, so an entry holds wherever raw/ is
Quotes = dict[tuple[str, Any], tuple[str, int | None]]


def quotes_key(name: str, sha256: str) -> str:
    """The store key of the quotes of one file of raw/ (`name` one of FILES), by its sha256."""
    return cache_key(STORE_KIND, name, sha256)


def quotes_in(path: Path, document: dict) -> Quotes:
    """{(record id, mention): (quote, line)} as written in an annotations.yaml (mention 1 the
    record's `quote`, then its `mentions` in order), or {("correction", id): ...} and
    {("corrected", id): ...} in a corrections.yaml. `path` only tells which of the two."""
    quotes: Quotes = {}
    if path.name == "corrections.yaml":
        for entry in document.get("corrections") or []:
            line = entry.get(LINE_KEY)
            quotes[("correction", entry["id"])] = (entry["quote"], line)
            quotes[("corrected", entry["id"])] = (entry["corrected"], line)
        return quotes
    for kind in ("figures", "events", "actors"):
        for entry in document.get(kind) or []:
            quotes[(entry["id"], 1)] = (entry["quote"], entry.get(LINE_KEY))
            for number, mention in enumerate(entry.get("mentions") or [], start=2):
                quote = mention["quote"] if isinstance(mention, dict) else mention
                line = mention.get(LINE_KEY) if isinstance(mention, dict) else entry.get(LINE_KEY)
                quotes[(entry["id"], number)] = (quote, line)
    return quotes


def read_quotes(path: str | Path) -> Quotes:
    """quotes_in a file of raw/, read and parsed here."""
    path = Path(path)
    return quotes_in(path, load_yaml(path) or {})
