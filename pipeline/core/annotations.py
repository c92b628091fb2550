"""Hand annotations anchored to the text: the entry point of reading `annotations.yaml`.

`anchor_annotations` reads `raw/<source_id>/annotations.yaml` (docs/annotating.md) in order:
sections, corrections, actors, figures, events, ignored numerals, then claims. Every quote and
further mention becomes a code-point span; any mistake is a `BuildError` naming the file,
line and record.
"""

from __future__ import annotations

import bisect
import itertools

from pipeline.core.actors import read_actor
from pipeline.core.annotation_reader import AnchoredSource, Reader
from pipeline.core.entry_keys import check_file
from pipeline.core.errors import BuildError
from pipeline.core.events import read_event
from pipeline.core.figures import read_figure
from pipeline.core.numerals import find_numerals
from pipeline.core.sources import SourceSnapshot
from pipeline.core.yaml_lines import LINE_KEY, items, load_yaml

__all__ = ["AnchoredSource", "anchor_annotations", "uncovered_numerals"]


def anchor_annotations(snapshot: SourceSnapshot, document: dict | None = None) -> AnchoredSource:
    """Resolve and read every annotation of one source: a function of its files alone.
    `document` is its annotations.yaml as load_yaml gives it, when already loaded; it is read,
    never changed."""
    r = Reader(snapshot, snapshot.annotations_path)
    if document is None:
        document = load_yaml(r.path)
    doc = check_file(r.path, document, "annotations.yaml")
    r.read_sections(doc.get("sections") or [])
    r.read_corrections()
    for key, read in (("actors", read_actor), ("figures", read_figure), ("events", read_event)):
        for entry, r.line in items(doc, key):
            read(r, entry)
    for entry, r.line in items(doc, "ignore"):
        entry = r.require(entry, "ignore")
        span = r.anchor(entry)
        if span is not None:
            r.out.covered.append((span, f"ignored: {entry['reason']}"))
    r.report_lost()
    _check_ids(r)
    figure_ids = {row["figure_id"] for row in r.out.figures}
    for entry, r.line in items(doc, "claims"):
        _read_claim(r, entry, figure_ids)
    for row in r.out.figures + r.out.events + r.out.actors:
        row.pop(LINE_KEY)
    anchored = r.out
    anchored.uncovered = uncovered_numerals(snapshot, anchored)
    anchored.covered = []  # only needed to find the uncovered ones; kept out of the cache
    return anchored


def _check_ids(r: Reader) -> None:
    """Each figure, event and actor has its own id; derived_from names figures of the file."""
    seen: dict[str, int] = {}
    for row in r.out.actors + r.out.figures + r.out.events:
        rid = row.get("figure_id") or row.get("event_id") or row.get("actor_id")
        if rid in seen:
            raise BuildError(
                r.path,
                f"the id '{rid}' is used twice (also at line {seen[rid]})",
                "give each record its own id",
                line=row[LINE_KEY],
                record=rid,
            )
        seen[rid] = row[LINE_KEY]
    for row in r.out.figures:
        for ref in (row["derived_from"] or "").split(";"):
            if ref and ref not in seen:
                raise BuildError(
                    r.path,
                    f"derived_from names an unknown figure '{ref}'",
                    "use the id of a figure in this file",
                    line=row[LINE_KEY],
                    record=row["figure_id"],
                )


def _read_claim(r: Reader, entry: object, figure_ids: set[str]) -> None:
    """A claim (pipeline/core/claims.py) names figures of this file only."""
    entry = r.require(entry, "claim")
    refs = [entry["stated"], *(entry.get("parts") or [])]
    refs += [entry[k] for k in ("numerator", "denominator", "computed") if entry.get(k)]
    for ref in refs:
        if ref not in figure_ids:
            raise r.fail(entry, f"it names an unknown figure '{ref}'", "use a figure id")
    r.out.claims.append({**entry, "source_id": r.snapshot.source_id})


def uncovered_numerals(snapshot: SourceSnapshot, anchored: AnchoredSource) -> list[str]:
    """Every numeral of the text that no figure, event, period, date or ignore entry explains,
    as 'line L, column C: "literal"' strings."""
    # a token is covered when some span starts at or before it and ends at or after it:
    # spans sorted by start, the furthest end among those starting at or before each point
    spans = sorted((span.start, span.end) for span, _ in anchored.covered)
    starts = [a for a, _ in spans]
    furthest = list(itertools.accumulate((b for _, b in spans), max))
    problems = []
    for start, end, literal in find_numerals(snapshot.text):
        before = bisect.bisect_right(starts, start)
        if not (before and furthest[before - 1] >= end):
            line, column = snapshot.line_col(start)
            problems.append(f'line {line}, column {column}: "{literal}"')
    return problems
